//! Reads the doc blocks of the Lua stdlib modules (`stdlib/msg.lua`, `stdlib/cmd.lua`).
//!
//! A public function is documented by a LuaLS block right above it:
//!
//! ```lua
//! --- One line saying what it does.
//! ---@param name type description
//! ---@param other? type description
//! ---@return type description
//! function M.name(name, other)
//! ```
//!
//! Any number of `---@param` and `---@return` lines; more `--- text` lines continue the
//! summary. A block that is not immediately followed by `function <table>.<name>(` is skipped,
//! and so are functions without a block.

use std::path::Path;

/// The stdlib modules the docs describe, in order.
pub const STDLIB_MODULES: &[&str] = &["msg", "cmd"];

/// One `---@param` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    /// The argument's name (without a trailing `?`).
    pub name: String,
    /// Its LuaLS type.
    pub ty: String,
    /// Whether it may be left out (`name?` or a type ending in `?`).
    pub optional: bool,
    /// What it is.
    pub doc: String,
}

/// One `---@return` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Return {
    /// Its LuaLS type.
    pub ty: String,
    /// What it is.
    pub doc: String,
}

/// One documented public function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Function {
    /// Its name in the module.
    pub name: String,
    /// The summary line(s).
    pub doc: String,
    /// Its parameters in order.
    pub params: Vec<Param>,
    /// Its return values in order.
    pub returns: Vec<Return>,
}

/// What was found for one stdlib module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The file does not exist.
    Absent,
    /// The file exists but could not be read.
    Unreadable(String),
    /// The documented functions (possibly none).
    Parsed(Vec<Function>),
}

/// One stdlib module and what its file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Module {
    /// The name for `require`.
    pub name: &'static str,
    /// What its file gave.
    pub source: Source,
}

/// The stdlib modules of a checkout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stdlib {
    /// One entry per name in [`STDLIB_MODULES`].
    pub modules: Vec<Module>,
}

impl Stdlib {
    /// Read `<root>/stdlib/<name>.lua` for every stdlib module; missing files are `Absent`.
    #[must_use]
    pub fn load(root: &Path) -> Self {
        let modules = STDLIB_MODULES
            .iter()
            .map(|&name| {
                let path = root.join("stdlib").join(format!("{name}.lua"));
                let source = match std::fs::read_to_string(&path) {
                    Ok(text) => Source::Parsed(extract(&text)),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Source::Absent,
                    Err(e) => Source::Unreadable(format!("{}: {e}", path.display())),
                };
                Module { name, source }
            })
            .collect();
        Self { modules }
    }

    /// The documented functions of `name`, empty when there are none.
    #[must_use]
    pub fn functions(&self, name: &str) -> &[Function] {
        match self.modules.iter().find(|m| m.name == name).map(|m| &m.source) {
            Some(Source::Parsed(f)) => f,
            _ => &[],
        }
    }
}

/// A doc block being read.
#[derive(Default)]
struct Block {
    doc: Vec<String>,
    params: Vec<Param>,
    returns: Vec<Return>,
}

/// Split off the first whitespace-separated word.
fn word(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    match s.find(char::is_whitespace) {
        Some(i) => (&s[..i], s[i..].trim()),
        None => (s, ""),
    }
}

/// The type at the start of `s`, which may hold spaces inside brackets (`fun(a: T): R`,
/// `{a: T}`), and the rest.
fn type_word(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    let mut depth = 0i32;
    let mut end = s.len();
    let mut after_colon = false;
    for (i, c) in s.char_indices() {
        match c {
            '(' | '{' | '[' | '<' => depth += 1,
            ')' | '}' | ']' | '>' => depth -= 1,
            ':' if depth == 0 => after_colon = true,
            c if c.is_whitespace() && depth <= 0 => {
                // `fun(…): R` keeps its return type after the colon.
                if after_colon && s[..i].ends_with(':') {
                    continue;
                }
                end = i;
                break;
            }
            _ => {}
        }
    }
    (&s[..end], s[end..].trim())
}

/// The function name of a line `function <table>.<name>(`, if it is one.
fn function_name(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("function ")?.trim_start();
    let (head, _) = rest.split_once('(')?;
    let (table, name) = head.trim().split_once('.')?;
    let ident = |s: &str| {
        !s.is_empty()
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !s.starts_with(|c: char| c.is_ascii_digit())
    };
    (ident(table) && ident(name)).then_some(name)
}

/// The documented public functions of a stdlib module's source.
#[must_use]
pub fn extract(text: &str) -> Vec<Function> {
    let mut out = Vec::new();
    let mut block: Option<Block> = None;
    for raw in text.lines() {
        let line = raw.trim();
        if let Some(rest) = line.strip_prefix("---") {
            let b = block.get_or_insert_with(Block::default);
            if let Some(tag) = rest.strip_prefix('@') {
                let (kind, rest) = word(tag);
                match kind {
                    "param" => {
                        let (name, rest) = word(rest);
                        let (ty, doc) = type_word(rest);
                        let optional = name.ends_with('?') || ty.ends_with('?');
                        b.params.push(Param {
                            name: name.trim_end_matches('?').to_owned(),
                            ty: ty.to_owned(),
                            optional,
                            doc: doc.to_owned(),
                        });
                    }
                    "return" => {
                        let (ty, doc) = type_word(rest);
                        b.returns.push(Return { ty: ty.to_owned(), doc: doc.to_owned() });
                    }
                    _ => {}
                }
            } else if !rest.trim().is_empty() {
                b.doc.push(rest.trim().to_owned());
            }
            continue;
        }
        if let (Some(b), Some(name)) = (block.take(), function_name(line)) {
            if !b.doc.is_empty() {
                out.push(Function {
                    name: name.to_owned(),
                    doc: b.doc.join(" "),
                    params: b.params,
                    returns: b.returns,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_block() {
        let src = "local M = {}\n\n--- Plain text of a chain.\n---@param chain MessageElement[] the chain\n\
                   ---@param sep? string between parts\n---@return string text the text\n\
                   function M.text(chain, sep)\nend\n\n--- Not followed by a function.\nlocal x = 1\n\
                   function M.undocumented() end\n---@param f fun(ev: table): boolean a filter\n\
                   --- Takes a filter.\nfunction M.when(f) end\nreturn M\n";
        let got = extract(src);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].name, "text");
        assert_eq!(got[0].doc, "Plain text of a chain.");
        assert_eq!(got[0].params[0].ty, "MessageElement[]");
        assert!(got[0].params[1].optional);
        assert_eq!(got[0].params[1].name, "sep");
        assert_eq!(got[0].returns[0].ty, "string");
        assert_eq!(got[1].params[0].ty, "fun(ev: table): boolean");
        assert_eq!(got[1].params[0].doc, "a filter");
    }

    #[test]
    fn missing_files_are_absent() {
        let dir = std::env::temp_dir().join("mahua-docs-no-such-root");
        let s = Stdlib::load(&dir);
        assert!(s.modules.iter().all(|m| m.source == Source::Absent));
    }
}
