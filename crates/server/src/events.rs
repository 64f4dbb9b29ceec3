//! Event webhook delivery (reference 13): the worker that sends the events
//! the store queued to the assistants' subscribed webhooks.
//!
//! Turns only queue events (in the turn's own transaction, one row per
//! subscribed webhook), so a slow or dead webhook never slows a
//! conversation. The worker claims due rows with a lease, sends each one
//! (`POST` form or `GET` query, Autopilot's parameters, signed with
//! `X-Twilio-Signature` and carrying `I-Twilio-Idempotency-Token`), marks it
//! delivered on a 2xx, and otherwise schedules it again with exponential
//! backoff until it gives up. A worker that dies mid-delivery loses nothing:
//! its lease runs out and another worker (in this process after a restart,
//! or another instance on the same database) claims the row again. Delivery
//! is therefore at least once; the idempotency token lets receivers drop the
//! rare duplicate. Instances sharing a database never hold the same row under
//! a live lease, so each event is normally delivered once.

use std::sync::Arc;
use std::time::Duration;

use otto_engine::FetchError;
use otto_store::{ClaimedEvent, Store, StoreError};
use reqwest::Url;
use tokio::task::JoinSet;

use crate::fetch::install_crypto_provider;
use crate::signature;

/// The header Twilio puts a webhook's delivery identity in; the same on
/// every retry of one delivery.
pub const IDEMPOTENCY_HEADER: &str = "I-Twilio-Idempotency-Token";

/// Settings of the delivery worker.
#[derive(Debug, Clone)]
pub struct EventDeliveryConfig {
    /// How long the worker sleeps when nothing was due.
    pub poll: Duration,
    /// Events claimed (and sent concurrently) at a time.
    pub batch: u32,
    /// The whole request (Autopilot: 30 s).
    pub timeout: Duration,
    /// How long a claim holds; longer than `timeout`, so a live worker never
    /// loses an event it is still sending.
    pub lease_seconds: i64,
    /// The first retry comes this long after a failure; each next one twice
    /// as long after, up to `backoff_max_seconds`.
    pub backoff_base_seconds: i64,
    pub backoff_max_seconds: i64,
    /// Attempts before the event is marked `failed`.
    pub max_attempts: i64,
    /// Delivered and failed events are deleted this long after (checked
    /// about once an hour).
    pub retention: Duration,
    pub user_agent: String,
}

impl Default for EventDeliveryConfig {
    fn default() -> EventDeliveryConfig {
        EventDeliveryConfig {
            poll: Duration::from_secs(1),
            batch: 32,
            timeout: Duration::from_secs(30),
            lease_seconds: 90,
            backoff_base_seconds: 10,
            backoff_max_seconds: 3600,
            max_attempts: 10,
            retention: Duration::from_secs(7 * 24 * 3600),
            user_agent: format!("otto/{}", env!("CARGO_PKG_VERSION")),
        }
    }
}

impl EventDeliveryConfig {
    /// Seconds until the next attempt after the `attempts`-th failed one.
    pub fn backoff_seconds(&self, attempts: i64) -> i64 {
        let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 62)).unwrap_or(62);
        self.backoff_base_seconds
            .max(1)
            .saturating_mul(2_i64.saturating_pow(doublings))
            .min(self.backoff_max_seconds.max(1))
    }
}

/// What one round of [`EventDelivery::deliver_due`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    pub claimed: usize,
    pub delivered: usize,
    /// Failed and scheduled again.
    pub retried: usize,
    /// Failed for the last time.
    pub failed: usize,
    /// Another worker took the event over (our lease ran out meanwhile).
    pub lost: usize,
}

/// The delivery worker; cheap to clone (clones share the client).
#[derive(Clone)]
pub struct EventDelivery {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    auth_token: String,
    client: reqwest::Client,
    config: EventDeliveryConfig,
    worker: String,
}

impl std::fmt::Debug for EventDelivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventDelivery")
            .field("worker", &self.inner.worker)
            .field("config", &self.inner.config)
            .finish()
    }
}

/// How one delivery went.
enum Sent {
    Delivered,
    Failed(String),
}

impl EventDelivery {
    /// A worker signing with `auth_token` (the account's, as Twilio signs).
    pub fn new(
        store: Store,
        auth_token: &str,
        config: EventDeliveryConfig,
    ) -> Result<EventDelivery, FetchError> {
        EventDelivery::with_worker_id(store, auth_token, config, &new_worker_id())
    }

