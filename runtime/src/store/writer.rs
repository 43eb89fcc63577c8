//! The store's single writer: a thread that owns the write connection and commits in
//! groups.
//!
//! Callers send commands; the thread takes every command waiting (up to a limit), applies
//! them in one transaction, commits (one fsync for all of them), then acknowledges those
//! that asked. An LLM response is thus durable before the op that asked for it sees it,
//! while 64 concurrent requests cost one fsync, not 64.

use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection};
use tokio::sync::oneshot;

use super::{sqlite_err, StoreError};

/// One stage output row.
#[derive(Debug, Clone)]
pub struct OutputRow {
    pub seq: u64,
    /// The value of the `id` field: grouped stages read their input group by group.
    pub gkey: String,
    pub data: String,
}

type Ack = oneshot::Sender<Result<(), String>>;

enum Command {
    Response {
        key: String,
        request: String,
        response: String,
        prompt_tokens: u64,
        completion_tokens: u64,
        ack: Ack,
    },
    Outputs {
        stage_key: String,
        rows: Vec<OutputRow>,
    },
    RecordError {
        stage_key: String,
        record_id: String,
        error: String,
    },
    ClearStage {
        stage_key: String,
        ack: Ack,
    },
    FinishStage {
        stage_key: String,
        name: String,
        records: u64,
        errors: u64,
        summary: String,
        ack: Ack,
    },
    Definition {
        recipe: String,
        stage: String,
        stage_key: String,
        definition: String,
    },
    Digest {
        path: String,
        size: u64,
        mtime_ns: i64,
        digest: String,
    },
    SampleOffset {
        stage: String,
        offset: u64,
        ack: Ack,
    },
    Import {
        rows: Vec<(String, String, String, u64, u64)>,
        ack: Ack,
    },
    Used {
        stage_key: String,
        request_key: String,
    },
    /// A provider's job (a submitted Batch API batch), `None` data deletes it.
    Job {
        kind: String,
        id: String,
        data: Option<String>,
        ack: Ack,
    },
    Flush {
        ack: Ack,
    },
}

/// The handle to the writer thread. Cloning shares the thread.
#[derive(Debug, Clone)]
pub struct Writer {
    tx: mpsc::Sender<Command>,
}

/// Most commands applied per transaction: bounds the latency of the first one.
const MAX_GROUP: usize = 4096;

impl Writer {
    pub(super) fn start(conn: Connection, path: PathBuf) -> Writer {
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("dtac-store-writer".into())
            .spawn(move || run(conn, path, rx))
            .expect("spawning the store writer thread");
        Writer { tx }
    }

    fn send(&self, cmd: Command) -> Result<(), StoreError> {
        self.tx
            .send(cmd)
            .map_err(|_| StoreError::WriterGone("the writer thread has exited".into()))
    }

