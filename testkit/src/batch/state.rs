//! One batch's state and its OpenAI JSON: status, timestamps, counts, errors.

use serde_json::{json, Value};

use crate::completion::now_secs;
use crate::request::Endpoint;

/// How long a batch may take, per its `completion_window`: OpenAI offers only 24 hours.
const WINDOW_SECS: u32 = 24 * 60 * 60;

/// Where a batch is in its life, named as OpenAI names the states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchStatus {
    /// Just created; the input file is being checked.
    Validating,
    /// The input file did not pass the checks; `errors` says why.
    Failed,
    InProgress,
    /// All lines ran; the result files are being written.
    Finalizing,
    Completed,
    /// Only some lines ran ([`crate::Script::batch_expire_after`]); the rest are in the
    /// error file with code `batch_expired`.
    Expired,
    /// Cancel was asked for; results so far are being written.
    Cancelling,
    Cancelled,
}

impl BatchStatus {
    /// The status as it appears in JSON, such as `in_progress`.
    pub fn as_str(self) -> &'static str {
        match self {
            BatchStatus::Validating => "validating",
            BatchStatus::Failed => "failed",
            BatchStatus::InProgress => "in_progress",
            BatchStatus::Finalizing => "finalizing",
            BatchStatus::Completed => "completed",
            BatchStatus::Expired => "expired",
            BatchStatus::Cancelling => "cancelling",
            BatchStatus::Cancelled => "cancelled",
        }
    }

    /// Whether the batch is done changing.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            BatchStatus::Failed
                | BatchStatus::Completed
                | BatchStatus::Expired
                | BatchStatus::Cancelled
        )
    }
}

/// A batch's `request_counts`. At the end `completed + failed` is every line that ran,
/// plus, for an expired batch, the lines that never ran (counted as failed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RequestCounts {
    pub total: u64,
    pub completed: u64,
    pub failed: u64,
}

/// A batch as tests see it, from [`crate::TestServer::batches`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchSummary {
    pub id: String,
    pub status: BatchStatus,
    pub endpoint: Endpoint,
    pub input_file_id: String,
    pub output_file_id: Option<String>,
    pub error_file_id: Option<String>,
    pub request_counts: RequestCounts,
    /// The codes in `errors` of a failed batch, such as `duplicate_custom_id`.
    pub error_codes: Vec<String>,
}

/// One problem found in an input file, as a failed batch lists it in `errors.data`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InputError {
    pub(crate) code: &'static str,
    pub(crate) message: String,
    pub(crate) param: Option<&'static str>,
    /// 1-based; `None` for problems of the whole file.
    pub(crate) line: Option<usize>,
}

/// What a create request asked for.
#[derive(Debug, Clone)]
pub(crate) struct BatchRequest {
    pub(crate) endpoint: Endpoint,
    pub(crate) input_file_id: String,
    pub(crate) completion_window: String,
    /// An object, or `null`.
    pub(crate) metadata: Value,
}

#[derive(Debug)]
pub(crate) struct Batch {
    pub(crate) id: String,
    /// The batch's place in creation order, from 1; line and response ids derive from it.
    pub(crate) number: u64,
    pub(crate) request: BatchRequest,
    pub(crate) status: BatchStatus,
    pub(crate) errors: Vec<InputError>,
    pub(crate) output_file_id: Option<String>,
    pub(crate) error_file_id: Option<String>,
    pub(crate) counts: RequestCounts,
    created_at: u32,
    in_progress_at: Option<u32>,
    finalizing_at: Option<u32>,
    completed_at: Option<u32>,
    failed_at: Option<u32>,
    expired_at: Option<u32>,
    cancelling_at: Option<u32>,
    cancelled_at: Option<u32>,
}

