//! The Python that Hugging Face chat templates lean on, for minijinja: string and dict
//! methods (`content.startswith('<think>')`, `content.split('</think>')[-1].lstrip('\n')`,
//! `tool.get('name')`, `message.items()`), and a `tojson` that writes what Python's
//! `json.dumps(x, ensure_ascii=False)` writes (`{"a": 1, "b": [1, 2]}`, non-ASCII kept),
//! which is what `transformers` uses. minijinja has neither built in.

use minijinja::value::{Kwargs, ValueKind};
use minijinja::{Error, ErrorKind, State, Value};

/// minijinja's unknown-method callback: the Python methods templates use.
pub fn call_method(_: &State, value: &Value, method: &str, args: &[Value]) -> Result<Value, Error> {
    match value.kind() {
        ValueKind::String => string_method(value.as_str().unwrap_or(""), method, args),
        ValueKind::Map => map_method(value, method, args),
        _ => Err(Error::from(ErrorKind::UnknownMethod)),
    }
}

fn arg_str<'a>(args: &'a [Value], i: usize, method: &str) -> Result<Option<&'a str>, Error> {
    match args.get(i) {
        None => Ok(None),
        Some(v) if v.is_none() || v.is_undefined() => Ok(None),
        Some(v) => v.as_str().map(Some).ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidOperation,
                format!("`{method}` expects a string argument, got {}", v.kind()),
            )
        }),
    }
}

/// Python's `str.strip` family: whitespace when no characters are given.
fn strip<'a>(s: &'a str, chars: Option<&str>, left: bool, right: bool) -> &'a str {
    let is_stripped = |c: char| chars.map_or(c.is_whitespace(), |set| set.contains(c));
    let s = if left {
        s.trim_start_matches(is_stripped)
    } else {
        s
    };
    if right {
        s.trim_end_matches(is_stripped)
    } else {
        s
    }
}

/// `startswith`/`endswith` take a string or a tuple (list) of strings.
fn affix_test(s: &str, arg: Option<&Value>, test: fn(&str, &str) -> bool) -> Result<bool, Error> {
    let arg = arg.ok_or_else(|| Error::new(ErrorKind::MissingArgument, "expected a prefix"))?;
    if let Some(one) = arg.as_str() {
        return Ok(test(s, one));
    }
    for item in arg.try_iter()? {
        if item.as_str().is_some_and(|p| test(s, p)) {
            return Ok(true);
        }
    }
    Ok(false)
}

fn string_method(s: &str, method: &str, args: &[Value]) -> Result<Value, Error> {
    let text = |out: &str| Ok(Value::from(out));
    match method {
        "strip" => text(strip(s, arg_str(args, 0, method)?, true, true)),
        "lstrip" => text(strip(s, arg_str(args, 0, method)?, true, false)),
        "rstrip" => text(strip(s, arg_str(args, 0, method)?, false, true)),
        "startswith" => Ok(Value::from(affix_test(s, args.first(), |s, p| {
            s.starts_with(p)
        })?)),
        "endswith" => Ok(Value::from(affix_test(s, args.first(), |s, p| {
            s.ends_with(p)
        })?)),
        "upper" => text(&s.to_uppercase()),
        "lower" => text(&s.to_lowercase()),
        "title" => text(&title_case(s)),
        "capitalize" => {
            let mut chars = s.chars();
            let out = match chars.next() {
                Some(first) => first
                    .to_uppercase()
                    .chain(chars.flat_map(char::to_lowercase))
                    .collect(),
                None => String::new(),
            };
            text(&out)
        }
        "replace" => {
            let old = arg_str(args, 0, method)?.unwrap_or("");
            let new = arg_str(args, 1, method)?.unwrap_or("");
            match args.get(2).and_then(Value::as_i64) {
                Some(n) if n >= 0 => text(&s.replacen(old, new, n as usize)),
                _ => text(&s.replace(old, new)),
            }
        }
        "split" | "rsplit" => {
            let sep = arg_str(args, 0, method)?;
            let max = args.get(1).and_then(Value::as_i64).filter(|n| *n >= 0);
            Ok(Value::from(python_split(s, sep, max, method == "rsplit")))
        }
        "find" => {
            let needle = arg_str(args, 0, method)?.unwrap_or("");
            // Python counts characters, not bytes.
            let found = s.find(needle).map_or(-1, |b| s[..b].chars().count() as i64);
            Ok(Value::from(found))
        }
        "count" => Ok(Value::from(match arg_str(args, 0, method)?.unwrap_or("") {
            "" => s.chars().count() + 1,
            needle => s.matches(needle).count(),
        })),
        "join" => {
            let parts = args
                .first()
                .ok_or_else(|| Error::new(ErrorKind::MissingArgument, "`join` needs a list"))?;
            let items: Vec<String> = parts.try_iter()?.map(|v| v.to_string()).collect();
            text(&items.join(s))
        }
        "isdigit" => Ok(Value::from(
            !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()),
        )),
        "isspace" => Ok(Value::from(
            !s.is_empty() && s.chars().all(char::is_whitespace),
        )),
        _ => Err(Error::from(ErrorKind::UnknownMethod)),
    }
}

