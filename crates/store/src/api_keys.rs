//! API keys (`SK…`): a second kind of credential for the account, as Twilio
//! has them. A key authenticates as HTTP Basic `SK…:secret`; it can be
//! deleted without changing the auth token.
//!
//! The secret is 32 random letters and digits, returned once by
//! [`Store::create_api_key`]; only its SHA-256 is stored. A fast hash is
//! enough here because the secret is random (about 190 bits), not a password
//! a person chose: there is nothing to guess from a dictionary.

use otto_model::{Sid, SidPrefix};
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;

use crate::db::{Store, int, new_sid, opt_text, query_with, sid, text};
use crate::error::{ResourceKind, Result, StoreError};
use crate::page::{ListQuery, Page, PageRequest, fetch_page};

/// Twilio's limit on an API key's `FriendlyName`.
pub const API_KEY_NAME_LIMIT: usize = 64;

/// Length of a generated secret (Twilio's secrets are 32 characters too).
const SECRET_LENGTH: usize = 32;

/// An API key as stored: never its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    pub sid: Sid,
    pub account_sid: Sid,
    pub friendly_name: Option<String>,
    pub date_created: i64,
    pub date_updated: i64,
}

/// A key just created, with the secret that is shown this once.
#[derive(Clone, PartialEq, Eq)]
pub struct NewApiKey {
    pub record: ApiKeyRecord,
    pub secret: String,
}

impl std::fmt::Debug for NewApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewApiKey")
            .field("record", &self.record)
            .field("secret", &"…")
            .finish()
    }
}

const API_KEY_COLUMNS: &str = "seq, sid, account_sid, friendly_name, date_created, date_updated";

fn api_key_from_row(row: &AnyRow) -> Result<ApiKeyRecord> {
    Ok(ApiKeyRecord {
        sid: sid(row, "sid")?,
        account_sid: sid(row, "account_sid")?,
        friendly_name: opt_text(row, "friendly_name")?,
        date_created: int(row, "date_created")?,
        date_updated: int(row, "date_updated")?,
    })
}

/// 32 characters from `A-Z a-z 0-9`, uniformly (bytes of 248 and above are
/// dropped so every character is equally likely).
fn random_secret() -> String {
    const ALPHABET: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut secret = String::with_capacity(SECRET_LENGTH);
    while secret.len() < SECRET_LENGTH {
        let mut bytes = [0u8; 64];
        getrandom::fill(&mut bytes).expect("the operating system provides random bytes");
        for byte in bytes {
            if secret.len() == SECRET_LENGTH {
                break;
            }
            if usize::from(byte) < 248 {
                secret.push(char::from(ALPHABET[usize::from(byte) % 62]));
            }
        }
    }
    secret
}

/// SHA-256 of the secret, lower-case hex.
fn secret_hash(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Compares without stopping at the first difference, so the time taken
/// does not tell how much of a guess was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn check_friendly_name(name: Option<&str>) -> Result<()> {
    let length = name.map_or(0, |name| name.chars().count());
    if length > API_KEY_NAME_LIMIT {
        return Err(StoreError::invalid(
            "API key friendly_name",
            format!("it is {length} characters long; at most {API_KEY_NAME_LIMIT} are allowed"),
        ));
    }
    Ok(())
}

/// The key's SID, or `NotFound` when the text is not an `SK` SID at all.
fn key_sid(account: &Sid, key: &str) -> Result<Sid> {
    Sid::parse_kind(key, SidPrefix::ApiKey).map_err(|_| not_found(account, key))
}

fn not_found(account: &Sid, key: &str) -> StoreError {
    StoreError::not_found(
        ResourceKind::ApiKey,
        key,
        Some(format!("account {account}")),
    )
}

impl Store {
    /// Creates a key for the account; the answer carries the secret, which is
    /// not kept and cannot be read again.
    pub async fn create_api_key(
        &self,
        account: &Sid,
        friendly_name: Option<&str>,
    ) -> Result<NewApiKey> {
        check_friendly_name(friendly_name)?;
        let sid = new_sid(SidPrefix::ApiKey);
        let secret = random_secret();
        let now = self.now();
        let mut tx = self.write_tx().await?;
        crate::db::insert_rows(
            &mut tx,
            "api_keys",
            &[
                "sid",
                "account_sid",
                "friendly_name",
                "secret_hash",
                "date_created",
                "date_updated",
            ],
            vec![vec![
                (&sid).into(),
                account.into(),
                friendly_name.into(),
                secret_hash(&secret).into(),
                now.into(),
                now.into(),
            ]],
        )
        .await?;
        let record = api_key_by_sid(&mut tx, account, &sid).await?;
        tx.commit().await?;
        Ok(NewApiKey { record, secret })
    }

