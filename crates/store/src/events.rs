//! The durable event-delivery queue.
//!
//! An event enqueued for an assistant becomes one row per subscribed webhook.
//! Workers claim due rows with a lease: on PostgreSQL with `FOR UPDATE SKIP
//! LOCKED` (claimers never wait on or take each other's rows), on SQLite in a
//! write transaction (one claimer at a time). A claimed row is `delivering`
//! until its worker completes or reschedules it; if the worker dies, the lease
//! runs out and another worker may claim it again (at-least-once delivery).

use std::fmt;

use otto_model::Sid;
use sqlx::any::AnyRow;

use crate::db::{
    Arg, Backend, Store, int, json, opt_int, opt_text, query_with, sid, text, to_json_text,
};
use crate::error::{ResourceKind, Result, StoreError};
use crate::page::{ListQuery, Page, PageRequest, fetch_page};
use crate::sql::{SqlConn, insert_statements};
use crate::webhooks::subscribes;

/// An event to deliver to the webhooks subscribed to its name.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// The event name, e.g. `onDialogueEnd` (matched ignoring case).
    pub event: String,
    payload: Payload,
}

/// What the delivery worker sends. An engine event is turned into its form
/// parameters only when a webhook subscribes to it: most turns' events are
/// never queued, and writing them (the memory as JSON, every parameter) was
/// a noticeable part of a turn.
#[derive(Debug, Clone, PartialEq)]
enum Payload {
    Json(serde_json::Value),
    Engine(Box<otto_engine::Event>),
}

impl NewEvent {
    pub fn new(event: &str, payload: serde_json::Value) -> NewEvent {
        NewEvent {
            event: event.to_owned(),
            payload: Payload::Json(payload),
        }
    }

    /// An engine event; the payload is its form parameters as a JSON array of
    /// `[name, value]` pairs (order kept), read back by [`ClaimedEvent::form_params`].
    pub fn from_engine(event: otto_engine::Event) -> NewEvent {
        NewEvent {
            event: event.kind.name().to_owned(),
            payload: Payload::Engine(Box::new(event)),
        }
    }

    /// What is queued for delivery.
    pub fn payload(&self) -> serde_json::Value {
        match &self.payload {
            Payload::Json(value) => value.clone(),
            Payload::Engine(event) => serde_json::Value::Array(
                event
                    .params()
                    .into_iter()
                    .map(|(name, value)| serde_json::json!([name, value]))
                    .collect(),
            ),
        }
    }

    fn payload_text(&self) -> String {
        match &self.payload {
            Payload::Json(value) => to_json_text(value),
            Payload::Engine(_) => to_json_text(&self.payload()),
        }
    }
}

/// Where a queued event stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventStatus {
    /// Waiting for its next attempt.
    Pending,
    /// Claimed by a worker under a lease.
    Delivering,
    Delivered,
    /// Given up on.
    Failed,
}

impl EventStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            EventStatus::Pending => "pending",
            EventStatus::Delivering => "delivering",
            EventStatus::Delivered => "delivered",
            EventStatus::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<EventStatus> {
        [
            EventStatus::Pending,
            EventStatus::Delivering,
            EventStatus::Delivered,
            EventStatus::Failed,
        ]
        .into_iter()
        .find(|status| status.as_str() == text)
    }
}

impl fmt::Display for EventStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A row of the queue.
#[derive(Debug, Clone, PartialEq)]
pub struct QueuedEvent {
    pub id: i64,
    pub assistant_sid: Sid,
    pub webhook_sid: Sid,
    pub event: String,
    pub payload: serde_json::Value,
    pub status: EventStatus,
    /// Claims so far.
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub lease_owner: Option<String>,
    pub lease_until: Option<i64>,
    pub last_error: Option<String>,
    pub date_created: i64,
    pub date_updated: i64,
}

/// An event a worker claimed, with where to send it.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedEvent {
    pub id: i64,
    pub assistant_sid: Sid,
    pub webhook_sid: Sid,
    pub webhook_url: String,
    pub webhook_method: String,
    pub event: String,
    pub payload: serde_json::Value,
    /// Including this one.
    pub attempts: i64,
    /// Complete or reschedule before this instant, or another worker may take it.
    pub lease_until: i64,
}

impl ClaimedEvent {
    /// The form parameters of a payload made by [`NewEvent::from_engine`];
    /// `None` for a payload of another shape.
    pub fn form_params(&self) -> Option<Vec<(String, String)>> {
        self.payload
            .as_array()?
            .iter()
            .map(|pair| match pair.as_array().map(Vec::as_slice) {
                Some([name, value]) => {
                    Some((name.as_str()?.to_owned(), value.as_str()?.to_owned()))
                }
                _ => None,
            })
            .collect()
    }
}

const EVENT_COLUMNS: &str = "id, assistant_sid, webhook_sid, event, payload, status, attempts, next_attempt_at, lease_owner, lease_until, last_error, date_created, date_updated";

