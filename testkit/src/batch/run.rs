//! Running a batch in the background: validating → in_progress → finalizing → a final
//! status, over about [`crate::Script::batch_delay`].
//!
//! Lines run one at a time, spread evenly over the delay, so a client polling meanwhile
//! sees `in_progress` with counts that grow. A cancel wakes the runner at once; results
//! so far are still written, as OpenAI does for cancelled batches.

use std::sync::Arc;

use hyper::body::Bytes;
use serde_json::Value;
use tokio::time::Instant;

use crate::batch::input;
use crate::batch::line;
use crate::batch::state::BatchStatus;
use crate::batch::store::BatchCell;
use crate::shared::Shared;

/// Why a pause between lines ended.
enum Wake {
    Elapsed,
    Cancel,
    /// The server is shutting down: stop without writing anything.
    Stop,
}

/// Runs the batch in `cell` over the contents of its input file.
pub(crate) async fn run(shared: Arc<Shared>, cell: Arc<BatchCell>, input: Bytes) {
    let (number, id, endpoint) = {
        let b = cell.lock();
        (b.number, b.id.clone(), b.request.endpoint)
    };
    let checked = input::check(&input, endpoint);
    let lines = {
        let mut b = cell.lock();
        if b.status == BatchStatus::Cancelling {
            b.set_status(BatchStatus::Cancelled);
            return;
        }
        match checked {
            Err(errors) => {
                b.errors = errors;
                b.set_status(BatchStatus::Failed);
                return;
            }
            Ok(lines) => {
                b.counts.total = lines.len() as u64;
                b.set_status(BatchStatus::InProgress);
                lines
            }
        }
    };

    let limit = shared
        .batch_expire_after
        .map_or(lines.len(), |n| n.min(lines.len()));
    // Line i is due at (i + 1) / (limit + 1) of the delay, the end at all of it. Due times
    // are counted from the start rather than slept step by step, so a big batch with a
    // short delay is not stretched by the timer's millisecond resolution.
    let slots = u32::try_from(limit).unwrap_or(u32::MAX - 1) + 1;
    let start = Instant::now();
    let due = |slot: usize| {
        let fraction = shared.batch_delay / slots;
        // A delay too long for the clock means "never", which only a cancel ends.
        start.checked_add(fraction.saturating_mul(u32::try_from(slot).unwrap_or(slots)))
    };
    let mut outputs = Vec::new();
    let mut errors = Vec::new();
    let mut cancelled = false;
    for (index, input_line) in lines.iter().take(limit).enumerate() {
        match pause(&shared, &cell, due(index + 1)).await {
            Wake::Stop => return,
            Wake::Cancel => {
                cancelled = true;
                break;
            }
            Wake::Elapsed => {}
        }
        let result = line::answer(&shared, number, index, endpoint, input_line);
        {
            let mut b = cell.lock();
            if result.ok {
                b.counts.completed += 1;
            } else {
                b.counts.failed += 1;
            }
        }
        if result.ok {
            outputs.push(result.json);
        } else {
            errors.push(result.json);
        }
    }
    if !cancelled {
        match pause(&shared, &cell, due(limit + 1)).await {
            Wake::Stop => return,
            Wake::Cancel => cancelled = true,
            Wake::Elapsed => {}
        }
    }

    let expired = !cancelled && limit < lines.len();
    if expired {
        for (index, input_line) in lines.iter().enumerate().skip(limit) {
            errors.push(line::expired(number, index, &input_line.custom_id));
        }
        let unrun = (lines.len() - limit) as u64;
        shared.counters.batch_lines_expired(unrun);
        cell.lock().counts.failed += unrun;
    }
    if !cancelled {
        cell.lock().set_status(BatchStatus::Finalizing);
    }
    let output_file_id = write(&shared, &format!("{id}_output.jsonl"), &outputs);
    let error_file_id = write(&shared, &format!("{id}_error.jsonl"), &errors);
    let mut b = cell.lock();
    b.output_file_id = output_file_id;
    b.error_file_id = error_file_id;
    b.set_status(if cancelled {
        BatchStatus::Cancelled
    } else if expired {
        BatchStatus::Expired
    } else {
        BatchStatus::Completed
    });
}

/// Waits until `due` (`None`: forever), or less if a cancel or shutdown comes first.
async fn pause(shared: &Shared, cell: &BatchCell, due: Option<Instant>) -> Wake {
    let mut stop = shared.stopped.clone();
    if cell.lock().status == BatchStatus::Cancelling {
        return Wake::Cancel;
    }
    match due {
        Some(due) if due <= Instant::now() => {
            // Already due: only let other tasks run, so a long batch does not hold a
            // worker thread for its whole run.
            tokio::task::yield_now().await;
            if *stop.borrow() {
                return Wake::Stop;
            }
        }
        _ => {
            let sleep = async {
                match due {
                    Some(due) => tokio::time::sleep_until(due).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = sleep => {}
                _ = cell.cancel.notified() => {}
                // A dropped sender (an error here) means the server is gone as well.
                _ = stop.wait_for(|s| *s) => return Wake::Stop,
            }
        }
    }
    if cell.lock().status == BatchStatus::Cancelling {
        Wake::Cancel
    } else {
        Wake::Elapsed
    }
}

/// Stores result lines as a JSONL file of purpose `batch_output`; no file for no lines,
/// as OpenAI leaves `output_file_id` or `error_file_id` null when there is nothing in it.
fn write(shared: &Shared, filename: &str, lines: &[Value]) -> Option<String> {
    if lines.is_empty() {
        return None;
    }
    let mut data = String::new();
    for line in lines {
        data.push_str(&line.to_string());
        data.push('\n');
    }
    Some(
        shared
            .files
            .add(filename, "batch_output", Bytes::from(data))
            .id,
    )
}
