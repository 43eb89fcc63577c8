//! The measured side of `style_probe`: features of a set of answers (length, steps,
//! markdown, LaTeX, `\boxed{}`, discourse markers, language), their text for prompts, and
//! a style guide rendered from them when no writer is asked.
//!
//! Every feature is a plain count over the text [choice], so the same answers always give
//! the same profile:
//! - words are whitespace-separated runs; lines are non-empty lines;
//! - steps are numbered items (`1.`, `2)`, `Step 3`) when an answer has at least two,
//!   else its paragraphs (blocks between blank lines);
//! - list items are lines starting with `-`, `*`, `+` or a number and `.`/`)`, then a
//!   space; headers are lines starting with one to six `#` and a space;
//! - LaTeX density is math characters per word: the characters inside `$…$`, `$$…$$`,
//!   `\(…\)` and `\[…\]`, plus bare commands such as `\frac` outside them;
//! - a marker's rate counts whole-word, case-insensitive occurrences per 1,000 words;
//! - the language is decided per answer by script (CJK characters, Hangul, Cyrillic,
//!   Arabic, Devanagari, or Latin words of two letters or more, whichever has the most),
//!   and for Latin script by the most frequent stopwords of English, French, German,
//!   Spanish, Portuguese and Italian (`latin` when none occurs); the profile keeps the
//!   most common answer language.

use std::collections::BTreeMap;

use serde_json::{json, Value as Json};

/// One answer's counts.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Counts {
    pub words: usize,
    pub lines: usize,
    pub steps: usize,
    pub list_items: usize,
    pub headers: usize,
    pub math_chars: usize,
    pub boxed: bool,
    pub markers: Vec<usize>,
    pub language: &'static str,
}

/// Mean and median of one count over the answers.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Spread {
    pub mean: f64,
    pub median: f64,
}

/// The profile of a set of answers.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Features {
    pub answers: usize,
    pub words: Spread,
    pub lines: Spread,
    pub steps: Spread,
    pub list_items_per_answer: f64,
    pub headers_per_answer: f64,
    pub latex_chars_per_word: f64,
    pub boxed_rate: f64,
    /// `(marker, occurrences per 1,000 words)`, in the order given.
    pub markers: Vec<(String, f64)>,
    pub language: String,
    /// The share of answers written in `language`.
    pub language_share: f64,
}

/// Counts one answer.
pub fn count(text: &str, markers: &[String]) -> Counts {
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let numbered = lines.iter().filter(|l| numbered_item(l)).count();
    let paragraphs = text.split("\n\n").filter(|p| !p.trim().is_empty()).count();
    let lower = text.to_lowercase();
    Counts {
        words: text.split_whitespace().count(),
        lines: lines.iter().filter(|l| !l.is_empty()).count(),
        steps: if numbered >= 2 { numbered } else { paragraphs },
        list_items: lines.iter().filter(|l| list_item(l)).count(),
        headers: lines.iter().filter(|l| header(l)).count(),
        math_chars: math_chars(text),
        boxed: text.contains("\\boxed{"),
        markers: markers
            .iter()
            .map(|m| occurrences(&lower, &m.to_lowercase()))
            .collect(),
        language: language(text),
    }
}

