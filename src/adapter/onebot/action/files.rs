//! Group files: the root and the folders in it, which is all QQ group files have.

use serde_json::{json, Value};

use super::{act, act_or, as_i64, data, int, items, lock, ok, text, Content, Ctx, Outcome, Stop};
use crate::protocol::StatusCode;

/// The root folder's id and path.
pub(super) const ROOT: &str = "/";

/// A file or folder of a group, as OneBot lists it.
#[derive(Debug, Clone)]
pub(super) struct Node {
    /// The OneBot object (`file_id`… or `folder_id`…).
    pub raw: Value,
    /// Whether it is a file.
    pub is_file: bool,
    /// The folder it is in: `None` for the root, `Some((id, name))` for a folder.
    pub parent: Option<(String, String)>,
}

impl Node {
    pub(super) fn id(&self) -> &str {
        text(&self.raw, if self.is_file { "file_id" } else { "folder_id" })
    }

    pub(super) fn name(&self) -> &str {
        text(&self.raw, if self.is_file { "file_name" } else { "folder_name" })
    }

    fn parent_id(&self) -> &str {
        self.parent.as_ref().map_or(ROOT, |(id, _)| id.as_str())
    }
}

/// What `locate` found.
pub(super) enum Place {
    Root,
    Node(Node),
}

/// The files and folders of one folder (`None`: the root).
pub(super) async fn listing(
    ctx: &Ctx<'_>,
    group: i64,
    folder: Option<(&str, &str)>,
) -> Result<Vec<Node>, Stop> {
    let d = match folder {
        None => act(ctx, "get_group_root_files", json!({ "group_id": group })).await?,
        Some((id, _)) => {
            let params = json!({ "group_id": group, "folder_id": id });
            act(ctx, "get_group_files_by_folder", params).await?
        }
    };
    let parent = folder.map(|(id, name)| (id.to_owned(), name.to_owned()));
    let folders = items(&d, "folders").iter().map(|f| Node {
        raw: f.clone(),
        is_file: false,
        parent: parent.clone(),
    });
    let files = items(&d, "files").iter().map(|f| Node {
        raw: f.clone(),
        is_file: true,
        parent: parent.clone(),
    });
    Ok(folders.chain(files).collect())
}

/// The group of a file call: `target`, else `group` (`qq` alone names no group).
pub(super) fn group_of(c: Content<'_>) -> Result<i64, Stop> {
    c.long("target").or_else(|| c.long("group")).ok_or_else(Stop::not_found)
}

/// The place `id`/`path` names (`path` wins when given).
async fn locate(c: Content<'_>, ctx: &Ctx<'_>, group: i64) -> Result<Place, Stop> {
    match c.text("path") {
        Some(path) => by_path(ctx, group, path).await,
        None => by_id(ctx, group, c.text("id").unwrap_or_default()).await,
    }
}

pub(super) async fn by_path(ctx: &Ctx<'_>, group: i64, path: &str) -> Result<Place, Stop> {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let root = match parts.as_slice() {
        [] => return Ok(Place::Root),
        [_] | [_, _] => listing(ctx, group, None).await?,
        _ => return Err(Stop::not_found()),
    };
    let first = root.into_iter().find(|n| n.name() == parts[0]).ok_or_else(Stop::not_found)?;
    let Some(second) = parts.get(1) else { return Ok(Place::Node(first)) };
    if first.is_file {
        return Err(Stop::not_found());
    }
    let inner = listing(ctx, group, Some((first.id(), first.name()))).await?;
    inner.into_iter().find(|n| n.name() == *second).map(Place::Node).ok_or_else(Stop::not_found)
}

async fn by_id(ctx: &Ctx<'_>, group: i64, id: &str) -> Result<Place, Stop> {
    if id.is_empty() || id == ROOT {
        return Ok(Place::Root);
    }
    let root = listing(ctx, group, None).await?;
    if let Some(n) = root.iter().find(|n| n.id() == id) {
        return Ok(Place::Node(n.clone()));
    }
    for folder in root.iter().filter(|n| !n.is_file) {
        let inner = listing(ctx, group, Some((folder.id(), folder.name()))).await?;
        if let Some(n) = inner.into_iter().find(|n| n.id() == id) {
            return Ok(Place::Node(n));
        }
    }
    Err(Stop::not_found())
}

/// The root folder as mirai-api-http gives it.
fn root_json(group_json: &Value) -> Value {
    json!({
        "name": ROOT, "id": ROOT, "path": ROOT, "parent": null, "contact": group_json,
        "isFile": false, "isDictionary": true, "isDirectory": true, "size": 0, "sha1": null,
        "md5": null, "uploaderId": null, "uploadTime": null, "lastModifyTime": null,
        "downloadInfo": null,
    })
}

