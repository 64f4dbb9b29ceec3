//! Whole assistants: import an `otto_model::Assistant` as resource rows in one
//! transaction, load it back from the rows, export it as a schema file.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use otto_model::{
    Assistant, Defaults, Field, FieldType, FieldValue, Sample, Sid, SidPrefix, StyleSheet, Task,
};
use sqlx::AnyConnection;

use crate::assistants::{NewAssistant, insert_assistant};
use crate::db::{
    Arg, Backend, FIELD_TYPES, Store, TASKS, check_friendly_name, check_unique_name, insert_rows,
    int, json, name_taken, new_sid, opt_sid, opt_text, resolve_assistant, sid, text, to_json_text,
    touch_training,
};
use crate::direct::ready;
use crate::error::{ResourceKind, Result, StoreError};
use crate::field_types::{TYPE_INSERT, VALUE_INSERT, value_key};
use crate::sql::SqlConn;
use crate::tasks::{FIELD_INSERT, NewTask, SAMPLE_INSERT, TASK_INSERT, parse_actions, task_row};

/// The SIDs behind a loaded [`Assistant`]: `tasks[i]` is the SID of
/// `assistant.tasks[i]`, `field_types[i]` of `assistant.field_types[i]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssistantIds {
    pub sid: Sid,
    pub account_sid: Sid,
    pub tasks: Vec<Sid>,
    pub field_types: Vec<Sid>,
    pub latest_model_build_sid: Option<Sid>,
}

impl AssistantIds {
    /// The SID of a task by unique name.
    pub fn task_sid<'a>(&'a self, assistant: &Assistant, unique_name: &str) -> Option<&'a Sid> {
        assistant
            .tasks
            .iter()
            .position(|task| task.unique_name == unique_name)
            .and_then(|index| self.tasks.get(index))
    }
}

/// An assistant's definition with its SIDs, as of `version` (the stored
/// `definition_version`); shared by the turns that use it.
#[derive(Debug, PartialEq)]
pub struct Definition {
    pub ids: AssistantIds,
    pub assistant: Assistant,
    pub version: i64,
    /// The event names the assistant's event webhooks subscribe to (as
    /// written, possibly repeated); empty when it has none. Writes to
    /// webhooks bump the definition version, so this is as current as the rest.
    pub webhook_events: Vec<String>,
}

