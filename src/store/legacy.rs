//! The `store.json` files of earlier versions, imported into the store once and kept beside
//! as `store.json.bak`.

use std::path::{Path, PathBuf};

use std::io::Read as _;

use super::{Conn, Entry, Store, StoreError};
use crate::host::paths::{open_beneath, Mode};

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

/// The keys of `dir/store.json`, for the namespace `ns`; a link there is not followed.
fn read(dir: &Path, ns: &str) -> Result<Vec<Entry>, StoreError> {
    let path = dir.join(FILE);
    let mut file =
        open_beneath(dir, Path::new(FILE), Mode::Read).map_err(|e| StoreError::Corrupt {
            path: path.display().to_string(),
            reason: format!("{e}; left as it is"),
        })?;
    let mut text = String::new();
    file.read_to_string(&mut text)
        .map_err(|source| StoreError::Io { path: path.clone(), source })?;
    let path = path.as_path();
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
fn import_one(conn: &mut dyn Conn, dir: &Path, ns: &str) -> Result<Imported, StoreError> {
    let entries = read(dir, ns)?;
    let path = &dir.join(FILE);
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
        .map(|d| (d.path(), d.file_name().to_string_lossy().into_owned()))
        .filter(|(dir, _)| std::fs::symlink_metadata(dir.join(FILE)).is_ok())
        .collect();
    if files.is_empty() {
        return Vec::new();
    }
    files.sort();
    let mut conn = match store.connect() {
        Ok(c) => c,
        Err(e) => return vec![Err(e)],
    };
    files.iter().map(|(dir, ns)| import_one(conn.as_mut(), dir, ns)).collect()
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

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use crate::store::StoreConfig;

    #[test]
    fn a_file_is_imported_once_and_a_link_is_not_followed() {
        let root = tempfile::tempdir().expect("dir");
        let data = root.path().join("data");
        std::fs::create_dir_all(data.join("good")).expect("good");
        std::fs::create_dir_all(data.join("linked")).expect("linked");
        std::fs::write(data.join("good").join(FILE), r#"{"a": 1, "b": {"c": [2]}}"#).expect("good");
        let outside = root.path().join("outside.json");
        std::fs::write(&outside, r#"{"stolen": true}"#).expect("outside");
        std::os::unix::fs::symlink(&outside, data.join("linked").join(FILE)).expect("link");
        let store = Store::open(&StoreConfig::default(), &data).expect("open");

        let results = import_all(&data, &store);
        assert_eq!(results.len(), 2);
        let good = results.iter().flatten().next().expect("one imported");
        assert_eq!((good.ns.as_str(), good.keys), ("good", 2));
        assert!(good.backup.ends_with("good/store.json.bak"));
        let refused = results.iter().find_map(|r| r.as_ref().err()).expect("one refused");
        assert!(refused.to_string().contains("linked"), "{refused}");

        let mut c = store.connect().expect("connect");
        assert_eq!(c.get("good", "b").expect("get").as_deref(), Some(r#"{"c":[2]}"#));
        assert_eq!(c.get("linked", "stolen").expect("get"), None);
        assert!(data.join("linked").join(FILE).exists(), "the link is left as it is");
        assert!(import_all(&data, &store).iter().all(Result::is_err), "good is not imported twice");
    }
}
