//! The mirai-api-http 2.x wire format: commands, events, message chains and status codes.

pub mod chain;
pub mod commands;
pub mod event;
pub mod frame;
pub mod status;
pub mod v1;

pub use commands::{Command, COMMANDS};
pub use event::Event;
pub use status::StatusCode;
