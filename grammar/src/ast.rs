//! The recipe AST: what a `.dta` file says, with a byte span on every node.
//!
//! This is the output of lowering (lower/) and the input of the formatter (format/) and of
//! the interpreter's resolver. Equality ignores spans and layout hints ([`Trivia`]), so
//! `parse(fmt(x)) == parse(x)` states exactly "formatting never changes meaning".

use std::time::Duration;

pub use crate::span::{Span, Spanned};

/// `PartialEq` comparing the listed fields only: the `span` of a node is where it was
/// written, not what it means. Every field but `span` must be listed.
macro_rules! eq_ignoring_span {
    ($($ty:ident { $($field:ident),* })*) => {
        $(impl PartialEq for $ty {
            fn eq(&self, other: &Self) -> bool {
                true $(&& self.$field == other.$field)*
            }
        })*
    };
}

eq_ignoring_span! {
    Version { value }
    Import { path }
    Param { name, ty, default }
    Decl { name, body }
    Binding { name, call }
    Call { op, args, block }
    Prompt { name, text, template }
    Export { stage, path, format, block }
    Block { fields, multiline }
    Field { name, value }
    TypeExpr { name, arg, optional }
    SchemaField { name, ty }
}

/// A name as written, with its span.
pub type Ident = Spanned<String>;

/// Information kept for the formatter and diagnostics only; never part of meaning, so it
/// always compares equal.
#[derive(Clone, Debug, Default)]
pub struct Trivia<T>(pub T);

impl<T> PartialEq for Trivia<T> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// One parsed `.dta` file.
#[derive(Clone, Debug, PartialEq)]
pub struct File {
    pub items: Vec<Item>,
    /// Every `#` comment, in source order; the formatter puts them back.
    pub comments: Trivia<Vec<Comment>>,
}

/// A `# ...` comment; `text` is everything after the `#`, trailing whitespace removed.
#[derive(Clone, Debug, PartialEq)]
pub struct Comment {
    pub span: Span,
    pub text: String,
}

/// A top-level declaration.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    Version(Version),
    Import(Import),
    Param(Param),
    Teacher(Decl),
    Student(Decl),
    Dataset(Binding),
    Prompt(Prompt),
    Stage(Binding),
    Objective(Binding),
    Export(Export),
}

impl Item {
    /// Span of the whole item, keyword to closing brace.
    pub fn span(&self) -> Span {
        match self {
            Item::Version(v) => v.span,
            Item::Import(i) => i.span,
            Item::Param(p) => p.span,
            Item::Teacher(d) | Item::Student(d) => d.span,
            Item::Dataset(b) | Item::Stage(b) | Item::Objective(b) => b.span,
            Item::Prompt(p) => p.span,
            Item::Export(e) => e.span,
        }
    }

    /// The name this item declares, if it declares one.
    pub fn name(&self) -> Option<&Ident> {
        match self {
            Item::Param(p) => Some(&p.name),
            Item::Teacher(d) | Item::Student(d) => Some(&d.name),
            Item::Dataset(b) | Item::Stage(b) | Item::Objective(b) => Some(&b.name),
            Item::Prompt(p) => Some(&p.name),
            Item::Version(_) | Item::Import(_) | Item::Export(_) => None,
        }
    }

    /// The keyword that starts the item.
    pub fn keyword(&self) -> &'static str {
        match self {
            Item::Version(_) => "version",
            Item::Import(_) => "import",
            Item::Param(_) => "param",
            Item::Teacher(_) => "teacher",
            Item::Student(_) => "student",
            Item::Dataset(_) => "dataset",
            Item::Prompt(_) => "prompt",
            Item::Stage(_) => "stage",
            Item::Objective(_) => "objective",
            Item::Export(_) => "export",
        }
    }
}

/// `version = 1`
#[derive(Clone, Debug)]
pub struct Version {
    pub value: Spanned<u64>,
    pub span: Span,
}

/// `import "lib/teachers.dta"`
#[derive(Clone, Debug)]
pub struct Import {
    pub path: Spanned<StrLit>,
    pub span: Span,
}

/// `param samples: int = 4`
#[derive(Clone, Debug)]
pub struct Param {
    pub name: Ident,
    pub ty: TypeExpr,
    pub default: Option<Expr>,
    pub span: Span,
}

/// `teacher gpt { ... }` and `student small { ... }`: a name and a block of settings.
#[derive(Clone, Debug)]
pub struct Decl {
    pub name: Ident,
    pub body: Block,
    pub span: Span,
}

/// `dataset NAME: call`, `stage NAME: call`, `objective NAME: call`.
#[derive(Clone, Debug)]
pub struct Binding {
    pub name: Ident,
    pub call: Call,
    pub span: Span,
}

/// `op(arg, ...) { param = value, ... }`; both the argument list and the block are optional.
#[derive(Clone, Debug)]
pub struct Call {
    pub op: Ident,
    pub args: Option<Spanned<Vec<Expr>>>,
    pub block: Option<Block>,
    pub span: Span,
}

impl Call {
    pub fn args(&self) -> &[Expr] {
        self.args.as_ref().map_or(&[], |a| a.node.as_slice())
    }

