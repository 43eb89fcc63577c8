//! `dtac`: compile, check and run `.dta` reasoning-distillation recipes.

mod cli;
mod lsp;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main()
}
