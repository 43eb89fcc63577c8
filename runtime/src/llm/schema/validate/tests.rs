//! The validator against schemas of every supported keyword.

use serde_json::json;

use super::*;
use crate::llm::schema::check_schema;

fn errors(schema: Value, value: Value) -> Vec<String> {
    check_schema(&schema).expect("test schemas are valid");
    validate(&schema, &value)
}

fn one_error(schema: Value, value: Value) -> String {
    let found = errors(schema, value);
    assert_eq!(found.len(), 1, "expected one error, got {found:?}");
    found.into_iter().next().unwrap()
}

pub(in crate::llm::schema) fn judge_schema() -> Value {
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
