//! `types/`: LuaLS/EmmyLua meta files. `mahua.lua` declares every event, element, contact and
//! module; one small file per module (`store.lua`, `msg.lua`, …, each `---@meta <name>`) returns
//! that module's class, so `require("store")` is typed without a `---@type` line.

use std::fmt::Write as _;
use std::sync::OnceLock;

use super::modules::{self, PerEvent};
use super::schema::{Field, Schema};
use super::stdlib::{Source, Stdlib, STDLIB_MODULES};
use super::TYPES_DIR;
use crate::protocol::commands::{Command, Fill, LuaArg, Reply, ValueType, COMMANDS};
use crate::protocol::event::MESSAGE_TYPES;

/// The class name of a message element type: `Plain` is `PlainElement`.
#[must_use]
pub fn element_class(ty: &str) -> String {
    format!("{ty}Element")
}

/// The LuaLS type of a schema type text.
#[must_use]
pub fn lua_type(ty: &str) -> String {
    if let Some(inner) = ty.strip_suffix('?') {
        let t = lua_type(inner);
        return if t.contains(' ') || t.contains('|') {
            format!("({t})?")
        } else {
            format!("{t}?")
        };
    }
    if let Some(inner) = ty.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
        return format!("{}[]", lua_type(inner));
    }
    if let Some(inner) = ty.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
        let fields: Vec<String> = inner
            .split(',')
            .filter_map(|f| {
                let (name, t) = f.trim().split_once(' ')?;
                Some(format!("{name}: {}", lua_type(t.trim())))
            })
            .collect();
        return format!("{{{}}}", fields.join(", "));
    }
    match ty {
        "Long" | "Int" => "integer".into(),
        "String" => "string".into(),
        "Bool" => "boolean".into(),
        "Chain" => "MessageElement[]".into(),
        other => other.into(),
    }
}

/// The LuaLS type of a content key's value type.
fn value_type(ty: ValueType) -> &'static str {
    match ty {
        ValueType::Long | ValueType::Int => "integer",
        ValueType::Bool => "boolean",
        ValueType::String => "string",
        ValueType::Object => "table",
        ValueType::Chain => "ChainArg",
        ValueType::LongList => "integer[]",
        ValueType::StringList => "string[]",
        ValueType::File => "FileArg",
    }
}

/// The LuaLS type of a `mirai` argument.
pub(super) fn arg_type(cmd: &Command, arg: &LuaArg) -> String {
    match arg.fill {
        Fill::Chain => "ChainArg".into(),
        Fill::File if cmd.param("url").is_some() => "FileArg".into(),
        Fill::File => "LocalFileArg".into(),
        Fill::Merge => {
            let fields: Vec<String> =
                merge_keys(cmd).map(|p| format!("{}?: {}", p.key, value_type(p.ty))).collect();
            format!("{{{}}}", fields.join(", "))
        }
        Fill::Value | Fill::CacheTarget => {
            cmd.param(arg.key).map_or("any", |p| value_type(p.ty)).into()
        }
    }
}

/// The content keys a `Merge` argument may set: those no positional argument fills.
pub(super) fn merge_keys(
    cmd: &Command,
) -> impl Iterator<Item = &'static crate::protocol::commands::Param> + '_ {
    let filled: Vec<&str> =
        cmd.lua.map(|l| l.args.iter().map(|a| a.key).collect()).unwrap_or_default();
    cmd.params.iter().filter(move |p| !filled.contains(&p.key))
}

/// The LuaLS return type of a reply kind, with what it is; `None` for nothing.
pub(super) fn reply_type(reply: Reply) -> Option<(&'static str, &'static str)> {
    match reply {
        Reply::Status => None,
        Reply::MessageId => Some(("integer", "the new message id")),
        Reply::Data => Some(("any", "the response's `data`")),
        Reply::Bare => Some(("table", "the response object")),
        Reply::Session => Some(("string", "the session key")),
    }
}

/// A one-line comment (LuaLS reads `---` lines as the description).
fn doc_line(out: &mut String, text: &str) {
    let _ = writeln!(out, "---{text}");
}

fn class(out: &mut String, name: &str, doc: &str, fields: &[Field], type_field: Option<&str>) {
    doc_line(out, doc);
    let _ = writeln!(out, "---@class {name}");
    if let Some(t) = type_field {
        let _ = writeln!(out, "---@field type \"{t}\"");
    }
    for f in fields {
        let opt = if f.optional && !f.ty.ends_with('?') { "?" } else { "" };
        let _ = writeln!(out, "---@field {}{opt} {}", f.name, lua_type(&f.ty));
    }
}

