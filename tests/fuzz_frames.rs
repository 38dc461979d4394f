//! Whatever the server sends, nothing on the way in panics: the frame decoder, the event
//! accessors, chain normalisation, the http body reader and the conversion to Lua are fed
//! arbitrary bytes, arbitrary JSON and mutated fixture frames.
//!
//! Each property runs `PROPTEST_CASES` cases (default [`DEFAULT_CASES`]); the count is printed.
//! A long run: `PROPTEST_CASES=200000 cargo test --release --test fuzz_frames -- --nocapture`.

mod common;

use std::path::Path;

use mahua::adapter::multipart::parse_body;
use mahua::lua::{convert, stdlib};
use mahua::protocol::commands::Reply;
use mahua::protocol::event::{EVENT_TYPES, MESSAGE_TYPES};
use mahua::protocol::frame::{self, Incoming};
use mahua::protocol::{chain, Event};
use mlua::Lua;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{json, Map, Value};

/// Cases per property when `PROPTEST_CASES` is not set: enough to matter, quick in CI.
const DEFAULT_CASES: u32 = 10_000;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_CASES)
}

/// Run `test` on `cases()` values of `strategy`, failing with the shrunk input on a panic.
fn check<S: Strategy>(name: &str, strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S::Value: std::fmt::Debug,
{
    let config = Config { cases: cases(), failure_persistence: None, ..Config::default() };
    let mut runner = TestRunner::new(config);
    if let Err(e) = runner.run(&strategy, test) {
        panic!("{name}: {e}");
    }
    println!("{name}: {} cases", cases());
}

/// Words the protocol uses, as keys and as string values, so random JSON hits real paths.
const WORDS: &[&str] = &[
    "type",
    "syncId",
    "data",
    "code",
    "msg",
    "messageChain",
    "sender",
    "subject",
    "group",
    "id",
    "time",
    "text",
    "target",
    "member",
    "operator",
    "fromId",
    "eventId",
    "session",
    "-1",
    "",
    "Source",
    "Plain",
    "At",
    "AtAll",
    "Image",
    "Quote",
    "Forward",
    "nodeList",
    "origin",
    "Face",
    "kind",
    "Friend",
    "Group",
    "permission",
    "display",
    "url",
    "imageId",
];

fn word() -> impl Strategy<Value = String> {
    let types: Vec<&'static str> =
        WORDS.iter().chain(MESSAGE_TYPES).chain(EVENT_TYPES).copied().collect();
    prop_oneof![
        3 => prop::sample::select(types).prop_map(str::to_owned),
        1 => any::<String>(),
    ]
}

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-5i64..5).prop_map(Value::from),
        any::<f64>()
            .prop_filter_map("finite", |f| serde_json::Number::from_f64(f).map(Value::Number)),
    ]
}

/// Any JSON value, nested a few levels, biased towards the protocol's words.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number(),
        word().prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 96, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::vec((word(), inner), 0..8)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// An object with a `type` (known or not) and random other fields: an event of sorts.
fn typed_object() -> impl Strategy<Value = Value> {
    (word(), json_value()).prop_map(|(ty, v)| {
        let mut o = match v {
            Value::Object(o) => o,
            other => [("payload".to_owned(), other)].into_iter().collect(),
        };
        o.insert("type".to_owned(), Value::String(ty));
        Value::Object(o)
    })
}

/// A `syncId` as servers might send one.
fn sync_id() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!("-1")),
        Just(json!(-1)),
        Just(json!("")),
        Just(Value::Null),
        any::<u32>().prop_map(|n| json!(n.to_string())),
        json_value(),
    ]
}

/// Every fixture event (docs and wire forms), and every fixture element inside a packet.
fn fixtures() -> Vec<Value> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let read = |dir: &str| -> Vec<Value> {
        let mut files: Vec<_> = std::fs::read_dir(root.join(dir))
            .expect("fixtures")
            .filter_map(Result::ok)
            .map(|e| e.path())
            .collect();
        files.sort();
        files
            .iter()
            .map(|p| {
                serde_json::from_str(&std::fs::read_to_string(p).expect("read")).expect("json")
            })
            .collect()
    };
    let mut all = read("events");
    all.extend(read("wire/events"));
    for element in read("messages").into_iter().chain(read("wire/messages")) {
        all.push(json!({
            "type": "GroupMessage",
            "messageChain": [{"type": "Source", "id": 1, "time": 1}, element],
            "sender": {"id": 1, "group": {"id": 2}},
        }));
    }
    all
}