    async fn acked(&self, make: impl FnOnce(Ack) -> Command) -> Result<(), StoreError> {
        let (ack, done) = oneshot::channel();
        self.send(make(ack))?;
        match done.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(StoreError::WriterGone(e)),
            Err(_) => Err(StoreError::WriterGone(
                "the writer thread has exited".into(),
            )),
        }
    }

    /// Stores a response; returns once it is on disk.
    pub async fn put_response(
        &self,
        key: String,
        request: String,
        response: String,
        prompt_tokens: u64,
        completion_tokens: u64,
    ) -> Result<(), StoreError> {
        self.acked(|ack| Command::Response {
            key,
            request,
            response,
            prompt_tokens,
            completion_tokens,
            ack,
        })
        .await
    }

    /// Appends output rows (committed with the next group; [`Writer::flush`] waits).
    pub fn outputs(&self, stage_key: &str, rows: Vec<OutputRow>) -> Result<(), StoreError> {
        self.send(Command::Outputs {
            stage_key: stage_key.to_string(),
            rows,
        })
    }

    pub fn record_error(
        &self,
        stage_key: &str,
        record_id: &str,
        error: &str,
    ) -> Result<(), StoreError> {
        self.send(Command::RecordError {
            stage_key: stage_key.to_string(),
            record_id: record_id.to_string(),
            error: error.to_string(),
        })
    }

    /// Removes a stage's partial outputs and errors (left by an interrupted run).
    pub async fn clear_stage(&self, stage_key: &str) -> Result<(), StoreError> {
        let stage_key = stage_key.to_string();
        self.acked(|ack| Command::ClearStage { stage_key, ack })
            .await
    }

    /// Marks a stage complete: from now on its outputs answer for its key.
    pub async fn finish_stage(
        &self,
        stage_key: &str,
        name: &str,
        records: u64,
        errors: u64,
        summary: String,
    ) -> Result<(), StoreError> {
        let (stage_key, name) = (stage_key.to_string(), name.to_string());
        self.acked(|ack| Command::FinishStage {
            stage_key,
            name,
            records,
            errors,
            summary,
            ack,
        })
        .await
    }

    pub fn definition(
        &self,
        recipe: &str,
        stage: &str,
        stage_key: &str,
        definition: String,
    ) -> Result<(), StoreError> {
        self.send(Command::Definition {
            recipe: recipe.to_string(),
            stage: stage.to_string(),
            stage_key: stage_key.to_string(),
            definition,
        })
    }

    pub fn digest(
        &self,
        path: &str,
        size: u64,
        mtime_ns: i64,
        digest: &str,
    ) -> Result<(), StoreError> {
        self.send(Command::Digest {
            path: path.to_string(),
            size,
            mtime_ns,
            digest: digest.to_string(),
        })
    }

    pub async fn set_sample_offset(&self, stage: &str, offset: u64) -> Result<(), StoreError> {
        let stage = stage.to_string();
        self.acked(|ack| Command::SampleOffset { stage, offset, ack })
            .await
    }

    /// Adds responses from a cache file, keeping any answer already stored under a key.
    pub async fn import_responses(
        &self,
        rows: Vec<(String, String, String, u64, u64)>,
    ) -> Result<(), StoreError> {
        self.acked(|ack| Command::Import { rows, ack }).await
    }

    /// Notes that a stage used a response, so `dtac cache export` can find it.
    pub fn used(&self, stage_key: &str, request_key: &str) -> Result<(), StoreError> {
        self.send(Command::Used {
            stage_key: stage_key.to_string(),
            request_key: request_key.to_string(),
        })
    }

    /// Records a provider's job that outlives requests (a submitted batch), so a killed
    /// run collects it instead of submitting and paying again; returns once it is on disk.
    pub async fn put_job(&self, kind: &str, id: &str, data: String) -> Result<(), StoreError> {
        let (kind, id) = (kind.to_string(), id.to_string());
        self.acked(|ack| Command::Job {
            kind,
            id,
            data: Some(data),
            ack,
        })
        .await
    }

    /// Forgets a finished job.
    pub async fn delete_job(&self, kind: &str, id: &str) -> Result<(), StoreError> {
        let (kind, id) = (kind.to_string(), id.to_string());
        self.acked(|ack| Command::Job {
            kind,
            id,
            data: None,
            ack,
        })
        .await
    }

    /// Waits until everything sent before is committed.
    pub async fn flush(&self) -> Result<(), StoreError> {
        self.acked(|ack| Command::Flush { ack }).await
    }
}

