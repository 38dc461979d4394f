//! The embedded `msg` module: every builder as the server receives it, `..` joining,
//! readers, argument errors, and the methods message events get (`ev:reply`, `ev:quote`).

mod common;

use common::{start, Bot, REPORTER};
use mahua::sim::SentMessage;
use serde_json::{json, Value};

const GROUP: i64 = 700_101;
const MEMBER: i64 = 800_101;
const FRIEND: i64 = 900_101;

/// The messages sent to the reporter whose first element is the Plain text `label`.
fn labelled(bot: &Bot, label: &str) -> Vec<Value> {
    bot.sim
        .sent()
        .into_iter()
        .filter(|m| m.command == "sendFriendMessage" && m.target == REPORTER)
        .filter(|m| m.chain[0] == json!({"type": "Plain", "text": label}))
        .map(|m| Value::Array(m.chain.as_array().expect("a chain")[1..].to_vec()))
        .collect()
}

/// The one message labelled `label`, without its label.
fn one(bot: &Bot, label: &str) -> Value {
    let all = labelled(bot, label);
    assert_eq!(all.len(), 1, "one message labelled {label:?}, got {all:?}");
    all.into_iter().next().expect("one")
}

/// Run `body` (Lua, inside a `load` handler, with `send(label, chain)`) and wait for it to finish.
async fn run(body: &str) -> Bot {
    let script = format!(
        "local msg = require('msg')\n\
         local function send(label, chain) mirai.sendFriendMessage({REPORTER}, msg.plain(label) .. chain) end\n\
         bot.on('load', function()\n{body}\n  mirai.sendFriendMessage({REPORTER}, 'done')\nend)\n"
    );
    let bot = start(&[("t.lua", &script)]).await;
    bot.wait_report("done").await;
    bot
}

