//! The editor annotations seen through a real language server: `emmylua_ls` (installed by
//! `tools/test-deps`) is driven over stdio as an editor drives it, on this checkout with its
//! `.luarc.json`, and completions in an example script must offer every module's names with
//! their docs, with no `---@type` line in the script.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mahua::docs::annotations::lua_type;
use mahua::docs::modules::MODULES;
use mahua::docs::{Schema, Stdlib};
use mahua::protocol::commands::COMMANDS;
use serde_json::{json, Value};

/// How long the server may take over one answer (indexing included) before the test fails.
const ANSWER_WITHIN: Duration = Duration::from_secs(120);

/// The checkout under test.
fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The EmmyLua version `tools/test-deps` pins (its `EMMYLUA_VERSION=` line).
fn pinned_version() -> String {
    let script = std::fs::read_to_string(root().join("tools/test-deps")).expect("tools/test-deps");
    script
        .lines()
        .find_map(|l| l.trim().strip_prefix("EMMYLUA_VERSION="))
        .map(|v| v.trim_matches('"').to_owned())
        .expect("tools/test-deps names EMMYLUA_VERSION")
}

/// `emmylua_ls` at the pinned version: on `PATH` or where `cargo install` puts it.
fn server_binary() -> PathBuf {
    let cargo_bin = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .map(|h| h.join("bin"));
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .chain(cargo_bin)
        .map(|dir| dir.join("emmylua_ls"))
        .find(|p| p.is_file());
    let want = pinned_version();
    let Some(bin) = found else {
        panic!(
            "emmylua_ls is not installed: run tools/test-deps, which installs emmylua_ls {want} \
             with cargo install"
        );
    };
    let out = Command::new(&bin).arg("--version").output().expect("running emmylua_ls --version");
    let have = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(
        have == format!("emmylua_ls {want}"),
        "{} is {have:?}, not the pinned {want}: run tools/test-deps",
        bin.display()
    );
    bin
}

/// A `file://` URI for an absolute path.
fn file_uri(path: &Path) -> String {
    let mut uri = String::from("file://");
    for b in path.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            uri.push(char::from(b));
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri
}

/// Read one Content-Length framed message; `None` at the end of the stream.
fn read_message(from: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if from.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse::<usize>().ok();
            }
        }
    }
    let mut body = vec![0; length?];
    from.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

/// A language-server client over the server's stdin and stdout.
struct Client {
    child: Child,
    stdin: ChildStdin,
    incoming: Receiver<Value>,
    stderr: Arc<Mutex<String>>,
    next_id: i64,
}

