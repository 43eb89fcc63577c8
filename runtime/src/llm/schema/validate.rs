//! Validation of an answer against a schema of the supported subset (see the
//! [parent module](super)), with one short, located line per error.

use serde_json::{Map, Number, Value};

use super::describe::{describe, literal, or_list, plural, quoted, shorten};

/// Errors reported by [`validate`] beyond this many are counted in one closing line: a
/// model fixes a few precise errors better than a wall of them.
pub const MAX_ERRORS: usize = 10;

/// `$ref`s followed without moving into the value; more than this means a cycle such as
/// `{"$ref": "#"}`, which would otherwise recurse forever.
const MAX_REF_HOPS: usize = 32;

/// The ways `value` breaks `schema`, at most [`MAX_ERRORS`] of them plus a line counting
/// the rest; empty when it is valid. See [the module header](super) for the keywords
/// checked.
pub fn validate(schema: &Value, value: &Value) -> Vec<String> {
    let mut validator = Validator::new(schema);
    validator.check(schema, value, "$", 0);
    validator.errors.finish()
}

#[derive(Debug, Default)]
struct Errors {
    shown: Vec<String>,
    dropped: usize,
}

impl Errors {
    fn push(&mut self, line: String) {
        if self.shown.len() < MAX_ERRORS {
            self.shown.push(line);
        } else {
            self.dropped += 1;
        }
    }

    fn total(&self) -> usize {
        self.shown.len() + self.dropped
    }

    fn absorb(&mut self, other: Errors) {
        for line in other.shown {
            self.push(line);
        }
        self.dropped += other.dropped;
    }

    fn finish(mut self) -> Vec<String> {
        if self.dropped > 0 {
            let more = plural(self.dropped, "more error");
            self.shown.push(format!("... and {more}"));
        }
        self.shown
    }
}

#[derive(Debug)]
struct Validator<'s> {
    /// The whole schema, which `$ref`s point into.
    root: &'s Value,
    errors: Errors,
}

impl<'s> Validator<'s> {
    fn new(root: &'s Value) -> Self {
        Validator {
            root,
            errors: Errors::default(),
        }
    }

    fn error(&mut self, path: &str, message: impl std::fmt::Display) {
        self.errors.push(format!("{path}: {message}"));
    }

    /// `hops` counts the `$ref`s and `anyOf`s entered since the last step into the value.
    fn check(&mut self, schema: &'s Value, value: &Value, path: &str, hops: usize) {
        let schema = match schema {
            Value::Object(schema) => schema,
            Value::Bool(false) => return self.error(path, "no value is allowed here"),
            // `true` allows anything; other shapes are caught by `check_schema`.
            _ => return,
        };
        if let Some(Value::String(reference)) = schema.get("$ref") {
            match resolve(self.root, reference) {
                _ if hops >= MAX_REF_HOPS => {
                    return self.error(path, format!("$ref cycle through \"{reference}\""))
                }
                Some(target) => self.check(target, value, path, hops + 1),
                None => self.error(path, format!("unresolvable $ref \"{reference}\"")),
            }
        }
        if let Some(types) = schema.get("type") {
            if !type_matches(types, value) {
                let expected = or_list(&type_names(types));
                // The other keywords would only repeat this error in other words.
                return self.error(
                    path,
                    format!("expected {expected}, got {}", describe(value)),
                );
            }
        }
        if let Some(constant) = schema.get("const") {
            if !json_eq(constant, value) {
                let (want, got) = (literal(constant), literal(value));
                self.error(path, format!("expected {want}, got {got}"));
            }
        }
        if let Some(Value::Array(options)) = schema.get("enum") {
            if !options.iter().any(|option| json_eq(option, value)) {
                let allowed = options.iter().map(literal).collect::<Vec<_>>();
                let allowed = shorten(&allowed, 8).join(", ");
                self.error(path, format!("{} is not one of {allowed}", literal(value)));
            }
        }
        match value {
            Value::Number(number) => self.check_number(schema, number, path),
            Value::String(text) => self.check_string(schema, text, path),
            Value::Array(items) => self.check_array(schema, items, path),
            Value::Object(object) => self.check_object(schema, object, path),
            Value::Null | Value::Bool(_) => {}
        }
        if let Some(Value::Array(branches)) = schema.get("anyOf") {
            self.check_any_of(branches, value, path, hops);
        }
    }

