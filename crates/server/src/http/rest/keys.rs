//! API keys as Twilio's 2010 API serves them, so `client.new_keys.create()`
//! and `client.keys…` of the helper libraries work:
//!
//! - `GET, POST /2010-04-01/Accounts/{AccountSid}/Keys.json` (list; create
//!   with `FriendlyName`, answering the secret this once),
//! - `GET, POST, DELETE /2010-04-01/Accounts/{AccountSid}/Keys/{Sid}.json`.
//!
//! Only the auth token may manage keys: the keys otto makes are Twilio's
//! "standard" keys, which cannot (a leaked key cannot mint more keys or delete
//! the others). The 2010 API's shapes differ from Autopilot's v1: dates are
//! RFC 2822, lists carry `*_page_uri` paths instead of `meta`.

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use otto_store::{API_KEY_NAME_LIMIT, ApiKeyRecord, Page};
use serde_json::{Value, json};

use super::{Answer, Call, Ids, OrApi, PageParams, created, deleted, list_page, ok};
use crate::http::AppState;
use crate::http::auth::Credential;
use crate::http::error::ApiError;

/// Twilio's code for a request its credentials may not make.
const FORBIDDEN: u32 = 20403;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/2010-04-01/Accounts/{account}/Keys.json",
            get(list).post(create),
        )
        // `{sid}.json` is one segment: the `.json` is checked in the handler.
        .route(
            "/2010-04-01/Accounts/{account}/Keys/{file}",
            get(fetch).post(update).delete(remove),
        )
}

/// The account in the path must be this server's, and the credential the
/// auth token.
fn check(call: &Call, account: &str) -> Result<(), ApiError> {
    if account != call.account().as_str() {
        return Err(ApiError::not_found(format!(
            "account {account:?} was not found: this server runs account {}",
            call.account()
        )));
    }
    if let Credential::ApiKey(key) = &call.credential {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            FORBIDDEN,
            format!(
                "API key {key} may not manage API keys: use the account SID and auth token (otto's keys are Twilio's standard keys)"
            ),
        ));
    }
    Ok(())
}

/// `SK….json` → `SK…`; any other file name is not a resource here.
fn key_of(call: &Call, file: &str) -> Result<String, ApiError> {
    file.strip_suffix(".json")
        .map(str::to_owned)
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "The requested resource {} was not found",
                call.path
            ))
        })
}

fn render(record: &ApiKeyRecord) -> Value {
    json!({
        "sid": record.sid,
        "friendly_name": record.friendly_name,
        "date_created": rfc2822(record.date_created),
        "date_updated": rfc2822(record.date_updated),
    })
}

/// Twilio's 2010 API dates: `Wed, 11 Mar 2026 10:00:00 +0000`.
fn rfc2822(epoch: i64) -> String {
    chrono::DateTime::from_timestamp(epoch, 0)
        .unwrap_or_default()
        .format("%a, %d %b %Y %H:%M:%S +0000")
        .to_string()
}

fn friendly_name(call: &Call) -> Result<Option<String>, ApiError> {
    call.form.optional("FriendlyName", API_KEY_NAME_LIMIT)
}

async fn list(Ids(account): Ids<String>, call: Call) -> Answer {
    check(&call, &account)?;
    let page = call.page()?;
    let listed = list_page(&page, |request| {
        let call = &call;
        async move { call.store().list_api_keys(call.account(), &request).await }
    })
    .await?;
    Ok(ok(list_body(&call, &page, listed)))
}

/// The 2010 list: `{keys, start, end, page, page_size, uri, first_page_uri,
/// next_page_uri, previous_page_uri}`, URIs as paths.
fn list_body(call: &Call, page: &PageParams, listed: Page<ApiKeyRecord>) -> Value {
    let uri = |number: u64, token: Option<&str>| {
        let mut query = form_urlencoded::Serializer::new(String::new());
        query.append_pair("PageSize", &page.size.to_string());
        query.append_pair("Page", &number.to_string());
        if let Some(token) = token {
            query.append_pair("PageToken", token);
        }
        format!("{}?{}", call.path, query.finish())
    };
    let start = page.page * u64::from(page.size);
    let count = listed.items.len() as u64;
    json!({
        "keys": listed.items.iter().map(render).collect::<Vec<_>>(),
        "start": start,
        "end": start + count.saturating_sub(1),
        "page": page.page,
        "page_size": page.size,
        "uri": uri(page.page, page.token.as_deref()),
        "first_page_uri": uri(0, None),
        "next_page_uri": listed.next_page_token.as_deref().map(|token| uri(page.page + 1, Some(token))),
        "previous_page_uri": listed
            .previous_page_token
            .as_deref()
            .map(|token| uri(page.page.saturating_sub(1), Some(token))),
    })
}

async fn create(Ids(account): Ids<String>, call: Call) -> Answer {
    check(&call, &account)?;
    let name = friendly_name(&call)?;
    let new = call
        .store()
        .create_api_key(call.account(), name.as_deref())
        .await
        .api()?;
    let mut body = render(&new.record);
    body["secret"] = Value::String(new.secret);
    Ok(created(body))
}

async fn fetch(Ids((account, file)): Ids<(String, String)>, call: Call) -> Answer {
    check(&call, &account)?;
    let key = key_of(&call, &file)?;
    let record = call
        .store()
        .fetch_api_key(call.account(), &key)
        .await
        .api()?;
    Ok(ok(render(&record)))
}

async fn update(Ids((account, file)): Ids<(String, String)>, call: Call) -> Answer {
    check(&call, &account)?;
    let key = key_of(&call, &file)?;
    let store = call.store();
    let record = match friendly_name(&call)? {
        // An empty FriendlyName clears it, as elsewhere in the API.
        Some(name) => {
            let name = (!name.is_empty()).then_some(name);
            store
                .update_api_key(call.account(), &key, name.as_deref())
                .await
                .api()?
        }
        None => store.fetch_api_key(call.account(), &key).await.api()?,
    };
    Ok(ok(render(&record)))
}

async fn remove(Ids((account, file)): Ids<(String, String)>, call: Call) -> Answer {
    check(&call, &account)?;
    let key = key_of(&call, &file)?;
    call.store()
        .delete_api_key(call.account(), &key)
        .await
        .api()?;
    Ok(deleted())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_rfc_2822() {
        assert_eq!(rfc2822(1_773_223_200), "Wed, 11 Mar 2026 10:00:00 +0000");
    }
}
