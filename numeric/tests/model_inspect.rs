//! `inspect` on good checkpoints of every family, and on broken ones one fault at a time:
//! each fault is its own error variant, names the file, and never panics.

use std::fs;
use std::path::Path;

use dtac_numeric::fixtures::{write_tiny_checkpoint, ScratchDir, TinySpec};
use dtac_numeric::model::{inspect, Arch, CheckpointError, Precision, INDEX_FILE};
use serde_json::{json, Value};

fn tiny(arch: Arch) -> (ScratchDir, TinySpec) {
    let dir = ScratchDir::new("inspect").unwrap();
    let spec = TinySpec::new(arch);
    write_tiny_checkpoint(dir.path(), &spec).unwrap();
    (dir, spec)
}

fn edit_config(dir: &Path, edit: impl FnOnce(&mut serde_json::Map<String, Value>)) {
    let path = dir.join("config.json");
    let mut v: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    edit(v.as_object_mut().unwrap());
    fs::write(path, v.to_string()).unwrap();
}

fn err(dir: &Path) -> CheckpointError {
    let e = inspect(dir).expect_err("the broken checkpoint was accepted");
    assert!(!e.help().is_empty());
    e
}

#[test]
fn every_family_inspects() {
    for arch in Arch::ALL {
        let (dir, spec) = tiny(arch);
        let info = inspect(dir.path()).unwrap();
        assert_eq!(info.arch, arch);
        assert_eq!(info.vocab_size, 272);
        assert_eq!(info.tokenizer_vocab, 256 + 10 + 3);
        assert_eq!((info.hidden_size, info.num_layers), (32, 2));
        assert_eq!(
            info.weight_files,
            vec![dir.path().join("model.safetensors")]
        );
        assert_eq!(info.weight_dtype, "f32");
        assert!(!info.tie_word_embeddings);
        assert!(info
            .chat_template
            .as_deref()
            .unwrap()
            .contains("<|im_start|>"));
        assert!(info.eos_token_ids.contains(&spec.special_id(2)));
        let bos = matches!(arch, Arch::Llama | Arch::Mistral).then(|| spec.special_id(0));
        assert_eq!(info.bos_token_id, bos, "{arch}");
    }
}

#[test]
fn tied_sharded_and_bf16_checkpoints_inspect() {
    let dir = ScratchDir::new("inspect").unwrap();
    let mut spec = TinySpec::new(Arch::Qwen3);
    spec.tie_embeddings = true;
    spec.shards = 2;
    spec.stored = Precision::Bf16;
    write_tiny_checkpoint(dir.path(), &spec).unwrap();
    let info = inspect(dir.path()).unwrap();
    assert!(info.tie_word_embeddings);
    assert_eq!(info.weight_files.len(), 2);
    assert_eq!(info.weight_dtype, "bf16");
}

#[test]
fn vocab_fingerprints_tell_tokenizers_apart() {
    let (a, _) = tiny(Arch::Qwen2);
    let (b, _) = tiny(Arch::Llama);
    let dir = ScratchDir::new("inspect").unwrap();
    let mut spec = TinySpec::new(Arch::Qwen2);
    spec.vocab = 265; // six merges instead of ten
    write_tiny_checkpoint(dir.path(), &spec).unwrap();
    let fa = inspect(a.path()).unwrap().vocab_fingerprint();
    assert_eq!(fa, inspect(b.path()).unwrap().vocab_fingerprint());
    assert_ne!(fa, inspect(dir.path()).unwrap().vocab_fingerprint());
}

#[test]
fn missing_directory() {
    let dir = ScratchDir::new("inspect").unwrap();
    let gone = dir.path().join("nope");
    assert!(matches!(err(&gone), CheckpointError::DirMissing { dir } if dir == gone));
    let file = dir.path().join("file");
    fs::write(&file, "x").unwrap();
    assert!(matches!(err(&file), CheckpointError::NotADirectory { .. }));
}

#[test]
fn missing_config() {
    let (dir, _) = tiny(Arch::Qwen2);
    fs::remove_file(dir.path().join("config.json")).unwrap();
    let e = err(dir.path());
    assert!(matches!(e, CheckpointError::ConfigMissing { .. }));
    assert!(e.to_string().contains("config.json"));
}

