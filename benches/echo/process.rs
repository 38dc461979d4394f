//! The client under test as a child process: mahua or the bare client, with its CPU
//! time and peak memory read from `/proc`.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A client process and when it was started.
#[derive(Clone)]
pub struct Client {
    /// When the process was spawned.
    pub started: Instant,
    pid: u32,
}

impl Client {
    /// CPU time the process has used so far: (user, system).
    pub fn cpu(&self) -> (Duration, Duration) {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid)).unwrap_or_default();
        // Fields after the `(comm)`, which may hold spaces: state is field 3, utime 14, stime 15.
        let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
        let fields: Vec<u64> = rest.split_whitespace().map(|f| f.parse().unwrap_or(0)).collect();
        // SAFETY: sysconf has no preconditions.
        let per_second = u64::try_from(unsafe { libc::sysconf(libc::_SC_CLK_TCK) }).unwrap_or(100);
        let time = |i: usize| {
            Duration::from_secs_f64(*fields.get(i).unwrap_or(&0) as f64 / per_second as f64)
        };
        (time(11), time(12))
    }

    /// The process's peak resident memory so far, in KiB (`VmHWM`).
    pub fn peak_rss_kib(&self) -> u64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid)).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }
}

/// Start `program args…` with quiet output; the handle and its `Client`.
pub fn spawn(program: &Path, args: &[&str], dir: &Path) -> (Child, Client) {
    let started = Instant::now();
    let child = Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("MAHUA_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
    let pid = child.id();
    (child, Client { started, pid })
}

/// As `spawn`, under the command in `ECHO_WRAP` (a profiler) if it is set.
pub fn spawn_wrapped(program: &Path, args: &[&str], dir: &Path) -> (Child, Client) {
    let wrap = std::env::var("ECHO_WRAP").unwrap_or_default();
    let words: Vec<&str> = wrap.split_whitespace().collect();
    let Some((&first, rest)) = words.split_first() else { return spawn(program, args, dir) };
    let program_text = program.to_string_lossy();
    let mut all: Vec<&str> = rest.to_vec();
    all.push(&program_text);
    all.extend_from_slice(args);
    spawn(Path::new(first), &all, dir)
}

/// Stop a client with SIGTERM (so a profiler around it writes its output) and wait for it;
/// kill it if it has not ended within ten seconds.
pub fn stop(mut child: Child) {
    // SAFETY: kill has no memory preconditions; the pid is our own child's.
    unsafe { libc::kill(libc::pid_t::try_from(child.id()).unwrap_or(0), libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
}
