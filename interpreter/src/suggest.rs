//! "Did you mean" suggestions for misspelt names.

/// The candidate closest to `name`, if one is close enough to be a plausible typo:
/// within a third of the name's length in edits (at least one), or differing only in case.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .filter(|c| *c != name)
        .map(|c| {
            let distance = if c.eq_ignore_ascii_case(name) {
                0
            } else {
                strsim::damerau_levenshtein(name, c)
            };
            (distance, c)
        })
        .filter(|&(d, _)| d <= limit)
        .min()
        .map(|(_, c)| c.to_string())
}

#[cfg(test)]
mod tests {
    use super::did_you_mean;

    #[test]
    fn suggests_close_names_only() {
        let names = ["gpt", "qwen", "generate", "peer_review"];
        assert_eq!(did_you_mean("gtp", names).as_deref(), Some("gpt"));
        assert_eq!(did_you_mean("generat", names).as_deref(), Some("generate"));
        assert_eq!(
            did_you_mean("peer_reveiw", names).as_deref(),
            Some("peer_review")
        );
        assert_eq!(did_you_mean("xyzzy", names), None);
    }
}
