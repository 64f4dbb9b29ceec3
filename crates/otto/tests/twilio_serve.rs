//! `otto serve` as a process: Twilio webhooks need a valid
//! `X-Twilio-Signature` over the public URL, unless started with
//! `--no-signature-check`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const OTTO: &str = env!("CARGO_BIN_EXE_otto");
const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "0123456789abcdef0123456789abcdef";

/// A running `otto serve`, killed when dropped.
struct Served {
    child: Child,
    lines: std::sync::mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Served {
    fn start(db: &str, extra: &[&str]) -> Served {
        let mut child = Command::new(OTTO)
            .args(["serve", "--listen", "127.0.0.1:0", "--db", db])
            .args(extra)
            .env("OTTO_ACCOUNT_SID", ACCOUNT)
            .env("OTTO_AUTH_TOKEN", TOKEN)
            .env_remove("OTTO_DB")
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (send, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                if send.send(line.unwrap_or_default()).is_err() {
                    break;
                }
            }
        });
        Served {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits for a line of standard output starting with `prefix`.
    fn line(&mut self, prefix: &str) -> String {
        if let Some(line) = self.seen.iter().find(|l| l.starts_with(prefix)) {
            return line.clone();
        }
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self
                .lines
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no line {prefix:?} in {:?}", self.seen));
            self.seen.push(line.clone());
            if line.starts_with(prefix) {
                return line;
            }
        }
    }

    fn base(&mut self) -> String {
        self.line("otto ").rsplit(' ').next().unwrap().to_owned()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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
    let mut served = Served::start(&db, &["--no-signature-check"]);
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
    let mut served = Served::start(&db, &[]);
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
