//! Sending forwards: a chain that is one `Forward` element → the `node` segments of the
//! forward actions.

use serde_json::{json, Value};

use super::send::from_chain;
use super::values::{int, kind, segment, text_of};
use super::{Unsendable, FORWARD_DEPTH};

/// Whether a chain is exactly one `Forward` element (it must go by the forward actions).
///
/// A `Source`, which is ignored on send, does not count.
#[must_use]
pub fn is_forward_only(chain: &[Value]) -> bool {
    let mut sent = chain.iter().filter(|e| kind(e) != "Source");
    matches!((sent.next(), sent.next()), (Some(e), None) if kind(e) == "Forward")
}

/// The `node` segments for `send_group_forward_msg` / `send_private_forward_msg` from one MAH `Forward` element.
pub fn forward_nodes(forward: &Value) -> Result<Vec<Value>, Unsendable> {
    nodes_to_send(forward, 1, 0)
}

/// `forward_nodes` for a Forward at `index` in its chain, `depth` forwards deep.
fn nodes_to_send(forward: &Value, index: usize, depth: usize) -> Result<Vec<Value>, Unsendable> {
    let fail = |reason: &str| Unsendable::new(index, kind(forward), reason);
    if kind(forward) != "Forward" {
        return Err(fail("it is not a Forward"));
    }
    if depth >= FORWARD_DEPTH {
        return Err(fail("forwards are nested too deep"));
    }
    let list = forward
        .get("nodeList")
        .and_then(Value::as_array)
        .ok_or_else(|| fail("it has no nodeList"))?;
    if list.is_empty() {
        return Err(fail("its nodeList is empty"));
    }
    let mut nodes = Vec::with_capacity(list.len());
    for (n, node) in list.iter().enumerate() {
        let reference = int(node.get("messageId"))
            .or_else(|| int(node.get("messageRef").and_then(|r| r.get("messageId"))));
        if let Some(id) = reference {
            nodes.push(segment("node", json!({ "id": id.to_string() })));
            continue;
        }
        let chain = node
            .get("messageChain")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let content = match chain.iter().position(|e| kind(e) == "Forward") {
            Some(at) if is_forward_only(chain) => {
                nodes_to_send(&chain[at], at + 1, depth + 1).map(Value::Array)
            }
            _ => from_chain(chain, None).map(Value::Array),
        }
        .map_err(|e| e.in_node(n + 1))?;
        if content.as_array().is_some_and(Vec::is_empty) {
            return Err(fail(&format!("node {} has nothing to send", n + 1)));
        }
        let sender_id = int(node.get("senderId")).unwrap_or(0).to_string();
        let sender_name = text_of(node.get("senderName")).unwrap_or_default();
        nodes.push(segment(
            "node",
            json!({
                "user_id": sender_id,
                "uin": sender_id,
                "nickname": sender_name,
                "name": sender_name,
                "content": content,
            }),
        ));
    }
    Ok(nodes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forward_only_chains() {
        let f = json!({"type": "Forward", "nodeList": []});
        let p = json!({"type": "Plain", "text": "x"});
        assert!(is_forward_only(std::slice::from_ref(&f)));
        assert!(is_forward_only(&[json!({"type": "Source", "id": 1, "time": 1}), f.clone()]));
        assert!(!is_forward_only(&[f.clone(), p.clone()]));
        assert!(!is_forward_only(&[f.clone(), f]));
        assert!(!is_forward_only(&[p]));
        assert!(!is_forward_only(&[]));
    }

    #[test]
    fn forward_nodes_by_id_and_by_content() {
        let forward = json!({"type": "Forward", "display": null, "nodeList": [
            {"messageId": 31},
            {"messageRef": {"messageId": "32", "target": 100}},
            {"senderId": 7, "time": 0, "senderName": "seven", "messageId": null,
             "messageChain": [{"type": "Plain", "text": "hi"}, {"type": "AtAll"}]},
            {"senderId": 8, "senderName": "eight", "messageChain": [
                {"type": "Forward", "nodeList": [
                    {"senderId": 9, "senderName": "nine", "messageChain": [{"type": "Dice", "value": 1}]},
                ]},
            ]},
        ]});
        assert_eq!(
            forward_nodes(&forward).unwrap(),
            [
                json!({"type": "node", "data": {"id": "31"}}),
                json!({"type": "node", "data": {"id": "32"}}),
                json!({"type": "node", "data": {
                    "user_id": "7", "uin": "7", "nickname": "seven", "name": "seven",
                    "content": [
                        {"type": "text", "data": {"text": "hi"}},
                        {"type": "at", "data": {"qq": "all"}},
                    ],
                }}),
                json!({"type": "node", "data": {
                    "user_id": "8", "uin": "8", "nickname": "eight", "name": "eight",
                    "content": [{"type": "node", "data": {
                        "user_id": "9", "uin": "9", "nickname": "nine", "name": "nine",
                        "content": [{"type": "dice", "data": {}}],
                    }}],
                }}),
            ]
        );
    }

    #[test]
    fn forward_nodes_errors() {
        let e = forward_nodes(&json!({"type": "Forward", "nodeList": [
            {"senderId": 1, "senderName": "a", "messageChain": [{"type": "Plain", "text": "x"}]},
            {"senderId": 1, "senderName": "a", "messageChain": [
                {"type": "Plain", "text": "x"}, {"type": "File", "id": "", "name": "", "size": 0},
            ]},
        ]}))
        .unwrap_err();
        assert_eq!((e.index, e.element.as_str()), (2, "File"));
        assert!(e.reason.starts_with("in forward node 2: "), "{e}");
        let e = forward_nodes(&json!({"type": "Forward", "nodeList": [
            {"senderId": 1, "senderName": "a", "messageChain": [
                {"type": "Forward", "nodeList": [{"senderId": 2, "messageChain": [{"type": "MarketFace"}]}]},
            ]},
        ]}))
        .unwrap_err();
        assert_eq!(e.element, "MarketFace");
        assert!(e.reason.starts_with("in forward node 1: in forward node 1: "), "{e}");
        assert!(forward_nodes(&json!({"type": "Forward", "nodeList": []})).is_err());
        assert!(forward_nodes(&json!({"type": "Forward"})).is_err());
        assert!(forward_nodes(&json!({"type": "Plain", "text": "x"})).is_err());
        assert!(forward_nodes(&json!({"type": "Forward", "nodeList": [{"senderId": 1}]})).is_err());
        let mut deep = json!({"type": "Forward", "nodeList": [{"messageId": 1}]});
        for _ in 0..FORWARD_DEPTH {
            deep =
                json!({"type": "Forward", "nodeList": [{"senderId": 1, "messageChain": [deep]}]});
        }
        assert!(forward_nodes(&deep).unwrap_err().reason.contains("too deep"));
    }
}
