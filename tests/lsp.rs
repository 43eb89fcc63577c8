//! `dtac lsp` spoken to as an editor would: JSON-RPC with Content-Length framing over the
//! server's stdin and stdout.

#[path = "support/lsp_client.rs"]
mod lsp_client;
mod support;

use lsp_client::Client;
use serde_json::{json, Value};
use support::TempDir;

const LIB: &str = "teacher gpt { model = \"gpt-4o\" }\n";

const MAIN: &str = r#"version = 1
import "lib.dta"

param samples: int = 4

dataset problems: jsonl("problems.jsonl") {
    schema = { id: str, question: str, answer: str }
}

prompt solve """
    Solve: {{question}}
    """

stage candidates: generate(problems) { teachers = [gpt], prompt = solve, n = samples }
stage checked: verify(candidates) { answer = problems.answer }

export checked to "out/sft.jsonl" as chat
"#;

/// A recipe directory with `main.dta` importing `lib.dta`; the URIs of both.
fn workspace() -> (TempDir, String, String) {
    let dir = TempDir::new();
    dir.write("lib.dta", LIB);
    dir.write("problems.jsonl", "");
    let main = dir.write("main.dta", MAIN);
    let lib = format!("{}/lib.dta", dir.path);
    (dir, uri(&main), uri(&lib))
}

fn uri(path: &str) -> String {
    let path = std::fs::canonicalize(path).unwrap();
    format!("file://{}", path.display())
}

/// The LSP position (UTF-16 column) of the `nth` occurrence of `needle` in `text`, moved
/// `delta` bytes.
fn pos(text: &str, needle: &str, delta: usize) -> Value {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("`{needle}` in text"))
        + delta;
    let line = text[..at].matches('\n').count();
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let character: usize = text[line_start..at].chars().map(char::len_utf16).sum();
    json!({ "line": line, "character": character })
}

fn at(uri: &str, position: Value) -> Value {
    json!({ "textDocument": { "uri": uri }, "position": position })
}

