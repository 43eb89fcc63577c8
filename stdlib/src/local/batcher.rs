//! The batching scorer: stages score one record at a time (many at once, up to their
//! `concurrency`), while a model is fastest on a padded batch. Requests go to one worker
//! thread per loaded model, which takes every request waiting (and those arriving within
//! a moment), packs them into batches under the token budget, and answers each.
//!
//! One thread per model also keeps two stages from running forward passes on the same
//! CPU cores at once, which would only make both slower.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dtac_numeric::model::{LocalModel, ScoreItem};
use tokio::sync::oneshot;

/// How long the worker waits for more requests after the first: the records of a wave
/// arrive within microseconds of each other; a forward pass takes milliseconds.
const GATHER: Duration = Duration::from_millis(2);

/// Stop gathering once this many budgets' worth of tokens are waiting.
const GATHER_BUDGETS: usize = 4;

struct Job {
    item: ScoreItem,
    budget: usize,
    reply: oneshot::Sender<Result<Vec<f32>, String>>,
}

/// A loaded model and the queue of its scoring worker. Cloning shares both.
#[derive(Clone)]
pub struct LocalScorer {
    model: Arc<LocalModel>,
    jobs: Sender<Job>,
    what: Arc<str>,
}

impl std::fmt::Debug for LocalScorer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalScorer")
            .field("model", &self.what)
            .finish_non_exhaustive()
    }
}

impl LocalScorer {
    /// Starts the worker of `model`; `what` names it in errors (`student \`small\``).
    pub fn start(model: Arc<LocalModel>, what: String) -> LocalScorer {
        let (jobs, queue) = channel();
        let worker = model.clone();
        let name = format!("dtac-score-{}", what.replace(['`', ' '], ""));
        // A thread that cannot start leaves the queue without a reader: every request
        // then fails with "the scoring worker stopped", which names the model.
        let _ = std::thread::Builder::new()
            .name(name)
            .spawn(move || work(&worker, &queue));
        LocalScorer {
            model,
            jobs,
            what: what.into(),
        }
    }

    /// The model, for tokenizing and its chat template.
    pub fn model(&self) -> &LocalModel {
        &self.model
    }

    /// The model itself, for work on a blocking thread (training, sampling).
    pub fn shared(&self) -> Arc<LocalModel> {
        self.model.clone()
    }

    /// Which block this is, for messages.
    pub fn what(&self) -> &str {
        &self.what
    }

    /// log p of each target token (NaN for an unscored first token; see
    /// [`LocalModel::score`]), batched with whatever else is waiting.
    pub async fn score(&self, item: ScoreItem, budget: usize) -> Result<Vec<f32>, String> {
        let (reply, answer) = oneshot::channel();
        let stopped = || format!("the scoring worker of {} stopped", self.what);
        self.jobs
            .send(Job {
                item,
                budget: budget.max(1),
                reply,
            })
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

fn work(model: &LocalModel, queue: &Receiver<Job>) {
    while let Ok(first) = queue.recv() {
        let mut jobs = vec![first];
        let deadline = Instant::now() + GATHER;
        let enough = jobs[0].budget * GATHER_BUDGETS;
        let mut tokens = size(&jobs[0].item);
        while tokens < enough {
            let left = deadline.saturating_duration_since(Instant::now());
            match queue.recv_timeout(left) {
                Ok(job) => {
                    tokens += size(&job.item);
                    jobs.push(job);
                }
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => break,
            }
        }
        // Stages may ask with different budgets; each group runs under its own.
        jobs.sort_by_key(|j| j.budget);
        while !jobs.is_empty() {
            let budget = jobs[0].budget;
            let cut = jobs.partition_point(|j| j.budget == budget);
            let group: Vec<Job> = jobs.drain(..cut).collect();
            run(model, budget, group);
        }
    }
}

fn size(item: &ScoreItem) -> usize {
    item.context.len() + item.target.len()
}

fn run(model: &LocalModel, budget: usize, jobs: Vec<Job>) {
    let items: Vec<ScoreItem> = jobs.iter().map(|j| j.item.clone()).collect();
    // A panic inside the numeric library fails these requests, not the process.
    let scored = catch_unwind(AssertUnwindSafe(|| model.score(&items, budget)));
    match scored {
        Ok(Ok(scores)) => {
            for (job, score) in jobs.into_iter().zip(scores) {
                let _ = job.reply.send(Ok(score));
            }
        }
        // One bad item (longer than the model's context, say) should fail alone: score
        // the batch's items one by one so the others still get their answers.
        Ok(Err(_)) if jobs.len() > 1 => {
            for job in jobs {
                run(model, budget, vec![job]);
            }
        }
        Ok(Err(e)) => {
            let message = e.to_string();
            for job in jobs {
                let _ = job.reply.send(Err(message.clone()));
            }
        }
        Err(_) => {
            for job in jobs {
                let _ = job
                    .reply
                    .send(Err("scoring failed inside the numeric library".into()));
            }
        }
    }
}
