//! Queries (`UH…`): NLU classifications, created through the API or logged
//! from live traffic.

use otto_model::{Sid, SidPrefix};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;

use crate::assistants::update_row;
use crate::db::{
    Arg, MODEL_BUILDS, QUERIES, Store, delete_row, int, json, new_sid, opt_sid, opt_text,
    query_with, resolve, resolve_assistant, sid, text, to_json_text,
};
use crate::error::{Result, StoreError};
use crate::page::{ListQuery, Page, PageRequest, fetch_page};

/// The status a query starts with.
pub const DEFAULT_QUERY_STATUS: &str = "pending-review";

#[derive(Debug, Clone, PartialEq)]
pub struct QueryRecord {
    pub sid: Sid,
    pub account_sid: Sid,
    pub assistant_sid: Sid,
    pub language: String,
    pub query: String,
    pub model_build_sid: Option<Sid>,
    /// `{"task": {...}, "fields": [...], ...}` as the NLU answered.
    pub results: serde_json::Value,
    pub sample_sid: Option<Sid>,
    pub status: String,
    pub source_channel: Option<String>,
    pub dialogue_sid: Option<Sid>,
    pub date_created: i64,
    pub date_updated: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewQuery {
    pub language: String,
    pub query: String,
    pub model_build_sid: Option<Sid>,
    pub results: serde_json::Value,
    pub source_channel: Option<String>,
    pub dialogue_sid: Option<Sid>,
    /// `pending-review` when not given.
    pub status: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryUpdate {
    pub sample_sid: Option<Option<Sid>>,
    pub status: Option<String>,
}

/// List filters of queries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryFilter {
    pub language: Option<String>,
    /// A model build's SID or unique name.
    pub model_build: Option<String>,
    pub status: Option<String>,
    pub dialogue_sid: Option<String>,
}

const QUERY_FROM: &str =
    "(SELECT q.*, a.account_sid FROM queries q JOIN assistants a ON a.sid = q.assistant_sid) AS x";
const QUERY_COLUMNS: &str = "seq, sid, account_sid, assistant_sid, language, query, model_build_sid, results, sample_sid, status, source_channel, dialogue_sid, date_created, date_updated";

/// The statuses a query may be given.
pub const QUERY_STATUSES: [&str; 3] = ["pending-review", "reviewed", "discarded"];

fn query_from_row(row: &AnyRow) -> Result<QueryRecord> {
    Ok(QueryRecord {
        sid: sid(row, "sid")?,
        account_sid: sid(row, "account_sid")?,
        assistant_sid: sid(row, "assistant_sid")?,
        language: text(row, "language")?,
        query: text(row, "query")?,
        model_build_sid: opt_sid(row, "model_build_sid")?,
        results: json(row, "results")?,
        sample_sid: opt_sid(row, "sample_sid")?,
        status: text(row, "status")?,
        source_channel: opt_text(row, "source_channel")?,
        dialogue_sid: opt_sid(row, "dialogue_sid")?,
        date_created: int(row, "date_created")?,
        date_updated: int(row, "date_updated")?,
    })
}

async fn query_by_sid(conn: &mut AnyConnection, sid: &Sid) -> Result<QueryRecord> {
    let sql = format!("SELECT {QUERY_COLUMNS} FROM {QUERY_FROM} WHERE sid = $1");
    let row = query_with(sql, vec![sid.into()]).fetch_one(conn).await?;
    query_from_row(&row)
}

fn check_status(status: &str) -> Result<()> {
    if QUERY_STATUSES.contains(&status) {
        Ok(())
    } else {
        Err(StoreError::invalid(
            "Status",
            format!("{status:?} is not one of pending-review, reviewed, discarded"),
        ))
    }
}

impl Store {
    /// Stores a query (call it only when the assistant logs queries).
    pub async fn create_query(
        &self,
        account: &Sid,
        assistant: &str,
        new: NewQuery,
    ) -> Result<QueryRecord> {
        let status = new
            .status
            .clone()
            .unwrap_or_else(|| DEFAULT_QUERY_STATUS.to_owned());
        check_status(&status)?;
        let mut tx = self.write_tx().await?;
        let assistant = resolve_assistant(&mut tx, account, assistant).await?;
        let sid = new_sid(SidPrefix::Query);
        let now = self.now();
        let columns = [
            "sid",
            "assistant_sid",
            "language",
            "query",
            "model_build_sid",
            "results",
            "sample_sid",
            "status",
            "source_channel",
            "dialogue_sid",
            "date_created",
            "date_updated",
        ];
        let row: Vec<Arg> = vec![
            (&sid).into(),
            (&assistant).into(),
            new.language.into(),
            new.query.into(),
            new.model_build_sid.map(|sid| sid.to_string()).into(),
            to_json_text(&new.results).into(),
            Arg::OptText(None),
            status.into(),
            new.source_channel.into(),
            new.dialogue_sid.map(|sid| sid.to_string()).into(),
            now.into(),
            now.into(),
        ];
        crate::db::insert_rows(&mut tx, "queries", &columns, vec![row]).await?;
        let record = query_by_sid(&mut tx, &sid).await?;
        tx.commit().await?;
        Ok(record)
    }