/// A folder in the root as mirai-api-http gives it.
fn folder_json(group_json: &Value, id: &str, name: &str) -> Value {
    json!({
        "name": name, "id": id, "path": format!("/{name}"), "parent": root_json(group_json),
        "contact": group_json, "isFile": false, "isDictionary": true, "isDirectory": true,
        "size": 0, "sha1": null, "md5": null, "uploaderId": null, "uploadTime": null,
        "lastModifyTime": null, "downloadInfo": null,
    })
}

/// The parent folder of a node, and its path prefix.
fn parent_json(group_json: &Value, parent: Option<&(String, String)>) -> (Value, String) {
    match parent {
        None => (root_json(group_json), String::new()),
        Some((id, name)) => (folder_json(group_json, id, name), format!("/{name}")),
    }
}

/// A file of the group as mirai-api-http gives it; `url` fills `downloadInfo`.
pub(super) fn file_json(group_json: &Value, node: &Node, url: Option<&str>) -> Value {
    let (parent, prefix) = parent_json(group_json, node.parent.as_ref());
    let f = &node.raw;
    let size = f.get("file_size").or_else(|| f.get("size")).and_then(as_i64).unwrap_or(0);
    let (uploader, uploaded, modified) =
        (int(f, "uploader"), int(f, "upload_time"), int(f, "modify_time"));
    let download = url.map_or(Value::Null, |url| {
        json!({
            "sha1": null, "md5": null, "downloadTimes": 0, "uploaderId": uploader,
            "uploadTime": uploaded, "lastModifyTime": modified, "url": url,
        })
    });
    json!({
        "name": node.name(), "id": node.id(), "path": format!("{prefix}/{}", node.name()),
        "parent": parent, "contact": group_json, "isFile": true, "isDictionary": false,
        "isDirectory": false, "size": size, "sha1": null, "md5": null,
        "uploaderId": uploader, "uploadTime": uploaded, "lastModifyTime": modified,
        "downloadInfo": download,
    })
}

/// A node as mirai-api-http gives it, fetching its download url when asked.
async fn node_json(ctx: &Ctx<'_>, group: i64, node: &Node, with_url: bool) -> Outcome {
    let group_json = lock(ctx.contacts).group_json(group);
    if !node.is_file {
        return Ok(folder_json(&group_json, node.id(), node.name()));
    }
    let url = if with_url {
        let mut params = json!({ "group_id": group, "file_id": node.id() });
        if let Some(busid) = node.raw.get("busid") {
            params["busid"] = busid.clone();
        }
        let d = act(ctx, "get_group_file_url", params).await?;
        Some(text(&d, "url").to_owned())
    } else {
        None
    };
    Ok(file_json(&group_json, node, url.as_deref()))
}

pub(super) async fn list(c: Content<'_>, ctx: &Ctx<'_>) -> Outcome {
    let group = group_of(c)?;
    let folder = match locate(c, ctx, group).await? {
        Place::Root => None,
        Place::Node(n) if !n.is_file => Some(n),
        Place::Node(_) => return Err(Stop::not_found()),
    };
    let children = listing(ctx, group, folder.as_ref().map(|f| (f.id(), f.name()))).await?;
    let with_url = c.flag("withDownloadInfo").unwrap_or(false);
    let offset = usize::try_from(c.long("offset").unwrap_or(0)).unwrap_or(0);
    let size = c.long("size").map_or(usize::MAX, |s| usize::try_from(s).unwrap_or(0));
    let mut out = Vec::new();
    for node in children.iter().skip(offset).take(size) {
        out.push(node_json(ctx, group, node, with_url).await?);
    }
    Ok(data(Value::Array(out)))
}

pub(super) async fn info(c: Content<'_>, ctx: &Ctx<'_>) -> Outcome {
    let group = group_of(c)?;
    match locate(c, ctx, group).await? {
        Place::Root => Err(Stop::not_found()),
        Place::Node(n) => {
            let with_url = c.flag("withDownloadInfo").unwrap_or(false);
            Ok(data(node_json(ctx, group, &n, with_url).await?))
        }
    }
}

