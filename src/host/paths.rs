//! Files beneath a folder: a path that would leave it by `..`, by being absolute or through a
//! link is refused, and the check and the open are one step, so a link swapped in between
//! cannot redirect it. Costs one `openat2` on Linux, one `openat` per path component elsewhere.
//!
//! Links are not followed beneath the folder at all, even one that points back inside: the
//! rule is the same for every way of opening, and a script cannot make links itself. The
//! folder itself may be reached through links; it comes from the configuration.

use std::fs::File;
use std::io;
use std::path::{Component, Path, PathBuf};

/// How a file is opened: the six modes of C's `fopen` and Lua's `io.open`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `r`: read an existing file.
    Read,
    /// `w`: write, creating the file or emptying it.
    Write,
    /// `a`: write at the end, creating the file if missing.
    Append,
    /// `r+`: read and write an existing file.
    ReadUpdate,
    /// `w+`: read and write, creating the file or emptying it.
    WriteUpdate,
    /// `a+`: read, and write at the end, creating the file if missing.
    AppendUpdate,
}

impl Mode {
    /// The mode a Lua `io.open` mode string names (`"r"`, `"w+"`, `"ab"`, …), as Lua checks it.
    #[must_use]
    pub fn from_lua(mode: &str) -> Option<Self> {
        let (first, rest) = mode.split_at_checked(1)?;
        let (update, rest) = match rest.strip_prefix('+') {
            Some(rest) => (true, rest),
            None => (false, rest),
        };
        if !rest.bytes().all(|b| b == b'b') {
            return None;
        }
        Some(match (first, update) {
            ("r", false) => Self::Read,
            ("w", false) => Self::Write,
            ("a", false) => Self::Append,
            ("r", true) => Self::ReadUpdate,
            ("w", true) => Self::WriteUpdate,
            ("a", true) => Self::AppendUpdate,
            _ => return None,
        })
    }

    fn reads(self) -> bool {
        !matches!(self, Self::Write | Self::Append)
    }

    fn writes(self) -> bool {
        self != Self::Read
    }

    fn creates(self) -> bool {
        !matches!(self, Self::Read | Self::ReadUpdate)
    }

    fn truncates(self) -> bool {
        matches!(self, Self::Write | Self::WriteUpdate)
    }

    fn appends(self) -> bool {
        matches!(self, Self::Append | Self::AppendUpdate)
    }
}

/// Why a file beneath a folder could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum PathError {
    /// The path is empty, absolute or climbs out with `..`.
    #[error(
        "{path:?} is outside the script's data folder; use a relative path without '..' (files live in {})",
        dir.display()
    )]
    Outside {
        /// The path as given.
        path: String,
        /// The folder it must stay in.
        dir: PathBuf,
    },
    /// The path goes through a link.
    #[error(
        "{path:?} leaves the script's data folder through a link{}; links are not followed there (files live in {})",
        link.as_ref().map(|l| format!(" at {:?}", l.display().to_string())).unwrap_or_default(),
        dir.display()
    )]
    Link {
        /// The path as given.
        path: String,
        /// The part of the path that is a link, when it could be told.
        link: Option<PathBuf>,
        /// The folder it must stay in.
        dir: PathBuf,
    },
    /// The folder cannot be opened, or made when missing.
    #[error("cannot open or create the folder {}: {source}", dir.display())]
    Folder {
        /// The folder.
        dir: PathBuf,
        /// What went wrong.
        source: io::Error,
    },
    /// The file itself cannot be opened: missing, a folder, not permitted, ….
    #[error("{}: {}", file.display(), os_message(source))]
    Open {
        /// The file, inside its folder.
        file: PathBuf,
        /// What went wrong.
        source: io::Error,
    },
}

