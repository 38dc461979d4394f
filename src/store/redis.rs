//! The Redis backend, for data that several mahua processes share.
//!
//! A value lives at `<prefix><namespace>/<key>` as JSON text, with Redis's own expiry; a
//! sorted set at `<prefix><namespace>` lists the namespace's keys in order, so prefix
//! listings need no scan of the whole server. Every call that touches both is one
//! server-side script, so it is atomic. Calls run on one small thread of their own and
//! the caller waits for the answer, so a script sees the same blocking calls as on SQLite.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{RedisResult, Script};
use tokio::sync::OnceCell;

use super::{now_ms, Conn, Entry, Number, StoreConfig, StoreError, Ttl};

/// Write a value and list its key: KEYS = value, index; ARGV = json, ttl, key.
const SET: &str = r"
if ARGV[2] == 'keep' then redis.call('SET', KEYS[1], ARGV[1], 'KEEPTTL')
elseif ARGV[2] == '' then redis.call('SET', KEYS[1], ARGV[1])
else redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) end
redis.call('ZADD', KEYS[2], 0, ARGV[3])
return 1";

/// Remove a value and its listing: KEYS = value, index; ARGV = key.
const DELETE: &str = r"
local n = redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return n";

/// Add to a number, keeping its expiry: KEYS = value, index; ARGV = by, 'int'|'float', key.
const INCR: &str = r"
local v = redis.call('GET', KEYS[1])
local r
if ARGV[2] == 'int' and (not v or string.match(v, '^%-?%d+$')) then
  r = redis.call('INCRBY', KEYS[1], ARGV[1])
else
  if v and not tonumber(v) then return redis.error_reply('NOTNUM ' .. v) end
  r = redis.call('INCRBYFLOAT', KEYS[1], ARGV[1])
end
redis.call('ZADD', KEYS[2], 0, ARGV[3])
return tostring(r)";

/// Compare and set: KEYS = value, index; ARGV = old ('' for missing), new ('' to delete),
/// ttl, key.
const SWAP: &str = r"
local v = redis.call('GET', KEYS[1])
if (v or '') ~= ARGV[1] then return 0 end
if ARGV[2] == '' then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], ARGV[4])
  return 1
end
if ARGV[3] == 'keep' then redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
elseif ARGV[3] == '' then redis.call('SET', KEYS[1], ARGV[2])
else redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
redis.call('ZADD', KEYS[2], 0, ARGV[4])
return 1";

