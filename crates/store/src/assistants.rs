//! Assistants (`UA…`): create, fetch by SID or unique name, update, soft delete
//! and restore, list; the Defaults and StyleSheet singletons live on the row.

use otto_model::{Defaults, Sid, SidPrefix, StyleSheet};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;

use crate::db::{
    Arg, Store, check_friendly_name, check_own_unique_name, flag, int, json, new_sid, opt_sid,
    opt_text, query_with, resolve_assistant, sid, text, to_json_text,
};
use crate::error::{ResourceKind, Result, StoreError, is_unique_violation};
use crate::page::{ListQuery, Page, PageRequest, fetch_page};

/// An assistant as the REST API shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct AssistantRecord {
    pub sid: Sid,
    pub account_sid: Sid,
    pub unique_name: String,
    pub friendly_name: Option<String>,
    pub log_queries: bool,
    pub development_stage: String,
    pub callback_url: Option<String>,
    pub callback_events: Option<String>,
    pub defaults: Defaults,
    pub style_sheet: StyleSheet,
    /// True when training data changed since the latest completed model build.
    pub needs_model_build: bool,
    pub latest_model_build_sid: Option<Sid>,
    /// Deleted assistants can be restored; they are invisible otherwise.
    pub deleted: bool,
    pub date_created: i64,
    pub date_updated: i64,
}

/// What `POST /v1/Assistants` may set. A missing unique name becomes the SID.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewAssistant {
    pub unique_name: Option<String>,
    pub friendly_name: Option<String>,
    /// `true` when not given, as in Autopilot.
    pub log_queries: Option<bool>,
    /// `in-development` when not given.
    pub development_stage: Option<String>,
    pub callback_url: Option<String>,
    pub callback_events: Option<String>,
    pub defaults: Option<Defaults>,
    pub style_sheet: Option<StyleSheet>,
}

/// What `POST /v1/Assistants/{Sid}` may change; `None` leaves a value alone,
/// `Some(None)` clears a nullable one.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AssistantUpdate {
    pub unique_name: Option<String>,
    pub friendly_name: Option<Option<String>>,
    pub log_queries: Option<bool>,
    pub development_stage: Option<String>,
    pub callback_url: Option<Option<String>>,
    pub callback_events: Option<Option<String>>,
    pub defaults: Option<Defaults>,
    pub style_sheet: Option<StyleSheet>,
}

pub(crate) const ASSISTANT_COLUMNS: &str = "seq, sid, account_sid, unique_name, friendly_name, log_queries, development_stage, callback_url, callback_events, defaults, style_sheet, needs_model_build, latest_model_build_sid, deleted, date_created, date_updated";

pub(crate) const DEFAULT_DEVELOPMENT_STAGE: &str = "in-development";

pub(crate) fn assistant_from_row(row: &AnyRow) -> Result<AssistantRecord> {
    let sid = sid(row, "sid")?;
    let defaults = Defaults::from_value(&json(row, "defaults")?)
        .map_err(|error| StoreError::corrupt(format!("defaults of assistant {sid}"), error))?;
    let style_sheet = StyleSheet::from_value(&json(row, "style_sheet")?)
        .map_err(|error| StoreError::corrupt(format!("style sheet of assistant {sid}"), error))?;
    Ok(AssistantRecord {
        account_sid: crate::db::sid(row, "account_sid")?,
        unique_name: text(row, "unique_name")?,
        friendly_name: opt_text(row, "friendly_name")?,
        log_queries: flag(row, "log_queries")?,
        development_stage: text(row, "development_stage")?,
        callback_url: opt_text(row, "callback_url")?,
        callback_events: opt_text(row, "callback_events")?,
        defaults,
        style_sheet,
        needs_model_build: flag(row, "needs_model_build")?,
        latest_model_build_sid: opt_sid(row, "latest_model_build_sid")?,
        deleted: flag(row, "deleted")?,
        date_created: int(row, "date_created")?,
        date_updated: int(row, "date_updated")?,
        sid,
    })
}

/// The assistant row by SID, deleted or not.
pub(crate) async fn assistant_by_sid(
    conn: &mut AnyConnection,
    account: &Sid,
    sid: &Sid,
) -> Result<AssistantRecord> {
    let sql =
        format!("SELECT {ASSISTANT_COLUMNS} FROM assistants WHERE account_sid = $1 AND sid = $2");
    let row = query_with(sql, vec![account.into(), sid.into()])
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::not_found(ResourceKind::Assistant, sid.as_str(), None))?;
    assistant_from_row(&row)
}

/// Whether a live assistant of the account other than `except` has the name.
async fn live_name_taken(
    conn: &mut AnyConnection,
    account: &Sid,
    unique_name: &str,
    except: Option<&Sid>,
) -> Result<bool> {
    let rows = sqlx::query(
        "SELECT sid FROM assistants WHERE account_sid = $1 AND unique_name = $2 AND deleted = 0",
    )
    .bind(account.as_str())
    .bind(unique_name)
    .fetch_all(&mut *conn)
    .await?;
    for row in rows {
        if Some(&sid(&row, "sid")?) != except {
            return Ok(true);
        }
    }
    Ok(false)
}

