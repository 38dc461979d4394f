//! What the message modules' unit tests share: two scenes, a contact cache, one segment received.

use serde_json::Value;

use super::{to_chain, Scene};
use crate::adapter::onebot::cache::Contacts;

pub(super) const GROUP: Scene = Scene { group: Some(100), peer: 100 };

pub(super) const FRIEND: Scene = Scene { group: None, peer: 7 };

pub(super) fn contacts() -> Contacts {
    Contacts::new(10)
}

pub(super) fn one(seg: Value) -> Vec<Value> {
    to_chain(&[seg], GROUP, &contacts())
}
