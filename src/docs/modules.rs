//! The hand-kept spec of the modules that are not generated from the command table:
//! `bot`, `log`, `json`, `store`, `http` and `onebot`.

/// Where a function may be called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// Anywhere: it returns at once (a handler, a timer, the top level, a `require`d module).
    Anywhere,
    /// Only in a coroutine: it waits, so it needs a `bot.on` handler, a timer or the top level.
    Coroutine,
}

impl Context {
    /// How the reference says it.
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            Self::Anywhere => "anywhere: it returns at once",
            Self::Coroutine => {
                "in a `bot.on` handler, a timer callback or the script's top level (it waits); \
                 not at the top level of a `require`d module, in a metamethod or in a \
                 `table.sort` comparator"
            }
        }
    }
}

/// Whether a function gets one typed overload per event name in the annotations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PerEvent {
    /// No overloads.
    No,
    /// `bot.on(name, fn)`: the callback's event is typed by `name`.
    On,
    /// `bot.wait(name, filter, timeout)`: the filter's and the result's event are typed by `name`.
    Wait,
}

/// One argument.
#[derive(Debug, Clone, Copy)]
pub struct Arg {
    /// Its name.
    pub name: &'static str,
    /// Its LuaLS type.
    pub ty: &'static str,
    /// Whether it may be left out.
    pub optional: bool,
    /// What it is.
    pub doc: &'static str,
}

/// One return value.
#[derive(Debug, Clone, Copy)]
pub struct Ret {
    /// Its LuaLS type.
    pub ty: &'static str,
    /// What it is.
    pub doc: &'static str,
}

/// One function of a module.
#[derive(Debug, Clone, Copy)]
pub struct Function {
    /// Its name in the module.
    pub name: &'static str,
    /// Its arguments in order.
    pub args: &'static [Arg],
    /// What it returns (empty: nothing).
    pub returns: &'static [Ret],
    /// What it raises.
    pub errors: &'static str,
    /// One line saying what it does.
    pub doc: &'static str,
    /// Where it may be called.
    pub context: Context,
    /// Typed overloads per event name.
    pub per_event: PerEvent,
}

/// A value (not a function) a module holds.
#[derive(Debug, Clone, Copy)]
pub struct Value {
    /// Its name in the module.
    pub name: &'static str,
    /// Its LuaLS type.
    pub ty: &'static str,
    /// What it is.
    pub doc: &'static str,
}

/// One module.
#[derive(Debug, Clone, Copy)]
pub struct Module {
    /// The name for `require`.
    pub name: &'static str,
    /// Whether it is also a global.
    pub global: bool,
    /// A few lines on what it is for.
    pub doc: &'static str,
    /// Its functions.
    pub functions: &'static [Function],
    /// Its values.
    pub values: &'static [Value],
}

const fn arg(name: &'static str, ty: &'static str, doc: &'static str) -> Arg {
    Arg { name, ty, optional: false, doc }
}
const fn opt(name: &'static str, ty: &'static str, doc: &'static str) -> Arg {
    Arg { name, ty, optional: true, doc }
}
const fn ret(ty: &'static str, doc: &'static str) -> Ret {
    Ret { ty, doc }
}
const fn func(
    name: &'static str,
    args: &'static [Arg],
    returns: &'static [Ret],
    errors: &'static str,
    doc: &'static str,
    context: Context,
) -> Function {
    Function { name, args, returns, errors, doc, context, per_event: PerEvent::No }
}
const fn per_event(mut f: Function, per_event: PerEvent) -> Function {
    f.per_event = per_event;
    f
}

use Context::{Anywhere, Coroutine};

const LOG_ARGS: &[Arg] =
    &[arg("...", "any", "values joined with spaces, each through `tostring` as `print` does")];
const LOG_ERRORS: &str = "an argument whose `__tostring` fails raises that error";

