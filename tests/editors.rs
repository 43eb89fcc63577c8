//! The editor support files under `editors/`: the VS Code manifest, language configuration
//! and TextMate grammar parse and hang together, every keyword of the pest grammar is
//! highlighted (TextMate and Vim), and `"""` auto-closes.
//!
//! The grammar's regexes are Oniguruma (lookbehind included), which no crate of this
//! workspace compiles; they are checked structurally instead: balanced groups and classes,
//! and no capture index beyond the groups a regex has.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn vscode() -> PathBuf {
    root().join("editors/vscode")
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&read(path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn tm_grammar() -> Value {
    json(&vscode().join("syntaxes/dta.tmLanguage.json"))
}

/// The keywords of grammar.pest: the string of every `kw_* = @{ "word" ~ !ident_char }`.
fn pest_keywords() -> Vec<String> {
    let pest = read(&root().join("grammar/src/grammar.pest"));
    let keywords: Vec<String> = pest
        .lines()
        .filter(|line| line.trim_start().starts_with("kw_"))
        .map(|line| {
            let start = line.find('"').expect("a keyword rule holds a string") + 1;
            let len = line[start..].find('"').expect("the string is closed");
            line[start..start + len].to_string()
        })
        .collect();
    assert!(
        keywords.len() >= 10,
        "too few keywords found in grammar.pest: {keywords:?}"
    );
    keywords
}

/// Every JSON object in `value`, depth first.
fn objects<'a>(value: &'a Value, out: &mut Vec<&'a serde_json::Map<String, Value>>) {
    match value {
        Value::Object(map) => {
            out.push(map);
            map.values().for_each(|v| objects(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| objects(v, out)),
        _ => {}
    }
}

/// The regexes of a TextMate grammar: every `match`, `begin` and `end`.
fn regexes(grammar: &Value) -> Vec<String> {
    let mut all = Vec::new();
    objects(grammar, &mut all);
    all.iter()
        .flat_map(|map| ["match", "begin", "end"].map(|k| map.get(k)))
        .flatten()
        .map(|v| v.as_str().expect("a regex is a string").to_string())
        .collect()
}

/// Checks the structure of an Oniguruma regex and returns its number of capturing groups.
fn capture_groups(regex: &str) -> Result<usize, String> {
    let chars: Vec<char> = regex.chars().collect();
    let mut depth = 0usize;
    let mut groups = 0usize;
    let mut in_class = false;
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' => {
                if i + 1 == chars.len() {
                    return Err("a trailing backslash".into());
                }
                i += 1;
            }
            ']' if in_class => in_class = false,
            '[' if !in_class => {
                in_class = true;
                // `[]...]` and `[^]...]` hold a literal `]`.
                if chars.get(i + 1) == Some(&'^') {
                    i += 1;
                }
                if chars.get(i + 1) == Some(&']') {
                    i += 1;
                }
            }
            '(' if !in_class => {
                depth += 1;
                if chars.get(i + 1) != Some(&'?') {
                    groups += 1;
                } else if chars.get(i + 2) == Some(&'<')
                    && !matches!(chars.get(i + 3), Some('=') | Some('!'))
                {
                    groups += 1; // (?<name>...)
                }
            }
            ')' if !in_class => {
                depth = depth
                    .checked_sub(1)
                    .ok_or_else(|| format!("an unopened `)` at {i}"))?;
            }
            _ => {}
        }
        i += 1;
    }
    if in_class {
        return Err("an unclosed `[`".into());
    }
    if depth != 0 {
        return Err(format!("{depth} unclosed `(`"));
    }
    Ok(groups)
}

#[test]
fn capture_group_checker_sees_through_classes_and_escapes() {
    assert_eq!(capture_groups(r"(a)(?:b)(?<=c)(?<n>d)"), Ok(2));
    assert_eq!(capture_groups(r"\((x)\)[()]"), Ok(1));
    assert_eq!(capture_groups(r"[^]()]"), Ok(0));
    assert!(capture_groups(r"(a").is_err());
    assert!(capture_groups(r"a)").is_err());
    assert!(capture_groups(r"[a").is_err());
}

#[test]
fn tm_grammar_is_well_formed() {
    let grammar = tm_grammar();
    assert_eq!(grammar["scopeName"], "source.dta");
    assert!(grammar["patterns"]
        .as_array()
        .is_some_and(|p| !p.is_empty()));
    let repository = grammar["repository"]
        .as_object()
        .expect("a repository of rules");

    let mut all = Vec::new();
    objects(&grammar, &mut all);
    let mut used = BTreeSet::new();
    for map in &all {
        if let Some(include) = map.get("include") {
            let include = include.as_str().expect("an include is a string");
            if include == "$self" || include == "$base" {
                continue;
            }
            let key = include
                .strip_prefix('#')
                .unwrap_or_else(|| panic!("include {include:?} is not local"));
            assert!(
                repository.contains_key(key),
                "include {include:?} names no repository rule"
            );
            used.insert(key.to_string());
        }
        // A rule is a match rule, a begin/end rule or a list of patterns; never half of one.
        assert_eq!(
            map.contains_key("begin"),
            map.contains_key("end"),
            "a begin without an end or the reverse: {map:?}"
        );
        // Scope names of rules and captures (the grammar's own `name` is its display name).
        let is_top = map.contains_key("scopeName");
        if let Some(name) = map.get("name").and_then(Value::as_str).filter(|_| !is_top) {
            assert!(
                name.split_whitespace().all(|scope| scope.ends_with(".dta")),
                "scope {name:?} does not end in .dta"
            );
        }
    }
    for key in repository.keys() {
        assert!(
            used.contains(key),
            "repository rule {key:?} is never included"
        );
    }

    // Every regex is balanced, and every capture index it names exists.
    for map in &all {
        for (regex_key, captures_key) in [
            ("match", "captures"),
            ("begin", "beginCaptures"),
            ("end", "endCaptures"),
            ("begin", "captures"),
        ] {
            let Some(regex) = map.get(regex_key).and_then(Value::as_str) else {
                continue;
            };
            let groups = capture_groups(regex).unwrap_or_else(|e| panic!("{regex:?}: {e}"));
            if let Some(captures) = map.get(captures_key).and_then(Value::as_object) {
                for index in captures.keys() {
                    let index: usize = index
                        .parse()
                        .unwrap_or_else(|_| panic!("capture key {index:?} is not a number"));
                    assert!(
                        index <= groups,
                        "{regex:?} has {groups} groups but {captures_key} names {index}"
                    );
                }
            }
        }
    }
}

