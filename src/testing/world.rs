//! One test's world: a simulator, the link to it, the host with the scripts the test
//! loads, a data folder, and `t`, the object the test drives them through.

use std::cell::{Cell, RefCell};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use mlua::{Function, Lua, MultiValue, Table, Value};
use serde_json::{json, Value as Json};
use tokio::sync::mpsc;

use crate::adapter::local::{Answer, Answers, LocalAdapter, Question};
use crate::adapter::sendq::SendQueue;
use crate::adapter::Adapter;
use crate::config::SendConfig;
use crate::host::clock::VirtualClock;
use crate::host::{HostOptions, RunningHost};
use crate::lua::convert;
use crate::lua::http::{Canned, CannedResponses};
use crate::metrics::Metrics;
use crate::protocol::chain;
use crate::sim::{Sim, SimConfig};

/// The field that marks `test.fail(code, msg)`.
pub const FAIL_MARK: &str = "mahua_test_fail";

/// How long `expect_reply` waits unless told, in virtual seconds.
const DEFAULT_WITHIN: f64 = 10.0;

/// The wall clock a test starts at: 2025-01-01 09:00:00 UTC, the same for every run.
const EPOCH: i64 = 1_735_722_000;

/// The methods of `t`, in Lua.
const API: &str = include_str!("api.lua");

/// What a test's `t` reaches.
struct Ctx {
    scripts_dir: PathBuf,
    sim: Sim,
    answers: Answers,
    data: tempfile::TempDir,
    metrics: Arc<Metrics>,
    clock: VirtualClock,
    host: RefCell<Option<(RunningHost, Arc<dyn Adapter>)>>,
    /// Messages sent before this index were matched by an expectation already.
    seen: Cell<usize>,
    /// Responses the scripts' `http` gets.
    http: CannedResponses,
    /// Tasks answering commands with the test's functions.
    askers: RefCell<Vec<tokio::task::JoinHandle<()>>>,
}

/// Let everything that can run, run: the runtime's clock moves only when nothing is left.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(1)).await;
}

type Raw = (bool, Value);

fn pass(v: Value) -> mlua::Result<Raw> {
    Ok((true, v))
}

fn failed(lua: &Lua, why: impl AsRef<str>) -> mlua::Result<Raw> {
    Ok((false, Value::String(lua.create_string(why.as_ref())?)))
}

impl Ctx {
    async fn new(scripts_dir: &Path) -> anyhow::Result<Rc<Self>> {
        let sim = Sim::start(SimConfig::default()).await?;
        Ok(Rc::new(Self {
            scripts_dir: scripts_dir.to_owned(),
            sim,
            answers: Answers::default(),
            data: tempfile::tempdir()?,
            metrics: Metrics::new(),
            clock: VirtualClock::starting_at(EPOCH),
            host: RefCell::new(None),
            seen: Cell::new(0),
            http: CannedResponses::default(),
            askers: RefCell::new(Vec::new()),
        }))
    }

    /// Start the host with `names`; what went wrong, if anything.
    async fn load(&self, names: Vec<String>) -> Result<(), String> {
        if self.host.borrow().is_some() {
            return Err("t:load was already called; load every script in one call".into());
        }
        if names.is_empty() {
            return Err("t:load needs the scripts to load, e.g. t:load(\"echo.lua\")".into());
        }
        for n in &names {
            if !self.scripts_dir.join(n).is_file() {
                return Err(format!("no script {}", self.scripts_dir.join(n).display()));
            }
        }
        let mut opts = HostOptions::new(&self.scripts_dir);
        opts.data_dir = self.data.path().join("data");
        opts.hot_reload = false;
        opts.only = Some(names.clone());
        opts.inline = true;
        opts.clock = Some(self.clock);
        opts.http_canned = Some(self.http.clone());
        opts.metrics = self.metrics.clone();
        let (link, events) = LocalAdapter::connect(&self.sim, self.answers.clone());
        let adapter: Arc<dyn Adapter> =
            SendQueue::new(link, SendConfig::default().options(), self.metrics.clone());
        let (host, ready) = RunningHost::spawn(opts, adapter.clone(), events);
        let loaded = ready.await.unwrap_or_default();
        *self.host.borrow_mut() = Some((host, adapter));
        settle().await;
        let snapshot = self.metrics.snapshot();
        let mut problems = Vec::new();
        for n in &names {
            if !loaded.contains(n) {
                let why = snapshot
                    .scripts
                    .iter()
                    .find(|s| &s.name == n)
                    .and_then(|s| s.last_error.clone())
                    .unwrap_or_else(|| "it did not load".into());
                problems.push(format!("{n} failed to load: {why}"));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("\n"))
        }
    }

