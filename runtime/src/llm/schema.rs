//! Structured answers from reviewers and judges: the `response_format` that asks for a JSON
//! object following a schema, the extraction of that object from whatever the model wrote,
//! its validation, and the user message of the repair turn when it is not valid.
//!
//! Servers are free to ignore `response_format`, so every answer is validated on receipt.
//! The validator covers the JSON Schema subset that OpenAI structured outputs accept:
//! `type`, `properties`, `required`, `additionalProperties`, `items`, `minItems`,
//! `maxItems`, `enum`, `const`, `minimum`, `maximum`, `exclusiveMinimum`,
//! `exclusiveMaximum`, `minLength`, `maxLength`, `anyOf` and local `$ref`s (`#`,
//! `#/$defs/...`, `#/definitions/...`). Any other keyword (`description`, `title`,
//! `pattern`, `format`, ...) is ignored, so it constrains nothing.
//!
//! Error messages are read by the model in the repair turn as well as by people, so each
//! is one short line starting with a JSON-path-like location: `$.scores.clarity: expected
//! integer, got string "7"`.

use serde_json::{json, Map, Number, Value};

/// Errors reported by [`validate`] beyond this many are counted in one closing line: a
/// model fixes a few precise errors better than a wall of them.
pub const MAX_ERRORS: usize = 10;

/// `$ref`s followed without moving into the value; more than this means a cycle such as
/// `{"$ref": "#"}`, which would otherwise recurse forever.
const MAX_REF_HOPS: usize = 32;

/// Candidate `{` positions tried in a prose-wrapped answer, bounding the work on a long
/// answer full of braces.
const MAX_BRACE_CANDIDATES: usize = 32;

const TYPE_NAMES: [&str; 7] = [
    "string", "number", "integer", "boolean", "object", "array", "null",
];

/// The `response_format` body asking for a JSON object that follows `schema`. OpenAI
/// accepts only `[A-Za-z0-9_-]{1,64}` as the name, so other characters become `_`.
pub fn response_format(name: &str, schema: &Value) -> Value {
    let mut name: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    if name.is_empty() {
        name.push_str("answer");
    }
    json!({
        "type": "json_schema",
        "json_schema": { "name": name, "schema": schema, "strict": true },
    })
}

/// The user message of a repair turn: what was wrong with the previous answer and the
/// schema to follow, compact so that it costs few tokens.
pub fn repair_message(errors: &[String], schema: &Value) -> String {
    let mut message = String::from("Your previous answer was not valid");
    if errors.is_empty() {
        message.push_str(".\n");
    } else {
        message.push_str(":\n");
        for error in errors {
            message.push_str("- ");
            message.push_str(error);
            message.push('\n');
        }
    }
    message.push_str(
        "\nReply with only a JSON object that follows this JSON schema, with no other text:\n",
    );
    message.push_str(&schema.to_string());
    message
}

// ---------------------------------------------------------------------------------------
// Extracting the object from the answer
// ---------------------------------------------------------------------------------------

/// The JSON object in a model's answer: the whole text, else the first ```` ``` ```` fenced
/// block holding one, else the first balanced `{...}` span holding one (models like to
/// add prose around it). A whole answer that is a JSON string is unwrapped once, for
/// models that encode their object twice.
pub fn parse_answer(text: &str) -> Result<Value, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err("the answer is empty".into());
    }
    match serde_json::from_str::<Value>(trimmed) {
        Ok(Value::Object(object)) => return Ok(Value::Object(object)),
        Ok(Value::String(inner)) if inner.trim_start().starts_with('{') => {
            return parse_answer(&inner)
        }
        Ok(other) => return Err(format!("expected a JSON object, got {}", describe(&other))),
        Err(_) => {}
    }
    // The first failure is the one reported: it is most likely the object the model meant.
    let mut first_error = None;
    for (offset, body) in fenced_blocks(text) {
        match parse_object(text, offset, body) {
            Ok(value) => return Ok(value),
            Err(error) => {
                first_error.get_or_insert(error);
            }
        }
    }
    let starts = text.match_indices('{').map(|(at, _)| at);
    for start in starts.take(MAX_BRACE_CANDIDATES) {
        let end = balanced_end(&text[start..]).map_or(text.len(), |len| start + len);
        match parse_object(text, start, &text[start..end]) {
            Ok(value) => return Ok(value),
            Err(error) => {
                first_error.get_or_insert(error);
            }
        }
    }
    Err(first_error.unwrap_or_else(|| "no JSON object in the answer".into()))
}

