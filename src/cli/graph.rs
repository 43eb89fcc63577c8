//! `dtac graph`: the checked recipe's stage DAG as DOT or Mermaid.

use std::process::ExitCode;

use dtac_interpreter::{check_path, CheckOptions};

use super::{emit, GraphArgs, GraphFormat, MessageFormat};

pub fn run(args: &GraphArgs) -> ExitCode {
    let registry = dtac_stdlib::registry();
    let options = CheckOptions {
        overrides: args.recipe.set.clone(),
        // Drawing the graph needs the recipe, not the models it names.
        resources: false,
        ..CheckOptions::default()
    };
    let checked = check_path(&args.file, &registry, &options);
    if checked.has_errors() {
        let tally = emit::diagnostics(
            checked.diags(),
            &checked.program.sources,
            MessageFormat::Human,
        );
        eprintln!(
            "{}: failed ({}); no graph",
            args.file.display(),
            tally.summary()
        );
        return ExitCode::FAILURE;
    }
    let graph = &checked.output.graph;
    print!(
        "{}",
        match args.format {
            GraphFormat::Dot => graph.to_dot(),
            GraphFormat::Mermaid => graph.to_mermaid(),
        }
    );
    ExitCode::SUCCESS
}
