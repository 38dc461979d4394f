//! The example scripts in `scripts/`, each run as it ships (or with its settings
//! shortened) against the simulator.

mod common;

use axum::routing::get;
use axum::Router;
use common::{start, text, Bot, WITHIN};
use mahua::sim::world::Permission;
use mahua::sim::DEFAULT_FRIEND;
use serde_json::json;

const GROUP: i64 = 100_000;

fn example(name: &str) -> String {
    std::fs::read_to_string(format!("scripts/{name}"))
        .unwrap_or_else(|e| panic!("scripts/{name}: {e}"))
}

/// `src` with `from` replaced, which must be there.
fn patched(src: &str, from: &str, to: &str) -> String {
    assert!(src.contains(from), "the example no longer has {from:?}");
    src.replace(from, to)
}

/// Wait for the bot to say `want` to `target` (a friend or a group).
async fn said(bot: &Bot, target: i64, want: &str) {
    let want = want.to_owned();
    bot.sim
        .wait_for(WITHIN, &format!("the bot to say {want:?}"), move |s| {
            s.sent().iter().any(|m| m.target == target && text(&m.chain) == want)
        })
        .await
        .unwrap_or_else(|e| {
            panic!(
                "{e}; said: {:?}",
                bot.sim.sent().iter().map(|m| text(&m.chain)).collect::<Vec<_>>()
            )
        });
}

/// The bot's messages to `target` so far.
fn said_to(bot: &Bot, target: i64) -> Vec<String> {
    bot.sim.sent().iter().filter(|m| m.target == target).map(|m| text(&m.chain)).collect()
}

#[tokio::test]
async fn welcome_greets_newcomers() {
    let bot = start(&[("welcome.lua", &example("welcome.lua"))]).await;
    bot.sim.member_join(GROUP, 555);
    bot.sim
        .wait_for(WITHIN, "a welcome", |s| {
            s.sent().iter().any(|m| {
                m.target == GROUP
                    && m.chain[0] == json!({"type": "At", "target": 555})
                    && text(&m.chain).contains("welcome to")
            })
        })
        .await
        .expect("welcomed");
    bot.stop().await;
}

#[tokio::test]
async fn daily_posts_every_day() {
    let src = patched(&example("daily.lua"), "local DAY = 24 * 60 * 60", "local DAY = 0.05");
    let src = patched(&src, "bot.after(seconds_until(AT),", "bot.after(0,");
    let bot = start(&[("daily.lua", &src)]).await;
    bot.sim
        .wait_for(WITHIN, "three posts", |s| {
            s.sent()
                .iter()
                .filter(|m| m.target == GROUP && text(&m.chain) == "Good morning, everyone!")
                .count()
                >= 3
        })
        .await
        .expect("posts");
    bot.stop().await;
}
#[tokio::test]
async fn guess_plays_a_whole_game() {
    let bot = start(&[("guess.lua", &example("guess.lua"))]).await;
    bot.sim.friend_message(DEFAULT_FRIEND, json!("guess"));
    let (mut low, mut high) = (1, 100);
    let mut before = 0;
    for _ in 0..7 {
        let told =
            |s: &mahua::sim::Sim| s.sent().iter().filter(|m| m.target == DEFAULT_FRIEND).count();
        // The intro, or the answer to the last guess.
        bot.sim
            .wait_for(WITHIN, "the bot's turn", move |s| told(s) > before)
            .await
            .expect("answers");
        before = told(&bot.sim);
        let last = said_to(&bot, DEFAULT_FRIEND).pop().unwrap_or_default();
        match last.as_str() {
            "Higher." => low = (low + high) / 2 + 1,
            "Lower." => high = (low + high) / 2 - 1,
            won if won.starts_with("Right") => {
                bot.stop().await;
                return;
            }
            intro if intro.starts_with("I'm thinking") => {}
            other => panic!("unexpected answer {other:?}"),
        }
        bot.sim.friend_message(DEFAULT_FRIEND, json!(((low + high) / 2).to_string()));
    }
    bot.sim
        .wait_for(WITHIN, "the last answer", move |s| {
            s.sent().iter().filter(|m| m.target == DEFAULT_FRIEND).count() > before
        })
        .await
        .expect("answers");
    let last = said_to(&bot, DEFAULT_FRIEND).pop().unwrap_or_default();
    assert!(
        last.starts_with("Right"),
        "a binary search wins in 7 tries: {:?}",
        said_to(&bot, DEFAULT_FRIEND)
    );
    bot.stop().await;
}

#[tokio::test]
async fn roll_answers_commands() {
    let bot = start(&[("roll.lua", &example("roll.lua"))]).await;
    bot.sim.world(|w| w.add_member(GROUP, 20_002, "you", Permission::Member));
    bot.sim.group_message(GROUP, 20_002, json!("/roll 1"));
    said(&bot, GROUP, "Roll 1 to 10 dice with at least 2 sides.").await;
    bot.sim.friend_message(DEFAULT_FRIEND, json!("/r 6 3"));
    bot.sim
        .wait_for(WITHIN, "three dice", |s| {
            s.sent()
                .iter()
                .any(|m| m.target == DEFAULT_FRIEND && text(&m.chain).split(" + ").count() == 3)
        })
        .await
        .expect("rolled");
    bot.stop().await;
}

#[tokio::test]
async fn fact_fetches_from_the_web() {
    let app = Router::new().route("/fact", get(|| async { r#"{"text": "Honey never spoils."}"# }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let src = patched(
        &example("fact.lua"),
        "local URL = \"https://uselessfacts.jsph.pl/api/v2/facts/random?language=en\"",
        &format!("local URL = \"http://{addr}/fact\""),
    );
    let bot = start(&[("fact.lua", &src)]).await;
    bot.sim.group_message(GROUP, 20_001, json!("!fact"));
    said(&bot, GROUP, "Honey never spoils.").await;
    bot.stop().await;
}
