//! Which objective, with which settings: parsed from a name and optional settings, with
//! the stdlib's defaults, validated, and linted for settings that compute something but
//! almost certainly not what the author meant.
//!
//! The names, defaults and meanings are those of `dtac-stdlib`'s objective signatures
//! (`stdlib/src/objectives/*.rs`); this is their numeric counterpart.

use thiserror::Error;

/// The default mixture weight of `jsd` (the ordinary Jensen-Shannon divergence).
pub const DEFAULT_BETA: f64 = 0.5;
/// The default cap of `clipped_kl`, in nats (TRD's clipped baseline).
pub const DEFAULT_CLIP: f64 = 0.1;
/// The default support size of `top_k`.
pub const DEFAULT_TOP_K: usize = 32;
/// The default upper clamp of `sampled`'s log-ratio.
pub const DEFAULT_CLAMP: f64 = 20.0;
/// The default temperature: the distributions as the models give them.
pub const DEFAULT_TEMPERATURE: f64 = 1.0;

/// The objective names, in the order `dtac ops` lists them.
pub const NAMES: &[&str] = &[
    "forward_kl",
    "reverse_kl",
    "jsd",
    "clipped_kl",
    "top_k",
    "sampled",
];

/// One per-token distillation objective (METHODS.md §5). `q` is the teacher's and `p`
/// the student's distribution at the spec's temperature.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Objective {
    /// `KL(q‖p) = Σ q (log q − log p)`: mode-covering.
    ForwardKl,
    /// `KL(p‖q) = Σ p (log p − log q)`: mode-seeking.
    ReverseKl,
    /// `β KL(q‖M) + (1−β) KL(p‖M)`, `M = βq + (1−β)p`; β = 0 is exactly forward KL and
    /// β = 1 exactly reverse KL.
    Jsd { beta: f64 },
    /// `min(KL(q‖p), clip)`, no gradient where the cap applies.
    ClippedKl { clip: f64 },
    /// Forward KL on the teacher's top-`k` tokens, both sides renormalized, or with `tail`
    /// the mass outside them as a (k+1)-th entry.
    TopK { k: usize, tail: bool },
    /// `r = min(log q(y) − log p(y), clamp)`, `ℓ = e^r − 1 − r` at the response token `y`.
    Sampled { clamp: f64 },
}

impl Objective {
    /// The name recipes and `dtac loss --objective` use.
    pub fn name(&self) -> &'static str {
        match self {
            Objective::ForwardKl => "forward_kl",
            Objective::ReverseKl => "reverse_kl",
            Objective::Jsd { .. } => "jsd",
            Objective::ClippedKl { .. } => "clipped_kl",
            Objective::TopK { .. } => "top_k",
            Objective::Sampled { .. } => "sampled",
        }
    }

    /// Whether a token's loss can be capped (and its gradient cut) by a setting.
    pub fn clamps(&self) -> bool {
        matches!(
            self,
            Objective::ClippedKl { .. } | Objective::Sampled { .. }
        )
    }
}

/// An objective with its temperature: everything the numeric core needs to compute it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ObjectiveSpec {
    pub objective: Objective,
    /// τ: both the student's and the teacher's logits are divided by it before the softmax.
    pub temperature: f64,
}

/// A setting that cannot be computed with, or a name that is no objective.
#[derive(Debug, Error, PartialEq)]
pub enum ObjectiveError {
    #[error(
        "unknown objective `{name}`{}; the objectives are {}",
        suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default(),
        NAMES.join(", ")
    )]
    UnknownObjective {
        name: String,
        suggestion: Option<&'static str>,
    },
    #[error("{objective}: {setting} = {value} {problem}; {help}")]
    BadSetting {
        objective: &'static str,
        setting: &'static str,
        value: String,
        problem: &'static str,
        help: &'static str,
    },
    #[error(
        "{objective} has no setting `{setting}` (it is a setting of {owner}); \
         remove it or choose {owner}"
    )]
    NotApplicable {
        objective: &'static str,
        setting: &'static str,
        owner: &'static str,
    },
}

