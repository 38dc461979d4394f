//! The embedded `cmd` router: parsing typed, quoted, optional and rest arguments, usage
//! replies, aliases, permissions, cooldowns, scopes and the generated `/help`.

mod common;

use common::{start, Bot};
use mahua::sim::world::Permission;
use serde_json::{json, Value};

const GROUP: i64 = 700_201;
const MEMBER: i64 = 800_201;
const ADMIN: i64 = 800_202;
const FRIEND: i64 = 900_201;
const OTHER_FRIEND: i64 = 900_202;

const COMMANDS: &str = r#"
local cmd = require('cmd')
cmd.register('/roll <sides:int> [times:int=1]', function(ev, a)
  return ('roll %d %d'):format(a.sides, a.times)
end, { aliases = { '/r' }, description = 'Roll dice' })
cmd.register('/say <who:qq> <text:string> [n:number=1.5]', function(ev, a)
  return ('say %d %s %s %s'):format(a.who, a.text, tostring(a.n), math.type(a.who))
end)
cmd.register('/echo <text:rest>', function(ev, a) return 'echo[' .. a.text .. ']' end)
cmd.register('/ban <who:qq>', function(ev, a) return 'banned ' .. a.who end,
  { permission = 'ADMINISTRATOR', scope = 'group' })
cmd.register('/cool', function(ev) return 'cool ok' end, { cooldown = 60 })
cmd.register('/dm', function(ev) ev:reply('dm ok') end, { scope = 'friend' })
cmd.register('/opt [word]', function(ev, a) return 'opt ' .. tostring(a.word) end)
"#;

async fn bot() -> Bot {
    let bot = start(&[("cmd.lua", COMMANDS)]).await;
    bot.sim.world(|w| {
        w.add_group(GROUP, "g", Permission::Administrator);
        w.add_member(GROUP, MEMBER, "m", Permission::Member);
        w.add_member(GROUP, ADMIN, "a", Permission::Administrator);
        w.add_friend(FRIEND, "f");
        w.add_friend(OTHER_FRIEND, "o");
    });
    bot
}

/// The texts the bot sent to one conversation.
fn replies(bot: &Bot, command: &str, target: i64) -> Vec<String> {
    bot.sim
        .sent()
        .into_iter()
        .filter(|m| m.command == command && m.target == target)
        .map(|m| common::text(&m.chain))
        .collect()
}

/// Wait until the conversation has more than `before` replies and return the next one.
async fn next_reply(bot: &Bot, command: &str, target: i64, before: usize) -> String {
    let cmd = command.to_owned();
    bot.sim
        .wait_for(common::WITHIN, "a reply", move |s| {
            s.sent().iter().filter(|m| m.command == cmd && m.target == target).count() > before
        })
        .await
        .unwrap_or_else(|e| panic!("{e}; sent: {:?}", bot.sim.sent()));
    replies(bot, command, target)[before].clone()
}

async fn ask_friend(bot: &Bot, friend: i64, chain: Value) -> String {
    let before = replies(bot, "sendFriendMessage", friend).len();
    bot.sim.friend_message(friend, chain);
    next_reply(bot, "sendFriendMessage", friend, before).await
}

async fn ask_group(bot: &Bot, sender: i64, chain: Value) -> String {
    let before = replies(bot, "sendGroupMessage", GROUP).len();
    bot.sim.group_message(GROUP, sender, chain);
    next_reply(bot, "sendGroupMessage", GROUP, before).await
}

const ROLL_USAGE: &str = "Usage: /roll <sides:int> [times:int=1]";

