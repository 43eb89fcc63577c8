//! `dtac check`: every problem of every file, in one run.

use std::process::ExitCode;

use dtac_interpreter::{check_path, CheckOptions};
use serde_json::json;

use super::{emit, CheckArgs, MessageFormat};

pub fn run(args: &CheckArgs) -> ExitCode {
    let registry = dtac_stdlib::registry();
    let options = CheckOptions {
        overrides: args.recipe.set.clone(),
        resources: !args.skip_resources,
        ..CheckOptions::default()
    };
    let deny_warnings = args.deny.is_some();
    let mut failed = false;
    for file in &args.files {
        let checked = check_path(file, &registry, &options);
        let tally = emit::diagnostics(
            checked.diags(),
            &checked.program.sources,
            args.message_format,
        );
        let ok = tally.errors == 0 && !(deny_warnings && tally.warnings > 0);
        failed |= !ok;
        match args.message_format {
            MessageFormat::Human => {
                let verdict = if ok { "ok" } else { "failed" };
                eprintln!("{}: {verdict} ({})", file.display(), tally.summary());
            }
            MessageFormat::Json => println!(
                "{}",
                json!({
                    "type": "summary",
                    "file": file.display().to_string(),
                    "errors": tally.errors,
                    "warnings": tally.warnings,
                    "ok": ok,
                })
            ),
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
