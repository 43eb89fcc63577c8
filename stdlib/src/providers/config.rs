//! A teacher's connection settings, read once from its declaration when its provider is
//! built: where requests go, which variable holds the key, and the limits of one request.
//!
//! The resolver has already filled in the defaults the `teacher` block declares; the
//! defaults here only cover declarations built by hand (tests, tools), and mirror them.

use std::env::VarError;
use std::time::Duration;

use dtac_interpreter::resolve::{ModelDecl, Value};

/// The endpoint when a declaration has none (the `teacher` block's own default).
pub(crate) const DEFAULT_ENDPOINT: &str = "https://api.openai.com/v1";
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);
const DEFAULT_ATTEMPTS: i64 = 6;
const DEFAULT_CONCURRENCY: i64 = 16;
const DEFAULT_POLL: Duration = Duration::from_secs(30);
const DEFAULT_BATCH_WINDOW: Duration = Duration::from_secs(24 * 3600);
/// More requests in flight than any server takes; keeps the semaphore far below its
/// own maximum.
const MAX_CONCURRENCY: i64 = 1 << 16;

/// What a provider needs from its teacher's declaration.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Connection {
    /// The endpoint's identity ([`endpoint_of`]): what request keys, limits and messages
    /// name.
    pub endpoint: String,
    /// The base URL requests go to: the identity plus any credentials written in it.
    pub base_url: String,
    /// The credentials part of `base_url` (`user:secret`), to scrub from messages.
    pub url_credentials: Option<String>,
    /// The environment variable holding the key, when the teacher names one.
    pub key_var: Option<String>,
    /// How long one attempt may take, from sending to the whole answer.
    pub timeout: Duration,
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// Requests in flight to the endpoint.
    pub max_concurrency: usize,
    /// Requests and tokens per minute at the endpoint.
    pub rpm: Option<u64>,
    pub tpm: Option<u64>,
    /// How often a submitted batch is asked for its status.
    pub poll_interval: Duration,
    /// The completion window asked of the Batch API.
    pub batch_window: Duration,
}

/// The endpoint's identity as it goes into request keys: the `endpoint` setting without
/// surrounding blanks, trailing slashes (`…/v1` and `…/v1/` are one endpoint) or
/// credentials (`https://user:secret@host/v1` is `https://host/v1`).
pub(crate) fn endpoint_of(teacher: &ModelDecl) -> String {
    split_credentials(&base_url_of(teacher)).0
}

fn base_url_of(teacher: &ModelDecl) -> String {
    teacher
        .str("endpoint")
        .unwrap_or(DEFAULT_ENDPOINT)
        .trim()
        .trim_end_matches('/')
        .to_string()
}

/// `scheme://user:secret@host/path` as (`scheme://host/path`, `user:secret`).
fn split_credentials(url: &str) -> (String, Option<String>) {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return (url.to_string(), None);
    };
    let rest = &url[scheme_end..];
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    match authority.rfind('@') {
        Some(at) => (
            format!("{}{}", &url[..scheme_end], &rest[at + 1..]),
            Some(authority[..at].to_string()),
        ),
        None => (url.to_string(), None),
    }
}

/// How a teacher's requests are answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    Online,
    Batch,
    Replay,
}

pub(crate) fn mode_of(teacher: &ModelDecl) -> Result<Mode, String> {
    match teacher.str("mode").unwrap_or("online") {
        "online" => Ok(Mode::Online),
        "batch" => Ok(Mode::Batch),
        "replay" => Ok(Mode::Replay),
        other => Err(format!(
            "unknown `mode = \"{other}\"`; use \"online\", \"batch\" or \"replay\""
        )),
    }
}