fn status_of(row: &AnyRow) -> Result<EventStatus> {
    let status = text(row, "status")?;
    EventStatus::parse(&status)
        .ok_or_else(|| StoreError::corrupt("event status", format!("{status:?} is not a status")))
}

fn event_from_row(row: &AnyRow) -> Result<QueuedEvent> {
    Ok(QueuedEvent {
        id: int(row, "id")?,
        assistant_sid: sid(row, "assistant_sid")?,
        webhook_sid: sid(row, "webhook_sid")?,
        event: text(row, "event")?,
        payload: json(row, "payload")?,
        status: status_of(row)?,
        attempts: int(row, "attempts")?,
        next_attempt_at: int(row, "next_attempt_at")?,
        lease_owner: opt_text(row, "lease_owner")?,
        lease_until: opt_int(row, "lease_until")?,
        last_error: opt_text(row, "last_error")?,
        date_created: int(row, "date_created")?,
        date_updated: int(row, "date_updated")?,
    })
}

/// Fans events out to the assistant's subscribed webhooks; returns the rows added.
pub(crate) async fn enqueue<C: SqlConn>(
    conn: &mut C,
    assistant: &Sid,
    events: &[NewEvent],
    now: i64,
) -> Result<usize> {
    if events.is_empty() {
        return Ok(0);
    }
    let webhooks = conn.webhook_subscriptions(assistant).await?;
    let mut rows = Vec::new();
    for event in events {
        // Written only when some webhook wants it (most turns: none does).
        let mut payload = None;
        for (webhook, subscribed) in &webhooks {
            if subscribes(subscribed, &event.event) {
                let payload = payload.get_or_insert_with(|| event.payload_text());
                rows.push(vec![
                    assistant.into(),
                    webhook.clone().into(),
                    event.event.clone().into(),
                    payload.clone().into(),
                    "pending".into(),
                    0.into(),
                    now.into(),
                    Arg::OptText(None),
                    Arg::OptInt(None),
                    Arg::OptText(None),
                    now.into(),
                    now.into(),
                ]);
            }
        }
    }
    let count = rows.len();
    let statements = insert_statements(
        "event_queue",
        &[
            "assistant_sid",
            "webhook_sid",
            "event",
            "payload",
            "status",
            "attempts",
            "next_attempt_at",
            "lease_owner",
            "lease_until",
            "last_error",
            "date_created",
            "date_updated",
        ],
        rows,
    );
    for (sql, args) in statements {
        conn.execute(&sql, args).await?;
    }
    Ok(count)
}

impl Store {
    /// Queues events outside a turn (e.g. a sweeper's `onDialogueEnd`).
    /// Returns how many deliveries were queued.
    pub async fn enqueue_events(&self, assistant: &Sid, events: &[NewEvent]) -> Result<usize> {
        let mut tx = self.write_tx().await?;
        let count = enqueue(&mut *tx, assistant, events, self.now()).await?;
        tx.commit().await?;
        Ok(count)
    }

