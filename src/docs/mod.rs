//! Generated documentation: the scripting reference (`docs/scripting.md`) and the LuaLS
//! annotations (`types/mahua.lua`, and one file per module for `require`), all made from the
//! command table, the event schema, the hand-kept module spec and the stdlib's doc blocks, so
//! they cannot drift from the code.

pub mod annotations;
pub mod modules;
pub mod reference;
pub mod schema;
pub mod stdlib;

use std::path::{Path, PathBuf};

pub use schema::Schema;
pub use stdlib::Stdlib;

/// Where the reference lives, relative to the repository root.
pub const REFERENCE_PATH: &str = "docs/scripting.md";

/// The folder of the annotation files, relative to the repository root.
pub const TYPES_DIR: &str = "types";

/// Where the main annotation file lives, relative to the repository root.
pub const ANNOTATIONS_PATH: &str = "types/mahua.lua";

/// The repository root this crate was built from (its stdlib is read from there).
#[must_use]
pub fn crate_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The reference for the stdlib found under `root`.
#[must_use]
pub fn reference_at(root: &Path) -> String {
    reference::render(&Stdlib::load(root))
}

/// The annotations for the stdlib found under `root`.
#[must_use]
pub fn annotations_at(root: &Path) -> String {
    annotations::render(&Schema::embedded(), &Stdlib::load(root))
}

/// `docs/scripting.md` as the code gives it now.
#[must_use]
pub fn reference() -> String {
    reference_at(&crate_root())
}

/// `types/mahua.lua` as the code gives it now.
#[must_use]
pub fn annotations() -> String {
    annotations_at(&crate_root())
}

/// Every generated file under `root`: (path relative to `root`, contents).
#[must_use]
pub fn generated(root: &Path) -> Vec<(&'static str, String)> {
    let types = annotations::render_files(&Schema::embedded(), &Stdlib::load(root));
    std::iter::once((REFERENCE_PATH, reference_at(root))).chain(types).collect()
}

/// Write every generated file under `root`, making their folders as needed.
pub fn write_all(root: &Path) -> std::io::Result<()> {
    for (rel, text) in generated(root) {
        let path = root.join(rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, text)?;
    }
    Ok(())
}