    /// A worker with a chosen ID (the lease owner written in the queue).
    pub fn with_worker_id(
        store: Store,
        auth_token: &str,
        config: EventDeliveryConfig,
        worker: &str,
    ) -> Result<EventDelivery, FetchError> {
        install_crypto_provider();
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::limited(5))
            .user_agent(config.user_agent.clone())
            .build()
            .map_err(|error| FetchError::Transport {
                reason: format!("cannot build the HTTP client: {error}"),
            })?;
        Ok(EventDelivery {
            inner: Arc::new(Inner {
                store,
                auth_token: auth_token.to_owned(),
                client,
                config,
                worker: worker.to_owned(),
            }),
        })
    }

    pub fn worker_id(&self) -> &str {
        &self.inner.worker
    }

    pub fn config(&self) -> &EventDeliveryConfig {
        &self.inner.config
    }

    /// Claims the events due now (up to `batch`), sends them concurrently
    /// and records each outcome.
    pub async fn deliver_due(&self) -> Result<Round, StoreError> {
        let inner = &self.inner;
        let claimed = inner
            .store
            .claim_events(
                &inner.worker,
                inner.config.batch,
                inner.config.lease_seconds,
            )
            .await?;
        let mut round = Round {
            claimed: claimed.len(),
            ..Round::default()
        };
        let mut sending = JoinSet::new();
        for event in claimed {
            let inner = self.inner.clone();
            sending.spawn(async move {
                let sent = inner.send(&event).await;
                inner.record(&event, sent).await
            });
        }
        while let Some(done) = sending.join_next().await {
            match done {
                Ok(Ok(Outcome::Delivered)) => round.delivered += 1,
                Ok(Ok(Outcome::Retried)) => round.retried += 1,
                Ok(Ok(Outcome::Failed)) => round.failed += 1,
                Ok(Ok(Outcome::Lost)) => round.lost += 1,
                // The row stays claimed; its lease runs out and it is sent again.
                Ok(Err(error)) => tracing::error!(%error, "recording an event delivery"),
                Err(error) => tracing::error!(%error, "an event delivery task failed"),
            }
        }
        Ok(round)
    }

    /// Delivers until the process ends: again at once while full batches
    /// come, otherwise every `poll`. Purges old delivered and failed events
    /// about once an hour.
    pub async fn run(self) {
        tracing::info!(worker = %self.inner.worker, "event delivery worker started");
        let mut last_purge: Option<i64> = None;
        loop {
            let full = match self.deliver_due().await {
                Ok(round) => {
                    if round.claimed > 0 {
                        tracing::debug!(?round, "event deliveries");
                    }
                    round.claimed >= self.inner.config.batch as usize
                }
                Err(error) => {
                    tracing::error!(%error, "claiming events to deliver");
                    false
                }
            };
            let now = self.inner.store.now();
            if last_purge.is_none_or(|at| now - at >= 3600) {
                last_purge = Some(now);
                let retention = i64::try_from(self.inner.config.retention.as_secs()).unwrap_or(0);
                match self.inner.store.purge_events(now - retention).await {
                    Ok(0) => {}
                    Ok(purged) => tracing::info!(purged, "old event deliveries purged"),
                    Err(error) => tracing::warn!(%error, "purging old event deliveries"),
                }
            }
            if !full {
                tokio::time::sleep(self.inner.config.poll).await;
            }
        }
    }
}

enum Outcome {
    Delivered,
    Retried,
    Failed,
    Lost,
}