    /// One key of the account (`NotFound` for another account's key).
    pub async fn fetch_api_key(&self, account: &Sid, key: &str) -> Result<ApiKeyRecord> {
        let sid = key_sid(account, key)?;
        let mut conn = self.conn().await?;
        api_key_by_sid(&mut conn, account, &sid).await
    }

    /// Renames a key (`None` clears the name).
    pub async fn update_api_key(
        &self,
        account: &Sid,
        key: &str,
        friendly_name: Option<&str>,
    ) -> Result<ApiKeyRecord> {
        check_friendly_name(friendly_name)?;
        let sid = key_sid(account, key)?;
        let mut tx = self.write_tx().await?;
        let done = query_with(
            "UPDATE api_keys SET friendly_name = $1, date_updated = $2 WHERE account_sid = $3 AND sid = $4"
                .to_owned(),
            vec![
                friendly_name.into(),
                self.now().into(),
                account.into(),
                (&sid).into(),
            ],
        )
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(not_found(account, key));
        }
        let record = api_key_by_sid(&mut tx, account, &sid).await?;
        tx.commit().await?;
        Ok(record)
    }

    /// Deletes a key: from then on its secret authenticates nothing.
    pub async fn delete_api_key(&self, account: &Sid, key: &str) -> Result<()> {
        let sid = key_sid(account, key)?;
        let mut tx = self.write_tx().await?;
        let done = query_with(
            "DELETE FROM api_keys WHERE account_sid = $1 AND sid = $2".to_owned(),
            vec![account.into(), (&sid).into()],
        )
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(not_found(account, key));
        }
        tx.commit().await?;
        Ok(())
    }

    /// The account's keys in creation order.
    pub async fn list_api_keys(
        &self,
        account: &Sid,
        page: &PageRequest,
    ) -> Result<Page<ApiKeyRecord>> {
        let mut conn = self.conn().await?;
        let list = ListQuery {
            table: "api_keys",
            columns: API_KEY_COLUMNS,
            filter: "account_sid = $1".to_owned(),
            args: vec![account.into()],
        };
        fetch_page(&mut conn, list, page)
            .await?
            .try_map(|row| api_key_from_row(&row))
    }

    /// Whether `key` is a key of the account and `secret` its secret. An
    /// unknown, deleted or malformed key is `false`, as is a key of another
    /// account; only a database failure is an error.
    pub async fn verify_api_key(&self, account: &Sid, key: &str, secret: &str) -> Result<bool> {
        // Hashed before the lookup so an unknown key costs the same work.
        let offered = secret_hash(secret);
        let Ok(sid) = Sid::parse_kind(key, SidPrefix::ApiKey) else {
            return Ok(false);
        };
        let row =
            sqlx::query("SELECT secret_hash FROM api_keys WHERE account_sid = $1 AND sid = $2")
                .bind(account.as_str())
                .bind(sid.as_str())
                .fetch_optional(&self.inner.pool)
                .await?;
        let Some(row) = row else {
            return Ok(false);
        };
        let stored = text(&row, "secret_hash")?;
        Ok(constant_time_eq(stored.as_bytes(), offered.as_bytes()))
    }
}

async fn api_key_by_sid(
    conn: &mut sqlx::AnyConnection,
    account: &Sid,
    sid: &Sid,
) -> Result<ApiKeyRecord> {
    let sql = format!("SELECT {API_KEY_COLUMNS} FROM api_keys WHERE account_sid = $1 AND sid = $2");
    let row = query_with(sql, vec![account.into(), sid.into()])
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| not_found(account, sid.as_str()))?;
    api_key_from_row(&row)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_32_letters_and_digits() {
        let secret = random_secret();
        assert_eq!(secret.len(), SECRET_LENGTH);
        assert!(
            secret.bytes().all(|b| b.is_ascii_alphanumeric()),
            "{secret}"
        );
        assert_ne!(secret, random_secret());
    }

    #[test]
    fn hashes_are_sha256_hex() {
        // The SHA-256 test vector of FIPS 180-2 for "abc".
        assert_eq!(
            secret_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn compares_exactly() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }

    #[test]
    fn debug_hides_the_secret() {
        let key = NewApiKey {
            record: ApiKeyRecord {
                sid: Sid::from_number(SidPrefix::ApiKey, 1),
                account_sid: Sid::from_number(SidPrefix::Account, 1),
                friendly_name: None,
                date_created: 0,
                date_updated: 0,
            },
            secret: "topsecret".into(),
        };
        assert!(!format!("{key:?}").contains("topsecret"));
    }
}
