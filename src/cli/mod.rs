//! The command line: argument parsing and dispatch to one module per subcommand.

mod cache;
mod check;
mod emit;
mod fmt;
mod graph;
mod loss;
mod observe;
mod ops;
mod problems;
mod run;

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
    /// Run a recipe: every stage whose inputs are ready, answers stored as they arrive.
    Run(RunArgs),
    /// Show what `dtac run` would do (same as `dtac run --dry-run`): exit 0 when nothing
    /// would run, 2 when work is pending.
    Plan(RunArgs),
    /// Export or import the response cache, to reproduce a run on another machine.
    Cache(CacheArgs),
    /// Serve the Language Server Protocol on stdin/stdout (for editors).
    Lsp(LspArgs),
    /// Compute a distillation objective (and its gradient) on logits in a safetensors file.
    Loss(loss::LossArgs),
}

#[derive(Debug, clap::Args)]
struct LspArgs {
    /// Accepted for editors that pass it; stdio is the only transport.
    #[arg(long, hide = true)]
    stdio: bool,
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// The recipe to run.
    file: PathBuf,
    #[command(flatten)]
    recipe: RecipeArgs,
    /// Where the run store, report and caches live (default: `.dtac/` beside the recipe).
    #[arg(long, value_name = "DIR")]
    state_dir: Option<PathBuf>,
    /// Print the plan and exit: 0 when nothing would run, 2 when work is pending.
    #[arg(long)]
    dry_run: bool,
    /// Ignore stored stage outputs and answers: run and ask everything again.
    #[arg(long)]
    fresh: bool,
    /// Resample this stage with new sample indices (repeatable); later stages follow.
    #[arg(long, value_name = "STAGE")]
    rerun: Vec<String>,
    /// Run only this stage and what it reads (repeatable), with the exports of those
    /// stages: the data phase of a recipe whose training op cannot run yet, or one branch.
    #[arg(long, value_name = "STAGE")]
    until: Vec<String>,
    /// Never contact an endpoint: every answer must be in the store (see `dtac cache import`).
    #[arg(long)]
    offline: bool,
    /// Stop before spending more than this many dollars (counting actual usage).
    #[arg(long, value_name = "USD")]
    budget_usd: Option<f64>,
    /// Fail, showing the difference, when the recipe's resolved inputs differ from dtac.lock.
    #[arg(long)]
    locked: bool,
    /// Progress and results as human text (default) or JSON lines on stdout.
    #[arg(long, value_enum, default_value_t = LogFormat::Human)]
    log_format: LogFormat,
}

impl RunArgs {
    /// Arguments for commands that only need a recipe resolved (`cache export`).
    fn for_recipe(file: &std::path::Path, state_dir: Option<PathBuf>) -> RunArgs {
        RunArgs {
            file: file.to_path_buf(),
            recipe: RecipeArgs { set: Vec::new() },
            state_dir,
            dry_run: false,
            fresh: false,
            rerun: Vec::new(),
            until: Vec::new(),
            offline: false,
            budget_usd: None,
            locked: false,
            log_format: LogFormat::Human,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LogFormat {
    Human,
    Json,
}

#[derive(Debug, clap::Args)]
struct CacheArgs {
    #[command(subcommand)]
    command: CacheCommand,
}

#[derive(Debug, Subcommand)]
enum CacheCommand {
    /// Write every request and response the recipe's stages used to FILE (JSONL; zstd when
    /// FILE ends in `.zst`).
    Export(CacheExportArgs),
    /// Load a file written by `dtac cache export` into a state dir.
    Import(CacheImportArgs),
}

#[derive(Debug, clap::Args)]
struct CacheExportArgs {
    file: PathBuf,
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,
    #[arg(long, value_name = "DIR")]
    state_dir: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct CacheImportArgs {
    file: PathBuf,
    /// The recipe whose state dir (`.dtac/` beside it) receives the answers.
    #[arg(long, value_name = "RECIPE")]
    recipe: Option<PathBuf>,
    /// The state dir to load into (default: `./.dtac`, or the recipe's).
    #[arg(long, value_name = "DIR")]
    state_dir: Option<PathBuf>,
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
    /// Check the recipe alone, not the checkpoint directories it names (for a machine
    /// that does not have the models, such as CI checking a shared recipe).
    #[arg(long)]
    skip_resources: bool,
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
        Command::Run(args) => run::run(&args, args.dry_run),
        Command::Plan(args) => run::run(&args, true),
        Command::Cache(args) => cache::run(&args),
        Command::Lsp(_) => crate::lsp::run(),
        Command::Loss(args) => loss::run(&args),
    }
}
