//! `GET /v1/openapi.json`: the OpenAPI description of the REST API otto
//! serves (`crates/server/openapi/`, generated from Twilio's description by
//! `generate.py` there), with `servers` set to this server's public URL. No
//! credentials are needed: it describes, it holds no data.

use std::sync::OnceLock;

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde_json::{Value, json};

use crate::http::AppState;

/// Where the description is served.
pub const OPENAPI_PATH: &str = "/v1/openapi.json";

const DOCUMENT: &str = include_str!("../../../openapi/otto_autopilot_v1.openapi.json");

pub fn router() -> Router<AppState> {
    Router::new().route(OPENAPI_PATH, get(serve))
}

/// The parsed description (parsed once; it is about 200 KB).
fn document() -> &'static Value {
    static PARSED: OnceLock<Value> = OnceLock::new();
    PARSED.get_or_init(|| {
        serde_json::from_str(DOCUMENT).expect("the embedded OpenAPI description is valid JSON")
    })
}

async fn serve(State(state): State<AppState>) -> axum::Json<Value> {
    let mut document = document().clone();
    document["servers"] = json!([{ "url": state.public_url.trim_end_matches('/') }]);
    axum::Json(document)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_embedded_description_parses() {
        let document = super::document();
        assert!(document["paths"]["/v1/Assistants"]["post"].is_object());
        assert!(document["components"]["schemas"]["otto.error"].is_object());
        let keys = &document["paths"]["/2010-04-01/Accounts/{AccountSid}/Keys.json"];
        assert!(keys["post"]["responses"]["201"].is_object());
    }
}