fn title_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_alpha = false;
    for c in s.chars() {
        if prev_alpha {
            out.extend(c.to_lowercase());
        } else {
            out.extend(c.to_uppercase());
        }
        prev_alpha = c.is_alphabetic();
    }
    out
}

/// Python's `str.split`/`str.rsplit`: with no separator, runs of whitespace split, the
/// ends are trimmed and empty pieces dropped; with one, every occurrence splits. A
/// `maxsplit` leaves the rest of the string, as it was, in the last (or first) piece.
fn python_split(s: &str, sep: Option<&str>, max: Option<i64>, from_right: bool) -> Vec<String> {
    let max = max.map(|m| m as usize);
    let owned = |it: &mut dyn Iterator<Item = &str>| it.map(str::to_string).collect::<Vec<_>>();
    match (sep, from_right) {
        (Some(sep), false) => match max {
            Some(m) => owned(&mut s.splitn(m + 1, sep)),
            None => owned(&mut s.split(sep)),
        },
        (Some(sep), true) => {
            let mut v = match max {
                Some(m) => owned(&mut s.rsplitn(m + 1, sep)),
                None => owned(&mut s.rsplit(sep)),
            };
            v.reverse();
            v
        }
        (None, false) => {
            let mut out = Vec::new();
            let mut rest = s.trim_start();
            while !rest.is_empty() {
                if max == Some(out.len()) {
                    out.push(rest.to_string());
                    break;
                }
                let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                out.push(rest[..end].to_string());
                rest = rest[end..].trim_start();
            }
            out
        }
        (None, true) => {
            let mut out = Vec::new();
            let mut rest = s.trim_end();
            while !rest.is_empty() {
                if max == Some(out.len()) {
                    out.push(rest.to_string());
                    break;
                }
                let start = rest.rfind(char::is_whitespace).map_or(0, |i| {
                    i + rest[i..].chars().next().map_or(1, char::len_utf8)
                });
                out.push(rest[start..].to_string());
                rest = rest[..start].trim_end();
            }
            out.reverse();
            out
        }
    }
}

fn map_method(map: &Value, method: &str, args: &[Value]) -> Result<Value, Error> {
    let keys = || -> Result<Vec<Value>, Error> { Ok(map.try_iter()?.collect()) };
    match method {
        "get" => {
            let key = args
                .first()
                .ok_or_else(|| Error::new(ErrorKind::MissingArgument, "`get` needs a key"))?;
            let found = map.get_item(key)?;
            Ok(if found.is_undefined() {
                args.get(1).cloned().unwrap_or(Value::from(()))
            } else {
                found
            })
        }
        "keys" => Ok(Value::from(keys()?)),
        "values" => {
            let values: Result<Vec<Value>, Error> =
                keys()?.iter().map(|k| map.get_item(k)).collect();
            Ok(Value::from(values?))
        }
        "items" => {
            let pairs: Result<Vec<Value>, Error> = keys()?
                .into_iter()
                .map(|k| Ok(Value::from(vec![k.clone(), map.get_item(&k)?])))
                .collect();
            Ok(Value::from(pairs?))
        }
        _ => Err(Error::from(ErrorKind::UnknownMethod)),
    }
}

