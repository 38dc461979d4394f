//! The field lists of events, contacts and message elements, read from the embedded `schema.json`.

use serde_json::Value;

/// The schema of mirai-api-http 2.10's DTOs, as kept in the test fixtures.
const SCHEMA: &str = include_str!("../../tests/fixtures/schema.json");

/// One field of an event, contact or element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The key as the server names it.
    pub name: String,
    /// The schema's type text (`Long`, `String?`, `[String]`, `Chain`, `Member`, …).
    pub ty: String,
    /// Whether a script may leave it out when it builds the value (elements with a default).
    pub optional: bool,
}

/// A named group of fields: one event, contact or element type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shape {
    /// The type name (`GroupMessage`, `Member`, `Plain`, …).
    pub name: String,
    /// Its fields in the order the server emits them.
    pub fields: Vec<Field>,
}

/// A message element type with where it appears and the helper shapes it uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    /// The element and its fields.
    pub shape: Shape,
    /// Whether it appears in received chains.
    pub received: bool,
    /// Whether the server honours it on send.
    pub sent: bool,
    /// Nested shapes only this element uses (`ForwardNode`, …).
    pub nested: Vec<Shape>,
}

/// Everything the docs need from the schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schema {
    /// Contacts and their parts (`Friend`, `Group`, `Member`, …).
    pub contacts: Vec<Shape>,
    /// Events and message packets, keyed by their `type`.
    pub events: Vec<Shape>,
    /// Message chain elements, keyed by their `type`.
    pub elements: Vec<Element>,
}

/// Fields from a list of `[name, type]` or `[name, type, default]` rows.
fn fields(rows: &Value) -> Vec<Field> {
    rows.as_array()
        .into_iter()
        .flatten()
        .filter_map(|row| {
            let row = row.as_array()?;
            let name = row.first()?.as_str()?.to_owned();
            let ty = row.get(1)?.as_str()?.to_owned();
            let optional = row.get(2).is_some_and(|d| d.as_str() != Some("required"));
            Some(Field { name, ty, optional })
        })
        .collect()
}

/// Shapes from an object of `name: [rows]`.
fn shapes(obj: &Value) -> Vec<Shape> {
    obj.as_object()
        .into_iter()
        .flatten()
        .map(|(name, rows)| Shape { name: name.clone(), fields: fields(rows) })
        .collect()
}

impl Schema {
    /// The embedded schema (empty lists if it were not valid JSON; the docs tests check it is).
    #[must_use]
    pub fn embedded() -> Self {
        let v: Value = serde_json::from_str(SCHEMA).unwrap_or(Value::Null);
        let elements = v["messages"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(name, spec)| {
                let direction = spec["direction"].as_str().unwrap_or("RS");
                let nested = spec
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter(|(k, _)| *k != "direction" && *k != "fields")
                    .map(|(k, rows)| Shape { name: k.clone(), fields: fields(rows) })
                    .collect();
                Element {
                    shape: Shape { name: name.clone(), fields: fields(&spec["fields"]) },
                    received: direction.contains('R'),
                    sent: direction.contains('S'),
                    nested,
                }
            })
            .collect();
        Self { contacts: shapes(&v["contacts"]), events: shapes(&v["events"]), elements }
    }

    /// The event or message packet called `name`.
    #[must_use]
    pub fn event(&self, name: &str) -> Option<&Shape> {
        self.events.iter().find(|s| s.name == name)
    }
}