pub(super) async fn mkdir(c: Content<'_>, ctx: &Ctx<'_>) -> Outcome {
    let group = group_of(c)?;
    let name = c.need_text("directoryName")?;
    if name.is_empty() || name.contains('/') {
        return Err(Stop::code(StatusCode::InvalidArgument));
    }
    if !matches!(locate(c, ctx, group).await?, Place::Root) {
        return Err(Stop::unsupported(
            "file_mkdir: over OneBot, folders can be made in the root only",
        ));
    }
    let params = json!({ "group_id": group, "name": name, "folder_name": name, "parent_id": ROOT });
    act(ctx, "create_group_file_folder", params).await?;
    // The servers answer no id alike: find the new folder in the root.
    let root = listing(ctx, group, None).await?;
    let made = root.iter().rev().find(|n| !n.is_file && n.name() == name);
    let group_json = lock(ctx.contacts).group_json(group);
    match made {
        Some(n) => Ok(data(folder_json(&group_json, n.id(), name))),
        None => Err(Stop::Refuse(
            StatusCode::ServerError,
            format!("the folder {name:?} was made but does not show in the group's files"),
        )),
    }
}

/// The node a change names; the root cannot be changed (code 10, as mirai-api-http).
async fn changeable(c: Content<'_>, ctx: &Ctx<'_>, group: i64) -> Result<Node, Stop> {
    match locate(c, ctx, group).await? {
        Place::Root => Err(Stop::code(StatusCode::PermissionDenied)),
        Place::Node(n) => Ok(n),
    }
}

pub(super) async fn delete(c: Content<'_>, ctx: &Ctx<'_>) -> Outcome {
    let group = group_of(c)?;
    let node = changeable(c, ctx, group).await?;
    if node.is_file {
        let mut params = json!({ "group_id": group, "file_id": node.id() });
        if let Some(busid) = node.raw.get("busid") {
            params["busid"] = busid.clone();
        }
        act(ctx, "delete_group_file", params).await?;
    } else {
        let params = json!({ "group_id": group, "folder_id": node.id() });
        act_or(ctx, ("delete_group_folder", params.clone()), ("delete_group_file_folder", params))
            .await?;
    }
    Ok(ok())
}

pub(super) async fn move_to(c: Content<'_>, ctx: &Ctx<'_>) -> Outcome {
    let group = group_of(c)?;
    let node = changeable(c, ctx, group).await?;
    let dest = match (c.text("moveToPath"), c.text("moveTo")) {
        (Some(path), _) => by_path(ctx, group, path).await?,
        (None, Some(id)) => by_id(ctx, group, id).await?,
        (None, None) => return Err(Stop::not_found()),
    };
    let dest = match dest {
        Place::Root => ROOT.to_owned(),
        Place::Node(n) if !n.is_file => n.id().to_owned(),
        Place::Node(_) => return Err(Stop::not_found()),
    };
    if !node.is_file {
        return Err(Stop::code(StatusCode::PermissionDenied));
    }
    let params = json!({
        "group_id": group, "file_id": node.id(),
        "current_parent_directory": node.parent_id(), "target_parent_directory": dest,
    });
    act(ctx, "move_group_file", params).await?;
    Ok(ok())
}

pub(super) async fn rename(c: Content<'_>, ctx: &Ctx<'_>) -> Outcome {
    let group = group_of(c)?;
    let name = c.need_text("renameTo")?;
    if name.is_empty() || name.contains('/') {
        return Err(Stop::code(StatusCode::InvalidArgument));
    }
    let node = changeable(c, ctx, group).await?;
    if node.is_file {
        let params = json!({
            "group_id": group, "file_id": node.id(),
            "current_parent_directory": node.parent_id(), "new_name": name,
        });
        act(ctx, "rename_group_file", params).await?;
    } else {
        let params = json!({ "group_id": group, "folder_id": node.id(), "new_folder_name": name });
        act(ctx, "rename_group_file_folder", params).await?;
    }
    Ok(ok())
}

/// Upload a file into the root or a folder of it; the new file as mirai-api-http gives it.
pub(super) async fn upload(
    ctx: &Ctx<'_>,
    group: i64,
    path: &str,
    name: &str,
    bytes: &[u8],
) -> Outcome {
    let folder = match by_path(ctx, group, path).await? {
        Place::Root => None,
        Place::Node(n) if !n.is_file => Some((n.id().to_owned(), n.name().to_owned())),
        Place::Node(_) => return Err(Stop::not_found()),
    };
    let params = json!({
        "group_id": group,
        "file": format!("base64://{}", super::uploads::base64(bytes)),
        "name": name,
        "folder": folder.as_ref().map_or(ROOT, |(id, _)| id.as_str()),
    });
    let d = act(ctx, "upload_group_file", params).await?;
    let (group_json, bot) = {
        let contacts = lock(ctx.contacts);
        (contacts.group_json(group), contacts.bot)
    };
    let now = crate::adapter::onebot::cache::now();
    let node = Node {
        raw: json!({
            "file_id": text(&d, "file_id"), "file_name": name, "file_size": bytes.len(),
            "uploader": bot, "upload_time": now, "modify_time": now,
        }),
        is_file: true,
        parent: folder,
    };
    Ok(data(file_json(&group_json, &node, None)))
}