/// Profiles `answers`.
pub fn measure(answers: &[&str], markers: &[String]) -> Features {
    let counts: Vec<Counts> = answers.iter().map(|a| count(a, markers)).collect();
    let n = counts.len();
    if n == 0 {
        return Features::default();
    }
    let spread = |f: fn(&Counts) -> usize| {
        let values: Vec<f64> = counts.iter().map(|c| f(c) as f64).collect();
        Spread {
            mean: round(values.iter().sum::<f64>() / n as f64),
            median: median(&values),
        }
    };
    let per_answer =
        |f: fn(&Counts) -> usize| round(counts.iter().map(|c| f(c) as f64).sum::<f64>() / n as f64);
    let words: usize = counts.iter().map(|c| c.words).sum();
    let per_word = |x: usize| {
        if words == 0 {
            0.0
        } else {
            x as f64 / words as f64
        }
    };
    let mut languages: BTreeMap<&str, usize> = BTreeMap::new();
    for c in &counts {
        *languages.entry(c.language).or_default() += 1;
    }
    // The most common; among equals the first by name, so the choice is stable.
    let (language, speakers) =
        languages.iter().fold(
            ("unknown", 0),
            |best, (&l, &k)| if k > best.1 { (l, k) } else { best },
        );
    Features {
        answers: n,
        words: spread(|c| c.words),
        lines: spread(|c| c.lines),
        steps: spread(|c| c.steps),
        list_items_per_answer: per_answer(|c| c.list_items),
        headers_per_answer: per_answer(|c| c.headers),
        latex_chars_per_word: round(per_word(counts.iter().map(|c| c.math_chars).sum())),
        boxed_rate: round(counts.iter().filter(|c| c.boxed).count() as f64 / n as f64),
        markers: markers
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let total: usize = counts.iter().map(|c| c.markers[i]).sum();
                (m.clone(), round(1000.0 * per_word(total)))
            })
            .collect(),
        language: language.to_string(),
        language_share: round(speakers as f64 / n as f64),
    }
}

/// Indices of up to `k` answers whose length in words is closest to the median, closest
/// first (ties by position).
pub fn typical(answers: &[&str], k: usize) -> Vec<usize> {
    let words: Vec<f64> = answers
        .iter()
        .map(|a| a.split_whitespace().count() as f64)
        .collect();
    let mid = median(&words);
    let mut idx: Vec<usize> = (0..answers.len()).collect();
    idx.sort_by(|&a, &b| {
        (words[a] - mid)
            .abs()
            .total_cmp(&(words[b] - mid).abs())
            .then(a.cmp(&b))
    });
    idx.truncate(k);
    idx
}

impl Features {
    pub fn to_json(&self) -> Json {
        let spread = |s: Spread| json!({"mean": s.mean, "median": s.median});
        let markers: serde_json::Map<String, Json> = self
            .markers
            .iter()
            .map(|(m, r)| (m.clone(), json!(r)))
            .collect();
        json!({
            "answers": self.answers,
            "words": spread(self.words),
            "lines": spread(self.lines),
            "steps": spread(self.steps),
            "list_items_per_answer": self.list_items_per_answer,
            "headers_per_answer": self.headers_per_answer,
            "latex_chars_per_word": self.latex_chars_per_word,
            "boxed_rate": self.boxed_rate,
            "markers_per_1000_words": markers,
            "language": self.language,
            "language_share": self.language_share,
        })
    }

    /// The measurements as text, for the writer's and the rewriter's prompts.
    pub fn describe(&self) -> String {
        let markers: Vec<String> = self
            .markers
            .iter()
            .map(|(m, r)| format!("\"{m}\" {r}"))
            .collect();
        let mut out = vec![
            format!("- answers measured: {}", self.answers),
            format!(
                "- language: {} ({:.0}% of answers)",
                language_name(&self.language),
                100.0 * self.language_share
            ),
            format!(
                "- words per answer: mean {}, median {}",
                self.words.mean, self.words.median
            ),
            format!(
                "- non-empty lines per answer: mean {}, median {}",
                self.lines.mean, self.lines.median
            ),
            format!(
                "- steps per answer: mean {}, median {}",
                self.steps.mean, self.steps.median
            ),
            format!(
                "- markdown list items per answer: {}; headers per answer: {}",
                self.list_items_per_answer, self.headers_per_answer
            ),
            format!(
                "- LaTeX: {} math characters per word",
                self.latex_chars_per_word
            ),
            format!(
                "- final answer in \\boxed{{}}: {:.0}% of answers",
                100.0 * self.boxed_rate
            ),
        ];
        if !markers.is_empty() {
            out.push(format!(
                "- discourse markers per 1,000 words: {}",
                markers.join(", ")
            ));
        }
        out.join("\n")
    }