fn assistant_name_taken(account: &Sid, unique_name: &str) -> StoreError {
    StoreError::UniqueNameTaken {
        kind: ResourceKind::Assistant,
        unique_name: unique_name.to_owned(),
        scope: format!("account {account}"),
    }
}

/// Inserts an assistant row (used by create and import).
pub(crate) async fn insert_assistant(
    conn: &mut AnyConnection,
    account: &Sid,
    new: &NewAssistant,
    model_build_name: Option<&str>,
    needs_model_build: bool,
    now: i64,
) -> Result<Sid> {
    let sid = new_sid(SidPrefix::Assistant);
    let unique_name = new.unique_name.clone().unwrap_or_else(|| sid.to_string());
    check_own_unique_name(
        ResourceKind::Assistant,
        SidPrefix::Assistant,
        &unique_name,
        &sid,
    )?;
    check_friendly_name(ResourceKind::Assistant, new.friendly_name.as_deref())?;
    if live_name_taken(conn, account, &unique_name, None).await? {
        return Err(assistant_name_taken(account, &unique_name));
    }
    let defaults = new.defaults.clone().unwrap_or_default();
    let style_sheet = new.style_sheet.clone().unwrap_or_default();
    let result = sqlx::query(
        "INSERT INTO assistants (sid, account_sid, unique_name, friendly_name, log_queries, development_stage, callback_url, callback_events, defaults, style_sheet, needs_model_build, training_version, latest_model_build_sid, model_build_name, deleted, date_deleted, date_created, date_updated) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 0, NULL, $12, 0, NULL, $13, $13)",
    )
    .bind(sid.as_str())
    .bind(account.as_str())
    .bind(&unique_name)
    .bind(new.friendly_name.clone())
    .bind(i64::from(new.log_queries.unwrap_or(true)))
    .bind(
        new.development_stage
            .clone()
            .unwrap_or_else(|| DEFAULT_DEVELOPMENT_STAGE.to_owned()),
    )
    .bind(new.callback_url.clone())
    .bind(new.callback_events.clone())
    .bind(to_json_text(&defaults.to_value()))
    .bind(to_json_text(&style_sheet.to_value()))
    .bind(i64::from(needs_model_build))
    .bind(model_build_name.map(str::to_owned))
    .bind(now)
    .execute(&mut *conn)
    .await;
    match result {
        Ok(_) => Ok(sid),
        Err(error) if is_unique_violation(&error) => {
            Err(assistant_name_taken(account, &unique_name))
        }
        Err(error) => Err(error.into()),
    }
}

impl Store {
    /// `POST /v1/Assistants`.
    pub async fn create_assistant(
        &self,
        account: &Sid,
        new: NewAssistant,
    ) -> Result<AssistantRecord> {
        let mut tx = self.write_tx().await?;
        let sid = insert_assistant(&mut tx, account, &new, None, false, self.now()).await?;
        let record = assistant_by_sid(&mut tx, account, &sid).await?;
        tx.commit().await?;
        Ok(record)
    }

    /// `GET /v1/Assistants/{Sid}`: by SID or unique name; deleted ones are not found.
    pub async fn fetch_assistant(&self, account: &Sid, key: &str) -> Result<AssistantRecord> {
        let mut conn = self.conn().await?;
        let sid = resolve_assistant(&mut conn, account, key).await?;
        assistant_by_sid(&mut conn, account, &sid).await
    }

    /// `POST /v1/Assistants/{Sid}` (and the Defaults / StyleSheet singletons).
    pub async fn update_assistant(
        &self,
        account: &Sid,
        key: &str,
        update: AssistantUpdate,
    ) -> Result<AssistantRecord> {
        let mut tx = self.write_tx().await?;
        let sid = resolve_assistant(&mut tx, account, key).await?;
        let mut sets: Vec<(&str, Arg)> = Vec::new();
        if let Some(unique_name) = &update.unique_name {
            check_own_unique_name(
                ResourceKind::Assistant,
                SidPrefix::Assistant,
                unique_name,
                &sid,
            )?;
            if live_name_taken(&mut tx, account, unique_name, Some(&sid)).await? {
                return Err(assistant_name_taken(account, unique_name));
            }
            sets.push(("unique_name", unique_name.clone().into()));
        }
        if let Some(friendly_name) = update.friendly_name {
            check_friendly_name(ResourceKind::Assistant, friendly_name.as_deref())?;
            sets.push(("friendly_name", friendly_name.into()));
        }
        if let Some(log_queries) = update.log_queries {
            sets.push(("log_queries", log_queries.into()));
        }
        if let Some(stage) = update.development_stage {
            sets.push(("development_stage", stage.into()));
        }
        if let Some(url) = update.callback_url {
            sets.push(("callback_url", url.into()));
        }
        if let Some(events) = update.callback_events {
            sets.push(("callback_events", events.into()));
        }
        if let Some(defaults) = &update.defaults {
            sets.push(("defaults", to_json_text(&defaults.to_value()).into()));
        }
        if let Some(style_sheet) = &update.style_sheet {
            sets.push(("style_sheet", to_json_text(&style_sheet.to_value()).into()));
        }
        sets.push(("date_updated", self.now().into()));
        update_row(&mut tx, "assistants", &sid, sets)
            .await
            .map_err(|error| match (&error, &update.unique_name) {
                (StoreError::Database(db), Some(name)) if is_unique_violation(db) => {
                    assistant_name_taken(account, name)
                }
                _ => error,
            })?;
        let record = assistant_by_sid(&mut tx, account, &sid).await?;
        tx.commit().await?;
        Ok(record)
    }