/// The methods mahua gives every message event a script receives (the stdlib's `Event`
/// metatable): (method, what it does). They are `---@field`s whose `self` is any `Message`, so
/// `ev:reply(…)` also checks where `ev` is the `Message` union (`bot.on("Message", …)`).
const MESSAGE_METHODS: &[(&str, &str)] = &[
    ("reply", "answer in the same conversation (friend chat, group, temp session, …); returns the new message id; as `msg.reply(ev, chain)`"),
    ("quote", "answer in the same conversation, quoting this message; returns the new message id; as `msg.quote(ev, chain)`"),
];

/// The [`MESSAGE_METHODS`] as fields of a message class.
fn message_methods(out: &mut String) {
    for (method, doc) in MESSAGE_METHODS {
        let _ =
            writeln!(out, "---@field {method} fun(self: Message, chain: ChainArg): integer {doc}");
    }
}

fn contacts(out: &mut String, schema: &Schema) {
    out.push_str("-- Contacts\n\n");
    doc_line(out, "A member's or the bot's rank in a group.");
    out.push_str("---@alias Permission \"OWNER\"|\"ADMINISTRATOR\"|\"MEMBER\"\n\n");
    for s in &schema.contacts {
        class(out, &s.name, &format!("A {} as the server sends it.", s.name), &s.fields, None);
        out.push('\n');
    }
    doc_line(out, "The subject of a nudge: a friend, group or stranger, with its `kind`.");
    out.push_str("---@class Contact\n---@field kind \"Friend\"|\"Group\"|\"Stranger\"\n---@field id integer\n---@field [string] any\n\n");
}

fn elements(out: &mut String, schema: &Schema) {
    out.push_str("-- Message elements\n\n");
    for e in &schema.elements {
        for n in &e.nested {
            class(out, &n.name, &format!("Part of a {} element.", e.shape.name), &n.fields, None);
            out.push('\n');
        }
        let dir = match (e.received, e.sent) {
            (true, true) => "received and sent",
            (true, false) => "received only",
            (false, true) => "sent only",
            (false, false) => "neither received nor sent",
        };
        let doc = format!("A `{}` message element ({dir}).", e.shape.name);
        class(out, &element_class(&e.shape.name), &doc, &e.shape.fields, Some(&e.shape.name));
        out.push('\n');
    }
    let all: Vec<String> = schema.elements.iter().map(|e| element_class(&e.shape.name)).collect();
    doc_line(out, "One element of a message chain.");
    let _ = writeln!(out, "---@alias MessageElement {}\n", all.join("|"));
    doc_line(
        out,
        "What a chain argument takes: a string, one element, or a list of elements and strings.",
    );
    out.push_str("---@alias ChainArg string|MessageElement|(string|MessageElement)[]\n\n");
    doc_line(out, "What the `msg` builders return: a list of elements that joins with `..` to strings, elements and chains on either side.");
    out.push_str("---@class mahua.Chain\n---@field [integer] MessageElement\n---@operator concat(ChainArg): mahua.Chain\n\n");
    doc_line(out, "A file for an upload: a name in the script's data folder, `{path = …}`, `{bytes = …, name = …}` or `{url = …}`.");
    out.push_str("---@alias FileArg LocalFileArg|{url: string}\n\n");
    doc_line(out, "A file the script holds: a name in its data folder, `{path = …}` or `{bytes = …, name = …}`.");
    out.push_str("---@alias LocalFileArg string|{path: string}|{bytes: string, name: string?}\n\n");
}

fn events(out: &mut String, schema: &Schema) {
    out.push_str("-- Events\n\n");
    for s in &schema.events {
        let message = MESSAGE_TYPES.contains(&s.name.as_str());
        let what = if message { "message" } else { "event" };
        class(out, &s.name, &format!("The `{}` {what}.", s.name), &s.fields, Some(&s.name));
        if message {
            message_methods(out);
        }
        out.push('\n');
    }
    doc_line(out, "Any kind of message (`bot.on(\"Message\", …)`).");
    let _ = writeln!(out, "---@alias Message {}\n", MESSAGE_TYPES.join("|"));
    doc_line(out, "What a `\"connect\"` handler gets.");
    out.push_str("---@class ConnectInfo\n---@field gap number? seconds since the link was lost, nil on the first connect\n\n");
    doc_line(out, "What a `\"disconnect\"` handler gets.");
    out.push_str("---@class DisconnectInfo\n---@field reason string\n\n");
}

