//! Evaluation against one record. Numbers compare as numbers whatever their JSON form;
//! values of different kinds are never equal and cannot be ordered (a type error, so a
//! typo such as comparing a number with a string does not silently drop everything).

use std::cmp::Ordering;

use serde_json::Value as Json;

use super::parse::{number, Func, Node};
use dtac_runtime::record::Fields;

/// Why an expression has no value for a record.
#[derive(Clone, Debug, PartialEq)]
pub enum EvalError {
    /// The record lacks a field the expression reads.
    Missing(String),
    /// Values of the wrong kind: `len(3)`, `"a" < 2`, `1 / 0`.
    Type(String),
}

impl std::fmt::Display for EvalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EvalError::Missing(path) => write!(f, "the record has no field `{path}`"),
            EvalError::Type(message) => f.write_str(message),
        }
    }
}

pub(super) fn eval(node: &Node, fields: &Fields) -> Result<Json, EvalError> {
    Ok(match node {
        Node::Lit(v) => v.clone(),
        Node::Path(path) => lookup(path, fields)?.clone(),
        Node::List(items) => Json::Array(
            items
                .iter()
                .map(|i| eval(i, fields))
                .collect::<Result<_, _>>()?,
        ),
        Node::Not(inner) => Json::Bool(!truth(&eval(inner, fields)?, "`!`")?),
        Node::Neg(inner) => number(-num(&eval(inner, fields)?, "`-`")?),
        Node::And(a, b) => {
            Json::Bool(truth(&eval(a, fields)?, "`&&`")? && truth(&eval(b, fields)?, "`&&`")?)
        }
        Node::Or(a, b) => {
            Json::Bool(truth(&eval(a, fields)?, "`||`")? || truth(&eval(b, fields)?, "`||`")?)
        }
        Node::Cmp(op, a, b) => Json::Bool(compare(op, &eval(a, fields)?, &eval(b, fields)?)?),
        Node::Arith(op, a, b) => arith(op, &eval(a, fields)?, &eval(b, fields)?)?,
        Node::In(a, b) => {
            let needle = eval(a, fields)?;
            match eval(b, fields)? {
                Json::Array(items) => Json::Bool(items.iter().any(|i| equal(&needle, i))),
                Json::String(hay) => match &needle {
                    Json::String(n) => Json::Bool(hay.contains(n.as_str())),
                    other => return Err(type_error("`in` a string", other)),
                },
                other => return Err(type_error("the right side of `in`", &other)),
            }
        }
        Node::Call(func, args) => {
            let values = args
                .iter()
                .map(|a| eval(a, fields))
                .collect::<Result<Vec<_>, _>>()?;
            call(*func, &values)?
        }
    })
}

fn lookup<'a>(path: &[String], fields: &'a Fields) -> Result<&'a Json, EvalError> {
    let missing = || EvalError::Missing(path.join("."));
    let mut value = fields.get(&path[0]).ok_or_else(missing)?;
    for part in &path[1..] {
        value = match value {
            Json::Object(map) => map.get(part),
            Json::Array(items) => part.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        }
        .ok_or_else(missing)?;
    }
    Ok(value)
}

fn truth(v: &Json, what: &str) -> Result<bool, EvalError> {
    match v {
        Json::Bool(b) => Ok(*b),
        other => Err(type_error(
            &format!("{what} (which needs true or false)"),
            other,
        )),
    }
}

fn num(v: &Json, what: &str) -> Result<f64, EvalError> {
    v.as_f64()
        .ok_or_else(|| type_error(&format!("{what} (which needs a number)"), v))
}

/// Equality: numbers by value, everything else structurally; different kinds differ.
fn equal(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

fn compare(op: &str, a: &Json, b: &Json) -> Result<bool, EvalError> {
    if op == "==" {
        return Ok(equal(a, b));
    }
    if op == "!=" {
        return Ok(!equal(a, b));
    }
    let ordering = match (a, b) {
        (Json::Number(_), Json::Number(_)) => {
            let (x, y) = (num(a, op)?, num(b, op)?);
            x.partial_cmp(&y).unwrap_or(Ordering::Equal)
        }
        (Json::String(x), Json::String(y)) => x.cmp(y),
        _ => {
            return Err(EvalError::Type(format!(
                "cannot order {} and {} with `{op}`",
                describe(a),
                describe(b)
            )))
        }
    };
    Ok(match op {
        "<" => ordering.is_lt(),
        "<=" => ordering.is_le(),
        ">" => ordering.is_gt(),
        _ => ordering.is_ge(),
    })
}

fn arith(op: &str, a: &Json, b: &Json) -> Result<Json, EvalError> {
    if op == "+" {
        if let (Json::String(x), Json::String(y)) = (a, b) {
            return Ok(Json::String(format!("{x}{y}")));
        }
    }
    let what = format!("`{op}`");
    let (x, y) = (num(a, &what)?, num(b, &what)?);
    let v = match op {
        "+" => x + y,
        "-" => x - y,
        "*" => x * y,
        _ => {
            if y == 0.0 {
                return Err(EvalError::Type("division by zero".into()));
            }
            x / y
        }
    };
    Ok(number(v))
}

fn call(func: Func, args: &[Json]) -> Result<Json, EvalError> {
    let arg = &args[0];
    Ok(match func {
        Func::Len => Json::from(match arg {
            Json::String(s) => s.chars().count(),
            Json::Array(items) => items.len(),
            Json::Object(map) => map.len(),
            other => return Err(type_error("`len`", other)),
        }),
        Func::Words => Json::from(text(arg, "`words`")?.split_whitespace().count()),
        Func::Lines => Json::from(text(arg, "`lines`")?.lines().count()),
        Func::Lower => Json::String(text(arg, "`lower`")?.to_lowercase()),
        Func::Abs => number(num(arg, "`abs`")?.abs()),
        Func::Contains => Json::Bool(match (arg, &args[1]) {
            (Json::String(hay), Json::String(needle)) => hay.contains(needle.as_str()),
            (Json::Array(items), needle) => items.iter().any(|i| equal(i, needle)),
            (other, _) => return Err(type_error("`contains`", other)),
        }),
    })
}

fn text<'a>(v: &'a Json, what: &str) -> Result<&'a str, EvalError> {
    v.as_str()
        .ok_or_else(|| type_error(&format!("{what} (which needs text)"), v))
}

fn type_error(what: &str, found: &Json) -> EvalError {
    EvalError::Type(format!("{what} got {}", describe(found)))
}

/// A value for messages: its kind and a short rendering.
pub(super) fn describe(v: &Json) -> String {
    let kind = match v {
        Json::Null => return "null".into(),
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "a list",
        Json::Object(_) => "a record",
    };
    let mut shown = v.to_string();
    if shown.chars().count() > 40 {
        shown = shown.chars().take(37).collect::<String>() + "...";
    }
    format!("{kind} ({shown})")
}
