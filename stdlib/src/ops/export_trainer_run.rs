//! `export_trainer` at run time: the records become the trainer's data, the settings its
//! config (see [`super::trainer_mapping`]), and a launch script goes beside them. Every
//! file is written atomically; the stage's one record describes the directory.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use dtac_interpreter::resolve::{Node, PromptText, Value};
use dtac_runtime::exec::write_atomically;
use dtac_runtime::op::{BuildError, GroupOp, OpError, StageCtx, StageImpl};
use dtac_runtime::record::{Fields, Provenance, Record};
use futures::future::BoxFuture;
use serde_json::{json, Map, Value as Json};

use super::trainer_mapping::{peft, trl, verl, Lora, Plan, TrlMode};
use crate::settings::Settings;

const TRAIN_PY: &str = include_str!("trainer_files/train.py");

/// Which trainer, with its translated settings.
#[derive(Debug)]
enum Target {
    Trl {
        mode: TrlMode,
        config: Map<String, Json>,
        peft: Option<Map<String, Json>>,
    },
    Verl {
        overrides: Vec<(String, Json)>,
    },
}

/// The built op.
#[derive(Debug)]
pub struct ExportTrainer {
    dir: PathBuf,
    model: String,
    prompt: Arc<PromptText>,
    target_field: String,
    target: Target,
}

pub fn build(node: &Node) -> Result<StageImpl, BuildError> {
    let s = Settings(&node.settings);
    let need = |name: &str| {
        s.str(name)
            .map(str::to_string)
            .ok_or_else(|| BuildError::Invalid {
                message: format!("`export_trainer` needs `{name}`"),
                help: format!("set `{name}`"),
            })
    };
    let (objective, beta, temperature) = match s.get("objective") {
        Some(Value::Objective(o)) => {
            let os = Settings(&o.settings);
            (
                o.kind.clone(),
                os.float("beta"),
                os.float("temperature").unwrap_or(1.0),
            )
        }
        _ => ("forward_kl".to_string(), None, 1.0),
    };
    let lora = match s.get("lora") {
        Some(Value::Record(fields)) => {
            let l = Settings(fields);
            Some(Lora {
                rank: l.int("rank").unwrap_or(16),
                alpha: l.float("alpha").unwrap_or(32.0),
                dropout: l.float("dropout").unwrap_or(0.0),
                targets: match l.get("targets") {
                    Some(_) => l.strings("targets"),
                    None => ["q_proj", "k_proj", "v_proj", "o_proj"]
                        .map(String::from)
                        .to_vec(),
                },
            })
        }
        _ => None,
    };
    let plan = Plan {
        model: need("model")?,
        teacher: s.str("teacher").map(str::to_string),
        objective,
        beta,
        temperature,
        epochs: s.int("epochs").unwrap_or(1),
        lr: s.float("lr").unwrap_or(1e-5),
        batch_size: s.int("batch_size").unwrap_or(8),
        grad_accum: s.int("grad_accum").unwrap_or(1),
        max_seq_len: s.int("max_seq_len").unwrap_or(4096),
        lora: lora.clone(),
    };
    let refused = |r: super::trainer_mapping::Refusal| BuildError::Invalid {
        message: r.message,
        help: r.help,
    };
    let target = match need("trainer")?.as_str() {
        "verl" => Target::Verl {
            overrides: verl(&plan, "data/train.parquet", "checkpoints").map_err(refused)?,
        },
        _ => {
            let (mode, config) = trl(&plan, "checkpoints").map_err(refused)?;
            Target::Trl {
                mode,
                config,
                peft: lora.as_ref().map(peft),
            }
        }
    };
    Ok(StageImpl::whole(Arc::new(ExportTrainer {
        dir: PathBuf::from(need("dir")?),
        model: plan.model,
        prompt: match s.prompt("prompt") {
            Some(p) => p,
            None => crate::prompts::builtin("{{question}}")?,
        },
        target_field: s.str("target").unwrap_or("solution").to_string(),
        target,
    })))
}

fn write_text(path: &Path, text: &str) -> Result<(), OpError> {
    write_atomically(path, |out| {
        out.write_all(text.as_bytes())?;
        Ok(text.len() as u64)
    })
    .map(|_| ())
    .map_err(|e| OpError::Fatal {
        message: format!("cannot write `{}`: {e}", path.display()),
        help: "check the directory's permissions and free disk space".into(),
    })
}

fn yaml(value: &Json) -> String {
    serde_yaml::to_string(value).unwrap_or_default()
}

impl ExportTrainer {
    /// The (user, assistant) pair of each usable record.
    fn pairs(&self, cx: &StageCtx, group: &[Record]) -> Vec<(String, String, String)> {
        let mut out = Vec::new();
        for r in group {
            let user = match self.prompt.render(&r.fields, &[]) {
                Ok(u) => u,
                Err(e) => {
                    cx.drop_because(r, "not exported", json!({ "error": e }));
                    continue;
                }
            };
            match r.str(&self.target_field).filter(|t| !t.trim().is_empty()) {
                Some(a) => out.push((r.key_of("id"), user, a.to_string())),
                None => cx.drop_because(
                    r,
                    "not exported",
                    json!({ "error": format!("no `{}` text", self.target_field) }),
                ),
            }
        }
        out
    }
}

