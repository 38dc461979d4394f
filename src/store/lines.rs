//! `mahua store dump` and `mahua store load`: the store as JSON lines, one [`Entry`] each.

use std::io::{BufRead, Write};

use super::{Conn, Entry, StoreError};

/// How many entries one page of a dump, or one write of a load, holds.
const PAGE: usize = 1000;

/// Why a dump or a load stopped.
#[derive(Debug, thiserror::Error)]
pub enum LinesError {
    /// The store refused.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The output could not be written.
    #[error("cannot write the dump: {0}")]
    Write(std::io::Error),
    /// The input could not be read.
    #[error("cannot read {source_name}: {error}")]
    Read {
        /// The file, or standard input.
        source_name: String,
        /// The I/O error.
        error: std::io::Error,
    },
    /// A line is not an entry.
    #[error("{source_name}:{line}: {reason}; nothing was loaded")]
    Bad {
        /// The file, or standard input.
        source_name: String,
        /// The line number, from 1.
        line: usize,
        /// What was wrong.
        reason: String,
    },
}

/// Write every entry of every namespace to `out`; how many there were.
pub fn dump(conn: &mut dyn Conn, out: &mut dyn Write) -> Result<usize, LinesError> {
    let mut n = 0;
    for ns in conn.namespaces()? {
        let mut after: Option<String> = None;
        loop {
            let page = conn.export(&ns, after.as_deref(), PAGE)?;
            for e in &page {
                serde_json::to_writer(&mut *out, e).map_err(|e| LinesError::Write(e.into()))?;
                out.write_all(b"\n").map_err(LinesError::Write)?;
            }
            n += page.len();
            if page.len() < PAGE {
                break;
            }
            after = page.last().map(|e| e.key.clone());
        }
    }
    out.flush().map_err(LinesError::Write)?;
    Ok(n)
}

/// Read every line of `input` (named `source_name` in errors), then write them all;
/// a bad line loads nothing. How many entries were loaded.
pub fn load(
    conn: &mut dyn Conn,
    input: &mut dyn BufRead,
    source_name: &str,
) -> Result<usize, LinesError> {
    let mut entries = Vec::new();
    for (i, line) in input.lines().enumerate() {
        let line =
            line.map_err(|error| LinesError::Read { source_name: source_name.to_owned(), error })?;
        if line.trim().is_empty() {
            continue;
        }
        let bad = |reason: String| LinesError::Bad {
            source_name: source_name.to_owned(),
            line: i + 1,
            reason,
        };
        let e: Entry = serde_json::from_str(&line).map_err(|e| {
            bad(format!("{e} (each line is {{\"ns\": …, \"key\": …, \"value\": …}})"))
        })?;
        if e.value.is_null() {
            return Err(bad(format!("key {:?} has no value (null)", e.key)));
        }
        if e.ns.contains('/') {
            return Err(bad(format!("namespace {:?} has a '/'", e.ns)));
        }
        entries.push(e);
    }
    for chunk in entries.chunks(PAGE * 10) {
        conn.import(chunk)?;
    }
    Ok(entries.len())
}