fn labels(completion: &Value) -> Vec<String> {
    let items = completion
        .get("items")
        .unwrap_or(completion)
        .as_array()
        .cloned()
        .unwrap_or_default();
    items
        .iter()
        .map(|i| i["label"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn initialize_advertises_capabilities_and_shutdown_exits_zero() {
    let (client, init) = Client::start(Value::Null);
    let caps = &init["result"]["capabilities"];
    assert_eq!(caps["textDocumentSync"]["change"], 1, "full sync: {caps}");
    for cap in [
        "hoverProvider",
        "definitionProvider",
        "documentFormattingProvider",
        "documentSymbolProvider",
    ] {
        assert_eq!(caps[cap], true, "{cap}: {caps}");
    }
    assert!(caps["completionProvider"].is_object(), "{caps}");
    assert_eq!(init["result"]["serverInfo"]["name"], "dtac");
    assert_eq!(client.shutdown(), 0);
}

#[test]
fn exit_without_shutdown_exits_one() {
    let (mut client, _) = Client::start(Value::Null);
    client.notify("exit", Value::Null);
    assert_eq!(client.wait(), 1);
}

#[test]
fn broken_recipe_gets_diagnostics_with_ranges() {
    let (_dir, uri, _) = workspace();
    let (mut client, _) = Client::start(Value::Null);
    let broken = MAIN.replace("[gpt]", "[gtp]");
    client.open(&uri, &broken);
    let published = client.diagnostics(&uri);
    assert_eq!(published["version"], 1);
    let diags = published["diagnostics"].as_array().unwrap();
    assert_eq!(diags.len(), 1, "{published}");
    let d = &diags[0];
    assert_eq!(d["code"], "dta::check::unknown_name");
    assert_eq!(d["severity"], 1);
    assert_eq!(d["range"]["start"], pos(&broken, "gtp", 0));
    assert_eq!(d["range"]["end"], pos(&broken, "gtp", 3));
    let message = d["message"].as_str().unwrap();
    assert!(message.contains("unknown teacher `gtp`"), "{message}");
    assert!(message.contains("did you mean `gpt`?"), "{message}");
    assert_eq!(client.shutdown(), 0);
}

#[test]
fn ranges_count_utf16_columns() {
    let (_dir, uri, _) = workspace();
    let (mut client, _) = Client::start(Value::Null);
    // `é` is one UTF-16 unit (two bytes), `𝄞` two units (four bytes).
    let text = "teacher t { model = \"é𝄞\", temprature = 1 }\n";
    client.open(&uri, text);
    let published = client.diagnostics(&uri);
    let d = &published["diagnostics"][0];
    assert_eq!(
        d["range"]["start"],
        json!({ "line": 0, "character": 27 }),
        "{published}"
    );
    assert_eq!(d["range"]["start"], pos(text, "temprature", 0));
    assert_eq!(client.shutdown(), 0);
}

#[test]
fn problems_in_imported_files_show_on_the_import() {
    let (dir, uri, _) = workspace();
    let bad_lib = "teacher gpt { model = \"gpt-4o\", rpm = \"fast\" }\n";
    dir.write("lib.dta", bad_lib);
    let (mut client, _) = Client::start(Value::Null);
    client.open(&uri, MAIN);
    let published = client.diagnostics(&uri);
    let d = &published["diagnostics"][0];
    assert_eq!(d["range"]["start"], pos(MAIN, "import", 0), "{published}");
    let message = d["message"].as_str().unwrap();
    assert!(
        message.starts_with("in `") && message.contains("lib.dta`"),
        "{message}"
    );
    let related = &d["relatedInformation"][0]["location"];
    assert!(
        related["uri"].as_str().unwrap().ends_with("/lib.dta"),
        "{published}"
    );
    assert_eq!(
        related["range"]["start"],
        pos(bad_lib, "\"fast", 0),
        "{published}"
    );
    // Saving the fix in another document checks this one again.
    dir.write("lib.dta", LIB);
    client.notify(
        "textDocument/didSave",
        json!({ "textDocument": { "uri": format!("file://{}/lib.dta", dir.path) } }),
    );
    assert_eq!(client.diagnostics(&uri)["diagnostics"], json!([]));
    assert_eq!(client.shutdown(), 0);
}

#[test]
fn garbage_then_a_fix_clears_diagnostics() {
    let (_dir, uri, _) = workspace();
    let (mut client, _) = Client::start(Value::Null);
    client.open(&uri, MAIN);
    assert_eq!(client.diagnostics(&uri)["diagnostics"], json!([]));
    client.change(&uri, 2, &format!("{MAIN}\nstage ??? }}}} \"unterminated"));
    let published = client.diagnostics(&uri);
    assert_eq!(published["version"], 2);
    let diags = published["diagnostics"].as_array().unwrap();
    assert!(!diags.is_empty());
    assert!(
        diags[0]["code"]
            .as_str()
            .unwrap()
            .starts_with("dta::syntax"),
        "{published}"
    );
    client.change(&uri, 3, MAIN);
    let published = client.diagnostics(&uri);
    assert_eq!(published["version"], 3);
    assert_eq!(published["diagnostics"], json!([]));
    assert_eq!(client.shutdown(), 0);
}

#[test]
fn a_burst_of_changes_is_checked_once_it_pauses() {
    let (_dir, uri, _) = workspace();
    let (mut client, _) = Client::start(Value::Null);
    client.open(&uri, MAIN);
    client.diagnostics(&uri);
    let last = 40;
    for version in 2..=last {
        let text = if version == last {
            MAIN.replace("[gpt]", "[gtp]")
        } else {
            format!("{MAIN}# edit {version}\n")
        };
        client.change(&uri, version, &text);
    }
    let mut published = 0;
    loop {
        let p = client.diagnostics(&uri);
        published += 1;
        if p["version"] == last {
            assert_eq!(p["diagnostics"].as_array().unwrap().len(), 1, "{p}");
            break;
        }
    }
    assert!(
        published < 10,
        "{published} checks for {} changes",
        last - 1
    );
    assert_eq!(client.shutdown(), 0);
}

#[test]
fn hover_on_ops_settings_and_names() {
    let (_dir, uri, _) = workspace();
    let (mut client, _) = Client::start(Value::Null);
    client.open(&uri, MAIN);
    let hover = |client: &mut Client, needle, delta| {
        let h = client.result("textDocument/hover", at(&uri, pos(MAIN, needle, delta)));
        h["contents"]["value"].as_str().unwrap_or("").to_string()
    };
    let op = hover(&mut client, "generate(", 2);
    assert!(op.contains("`generate`"), "{op}");
    assert!(op.contains("stage NAME: generate("), "{op}");
    let setting = hover(&mut client, "n = samples", 0);
    assert!(setting.contains("n: int"), "{setting}");
    assert!(setting.contains("setting of `generate`"), "{setting}");
    let name = hover(&mut client, "prompt = solve", 10);
    assert!(name.contains("prompt `solve`"), "{name}");
    assert!(name.contains("Solve: {{question}}"), "{name}");
    let imported = hover(&mut client, "[gpt]", 1);
    assert!(imported.contains("teacher `gpt` (from"), "{imported}");
    assert!(imported.contains("model = \"gpt-4o\""), "{imported}");
    let dataset = hover(&mut client, "(problems)", 1);
    assert!(dataset.contains("`question: str`"), "{dataset}");
    // Nothing to say about a keyword.
    let none = client.result("textDocument/hover", at(&uri, pos(MAIN, "version", 1)));
    assert_eq!(none, Value::Null);
    assert_eq!(client.shutdown(), 0);
}

#[test]
fn definition_of_names_here_and_in_imports() {
    let (_dir, uri, lib) = workspace();
    let (mut client, _) = Client::start(Value::Null);
    client.open(&uri, MAIN);
    let def = client.result("textDocument/definition", at(&uri, pos(MAIN, "[gpt]", 2)));
    assert_eq!(def["uri"], lib);
    assert_eq!(def["range"]["start"], json!({ "line": 0, "character": 8 }));
    assert_eq!(def["range"]["end"], json!({ "line": 0, "character": 11 }));
    let def = client.result(
        "textDocument/definition",
        at(&uri, pos(MAIN, "verify(candidates)", 8)),
    );
    assert_eq!(def["uri"], uri);
    assert_eq!(def["range"]["start"], pos(MAIN, "candidates:", 0));
    let def = client.result(
        "textDocument/definition",
        at(&uri, pos(MAIN, "= samples", 3)),
    );
    assert_eq!(def["range"]["start"], pos(MAIN, "samples:", 0));
    // `problems.answer`: `answer` is a field, not a declaration.
    let def = client.result(
        "textDocument/definition",
        at(&uri, pos(MAIN, "problems.answer", 10)),
    );
    assert_eq!(def, Value::Null);
    let def = client.result(
        "textDocument/definition",
        at(&uri, pos(MAIN, "\"lib.dta\"", 2)),
    );
    assert_eq!(def["uri"], lib);
    assert_eq!(client.shutdown(), 0);
}

#[test]
fn completion_by_context() {
    let (_dir, uri, _) = workspace();
    let (mut client, _) = Client::start(Value::Null);
    client.open(&uri, MAIN);
    client.diagnostics(&uri);
    let mut version = 1;
    let mut complete_after = |client: &mut Client, typed: &str| {
        version += 1;
        let text = format!("{MAIN}{typed}");
        client.change(&uri, version, &text);
        let end = pos(&text, typed, typed.len());
        labels(&client.result("textDocument/completion", at(&uri, end)))
    };
    let ops = complete_after(&mut client, "stage more: ");
    assert!(
        ops.contains(&"generate".into()) && ops.contains(&"vote".into()),
        "{ops:?}"
    );
    assert!(
        !ops.contains(&"jsonl".into()),
        "a source is no stage op: {ops:?}"
    );
    let sources = complete_after(&mut client, "dataset more: js");
    assert!(sources.contains(&"jsonl".into()), "{sources:?}");
    let settings = complete_after(&mut client, "stage more: generate(problems) {\n    ");
    assert!(
        settings.contains(&"teachers".into()) && settings.contains(&"n".into()),
        "{settings:?}"
    );
    assert!(
        settings.contains(&"on_error".into()),
        "stage-wide settings too: {settings:?}"
    );
    let teacher = complete_after(&mut client, "teacher t { mo");
    assert!(teacher.contains(&"model".into()), "{teacher:?}");
    let names = complete_after(&mut client, "stage more: generate(problems) { teachers = [");
    for name in ["gpt", "problems", "solve", "samples", "candidates"] {
        assert!(names.contains(&name.into()), "{name} in {names:?}");
    }
    let fields = complete_after(&mut client, "prompt again \"\"\"\n    {{");
    assert_eq!(fields, Vec::<String>::new(), "no stage uses `again` yet");
    let fields = complete_after(&mut client, "");
    assert!(
        fields.contains(&"version".into()),
        "keywords at a line start: {fields:?}"
    );
    let inline = complete_after(
        &mut client,
        "stage more: generate(problems) { prompt = \"Q: {{",
    );
    for f in ["id", "question", "answer"] {
        assert!(inline.contains(&f.into()), "{f} in {inline:?}");
    }
    // Inside the prompt `solve`, which `candidates` feeds with `problems`.
    client.change(&uri, 99, MAIN);
    let inside = pos(MAIN, "{{question", 2);
    let fields = labels(&client.result("textDocument/completion", at(&uri, inside)));
    for f in ["id", "question", "answer"] {
        assert!(fields.contains(&f.into()), "{f} in {fields:?}");
    }
    assert_eq!(client.shutdown(), 0);
}

#[test]
fn formatting_and_document_symbols() {
    let (_dir, uri, _) = workspace();
    let (mut client, _) = Client::start(Value::Null);
    let messy = MAIN.replace("param samples: int = 4", "param   samples :int=4");
    client.open(&uri, &messy);
    let edits = client.result(
        "textDocument/formatting",
        json!({
            "textDocument": { "uri": uri }, "options": { "tabSize": 4, "insertSpaces": true }
        }),
    );
    let edits = edits.as_array().unwrap();
    assert_eq!(edits.len(), 1);
    assert_eq!(edits[0]["newText"], MAIN);
    assert_eq!(
        edits[0]["range"]["start"],
        json!({ "line": 0, "character": 0 })
    );
    client.change(&uri, 2, MAIN);
    let edits = client.result(
        "textDocument/formatting",
        json!({
            "textDocument": { "uri": uri }, "options": { "tabSize": 4, "insertSpaces": true }
        }),
    );
    assert_eq!(edits, json!([]), "formatted already");
    let symbols = client.result(
        "textDocument/documentSymbol",
        json!({ "textDocument": { "uri": uri } }),
    );
    let names: Vec<&str> = symbols
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "samples",
            "problems",
            "solve",
            "candidates",
            "checked",
            "checked → out/sft.jsonl"
        ]
    );
    assert_eq!(
        symbols[3]["selectionRange"]["start"],
        pos(MAIN, "candidates:", 0)
    );
    assert_eq!(client.shutdown(), 0);
}

#[test]
fn bad_requests_get_errors_and_the_server_goes_on() {
    let (_dir, uri, _) = workspace();
    let (mut client, _) = Client::start(Value::Null);
    client.open(&uri, MAIN);
    let bad = client.request("textDocument/hover", json!({ "nonsense": true }));
    assert_eq!(bad["error"]["code"], -32602, "{bad}");
    let unknown = client.request("workspace/frobnicate", json!({}));
    assert_eq!(unknown["error"]["code"], -32601, "{unknown}");
    // A notification with bad params is dropped, not fatal.
    client.notify("textDocument/didChange", json!({ "textDocument": 7 }));
    let unopened = client.result(
        "textDocument/hover",
        at("file:///nowhere.dta", json!({ "line": 0, "character": 0 })),
    );
    assert_eq!(unopened, Value::Null);
    let far = client.result(
        "textDocument/hover",
        at(&uri, json!({ "line": 9999, "character": 9999 })),
    );
    assert_eq!(far, Value::Null);
    let good = client.result("textDocument/hover", at(&uri, pos(MAIN, "generate(", 0)));
    assert!(good["contents"]["value"]
        .as_str()
        .unwrap()
        .contains("generate"));
    assert_eq!(client.shutdown(), 0);
}

/// xorshift64*: a fixed seed makes every failure reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

#[test]
fn random_edits_never_crash_and_every_request_is_answered() {
    let (_dir, uri, _) = workspace();
    let (mut client, _) = Client::start(json!({ "debounceMs": 5 }));
    client.open(&uri, MAIN);
    let fragments = [
        "{",
        "}",
        "\"",
        "\"\"\"",
        "{{",
        "}}",
        "stage x: ",
        "generate(",
        ")",
        "=",
        ",",
        "\n",
        "é",
        "𝄞",
        "import \"lib.dta\"",
        "import \"main.dta\"",
        "teacher gpt {}",
        ".",
        "env(\"X\")",
        "[",
        "]",
        "# c",
        "-1e9",
        "30s",
        "true",
        "prompt p \"\"\"\n{{q}}\n\"\"\"",
    ];
    let requests = [
        "textDocument/hover",
        "textDocument/definition",
        "textDocument/completion",
        "textDocument/formatting",
        "textDocument/documentSymbol",
    ];
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut text = MAIN.to_string();
    for version in 2..400 {
        let mut cut = rng.below(text.len() + 1);
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        match rng.below(3) {
            0 => text.insert_str(cut, fragments[rng.below(fragments.len())]),
            1 => {
                let mut end = (cut + rng.below(12)).min(text.len());
                while !text.is_char_boundary(end) {
                    end -= 1;
                }
                text.replace_range(cut..end, "");
            }
            _ => text.insert(cut, char::from_u32(rng.below(0x3000) as u32).unwrap_or('x')),
        }
        client.change(&uri, version, &text);
        let method = requests[rng.below(requests.len())];
        // Positions inside, at and past the ends of lines and of the text.
        let position = json!({ "line": rng.below(30), "character": rng.below(120) });
        let params = match method {
            "textDocument/formatting" => json!({
                "textDocument": { "uri": uri }, "options": { "tabSize": 4, "insertSpaces": true }
            }),
            "textDocument/documentSymbol" => json!({ "textDocument": { "uri": uri } }),
            _ => at(&uri, position),
        };
        let response = client.request(method, params);
        assert!(
            response.get("error").is_none(),
            "{method} after edit {version} failed: {response}\ntext:\n{text}"
        );
    }
    let (code, log) = client.shutdown_with_log();
    assert_eq!(code, 0);
    assert!(!log.contains("internal error"), "{log}");
}