/// Keys in order from the listing, dropping the listings of expired values:
/// KEYS = index; ARGV = value key prefix, first bound, limit, 'values'|'keys'|'export',
/// key prefix. Returns keys, or key-value pairs, or key-value-ttl triples.
const RANGE: &str = r"
local out, n = {}, 0
local min, limit, mode, p = ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5]
while n < limit do
  local batch = redis.call('ZRANGEBYLEX', KEYS[1], min, '+', 'LIMIT', 0, 256)
  if #batch == 0 then return out end
  for _, m in ipairs(batch) do
    if string.sub(m, 1, #p) ~= p then return out end
    local k = ARGV[1] .. m
    local v
    if mode == 'keys' then v = redis.call('EXISTS', k) == 1 else v = redis.call('GET', k) end
    if v then
      n = n + 1
      out[#out + 1] = m
      if mode ~= 'keys' then out[#out + 1] = v end
      if mode == 'export' then out[#out + 1] = redis.call('PTTL', k) end
      if n >= limit then return out end
    else
      redis.call('ZREM', KEYS[1], m)
    end
  end
  min = '(' .. batch[#batch]
end
return out";

/// The server-side scripts, hashed once.
struct Scripts {
    set: Script,
    delete: Script,
    incr: Script,
    swap: Script,
    range: Script,
}

/// What every connection shares: the client, the scripts and the thread calls run on.
struct Inner {
    client: redis::Client,
    server: String,
    prefix: String,
    timeout: Duration,
    manager: OnceCell<ConnectionManager>,
    scripts: Scripts,
    rt: tokio::runtime::Handle,
    /// Dropped with the last connection, which ends the calls' thread.
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// A Redis store.
pub struct Db {
    inner: Arc<Inner>,
}

/// `url` without a password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}***{}", &url[..s + 3], &url[at..]),
        _ => url.to_owned(),
    }
}

impl Db {
    /// The store on the server `cfg.url`; nothing is connected until the first call.
    pub fn new(cfg: &StoreConfig) -> Result<Self, StoreError> {
        let url = cfg.url.as_ref().map_or("", |u| u.expose()).trim().to_owned();
        let server = redact(&url);
        let client = redis::Client::open(url.as_str())
            .map_err(|source| StoreError::Redis { server: server.clone(), source })?;
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(
            |source| StoreError::Io { path: "the Redis client's thread".into(), source },
        )?;
        let handle = rt.handle().clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        std::thread::Builder::new()
            .name("mahua-redis".into())
            .spawn(move || rt.block_on(async move { drop(stopped.await) }))
            .map_err(|source| StoreError::Io {
                path: "the Redis client's thread".into(),
                source,
            })?;
        let scripts = Scripts {
            set: Script::new(SET),
            delete: Script::new(DELETE),
            incr: Script::new(INCR),
            swap: Script::new(SWAP),
            range: Script::new(RANGE),
        };
        Ok(Self {
            inner: Arc::new(Inner {
                client,
                server,
                prefix: cfg.prefix.clone(),
                timeout: cfg.timeout(),
                manager: OnceCell::new(),
                scripts,
                rt: handle,
                _stop: stop,
            }),
        })
    }

    /// The server and the prefix, for logs and messages.
    #[must_use]
    pub fn describe(&self) -> String {
        format!("Redis at {} (keys under {:?})", self.inner.server, self.inner.prefix)
    }

    /// A connection; they all share one link to the server.
    #[must_use]
    pub fn connect(&self) -> RedisConn {
        RedisConn { inner: self.inner.clone() }
    }
}

/// One script's (or command's) handle on a Redis store.
pub struct RedisConn {
    inner: Arc<Inner>,
}

/// A TTL as the scripts take it.
fn ttl_arg(ttl: Ttl) -> String {
    match ttl {
        Ttl::Forever => String::new(),
        Ttl::Keep => "keep".into(),
        Ttl::For(d) => d.as_millis().max(1).to_string(),
    }
}

impl RedisConn {
    /// Run `f` on the calls' thread with a live connection, and wait for its answer.
    fn run<T, F, Fut>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(Arc<Inner>, ConnectionManager) -> Fut + Send + 'static,
        Fut: Future<Output = RedisResult<T>> + Send,
    {
        let inner = self.inner.clone();
        let timeout = inner.timeout;
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.inner.rt.spawn(async move {
            let call = async {
                let cfg = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(timeout))
                    .set_response_timeout(Some(timeout))
                    .set_number_of_retries(2)
                    .set_max_delay(Duration::from_secs(2));
                let m = inner
                    .manager
                    .get_or_try_init(|| {
                        ConnectionManager::new_with_config(inner.client.clone(), cfg)
                    })
                    .await?
                    .clone();
                f(inner.clone(), m).await
            };
            let r = tokio::time::timeout(timeout, call).await;
            drop(tx.send(r));
        });
        let server = || self.inner.server.clone();
        match rx.recv() {
            Ok(Ok(Ok(v))) => Ok(v),
            Ok(Ok(Err(source))) => Err(StoreError::Redis { server: server(), source }),
            Ok(Err(_)) | Err(_) => Err(StoreError::Timeout { server: server(), timeout }),
        }
    }

    fn value_key(&self, ns: &str, key: &str) -> String {
        format!("{}{ns}/{key}", self.inner.prefix)
    }

    fn index_key(&self, ns: &str) -> String {
        format!("{}{ns}", self.inner.prefix)
    }

    /// Run the range script; `mode` is `keys`, `values` or `export`.
    fn ranged(
        &self,
        ns: &str,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
        mode: &'static str,
    ) -> Result<Vec<redis::Value>, StoreError> {
        let index = self.index_key(ns);
        let values = format!("{}{ns}/", self.inner.prefix);
        let start = match after {
            Some(a) if a >= prefix => format!("({a}"),
            _ => format!("[{prefix}"),
        };
        let prefix = prefix.to_owned();
        let limit = limit.to_string();
        self.run(move |inner, mut m| async move {
            let mut inv = inner.scripts.range.key(index);
            inv.arg(values).arg(start).arg(limit).arg(mode).arg(prefix);
            inv.invoke_async(&mut m).await
        })
    }
}

/// A bulk string out of a script's answer.
fn text(v: &redis::Value) -> String {
    match v {
        redis::Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        redis::Value::SimpleString(s) => s.clone(),
        redis::Value::Int(i) => i.to_string(),
        _ => String::new(),
    }
}

impl Conn for RedisConn {
    fn get(&mut self, ns: &str, key: &str) -> Result<Option<String>, StoreError> {
        let k = self.value_key(ns, key);
        self.run(move |_, mut m| async move { redis::cmd("GET").arg(k).query_async(&mut m).await })
    }

    fn set(&mut self, ns: &str, key: &str, value: &str, ttl: Ttl) -> Result<(), StoreError> {
        let (k, idx, v, t, member) = (
            self.value_key(ns, key),
            self.index_key(ns),
            value.to_owned(),
            ttl_arg(ttl),
            key.to_owned(),
        );
        self.run(move |inner, mut m| async move {
            let mut inv = inner.scripts.set.key(k);
            inv.key(idx).arg(v).arg(t).arg(member);
            inv.invoke_async::<i64>(&mut m).await.map(drop)
        })
    }

    fn delete(&mut self, ns: &str, key: &str) -> Result<bool, StoreError> {
        let (k, idx, member) = (self.value_key(ns, key), self.index_key(ns), key.to_owned());
        self.run(move |inner, mut m| async move {
            let mut inv = inner.scripts.delete.key(k);
            inv.key(idx).arg(member);
            inv.invoke_async::<i64>(&mut m).await.map(|n| n > 0)
        })
    }

    fn incr(&mut self, ns: &str, key: &str, by: Number) -> Result<Number, StoreError> {
        let (k, idx, member) = (self.value_key(ns, key), self.index_key(ns), key.to_owned());
        let kind = if matches!(by, Number::Int(_)) { "int" } else { "float" };
        let amount = by.to_string();
        let r = self.run(move |inner, mut m| async move {
            let mut inv = inner.scripts.incr.key(k);
            inv.key(idx).arg(amount).arg(kind).arg(member);
            inv.invoke_async::<String>(&mut m).await
        });
        match r {
            Ok(text) => Number::parse(&text)
                .ok_or_else(|| StoreError::NotANumber { key: key.to_owned(), found: text }),
            Err(StoreError::Redis { source, .. }) if source.code() == Some("NOTNUM") => {
                Err(StoreError::NotANumber {
                    key: key.to_owned(),
                    found: source.detail().unwrap_or_default().to_owned(),
                })
            }
            Err(e) => Err(e),
        }
    }

    fn swap(
        &mut self,
        ns: &str,
        key: &str,
        old: Option<&str>,
        new: Option<&str>,
        ttl: Ttl,
    ) -> Result<bool, StoreError> {
        let (k, idx, member) = (self.value_key(ns, key), self.index_key(ns), key.to_owned());
        let (old, new, t) =
            (old.unwrap_or_default().to_owned(), new.unwrap_or_default().to_owned(), ttl_arg(ttl));
        self.run(move |inner, mut m| async move {
            let mut inv = inner.scripts.swap.key(k);
            inv.key(idx).arg(old).arg(new).arg(t).arg(member);
            inv.invoke_async::<i64>(&mut m).await.map(|n| n == 1)
        })
    }

    fn range(
        &mut self,
        ns: &str,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
        values: bool,
    ) -> Result<Vec<(String, Option<String>)>, StoreError> {
        let mode = if values { "values" } else { "keys" };
        let flat = self.ranged(ns, prefix, after, limit, mode)?;
        Ok(if values {
            flat.chunks_exact(2).map(|p| (text(&p[0]), Some(text(&p[1])))).collect()
        } else {
            flat.iter().map(|k| (text(k), None)).collect()
        })
    }

    fn namespaces(&mut self) -> Result<Vec<String>, StoreError> {
        let prefix = self.inner.prefix.clone();
        let mut pattern = String::new();
        for c in prefix.chars() {
            if matches!(c, '*' | '?' | '[' | ']' | '\\') {
                pattern.push('\\');
            }
            pattern.push(c);
        }
        pattern.push('*');
        let mut names = self.run(move |_, mut m| async move {
            let mut names = Vec::new();
            let mut cursor = 0u64;
            loop {
                let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                    .cursor_arg(cursor)
                    .arg("MATCH")
                    .arg(&pattern)
                    .arg("COUNT")
                    .arg(1000)
                    .arg("TYPE")
                    .arg("zset")
                    .query_async(&mut m)
                    .await?;
                names.extend(
                    keys.into_iter()
                        .filter_map(|k| k.strip_prefix(&prefix).map(str::to_owned))
                        .filter(|ns| !ns.contains('/')),
                );
                if next == 0 {
                    return Ok(names);
                }
                cursor = next;
            }
        })?;
        names.sort();
        names.dedup();
        Ok(names)
    }

    fn export(
        &mut self,
        ns: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Entry>, StoreError> {
        let flat = self.ranged(ns, "", after, limit, "export")?;
        let now = now_ms();
        flat.chunks_exact(3)
            .map(|t| {
                let key = text(&t[0]);
                let value =
                    serde_json::from_str(&text(&t[1])).map_err(|e| StoreError::Corrupt {
                        path: format!("{} key {}", self.inner.server, self.value_key(ns, &key)),
                        reason: format!("the stored value is not JSON: {e}"),
                    })?;
                let ttl = match &t[2] {
                    redis::Value::Int(ms) if *ms >= 0 => Some(now.saturating_add(*ms)),
                    _ => None,
                };
                Ok(Entry { ns: ns.to_owned(), key, value, expires_ms: ttl })
            })
            .collect()
    }

    fn import(&mut self, entries: &[Entry]) -> Result<(), StoreError> {
        const CHUNK: usize = 1000;
        let now = now_ms();
        for chunk in entries.chunks(CHUNK) {
            let mut pipe = redis::pipe();
            pipe.atomic();
            for e in chunk {
                let k = self.value_key(&e.ns, &e.key);
                let v = e.value.to_string();
                match e.expires_ms {
                    Some(at) if at <= now => continue,
                    Some(at) => pipe.cmd("SET").arg(&k).arg(v).arg("PX").arg(at - now).ignore(),
                    None => pipe.cmd("SET").arg(&k).arg(v).ignore(),
                };
                pipe.cmd("ZADD").arg(self.index_key(&e.ns)).arg(0).arg(&e.key).ignore();
            }
            self.run(move |_, mut m| async move { pipe.query_async::<()>(&mut m).await })?;
        }
        Ok(())
    }
}