fn support(out: &mut String) {
    out.push_str("-- Errors, handles and HTTP\n\n");
    doc_line(out, "What a failed `mirai` call raises; `tostring(e)` reads like `sendGroupMessage: code 10, no permission`.");
    out.push_str("---@class MahuaError\n---@field code integer? the status code; nil when the request never got an answer\n---@field msg string the server's message or what went wrong\n---@field command string the function or command that failed\n---@field where string? `file:line` of the call in the script\n\n");
    doc_line(out, "What `bot.on`, `bot.after` and `bot.every` return.");
    out.push_str("---@class BotHandle\nlocal BotHandle = {}\n\n");
    doc_line(out, "Stop the handler or timer; returns whether it was still active.");
    out.push_str("---@return boolean\nfunction BotHandle:cancel() end\n\n");
    doc_line(out, "Options of an `http` request.");
    out.push_str("---@class StoreOptions\n---@field ttl? number seconds until the key expires\n\n");
    out.push_str("---@class HttpOptions\n---@field headers? table<string, string>\n---@field timeout? number seconds, default 10\n---@field json? table post: sent as a JSON body\n---@field max_bytes? integer largest body read, default 1 MiB\n\n");
    doc_line(out, "The answer to an `http` request.");
    out.push_str("---@class HttpResponse\n---@field status integer\n---@field body string\n---@field headers table<string, string>\n\n");
}

/// The overloads of `bot.on` or `bot.wait`, one per event name.
fn overloads(out: &mut String, per: PerEvent, schema: &Schema) {
    let mut names: Vec<(String, String)> =
        schema.events.iter().map(|s| (s.name.clone(), s.name.clone())).collect();
    names.push(("Message".into(), "Message".into()));
    match per {
        PerEvent::No => {}
        PerEvent::On => {
            for (name, ty) in &names {
                let _ = writeln!(
                    out,
                    "---@overload fun(name: \"{name}\", fn: fun(ev: {ty})): BotHandle"
                );
            }
            out.push_str("---@overload fun(name: \"load\"|\"unload\", fn: fun()): BotHandle\n");
            out.push_str(
                "---@overload fun(name: \"connect\", fn: fun(info: ConnectInfo)): BotHandle\n",
            );
            out.push_str("---@overload fun(name: \"disconnect\", fn: fun(info: DisconnectInfo)): BotHandle\n");
        }
        PerEvent::Wait => {
            for (name, ty) in &names {
                let _ = writeln!(
                    out,
                    "---@overload fun(name: \"{name}\", filter?: fun(ev: {ty}): boolean, timeout?: number): {ty}?"
                );
            }
        }
    }
}

fn param_line(out: &mut String, name: &str, optional: bool, ty: &str, doc: &str) {
    let q = if optional && !ty.ends_with('?') { "?" } else { "" };
    let _ = writeln!(out, "---@param {name}{q} {ty} {doc}");
}

fn hand_modules(out: &mut String, schema: &Schema, only: &[&str]) {
    for m in modules::MODULES.iter().filter(|m| only.contains(&m.name)) {
        module_head(out, m.name, m.doc, m.global);
        for v in m.values {
            doc_line(out, v.doc);
            let _ = writeln!(out, "---@type {}\n{}.{} = nil\n", v.ty, m.name, v.name);
        }
        for f in m.functions {
            doc_line(out, f.doc);
            for a in f.args {
                param_line(out, a.name, a.optional, a.ty, a.doc);
            }
            for r in f.returns {
                let _ = writeln!(out, "---@return {} # {}", r.ty, r.doc);
            }
            overloads(out, f.per_event, schema);
            let names: Vec<&str> = f.args.iter().map(|a| a.name).collect();
            let _ = writeln!(out, "function {}.{}({}) end\n", m.name, f.name, names.join(", "));
        }
    }
}

fn module_head(out: &mut String, name: &str, doc: &str, global: bool) {
    let _ = writeln!(out, "-- Module `{name}`\n");
    doc_line(out, doc);
    let _ = writeln!(out, "---@class mahua.{name}");
    if global {
        let _ = writeln!(out, "{name} = {{}}\n");
    } else {
        let _ = writeln!(out, "local {name} = {{}}\n");
    }
}

fn mirai(out: &mut String) {
    module_head(out, "mirai", "Every API of the server, generated from the command table.", true);
    for cmd in COMMANDS {
        let Some(call) = cmd.lua else { continue };
        doc_line(out, cmd.doc);
        doc_line(out, "");
        doc_line(
            out,
            &format!(
                "Command `{}`; raises a `MahuaError` when the server refuses it.",
                cmd.label()
            ),
        );
        for a in call.args {
            let mut doc = if a.fill == Fill::Merge {
                "options".to_owned()
            } else {
                format!("fills `{}`", a.key)
            };
            if let Some(d) = a.default {
                let _ = write!(doc, ", default {}", super::reference::default_text(d));
            }
            param_line(out, a.name, a.optional, &arg_type(cmd, a), &doc);
        }
        if let Some((ty, doc)) = reply_type(cmd.reply) {
            let _ = writeln!(out, "---@return {ty} # {doc}");
        }
        let names: Vec<&str> = call.args.iter().map(|a| a.name).collect();
        let _ = writeln!(out, "function mirai.{}({}) end\n", call.name, names.join(", "));
    }
    doc_line(out, "Send any command, for those the table does not know.");
    param_line(out, "command", false, "string", "the command name");
    param_line(
        out,
        "content",
        true,
        "table",
        "the content; a `messageChain` key takes a chain argument",
    );
    param_line(out, "subCommand", true, "string", "the subCommand (`get`, `update`)");
    out.push_str("---@return any # the response's `data`, message id or object, by the command\nfunction mirai.call(command, content, subCommand) end\n\n");
}