impl Inner {
    /// Sends one event to its webhook.
    async fn send(&self, event: &ClaimedEvent) -> Sent {
        let Some(params) = params_of(event) else {
            return Sent::Failed(format!(
                "the payload of event {} is not a list of form parameters",
                event.id
            ));
        };
        let mut url = match Url::parse(&event.webhook_url) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => url,
            Ok(_) | Err(_) => {
                return Sent::Failed(format!("{:?} is not an http(s) URL", event.webhook_url));
            }
        };
        let get = event.webhook_method.eq_ignore_ascii_case("GET");
        let request = if get {
            url.query_pairs_mut().extend_pairs(&params);
            let url = url.to_string();
            let signature = signature::sign(&self.auth_token, &url, &[]);
            self.client.get(&url).header(signature::HEADER, signature)
        } else {
            let url = url.to_string();
            let signature = signature::sign(&self.auth_token, &url, &params);
            let body = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(&params)
                .finish();
            self.client
                .post(&url)
                .header("content-type", "application/x-www-form-urlencoded")
                .header(signature::HEADER, signature)
                .body(body)
        };
        let request = request.header(IDEMPOTENCY_HEADER, idempotency_token(event));
        // The client's timeout covers the body; this is the backstop.
        let sent = tokio::time::timeout(self.config.timeout, async {
            let response = request.send().await?;
            let status = response.status();
            // The answer is ignored, but read (bounded by the timeout) so the
            // connection can be reused.
            let _ = response.bytes().await;
            Ok::<_, reqwest::Error>(status)
        })
        .await;
        match sent {
            Ok(Ok(status)) if status.is_success() => Sent::Delivered,
            Ok(Ok(status)) => {
                Sent::Failed(format!("the webhook answered HTTP {}", status.as_u16()))
            }
            Ok(Err(error)) if error.is_timeout() => Sent::Failed(format!(
                "no answer within {} s",
                self.config.timeout.as_secs_f64()
            )),
            Ok(Err(error)) => Sent::Failed(describe(&error)),
            Err(_) => Sent::Failed(format!(
                "no answer within {} s",
                self.config.timeout.as_secs_f64()
            )),
        }
    }

    /// Records how a delivery went.
    async fn record(&self, event: &ClaimedEvent, sent: Sent) -> Result<Outcome, StoreError> {
        let result = match &sent {
            Sent::Delivered => self
                .store
                .complete_event(event.id, &self.worker)
                .await
                .map(|()| Outcome::Delivered),
            Sent::Failed(error) => {
                let next = (event.attempts < self.config.max_attempts)
                    .then(|| self.store.now() + self.config.backoff_seconds(event.attempts));
                tracing::warn!(
                    event = %event.event,
                    id = event.id,
                    url = %event.webhook_url,
                    attempts = event.attempts,
                    retry_at = ?next,
                    "event webhook failed: {error}"
                );
                self.store
                    .retry_event(event.id, &self.worker, error, next)
                    .await
                    .map(|_| match next {
                        Some(_) => Outcome::Retried,
                        None => Outcome::Failed,
                    })
            }
        };
        match result {
            // Another worker claimed it after our lease ran out (or the
            // webhook was deleted): theirs to finish now.
            Err(StoreError::LeaseLost { .. } | StoreError::NotFound { .. }) => {
                tracing::warn!(id = event.id, "event delivery taken over by another worker");
                Ok(Outcome::Lost)
            }
            other => other,
        }
    }
}

/// The form parameters: the engine's `[name, value]` pairs, or the string
/// values of a JSON object queued by other code.
fn params_of(event: &ClaimedEvent) -> Option<Vec<(String, String)>> {
    if let Some(params) = event.form_params() {
        return Some(params);
    }
    let object = event.payload.as_object()?;
    object
        .iter()
        .map(|(name, value)| {
            let value = match value {
                serde_json::Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            Some((name.clone(), value))
        })
        .collect()
}

/// The same for every attempt of one delivery, different across deliveries.
pub fn idempotency_token(event: &ClaimedEvent) -> String {
    format!("otto-{}-{}", event.webhook_sid, event.id)
}

fn describe(error: &reqwest::Error) -> String {
    let mut reason = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        reason.push_str(": ");
        reason.push_str(&cause.to_string());
        source = cause.source();
    }
    reason
}

fn new_worker_id() -> String {
    let mut random = [0u8; 4];
    // Without randomness the process ID alone still tells workers apart on one host.
    let _ = getrandom::fill(&mut random);
    let hex: String = random.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("otto-{}-{hex}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let config = EventDeliveryConfig {
            backoff_base_seconds: 10,
            backoff_max_seconds: 100,
            ..EventDeliveryConfig::default()
        };
        let delays: Vec<i64> = (1..=6).map(|n| config.backoff_seconds(n)).collect();
        assert_eq!(delays, [10, 20, 40, 80, 100, 100]);
        assert_eq!(config.backoff_seconds(1000), 100);
        assert_eq!(config.backoff_seconds(0), 10);
    }

    #[test]
    fn worker_ids_differ() {
        assert_ne!(new_worker_id(), new_worker_id());
    }
}
