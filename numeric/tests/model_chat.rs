//! Chat templates render as `transformers` renders them, and the tokenizer wrapper
//! round-trips text.

use std::fs;

use dtac_numeric::fixtures::{write_tiny_checkpoint, ScratchDir, TinySpec, SPECIAL_TOKENS};
use dtac_numeric::model::{
    inspect, Arch, ChatError, ChatMessage, ChatTemplate, DeviceSpec, LocalModel, Precision,
    SpecialTokens, Tokenizer,
};
use serde_json::{json, Map};

fn conversation() -> Vec<ChatMessage> {
    vec![
        ChatMessage::new("system", "Be brief."),
        ChatMessage::new("user", "What is 2+2?"),
    ]
}

fn tokens(bos: &str, eos: &str) -> SpecialTokens {
    SpecialTokens {
        bos_token: Some(bos.into()),
        eos_token: Some(eos.into()),
        ..SpecialTokens::default()
    }
}

fn compile(source: &str) -> ChatTemplate {
    ChatTemplate::new(source, "test.jinja".as_ref(), tokens("<s>", "</s>")).unwrap()
}

#[test]
fn the_fixture_chatml_template_renders_the_expected_text() {
    for (arch, prefix) in [(Arch::Qwen2, ""), (Arch::Llama, "<|endoftext|>")] {
        let dir = ScratchDir::new("chat").unwrap();
        write_tiny_checkpoint(dir.path(), &TinySpec::new(arch)).unwrap();
        let template = inspect(dir.path()).unwrap().chat_template(None).unwrap();
        let body =
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n";
        assert_eq!(
            template.render(&conversation(), false).unwrap(),
            format!("{prefix}{body}")
        );
        assert_eq!(
            template.render(&conversation(), true).unwrap(),
            format!("{prefix}{body}<|im_start|>assistant\n")
        );
    }
}

/// The Jinja and Python that real templates (Qwen3's, Llama 3's) use: `namespace`,
/// reversed slices, `loop` variables, `is string`/`is defined` tests, string methods,
/// whitespace control with `trim_blocks`/`lstrip_blocks`, and `tojson`.
const RICH: &str = r#"{{- bos_token }}
{%- set ns = namespace(last_user=-1) %}
{%- for m in messages[::-1] %}
    {%- if ns.last_user < 0 and m.role == "user" %}
        {%- set ns.last_user = (messages|length - 1) - loop.index0 %}
    {%- endif %}
{%- endfor %}
{%- for m in messages %}
    {%- set content = m.content if m.content is string else '' %}
    {%- if m.role == "assistant" and '</think>' in content %}
        {%- set thought = content.split('</think>')[0].rstrip('\n').split('<think>')[-1].lstrip('\n') %}
        {%- set content = content.split('</think>')[-1].lstrip('\n') %}
        {%- if loop.index0 > ns.last_user %}
            {{- '[' + thought.strip() + ']' }}
        {%- endif %}
    {%- endif %}
    {{- m.role.upper() + ':' + content.strip() }}
    {%- if content.startswith(('Q', 'q')) and not content.endswith('!') %}?{% endif %}
    {{- '|' }}
{%- endfor %}
{% if tools is defined %}
{% for t in tools %}{{ t | tojson }};{{ t | tojson(indent=2) }}{% endfor %}
{% endif %}
{%- if add_generation_prompt %}{{ 'ASSISTANT:' }}{% endif %}
{{- eos_token }}"#;

#[test]
fn templates_get_the_python_and_jinja_they_rely_on() {
    let template = compile(RICH);
    let messages = vec![
        ChatMessage::new("user", "q1 \n"),
        ChatMessage::new("assistant", "<think>\nold\n</think>\n\nA1"),
        ChatMessage::new("user", "Q2!"),
        ChatMessage::new("assistant", "<think>\nnew thought\n</think>\n\nA2"),
    ];
    assert_eq!(
        template.render(&messages, true).unwrap(),
        "<s>USER:q1?|ASSISTANT:A1|USER:Q2!|[new thought]ASSISTANT:A2|ASSISTANT:</s>"
    );
    let mut extra = Map::new();
    extra.insert(
        "tools".into(),
        json!([{"name": "f", "args": [1, 2.5, true, null, "é\"x"]}]),
    );
    // trim_blocks eats the newline after each block tag, as in Jinja2.
    let out = template.render_with(&messages[..1], false, &extra).unwrap();
    assert_eq!(
        out,
        "<s>USER:q1?|{\"args\": [1, 2.5, true, null, \"é\\\"x\"], \"name\": \"f\"};{\n  \"args\": [\n    1,\n    2.5,\n    true,\n    null,\n    \"é\\\"x\"\n  ],\n  \"name\": \"f\"\n}</s>"
    );
}