fn stdlib(out: &mut String, lib: &Stdlib) {
    for m in &lib.modules {
        let note = match &m.source {
            Source::Parsed(f) if !f.is_empty() => "A stdlib module.".to_owned(),
            Source::Parsed(_) => "A stdlib module (no documented functions yet).".to_owned(),
            Source::Absent => format!("A stdlib module (stdlib/{}.lua is not there yet).", m.name),
            Source::Unreadable(e) => format!("A stdlib module (could not be read: {e})."),
        };
        module_head(out, m.name, &note, false);
        for f in lib.functions(m.name) {
            doc_line(out, &f.doc);
            for p in &f.params {
                param_line(out, &p.name, p.optional, &p.ty, &p.doc);
            }
            // The stdlib writes `---@return type name description`, as LuaLS reads it.
            for r in &f.returns {
                let _ = writeln!(out, "---@return {} {}", r.ty, r.doc);
            }
            let names: Vec<&str> = f.params.iter().map(|p| p.name.as_str()).collect();
            let _ = writeln!(out, "function {}.{}({}) end\n", m.name, f.name, names.join(", "));
        }
    }
}

/// The file of `types/` that declares everything.
pub const MAIN_FILE: &str = "mahua.lua";

/// The line every generated file carries.
const GENERATED: &str =
    "-- Generated by `MAHUA_UPDATE_DOCS=1 cargo test --test docs`; do not edit.\n";

/// Every module a script can `require`, in the order the docs show them.
fn module_names() -> impl Iterator<Item = &'static str> {
    let hand = modules::MODULES.iter().map(|m| m.name).filter(|&n| n != "bot");
    ["bot", "mirai"].into_iter().chain(hand).chain(STDLIB_MODULES.iter().copied())
}

/// The paths of the annotation files relative to the repository root: [`MAIN_FILE`] first,
/// then one per module (`types/store.lua`, …).
#[must_use]
pub fn paths() -> &'static [String] {
    static PATHS: OnceLock<Vec<String>> = OnceLock::new();
    PATHS.get_or_init(|| {
        let modules = module_names().map(|n| format!("{TYPES_DIR}/{n}.lua"));
        std::iter::once(format!("{TYPES_DIR}/{MAIN_FILE}")).chain(modules).collect()
    })
}

/// `types/<name>.lua`: what `require("<name>")` gives, named by `---@meta <name>` (and by the
/// file name, for servers that map `require` to files), so no `---@type` line is needed.
fn module_file(name: &str) -> String {
    format!(
        "---@meta {name}\n\
         -- `require(\"{name}\")` in a mahua script: the module `mahua.{name}`, declared in {MAIN_FILE}.\n\
         {GENERATED}\n\
         ---@type mahua.{name}\n\
         local {name}\n\n\
         return {name}\n"
    )
}

/// Every annotation file as (path from [`paths`], contents).
#[must_use]
pub fn render_files(schema: &Schema, lib: &Stdlib) -> Vec<(&'static str, String)> {
    let texts = std::iter::once(render(schema, lib)).chain(module_names().map(module_file));
    paths().iter().map(String::as_str).zip(texts).collect()
}

/// Render the main meta file from the command table, the schema, the module spec and the stdlib.
#[must_use]
pub fn render(schema: &Schema, lib: &Stdlib) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "---@meta\n\
         -- Type annotations for mahua scripts, for Lua language servers that read LuaLS\n\
         -- annotations (LuaLS, EmmyLua).\n\
         {GENERATED}\
         -- Add this folder to `workspace.library` (the repository's `.luarc.json` does).\n\
         -- `bot`, `mirai`, `log` and `json` are globals; `require(\"store\")` and the other\n\
         -- modules are typed through this folder's `store.lua`, `msg.lua`, ….\n\n"
    );
    contacts(&mut out, schema);
    elements(&mut out, schema);
    events(&mut out, schema);
    support(&mut out);
    hand_modules(&mut out, schema, &["bot"]);
    mirai(&mut out);
    hand_modules(&mut out, schema, &["log", "json", "store", "http", "onebot"]);
    stdlib(&mut out, lib);
    out
}
