//! Finding the final answer in a solution text.
//!
//! Rules, in the order `auto` tries them:
//! 1. `boxed`: the last `\boxed{…}` or `\fbox{…}`, braces balanced (escaped `\{` `\}` do
//!    not count); `\boxed 5` without braces takes the next word. An empty or unclosed
//!    last box gives nothing (a truncated solution has no final answer).
//! 2. `final_answer_is` / `answer_colon`: the text after the last "final answer is" or
//!    "answer:" (case-insensitive, whichever comes later; `**Answer:**` too), up to the
//!    end of its line or the first ". " (on the next line when its own is empty).
//! 3. `last_number`: the last number: an optional minus sign, digits with optional
//!    thousands groups (`1,000`, `1{,}000`), an optional decimal part, an optional `/b`.
//!
//! Works on bytes where it looks for ASCII only, and cuts only next to ASCII bytes, so
//! any UTF-8 input is safe.

/// How the final answer is found: the shared `extract` setting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Extract {
    /// The first rule that finds something: boxed, then answer phrases, then last number.
    #[default]
    Auto,
    Boxed,
    LastNumber,
}

impl Extract {
    /// The setting's value (`auto`, `boxed`, `last_number`); `auto` when absent.
    pub fn from_setting(s: Option<&str>) -> Extract {
        match s {
            Some("boxed") => Extract::Boxed,
            Some("last_number") => Extract::LastNumber,
            _ => Extract::Auto,
        }
    }
}

/// A final answer, as written, and the rule that found it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Extracted {
    pub text: String,
    /// `boxed`, `final_answer_is`, `answer_colon`, `last_number` or `leading_yes_no`.
    pub rule: &'static str,
}

pub fn extract(solution: &str, how: Extract) -> Option<Extracted> {
    match how {
        Extract::Boxed => boxed(solution),
        Extract::LastNumber => last_number(solution),
        Extract::Auto => boxed(solution)
            .or_else(|| phrase(solution))
            .or_else(|| last_number(solution)),
    }
}

/// A yes/no verdict opening the solution's last non-empty line ("No, such a polyhedron
/// cannot exist."), after markdown emphasis and an "Answer:" label. `verify` uses it
/// when the reference is yes/no and the usual rules found only a number or nothing:
/// the last number of such a solution is rarely its answer.
pub fn leading_yes_no(solution: &str) -> Option<Extracted> {
    let last = solution.lines().rev().find(|l| !l.trim().is_empty())?;
    let mut rest = last.trim_start_matches(|c: char| {
        c.is_whitespace() || matches!(c, '*' | '_' | '#' | '>' | '-')
    });
    for label in ["final answer:", "answer:", "final answer", "answer"] {
        if rest.len() >= label.len()
            && rest.is_char_boundary(label.len())
            && rest[..label.len()].eq_ignore_ascii_case(label)
        {
            rest = rest[label.len()..]
                .trim_start_matches(|c: char| c.is_whitespace() || matches!(c, '*' | '_' | ':'));
            break;
        }
    }
    let word: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect::<String>()
        .to_ascii_lowercase();
    let verdict = match word.as_str() {
        "yes" => "Yes",
        "no" => "No",
        _ => return None,
    };
    found(verdict, "leading_yes_no")
}

fn found(text: &str, rule: &'static str) -> Option<Extracted> {
    let text = text.trim();
    (!text.is_empty()).then(|| Extracted {
        text: text.to_string(),
        rule,
    })
}

/// The last `\boxed` or `\fbox` argument.
fn boxed(s: &str) -> Option<Extracted> {
    let (at, command) = ["\\boxed", "\\fbox"]
        .iter()
        .filter_map(|cmd| last_command(s, cmd).map(|at| (at, cmd.len())))
        .max_by_key(|(at, _)| *at)?;
    let bytes = s.as_bytes();
    let mut i = at + command;
    while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    match bytes.get(i)? {
        b'{' => {
            let close = matching_brace(bytes, i)?;
            found(&s[i + 1..close], "boxed")
        }
        b'}' => None,
        _ => {
            let end = s[i..]
                .find(|c: char| c.is_whitespace() || c == '$')
                .map_or(s.len(), |e| i + e);
            found(s[i..end].trim_end_matches(['.', ',']), "boxed")
        }
    }
}

