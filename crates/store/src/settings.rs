//! Global settings (key/value) and the account the server runs as.

use otto_model::{Sid, SidPrefix};

use crate::db::{Store, text};
use crate::error::{Result, StoreError};

/// Setting key of the generated account SID.
pub const ACCOUNT_SID_KEY: &str = "account_sid";
/// Setting key of the generated auth token.
pub const AUTH_TOKEN_KEY: &str = "auth_token";

/// The account every request authenticates as (HTTP Basic: SID and token).
#[derive(Clone, PartialEq, Eq)]
pub struct Account {
    pub sid: Sid,
    pub auth_token: String,
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account")
            .field("sid", &self.sid)
            .field("auth_token", &"…")
            .finish()
    }
}

/// 32 random lower-case hex digits, like a Twilio auth token.
fn random_token() -> String {
    Sid::generate(SidPrefix::Account).as_str()[2..].to_owned()
}

impl Store {
    pub async fn get_setting(&self, key: &str) -> Result<Option<String>> {
        let row = sqlx::query("SELECT value FROM settings WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.inner.pool)
            .await?;
        row.map(|row| text(&row, "value")).transpose()
    }

    /// Sets (inserts or replaces) a setting.
    pub async fn set_setting(&self, key: &str, value: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO settings (key, value, date_updated) VALUES ($1, $2, $3) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, date_updated = excluded.date_updated",
        )
        .bind(key)
        .bind(value)
        .bind(self.now())
        .execute(&self.inner.pool)
        .await?;
        Ok(())
    }

    /// Stores `value` unless the key already has one; returns the value in force.
    /// Several processes starting at once agree on one value.
    pub async fn setting_or_insert(&self, key: &str, value: &str) -> Result<String> {
        sqlx::query(
            "INSERT INTO settings (key, value, date_updated) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(value)
        .bind(self.now())
        .execute(&self.inner.pool)
        .await?;
        self.get_setting(key).await?.ok_or_else(|| {
            StoreError::corrupt(
                format!("setting {key}"),
                "it vanished right after being set",
            )
        })
    }

    /// The account to serve: values from the environment win (and are not
    /// stored); otherwise the stored ones, generated and stored on first start.
    pub async fn ensure_account(
        &self,
        env_sid: Option<&str>,
        env_auth_token: Option<&str>,
    ) -> Result<Account> {
        let sid = match env_sid {
            Some(text) => Sid::parse_kind(text, SidPrefix::Account)
                .map_err(|error| StoreError::invalid("OTTO_ACCOUNT_SID", error.to_string()))?,
            None => {
                let generated = Sid::generate(SidPrefix::Account);
                let stored = self
                    .setting_or_insert(ACCOUNT_SID_KEY, generated.as_str())
                    .await?;
                Sid::parse_kind(&stored, SidPrefix::Account)
                    .map_err(|error| StoreError::corrupt("setting account_sid", error))?
            }
        };
        let auth_token = match env_auth_token {
            Some("") => {
                return Err(StoreError::invalid(
                    "OTTO_AUTH_TOKEN",
                    "it is set but empty; unset it to use the stored token",
                ));
            }
            Some(token) => token.to_owned(),
            None => {
                self.setting_or_insert(AUTH_TOKEN_KEY, &random_token())
                    .await?
            }
        };
        Ok(Account { sid, auth_token })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_32_hex_digits() {
        let token = random_token();
        assert_eq!(token.len(), 32);
        assert!(token.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(token, random_token());
    }

    #[test]
    fn debug_hides_the_token() {
        let account = Account {
            sid: Sid::from_number(SidPrefix::Account, 1),
            auth_token: "secret".into(),
        };
        assert!(!format!("{account:?}").contains("secret"));
    }
}
