//! `mahua test`: the bot's own Lua tests. Each test gets a fresh simulator, host and data
//! folder, all on one thread in virtual time, so timers, waits, cooldowns and the send
//! queue's delays pass at once when a test advances the clock.

mod world;

use std::cell::RefCell;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Instant;

use mlua::{Function, Lua, Table, Value};

/// What `mahua test` runs.
#[derive(Debug, Clone)]
pub struct TestOptions {
    /// Test files, or folders whose `*.lua` files are tests.
    pub paths: Vec<PathBuf>,
    /// The scripts folder the tests load scripts from.
    pub scripts_dir: PathBuf,
}

/// How many tests passed and failed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Tests that passed.
    pub passed: usize,
    /// Tests that failed, a test file that could not run counting as one.
    pub failed: usize,
}

/// Every `*.lua` file the paths name, sorted within each folder.
fn test_files(paths: &[PathBuf]) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(p)?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|f| f.is_file() && f.extension().is_some_and(|e| e == "lua"))
                .collect();
            found.sort();
            files.extend(found);
        } else if p.is_file() {
            files.push(p.clone());
        } else {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("no test file or folder {}", p.display()),
            ));
        }
    }
    Ok(files)
}

/// Run every test, printing a line per test and the summary to `out`.
pub fn run(opts: &TestOptions, out: &mut dyn Write) -> anyhow::Result<Summary> {
    let files = test_files(&opts.paths)?;
    let rt =
        tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build()?;
    let local = tokio::task::LocalSet::new();
    let mut summary = Summary::default();
    for file in &files {
        local.block_on(&rt, run_file(file, opts, out, &mut summary))?;
    }
    writeln!(out, "{} passed, {} failed", summary.passed, summary.failed)?;
    Ok(summary)
}

/// The `test` module of one test file: calling it registers a test.
fn test_module(lua: &Lua, tests: &Rc<RefCell<Vec<(String, Function)>>>) -> mlua::Result<Table> {
    let m = lua.create_table()?;
    m.set(
        "fail",
        lua.create_function(|lua, (code, msg): (i64, Option<String>)| {
            let t = lua.create_table()?;
            t.set(world::FAIL_MARK, true)?;
            t.set("code", code)?;
            t.set("msg", msg.unwrap_or_default())?;
            Ok(t)
        })?,
    )?;
    let meta = lua.create_table()?;
    let list = tests.clone();
    meta.set(
        "__call",
        lua.create_function(move |_, (_, name, f): (Value, String, Function)| {
            list.borrow_mut().push((name, f));
            Ok(())
        })?,
    )?;
    m.set_metatable(Some(meta))?;
    Ok(m)
}

async fn run_file(
    file: &Path,
    opts: &TestOptions,
    out: &mut dyn Write,
    summary: &mut Summary,
) -> anyhow::Result<()> {
    let shown = file.display().to_string();
    let lua = Lua::new();
    let tests = Rc::new(RefCell::new(Vec::new()));
    let install = || -> mlua::Result<()> {
        let module = test_module(&lua, &tests)?;
        let loaded = lua.globals().get::<Table>("package")?.get::<Table>("loaded")?;
        loaded.set("test", &module)?;
        lua.globals().set("test", module)?;
        let json = crate::lua::json::register(&lua)?;
        loaded.set("json", &json)?;
        lua.globals().set("json", json)
    };
    install().map_err(|e| anyhow::anyhow!("cannot set up Lua for {shown}: {e}"))?;
    let source = std::fs::read(file)?;
    let chunk = lua.load(&source[..]).set_name(format!("@{shown}"));
    if let Err(e) = chunk.exec_async().await {
        summary.failed += 1;
        writeln!(out, "FAIL  {shown}: the file did not run\n{}", indent(&describe(&e)))?;
        return Ok(());
    }
    let registered = std::mem::take(&mut *tests.borrow_mut());
    if registered.is_empty() {
        writeln!(out, "none  {shown}: no test(\"name\", function(t) … end) in it")?;
    }
    for (name, f) in registered {
        let started = Instant::now();
        let failure = world::run_one(&lua, f, &opts.scripts_dir).await;
        let ms = started.elapsed().as_secs_f64() * 1e3;
        match failure {
            None => {
                summary.passed += 1;
                writeln!(out, "ok    {shown}: {name} ({ms:.0} ms)")?;
            }
            Some(why) => {
                summary.failed += 1;
                writeln!(out, "FAIL  {shown}: {name}\n{}", indent(&why))?;
            }
        }
    }
    Ok(())
}

/// A failure raised in a test: its message, which starts with the test's file and line,
/// without the traceback.
fn message_of(e: &mlua::Error) -> String {
    let text = describe(e);
    let text = text.strip_prefix("runtime error: ").unwrap_or(&text);
    text.split("\nstack traceback:").next().unwrap_or_default().trim_end().to_owned()
}

/// A Lua error as the user reads it.
fn describe(e: &mlua::Error) -> String {
    crate::host::callback::describe(e)
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("      {l}")).collect::<Vec<_>>().join("\n")
}
