//! `mahua init`: a new bot folder with a config, a script, its test and editor support.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context as _};

/// Every file of a new bot folder: (path inside it, contents). The editor's files are the
/// repository's own, so a new bot gets exactly what `tools/lua-check` checked.
pub const FILES: &[(&str, &str)] = &[
    ("mahua.toml", include_str!("../../mahua.toml")),
    ("scripts/hello.lua", include_str!("../../templates/init/scripts/hello.lua")),
    ("tests/hello_test.lua", include_str!("../../templates/init/tests/hello_test.lua")),
    (".luarc.json", include_str!("../../.luarc.json")),
    ("types/mahua.lua", include_str!("../../types/mahua.lua")),
    ("types/bot.lua", include_str!("../../types/bot.lua")),
    ("types/cmd.lua", include_str!("../../types/cmd.lua")),
    ("types/http.lua", include_str!("../../types/http.lua")),
    ("types/json.lua", include_str!("../../types/json.lua")),
    ("types/log.lua", include_str!("../../types/log.lua")),
    ("types/mirai.lua", include_str!("../../types/mirai.lua")),
    ("types/msg.lua", include_str!("../../types/msg.lua")),
    ("types/onebot.lua", include_str!("../../types/onebot.lua")),
    ("types/store.lua", include_str!("../../types/store.lua")),
    ("types/test.lua", include_str!("../../types/test.lua")),
];

/// Write a new bot folder at `dir`; an existing file is never overwritten.
pub fn init(dir: &Path) -> anyhow::Result<ExitCode> {
    let existing: Vec<PathBuf> =
        FILES.iter().map(|(rel, _)| dir.join(rel)).filter(|p| p.exists()).collect();
    if !existing.is_empty() {
        let names: Vec<String> = existing.iter().map(|p| p.display().to_string()).collect();
        bail!(
            "{} already exist(s); nothing was written (move them away or pick another folder)",
            names.join(", ")
        );
    }
    for (rel, text) in FILES {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    let shown = dir.display();
    println!(
        "\nA new bot in {shown}. Next:\n  cd {shown}\n  mahua test        # run tests/hello_test.lua\n  mahua sandbox     # chat with the bot in the terminal\n  mahua run         # against a real server: edit mahua.toml first"
    );
    Ok(ExitCode::SUCCESS)
}
