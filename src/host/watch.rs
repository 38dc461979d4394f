//! Watching the scripts folder: batches of changed `.lua` files after a short debounce.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::{EventKind, RecursiveMode};
use notify_debouncer_full::{new_debouncer, DebounceEventResult, Debouncer, RecommendedCache};
use tokio::sync::mpsc;

/// A live watch on a folder; dropping it stops watching.
pub struct Watcher {
    _debouncer: Debouncer<notify::RecommendedWatcher, RecommendedCache>,
    /// Batches of changed script and module files.
    pub changes: mpsc::UnboundedReceiver<Vec<PathBuf>>,
}

/// Whether a changed path can matter: a `.lua` file that is not an editor's temp file.
#[must_use]
pub fn relevant(path: &Path) -> bool {
    let Some(name) = path.file_name().map(|n| n.to_string_lossy()) else { return false };
    !name.starts_with('.') && !name.ends_with('~') && name.ends_with(".lua")
}

/// Whether an event can change what a file holds (reading a file, as loading does, cannot).
fn changes_content(kind: &EventKind) -> bool {
    matches!(
        kind,
        EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_) | EventKind::Any
    )
}

/// Watch `dir` and everything below it.
pub fn watch(dir: &Path, debounce: Duration) -> notify::Result<Watcher> {
    let (tx, changes) = mpsc::unbounded_channel();
    let mut debouncer = new_debouncer(debounce, None, move |res: DebounceEventResult| match res {
        Ok(events) => {
            let paths: BTreeSet<PathBuf> = events
                .iter()
                .filter(|e| changes_content(&e.kind))
                .flat_map(|e| e.paths.iter())
                .filter(|p| relevant(p))
                .cloned()
                .collect();
            if !paths.is_empty() {
                let _ = tx.send(paths.into_iter().collect());
            }
        }
        Err(errors) => {
            for e in errors {
                tracing::warn!("watching scripts: {e}");
            }
        }
    })?;
    debouncer.watch(dir, RecursiveMode::Recursive)?;
    Ok(Watcher { _debouncer: debouncer, changes })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn editor_droppings_are_ignored() {
        for p in ["a.lua", "lib/m.lua", "/x/scripts/b.lua"] {
            assert!(relevant(Path::new(p)), "{p}");
        }
        for p in [".a.lua.swp", "a.lua~", "4913", ".#a.lua", "notes.txt", "a.lua.swp"] {
            assert!(!relevant(Path::new(p)), "{p}");
        }
    }
}
