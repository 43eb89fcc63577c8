//! A batch round trip through async-openai, the client dtac's provider uses: proves the
//! file and batch objects and the result lines deserialize into its types, and that its
//! multipart uploads parse.

use std::time::{Duration, Instant};

use async_openai::config::OpenAIConfig;
use async_openai::types::{
    Batch, BatchCompletionWindow, BatchEndpoint, BatchRequest, BatchRequestOutput, BatchStatus,
    CreateChatCompletionResponse, CreateFileRequest, FileInput, FilePurpose, OpenAIFilePurpose,
};
use async_openai::Client;
use dtac_testkit::{Fault, Rule, Script, TestServer, Trigger};
use serde_json::json;

async fn wait(client: &Client<OpenAIConfig>, id: &str) -> Batch {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let batch = client.batches().retrieve(id).await.expect("retrieve");
        if matches!(
            batch.status,
            BatchStatus::Completed
                | BatchStatus::Failed
                | BatchStatus::Expired
                | BatchStatus::Cancelled
        ) {
            return batch;
        }
        assert!(Instant::now() < deadline, "batch stuck: {:?}", batch.status);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_openai_batch_round_trip() {
    let script = Script::new()
        .rule(Rule::contains("flaky").fault(Trigger::FirstAttempts(1), Fault::status(500)));
    let server = TestServer::start(script).await;
    let client = Client::with_config(
        OpenAIConfig::new()
            .with_api_base(server.base_url())
            .with_api_key("sk-test"),
    );
    let lines: Vec<String> = ["steady", "flaky"]
        .iter()
        .map(|u| {
            json!({"custom_id": u, "method": "POST", "url": "/v1/chat/completions",
                   "body": {"model": "m", "messages": [{"role": "user", "content": u}]}})
            .to_string()
        })
        .collect();
    let input = lines.join("\n").into_bytes();

    let file = client
        .files()
        .create(CreateFileRequest {
            file: FileInput::from_vec_u8("requests.jsonl".into(), input.clone()),
            purpose: FilePurpose::Batch,
        })
        .await
        .expect("upload");
    assert_eq!(file.filename, "requests.jsonl");
    assert_eq!(file.purpose, OpenAIFilePurpose::Batch);
    assert_eq!(file.bytes as usize, input.len());
    assert_eq!(server.file_content(&file.id).unwrap(), input);
    assert_eq!(client.files().retrieve(&file.id).await.unwrap().id, file.id);

    let batch = client
        .batches()
        .create(BatchRequest {
            input_file_id: file.id.clone(),
            endpoint: BatchEndpoint::V1ChatCompletions,
            completion_window: BatchCompletionWindow::W24H,
            metadata: None,
        })
        .await
        .expect("create");
    assert_eq!(batch.status, BatchStatus::Validating);
    let done = wait(&client, &batch.id).await;
    assert_eq!(done.status, BatchStatus::Completed);
    let counts = done.request_counts.expect("counts");
    assert_eq!((counts.total, counts.completed, counts.failed), (2, 1, 1));

    let output = client
        .files()
        .content(&done.output_file_id.expect("output file"))
        .await
        .unwrap();
    let line: BatchRequestOutput = serde_json::from_slice(output.trim_ascii()).unwrap();
    assert_eq!(line.custom_id, "steady");
    let response = line.response.expect("response");
    assert_eq!(response.status_code, 200);
    let completion: CreateChatCompletionResponse = serde_json::from_value(response.body).unwrap();
    assert!(completion.choices[0]
        .message
        .content
        .as_deref()
        .unwrap()
        .starts_with("Answer for steady."));

    let errors = client
        .files()
        .content(&done.error_file_id.expect("error file"))
        .await
        .unwrap();
    let failed: BatchRequestOutput = serde_json::from_slice(errors.trim_ascii()).unwrap();
    assert_eq!(failed.custom_id, "flaky");
    assert_eq!(failed.response.unwrap().status_code, 500);

    // Resubmitted in a second batch, the flaky request is on its second attempt and
    // gets through.
    let retry = client
        .batches()
        .create(BatchRequest {
            input_file_id: file.id.clone(),
            endpoint: BatchEndpoint::V1ChatCompletions,
            completion_window: BatchCompletionWindow::W24H,
            metadata: None,
        })
        .await
        .unwrap();
    let again = wait(&client, &retry.id).await;
    assert_eq!(again.request_counts.unwrap().completed, 2);
    assert_eq!(
        client
            .batches()
            .list(&[("limit", "10")])
            .await
            .unwrap()
            .data
            .len(),
        2
    );

    let cancelled = client.batches().cancel(&retry.id).await;
    assert!(cancelled.is_err(), "a completed batch cannot be cancelled");
    assert!(client.files().delete(&file.id).await.unwrap().deleted);
    assert!(client.files().retrieve(&file.id).await.is_err());
}
