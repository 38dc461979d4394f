//! `docs/scripting.md`: a short guide, then a reference of every module.

use std::fmt::Write as _;

use super::annotations::{merge_keys, reply_type};
use super::modules::{self, Context, Module};
use super::stdlib::{Source, Stdlib};
use crate::adapter::onebot::action::{availability, Availability};
use crate::protocol::commands::{
    Command, Default as ArgDefault, Encoding, Fill, HttpMethod, LuaArg, LuaCall, Reply, Transport,
    COMMANDS,
};

/// How a default value is written in Lua.
pub(super) fn default_text(d: ArgDefault) -> String {
    match d {
        ArgDefault::Int(i64::MAX) => "math.maxinteger".into(),
        ArgDefault::Int(i) => i.to_string(),
        ArgDefault::Str(s) => format!("{s:?}"),
        ArgDefault::Bool(b) => b.to_string(),
    }
}

/// `name(a, b [, c])`: optional arguments in brackets.
fn signature<'a>(name: &str, args: impl IntoIterator<Item = (&'a str, bool)>) -> String {
    let mut s = format!("{name}(");
    for (i, (arg, optional)) in args.into_iter().enumerate() {
        match (i, optional) {
            (0, false) => s.push_str(arg),
            (0, true) => {
                let _ = write!(s, "[{arg}]");
            }
            (_, false) => {
                let _ = write!(s, ", {arg}");
            }
            (_, true) => {
                let _ = write!(s, " [, {arg}]");
            }
        }
    }
    s.push(')');
    s
}

/// The Lua signature of a `mirai` function.
#[must_use]
pub fn mirai_signature(call: &LuaCall) -> String {
    signature(&format!("mirai.{}", call.name), call.args.iter().map(|a| (a.name, a.optional)))
}

/// What an argument takes, in words.
fn arg_kind(cmd: &Command, arg: &LuaArg) -> String {
    match arg.fill {
        Fill::Chain => "message chain: a string, one element or a list of both".into(),
        Fill::File => {
            "file: a name in the data folder, `{path}`, `{bytes, name}` or `{url}`".into()
        }
        Fill::Merge => {
            let keys: Vec<String> = merge_keys(cmd).map(|p| format!("`{}`", p.key)).collect();
            format!("table of options: {}", keys.join(", "))
        }
        Fill::Value | Fill::CacheTarget => {
            cmd.param(arg.key).map_or("any", |p| p.ty.name()).to_owned()
        }
    }
}

/// What a reply kind gives back, in words.
fn returns_text(reply: Reply) -> String {
    match reply_type(reply) {
        None => "nothing".into(),
        Some((ty, what)) => format!("{what} ({ty})"),
    }
}

/// How a command travels.
fn route_text(cmd: &Command) -> String {
    let method = match cmd.method {
        HttpMethod::Get => "GET",
        HttpMethod::Post => "POST",
    };
    let body = match cmd.encoding {
        Encoding::Query => "query parameters",
        Encoding::Json => "a JSON body",
        Encoding::Multipart => "a multipart body",
    };
    let ws = match cmd.sub {
        Some(sub) => format!("command `{}`, subCommand `{sub}`", cmd.name),
        None => format!("command `{}`", cmd.name),
    };
    match cmd.transport {
        Transport::Both => {
            format!("{ws} over WebSocket; `{method} {}` with {body} over HTTP", cmd.path)
        }
        Transport::HttpOnly => format!("`{method} {}` with {body}, HTTP only", cmd.path),
        Transport::Upload => {
            format!("an upload: `{method} {}` with {body}, with either adapter", cmd.path)
        }
    }
}

/// Whether a command works over a OneBot server, in words.
fn onebot_text(cmd: &Command) -> String {
    match availability(cmd.name, cmd.sub) {
        Availability::Yes => "works".into(),
        Availability::Partly(what) => format!("works, but {what}"),
        Availability::No(why) => format!("not available (code 6): {why}"),
    }
}

