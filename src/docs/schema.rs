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

/// A JSON object's entries in the order the file lists them (`serde_json` keeps objects
/// sorted by key, and the docs follow the schema's order).
struct Ordered<V>(Vec<(String, V)>);

impl<'de, V: serde::Deserialize<'de>> serde::Deserialize<'de> for Ordered<V> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Entries<V>(std::marker::PhantomData<V>);
        impl<'de, V: serde::Deserialize<'de>> serde::de::Visitor<'de> for Entries<V> {
            type Value = Ordered<V>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(Ordered(entries))
            }
        }
        d.deserialize_map(Entries(std::marker::PhantomData))
    }
}

/// The parts of `schema.json` the docs read, in file order.
#[derive(serde::Deserialize)]
struct File {
    contacts: Ordered<Value>,
    events: Ordered<Value>,
    messages: Ordered<Ordered<Value>>,
}

/// Shapes from an object of `name: [rows]`.
fn shapes(obj: Ordered<Value>) -> Vec<Shape> {
    obj.0.into_iter().map(|(name, rows)| Shape { name, fields: fields(&rows) }).collect()
}

impl Schema {
    /// The embedded schema (empty lists if it were not valid JSON; the docs tests check it is).
    #[must_use]
    pub fn embedded() -> Self {
        let Ok(file) = serde_json::from_str::<File>(SCHEMA) else {
            return Self { contacts: Vec::new(), events: Vec::new(), elements: Vec::new() };
        };
        let elements = file
            .messages
            .0
            .into_iter()
            .map(|(name, spec)| {
                let get = |key: &str| spec.0.iter().find(|(k, _)| k == key).map(|(_, v)| v);
                let direction = get("direction").and_then(Value::as_str).unwrap_or("RS");
                let shape = Shape { name, fields: get("fields").map(fields).unwrap_or_default() };
                let nested = spec
                    .0
                    .iter()
                    .filter(|(k, _)| k != "direction" && k != "fields")
                    .map(|(k, rows)| Shape { name: k.clone(), fields: fields(rows) })
                    .collect();
                Element {
                    shape,
                    received: direction.contains('R'),
                    sent: direction.contains('S'),
                    nested,
                }
            })
            .collect();
        Self { contacts: shapes(file.contacts), events: shapes(file.events), elements }
    }

    /// The event or message packet called `name`.
    #[must_use]
    pub fn event(&self, name: &str) -> Option<&Shape> {
        self.events.iter().find(|s| s.name == name)
    }
}