impl GroupOp for ExportTrainer {
    fn run<'a>(
        &'a self,
        cx: &'a StageCtx,
        group: Vec<Record>,
    ) -> BoxFuture<'a, Result<Vec<Record>, OpError>> {
        Box::pin(async move {
            let pairs = self.pairs(cx, &group);
            let dir = &self.dir;
            let (trainer, mode, data, launch) = match &self.target {
                Target::Trl { mode, config, peft } => {
                    let lines: String = pairs
                        .iter()
                        .map(|(id, u, a)| {
                            let user = json!({"role": "user", "content": u});
                            let assistant = json!({"role": "assistant", "content": a});
                            let row = match mode {
                                TrlMode::Sft => {
                                    json!({"id": id, "prompt": [user], "completion": [assistant]})
                                }
                                TrlMode::Gkd => json!({"id": id, "messages": [user, assistant]}),
                            };
                            format!("{row}\n")
                        })
                        .collect();
                    write_text(&dir.join("data/train.jsonl"), &lines)?;
                    let cfg = json!({
                        "trainer": "trl",
                        "mode": mode.name(),
                        "model": self.model,
                        "data": "data/train.jsonl",
                        "config": config,
                        "peft": peft,
                    });
                    write_text(&dir.join("config.yaml"), &yaml(&cfg))?;
                    write_text(&dir.join("train.py"), TRAIN_PY)?;
                    let launch = "#!/bin/sh\n# Written by dtac export_trainer. Needs: pip install 'trl>=0.16' peft pyyaml\ncd \"$(dirname \"$0\")\"\nexec accelerate launch train.py config.yaml \"$@\"\n";
                    ("trl", mode.name(), "data/train.jsonl", launch.to_string())
                }
                Target::Verl { overrides } => {
                    let mut rows = pairs.iter().map(|(id, u, a)| {
                        let mut m = Map::new();
                        m.insert("id".into(), json!(id));
                        m.insert("prompt".into(), json!(u));
                        m.insert("response".into(), json!(a));
                        Ok(m)
                    });
                    let first = ["id", "prompt", "response"].map(String::from);
                    let options = crate::formats::parquet::ParquetOptions::default();
                    write_atomically(&dir.join("data/train.parquet"), |out| {
                        crate::formats::parquet::write_rows(&mut rows, &first, &options, out)
                    })
                    .map_err(|e| OpError::Fatal {
                        message: format!("cannot write the Parquet data: {e}"),
                        help: "check the directory's permissions and free disk space".into(),
                    })?;
                    let mut nested = Map::new();
                    for (key, value) in overrides {
                        nested.insert(key.clone(), value.clone());
                    }
                    let cfg = json!({ "trainer": "verl", "mode": "sft", "overrides": nested });
                    write_text(&dir.join("config.yaml"), &yaml(&cfg))?;
                    let args: Vec<String> = overrides
                        .iter()
                        .map(|(k, v)| match v {
                            Json::String(s) => format!("    {k}='{s}'"),
                            other => format!("    {k}='{other}'"),
                        })
                        .collect();
                    let launch = format!(
                        "#!/bin/sh\n# Written by dtac export_trainer. Needs verl; NPROC GPUs (default 8).\ncd \"$(dirname \"$0\")\"\nexec torchrun --standalone --nnodes=1 --nproc_per_node=\"${{NPROC:-8}}\" \\\n    -m verl.trainer.fsdp_sft_trainer \\\n{} \"$@\"\n",
                        args.join(" \\\n")
                    );
                    ("verl", "sft", "data/train.parquet", launch)
                }
            };
            write_text(&dir.join("launch.sh"), &launch)?;
            set_executable(&dir.join("launch.sh"));
            let mut fields = Fields::new();
            fields.insert("id".into(), json!(cx.name));
            fields.insert("dir".into(), json!(dir.display().to_string()));
            fields.insert("trainer".into(), json!(trainer));
            fields.insert("mode".into(), json!(mode));
            fields.insert(
                "config".into(),
                json!(dir.join("config.yaml").display().to_string()),
            );
            fields.insert("data".into(), json!(dir.join(data).display().to_string()));
            fields.insert("examples".into(), json!(pairs.len()));
            fields.insert(
                "launch".into(),
                json!(dir.join("launch.sh").display().to_string()),
            );
            Ok(vec![Record {
                fields,
                meta: Provenance::default(),
            }])
        })
    }
}

#[cfg(unix)]
fn set_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755));
}

#[cfg(not(unix))]
fn set_executable(_: &Path) {}
