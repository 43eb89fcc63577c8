//! A whole `dtac run` through the library: a CSV dataset, a Parquet dataset, and exports
//! in every raw format, written atomically by the runtime with their dataset cards.

use std::sync::Arc;

use dtac_runtime::exec::Outcome;
use dtac_runtime::progress::Quiet;
use dtac_runtime::session::{prepare, Options};
use dtac_runtime::stop::Stop;
use serde_json::json;

use crate::support::{read_ok, recipe, source, Dir};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_in_parquet_out_and_back_again() {
    let dir = Dir::new("pipeline");
    dir.write(
        "data.csv",
        "id,question,answer\np1,\"What is 1+1?\",2\np2,\"Two\nlines\",4\np3,x,\n",
    );
    let text = "dataset train: csv(\"data.csv\") { schema = { id: str, question: str, answer: int? } }\n\
                export train to \"out/train.parquet\" as parquet\n\
                export train to \"out/train.csv\" as csv { fields = [\"id\", \"answer\"] }\n\
                export train to \"out/train.chat.parquet\" as chat { response_field = \"question\" }\n";
    let resolved = recipe(&dir, text);
    let options = Options {
        state_dir: dir.path(".dtac"),
        ..Options::default()
    };
    let impls = dtac_stdlib::implementations();
    let prepared = prepare(resolved, impls.as_ref(), &options, true)
        .await
        .unwrap_or_else(|p| panic!("{p:?}"));
    let result = prepared
        .start(
            dtac_stdlib::provider_factory(),
            &options,
            Arc::new(Quiet),
            Stop::new(),
        )
        .execute()
        .await;
    assert_eq!(result.outcome, Outcome::Completed, "{:?}", result.stages);
    assert_eq!(result.exports.len(), 3);
    assert!(result.exports.iter().all(|e| e.examples == 3));

    let src = source(&dir, "dataset d: parquet(\"out/train.parquet\") {}").unwrap();
    let back = read_ok(src.as_ref());
    assert_eq!(back[0]["answer"], 2);
    assert_eq!(back[1]["question"], "Two\nlines");
    assert_eq!(
        back[2]["answer"],
        json!(null),
        "the missing answer is a null"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path("out/train.csv")).unwrap(),
        "id,answer\np1,2\np2,4\np3,\n"
    );
    let chat = source(&dir, "dataset d: parquet(\"out/train.chat.parquet\") {}").unwrap();
    assert_eq!(
        read_ok(chat.as_ref())[1]["messages"][1]["content"],
        "Two\nlines"
    );
    let card = std::fs::read_to_string(dir.path("out/train.parquet.md")).unwrap();
    assert!(card.contains("3 examples, format `parquet`"), "{card}");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("dtac-tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
