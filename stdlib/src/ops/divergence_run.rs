//! `divergence` at run time: for each rollout, the per-token loss between the local
//! student and teacher, near-future probes at high-loss positions, the optimal-transport
//! distance between the probes, the gate, and the weights and guidance `distill` reads.
//! Both models run in-process on tokio's blocking pool, one rollout at a time (each is a
//! few full forward passes and `2 × probes` short generations).

use std::sync::Arc;

use dtac_interpreter::resolve::{ModelDecl, Node};
use dtac_numeric::model::{LocalModel, Sampling};
use dtac_numeric::objectives::{token_losses, Objective, ObjectiveSpec, Teacher};
use dtac_numeric::train::DType;
use dtac_runtime::op::{BuildError, GroupOp, OpError, ReportTable, StageCtx, StageImpl};
use dtac_runtime::record::Record;
use futures::future::BoxFuture;
use serde_json::json;

use super::fork_gate::{forks, guidance_weights, high_loss, token_weights};
use super::sampling::local_seed;
use super::transport::distance;
use crate::local::ScoreText;
use crate::settings::Settings;

/// The settings.
#[derive(Debug, Clone)]
pub struct Probe {
    sampled: bool,
    loss_quantile: f64,
    probe_tokens: usize,
    distance_quantile: f64,
    horizon: usize,
    weight: f64,
    decay: f64,
    surface_weight: f64,
    temperature: f64,
    max_probes: Option<usize>,
}

/// The built op.
#[derive(Debug)]
pub struct Divergence {
    teacher: Arc<ModelDecl>,
    student: Arc<ModelDecl>,
    probe: Probe,
}

pub fn build(node: &Node) -> Result<StageImpl, BuildError> {
    let s = Settings(&node.settings);
    let model = |name: &str| {
        let m = s.model(name).ok_or_else(|| BuildError::Invalid {
            message: format!("`divergence` needs `{name}`"),
            help: format!("set `{name} = NAME`"),
        })?;
        if m.str("path").is_none() {
            return Err(BuildError::Invalid {
                message: format!(
                    "`{}` has no `path`: divergence needs its full logits in-process",
                    m.name
                ),
                help: "give it a local checkpoint `path`".into(),
            });
        }
        Ok(m)
    };
    let probe_tokens = s.int("probe_tokens").unwrap_or(50);
    if probe_tokens < 1 {
        return Err(BuildError::Invalid {
            message: format!("`probe_tokens` is {probe_tokens}"),
            help: "probe at least one token ahead (the paper uses 50)".into(),
        });
    }
    Ok(StageImpl::whole(Arc::new(Divergence {
        teacher: model("teacher")?,
        student: model("student")?,
        probe: Probe {
            sampled: s.str("loss") == Some("sampled"),
            loss_quantile: s.float("loss_quantile").unwrap_or(0.8),
            probe_tokens: probe_tokens as usize,
            distance_quantile: s.float("distance_quantile").unwrap_or(0.8),
            horizon: s.int("horizon").unwrap_or(8).max(0) as usize,
            weight: s.float("weight").unwrap_or(1.0),
            decay: s.float("decay").unwrap_or(1.0),
            surface_weight: s.float("surface_weight").unwrap_or(0.0),
            temperature: s.float("probe_temperature").unwrap_or(0.0),
            max_probes: s.int("max_probes").map(|m| m.max(0) as usize),
        },
    })))
}

/// What one rollout gave.
#[derive(Debug, Clone, PartialEq)]
pub struct Probed {
    pub losses: Vec<f64>,
    pub weights: Vec<f64>,
    pub forks: Vec<usize>,
    /// Per fork: position, teacher tokens, weights.
    pub guidance: Vec<(usize, Vec<u32>, Vec<f64>)>,
    pub probed: usize,
}