/// One change to a JSON tree.
#[derive(Debug, Clone)]
enum Mutation {
    /// Put another value there.
    Replace(Value),
    /// Remove it (from its object or list).
    Remove,
    /// The same content as another type: number ↔ string, list ↔ object, …
    Retype,
    /// Repeat a list's items, or nest the value in itself.
    Grow,
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        json_value().prop_map(Mutation::Replace),
        Just(Mutation::Remove),
        Just(Mutation::Retype),
        Just(Mutation::Grow),
    ]
}

fn apply(v: &mut Value, m: &Mutation) {
    *v = match (m, v.take()) {
        (Mutation::Replace(x), _) => x.clone(),
        (Mutation::Remove, _) => Value::Null,
        (Mutation::Retype, Value::Number(n)) => Value::String(n.to_string()),
        (Mutation::Retype, Value::String(s)) => {
            s.parse::<i64>().map_or_else(|_| json!([s]), Value::from)
        }
        (Mutation::Retype, Value::Bool(b)) => Value::from(i64::from(b)),
        (Mutation::Retype, Value::Null) => json!({}),
        (Mutation::Retype, Value::Array(a)) => {
            Value::Object(a.into_iter().enumerate().map(|(i, x)| (i.to_string(), x)).collect())
        }
        (Mutation::Retype, Value::Object(o)) => {
            Value::Array(o.into_iter().map(|(_, x)| x).collect())
        }
        (Mutation::Grow, Value::Array(a)) => {
            Value::Array(a.iter().chain(a.iter()).chain(a.iter()).cloned().collect())
        }
        (Mutation::Grow, other) => json!({"type": "Forward", "nodeList": [other.clone(), other]}),
    };
}

/// Walk down `path` (each step picks a child by index modulo the count) and apply `m` there.
fn mutate(v: &mut Value, path: &[usize], m: &Mutation) {
    let Some((first, rest)) = path.split_first() else {
        return apply(v, m);
    };
    let remove_here = rest.is_empty() && matches!(m, Mutation::Remove);
    match v {
        Value::Object(o) if !o.is_empty() => {
            let key = o.keys().nth(first % o.len()).cloned().expect("in range");
            if remove_here {
                o.remove(&key);
            } else if let Some(child) = o.get_mut(&key) {
                mutate(child, rest, m);
            }
        }
        Value::Array(a) if !a.is_empty() => {
            let i = first % a.len();
            if remove_here {
                a.remove(i);
            } else {
                mutate(&mut a[i], rest, m);
            }
        }
        _ => apply(v, m),
    }
}

/// A fixture event with a few mutations.
fn mutated_fixture() -> impl Strategy<Value = Value> {
    let all = fixtures();
    let edits =
        prop::collection::vec((prop::collection::vec(any::<usize>(), 0..6), mutation()), 1..5);
    (prop::sample::select(all), edits).prop_map(|(mut ev, edits)| {
        for (path, m) in &edits {
            mutate(&mut ev, path, m);
        }
        ev
    })
}

/// A Lua state with the `msg` module, as scripts have it.
fn lua() -> Lua {
    let lua = Lua::new();
    lua.load("package.loaded.mirai = {}").exec().expect("stub mirai");
    let msg = stdlib::module(&lua, "msg").expect("msg loads").expect("msg is embedded");
    let loaded: mlua::Table =
        lua.globals().get::<mlua::Table>("package").and_then(|p| p.get("loaded")).expect("package");
    loaded.set("msg", msg).expect("msg registered");
    lua
}

/// Everything mahua does with one pushed event before a script's handler runs.
fn take_in(lua: &Lua, data: &Value) -> Result<(), TestCaseError> {
    let ev = Event(data.clone());
    let _ = (ev.kind(), ev.is_message(), ev.message_id(), ev.conversation());
    if let Some(chain) = data.get("messageChain") {
        let _ = chain::text(chain);
        let _ = chain::normalize(chain.clone());
    }
    let _ = chain::normalize(data.clone());
    let table = convert::to_lua(lua, data).map_err(|e| TestCaseError::fail(e.to_string()))?;
    // The msg readers on whatever came: errors are fine, panics are not.
    let _ = stdlib::decorate(lua, &table);
    let probe = lua
        .load(
            "local ev = ...\n\
             local msg = require('msg')\n\
             pcall(msg.text, ev)\n\
             pcall(function() return msg.text(ev.messageChain) end)\n\
             pcall(function() return tostring(ev.messageChain) .. '' end)",
        )
        .into_function()
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    probe.call::<()>(table).map_err(|e| TestCaseError::fail(e.to_string()))?;
    // And back: what came in can be sent out again.
    let _ = convert::to_json(lua, &convert::to_lua(lua, data).expect("converted once already"));
    Ok(())
}

