//! `dtac run` and `dtac plan`: check, resolve, prepare, then plan or execute.
//!
//! Exit codes: 0 done (plan: nothing would run), 1 an error (check, setup, a stage failure,
//! too many record errors, the budget), 2 (plan only) work is pending, 130 interrupted.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use dtac_interpreter::resolve::resolve;
use dtac_interpreter::{check_path, CheckOptions, Checked};
use dtac_runtime::exec::Outcome;
use dtac_runtime::lockfile;
use dtac_runtime::plan::{plan, Plan};
use dtac_runtime::progress::Observer;
use dtac_runtime::report::{render_table, Report};
use dtac_runtime::session::{prepare, Options, Prepared};
use dtac_runtime::stop::{Stop, StopReason};

use super::{emit, observe, problems, LogFormat, MessageFormat, RunArgs};

pub fn run(args: &RunArgs, dry_run: bool) -> ExitCode {
    let Some((checked, prepared_args)) = check_first(args) else {
        return ExitCode::FAILURE;
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            problems::failure(&format!("cannot start the runtime: {e}"), "");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let (recipe, options) = prepared_args;
        let impls = dtac_stdlib::implementations();
        let prepared = match prepare(recipe, impls.as_ref(), &options, !dry_run).await {
            Ok(p) => p,
            Err(found) => {
                problems::print(&found, &checked.program.sources);
                return ExitCode::FAILURE;
            }
        };
        if dry_run {
            let p = plan(&prepared, &options);
            print_plan(&p, args.log_format);
            return if p.pending() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
        execute_run(args, prepared, options).await
    })
}

/// Checks and resolves the recipe; prints diagnostics. `None` when it cannot run.
pub(super) fn check_first(
    args: &RunArgs,
) -> Option<(Checked, (dtac_interpreter::resolve::Recipe, Options))> {
    let registry = dtac_stdlib::registry();
    let options = CheckOptions {
        overrides: args.recipe.set.clone(),
        ..CheckOptions::default()
    };
    let checked = check_path(&args.file, &registry, &options);
    let tally = emit::diagnostics(
        checked.diags(),
        &checked.program.sources,
        MessageFormat::Human,
    );
    if tally.errors > 0 {
        eprintln!("{}: failed ({})", args.file.display(), tally.summary());
        return None;
    }
    let recipe = match resolve(&checked, &registry, &|name| std::env::var(name).ok()) {
        Ok(r) => r,
        Err(e) => {
            problems::failure(&e.to_string(), "please report this");
            return None;
        }
    };
    let recipe = match recipe.restrict(&args.until) {
        Ok(r) => r,
        Err(message) => {
            problems::failure(&message, "`dtac graph RECIPE` shows the stages");
            return None;
        }
    };
    let state_dir = args
        .state_dir
        .clone()
        .unwrap_or_else(|| recipe_dir(&args.file).join(".dtac"));
    let options = Options {
        state_dir,
        fresh: args.fresh,
        reruns: args.rerun.clone(),
        offline: args.offline,
        budget: args.budget_usd,
    };
    Some((checked, (recipe, options)))
}

