//! The command line: argument parsing and dispatch to one module per subcommand.

mod check;
mod emit;
mod fmt;
mod graph;
mod ops;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "dtac",
    version,
    about = "Compile, check and run .dta reasoning-distillation recipes"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check recipes without running them: syntax, names, settings, types, templates, cycles.
    Check(CheckArgs),
    /// Format recipes in place (or check that they are formatted).
    Fmt(FmtArgs),
    /// Print a recipe's stage graph as Graphviz DOT or Mermaid.
    Graph(GraphArgs),
    /// List the built-in ops, objectives, export formats and block settings, or show one.
    Ops(OpsArgs),
}

#[derive(Debug, clap::Args)]
struct CheckArgs {
    /// Recipe files to check.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    #[command(flatten)]
    recipe: RecipeArgs,
    /// Treat warnings as errors (`--deny warnings`).
    #[arg(long, value_name = "LINT", value_parser = ["warnings"])]
    deny: Option<String>,
    /// How to print diagnostics: `human` (default) or `json` (one object per line, on stdout).
    #[arg(long, value_enum, default_value_t = MessageFormat::Human)]
    message_format: MessageFormat,
}

/// Options every command that reads a recipe's meaning shares.
#[derive(Debug, Clone, clap::Args)]
struct RecipeArgs {
    /// Override a param: `--set samples=8` (repeatable).
    #[arg(long = "set", value_name = "NAME=VALUE", value_parser = parse_set)]
    set: Vec<(String, String)>,
}

#[derive(Debug, clap::Args)]
struct FmtArgs {
    /// Recipe files to format.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Change nothing; exit 1 and show a diff when a file is not formatted.
    #[arg(long)]
    check: bool,
}

#[derive(Debug, clap::Args)]
struct GraphArgs {
    file: PathBuf,
    #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
    format: GraphFormat,
    #[command(flatten)]
    recipe: RecipeArgs,
}

#[derive(Debug, clap::Args)]
struct OpsArgs {
    /// Show the full documentation of this op (or objective, format, `teacher`, `student`).
    name: Option<String>,
    /// Print the reference of every builtin as Markdown (docs/ops.md is generated this way).
    #[arg(long, conflicts_with = "name")]
    markdown: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum MessageFormat {
    Human,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum GraphFormat {
    Dot,
    Mermaid,
}

fn parse_set(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_string(), value.to_string()))
        }
        _ => Err(format!("expected NAME=VALUE, got `{s}`")),
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check(args) => check::run(&args),
        Command::Fmt(args) => fmt::run(&args),
        Command::Graph(args) => graph::run(&args),
        Command::Ops(args) => ops::run(&args),
    }
}
