//! The report sections ops fill themselves: why particular records were dropped (the
//! matching n-gram of a contaminated record, the record a duplicate repeats) and the
//! tables ops add (token shifts).

use std::collections::BTreeMap;
use std::fmt::Write;

use super::cells::fit;
use super::html::esc;
use super::Report;
use crate::op::DropNote;

/// Notes shown per stage and reason; `report.json` has every kept note.
const SHOWN_PER_REASON: usize = 20;
/// Characters of one note's detail shown.
const MAX_DETAIL: usize = 400;
/// Rows of an op's table shown.
const MAX_ROWS: usize = 200;

macro_rules! put {
    ($out:expr, $($arg:tt)*) => {
        let _ = write!($out, $($arg)*);
    };
}

/// "Why records were dropped": a few notes per stage and reason.
pub(super) fn why_dropped(out: &mut String, report: &Report) {
    let stages: Vec<_> = report
        .stages
        .iter()
        .filter(|s| !s.drop_notes.is_empty())
        .collect();
    if stages.is_empty() {
        return;
    }
    put!(out, "<section>\n<h2>Why records were dropped</h2>\n");
    for s in stages {
        put!(out, "<h3>{}</h3>\n", esc(&s.name));
        let mut by_reason: BTreeMap<&str, Vec<&DropNote>> = BTreeMap::new();
        for note in &s.drop_notes {
            by_reason.entry(&note.reason).or_default().push(note);
        }
        for (reason, notes) in by_reason {
            let total = s.dropped.get(reason).copied().unwrap_or(notes.len() as u64);
            put!(
                out,
                "<p>{} ({total}):</p>\n<ul class=\"errors\">\n",
                esc(reason)
            );
            for note in notes.iter().take(SHOWN_PER_REASON) {
                put!(
                    out,
                    "<li>record <code>{}</code><pre>{}</pre></li>\n",
                    esc(&fit(&note.record, 200)),
                    esc(&fit(&detail(&note.detail), MAX_DETAIL))
                );
            }
            let more = total.saturating_sub(notes.len().min(SHOWN_PER_REASON) as u64);
            if more > 0 {
                put!(
                    out,
                    "<li class=\"note\">{more} more (see <code>report.json</code>)</li>\n"
                );
            }
            put!(out, "</ul>\n");
        }
    }
    put!(out, "</section>\n");
}

/// One detail as `key: value` lines; strings unquoted.
fn detail(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Object(map) => map
            .iter()
            .map(|(k, v)| format!("{k}: {}", plain(v)))
            .collect::<Vec<_>>()
            .join("\n"),
        other => plain(other),
    }
}

fn plain(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Every table an op added, as an HTML table.
pub(super) fn op_tables(out: &mut String, report: &Report) {
    for s in &report.stages {
        for table in &s.tables {
            put!(
                out,
                "<section>\n<h2>{} <span class=\"note\">({})</span></h2>\n<div class=\"table-wrap\"><table>\n<thead><tr>",
                esc(&table.title),
                esc(&s.name)
            );
            for c in &table.columns {
                put!(out, "<th>{}</th>", esc(c));
            }
            put!(out, "</tr></thead>\n<tbody>\n");
            for row in table.rows.iter().take(MAX_ROWS) {
                put!(out, "<tr>");
                for cell in row {
                    let (class, text) = match cell {
                        serde_json::Value::Number(n) => (
                            " class=\"num\"",
                            n.as_f64()
                                .filter(|f| f.fract() != 0.0)
                                .map_or_else(|| n.to_string(), |f| format!("{f:.3}")),
                        ),
                        other => ("", plain(other)),
                    };
                    put!(out, "<td{class}>{}</td>", esc(&fit(&text, 200)));
                }
                put!(out, "</tr>\n");
            }
            put!(out, "</tbody>\n</table></div>\n");
            if table.rows.len() > MAX_ROWS {
                put!(
                    out,
                    "<p class=\"note\">{} more rows in <code>report.json</code>.</p>\n",
                    table.rows.len() - MAX_ROWS
                );
            }
            put!(out, "</section>\n");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::render_html;
    use super::super::table::tests::sample_report;

    #[test]
    fn shows_drop_notes_and_op_tables_escaped() {
        let html = render_html(&sample_report());
        assert!(html.contains("Why records were dropped"));
        assert!(html.contains("record <code>P&lt;7&gt;</code>"));
        assert!(html.contains("ngram: a &lt;b&gt; c"));
        assert!(html.contains("benchmark: bench"));
        assert!(html.contains("Token shift"));
        assert!(html.contains("&lt;therefore&gt;"));
        assert!(html.contains("<td class=\"num\">1.250</td>"));
        assert!(!html.contains("<therefore>"));
    }

    #[test]
    fn says_how_many_more_drops_than_notes() {
        let mut report = sample_report();
        let stage = report
            .stages
            .iter_mut()
            .find(|s| !s.drop_notes.is_empty())
            .expect("the sample has drop notes");
        stage.dropped.insert("contaminated".into(), 25);
        let html = render_html(&report);
        assert!(html.contains("contaminated (25)"), "{html}");
        assert!(html.contains("24 more"));
    }
}
