//! OneBot messages (segment arrays and CQ-code strings) and mirai-api-http message chains.
//!
//! Received segments become the chain elements scripts know, with every key mirai-api-http
//! gives; a chain a script sends becomes segments, or an [`Unsendable`] naming the element
//! OneBot has no way to carry. Nothing here fails on malformed input: a value of the wrong
//! type is defaulted or its segment dropped.

mod cq;
mod faces;
mod forward;
mod pokes;
mod receive;
mod send;
#[cfg(test)]
mod testing;
mod values;

pub use cq::{parse_cq, segments, segments_of, to_cq};
pub use forward::{forward_nodes, is_forward_only};
pub use receive::to_chain;
pub use send::from_chain;

/// How deep forwarded messages inside forwarded messages are unfolded or built.
const FORWARD_DEPTH: usize = 8;

/// Where a received message was said: `group` for group/temp messages, `peer` = the group for group messages, else the friend/user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scene {
    /// The group, for group and temp messages.
    pub group: Option<i64>,
    /// The conversation: the group for group messages, else the friend or user.
    pub peer: i64,
}

/// An element that cannot be sent over OneBot.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("element {index} ({element}) cannot be sent over OneBot: {reason}")]
pub struct Unsendable {
    /// The element's place in its chain, counting from 1.
    pub index: usize,
    /// The element's `type`.
    pub element: String,
    /// Why it cannot be sent.
    pub reason: String,
}

impl Unsendable {
    fn new(index: usize, element: &str, reason: impl Into<String>) -> Self {
        let element = if element.is_empty() { "no type" } else { element };
        Self { index, element: element.to_owned(), reason: reason.into() }
    }

    /// The same error, said to be inside node `node` of a forward.
    fn in_node(mut self, node: usize) -> Self {
        self.reason = format!("in forward node {node}: {}", self.reason);
        self
    }
}
