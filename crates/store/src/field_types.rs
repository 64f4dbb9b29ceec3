//! Custom field types (`UB…`) and their values (`UC…`).

use otto_model::{Sid, SidPrefix};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;

use crate::assistants::update_row;
use crate::db::{
    Arg, FIELD_TYPES, FIELD_VALUES, Store, check_friendly_name, check_unique_name, delete_row, int,
    name_taken, new_sid, opt_sid, opt_text, query_with, resolve, resolve_assistant, sid, text,
    touch_training, unique_name_taken,
};
use crate::error::{ResourceKind, Result, StoreError, is_unique_violation};
use crate::page::{ListQuery, Page, PageRequest, fetch_page};
use crate::tasks::unique_to_taken;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldTypeRecord {
    pub sid: Sid,
    pub account_sid: Sid,
    pub assistant_sid: Sid,
    pub unique_name: String,
    pub friendly_name: Option<String>,
    pub date_created: i64,
    pub date_updated: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewFieldType {
    pub unique_name: String,
    pub friendly_name: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldTypeUpdate {
    /// Renaming also renames the type in the fields that use it.
    pub unique_name: Option<String>,
    pub friendly_name: Option<Option<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldValueRecord {
    pub sid: Sid,
    pub account_sid: Sid,
    pub assistant_sid: Sid,
    pub field_type_sid: Sid,
    pub language: String,
    pub value: String,
    /// The canonical value's SID when this value is a synonym.
    pub synonym_of: Option<Sid>,
    pub date_created: i64,
    pub date_updated: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewFieldValue {
    pub language: String,
    pub value: String,
    /// The canonical value this one is a synonym of: its value string (what
    /// importers send; matched exactly, then ignoring case) or its `UC` SID.
    pub synonym_of: Option<String>,
}

/// List filter of field values (`Language`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldValueFilter {
    pub language: Option<String>,
}

const TYPE_FROM: &str = "(SELECT ft.*, a.account_sid FROM field_types ft JOIN assistants a ON a.sid = ft.assistant_sid) AS x";
const TYPE_COLUMNS: &str =
    "seq, sid, account_sid, assistant_sid, unique_name, friendly_name, date_created, date_updated";
const VALUE_FROM: &str = "(SELECT v.*, a.account_sid FROM field_values v JOIN assistants a ON a.sid = v.assistant_sid) AS x";
const VALUE_COLUMNS: &str = "seq, sid, account_sid, assistant_sid, field_type_sid, language, value, synonym_of, date_created, date_updated";

pub(crate) const TYPE_INSERT: &[&str] = &[
    "sid",
    "assistant_sid",
    "unique_name",
    "friendly_name",
    "date_created",
    "date_updated",
];

pub(crate) const VALUE_INSERT: &[&str] = &[
    "sid",
    "assistant_sid",
    "field_type_sid",
    "language",
    "value",
    "value_key",
    "synonym_of",
    "date_created",
    "date_updated",
];

/// Values are unique per type and language ignoring case; this is the key compared.
pub(crate) fn value_key(value: &str) -> String {
    value.to_lowercase()
}

fn type_from_row(row: &AnyRow) -> Result<FieldTypeRecord> {
    Ok(FieldTypeRecord {
        sid: sid(row, "sid")?,
        account_sid: sid(row, "account_sid")?,
        assistant_sid: sid(row, "assistant_sid")?,
        unique_name: text(row, "unique_name")?,
        friendly_name: opt_text(row, "friendly_name")?,
        date_created: int(row, "date_created")?,
        date_updated: int(row, "date_updated")?,
    })
}

fn value_from_row(row: &AnyRow) -> Result<FieldValueRecord> {
    Ok(FieldValueRecord {
        sid: sid(row, "sid")?,
        account_sid: sid(row, "account_sid")?,
        assistant_sid: sid(row, "assistant_sid")?,
        field_type_sid: sid(row, "field_type_sid")?,
        language: text(row, "language")?,
        value: text(row, "value")?,
        synonym_of: opt_sid(row, "synonym_of")?,
        date_created: int(row, "date_created")?,
        date_updated: int(row, "date_updated")?,
    })
}

async fn type_by_sid(conn: &mut AnyConnection, sid: &Sid) -> Result<FieldTypeRecord> {
    let sql = format!("SELECT {TYPE_COLUMNS} FROM {TYPE_FROM} WHERE sid = $1");
    let row = query_with(sql, vec![sid.into()]).fetch_one(conn).await?;
    type_from_row(&row)
}

async fn value_by_sid(conn: &mut AnyConnection, sid: &Sid) -> Result<FieldValueRecord> {
    let sql = format!("SELECT {VALUE_COLUMNS} FROM {VALUE_FROM} WHERE sid = $1");
    let row = query_with(sql, vec![sid.into()]).fetch_one(conn).await?;
    value_from_row(&row)
}

async fn resolve_type(
    conn: &mut AnyConnection,
    account: &Sid,
    assistant: &str,
    field_type: &str,
) -> Result<(Sid, Sid)> {
    let assistant = resolve_assistant(conn, account, assistant).await?;
    let field_type = resolve(conn, &FIELD_TYPES, &assistant, field_type).await?;
    Ok((assistant, field_type))
}

/// The SID of the canonical value `synonym_of` names within the field type.
async fn canonical_value(
    conn: &mut AnyConnection,
    field_type: &Sid,
    language: &str,
    synonym_of: &str,
) -> Result<Sid> {
    let not_found = || StoreError::NotFound {
        kind: ResourceKind::FieldValue,
        key: synonym_of.to_owned(),
        scope: Some(format!(
            "field type {field_type} (the value SynonymOf names)"
        )),
    };
    if Sid::parse_kind(synonym_of, SidPrefix::FieldValue).is_ok() {
        let row =
            sqlx::query("SELECT sid FROM field_values WHERE field_type_sid = $1 AND sid = $2")
                .bind(field_type.as_str())
                .bind(synonym_of)
                .fetch_optional(&mut *conn)
                .await?;
        return row
            .map(|row| sid(&row, "sid"))
            .unwrap_or_else(|| Err(not_found()));
    }
    let rows = sqlx::query(
        "SELECT sid, language, value FROM field_values WHERE field_type_sid = $1 AND value_key = $2 ORDER BY seq",
    )
    .bind(field_type.as_str())
    .bind(value_key(synonym_of))
    .fetch_all(&mut *conn)
    .await?;
    let mut best: Option<(u8, Sid)> = None;
    for row in rows {
        let rank = match (
            text(&row, "language")? == language,
            text(&row, "value")? == synonym_of,
        ) {
            (true, true) => 0,
            (true, false) => 1,
            (false, true) => 2,
            (false, false) => 3,
        };
        if best.as_ref().is_none_or(|(best_rank, _)| rank < *best_rank) {
            best = Some((rank, sid(&row, "sid")?));
        }
    }
    best.map(|(_, sid)| sid).ok_or_else(not_found)
}

fn value_taken(field_type: &Sid, new: &NewFieldValue) -> StoreError {
    StoreError::ValueTaken {
        field_type: field_type.to_string(),
        value: new.value.clone(),
        language: new.language.clone(),
    }
}

impl Store {
    pub async fn create_field_type(
        &self,
        account: &Sid,
        assistant: &str,
        new: NewFieldType,
    ) -> Result<FieldTypeRecord> {
        check_unique_name(
            ResourceKind::FieldType,
            SidPrefix::FieldType,
            &new.unique_name,
        )?;
        check_friendly_name(ResourceKind::FieldType, new.friendly_name.as_deref())?;
        let mut tx = self.write_tx().await?;
        let assistant = resolve_assistant(&mut tx, account, assistant).await?;
        if unique_name_taken(&mut tx, &FIELD_TYPES, &assistant, &new.unique_name, None).await? {
            return Err(name_taken(&FIELD_TYPES, &assistant, &new.unique_name));
        }
        let sid = new_sid(SidPrefix::FieldType);
        let now = self.now();
        let row = vec![
            (&sid).into(),
            (&assistant).into(),
            new.unique_name.clone().into(),
            new.friendly_name.clone().into(),
            now.into(),
            now.into(),
        ];
        crate::db::insert_rows(&mut tx, "field_types", TYPE_INSERT, vec![row])
            .await
            .map_err(|error| unique_to_taken(error, &FIELD_TYPES, &assistant, &new.unique_name))?;
        touch_training(&mut tx, &assistant).await?;
        let record = type_by_sid(&mut tx, &sid).await?;
        tx.commit().await?;
        Ok(record)
    }

    pub async fn fetch_field_type(
        &self,
        account: &Sid,
        assistant: &str,
        field_type: &str,
    ) -> Result<FieldTypeRecord> {
        let mut conn = self.conn().await?;
        let (_, field_type) = resolve_type(&mut conn, account, assistant, field_type).await?;
        type_by_sid(&mut conn, &field_type).await
    }

    /// Updates a field type; a new unique name is carried into the fields using it.
    pub async fn update_field_type(
        &self,
        account: &Sid,
        assistant: &str,
        field_type: &str,
        update: FieldTypeUpdate,
    ) -> Result<FieldTypeRecord> {
        let mut tx = self.write_tx().await?;
        let (assistant, field_type) = resolve_type(&mut tx, account, assistant, field_type).await?;
        let current = type_by_sid(&mut tx, &field_type).await?;
        let now = self.now();
        let mut sets: Vec<(&str, Arg)> = Vec::new();
        if let Some(unique_name) = &update.unique_name {
            check_unique_name(ResourceKind::FieldType, SidPrefix::FieldType, unique_name)?;
            let taken = unique_name_taken(
                &mut tx,
                &FIELD_TYPES,
                &assistant,
                unique_name,
                Some(&field_type),
            )
            .await?;
            if taken {
                return Err(name_taken(&FIELD_TYPES, &assistant, unique_name));
            }
            if *unique_name != current.unique_name {
                sqlx::query(
                    "UPDATE fields SET field_type = $1, date_updated = $2 WHERE assistant_sid = $3 AND field_type = $4",
                )
                .bind(unique_name.as_str())
                .bind(now)
                .bind(assistant.as_str())
                .bind(current.unique_name.as_str())
                .execute(&mut *tx)
                .await?;
                touch_training(&mut tx, &assistant).await?;
            }
            sets.push(("unique_name", unique_name.clone().into()));
        }
        if let Some(friendly_name) = update.friendly_name {
            check_friendly_name(ResourceKind::FieldType, friendly_name.as_deref())?;
            sets.push(("friendly_name", friendly_name.into()));
        }
        sets.push(("date_updated", now.into()));
        update_row(&mut tx, "field_types", &field_type, sets).await?;
        let record = type_by_sid(&mut tx, &field_type).await?;
        tx.commit().await?;
        Ok(record)
    }

    /// Deletes a field type with its values; refused while a field uses it.
    pub async fn delete_field_type(
        &self,
        account: &Sid,
        assistant: &str,
        field_type: &str,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let (assistant, field_type) = resolve_type(&mut tx, account, assistant, field_type).await?;
        let current = type_by_sid(&mut tx, &field_type).await?;
        let users = sqlx::query(
            "SELECT t.unique_name AS task, f.unique_name AS field FROM fields f JOIN tasks t ON t.sid = f.task_sid WHERE f.assistant_sid = $1 AND f.field_type = $2 ORDER BY f.seq",
        )
        .bind(assistant.as_str())
        .bind(current.unique_name.as_str())
        .fetch_all(&mut *tx)
        .await?;
        if !users.is_empty() {
            let names = users
                .iter()
                .map(|row| Ok(format!("{}.{}", text(row, "task")?, text(row, "field")?)))
                .collect::<Result<Vec<_>>>()?;
            return Err(StoreError::InUse {
                kind: ResourceKind::FieldType,
                key: current.unique_name,
                used_by: format!("the field(s) {}", names.join(", ")),
            });
        }
        delete_row(&mut tx, &FIELD_TYPES, &assistant, &field_type).await?;
        touch_training(&mut tx, &assistant).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn list_field_types(
        &self,
        account: &Sid,
        assistant: &str,
        page: &PageRequest,
    ) -> Result<Page<FieldTypeRecord>> {
        let mut conn = self.conn().await?;
        let assistant = resolve_assistant(&mut conn, account, assistant).await?;
        let list = ListQuery {
            table: TYPE_FROM,
            columns: TYPE_COLUMNS,
            filter: "assistant_sid = $1".to_owned(),
            args: vec![(&assistant).into()],
        };
        fetch_page(&mut conn, list, page)
            .await?
            .try_map(|row| type_from_row(&row))
    }

    // ---- values -----------------------------------------------------------

    pub async fn create_field_value(
        &self,
        account: &Sid,
        assistant: &str,
        field_type: &str,
        new: NewFieldValue,
    ) -> Result<FieldValueRecord> {
        if new.language.trim().is_empty() {
            return Err(StoreError::invalid("Language", "it must not be empty"));
        }
        if new.value.trim().is_empty() {
            return Err(StoreError::invalid("Value", "it must not be empty"));
        }
        let mut tx = self.write_tx().await?;
        let (assistant, field_type) = resolve_type(&mut tx, account, assistant, field_type).await?;
        let taken = sqlx::query(
            "SELECT sid FROM field_values WHERE field_type_sid = $1 AND language = $2 AND value_key = $3",
        )
        .bind(field_type.as_str())
        .bind(new.language.as_str())
        .bind(value_key(&new.value))
        .fetch_optional(&mut *tx)
        .await?;
        if taken.is_some() {
            return Err(value_taken(&field_type, &new));
        }
        let synonym_of = match &new.synonym_of {
            Some(canonical) => {
                Some(canonical_value(&mut tx, &field_type, &new.language, canonical).await?)
            }
            None => None,
        };
        let sid = new_sid(SidPrefix::FieldValue);
        let now = self.now();
        let row = vec![
            (&sid).into(),
            (&assistant).into(),
            (&field_type).into(),
            new.language.clone().into(),
            new.value.clone().into(),
            value_key(&new.value).into(),
            synonym_of.map(|sid| sid.to_string()).into(),
            now.into(),
            now.into(),
        ];
        crate::db::insert_rows(&mut tx, "field_values", VALUE_INSERT, vec![row])
            .await
            .map_err(|error| match &error {
                StoreError::Database(db) if is_unique_violation(db) => {
                    value_taken(&field_type, &new)
                }
                _ => error,
            })?;
        touch_training(&mut tx, &assistant).await?;
        let record = value_by_sid(&mut tx, &sid).await?;
        tx.commit().await?;
        Ok(record)
    }

    /// Field values are addressed by SID only.
    pub async fn fetch_field_value(
        &self,
        account: &Sid,
        assistant: &str,
        field_type: &str,
        value: &str,
    ) -> Result<FieldValueRecord> {
        let mut conn = self.conn().await?;
        let (_, field_type) = resolve_type(&mut conn, account, assistant, field_type).await?;
        let value = resolve(&mut conn, &FIELD_VALUES, &field_type, value).await?;
        value_by_sid(&mut conn, &value).await
    }

    /// Deletes a value; its synonyms go with it.
    pub async fn delete_field_value(
        &self,
        account: &Sid,
        assistant: &str,
        field_type: &str,
        value: &str,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let (assistant, field_type) = resolve_type(&mut tx, account, assistant, field_type).await?;
        let value = resolve(&mut tx, &FIELD_VALUES, &field_type, value).await?;
        // Synonyms first: the foreign key is checked at commit on both backends.
        sqlx::query("DELETE FROM field_values WHERE synonym_of = $1")
            .bind(value.as_str())
            .execute(&mut *tx)
            .await?;
        delete_row(&mut tx, &FIELD_VALUES, &field_type, &value).await?;
        touch_training(&mut tx, &assistant).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn list_field_values(
        &self,
        account: &Sid,
        assistant: &str,
        field_type: &str,
        filter: &FieldValueFilter,
        page: &PageRequest,
    ) -> Result<Page<FieldValueRecord>> {
        let mut conn = self.conn().await?;
        let (_, field_type) = resolve_type(&mut conn, account, assistant, field_type).await?;
        let mut where_clause = "field_type_sid = $1".to_owned();
        let mut args: Vec<Arg> = vec![(&field_type).into()];
        if let Some(language) = &filter.language {
            args.push(language.clone().into());
            where_clause.push_str(&format!(" AND language = ${}", args.len()));
        }
        let list = ListQuery {
            table: VALUE_FROM,
            columns: VALUE_COLUMNS,
            filter: where_clause,
            args,
        };
        fetch_page(&mut conn, list, page)
            .await?
            .try_map(|row| value_from_row(&row))
    }
}
