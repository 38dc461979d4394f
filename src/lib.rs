//! mahua: run QQ bots written in Lua against a mirai-api-http server.

pub mod protocol;
pub mod sim;
