//! The real `mahua` binary in a pseudo-terminal, and what a terminal would show of its output.
#![allow(dead_code)]

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt as _;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// How long a test waits for anything.
pub const WITHIN: Duration = Duration::from_secs(20);

/// Which of the child's standard streams are the terminal; the others are piped.
#[derive(Debug, Clone, Copy)]
pub struct Streams {
    /// Standard input.
    pub stdin: bool,
    /// Standard output.
    pub stdout: bool,
    /// Standard error.
    pub stderr: bool,
}

impl Streams {
    /// All three, as when a person runs it.
    pub const ALL: Self = Self { stdin: true, stdout: true, stderr: true };
}

/// A child process on the slave side of a pseudo-terminal.
pub struct Pty {
    writer: File,
    output: Arc<(Mutex<Output>, Condvar)>,
    /// The child; its piped streams are there to take.
    pub child: Child,
}

#[derive(Default)]
struct Output {
    bytes: Vec<u8>,
    closed: bool,
}

/// A master and a slave of 24 rows by 100 columns.
fn open_pty() -> (OwnedFd, OwnedFd) {
    let (mut master, mut slave) = (-1, -1);
    let mut size = libc::winsize { ws_row: 24, ws_col: 100, ws_xpixel: 0, ws_ypixel: 0 };
    // SAFETY: every pointer is valid for the call or null where openpty allows it.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            // *const on Linux, *mut elsewhere.
            std::ptr::addr_of_mut!(size),
        )
    };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: openpty returned two open descriptors that nothing else owns.
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    // Other tests start children too: none of them may keep this terminal open.
    for fd in [&master, &slave] {
        // SAFETY: fcntl on a descriptor we own.
        unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) };
    }
    (master, slave)
}