/// Reads the connection settings, refusing values that could never work (a zero
/// timeout, no attempts, no concurrency).
pub(crate) fn read(teacher: &ModelDecl) -> Result<Connection, String> {
    mode_of(teacher)?;
    let base_url = base_url_of(teacher);
    let (endpoint, url_credentials) = split_credentials(&base_url);
    let lower = endpoint.to_ascii_lowercase();
    if !(lower.starts_with("http://") || lower.starts_with("https://")) {
        return Err(format!(
            "the endpoint `{endpoint}` is not an http:// or https:// URL"
        ));
    }
    let key_var = match teacher.get("api_key") {
        None => None,
        Some(Value::Secret(var)) => Some(var.clone()),
        // Never echo the value: a key written inline is still a key.
        Some(_) => return Err("`api_key` must be `env(\"VARIABLE\")`".into()),
    };
    let timeout = match teacher.get("timeout") {
        None => DEFAULT_TIMEOUT,
        Some(Value::Duration(d)) if !d.is_zero() => *d,
        Some(Value::Duration(_)) => return Err("`timeout` must be longer than zero".into()),
        Some(_) => return Err("`timeout` must be a duration such as `10m`".into()),
    };
    let max_attempts = at_least_one(teacher, "max_attempts", DEFAULT_ATTEMPTS)?;
    let max_concurrency = at_least_one(teacher, "max_concurrency", DEFAULT_CONCURRENCY)?;
    let per_minute = |name: &str| -> Result<Option<u64>, String> {
        match teacher.get(name) {
            None => Ok(None),
            Some(_) => Ok(Some(at_least_one(teacher, name, 1)? as u64)),
        }
    };
    let rpm = per_minute("rpm")?;
    let tpm = per_minute("tpm")?;
    let poll_interval = positive_duration(teacher, "poll_interval", DEFAULT_POLL)?;
    let batch_window = positive_duration(teacher, "batch_window", DEFAULT_BATCH_WINDOW)?;
    Ok(Connection {
        endpoint,
        base_url,
        url_credentials,
        key_var,
        timeout,
        max_attempts: u32::try_from(max_attempts).unwrap_or(u32::MAX),
        max_concurrency: usize::try_from(max_concurrency.min(MAX_CONCURRENCY)).unwrap_or(1),
        rpm,
        tpm,
        poll_interval,
        batch_window,
    })
}

fn positive_duration(
    teacher: &ModelDecl,
    name: &str,
    default: Duration,
) -> Result<Duration, String> {
    match teacher.get(name) {
        None => Ok(default),
        Some(Value::Duration(d)) if !d.is_zero() => Ok(*d),
        Some(Value::Duration(_)) => Err(format!("`{name}` must be longer than zero")),
        Some(_) => Err(format!("`{name}` must be a duration such as `30s`")),
    }
}

fn at_least_one(teacher: &ModelDecl, name: &str, default: i64) -> Result<i64, String> {
    match teacher.get(name) {
        None => Ok(default),
        Some(Value::Int(n)) if *n >= 1 => Ok(*n),
        Some(Value::Int(n)) => Err(format!("`{name}` is {n}; it must be at least 1")),
        Some(_) => Err(format!("`{name}` must be a whole number")),
    }
}