    /// Queries are addressed by SID only.
    pub async fn fetch_query(
        &self,
        account: &Sid,
        assistant: &str,
        query: &str,
    ) -> Result<QueryRecord> {
        let mut conn = self.conn().await?;
        let assistant = resolve_assistant(&mut conn, account, assistant).await?;
        let query = resolve(&mut conn, &QUERIES, &assistant, query).await?;
        query_by_sid(&mut conn, &query).await
    }

    pub async fn update_query(
        &self,
        account: &Sid,
        assistant: &str,
        query: &str,
        update: QueryUpdate,
    ) -> Result<QueryRecord> {
        let mut tx = self.write_tx().await?;
        let assistant = resolve_assistant(&mut tx, account, assistant).await?;
        let query = resolve(&mut tx, &QUERIES, &assistant, query).await?;
        let mut sets: Vec<(&str, Arg)> = Vec::new();
        if let Some(sample_sid) = update.sample_sid {
            sets.push(("sample_sid", sample_sid.map(|sid| sid.to_string()).into()));
        }
        if let Some(status) = update.status {
            check_status(&status)?;
            sets.push(("status", status.into()));
        }
        sets.push(("date_updated", self.now().into()));
        update_row(&mut tx, "queries", &query, sets).await?;
        let record = query_by_sid(&mut tx, &query).await?;
        tx.commit().await?;
        Ok(record)
    }

    pub async fn delete_query(&self, account: &Sid, assistant: &str, query: &str) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let assistant = resolve_assistant(&mut tx, account, assistant).await?;
        let query = resolve(&mut tx, &QUERIES, &assistant, query).await?;
        delete_row(&mut tx, &QUERIES, &assistant, &query).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn list_queries(
        &self,
        account: &Sid,
        assistant: &str,
        filter: &QueryFilter,
        page: &PageRequest,
    ) -> Result<Page<QueryRecord>> {
        let mut conn = self.conn().await?;
        let assistant = resolve_assistant(&mut conn, account, assistant).await?;
        let mut where_clause = "assistant_sid = $1".to_owned();
        let mut args: Vec<Arg> = vec![(&assistant).into()];
        let mut add = |column: &str, value: String| {
            args.push(value.into());
            where_clause.push_str(&format!(" AND {column} = ${}", args.len()));
        };
        if let Some(language) = &filter.language {
            add("language", language.clone());
        }
        if let Some(status) = &filter.status {
            add("status", status.clone());
        }
        if let Some(dialogue) = &filter.dialogue_sid {
            add("dialogue_sid", dialogue.clone());
        }
        if let Some(build) = &filter.model_build {
            let build = resolve(&mut conn, &MODEL_BUILDS, &assistant, build).await?;
            add("model_build_sid", build.to_string());
        }
        let list = ListQuery {
            table: QUERY_FROM,
            columns: QUERY_COLUMNS,
            filter: where_clause,
            args,
        };
        fetch_page(&mut conn, list, page)
            .await?
            .try_map(|row| query_from_row(&row))
    }

    /// Deletes queries created before `before` (Autopilot kept them 30 days);
    /// returns how many.
    pub async fn purge_queries(&self, before: i64) -> Result<u64> {
        let done = sqlx::query("DELETE FROM queries WHERE date_created < $1")
            .bind(before)
            .execute(&self.inner.pool)
            .await?;
        Ok(done.rows_affected())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        assert!(check_status("reviewed").is_ok());
        assert_eq!(
            check_status("done").unwrap_err().to_string(),
            "invalid Status: \"done\" is not one of pending-review, reviewed, discarded"
        );
    }
}