/// Where the last `cmd` starts that is not the prefix of a longer command name.
fn last_command(s: &str, cmd: &str) -> Option<usize> {
    s.rmatch_indices(cmd).map(|(at, _)| at).find(|at| {
        !s.as_bytes()
            .get(at + cmd.len())
            .is_some_and(u8::is_ascii_alphabetic)
    })
}

/// The `}` matching the `{` at `open`, skipping escaped characters.
fn matching_brace(b: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = open;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 1,
            b'{' => depth += 1,
            b'}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The text after the later of the last "final answer is" and the last "answer:".
fn phrase(s: &str) -> Option<Extracted> {
    let lower = s.to_ascii_lowercase();
    let mut candidates = Vec::new();
    if let Some(at) = lower.rfind("final answer is") {
        candidates.push((at, at + "final answer is".len(), "final_answer_is"));
    }
    if let Some((at, after)) = answer_colon(&lower) {
        candidates.push((at, after, "answer_colon"));
    }
    candidates.sort_by_key(|(at, _, _)| std::cmp::Reverse(*at));
    candidates
        .into_iter()
        .find_map(|(_, after, rule)| found(answer_line(&s[after..]), rule))
}

/// The last "answer" followed by a colon, allowing Markdown bold between (`**Answer:**`,
/// `**Answer**:`); returns where it starts and where its colon ends.
fn answer_colon(lower: &str) -> Option<(usize, usize)> {
    let bytes = lower.as_bytes();
    lower.rmatch_indices("answer").find_map(|(at, word)| {
        let mut i = at + word.len();
        while matches!(bytes.get(i), Some(b'*' | b' ')) {
            i += 1;
        }
        (bytes.get(i) == Some(&b':')).then_some((at, i + 1))
    })
}

/// The answer on the rest of the line (or on the next non-empty line), up to the first
/// sentence end.
fn answer_line(rest: &str) -> &str {
    let rest = rest.trim_start_matches(|c: char| c == ':' || c == '*' || c.is_whitespace());
    let line = rest.split('\n').next().unwrap_or_default();
    let sentence = match line.find(". ") {
        Some(end) => &line[..end],
        None => line,
    };
    sentence.trim_end().trim_end_matches(['.', '*']).trim_end()
}

/// The last number in the text, as written.
fn last_number(s: &str) -> Option<Extracted> {
    let b = s.as_bytes();
    let mut last = None;
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        i = digits(b, i);
        if i - start <= 3 && b[start] != b'0' {
            i = groups(b, i);
        }
        for mark in [b'.', b'/'] {
            if b.get(i) == Some(&mark) && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
                i = digits(b, i + 1);
            }
        }
        last = Some((sign_start(s, start), i));
    }
    let (from, to) = last?;
    found(&s[from..to], "last_number")
}

fn digits(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    i
}

/// Past the thousands groups after `i`: `,ddd` or `{,}ddd`, each exactly three digits.
fn groups(b: &[u8], mut i: usize) -> usize {
    loop {
        let sep = if b[i..].starts_with(b",") {
            1
        } else if b[i..].starts_with(b"{,}") {
            3
        } else {
            return i;
        };
        let group = i + sep;
        let three = (group..group + 3).all(|k| b.get(k).is_some_and(u8::is_ascii_digit));
        if !three || b.get(group + 3).is_some_and(u8::is_ascii_digit) {
            return i;
        }
        i = group + 3;
    }
}

