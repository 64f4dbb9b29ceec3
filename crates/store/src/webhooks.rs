//! Event webhooks (`UM…`): subscriptions of URLs to dialogue events.

use otto_model::{Sid, SidPrefix};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;

use crate::assistants::update_row;
use crate::db::{
    Arg, Store, WEBHOOKS, check_unique_name, delete_row, int, name_taken, new_sid, query_with,
    resolve, resolve_assistant, sid, text, unique_name_taken,
};
use crate::error::{ResourceKind, Result, StoreError};
use crate::page::{ListQuery, Page, PageRequest, fetch_page};
use crate::tasks::unique_to_taken;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookRecord {
    pub sid: Sid,
    pub account_sid: Sid,
    pub assistant_sid: Sid,
    pub unique_name: String,
    /// Space-separated event names as given (matched ignoring case).
    pub events: String,
    pub webhook_url: String,
    /// `GET` or `POST`.
    pub webhook_method: String,
    pub date_created: i64,
    pub date_updated: i64,
}

impl WebhookRecord {
    /// Whether the webhook subscribes to `event` (ignoring case).
    pub fn subscribes_to(&self, event: &str) -> bool {
        subscribes(&self.events, event)
    }
}

pub(crate) fn subscribes(events: &str, event: &str) -> bool {
    events
        .split_whitespace()
        .any(|name| name.eq_ignore_ascii_case(event))
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewWebhook {
    pub unique_name: String,
    pub events: String,
    pub webhook_url: String,
    /// `POST` when not given.
    pub webhook_method: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebhookUpdate {
    pub unique_name: Option<String>,
    pub events: Option<String>,
    pub webhook_url: Option<String>,
    pub webhook_method: Option<String>,
}

const WEBHOOK_FROM: &str =
    "(SELECT w.*, a.account_sid FROM webhooks w JOIN assistants a ON a.sid = w.assistant_sid) AS x";
const WEBHOOK_COLUMNS: &str = "seq, sid, account_sid, assistant_sid, unique_name, events, webhook_url, webhook_method, date_created, date_updated";

fn webhook_from_row(row: &AnyRow) -> Result<WebhookRecord> {
    Ok(WebhookRecord {
        sid: sid(row, "sid")?,
        account_sid: sid(row, "account_sid")?,
        assistant_sid: sid(row, "assistant_sid")?,
        unique_name: text(row, "unique_name")?,
        events: text(row, "events")?,
        webhook_url: text(row, "webhook_url")?,
        webhook_method: text(row, "webhook_method")?,
        date_created: int(row, "date_created")?,
        date_updated: int(row, "date_updated")?,
    })
}

async fn webhook_by_sid(conn: &mut AnyConnection, sid: &Sid) -> Result<WebhookRecord> {
    let sql = format!("SELECT {WEBHOOK_COLUMNS} FROM {WEBHOOK_FROM} WHERE sid = $1");
    let row = query_with(sql, vec![sid.into()]).fetch_one(conn).await?;
    webhook_from_row(&row)
}

fn check_method(method: &str) -> Result<String> {
    let upper = method.to_ascii_uppercase();
    if upper == "GET" || upper == "POST" {
        Ok(upper)
    } else {
        Err(StoreError::invalid(
            "WebhookMethod",
            format!("{method:?} is not GET or POST"),
        ))
    }
}

fn check_events(events: &str) -> Result<()> {
    if events.split_whitespace().next().is_none() {
        return Err(StoreError::invalid(
            "Events",
            "name at least one event (space-separated)",
        ));
    }
    Ok(())
}

fn check_url(url: &str) -> Result<()> {
    if url.starts_with("http://") || url.starts_with("https://") {
        Ok(())
    } else {
        Err(StoreError::invalid(
            "WebhookUrl",
            format!("{url:?} is not an http(s) URL"),
        ))
    }
}

impl Store {
    pub async fn create_webhook(
        &self,
        account: &Sid,
        assistant: &str,
        new: NewWebhook,
    ) -> Result<WebhookRecord> {
        check_unique_name(ResourceKind::Webhook, SidPrefix::Webhook, &new.unique_name)?;
        check_events(&new.events)?;
        check_url(&new.webhook_url)?;
        let method = check_method(new.webhook_method.as_deref().unwrap_or("POST"))?;
        let mut tx = self.write_tx().await?;
        let assistant = resolve_assistant(&mut tx, account, assistant).await?;
        if unique_name_taken(&mut tx, &WEBHOOKS, &assistant, &new.unique_name, None).await? {
            return Err(name_taken(&WEBHOOKS, &assistant, &new.unique_name));
        }
        let sid = new_sid(SidPrefix::Webhook);
        let now = self.now();
        let columns = [
            "sid",
            "assistant_sid",
            "unique_name",
            "events",
            "webhook_url",
            "webhook_method",
            "date_created",
            "date_updated",
        ];
        let row: Vec<Arg> = vec![
            (&sid).into(),
            (&assistant).into(),
            new.unique_name.clone().into(),
            new.events.into(),
            new.webhook_url.into(),
            method.into(),
            now.into(),
            now.into(),
        ];
        crate::db::insert_rows(&mut tx, "webhooks", &columns, vec![row])
            .await
            .map_err(|error| unique_to_taken(error, &WEBHOOKS, &assistant, &new.unique_name))?;
        let record = webhook_by_sid(&mut tx, &sid).await?;
        tx.commit().await?;
        Ok(record)
    }

    pub async fn fetch_webhook(
        &self,
        account: &Sid,
        assistant: &str,
        webhook: &str,
    ) -> Result<WebhookRecord> {
        let mut conn = self.conn().await?;
        let assistant = resolve_assistant(&mut conn, account, assistant).await?;
        let webhook = resolve(&mut conn, &WEBHOOKS, &assistant, webhook).await?;
        webhook_by_sid(&mut conn, &webhook).await
    }

    pub async fn update_webhook(
        &self,
        account: &Sid,
        assistant: &str,
        webhook: &str,
        update: WebhookUpdate,
    ) -> Result<WebhookRecord> {
        let mut tx = self.write_tx().await?;
        let assistant = resolve_assistant(&mut tx, account, assistant).await?;
        let webhook = resolve(&mut tx, &WEBHOOKS, &assistant, webhook).await?;
        let mut sets: Vec<(&str, Arg)> = Vec::new();
        if let Some(unique_name) = &update.unique_name {
            check_unique_name(ResourceKind::Webhook, SidPrefix::Webhook, unique_name)?;
            if unique_name_taken(&mut tx, &WEBHOOKS, &assistant, unique_name, Some(&webhook))
                .await?
            {
                return Err(name_taken(&WEBHOOKS, &assistant, unique_name));
            }
            sets.push(("unique_name", unique_name.clone().into()));
        }
        if let Some(events) = update.events {
            check_events(&events)?;
            sets.push(("events", events.into()));
        }
        if let Some(url) = update.webhook_url {
            check_url(&url)?;
            sets.push(("webhook_url", url.into()));
        }
        if let Some(method) = update.webhook_method {
            sets.push(("webhook_method", check_method(&method)?.into()));
        }
        sets.push(("date_updated", self.now().into()));
        update_row(&mut tx, "webhooks", &webhook, sets).await?;
        let record = webhook_by_sid(&mut tx, &webhook).await?;
        tx.commit().await?;
        Ok(record)
    }

    /// Deletes a webhook; its undelivered events are dropped with it.
    pub async fn delete_webhook(
        &self,
        account: &Sid,
        assistant: &str,
        webhook: &str,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let assistant = resolve_assistant(&mut tx, account, assistant).await?;
        let webhook = resolve(&mut tx, &WEBHOOKS, &assistant, webhook).await?;
        delete_row(&mut tx, &WEBHOOKS, &assistant, &webhook).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn list_webhooks(
        &self,
        account: &Sid,
        assistant: &str,
        page: &PageRequest,
    ) -> Result<Page<WebhookRecord>> {
        let mut conn = self.conn().await?;
        let assistant = resolve_assistant(&mut conn, account, assistant).await?;
        let list = ListQuery {
            table: WEBHOOK_FROM,
            columns: WEBHOOK_COLUMNS,
            filter: "assistant_sid = $1".to_owned(),
            args: vec![(&assistant).into()],
        };
        fetch_page(&mut conn, list, page)
            .await?
            .try_map(|row| webhook_from_row(&row))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscriptions_ignore_case_and_spacing() {
        assert!(subscribes(
            "onDialogueStart  ondialogueend",
            "onDialogueEnd"
        ));
        assert!(!subscribes("onDialogueStart", "onDialogueEnd"));
        assert!(!subscribes("", "onDialogueEnd"));
    }

    #[test]
    fn methods_and_urls() {
        assert_eq!(check_method("post").unwrap(), "POST");
        assert!(check_method("PUT").is_err());
        assert!(check_url("https://example.com/hook").is_ok());
        assert_eq!(
            check_url("ftp://x").unwrap_err().to_string(),
            "invalid WebhookUrl: \"ftp://x\" is not an http(s) URL"
        );
        assert!(check_events("  ").is_err());
    }
}