    /// A style guide written from the measurements alone, when no writer is asked. The
    /// thresholds are [choice]: a habit shown by about half the answers or more is one to
    /// follow.
    pub fn guide(&self) -> String {
        let mut out = vec![format!("Write in {}.", language_name(&self.language))];
        out.push(format!(
            "Keep a solution to about {} words over about {} lines, in about {} steps.",
            self.words.median.round(),
            self.lines.median.round(),
            self.steps.median.round()
        ));
        out.push(if self.list_items_per_answer >= 1.0 {
            format!(
                "Present the steps as a markdown list (about {} items per answer).",
                self.list_items_per_answer
            )
        } else {
            "Write the steps as plain paragraphs, not markdown lists.".to_string()
        });
        out.push(if self.headers_per_answer >= 0.5 {
            "Use markdown headers to separate the parts of a solution.".to_string()
        } else {
            "Do not use markdown headers.".to_string()
        });
        out.push(
            if self.latex_chars_per_word >= 0.2 {
                "Write mathematics in LaTeX."
            } else if self.latex_chars_per_word >= 0.02 {
                "Use LaTeX sparingly, for formulas only."
            } else {
                "Write mathematics in plain text, without LaTeX."
            }
            .to_string(),
        );
        out.push(
            if self.boxed_rate >= 0.5 {
                "End with the final answer in \\boxed{}."
            } else {
                "State the final answer in words rather than in \\boxed{}."
            }
            .to_string(),
        );
        let mut used: Vec<&(String, f64)> = self.markers.iter().filter(|(_, r)| *r > 0.0).collect();
        used.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        if !used.is_empty() {
            let list: Vec<String> = used
                .iter()
                .take(4)
                .map(|(m, r)| format!("\"{m}\" ({r} per 1,000 words)"))
                .collect();
            out.push(format!(
                "Connect the steps with the student's usual words: {}.",
                list.join(", ")
            ));
        }
        out.join("\n")
    }
}

/// Rounded to three decimals, so profiles read well and compare exactly.
fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    round(if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    })
}

/// `1.`, `2)`, `Step 3` at the start of a trimmed line.
fn numbered_item(line: &str) -> bool {
    let lower = line.to_lowercase();
    if let Some(rest) = lower.strip_prefix("step ") {
        return rest.starts_with(|c: char| c.is_ascii_digit());
    }
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    digits > 0 && matches!(line[digits..].chars().next(), Some('.' | ')'))
}

fn list_item(line: &str) -> bool {
    if ["- ", "* ", "+ "].iter().any(|p| line.starts_with(p)) {
        return true;
    }
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    digits > 0 && (line[digits..].starts_with(". ") || line[digits..].starts_with(") "))
}

fn header(line: &str) -> bool {
    let hashes = line.chars().take_while(|&c| c == '#').count();
    (1..=6).contains(&hashes) && line[hashes..].starts_with(' ')
}

/// Characters inside math delimiters plus bare LaTeX commands outside them. An opening
/// delimiter that is never closed counts as text.
fn math_chars(text: &str) -> usize {
    const PAIRS: [(&str, &str); 4] = [("$$", "$$"), ("\\[", "\\]"), ("\\(", "\\)"), ("$", "$")];
    let mut total = 0;
    let mut rest = text;
    'scan: while let Some(c) = rest.chars().next() {
        for (open, close) in PAIRS {
            if let Some(inner) = rest.strip_prefix(open) {
                if let Some(end) = inner.find(close) {
                    total += inner[..end].chars().count();
                    rest = &inner[end + close.len()..];
                    continue 'scan;
                }
            }
        }
        if c == '\\' {
            let name = rest[1..]
                .chars()
                .take_while(char::is_ascii_alphabetic)
                .count();
            if name > 0 {
                total += name + 1;
                rest = &rest[name + 1..];
                continue;
            }
        }
        rest = &rest[c.len_utf8()..];
    }
    total
}

