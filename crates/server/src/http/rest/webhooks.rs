//! Webhooks: event subscriptions of an assistant (reference 2.13, 13).

use axum::Router;
use axum::routing::get;
use otto_store::{NewWebhook, WebhookRecord, WebhookUpdate};
use serde_json::{Value, json};

use super::{
    Answer, Call, Ids, OrApi, SHORT_LIMIT, UNIQUE_NAME_LIMIT, assistant_path, created, date,
    deleted, list_body, list_page, ok,
};
use crate::http::AppState;

const METHODS: [&str; 2] = ["GET", "POST"];

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/Assistants/{assistant}/Webhooks",
            get(list).post(create),
        )
        .route(
            "/v1/Assistants/{assistant}/Webhooks/{sid}",
            get(fetch).post(update).delete(remove),
        )
}

fn render(call: &Call, record: &WebhookRecord) -> Value {
    json!({
        "url": call.url(&assistant_path(
            &record.assistant_sid,
            &format!("Webhooks/{}", record.sid),
        )),
        "account_sid": record.account_sid,
        "date_created": date(record.date_created),
        "date_updated": date(record.date_updated),
        "assistant_sid": record.assistant_sid,
        "sid": record.sid,
        "unique_name": record.unique_name,
        "events": record.events,
        "webhook_url": record.webhook_url,
        "webhook_method": record.webhook_method,
    })
}

/// `WebhookMethod` as Twilio takes it: `GET` or `POST`, any case.
fn method(call: &Call) -> Result<Option<String>, crate::http::error::ApiError> {
    let Some(value) = call.form.get("WebhookMethod") else {
        return Ok(None);
    };
    let upper = value.to_ascii_uppercase();
    if METHODS.contains(&upper.as_str()) {
        Ok(Some(upper))
    } else {
        Err(crate::http::error::ApiError::bad_request(format!(
            "parameter WebhookMethod is {value:?}; it must be GET or POST"
        )))
    }
}

async fn list(Ids(assistant): Ids<String>, call: Call) -> Answer {
    let page = call.page()?;
    let listed = list_page(&page, |request| {
        let (assistant, call) = (assistant.clone(), &call);
        async move {
            call.store()
                .list_webhooks(call.account(), &assistant, &request)
                .await
        }
    })
    .await?;
    Ok(list_body(&call, "webhooks", &page, &[], listed, |record| {
        render(&call, record)
    }))
}

async fn create(Ids(assistant): Ids<String>, call: Call) -> Answer {
    let form = &call.form;
    let new = NewWebhook {
        unique_name: form.required("UniqueName", UNIQUE_NAME_LIMIT)?,
        events: form.required("Events", SHORT_LIMIT)?,
        webhook_url: match form.url("WebhookUrl")? {
            Some(url) => url,
            None => form.required("WebhookUrl", 0)?,
        },
        webhook_method: method(&call)?,
    };
    let record = call
        .store()
        .create_webhook(call.account(), &assistant, new)
        .await
        .api()?;
    Ok(created(render(&call, &record)))
}

async fn fetch(Ids((assistant, sid)): Ids<(String, String)>, call: Call) -> Answer {
    let record = call
        .store()
        .fetch_webhook(call.account(), &assistant, &sid)
        .await
        .api()?;
    Ok(ok(render(&call, &record)))
}

async fn update(Ids((assistant, sid)): Ids<(String, String)>, call: Call) -> Answer {
    let form = &call.form;
    let events = form.optional("Events", SHORT_LIMIT)?;
    if events
        .as_deref()
        .is_some_and(|events| events.trim().is_empty())
    {
        return Err(crate::http::error::ApiError::bad_request(
            "parameter Events must name at least one event (space-separated)",
        ));
    }
    let update = WebhookUpdate {
        unique_name: form.unique_name("UniqueName")?,
        events,
        webhook_url: form.url("WebhookUrl")?,
        webhook_method: method(&call)?,
    };
    let record = call
        .store()
        .update_webhook(call.account(), &assistant, &sid, update)
        .await
        .api()?;
    Ok(ok(render(&call, &record)))
}

async fn remove(Ids((assistant, sid)): Ids<(String, String)>, call: Call) -> Answer {
    call.store()
        .delete_webhook(call.account(), &assistant, &sid)
        .await
        .api()?;
    Ok(deleted())
}
