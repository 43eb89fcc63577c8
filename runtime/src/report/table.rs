//! The summary printed on stderr at the end of a run: one row per stage and a totals row,
//! then the drop reasons, a few sample errors, the exports and the outcome. Plain text
//! with no colors (the caller decides), lines kept within 120 characters where it can.

use std::iter;

use super::cells::*;
use super::Report;
use crate::exec::StageSummary;

/// Lines are kept within this many characters when the content allows.
const MAX_LINE: usize = 120;
/// The narrowest a stage name is cut to, however wide the other columns are.
const MIN_STAGE: usize = 12;
/// The widest an op name is shown.
const MAX_OP: usize = 20;
/// Sample errors shown per stage.
const ERROR_SAMPLES: usize = 3;
/// Characters of an error message shown.
const MAX_MESSAGE: usize = 120;
/// Characters of a record id shown.
const MAX_ID: usize = 40;
/// Spaces between columns.
const GAP: &str = "  ";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Align {
    Left,
    Right,
}

const COLUMNS: [(&str, Align); 11] = [
    ("stage", Align::Left),
    ("op", Align::Left),
    ("in", Align::Right),
    ("out", Align::Right),
    ("dropped", Align::Right),
    ("errors", Align::Right),
    ("cached", Align::Right),
    ("requests", Align::Right),
    ("tokens", Align::Right),
    ("cost", Align::Right),
    ("time", Align::Right),
];

type Row = [String; COLUMNS.len()];

/// The end-of-run summary, ending with a newline.
pub fn render_table(report: &Report) -> String {
    let mut out = String::new();
    let stage_width = if report.stages.is_empty() {
        out.push_str("no stages ran\n");
        MAX_LINE
    } else {
        table(report, &mut out)
    };

    for s in &report.stages {
        let name = fit(&clean(&s.name), stage_width);
        let drops = drop_reasons(s);
        if !drops.is_empty() {
            let listed: Vec<String> = drops
                .iter()
                .map(|(reason, n)| format!("{n} ({})", clean(reason)))
                .collect();
            out.push_str(&format!("  {name}: dropped {}\n", listed.join(", ")));
        }
        if s.errors > 0 {
            let shown = s.error_samples.len().min(ERROR_SAMPLES);
            for (id, message) in s.error_samples.iter().take(ERROR_SAMPLES) {
                out.push_str(&format!(
                    "  {name}: error on {}: {}\n",
                    fit(&clean(id), MAX_ID),
                    fit(&clean(message), MAX_MESSAGE)
                ));
            }
            let more = s.errors.saturating_sub(shown as u64);
            if more > 0 {
                let noun = if more == 1 { "error" } else { "errors" };
                let word = if shown == 0 { "" } else { " more" };
                out.push_str(&format!("  {name}: {more}{word} {noun}\n"));
            }
        }
        // One line per training curve: where it started, ended and bottomed out.
        for c in s.curves.iter().filter(|c| c.y_label == "loss") {
            for series in &c.series {
                let ys: Vec<f64> = series
                    .points
                    .iter()
                    .map(|p| p.1)
                    .filter(|y| y.is_finite())
                    .collect();
                if let (Some(first), Some(last)) = (ys.first(), ys.last()) {
                    let min = ys.iter().copied().fold(f64::INFINITY, f64::min);
                    out.push_str(&format!(
                        "  {name}: {} loss {first:.4} -> {last:.4} (min {min:.4}, {} points)\n",
                        clean(&series.name),
                        ys.len()
                    ));
                }
            }
        }
    }

    for e in &report.exports {
        out.push_str(&format!(
            "wrote {} example{} to {} ({})\n",
            e.examples,
            if e.examples == 1 { "" } else { "s" },
            clean(&e.path.display().to_string()),
            clean(&e.format)
        ));
    }

    out.push_str(&outcome_line(report));
    out.push('\n');
    out
}

/// Writes the header, the stage rows and the totals row; returns the stage column's width.
fn table(report: &Report, out: &mut String) -> usize {
    let rows: Vec<Row> = report.stages.iter().map(stage_row).collect();
    let totals = totals_row(report);

    let mut widths = COLUMNS.map(|(header, _)| width(header));
    for row in rows.iter().chain(iter::once(&totals)) {
        for (w, cell) in widths.iter_mut().zip(row.iter()) {
            *w = (*w).max(width(cell));
        }
    }
    widths[1] = widths[1].min(MAX_OP);
    let others: usize = widths[1..].iter().sum::<usize>() + GAP.len() * (COLUMNS.len() - 1);
    let stage_cap = MAX_LINE.saturating_sub(others).max(MIN_STAGE);
    widths[0] = widths[0].min(stage_cap);

    let header: Row = COLUMNS.map(|(header, _)| header.to_string());
    let line_width = widths.iter().sum::<usize>() + GAP.len() * (COLUMNS.len() - 1);
    let rule = "-".repeat(line_width);

    push_row(out, &header, &widths);
    out.push_str(&rule);
    out.push('\n');
    for row in &rows {
        push_row(out, row, &widths);
    }
    out.push_str(&rule);
    out.push('\n');
    push_row(out, &totals, &widths);
    out.push('\n');
    widths[0]
}