/// The `tojson` filter as `transformers` defines it: `json.dumps(x, ensure_ascii=False,
/// indent=indent, sort_keys=sort_keys)`. Keys come in the order minijinja holds them.
pub fn tojson(value: Value, kwargs: Kwargs) -> Result<Value, Error> {
    let indent: Option<usize> = kwargs.get("indent")?;
    let sort_keys: Option<bool> = kwargs.get("sort_keys")?;
    // Accepted for compatibility; output is always `ensure_ascii=False`, as in transformers.
    let _: Option<bool> = kwargs.get("ensure_ascii")?;
    kwargs.assert_all_used()?;
    let mut out = String::new();
    write_json(&value, indent, sort_keys.unwrap_or(false), 0, &mut out)?;
    Ok(Value::from_safe_string(out))
}

fn write_json(
    v: &Value,
    indent: Option<usize>,
    sort: bool,
    depth: usize,
    out: &mut String,
) -> Result<(), Error> {
    let newline = |out: &mut String, depth: usize| {
        if let Some(width) = indent {
            out.push('\n');
            out.push_str(&" ".repeat(width * depth));
        }
    };
    // Python's separators: ", " inline, "," before a newline when indenting.
    let comma = if indent.is_some() { "," } else { ", " };
    match v.kind() {
        ValueKind::Undefined | ValueKind::None => out.push_str("null"),
        ValueKind::Bool => out.push_str(if v.is_true() { "true" } else { "false" }),
        ValueKind::Number => out.push_str(&python_number(v)),
        ValueKind::String => {
            out.push_str(&serde_json::to_string(v.as_str().unwrap_or("")).unwrap_or_default())
        }
        ValueKind::Map => {
            let mut keys: Vec<Value> = v.try_iter()?.collect();
            if sort {
                keys.sort();
            }
            if keys.is_empty() {
                out.push_str("{}");
                return Ok(());
            }
            out.push('{');
            for (i, key) in keys.iter().enumerate() {
                if i > 0 {
                    out.push_str(comma);
                }
                newline(out, depth + 1);
                let name = key.as_str().map_or_else(|| key.to_string(), str::to_string);
                out.push_str(&serde_json::to_string(&name).unwrap_or_default());
                out.push_str(": ");
                write_json(&v.get_item(key)?, indent, sort, depth + 1, out)?;
            }
            newline(out, depth);
            out.push('}');
        }
        _ => {
            let items: Vec<Value> = v.try_iter()?.collect();
            if items.is_empty() {
                out.push_str("[]");
                return Ok(());
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(comma);
                }
                newline(out, depth + 1);
                write_json(item, indent, sort, depth + 1, out)?;
            }
            newline(out, depth);
            out.push(']');
        }
    }
    Ok(())
}

/// Integers as integers; floats as Python prints them (`1.0`, not `1`).
fn python_number(v: &Value) -> String {
    if v.is_integer() {
        return v.to_string();
    }
    let s = v.to_string();
    if s.contains(['.', 'e', 'E', 'n', 'i']) {
        s
    } else {
        format!("{s}.0")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_matches_python() {
        assert_eq!(
            python_split("a</t>b</t>c", Some("</t>"), None, false),
            ["a", "b", "c"]
        );
        assert_eq!(
            python_split("a,b,c", Some(","), Some(1), false),
            ["a", "b,c"]
        );
        assert_eq!(
            python_split("a,b,c", Some(","), Some(1), true),
            ["a,b", "c"]
        );
        assert_eq!(
            python_split("  a  b c ", None, None, false),
            ["a", "b", "c"]
        );
        assert_eq!(
            python_split("a b  c ", None, Some(1), false),
            ["a", "b  c "]
        );
        assert_eq!(python_split(" a b  c", None, Some(1), true), [" a b", "c"]);
        assert_eq!(python_split("", Some(","), None, false), [""]);
    }

    #[test]
    fn strip_matches_python() {
        assert_eq!(strip("\n\nx\n", Some("\n"), true, false), "x\n");
        assert_eq!(strip("  x  ", None, false, true), "  x");
        assert_eq!(strip("xyhixy", Some("xy"), true, true), "hi");
    }
}
