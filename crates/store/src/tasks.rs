//! Tasks (`UD…`), their fields (`UE…`) and samples (`UF…`).

use otto_model::{ActionsDocument, Sid, SidPrefix};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;

use crate::assistants::update_row;
use crate::db::{
    Arg, FIELD_TYPES, FIELDS, SAMPLES, Store, TASKS, check_friendly_name, check_unique_name,
    delete_row, int, name_taken, new_sid, opt_text, query_with, resolve, resolve_assistant, sid,
    text, to_json_text, touch_training, unique_name_taken,
};
use crate::error::{ResourceKind, Result, StoreError, is_unique_violation};
use crate::page::{ListQuery, Page, PageRequest, fetch_page};

/// A task as the REST API shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskRecord {
    pub sid: Sid,
    pub account_sid: Sid,
    pub assistant_sid: Sid,
    pub unique_name: String,
    pub friendly_name: Option<String>,
    /// The stored program (`TaskActions`); `None` when never set.
    pub actions: Option<ActionsDocument>,
    pub actions_url: Option<String>,
    pub date_created: i64,
    pub date_updated: i64,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewTask {
    pub unique_name: String,
    pub friendly_name: Option<String>,
    pub actions: Option<ActionsDocument>,
    pub actions_url: Option<String>,
}

/// `None` leaves a value alone, `Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TaskUpdate {
    pub unique_name: Option<String>,
    pub friendly_name: Option<Option<String>>,
    pub actions: Option<Option<ActionsDocument>>,
    pub actions_url: Option<Option<String>>,
}