fn push_row(out: &mut String, row: &Row, widths: &[usize; COLUMNS.len()]) {
    for (i, ((cell, &w), (_, align))) in row.iter().zip(widths).zip(COLUMNS).enumerate() {
        if i > 0 {
            out.push_str(GAP);
        }
        let cell = fit(cell, w);
        let pad = " ".repeat(w - width(&cell));
        match align {
            Align::Left => {
                out.push_str(&cell);
                out.push_str(&pad);
            }
            Align::Right => {
                out.push_str(&pad);
                out.push_str(&cell);
            }
        }
    }
    out.push('\n');
}

fn stage_row(s: &StageSummary) -> Row {
    let [a, b, c, d, e, f, g, h, i] = stage_numbers(s);
    [clean(&s.name), clean(&s.op), a, b, c, d, e, f, g, h, i]
}

/// Sums over the stages; the time is the run's wall-clock time, since stages stream into
/// each other and overlap.
fn totals_row(report: &Report) -> Row {
    let t = Totals::of(report);
    [
        "total".to_string(),
        String::new(),
        String::new(),
        String::new(),
        t.dropped.to_string(),
        t.errors.to_string(),
        t.cached_cell(),
        t.requests_cell(),
        t.tokens_cell(),
        t.cost_cell(),
        duration(report.seconds),
    ]
}

/// Column sums over a report's stages.
#[derive(Clone, Debug, Default)]
pub(super) struct Totals {
    pub dropped: u64,
    pub errors: u64,
    /// Cached requests of the stages that ran (a stage answered from the store says "yes").
    pub cached_requests: u64,
    pub requests: u64,
    pub tokens: u64,
    pub cost: f64,
    /// Whether any stage used a teacher.
    pub any_usage: bool,
}

impl Totals {
    pub(super) fn of(report: &Report) -> Totals {
        let mut t = Totals::default();
        for s in &report.stages {
            t.dropped += dropped_total(s);
            t.errors += s.errors;
            if !s.cached {
                t.cached_requests += s.cached_requests();
            }
            t.requests += s.requests();
            t.tokens += s.tokens();
            t.cost += finite(s.cost());
            t.any_usage |= !s.usage.is_empty();
        }
        t.cost = finite(t.cost);
        t
    }

    pub(super) fn cached_cell(&self) -> String {
        if self.cached_requests > 0 {
            self.cached_requests.to_string()
        } else {
            "-".to_string()
        }
    }

    pub(super) fn requests_cell(&self) -> String {
        if self.any_usage {
            self.requests.to_string()
        } else {
            "-".to_string()
        }
    }

    pub(super) fn tokens_cell(&self) -> String {
        if self.any_usage {
            tokens(self.tokens)
        } else {
            "-".to_string()
        }
    }