/// Parses `body`, found at byte `offset` of `text`, as an object; errors give the line
/// and column in the whole answer, which is what the model and the reader see.
fn parse_object(text: &str, offset: usize, body: &str) -> Result<Value, String> {
    match serde_json::from_str::<Value>(body) {
        Ok(Value::Object(object)) => Ok(Value::Object(object)),
        Ok(other) => Err(format!("expected a JSON object, got {}", describe(&other))),
        Err(error) => {
            let at = offset + byte_index(body, error.line(), error.column());
            let (line, column) = line_column(text, at);
            let message = error.to_string();
            // serde_json appends its own position, relative to `body`; ours replaces it.
            let message = message
                .rfind(" at line ")
                .map_or(message.as_str(), |cut| &message[..cut]);
            Err(format!(
                "invalid JSON at line {line} column {column}: {message}"
            ))
        }
    }
}

/// The byte index just past serde_json's (1-based line, byte column) position.
fn byte_index(text: &str, line: usize, column: usize) -> usize {
    let line_start = if line <= 1 {
        0
    } else {
        text.match_indices('\n')
            .nth(line - 2)
            .map_or(text.len(), |(at, _)| at + 1)
    };
    let mut at = (line_start + column).min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// serde_json's convention: the column counts the characters up to and including the
/// offending one, so that it is 1-based when one was consumed.
fn line_column(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |nl| nl + 1);
    (line, before[line_start..].chars().count())
}

/// The bodies of ```` ``` ```` fenced blocks with their byte offsets. The info string
/// (`json`, `JSON`, nothing) is skipped, unless the block is inline (```` ```{...}``` ````).
fn fenced_blocks(text: &str) -> Vec<(usize, &str)> {
    let mut blocks = Vec::new();
    let mut from = 0;
    while let Some(open) = text[from..].find("```").map(|at| from + at + 3) {
        let line_end = text[open..].find('\n').map_or(text.len(), |at| open + at);
        let info = &text[open..line_end];
        let body_start = if info.contains('{') {
            open
        } else {
            (line_end + 1).min(text.len())
        };
        let Some(close) = text[body_start..].find("```").map(|at| body_start + at) else {
            break;
        };
        blocks.push((body_start, &text[body_start..close]));
        from = close + 3;
    }
    blocks
}

/// The length of the balanced `{...}` span at the start of `text`, counting braces only
/// outside JSON strings; `None` when it never closes (a truncated answer).
fn balanced_end(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (at, byte) in text.bytes().enumerate() {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'{' => depth += 1,
            b'}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(at + 1);
                }
            }
            _ => {}
        }
    }
    None
}

// ---------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------

/// The ways `value` breaks `schema`, at most [`MAX_ERRORS`] of them plus a line counting
/// the rest; empty when it is valid. See the module header for the keywords checked.
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
fn resolve<'s>(root: &'s Value, reference: &str) -> Option<&'s Value> {
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

/// What a value is, for "got ..." messages: its type, and its content when short.
fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("boolean {b}"),
        Value::Number(n) => format!("number {n}"),
        Value::String(_) => format!("string {}", literal(value)),
        Value::Array(items) => format!("array of {}", plural(items.len(), "item")),
        Value::Object(_) => "object".into(),
    }
}

/// A value as compact JSON, cut short so that one long answer does not flood a message.
fn literal(value: &Value) -> String {
    const MAX_CHARS: usize = 60;
    let text = value.to_string();
    if text.chars().count() <= MAX_CHARS {
        return text;
    }
    let mut cut: String = text.chars().take(MAX_CHARS).collect();
    cut.push('…');
    cut
}

fn quoted(name: &str) -> String {
    Value::String(name.to_owned()).to_string()
}

fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// "a", "a or b", "a, b or c".
fn or_list(items: &[String]) -> String {
    match items {
        [] => "nothing".into(),
        [only] => only.clone(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

fn shorten(items: &[String], keep: usize) -> Vec<String> {
    let mut kept = items.iter().take(keep).cloned().collect::<Vec<_>>();
    if items.len() > keep {
        kept.push(format!("... ({} more)", items.len() - keep));
    }
    kept
}

// ---------------------------------------------------------------------------------------
// Checking the schemas themselves
// ---------------------------------------------------------------------------------------

/// Rejects a schema that cannot work: not an object, an unknown `type` name, a dangling,
/// non-local or cyclic `$ref`, or a keyword of the supported subset with a value of the
/// wrong shape. Ops call this in their tests, so a schema bug never reaches a run. All
/// problems are reported, separated by `; `, each at a `#/...` pointer into the schema.
pub fn check_schema(schema: &Value) -> Result<(), String> {
    if !schema.is_object() {
        return Err(format!(
            "a schema must be a JSON object, got {}",
            describe(schema)
        ));
    }
    let mut checker = SchemaChecker {
        root: schema,
        problems: Vec::new(),
    };
    checker.walk(schema, "#");
    if checker.problems.is_empty() {
        Ok(())
    } else {
        Err(checker.problems.join("; "))
    }
}

#[derive(Debug)]
struct SchemaChecker<'s> {
    root: &'s Value,
    problems: Vec<String>,
}

impl SchemaChecker<'_> {
    fn problem(&mut self, at: &str, message: impl std::fmt::Display) {
        self.problems.push(format!("{at}: {message}"));
    }

    fn walk(&mut self, schema: &Value, at: &str) {
        let schema = match schema {
            Value::Object(schema) => schema,
            Value::Bool(_) => return,
            other => {
                let message = format!(
                    "expected a schema (object or boolean), got {}",
                    describe(other)
                );
                return self.problem(at, message);
            }
        };
        if let Some(types) = schema.get("type") {
            self.check_type(types, at);
        }
        if let Some(reference) = schema.get("$ref") {
            self.check_ref(reference, at);
        }
        for keyword in ["properties", "$defs", "definitions"] {
            match schema.get(keyword) {
                None => {}
                Some(Value::Object(children)) => {
                    for (name, child) in children {
                        self.walk(child, &format!("{at}/{keyword}/{}", pointer_escape(name)));
                    }
                }
                Some(_) => self.problem(at, format!("`{keyword}` must be an object")),
            }
        }
        for keyword in ["additionalProperties", "items"] {
            if let Some(child) = schema.get(keyword) {
                self.walk(child, &format!("{at}/{keyword}"));
            }
        }
        match schema.get("anyOf") {
            None => {}
            Some(Value::Array(branches)) if !branches.is_empty() => {
                for (index, branch) in branches.iter().enumerate() {
                    self.walk(branch, &format!("{at}/anyOf/{index}"));
                }
            }
            Some(_) => self.problem(at, "`anyOf` must be a non-empty array of schemas"),
        }
        match schema.get("required") {
            None => {}
            Some(Value::Array(names)) if names.iter().all(Value::is_string) => {}
            Some(_) => self.problem(at, "`required` must be an array of property names"),
        }
        match schema.get("enum") {
            None => {}
            Some(Value::Array(options)) if !options.is_empty() => {}
            Some(_) => self.problem(at, "`enum` must be a non-empty array"),
        }
        for keyword in ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"] {
            if schema.get(keyword).is_some_and(|bound| !bound.is_number()) {
                self.problem(at, format!("`{keyword}` must be a number"));
            }
        }
        for keyword in ["minLength", "maxLength", "minItems", "maxItems"] {
            if schema.get(keyword).is_some_and(|n| n.as_u64().is_none()) {
                self.problem(at, format!("`{keyword}` must be a non-negative integer"));
            }
        }
    }

    fn check_type(&mut self, types: &Value, at: &str) {
        let names: Vec<&Value> = match types {
            Value::Array(names) if !names.is_empty() => names.iter().collect(),
            Value::String(_) => vec![types],
            _ => return self.problem(at, "`type` must be a type name or an array of them"),
        };
        for name in names {
            match name.as_str() {
                Some(known) if TYPE_NAMES.contains(&known) => {}
                _ => {
                    let expected = TYPE_NAMES.join(", ");
                    self.problem(
                        at,
                        format!("unknown type {name} (expected one of {expected})"),
                    );
                }
            }
        }
    }

    /// A `$ref` must resolve to a schema, and a chain of bare `$ref`s must end somewhere.
    fn check_ref(&mut self, reference: &Value, at: &str) {
        let Some(first) = reference.as_str() else {
            return self.problem(at, "`$ref` must be a string");
        };
        if !first.starts_with('#') {
            let message =
                format!("only local $refs (\"#/$defs/...\") are supported, got {reference}");
            return self.problem(at, message);
        }
        let mut seen = vec![first];
        let mut current = first;
        loop {
            let target = match resolve(self.root, current) {
                Some(target @ (Value::Object(_) | Value::Bool(_))) => target,
                Some(_) => {
                    return self
                        .problem(at, format!("$ref \"{current}\" does not point to a schema"))
                }
                None => return self.problem(at, format!("dangling $ref \"{current}\"")),
            };
            match target.get("$ref").and_then(Value::as_str) {
                Some(next) if seen.contains(&next) => {
                    return self.problem(at, format!("$ref cycle through \"{next}\""));
                }
                // A non-local `$ref` further down the chain is reported where it is written.
                Some(next) if next.starts_with('#') => {
                    seen.push(next);
                    current = next;
                }
                _ => return,
            }
        }
    }
}

