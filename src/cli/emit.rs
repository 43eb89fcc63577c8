//! Printing diagnostics and summaries, shared by every subcommand.

use std::io::{IsTerminal, Write};

use dtac_interpreter::report::{render_human, render_json, Style};
use dtac_interpreter::source::SourceMap;
use dtac_interpreter::Diag;

use super::MessageFormat;

/// Counts of what was printed.
#[derive(Debug, Default, Clone, Copy)]
pub struct Tally {
    pub errors: usize,
    pub warnings: usize,
}

impl Tally {
    pub fn summary(self) -> String {
        format!(
            "{}, {}",
            count(self.errors, "error"),
            count(self.warnings, "warning")
        )
    }
}

fn count(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

/// Diagnostics shown per file; the rest are counted. Past a few hundred, more output
/// helps nobody (and each rendering scans its file).
pub const MAX_SHOWN: usize = 200;

/// Prints diagnostics to stderr (human) or stdout (JSON lines) and counts them.
pub fn diagnostics<'a>(
    diags: impl Iterator<Item = &'a Diag>,
    sources: &SourceMap,
    format: MessageFormat,
) -> Tally {
    let style = Style {
        color: std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        width: 100,
    };
    let mut tally = Tally::default();
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    for diag in diags {
        if diag.is_error() {
            tally.errors += 1;
        } else {
            tally.warnings += 1;
        }
        if tally.errors + tally.warnings > MAX_SHOWN {
            continue;
        }
        // A closed pipe (`dtac check x | head`) is not worth a panic.
        let _ = match format {
            MessageFormat::Human => write!(stderr.lock(), "{}", render_human(diag, sources, style)),
            MessageFormat::Json => writeln!(stdout.lock(), "{}", render_json(diag, sources)),
        };
    }
    let hidden = (tally.errors + tally.warnings).saturating_sub(MAX_SHOWN);
    if hidden > 0 && format == MessageFormat::Human {
        let _ = writeln!(
            stderr.lock(),
            "… {hidden} more not shown (the first {MAX_SHOWN} are above)"
        );
    }
    tally
}
