//! TRD's refine requests (METHODS.md §2 step 2), the truncation of a too-long initial
//! solution, and cleaning the refiner's reply.

/// OPD: a separate teacher repairs the student's attempt, keeping its path.
pub const OPD_PROMPT: &str = r#"Below is a problem and a student's attempted solution. Rewrite the attempt into a correct solution.

- Keep the overall structure and the reasoning path of the attempt.
- Find and fix every computation or logic error.
- Keep the steps that are already correct as they are.
- Output only the rewritten solution, with the final answer in \boxed{}.

Problem:
{{question}}

Attempted solution:
{{solution}}"#;

/// OPSD: the student itself, with the reference solution as privileged context.
pub const OPSD_PROMPT: &str = r#"Below is a problem, a reference solution, and your own earlier attempt. Rewrite your attempt so that it is consistent with the reference solution, keeping the useful structure and style of your attempt.

Output only the rewritten solution, with the final answer in \boxed{}.

Problem:
{{question}}

Reference solution:
{{reference}}

Your attempt:
{{solution}}"#;

/// The line that stands where text was cut.
pub const CUT_MARKER: &str = "[... part of the attempt was cut for length ...]";

/// Tokens estimated as characters / 4 (the same estimate plans and budgets use).
pub fn estimate_tokens(text: &str) -> usize {
    text.chars().count().div_ceil(4)
}

/// Which part of a too-long attempt is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Truncate {
    /// Keep the beginning.
    End,
    /// Keep the beginning and the end.
    Middle,
}

/// `attempt` cut to at most `budget` estimated tokens (the marker included), and whether
/// it was cut. Never cuts inside a character.
pub fn truncate(attempt: &str, budget: usize, how: Truncate) -> (String, bool) {
    if estimate_tokens(attempt) <= budget {
        return (attempt.to_string(), false);
    }
    let keep_chars = budget.saturating_sub(estimate_tokens(CUT_MARKER) + 1) * 4;
    let chars: Vec<char> = attempt.chars().collect();
    let text = match how {
        Truncate::End => {
            let head: String = chars[..keep_chars.min(chars.len())].iter().collect();
            format!("{head}\n{CUT_MARKER}")
        }
        Truncate::Middle => {
            let half = keep_chars / 2;
            let head: String = chars[..half.min(chars.len())].iter().collect();
            let tail: String = chars[chars.len().saturating_sub(keep_chars - half)..]
                .iter()
                .collect();
            format!("{head}\n{CUT_MARKER}\n{tail}")
        }
    };
    (text, true)
}

/// The refined solution from a reply: trimmed, and without a code fence that wraps the
/// whole reply (some models fence their answer).
pub fn clean_reply(reply: &str) -> String {
    let t = reply.trim();
    if let Some(inner) = t.strip_prefix("```") {
        if let Some(body) = inner.strip_suffix("```") {
            // Drop the fence's language tag line (```markdown).
            let body = match body.split_once('\n') {
                Some((tag, rest)) if !tag.contains(' ') => rest,
                _ => body,
            };
            if !body.contains("```") {
                return body.trim().to_string();
            }
        }
    }
    t.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_keeps_the_named_part_and_marks_the_cut() {
        let attempt: String = (0..400)
            .map(|i| char::from(b'a' + (i % 26) as u8))
            .collect();
        let (same, cut) = truncate(&attempt, 1000, Truncate::End);
        assert!(!cut);
        assert_eq!(same, attempt);
        let (end, cut) = truncate(&attempt, 40, Truncate::End);
        assert!(cut && end.starts_with("abcdef") && end.ends_with(CUT_MARKER));
        assert!(estimate_tokens(&end) <= 41, "{}", estimate_tokens(&end));
        let (mid, _) = truncate(&attempt, 40, Truncate::Middle);
        assert!(mid.starts_with("abc") && mid.contains(CUT_MARKER));
        assert!(mid.ends_with(&attempt[attempt.len() - 5..]));
        // Multi-byte text is cut between characters.
        let (ok, _) = truncate(&"é".repeat(400), 30, Truncate::Middle);
        assert!(ok.contains(CUT_MARKER));
    }

    #[test]
    fn replies_lose_a_wrapping_fence_only() {
        assert_eq!(clean_reply("  x = 1  "), "x = 1");
        assert_eq!(
            clean_reply("```markdown\nx = 1\n\\boxed{1}\n```"),
            "x = 1\n\\boxed{1}"
        );
        assert_eq!(clean_reply("```\nx\n```"), "x");
        let two = "```a```\ntext\n```b```";
        assert_eq!(clean_reply(two), two);
    }
}
