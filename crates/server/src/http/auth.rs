//! HTTP Basic authentication: the account SID and auth token, or an API key
//! (`SK…`) of the account and its secret. Every authenticated route calls
//! [`check`], so what counts as a credential is decided here only.

use axum::http::{HeaderMap, header};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use otto_model::SidPrefix;

use super::AppState;
use super::error::ApiError;

/// Which credential a request authenticated with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// The account SID and auth token: everything, also managing API keys.
    AuthToken,
    /// An API key: everything but managing API keys (Twilio's "standard" keys).
    ApiKey(String),
}

/// Checks the `Authorization` header: `AC…:auth_token` of the server's
/// account, or `SK…:secret` of one of its API keys. Anything else is 401; a
/// database that cannot be asked about a key is 503.
pub async fn check(headers: &HeaderMap, state: &AppState) -> Result<Credential, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(ApiError::unauthorized(
            "Authentication Error - No credentials provided: use HTTP Basic authentication with the account SID and auth token (or an API key SID and secret)",
        ));
    };
    let (user, password) = parse_basic(value.as_bytes()).ok_or_else(|| {
        ApiError::unauthorized(
            "Authentication Error - the Authorization header is not HTTP Basic credentials (Basic base64(AccountSid:AuthToken) or Basic base64(ApiKeySid:ApiKeySecret))",
        )
    })?;
    let account = &state.account;
    let valid = if user.starts_with(SidPrefix::ApiKey.as_str()) {
        state
            .turns
            .store()
            .verify_api_key(&account.sid, &user, &password)
            .await?
            .then_some(Credential::ApiKey(user))
    } else {
        let user_ok = constant_time_eq(user.as_bytes(), account.sid.as_str().as_bytes());
        let password_ok = constant_time_eq(password.as_bytes(), account.auth_token.as_bytes());
        (user_ok && password_ok).then_some(Credential::AuthToken)
    };
    if let Some(credential) = valid {
        Ok(credential)
    } else {
        Err(ApiError::unauthorized(
            "Authentication Error - invalid username or password",
        ))
    }
}

fn parse_basic(value: &[u8]) -> Option<(String, String)> {
    let value = std::str::from_utf8(value).ok()?.trim();
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(encoded.trim()).ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// Compares without stopping at the first difference.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_basic_credentials() {
        let header = format!("Basic {}", STANDARD.encode("AC1:secret:with:colons"));
        assert_eq!(
            parse_basic(header.as_bytes()),
            Some(("AC1".into(), "secret:with:colons".into()))
        );
        assert_eq!(parse_basic(b"Bearer abc"), None);
        assert_eq!(parse_basic(b"Basic !!!"), None);
        assert_eq!(parse_basic(b"Basic"), None);
        let no_colon = format!("basic {}", STANDARD.encode("AC1"));
        assert_eq!(parse_basic(no_colon.as_bytes()), None);
    }

    #[test]
    fn compares_exactly() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