    /// `DELETE /v1/Assistants/{Sid}`: marks it deleted (restorable); its unique
    /// name becomes free.
    pub async fn delete_assistant(&self, account: &Sid, key: &str) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let sid = resolve_assistant(&mut tx, account, key).await?;
        let now = self.now();
        sqlx::query(
            "UPDATE assistants SET deleted = 1, date_deleted = $1, date_updated = $1 WHERE sid = $2",
        )
        .bind(now)
        .bind(sid.as_str())
        .execute(&mut *tx)
        .await?;
        // A deleted assistant has no live conversations.
        sqlx::query(
            "UPDATE dialogues SET active = 0, version = version + 1, date_updated = $1 WHERE assistant_sid = $2 AND active = 1",
        )
        .bind(now)
        .bind(sid.as_str())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// `POST /v1/Assistants/Restore`: undeletes an assistant, with everything it
    /// had. Restoring a live assistant returns it unchanged. Fails with
    /// `UniqueNameTaken` when another assistant took its name meanwhile.
    pub async fn restore_assistant(&self, account: &Sid, sid: &Sid) -> Result<AssistantRecord> {
        let mut tx = self.write_tx().await?;
        let record = assistant_by_sid(&mut tx, account, sid).await?;
        if !record.deleted {
            return Ok(record);
        }
        if live_name_taken(&mut tx, account, &record.unique_name, None).await? {
            return Err(assistant_name_taken(account, &record.unique_name));
        }
        sqlx::query(
            "UPDATE assistants SET deleted = 0, date_deleted = NULL, date_updated = $1 WHERE sid = $2",
        )
        .bind(self.now())
        .bind(sid.as_str())
        .execute(&mut *tx)
        .await?;
        let record = assistant_by_sid(&mut tx, account, sid).await?;
        tx.commit().await?;
        Ok(record)
    }

    /// `GET /v1/Assistants`: the account's live assistants in creation order.
    pub async fn list_assistants(
        &self,
        account: &Sid,
        page: &PageRequest,
    ) -> Result<Page<AssistantRecord>> {
        let mut conn = self.conn().await?;
        let list = ListQuery {
            table: "assistants",
            columns: ASSISTANT_COLUMNS,
            filter: "account_sid = $1 AND deleted = 0".to_owned(),
            args: vec![account.into()],
        };
        fetch_page(&mut conn, list, page)
            .await?
            .try_map(|row| assistant_from_row(&row))
    }

    /// Removes for good the assistants deleted before `deleted_before` (epoch
    /// seconds) and everything they owned; returns how many.
    pub async fn purge_deleted_assistants(&self, deleted_before: i64) -> Result<u64> {
        let mut tx = self.write_tx().await?;
        let sids: Vec<String> =
            sqlx::query("SELECT sid FROM assistants WHERE deleted = 1 AND date_deleted < $1")
                .bind(deleted_before)
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|row| text(row, "sid"))
                .collect::<Result<_>>()?;
        for sid in &sids {
            for table in ["inbound_messages", "event_queue"] {
                let sql = format!("DELETE FROM {table} WHERE assistant_sid = $1");
                query_with(sql, vec![sid.as_str().into()])
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query("DELETE FROM assistants WHERE sid = $1")
                .bind(sid.as_str())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(sids.len() as u64)
    }
}

/// `UPDATE {table} SET a = $1, b = $2 … WHERE sid = $n`.
pub(crate) async fn update_row(
    conn: &mut AnyConnection,
    table: &str,
    sid: &Sid,
    sets: Vec<(&str, Arg)>,
) -> Result<()> {
    let mut sql = format!("UPDATE {table} SET ");
    let mut args = Vec::with_capacity(sets.len() + 1);
    for (index, (column, arg)) in sets.into_iter().enumerate() {
        if index > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!("{column} = ${}", index + 1));
        args.push(arg);
    }
    args.push(sid.into());
    sql.push_str(&format!(" WHERE sid = ${}", args.len()));
    query_with(sql, args).execute(&mut *conn).await?;
    Ok(())
}
