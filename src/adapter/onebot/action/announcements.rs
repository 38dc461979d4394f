//! Group announcements: listing and publishing them.

use serde_json::{json, Value};

use super::{act, data, int, items, lock, text, Content, Ctx, Outcome, Stop};
use crate::adapter::onebot::cache::{self, Contacts};

fn announcement(contacts: &Contacts, group: i64, n: &Value) -> Value {
    let content = n.get("message").and_then(|m| m.get("text")).and_then(Value::as_str);
    let fid = match n.get("notice_id") {
        Some(Value::String(s)) => s.clone(),
        Some(v) if !v.is_null() => v.to_string(),
        _ => String::new(),
    };
    json!({
        "group": contacts.group_json(group),
        "content": content.unwrap_or_else(|| text(n, "content")),
        "senderId": int(n, "sender_id"),
        "fid": fid,
        "allConfirmed": false,
        "confirmedMembersCount": 0,
        "publicationTime": int(n, "publish_time"),
    })
}

async fn notices(ctx: &Ctx<'_>, group: i64) -> Result<Vec<Value>, Stop> {
    let d = act(ctx, "_get_group_notice", json!({ "group_id": group })).await?;
    let contacts = lock(ctx.contacts);
    Ok(items(&d, "notices").iter().map(|n| announcement(&contacts, group, n)).collect())
}

pub(super) async fn anno_list(c: Content<'_>, ctx: &Ctx<'_>) -> Outcome {
    let group = c.need("id")?;
    let offset = usize::try_from(c.long("offset").unwrap_or(0)).unwrap_or(0);
    let size = c.long("size").map_or(usize::MAX, |s| usize::try_from(s).unwrap_or(0));
    let list = notices(ctx, group).await?;
    Ok(data(list.into_iter().skip(offset).take(size).collect()))
}

pub(super) async fn anno_publish(c: Content<'_>, ctx: &Ctx<'_>) -> Outcome {
    let group = c.need("target")?;
    let content = c.need_text("content")?;
    let on = |k: &str| i64::from(c.flag(k).unwrap_or(false));
    let mut params = json!({
        "group_id": group,
        "content": content,
        "pinned": on("pinned"),
        "confirm_required": on("requireConfirmation"),
        "is_show_edit_card": on("showEditCard"),
        "tip_window_type": i64::from(!c.flag("showPopup").unwrap_or(false)),
    });
    let image = c
        .text("imageUrl")
        .map(str::to_owned)
        .or_else(|| c.text("imagePath").map(|p| format!("file://{p}")))
        .or_else(|| c.text("imageBase64").map(|b| format!("base64://{b}")));
    if let Some(image) = image {
        params["image"] = json!(image);
    }
    act(ctx, "_send_group_notice", params).await?;
    // The server answers no id: find the new announcement in the list.
    let bot = lock(ctx.contacts).bot;
    let list = notices(ctx, group).await?;
    let mine = list
        .into_iter()
        .filter(|a| a["content"] == content && (bot == 0 || a["senderId"] == bot))
        .max_by_key(|a| a["publicationTime"].as_i64().unwrap_or(0));
    let published = mine.unwrap_or_else(|| {
        json!({
            "group": lock(ctx.contacts).group_json(group), "content": content, "senderId": bot,
            "fid": "", "allConfirmed": false, "confirmedMembersCount": 0,
            "publicationTime": cache::now(),
        })
    });
    Ok(data(published))
}
