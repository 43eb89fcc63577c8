//! `dtac fmt`: canonical formatting, in place or as a check with a diff.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use dtac_interpreter::load::read_source;
use dtac_interpreter::source::SourceMap;
use dtac_interpreter::Diag;
use similar::TextDiff;

use super::{emit, FmtArgs, MessageFormat};

pub fn run(args: &FmtArgs) -> ExitCode {
    let mut failed = false;
    for file in &args.files {
        failed |= !format_one(file, args.check);
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Formats one file; false when it cannot be read or parsed, or (with `--check`) would change.
fn format_one(path: &Path, check: bool) -> bool {
    let mut sources = SourceMap::new();
    let text = match read_source(path) {
        Ok(text) => text,
        Err((err, lossy)) => {
            let file = lossy.map(|t| sources.add(path, Arc::from(t)));
            let diag = Diag::new(file, err);
            emit::diagnostics(std::iter::once(&diag), &sources, MessageFormat::Human);
            return false;
        }
    };
    let formatted = match dtac_grammar::format::format_source(&text) {
        Ok(f) => f,
        Err(errors) => {
            let id = sources.add(path, Arc::from(text.as_str()));
            let diags: Vec<Diag> = errors.into_iter().map(|e| Diag::new(Some(id), e)).collect();
            emit::diagnostics(diags.iter(), &sources, MessageFormat::Human);
            eprintln!("{}: not formatted: it does not parse", path.display());
            return false;
        }
    };
    if formatted == text {
        return true;
    }
    if check {
        let name = path.display().to_string();
        let diff = TextDiff::from_lines(text.as_str(), formatted.as_str());
        print!(
            "{}",
            diff.unified_diff()
                .context_radius(2)
                .header(&name, &format!("{name} (formatted)"))
        );
        eprintln!("{}: would be reformatted", path.display());
        return false;
    }
    match write_atomically(path, &formatted) {
        Ok(()) => {
            eprintln!("{}: formatted", path.display());
            true
        }
        Err(e) => {
            eprintln!("error: cannot write `{}`: {e}", path.display());
            false
        }
    }
}

/// Writes through a temporary file in the same directory and renames it over the target,
/// so an interrupted write never leaves a half-written recipe.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map_or_else(|| "recipe".into(), |n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(".{name}.dtac-fmt.{}", std::process::id()));
    std::fs::write(&tmp, text)?;
    if let Ok(meta) = std::fs::metadata(path) {
        let _ = std::fs::set_permissions(&tmp, meta.permissions());
    }
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}
