//! The pest parser generated from grammar.pest. Its `Rule` and `Pair` types stay inside
//! this crate: everything outside sees the AST and `SyntaxError` only.

#[derive(pest_derive::Parser)]
#[grammar = "grammar.pest"]
pub(crate) struct DtaParser;