pub fn recipe_dir(file: &Path) -> PathBuf {
    match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

async fn execute_run(args: &RunArgs, prepared: Prepared, options: Options) -> ExitCode {
    let stop = Stop::new();
    let providers = dtac_stdlib::provider_factory();
    let lock_text = lockfile::render(&prepared, providers.as_ref());
    let lock_path = lockfile::lock_path(&prepared.recipe.path);
    if args.locked {
        if let Err(code) = compare_lock(&lock_path, &lock_text) {
            return code;
        }
    }
    let observer: Arc<dyn Observer> = match args.log_format {
        LogFormat::Json => Arc::new(observe::JsonLog),
        LogFormat::Human if std::io::stderr().is_terminal() => Arc::new(observe::Bars::new()),
        LogFormat::Human => Arc::new(observe::Lines),
    };
    tokio::spawn(watch_signals(stop.clone(), observer.clone()));

    let started_at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let clock = Instant::now();
    let started = prepared.start(providers, &options, observer, stop);
    let result = started.execute().await;

    let report = Report::new(
        &args.file,
        &result,
        started_at,
        clock.elapsed().as_secs_f64(),
    );
    if args.log_format == LogFormat::Human {
        eprint!("\n{}", render_table(&report));
    } else {
        println!(
            "{}",
            serde_json::json!({"event": "finished", "report": &report})
        );
    }
    if let Err(e) = report.write(&options.state_dir) {
        eprintln!(
            "warning: cannot write the run report in `{}`: {e}",
            options.state_dir.display()
        );
    }
    if !args.locked {
        let written = dtac_runtime::exec::write_atomically(&lock_path, |out| {
            out.write_all(lock_text.as_bytes())?;
            Ok(0)
        });
        if let Err(e) = written {
            eprintln!("warning: cannot write `{}`: {e}", lock_path.display());
        }
    }
    match result.outcome {
        Outcome::Completed => ExitCode::SUCCESS,
        Outcome::TooManyErrors(stages) => {
            for (stage, rate, max) in stages {
                problems::failure(
                    &format!(
                        "stage `{stage}` lost {:.1}% of its records to errors (`max_error_rate` \
                         is {:.1}%)",
                        rate * 100.0,
                        max * 100.0
                    ),
                    "see the errors above and in the run report; run again to retry the failed \
                     records (answers already received are kept)",
                );
            }
            ExitCode::FAILURE
        }
        Outcome::Failed(f) => {
            let message = if f.stage.is_empty() {
                f.message
            } else {
                format!("stage `{}`: {}", f.stage, f.message)
            };
            problems::failure(&message, &f.help);
            ExitCode::FAILURE
        }
        Outcome::Interrupted => {
            eprintln!("interrupted: answers received so far are stored; `dtac run` again resumes");
            ExitCode::from(130)
        }
        Outcome::Budget { spent, budget } => {
            problems::failure(
                &format!("stopped before passing the budget of ${budget:.2} (${spent:.4} spent)"),
                "raise `--budget-usd` and run again; nothing already paid for is asked again",
            );
            ExitCode::FAILURE
        }
    }
}

/// `--locked`: the lockfile must exist and match.
fn compare_lock(path: &Path, expected: &str) -> Result<(), ExitCode> {
    let current = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(_) => {
            problems::failure(
                &format!("`--locked`, but there is no `{}`", path.display()),
                "run once without `--locked` to write it, and commit it with the recipe",
            );
            return Err(ExitCode::FAILURE);
        }
    };
    if current == expected {
        return Ok(());
    }
    eprintln!(
        "error: the recipe's resolved inputs differ from `{}`:",
        path.display()
    );
    let diff = similar::TextDiff::from_lines(current.as_str(), expected);
    for change in diff.iter_all_changes() {
        let sign = match change.tag() {
            similar::ChangeTag::Delete => "-",
            similar::ChangeTag::Insert => "+",
            similar::ChangeTag::Equal => continue,
        };
        eprint!("  {sign} {change}");
    }
    eprintln!(
        "  help: `-` is the lockfile, `+` this run; run without `--locked` to accept the change"
    );
    Err(ExitCode::FAILURE)
}

/// SIGINT / SIGTERM: stop sending, let what is in flight land, exit 130. A second SIGINT
/// exits at once (answers already stored stay stored).
async fn watch_signals(stop: Stop, observer: Arc<dyn Observer>) {
    #[cfg(unix)]
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    loop {
        #[cfg(unix)]
        let terminated = async {
            match term.as_mut() {
                Some(t) => {
                    t.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let terminated = std::future::pending::<()>();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminated => {}
        }
        if stop.reason() == Some(StopReason::Interrupted) {
            std::process::exit(130);
        }
        observer.note("stopping: finishing requests in flight (interrupt again to quit now)");
        stop.stop(StopReason::Interrupted);
    }
}

fn print_plan(p: &Plan, format: LogFormat) {
    if format == LogFormat::Json {
        println!("{}", serde_json::json!({"event": "plan", "plan": p}));
        return;
    }
    let mut rows = vec![[
        "stage".to_string(),
        "op".into(),
        "status".into(),
        "records".into(),
        "requests".into(),
        "tokens in/out".into(),
        "cost".into(),
    ]];
    for s in &p.stages {
        rows.push([
            s.name.clone(),
            s.op.clone(),
            s.status.to_string(),
            format!("{} → {}", s.records_in, s.records_out),
            s.requests.to_string(),
            format!("{}/{}", s.prompt_tokens, s.completion_tokens),
            if s.cost_known {
                format!("${:.4}", s.cost)
            } else {
                format!("≥${:.4}", s.cost)
            },
        ]);
    }
    let widths: Vec<usize> = (0..7)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    for (i, row) in rows.iter().enumerate() {
        let line: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(c, cell)| format!("{cell:<w$}", w = widths[c]))
            .collect();
        println!("{}", line.join("  ").trim_end());
        if i == 0 {
            println!("{}", "-".repeat(widths.iter().sum::<usize>() + 12));
        }
    }
    for s in p.stages.iter().filter(|s| s.status == "run") {
        println!("  {}: {}", s.name, s.reason);
    }
    let unknown = if p.cost_known {
        ""
    } else {
        " (some teachers have no price: set `price = { input = .., output = .. }`)"
    };
    let pending = p.stages.iter().filter(|s| s.status == "run").count();
    println!(
        "{pending} of {} stages would run; estimated cost ${:.4}{unknown}",
        p.stages.len(),
        p.cost
    );
}