/// Where the number starting at `start` really starts: at a minus sign (`-` or `−`)
/// right before it, unless that sign follows a word or a closing bracket (`5-3`).
fn sign_start(s: &str, start: usize) -> usize {
    let head = &s[..start];
    let sign_len = if head.ends_with('-') {
        1
    } else if head.ends_with('\u{2212}') {
        '\u{2212}'.len_utf8()
    } else {
        return start;
    };
    let before = head[..start - sign_len].chars().next_back();
    let binary = before.is_some_and(|c| c.is_alphanumeric() || matches!(c, ')' | ']' | '}'));
    if binary {
        start
    } else {
        start - sign_len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auto(s: &str) -> Option<(String, &'static str)> {
        extract(s, Extract::Auto).map(|e| (e.text, e.rule))
    }

    fn pair(text: &str, rule: &'static str) -> Option<(String, &'static str)> {
        Some((text.to_string(), rule))
    }

    #[test]
    fn the_last_box_wins_with_nested_braces() {
        assert_eq!(
            auto("first \\boxed{1}, then \\boxed{\\frac{1}{2}}."),
            pair("\\frac{1}{2}", "boxed")
        );
        assert_eq!(
            auto("$\\boxed{\\{1, \\{2\\}\\}}$"),
            pair("\\{1, \\{2\\}\\}", "boxed")
        );
        assert_eq!(auto("so \\fbox{7} and \\boxed{8}"), pair("8", "boxed"));
        assert_eq!(auto("so \\boxed{8} and \\fbox{7}"), pair("7", "boxed"));
        assert_eq!(auto("$\\boxed 5$"), pair("5", "boxed"));
        assert_eq!(auto("\\boxed{ x = 3 }"), pair("x = 3", "boxed"));
    }

    #[test]
    fn unclosed_or_empty_boxes_give_no_boxed_answer() {
        assert_eq!(extract("\\boxed{12", Extract::Boxed), None);
        assert_eq!(extract("\\boxed{}", Extract::Boxed), None);
        assert_eq!(extract("\\boxed", Extract::Boxed), None);
        assert_eq!(extract("\\boxedfoo{3}", Extract::Boxed), None);
        // `auto` goes on to the other rules.
        assert_eq!(
            auto("the total is 12 so \\boxed{1"),
            pair("1", "last_number")
        );
    }

    #[test]
    fn answer_phrases_take_the_rest_of_the_sentence() {
        assert_eq!(
            auto("The final answer is $\\frac{3}{4}$. I hope it is correct."),
            pair("$\\frac{3}{4}$", "final_answer_is")
        );
        assert_eq!(auto("Answer: 42\nDone"), pair("42", "answer_colon"));
        assert_eq!(auto("**Answer:** 3.5 cm."), pair("3.5 cm", "answer_colon"));
        assert_eq!(
            auto("**Final Answer**:\n\n  x = 2"),
            pair("x = 2", "answer_colon")
        );
        assert_eq!(
            auto("Answer: wrong guess. Final answer is 9"),
            pair("9", "final_answer_is")
        );
        assert_eq!(
            auto("Final answer is 1. Later, Answer: 2."),
            pair("2", "answer_colon")
        );
    }

    #[test]
    fn the_last_number_keeps_signs_groups_decimals_and_fractions() {
        let last = |s| extract(s, Extract::LastNumber).map(|e| e.text);
        assert_eq!(last("we get 3, then -12.5"), Some("-12.5".into()));
        assert_eq!(last("5-3"), Some("3".into()));
        assert_eq!(last("x = \u{2212}7"), Some("\u{2212}7".into()));
        assert_eq!(last("total 1,234,567 units"), Some("1,234,567".into()));
        assert_eq!(last("total 1{,}000"), Some("1{,}000".into()));
        assert_eq!(last("lists 1,2,3"), Some("3".into()));
        assert_eq!(last("ratio 3/4."), Some("3/4".into()));
        assert_eq!(last("10,0000"), Some("0000".into()));
        assert_eq!(last("no digits here"), None);
        // `last_number` alone ignores boxes.
        assert_eq!(last("\\boxed{x} at step 4"), Some("4".into()));
    }

    #[test]
    fn nothing_to_extract_is_none() {
        assert_eq!(auto(""), None);
        assert_eq!(auto("I am not sure."), None);
        assert_eq!(auto("Answer:   \n  "), None);
    }

    #[test]
    fn settings_map_to_rules() {
        assert_eq!(Extract::from_setting(Some("boxed")), Extract::Boxed);
        assert_eq!(
            Extract::from_setting(Some("last_number")),
            Extract::LastNumber
        );
        assert_eq!(Extract::from_setting(Some("auto")), Extract::Auto);
        assert_eq!(Extract::from_setting(None), Extract::Auto);
    }
}