#[test]
fn raise_exception_becomes_a_refusal_with_its_message() {
    let template = compile(
        "{% if messages[0].role != 'user' %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}ok",
    );
    match template.render(&conversation(), false) {
        Err(ChatError::Raised { message, origin }) => {
            assert!(message.starts_with("Conversation roles must alternate"));
            assert_eq!(origin.to_str(), Some("test.jinja"));
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(template.render(&conversation()[1..], false).unwrap(), "ok");
}

#[test]
fn template_errors_are_errors() {
    let syntax = ChatTemplate::new(
        "{% for m in messages %}",
        "bad.jinja".as_ref(),
        SpecialTokens::default(),
    );
    let e = syntax.unwrap_err();
    assert!(matches!(e, ChatError::Syntax { .. }));
    assert!(e.to_string().contains("bad.jinja"));
    let runtime = compile("{{ messages[0].content.no_such_method() }}");
    assert!(matches!(
        runtime.render(&conversation(), false),
        Err(ChatError::Render { .. })
    ));
}

#[test]
fn a_model_without_a_template_says_so_and_an_override_replaces_it() {
    let dir = ScratchDir::new("chat").unwrap();
    write_tiny_checkpoint(dir.path(), &TinySpec::new(Arch::Qwen3)).unwrap();
    let config = dir.path().join("tokenizer_config.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&config).unwrap()).unwrap();
    v.as_object_mut().unwrap().remove("chat_template");
    fs::write(&config, v.to_string()).unwrap();
    let info = inspect(dir.path()).unwrap();
    let mut model = LocalModel::load(&info, &DeviceSpec::Cpu, Precision::F32).unwrap();
    let e = model.chat().unwrap_err();
    assert!(matches!(e, ChatError::NoTemplate { .. }));
    assert!(e.help().contains("chat_template"));

    let path = dir.path().join("override.jinja");
    fs::write(
        &path,
        "{% for m in messages %}<|im_start|>{{ m.content }}{% endfor %}{{ eos_token }}",
    )
    .unwrap();
    model.set_chat_template(&path).unwrap();
    let ids = model.encode_chat(&conversation()[1..], false).unwrap();
    let start = model.tokenizer().token_id("<|im_start|>").unwrap();
    let end = model.tokenizer().token_id("<|im_end|>").unwrap();
    assert_eq!(ids.first(), Some(&start));
    assert_eq!(ids.last(), Some(&end));
    assert_eq!(
        model.tokenizer().decode(&ids, false).unwrap(),
        "<|im_start|>What is 2+2?<|im_end|>"
    );
}

#[test]
fn the_tokenizer_round_trips_any_text_and_keeps_special_tokens_whole() {
    let dir = ScratchDir::new("chat").unwrap();
    let spec = TinySpec::new(Arch::Llama);
    write_tiny_checkpoint(dir.path(), &spec).unwrap();
    let tok = Tokenizer::load(&dir.path().join("tokenizer.json")).unwrap();
    assert_eq!(tok.vocab_size(), 269);
    for text in [
        "the theory of everything",
        "naïve café — 東京 🚀",
        "  spaces\n\ttabs\r\n",
        "",
    ] {
        let ids = tok.encode(text, false).unwrap();
        assert_eq!(tok.decode(&ids, false).unwrap(), text);
    }
    // Merges apply: " the" is one token; plain bytes are their own ids.
    let ids = tok.encode("a the", false).unwrap();
    assert_eq!(ids.len(), 2);
    assert_eq!(ids[0], u32::from(b'a'));
    assert_eq!(tok.token(ids[1]).as_deref(), Some("Ġthe"));
    // Special tokens are single ids, and the Llama-style post-processor adds BOS.
    let text = "<|im_start|>user\nhi<|im_end|>";
    let ids = tok.encode(text, false).unwrap();
    assert_eq!(ids[0], spec.special_id(1));
    assert_eq!(*ids.last().unwrap(), spec.special_id(2));
    let with_bos = tok.encode(text, true).unwrap();
    assert_eq!(with_bos[0], spec.special_id(0));
    assert_eq!(&with_bos[1..], &ids[..]);
    assert_eq!(tok.decode(&with_bos, true).unwrap(), "user\nhi");
    assert_eq!(tok.token_id(SPECIAL_TOKENS[2]), Some(spec.special_id(2)));
    assert_eq!(
        tok.fingerprint(),
        inspect(dir.path()).unwrap().vocab_fingerprint()
    );
}
