//! `otto serve` as a process: Twilio webhooks need a valid
//! `X-Twilio-Signature` over the public URL, unless started with
//! `--no-signature-check`.

mod common;

use std::process::Command;

use common::Served;

const OTTO: &str = env!("CARGO_BIN_EXE_otto");
const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "0123456789abcdef0123456789abcdef";

/// `otto serve` on `db` as the test's account, with `extra` options.
fn serve(db: &str, extra: &[&str]) -> Served {
    let mut command = Command::new(OTTO);
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--db", db])
        .args(extra)
        .env("OTTO_ACCOUNT_SID", ACCOUNT)
        .env("OTTO_AUTH_TOKEN", TOKEN)
        .env_remove("OTTO_DB")
        .env_remove("RUST_LOG");
    Served::spawn(command)
}

/// POSTs an SMS webhook; `sign` adds the signature Twilio would send.
fn post_sms(base: &str, sign: bool, message_sid: &str) -> (u16, String) {
    otto_server::fetch::install_crypto_provider();
    let url = format!("{base}/v1/{ACCOUNT}/otto-demo/twilio-messaging");
    let params: Vec<(String, String)> = [
        ("AccountSid", ACCOUNT),
        ("Body", "I would like to book a table"),
        ("From", "+15555550100"),
        ("MessageSid", message_sid),
        ("To", "+15555550199"),
    ]
    .iter()
    .map(|(n, v)| (n.to_string(), v.to_string()))
    .collect();
    let mut request = reqwest::Client::new().post(&url).form(&params);
    if sign {
        request = request.header(
            "X-Twilio-Signature",
            otto_server::signature::sign(TOKEN, &url, &params),
        );
    }
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(async move {
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        })
}

#[test]
fn twilio_webhooks_need_a_signature_unless_the_check_is_switched_off() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("otto.db").display());

    // Switched off: a warning, and unsigned webhooks are answered.
    let mut served = serve(&db, &["--no-signature-check"]);
    let base = served.base();
    assert_eq!(
        served.line("warning "),
        "warning    Twilio webhooks are accepted without X-Twilio-Signature (--no-signature-check)"
    );
    let trained = served.line("demo assistant otto-demo (UA");
    assert!(trained.contains(" completed in "), "{trained}");
    let (status, body) = post_sms(&base, false, "SM00000000000000000000000000000001");
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("<Message>Happy to book you a table. What&apos;s your first name?</Message>")
            || body
                .contains("<Message>Happy to book you a table. What's your first name?</Message>"),
        "{body}"
    );
    drop(served);

    // By default: refused unsigned, answered signed over the public URL.
    let mut served = serve(&db, &[]);
    let base = served.base();
    served.line("assistants ");
    assert!(!served.seen.iter().any(|line| line.starts_with("warning ")));
    assert_eq!(
        served.line("  messaging "),
        format!("  messaging {base}/v1/{ACCOUNT}/otto-demo/twilio-messaging")
    );
    assert_eq!(
        served.line("  voice "),
        format!("  voice     {base}/v1/{ACCOUNT}/otto-demo/twilio-voice")
    );
    let (status, body) = post_sms(&base, false, "SM00000000000000000000000000000002");
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("\"code\":20403"), "{body}");
    let (status, body) = post_sms(&base, true, "SM00000000000000000000000000000003");
    assert_eq!(status, 200, "{body}");
    assert!(body.starts_with("<?xml"), "{body}");
}