    /// The errors scripts raised during the test.
    fn script_errors(&self) -> Option<String> {
        let snapshot = self.metrics.snapshot();
        let errors: Vec<String> = snapshot
            .scripts
            .iter()
            .filter(|s| s.errors > 0)
            .map(|s| {
                format!(
                    "{} raised {} error(s); the last: {}",
                    s.name,
                    s.errors,
                    s.last_error.clone().unwrap_or_default()
                )
            })
            .collect();
        (!errors.is_empty()).then(|| errors.join("\n"))
    }

    async fn stop(&self) {
        for a in self.askers.borrow_mut().drain(..) {
            a.abort();
        }
        let running = self.host.borrow_mut().take();
        if let Some((host, adapter)) = running {
            host.stop().await;
            adapter.shutdown().await;
        }
    }

    /// The messages sent so far, as Lua tables.
    fn sent_table(&self, lua: &Lua, from: usize) -> mlua::Result<Table> {
        let list = lua.create_table()?;
        for m in self.sim.sent().into_iter().skip(from) {
            list.push(message(lua, &m)?)?;
        }
        Ok(list)
    }
}

/// A sent message as the test sees it: `{command, target, group, chain, text, messageId}`.
fn message(lua: &Lua, m: &crate::sim::SentMessage) -> mlua::Result<Value> {
    let mut j = m.to_json();
    j["text"] = Json::String(chain::text(&m.chain));
    convert::to_lua(lua, &j)
}

/// A message argument (text, one element or a chain) as the simulator takes it.
fn chain_arg(lua: &Lua, v: &Value) -> Result<Json, String> {
    convert::to_json(lua, v).map_err(|e| format!("the message has no JSON form: {e}"))
}

/// A number of seconds as a duration.
fn seconds(s: f64) -> Result<Duration, String> {
    Duration::try_from_secs_f64(s).map_err(|_| format!("expected seconds >= 0, got {s}"))
}

/// Run one test: a fresh world, the test function, then the scripts' errors; the failure.
pub async fn run_one(lua: &Lua, f: Function, scripts_dir: &Path) -> Option<String> {
    let ctx = match Ctx::new(scripts_dir).await {
        Ok(c) => c,
        Err(e) => return Some(format!("cannot set up the test: {e}")),
    };
    let result = match make_t(lua, &ctx) {
        Ok(t) => f.call_async::<()>(t).await,
        Err(e) => Err(e),
    };
    settle().await;
    let failure = match result {
        Err(e) => Some(super::message_of(&e)),
        Ok(()) => ctx.script_errors().map(|e| format!("a script failed during the test:\n{e}")),
    };
    ctx.stop().await;
    failure
}

