//! placeholder: render_table is being written.
use super::Report;

pub fn render_table(report: &Report) -> String {
    format!("{} stages\n", report.stages.len())
}
