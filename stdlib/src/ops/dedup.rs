//! `dedup`: drop exact and near-duplicate records.

use dtac_interpreter::signature::{FieldSpec, InputSpec, Output, Signature, SignatureKind, Type};

pub const SIGNATURE: Signature = Signature {
    doc: DOC,
    inputs: &[InputSpec::records("records", "The records to deduplicate.")],
    settings: &[
        FieldSpec::optional(
            "field",
            Type::Str,
            "\"solution\"",
            "The field whose text is compared.",
        ),
        FieldSpec::optional(
            "method",
            Type::Enum(&["exact", "minhash"]),
            "\"minhash\"",
            "`exact`: equal after normalization (a hash); `minhash`: estimated Jaccard \
             similarity of word n-gram sets at least `threshold` (MinHash LSH).",
        ),
        FieldSpec::optional(
            "threshold",
            Type::Float,
            "0.85",
            "The Jaccard similarity from which two texts are near-duplicates (minhash).",
        ),
        FieldSpec::optional("shingle", Type::Int, "5", "Words per shingle (minhash)."),
        FieldSpec::optional(
            "permutations",
            Type::Int,
            "128",
            "MinHash signature length; bands and rows are chosen for `threshold`.",
        ),
        FieldSpec::optional(
            "scope",
            Type::Enum(&["all", "problem"]),
            "\"all\"",
            "`all` compares every record with every other; `problem` only candidates of the \
             same `id`.",
        ),
        FieldSpec::optional(
            "seed",
            Type::Int,
            "0",
            "The seed of the MinHash permutations.",
        ),
    ],
    // Records leave unchanged: a kept record streams on before its duplicates arrive.
    output: Output::Extends(&[]),
    ..Signature::new(
        "dedup",
        SignatureKind::Transform,
        "Drop exact or near-duplicate records (normalized hash or MinHash LSH)",
    )
};

const DOC: &str = r#"Removes duplicates, keeping the first record of each cluster in input order
(deterministic). Normalization as in `decontaminate` (case, punctuation, whitespace).

- `exact`: a 64-bit hash of the normalized text.
- `minhash` [related]: MinHash signatures over `shingle`-word shingles, banded LSH to
  find candidate pairs, then the signature's Jaccard estimate against `threshold`.

Records pass through unchanged, as soon as they are known to be first of their kind.
Dropped records appear in the run report with the record they duplicate.

```dta
stage unique: dedup(candidates) { method = "minhash", threshold = 0.9, scope = "problem" }
```
"#;
