//! The SQLite backend: one file in WAL mode, one table keyed by namespace and key.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use super::{expiry, now_ms, Conn, Entry, Number, StoreConfig, StoreError, Synchronous, Ttl};

/// The table, its index of expiring keys, and nothing else.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS kv (
    ns      TEXT NOT NULL,
    key     TEXT NOT NULL,
    value   TEXT NOT NULL,
    expires INTEGER,
    PRIMARY KEY (ns, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS kv_expires ON kv (expires) WHERE expires IS NOT NULL;
";

const GET: &str =
    "SELECT value FROM kv WHERE ns = ?1 AND key = ?2 AND (expires IS NULL OR expires > ?3)";

/// Insert or replace; with `keep` (?5) a live key keeps its expiry.
const PUT: &str = "
INSERT INTO kv (ns, key, value, expires) VALUES (?1, ?2, ?3, ?4)
ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value,
    expires = CASE WHEN ?5 AND (kv.expires IS NULL OR kv.expires > ?6)
                   THEN kv.expires ELSE excluded.expires END";

const DELETE: &str =
    "DELETE FROM kv WHERE ns = ?1 AND key = ?2 RETURNING expires IS NULL OR expires > ?3";

const RANGE: &str = "
SELECT key, value FROM kv
WHERE ns = ?1 AND key >= ?2 AND (?3 IS NULL OR key > ?3) AND (expires IS NULL OR expires > ?4)
ORDER BY key LIMIT ?5";

const EXPORT: &str = "
SELECT key, value, expires FROM kv
WHERE ns = ?1 AND (?2 IS NULL OR key > ?2) AND (expires IS NULL OR expires > ?3)
ORDER BY key LIMIT ?4";

const PURGE: &str = "DELETE FROM kv WHERE expires <= ?1";

/// Expired keys are deleted after this many writes on a connection (and when it opens).
const PURGE_EVERY: u32 = 1024;

/// A SQLite store: where its file is and how to open it.
pub struct Db {
    path: PathBuf,
    synchronous: Synchronous,
    timeout: Duration,
}

impl Db {
    /// The store in `path`, opened as `cfg` says.
    #[must_use]
    pub fn new(path: PathBuf, cfg: &StoreConfig) -> Self {
        Self { path, synchronous: cfg.synchronous, timeout: cfg.timeout() }
    }

    /// The database file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A new connection, with the file and its table made on first use.
    pub fn connect(&self) -> Result<SqliteConn, StoreError> {
        let err = |source| StoreError::Sqlite { path: self.path.clone(), source };
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|source| StoreError::Io { path: dir.to_owned(), source })?;
        }
        let conn = Connection::open(&self.path).map_err(err)?;
        conn.busy_timeout(self.timeout).map_err(err)?;
        let sync = match self.synchronous {
            Synchronous::Normal => "NORMAL",
            Synchronous::Full => "FULL",
        };
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(())).map_err(err)?;
        conn.pragma_update(None, "synchronous", sync).map_err(err)?;
        conn.execute_batch(SCHEMA).map_err(err)?;
        let mut c = SqliteConn { conn, path: self.path.clone(), writes: 0 };
        c.purge()?;
        Ok(c)
    }
}

/// One connection to a SQLite store.
pub struct SqliteConn {
    conn: Connection,
    path: PathBuf,
    writes: u32,
}

impl SqliteConn {
    fn err(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite { path: self.path.clone(), source }
    }

    /// Delete the keys whose time is up.
    fn purge(&mut self) -> Result<(), StoreError> {
        self.writes = 0;
        self.conn.execute(PURGE, [now_ms()]).map(drop).map_err(|e| self.err(e))
    }

    /// Count a write; now and then, purge.
    fn wrote(&mut self) -> Result<(), StoreError> {
        self.writes += 1;
        if self.writes >= PURGE_EVERY {
            self.purge()?;
        }
        Ok(())
    }

    fn corrupt(&self, ns: &str, key: &str, e: &serde_json::Error) -> StoreError {
        StoreError::Corrupt {
            path: format!("{} (namespace {ns:?}, key {key:?})", self.path.display()),
            reason: format!("the stored value is not JSON: {e}"),
        }
    }
}

/// Read `key` inside a connection or a transaction.
fn read(conn: &Connection, ns: &str, key: &str) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached(GET)?.query_row(params![ns, key, now_ms()], |r| r.get(0)).optional()
}

/// Write `key` inside a connection or a transaction.
fn write(conn: &Connection, ns: &str, key: &str, value: &str, ttl: Ttl) -> rusqlite::Result<()> {
    let (expires, keep) = match ttl {
        Ttl::Forever => (None, false),
        Ttl::Keep => (None, true),
        Ttl::For(d) => (Some(expiry(d)), false),
    };
    conn.prepare_cached(PUT)?.execute(params![ns, key, value, expires, keep, now_ms()]).map(drop)
}

/// Remove `key` inside a connection or a transaction; whether it had a live value.
fn remove(conn: &Connection, ns: &str, key: &str) -> rusqlite::Result<bool> {
    let live: Option<bool> = conn
        .prepare_cached(DELETE)?
        .query_row(params![ns, key, now_ms()], |r| r.get(0))
        .optional()?;
    Ok(live.unwrap_or(false))
}

