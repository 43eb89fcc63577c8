//! placeholder: render_html is being written.
use super::Report;

pub fn render_html(report: &Report) -> String {
    format!("<!doctype html><title>dtac report</title><pre>{}</pre>", report.outcome)
}