/// Whole-word occurrences of `needle` in `haystack` (both lowercase).
fn occurrences(haystack: &str, needle: &str) -> usize {
    if needle.is_empty() {
        return 0;
    }
    let word = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    haystack
        .match_indices(needle)
        .filter(|(at, _)| {
            let before = haystack[..*at].chars().next_back();
            let after = haystack[at + needle.len()..].chars().next();
            !word(before) && !word(after)
        })
        .count()
}

/// Frequent function words of two letters or more (single letters are mostly variables
/// in mathematics).
const STOPWORDS: [(&str, &[&str]); 6] = [
    (
        "en",
        &[
            "the", "and", "is", "of", "to", "we", "that", "this", "with", "then", "are",
        ],
    ),
    (
        "fr",
        &[
            "le", "les", "et", "est", "des", "une", "nous", "donc", "pour", "dans", "du",
        ],
    ),
    (
        "de",
        &[
            "der", "die", "das", "und", "ist", "wir", "nicht", "mit", "ein", "eine", "also",
        ],
    ),
    (
        "es",
        &[
            "el", "los", "las", "es", "una", "por", "con", "entonces", "del", "pero", "como",
        ],
    ),
    (
        "pt",
        &[
            "uma", "com", "não", "então", "do", "da", "são", "isso", "pelo", "também", "os",
        ],
    ),
    (
        "it",
        &[
            "il", "gli", "che", "per", "non", "quindi", "della", "sono", "anche", "questo", "di",
        ],
    ),
];

/// The language of one answer (see the module header).
pub fn language(text: &str) -> &'static str {
    let mut han = 0usize;
    let mut kana = 0usize;
    let mut hangul = 0usize;
    for c in text.chars() {
        match c as u32 {
            0x4E00..=0x9FFF | 0x3400..=0x4DBF => han += 1,
            0x3040..=0x30FF => kana += 1,
            0xAC00..=0xD7AF | 0x1100..=0x11FF => hangul += 1,
            _ => {}
        }
    }
    // Words of two letters or more, by script.
    let mut latin = 0usize;
    let mut cyrillic = 0usize;
    let mut arabic = 0usize;
    let mut devanagari = 0usize;
    let mut latin_words: Vec<String> = Vec::new();
    for w in text.split(|c: char| !c.is_alphabetic()) {
        if w.chars().count() < 2 {
            continue;
        }
        let first = w.chars().next().map_or(0, |c| c as u32);
        match first {
            0x0400..=0x04FF => cyrillic += 1,
            0x0600..=0x06FF => arabic += 1,
            0x0900..=0x097F => devanagari += 1,
            0x41..=0x5A | 0x61..=0x7A | 0xC0..=0x24F => {
                latin += 1;
                latin_words.push(w.to_lowercase());
            }
            _ => {}
        }
    }
    let cjk = han + kana;
    let scripts = [
        (cjk, if kana * 10 >= cjk { "ja" } else { "zh" }),
        (hangul, "ko"),
        (cyrillic, "ru"),
        (arabic, "ar"),
        (devanagari, "hi"),
        (latin, "latin"),
    ];
    let (units, script) =
        scripts.iter().fold(
            (0, "unknown"),
            |best, &(k, s)| if k > best.0 { (k, s) } else { best },
        );
    if units == 0 || script != "latin" {
        return script;
    }
    let mut best = ("latin", 0usize);
    for (lang, words) in STOPWORDS {
        let hits = latin_words
            .iter()
            .filter(|w| words.contains(&w.as_str()))
            .count();
        if hits > best.1 {
            best = (lang, hits);
        }
    }
    best.0
}