fn mirai_entry(out: &mut String, cmd: &Command, call: &LuaCall) {
    let _ = writeln!(out, "### `{}`\n\n{}\n", mirai_signature(call), cmd.doc);
    if !call.args.is_empty() {
        out.push_str("| argument | takes | fills | |\n|---|---|---|---|\n");
        for a in call.args {
            let need = match (a.optional, a.default, a.fill) {
                (false, _, _) => "required".to_owned(),
                (true, Some(d), _) => format!("optional, default `{}`", default_text(d)),
                (true, None, Fill::CacheTarget) => {
                    "optional: found from the message id when left out".to_owned()
                }
                (true, None, _) => "optional".to_owned(),
            };
            let fills =
                if a.fill == Fill::Merge { "its keys".to_owned() } else { format!("`{}`", a.key) };
            let _ = writeln!(out, "| `{}` | {} | {fills} | {need} |", a.name, arg_kind(cmd, a));
        }
        out.push('\n');
    }
    let _ = writeln!(out, "- Returns: {}.", returns_text(cmd.reply));
    let _ = writeln!(out, "- Becomes: {}.", route_text(cmd));
    let _ = writeln!(out, "- Over OneBot: {}.", onebot_text(cmd));
    let mut errors = format!(
        "a `MahuaError` with `command = \"{}\"` on a non-zero status code or a failed request; \
         before sending, a bad-argument error for a missing or mistyped argument",
        call.name
    );
    if call.args.iter().any(|a| a.fill == Fill::CacheTarget) {
        errors.push_str(", or for a left-out `target` when the message was not seen recently");
    }
    if call.args.iter().any(|a| a.fill == Fill::File) {
        errors.push_str(", or for a file that cannot be read or lies outside the data folder");
    }
    let _ = writeln!(out, "- Errors: {errors}.\n");
}

fn hand_module(out: &mut String, m: &Module) {
    let how = if m.global {
        format!("`require(\"{0}\")`, also the global `{0}`", m.name)
    } else {
        format!("`local {0} = require(\"{0}\")`", m.name)
    };
    let _ = writeln!(out, "## `{}`\n\n{}\n\nReached with {how}.\n", m.name, m.doc);
    for v in m.values {
        let _ = writeln!(out, "### `{}.{}`\n\n{} ({}).\n", m.name, v.name, v.doc, v.ty);
    }
    for f in m.functions {
        let sig = signature(
            &format!("{}.{}", m.name, f.name),
            f.args.iter().map(|a| (a.name, a.optional)),
        );
        let _ = writeln!(out, "### `{sig}`\n\n{}\n", f.doc);
        for a in f.args {
            let opt = if a.optional { ", optional" } else { "" };
            let _ = writeln!(out, "- `{}` ({}{opt}): {}", a.name, a.ty, a.doc);
        }
        let rets: Vec<String> = f.returns.iter().map(|r| format!("{} ({})", r.doc, r.ty)).collect();
        let rets = if rets.is_empty() { "nothing".to_owned() } else { rets.join("; ") };
        let _ = writeln!(out, "- Returns: {rets}.");
        let _ = writeln!(out, "- Errors: {}.", f.errors);
        let _ = writeln!(out, "- Context: {}.\n", f.context.describe());
    }
}

fn stdlib_module(out: &mut String, lib: &Stdlib, name: &str) {
    let _ = writeln!(out, "## `{name}`\n");
    let Some(m) = lib.modules.iter().find(|m| m.name == name) else { return };
    match &m.source {
        Source::Absent => {
            let _ = writeln!(out, "`stdlib/{name}.lua` is not in this checkout yet.\n");
            return;
        }
        Source::Unreadable(e) => {
            let _ = writeln!(out, "`stdlib/{name}.lua` could not be read: {e}\n");
            return;
        }
        Source::Parsed(f) if f.is_empty() => {
            let _ = writeln!(out, "`stdlib/{name}.lua` has no documented functions yet.\n");
            return;
        }
        Source::Parsed(_) => {}
    }
    let _ = writeln!(
        out,
        "Plain Lua shipped with mahua: `local {name} = require(\"{name}\")`. A function that calls \
         `mirai` or waits needs the same context as those.\n"
    );
    for f in lib.functions(name) {
        let sig = signature(
            &format!("{name}.{}", f.name),
            f.params.iter().map(|p| (p.name.as_str(), p.optional)),
        );
        let _ = writeln!(out, "### `{sig}`\n\n{}\n", f.doc);
        for p in &f.params {
            let opt = if p.optional { ", optional" } else { "" };
            let _ = writeln!(out, "- `{}` (`{}`{opt}): {}", p.name, p.ty, p.doc);
        }
        for r in &f.returns {
            let _ = writeln!(out, "- Returns `{}`: {}", r.ty, r.doc);
        }
        out.push('\n');
    }
}

