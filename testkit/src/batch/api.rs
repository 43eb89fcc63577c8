//! The `/v1/batches` endpoints: create, retrieve, list and cancel.
//!
//! Creating checks the request and the input file's existence and purpose at once (a 400
//! otherwise); the file's lines are checked by the runner, so a bad file shows up as a
//! batch that goes from `validating` to `failed`, as on OpenAI.

use std::sync::Arc;

use hyper::body::Bytes;
use hyper::Response;
use serde_json::{json, Map, Value};

use crate::batch::run;
use crate::batch::state::{BatchRequest, BatchStatus};
use crate::body::ReplyBody;
use crate::reply;
use crate::request::Endpoint;
use crate::shared::Shared;

const BATCHES: &str = "/v1/batches";

/// OpenAI's limits on `metadata`.
const METADATA_KEYS: usize = 16;
const METADATA_KEY_LEN: usize = 64;
const METADATA_VALUE_LEN: usize = 512;

/// Answers a request under `/v1/batches`; `None` when no route here matches.
pub(crate) fn handle(
    shared: &Arc<Shared>,
    method: &str,
    path: &str,
    body: &Bytes,
) -> Option<Response<ReplyBody>> {
    let rest = path.strip_prefix(BATCHES)?;
    if !rest.is_empty() && !rest.starts_with('/') {
        return None;
    }
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    Some(match (method, segments.as_slice()) {
        ("POST", []) => create(shared, body),
        ("GET", []) => list(shared),
        ("GET", [id]) => match shared.batches.get(id) {
            Some(cell) => reply::json(200, &cell.lock().object()),
            None => no_such_batch(id),
        },
        ("POST", [id, "cancel"]) => cancel(shared, id),
        _ => return None,
    })
}

fn no_such_batch(id: &str) -> Response<ReplyBody> {
    reply::invalid(
        404,
        &format!("No such Batch object: {id}"),
        Some("batch_id"),
    )
}

fn create(shared: &Arc<Shared>, body: &Bytes) -> Response<ReplyBody> {
    let request = match parse_create(body) {
        Ok(request) => request,
        Err((message, param)) => {
            shared.counters.rejected();
            return reply::invalid(400, &message, param);
        }
    };
    let Some(file) = shared.files.get(&request.input_file_id) else {
        shared.counters.rejected();
        let message = format!("No such File object: {}", request.input_file_id);
        return reply::invalid(400, &message, Some("input_file_id"));
    };
    if file.purpose != "batch" {
        shared.counters.rejected();
        let message = format!(
            "Invalid 'input_file_id': file {} has purpose '{}', but batches need purpose 'batch'.",
            file.id, file.purpose
        );
        return reply::invalid(400, &message, Some("input_file_id"));
    }
    shared.counters.batch_created();
    let cell = shared.batches.create(request);
    // The object is taken before the runner starts, so the reply always says
    // `validating`, as OpenAI's does.
    let object = cell.lock().object();
    tokio::spawn(run::run(Arc::clone(shared), cell, file.data));
    reply::json(200, &object)
}

fn list(shared: &Shared) -> Response<ReplyBody> {
    // Newest first, as OpenAI lists them.
    let data: Vec<Value> = shared
        .batches
        .list()
        .iter()
        .rev()
        .map(|cell| cell.lock().object())
        .collect();
    let first = data.first().map(|b| b["id"].clone());
    let last = data.last().map(|b| b["id"].clone());
    reply::json(
        200,
        &json!({"object": "list", "data": data, "first_id": first, "last_id": last, "has_more": false}),
    )
}

fn cancel(shared: &Shared, id: &str) -> Response<ReplyBody> {
    let Some(cell) = shared.batches.get(id) else {
        return no_such_batch(id);
    };
    let mut batch = cell.lock();
    match batch.status {
        BatchStatus::Validating | BatchStatus::InProgress => {
            batch.set_status(BatchStatus::Cancelling);
            let object = batch.object();
            drop(batch);
            cell.cancel.notify_one();
            reply::json(200, &object)
        }
        // Asking again is harmless.
        BatchStatus::Cancelling | BatchStatus::Cancelled => reply::json(200, &batch.object()),
        status => {
            let message = format!("Cannot cancel a batch with status '{}'.", status.as_str());
            reply::invalid(409, &message, None)
        }
    }
}

/// The create request's fields, or a 400's message and the parameter it is about.
fn parse_create(body: &[u8]) -> Result<BatchRequest, (String, Option<&'static str>)> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        (
            format!("We could not parse the JSON body of your request: {e}"),
            None,
        )
    })?;
    let obj = value
        .as_object()
        .ok_or_else(|| ("the request body must be a JSON object".to_string(), None))?;
    let input_file_id = string(obj, "input_file_id")?;
    let endpoint_path = string(obj, "endpoint")?;
    let endpoint = Endpoint::from_path(&endpoint_path).ok_or_else(|| {
        (
            format!("Invalid value for 'endpoint': '{endpoint_path}'. The test server supports '/v1/chat/completions' and '/v1/completions'."),
            Some("endpoint"),
        )
    })?;
    let completion_window = string(obj, "completion_window")?;
    if completion_window != "24h" {
        return Err((
            format!("Invalid value for 'completion_window': '{completion_window}'. Supported values are: '24h'."),
            Some("completion_window"),
        ));
    }
    let metadata = match obj.get("metadata") {
        None | Some(Value::Null) => Value::Null,
        Some(Value::Object(m)) => {
            check_metadata(m)?;
            Value::Object(m.clone())
        }
        Some(_) => {
            return Err((
                "'metadata' must be an object of strings".into(),
                Some("metadata"),
            ))
        }
    };
    Ok(BatchRequest {
        endpoint,
        input_file_id,
        completion_window,
        metadata,
    })
}

fn string(
    obj: &Map<String, Value>,
    name: &'static str,
) -> Result<String, (String, Option<&'static str>)> {
    match obj.get(name) {
        Some(Value::String(s)) => Ok(s.clone()),
        None | Some(Value::Null) => {
            Err((format!("Missing required parameter: '{name}'."), Some(name)))
        }
        Some(_) => Err((format!("'{name}' must be a string"), Some(name))),
    }
}

fn check_metadata(m: &Map<String, Value>) -> Result<(), (String, Option<&'static str>)> {
    let fits = m.len() <= METADATA_KEYS
        && m.iter().all(|(k, v)| {
            k.chars().count() <= METADATA_KEY_LEN
                && v.as_str()
                    .is_some_and(|s| s.chars().count() <= METADATA_VALUE_LEN)
        });
    if fits {
        Ok(())
    } else {
        Err((
            format!("'metadata' must hold at most {METADATA_KEYS} string values, keys up to {METADATA_KEY_LEN} and values up to {METADATA_VALUE_LEN} characters"),
            Some("metadata"),
        ))
    }
}
