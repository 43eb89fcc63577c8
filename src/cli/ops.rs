//! `dtac ops`: the built-in reference, from the signatures.

use std::process::ExitCode;

use dtac_interpreter::docs::{markdown_all, markdown_one, usage};
use dtac_interpreter::signature::SignatureKind;
use dtac_interpreter::suggest::did_you_mean;

use super::OpsArgs;

pub fn run(args: &OpsArgs) -> ExitCode {
    let registry = dtac_stdlib::registry();
    if args.markdown {
        print!("{}", markdown_all(&registry));
        return ExitCode::SUCCESS;
    }
    let Some(name) = &args.name else {
        let groups = [
            (SignatureKind::Source, "sources (dataset NAME: ...)"),
            (SignatureKind::Transform, "stage ops (stage NAME: ...)"),
            (SignatureKind::Objective, "objectives (objective NAME: ...)"),
            (
                SignatureKind::ExportFormat,
                "export formats (export STAGE to PATH as ...)",
            ),
        ];
        for (kind, title) in groups {
            println!("{title}");
            for sig in registry.all().filter(|s| s.kind == kind) {
                println!("  {:<18} {}", sig.name, sig.summary);
            }
            println!();
        }
        println!("`dtac ops NAME` shows one in full; `dtac ops teacher` and `dtac ops student` show block settings.");
        return ExitCode::SUCCESS;
    };
    let found = registry.all().find(|s| s.name == name);
    match found {
        Some(sig) => {
            print!("{}", markdown_one(sig, "#"));
            ExitCode::SUCCESS
        }
        None => {
            let suggestion = did_you_mean(name, registry.all().map(|s| s.name));
            eprintln!("error: no builtin named `{name}`");
            match suggestion {
                Some(s) => eprintln!(
                    "help: did you mean `{s}`? ({})",
                    usage(
                        registry
                            .all()
                            .find(|x| x.name == s)
                            .expect("suggested from registry")
                    )
                ),
                None => eprintln!("help: `dtac ops` lists them all"),
            }
            ExitCode::FAILURE
        }
    }
}