/// A language code as a name for prompts and guides.
pub fn language_name(code: &str) -> &str {
    match code {
        "en" => "English",
        "fr" => "French",
        "de" => "German",
        "es" => "Spanish",
        "pt" => "Portuguese",
        "it" => "Italian",
        "zh" => "Chinese",
        "ja" => "Japanese",
        "ko" => "Korean",
        "ru" => "Russian",
        "ar" => "Arabic",
        "hi" => "Hindi",
        "latin" => "the student's language (Latin script)",
        _ => "the student's language",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn markers() -> Vec<String> {
        ["therefore", "so", "we get"].map(String::from).to_vec()
    }

    #[test]
    fn one_answer_is_counted() {
        let text = "# Solution\n\n1. First, $x + 1 = 2$.\n2. So x = 1.\n\n- note: \\frac{1}{2}\n\nTherefore, we get \\boxed{1}. Also, so.";
        let c = count(text, &markers());
        assert_eq!(c.lines, 5);
        assert_eq!(c.steps, 2, "two numbered items");
        assert_eq!(c.list_items, 3, "two numbered items and one bullet");
        assert_eq!(c.headers, 1);
        // "x + 1 = 2" (9) inside $…$, then the bare \frac (5) and \boxed (6).
        assert_eq!(c.math_chars, 9 + 5 + 6);
        assert!(c.boxed);
        // "So", "so." and "Also" (not a whole word) → 2.
        assert_eq!(c.markers, vec![1, 2, 1]);
        assert_eq!(c.language, "en");
    }

    #[test]
    fn steps_fall_back_to_paragraphs() {
        let c = count("First part.\n\nSecond part.\n\n\n\nThird.", &[]);
        assert_eq!((c.steps, c.lines), (3, 3));
        let unclosed = count("costs $5 and more", &[]);
        assert_eq!(unclosed.math_chars, 0, "an unclosed $ is text");
    }

    #[test]
    fn languages_are_told_apart_by_script_and_stopwords() {
        assert_eq!(language("We add the two numbers and then divide."), "en");
        assert_eq!(language("Nous avons donc la somme des deux nombres."), "fr");
        assert_eq!(
            language("Wir addieren die Zahlen und das ist also richtig."),
            "de"
        );
        assert_eq!(language("所以答案是 $x = 2$，因为两边相等。"), "zh");
        assert_eq!(language("したがって、答えは 2 です。"), "ja");
        assert_eq!(language("따라서 답은 2입니다."), "ko");
        assert_eq!(language("Следовательно, ответ равен двум."), "ru");
        assert_eq!(language("$x^2 = 4$"), "unknown");
    }

    #[test]
    fn features_aggregate_over_answers() {
        let answers = [
            "we add the numbers",
            "it is \\boxed{3}",
            "so we add one and two therefore three",
        ];
        let f = measure(&answers, &markers());
        assert_eq!(f.answers, 3);
        assert_eq!(
            f.words,
            Spread {
                mean: 5.0,
                median: 4.0
            }
        );
        assert_eq!(f.boxed_rate, 0.333);
        // 15 words; "so" and "therefore" once each: 1000 / 15.
        assert_eq!(f.markers[0], ("therefore".to_string(), 66.667));
        assert_eq!(f.markers[1], ("so".to_string(), 66.667));
        assert_eq!(f.markers[2], ("we get".to_string(), 0.0));
        assert_eq!(f.language, "en");
        assert_eq!(f.to_json()["words"]["median"], 4.0);
        let guide = f.guide();
        assert!(guide.starts_with("Write in English."), "{guide}");
        assert!(guide.contains("about 4 words"), "{guide}");
        assert!(guide.contains("rather than in \\boxed{}"), "{guide}");
        assert!(f.describe().contains("\"so\" 66.667"));
    }

    #[test]
    fn typical_answers_are_closest_to_the_median_length() {
        let answers = ["a", "a b c d e f g h", "a b c", "a b c d", "a b"];
        // Median length 3: "a b c" (3), then "a b c d" and "a b" (both 1 away, by position).
        assert_eq!(typical(&answers, 3), vec![2, 3, 4]);
        assert_eq!(typical(&[], 2), Vec::<usize>::new());
    }
}