impl ObjectiveSpec {
    /// The spec of objective `name`, settings left `None` taking the stdlib defaults
    /// (β 0.5, clip 0.1, k 32, tail false, clamp 20, τ 1; `sampled`'s clamp is set with
    /// [`ObjectiveSpec::with_clamp`]). A setting that belongs to another objective (`beta`
    /// for `forward_kl`) is an error rather than silently ignored.
    pub fn from_name(
        name: &str,
        beta: Option<f64>,
        temperature: Option<f64>,
        top_k: Option<usize>,
        clip: Option<f64>,
        tail: Option<bool>,
    ) -> Result<ObjectiveSpec, ObjectiveError> {
        let objective = match name {
            "forward_kl" => Objective::ForwardKl,
            "reverse_kl" => Objective::ReverseKl,
            "jsd" => Objective::Jsd {
                beta: beta.unwrap_or(DEFAULT_BETA),
            },
            "clipped_kl" => Objective::ClippedKl {
                clip: clip.unwrap_or(DEFAULT_CLIP),
            },
            "top_k" => Objective::TopK {
                k: top_k.unwrap_or(DEFAULT_TOP_K),
                tail: tail.unwrap_or(false),
            },
            "sampled" => Objective::Sampled {
                clamp: DEFAULT_CLAMP,
            },
            _ => {
                return Err(ObjectiveError::UnknownObjective {
                    name: name.to_string(),
                    suggestion: closest_name(name),
                })
            }
        };
        let given = [
            ("beta", beta.is_some(), "jsd"),
            ("clip", clip.is_some(), "clipped_kl"),
            ("k", top_k.is_some(), "top_k"),
            ("tail", tail.is_some(), "top_k"),
        ];
        for (setting, is_given, owner) in given {
            if is_given && owner != objective.name() {
                return Err(ObjectiveError::NotApplicable {
                    objective: objective.name(),
                    setting,
                    owner,
                });
            }
        }
        let spec = ObjectiveSpec {
            objective,
            temperature: temperature.unwrap_or(DEFAULT_TEMPERATURE),
        };
        spec.validate()?;
        Ok(spec)
    }

    /// This spec with `sampled`'s clamp set (the upper bound of the log-ratio r), checked.
    pub fn with_clamp(self, clamp: f64) -> Result<ObjectiveSpec, ObjectiveError> {
        let Objective::Sampled { .. } = self.objective else {
            return Err(ObjectiveError::NotApplicable {
                objective: self.objective.name(),
                setting: "clamp",
                owner: "sampled",
            });
        };
        let spec = ObjectiveSpec {
            objective: Objective::Sampled { clamp },
            ..self
        };
        spec.validate()?;
        Ok(spec)
    }

    /// Checks settings built by hand the way [`ObjectiveSpec::from_name`] checks parsed
    /// ones: every fused and reference computation calls it first.
    pub fn validate(&self) -> Result<(), ObjectiveError> {
        let name = self.objective.name();
        let bad = |setting, value: String, problem, help| ObjectiveError::BadSetting {
            objective: name,
            setting,
            value,
            problem,
            help,
        };
        let t = self.temperature;
        if !(t.is_finite() && t > 0.0) {
            return Err(bad(
                "temperature",
                t.to_string(),
                "is not a positive number: the logits cannot be divided by it",
                "use a positive temperature; 1.0 leaves the distributions as they are",
            ));
        }
        match self.objective {
            Objective::Jsd { beta } if !(0.0..=1.0).contains(&beta) => Err(bad(
                "beta",
                beta.to_string(),
                "is outside [0, 1]: the mixture βq + (1−β)p is not a distribution",
                "use 0 for forward KL, 1 for reverse KL, or a value in between",
            )),
            Objective::ClippedKl { clip } if !(clip.is_finite() && clip > 0.0) => Err(bad(
                "clip",
                clip.to_string(),
                "is not a positive finite cap: every token would be clamped, or none",
                "use a positive cap such as 0.1, or `forward_kl` for no cap",
            )),
            Objective::TopK { k: 0, .. } => Err(bad(
                "k",
                "0".into(),
                "leaves no tokens in the support",
                "use k ≥ 1; 32 is the baseline",
            )),
            Objective::Sampled { clamp } if !clamp.is_finite() => Err(bad(
                "clamp",
                clamp.to_string(),
                "is not a finite number: e^r would overflow for confident teachers",
                "use a finite clamp; 20 only guards against overflow",
            )),
            _ => Ok(()),
        }
    }