#[tokio::test]
async fn every_builder_sends_the_element_of_the_reference() {
    let cases: Vec<(&str, &str, Value)> = vec![
        ("plain", "msg.plain('hi')", json!([{"type": "Plain", "text": "hi"}])),
        ("at", "msg.at(123)", json!([{"type": "At", "target": 123}])),
        ("atAll", "msg.atAll()", json!([{"type": "AtAll"}])),
        ("face id", "msg.face(14)", json!([{"type": "Face", "faceId": 14}])),
        ("face name", "msg.face('微笑')", json!([{"type": "Face", "name": "微笑"}])),
        (
            "face super",
            "msg.face(1, true)",
            json!([{"type": "Face", "faceId": 1, "isSuperFace": true}]),
        ),
        (
            "image id",
            "msg.image('{01E9451B-70ED-EAE3-B37C-101F1EEBF5B5}.mirai')",
            json!([{"type": "Image", "imageId": "{01E9451B-70ED-EAE3-B37C-101F1EEBF5B5}.mirai"}]),
        ),
        (
            "image url",
            "msg.image('https://example.org/a.png')",
            json!([{"type": "Image", "url": "https://example.org/a.png"}]),
        ),
        ("image path", "msg.image{path = 'a.png'}", json!([{"type": "Image", "path": "a.png"}])),
        (
            "image base64",
            "msg.image{base64 = 'QUJD'}",
            json!([{"type": "Image", "base64": "QUJD"}]),
        ),
        (
            "flashImage",
            "msg.flashImage{imageId = '/f8f1'}",
            json!([{"type": "FlashImage", "imageId": "/f8f1"}]),
        ),
        ("voice id", "msg.voice{voiceId = 'v1'}", json!([{"type": "Voice", "voiceId": "v1"}])),
        (
            "voice url",
            "msg.voice('https://example.org/v.amr')",
            json!([{"type": "Voice", "url": "https://example.org/v.amr"}]),
        ),
        ("xml", "msg.xml('<msg/>')", json!([{"type": "Xml", "xml": "<msg/>"}])),
        ("json", "msg.json('{\"a\":1}')", json!([{"type": "Json", "json": "{\"a\":1}"}])),
        ("json table", "msg.json({a = 1})", json!([{"type": "Json", "json": "{\"a\":1}"}])),
        ("app", "msg.app('{}')", json!([{"type": "App", "content": "{}"}])),
        ("poke", "msg.poke('BiXin')", json!([{"type": "Poke", "name": "BiXin"}])),
        ("poke default", "msg.poke()", json!([{"type": "Poke", "name": "ChuoYiChuo"}])),
        ("dice", "msg.dice(3)", json!([{"type": "Dice", "value": 3}])),
        (
            "marketFace",
            "msg.marketFace(5, '[吃瓜]')",
            json!([{"type": "MarketFace", "id": 5, "name": "[吃瓜]"}]),
        ),
        (
            "musicShare",
            "msg.musicShare{kind = 'QQMusic', title = 't', summary = 's', jumpUrl = 'j', \
             pictureUrl = 'p', musicUrl = 'm', brief = 'b'}",
            json!([{"type": "MusicShare", "kind": "QQMusic", "title": "t", "summary": "s",
                    "jumpUrl": "j", "pictureUrl": "p", "musicUrl": "m", "brief": "b"}]),
        ),
        (
            "musicShare defaults",
            "msg.musicShare{kind = 'KuwoMusic', title = 't', jumpUrl = 'j', pictureUrl = 'p', musicUrl = 'm'}",
            json!([{"type": "MusicShare", "kind": "KuwoMusic", "title": "t", "summary": "",
                    "jumpUrl": "j", "pictureUrl": "p", "musicUrl": "m", "brief": "t"}]),
        ),
        (
            "forward",
            "msg.forward({\
               {senderId = 1, senderName = 'a', time = 5, messageChain = 'hello'},\
               {senderId = 2, senderName = 'b', messageChain = msg.at(3) .. 'x'},\
               {messageId = 7},\
               {messageRef = {messageId = 8, target = 9}},\
             }, {title = 't', preview = {'p1', 'p2'}})",
            json!([{"type": "Forward",
                "display": {"title": "t", "preview": ["p1", "p2"]},
                "nodeList": [
                    {"senderId": 1, "senderName": "a", "time": 5,
                     "messageChain": [{"type": "Plain", "text": "hello"}]},
                    {"senderId": 2, "senderName": "b",
                     "messageChain": [{"type": "At", "target": 3}, {"type": "Plain", "text": "x"}]},
                    {"messageId": 7},
                    {"messageRef": {"messageId": 8, "target": 9}},
                ]}]),
        ),
        (
            "file",
            "msg.file('/abc', 'a.txt', 10)",
            json!([{"type": "File", "id": "/abc", "name": "a.txt", "size": 10}]),
        ),
        (
            "miraiCode",
            "msg.miraiCode('[mirai:at:1] hi')",
            json!([{"type": "MiraiCode", "code": "[mirai:at:1] hi"}]),
        ),
        (
            "shortVideo",
            "msg.shortVideo{videoId = 'v', fileMd5 = 'ab', fileSize = 3, fileFormat = 'mp4', \
             filename = 'clip', videoUrl = 'https://example.org/v.mp4'}",
            json!([{"type": "ShortVideo", "videoId": "v", "fileMd5": "ab", "fileSize": 3,
                    "fileFormat": "mp4", "filename": "clip", "videoUrl": "https://example.org/v.mp4"}]),
        ),
        ("chain", "msg.chain('a', msg.at(1), {type = 'Dice', value = 2})",
            json!([{"type": "Plain", "text": "a"}, {"type": "At", "target": 1}, {"type": "Dice", "value": 2}])),
    ];
    let body: String =
        cases.iter().map(|(label, lua, _)| format!("  send({label:?}, {lua})\n")).collect();
    let bot = run(&body).await;
    for (label, lua, want) in &cases {
        assert_eq!(&one(&bot, label), want, "{lua}");
    }
    bot.stop().await;
}