fn run(mut conn: Connection, path: PathBuf, rx: mpsc::Receiver<Command>) {
    while let Ok(first) = rx.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(cmd) => group.push(cmd),
                Err(_) => break,
            }
        }
        let result = apply(&mut conn, &group).map_err(|e| sqlite_err(&path, e).to_string());
        for cmd in group {
            let ack = match cmd {
                Command::Response { ack, .. }
                | Command::ClearStage { ack, .. }
                | Command::FinishStage { ack, .. }
                | Command::SampleOffset { ack, .. }
                | Command::Import { ack, .. }
                | Command::Job { ack, .. }
                | Command::Flush { ack } => ack,
                _ => continue,
            };
            let _ = ack.send(result.clone());
        }
        if result.is_err() {
            // The disk refused a commit: acknowledge nothing further as durable. Senders
            // see the channel close and report the store as gone.
            return;
        }
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn apply(conn: &mut Connection, group: &[Command]) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    for cmd in group {
        match cmd {
            Command::Response {
                key,
                request,
                response,
                prompt_tokens,
                completion_tokens,
                ..
            } => {
                // A key is only written on a miss, or by `--fresh` asking again: the newest
                // answer wins. Imports keep what is already here (see `import_responses`).
                tx.prepare_cached(
                    "INSERT OR REPLACE INTO responses VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?
                .execute(params![
                    key,
                    request,
                    response,
                    *prompt_tokens as i64,
                    *completion_tokens as i64,
                    now()
                ])?;
            }
            Command::Outputs { stage_key, rows } => {
                let mut stmt =
                    tx.prepare_cached("INSERT OR REPLACE INTO outputs VALUES (?1, ?2, ?3, ?4)")?;
                for row in rows {
                    stmt.execute(params![stage_key, row.seq as i64, row.gkey, row.data])?;
                }
            }
            Command::RecordError {
                stage_key,
                record_id,
                error,
            } => {
                tx.prepare_cached("INSERT INTO record_errors VALUES (?1, ?2, ?3)")?
                    .execute(params![stage_key, record_id, error])?;
            }
            Command::ClearStage { stage_key, .. } => {
                tx.prepare_cached("DELETE FROM outputs WHERE stage_key = ?1")?
                    .execute(params![stage_key])?;
                tx.prepare_cached("DELETE FROM record_errors WHERE stage_key = ?1")?
                    .execute(params![stage_key])?;
                tx.prepare_cached("DELETE FROM stages WHERE stage_key = ?1")?
                    .execute(params![stage_key])?;
            }
            Command::FinishStage {
                stage_key,
                name,
                records,
                errors,
                summary,
                ..
            } => {
                tx.prepare_cached("INSERT OR REPLACE INTO stages VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?
                    .execute(params![
                        stage_key,
                        name,
                        *records as i64,
                        *errors as i64,
                        summary,
                        now()
                    ])?;
            }
            Command::Definition {
                recipe,
                stage,
                stage_key,
                definition,
            } => {
                tx.prepare_cached("INSERT OR REPLACE INTO definitions VALUES (?1, ?2, ?3, ?4)")?
                    .execute(params![recipe, stage, stage_key, definition])?;
            }
            Command::Digest {
                path,
                size,
                mtime_ns,
                digest,
            } => {
                tx.prepare_cached("INSERT OR REPLACE INTO digests VALUES (?1, ?2, ?3, ?4)")?
                    .execute(params![path, *size as i64, mtime_ns, digest])?;
            }
            Command::SampleOffset { stage, offset, .. } => {
                tx.prepare_cached("INSERT OR REPLACE INTO samples VALUES (?1, ?2)")?
                    .execute(params![stage, *offset as i64])?;
            }
            Command::Import { rows, .. } => {
                let mut stmt = tx.prepare_cached(
                    "INSERT OR IGNORE INTO responses VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?;
                for (key, request, response, p, c) in rows {
                    stmt.execute(params![key, request, response, *p as i64, *c as i64, now()])?;
                }
            }
            Command::Used {
                stage_key,
                request_key,
            } => {
                tx.prepare_cached("INSERT OR IGNORE INTO used VALUES (?1, ?2)")?
                    .execute(params![stage_key, request_key])?;
            }
            Command::Job {
                kind,
                id,
                data: Some(data),
                ..
            } => {
                tx.prepare_cached("INSERT OR REPLACE INTO jobs VALUES (?1, ?2, ?3, ?4)")?
                    .execute(params![kind, id, data, now()])?;
            }
            Command::Job {
                kind,
                id,
                data: None,
                ..
            } => {
                tx.prepare_cached("DELETE FROM jobs WHERE kind = ?1 AND id = ?2")?
                    .execute(params![kind, id])?;
            }
            Command::Flush { .. } => {}
        }
    }
    tx.commit()
}
