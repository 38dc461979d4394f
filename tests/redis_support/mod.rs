//! A real `redis-server` for tests, on a unix socket in a temporary folder.

#![allow(dead_code)]

use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `redis-server`, stopped when dropped.
pub struct RedisServer {
    child: Child,
    socket: PathBuf,
    _dir: tempfile::TempDir,
}

impl RedisServer {
    /// Start a server that keeps nothing on disk; panics, naming the fix, when
    /// `redis-server` is not installed.
    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let socket = dir.path().join("redis.sock");
        let child = Command::new("redis-server")
            .args(["--port", "0", "--save", "", "--appendonly", "no", "--unixsocketperm", "700"])
            .arg("--unixsocket")
            .arg(&socket)
            .arg("--dir")
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start redis-server ({e}); install it with tools/test-deps")
            });
        let deadline = Instant::now() + Duration::from_secs(10);
        while UnixStream::connect(&socket).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not open {}", socket.display());
            std::thread::sleep(Duration::from_millis(5));
        }
        Self { child, socket, _dir: dir }
    }

    /// The address mahua takes in `[store] url`.
    pub fn url(&self) -> String {
        format!("redis+unix://{}", self.socket.display())
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
