//! Printing setup problems (`dtac run` found an op that cannot run, a missing file, a busy
//! state dir) and run failures: message, location when known, and a help line.

use dtac_grammar::line_col;
use dtac_interpreter::source::SourceMap;
use dtac_runtime::session::Problem;

/// Prints each problem to stderr.
pub fn print(problems: &[Problem], sources: &SourceMap) {
    for p in problems {
        eprintln!("error: {}", p.message);
        if let Some((file, span)) = p.at {
            let source = sources.get(file);
            let (line, col) = line_col(&source.text, span.start);
            eprintln!("  --> {}:{line}:{col}", source.path.display());
        }
        if !p.help.is_empty() {
            eprintln!("  help: {}", p.help);
        }
    }
}

/// Prints one failure with its help line.
pub fn failure(message: &str, help: &str) {
    eprintln!("error: {message}");
    if !help.is_empty() {
        eprintln!("  help: {help}");
    }
}
