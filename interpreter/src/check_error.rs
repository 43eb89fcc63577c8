//! Check diagnostics (`dta::check::*`): names, types, settings, templates, the DAG.
//!
//! Every variant has a primary label, and a help line that says how to fix it.
//! docs/diagnostics.md has one entry per code, with an example.

use dtac_grammar::Span;
use miette::Diagnostic;
use thiserror::Error;

/// Formats an optional "did you mean" for help lines.
pub fn hint(suggestion: &Option<String>, otherwise: &str) -> String {
    match suggestion {
        Some(s) => format!("did you mean `{s}`?"),
        None => otherwise.to_string(),
    }
}

#[derive(Debug, Error, Diagnostic)]
pub enum CheckError {
    #[error("unknown {what} `{name}`")]
    #[diagnostic(code(dta::check::unknown_name))]
    UnknownName {
        /// "teacher", "prompt", "dataset or stage", ...
        what: String,
        name: String,
        #[label("not declared")]
        span: Span,
        #[help]
        help: String,
    },

    #[error("unknown op `{name}`")]
    #[diagnostic(code(dta::check::unknown_op))]
    UnknownOp {
        name: String,
        #[label("no such op")]
        span: Span,
        #[help]
        help: String,
    },

    #[error("`{name}` is {actual}, not {expected}")]
    #[diagnostic(code(dta::check::wrong_kind))]
    WrongKind {
        name: String,
        actual: String,
        expected: String,
        #[label("{actual}")]
        span: Span,
        #[label("declared here")]
        declared: Option<Span>,
        #[help]
        help: String,
    },

    #[error("`{name}` is declared twice")]
    #[diagnostic(
        code(dta::check::duplicate_name),
        help("names share one namespace across teachers, students, datasets, prompts, stages, params and objectives; rename one of them")
    )]
    DuplicateName {
        name: String,
        #[label("declared again here")]
        span: Span,
        #[label("first declared here")]
        first: Option<Span>,
    },

    #[error("`{name}` was first declared in `{file}`")]
    #[diagnostic(code(dta::check::duplicate_name), severity(Advice))]
    FirstDeclared {
        name: String,
        file: String,
        #[label("first declared here")]
        span: Span,
    },

    #[error("unknown setting `{name}` for {owner}")]
    #[diagnostic(code(dta::check::unknown_setting))]
    UnknownSetting {
        name: String,
        owner: String,
        #[label("not a setting of {owner}")]
        span: Span,
        #[help]
        help: String,
    },

    #[error("`{name}` is set twice")]
    #[diagnostic(code(dta::check::duplicate_setting), help("remove one of them"))]
    DuplicateSetting {
        name: String,
        #[label("set again here")]
        span: Span,
        #[label("first set here")]
        first: Span,
    },

    #[error("{owner} needs `{name}`")]
    #[diagnostic(code(dta::check::missing_setting))]
    MissingSetting {
        name: String,
        owner: String,
        #[label("`{name}` is missing")]
        span: Span,
        #[help]
        help: String,
    },

    #[error("`{name}` expects {expected}, found {found}")]
    #[diagnostic(code(dta::check::wrong_type))]
    WrongType {
        name: String,
        expected: String,
        found: String,
        #[label("{found}")]
        span: Span,
        #[help]
        help: Option<String>,
    },

    #[error("`{op}` takes {expected}, given {given}")]
    #[diagnostic(code(dta::check::wrong_arity))]
    WrongArity {
        op: String,
        expected: String,
        given: usize,
        #[label("called here")]
        span: Span,
        #[help]
        help: String,
    },

    #[error("`{op}` is {actual}; {used_as}")]
    #[diagnostic(code(dta::check::wrong_op_kind))]
    WrongOpKind {
        op: String,
        actual: String,
        used_as: String,
        #[label("{actual}")]
        span: Span,
        #[help]
        help: String,
    },

    #[error("`{{{{{var}}}}}` is not a field of the records that reach `{stage}`")]
    #[diagnostic(code(dta::check::unbound_template_var))]
    UnboundTemplateVar {
        var: String,
        stage: String,
        #[label("not provided")]
        span: Span,
        #[label("prompt used here")]
        used: Option<Span>,
        #[help]
        help: String,
    },

    #[error("`{field}` is not a field of `{records}`")]
    #[diagnostic(code(dta::check::unknown_field))]
    UnknownField {
        field: String,
        records: String,
        #[label("no such field")]
        span: Span,
        #[help]
        help: String,
    },

    #[error("dependency cycle: {path}")]
    #[diagnostic(
        code(dta::check::cycle),
        help("a stage cannot depend on its own output; break the cycle by reading from an earlier stage")
    )]
    Cycle {
        path: String,
        #[label("this stage is part of the cycle")]
        span: Span,
    },

    #[error("{kind} `{name}` is never used")]
    #[diagnostic(code(dta::check::unused), severity(Warning))]
    Unused {
        kind: String,
        name: String,
        #[label("declared here")]
        span: Span,
        #[help]
        help: String,
    },

    #[error("environment variable `{var}` is not set")]
    #[diagnostic(code(dta::check::missing_env))]
    MissingEnv {
        var: String,
        #[label("read here")]
        span: Span,
        #[help]
        help: String,
    },

    #[error("`{name}` is a secret and must come from the environment")]
    #[diagnostic(
        code(dta::check::secret_literal),
        help("write `{name} = env(\"YOUR_VAR\")` and set the variable outside the recipe; a key in a recipe would be shared, hashed and logged with it")
    )]
    SecretLiteral {
        name: String,
        #[label("a literal value")]
        span: Span,
    },

    #[error("unsupported recipe version {version}")]
    #[diagnostic(
        code(dta::check::unsupported_version),
        help("this dtac understands `version = 1`; upgrade dtac to read newer recipes")
    )]
    UnsupportedVersion {
        version: u64,
        #[label("unsupported")]
        span: Span,
    },

    #[error("param `{name}` has no value")]
    #[diagnostic(code(dta::check::param_without_value))]
    ParamWithoutValue {
        name: String,
        #[label("no default")]
        span: Span,
        #[help]
        help: String,
    },

    #[error("unknown type `{name}`")]
    #[diagnostic(
        code(dta::check::unknown_type),
        help("types are str, int, float, bool, duration, list[T], and T? for optional fields")
    )]
    UnknownType {
        name: String,
        #[label("not a type")]
        span: Span,
    },

    #[error("`--set {name}=...` names no param of this recipe")]
    #[diagnostic(code(dta::check::unknown_override))]
    UnknownOverride {
        name: String,
        #[help]
        help: String,
    },

    #[error("`--set {name}={value}`: {reason}")]
    #[diagnostic(code(dta::check::bad_override))]
    BadOverride {
        name: String,
        value: String,
        reason: String,
        #[label("param declared here")]
        span: Span,
        #[help]
        help: String,
    },

    #[error("{message}")]
    #[diagnostic(code(dta::check::suspicious_setting), severity(Warning))]
    Suspicious {
        message: String,
        #[label("here")]
        span: Span,
        #[help]
        help: String,
    },

    /// What a setting points at outside the recipe cannot work (a checkpoint directory
    /// with no weights, a tokenizer that does not match).
    #[error("{message}")]
    #[diagnostic(code(dta::check::bad_resource))]
    BadResource {
        message: String,
        #[label("here")]
        span: Span,
        #[help]
        help: String,
    },

    /// A pointer into another file, attached to a diagnostic as related information.
    #[error("{message}")]
    #[diagnostic(code(dta::note), severity(Advice))]
    Note {
        message: String,
        #[label("here")]
        span: Span,
    },
}