const GUIDE: &str = r#"A script is a Lua 5.4 file in `scripts/`. mahua loads every one of them,
each in a Lua state of its own, and runs its top level once. What the script
sets up there — event handlers, timers — then runs for as long as the file
stays. Helper modules for `require` go in `scripts/lib/`; they are not bots
themselves.

## Events

`bot.on(name, fn)` calls `fn(ev)` for every event whose `type` is `name`.
Events are plain tables with the server's own field names; JSON `null`
fields are `nil`, and QQ numbers and message ids are integers.

```lua
bot.on("GroupMessage", function(ev)
  local first = ev.messageChain[2]
  if first and first.type == "Plain" and first.text == "ping" then
    mirai.sendGroupMessage(ev.sender.group.id, "pong")
  end
end)
```

`"Message"` subscribes to every kind of message and `"*"` to every event;
`"load"`, `"unload"`, `"connect"` and `"disconnect"` are the lifecycle.
`types/mahua.lua` declares every event's fields for editors with the Lua
language server.

## Waiting without blocking

Each handler and timer callback runs as a coroutine. A `mirai` call,
`http` request, `bot.sleep` or `bot.wait` looks like an ordinary call, but
while it waits the script's other callbacks and every other script go on.
Events reach a script in the order the server sent them. A callback that runs
too long without waiting is stopped with an error.

## Errors

A `mirai` call the server refuses raises an error table: `code` (the status
code, nil when no answer came), `msg`, `command` (the function that failed)
and `where` (`file:line` of the call). `tostring(e)` reads like
`sendGroupMessage: code 10, no permission`. Catch it with `pcall`:

```lua
local ok, e = pcall(mirai.mute, group, qq, 60)
if not ok then log.warn("could not mute:", e) end
```

A wrong argument raises a plain error before anything is sent, such as
``bad argument `qq` to `mirai.mute`: missing``. An error nobody catches is
logged with the script's file, line and a traceback; the next event is
handled as usual.

## On a OneBot server

With `[onebot]` in mahua.toml mahua runs on NapCat, LLOneBot or Lagrange.OneBot,
and scripts stay as they are: events arrive in the shapes above, with
`Source` first in every chain, and `mirai` calls become OneBot actions. Each
`mirai` function below says whether it works over OneBot; one that cannot
raises code 6 naming the call. OneBot message ids are the server's: they do
not survive a restart of the server. mahua says `BotOnlineEvent` when the link
comes up, `BotOfflineEventDropped` when it is lost and `BotReloginEvent` when
it is back.

An event with no mirai-api-http counterpart keeps its OneBot fields and gets
`type = "OneBot.<post_type>.<kind>"`, the kind being its `notice_type`,
`request_type`, `message_type` or `meta_event_type`, plus `.<sub_type>` for
`notify` notices: `bot.on("OneBot.notice.group_upload", fn)`,
`"OneBot.notice.essence"`, `"OneBot.notice.notify.lucky_king"`. `"*"` gets them
too. The `onebot` module calls any action of the server directly.

## Sandbox and data folder

Scripts get no `os.execute`, `io.popen`, `os.exit`, `os.getenv`,
`package.loadlib`, binary chunks or `debug` (but `debug.traceback`). `io.open`
and uploads reach only the script's own data folder, `data/<name>/` for
`scripts/<name>.lua` (the `data` folder can be moved in the configuration).
A path is resolved before it is opened: one with `..`, an absolute one, or one
that passes through a link inside the data folder is refused, even when the
link is swapped in while the file is being opened.
`store` keeps its data in `data/store.sqlite3`, one namespace per script
(named like the script, without `.lua`), or on Redis when `[store]` says so;
`mahua store dump` and `mahua store load` copy it out and in as JSON lines.
`require` finds the modules listed here and
those in `scripts/lib/`. A script named in `trusted` under `[scripts]` keeps
the whole standard library.

