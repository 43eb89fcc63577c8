//! Every builtin is documented: a one-line summary, a doc with a recipe example that
//! parses, and a doc string on every setting, input and output field.

use dtac_interpreter::signature::Output;

use super::{dta_examples, settings_deep};

#[test]
fn summaries_are_one_line_and_docs_are_written() {
    for sig in crate::all() {
        let s = sig.summary;
        assert!(!s.trim().is_empty(), "`{}` has no summary", sig.name);
        assert!(
            !s.contains('\n') && s.chars().count() <= 100,
            "`{}`: summary not one short line",
            sig.name
        );
        assert!(
            !s.ends_with('.'),
            "`{}`: summary ends with a period",
            sig.name
        );
        assert!(sig.doc.trim().len() > 80, "`{}` has no real doc", sig.name);
        for (path, spec) in settings_deep(sig) {
            assert!(
                !spec.doc.trim().is_empty(),
                "`{}`: setting `{path}` has no doc",
                sig.name
            );
        }
        for input in sig.inputs {
            assert!(
                !input.doc.trim().is_empty(),
                "`{}`: input `{}` has no doc",
                sig.name,
                input.name
            );
        }
        if let Output::Extends(fields) | Output::Fixed(fields) = sig.output {
            for f in fields {
                assert!(
                    !f.doc.trim().is_empty(),
                    "`{}`: output `{}` has no doc",
                    sig.name,
                    f.name
                );
            }
        }
    }
}

#[test]
fn every_doc_has_an_example_that_parses() {
    for sig in crate::all() {
        let examples = dta_examples(sig.doc);
        assert!(
            !examples.is_empty(),
            "`{}`: doc has no ```dta example",
            sig.name
        );
        for example in examples {
            if let Err(errors) = dtac_grammar::parse(&example) {
                panic!(
                    "`{}`: example does not parse: {errors:?}\n{example}",
                    sig.name
                );
            }
        }
    }
}