impl PathError {
    /// The operating system's error when the file could not be opened for an ordinary
    /// reason (missing, not permitted, …), `None` when the path itself is refused.
    #[must_use]
    pub fn open_error(&self) -> Option<&io::Error> {
        match self {
            Self::Open { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// An error's text without std's " (os error N)" suffix, as C's `strerror` words it.
fn os_message(e: &io::Error) -> String {
    let text = e.to_string();
    match (e.raw_os_error(), text.rfind(" (os error ")) {
        (Some(_), Some(at)) => text[..at].to_owned(),
        _ => text,
    }
}

/// Open `rel` beneath `dir` in `mode`, refusing a path that leaves `dir`; `dir` is made if
/// missing.
pub fn open_beneath(dir: &Path, rel: &Path, mode: Mode) -> Result<File, PathError> {
    let names = components(dir, rel)?;
    let root = open_dir(dir)?;
    imp::open(&root, &names, mode).map_err(|e| classify(dir, rel, e))
}

/// A file opened beneath a folder, with a path that opens that same file again.
#[derive(Debug)]
pub struct Opened {
    file: File,
    reopen: PathBuf,
}

impl Opened {
    /// The path that reaches the opened file; valid while `self` lives.
    ///
    /// On Linux with `/proc` mounted it names the open file itself, so a link swapped in after
    /// the check cannot redirect it. Elsewhere it is the checked path, and such a swap between
    /// this open and the next can still win.
    #[must_use]
    pub fn reopen_path(&self) -> &Path {
        &self.reopen
    }

    /// The open file.
    #[must_use]
    pub fn file(&self) -> &File {
        &self.file
    }
}

/// As [`open_beneath`], keeping a path that code which opens by name (Lua's `io.open`) can use.
pub fn open_for_reopen(dir: &Path, rel: &Path, mode: Mode) -> Result<Opened, PathError> {
    let file = open_beneath(dir, rel, mode)?;
    let reopen = imp::reopen_path(&file).unwrap_or_else(|| dir.join(rel));
    Ok(Opened { file, reopen })
}

/// The names `rel` walks through, or why it is refused before touching the disk.
fn components<'a>(dir: &Path, rel: &'a Path) -> Result<Vec<&'a std::ffi::OsStr>, PathError> {
    let outside = || PathError::Outside { path: rel.display().to_string(), dir: dir.to_owned() };
    if rel.as_os_str().is_empty() {
        return Err(outside());
    }
    rel.components()
        .filter(|c| *c != Component::CurDir)
        .map(|c| match c {
            Component::Normal(name) => Ok(name),
            _ => Err(outside()),
        })
        .collect()
}

/// Open the folder everything is resolved beneath, making it on first use.
fn open_dir(dir: &Path) -> Result<imp::Root, PathError> {
    match imp::open_dir(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir)
                .map_err(|source| PathError::Folder { dir: dir.to_owned(), source })?;
            imp::open_dir(dir)
        }
        other => other,
    }
    .map_err(|source| PathError::Folder { dir: dir.to_owned(), source })
}

/// What a failed open means for the caller.
fn classify(dir: &Path, rel: &Path, e: Failure) -> PathError {
    match e {
        Failure::Link => PathError::Link {
            path: rel.display().to_string(),
            link: first_link(dir, rel),
            dir: dir.to_owned(),
        },
        Failure::Escape => {
            PathError::Outside { path: rel.display().to_string(), dir: dir.to_owned() }
        }
        Failure::Io(source) => PathError::Open { file: dir.join(rel), source },
    }
}

/// The first part of `rel` that is a link now, for the message only.
fn first_link(dir: &Path, rel: &Path) -> Option<PathBuf> {
    let mut prefix = PathBuf::new();
    for c in rel.components() {
        prefix.push(c);
        if std::fs::symlink_metadata(dir.join(&prefix)).ok()?.file_type().is_symlink() {
            return Some(prefix);
        }
    }
    None
}

/// How an open beneath a folder failed.
#[derive(Debug)]
enum Failure {
    /// The path went through a link.
    Link,
    /// The path left the folder another way.
    #[cfg_attr(not(any(target_os = "linux", target_os = "android")), allow(dead_code))]
    Escape,
    /// An ordinary error.
    Io(io::Error),
}

#[cfg(unix)]
mod imp {
    //! `openat2` where the kernel has it, otherwise a walk of `openat` calls, one per name,
    //! none following a link. Both are free of the swap race.

