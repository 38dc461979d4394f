//! The classic QQ faces: the name of a received face, the id of a face sent by name.

use serde_json::Value;

use super::values::int;

/// Names of the classic QQ faces, for `Face.name` on receive and faces sent by name.
const FACES: &[(i64, &str)] = &[
    (0, "惊讶"),
    (1, "撇嘴"),
    (2, "色"),
    (3, "发呆"),
    (4, "得意"),
    (5, "流泪"),
    (6, "害羞"),
    (7, "闭嘴"),
    (8, "睡"),
    (9, "大哭"),
    (10, "尴尬"),
    (11, "发怒"),
    (12, "调皮"),
    (13, "呲牙"),
    (14, "微笑"),
    (15, "难过"),
    (16, "酷"),
    (18, "抓狂"),
    (19, "吐"),
    (20, "偷笑"),
    (21, "可爱"),
    (22, "白眼"),
    (23, "傲慢"),
    (24, "饥饿"),
    (25, "困"),
    (26, "惊恐"),
    (27, "流汗"),
    (28, "憨笑"),
    (29, "悠闲"),
    (30, "奋斗"),
    (31, "咒骂"),
    (32, "疑问"),
    (33, "嘘"),
    (34, "晕"),
    (35, "折磨"),
    (36, "衰"),
    (37, "骷髅"),
    (38, "敲打"),
    (39, "再见"),
    (41, "发抖"),
    (42, "爱情"),
    (43, "跳跳"),
    (46, "猪头"),
    (49, "拥抱"),
    (53, "蛋糕"),
    (60, "咖啡"),
    (63, "玫瑰"),
    (64, "凋谢"),
    (66, "爱心"),
    (67, "心碎"),
    (74, "太阳"),
    (75, "月亮"),
    (76, "赞"),
    (77, "踩"),
    (78, "握手"),
    (79, "胜利"),
    (99, "鼓掌"),
];

/// A face's name, or `""` when it is not in the table.
pub(super) fn face_name(id: i64) -> &'static str {
    FACES.iter().find(|(i, _)| *i == id).map_or("", |(_, name)| name)
}

/// The face id to send for a `Face`: its `faceId`, or the id of its `name`.
pub(super) fn face_id(element: &Value) -> Result<String, String> {
    if let Some(id) = int(element.get("faceId")).filter(|id| *id >= 0) {
        return Ok(id.to_string());
    }
    match element.get("name").and_then(Value::as_str).filter(|n| !n.is_empty()) {
        Some(name) => FACES
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(id, _)| id.to_string())
            .ok_or_else(|| format!("no face is named \"{name}\"; give its faceId")),
        None => Err("it has no faceId".to_owned()),
    }
}