/// The key held by `var`, looked up with `lookup` (`std::env::var` outside tests). An
/// unset or blank variable means no key, which local servers accept. Surrounding blanks
/// are dropped (a key pasted with its newline); a key with a control character inside
/// could not go into a header, so it is refused, without showing it.
pub(crate) fn key_from(
    var: &str,
    lookup: impl FnOnce(&str) -> Result<String, VarError>,
) -> Result<Option<String>, String> {
    match lookup(var) {
        Ok(value) => {
            let key = value.trim();
            if key.is_empty() {
                Ok(None)
            } else if key.chars().any(char::is_control) {
                Err(format!(
                    "the key in `{var}` contains a line break or another control character"
                ))
            } else {
                Ok(Some(key.to_string()))
            }
        }
        Err(VarError::NotPresent) => Ok(None),
        Err(VarError::NotUnicode(_)) => Err(format!("the key in `{var}` is not valid text")),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::BTreeMap;

    use dtac_interpreter::signature::SignatureKind;

    use super::*;

    /// A teacher declaration with these settings and nothing else.
    pub(crate) fn teacher(settings: &[(&str, Value)]) -> ModelDecl {
        ModelDecl {
            name: "t".into(),
            kind: SignatureKind::Teacher,
            settings: settings
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect::<BTreeMap<_, _>>(),
            sig: &crate::blocks::teacher::SIGNATURE,
        }
    }

    fn s(v: &str) -> Value {
        Value::Str(v.into())
    }

    #[test]
    fn endpoint_loses_trailing_slashes_and_blanks() {
        let t = teacher(&[("endpoint", s(" http://localhost:8000/v1// "))]);
        assert_eq!(endpoint_of(&t), "http://localhost:8000/v1");
        assert_eq!(endpoint_of(&teacher(&[])), DEFAULT_ENDPOINT);
    }

    #[test]
    fn credentials_are_not_part_of_the_identity() {
        let t = teacher(&[("endpoint", s("https://u:p%40ss@gw.example/v1/"))]);
        assert_eq!(endpoint_of(&t), "https://gw.example/v1");
        let c = read(&t).expect("valid");
        assert_eq!(c.endpoint, "https://gw.example/v1");
        assert_eq!(c.base_url, "https://u:p%40ss@gw.example/v1");
        assert_eq!(c.url_credentials.as_deref(), Some("u:p%40ss"));
        // An `@` in the path is not a credential.
        let path = teacher(&[("endpoint", s("http://h/v1/@x"))]);
        assert_eq!(endpoint_of(&path), "http://h/v1/@x");
    }

    #[test]
    fn defaults_mirror_the_teacher_block() {
        let c = read(&teacher(&[])).expect("defaults are valid");
        assert_eq!(c.endpoint, DEFAULT_ENDPOINT);
        assert_eq!(c.key_var, None);
        assert_eq!(c.timeout, Duration::from_secs(600));
        assert_eq!(c.max_attempts, 6);
        assert_eq!(c.max_concurrency, 16);
    }

    #[test]
    fn settings_are_read() {
        let c = read(&teacher(&[
            ("endpoint", s("http://h:1/v1/")),
            ("api_key", Value::Secret("MY_KEY".into())),
            ("timeout", Value::Duration(Duration::from_secs(5))),
            ("max_attempts", Value::Int(2)),
            ("max_concurrency", Value::Int(3)),
            ("mode", s("online")),
        ]))
        .expect("valid settings");
        assert_eq!(c.endpoint, "http://h:1/v1");
        assert_eq!(c.key_var.as_deref(), Some("MY_KEY"));
        assert_eq!(c.timeout, Duration::from_secs(5));
        assert_eq!((c.max_attempts, c.max_concurrency), (2, 3));
    }

    #[test]
    fn modes_and_rates() {
        assert_eq!(mode_of(&teacher(&[("mode", s("batch"))])), Ok(Mode::Batch));
        assert_eq!(
            mode_of(&teacher(&[("mode", s("replay"))])),
            Ok(Mode::Replay)
        );
        assert_eq!(mode_of(&teacher(&[])), Ok(Mode::Online));
        assert!(mode_of(&teacher(&[("mode", s("offline"))])).is_err());
        let c = read(&teacher(&[
            ("rpm", Value::Int(600)),
            ("tpm", Value::Int(90_000)),
            ("poll_interval", Value::Duration(Duration::from_millis(50))),
        ]))
        .expect("valid");
        assert_eq!((c.rpm, c.tpm), (Some(600), Some(90_000)));
        assert_eq!(c.poll_interval, Duration::from_millis(50));
        assert_eq!(c.batch_window, Duration::from_secs(86_400));
        assert!(read(&teacher(&[("rpm", Value::Int(0))])).is_err());
    }

    #[test]
    fn impossible_values_are_refused() {
        for (name, value) in [
            ("max_attempts", Value::Int(0)),
            ("max_concurrency", Value::Int(-1)),
            ("max_concurrency", s("many")),
            ("timeout", Value::Duration(Duration::ZERO)),
            ("endpoint", s("localhost:8000/v1")),
        ] {
            let err = read(&teacher(&[(name, value.clone())])).unwrap_err();
            assert!(err.contains(name) || name == "endpoint", "{name}: {err}");
        }
        // An inline key is refused without being repeated.
        let err = read(&teacher(&[("api_key", s("sk-inline-secret"))])).unwrap_err();
        assert!(!err.contains("sk-inline-secret"), "{err}");
    }

    #[test]
    fn keys_come_from_the_variable() {
        let unset = |_: &str| Err(VarError::NotPresent);
        assert_eq!(key_from("K", unset), Ok(None));
        assert_eq!(key_from("K", |_| Ok("  ".into())), Ok(None));
        assert_eq!(
            key_from("K", |_| Ok("sk-abc\n".into())),
            Ok(Some("sk-abc".into()))
        );
        let err = key_from("K", |_| Ok("sk-a\nbc".into())).unwrap_err();
        assert!(err.contains("`K`") && !err.contains("sk-a"), "{err}");
    }
}
