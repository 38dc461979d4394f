//! The `store` module: a small key-value store per script, kept in its data folder
//! across reloads and restarts, written atomically.

use std::path::{Path, PathBuf};

use mlua::{Lua, Table, Value};
use serde_json::{Map, Value as Json};

use super::{context, convert};

/// The file a script's store lives in.
const FILE: &str = "store.json";

/// Why the store could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Reading or writing the file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not a JSON object.
    #[error("{path} is not a JSON object ({reason}); fix or remove it")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What the parser said.
        reason: String,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io { path: path.to_owned(), source }
}

/// Everything stored for the script whose data folder is `dir`.
pub fn read(dir: &Path) -> Result<Map<String, Json>, StoreError> {
    let path = dir.join(FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Map::new()),
        Err(e) => return Err(io(&path)(e)),
    };
    match serde_json::from_str(&text) {
        Ok(Json::Object(m)) => Ok(m),
        Ok(_) => Err(StoreError::Corrupt { path, reason: "not an object".into() }),
        Err(e) => Err(StoreError::Corrupt { path, reason: e.to_string() }),
    }
}

/// Replace the stored map: written to a temporary file, then renamed over the old one.
pub fn write(dir: &Path, map: &Map<String, Json>) -> Result<(), StoreError> {
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let path = dir.join(FILE);
    let tmp = dir.join(format!(".{FILE}.tmp"));
    let text = serde_json::to_vec_pretty(map).unwrap_or_default();
    std::fs::write(&tmp, text).map_err(io(&tmp))?;
    std::fs::rename(&tmp, &path).map_err(io(&path))
}

fn err(func: &str, e: impl std::fmt::Display) -> mlua::Error {
    mlua::Error::runtime(format!("store.{func}: {e}"))
}

fn dir(lua: &Lua) -> mlua::Result<PathBuf> {
    Ok(context(lua)?.data_dir.clone())
}

/// Build the `store` table.
pub fn register(lua: &Lua) -> mlua::Result<Table> {
    let m = lua.create_table()?;
    m.set(
        "get",
        lua.create_function(|lua, (key, default): (String, Value)| {
            let map = read(&dir(lua)?).map_err(|e| err("get", e))?;
            match map.get(&key) {
                Some(v) => convert::to_lua(lua, v),
                None => Ok(default),
            }
        })?,
    )?;
    m.set(
        "set",
        lua.create_function(|lua, (key, value): (String, Value)| {
            let dir = dir(lua)?;
            let mut map = read(&dir).map_err(|e| err("set", e))?;
            if value.is_nil() {
                map.remove(&key);
            } else {
                let json =
                    convert::to_json(lua, &value).map_err(|e| err("set", format!("{key}: {e}")))?;
                map.insert(key, json);
            }
            write(&dir, &map).map_err(|e| err("set", e))
        })?,
    )?;
    m.set(
        "delete",
        lua.create_function(|lua, key: String| {
            let dir = dir(lua)?;
            let mut map = read(&dir).map_err(|e| err("delete", e))?;
            if map.remove(&key).is_some() {
                write(&dir, &map).map_err(|e| err("delete", e))?;
            }
            Ok(())
        })?,
    )?;
    m.set(
        "keys",
        lua.create_function(|lua, ()| {
            let map = read(&dir(lua)?).map_err(|e| err("keys", e))?;
            let mut keys: Vec<String> = map.keys().cloned().collect();
            keys.sort();
            lua.create_sequence_from(keys)
        })?,
    )?;
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_survives_a_round_trip_and_refuses_garbage() {
        let d = tempfile::tempdir().expect("dir");
        let dir = d.path().join("s");
        assert!(read(&dir).expect("empty").is_empty());
        let mut m = Map::new();
        m.insert("n".into(), Json::from(3));
        write(&dir, &m).expect("write");
        assert_eq!(read(&dir).expect("read"), m);
        std::fs::write(dir.join(FILE), "[1]").expect("garbage");
        assert!(matches!(read(&dir), Err(StoreError::Corrupt { .. })));
    }
}
