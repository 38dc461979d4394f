//! Scripts against a mirai-api-http 1.x server, over the http adapter's 1.x dialect.

mod common;

use common::{start_custom, Transport, REPORTER};
use mahua::sim::{SimConfig, SimProtocol};
use serde_json::json;

const FRIEND: i64 = 12345;

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
