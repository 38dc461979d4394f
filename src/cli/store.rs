//! `mahua store dump` and `mahua store load`.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;

use crate::config::Config;
use crate::store::{legacy, lines, Store};

/// The store that the configuration at `config` names, with old files imported.
fn open(config: &Path) -> anyhow::Result<Arc<Store>> {
    let (cfg, scripts) = Config::load_store(config)?;
    let store = Store::open(&cfg, &scripts.data_dir)?;
    legacy::import_and_log(&scripts.data_dir, &store);
    Ok(store)
}

/// Write the whole store to `out`, or to standard output.
pub fn dump(config: &Path, out: Option<&Path>) -> anyhow::Result<ExitCode> {
    let store = open(config)?;
    let mut conn = store.connect()?;
    let mut sink: Box<dyn Write> = match out {
        Some(p) => Box::new(BufWriter::new(
            File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        )),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    };
    let n = lines::dump(conn.as_mut(), &mut sink)?;
    eprintln!("dumped {n} keys from {}", store.describe());
    Ok(ExitCode::SUCCESS)
}

/// Read JSON lines from `file`, or standard input, into the store.
pub fn load(config: &Path, file: Option<&Path>) -> anyhow::Result<ExitCode> {
    let store = open(config)?;
    let mut conn = store.connect()?;
    let n = match file {
        Some(p) => {
            let f = File::open(p).with_context(|| format!("cannot open {}", p.display()))?;
            lines::load(conn.as_mut(), &mut BufReader::new(f), &p.display().to_string())?
        }
        None => lines::load(conn.as_mut(), &mut std::io::stdin().lock(), "standard input")?,
    };
    eprintln!("loaded {n} keys into {}", store.describe());
    Ok(ExitCode::SUCCESS)
}
