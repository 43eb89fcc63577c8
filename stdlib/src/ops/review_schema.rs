//! The shape of one peer review (`peer_review`): its JSON schema, the review read from a
//! validated answer, and how reviewers' credibilities combine.

use serde_json::{json, Value as Json};

/// The verdicts a reviewer may give.
pub const VERDICTS: [&str; 3] = ["correct", "flawed", "wrong"];

/// A reviewer's answer: credibility in [0, 1], a verdict, a short rationale; nothing else.
pub fn review_schema() -> Json {
    json!({
        "type": "object",
        "properties": {
            "credibility": {"type": "number", "minimum": 0, "maximum": 1},
            "verdict": {"type": "string", "enum": VERDICTS},
            "rationale": {"type": "string"},
        },
        "required": ["credibility", "verdict", "rationale"],
        "additionalProperties": false,
    })
}

/// One valid review.
#[derive(Clone, Debug, PartialEq)]
pub struct Review {
    pub reviewer: String,
    pub credibility: f64,
    pub verdict: String,
    pub rationale: String,
}

impl Review {
    /// Reads a value that passed [`review_schema`]; `None` if it did not after all.
    pub fn from_value(reviewer: &str, value: &Json) -> Option<Review> {
        let credibility = value.get("credibility")?.as_f64()?;
        if !(0.0..=1.0).contains(&credibility) {
            return None;
        }
        Some(Review {
            reviewer: reviewer.to_string(),
            credibility,
            verdict: value.get("verdict")?.as_str()?.to_string(),
            rationale: value.get("rationale")?.as_str()?.to_string(),
        })
    }

    /// The entry in the record's `reviews` list.
    pub fn to_json(&self) -> Json {
        json!({
            "reviewer": self.reviewer,
            "credibility": self.credibility,
            "verdict": self.verdict,
            "rationale": self.rationale,
        })
    }
}

/// How reviewers' credibilities combine into the candidate's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Aggregate {
    Mean,
    Min,
    Median,
}

impl Aggregate {
    pub fn from_setting(name: Option<&str>) -> Aggregate {
        match name {
            Some("min") => Aggregate::Min,
            Some("median") => Aggregate::Median,
            _ => Aggregate::Mean,
        }
    }
}

/// The combined credibility; `None` when there is no value. The median of an even count
/// is the mean of the two middle values.
pub fn aggregate(values: &[f64], how: Aggregate) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    Some(match how {
        Aggregate::Mean => values.iter().sum::<f64>() / values.len() as f64,
        Aggregate::Min => values.iter().copied().fold(f64::INFINITY, f64::min),
        Aggregate::Median => {
            let mut sorted = values.to_vec();
            sorted.sort_by(f64::total_cmp);
            let mid = sorted.len() / 2;
            if sorted.len() % 2 == 1 {
                sorted[mid]
            } else {
                (sorted[mid - 1] + sorted[mid]) / 2.0
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use dtac_runtime::llm::schema::{check_schema, validate};

    use super::*;

    #[test]
    fn aggregates_follow_their_definitions() {
        let v = [0.9, 0.2, 0.7, 0.6];
        assert!((aggregate(&v, Aggregate::Mean).unwrap() - 0.6).abs() < 1e-12);
        assert_eq!(aggregate(&v, Aggregate::Min), Some(0.2));
        // Even count: the mean of 0.6 and 0.7.
        assert!((aggregate(&v, Aggregate::Median).unwrap() - 0.65).abs() < 1e-12);
        assert_eq!(aggregate(&[0.9, 0.1, 0.5], Aggregate::Median), Some(0.5));
        assert_eq!(aggregate(&[], Aggregate::Mean), None);
    }

    #[test]
    fn the_schema_is_valid_and_rejects_out_of_range_and_unknown_verdicts() {
        let schema = review_schema();
        assert_eq!(check_schema(&schema), Ok(()));
        let good = json!({"credibility": 0.8, "verdict": "flawed", "rationale": "a gap"});
        assert!(validate(&schema, &good).is_empty());
        assert_eq!(
            Review::from_value("gpt", &good).map(|r| r.credibility),
            Some(0.8)
        );
        let bad = json!({"credibility": 1.5, "verdict": "fine", "rationale": "x"});
        let errors = validate(&schema, &bad);
        assert!(errors.iter().any(|e| e.contains("maximum")), "{errors:?}");
        assert!(errors.iter().any(|e| e.contains("verdict")), "{errors:?}");
        assert_eq!(Review::from_value("gpt", &bad), None);
    }

    #[test]
    fn setting_names_map_to_aggregates() {
        assert_eq!(Aggregate::from_setting(Some("min")), Aggregate::Min);
        assert_eq!(Aggregate::from_setting(Some("median")), Aggregate::Median);
        assert_eq!(Aggregate::from_setting(None), Aggregate::Mean);
    }
}