#[tokio::test]
async fn chains_join_with_strings_elements_and_chains_in_any_order() {
    let at = json!({"type": "At", "target": 1});
    let face = json!({"type": "Face", "faceId": 2});
    let plain = |t: &str| json!({"type": "Plain", "text": t});
    let cases: Vec<(&str, &str, Value)> = vec![
        ("chain..string", "msg.at(1) .. ' hi'", json!([at, plain(" hi")])),
        ("string..chain", "'hi ' .. msg.at(1)", json!([plain("hi "), at])),
        ("chain..chain", "msg.at(1) .. msg.face(2)", json!([at, face])),
        ("number..chain", "7 .. msg.at(1)", json!([plain("7"), at])),
        ("element..chain", "{type = 'Face', faceId = 2} .. msg.at(1)", json!([face, at])),
        ("chain..element", "msg.at(1) .. {type = 'Face', faceId = 2}", json!([at, face])),
        ("list..chain", "{'a', {type = 'Face', faceId = 2}} .. msg.at(1)", json!([plain("a"), face, at])),
        ("three", "'a' .. msg.at(1) .. 'b' .. msg.face(2)", json!([plain("a"), at, plain("b"), face])),
        ("empty string", "'' .. msg.at(1) .. ''", json!([at])),
        ("grown", "(function() local c = msg.chain() for i = 1, 3 do c = c .. tostring(i) end return c end)()",
            json!([plain("1"), plain("2"), plain("3")])),
    ];
    let mut body: String =
        cases.iter().map(|(label, lua, _)| format!("  send({label:?}, {lua})\n")).collect();
    // Joining leaves its operands alone, and a joined chain is sent as it is.
    body.push_str(
        "  local a = msg.at(1)\n  local b = a .. 'x'\n\
         mirai.sendFriendMessage({REPORTER}, 'operands ' .. #a .. ' ' .. #b)\n\
         mirai.sendGroupMessage(GROUP, msg.plain('to group ') .. msg.at(MEMBER))\n\
         local ok, e = pcall(function() local r = msg.at(1) .. true return r end)\n\
         mirai.sendFriendMessage({REPORTER}, 'bad join ' .. tostring(e))\n"
            .replace("{REPORTER}", &REPORTER.to_string())
            .replace("GROUP", &GROUP.to_string())
            .replace("MEMBER", &MEMBER.to_string())
            .as_str(),
    );
    let script_bot = {
        let bot = start_with_group(&body).await;
        bot.wait_report("done").await;
        bot
    };
    for (label, lua, want) in &cases {
        assert_eq!(&one(&script_bot, label), want, "{lua}");
    }
    script_bot.wait_report("operands 1 2").await;
    let reports = script_bot.reports();
    assert!(
        reports.iter().any(|r| r.starts_with("bad join ") && r.contains("cannot join a boolean")),
        "{reports:?}"
    );
    let to_group: Vec<SentMessage> =
        script_bot.sim.sent().into_iter().filter(|m| m.command == "sendGroupMessage").collect();
    assert_eq!(to_group.len(), 1);
    assert_eq!(to_group[0].chain, json!([plain("to group "), {"type": "At", "target": MEMBER}]));
    script_bot.stop().await;
}

/// As `run`, with the group and member of these tests in the world first.
async fn start_with_group(body: &str) -> Bot {
    let script = format!(
        "local msg = require('msg')\n\
         local function send(label, chain) mirai.sendFriendMessage({REPORTER}, msg.plain(label) .. chain) end\n\
         bot.on('FriendMessage', function(ev)\n  if msg.text(ev) ~= 'go' then return end\n{body}\n  \
         mirai.sendFriendMessage({REPORTER}, 'done')\nend)\n"
    );
    let bot = start(&[("t.lua", &script)]).await;
    bot.sim.world(|w| {
        w.add_group(GROUP, "g", mahua::sim::world::Permission::Member);
        w.add_member(GROUP, MEMBER, "m", mahua::sim::world::Permission::Member);
    });
    bot.sim.friend_message(REPORTER, json!("go"));
    bot
}

