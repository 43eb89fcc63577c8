//! Cell formatting shared by the terminal table and the HTML report: counts, tokens,
//! dollars, durations, and text made safe to print.

use super::Report;
use crate::exec::StageSummary;

/// The numeric cells of a stage's row, in column order (both renderers use them).
pub(super) fn stage_numbers(s: &StageSummary) -> [String; 9] {
    [
        s.records_in.to_string(),
        s.records_out.to_string(),
        dropped_total(s).to_string(),
        s.errors.to_string(),
        cached_cell(s),
        requests_cell(s),
        tokens_cell(s),
        cost_cell(s),
        duration(s.seconds),
    ]
}

pub(super) fn dropped_total(s: &StageSummary) -> u64 {
    s.dropped.values().sum()
}

/// Drop reasons with a count, largest first.
pub(super) fn drop_reasons(s: &StageSummary) -> Vec<(&str, u64)> {
    let mut drops: Vec<(&str, u64)> = s
        .dropped
        .iter()
        .filter(|(_, &n)| n > 0)
        .map(|(reason, &n)| (reason.as_str(), n))
        .collect();
    drops.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    drops
}

/// "yes" for a stage answered from the store, else its cached requests, or "-".
pub(super) fn cached_cell(s: &StageSummary) -> String {
    if s.cached {
        "yes".to_string()
    } else {
        match s.cached_requests() {
            0 => "-".to_string(),
            n => n.to_string(),
        }
    }
}

/// Requests sent to the network, or "-" for a stage with no teacher.
pub(super) fn requests_cell(s: &StageSummary) -> String {
    if s.usage.is_empty() {
        "-".to_string()
    } else {
        s.requests().to_string()
    }
}

pub(super) fn tokens_cell(s: &StageSummary) -> String {
    if s.usage.is_empty() {
        "-".to_string()
    } else {
        tokens(s.tokens())
    }
}

/// Dollars with 4 decimals, or "-" when nothing was spent and nothing sent.
pub(super) fn cost_cell(s: &StageSummary) -> String {
    let cost = finite(s.cost());
    if cost == 0.0 && s.requests() == 0 {
        "-".to_string()
    } else {
        dollars(cost)
    }
}

/// The last line: how the run ended, how long it took and what it cost.
pub(super) fn outcome_line(report: &Report) -> String {
    let time = duration(report.seconds);
    let spent = dollars(report.spent);
    let label = match report.outcome.as_str() {
        "completed" => return format!("completed in {time}, spent {spent}"),
        "failed" => "failed",
        "too_many_errors" => "stopped (too many errors)",
        "interrupted" => "interrupted",
        "budget" => "stopped at the budget",
        other => other,
    };
    let label = clean(label);
    if report.message.is_empty() {
        format!("{label} after {time}, spent {spent}")
    } else {
        format!(
            "{label} after {time}, spent {spent}: {}",
            clean(&report.message)
        )
    }
}

/// A finite value, with NaN and infinities read as 0 (and -0 as 0).
pub(super) fn finite(v: f64) -> f64 {
    if v.is_finite() {
        v + 0.0
    } else {
        0.0
    }
}

/// `$0.0123`.
pub(super) fn dollars(v: f64) -> String {
    format!("${:.4}", finite(v))
}

/// Token counts, humanized: `950`, `12.3k`, `4.1M`, `2.0B`.
pub(super) fn tokens(n: u64) -> String {
    const UNITS: [&str; 4] = ["k", "M", "B", "T"];
    if n < 1000 {
        return n.to_string();
    }
    let mut v = n as f64 / 1000.0;
    let mut unit = 0;
    // Move up a unit when rounding to one decimal would show 1000.0.
    while unit + 1 < UNITS.len() && (v * 10.0).round() >= 10_000.0 {
        v /= 1000.0;
        unit += 1;
    }
    format!("{v:.1}{}", UNITS[unit])
}

/// `0.4s`, `12.3s`, `2m05s`, `1h02m`.
pub(super) fn duration(seconds: f64) -> String {
    let s = finite(seconds).max(0.0);
    let tenths = (s * 10.0).round();
    if tenths < 600.0 {
        return format!("{:.1}s", tenths / 10.0);
    }
    let total = s.round() as u64;
    if total < 3600 {
        format!("{}m{:02}s", total / 60, total % 60)
    } else {
        format!("{}h{:02}m", total / 3600, total % 3600 / 60)
    }
}

/// Text on one line with no control characters (record errors can hold anything,
/// terminal escapes included).
pub(super) fn clean(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// `s` cut to at most `max` characters, ending with `…` when cut.
pub(super) fn fit(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let mut cut: String = s.chars().take(max - 1).collect();
    cut.push('…');
    cut
}

pub(super) fn width(s: &str) -> usize {
    s.chars().count()
}
