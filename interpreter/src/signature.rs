//! Signatures: what an op, a teacher or student block, an objective or an export format
//! accepts and produces.
//!
//! The checker knows nothing about any particular op: it reads these declarations, which
//! live in the stdlib next to each op's docs and implementation. Everything is `'static`
//! so an op declares its signature as one `const`.

/// The type of a setting, an op input or a record field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Type {
    Int,
    /// A number; integers are accepted.
    Float,
    Bool,
    Str,
    /// `30s`, `500ms`, `2h`.
    Duration,
    /// A value that must come from the environment: only `env("NAME")` is accepted, so a key
    /// is never written into a recipe (and so never hashed, stored or printed).
    Secret,
    /// One of these strings.
    Enum(&'static [&'static str]),
    List(&'static Type),
    /// A record with these keys (each with its own type; `required` keys must be present).
    Record(&'static [FieldSpec]),
    /// A record with any keys, all values of one type (`weights = { reward = 0.6 }`).
    Map(&'static Type),
    /// A record schema literal: `{ id: str, question: str }`.
    Schema,
    Teacher,
    Student,
    /// A teacher or a student: anything that can produce text or log-probabilities.
    Model,
    /// A `prompt` declaration, or an inline string template.
    Prompt,
    /// An `objective` declaration, or the name of a built-in objective (defaults).
    Objective,
    /// Records: a dataset or a stage. Creates a dependency.
    Records,
    /// One field of records: `train.answer`. Creates a dependency.
    FieldRef,
    /// Anything (only for record fields whose shape depends on the data).
    Any,
}

impl Type {
    /// The type in words, for diagnostics and docs ("an integer", "a list of teachers").
    pub fn describe(&self) -> String {
        match self {
            Type::Int => "an integer".into(),
            Type::Float => "a number".into(),
            Type::Bool => "`true` or `false`".into(),
            Type::Str => "a string".into(),
            Type::Duration => "a duration (`30s`, `500ms`, `2h`)".into(),
            Type::Secret => "an environment variable (`env(\"NAME\")`)".into(),
            Type::Enum(options) => format!(
                "one of {}",
                options
                    .iter()
                    .map(|o| format!("\"{o}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Type::List(inner) => format!("a list of {}", plural(inner)),
            Type::Record(_) => "a record (`{ key = value }`)".into(),
            Type::Map(inner) => format!("a record of {}", plural(inner)),
            Type::Schema => "a schema (`{ field: type }`)".into(),
            Type::Teacher => "a teacher".into(),
            Type::Student => "a student".into(),
            Type::Model => "a teacher or a student".into(),
            Type::Prompt => "a prompt (a `prompt` name or a string)".into(),
            Type::Objective => "an objective".into(),
            Type::Records => "a dataset or a stage".into(),
            Type::FieldRef => "a field of a dataset or stage (`train.answer`)".into(),
            Type::Any => "any value".into(),
        }
    }

    /// Short form for signatures in docs: `int`, `list[teacher]`.
    pub fn short(&self) -> String {
        match self {
            Type::Int => "int".into(),
            Type::Float => "float".into(),
            Type::Bool => "bool".into(),
            Type::Str => "str".into(),
            Type::Duration => "duration".into(),
            Type::Secret => "secret".into(),
            Type::Enum(options) => options
                .iter()
                .map(|o| format!("\"{o}\""))
                .collect::<Vec<_>>()
                .join(" | "),
            Type::List(inner) => format!("list[{}]", inner.short()),
            Type::Record(fields) => format!(
                "{{ {} }}",
                fields
                    .iter()
                    .map(|f| format!("{}: {}", f.name, f.ty.short()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Type::Map(inner) => format!("{{ _: {} }}", inner.short()),
            Type::Schema => "schema".into(),
            Type::Teacher => "teacher".into(),
            Type::Student => "student".into(),
            Type::Model => "teacher | student".into(),
            Type::Prompt => "prompt".into(),
            Type::Objective => "objective".into(),
            Type::Records => "records".into(),
            Type::FieldRef => "field".into(),
            Type::Any => "any".into(),
        }
    }
}

fn plural(t: &Type) -> String {
    match t {
        Type::Teacher => "teachers".into(),
        Type::Student => "students".into(),
        Type::Str => "strings".into(),
        Type::Int => "integers".into(),
        Type::Float => "numbers".into(),
        Type::Records => "datasets or stages".into(),
        other => format!("values of type `{}`", other.short()),
    }
}

/// A named, typed slot: a setting of an op, a key of a record type, a field of records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldSpec {
    pub name: &'static str,
    pub ty: Type,
    /// Required settings have no default.
    pub required: bool,
    /// The default as it would be written in a recipe, for docs ("4", "\"mean\"").
    pub default: Option<&'static str>,
    pub doc: &'static str,
    /// For `Prompt` settings: names the op itself provides to the template besides the
    /// fields of the incoming records (`{{candidate}}` in a review prompt).
    pub template_vars: &'static [&'static str],
    /// Changes how a stage runs, never what it produces (limits, error policy): left out of
    /// cache keys, so tuning it invalidates nothing.
    pub operational: bool,
    /// A file the setting names (a recipe writes it relative to itself): made absolute when
    /// the recipe is resolved, and counted in cache keys by its content, not its path.
    pub file: bool,
}

impl FieldSpec {
    /// A setting that must be given.
    pub const fn required(name: &'static str, ty: Type, doc: &'static str) -> Self {
        FieldSpec {
            name,
            ty,
            required: true,
            default: None,
            doc,
            template_vars: &[],
            operational: false,
            file: false,
        }
    }

    /// A setting with a default.
    pub const fn optional(
        name: &'static str,
        ty: Type,
        default: &'static str,
        doc: &'static str,
    ) -> Self {
        FieldSpec {
            name,
            ty,
            required: false,
            default: Some(default),
            doc,
            template_vars: &[],
            operational: false,
            file: false,
        }
    }

    /// A setting that may be left out, with no default value (the op does without it).
    pub const fn maybe(name: &'static str, ty: Type, doc: &'static str) -> Self {
        FieldSpec {
            name,
            ty,
            required: false,
            default: None,
            doc,
            template_vars: &[],
            operational: false,
            file: false,
        }
    }

    /// A field of output records.
    pub const fn output(name: &'static str, ty: Type, doc: &'static str) -> Self {
        FieldSpec::maybe(name, ty, doc)
    }

    /// Marks a setting that does not change results (see [`FieldSpec::operational`]).
    pub const fn operational(mut self) -> Self {
        self.operational = true;
        self
    }

    /// Marks a setting that names a file (see [`FieldSpec::file`]).
    pub const fn file(mut self) -> Self {
        self.file = true;
        self
    }

    /// Adds template variables that the op provides to this prompt setting.
    pub const fn with_template_vars(mut self, vars: &'static [&'static str]) -> Self {
        self.template_vars = vars;
        self
    }
}

/// What a signature describes, which decides where it may be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignatureKind {
    /// Reads records from outside: used by `dataset NAME: op(...)`.
    Source,
    /// Turns records into records (or a model): used by `stage NAME: op(...)`.
    Transform,
    /// A distillation objective: used by `objective NAME: kind { ... }`.
    Objective,
    /// The settings of a `teacher` block.
    Teacher,
    /// The settings of a `student` block.
    Student,
    /// An output format: used by `export STAGE to "PATH" as FORMAT { ... }`.
    ExportFormat,
}

impl SignatureKind {
    pub fn describe(self) -> &'static str {
        match self {
            SignatureKind::Source => "a dataset source",
            SignatureKind::Transform => "a stage op",
            SignatureKind::Objective => "an objective",
            SignatureKind::Teacher => "a teacher block",
            SignatureKind::Student => "a student block",
            SignatureKind::ExportFormat => "an export format",
        }
    }
}

/// One positional argument of a call: an input stream for stage ops, a path for sources.
#[derive(Clone, Copy, Debug)]
pub struct InputSpec {
    pub name: &'static str,
    pub ty: Type,
    pub doc: &'static str,
    /// Accepts any number (at least one) of arguments of this type; only the last input.
    pub variadic: bool,
    /// Fields each incoming record must have (checked when the records' schema is known).
    pub needs: &'static [&'static str],
}

impl InputSpec {
    pub const fn records(name: &'static str, doc: &'static str) -> Self {
        InputSpec {
            name,
            ty: Type::Records,
            doc,
            variadic: false,
            needs: &[],
        }
    }

    pub const fn path(name: &'static str, doc: &'static str) -> Self {
        InputSpec {
            name,
            ty: Type::Str,
            doc,
            variadic: false,
            needs: &[],
        }
    }

    pub const fn variadic(mut self) -> Self {
        self.variadic = true;
        self
    }

    pub const fn needing(mut self, fields: &'static [&'static str]) -> Self {
        self.needs = fields;
        self
    }
}

/// The records a stage or dataset produces.
#[derive(Clone, Copy, Debug)]
pub enum Output {
    /// The records of the first input, with these fields added (or overwritten).
    Extends(&'static [FieldSpec]),
    /// New records with exactly these fields.
    Fixed(&'static [FieldSpec]),
    /// Records with the fields declared by the `schema` setting (sources).
    FromSchema,
    /// No records: the stage produces an artifact (a trained model, a report).
    Artifact(&'static str),
    /// Not applicable (teacher and student blocks, objectives, export formats).
    None,
}

/// A warning a signature raises about a combination of settings that is legal but almost
/// certainly not what the author meant (a renormalized top-1 KL is identically zero).
#[derive(Clone, Debug)]
pub struct Lint {
    /// The setting to point at; the call itself when `None`.
    pub setting: Option<&'static str>,
    pub message: String,
    pub help: String,
}

/// Literal setting values, as seen by a [`Signature::lint`] or [`Signature::resources`]
/// function.
pub trait LintValues {
    fn int(&self, name: &str) -> Option<i64>;
    fn float(&self, name: &str) -> Option<f64>;
    fn bool(&self, name: &str) -> Option<bool>;
    fn str(&self, name: &str) -> Option<String>;

    /// A string setting naming a file or directory, resolved against the directory of the
    /// recipe file that declares it (as the runtime resolves it). `None` when the setting
    /// is not a literal string.
    fn path(&self, _name: &str) -> Option<std::path::PathBuf> {
        None
    }

    /// The declaration a reference setting names (`student = small`): its kind and its
    /// own literal settings. A name with no declaration (a built-in objective used by
    /// name) gives that name as the kind and no settings. `None` for a literal.
    fn referenced(&self, _name: &str) -> Option<Referenced<'_>> {
        None
    }
}

/// A declaration reached through a reference setting, as lints see it.
pub struct Referenced<'a> {
    /// `teacher` or `student` for model blocks; the objective's kind (`top_k`) for an
    /// objective declaration.
    pub kind: String,
    pub values: Box<dyn LintValues + 'a>,
}

impl std::fmt::Debug for Referenced<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Referenced")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// Everything the checker, the docs and (later) the runtime know about one builtin.
#[derive(Clone, Copy, Debug)]
pub struct Signature {
    pub name: &'static str,
    pub kind: SignatureKind,
    /// One line, for listings and hover.
    pub summary: &'static str,
    /// Markdown; which method (METHODS.md section) it implements and how.
    pub doc: &'static str,
    pub inputs: &'static [InputSpec],
    pub settings: &'static [FieldSpec],
    pub output: Output,
    /// Stages that need all records of one group before emitting (per-problem voting)
    /// name the grouping key here; they stream group by group, not record by record.
    pub groups_by: Option<&'static str>,
    pub lint: Option<fn(&dyn LintValues) -> Vec<Lint>>,
    /// Checks of what the settings point at outside the recipe (a checkpoint directory, a
    /// tokenizer): each returned [`Lint`] is an **error**, since the run could not work.
    /// Run by `dtac check`, the language server and before `dtac run`; keep them cheap
    /// (headers, not weights) and cache what is slow.
    pub resources: Option<fn(&dyn LintValues) -> Vec<Lint>>,
}

impl Signature {
    /// A signature with no inputs, settings or output; fill in with struct update syntax.
    pub const fn new(name: &'static str, kind: SignatureKind, summary: &'static str) -> Self {
        Signature {
            name,
            kind,
            summary,
            doc: "",
            inputs: &[],
            settings: &[],
            output: Output::None,
            groups_by: None,
            lint: None,
            resources: None,
        }
    }

    /// The inputs as written in a call: `records`, or `parts...` for a variadic input.
    pub fn input_list(&self) -> String {
        self.inputs
            .iter()
            .map(|i| {
                if i.variadic {
                    format!("{}...", i.name)
                } else {
                    i.name.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// A setting by name: the signature's own, or one that every stage accepts.
    pub fn setting(&self, name: &str) -> Option<&'static FieldSpec> {
        self.all_settings().find(|s| s.name == name)
    }

    /// The signature's own settings, then those every stage op accepts
    /// ([`STAGE_SETTINGS`]).
    pub fn all_settings(&self) -> impl Iterator<Item = &'static FieldSpec> {
        let common: &'static [FieldSpec] = match self.kind {
            SignatureKind::Transform | SignatureKind::Source => STAGE_SETTINGS,
            _ => &[],
        };
        self.settings.iter().chain(common)
    }
}

/// Settings every stage and dataset accepts, whatever its op: the executor reads them.
pub const STAGE_SETTINGS: &[FieldSpec] = &[
    FieldSpec::optional(
        "on_error",
        Type::Enum(&["skip", "fail"]),
        "\"skip\"",
        "What a per-record failure (a refused request, an unparsable answer) does: `skip` \
         records it, drops the record and goes on; `fail` stops the run.",
    )
    .operational(),
    FieldSpec::optional(
        "max_error_rate",
        Type::Float,
        "0.05",
        "The run exits non-zero when this stage lost more than this fraction of its input \
         records to errors (with `on_error = \"skip\"`).",
    )
    .operational(),
    FieldSpec::optional(
        "concurrency",
        Type::Int,
        "64",
        "Records of this stage processed at once. Requests are also limited per endpoint by \
         the teacher's `max_concurrency`.",
    )
    .operational(),
];

impl Signature {
    /// Whether the stage must see every record of its input before emitting anything.
    pub fn is_barrier(&self) -> bool {
        self.groups_by.is_some()
    }
}