impl Batch {
    pub(crate) fn new(number: u64, request: BatchRequest) -> Self {
        Batch {
            id: format!("batch_testkit{number:08x}"),
            number,
            request,
            status: BatchStatus::Validating,
            errors: Vec::new(),
            output_file_id: None,
            error_file_id: None,
            counts: RequestCounts::default(),
            created_at: now_secs(),
            in_progress_at: None,
            finalizing_at: None,
            completed_at: None,
            failed_at: None,
            expired_at: None,
            cancelling_at: None,
            cancelled_at: None,
        }
    }

    /// Moves to `status` and stamps the time it was reached.
    pub(crate) fn set_status(&mut self, status: BatchStatus) {
        self.status = status;
        let stamp = match status {
            BatchStatus::Validating => return,
            BatchStatus::Failed => &mut self.failed_at,
            BatchStatus::InProgress => &mut self.in_progress_at,
            BatchStatus::Finalizing => &mut self.finalizing_at,
            BatchStatus::Completed => &mut self.completed_at,
            BatchStatus::Expired => &mut self.expired_at,
            BatchStatus::Cancelling => &mut self.cancelling_at,
            BatchStatus::Cancelled => &mut self.cancelled_at,
        };
        *stamp = Some(now_secs());
    }

    /// The OpenAI batch object.
    pub(crate) fn object(&self) -> Value {
        let errors = if self.errors.is_empty() {
            Value::Null
        } else {
            let data: Vec<Value> = self
                .errors
                .iter()
                .map(|e| json!({"code": e.code, "message": e.message, "param": e.param, "line": e.line}))
                .collect();
            json!({"object": "list", "data": data})
        };
        json!({
            "id": self.id,
            "object": "batch",
            "endpoint": self.request.endpoint.path(),
            "errors": errors,
            "input_file_id": self.request.input_file_id,
            "completion_window": self.request.completion_window,
            "status": self.status.as_str(),
            "output_file_id": self.output_file_id,
            "error_file_id": self.error_file_id,
            "created_at": self.created_at,
            "in_progress_at": self.in_progress_at,
            "expires_at": self.created_at.saturating_add(WINDOW_SECS),
            "finalizing_at": self.finalizing_at,
            "completed_at": self.completed_at,
            "failed_at": self.failed_at,
            "expired_at": self.expired_at,
            "cancelling_at": self.cancelling_at,
            "cancelled_at": self.cancelled_at,
            "request_counts": {
                "total": self.counts.total,
                "completed": self.counts.completed,
                "failed": self.counts.failed,
            },
            "metadata": self.request.metadata,
        })
    }

    pub(crate) fn summary(&self) -> BatchSummary {
        BatchSummary {
            id: self.id.clone(),
            status: self.status,
            endpoint: self.request.endpoint,
            input_file_id: self.request.input_file_id.clone(),
            output_file_id: self.output_file_id.clone(),
            error_file_id: self.error_file_id.clone(),
            request_counts: self.counts,
            error_codes: self.errors.iter().map(|e| e.code.to_string()).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_stamp_their_times() {
        let mut b = Batch::new(
            3,
            BatchRequest {
                endpoint: Endpoint::Chat,
                input_file_id: "file-x".into(),
                completion_window: "24h".into(),
                metadata: Value::Null,
            },
        );
        let v = b.object();
        assert_eq!(v["id"], "batch_testkit00000003");
        assert_eq!(v["status"], "validating");
        assert_eq!(v["errors"], Value::Null);
        assert_eq!(v["in_progress_at"], Value::Null);
        assert_eq!(
            v["expires_at"].as_u64(),
            Some(v["created_at"].as_u64().unwrap() + 86_400)
        );
        b.set_status(BatchStatus::InProgress);
        b.set_status(BatchStatus::Cancelling);
        let v = b.object();
        assert_eq!(v["status"], "cancelling");
        assert!(v["in_progress_at"].is_u64() && v["cancelling_at"].is_u64());
        assert_eq!(v["completed_at"], Value::Null);
        assert!(!b.status.is_terminal());
    }
}
