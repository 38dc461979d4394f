//! Scripts against a mirai-api-http 1.x server, over the http adapter's 1.x dialect.

mod common;

use common::{start_custom, Transport, REPORTER};
use mahua::sim::{SimConfig, SimProtocol, DEFAULT_GROUP};
use serde_json::json;

const FRIEND: i64 = 12345;
/// A plain member of the default group.
const MEMBER: i64 = 20003;

fn v1_config() -> SimConfig {
    SimConfig { protocol: SimProtocol::V1 { wrapped_fetch: true }, ..SimConfig::default() }
}

async fn scripts_work_end_to_end(wrapped_fetch: bool) {
    let script = format!(
        "bot.on('FriendMessage', function(ev)\n\
           local text = ev.messageChain[2].text\n\
           local id = mirai.sendFriendMessage(ev.sender.id, 'echo ' .. text)\n\
           local friends = mirai.friendList()\n\
           local recalled = pcall(mirai.recall, id)\n\
           local img = mirai.uploadImage('friend', {{bytes = 'png', name = 'a.png'}})\n\
           local ok, e = pcall(mirai.anno_list, 1)\n\
           mirai.sendFriendMessage({REPORTER}, table.concat({{#friends > 0 and 'friends' or 'none',\n\
             tostring(recalled), type(img.imageId), tostring(e)}}, '|'))\n\
         end)\n"
    );
    let cfg = SimConfig { protocol: SimProtocol::V1 { wrapped_fetch }, ..SimConfig::default() };
    let bot = start_custom(Transport::HttpV1, cfg, &[("v1.lua", &script)], |_| {}).await;
    bot.sim.friend_message(FRIEND, json!("hi"));
    let report = bot.wait_reports(1).await.remove(0);
    let parts: Vec<_> = report.split('|').collect();
    assert_eq!(parts[..3], ["friends", "true", "string"], "{report}");
    assert!(parts[3].contains("not available on a mirai-api-http 1.x server"), "{report}");
    let echoed = bot
        .sim
        .sent()
        .into_iter()
        .any(|m| m.target == FRIEND && common::text(&m.chain) == "echo hi");
    assert!(echoed);
    let recall =
        bot.sim.received().into_iter().find(|r| r.command == "recall").expect("recall sent");
    assert!(
        recall.content.get("messageId").is_none(),
        "1.x names the message by `target`: {}",
        recall.content
    );
    bot.stop().await;
}

#[tokio::test]
async fn scripts_work_with_early_bare_fetches() {
    scripts_work_end_to_end(false).await;
}

#[tokio::test]
async fn scripts_work_with_later_wrapped_fetches() {
    scripts_work_end_to_end(true).await;
}

#[tokio::test]
async fn scripts_see_two_x_shapes_over_one_x() {
    let script = format!(
        "local function shape(ev)\n\
           local s = ev.messageChain[1]\n\
           return table.concat({{ev.type, s.type, math.type(s.id), tostring(s.id),\n\
             math.type(s.time), ev.messageChain[2].text}}, ',')\n\
         end\n\
         bot.on('FriendMessage', function(ev)\n\
           local f = mirai.friendList()[1]\n\
           mirai.sendFriendMessage({REPORTER}, table.concat({{shape(ev), tostring(ev.sender.nickname),\n\
             tostring(ev.sender.nickName), tostring(f.nickname), tostring(f.nickName)}}, '|'))\n\
         end)\n\
         bot.on('GroupMessage', function(ev)\n\
           local m = mirai.memberList(ev.sender.group.id)[1]\n\
           mirai.sendFriendMessage({REPORTER}, table.concat({{shape(ev), ev.sender.specialTitle,\n\
             tostring(ev.sender.joinTimestamp), tostring(m.muteTimeRemaining)}}, '|'))\n\
         end)\n"
    );
    let bot =
        start_custom(Transport::HttpV1, v1_config(), &[("shapes.lua", &script)], |_| {}).await;
    bot.sim.friend_message(FRIEND, json!("hello"));
    let friend = bot.wait_reports(1).await.remove(0);
    let parts: Vec<_> = friend.split('|').collect();
    // 1.x sent no Source: the chain leads with one of id 0.
    assert_eq!(parts[0], "FriendMessage,Source,integer,0,integer,hello", "{friend}");
    assert_ne!(parts[1], "nil", "{friend}");
    assert_eq!(parts[2], "nil", "{friend}");
    assert_ne!(parts[3], "nil", "{friend}");
    assert_eq!(parts[4], "nil", "{friend}");
    let id = bot.sim.group_message(DEFAULT_GROUP, MEMBER, json!("hey"));
    let group = bot.wait_reports(2).await.remove(1);
    // 1.x named the group message's id `uid`.
    assert_eq!(group, format!("GroupMessage,Source,integer,{id},integer,hey||0|0"));
    bot.stop().await;
}

#[tokio::test]
async fn kick_with_block_fails_and_kicks_nobody() {
    let script = format!(
        "bot.on('FriendMessage', function(ev)\n\
           local ok, e = pcall(mirai.kick, {DEFAULT_GROUP}, {MEMBER}, 'm', true)\n\
           mirai.sendFriendMessage({REPORTER}, tostring(ok) .. '|' .. tostring(e))\n\
         end)\n"
    );
    let bot = start_custom(Transport::HttpV1, v1_config(), &[("kick.lua", &script)], |_| {}).await;
    bot.sim.friend_message(FRIEND, json!("go"));
    let report = bot.wait_reports(1).await.remove(0);
    assert!(report.starts_with("false|"), "{report}");
    assert!(report.contains("`block`") && report.contains("cannot block"), "{report}");
    assert!(bot.sim.received().iter().all(|r| r.command != "kick"), "no kick may be sent");
    bot.stop().await;
}