/// Build `t` for `ctx`.
fn make_t(lua: &Lua, ctx: &Rc<Ctx>) -> mlua::Result<Table> {
    let raw = lua.create_table()?;
    let c = ctx.clone();
    raw.set(
        "load",
        lua.create_async_function(move |lua, names: MultiValue| {
            let c = c.clone();
            async move {
                let names: Vec<String> = names.iter().filter_map(|v| v.to_string().ok()).collect();
                match c.load(names).await {
                    Ok(()) => pass(Value::Nil),
                    Err(why) => failed(&lua, why),
                }
            }
        })?,
    )?;
    let c = ctx.clone();
    raw.set(
        "friend_say",
        lua.create_async_function(move |lua, (qq, msg): (i64, Value)| {
            let c = c.clone();
            async move {
                let chain = match chain_arg(&lua, &msg) {
                    Ok(v) => v,
                    Err(why) => return failed(&lua, why),
                };
                let id = c.sim.friend_message(qq, chain);
                settle().await;
                pass(Value::Integer(id))
            }
        })?,
    )?;
    let c = ctx.clone();
    raw.set(
        "member_say",
        lua.create_async_function(move |lua, (group, qq, msg): (i64, i64, Value)| {
            let c = c.clone();
            async move {
                let chain = match chain_arg(&lua, &msg) {
                    Ok(v) => v,
                    Err(why) => return failed(&lua, why),
                };
                let id = c.sim.group_message(group, qq, chain);
                settle().await;
                pass(Value::Integer(id))
            }
        })?,
    )?;
    let c = ctx.clone();
    raw.set(
        "member_join",
        lua.create_async_function(move |_, (group, qq): (i64, i64)| {
            let c = c.clone();
            async move {
                c.sim.member_join(group, qq);
                settle().await;
                pass(Value::Nil)
            }
        })?,
    )?;
    let c = ctx.clone();
    raw.set(
        "nudge",
        lua.create_async_function(move |_, (qq, group): (i64, Option<i64>)| {
            let c = c.clone();
            async move {
                let bot = c.sim.config().qq;
                c.sim.nudge(qq, bot, group);
                settle().await;
                pass(Value::Nil)
            }
        })?,
    )?;
    let c = ctx.clone();
    raw.set(
        "friend_request",
        lua.create_async_function(move |_, (qq, text): (i64, String)| {
            let c = c.clone();
            async move {
                let id = c.sim.new_friend_request(qq, &text);
                settle().await;
                pass(Value::Integer(id))
            }
        })?,
    )?;
    let c = ctx.clone();
    raw.set(
        "join_request",
        lua.create_async_function(move |_, (group, qq, text): (i64, i64, String)| {
            let c = c.clone();
            async move {
                let id = c.sim.member_join_request(group, qq, &text);
                settle().await;
                pass(Value::Integer(id))
            }
        })?,
    )?;
    let c = ctx.clone();
    raw.set(
        "push",
        lua.create_async_function(move |lua, event: Value| {
            let c = c.clone();
            async move {
                let ev = match convert::to_json(&lua, &event) {
                    Ok(Json::Object(o)) if o.get("type").is_some_and(Json::is_string) => {
                        Json::Object(o)
                    }
                    Ok(_) => return failed(&lua, "t:push takes an event table with a `type`"),
                    Err(e) => return failed(&lua, format!("the event has no JSON form: {e}")),
                };
                let id = c.sim.inject(ev);
                settle().await;
                pass(id.map_or(Value::Nil, Value::Integer))
            }
        })?,
    )?;
    let c = ctx.clone();
    raw.set(
        "sent",
        lua.create_async_function(move |lua, ()| {
            let c = c.clone();
            async move {
                settle().await;
                pass(Value::Table(c.sent_table(&lua, 0)?))
            }
        })?,
    )?;
    let c = ctx.clone();
    raw.set(
        "calls",
        lua.create_async_function(move |lua, command: Option<String>| {
            let c = c.clone();
            async move {
                settle().await;
                let list = lua.create_table()?;
                for r in c.sim.received() {
                    if command.as_deref().map_or(true, |want| want == r.command) {
                        let mut j = json!({"command": r.command, "content": r.content});
                        if let Some(sub) = r.sub_command {
                            j["subCommand"] = Json::String(sub);
                        }
                        list.push(convert::to_lua(&lua, &j)?)?;
                    }
                }
                pass(Value::Table(list))
            }
        })?,
    )?;
    let c = ctx.clone();
    raw.set(
        "advance",
        lua.create_async_function(move |lua, s: f64| {
            let c = c.clone();
            async move {
                let d = match seconds(s) {
                    Ok(d) => d,
                    Err(why) => return failed(&lua, format!("t:advance: {why}")),
                };
                tokio::time::sleep(d).await;
                settle().await;
                pass(Value::Integer(c.clock.now()))
            }
        })?,
    )?;
    let c = ctx.clone();
    raw.set("now", lua.create_function(move |_, ()| pass(Value::Integer(c.clock.now())))?)?;
    let c = ctx.clone();
    raw.set(
        "answer",
        lua.create_function(move |lua, (command, value): (String, Value)| {
            let answer = match &value {
                Value::Function(f) => Answer::Ask(asker(lua, &c, f.clone())),
                Value::Table(t) if t.get::<bool>(FAIL_MARK).unwrap_or(false) => Answer::Fail(
                    t.get("code")?,
                    t.get::<Option<String>>("msg")?.unwrap_or_default(),
                ),
                other => match convert::to_json(lua, other) {
                    Ok(v) => Answer::Value(v),
                    Err(e) => return failed(lua, format!("the answer has no JSON form: {e}")),
                },
            };
            c.answers
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(command, answer);
            pass(Value::Nil)
        })?,
    )?;
    let c = ctx.clone();
    raw.set(
        "answer_http",
        lua.create_function(move |lua, (url, response): (String, Table)| {
            let status: Option<u16> = response.get("status")?;
            let body = match response.get::<Value>("body")? {
                Value::Nil => String::new(),
                Value::String(s) => s.to_str()?.to_owned(),
                Value::Table(t) => match convert::to_json(lua, &Value::Table(t)) {
                    Ok(j) => j.to_string(),
                    Err(e) => return failed(lua, format!("the body has no JSON form: {e}")),
                },
                other => {
                    return failed(
                        lua,
                        format!("body must be a string or a table, not a {}", other.type_name()),
                    )
                }
            };
            let canned = Canned { status: status.unwrap_or(200), body };
            c.http.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push((url, canned));
            pass(Value::Nil)
        })?,
    )?;
    let c = ctx.clone();
    raw.set(
        "expect",
        lua.create_async_function(
            move |lua, (pattern, within, none): (Option<String>, Option<f64>, bool)| {
                let c = c.clone();
                async move { expect(&lua, &c, pattern, within, none).await }
            },
        )?,
    )?;
    let meta: Table = lua.load(API).set_name("=test").call(raw)?;
    let t = lua.create_table()?;
    t.set_metatable(Some(meta))?;
    Ok(t)
}