#[test]
fn config_with_bad_json() {
    let (dir, _) = tiny(Arch::Qwen2);
    fs::write(dir.path().join("config.json"), "{\"vocab_size\": 12,").unwrap();
    assert!(matches!(
        err(dir.path()),
        CheckpointError::ConfigInvalidJson { .. }
    ));
}

#[test]
fn config_missing_fields_are_all_named() {
    let (dir, _) = tiny(Arch::Llama);
    edit_config(dir.path(), |c| {
        c.remove("hidden_size");
        c.remove("num_hidden_layers");
    });
    let e = err(dir.path());
    match &e {
        CheckpointError::ConfigMissingFields { fields, .. } => {
            assert_eq!(fields, &["hidden_size", "num_hidden_layers"]);
        }
        other => panic!("wrong error: {other}"),
    }
    assert!(e.to_string().contains("`hidden_size`, `num_hidden_layers`"));
}

#[test]
fn config_with_a_bad_value() {
    let (dir, _) = tiny(Arch::Llama);
    edit_config(dir.path(), |c| {
        c.insert("num_key_value_heads".into(), json!(3));
    });
    let e = err(dir.path());
    assert!(
        matches!(&e, CheckpointError::ConfigBadField { field, .. } if field == "num_key_value_heads")
    );
}

#[test]
fn unsupported_architecture_is_named() {
    let (dir, _) = tiny(Arch::Qwen2);
    edit_config(dir.path(), |c| {
        c.insert("architectures".into(), json!(["GPT2LMHeadModel"]));
        c.insert("model_type".into(), json!("gpt2"));
    });
    let e = err(dir.path());
    assert!(
        matches!(&e, CheckpointError::UnsupportedArchitecture { found, .. } if found == "GPT2LMHeadModel")
    );
    assert!(e.to_string().contains("Qwen3ForCausalLM"));
}

#[test]
fn unsupported_settings_are_refused() {
    let (dir, _) = tiny(Arch::Qwen2);
    edit_config(dir.path(), |c| {
        c.insert("use_sliding_window".into(), json!(true));
    });
    assert!(matches!(
        err(dir.path()),
        CheckpointError::UnsupportedSetting { .. }
    ));
    let (dir, _) = tiny(Arch::Llama);
    edit_config(dir.path(), |c| {
        c.insert(
            "rope_scaling".into(),
            json!({"rope_type": "yarn", "factor": 4.0}),
        );
    });
    let e = err(dir.path());
    assert!(e.to_string().contains("yarn"), "{e}");
}

#[test]
fn missing_tokenizer() {
    let (dir, _) = tiny(Arch::Qwen3);
    fs::remove_file(dir.path().join("tokenizer.json")).unwrap();
    assert!(matches!(
        err(dir.path()),
        CheckpointError::TokenizerMissing { .. }
    ));
}

#[test]
fn unloadable_tokenizer() {
    let (dir, _) = tiny(Arch::Qwen3);
    fs::write(dir.path().join("tokenizer.json"), "{\"model\": 1}").unwrap();
    assert!(matches!(
        err(dir.path()),
        CheckpointError::TokenizerUnloadable { .. }
    ));
}

#[test]
fn tokenizer_bigger_than_the_embedding() {
    let dir = ScratchDir::new("inspect").unwrap();
    let mut spec = TinySpec::new(Arch::Qwen2);
    spec.vocab = 258;
    write_tiny_checkpoint(dir.path(), &spec).unwrap();
    let e = err(dir.path());
    assert!(matches!(
        e,
        CheckpointError::TokenizerLargerThanVocab {
            tokenizer_vocab: 259,
            vocab_size: 258,
            ..
        }
    ));
}

#[test]
fn no_weights() {
    let (dir, _) = tiny(Arch::Qwen3);
    fs::remove_file(dir.path().join("model.safetensors")).unwrap();
    assert!(matches!(err(dir.path()), CheckpointError::NoWeights { .. }));
}

