//! `dtac cache export RECIPE -o FILE` and `dtac cache import FILE`: carry a recipe's
//! response cache to another machine.

use std::process::ExitCode;

use dtac_runtime::cache_file;
use dtac_runtime::session::prepare;
use dtac_runtime::store::Store;

use super::{problems, CacheArgs, CacheCommand};

pub fn run(args: &CacheArgs) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            problems::failure(&format!("cannot start the runtime: {e}"), "");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        match &args.command {
            CacheCommand::Export(a) => {
                let run_args = super::RunArgs::for_recipe(&a.file, a.state_dir.clone());
                let Some((checked, (recipe, options))) = super::run::check_first(&run_args) else {
                    return ExitCode::FAILURE;
                };
                let impls = dtac_stdlib::implementations();
                let prepared = match prepare(recipe, impls.as_ref(), &options, false).await {
                    Ok(p) => p,
                    Err(found) => {
                        problems::print(&found, &checked.program.sources);
                        return ExitCode::FAILURE;
                    }
                };
                match cache_file::export(&prepared, &a.output) {
                    Ok(n) => {
                        eprintln!("wrote {n} responses to {}", a.output.display());
                        ExitCode::SUCCESS
                    }
                    Err(e) => {
                        problems::failure(&e.to_string(), "check the output path");
                        ExitCode::FAILURE
                    }
                }
            }
            CacheCommand::Import(a) => {
                let dir = match (&a.state_dir, &a.recipe) {
                    (Some(d), _) => d.clone(),
                    (None, Some(r)) => super::run::recipe_dir(r).join(".dtac"),
                    (None, None) => ".dtac".into(),
                };
                let store = match Store::open(&dir) {
                    Ok(s) => s,
                    Err(e) => {
                        problems::failure(&e.to_string(), &e.help());
                        return ExitCode::FAILURE;
                    }
                };
                match cache_file::import(&store, &a.file).await {
                    Ok((lines, new)) => {
                        eprintln!(
                            "read {lines} responses from {}; {new} were new to {}",
                            a.file.display(),
                            dir.display()
                        );
                        ExitCode::SUCCESS
                    }
                    Err(e) => {
                        problems::failure(
                            &e.to_string(),
                            "the file must be one written by `dtac cache export`",
                        );
                        ExitCode::FAILURE
                    }
                }
            }
        }
    })
}