## Hot reload

Saving a script reloads it: the new version is loaded in a fresh state
first, and only if that works does it replace the old one, which gets
`"unload"` and loses its timers while its running callbacks may finish. A
version that fails to load is reported with file and line and the old one
keeps serving. Changing a module in `scripts/lib/` reloads the scripts that
`require` it. Lua variables do not survive a reload; `store` does.

## Where a function may be called

A function that waits needs a coroutine: a `bot.on` handler, a `bot.after` or
`bot.every` callback, or the script's top level (which mahua also runs as a
coroutine). It cannot wait at the top level of a `require`d module, inside a
metamethod or a `table.sort` comparator: Lua cannot suspend there, so the call
fails with an error.

| module | context |
|---|---|
"#;

fn contexts(out: &mut String) {
    let waits = |m: &Module| {
        m.functions
            .iter()
            .filter(|f| f.context == Context::Coroutine)
            .map(|f| format!("`{}.{}`", m.name, f.name))
            .collect::<Vec<_>>()
    };
    for m in modules::MODULES {
        let w = waits(m);
        let text = if w.is_empty() {
            "anywhere: nothing in it waits".to_owned()
        } else if w.len() == m.functions.len() {
            "in a coroutine only: every function waits".to_owned()
        } else {
            format!("anywhere, except {} (in a coroutine only)", w.join(", "))
        };
        let _ = writeln!(out, "| `{}` | {text} |", m.name);
        if m.name == "bot" {
            out.push_str(
                "| `mirai` | in a coroutine only: every function waits for the server |\n",
            );
        }
    }
    out.push_str("| `msg`, `cmd` | anywhere, except functions that call `mirai` or wait |\n\n");
}

fn mirai_section(out: &mut String) {
    out.push_str(
        "## `mirai`\n\nEvery API of the server, generated from mahua's command table: the \
         names and argument order of the Python SDK, and every other command under its own \
         name. Reached with `require(\"mirai\")`, also the global `mirai`. An argument \
         left out in the middle is passed as `nil`. A chain argument is a string, one message \
         element (`{type = \"At\", target = 123}`) or a list mixing elements and strings.\n\n",
    );
    for cmd in COMMANDS {
        if let Some(call) = &cmd.lua {
            mirai_entry(out, cmd, call);
        }
    }
    out.push_str(
        "### `mirai.call(command [, content] [, subCommand])`\n\n\
         Send any command, for those the table above does not cover.\n\n\
         - `command` (string): the command name as the server knows it.\n\
         - `content` (table, optional): the content; a `messageChain` key takes a chain argument.\n\
         - `subCommand` (string, optional): `get`, `update`, … where the command has one.\n\
         - Returns: for a command in the table, what its function returns; otherwise the \
         response's `data`, `messageId` or `session`, else nothing for a bare status, else the \
         whole response.\n\
         - Becomes: the command over WebSocket; over HTTP, the command's route.\n\
         - Errors: a `MahuaError` with `command` set to the command name; a bad-argument error \
         for a `content` that is not a table or a bad `messageChain`.\n\n",
    );
}

/// Render the reference from the command table, the module spec and the stdlib.
#[must_use]
pub fn render(lib: &Stdlib) -> String {
    let mut out = String::new();
    out.push_str("# Scripting mahua\n\n");
    out.push_str(
        "<!-- Generated from the command table and the module spec by \
         `MAHUA_UPDATE_DOCS=1 cargo test --test docs`; do not edit. -->\n\n",
    );
    out.push_str(GUIDE);
    contexts(&mut out);
    let by_name = |n: &str| modules::MODULES.iter().find(|m| m.name == n);
    if let Some(bot) = by_name("bot") {
        hand_module(&mut out, bot);
    }
    mirai_section(&mut out);
    for name in ["log", "json", "store", "http", "onebot"] {
        if let Some(m) = by_name(name) {
            hand_module(&mut out, m);
        }
    }
    for name in super::stdlib::STDLIB_MODULES {
        stdlib_module(&mut out, lib, name);
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}
