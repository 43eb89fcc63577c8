//! `dtac plan` / `dtac run --dry-run`: what a run would do, without doing it. Per stage:
//! cached or to run (and why), expected records, requests, tokens and cost.

use serde::Serialize;

use crate::keys::what_changed;
use crate::llm::price_of;
use crate::op::StageImpl;
use crate::session::{Options, Prepared};
use crate::store::read;

#[derive(Clone, Debug, Serialize)]
pub struct PlanStage {
    pub name: String,
    pub op: String,
    /// `cached` or `run`.
    pub status: &'static str,
    /// Why it must run; empty when cached.
    pub reason: String,
    pub records_in: u64,
    pub records_out: u64,
    pub requests: u64,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub cost: f64,
    /// False when a teacher has no price (given or default): the cost is a lower bound.
    pub cost_known: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct Plan {
    pub stages: Vec<PlanStage>,
    pub cost: f64,
    pub cost_known: bool,
}

impl Plan {
    /// Whether anything would run.
    pub fn pending(&self) -> bool {
        self.stages.iter().any(|s| s.status == "run")
    }
}

pub fn plan(prepared: &Prepared, options: &Options) -> Plan {
    let mut stages = Vec::new();
    let mut outputs: std::collections::HashMap<&str, u64> = Default::default();
    for node in &prepared.recipe.nodes {
        let key = &prepared.keys[&node.name];
        let stored = prepared
            .store
            .with_reader(|c| read::stage(c, &key.key))
            .ok()
            .flatten();
        let records_in = node
            .main_input()
            .and_then(|m| outputs.get(m).copied())
            .unwrap_or(0);
        let imp = &prepared.impls[&node.name];
        let estimate = imp.estimate(records_in);
        let (status, reason) = match (&stored, options.fresh) {
            (Some(_), false) => ("cached", String::new()),
            (Some(_), true) => ("run", "`--fresh`".to_string()),
            (None, _) => {
                let previous = prepared
                    .store
                    .with_reader(|c| read::definition(c, &prepared.recipe_id, &node.name))
                    .ok()
                    .flatten();
                let reason = match previous {
                    Some((old_key, _)) if old_key == key.key => {
                        "its last run did not finish".to_string()
                    }
                    Some((_, old)) => serde_json::from_str(&old)
                        .map(|old| what_changed(&old, &key.definition))
                        .unwrap_or_else(|_| "its definition changed".into()),
                    None => "never run".to_string(),
                };
                ("run", reason)
            }
        };
        let records_out = match &stored {
            Some(row) if status == "cached" => row.records,
            _ => estimate.records,
        };
        let mut stage = PlanStage {
            name: node.name.clone(),
            op: node.sig.name.to_string(),
            status,
            reason,
            records_in: match imp {
                StageImpl::Source(_) => records_out,
                _ => records_in,
            },
            records_out,
            requests: 0,
            prompt_tokens: 0,
            completion_tokens: 0,
            cost: 0.0,
            cost_known: true,
        };
        if status == "run" {
            for r in &estimate.requests {
                let (price, known) = price_of(&r.teacher);
                stage.requests += r.requests;
                stage.prompt_tokens += r.prompt_tokens;
                stage.completion_tokens += r.completion_tokens;
                stage.cost += price.cost(crate::llm::Usage {
                    prompt_tokens: r.prompt_tokens,
                    completion_tokens: r.completion_tokens,
                });
                stage.cost_known &= known;
            }
        }
        outputs.insert(&node.name, records_out);
        stages.push(stage);
    }
    let cost = stages.iter().map(|s| s.cost).sum();
    let cost_known = stages.iter().all(|s| s.cost_known);
    Plan {
        stages,
        cost,
        cost_known,
    }
}