/// `TaskStatistics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskStatistics {
    pub samples_count: i64,
    pub fields_count: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldRecord {
    pub sid: Sid,
    pub account_sid: Sid,
    pub assistant_sid: Sid,
    pub task_sid: Sid,
    pub unique_name: String,
    /// A built-in `Twilio.*` type as written, or a custom field type's unique name.
    pub field_type: String,
    pub date_created: i64,
    pub date_updated: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewField {
    pub unique_name: String,
    /// A built-in `Twilio.*` name, or a custom field type's unique name or SID.
    pub field_type: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleRecord {
    pub sid: Sid,
    pub account_sid: Sid,
    pub assistant_sid: Sid,
    pub task_sid: Sid,
    pub language: String,
    pub tagged_text: String,
    pub source_channel: Option<String>,
    pub date_created: i64,
    pub date_updated: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewSample {
    pub language: String,
    pub tagged_text: String,
    pub source_channel: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SampleUpdate {
    pub language: Option<String>,
    pub tagged_text: Option<String>,
    pub source_channel: Option<Option<String>>,
}

/// List filter of samples (`Language`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SampleFilter {
    pub language: Option<String>,
}

const TASK_COLUMNS: &str = "t.seq, t.sid, a.account_sid, t.assistant_sid, t.unique_name, t.friendly_name, t.actions, t.actions_url, t.date_created, t.date_updated";
const TASK_FROM: &str = "tasks t JOIN assistants a ON a.sid = t.assistant_sid";
const FIELD_COLUMNS: &str = "f.seq, f.sid, a.account_sid, f.assistant_sid, f.task_sid, f.unique_name, f.field_type, f.date_created, f.date_updated";
const FIELD_FROM: &str = "fields f JOIN assistants a ON a.sid = f.assistant_sid";
const SAMPLE_COLUMNS: &str = "s.seq, s.sid, a.account_sid, s.assistant_sid, s.task_sid, s.language, s.tagged_text, s.source_channel, s.date_created, s.date_updated";
const SAMPLE_FROM: &str = "samples s JOIN assistants a ON a.sid = s.assistant_sid";

pub(crate) fn parse_actions(text: Option<String>, task: &str) -> Result<Option<ActionsDocument>> {
    let Some(text) = text else {
        return Ok(None);
    };
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|error| StoreError::corrupt(format!("actions of task {task}"), error))?;
    ActionsDocument::from_value(&value)
        .map(Some)
        .map_err(|error| StoreError::corrupt(format!("actions of task {task}"), error))
}

pub(crate) fn actions_text(actions: &Option<ActionsDocument>) -> Option<String> {
    actions
        .as_ref()
        .map(|actions| to_json_text(&actions.to_value()))
}

fn task_from_row(row: &AnyRow) -> Result<TaskRecord> {
    let sid = sid(row, "sid")?;
    Ok(TaskRecord {
        account_sid: crate::db::sid(row, "account_sid")?,
        assistant_sid: crate::db::sid(row, "assistant_sid")?,
        unique_name: text(row, "unique_name")?,
        friendly_name: opt_text(row, "friendly_name")?,
        actions: parse_actions(opt_text(row, "actions")?, sid.as_str())?,
        actions_url: opt_text(row, "actions_url")?,
        date_created: int(row, "date_created")?,
        date_updated: int(row, "date_updated")?,
        sid,
    })
}

fn field_from_row(row: &AnyRow) -> Result<FieldRecord> {
    Ok(FieldRecord {
        sid: sid(row, "sid")?,
        account_sid: sid(row, "account_sid")?,
        assistant_sid: sid(row, "assistant_sid")?,
        task_sid: sid(row, "task_sid")?,
        unique_name: text(row, "unique_name")?,
        field_type: text(row, "field_type")?,
        date_created: int(row, "date_created")?,
        date_updated: int(row, "date_updated")?,
    })
}

fn sample_from_row(row: &AnyRow) -> Result<SampleRecord> {
    Ok(SampleRecord {
        sid: sid(row, "sid")?,
        account_sid: sid(row, "account_sid")?,
        assistant_sid: sid(row, "assistant_sid")?,
        task_sid: sid(row, "task_sid")?,
        language: text(row, "language")?,
        tagged_text: text(row, "tagged_text")?,
        source_channel: opt_text(row, "source_channel")?,
        date_created: int(row, "date_created")?,
        date_updated: int(row, "date_updated")?,
    })
}

async fn task_by_sid(conn: &mut AnyConnection, sid: &Sid) -> Result<TaskRecord> {
    let sql = format!("SELECT {TASK_COLUMNS} FROM {TASK_FROM} WHERE t.sid = $1");
    let row = query_with(sql, vec![sid.into()]).fetch_one(conn).await?;
    task_from_row(&row)
}

async fn field_by_sid(conn: &mut AnyConnection, sid: &Sid) -> Result<FieldRecord> {
    let sql = format!("SELECT {FIELD_COLUMNS} FROM {FIELD_FROM} WHERE f.sid = $1");
    let row = query_with(sql, vec![sid.into()]).fetch_one(conn).await?;
    field_from_row(&row)
}

async fn sample_by_sid(conn: &mut AnyConnection, sid: &Sid) -> Result<SampleRecord> {
    let sql = format!("SELECT {SAMPLE_COLUMNS} FROM {SAMPLE_FROM} WHERE s.sid = $1");
    let row = query_with(sql, vec![sid.into()]).fetch_one(conn).await?;
    sample_from_row(&row)
}

/// Resolves the assistant and the task within it.
async fn resolve_task(
    conn: &mut AnyConnection,
    account: &Sid,
    assistant: &str,
    task: &str,
) -> Result<(Sid, Sid)> {
    let assistant = resolve_assistant(conn, account, assistant).await?;
    let task = resolve(conn, &TASKS, &assistant, task).await?;
    Ok((assistant, task))
}

/// The stored spelling of a field's type: a built-in as written (any letter
/// case), else a custom field type of the assistant by unique name or SID.
async fn field_type_name(
    conn: &mut AnyConnection,
    assistant: &Sid,
    field_type: &str,
) -> Result<String> {
    if otto_model::assistant::builtin_field_type(field_type).is_some() {
        return Ok(field_type.to_owned());
    }
    let sid = resolve(conn, &FIELD_TYPES, assistant, field_type)
        .await
        .map_err(|error| match error {
            StoreError::NotFound { .. } => StoreError::NotFound {
                kind: ResourceKind::FieldType,
                key: field_type.to_owned(),
                scope: Some(format!(
                    "assistant {assistant} (nor is it a built-in Twilio.* type)"
                )),
            },
            other => other,
        })?;
    let row = sqlx::query("SELECT unique_name FROM field_types WHERE sid = $1")
        .bind(sid.as_str())
        .fetch_one(&mut *conn)
        .await?;
    text(&row, "unique_name")
}

pub(crate) fn task_row(assistant: &Sid, sid: &Sid, new: &NewTask, now: i64) -> Result<Vec<Arg>> {
    check_unique_name(ResourceKind::Task, SidPrefix::Task, &new.unique_name)?;
    check_friendly_name(ResourceKind::Task, new.friendly_name.as_deref())?;
    Ok(vec![
        sid.into(),
        assistant.into(),
        new.unique_name.clone().into(),
        new.friendly_name.clone().into(),
        actions_text(&new.actions).into(),
        new.actions_url.clone().into(),
        now.into(),
        now.into(),
    ])
}

pub(crate) const TASK_INSERT: &[&str] = &[
    "sid",
    "assistant_sid",
    "unique_name",
    "friendly_name",
    "actions",
    "actions_url",
    "date_created",
    "date_updated",
];

pub(crate) const FIELD_INSERT: &[&str] = &[
    "sid",
    "assistant_sid",
    "task_sid",
    "unique_name",
    "field_type",
    "date_created",
    "date_updated",
];

pub(crate) const SAMPLE_INSERT: &[&str] = &[
    "sid",
    "assistant_sid",
    "task_sid",
    "language",
    "tagged_text",
    "source_channel",
    "date_created",
    "date_updated",
];

fn check_language(language: &str) -> Result<()> {
    if language.trim().is_empty() {
        return Err(StoreError::invalid("Language", "it must not be empty"));
    }
    Ok(())
}

fn check_tagged_text(text: &str) -> Result<()> {
    if text.trim().is_empty() {
        return Err(StoreError::invalid("TaggedText", "it must not be empty"));
    }
    Ok(())
}

impl Store {
    pub async fn create_task(
        &self,
        account: &Sid,
        assistant: &str,
        new: NewTask,
    ) -> Result<TaskRecord> {
        let mut tx = self.write_tx().await?;
        let assistant = resolve_assistant(&mut tx, account, assistant).await?;
        let sid = new_sid(SidPrefix::Task);
        let row = task_row(&assistant, &sid, &new, self.now())?;
        if unique_name_taken(&mut tx, &TASKS, &assistant, &new.unique_name, None).await? {
            return Err(name_taken(&TASKS, &assistant, &new.unique_name));
        }
        crate::db::insert_rows(&mut tx, "tasks", TASK_INSERT, vec![row])
            .await
            .map_err(|error| unique_to_taken(error, &TASKS, &assistant, &new.unique_name))?;
        touch_training(&mut tx, &assistant).await?;
        let record = task_by_sid(&mut tx, &sid).await?;
        tx.commit().await?;
        Ok(record)
    }

    pub async fn fetch_task(
        &self,
        account: &Sid,
        assistant: &str,
        task: &str,
    ) -> Result<TaskRecord> {
        let mut conn = self.conn().await?;
        let (_, task) = resolve_task(&mut conn, account, assistant, task).await?;
        task_by_sid(&mut conn, &task).await
    }

    /// Updates a task; `actions` is also the `TaskActions` singleton's POST.
    pub async fn update_task(
        &self,
        account: &Sid,
        assistant: &str,
        task: &str,
        update: TaskUpdate,
    ) -> Result<TaskRecord> {
        let mut tx = self.write_tx().await?;
        let (assistant, task) = resolve_task(&mut tx, account, assistant, task).await?;
        let mut sets: Vec<(&str, Arg)> = Vec::new();
        if let Some(unique_name) = &update.unique_name {
            check_unique_name(ResourceKind::Task, SidPrefix::Task, unique_name)?;
            if unique_name_taken(&mut tx, &TASKS, &assistant, unique_name, Some(&task)).await? {
                return Err(name_taken(&TASKS, &assistant, unique_name));
            }
            sets.push(("unique_name", unique_name.clone().into()));
            touch_training(&mut tx, &assistant).await?;
        }
        if let Some(friendly_name) = update.friendly_name {
            check_friendly_name(ResourceKind::Task, friendly_name.as_deref())?;
            sets.push(("friendly_name", friendly_name.into()));
        }
        if let Some(actions) = &update.actions {
            sets.push(("actions", actions_text(actions).into()));
        }
        if let Some(actions_url) = update.actions_url {
            sets.push(("actions_url", actions_url.into()));
        }
        sets.push(("date_updated", self.now().into()));
        update_row(&mut tx, "tasks", &task, sets).await?;
        let record = task_by_sid(&mut tx, &task).await?;
        tx.commit().await?;
        Ok(record)
    }

    /// Deletes a task with its fields and samples.
    pub async fn delete_task(&self, account: &Sid, assistant: &str, task: &str) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let (assistant, task) = resolve_task(&mut tx, account, assistant, task).await?;
        delete_row(&mut tx, &TASKS, &assistant, &task).await?;
        touch_training(&mut tx, &assistant).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn list_tasks(
        &self,
        account: &Sid,
        assistant: &str,
        page: &PageRequest,
    ) -> Result<Page<TaskRecord>> {
        let mut conn = self.conn().await?;
        let assistant = resolve_assistant(&mut conn, account, assistant).await?;
        let list = ListQuery {
            table: TASK_FROM_PAGED,
            columns: TASK_COLUMNS_PAGED,
            filter: "assistant_sid = $1".to_owned(),
            args: vec![(&assistant).into()],
        };
        fetch_page(&mut conn, list, page)
            .await?
            .try_map(|row| task_from_row(&row))
    }

    /// `TaskStatistics`: how many samples and fields the task has.
    pub async fn task_statistics(
        &self,
        account: &Sid,
        assistant: &str,
        task: &str,
    ) -> Result<TaskStatistics> {
        let mut conn = self.conn().await?;
        let (_, task) = resolve_task(&mut conn, account, assistant, task).await?;
        let samples = sqlx::query("SELECT COUNT(*) AS n FROM samples WHERE task_sid = $1")
            .bind(task.as_str())
            .fetch_one(&mut *conn)
            .await?;
        let fields = sqlx::query("SELECT COUNT(*) AS n FROM fields WHERE task_sid = $1")
            .bind(task.as_str())
            .fetch_one(&mut *conn)
            .await?;
        Ok(TaskStatistics {
            samples_count: int(&samples, "n")?,
            fields_count: int(&fields, "n")?,
        })
    }

    // ---- fields -----------------------------------------------------------

    /// Adds a field; its type must be a built-in or a custom field type of the assistant.
    pub async fn create_field(
        &self,
        account: &Sid,
        assistant: &str,
        task: &str,
        new: NewField,
    ) -> Result<FieldRecord> {
        let mut tx = self.write_tx().await?;
        let (assistant, task) = resolve_task(&mut tx, account, assistant, task).await?;
        check_unique_name(ResourceKind::Field, SidPrefix::Field, &new.unique_name)?;
        if unique_name_taken(&mut tx, &FIELDS, &task, &new.unique_name, None).await? {
            return Err(name_taken(&FIELDS, &task, &new.unique_name));
        }
        let field_type = field_type_name(&mut tx, &assistant, &new.field_type).await?;
        let sid = new_sid(SidPrefix::Field);
        let now = self.now();
        let row = vec![
            (&sid).into(),
            (&assistant).into(),
            (&task).into(),
            new.unique_name.clone().into(),
            field_type.into(),
            now.into(),
            now.into(),
        ];
        crate::db::insert_rows(&mut tx, "fields", FIELD_INSERT, vec![row])
            .await
            .map_err(|error| unique_to_taken(error, &FIELDS, &task, &new.unique_name))?;
        touch_training(&mut tx, &assistant).await?;
        let record = field_by_sid(&mut tx, &sid).await?;
        tx.commit().await?;
        Ok(record)
    }

    pub async fn fetch_field(
        &self,
        account: &Sid,
        assistant: &str,
        task: &str,
        field: &str,
    ) -> Result<FieldRecord> {
        let mut conn = self.conn().await?;
        let (_, task) = resolve_task(&mut conn, account, assistant, task).await?;
        let field = resolve(&mut conn, &FIELDS, &task, field).await?;
        field_by_sid(&mut conn, &field).await
    }

    pub async fn delete_field(
        &self,
        account: &Sid,
        assistant: &str,
        task: &str,
        field: &str,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let (assistant, task) = resolve_task(&mut tx, account, assistant, task).await?;
        let field = resolve(&mut tx, &FIELDS, &task, field).await?;
        delete_row(&mut tx, &FIELDS, &task, &field).await?;
        touch_training(&mut tx, &assistant).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn list_fields(
        &self,
        account: &Sid,
        assistant: &str,
        task: &str,
        page: &PageRequest,
    ) -> Result<Page<FieldRecord>> {
        let mut conn = self.conn().await?;
        let (_, task) = resolve_task(&mut conn, account, assistant, task).await?;
        let list = ListQuery {
            table: FIELD_FROM_PAGED,
            columns: FIELD_COLUMNS_PAGED,
            filter: "task_sid = $1".to_owned(),
            args: vec![(&task).into()],
        };
        fetch_page(&mut conn, list, page)
            .await?
            .try_map(|row| field_from_row(&row))
    }

    // ---- samples ----------------------------------------------------------

    pub async fn create_sample(
        &self,
        account: &Sid,
        assistant: &str,
        task: &str,
        new: NewSample,
    ) -> Result<SampleRecord> {
        check_language(&new.language)?;
        check_tagged_text(&new.tagged_text)?;
        let mut tx = self.write_tx().await?;
        let (assistant, task) = resolve_task(&mut tx, account, assistant, task).await?;
        let sid = new_sid(SidPrefix::Sample);
        let now = self.now();
        let row = vec![
            (&sid).into(),
            (&assistant).into(),
            (&task).into(),
            new.language.into(),
            new.tagged_text.into(),
            new.source_channel.into(),
            now.into(),
            now.into(),
        ];
        crate::db::insert_rows(&mut tx, "samples", SAMPLE_INSERT, vec![row]).await?;
        touch_training(&mut tx, &assistant).await?;
        let record = sample_by_sid(&mut tx, &sid).await?;
        tx.commit().await?;
        Ok(record)
    }

    /// Samples are addressed by SID only.
    pub async fn fetch_sample(
        &self,
        account: &Sid,
        assistant: &str,
        task: &str,
        sample: &str,
    ) -> Result<SampleRecord> {
        let mut conn = self.conn().await?;
        let (_, task) = resolve_task(&mut conn, account, assistant, task).await?;
        let sample = resolve(&mut conn, &SAMPLES, &task, sample).await?;
        sample_by_sid(&mut conn, &sample).await
    }

    pub async fn update_sample(
        &self,
        account: &Sid,
        assistant: &str,
        task: &str,
        sample: &str,
        update: SampleUpdate,
    ) -> Result<SampleRecord> {
        let mut tx = self.write_tx().await?;
        let (assistant, task) = resolve_task(&mut tx, account, assistant, task).await?;
        let sample = resolve(&mut tx, &SAMPLES, &task, sample).await?;
        let mut sets: Vec<(&str, Arg)> = Vec::new();
        if let Some(language) = update.language {
            check_language(&language)?;
            sets.push(("language", language.into()));
        }
        if let Some(tagged_text) = update.tagged_text {
            check_tagged_text(&tagged_text)?;
            sets.push(("tagged_text", tagged_text.into()));
        }
        if let Some(source_channel) = update.source_channel {
            sets.push(("source_channel", source_channel.into()));
        }
        sets.push(("date_updated", self.now().into()));
        update_row(&mut tx, "samples", &sample, sets).await?;
        touch_training(&mut tx, &assistant).await?;
        let record = sample_by_sid(&mut tx, &sample).await?;
        tx.commit().await?;
        Ok(record)
    }

    pub async fn delete_sample(
        &self,
        account: &Sid,
        assistant: &str,
        task: &str,
        sample: &str,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let (assistant, task) = resolve_task(&mut tx, account, assistant, task).await?;
        let sample = resolve(&mut tx, &SAMPLES, &task, sample).await?;
        delete_row(&mut tx, &SAMPLES, &task, &sample).await?;
        touch_training(&mut tx, &assistant).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn list_samples(
        &self,
        account: &Sid,
        assistant: &str,
        task: &str,
        filter: &SampleFilter,
        page: &PageRequest,
    ) -> Result<Page<SampleRecord>> {
        let mut conn = self.conn().await?;
        let (_, task) = resolve_task(&mut conn, account, assistant, task).await?;
        let mut where_clause = "task_sid = $1".to_owned();
        let mut args: Vec<Arg> = vec![(&task).into()];
        if let Some(language) = &filter.language {
            args.push(language.clone().into());
            where_clause.push_str(&format!(" AND language = ${}", args.len()));
        }
        let list = ListQuery {
            table: SAMPLE_FROM_PAGED,
            columns: SAMPLE_COLUMNS_PAGED,
            filter: where_clause,
            args,
        };
        fetch_page(&mut conn, list, page)
            .await?
            .try_map(|row| sample_from_row(&row))
    }
}

// Paged lists read from a sub-select that already carries the account SID, so
// the `seq` of the paging clause names one column.
const TASK_FROM_PAGED: &str =
    "(SELECT t.*, a.account_sid FROM tasks t JOIN assistants a ON a.sid = t.assistant_sid) AS x";
const TASK_COLUMNS_PAGED: &str = "seq, sid, account_sid, assistant_sid, unique_name, friendly_name, actions, actions_url, date_created, date_updated";
const FIELD_FROM_PAGED: &str =
    "(SELECT f.*, a.account_sid FROM fields f JOIN assistants a ON a.sid = f.assistant_sid) AS x";
const FIELD_COLUMNS_PAGED: &str = "seq, sid, account_sid, assistant_sid, task_sid, unique_name, field_type, date_created, date_updated";
const SAMPLE_FROM_PAGED: &str =
    "(SELECT s.*, a.account_sid FROM samples s JOIN assistants a ON a.sid = s.assistant_sid) AS x";
const SAMPLE_COLUMNS_PAGED: &str = "seq, sid, account_sid, assistant_sid, task_sid, language, tagged_text, source_channel, date_created, date_updated";

/// A unique violation raced past the pre-check: report it as the name conflict.
pub(crate) fn unique_to_taken(
    error: StoreError,
    table: &crate::db::Table,
    parent: &Sid,
    unique_name: &str,
) -> StoreError {
    match &error {
        StoreError::Database(db) if is_unique_violation(db) => {
            name_taken(table, parent, unique_name)
        }
        _ => error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_actions_read_back() {
        let text = r#"{"actions":[{"say":"hi"},{"listen":true}]}"#;
        let actions = parse_actions(Some(text.to_owned()), "UD1")
            .unwrap()
            .unwrap();
        assert_eq!(actions.actions.len(), 2);
        assert_eq!(
            actions_text(&Some(actions)).unwrap(),
            r#"{"actions":[{"say":"hi"},{"listen":true}]}"#
        );
        let error = parse_actions(Some("{".into()), "UD1").unwrap_err();
        assert!(matches!(error, StoreError::Corrupt { .. }));
    }
}