/// Whether `word` occurs in `text` with no word character on either side.
fn has_word(text: &str, word: &str) -> bool {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    text.match_indices(word).any(|(at, _)| {
        !text[..at].ends_with(is_word) && !text[at + word.len()..].starts_with(is_word)
    })
}

#[test]
fn every_keyword_is_highlighted() {
    let regexes = regexes(&tm_grammar()).join("\n");
    let vim = read(&root().join("editors/vim/syntax/dta.vim"));
    for keyword in pest_keywords() {
        assert!(
            has_word(&regexes, &keyword),
            "keyword {keyword:?} is in no regex of dta.tmLanguage.json"
        );
        assert!(
            has_word(&vim, &keyword),
            "keyword {keyword:?} is not in editors/vim/syntax/dta.vim"
        );
    }
}

#[test]
fn tm_grammar_highlights_placeholders_inside_block_strings() {
    let grammar = tm_grammar();
    let block = &grammar["repository"]["block-string"];
    assert_eq!(block["begin"], r#"""""#);
    let includes: Vec<&str> = block["patterns"]
        .as_array()
        .expect("block strings have inner patterns")
        .iter()
        .filter_map(|p| p["include"].as_str())
        .collect();
    assert!(includes.contains(&"#placeholder"), "{includes:?}");
}

#[test]
fn vscode_manifest_hangs_together() {
    let manifest = json(&vscode().join("package.json"));
    let language = &manifest["contributes"]["languages"][0];
    assert_eq!(language["id"], "dta");
    assert!(language["extensions"]
        .as_array()
        .is_some_and(|e| e.contains(&Value::from(".dta"))));

    let configuration = language["configuration"].as_str().expect("a configuration");
    assert!(vscode().join(configuration).is_file(), "{configuration}");

    let grammar = &manifest["contributes"]["grammars"][0];
    assert_eq!(grammar["language"], "dta");
    assert_eq!(grammar["scopeName"], tm_grammar()["scopeName"]);
    let grammar_path = grammar["path"].as_str().expect("a grammar path");
    assert!(vscode().join(grammar_path).is_file(), "{grammar_path}");

    assert!(manifest["activationEvents"]
        .as_array()
        .is_some_and(|e| e.contains(&Value::from("onLanguage:dta"))));
    let main = manifest["main"].as_str().expect("a main script");
    assert!(vscode().join(main).is_file(), "{main}");
    assert!(manifest["dependencies"]["vscode-languageclient"].is_string());

    let path_setting = &manifest["contributes"]["configuration"]["properties"]["dtac.path"];
    assert_eq!(path_setting["type"], "string");
    assert_eq!(path_setting["default"], "dtac");

    // The client starts `<dtac.path> lsp`.
    let extension = read(&vscode().join(main));
    assert!(extension.contains("vscode-languageclient/node"));
    assert!(extension.contains("args: ['lsp']"));
    assert!(extension.contains("get('path'"));
}

#[test]
fn language_configuration_auto_closes_block_strings() {
    let config = json(&vscode().join("language-configuration.json"));
    assert_eq!(config["comments"]["lineComment"], "#");
    let pairs = config["autoClosingPairs"]
        .as_array()
        .expect("autoClosingPairs");
    let closes = |open: &str, close: &str| {
        pairs
            .iter()
            .any(|p| p["open"] == open && p["close"] == close)
    };
    assert!(closes(r#"""""#, r#"""""#), "no \"\"\" pair: {pairs:?}");
    for (open, close) in [("{", "}"), ("[", "]"), ("(", ")"), ("\"", "\"")] {
        assert!(closes(open, close), "no {open}{close} pair");
    }
    let brackets = config["brackets"].as_array().expect("brackets");
    assert!(brackets.contains(&serde_json::json!(["{", "}"])));
    assert!(config["surroundingPairs"]
        .as_array()
        .is_some_and(|p| !p.is_empty()));
}

#[test]
fn vim_files_detect_and_name_the_filetype() {
    let ftdetect = read(&root().join("editors/vim/ftdetect/dta.vim"));
    assert!(ftdetect.contains("*.dta") && ftdetect.contains("setfiletype dta"));
    let syntax = read(&root().join("editors/vim/syntax/dta.vim"));
    assert!(syntax.contains("let b:current_syntax = 'dta'"));
    // Every group the file highlights is defined (a typo in a `hi def link` is silent).
    for line in syntax.lines() {
        if let Some(rest) = line.strip_prefix("hi def link ") {
            let group = rest.split_whitespace().next().expect("a group");
            assert!(
                syntax.contains(&format!("syn match {group} "))
                    || syntax.contains(&format!("syn region {group} "))
                    || syntax.contains(&format!("syn keyword {group} "))
                    || syntax.contains(&format!("matchgroup={group} ")),
                "highlight group {group} is never defined"
            );
        }
    }
}
