//! The `/v1/files` endpoints: upload (multipart), retrieve, download, list and delete.

use hyper::body::Bytes;
use hyper::header::CONTENT_TYPE;
use hyper::{HeaderMap, Response};
use serde_json::json;

use crate::body::ReplyBody;
use crate::files::multipart;
use crate::reply;
use crate::shared::Shared;

const FILES: &str = "/v1/files";

/// The purposes OpenAI accepts for uploads.
const PURPOSES: &[&str] = &[
    "assistants",
    "batch",
    "fine-tune",
    "vision",
    "user_data",
    "evals",
];

/// Answers a request under `/v1/files`; `None` when no route here matches.
pub(crate) fn handle(
    shared: &Shared,
    method: &str,
    path: &str,
    headers: &HeaderMap,
    body: &Bytes,
) -> Option<Response<ReplyBody>> {
    let rest = path.strip_prefix(FILES)?;
    if !rest.is_empty() && !rest.starts_with('/') {
        return None;
    }
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    Some(match (method, segments.as_slice()) {
        ("POST", []) => upload(shared, headers, body),
        ("GET", []) => {
            let data: Vec<_> = shared.files.list().iter().map(|f| f.object()).collect();
            reply::json(
                200,
                &json!({"object": "list", "data": data, "has_more": false}),
            )
        }
        ("GET", [id]) => match shared.files.get(id) {
            Some(file) => reply::json(200, &file.object()),
            None => no_such_file(id),
        },
        ("GET", [id, "content"]) => match shared.files.get(id) {
            Some(file) => reply::raw(200, "application/octet-stream", file.data),
            None => no_such_file(id),
        },
        ("DELETE", [id]) => {
            if shared.files.remove(id) {
                reply::json(200, &json!({"id": id, "object": "file", "deleted": true}))
            } else {
                no_such_file(id)
            }
        }
        _ => return None,
    })
}

fn no_such_file(id: &str) -> Response<ReplyBody> {
    reply::invalid(404, &format!("No such File object: {id}"), Some("id"))
}

fn upload(shared: &Shared, headers: &HeaderMap, body: &Bytes) -> Response<ReplyBody> {
    match parse_upload(headers, body) {
        Ok(upload) => {
            shared.counters.file_uploaded();
            let file = shared
                .files
                .add(&upload.filename, &upload.purpose, upload.data);
            reply::json(200, &file.object())
        }
        Err((message, param)) => {
            shared.counters.rejected();
            reply::invalid(400, &message, param)
        }
    }
}

struct Upload {
    filename: String,
    purpose: String,
    data: Bytes,
}

/// The upload's fields, or a 400's message and the parameter it is about.
fn parse_upload(
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Upload, (String, Option<&'static str>)> {
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            (
                "file uploads must be sent as multipart/form-data".to_string(),
                None,
            )
        })?;
    let boundary = multipart::boundary(content_type).map_err(|m| (m, None))?;
    let parts = multipart::parse(body, &boundary).map_err(|m| (m, None))?;
    let field = |name: &str| parts.iter().find(|p| p.name == name);

    let purpose = field("purpose").ok_or_else(|| {
        (
            "Missing required parameter: 'purpose'.".to_string(),
            Some("purpose"),
        )
    })?;
    let purpose = std::str::from_utf8(&purpose.data)
        .map(str::trim)
        .unwrap_or_default()
        .to_string();
    if !PURPOSES.contains(&purpose.as_str()) {
        return Err((
            format!(
                "'{purpose}' is not one of {} - 'purpose'",
                PURPOSES.join(", ")
            ),
            Some("purpose"),
        ));
    }
    let file = field("file").ok_or_else(|| {
        (
            "Missing required parameter: 'file'.".to_string(),
            Some("file"),
        )
    })?;
    let filename = file
        .filename
        .clone()
        .filter(|f| !f.is_empty())
        .ok_or_else(|| {
            (
                "'file' must be a file upload with a filename".to_string(),
                Some("file"),
            )
        })?;
    Ok(Upload {
        filename,
        purpose,
        data: file.data.clone(),
    })
}