impl Pty {
    /// Start `cmd` with the streams in `on_tty` on a new terminal, which is its controlling
    /// terminal, as in a terminal emulator.
    pub fn spawn(mut cmd: Command, on_tty: Streams) -> Self {
        let (master, slave) = open_pty();
        let stream = |tty: bool| {
            if tty {
                Stdio::from(slave.try_clone().expect("dup the slave"))
            } else {
                Stdio::piped()
            }
        };
        cmd.stdin(stream(on_tty.stdin)).stdout(stream(on_tty.stdout)).stderr(stream(on_tty.stderr));
        let slave_fd = slave.as_raw_fd();
        // SAFETY: setsid and ioctl are async-signal-safe; the slave descriptor is open in the
        // child, which inherited it.
        unsafe {
            cmd.pre_exec(move || {
                if libc::setsid() < 0 || libc::ioctl(slave_fd, libc::TIOCSCTTY as _, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().expect("the child starts");
        drop(slave);
        let writer = File::from(master.try_clone().expect("dup the master"));
        let output = Arc::new((Mutex::new(Output::default()), Condvar::new()));
        let out = output.clone();
        std::thread::spawn(move || {
            let mut reader = File::from(master);
            let mut buf = [0u8; 4096];
            loop {
                // EIO once the child and everyone else closed the slave.
                let n = reader.read(&mut buf).unwrap_or(0);
                let (lock, changed) = &*out;
                let mut o = lock.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                if n == 0 {
                    o.closed = true;
                    changed.notify_all();
                    return;
                }
                o.bytes.extend_from_slice(&buf[..n]);
                changed.notify_all();
            }
        });
        Self { writer, output, child }
    }

    /// Type `text` into the terminal, all of it at once, as a paste arrives.
    pub fn paste(&mut self, text: &str) {
        self.writer.write_all(text.as_bytes()).expect("write to the terminal");
    }

    /// Type `text` one key at a time, each once the terminal shows the one before.
    pub fn type_keys(&mut self, text: &str) {
        let mut typed = String::new();
        for c in text.chars() {
            typed.push(c);
            self.paste(c.encode_utf8(&mut [0; 4]));
            self.wait_for(&format!("the typed {typed:?}"), |s| s.before_cursor().ends_with(&typed));
        }
    }

    /// Wait until the output satisfies `ready`; fail with the screen after [`WITHIN`].
    pub fn wait_for(&self, what: &str, ready: impl Fn(&Screen) -> bool) -> Screen {
        self.wait_until(what, |screen, _| ready(screen))
    }

    /// Wait for the child to close the terminal and end.
    pub fn wait_for_exit(&mut self) -> (std::process::ExitStatus, Screen) {
        let screen = self.wait_until("end of output", |_, closed| closed);
        let status = self.child.wait().expect("the child ends");
        (status, screen)
    }

    fn wait_until(&self, what: &str, ready: impl Fn(&Screen, bool) -> bool) -> Screen {
        let deadline = Instant::now() + WITHIN;
        let (lock, changed) = &*self.output;
        let mut o = lock.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        loop {
            let screen = Screen::from_bytes(&o.bytes);
            if ready(&screen, o.closed) {
                return screen;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || o.closed {
                drop(o);
                panic!("no {what} within {WITHIN:?}:\n{screen}");
            }
            o = changed.wait_timeout(o, left).unwrap_or_else(std::sync::PoisonError::into_inner).0;
        }
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a terminal shows of some output: enough of one to tell a line typed at a prompt from
/// lines printed above it. Each character takes one column; the screen never scrolls.
pub struct Screen {
    rows: Vec<Vec<char>>,
    row: usize,
    col: usize,
    /// The output as written, colour codes and all.
    pub raw: String,
}

impl Screen {
    /// Replay `bytes` on an empty screen.
    #[must_use]
    pub fn from_bytes(bytes: &[u8]) -> Self {
        let raw = String::from_utf8_lossy(bytes).into_owned();
        let mut s = Self { rows: vec![Vec::new()], row: 0, col: 0, raw: String::new() };
        let mut chars = raw.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\r' => s.col = 0,
                '\n' => s.row += 1,
                '\x08' => s.col = s.col.saturating_sub(1),
                '\x07' => {}
                '\x1b' => match chars.next() {
                    Some('[') => {
                        let mut params = String::new();
                        let mut last = None;
                        for c in chars.by_ref() {
                            if ('\x40'..='\x7e').contains(&c) {
                                last = Some(c);
                                break;
                            }
                            params.push(c);
                        }
                        s.csi(&params, last.unwrap_or('m'));
                    }
                    // An operating-system command, up to BEL or ESC \.
                    Some(']') => {
                        while let Some(c) = chars.next() {
                            if c == '\x07' || (c == '\x1b' && chars.next_if_eq(&'\\').is_some()) {
                                break;
                            }
                        }
                    }
                    _ => {}
                },
                c if c.is_control() => {}
                c => s.put(c),
            }
            if s.rows.len() <= s.row {
                s.rows.resize(s.row + 1, Vec::new());
            }
        }
        s.raw = raw;
        s
    }

    fn put(&mut self, c: char) {
        if self.rows.len() <= self.row {
            self.rows.resize(self.row + 1, Vec::new());
        }
        let line = &mut self.rows[self.row];
        if line.len() <= self.col {
            line.resize(self.col + 1, ' ');
        }
        line[self.col] = c;
        self.col += 1;
    }

    fn csi(&mut self, params: &str, last: char) {
        let n = params.trim_start_matches('?').split(';').next().and_then(|p| p.parse().ok());
        let by = n.unwrap_or(1).max(1);
        if self.rows.len() <= self.row {
            self.rows.resize(self.row + 1, Vec::new());
        }
        match last {
            'A' => self.row = self.row.saturating_sub(by),
            'B' => self.row += by,
            'C' => self.col += by,
            'D' => self.col = self.col.saturating_sub(by),
            'G' => self.col = by - 1,
            'K' => {
                let line = &mut self.rows[self.row];
                match n.unwrap_or(0) {
                    0 => line.truncate(self.col),
                    1 => line.iter_mut().take(self.col + 1).for_each(|c| *c = ' '),
                    _ => line.clear(),
                }
            }
            'J' if n.unwrap_or(0) == 0 => {
                self.rows[self.row].truncate(self.col);
                self.rows.truncate(self.row + 1);
            }
            _ => {}
        }
    }

    /// The screen's lines, without trailing blanks.
    #[must_use]
    pub fn lines(&self) -> Vec<String> {
        self.rows.iter().map(|r| r.iter().collect::<String>().trim_end().to_owned()).collect()
    }

    /// The line the cursor is on.
    #[must_use]
    pub fn cursor_line(&self) -> String {
        self.lines().get(self.row).cloned().unwrap_or_default()
    }

    /// The cursor's line up to the cursor.
    #[must_use]
    pub fn before_cursor(&self) -> String {
        let line = self.rows.get(self.row).map_or(&[][..], Vec::as_slice);
        let mut text: String = line.iter().take(self.col).collect();
        text.extend(std::iter::repeat(' ').take(self.col.saturating_sub(line.len())));
        text
    }

    /// Whether any line contains `text`.
    #[must_use]
    pub fn shows(&self, text: &str) -> bool {
        self.rows.iter().any(|r| r.iter().collect::<String>().contains(text))
    }
}

impl std::fmt::Display for Screen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, line) in self.lines().iter().enumerate() {
            let mark = if i == self.row { '>' } else { '|' };
            writeln!(f, "{mark} {line}")?;
        }
        write!(f, "raw: {:?}", self.raw)
    }
}