    use std::ffi::OsStr;
    use std::fs::File;
    use std::io;
    use std::os::fd::{AsFd, BorrowedFd};
    use std::path::{Path, PathBuf};

    use rustix::fs::{AtFlags, FileType, Mode as Perm, OFlags};
    use rustix::io::Errno;

    use super::{Failure, Mode};

    /// The folder everything is opened beneath, held open.
    pub(super) type Root = File;

    /// New files get read and write for everyone the umask lets through, as `fopen` gives.
    const NEW_FILE: Perm = Perm::from_bits_truncate(0o666);

    pub(super) fn open_dir(dir: &Path) -> io::Result<Root> {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        Ok(rustix::fs::open(dir, flags, Perm::empty())?.into())
    }

    pub(super) fn flags(mode: Mode) -> OFlags {
        let mut f = match (mode.reads(), mode.writes()) {
            (true, true) => OFlags::RDWR,
            (false, true) => OFlags::WRONLY,
            _ => OFlags::RDONLY,
        };
        f |= OFlags::CLOEXEC | OFlags::NOCTTY;
        if mode.creates() {
            f |= OFlags::CREATE;
        }
        if mode.truncates() {
            f |= OFlags::TRUNC;
        }
        if mode.appends() {
            f |= OFlags::APPEND;
        }
        f
    }

    pub(super) fn open(root: &Root, names: &[&OsStr], mode: Mode) -> Result<File, Failure> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if let Some(done) = openat2(root, names, flags(mode)) {
            return done;
        }
        walk(root, names, flags(mode))
    }

    /// `openat2` refusing every link and anything above `root`; `None` when the kernel, or a
    /// sandbox around the process, does not offer it.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub(super) fn openat2(
        root: &Root,
        names: &[&OsStr],
        flags: OFlags,
    ) -> Option<Result<File, Failure>> {
        use rustix::fs::ResolveFlags;
        let rel: PathBuf = if names.is_empty() { ".".into() } else { names.iter().collect() };
        let resolve = ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS;
        // Unlike openat, openat2 refuses permissions on an open that cannot create.
        let perm = if flags.contains(OFlags::CREATE) { NEW_FILE } else { Perm::empty() };
        // EAGAIN: a rename elsewhere raced the lookup, and the kernel asks for a retry.
        for _ in 0..8 {
            match rustix::fs::openat2(root, &rel, flags, perm, resolve) {
                Err(Errno::AGAIN) => continue,
                // Seccomp filters answer EPERM for system calls they do not know; an EPERM
                // the file itself causes comes back again from the walk.
                Err(Errno::NOSYS | Errno::PERM) => return None,
                Err(Errno::LOOP) => return Some(Err(Failure::Link)),
                Err(Errno::XDEV) => return Some(Err(Failure::Escape)),
                Err(e) => return Some(Err(Failure::Io(e.into()))),
                Ok(fd) => return Some(Ok(fd.into())),
            }
        }
        None
    }

    /// Open each folder on the way with `O_NOFOLLOW`, then the file itself the same way.
    pub(super) fn walk(root: &Root, names: &[&OsStr], flags: OFlags) -> Result<File, Failure> {
        let Some((last, folders)) = names.split_last() else {
            let fd = rustix::fs::openat(root, ".", flags, NEW_FILE)
                .map_err(|e| Failure::Io(e.into()))?;
            return Ok(fd.into());
        };
        let mut here: Option<File> = None;
        for name in folders {
            let at = here.as_ref().map_or(root.as_fd(), AsFd::as_fd);
            here = Some(open_folder(at, name)?);
        }
        let at = here.as_ref().map_or(root.as_fd(), AsFd::as_fd);
        let fd = rustix::fs::openat(at, *last, flags | OFlags::NOFOLLOW, NEW_FILE)
            .map_err(|e| failure(at, last, e))?;
        Ok(fd.into())
    }

    /// Open the folder `name` in `at`, refusing a link.
    fn open_folder(at: BorrowedFd<'_>, name: &OsStr) -> Result<File, Failure> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            // O_PATH opens a link itself rather than failing, so what was opened can be told
            // from the open file, with no second look that a swap could race.
            let flags = OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC;
            let fd = rustix::fs::openat(at, name, flags, Perm::empty())
                .map_err(|e| failure(at, name, e))?;
            let st = rustix::fs::fstat(&fd).map_err(|e| Failure::Io(e.into()))?;
            match FileType::from_raw_mode(st.st_mode) {
                FileType::Directory => Ok(fd.into()),
                FileType::Symlink => Err(Failure::Link),
                _ => Err(Failure::Io(Errno::NOTDIR.into())),
            }
        }
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        {
            let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
            let fd = rustix::fs::openat(at, name, flags, Perm::empty())
                .map_err(|e| failure(at, name, e))?;
            Ok(fd.into())
        }
    }

    /// `O_NOFOLLOW` on a link fails with `ELOOP`, on FreeBSD with `EMLINK`, and where a folder
    /// was wanted perhaps with `ENOTDIR`: for that one, look whether `name` is a link.
    fn failure(at: BorrowedFd<'_>, name: &OsStr, e: Errno) -> Failure {
        let is_link = || {
            rustix::fs::statat(at, name, AtFlags::SYMLINK_NOFOLLOW)
                .is_ok_and(|st| FileType::from_raw_mode(st.st_mode) == FileType::Symlink)
        };
        match e {
            Errno::LOOP | Errno::MLINK => Failure::Link,
            Errno::NOTDIR if is_link() => Failure::Link,
            e => Failure::Io(e.into()),
        }
    }

    /// On Linux, `/proc/self/fd/N`: opening it reaches the very file `file` has open.
    pub(super) fn reopen_path(file: &File) -> Option<PathBuf> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            use std::os::fd::AsRawFd;
            let path = PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd()));
            path.exists().then_some(path)
        }
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        {
            let _ = file;
            None
        }
    }
}