/// Why a call inside a transaction stopped.
enum Stop {
    Sqlite(rusqlite::Error),
    Store(StoreError),
}

impl From<rusqlite::Error> for Stop {
    fn from(e: rusqlite::Error) -> Self {
        Self::Sqlite(e)
    }
}

impl SqliteConn {
    /// Run `f` in a write transaction, committed when it returns `Ok`.
    fn transaction<T>(
        &mut self,
        f: impl FnOnce(&Connection) -> Result<T, Stop>,
    ) -> Result<T, StoreError> {
        let path = self.path.clone();
        let err = |source| StoreError::Sqlite { path: path.clone(), source };
        let tx =
            self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(err)?;
        let out = match f(&tx) {
            Ok(v) => v,
            Err(Stop::Sqlite(e)) => return Err(err(e)),
            Err(Stop::Store(e)) => return Err(e),
        };
        tx.commit().map_err(err)?;
        Ok(out)
    }
}

impl Conn for SqliteConn {
    fn get(&mut self, ns: &str, key: &str) -> Result<Option<String>, StoreError> {
        read(&self.conn, ns, key).map_err(|e| self.err(e))
    }

    fn set(&mut self, ns: &str, key: &str, value: &str, ttl: Ttl) -> Result<(), StoreError> {
        write(&self.conn, ns, key, value, ttl).map_err(|e| self.err(e))?;
        self.wrote()
    }

    fn delete(&mut self, ns: &str, key: &str) -> Result<bool, StoreError> {
        remove(&self.conn, ns, key).map_err(|e| self.err(e))
    }

    fn incr(&mut self, ns: &str, key: &str, by: Number) -> Result<Number, StoreError> {
        let n = self.transaction(|tx| {
            let n = match read(tx, ns, key)? {
                None => by,
                Some(old) => match Number::parse(&old) {
                    Some(n) => n + by,
                    None => {
                        return Err(Stop::Store(StoreError::NotANumber {
                            key: key.to_owned(),
                            found: old,
                        }))
                    }
                },
            };
            if !n.is_finite() {
                return Err(Stop::Store(StoreError::NotANumber {
                    key: key.to_owned(),
                    found: format!("a sum too large ({})", n.as_f64()),
                }));
            }
            write(tx, ns, key, &n.to_string(), Ttl::Keep)?;
            Ok(n)
        })?;
        self.wrote()?;
        Ok(n)
    }

    fn swap(
        &mut self,
        ns: &str,
        key: &str,
        old: Option<&str>,
        new: Option<&str>,
        ttl: Ttl,
    ) -> Result<bool, StoreError> {
        let done = self.transaction(|tx| {
            if read(tx, ns, key)?.as_deref() != old {
                return Ok(false);
            }
            match new {
                Some(v) => write(tx, ns, key, v, ttl)?,
                None => drop(remove(tx, ns, key)?),
            }
            Ok(true)
        })?;
        self.wrote()?;
        Ok(done)
    }

    fn range(
        &mut self,
        ns: &str,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
        values: bool,
    ) -> Result<Vec<(String, Option<String>)>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let run = || -> rusqlite::Result<Vec<(String, Option<String>)>> {
            let mut stmt = self.conn.prepare_cached(RANGE)?;
            let mut rows = stmt.query(params![ns, prefix, after, now_ms(), limit])?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                let key: String = row.get(0)?;
                if !key.starts_with(prefix) {
                    break;
                }
                let value = if values { Some(row.get(1)?) } else { None };
                out.push((key, value));
            }
            Ok(out)
        };
        run().map_err(|e| self.err(e))
    }

    fn namespaces(&mut self) -> Result<Vec<String>, StoreError> {
        let run = || -> rusqlite::Result<Vec<String>> {
            let mut stmt = self.conn.prepare("SELECT DISTINCT ns FROM kv ORDER BY ns")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            rows.collect()
        };
        run().map_err(|e| self.err(e))
    }

    fn export(
        &mut self,
        ns: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Entry>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let run = || -> rusqlite::Result<Vec<(String, String, Option<i64>)>> {
            let mut stmt = self.conn.prepare_cached(EXPORT)?;
            let rows = stmt.query_map(params![ns, after, now_ms(), limit], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?;
            rows.collect()
        };
        let rows = run().map_err(|e| self.err(e))?;
        rows.into_iter()
            .map(|(key, text, expires_ms)| {
                let value = serde_json::from_str(&text).map_err(|e| self.corrupt(ns, &key, &e))?;
                Ok(Entry { ns: ns.to_owned(), key, value, expires_ms })
            })
            .collect()
    }

    fn import(&mut self, entries: &[Entry]) -> Result<(), StoreError> {
        self.transaction(|tx| {
            let mut stmt = tx.prepare_cached(PUT)?;
            for e in entries {
                let text = e.value.to_string();
                stmt.execute(params![e.ns, e.key, text, e.expires_ms, false, 0])?;
            }
            Ok(())
        })
    }
}