/// JSON pointer escaping (RFC 6901), so that reported locations can be used as `$ref`s.
fn pointer_escape(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(schema: Value, value: Value) -> Vec<String> {
        check_schema(&schema).expect("test schemas are valid");
        validate(&schema, &value)
    }

    fn one_error(schema: Value, value: Value) -> String {
        let found = errors(schema, value);
        assert_eq!(found.len(), 1, "expected one error, got {found:?}");
        found.into_iter().next().unwrap()
    }

    fn judge_schema() -> Value {
        json!({
            "type": "object",
            "properties": {
                "verdict": { "type": "string", "enum": ["accept", "reject"] },
                "credibility": { "type": "number", "minimum": 0, "maximum": 1 },
                "scores": {
                    "type": "object",
                    "properties": { "clarity": { "type": "integer" } },
                    "required": ["clarity"],
                    "additionalProperties": false,
                },
            },
            "required": ["verdict", "credibility", "scores"],
            "additionalProperties": false,
        })
    }

    // --- validate: types ---

    #[test]
    fn a_valid_answer_has_no_errors() {
        let answer = json!({"verdict": "accept", "credibility": 0.5, "scores": {"clarity": 7}});
        assert_eq!(errors(judge_schema(), answer), Vec::<String>::new());
    }

    #[test]
    fn type_mismatch_names_the_expected_and_the_actual_type() {
        let answer = json!({"verdict": "accept", "credibility": 0.5, "scores": {"clarity": "7"}});
        assert_eq!(
            one_error(judge_schema(), answer),
            r#"$.scores.clarity: expected integer, got string "7""#
        );
    }

    #[test]
    fn each_type_name_accepts_only_its_values() {
        let samples = [
            json!("s"),
            json!(1.5),
            json!(3),
            json!(true),
            json!({}),
            json!([]),
            json!(null),
        ];
        let accepts = |name: &str| -> Vec<bool> {
            samples
                .iter()
                .map(|sample| validate(&json!({ "type": name }), sample).is_empty())
                .collect()
        };
        let f = false;
        assert_eq!(accepts("string"), [true, f, f, f, f, f, f]);
        assert_eq!(accepts("number"), [f, true, true, f, f, f, f]);
        assert_eq!(accepts("integer"), [f, f, true, f, f, f, f]);
        assert_eq!(accepts("boolean"), [f, f, f, true, f, f, f]);
        assert_eq!(accepts("object"), [f, f, f, f, true, f, f]);
        assert_eq!(accepts("array"), [f, f, f, f, f, true, f]);
        assert_eq!(accepts("null"), [f, f, f, f, f, f, true]);
    }

    #[test]
    fn integer_accepts_a_float_with_zero_fraction_but_not_a_fraction() {
        let schema = json!({ "type": "integer" });
        assert!(validate(&schema, &json!(7.0)).is_empty());
        assert!(validate(&schema, &json!(-3)).is_empty());
        assert_eq!(
            validate(&schema, &json!(7.5)),
            ["$: expected integer, got number 7.5"]
        );
    }

    #[test]
    fn a_type_array_accepts_any_of_its_types() {
        let schema = json!({ "type": ["string", "integer", "null"] });
        assert!(validate(&schema, &json!(null)).is_empty());
        assert!(validate(&schema, &json!(4)).is_empty());
        assert_eq!(
            validate(&schema, &json!([1])),
            ["$: expected string, integer or null, got array of 1 item"]
        );
    }

    #[test]
    fn a_type_error_hides_the_other_keywords_of_that_schema() {
        let schema = json!({ "type": "string", "minLength": 3, "enum": ["abc"] });
        assert_eq!(
            validate(&schema, &json!(12)),
            ["$: expected string, got number 12"]
        );
    }

    // --- validate: objects ---

    #[test]
    fn missing_required_properties_are_each_reported() {
        let found = errors(judge_schema(), json!({"credibility": 0.1}));
        assert_eq!(
            found,
            [
                r#"$: missing required property "verdict""#,
                r#"$: missing required property "scores""#,
            ]
        );
    }

    #[test]
    fn additional_properties_false_names_the_allowed_ones() {
        let schema = json!({
            "type": "object",
            "properties": { "a": {}, "b": {} },
            "additionalProperties": false,
        });
        assert_eq!(
            one_error(schema, json!({"a": 1, "c": 2})),
            r#"$: unexpected property "c" (allowed: "a", "b")"#
        );
    }

    #[test]
    fn additional_properties_schema_checks_the_undeclared_ones() {
        let schema = json!({
            "type": "object",
            "properties": { "name": { "type": "string" } },
            "additionalProperties": { "type": "number" },
        });
        assert_eq!(
            one_error(
                schema,
                json!({"name": "x", "weight": 2, "odd key": "heavy"})
            ),
            r#"$["odd key"]: expected number, got string "heavy""#
        );
    }

    #[test]
    fn undeclared_properties_are_allowed_without_additional_properties() {
        let schema = json!({ "type": "object", "properties": { "a": {} } });
        assert!(validate(&schema, &json!({"a": 1, "z": 2})).is_empty());
    }

    #[test]
    fn errors_deep_in_objects_and_arrays_have_full_paths() {
        let schema = json!({
            "type": "object",
            "properties": {
                "claims": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": { "support": { "type": "number", "maximum": 1 } },
                    },
                },
            },
        });
        let answer = json!({"claims": [{"support": 0.5}, {"support": 3}]});
        assert_eq!(
            one_error(schema, answer),
            "$.claims[1].support: 3 is above the maximum 1"
        );
    }

    // --- validate: scalars ---

    #[test]
    fn number_bounds_are_inclusive_and_exclusive_as_named() {
        let schema = json!({ "minimum": 0, "maximum": 1 });
        assert!(validate(&schema, &json!(0)).is_empty());
        assert!(validate(&schema, &json!(1.0)).is_empty());
        assert_eq!(
            validate(&schema, &json!(1.4)),
            ["$: 1.4 is above the maximum 1"]
        );
        assert_eq!(
            validate(&schema, &json!(-2)),
            ["$: -2 is below the minimum 0"]
        );
        let exclusive = json!({ "exclusiveMinimum": 0, "exclusiveMaximum": 10 });
        assert!(validate(&exclusive, &json!(0.001)).is_empty());
        assert_eq!(
            validate(&exclusive, &json!(0)),
            ["$: 0 is not greater than the exclusive minimum 0"]
        );
        assert_eq!(
            validate(&exclusive, &json!(10)),
            ["$: 10 is not less than the exclusive maximum 10"]
        );
    }

    #[test]
    fn bounds_ignore_values_of_other_types() {
        let schema = json!({ "minimum": 5, "minLength": 3, "minItems": 2 });
        assert!(validate(&schema, &json!(true)).is_empty());
        assert!(validate(&schema, &json!({})).is_empty());
    }

    #[test]
    fn string_lengths_count_characters_not_bytes() {
        let schema = json!({ "type": "string", "minLength": 2, "maxLength": 3 });
        assert!(validate(&schema, &json!("日本語")).is_empty());
        assert_eq!(
            validate(&schema, &json!("é")),
            ["$: string of 1 character is shorter than the minimum length 2"]
        );
        assert_eq!(
            validate(&schema, &json!("abcd")),
            ["$: string of 4 characters is longer than the maximum length 3"]
        );
    }

    #[test]
    fn enum_lists_the_allowed_values() {
        let answer = json!({"verdict": "maybe", "credibility": 0.5, "scores": {"clarity": 1}});
        assert_eq!(
            one_error(judge_schema(), answer),
            r#"$.verdict: "maybe" is not one of "accept", "reject""#
        );
    }

    #[test]
    fn enum_and_const_compare_numbers_by_value() {
        assert!(validate(&json!({ "enum": [1, 2] }), &json!(2.0)).is_empty());
        assert!(validate(&json!({ "const": 3.0 }), &json!(3)).is_empty());
        assert!(validate(&json!({ "const": {"a": [1]} }), &json!({"a": [1.0]})).is_empty());
    }

    #[test]
    fn const_shows_the_expected_and_actual_values() {
        assert_eq!(
            validate(&json!({ "const": "review" }), &json!("judge")),
            [r#"$: expected "review", got "judge""#]
        );
    }

    #[test]
    fn long_values_are_cut_short_in_messages() {
        let long = "x".repeat(500);
        let found = validate(&json!({ "type": "number" }), &json!(long));
        assert_eq!(found.len(), 1);
        assert!(found[0].ends_with("xxx…"), "{}", found[0]);
        assert!(found[0].len() < 100, "{}", found[0]);
    }

    // --- validate: arrays ---

    #[test]
    fn array_length_bounds() {
        let schema = json!({ "type": "array", "minItems": 2, "maxItems": 3 });
        assert!(validate(&schema, &json!([1, 2])).is_empty());
        assert_eq!(
            validate(&schema, &json!([1])),
            ["$: array has 1 item, fewer than the minimum 2"]
        );
        assert_eq!(
            validate(&schema, &json!([1, 2, 3, 4])),
            ["$: array has 4 items, more than the maximum 3"]
        );
    }

    #[test]
    fn items_checks_every_element() {
        let schema = json!({ "type": "array", "items": { "type": "string" } });
        assert_eq!(
            validate(&schema, &json!(["a", 1, "b", null])),
            [
                "$[1]: expected string, got number 1",
                "$[3]: expected string, got null",
            ]
        );
    }

    #[test]
    fn boolean_schemas_allow_everything_or_nothing() {
        let schema = json!({ "type": "array", "items": false });
        assert!(validate(&schema, &json!([])).is_empty());
        assert_eq!(
            validate(&schema, &json!([1])),
            ["$[0]: no value is allowed here"]
        );
        assert!(validate(&json!({ "items": true }), &json!([1, "a"])).is_empty());
    }

    // --- validate: anyOf and $ref ---

    #[test]
    fn any_of_accepts_a_value_matching_one_branch() {
        let schema = json!({ "anyOf": [{ "type": "string" }, { "type": "null" }] });
        assert!(validate(&schema, &json!("x")).is_empty());
        assert!(validate(&schema, &json!(null)).is_empty());
    }

    #[test]
    fn any_of_with_no_fitting_type_lists_the_types() {
        let schema = json!({ "anyOf": [{ "type": "string" }, { "type": "null" }] });
        assert_eq!(
            validate(&schema, &json!(3)),
            ["$: expected string or null, got number 3"]
        );
    }

    #[test]
    fn any_of_reports_the_errors_of_the_branch_whose_type_fits() {
        let schema = json!({
            "anyOf": [
                { "type": "null" },
                { "type": "object", "properties": { "n": { "maximum": 5 } } },
            ],
        });
        assert_eq!(
            validate(&schema, &json!({"n": 9})),
            ["$.n: 9 is above the maximum 5"]
        );
    }

    #[test]
    fn any_of_reports_the_closest_of_several_fitting_branches() {
        let tagged = |kind: &str, field: &str| {
            json!({
                "type": "object",
                "properties": { "kind": { "const": kind }, field: { "type": "string" } },
                "required": ["kind", field],
            })
        };
        let schema = json!({ "anyOf": [tagged("quote", "text"), tagged("link", "url")] });
        assert!(validate(&schema, &json!({"kind": "link", "url": "u"})).is_empty());
        assert_eq!(
            validate(&schema, &json!({"kind": "link", "url": 4})),
            ["$.url: expected string, got number 4"]
        );
    }

    #[test]
    fn refs_to_defs_and_definitions_are_followed() {
        let schema = json!({
            "type": "object",
            "properties": {
                "a": { "$ref": "#/$defs/score" },
                "b": { "$ref": "#/definitions/label" },
            },
            "$defs": { "score": { "type": "integer", "minimum": 1 } },
            "definitions": { "label": { "enum": ["x"] } },
        });
        assert!(errors(schema.clone(), json!({"a": 2, "b": "x"})).is_empty());
        assert_eq!(
            errors(schema, json!({"a": 0, "b": "y"})),
            [
                "$.a: 0 is below the minimum 1",
                r#"$.b: "y" is not one of "x""#
            ]
        );
    }

    #[test]
    fn recursive_refs_validate_nested_values() {
        let schema = json!({
            "$ref": "#/$defs/node",
            "$defs": {
                "node": {
                    "type": "object",
                    "properties": {
                        "value": { "type": "integer" },
                        "children": { "type": "array", "items": { "$ref": "#/$defs/node" } },
                    },
                    "required": ["value"],
                },
            },
        });
        let tree = json!({"value": 1, "children": [{"value": 2, "children": [{"value": "3"}]}]});
        assert_eq!(
            errors(schema, tree),
            [r#"$.children[0].children[0].value: expected integer, got string "3""#]
        );
    }

    #[test]
    fn a_ref_cycle_through_any_of_ends_in_an_error_not_a_hang() {
        let schema = json!({ "anyOf": [{ "$ref": "#" }] });
        let found = validate(&schema, &json!(1));
        assert_eq!(found, [r##"$: $ref cycle through "#""##]);
    }

    #[test]
    fn a_dangling_ref_is_an_error_at_validation_too() {
        let found = validate(&json!({ "$ref": "#/$defs/missing" }), &json!(1));
        assert_eq!(found, [r##"$: unresolvable $ref "#/$defs/missing""##]);
    }

    // --- validate: the cap and ignored keywords ---

    #[test]
    fn errors_beyond_the_cap_are_counted_in_one_line() {
        let schema = json!({ "type": "array", "items": { "type": "string" } });
        let found = validate(&schema, &json!(vec![0; MAX_ERRORS + 5]));
        assert_eq!(found.len(), MAX_ERRORS + 1);
        assert_eq!(found[0], "$[0]: expected string, got number 0");
        assert_eq!(found[MAX_ERRORS], "... and 5 more errors");
    }

    #[test]
    fn the_cap_applies_to_errors_coming_from_any_of_branches() {
        let items = json!({ "type": "array", "items": { "type": "string" } });
        let schema = json!({ "anyOf": [items, { "type": "null" }] });
        let found = validate(&schema, &json!(vec![0; MAX_ERRORS + 1]));
        assert_eq!(found.len(), MAX_ERRORS + 1);
        assert_eq!(found[MAX_ERRORS], "... and 1 more error");
    }

    #[test]
    fn annotations_and_unknown_keywords_are_ignored() {
        let schema = json!({
            "type": "string",
            "title": "t",
            "description": "d",
            "pattern": "^a$",
            "format": "email",
        });
        assert!(errors(schema, json!("zzz")).is_empty());
    }

    // --- parse_answer ---

    #[test]
    fn a_bare_object_is_the_answer() {
        let parsed = parse_answer("  {\"verdict\": \"accept\"}\n").unwrap();
        assert_eq!(parsed, json!({"verdict": "accept"}));
    }

    #[test]
    fn a_fenced_block_is_found_inside_prose() {
        let text = "Here is my review:\n```json\n{\"a\": [1, 2]}\n```\nHope it helps {:";
        assert_eq!(parse_answer(text).unwrap(), json!({"a": [1, 2]}));
        let bare_fence = "```\n{\"a\": 1}\n```";
        assert_eq!(parse_answer(bare_fence).unwrap(), json!({"a": 1}));
        let inline = "Answer: ```{\"a\": 2}```";
        assert_eq!(parse_answer(inline).unwrap(), json!({"a": 2}));
    }

    #[test]
    fn a_fence_without_json_falls_back_to_the_brace_span() {
        let text = "```python\nprint(1)\n```\nThe answer: {\"a\": 3}";
        assert_eq!(parse_answer(text).unwrap(), json!({"a": 3}));
    }

    #[test]
    fn the_first_balanced_span_is_found_inside_prose() {
        let text = "Sure! {\"a\": {\"b\": 1}} is what I think. {\"c\": 2}";
        assert_eq!(parse_answer(text).unwrap(), json!({"a": {"b": 1}}));
    }

    #[test]
    fn braces_and_quotes_inside_strings_do_not_end_the_span() {
        let text =
            r#"My verdict: {"reason": "the set {x} is \"closed}\" and \\", "ok": true} done"#;
        assert_eq!(
            parse_answer(text).unwrap(),
            json!({"reason": "the set {x} is \"closed}\" and \\", "ok": true})
        );
    }

    #[test]
    fn prose_braces_before_the_object_are_skipped() {
        let text = "Using {curly} notation, the answer is {\"a\": 1}";
        assert_eq!(parse_answer(text).unwrap(), json!({"a": 1}));
    }

    #[test]
    fn a_doubly_encoded_object_is_unwrapped() {
        let text = r#""{\"a\": 1}""#;
        assert_eq!(parse_answer(text).unwrap(), json!({"a": 1}));
    }

    #[test]
    fn an_answer_without_an_object_says_so() {
        assert_eq!(
            parse_answer("I accept this sample.").unwrap_err(),
            "no JSON object in the answer"
        );
        assert_eq!(parse_answer(" \n").unwrap_err(), "the answer is empty");
        assert_eq!(
            parse_answer("[1, 2]").unwrap_err(),
            "expected a JSON object, got array of 2 items"
        );
        assert_eq!(
            parse_answer("```json\n[1]\n```").unwrap_err(),
            "expected a JSON object, got array of 1 item"
        );
    }

    #[test]
    fn invalid_json_gives_the_position_in_the_whole_answer() {
        let text = "Here you go:\n{\n  \"a\": 1,\n  \"b\": oops\n}";
        assert_eq!(
            parse_answer(text).unwrap_err(),
            "invalid JSON at line 4 column 8: expected value"
        );
    }

    #[test]
    fn invalid_json_in_a_fence_gives_the_position_in_the_whole_answer() {
        let text = "```json\n{\"a\": 1,}\n```";
        assert_eq!(
            parse_answer(text).unwrap_err(),
            "invalid JSON at line 2 column 9: trailing comma"
        );
    }

    #[test]
    fn a_truncated_answer_is_reported_as_such() {
        let error = parse_answer("{\"a\": [1, 2").unwrap_err();
        assert!(
            error.starts_with("invalid JSON at line 1 column "),
            "{error}"
        );
        assert!(error.contains("EOF while parsing"), "{error}");
    }

    // --- check_schema ---

    #[test]
    fn the_judge_schema_is_accepted() {
        assert_eq!(check_schema(&judge_schema()), Ok(()));
    }

    #[test]
    fn a_schema_must_be_an_object() {
        assert_eq!(
            check_schema(&json!(true)).unwrap_err(),
            "a schema must be a JSON object, got boolean true"
        );
        assert_eq!(
            check_schema(&json!({ "properties": { "a": 3 } })).unwrap_err(),
            "#/properties/a: expected a schema (object or boolean), got number 3"
        );
    }

    #[test]
    fn unknown_type_names_are_rejected_with_their_location() {
        let schema = json!({
            "type": "object",
            "properties": { "n": { "type": ["int", "null"] }, "a/b": { "type": "float" } },
        });
        let error = check_schema(&schema).unwrap_err();
        assert!(
            error.starts_with(r#"#/properties/a~1b: unknown type "float" (expected one of string"#),
            "{error}"
        );
        assert!(
            error.contains(r#"; #/properties/n: unknown type "int""#),
            "{error}"
        );
        assert_eq!(
            check_schema(&json!({ "type": 3 })).unwrap_err(),
            "#: `type` must be a type name or an array of them"
        );
    }

    #[test]
    fn dangling_and_non_local_refs_are_rejected() {
        let schema = json!({
            "properties": {
                "a": { "$ref": "#/$defs/missing" },
                "b": { "$ref": "https://example.com/schema.json" },
                "c": { "$ref": "#/$defs/ok" },
            },
            "$defs": { "ok": { "type": "string" } },
        });
        assert_eq!(
            check_schema(&schema).unwrap_err(),
            concat!(
                r##"#/properties/a: dangling $ref "#/$defs/missing"; "##,
                r##"#/properties/b: only local $refs ("#/$defs/...") are supported, "##,
                r#"got "https://example.com/schema.json""#,
            )
        );
    }

    #[test]
    fn ref_cycles_and_refs_to_non_schemas_are_rejected() {
        let cycle = json!({
            "$ref": "#/$defs/a",
            "$defs": { "a": { "$ref": "#/$defs/b" }, "b": { "$ref": "#/$defs/a" } },
        });
        let error = check_schema(&cycle).unwrap_err();
        assert!(
            error.starts_with(r##"#: $ref cycle through "#/$defs/a""##),
            "{error}"
        );
        let to_array = json!({ "$ref": "#/required", "required": ["a"] });
        assert_eq!(
            check_schema(&to_array).unwrap_err(),
            r##"#: $ref "#/required" does not point to a schema"##
        );
    }

    #[test]
    fn malformed_keyword_values_are_rejected() {
        let schema = json!({
            "required": "verdict",
            "enum": [],
            "anyOf": [],
            "minimum": "0",
            "exclusiveMinimum": true,
            "maxLength": -1,
        });
        assert_eq!(
            check_schema(&schema).unwrap_err(),
            [
                "#: `anyOf` must be a non-empty array of schemas",
                "#: `required` must be an array of property names",
                "#: `enum` must be a non-empty array",
                "#: `minimum` must be a number",
                "#: `exclusiveMinimum` must be a number",
                "#: `maxLength` must be a non-negative integer",
            ]
            .join("; ")
        );
    }

    #[test]
    fn nested_schemas_in_items_any_of_and_defs_are_checked() {
        let schema = json!({
            "items": { "type": "strin" },
            "anyOf": [{ "type": "null" }, { "additionalProperties": { "type": "nul" } }],
            "definitions": { "d": { "type": "bool" } },
        });
        let error = check_schema(&schema).unwrap_err();
        for at in [
            "#/items:",
            "#/anyOf/1/additionalProperties:",
            "#/definitions/d:",
        ] {
            assert!(error.contains(at), "{at} missing from {error}");
        }
    }

    // --- response_format and repair_message ---

    #[test]
    fn response_format_is_the_openai_json_schema_body() {
        let schema = json!({ "type": "object" });
        assert_eq!(
            response_format("judge", &schema),
            json!({
                "type": "json_schema",
                "json_schema": { "name": "judge", "schema": schema, "strict": true },
            })
        );
    }

    #[test]
    fn response_format_names_are_made_acceptable_to_openai() {
        let name = |raw: &str| response_format(raw, &json!({}))["json_schema"]["name"].clone();
        assert_eq!(name("review step.v2"), "review_step_v2");
        assert_eq!(name(""), "answer");
        assert_eq!(name(&"n".repeat(100)).as_str().unwrap().len(), 64);
    }

    #[test]
    fn repair_message_lists_the_errors_and_the_compact_schema() {
        let schema = json!({ "type": "object", "required": ["verdict"] });
        let errors = vec![
            r#"$: missing required property "verdict""#.to_owned(),
            "$.x: expected integer, got number 1.5".to_owned(),
        ];
        assert_eq!(
            repair_message(&errors, &schema),
            concat!(
                "Your previous answer was not valid:\n",
                "- $: missing required property \"verdict\"\n",
                "- $.x: expected integer, got number 1.5\n",
                "\nReply with only a JSON object that follows this JSON schema, ",
                "with no other text:\n",
                r#"{"required":["verdict"],"type":"object"}"#,
            )
        );
        assert!(repair_message(&[], &schema).starts_with("Your previous answer was not valid.\n"));
    }
}
