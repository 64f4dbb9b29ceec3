//! Model builds through the REST API: the `StatusCallback` of a completed and
//! of a failed build is POSTed once, signed, with the outcome.

mod common;
mod rest_support;

use std::time::Duration;

use axum::http::StatusCode;
use axum::response::IntoResponse;
use rest_support::Rest;

async fn callbacks(receiver: &common::Receiver, count: usize) -> Vec<common::Received> {
    for _ in 0..100 {
        let requests = receiver.requests();
        if requests.len() >= count {
            return requests;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "expected {count} status callbacks, got {:?}",
        receiver.requests()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_callbacks_report_the_outcome() {
    let server = common::TestServer::start(|_| {}).await;
    let _workers = server.otto.spawn_workers();
    let receiver = common::Receiver::default();
    receiver.on("/build-status", Duration::ZERO, |_| {
        StatusCode::NO_CONTENT.into_response()
    });
    let receiver = receiver.start().await;
    let rest = Rest::new(&server.server.url());

    // A sample tagging a field its task does not have cannot be trained: the
    // build fails.
    let reply = rest
        .post("/v1/Assistants", &[("UniqueName", "broken")])
        .await;
    let empty = reply.body["sid"].as_str().unwrap().to_owned();
    rest.post(
        &format!("/v1/Assistants/{empty}/Tasks"),
        &[("UniqueName", "order")],
    )
    .await;
    let reply = rest
        .post(
            &format!("/v1/Assistants/{empty}/Tasks/order/Samples"),
            &[
                ("Language", "en-US"),
                ("TaggedText", "two {missing} please"),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let callback = format!("{}/build-status", receiver.base);
    let reply = rest
        .post(
            &format!("/v1/Assistants/{empty}/ModelBuilds"),
            &[("StatusCallback", &callback), ("UniqueName", "first")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let failed_sid = reply.body["sid"].as_str().unwrap().to_owned();
    let failed = rest.wait_for_build(&empty, &failed_sid).await;
    assert_eq!(failed["status"], "failed", "{failed}");
    assert_eq!(failed["error_code"], 90001);

    let requests = callbacks(&receiver.receiver, 1).await;
    let request = &requests[0];
    assert_eq!(request.method, axum::http::Method::POST);
    assert_eq!(request.param("AccountSid"), Some(common::ACCOUNT));
    assert_eq!(request.param("AssistantSid"), Some(empty.as_str()));
    assert_eq!(request.param("ModelBuildSid"), Some(failed_sid.as_str()));
    assert_eq!(request.param("UniqueName"), Some("first"));
    assert_eq!(request.param("Status"), Some("failed"));
    assert_eq!(request.param("ErrorCode"), Some("90001"));
    let signature = request.headers["x-twilio-signature"].to_str().unwrap();
    assert!(otto_server::signature::verify(
        common::TOKEN,
        &callback,
        &request.params,
        signature
    ));
    assert!(!otto_server::signature::verify(
        "another-token",
        &callback,
        &request.params,
        signature
    ));

    // A trainable assistant: completed, called once.
    let reply = rest
        .post("/v1/Assistants", &[("UniqueName", "hello")])
        .await;
    let hello = reply.body["sid"].as_str().unwrap().to_owned();
    rest.post(
        &format!("/v1/Assistants/{hello}/Tasks"),
        &[
            ("UniqueName", "greet"),
            ("Actions", r#"{"actions": [{"say": "Hi!"}]}"#),
        ],
    )
    .await;
    for text in ["hello", "hi", "hey there", "good morning"] {
        rest.post(
            &format!("/v1/Assistants/{hello}/Tasks/greet/Samples"),
            &[("Language", "en-US"), ("TaggedText", text)],
        )
        .await;
    }
    let reply = rest
        .post(
            &format!("/v1/Assistants/{hello}/ModelBuilds"),
            &[("StatusCallback", &callback)],
        )
        .await;
    let build = reply.body["sid"].as_str().unwrap().to_owned();
    assert_eq!(
        rest.wait_for_build(&hello, &build).await["status"],
        "completed"
    );
    let requests = callbacks(&receiver.receiver, 2).await;
    let request = &requests[1];
    assert_eq!(request.param("ModelBuildSid"), Some(build.as_str()));
    assert_eq!(request.param("Status"), Some("completed"));
    assert_eq!(request.param("UniqueName"), Some(build.as_str()));
    assert!(request.param("BuildDuration").is_some());
    assert_eq!(request.param("ErrorCode"), None);
    // No build without a callback calls anything, and each is called once.
    let reply = rest
        .post(&format!("/v1/Assistants/{hello}/ModelBuilds"), &[])
        .await;
    let quiet = reply.body["sid"].as_str().unwrap().to_owned();
    rest.wait_for_build(&hello, &quiet).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(receiver.receiver.requests().len(), 2);
}
