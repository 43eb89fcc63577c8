//! Checking the schemas themselves, so that a schema bug is found by an op's tests and
//! never reaches a run.

use serde_json::Value;

use super::describe::describe;
use super::validate::resolve;

const TYPE_NAMES: [&str; 7] = [
    "string", "number", "integer", "boolean", "object", "array", "null",
];

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
    use serde_json::json;

    use super::*;
    use crate::llm::schema::validate::tests::judge_schema;

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
}