/// The modules besides `mirai`, `msg` and `cmd`, in the order the docs show them.
pub static MODULES: &[Module] = &[
    Module {
        name: "bot",
        global: true,
        doc: "Events, lifecycle and timers. Each handler and timer callback runs as its own \
              coroutine. `bot.on`, `bot.after` and `bot.every` return a handle whose \
              `handle:cancel()` stops it and returns whether it was still active.",
        functions: &[
            per_event(
                func(
                    "on",
                    &[
                        arg(
                            "name",
                            "string",
                            "an event `type` (`\"GroupMessage\"`, `\"MemberJoinEvent\"`, …), \
                             `\"Message\"` for every kind of message, `\"*\"` for every event, or a \
                             lifecycle name: `\"load\"`, `\"unload\"`, `\"connect\"` (`{gap = seconds or nil}`), \
                             `\"disconnect\"` (`{reason = text}`)",
                        ),
                        arg("fn", "fun(ev: table)", "called with the event"),
                    ],
                    &[ret("BotHandle", "a handle; `handle:cancel()` removes the handler")],
                    "a `name` that is not a string or a `fn` that is not a function raises an error; \
                     an unknown event name only logs a warning",
                    "Call `fn(ev)` for every event of type `name`.",
                    Anywhere,
                ),
                PerEvent::On,
            ),
            per_event(
                func(
                    "wait",
                    &[
                        arg("name", "string", "an event `type`, `\"Message\"` or `\"*\"`"),
                        opt("filter", "fun(ev: table): boolean", "only events for which it returns true"),
                        opt("timeout", "number", "seconds to wait at most; no limit when left out"),
                    ],
                    &[ret("table?", "the event, or nil after `timeout`")],
                    "a negative `timeout` raises `bot.wait: seconds must be a number >= 0`",
                    "Wait for the next event of type `name` that passes `filter`; it does not also \
                     reach the script's `bot.on` handlers.",
                    Coroutine,
                ),
                PerEvent::Wait,
            ),
            func(
                "after",
                &[arg("seconds", "number", "the delay"), arg("fn", "fun()", "called once")],
                &[ret("BotHandle", "a handle; `handle:cancel()` stops the timer")],
                "a negative `seconds` raises `bot.after: seconds must be a number >= 0`",
                "Call `fn()` once after a delay; stopped when the script is unloaded.",
                Anywhere,
            ),
            func(
                "every",
                &[arg("seconds", "number", "the period"), arg("fn", "fun()", "called every period")],
                &[ret("BotHandle", "a handle; `handle:cancel()` stops the timer")],
                "`seconds` of 0 raises `bot.every: seconds must be more than 0`; a negative one \
                 `bot.every: seconds must be a number >= 0`",
                "Call `fn()` every `seconds`, first after one period; stopped when the script is unloaded.",
                Anywhere,
            ),
            func(
                "sleep",
                &[arg("seconds", "number", "how long")],
                &[],
                "a negative `seconds` raises `bot.sleep: seconds must be a number >= 0`",
                "Wait without holding up the script's other callbacks or any other script.",
                Coroutine,
            ),
        ],
        values: &[],
    },
    Module {
        name: "log",
        global: true,
        doc: "mahua's log, tagged with the script's name. `MAHUA_LOG=debug` shows `log.debug`.",
        functions: &[
            func("debug", LOG_ARGS, &[], LOG_ERRORS, "Log at debug level.", Anywhere),
            func("info", LOG_ARGS, &[], LOG_ERRORS, "Log at info level.", Anywhere),
            func("warn", LOG_ARGS, &[], LOG_ERRORS, "Log at warn level.", Anywhere),
            func("error", LOG_ARGS, &[], LOG_ERRORS, "Log at error level.", Anywhere),
        ],
        values: &[],
    },
    Module {
        name: "json",
        global: true,
        doc: "JSON text to and from Lua values, converted the way events and API calls are: \
              JSON null becomes nil.",
        functions: &[
            func(
                "encode",
                &[arg("value", "any", "a table, string, number, boolean, nil or `json.null`")],
                &[ret("string", "the JSON text")],
                "a value JSON cannot hold (a function, a table with keys other than strings and \
                 integers, NaN, a table that contains itself) raises `json.encode: …`",
                "Encode a value as JSON text.",
                Anywhere,
            ),
            func(
                "decode",
                &[arg("text", "string", "JSON text")],
                &[ret("any", "the value; null becomes nil")],
                "text that is not JSON raises `json.decode: …` with the line and column",
                "Decode JSON text.",
                Anywhere,
            ),
            func(
                "array",
                &[],
                &[ret("table", "an empty table that encodes as `[]`")],
                "none",
                "An empty list that encodes as `[]` rather than `{}`.",
                Anywhere,
            ),
        ],
        values: &[Value {
            name: "null",
            ty: "lightuserdata",
            doc: "an explicit JSON null, for the rare call that must send one",
        }],
    },
    Module {
        name: "store",
        global: false,
        doc: "A key-value store of the script's own, kept across reloads and restarts: SQLite in \
              the data folder by default (`data/store.sqlite3`), or Redis when several mahua \
              processes share data (`[store] backend = \"redis\"`). A value is anything JSON \
              can hold: nil, booleans, numbers, strings and tables of them. Every call returns at \
              once and is atomic on its own; a returned write survives the process being killed. \
              `store.shared` is the same API over one namespace that every script reaches.",
        functions: &[
            func(
                "get",
                &[
                    arg("key", "string", "the key"),
                    opt("default", "any", "returned when the key has no value"),
                ],
                &[ret("any", "the stored value, or `default`")],
                "a store that cannot be read (corrupt, locked, unreachable) raises an error naming it",
                "Read a value.",
                Anywhere,
            ),
            func(
                "set",
                &[
                    arg("key", "string", "the key"),
                    arg("value", "any", "any value JSON can hold; nil deletes the key"),
                    opt("options", "StoreOptions", "`{ttl = seconds}`: the key expires after that long"),
                ],
                &[],
                "a function, a userdata or a table that contains itself raises an error naming \
                 the key and the place inside the value; so does a store that cannot be written",
                "Store a value; without `ttl` it lives until deleted.",
                Anywhere,
            ),
            func(
                "delete",
                &[arg("key", "string", "the key")],
                &[ret("boolean", "whether the key had a value")],
                "a store that cannot be written raises an error naming it",
                "Remove a key.",
                Anywhere,
            ),
            func(
                "incr",
                &[
                    arg("key", "string", "the key; missing counts as 0"),
                    opt("by", "number", "what to add, default 1"),
                ],
                &[ret("number", "the new value")],
                "a key that holds something other than a number raises an error",
                "Add to a number atomically, keeping the key's ttl: two scripts or two processes \
                 counting at once lose no count.",
                Anywhere,
            ),
            func(
                "update",
                &[
                    arg("key", "string", "the key"),
                    arg("fn", "fun(old: any): any", "gets the old value (nil when missing) and returns the new one (nil deletes)"),
                    opt("options", "StoreOptions", "`{ttl = seconds}`; without it the key keeps its ttl"),
                ],
                &[ret("any", "the new value")],
                "an error inside `fn` is raised and leaves the old value in place; `fn` must not \
                 wait (no `mirai.*` or `bot.sleep` inside it)",
                "Read, change and write a value atomically. When another writer changed the key \
                 meanwhile, `fn` runs again on the newer value.",
                Anywhere,
            ),
            func(
                "keys",
                &[
                    opt("prefix", "string", "only keys that start with it"),
                    opt("limit", "integer", "at most this many"),
                ],
                &[ret("string[]", "the keys that have a value, in sorted order")],
                "a store that cannot be read raises an error naming it",
                "List keys; `store.keys(\"user:\", 10)`.",
                Anywhere,
            ),
            func(
                "scan",
                &[opt("prefix", "string", "only keys that start with it")],
                &[ret("fun(): string?, any", "an iterator of key, value in sorted order")],
                "a store that cannot be read raises an error naming it, from the loop",
                "Walk a large set a page at a time: `for key, value in store.scan(\"user:\") do … end`.",
                Anywhere,
            ),
        ],
        values: &[Value {
            name: "shared",
            ty: "mahua.store",
            doc: "The same functions over one namespace that every script shares.",
        }],
    },
    Module {
        name: "http",
        global: false,
        doc: "Outbound HTTP from scripts. A request waits without blocking, like an API call. \
              `options` is `{headers = {…}, timeout = seconds (default 10), json = table (post: \
              sent as a JSON body), max_bytes = integer (default 1 MiB)}`; a response is \
              `{status = integer, body = string, headers = {[string] = string}}`.",
        functions: &[
            func(
                "get",
                &[
                    arg("url", "string", "the URL"),
                    opt("options", "HttpOptions", "headers, timeout, max_bytes"),
                ],
                &[ret("HttpResponse", "the response")],
                "a network error or a timeout raises an error",
                "Send a GET request.",
                Coroutine,
            ),
            func(
                "post",
                &[
                    arg("url", "string", "the URL"),
                    arg("body", "string?", "the request body (nil when `options.json` is given)"),
                    opt("options", "HttpOptions", "headers, timeout, json, max_bytes"),
                ],
                &[ret("HttpResponse", "the response")],
                "a network error or a timeout raises an error",
                "Send a POST request.",
                Coroutine,
            ),
        ],
        values: &[],
    },
    Module {
        name: "onebot",
        global: true,
        doc: "Present only when mahua runs on a OneBot v11 server (`[onebot]` in mahua.toml): \
              direct access to the server's own actions, for what `mirai` has no name for \
              (NapCat's, LLOneBot's or Lagrange's extensions). Check `if onebot then … end` \
              in a script that also runs on mirai-api-http. Direct calls do not pass the send \
              queue's rate limits.",
        functions: &[func(
            "call",
            &[
                arg("action", "string", "the OneBot action, e.g. `\"get_group_honor_info\"`"),
                opt("params", "table", "the action's parameters (default `{}`)"),
            ],
            &[ret("any", "the action's `data`")],
            "a failed action raises a `MahuaError` as `mirai` does: an unknown action has code \
             6, a bad request 400, any other failure 500 with the server's message",
            "Call one OneBot action as it is.",
            Coroutine,
        )],
        values: &[],
    },
];