    fn check_number(&mut self, schema: &Map<String, Value>, number: &Number, path: &str) {
        let Some(x) = number.as_f64() else { return };
        let bound = |keyword: &str| {
            let limit = schema.get(keyword)?;
            Some((limit.as_f64()?, limit.to_string()))
        };
        if let Some((_, shown)) = bound("minimum").filter(|(min, _)| x < *min) {
            self.error(path, format!("{number} is below the minimum {shown}"));
        }
        if let Some((_, shown)) = bound("maximum").filter(|(max, _)| x > *max) {
            self.error(path, format!("{number} is above the maximum {shown}"));
        }
        if let Some((_, shown)) = bound("exclusiveMinimum").filter(|(min, _)| x <= *min) {
            let message = format!("{number} is not greater than the exclusive minimum {shown}");
            self.error(path, message);
        }
        if let Some((_, shown)) = bound("exclusiveMaximum").filter(|(max, _)| x >= *max) {
            let message = format!("{number} is not less than the exclusive maximum {shown}");
            self.error(path, message);
        }
    }

    fn check_string(&mut self, schema: &Map<String, Value>, text: &str, path: &str) {
        let length = text.chars().count() as u64;
        let described = || format!("string of {}", plural(length as usize, "character"));
        if let Some(min) = count(schema, "minLength").filter(|min| length < *min) {
            let message = format!("{} is shorter than the minimum length {min}", described());
            self.error(path, message);
        }
        if let Some(max) = count(schema, "maxLength").filter(|max| length > *max) {
            let message = format!("{} is longer than the maximum length {max}", described());
            self.error(path, message);
        }
    }

    fn check_array(&mut self, schema: &'s Map<String, Value>, items: &[Value], path: &str) {
        let length = items.len() as u64;
        let has = || format!("array has {}", plural(items.len(), "item"));
        if let Some(min) = count(schema, "minItems").filter(|min| length < *min) {
            self.error(path, format!("{}, fewer than the minimum {min}", has()));
        }
        if let Some(max) = count(schema, "maxItems").filter(|max| length > *max) {
            self.error(path, format!("{}, more than the maximum {max}", has()));
        }
        if let Some(item_schema) = schema.get("items") {
            for (index, item) in items.iter().enumerate() {
                self.check(item_schema, item, &format!("{path}[{index}]"), 0);
            }
        }
    }

    fn check_object(
        &mut self,
        schema: &'s Map<String, Value>,
        object: &Map<String, Value>,
        path: &str,
    ) {
        if let Some(Value::Array(required)) = schema.get("required") {
            for name in required.iter().filter_map(Value::as_str) {
                if !object.contains_key(name) {
                    self.error(path, format!("missing required property {}", quoted(name)));
                }
            }
        }
        let properties = match schema.get("properties") {
            Some(Value::Object(properties)) => Some(properties),
            _ => None,
        };
        for (name, property) in properties.into_iter().flatten() {
            if let Some(field) = object.get(name) {
                self.check(property, field, &child_path(path, name), 0);
            }
        }
        let Some(additional) = schema.get("additionalProperties") else {
            return;
        };
        let declared = |name: &str| properties.is_some_and(|known| known.contains_key(name));
        for (name, field) in object.iter().filter(|(name, _)| !declared(name)) {
            match additional {
                Value::Bool(false) => {
                    let mut message = format!("unexpected property {}", quoted(name));
                    if let Some(known) = properties.filter(|known| !known.is_empty()) {
                        let names = known.keys().map(|name| quoted(name)).collect::<Vec<_>>();
                        let allowed = shorten(&names, 8).join(", ");
                        message.push_str(&format!(" (allowed: {allowed})"));
                    }
                    self.error(path, message);
                }
                Value::Object(_) => self.check(additional, field, &child_path(path, name), 0),
                _ => {}
            }
        }
    }