#[tokio::test]
async fn arguments_are_typed_quoted_defaulted_and_rest() {
    let bot = bot().await;
    let cases: Vec<(&str, String)> = vec![
        ("/roll 6", "roll 6 1".into()),
        ("/roll 6 3", "roll 6 3".into()),
        ("  /roll   -2   +4 ", "roll -2 4".into()),
        ("/r 20", "roll 20 1".into()),
        ("/say 123 \"two words\"", "say 123 two words 1.5 integer".into()),
        ("/say @123 hi 2", "say 123 hi 2 integer".into()),
        ("/say 1 \"say \\\"hi\\\"\" 0.25", "say 1 say \"hi\" 0.25 integer".into()),
        ("/echo  hello   \"world\" x ", "echo[hello   \"world\" x]".into()),
        ("/opt", "opt nil".into()),
        ("/opt word", "opt word".into()),
        ("/roll x", format!("sides must be an integer, got \"x\"\n{ROLL_USAGE}")),
        ("/roll 1.5", format!("sides must be an integer, got \"1.5\"\n{ROLL_USAGE}")),
        ("/roll", format!("missing <sides>\n{ROLL_USAGE}")),
        ("/roll 1 2 3", format!("too many arguments (from \"3\" on)\n{ROLL_USAGE}")),
        (
            "/say x y",
            "who must be a QQ number or an @mention, got \"x\"\nUsage: /say <who:qq> <text:string> [n:number=1.5]"
                .into(),
        ),
        (
            "/say 1 \"open",
            "a quote is not closed\nUsage: /say <who:qq> <text:string> [n:number=1.5]".into(),
        ),
        ("/echo", "missing <text>\nUsage: /echo <text:rest>".into()),
    ];
    for (line, want) in cases {
        assert_eq!(ask_friend(&bot, FRIEND, json!(line)).await, want, "{line}");
    }
    // An @mention is a qq argument.
    let chain = json!([{"type": "Plain", "text": "/say "}, {"type": "At", "target": MEMBER, "display": ""},
                      {"type": "Plain", "text": " \"a b\" 0.5"}]);
    assert_eq!(ask_group(&bot, MEMBER, chain).await, format!("say {MEMBER} a b 0.5 integer"));
    bot.stop().await;
}

#[tokio::test]
async fn other_messages_and_unknown_commands_get_no_answer() {
    let bot = bot().await;
    for line in ["hello", "/unknown 1", "roll 6", "/ roll"] {
        bot.sim.friend_message(FRIEND, json!(line));
    }
    // Events reach the script in order: when this one is answered, the others were handled.
    assert_eq!(ask_friend(&bot, FRIEND, json!("/roll 2")).await, "roll 2 1");
    assert_eq!(replies(&bot, "sendFriendMessage", FRIEND), ["roll 2 1"]);
    bot.stop().await;
}

#[tokio::test]
async fn permission_is_the_senders_group_permission() {
    let bot = bot().await;
    assert_eq!(
        ask_group(&bot, MEMBER, json!("/ban 5")).await,
        "You need ADMINISTRATOR permission in a group to use /ban."
    );
    assert_eq!(ask_group(&bot, ADMIN, json!("/ban 5")).await, "banned 5");
    bot.stop().await;
}

#[tokio::test]
async fn scope_limits_where_a_command_exists() {
    let bot = bot().await;
    // /ban is for groups, /dm for private chats: elsewhere they are not commands at all.
    bot.sim.friend_message(FRIEND, json!("/ban 5"));
    assert_eq!(ask_friend(&bot, FRIEND, json!("/dm")).await, "dm ok");
    assert_eq!(replies(&bot, "sendFriendMessage", FRIEND), ["dm ok"]);
    bot.sim.group_message(GROUP, ADMIN, json!("/dm"));
    assert_eq!(ask_group(&bot, ADMIN, json!("/roll 3")).await, "roll 3 1");
    assert_eq!(replies(&bot, "sendGroupMessage", GROUP), ["roll 3 1"]);
    // A temp session is a private chat.
    bot.sim.temp_message(GROUP, MEMBER, json!("/dm"));
    next_reply(&bot, "sendTempMessage", MEMBER, 0).await;
    assert_eq!(replies(&bot, "sendTempMessage", MEMBER), ["dm ok"]);
    bot.stop().await;
}