    pub fn fields(&self) -> &[Field] {
        self.block.as_ref().map_or(&[], |b| b.fields.as_slice())
    }
}

/// `prompt solve """ ... """`
#[derive(Clone, Debug)]
pub struct Prompt {
    pub name: Ident,
    pub text: Spanned<StrLit>,
    pub template: Template,
    pub span: Span,
}

/// `export ranked to "out/x.jsonl" as chat { ... }`
#[derive(Clone, Debug)]
pub struct Export {
    pub stage: Ident,
    pub path: Spanned<StrLit>,
    pub format: Ident,
    pub block: Option<Block>,
    pub span: Span,
}

impl Export {
    pub fn fields(&self) -> &[Field] {
        self.block.as_ref().map_or(&[], |b| b.fields.as_slice())
    }
}

/// `{ name = value, ... }` after a declaration or call.
#[derive(Clone, Debug)]
pub struct Block {
    pub fields: Vec<Field>,
    pub span: Span,
    /// Whether the source wrote it over several lines; the formatter keeps that choice.
    pub multiline: Trivia<bool>,
}

/// `name = value`
#[derive(Clone, Debug)]
pub struct Field {
    pub name: Ident,
    pub value: Expr,
    pub span: Span,
}

/// A type as written: `int`, `list[str]`, `str?`.
#[derive(Clone, Debug)]
pub struct TypeExpr {
    pub name: Ident,
    pub arg: Option<Box<TypeExpr>>,
    pub optional: bool,
    pub span: Span,
}

/// An expression with its span.
pub type Expr = Spanned<ExprKind>;

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Str(StrLit),
    Int(Number<i64>),
    Float(Number<f64>),
    Bool(bool),
    Duration(Number<Duration>),
    List(Vec<Expr>, Trivia<bool>),
    Record(Vec<Field>, Trivia<bool>),
    Schema(Vec<SchemaField>, Trivia<bool>),
    /// `name` or `name.field.subfield`
    Ref(Vec<Ident>),
    /// `env("NAME")` or `env("NAME", default)`; only the variable's name is ever stored.
    Env {
        var: Spanned<StrLit>,
        default: Option<Box<Expr>>,
    },
}

impl ExprKind {
    /// What kind of value this is, in words, for diagnostics ("a string", "a list").
    pub fn describe(&self) -> &'static str {
        match self {
            ExprKind::Str(_) => "a string",
            ExprKind::Int(_) => "an integer",
            ExprKind::Float(_) => "a number",
            ExprKind::Bool(_) => "a boolean",
            ExprKind::Duration(_) => "a duration",
            ExprKind::List(..) => "a list",
            ExprKind::Record(..) => "a record",
            ExprKind::Schema(..) => "a schema",
            ExprKind::Ref(_) => "a name",
            ExprKind::Env { .. } => "an environment variable",
        }
    }
}

/// A numeric literal: its value, and its spelling so the formatter keeps `1e-4` as written.
#[derive(Clone, Debug, PartialEq)]
pub struct Number<T> {
    pub value: T,
    pub lexeme: Trivia<String>,
}

/// `field: type` inside a schema literal.
#[derive(Clone, Debug)]
pub struct SchemaField {
    pub name: Ident,
    pub ty: TypeExpr,
    pub span: Span,
}

/// Which of the two string forms the source used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum StrKind {
    /// `"..."` with backslash escapes.
    #[default]
    Line,
    /// `"""` ... `"""`: raw text, common indentation stripped.
    Block,
}

/// A string literal's decoded value.
#[derive(Clone, Debug, PartialEq)]
pub struct StrLit {
    pub value: String,
    pub kind: Trivia<StrKind>,
    /// Maps byte offsets in `value` back to the source, for spans inside strings.
    pub map: Trivia<OffsetMap>,
}

impl StrLit {
    /// Source span of `value[range]`.
    pub fn source_span(&self, start: usize, end: usize) -> Span {
        let s = self.map.0.to_source(start);
        let e = self.map.0.to_source(end.max(start + 1) - 1) + 1;
        Span::new(s, e.max(s))
    }
}

/// Piecewise map from offsets in a decoded string to offsets in the source: each piece
/// `(value_start, source_start)` says that from `value_start` on, bytes correspond one to
/// one, until the next piece (escapes and stripped indentation start new pieces).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OffsetMap {
    pub pieces: Vec<(usize, usize)>,
}

impl OffsetMap {
    pub fn to_source(&self, value_offset: usize) -> usize {
        let i = self.pieces.partition_point(|&(v, _)| v <= value_offset);
        match i.checked_sub(1).map(|i| self.pieces[i]) {
            Some((v, s)) => s + (value_offset - v),
            None => self.pieces.first().map_or(value_offset, |&(_, s)| s),
        }
    }
}

/// A prompt template, split into literal text and `{{field}}` placeholders.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Template {
    pub segments: Vec<Segment>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Segment {
    Text(String),
    /// `{{name}}` or `{{name.sub}}`; the span covers the braces.
    Var(Spanned<Vec<String>>),
}

impl Template {
    /// The placeholders, in order of appearance.
    pub fn vars(&self) -> impl Iterator<Item = &Spanned<Vec<String>>> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Var(v) => Some(v),
            Segment::Text(_) => None,
        })
    }
}