#[cfg(not(unix))]
mod imp {
    //! Without `openat`, each name on the way is looked at before the open by path: a link
    //! swapped in between the look and the open can still win.

    use std::ffi::OsStr;
    use std::fs::{File, OpenOptions};
    use std::io;
    use std::path::{Path, PathBuf};

    use super::{Failure, Mode};

    /// The folder everything is opened beneath, by name.
    pub(super) type Root = PathBuf;

    pub(super) fn open_dir(dir: &Path) -> io::Result<Root> {
        if std::fs::metadata(dir)?.is_dir() {
            Ok(dir.to_owned())
        } else {
            Err(io::Error::other("not a folder"))
        }
    }

    pub(super) fn open(root: &Root, names: &[&OsStr], mode: Mode) -> Result<File, Failure> {
        let mut path = root.clone();
        for name in names {
            path.push(name);
            match std::fs::symlink_metadata(&path) {
                Ok(m) if m.file_type().is_symlink() => return Err(Failure::Link),
                _ => {}
            }
        }
        OpenOptions::new()
            .read(mode.reads())
            .write(mode.writes() && !mode.appends())
            .append(mode.appends())
            .create(mode.creates())
            .truncate(mode.truncates())
            .open(&path)
            .map_err(Failure::Io)
    }

    pub(super) fn reopen_path(_: &File) -> Option<PathBuf> {
        None
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    fn read(mut f: File) -> String {
        let mut s = String::new();
        f.read_to_string(&mut s).expect("read");
        s
    }

    /// A data folder with `inside.txt`, and beside it an outside folder holding `secret.txt`.
    struct Scene {
        _tmp: tempfile::TempDir,
        data: PathBuf,
        outside: PathBuf,
    }

    fn scene() -> Scene {
        let tmp = tempfile::tempdir().expect("temp dir");
        let data = tmp.path().join("data").join("script");
        let outside = tmp.path().join("outside");
        std::fs::create_dir_all(data.join("sub")).expect("data");
        std::fs::create_dir_all(&outside).expect("outside");
        std::fs::write(data.join("inside.txt"), "inside").expect("inside");
        std::fs::write(outside.join("secret.txt"), "secret").expect("secret");
        Scene { _tmp: tmp, data, outside }
    }

    fn link(target: &Path, at: &Path) {
        std::os::unix::fs::symlink(target, at).expect("symlink");
    }

    fn is_link_error(r: Result<File, PathError>) -> bool {
        matches!(r, Err(PathError::Link { .. }))
    }

    #[test]
    fn plain_files_open_in_every_mode() {
        let s = scene();
        let open = |rel: &str, mode| open_beneath(&s.data, Path::new(rel), mode);
        assert_eq!(read(open("inside.txt", Mode::Read).expect("r")), "inside");
        assert_eq!(read(open("./inside.txt", Mode::Read).expect("./")), "inside");
        open("new.txt", Mode::Write).expect("w").write_all(b"one").expect("write");
        open("new.txt", Mode::Append).expect("a").write_all(b" two").expect("append");
        assert_eq!(read(open("new.txt", Mode::ReadUpdate).expect("r+")), "one two");
        let mut f = open("sub/deep.txt", Mode::WriteUpdate).expect("w+ in a subfolder");
        f.write_all(b"deep").expect("write");
        assert_eq!(std::fs::read_to_string(s.data.join("sub/deep.txt")).expect("read"), "deep");
        open("sub/deep.txt", Mode::AppendUpdate).expect("a+").write_all(b"er").expect("append");
        assert_eq!(read(open("sub/deep.txt", Mode::Read).expect("r")), "deeper");
        assert_eq!(std::fs::read_to_string(s.data.join("sub/deep.txt")).expect("read"), "deeper");
        open("new.txt", Mode::Write).expect("w empties");
        assert_eq!(read(open("new.txt", Mode::Read).expect("r")), "");
    }

    #[test]
    fn the_folder_is_made_on_first_use() {
        let s = scene();
        let fresh = s.data.with_file_name("fresh");
        open_beneath(&fresh, Path::new("a.txt"), Mode::Write).expect("made");
        assert!(fresh.join("a.txt").is_file());
    }

    #[test]
    fn ordinary_failures_are_open_errors_naming_the_file() {
        let s = scene();
        let e = open_beneath(&s.data, Path::new("missing.txt"), Mode::Read).expect_err("missing");
        assert_eq!(e.open_error().map(io::Error::kind), Some(io::ErrorKind::NotFound));
        let text = e.to_string();
        assert!(text.ends_with("missing.txt: No such file or directory"), "{text}");
        let e =
            open_beneath(&s.data, Path::new("nodir/x.txt"), Mode::Write).expect_err("no subfolder");
        assert!(e.open_error().is_some(), "{e}");
    }

    #[test]
    fn lexical_escapes_are_refused() {
        let s = scene();
        for bad in ["/etc/passwd", "../outside/secret.txt", "a/../../x", "", "sub/../.."] {
            let e = open_beneath(&s.data, Path::new(bad), Mode::Read).expect_err(bad);
            assert!(matches!(e, PathError::Outside { .. }), "{bad}: {e}");
            assert!(e.to_string().contains("outside the script's data folder"), "{e}");
        }
    }

    #[test]
    fn links_to_folders_outside_are_refused_for_read_and_write() {
        let s = scene();
        link(&s.outside, &s.data.join("out"));
        for mode in [Mode::Read, Mode::Write, Mode::Append, Mode::ReadUpdate] {
            let r = open_beneath(&s.data, Path::new("out/secret.txt"), mode);
            assert!(is_link_error(r), "{mode:?}");
        }
        assert!(is_link_error(open_beneath(&s.data, Path::new("out/new.txt"), Mode::Write)));
        assert!(!s.outside.join("new.txt").exists());
        assert_eq!(std::fs::read_to_string(s.outside.join("secret.txt")).expect("read"), "secret");
        let e = open_beneath(&s.data, Path::new("out/secret.txt"), Mode::Read).expect_err("link");
        let text = e.to_string();
        assert!(text.contains("through a link at \"out\""), "{text}");
        assert!(text.contains(&s.data.display().to_string()), "{text}");
    }

    #[test]
    fn links_to_files_outside_are_refused() {
        let s = scene();
        link(&s.outside.join("secret.txt"), &s.data.join("secret.txt"));
        link(&s.outside.join("none.txt"), &s.data.join("dangling.txt"));
        for mode in [Mode::Read, Mode::Write, Mode::AppendUpdate] {
            assert!(
                is_link_error(open_beneath(&s.data, Path::new("secret.txt"), mode)),
                "{mode:?}"
            );
            assert!(
                is_link_error(open_beneath(&s.data, Path::new("dangling.txt"), mode)),
                "{mode:?}"
            );
        }
        assert_eq!(std::fs::read_to_string(s.outside.join("secret.txt")).expect("read"), "secret");
        assert!(!s.outside.join("none.txt").exists());
    }

    #[test]
    fn links_that_stay_inside_are_refused_too() {
        let s = scene();
        link(Path::new("inside.txt"), &s.data.join("alias.txt"));
        link(Path::new("sub"), &s.data.join("alias"));
        std::fs::write(s.data.join("sub/x.txt"), "x").expect("x");
        assert!(is_link_error(open_beneath(&s.data, Path::new("alias.txt"), Mode::Read)));
        assert!(is_link_error(open_beneath(&s.data, Path::new("alias/x.txt"), Mode::Read)));
    }

    #[test]
    fn the_folder_itself_may_be_reached_through_a_link() {
        let s = scene();
        let via = s.data.with_file_name("via");
        link(&s.data, &via);
        assert_eq!(
            read(open_beneath(&via, Path::new("inside.txt"), Mode::Read).expect("r")),
            "inside"
        );
    }

    #[test]
    fn the_walk_refuses_links_as_openat2_does() {
        use std::ffi::OsStr;
        let s = scene();
        link(&s.outside, &s.data.join("out"));
        link(&s.outside.join("secret.txt"), &s.data.join("secret.txt"));
        let root = imp::open_dir(&s.data).expect("root");
        let walk = |names: &[&str], mode| {
            let names: Vec<&OsStr> = names.iter().map(OsStr::new).collect();
            imp::walk(&root, &names, imp::flags(mode))
        };
        assert!(matches!(walk(&["out", "secret.txt"], Mode::Read), Err(Failure::Link)));
        assert!(matches!(walk(&["out", "new.txt"], Mode::Write), Err(Failure::Link)));
        assert!(matches!(walk(&["secret.txt"], Mode::Read), Err(Failure::Link)));
        assert!(matches!(walk(&["secret.txt"], Mode::Write), Err(Failure::Link)));
        assert!(matches!(walk(&["inside.txt", "x"], Mode::Read), Err(Failure::Io(_))));
        assert_eq!(read(walk(&["inside.txt"], Mode::Read).expect("r")), "inside");
        walk(&["sub", "w.txt"], Mode::Write).expect("w").write_all(b"w").expect("write");
        assert_eq!(std::fs::read_to_string(s.data.join("sub/w.txt")).expect("read"), "w");
        assert!(!s.outside.join("new.txt").exists());
    }

    #[test]
    fn a_reopened_file_is_the_one_that_was_checked() {
        let s = scene();
        let opened = open_for_reopen(&s.data, Path::new("inside.txt"), Mode::Read).expect("open");
        // Swap a link to the outside in after the check: the reopen still reaches the old file.
        std::fs::rename(s.data.join("inside.txt"), s.data.join("moved.txt")).expect("move");
        link(&s.outside.join("secret.txt"), &s.data.join("inside.txt"));
        let again = File::open(opened.reopen_path()).expect("reopen");
        assert_eq!(read(again), "inside");
    }

    /// What one open during a race read.
    enum Seen {
        Inside,
        Refused,
        Other(String),
    }

    /// Open `rel` again and again with `open` while a thread keeps exchanging `data/<swapped>`
    /// with a link to its twin outside; every open must read the inside or be refused, and
    /// both must happen.
    fn race(s: &Scene, rel: &str, swapped: &str, open: impl Fn(&Path) -> Seen) {
        use std::sync::atomic::{AtomicBool, Ordering};
        let stop = AtomicBool::new(false);
        let twin = format!(".{swapped}.link");
        link(&s.outside.join(swapped), &s.data.join(&twin));
        let (mut inside, mut refused, mut other) = (0, 0, Vec::new());
        std::thread::scope(|scope| {
            scope.spawn(|| {
                let root = imp::open_dir(&s.data).expect("root");
                let exchange = rustix::fs::RenameFlags::EXCHANGE;
                while !stop.load(Ordering::Relaxed) {
                    rustix::fs::renameat_with(&root, swapped, &root, &*twin, exchange)
                        .expect("exchange");
                }
            });
            for _ in 0..200_000 {
                match open(Path::new(rel)) {
                    Seen::Inside => inside += 1,
                    Seen::Refused => refused += 1,
                    Seen::Other(what) => other.push(what),
                }
                if inside > 100 && refused > 100 {
                    break;
                }
            }
            stop.store(true, Ordering::Relaxed);
        });
        assert!(other.is_empty(), "{other:?}");
        assert!(inside > 0 && refused > 0, "the race was not exercised: {inside} {refused}");
    }

    fn seen(r: Result<File, PathError>) -> Seen {
        match r.map(read) {
            Ok(text) if text == "inside" => Seen::Inside,
            Err(PathError::Link { .. }) => Seen::Refused,
            other => Seen::Other(format!("{other:?}")),
        }
    }

    /// A race scene: `swap.txt` and `d/secret.txt` inside, their twins outside.
    fn race_scene() -> Scene {
        let s = scene();
        std::fs::write(s.data.join("swap.txt"), "inside").expect("swap.txt");
        std::fs::create_dir(s.data.join("d")).expect("d");
        std::fs::write(s.data.join("d/secret.txt"), "inside").expect("d/secret.txt");
        std::fs::write(s.outside.join("swap.txt"), "secret").expect("outside swap.txt");
        std::fs::create_dir(s.outside.join("d")).expect("outside d");
        std::fs::write(s.outside.join("d/secret.txt"), "secret").expect("outside d/secret.txt");
        s
    }

    #[test]
    fn a_file_swapped_for_a_link_never_reaches_the_outside() {
        let s = race_scene();
        race(&s, "swap.txt", "swap.txt", |rel| {
            seen(open_for_reopen(&s.data, rel, Mode::Read).and_then(|o| {
                File::open(o.reopen_path())
                    .map_err(|e| PathError::Open { file: rel.into(), source: e })
            }))
        });
    }

    #[test]
    fn a_folder_swapped_for_a_link_never_reaches_the_outside() {
        let s = race_scene();
        race(&s, "d/secret.txt", "d", |rel| seen(open_beneath(&s.data, rel, Mode::Read)));
    }

    #[test]
    fn the_walk_alone_wins_the_race_too() {
        let s = race_scene();
        let root = imp::open_dir(&s.data).expect("root");
        let walk = |names: &[&str]| {
            let names: Vec<&std::ffi::OsStr> = names.iter().map(std::ffi::OsStr::new).collect();
            match imp::walk(&root, &names, imp::flags(Mode::Read)) {
                Ok(f) => seen(Ok(f)),
                Err(Failure::Link) => Seen::Refused,
                Err(e) => Seen::Other(format!("{e:?}")),
            }
        };
        race(&s, "swap.txt", "swap.txt", |_| walk(&["swap.txt"]));
        race(&s, "d/secret.txt", "d", |_| walk(&["d", "secret.txt"]));
    }

    #[test]
    fn lua_modes_parse_as_lua_checks_them() {
        assert_eq!(Mode::from_lua("r"), Some(Mode::Read));
        assert_eq!(Mode::from_lua("rb"), Some(Mode::Read));
        assert_eq!(Mode::from_lua("w+b"), Some(Mode::WriteUpdate));
        assert_eq!(Mode::from_lua("a+"), Some(Mode::AppendUpdate));
        for bad in ["", "x", "rw", "+r", "r+b+", "b"] {
            assert_eq!(Mode::from_lua(bad), None, "{bad}");
        }
    }
}