/// The whole computation for one rollout, on a blocking thread.
pub fn probe_rollout(
    student: &LocalModel,
    teacher: &LocalModel,
    record: &Record,
    p: &Probe,
) -> Result<Probed, String> {
    let solution = record
        .str("solution")
        .filter(|s| !s.is_empty())
        .ok_or("the record has no `solution` (rollout) to probe")?;
    let item = ScoreText {
        // What the student answered: the rollout's `prompt`, else `question`, as `distill`
        // reads it, so the weights index the tokens it trains on.
        context: Some(super::distill_data::context_text(record, None)?),
        target: solution.to_string(),
        chat: true,
    }
    .tokens(student)?;
    let (ctx, target) = (item.context, item.target);
    let ids: Vec<u32> = ctx.iter().chain(&target).copied().collect();
    let n = target.len();
    // Rows ctx−1 .. len−2 predict the target tokens.
    let rows = |m: &LocalModel| -> Result<dtac_numeric::candle::Tensor, String> {
        m.logits(&ids)
            .and_then(|l| {
                l.narrow(0, ctx.len() - 1, n).map_err(|e| {
                    dtac_numeric::model::ModelError::Compute {
                        during: "logits".into(),
                        message: e.to_string(),
                    }
                })
            })
            .map_err(|e| e.to_string())
    };
    let (s_rows, t_rows) = (rows(student)?, rows(teacher)?);
    let spec = ObjectiveSpec {
        objective: if p.sampled {
            Objective::Sampled { clamp: 20.0 }
        } else {
            Objective::ReverseKl
        },
        temperature: 1.0,
    };
    let tokens: Vec<i64> = target.iter().map(|&t| t as i64).collect();
    let tokens =
        dtac_numeric::candle::Tensor::from_vec(tokens, n, &dtac_numeric::candle::Device::Cpu)
            .map_err(|e| e.to_string())?;
    let losses: Vec<f64> = token_losses(
        &spec,
        &s_rows,
        Teacher::Dense(&t_rows),
        None,
        p.sampled.then_some(&tokens),
    )
    .and_then(|l| l.to_dtype(DType::F64))
    .and_then(|l| l.to_vec1::<f64>())
    .map_err(|e| e.to_string())?;
    let high = high_loss(&losses, p.loss_quantile, p.max_probes);
    let id = record.key_of("candidate_id");
    let mut probed = Vec::with_capacity(high.len());
    let mut teacher_paths = Vec::with_capacity(high.len());
    for &t in &high {
        let prefix: Vec<u32> = ctx.iter().chain(&target[..t]).copied().collect();
        let sampling = Sampling {
            temperature: p.temperature,
            top_p: 1.0,
            top_k: 0,
            max_tokens: p.probe_tokens,
            seed: local_seed(0, t as u64, &id),
        };
        let by_teacher = teacher
            .generate(&prefix, &sampling)
            .map_err(|e| e.to_string())?
            .tokens;
        let by_student = student
            .generate(&prefix, &sampling)
            .map_err(|e| e.to_string())?
            .tokens;
        let cloud = |ids: &[u32]| -> Result<Vec<Vec<f32>>, String> {
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            student
                .token_embeddings(ids)
                .and_then(|e| {
                    e.to_vec2::<f32>()
                        .map_err(|e| dtac_numeric::model::ModelError::Compute {
                            during: "embeddings".into(),
                            message: e.to_string(),
                        })
                })
                .map_err(|e| e.to_string())
        };
        probed.push((t, distance(&cloud(&by_teacher)?, &cloud(&by_student)?)));
        teacher_paths.push(by_teacher);
    }
    let fork_positions = forks(&probed, p.distance_quantile);
    let weights = token_weights(n, &high, &fork_positions, p.surface_weight);
    let guidance = fork_positions
        .iter()
        .filter_map(|&t| {
            let i = high.iter().position(|&h| h == t)?;
            let path: Vec<u32> = teacher_paths[i].iter().take(p.horizon).copied().collect();
            (!path.is_empty()).then(|| {
                let w = guidance_weights(path.len(), p.weight, p.decay);
                (t, path, w)
            })
        })
        .collect();
    Ok(Probed {
        losses,
        weights,
        forks: fork_positions,
        guidance,
        probed: high.len(),
    })
}

impl GroupOp for Divergence {
    fn run<'a>(
        &'a self,
        cx: &'a StageCtx,
        group: Vec<Record>,
    ) -> BoxFuture<'a, Result<Vec<Record>, OpError>> {
        Box::pin(async move {
            let fatal = |m: String| OpError::Fatal {
                message: m,
                help: "check the checkpoint".into(),
            };
            let student = crate::local::loaded(&self.student).map_err(fatal)?.shared();
            let teacher = crate::local::loaded(&self.teacher).map_err(fatal)?.shared();
            let (mut out, mut probed_total, mut forks_total) = (Vec::new(), 0usize, 0usize);
            for record in group {
                if cx.stop.is_stopping() {
                    return Err(OpError::Stopped);
                }
                let (s, t, p, r) = (
                    student.clone(),
                    teacher.clone(),
                    self.probe.clone(),
                    record.clone(),
                );
                let result = tokio::task::spawn_blocking(move || probe_rollout(&s, &t, &r, &p))
                    .await
                    .map_err(|e| fatal(format!("probing failed: {e}")))?;
                match result {
                    Ok(probe) => {
                        probed_total += probe.probed;
                        forks_total += probe.forks.len();
                        let mut r = record.derive();
                        r.set("token_loss", probe.losses);
                        r.set("token_weights", probe.weights);
                        r.set("forks", probe.forks.clone());
                        r.set(
                            "guidance",
                            probe
                                .guidance
                                .iter()
                                .map(|(pos, tokens, w)| json!({ "position": pos, "tokens": tokens, "weights": w }))
                                .collect::<Vec<_>>(),
                        );
                        let surface = probe.probed - probe.forks.len();
                        r.set(
                            "surface_fraction",
                            if probe.probed == 0 {
                                json!(null)
                            } else {
                                json!(surface as f64 / probe.probed as f64)
                            },
                        );
                        out.push(r);
                    }
                    Err(m) => cx.drop_because(&record, "not probed", json!({ "error": m })),
                }
            }
            let surface = probed_total - forks_total;
            cx.report_table(ReportTable {
                title: "divergence: high-loss tokens, forks and surface variation".into(),
                columns: [
                    "rollouts",
                    "probed (high-loss)",
                    "forks",
                    "surface variation",
                    "surface fraction",
                ]
                .map(String::from)
                .to_vec(),
                rows: vec![vec![
                    json!(out.len()),
                    json!(probed_total),
                    json!(forks_total),
                    json!(surface),
                    if probed_total == 0 {
                        json!(null)
                    } else {
                        json!(surface as f64 / probed_total as f64)
                    },
                ]],
            });
            Ok(out)
        })
    }
}
