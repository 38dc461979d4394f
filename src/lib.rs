//! mahua: run QQ bots written in Lua against a mirai-api-http server.

pub mod adapter;
pub mod admin;
pub mod cli;
pub mod config;
pub mod docs;
pub mod host;
pub mod lua;
pub mod metrics;
pub mod protocol;
pub mod sim;
pub mod store;
pub mod testing;
