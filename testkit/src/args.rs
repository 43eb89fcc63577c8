//! Command-line flags of the `dtac-testserver` binary, parsed by hand.
//!
//! A handful of numeric flags does not justify a parser dependency in a test crate.
//! Every flag takes `--flag value` or `--flag=value`.

use std::time::Duration;

use dtac_testkit::{ErrorBody, Fault, Script, Trigger};

pub(crate) const USAGE: &str = "\
dtac-testserver: an OpenAI-compatible test server on 127.0.0.1

Usage: dtac-testserver [OPTIONS]

Prints `listening on http://127.0.0.1:PORT/v1` as its first line, then serves until killed.

Options:
  --port N             port to listen on; 0 picks a free one [default: 0]
  --latency-ms N       delay before every answer or fault [default: 0]
  --jitter-ms N        extra random delay in [0, N) ms, from the seed [default: 0]
  --fail-rate P        probability in [0, 1] that a request gets the fault [default: 0]
  --fail-kind K        the fault: STATUS (400..599, OpenAI-shaped body),
                       STATUS-detail | STATUS-vllm | STATUS-text | STATUS-html
                       (other body shapes),
                       quota (429 insufficient_quota), malformed (cut-off JSON under 200),
                       slow (body trickles over --slow-ms), drop (close without reply)
                       [default: 503]
  --retry-after-ms N   add Retry-After / retry-after-ms to STATUS faults
  --slow-ms N          how long a slow body takes [default: 1000]
  --seed N             seed of the fault and jitter generator [default: 0]
  --record N           how many raw requests to keep [default: 1000]
  --model NAME         a model for /v1/models (repeatable)
  --batch-delay-ms N   how long each batch takes to complete [default: 50]
  --batch-expire-after N
                       run only the first N lines of each batch, then end it as
                       `expired` [default: run every line]
  -h, --help           print this help
";

/// What the command line asks for.
#[derive(Debug)]
pub(crate) enum Command {
    Help,
    Serve { port: u16, script: Script },
}

#[derive(Debug)]
struct Options {
    port: u16,
    latency_ms: u64,
    jitter_ms: u64,
    fail_rate: f64,
    fail_kind: String,
    retry_after_ms: Option<u64>,
    slow_ms: u64,
    seed: u64,
    record: usize,
    models: Vec<String>,
    batch_delay_ms: u64,
    batch_expire_after: Option<usize>,
}

pub(crate) fn parse(args: impl IntoIterator<Item = String>) -> Result<Command, String> {
    let mut o = Options {
        port: 0,
        latency_ms: 0,
        jitter_ms: 0,
        fail_rate: 0.0,
        fail_kind: "503".into(),
        retry_after_ms: None,
        slow_ms: 1000,
        seed: 0,
        record: 1000,
        models: Vec::new(),
        batch_delay_ms: 50,
        batch_expire_after: None,
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        if arg == "-h" || arg == "--help" {
            return Ok(Command::Help);
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg, None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--port" => o.port = number(&flag, &value()?)?,
            "--latency-ms" => o.latency_ms = number(&flag, &value()?)?,
            "--jitter-ms" => o.jitter_ms = number(&flag, &value()?)?,
            "--fail-rate" => {
                let v = value()?;
                o.fail_rate = v
                    .parse()
                    .ok()
                    .filter(|p: &f64| (0.0..=1.0).contains(p))
                    .ok_or_else(|| format!("--fail-rate must be a number in [0, 1], got '{v}'"))?;
            }
            "--fail-kind" => o.fail_kind = value()?,
            "--retry-after-ms" => o.retry_after_ms = Some(number(&flag, &value()?)?),
            "--slow-ms" => o.slow_ms = number(&flag, &value()?)?,
            "--seed" => o.seed = number(&flag, &value()?)?,
            "--record" => o.record = number(&flag, &value()?)?,
            "--model" => o.models.push(value()?),
            "--batch-delay-ms" => o.batch_delay_ms = number(&flag, &value()?)?,
            "--batch-expire-after" => o.batch_expire_after = Some(number(&flag, &value()?)?),
            _ => return Err(format!("unknown argument '{flag}'")),
        }
    }
    let fault = fault(&o)?;
    let mut script = Script::new()
        .latency(Duration::from_millis(o.latency_ms))
        .jitter(Duration::from_millis(o.jitter_ms))
        .seed(o.seed)
        .record_last(o.record)
        .batch_delay(Duration::from_millis(o.batch_delay_ms));
    if let Some(n) = o.batch_expire_after {
        script = script.batch_expire_after(n);
    }
    if o.fail_rate > 0.0 {
        script = script.fault(Trigger::Probability(o.fail_rate), fault);
    }
    for m in o.models {
        script = script.model(m);
    }
    Ok(Command::Serve {
        port: o.port,
        script,
    })
}

