//! The generated docs match the code: `docs/scripting.md` and `types/mahua.lua` are what the
//! generator gives now, cover every command and event, and the annotations are valid Lua.

use std::path::Path;

use mahua::docs;
use mahua::protocol::commands::COMMANDS;
use mahua::protocol::event::{EVENT_TYPES, MESSAGE_TYPES};

#[test]
fn generated_files_are_up_to_date() {
    let root = docs::crate_root();
    if std::env::var_os("MAHUA_UPDATE_DOCS").is_some_and(|v| v == "1") {
        docs::write_all(&root).expect("writing the generated docs");
    }
    for (rel, want) in docs::generated(&root) {
        let have = std::fs::read_to_string(root.join(rel)).unwrap_or_default();
        assert!(
            have == want,
            "{rel} is out of date with the code; run `MAHUA_UPDATE_DOCS=1 cargo test --test docs` \
             and commit the result"
        );
    }
}

#[test]
fn every_lua_command_is_documented_and_annotated() {
    let reference = docs::reference();
    let annotations = docs::annotations();
    for cmd in COMMANDS {
        let Some(call) = cmd.lua else { continue };
        let heading = format!("### `{}`", docs::reference::mirai_signature(&call));
        assert!(reference.contains(&heading), "reference lacks {heading}");
        assert!(reference.contains(cmd.doc), "reference lacks the doc of {}", call.name);
        let names: Vec<&str> = call.args.iter().map(|a| a.name).collect();
        let decl = format!("function mirai.{}({}) end", call.name, names.join(", "));
        assert!(annotations.contains(&decl), "annotations lack {decl}");
        for a in call.args {
            let q = if a.optional { "?" } else { "" };
            assert!(
                annotations.contains(&format!("---@param {}{q} ", a.name)),
                "annotations lack the param {} of {}",
                a.name,
                call.name
            );
        }
    }
    assert!(reference.contains("### `mirai.call("));
    assert!(annotations.contains("function mirai.call(command, content, subCommand) end"));
}

#[test]
fn every_event_type_has_a_class() {
    let annotations = docs::annotations();
    for ty in EVENT_TYPES.iter().chain(MESSAGE_TYPES) {
        assert!(annotations.contains(&format!("---@class {ty}\n")), "no class for {ty}");
        assert!(
            annotations.contains(&format!(
                "---@overload fun(name: \"{ty}\", fn: fun(ev: {ty})): BotHandle"
            )),
            "no bot.on overload for {ty}"
        );
    }
    for class in ["MahuaError", "Friend", "Member", "Group", "PlainElement", "BotHandle"] {
        assert!(annotations.contains(&format!("---@class {class}\n")), "no class {class}");
    }
    assert!(annotations.contains("---@field messageChain MessageElement[]"));
}

#[test]
fn annotations_are_valid_lua() {
    let text = docs::annotations();
    assert!(text.starts_with("---@meta\n"));
    let lua = mlua::Lua::new();
    if let Err(e) = lua.load(text.as_str()).set_name("=types/mahua.lua").into_function() {
        panic!("types/mahua.lua is not valid Lua: {e}");
    }
}

#[test]
fn every_hand_kept_module_is_in_both_outputs() {
    let reference = docs::reference();
    let annotations = docs::annotations();
    for m in docs::modules::MODULES {
        assert!(reference.contains(&format!("## `{}`", m.name)), "reference lacks {}", m.name);
        for f in m.functions {
            assert!(
                annotations.contains(&format!("function {}.{}(", m.name, f.name)),
                "annotations lack {}.{}",
                m.name,
                f.name
            );
        }
    }
}

#[test]
fn stdlib_blocks_reach_both_outputs() {
    let root = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(root.path().join("stdlib")).expect("stdlib dir");
    let src = "local M = {}\n\n--- The plain text of a chain.\n---@param chain MessageElement[] the chain\n\
               ---@param sep? string put between parts\n---@return string the text\n\
               function M.text(chain, sep)\n  return \"\"\nend\n\nreturn M\n";
    std::fs::write(root.path().join("stdlib/msg.lua"), src).expect("write msg.lua");
    let reference = docs::reference_at(root.path());
    let annotations = docs::annotations_at(root.path());
    assert!(reference.contains("### `msg.text(chain [, sep])`"), "{reference}");
    assert!(reference.contains("The plain text of a chain."));
    assert!(reference.contains("`stdlib/cmd.lua` is not in this checkout yet."));
    assert!(annotations.contains("---@param sep? string put between parts"));
    assert!(annotations.contains("function msg.text(chain, sep) end"));
    mlua::Lua::new().load(annotations.as_str()).into_function().expect("valid Lua");
}

#[test]
fn write_all_writes_both_files() {
    let root = tempfile::tempdir().expect("temp dir");
    docs::write_all(root.path()).expect("write_all");
    for (rel, want) in docs::generated(root.path()) {
        let have = std::fs::read_to_string(Path::new(root.path()).join(rel)).expect("read back");
        assert_eq!(have, want);
    }
}