/// Inserts the field types and tasks of `assistant` under `assistant_sid`.
async fn insert_content(
    conn: &mut AnyConnection,
    assistant_sid: &Sid,
    assistant: &Assistant,
    now: i64,
) -> Result<()> {
    // Field types and their values; synonyms point at canonical values by SID.
    let mut seen_types = HashSet::new();
    let mut type_rows = Vec::new();
    let mut value_rows = Vec::new();
    for field_type in &assistant.field_types {
        check_unique_name(
            ResourceKind::FieldType,
            SidPrefix::FieldType,
            &field_type.unique_name,
        )?;
        check_friendly_name(ResourceKind::FieldType, field_type.friendly_name.as_deref())?;
        if !seen_types.insert(field_type.unique_name.as_str()) {
            return Err(name_taken(
                &FIELD_TYPES,
                assistant_sid,
                &field_type.unique_name,
            ));
        }
        let type_sid = new_sid(SidPrefix::FieldType);
        type_rows.push(vec![
            (&type_sid).into(),
            assistant_sid.into(),
            field_type.unique_name.clone().into(),
            field_type.friendly_name.clone().into(),
            now.into(),
            now.into(),
        ]);
        let value_sids: Vec<Sid> = field_type
            .values
            .iter()
            .map(|_| new_sid(SidPrefix::FieldValue))
            .collect();
        let mut keys = HashSet::new();
        for (value, value_sid) in field_type.values.iter().zip(&value_sids) {
            if !keys.insert((value.language.as_str(), value_key(&value.value))) {
                return Err(StoreError::ValueTaken {
                    field_type: field_type.unique_name.clone(),
                    value: value.value.clone(),
                    language: value.language.clone(),
                });
            }
            let synonym_of = match &value.synonym_of {
                Some(canonical) => Some(canonical_sid(field_type, &value_sids, value, canonical)?),
                None => None,
            };
            value_rows.push(vec![
                value_sid.into(),
                assistant_sid.into(),
                (&type_sid).into(),
                value.language.clone().into(),
                value.value.clone().into(),
                value_key(&value.value).into(),
                synonym_of.map(|sid| sid.to_string()).into(),
                now.into(),
                now.into(),
            ]);
        }
    }
    insert_rows(conn, "field_types", TYPE_INSERT, type_rows).await?;
    insert_rows(conn, "field_values", VALUE_INSERT, value_rows).await?;

    let mut seen_tasks = HashSet::new();
    let mut task_rows = Vec::new();
    let mut field_rows = Vec::new();
    let mut sample_rows = Vec::new();
    for task in &assistant.tasks {
        if !seen_tasks.insert(task.unique_name.as_str()) {
            return Err(name_taken(&TASKS, assistant_sid, &task.unique_name));
        }
        let task_sid = new_sid(SidPrefix::Task);
        let new = NewTask {
            unique_name: task.unique_name.clone(),
            friendly_name: task.friendly_name.clone(),
            actions: task.actions.clone(),
            actions_url: task.actions_url.clone(),
        };
        task_rows.push(task_row(assistant_sid, &task_sid, &new, now)?);
        let mut seen_fields = HashSet::new();
        for field in &task.fields {
            check_unique_name(ResourceKind::Field, SidPrefix::Field, &field.unique_name)?;
            if !seen_fields.insert(field.unique_name.as_str()) {
                return Err(StoreError::UniqueNameTaken {
                    kind: ResourceKind::Field,
                    unique_name: field.unique_name.clone(),
                    scope: format!("task {}", task.unique_name),
                });
            }
            field_rows.push(vec![
                (&new_sid(SidPrefix::Field)).into(),
                assistant_sid.into(),
                (&task_sid).into(),
                field.unique_name.clone().into(),
                field.field_type.clone().into(),
                now.into(),
                now.into(),
            ]);
        }
        for sample in &task.samples {
            sample_rows.push(vec![
                (&new_sid(SidPrefix::Sample)).into(),
                assistant_sid.into(),
                (&task_sid).into(),
                sample.language.clone().into(),
                sample.tagged_text.clone().into(),
                sample.source_channel.clone().into(),
                now.into(),
                now.into(),
            ]);
        }
    }
    insert_rows(conn, "tasks", TASK_INSERT, task_rows).await?;
    insert_rows(conn, "fields", FIELD_INSERT, field_rows).await?;
    insert_rows(conn, "samples", SAMPLE_INSERT, sample_rows).await?;
    Ok(())
}

/// The SID of the value a synonym names: same language and exact spelling
/// first, then ignoring case, then any language.
fn canonical_sid(
    field_type: &FieldType,
    sids: &[Sid],
    synonym: &FieldValue,
    canonical: &str,
) -> Result<Sid> {
    let key = value_key(canonical);
    let candidates = field_type.values.iter().zip(sids);
    let rank = |value: &FieldValue| -> Option<u8> {
        let same_language = value.language == synonym.language;
        if value.value == canonical {
            Some(if same_language { 0 } else { 2 })
        } else if value_key(&value.value) == key {
            Some(if same_language { 1 } else { 3 })
        } else {
            None
        }
    };
    candidates
        .filter_map(|(value, sid)| rank(value).map(|rank| (rank, sid)))
        .min_by_key(|(rank, _)| *rank)
        .map(|(_, sid)| sid.clone())
        .ok_or_else(|| StoreError::NotFound {
            kind: ResourceKind::FieldValue,
            key: canonical.to_owned(),
            scope: Some(format!(
                "field type {} (named as synonym_of by the value {:?})",
                field_type.unique_name, synonym.value
            )),
        })
}

fn new_assistant(assistant: &Assistant) -> NewAssistant {
    NewAssistant {
        unique_name: Some(assistant.unique_name.clone()),
        friendly_name: Some(assistant.friendly_name.clone()),
        log_queries: Some(assistant.log_queries),
        development_stage: None,
        callback_url: None,
        callback_events: None,
        defaults: Some(assistant.defaults.clone()),
        style_sheet: Some(assistant.style_sheet.clone()),
    }
}

