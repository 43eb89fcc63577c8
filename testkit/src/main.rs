//! `dtac-testserver`: the test server as a process, for benchmarks and manual runs.
//!
//! The first line on stdout is `listening on http://127.0.0.1:PORT/v1`, flushed at once,
//! so a harness that passes `--port 0` can read the port before sending anything.

mod args;

use std::io::Write;
use std::process::ExitCode;

use dtac_testkit::TestServer;

#[tokio::main]
async fn main() -> ExitCode {
    let (port, script) = match args::parse(std::env::args().skip(1)) {
        Ok(args::Command::Help) => {
            print!("{}", args::USAGE);
            return ExitCode::SUCCESS;
        }
        Ok(args::Command::Serve { port, script }) => (port, script),
        Err(message) => {
            eprintln!("dtac-testserver: {message}\nTry 'dtac-testserver --help'.");
            return ExitCode::from(2);
        }
    };
    let server = match TestServer::bind(script, port).await {
        Ok(server) => server,
        Err(e) => {
            eprintln!("dtac-testserver: cannot listen on 127.0.0.1:{port}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut stdout = std::io::stdout();
    // A closed stdout (harness gone) is no reason to stop serving.
    let _ = writeln!(stdout, "listening on {}", server.base_url());
    let _ = stdout.flush();
    // Serve until interrupted; SIGTERM and SIGKILL end the process outright.
    if let Err(e) = tokio::signal::ctrl_c().await {
        eprintln!("dtac-testserver: cannot wait for Ctrl-C ({e}); serving until killed");
        std::future::pending::<()>().await;
    }
    server.shutdown();
    ExitCode::SUCCESS
}
