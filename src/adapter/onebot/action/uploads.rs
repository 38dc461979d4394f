//! Uploads: images, voices and videos answered locally as `base64://` ids, group files sent on.

use serde_json::json;

use super::{files, Ctx, Outcome, Stop};
use crate::adapter::Upload;
use crate::protocol::StatusCode;

pub(super) async fn upload_inner(upload: &Upload, ctx: &Ctx<'_>) -> Outcome {
    let field = |k: &str| upload.fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let part = |k: &str| upload.files.iter().find(|f| f.field == k);
    let ty = field("type").ok_or(Stop::missing("type"))?;
    let media = |part_name: &str| -> Result<String, Stop> {
        if let Some(url) = field("url").filter(|u| !u.is_empty()) {
            return Ok(url.to_owned());
        }
        let p = part(part_name).ok_or(Stop::missing(part_name))?;
        Ok(format!("base64://{}", base64(&p.bytes)))
    };
    let media_type = matches!(ty, "friend" | "Friend" | "group" | "Group" | "temp" | "Temp");
    match upload.command.as_str() {
        "uploadImage" | "uploadVoice" | "uploadShortVideo" if !media_type => {
            Err(Stop::code(StatusCode::InvalidArgument))
        }
        "uploadImage" => {
            let id = media("img")?;
            Ok(json!({ "imageId": id, "url": id }))
        }
        "uploadVoice" => Ok(json!({ "voiceId": media("voice")? })),
        "uploadShortVideo" => {
            let p = part("video").ok_or(Stop::missing("video"))?;
            Ok(json!({ "videoId": format!("base64://{}", base64(&p.bytes)) }))
        }
        "file_upload" => {
            if ty != "group" {
                return Err(Stop::code(StatusCode::Unsupported));
            }
            let target = field("target").and_then(|t| t.trim().parse::<i64>().ok());
            let target = target.ok_or(Stop::missing("target"))?;
            let p = part("file").ok_or(Stop::missing("file"))?;
            let name = if p.name.is_empty() { "file" } else { p.name.as_str() };
            files::upload(ctx, target, field("path").unwrap_or_default(), name, &p.bytes).await
        }
        other => Err(Stop::unsupported(format!("{other} is not available over OneBot"))),
    }
}

/// Standard base64 with padding, as `base64://` ids carry it.
pub(super) fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let sextet = |shift: u32| char::from(ALPHABET[((n >> shift) & 63) as usize]);
        out.push(sextet(18));
        out.push(sextet(12));
        out.push(if chunk.len() > 1 { sextet(6) } else { '=' });
        out.push(if chunk.len() > 2 { sextet(0) } else { '=' });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_standard_alphabet_and_padding() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64(&[0xff, 0xfe, 0x00]), "//4A");
    }
}