impl Store {
    /// Creates the assistant and all its resources with new SIDs, in one
    /// transaction: all or nothing.
    pub async fn import_assistant(&self, account: &Sid, assistant: &Assistant) -> Result<Sid> {
        let now = self.now();
        let mut tx = self.write_tx().await?;
        let sid = insert_assistant(
            &mut tx,
            account,
            &new_assistant(assistant),
            assistant.model_build_name.as_deref(),
            true,
            now,
        )
        .await?;
        insert_content(&mut tx, &sid, assistant, now).await?;
        tx.commit().await?;
        Ok(sid)
    }

    /// Replaces an existing assistant's definition (names, settings, tasks,
    /// field types) in one transaction, keeping its SID, model builds, queries,
    /// webhooks and dialogues: the CLI's "update from a schema".
    pub async fn replace_assistant(
        &self,
        account: &Sid,
        key: &str,
        assistant: &Assistant,
    ) -> Result<AssistantIds> {
        let now = self.now();
        let mut tx = self.write_tx().await?;
        let sid = resolve_assistant(&mut tx, account, key).await?;
        check_unique_name(
            ResourceKind::Assistant,
            SidPrefix::Assistant,
            &assistant.unique_name,
        )?;
        check_friendly_name(ResourceKind::Assistant, Some(&assistant.friendly_name))?;
        let others = sqlx::query(
            "SELECT sid FROM assistants WHERE account_sid = $1 AND unique_name = $2 AND deleted = 0 AND sid <> $3",
        )
        .bind(account.as_str())
        .bind(assistant.unique_name.as_str())
        .bind(sid.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        if others.is_some() {
            return Err(StoreError::UniqueNameTaken {
                kind: ResourceKind::Assistant,
                unique_name: assistant.unique_name.clone(),
                scope: format!("account {account}"),
            });
        }
        sqlx::query("DELETE FROM tasks WHERE assistant_sid = $1")
            .bind(sid.as_str())
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM field_values WHERE assistant_sid = $1")
            .bind(sid.as_str())
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM field_types WHERE assistant_sid = $1")
            .bind(sid.as_str())
            .execute(&mut *tx)
            .await?;
        let sets: Vec<(&str, Arg)> = vec![
            ("unique_name", assistant.unique_name.clone().into()),
            ("friendly_name", assistant.friendly_name.clone().into()),
            ("log_queries", assistant.log_queries.into()),
            (
                "defaults",
                to_json_text(&assistant.defaults.to_value()).into(),
            ),
            (
                "style_sheet",
                to_json_text(&assistant.style_sheet.to_value()).into(),
            ),
            (
                "model_build_name",
                assistant.model_build_name.clone().into(),
            ),
            ("date_updated", now.into()),
        ];
        crate::assistants::update_row(&mut tx, "assistants", &sid, sets).await?;
        insert_content(&mut tx, &sid, assistant, now).await?;
        touch_training(&mut tx, &sid).await?;
        let (ids, _, _) = load(&mut tx, account, &sid).await?;
        tx.commit().await?;
        Ok(ids)
    }

    /// Assembles the assistant from its resource rows (in creation order,
    /// synonyms as their canonical value's text), with the SIDs behind it.
    pub async fn load_assistant(
        &self,
        account: &Sid,
        key: &str,
    ) -> Result<(AssistantIds, Assistant)> {
        let mut tx = self.read_tx().await?;
        let sid = resolve_assistant(&mut tx, account, key).await?;
        let (ids, assistant, _) = load(&mut tx, account, &sid).await?;
        tx.commit().await?;
        Ok((ids, assistant))
    }

    /// The assistant's definition as [`Store::load_assistant`] reads it, kept
    /// in memory: one small query compares the stored `definition_version`
    /// (bumped by triggers on every write to the assistant, its tasks,
    /// fields, samples, field types and values and build names, by any
    /// process) with the kept one, and the whole definition is read again
    /// only when it changed. A turn calls this instead of `load_assistant`.
    pub async fn current_assistant(&self, account: &Sid, key: &str) -> Result<Arc<Definition>> {
        let by_sid = Sid::parse_kind(key, SidPrefix::Assistant).is_ok();
        // Every turn asks: on SQLite on the caller's thread (see `direct`).
        let found = match self.backend() {
            Backend::Sqlite => self
                .direct()?
                .read(|conn| ready(conn.assistant_version(account, by_sid, key)))?,
            Backend::Postgres => {
                let mut conn = self.conn().await?;
                conn.assistant_version(account, by_sid, key).await?
            }
        };
        let (assistant_sid, version) =
            found.ok_or_else(|| StoreError::not_found(ResourceKind::Assistant, key, None))?;
        if let Some(kept) = self.kept_definition(&assistant_sid)
            && kept.version == version
        {
            return Ok(kept);
        }
        let mut tx = self.read_tx().await?;
        let (ids, assistant, version) = load(&mut tx, account, &assistant_sid).await?;
        let webhook_events = tx
            .webhook_subscriptions(&assistant_sid)
            .await?
            .iter()
            .flat_map(|(_, events)| events.split_whitespace().map(str::to_owned))
            .collect();
        tx.commit().await?;
        let loaded = Arc::new(Definition {
            ids,
            assistant,
            version,
            webhook_events,
        });
        let mut kept = self
            .inner
            .definitions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // Two turns may load concurrently; the newer read wins.
        match kept.get(&assistant_sid) {
            Some(other) if other.version > version => Ok(other.clone()),
            _ => {
                // A unique name names one assistant: forget one that had it
                // before (deleted or renamed), so lookups by name find this one.
                let name = &loaded.assistant.unique_name;
                kept.retain(|sid, other| {
                    *sid == assistant_sid || other.assistant.unique_name != *name
                });
                kept.insert(assistant_sid, loaded.clone());
                Ok(loaded)
            }
        }
    }

    fn kept_definition(&self, assistant: &Sid) -> Option<Arc<Definition>> {
        self.inner
            .definitions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(assistant)
            .cloned()
    }

    /// The definition kept in memory for an assistant of the account, by SID
    /// or unique name, as it was when last read: without asking the
    /// database, so possibly out of date. Check its version (see
    /// [`Store::lock_user_with_definition_version`]) before using it.
    pub fn kept_definition_by_key(&self, account: &Sid, key: &str) -> Option<Arc<Definition>> {
        let kept = self
            .inner
            .definitions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let found = match Sid::parse_kind(key, SidPrefix::Assistant) {
            Ok(sid) => kept.get(&sid),
            Err(_) => kept
                .values()
                .find(|definition| definition.assistant.unique_name == key),
        };
        found
            .filter(|definition| definition.ids.account_sid == *account)
            .cloned()
    }

    /// How many assistant definitions this store keeps in memory (for tests).
    pub fn kept_definitions(&self) -> usize {
        self.inner
            .definitions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .len()
    }

    /// The assistant as an Autopilot CLI schema file.
    pub async fn export_assistant(&self, account: &Sid, key: &str) -> Result<String> {
        let (_, assistant) = self.load_assistant(account, key).await?;
        Ok(otto_model::export_schema(&assistant))
    }
}

async fn load(
    conn: &mut AnyConnection,
    account: &Sid,
    assistant_sid: &Sid,
) -> Result<(AssistantIds, Assistant, i64)> {
    let row = sqlx::query(
        "SELECT a.unique_name, a.friendly_name, a.log_queries, a.defaults, a.style_sheet, a.latest_model_build_sid, a.definition_version, \
         a.model_build_name, b.unique_name AS latest_build_name \
         FROM assistants a LEFT JOIN model_builds b ON b.sid = a.latest_model_build_sid WHERE a.sid = $1",
    )
    .bind(assistant_sid.as_str())
    .fetch_one(&mut *conn)
    .await?;
    let unique_name = text(&row, "unique_name")?;
    let version = int(&row, "definition_version")?;
    let defaults = Defaults::from_value(&json(&row, "defaults")?).map_err(|error| {
        StoreError::corrupt(format!("defaults of assistant {assistant_sid}"), error)
    })?;
    let style_sheet = StyleSheet::from_value(&json(&row, "style_sheet")?).map_err(|error| {
        StoreError::corrupt(format!("style sheet of assistant {assistant_sid}"), error)
    })?;
    let latest_model_build_sid = opt_sid(&row, "latest_model_build_sid")?;
    let model_build_name = match opt_text(&row, "latest_build_name")? {
        Some(name) => Some(name),
        None => opt_text(&row, "model_build_name")?,
    };
    let mut assistant = Assistant {
        friendly_name: opt_text(&row, "friendly_name")?.unwrap_or_else(|| unique_name.clone()),
        unique_name,
        log_queries: crate::db::flag(&row, "log_queries")?,
        defaults,
        style_sheet,
        field_types: Vec::new(),
        tasks: Vec::new(),
        model_build_name,
    };
    let mut ids = AssistantIds {
        sid: assistant_sid.clone(),
        account_sid: account.clone(),
        tasks: Vec::new(),
        field_types: Vec::new(),
        latest_model_build_sid,
    };

    let mut type_index = HashMap::new();
    let rows = sqlx::query(
        "SELECT sid, unique_name, friendly_name FROM field_types WHERE assistant_sid = $1 ORDER BY seq",
    )
    .bind(assistant_sid.as_str())
    .fetch_all(&mut *conn)
    .await?;
    for row in rows {
        let sid = sid(&row, "sid")?;
        type_index.insert(sid.to_string(), assistant.field_types.len());
        assistant.field_types.push(FieldType {
            unique_name: text(&row, "unique_name")?,
            friendly_name: opt_text(&row, "friendly_name")?,
            values: Vec::new(),
        });
        ids.field_types.push(sid);
    }
    let rows = sqlx::query(
        "SELECT v.field_type_sid, v.language, v.value, c.value AS canonical \
         FROM field_values v LEFT JOIN field_values c ON c.sid = v.synonym_of \
         WHERE v.assistant_sid = $1 ORDER BY v.seq",
    )
    .bind(assistant_sid.as_str())
    .fetch_all(&mut *conn)
    .await?;
    for row in rows {
        let type_sid = text(&row, "field_type_sid")?;
        let index = *type_index.get(&type_sid).ok_or_else(|| {
            StoreError::corrupt(
                "field value",
                format!("its field type {type_sid} is missing"),
            )
        })?;
        assistant.field_types[index].values.push(FieldValue {
            language: text(&row, "language")?,
            value: text(&row, "value")?,
            synonym_of: opt_text(&row, "canonical")?,
        });
    }

    let mut task_index = HashMap::new();
    let rows = sqlx::query(
        "SELECT sid, unique_name, friendly_name, actions, actions_url FROM tasks WHERE assistant_sid = $1 ORDER BY seq",
    )
    .bind(assistant_sid.as_str())
    .fetch_all(&mut *conn)
    .await?;
    for row in rows {
        let sid = sid(&row, "sid")?;
        task_index.insert(sid.to_string(), assistant.tasks.len());
        assistant.tasks.push(Task {
            unique_name: text(&row, "unique_name")?,
            friendly_name: opt_text(&row, "friendly_name")?,
            actions: parse_actions(opt_text(&row, "actions")?, sid.as_str())?,
            actions_url: opt_text(&row, "actions_url")?,
            fields: Vec::new(),
            samples: Vec::new(),
        });
        ids.tasks.push(sid);
    }
    let task_of = |task_sid: &str| -> Result<usize> {
        task_index.get(task_sid).copied().ok_or_else(|| {
            StoreError::corrupt("task child", format!("its task {task_sid} is missing"))
        })
    };
    let rows = sqlx::query(
        "SELECT task_sid, unique_name, field_type FROM fields WHERE assistant_sid = $1 ORDER BY seq",
    )
    .bind(assistant_sid.as_str())
    .fetch_all(&mut *conn)
    .await?;
    for row in rows {
        let index = task_of(&text(&row, "task_sid")?)?;
        assistant.tasks[index].fields.push(Field {
            unique_name: text(&row, "unique_name")?,
            field_type: text(&row, "field_type")?,
        });
    }
    let rows = sqlx::query(
        "SELECT task_sid, language, tagged_text, source_channel FROM samples WHERE assistant_sid = $1 ORDER BY seq",
    )
    .bind(assistant_sid.as_str())
    .fetch_all(&mut *conn)
    .await?;
    for row in rows {
        let index = task_of(&text(&row, "task_sid")?)?;
        assistant.tasks[index].samples.push(Sample {
            language: text(&row, "language")?,
            tagged_text: text(&row, "tagged_text")?,
            source_channel: opt_text(&row, "source_channel")?,
        });
    }
    Ok((ids, assistant, version))
}