fn number<T: std::str::FromStr>(flag: &str, v: &str) -> Result<T, String> {
    v.parse()
        .map_err(|_| format!("{flag} must be a non-negative integer in range, got '{v}'"))
}

fn fault(o: &Options) -> Result<Fault, String> {
    let kind = o.fail_kind.as_str();
    let simple = match kind {
        "quota" => Some(Fault::InsufficientQuota),
        "malformed" => Some(Fault::MalformedJson),
        "slow" => Some(Fault::SlowBody(Duration::from_millis(o.slow_ms))),
        "drop" => Some(Fault::Drop),
        _ => None,
    };
    if let Some(f) = simple {
        return Ok(f);
    }
    let (status, shape) = match kind.split_once('-') {
        None => (kind, ErrorBody::OpenAi),
        Some((s, "detail")) => (s, ErrorBody::Detail),
        Some((s, "vllm")) => (s, ErrorBody::Vllm),
        Some((s, "text")) => (s, ErrorBody::Text),
        Some((s, "html")) => (s, ErrorBody::Html),
        Some(_) => return Err(format!("unknown --fail-kind '{kind}'")),
    };
    let status: u16 = status
        .parse()
        .ok()
        .filter(|s| (400..=599).contains(s))
        .ok_or_else(|| format!("unknown --fail-kind '{kind}'"))?;
    let mut f = Fault::status(status).body(shape);
    if let Some(ms) = o.retry_after_ms {
        f = f.retry_after(Duration::from_millis(ms));
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(s: &str) -> Result<Command, String> {
        parse(s.split_whitespace().map(str::to_string))
    }

    #[test]
    fn flags() {
        assert!(matches!(parse_str("--help"), Ok(Command::Help)));
        let Ok(Command::Serve { port, script }) = parse_str(
            "--port=8080 --latency-ms 100 --fail-rate 0.5 --fail-kind 429-detail --seed 1",
        ) else {
            panic!("did not parse");
        };
        assert_eq!(port, 8080);
        assert!(format!("{script:?}").contains("Detail"));
        let Ok(Command::Serve { script, .. }) = parse_str(
            "--fail-rate 1 --fail-kind 503-vllm --batch-delay-ms 7 --batch-expire-after 2",
        ) else {
            panic!("did not parse");
        };
        let debug = format!("{script:?}");
        assert!(debug.contains("Vllm"), "{debug}");
        assert!(debug.contains("batch_delay: 7ms"), "{debug}");
        assert!(debug.contains("batch_expire_after: Some(2)"), "{debug}");
    }

    #[test]
    fn bad_flags() {
        for bad in [
            "--port",
            "--port x",
            "--port 70000",
            "--fail-rate 2",
            "--fail-kind 200",
            "--fail-kind 429-xml",
            "--batch-delay-ms -1",
            "--batch-expire-after x",
            "--bogus",
        ] {
            assert!(parse_str(bad).is_err(), "{bad}");
        }
    }
}