#[tokio::test]
async fn readers_look_into_chains_elements_and_events() {
    let bot = start(&[(
        "r.lua",
        &format!(
            "local msg = require('msg')\n\
             bot.on('GroupMessage', function(ev)\n\
               local c = ev.messageChain\n\
               local img = msg.find(c, 'Image')\n\
               local out = {{\n\
                 'text=' .. msg.text(c),\n\
                 'ev=' .. msg.text(ev),\n\
                 'img=' .. tostring(img and img.imageId),\n\
                 'noFace=' .. tostring(msg.find(c, 'Face')),\n\
                 'has=' .. tostring(msg.has(c, 'At')) .. tostring(msg.has(c, 'Dice')),\n\
                 'm=' .. tostring(msg.mentions(c, 5)) .. tostring(msg.mentions(c, 6)),\n\
                 'all=' .. tostring(msg.mentions(msg.atAll(), 6)),\n\
                 'str=' .. msg.text('plain'),\n\
                 'joined=' .. msg.text(c .. '!'),\n\
               }}\n\
               mirai.sendFriendMessage({REPORTER}, table.concat(out, ' '))\n\
             end)\n"
        ),
    )])
    .await;
    bot.sim.group_message(
        GROUP,
        MEMBER,
        json!([{"type": "Plain", "text": "a "}, {"type": "At", "target": 5, "display": ""},
               {"type": "Image", "imageId": "{X}.mirai"}, {"type": "Plain", "text": "b"}]),
    );
    bot.wait_report(
        "text=a b ev=a b img={X}.mirai noFace=nil has=truefalse m=truefalse all=true str=plain joined=a b!",
    )
    .await;
    bot.stop().await;
}

#[tokio::test]
async fn builders_name_the_bad_argument() {
    let cases = [
        ("msg.at('x')", "msg.at: qq must be an integer, got a string"),
        ("msg.at(1.5)", "msg.at: qq must be an integer, got a number"),
        ("msg.plain(nil)", "msg.plain: text must be a string, got nil"),
        ("msg.face(true)", "msg.face: id_or_name must be an integer or a string, got a boolean"),
        ("msg.image{}", "msg.image: source must be given as one of imageId, url, path or base64"),
        ("msg.image{url = 1}", "msg.image: url must be a string, got an integer"),
        ("msg.image{uri = 'x'}", "msg.image: unknown field uri"),
        ("msg.dice(7)", "msg.dice: value must be an integer from 1 to 6"),
        ("msg.musicShare{kind = 'Spotify'}", "msg.musicShare: kind must be NeteaseCloudMusic"),
        (
            "msg.musicShare{kind = 'QQMusic', title = 't'}",
            "msg.musicShare: jumpUrl must be a string",
        ),
        ("msg.forward({})", "msg.forward: nodes must be a non-empty list"),
        ("msg.forward({{senderId = 1}})", "msg.forward: nodes[1].senderName must be a string"),
        ("msg.file('i', 'n', 'big')", "msg.file: size must be an integer"),
        ("msg.shortVideo{videoId = 'v'}", "msg.shortVideo: fileMd5 must be a string"),
        ("msg.mentions({}, 'me')", "msg.mentions: qq must be an integer"),
        (
            "msg.reply({type = 'NudgeEvent'}, 'x')",
            "msg.reply: ev must be a message event, got a NudgeEvent",
        ),
    ];
    let body: String = cases
        .iter()
        .map(|(lua, _)| {
            format!(
                "  do local ok, e = pcall(function() local r = {lua} return r end)\n  \
                 mirai.sendFriendMessage({REPORTER}, {lua:?} .. ' -> ' .. tostring(e)) end\n"
            )
        })
        .collect();
    let bot = run(&body).await;
    let reports = bot.reports();
    for (lua, want) in cases {
        let got = reports
            .iter()
            .find(|r| r.starts_with(&format!("{lua} -> ")))
            .unwrap_or_else(|| panic!("no report for {lua}: {reports:?}"));
        assert!(got.contains(want), "{lua}: {got}");
        // The error points at the caller's line, not into the module.
        assert!(got.contains("t.lua:"), "{lua}: {got}");
    }
    bot.stop().await;
}