impl Client {
    /// Start the server, initialize it on `workspace` and wait until it has indexed it.
    fn start(workspace: &Path) -> Self {
        let mut child = Command::new(server_binary())
            .args(["--resources-path", "none", "--log-path", "none"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting emmylua_ls");
        let stdin = child.stdin.take().expect("stdin");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut err_pipe = child.stderr.take().expect("stderr");
        let (tx, incoming) = mpsc::channel();
        std::thread::spawn(move || {
            while let Some(msg) = read_message(&mut stdout) {
                if tx.send(msg).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&stderr);
        std::thread::spawn(move || {
            let mut buf = [0; 4096];
            while let Ok(n @ 1..) = err_pipe.read(&mut buf) {
                let mut s = sink.lock().expect("stderr buffer");
                s.push_str(&String::from_utf8_lossy(&buf[..n]));
                let excess = s.len().saturating_sub(16 * 1024);
                if excess > 0 {
                    let cut = (excess..s.len()).find(|&i| s.is_char_boundary(i)).unwrap_or(0);
                    s.drain(..cut);
                }
            }
        });
        let mut client = Self { child, stdin, incoming, stderr, next_id: 1 };

        let uri = file_uri(workspace);
        let init = client.request(
            "initialize",
            json!({
                "processId": std::process::id(),
                "clientInfo": { "name": "mahua-tests" },
                "rootUri": uri,
                "workspaceFolders": [{ "uri": uri, "name": "mahua" }],
                "capabilities": {
                    // Without `workspace.configuration` the server never loads the workspace.
                    "workspace": { "configuration": true, "workspaceFolders": true },
                    "window": { "workDoneProgress": true },
                    "textDocument": {
                        "completion": {
                            "completionItem": {
                                "documentationFormat": ["markdown", "plaintext"],
                                "resolveSupport": { "properties": ["documentation", "detail"] }
                            }
                        }
                    }
                }
            }),
        );
        assert!(init["capabilities"]["completionProvider"].is_object(), "no completion: {init}");
        client.notify("initialized", json!({}));
        // The server reports indexing as work-done progress token 0 ("Load workspace").
        client.wait_for("the end of indexing", |m| {
            m["method"] == "$/progress"
                && m["params"]["token"] == 0
                && m["params"]["value"]["kind"] == "end"
        });
        client
    }

    fn send(&mut self, msg: &Value) {
        let body = msg.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len())
            .and_then(|()| self.stdin.flush())
            .expect("writing to emmylua_ls");
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    /// The next message that is not a request of the server's (those are answered here).
    fn next(&mut self, deadline: Instant, waiting_for: &str) -> Value {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let msg = match self.incoming.recv_timeout(left) {
                Ok(msg) => msg,
                Err(RecvTimeoutError::Timeout) => {
                    panic!(
                        "emmylua_ls gave no {waiting_for} within {ANSWER_WITHIN:?}{}",
                        self.log()
                    )
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("emmylua_ls exited while waiting for {waiting_for}{}", self.log())
                }
            };
            let (Some(id), Some(method)) = (msg.get("id"), msg["method"].as_str()) else {
                return msg;
            };
            // The server's own requests: configuration (none beyond `.luarc.json`), progress
            // tokens and capability registrations all take an empty answer.
            let result = match method {
                "workspace/configuration" => {
                    let n = msg["params"]["items"].as_array().map_or(1, Vec::len);
                    Value::Array(vec![Value::Null; n])
                }
                _ => Value::Null,
            };
            let answer = json!({ "jsonrpc": "2.0", "id": id.clone(), "result": result });
            self.send(&answer);
        }
    }

    fn wait_for(&mut self, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + ANSWER_WITHIN;
        loop {
            let msg = self.next(deadline, what);
            if done(&msg) {
                return msg;
            }
        }
    }

    /// Send a request and wait for its result.
    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        let answer = self.wait_for(&format!("answer to {method}"), |m| m["id"] == id);
        assert!(answer["error"].is_null(), "{method} failed: {}", answer["error"]);
        answer["result"].clone()
    }

    fn log(&self) -> String {
        let log = self.stderr.lock().map(|s| s.clone()).unwrap_or_default();
        if log.trim().is_empty() {
            String::new()
        } else {
            format!("; its stderr ends:\n{log}")
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One completion item the test looks for: its name and text its docs must contain.
struct Want {
    name: String,
    doc: String,
}

fn want(name: &str, doc: &str) -> Want {
    Want { name: name.to_owned(), doc: doc.to_owned() }
}

/// The names of a hand-kept module with their docs.
fn module_wants(name: &str) -> Vec<Want> {
    let m = MODULES.iter().find(|m| m.name == name).expect("module in MODULES");
    let functions = m.functions.iter().map(|f| want(f.name, f.doc));
    functions.chain(m.values.iter().map(|v| want(v.name, v.doc))).collect()
}

/// Every `mirai` function with its doc.
fn mirai_wants() -> Vec<Want> {
    let mut wants: Vec<Want> =
        COMMANDS.iter().filter_map(|c| Some(want(c.lua?.name, c.doc))).collect();
    wants.push(want("call", "Send any command"));
    wants
}

/// Every documented function of a stdlib module with its doc.
fn stdlib_wants(name: &str) -> Vec<Want> {
    Stdlib::load(&root()).functions(name).iter().map(|f| want(&f.name, &f.doc)).collect()
}

/// Every field of a contact shape, with its type as the docs (the schema has no field docs).
fn contact_wants(name: &str) -> Vec<Want> {
    let schema = Schema::embedded();
    let shape = schema.contacts.iter().find(|s| s.name == name).expect("contact in schema");
    shape
        .fields
        .iter()
        .map(|f| want(&f.name, &format!("{}: {}", f.name, lua_type(&f.ty))))
        .collect()
}

/// The text of a completion item's documentation.
fn doc_text(item: &Value) -> String {
    match &item["documentation"] {
        Value::String(s) => s.clone(),
        other => other["value"].as_str().unwrap_or_default().to_owned(),
    }
}

/// Ask for completions at the end of `probe`, written in a `GroupMessage` handler appended to
/// `scripts/echo.lua` (as an editor's unsaved buffer), and check every wanted item and its docs;
/// what is wrong, if anything.
fn check_completions(
    client: &mut Client,
    version: &mut i64,
    probe: &str,
    wants: &[Want],
) -> Option<String> {
    let path = root().join("scripts/echo.lua");
    let uri = file_uri(&path);
    let base = std::fs::read_to_string(&path).expect("scripts/echo.lua");
    let text = format!(
        "{base}\nlocal store = require(\"store\")\n\nbot.on(\"GroupMessage\", function(ev)\n  {probe}\nend)\n"
    );
    let line = text.lines().position(|l| l == format!("  {probe}")).expect("probe line");
    *version += 1;
    if *version == 1 {
        client.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": uri, "languageId": "lua", "version": 1, "text": text } }),
        );
    } else {
        client.notify(
            "textDocument/didChange",
            json!({
                "textDocument": { "uri": uri, "version": *version },
                "contentChanges": [{ "text": text }]
            }),
        );
    }
    let character = 2 + probe.encode_utf16().count();
    let result = client.request(
        "textDocument/completion",
        json!({
            "textDocument": { "uri": uri },
            "position": { "line": line, "character": character },
            "context": { "triggerKind": 2, "triggerCharacter": probe.chars().last().map(String::from) }
        }),
    );
    let items = match &result {
        Value::Array(items) => items.clone(),
        other => other["items"].as_array().cloned().unwrap_or_default(),
    };
    let labels: Vec<&str> = items.iter().filter_map(|i| i["label"].as_str()).collect();
    let mut missing = Vec::new();
    let mut undocumented = Vec::new();
    for w in wants {
        let Some(item) = items.iter().find(|i| i["label"] == w.name.as_str()) else {
            missing.push(w.name.as_str());
            continue;
        };
        let resolved = if item["documentation"].is_null() {
            client.request("completionItem/resolve", item.clone())
        } else {
            item.clone()
        };
        let doc = doc_text(&resolved);
        if !doc.contains(&w.doc) {
            undocumented.push(format!("{} (docs: {doc:?}, want {:?})", w.name, w.doc));
        }
    }
    if !missing.is_empty() {
        return Some(format!("after `{probe}` no completion for {missing:?}; got {labels:?}"));
    }
    if !undocumented.is_empty() {
        return Some(format!("after `{probe}` without their docs: {undocumented:#?}"));
    }
    None
}

#[test]
fn completions_in_an_example_script_come_from_the_annotations() {
    let mut client = Client::start(&root());
    let mut version = 0;
    let reply = [want("reply", "same conversation"), want("quote", "quoting")];
    // What the issue names, then `require` of every other module.
    let probes: Vec<(&str, Vec<Want>)> = vec![
        ("mirai.", mirai_wants()),
        ("bot.", module_wants("bot")),
        ("ev.sender.", contact_wants("Member")),
        ("ev:", reply.into_iter().collect()),
        ("require(\"msg\").", stdlib_wants("msg")),
        ("store.", module_wants("store")),
        ("require(\"cmd\").", stdlib_wants("cmd")),
        ("require(\"http\").", module_wants("http")),
        ("require(\"log\").", module_wants("log")),
        ("require(\"json\").", module_wants("json")),
        ("require(\"onebot\").", module_wants("onebot")),
        ("require(\"bot\").", module_wants("bot")),
        ("require(\"mirai\").", mirai_wants()),
    ];
    let mut problems = Vec::new();
    for (probe, wants) in &probes {
        assert!(!wants.is_empty(), "nothing to look for after {probe}");
        problems.extend(check_completions(&mut client, &mut version, probe, wants));
    }
    client.request("shutdown", Value::Null);
    client.notify("exit", Value::Null);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