/// Decode a frame and take in whatever event it carries.
fn decode(lua: &Lua, text: &str) -> Result<(), TestCaseError> {
    match frame::parse_incoming(text) {
        Ok(Incoming::Push(data)) => {
            frame::check_event(&data).map_err(|e| TestCaseError::fail(e.to_string()))?;
            take_in(lua, &data)
        }
        Ok(Incoming::Reply { data, .. } | Incoming::Bare(data)) => {
            let _ = frame::failure(&data);
            for reply in [None, Some(Reply::Data), Some(Reply::MessageId), Some(Reply::Bare)] {
                let _ = frame::outcome(reply, data.clone());
            }
            Ok(())
        }
        Err(e) => {
            let _ = e.to_string();
            Ok(())
        }
    }
}

#[test]
fn arbitrary_bytes_never_panic_the_decoder() {
    let lua = lua();
    check("bytes", prop::collection::vec(any::<u8>(), 0..512), |bytes| {
        let text = String::from_utf8_lossy(&bytes);
        let _ = parse_body(&text);
        decode(&lua, &text)
    });
}

#[test]
fn arbitrary_json_frames_never_panic_the_decoder() {
    let lua = lua();
    let frames = prop_oneof![
        json_value(),
        (sync_id(), json_value()).prop_map(|(s, d)| json!({"syncId": s, "data": d})),
        json_value().prop_map(|d| json!({"syncId": "-1", "data": d})),
        typed_object().prop_map(|d| json!({"syncId": "-1", "data": d})),
    ];
    check("json frames", frames, |v| {
        let text = v.to_string();
        let _ = parse_body(&text);
        decode(&lua, &text)
    });
}

#[test]
fn mutated_fixture_events_never_panic_anything_on_the_way_in() {
    let lua = lua();
    check("mutated fixtures", mutated_fixture(), |ev| {
        let text = json!({"syncId": "-1", "data": ev}).to_string();
        decode(&lua, &text)?;
        // Cut the frame anywhere: a truncated frame is an error, not a panic.
        let cut = text.len() / 2;
        let cut = (0..=cut).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
        decode(&lua, &text[..cut])
    });
}

#[test]
fn mutated_fixture_answers_never_panic_the_http_reader() {
    check("mutated http answers", mutated_fixture(), |ev| {
        let body = json!({"code": 0, "msg": "", "data": [ev]}).to_string();
        let v = parse_body(&body);
        if let Some(Value::Array(items)) = v.get("data") {
            for item in items {
                let _ = frame::check_event(item);
                let ev = Event(item.clone());
                let _ = (ev.kind(), ev.message_id(), ev.conversation());
            }
        }
        Ok(())
    });
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let deep =
        format!("{{\"syncId\":\"-1\",\"data\":{}{}}}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(frame::parse_incoming(&deep).is_err());
    let deep_objects = "{\"a\":".repeat(50_000) + "1" + &"}".repeat(50_000);
    assert!(frame::parse_incoming(&deep_objects).is_err());
    let _ = parse_body(&deep);
}

/// Counts every event it gets and pokes at it; answers the marker with the count.
const COUNTER: &str = r"
local msg = require('msg')
local n = 0
bot.on('*', function(ev)
  n = n + 1
  pcall(msg.text, ev.messageChain)
  pcall(function() return ev.sender.id, ev.messageChain[1].type end)
  if ev.type == 'FriendMessage' and msg.text(ev.messageChain) == 'how many?' then
    mirai.sendFriendMessage(424242, tostring(n - 1))
  end
end)
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_bot_takes_random_frames_each_delivered_or_rejected_once() {
    let n = (cases() / 10).max(100);
    let frames = prop_oneof![
        (sync_id(), json_value()).prop_map(|(s, d)| json!({"syncId": s, "data": d})),
        json_value().prop_map(|d| json!({"syncId": "-1", "data": d})),
        typed_object().prop_map(|d| json!({"syncId": "-1", "data": d})),
        mutated_fixture().prop_map(|d| json!({"syncId": "-1", "data": d})),
    ];
    let mut runner = TestRunner::deterministic();
    let bot = common::start(&[("counter.lua", COUNTER)]).await;
    for _ in 0..n {
        let frame = frames.new_tree(&mut runner).expect("a frame").current();
        assert_eq!(bot.sim.push_raw(&frame.to_string()), 1, "the link is up");
    }
    bot.sim.friend_message(12345, json!("how many?"));
    let delivered: u64 = bot.wait_reports(1).await[0].parse().expect("a count");
    let rejected = bot.adapter.rejected_frames();
    println!(
        "random frames through a running bot: {n} sent, {delivered} delivered, {rejected} rejected"
    );
    assert_eq!(delivered + rejected, u64::from(n), "each frame delivered or rejected, once");
    bot.stop().await;
}