const REPLIER: &str = "
local msg = require('msg')
bot.on('Message', function(ev)
  local t = msg.text(ev)
  if t == 'reply' then
    local id = ev:reply('r:' .. ev.type)
    mirai.sendFriendMessage(REPORTER, 'replied ' .. ev.type .. ' ' .. id)
  elseif t == 'quote' then
    local id = ev:quote(msg.plain('q:') .. ev.type)
    mirai.sendFriendMessage(REPORTER, 'quoted ' .. ev.type .. ' ' .. id)
  elseif t == 'msg.reply' then
    msg.reply(ev, 'via msg')
  end
end)
";

fn sent_to(bot: &Bot, command: &str, target: i64) -> Vec<SentMessage> {
    bot.sim.sent().into_iter().filter(|m| m.command == command && m.target == target).collect()
}

#[tokio::test]
async fn message_events_reply_and_quote_in_their_conversation() {
    let src = REPLIER.replace("REPORTER", &REPORTER.to_string());
    let bot = start(&[("reply.lua", &src)]).await;
    let plain = |t: &str| json!([{"type": "Plain", "text": t}]);

    bot.sim.friend_message(FRIEND, json!("reply"));
    bot.wait_reports(1).await;
    let f = sent_to(&bot, "sendFriendMessage", FRIEND);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].chain, plain("r:FriendMessage"));
    assert_eq!(f[0].quote, None);
    bot.wait_report(&format!("replied FriendMessage {}", f[0].message_id)).await;

    bot.sim.group_message(GROUP, MEMBER, json!("reply"));
    bot.wait_reports(2).await;
    let g = sent_to(&bot, "sendGroupMessage", GROUP);
    assert_eq!(g.len(), 1);
    assert_eq!(g[0].chain, plain("r:GroupMessage"));
    bot.wait_report(&format!("replied GroupMessage {}", g[0].message_id)).await;

    bot.sim.temp_message(GROUP, MEMBER, json!("reply"));
    bot.wait_reports(3).await;
    let t = sent_to(&bot, "sendTempMessage", MEMBER);
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].group, Some(GROUP));
    assert_eq!(t[0].chain, plain("r:TempMessage"));

    let id = bot.sim.group_message(GROUP, MEMBER, json!("quote"));
    bot.wait_reports(4).await;
    let q = sent_to(&bot, "sendGroupMessage", GROUP);
    assert_eq!(q.len(), 2);
    assert_eq!(q[1].quote, Some(id));
    assert_eq!(
        q[1].chain,
        json!([{"type": "Plain", "text": "q:"}, {"type": "Plain", "text": "GroupMessage"}])
    );
    bot.wait_report(&format!("quoted GroupMessage {}", q[1].message_id)).await;

    let id = bot.sim.friend_message(FRIEND, json!("quote"));
    bot.wait_reports(5).await;
    let q = sent_to(&bot, "sendFriendMessage", FRIEND);
    assert_eq!(q.len(), 2);
    assert_eq!(q[1].quote, Some(id));

    bot.sim.world(|w| w.add_other_client(31, "MOBILE"));
    bot.sim.inject(json!({
        "type": "OtherClientMessage", "sender": {"id": 31, "platform": "MOBILE"},
        "messageChain": [{"type": "Plain", "text": "reply"}],
    }));
    bot.wait_reports(6).await;
    let o = sent_to(&bot, "sendOtherClientMessage", 31);
    assert_eq!(o.len(), 1);
    assert_eq!(o[0].chain, plain("r:OtherClientMessage"));

    bot.sim.friend_message(FRIEND, json!("msg.reply"));
    bot.sim
        .wait_for(common::WITHIN, "msg.reply", |s| {
            s.sent().iter().any(|m| m.target == FRIEND && common::text(&m.chain) == "via msg")
        })
        .await
        .expect("msg.reply answers");
    bot.stop().await;
}