    /// Claims up to `limit` due events for `worker` for `lease_seconds`: pending
    /// ones whose time has come and delivering ones whose lease ran out, oldest
    /// first. No event is handed to two workers under a live lease.
    pub async fn claim_events(
        &self,
        worker: &str,
        limit: u32,
        lease_seconds: i64,
    ) -> Result<Vec<ClaimedEvent>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let now = self.now();
        let lease_until = now + lease_seconds;
        let lock = match self.backend() {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        };
        let mut tx = self.write_tx().await?;
        let sql = format!(
            "UPDATE event_queue SET status = 'delivering', attempts = attempts + 1, lease_owner = $1, lease_until = $2, date_updated = $3 \
             WHERE id IN (SELECT id FROM event_queue \
             WHERE (status = 'pending' AND next_attempt_at <= $3) OR (status = 'delivering' AND lease_until <= $3) \
             ORDER BY next_attempt_at, id LIMIT $4{lock}) \
             RETURNING id"
        );
        let ids = query_with(
            sql,
            vec![
                worker.into(),
                lease_until.into(),
                now.into(),
                i64::from(limit).into(),
            ],
        )
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|row| int(row, "id"))
        .collect::<Result<Vec<_>>>()?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders = (0..ids.len())
            .map(|index| format!("${}", index + 1))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT q.id, q.assistant_sid, q.webhook_sid, w.webhook_url, w.webhook_method, q.event, q.payload, q.attempts, q.lease_until \
             FROM event_queue q JOIN webhooks w ON w.sid = q.webhook_sid WHERE q.id IN ({placeholders}) ORDER BY q.next_attempt_at, q.id"
        );
        let rows = query_with(sql, ids.into_iter().map(Arg::from).collect())
            .fetch_all(&mut *tx)
            .await?;
        let claimed = rows
            .iter()
            .map(|row| {
                Ok(ClaimedEvent {
                    id: int(row, "id")?,
                    assistant_sid: sid(row, "assistant_sid")?,
                    webhook_sid: sid(row, "webhook_sid")?,
                    webhook_url: text(row, "webhook_url")?,
                    webhook_method: text(row, "webhook_method")?,
                    event: text(row, "event")?,
                    payload: json(row, "payload")?,
                    attempts: int(row, "attempts")?,
                    lease_until: int(row, "lease_until")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        tx.commit().await?;
        Ok(claimed)
    }

    /// Marks a claimed event delivered. `LeaseLost` if the worker does not hold it.
    pub async fn complete_event(&self, id: i64, worker: &str) -> Result<()> {
        let now = self.now();
        let done = sqlx::query(
            "UPDATE event_queue SET status = 'delivered', lease_owner = NULL, lease_until = NULL, last_error = NULL, date_updated = $1 \
             WHERE id = $2 AND status = 'delivering' AND lease_owner = $3",
        )
        .bind(now)
        .bind(id)
        .bind(worker)
        .execute(&self.inner.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(self.lease_lost(id, worker).await);
        }
        Ok(())
    }

    /// Reschedules a claimed event after a failed delivery: again at
    /// `next_attempt_at`, or never (`None`: status `failed`).
    pub async fn retry_event(
        &self,
        id: i64,
        worker: &str,
        error: &str,
        next_attempt_at: Option<i64>,
    ) -> Result<QueuedEvent> {
        let now = self.now();
        let (status, next) = match next_attempt_at {
            Some(at) => (EventStatus::Pending, at),
            None => (EventStatus::Failed, now),
        };
        let done = sqlx::query(
            "UPDATE event_queue SET status = $1, next_attempt_at = $2, lease_owner = NULL, lease_until = NULL, last_error = $3, date_updated = $4 \
             WHERE id = $5 AND status = 'delivering' AND lease_owner = $6",
        )
        .bind(status.as_str())
        .bind(next)
        .bind(error)
        .bind(now)
        .bind(id)
        .bind(worker)
        .execute(&self.inner.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(self.lease_lost(id, worker).await);
        }
        self.fetch_event(id).await
    }

    async fn lease_lost(&self, id: i64, worker: &str) -> StoreError {
        match self.fetch_event(id).await {
            Ok(event) => StoreError::LeaseLost {
                id,
                worker: worker.to_owned(),
                status: match event.lease_owner {
                    Some(owner) => format!("{}, leased by {owner:?}", event.status),
                    None => event.status.to_string(),
                },
            },
            Err(error) => error,
        }
    }

    /// One queued event by id.
    pub async fn fetch_event(&self, id: i64) -> Result<QueuedEvent> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM event_queue WHERE id = $1");
        let row = query_with(sql, vec![id.into()])
            .fetch_optional(&self.inner.pool)
            .await?
            .ok_or_else(|| StoreError::not_found(ResourceKind::Event, &id.to_string(), None))?;
        event_from_row(&row)
    }

    /// The assistant's queued events in order, any status (for operators).
    pub async fn list_events(
        &self,
        assistant: &Sid,
        page: &PageRequest,
    ) -> Result<Page<QueuedEvent>> {
        let mut conn = self.conn().await?;
        let list = ListQuery {
            table: "(SELECT id AS seq, e.* FROM event_queue e) AS x",
            columns: "seq, id, assistant_sid, webhook_sid, event, payload, status, attempts, next_attempt_at, lease_owner, lease_until, last_error, date_created, date_updated",
            filter: "assistant_sid = $1".to_owned(),
            args: vec![assistant.into()],
        };
        fetch_page(&mut conn, list, page)
            .await?
            .try_map(|row| event_from_row(&row))
    }

    /// Deletes delivered and failed events last touched before `before`.
    pub async fn purge_events(&self, before: i64) -> Result<u64> {
        let done = sqlx::query(
            "DELETE FROM event_queue WHERE status IN ('delivered', 'failed') AND date_updated < $1",
        )
        .bind(before)
        .execute(&self.inner.pool)
        .await?;
        Ok(done.rows_affected())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn form_params_read_pairs() {
        let event = ClaimedEvent {
            id: 1,
            assistant_sid: Sid::from_number(otto_model::SidPrefix::Assistant, 1),
            webhook_sid: Sid::from_number(otto_model::SidPrefix::Webhook, 1),
            webhook_url: "https://example.com".into(),
            webhook_method: "POST".into(),
            event: "onDialogueEnd".into(),
            payload: json!([["Event", "onDialogueEnd"], ["Memory", "{}"]]),
            attempts: 1,
            lease_until: 10,
        };
        assert_eq!(
            event.form_params().unwrap(),
            vec![
                ("Event".to_owned(), "onDialogueEnd".to_owned()),
                ("Memory".to_owned(), "{}".to_owned())
            ]
        );
        let other = ClaimedEvent {
            payload: json!({"x": 1}),
            ..event
        };
        assert_eq!(other.form_params(), None);
    }

    #[test]
    fn statuses_round_trip() {
        for status in [
            EventStatus::Pending,
            EventStatus::Delivering,
            EventStatus::Delivered,
            EventStatus::Failed,
        ] {
            assert_eq!(EventStatus::parse(status.as_str()), Some(status));
        }
    }
}
