//! FieldTypes and FieldValues (reference 2.9).

use axum::Router;
use axum::routing::get;
use otto_store::{
    FieldTypeRecord, FieldTypeUpdate, FieldValueFilter, FieldValueRecord, NewFieldType,
    NewFieldValue,
};
use serde_json::{Value, json};

use super::{
    Answer, Call, FRIENDLY_NAME_LIMIT, Ids, OrApi, SHORT_LIMIT, TEXT_LIMIT, UNIQUE_NAME_LIMIT,
    assistant_path, created, date, deleted, list_body, list_page, ok,
};
use crate::http::AppState;

/// Longest field value (Autopilot documented none; values are words or short phrases).
pub const VALUE_LIMIT: usize = 255;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/Assistants/{assistant}/FieldTypes",
            get(list).post(create),
        )
        .route(
            "/v1/Assistants/{assistant}/FieldTypes/{sid}",
            get(fetch).post(update).delete(remove),
        )
        .route(
            "/v1/Assistants/{assistant}/FieldTypes/{field_type}/FieldValues",
            get(list_values).post(create_value),
        )
        .route(
            "/v1/Assistants/{assistant}/FieldTypes/{field_type}/FieldValues/{sid}",
            get(fetch_value).delete(remove_value),
        )
}

fn render(call: &Call, record: &FieldTypeRecord) -> Value {
    let path = assistant_path(&record.assistant_sid, &format!("FieldTypes/{}", record.sid));
    json!({
        "account_sid": record.account_sid,
        "date_created": date(record.date_created),
        "date_updated": date(record.date_updated),
        "friendly_name": record.friendly_name,
        "links": {
            "field_values": call.url(&format!("{path}/FieldValues")),
        },
        "assistant_sid": record.assistant_sid,
        "sid": record.sid,
        "unique_name": record.unique_name,
        "url": call.url(&path),
    })
}

fn render_value(call: &Call, record: &FieldValueRecord) -> Value {
    json!({
        "account_sid": record.account_sid,
        "date_created": date(record.date_created),
        "date_updated": date(record.date_updated),
        "field_type_sid": record.field_type_sid,
        "language": record.language,
        "assistant_sid": record.assistant_sid,
        "sid": record.sid,
        "value": record.value,
        "url": call.url(&assistant_path(
            &record.assistant_sid,
            &format!("FieldTypes/{}/FieldValues/{}", record.field_type_sid, record.sid),
        )),
        "synonym_of": record.synonym_of,
    })
}

async fn list(Ids(assistant): Ids<String>, call: Call) -> Answer {
    let page = call.page()?;
    let listed = list_page(&page, |request| {
        let (assistant, call) = (assistant.clone(), &call);
        async move {
            call.store()
                .list_field_types(call.account(), &assistant, &request)
                .await
        }
    })
    .await?;
    Ok(list_body(
        &call,
        "field_types",
        &page,
        &[],
        listed,
        |record| render(&call, record),
    ))
}

async fn create(Ids(assistant): Ids<String>, call: Call) -> Answer {
    let new = NewFieldType {
        unique_name: call.form.required("UniqueName", UNIQUE_NAME_LIMIT)?,
        friendly_name: call.form.optional("FriendlyName", FRIENDLY_NAME_LIMIT)?,
    };
    let record = call
        .store()
        .create_field_type(call.account(), &assistant, new)
        .await
        .api()?;
    Ok(created(render(&call, &record)))
}

async fn fetch(Ids((assistant, sid)): Ids<(String, String)>, call: Call) -> Answer {
    let record = call
        .store()
        .fetch_field_type(call.account(), &assistant, &sid)
        .await
        .api()?;
    Ok(ok(render(&call, &record)))
}

async fn update(Ids((assistant, sid)): Ids<(String, String)>, call: Call) -> Answer {
    let update = FieldTypeUpdate {
        unique_name: call.form.unique_name("UniqueName")?,
        friendly_name: call.form.clearable("FriendlyName", FRIENDLY_NAME_LIMIT)?,
    };
    let record = call
        .store()
        .update_field_type(call.account(), &assistant, &sid, update)
        .await
        .api()?;
    Ok(ok(render(&call, &record)))
}

async fn remove(Ids((assistant, sid)): Ids<(String, String)>, call: Call) -> Answer {
    call.store()
        .delete_field_type(call.account(), &assistant, &sid)
        .await
        .api()?;
    Ok(deleted())
}

async fn list_values(Ids((assistant, field_type)): Ids<(String, String)>, call: Call) -> Answer {
    let page = call.page()?;
    let language = call.query.optional("Language", SHORT_LIMIT)?;
    let filter = FieldValueFilter {
        language: language.clone(),
    };
    let listed = list_page(&page, |request| {
        let (assistant, field_type, call, filter) =
            (assistant.clone(), field_type.clone(), &call, &filter);
        async move {
            call.store()
                .list_field_values(call.account(), &assistant, &field_type, filter, &request)
                .await
        }
    })
    .await?;
    Ok(list_body(
        &call,
        "field_values",
        &page,
        &[("Language", language.as_deref())],
        listed,
        |record| render_value(&call, record),
    ))
}

async fn create_value(Ids((assistant, field_type)): Ids<(String, String)>, call: Call) -> Answer {
    let new = NewFieldValue {
        language: call.form.required("Language", SHORT_LIMIT)?,
        value: call.form.required("Value", VALUE_LIMIT)?,
        // The canonical value's text or SID (importers send the text).
        synonym_of: call
            .form
            .optional("SynonymOf", TEXT_LIMIT)?
            .filter(|value| !value.is_empty()),
    };
    let record = call
        .store()
        .create_field_value(call.account(), &assistant, &field_type, new)
        .await
        .api()?;
    Ok(created(render_value(&call, &record)))
}

async fn fetch_value(
    Ids((assistant, field_type, sid)): Ids<(String, String, String)>,
    call: Call,
) -> Answer {
    let record = call
        .store()
        .fetch_field_value(call.account(), &assistant, &field_type, &sid)
        .await
        .api()?;
    Ok(ok(render_value(&call, &record)))
}

async fn remove_value(
    Ids((assistant, field_type, sid)): Ids<(String, String, String)>,
    call: Call,
) -> Answer {
    call.store()
        .delete_field_value(call.account(), &assistant, &field_type, &sid)
        .await
        .api()?;
    Ok(deleted())
}