    /// Valid when one branch accepts the value. Otherwise the branches whose `type` fits
    /// are the ones the model most likely meant, so the errors of the closest of them are
    /// reported as they are; when no type fits, one line lists the types allowed.
    fn check_any_of(&mut self, branches: &'s [Value], value: &Value, path: &str, hops: usize) {
        let mut closest: Option<Errors> = None;
        let mut allowed_types = Vec::new();
        for branch in branches {
            if let Some(types) = self.followed_type(branch) {
                if !type_matches(types, value) {
                    allowed_types.extend(type_names(types));
                    continue;
                }
            }
            let mut trial = Validator::new(self.root);
            trial.check(branch, value, path, hops + 1);
            if trial.errors.total() == 0 {
                return;
            }
            if closest
                .as_ref()
                .is_none_or(|best| trial.errors.total() < best.total())
            {
                closest = Some(trial.errors);
            }
        }
        match closest {
            Some(errors) => self.errors.absorb(errors),
            None if allowed_types.is_empty() => {
                self.error(path, "matches none of the `anyOf` alternatives")
            }
            None => {
                allowed_types.dedup();
                let expected = or_list(&allowed_types);
                self.error(
                    path,
                    format!("expected {expected}, got {}", describe(value)),
                );
            }
        }
    }

    /// The `type` of the schema a chain of `$ref`s ends at, if it resolves and has one
    /// (when it does not resolve, the trial validation reports why).
    fn followed_type(&self, mut schema: &'s Value) -> Option<&'s Value> {
        for _ in 0..MAX_REF_HOPS {
            match schema.get("$ref").and_then(Value::as_str) {
                Some(reference) => schema = resolve(self.root, reference)?,
                None => return schema.get("type"),
            }
        }
        None
    }
}

/// The schema a local `$ref` points to: `#` is the root, `#/...` a JSON pointer into it.
pub(super) fn resolve<'s>(root: &'s Value, reference: &str) -> Option<&'s Value> {
    match reference.strip_prefix('#')? {
        "" => Some(root),
        pointer if pointer.starts_with('/') => root.pointer(pointer),
        _ => None,
    }
}

fn type_matches(types: &Value, value: &Value) -> bool {
    match types {
        Value::String(name) => is_type(name, value),
        Value::Array(names) => names
            .iter()
            .any(|name| name.as_str().is_some_and(|name| is_type(name, value))),
        _ => true,
    }
}

fn is_type(name: &str, value: &Value) -> bool {
    match (name, value) {
        ("string", Value::String(_))
        | ("number", Value::Number(_))
        | ("boolean", Value::Bool(_))
        | ("object", Value::Object(_))
        | ("array", Value::Array(_))
        | ("null", Value::Null) => true,
        // Models and servers write 7.0 for 7; the value is still an integer.
        ("integer", Value::Number(number)) => {
            number.is_i64()
                || number.is_u64()
                || number
                    .as_f64()
                    .is_some_and(|x| x.is_finite() && x.fract() == 0.0)
        }
        _ => false,
    }
}

fn type_names(types: &Value) -> Vec<String> {
    match types {
        Value::String(name) => vec![name.clone()],
        Value::Array(names) => names
            .iter()
            .filter_map(|name| Some(name.as_str()?.to_owned()))
            .collect(),
        _ => Vec::new(),
    }
}

/// JSON equality for `enum` and `const`, where 7 and 7.0 are the same number.
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        (Value::Array(xs), Value::Array(ys)) => {
            xs.len() == ys.len() && xs.iter().zip(ys).all(|(x, y)| json_eq(x, y))
        }
        (Value::Object(xs), Value::Object(ys)) => {
            xs.len() == ys.len()
                && xs
                    .iter()
                    .all(|(key, x)| ys.get(key).is_some_and(|y| json_eq(x, y)))
        }
        _ => a == b,
    }
}

/// A non-negative integer keyword such as `minLength`.
fn count(schema: &Map<String, Value>, keyword: &str) -> Option<u64> {
    schema.get(keyword)?.as_u64()
}

/// `$.name` for identifier-like names, `$["odd name"]` for the rest.
fn child_path(path: &str, name: &str) -> String {
    let mut chars = name.chars();
    let identifier = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if identifier {
        format!("{path}.{name}")
    } else {
        format!("{path}[{}]", quoted(name))
    }
}

#[cfg(test)]
pub(super) mod tests;