    /// Settings that compute, but almost certainly not what was meant. Each line is one
    /// warning with its remedy.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.temperature < 0.1 {
            out.push(format!(
                "temperature {} sharpens both distributions to nearly their argmax: most \
                 tokens' probabilities underflow and the loss follows the top token only; \
                 use a temperature near 1",
                self.temperature
            ));
        }
        match self.objective {
            Objective::TopK { k: 1, tail: false } => out.push(
                "top_k with k = 1 and no tail is identically zero (one token renormalizes to \
                 probability 1 on both sides) and passes no gradient; set `tail` or raise k"
                    .into(),
            ),
            Objective::ClippedKl { clip } if clip < 1e-3 => out.push(format!(
                "clip {clip} nats is so small that nearly every token's KL exceeds it: those \
                 tokens contribute the constant cap and no gradient, so training stalls; \
                 use a cap such as 0.1"
            )),
            Objective::Jsd { beta } if beta > 0.0 && beta < 0.01 => out.push(format!(
                "beta {beta} makes jsd ≈ beta · KL(q‖p): the loss and its gradient shrink by \
                 that factor; use beta = 0 for forward KL exactly"
            )),
            Objective::Jsd { beta } if beta < 1.0 && beta > 0.99 => out.push(format!(
                "beta {beta} makes jsd ≈ (1 − beta) · KL(p‖q): the loss and its gradient \
                 shrink by that factor; use beta = 1 for reverse KL exactly"
            )),
            Objective::Sampled { clamp } if clamp <= 0.0 => out.push(format!(
                "clamp {clamp} cuts the gradient of every token where the teacher is surer \
                 than the student; use a positive clamp such as 20"
            )),
            Objective::Sampled { clamp } if clamp > 80.0 => out.push(format!(
                "clamp {clamp} lets e^r overflow single precision (above e^88.7) for a token \
                 the student finds very unlikely, making the loss infinite; use 20"
            )),
            _ => {}
        }
        out
    }
}

/// `forward_kl`, `jsd (beta 0.3, temperature 2)`, `top_k (k 5, tail)`: the name and every
/// setting that is not implied by it.
impl std::fmt::Display for ObjectiveSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut settings = match self.objective {
            Objective::ForwardKl | Objective::ReverseKl => Vec::new(),
            Objective::Jsd { beta } => vec![format!("beta {beta}")],
            Objective::ClippedKl { clip } => vec![format!("clip {clip}")],
            Objective::TopK { k, tail } => {
                let mut v = vec![format!("k {k}")];
                v.extend(tail.then(|| "tail".to_string()));
                v
            }
            Objective::Sampled { clamp } => vec![format!("clamp {clamp}")],
        };
        if self.temperature != 1.0 {
            settings.push(format!("temperature {}", self.temperature));
        }
        f.write_str(self.objective.name())?;
        if !settings.is_empty() {
            write!(f, " ({})", settings.join(", "))?;
        }
        Ok(())
    }
}

/// The objective name within two edits of `name`, for "did you mean".
fn closest_name(name: &str) -> Option<&'static str> {
    let wanted = name.to_ascii_lowercase().replace('-', "_");
    NAMES
        .iter()
        .map(|n| (edit_distance(&wanted, n), *n))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n)
}

/// Levenshtein distance over chars; names are short, so the quadratic table is fine.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}