#[tokio::test]
async fn decorated_events_encode_as_the_server_sent_them() {
    let script = format!(
        "bot.on('GroupMessage', function(ev)\n\
           local marks = type(ev.reply) .. ' ' .. type(ev.quote) .. ' ' .. #(ev.messageChain .. '!')\n\
           mirai.sendFriendMessage({REPORTER}, marks)\n\
           mirai.sendFriendMessage({REPORTER}, json.encode(ev))\n\
           mirai.sendFriendMessage({REPORTER}, json.encode(ev.messageChain))\n\
         end)\n"
    );
    let bot = start(&[("enc.lua", &script)]).await;
    let event = json!({
        "type": "GroupMessage",
        "messageChain": [{"type": "Source", "id": 77, "time": 1_700_000_000},
                         {"type": "Plain", "text": "hi"}, {"type": "At", "target": 5, "display": ""}],
        "sender": {"id": MEMBER, "memberName": "m", "specialTitle": "", "permission": "MEMBER",
                   "joinTimestamp": 1, "lastSpeakTimestamp": 2, "muteTimeRemaining": 0,
                   "group": {"id": GROUP, "name": "g", "permission": "MEMBER"}},
    });
    bot.sim.push(event.clone());
    let reports = bot.wait_reports(3).await;
    assert_eq!(reports[0], "function function 4");
    let encoded: Value = serde_json::from_str(&reports[1]).expect("json");
    assert_eq!(encoded, event);
    let chain: Value = serde_json::from_str(&reports[2]).expect("json");
    assert_eq!(chain, event["messageChain"]);
    bot.stop().await;
}

#[tokio::test]
async fn a_module_in_scripts_lib_wins_over_the_embedded_one() {
    let bot = start(&[(
        "lib.lua",
        &format!(
            "local msg = require('msg')\n\
             local cmd = require('cmd')\n\
             mirai.sendFriendMessage({REPORTER}, 'own ' .. tostring(msg.mine) .. ' ' .. type(cmd.register))\n\
             bot.on('FriendMessage', function(ev) ev:reply('still decorated') end)\n"
        ),
    )])
    .await;
    // The host was started before scripts/lib existed; write it and load the script again.
    let lib = bot.dir.path().join("lib");
    std::fs::create_dir_all(&lib).expect("lib dir");
    std::fs::write(lib.join("msg.lua"), "return { mine = 'yes' }").expect("write lib");
    bot.write(
        "lib.lua",
        &format!(
            "local msg = require('msg')\n\
             local cmd = require('cmd')\n\
             mirai.sendFriendMessage({REPORTER}, 'own ' .. tostring(msg.mine) .. ' ' .. type(cmd.register))\n\
             bot.on('FriendMessage', function(ev) ev:reply('still decorated') end)\n\
             -- reload\n"
        ),
    );
    bot.wait_report("own nil function").await;
    bot.wait_report("own yes function").await;
    bot.sim.friend_message(FRIEND, json!("x"));
    bot.sim
        .wait_for(common::WITHIN, "a reply", |s| {
            s.sent()
                .iter()
                .any(|m| m.target == FRIEND && common::text(&m.chain) == "still decorated")
        })
        .await
        .expect("events keep their methods");
    bot.stop().await;
}

#[tokio::test]
async fn an_error_inside_the_stdlib_names_its_file() {
    // A node whose chain holds a number fails inside the module, and says where.
    let script = format!(
        "local msg = require('msg')\n\
         local ok, e = pcall(msg.forward, {{ {{ messageChain = {{ 5 }}, sender = {{ id = 1 }} }} }})\n\
         bot.on('load', function() mirai.sendFriendMessage({REPORTER}, tostring(ok) .. ' ' .. tostring(e)) end)\n"
    );
    let bot = start(&[("err.lua", &script)]).await;
    let reports = bot.wait_reports(1).await;
    assert!(reports[0].contains("stdlib/msg.lua:"), "{reports:?}");
    bot.stop().await;
}
