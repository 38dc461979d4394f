//! The `store.json` files of earlier versions, imported into the store once and kept beside
//! as `store.json.bak`.

use std::path::{Path, PathBuf};

use super::{Conn, Entry, Store, StoreError};

/// The file each script's data folder used to hold.
pub const FILE: &str = "store.json";

/// One file that was imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    /// The namespace it went to: the script's name without `.lua`.
    pub ns: String,
    /// How many keys it held.
    pub keys: usize,
    /// Where the file is now.
    pub backup: PathBuf,
}

/// The keys of one `store.json`, for the namespace `ns`.
fn read(path: &Path, ns: &str) -> Result<Vec<Entry>, StoreError> {
    let io = |source| StoreError::Io { path: path.to_owned(), source };
    let meta = std::fs::symlink_metadata(path).map_err(io)?;
    if !meta.is_file() {
        return Err(StoreError::Corrupt {
            path: path.display().to_string(),
            reason: "not a plain file (a link or a folder); left as it is".into(),
        });
    }
    let text = std::fs::read_to_string(path).map_err(io)?;
    let corrupt = |reason: String| StoreError::Corrupt {
        path: path.display().to_string(),
        reason: format!("{reason}; fix or remove it, then restart"),
    };
    match serde_json::from_str(&text) {
        Ok(serde_json::Value::Object(map)) => Ok(map
            .into_iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(key, value)| Entry { ns: ns.to_owned(), key, value, expires_ms: None })
            .collect()),
        Ok(_) => Err(corrupt("not a JSON object".into())),
        Err(e) => Err(corrupt(format!("not JSON: {e}"))),
    }
}

/// A free name beside `path` for its backup.
fn backup_name(path: &Path) -> PathBuf {
    let first = path.with_extension("json.bak");
    if !first.exists() {
        return first;
    }
    (2..)
        .map(|n| path.with_extension(format!("json.bak.{n}")))
        .find(|p| !p.exists())
        .unwrap_or(first)
}

/// Import the file of one data folder into `conn`, then move it aside.
fn import_one(conn: &mut dyn Conn, path: &Path, ns: &str) -> Result<Imported, StoreError> {
    let entries = read(path, ns)?;
    conn.import(&entries)?;
    let backup = backup_name(path);
    std::fs::rename(path, &backup)
        .map_err(|source| StoreError::Io { path: path.to_owned(), source })?;
    Ok(Imported { ns: ns.to_owned(), keys: entries.len(), backup })
}

/// Import every `data_dir/<script>/store.json` not imported yet; each file's outcome.
#[must_use]
pub fn import_all(data_dir: &Path, store: &Store) -> Vec<Result<Imported, StoreError>> {
    let Ok(dirs) = std::fs::read_dir(data_dir) else { return Vec::new() };
    let mut files: Vec<(PathBuf, String)> = dirs
        .filter_map(Result::ok)
        .filter(|d| d.file_type().is_ok_and(|t| t.is_dir()))
        .map(|d| (d.path().join(FILE), d.file_name().to_string_lossy().into_owned()))
        .filter(|(p, _)| std::fs::symlink_metadata(p).is_ok())
        .collect();
    if files.is_empty() {
        return Vec::new();
    }
    files.sort();
    let mut conn = match store.connect() {
        Ok(c) => c,
        Err(e) => return vec![Err(e)],
    };
    files.iter().map(|(path, ns)| import_one(conn.as_mut(), path, ns)).collect()
}

/// Import and log what happened.
pub fn import_and_log(data_dir: &Path, store: &Store) {
    for r in import_all(data_dir, store) {
        match r {
            Ok(i) => tracing::info!(
                "imported {} keys of {} into the store ({}); the old file is kept as {}",
                i.keys,
                i.ns,
                store.describe(),
                i.backup.display()
            ),
            Err(e) => tracing::error!("cannot import an old store file: {e}"),
        }
    }
}