    pub(super) fn cost_cell(&self) -> String {
        if self.cost == 0.0 && self.requests == 0 {
            "-".to_string()
        } else {
            dollars(self.cost)
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    use super::*;
    use crate::exec::{ExportResult, Histogram};
    use crate::llm::UsageStats;

    /// A report with a cached source, a judged stage with drops, errors, scores and usage,
    /// and a stage that got no records.
    pub(in crate::report) fn sample_report() -> Report {
        let source = StageSummary {
            name: "problems".into(),
            op: "read_jsonl".into(),
            records_in: 1200,
            records_out: 1200,
            seconds: 0.42,
            cached: true,
            ..StageSummary::default()
        };

        let mut usage = BTreeMap::new();
        usage.insert(
            "teacher".to_string(),
            UsageStats {
                requests: 1150,
                cached: 50,
                prompt_tokens: 9_000_000,
                completion_tokens: 3_345_678,
                cost: 12.345_67,
            },
        );
        usage.insert(
            "judge".to_string(),
            UsageStats {
                requests: 30,
                cached: 0,
                prompt_tokens: 4000,
                completion_tokens: 500,
                cost: 0.0123,
            },
        );
        let mut dropped = BTreeMap::new();
        dropped.insert("duplicate".to_string(), 3);
        dropped.insert("wrong answer".to_string(), 12);
        dropped.insert("never".to_string(), 0);
        let mut quality = Histogram::default();
        for i in 0..100 {
            quality.add(f64::from(i) / 10.0);
        }
        quality.finish();
        let mut constant = Histogram::default();
        constant.add(0.5);
        constant.add(0.5);
        constant.finish();
        let mut empty = Histogram::default();
        empty.finish();
        let mut scores = BTreeMap::new();
        scores.insert("quality".to_string(), quality);
        scores.insert("constant".to_string(), constant);
        scores.insert("empty".to_string(), empty);
        let judged = StageSummary {
            name: "solve_and_judge".into(),
            op: "generate".into(),
            records_in: 1200,
            records_out: 1180,
            dropped,
            errors: 5,
            error_samples: vec![
                (
                    "rec-1".into(),
                    "model said <script>alert(1)</script> & left".into(),
                ),
                ("rec-2".into(), "x".repeat(500)),
                ("rec-3".into(), "line one\nline two\u{1b}[31m".into()),
                ("rec-4".into(), "not shown in the table".into()),
            ],
            usage,
            seconds: 125.0,
            cached: false,
            scores,
            drop_notes: vec![crate::op::DropNote {
                record: "P<7>".into(),
                reason: "contaminated".into(),
                detail: serde_json::json!({"ngram": "a <b> c", "benchmark": "bench"}),
            }],
            curves: Vec::new(),
            tables: vec![crate::op::ReportTable {
                title: "Token shift".into(),
                columns: vec!["token".into(), "shift".into()],
                rows: vec![vec![
                    serde_json::json!("<therefore>"),
                    serde_json::json!(1.25),
                ]],
            }],
        };

        let idle = StageSummary {
            name: "nothing_left".into(),
            op: "filter".into(),
            seconds: 0.0,
            ..StageSummary::default()
        };

        Report {
            recipe: PathBuf::from("recipes/synthesize.dta"),
            dtac_version: "0.1.0".into(),
            started_at: 1_700_000_000,
            seconds: 130.2,
            outcome: "completed".into(),
            message: String::new(),
            stages: vec![source, judged, idle],
            exports: vec![ExportResult {
                stage: "solve_and_judge".into(),
                path: PathBuf::from("out/train.jsonl"),
                format: "chatml".into(),
                examples: 1180,
            }],
            spent: 12.357_97,
        }
    }

    pub(in crate::report) fn empty_report() -> Report {
        Report {
            recipe: PathBuf::from("empty.dta"),
            dtac_version: "0.1.0".into(),
            started_at: 0,
            seconds: f64::NAN,
            outcome: "failed".into(),
            message: "stage `x`: nothing to do".into(),
            stages: vec![],
            exports: vec![],
            spent: f64::INFINITY,
        }
    }

    /// The lines of the table proper: header, rules, stage rows and totals.
    fn table_lines(text: &str, stages: usize) -> Vec<&str> {
        text.lines().take(stages + 4).collect()
    }

    #[test]
    fn lists_every_stage_and_the_totals() {
        let report = sample_report();
        let text = render_table(&report);
        let lines = table_lines(&text, 3);
        assert!(lines[0].starts_with("stage"), "{text}");
        assert!(lines[0].ends_with("time"), "{text}");
        assert!(lines[1].chars().all(|c| c == '-'), "{text}");
        assert!(lines[2].starts_with("problems "), "{text}");
        assert!(lines[3].starts_with("solve_and_judge "), "{text}");
        assert!(lines[4].starts_with("nothing_left "), "{text}");
        assert!(lines[5].chars().all(|c| c == '-'), "{text}");
        assert!(lines[6].starts_with("total "), "{text}");

        let cells: Vec<&str> = lines[3].split_whitespace().collect();
        assert_eq!(
            cells,
            [
                "solve_and_judge",
                "generate",
                "1200",
                "1180",
                "15",
                "5",
                "50",
                "1180",
                "12.4M",
                "$12.3580",
                "2m05s"
            ],
            "{text}"
        );
        let source: Vec<&str> = lines[2].split_whitespace().collect();
        assert_eq!(
            source,
            [
                "problems",
                "read_jsonl",
                "1200",
                "1200",
                "0",
                "0",
                "yes",
                "-",
                "-",
                "-",
                "0.4s"
            ]
        );
        let totals: Vec<&str> = lines[6].split_whitespace().collect();
        assert_eq!(
            totals,
            ["total", "15", "5", "50", "1180", "12.4M", "$12.3580", "2m10s"],
            "{text}"
        );
    }

    #[test]
    fn columns_line_up() {
        let text = render_table(&sample_report());
        let lines = table_lines(&text, 3);
        let width = lines[0].chars().count();
        assert!(width <= MAX_LINE);
        for line in &lines {
            assert_eq!(line.chars().count(), width, "{text}");
            assert_eq!(line.trim_end(), *line, "trailing spaces in {line:?}");
        }
        // Right-aligned: every number ends where its header ends (the table is ASCII).
        let rows = [lines[2], lines[3], lines[4], lines[6]];
        for header in [
            "in", "out", "dropped", "errors", "cached", "requests", "tokens", "cost", "time",
        ] {
            let end = lines[0].find(&format!(" {header}")).unwrap() + 1 + header.len();
            for row in rows {
                if row.starts_with("total") && (header == "in" || header == "out") {
                    continue;
                }
                let bytes = row.as_bytes();
                assert_ne!(bytes[end - 1], b' ', "{header} in {row:?}");
                assert!(
                    end == bytes.len() || bytes[end] == b' ',
                    "{header} in {row:?}"
                );
            }
        }
    }

    #[test]
    fn notes_drops_errors_exports_and_outcome() {
        let text = render_table(&sample_report());
        assert!(
            text.contains("  solve_and_judge: dropped 12 (wrong answer), 3 (duplicate)\n"),
            "{text}"
        );
        assert!(!text.contains("(never)"));
        assert!(text.contains(
            "  solve_and_judge: error on rec-1: model said <script>alert(1)</script> & left\n"
        ));
        let long = format!("  solve_and_judge: error on rec-2: {}…\n", "x".repeat(119));
        assert!(text.contains(&long), "{text}");
        assert!(
            text.contains("error on rec-3: line one line two [31m\n"),
            "{text}"
        );
        assert!(!text.contains('\u{1b}'));
        assert!(!text.contains("rec-4"));
        assert!(
            text.contains("  solve_and_judge: 2 more errors\n"),
            "{text}"
        );
        assert!(text.contains("wrote 1180 examples to out/train.jsonl (chatml)\n"));
        assert!(
            text.ends_with("completed in 2m10s, spent $12.3580\n"),
            "{text}"
        );
        // Error lines show up to 120 characters of the message, beyond the line limit.
        for line in text.lines().filter(|l| !l.contains(": error on ")) {
            assert!(line.chars().count() <= MAX_LINE, "{line:?}");
        }
    }

    #[test]
    fn long_stage_names_are_cut() {
        let mut report = sample_report();
        report.stages[1].name = "a_really_long_stage_name_".repeat(10);
        let text = render_table(&report);
        let lines = table_lines(&text, 3);
        let width = lines[0].chars().count();
        assert!(width <= MAX_LINE, "{text}");
        for line in &lines {
            assert_eq!(line.chars().count(), width, "{text}");
        }
        assert!(lines[3].starts_with("a_really_long_stage_name_a"));
        assert!(lines[3].contains('…'));
        // Error lines show up to 120 characters of the message, beyond the line limit.
        for line in text.lines().filter(|l| !l.contains(": error on ")) {
            assert!(line.chars().count() <= MAX_LINE, "{line:?}");
        }
    }

    #[test]
    fn other_outcomes_and_no_stages() {
        let text = render_table(&empty_report());
        assert_eq!(
            text,
            "no stages ran\nfailed after 0.0s, spent $0.0000: stage `x`: nothing to do\n"
        );
        let mut report = sample_report();
        report.outcome = "interrupted".into();
        report.message = "interrupted; run again to resume".into();
        let text = render_table(&report);
        assert!(text.ends_with(
            "interrupted after 2m10s, spent $12.3580: interrupted; run again to resume\n"
        ));
    }

    #[test]
    fn formats_cells() {
        assert_eq!(tokens(0), "0");
        assert_eq!(tokens(999), "999");
        assert_eq!(tokens(1000), "1.0k");
        assert_eq!(tokens(12_345), "12.3k");
        assert_eq!(tokens(999_949), "999.9k");
        assert_eq!(tokens(999_999), "1.0M");
        assert_eq!(tokens(4_100_000), "4.1M");
        assert_eq!(tokens(2_000_000_000), "2.0B");
        assert_eq!(tokens(u64::MAX), "18446744.1T");
        assert_eq!(duration(0.0), "0.0s");
        assert_eq!(duration(0.44), "0.4s");
        assert_eq!(duration(59.94), "59.9s");
        assert_eq!(duration(59.96), "1m00s");
        assert_eq!(duration(125.0), "2m05s");
        assert_eq!(duration(3725.0), "1h02m");
        assert_eq!(duration(f64::NAN), "0.0s");
        assert_eq!(duration(-3.0), "0.0s");
        assert_eq!(dollars(0.012_34), "$0.0123");
        assert_eq!(dollars(-0.0), "$0.0000");
        assert_eq!(dollars(f64::NEG_INFINITY), "$0.0000");
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(fit("abc", 3), "abc");
        assert_eq!(fit("abc", 0), "");
    }
}