#[tokio::test]
async fn cooldown_is_per_user_and_per_command() {
    let bot = bot().await;
    assert_eq!(ask_friend(&bot, FRIEND, json!("/cool")).await, "cool ok");
    let again = ask_friend(&bot, FRIEND, json!("/cool")).await;
    assert!(
        again.starts_with("Please wait ") && again.ends_with("s before using /cool again."),
        "{again}"
    );
    let secs: i64 = again["Please wait ".len()..again.len() - "s before using /cool again.".len()]
        .parse()
        .expect("seconds");
    assert!((59..=60).contains(&secs), "{again}");
    assert_eq!(ask_friend(&bot, OTHER_FRIEND, json!("/cool")).await, "cool ok");
    assert_eq!(ask_friend(&bot, FRIEND, json!("/roll 4")).await, "roll 4 1");
    bot.stop().await;
}

#[tokio::test]
async fn help_lists_the_commands_of_this_chat_and_shows_one() {
    let bot = bot().await;
    let list = ask_friend(&bot, FRIEND, json!("/help")).await;
    assert_eq!(
        list,
        "Commands:\n\
         /roll <sides:int> [times:int=1] — Roll dice\n\
         /say <who:qq> <text:string> [n:number=1.5]\n\
         /echo <text:rest>\n\
         /cool\n\
         /dm\n\
         /opt [word]\n\
         /help <command> shows one command."
    );
    let in_group = ask_group(&bot, MEMBER, json!("/help")).await;
    assert!(in_group.contains("/ban <who:qq>") && !in_group.contains("/dm"), "{in_group}");
    let roll = "Usage: /roll <sides:int> [times:int=1]\nRoll dice\nAliases: /r";
    assert_eq!(ask_friend(&bot, FRIEND, json!("/help roll")).await, roll);
    assert_eq!(ask_friend(&bot, FRIEND, json!("/help /r")).await, roll);
    assert_eq!(
        ask_group(&bot, MEMBER, json!("/help ban")).await,
        "Usage: /ban <who:qq>\nPermission: ADMINISTRATOR"
    );
    assert_eq!(ask_friend(&bot, FRIEND, json!("/help cool")).await, "Usage: /cool\nCooldown: 60s");
    assert_eq!(
        ask_friend(&bot, FRIEND, json!("/help nope")).await,
        "No command nope. Send /help for the list."
    );
    bot.stop().await;
}

#[tokio::test]
async fn prefixes_are_configurable_and_bad_specs_are_refused() {
    let script = r#"
local cmd = require('cmd')
cmd.setPrefixes({ '/', '!' })
cmd.register('ping', function() return 'pong' end)
cmd.register('!hi <who:string>', function(ev, a) return 'hi ' .. a.who end)
local function try(...)
  local ok, e = pcall(function(...) cmd.register(...) end, ...)
  return tostring(e)
end
local errors = {
  try('/a <x:float>', print),
  try('/a [x] <y>', print),
  try('/a <x:rest> <y>', print),
  try('/a [x:int=abc]', print),
  try('/a', 5),
  try('/a', print, { permission = 'KING' }),
  try('/a', print, { scope = 'everywhere' }),
}
bot.on('load', function()
  for _, e in ipairs(errors) do mirai.sendFriendMessage(REPORTER, e) end
end)
"#
    .replace("REPORTER", &common::REPORTER.to_string());
    let bot = start(&[("p.lua", &script)]).await;
    bot.sim.world(|w| w.add_friend(FRIEND, "f"));
    let errors = bot.wait_reports(7).await;
    let want = [
        "unknown type \"float\"",
        "required <y> after an optional parameter",
        "x of type rest must be the last parameter",
        "the default of x must be an integer, got \"abc\"",
        "cmd.register: fn must be a function",
        "cmd.register: permission must be MEMBER, ADMINISTRATOR or OWNER",
        "cmd.register: scope must be group, friend or all",
    ];
    for (got, want) in errors.iter().zip(want) {
        assert!(got.contains(want), "{got:?} should contain {want:?}");
        assert!(got.contains("p.lua:"), "{got:?} should point at the script");
    }
    assert_eq!(ask_friend(&bot, FRIEND, json!("!ping")).await, "pong");
    assert_eq!(ask_friend(&bot, FRIEND, json!("/ping")).await, "pong");
    assert_eq!(ask_friend(&bot, FRIEND, json!("/hi you")).await, "hi you");
    bot.stop().await;
}
