//! Checking a call or block against a signature: inputs, settings, required settings,
//! and the signature's own lints.

use dtac_grammar::ast::{Call, ExprKind, Field, Span};

use super::deferred::Deferred;
use super::lint::FieldValues;
use super::Checker;
use crate::check_error::{hint, CheckError};
use crate::diagnostic::Diag;
use crate::signature::{Lint, Signature, Type};
use crate::suggest::did_you_mean;

impl Checker<'_> {
    /// The positional inputs of `call` against `sig.inputs`.
    pub(super) fn check_inputs(&mut self, sig: &'static Signature, call: &Call) {
        let args = call.args();
        let inputs = sig.inputs;
        let variadic = inputs.last().is_some_and(|i| i.variadic);
        let arity_ok = if variadic {
            args.len() >= inputs.len()
        } else {
            args.len() == inputs.len()
        };
        if !arity_ok {
            let names = sig.input_list();
            let expected = match (inputs.len(), variadic) {
                (0, _) => "no inputs".to_string(),
                (n, true) => format!("at least {n} input{}", plural(n)),
                (n, false) => format!("{n} input{}", plural(n)),
            };
            self.error(CheckError::WrongArity {
                op: sig.name.to_string(),
                expected,
                given: args.len(),
                span: call.args.as_ref().map_or(call.op.span, |a| a.span),
                help: if inputs.is_empty() {
                    format!("write `{}` without parentheses, or with `()`", sig.name)
                } else {
                    format!("call it as `{}({names})`", sig.name)
                },
            });
        }
        for (i, arg) in args.iter().enumerate() {
            let Some(spec) = inputs.get(i).or(inputs.last().filter(|l| l.variadic)) else {
                break;
            };
            self.check_value(spec.name, &spec.ty, arg, None);
            let ExprKind::Ref(path) = &arg.node else {
                continue;
            };
            let (Some(stage), Some(input)) = (self.current, self.graph.node(&path[0].node)) else {
                continue;
            };
            if path.len() > 1 {
                continue;
            }
            if i == 0 {
                self.first_inputs.insert(stage, input);
            }
            if !spec.needs.is_empty() {
                self.deferred.push(Deferred::Needs {
                    file: self.file,
                    op: sig.name,
                    input,
                    fields: spec.needs,
                    span: arg.span,
                });
            }
        }
    }

    /// The settings `fields` against `sig.settings`. `owner` names what is being
    /// configured ("op `generate`", "teacher `gpt`"); `anchor` is where a missing setting
    /// is reported.
    pub(super) fn check_settings(
        &mut self,
        owner: &str,
        sig: &'static Signature,
        fields: &[Field],
        anchor: Span,
    ) {
        self.check_unique(fields);
        for field in fields {
            let Some(spec) = sig.setting(&field.name.node) else {
                let names: Vec<&str> = sig.all_settings().map(|s| s.name).collect();
                let fallback = if names.is_empty() {
                    format!("{owner} takes no settings")
                } else {
                    format!("{owner} takes: {}", names.join(", "))
                };
                self.error(CheckError::UnknownSetting {
                    name: field.name.node.clone(),
                    owner: owner.to_string(),
                    span: field.name.span,
                    help: hint(
                        &did_you_mean(&field.name.node, names.iter().copied()),
                        &fallback,
                    ),
                });
                continue;
            };
            self.check_value(spec.name, &spec.ty, &field.value, Some(spec));
        }
        for spec in sig.settings.iter().filter(|s| s.required) {
            if !fields.iter().any(|f| f.name.node == spec.name) {
                let example = match spec.ty {
                    Type::List(_) => "[...]",
                    Type::Str | Type::Prompt => "\"...\"",
                    _ => "...",
                };
                self.error(CheckError::MissingSetting {
                    name: spec.name.to_string(),
                    owner: owner.to_string(),
                    span: anchor,
                    help: format!(
                        "add `{} = {example}`: {}",
                        spec.name,
                        first_sentence(spec.doc)
                    ),
                });
            }
        }
        let values = FieldValues {
            fields,
            params: &self.params,
            file: self.file,
            program: self.program,
            symbols: &self.symbols,
        };
        let span_of = |l: &Lint| {
            l.setting
                .and_then(|s| fields.iter().find(|f| f.name.node == s))
                .map_or(anchor, |f| f.span)
        };
        let mut found = Vec::new();
        for l in sig.lint.map(|lint| lint(&values)).unwrap_or_default() {
            let span = span_of(&l);
            found.push(CheckError::Suspicious {
                message: l.message,
                span,
                help: l.help,
            });
        }
        let resources = sig.resources.filter(|_| self.options.resources);
        for l in resources.map(|check| check(&values)).unwrap_or_default() {
            let span = span_of(&l);
            found.push(CheckError::BadResource {
                message: l.message,
                span,
                help: l.help,
            });
        }
        for error in found {
            self.diags.push(Diag::new(Some(self.file), error));
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn first_sentence(doc: &str) -> &str {
    let doc = doc.trim();
    doc.split_once(". ")
        .map_or(doc, |(s, _)| s)
        .trim_end_matches('.')
}