/// A task that answers a command by calling the test's function `f` with the call's content.
fn asker(lua: &Lua, ctx: &Rc<Ctx>, f: Function) -> mpsc::UnboundedSender<Question> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Question>();
    let lua = lua.clone();
    let task = tokio::task::spawn_local(async move {
        while let Some((content, reply)) = rx.recv().await {
            let body = match convert::to_lua(&lua, &content).and_then(|v| f.call::<Value>(v)) {
                Ok(Value::Table(t)) if t.get::<bool>(FAIL_MARK).unwrap_or(false) => json!({
                    "code": t.get::<i64>("code").unwrap_or(500),
                    "msg": t.get::<Option<String>>("msg").ok().flatten().unwrap_or_default(),
                }),
                Ok(v) => match convert::to_json(&lua, &v) {
                    Ok(j) => crate::adapter::local::success(&j),
                    Err(e) => {
                        json!({"code": 500, "msg": format!("the answer has no JSON form: {e}")})
                    }
                },
                Err(e) => json!({"code": 500, "msg": crate::host::callback::describe(&e)}),
            };
            let _ = reply.send(body);
        }
    });
    ctx.askers.borrow_mut().push(task);
    tx
}

/// `t:expect_reply(pattern, {within})`, or with `none`, `t:expect_no_reply({within})`.
async fn expect(
    lua: &Lua,
    c: &Rc<Ctx>,
    pattern: Option<String>,
    within: Option<f64>,
    none: bool,
) -> mlua::Result<Raw> {
    let within = match seconds(within.unwrap_or(DEFAULT_WITHIN)) {
        Ok(d) => d,
        Err(why) => return failed(lua, format!("within: {why}")),
    };
    let find: Function = lua.globals().get::<Table>("string")?.get("find")?;
    let deadline = tokio::time::Instant::now() + within;
    let mut changes = c.sim.changes();
    settle().await;
    loop {
        let sent = c.sim.sent();
        let from = c.seen.get();
        for (i, m) in sent.iter().enumerate().skip(from) {
            let text = chain::text(&m.chain);
            let hit = match &pattern {
                None => true,
                Some(p) => !find.call::<Value>((text.as_str(), p.as_str()))?.is_nil(),
            };
            if hit {
                c.seen.set(i + 1);
                if none {
                    return failed(lua, format!("expected no reply, but the bot sent {text:?}"));
                }
                return pass(message(lua, m)?);
            }
        }
        let timed_out = tokio::time::timeout_at(deadline, changes.changed()).await.is_err();
        if timed_out {
            if none {
                return pass(Value::Nil);
            }
            let unmatched: Vec<String> =
                sent.iter().skip(from).map(|m| format!("{:?}", chain::text(&m.chain))).collect();
            let got = if unmatched.is_empty() {
                "nothing was sent".to_owned()
            } else {
                format!("sent: {}", unmatched.join(", "))
            };
            return failed(
                lua,
                format!(
                    "expected a reply matching {:?} within {}s; {got}",
                    pattern.unwrap_or_default(),
                    within.as_secs_f64()
                ),
            );
        }
    }
}