#[test]
fn index_naming_a_missing_shard() {
    let dir = ScratchDir::new("inspect").unwrap();
    let mut spec = TinySpec::new(Arch::Qwen2);
    spec.shards = 2;
    write_tiny_checkpoint(dir.path(), &spec).unwrap();
    fs::remove_file(dir.path().join("model-00002-of-00002.safetensors")).unwrap();
    let e = err(dir.path());
    assert!(
        matches!(&e, CheckpointError::ShardMissing { shard, .. } if shard == "model-00002-of-00002.safetensors")
    );
    assert!(e.to_string().contains(INDEX_FILE));
}

#[test]
fn corrupt_and_truncated_headers() {
    let (dir, _) = tiny(Arch::Llama);
    let path = dir.path().join("model.safetensors");
    let bytes = fs::read(&path).unwrap();
    fs::write(&path, &bytes[..bytes.len() - 4]).unwrap();
    let e = err(dir.path());
    assert!(matches!(&e, CheckpointError::HeaderInvalid { .. }));
    assert!(e.to_string().contains("truncated"), "{e}");

    let mut garbage = bytes.clone();
    garbage[8] = b'!';
    fs::write(&path, &garbage).unwrap();
    assert!(matches!(
        err(dir.path()),
        CheckpointError::HeaderInvalid { .. }
    ));

    fs::write(&path, [0xff; 12]).unwrap();
    assert!(matches!(
        err(dir.path()),
        CheckpointError::HeaderInvalid { .. }
    ));
}

#[test]
fn missing_tensor_is_named() {
    // A config with one more layer than the weights have.
    let (dir, _) = tiny(Arch::Qwen3);
    edit_config(dir.path(), |c| {
        c.insert("num_hidden_layers".into(), json!(3));
    });
    let e = err(dir.path());
    assert!(
        matches!(&e, CheckpointError::TensorMissing { name, .. } if name == "model.layers.2.input_layernorm.weight"),
        "{e}"
    );
    // An untied model without its output layer.
    let (dir, _) = tiny(Arch::Llama);
    edit_config(dir.path(), |c| {
        c.insert("tie_word_embeddings".into(), json!(true));
    });
    inspect(dir.path()).unwrap();
    let tied = ScratchDir::new("inspect").unwrap();
    let mut spec = TinySpec::new(Arch::Llama);
    spec.tie_embeddings = true;
    write_tiny_checkpoint(tied.path(), &spec).unwrap();
    edit_config(tied.path(), |c| {
        c.insert("tie_word_embeddings".into(), json!(false));
    });
    let e = err(tied.path());
    assert!(matches!(&e, CheckpointError::TensorMissing { name, .. } if name == "lm_head.weight"));
    assert!(e.help().contains("tie_word_embeddings"));
}

#[test]
fn tensor_with_the_wrong_shape() {
    let (dir, _) = tiny(Arch::Qwen2);
    edit_config(dir.path(), |c| {
        c.insert("intermediate_size".into(), json!(48));
    });
    let e = err(dir.path());
    match &e {
        CheckpointError::TensorShape {
            name,
            found,
            expected,
            ..
        } => {
            assert_eq!(name, "model.layers.0.mlp.gate_proj.weight");
            assert_eq!(
                (found.as_slice(), expected.as_slice()),
                (&[64, 32][..], &[48, 32][..])
            );
        }
        other => panic!("wrong error: {other}"),
    }
    assert!(e.to_string().contains("model.safetensors"));
}

#[test]
fn chat_template_from_a_named_list_and_from_a_jinja_file() {
    let (dir, _) = tiny(Arch::Qwen2);
    let path = dir.path().join("tokenizer_config.json");
    let mut v: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    v["chat_template"] =
        json!([{"name": "rag", "template": "R"}, {"name": "default", "template": "D"}]);
    fs::write(&path, v.to_string()).unwrap();
    assert_eq!(
        inspect(dir.path()).unwrap().chat_template.as_deref(),
        Some("D")
    );

    v.as_object_mut().unwrap().remove("chat_template");
    fs::write(&path, v.to_string()).unwrap();
    fs::write(dir.path().join("chat_template.jinja"), "J").unwrap();
    let info = inspect(dir.path()).unwrap();
    assert_eq!(info.chat_template.as_deref(), Some("J"));
    assert_eq!(
        info.chat_template_origin,
        Some(dir.path().join("chat_template.jinja"))
    );
}
