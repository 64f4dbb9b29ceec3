//! Model builds (`UG…`): the queue of training runs and the trained models.

use std::fmt;

use otto_model::{Sid, SidPrefix};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;

use crate::assistants::update_row;
use crate::db::{
    Arg, Backend, MODEL_BUILDS, Store, blob, check_own_unique_name, delete_row, int, name_taken,
    new_sid, opt_int, opt_text, query_with, resolve, resolve_assistant, sid, text,
    unique_name_taken,
};
use crate::error::{ResourceKind, Result, StoreError};
use crate::page::{ListQuery, Page, PageRequest, fetch_page};
use crate::tasks::unique_to_taken;

/// `enqueued → building → completed | failed | canceled`.
/// How long a claimed build stays with its trainer without a renewal.
pub const MODEL_BUILD_LEASE_SECONDS: i64 = 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelBuildStatus {
    Enqueued,
    Building,
    Completed,
    Failed,
    Canceled,
}

impl ModelBuildStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ModelBuildStatus::Enqueued => "enqueued",
            ModelBuildStatus::Building => "building",
            ModelBuildStatus::Completed => "completed",
            ModelBuildStatus::Failed => "failed",
            ModelBuildStatus::Canceled => "canceled",
        }
    }

    pub fn parse(text: &str) -> Option<ModelBuildStatus> {
        [
            ModelBuildStatus::Enqueued,
            ModelBuildStatus::Building,
            ModelBuildStatus::Completed,
            ModelBuildStatus::Failed,
            ModelBuildStatus::Canceled,
        ]
        .into_iter()
        .find(|status| status.as_str() == text)
    }
}

impl fmt::Display for ModelBuildStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A model build as the REST API shows it (the trained model is fetched apart).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelBuildRecord {
    pub sid: Sid,
    pub account_sid: Sid,
    pub assistant_sid: Sid,
    pub unique_name: String,
    pub status: ModelBuildStatus,
    /// Seconds, once finished.
    pub build_duration: Option<i64>,
    /// Only when failed.
    pub error_code: Option<i64>,
    pub status_callback: Option<String>,
    pub date_created: i64,
    pub date_updated: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewModelBuild {
    /// The SID when not given.
    pub unique_name: Option<String>,
    pub status_callback: Option<String>,
}

/// How a build ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildOutcome {
    /// The serialised NLU model.
    Completed {
        model: Vec<u8>,
        build_duration: i64,
    },
    Failed {
        error_code: i64,
        build_duration: i64,
    },
    Canceled,
}

const BUILD_FROM: &str = "(SELECT b.*, a.account_sid FROM model_builds b JOIN assistants a ON a.sid = b.assistant_sid) AS x";
const BUILD_COLUMNS: &str = "seq, sid, account_sid, assistant_sid, unique_name, status, build_duration, error_code, status_callback, date_created, date_updated";

fn build_from_row(row: &AnyRow) -> Result<ModelBuildRecord> {
    let sid = sid(row, "sid")?;
    let status_text = text(row, "status")?;
    let status = ModelBuildStatus::parse(&status_text).ok_or_else(|| {
        StoreError::corrupt(
            format!("status of model build {sid}"),
            format!("{status_text:?} is not a status"),
        )
    })?;
    Ok(ModelBuildRecord {
        account_sid: crate::db::sid(row, "account_sid")?,
        assistant_sid: crate::db::sid(row, "assistant_sid")?,
        unique_name: text(row, "unique_name")?,
        status,
        build_duration: opt_int(row, "build_duration")?,
        error_code: opt_int(row, "error_code")?,
        status_callback: opt_text(row, "status_callback")?,
        date_created: int(row, "date_created")?,
        date_updated: int(row, "date_updated")?,
        sid,
    })
}

async fn build_by_sid(conn: &mut AnyConnection, sid: &Sid) -> Result<ModelBuildRecord> {
    let sql = format!("SELECT {BUILD_COLUMNS} FROM {BUILD_FROM} WHERE sid = $1");
    let row = query_with(sql, vec![sid.into()])
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| StoreError::not_found(ResourceKind::ModelBuild, sid.as_str(), None))?;
    build_from_row(&row)
}

/// Points the assistant at its newest completed build (or none).
async fn refresh_latest(conn: &mut AnyConnection, assistant: &Sid) -> Result<()> {
    let latest = sqlx::query(
        "SELECT sid FROM model_builds WHERE assistant_sid = $1 AND status = 'completed' ORDER BY seq DESC LIMIT 1",
    )
    .bind(assistant.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    let latest = latest.map(|row| text(&row, "sid")).transpose()?;
    sqlx::query("UPDATE assistants SET latest_model_build_sid = $1 WHERE sid = $2")
        .bind(latest)
        .bind(assistant.as_str())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

impl Store {
    /// Queues a training run of the assistant's current data.
    pub async fn create_model_build(
        &self,
        account: &Sid,
        assistant: &str,
        new: NewModelBuild,
    ) -> Result<ModelBuildRecord> {
        let mut tx = self.write_tx().await?;
        let assistant = resolve_assistant(&mut tx, account, assistant).await?;
        let sid = new_sid(SidPrefix::ModelBuild);
        let unique_name = new.unique_name.clone().unwrap_or_else(|| sid.to_string());
        check_own_unique_name(
            ResourceKind::ModelBuild,
            SidPrefix::ModelBuild,
            &unique_name,
            &sid,
        )?;
        if unique_name_taken(&mut tx, &MODEL_BUILDS, &assistant, &unique_name, None).await? {
            return Err(name_taken(&MODEL_BUILDS, &assistant, &unique_name));
        }
        let now = self.now();
        query_with(
            "INSERT INTO model_builds (sid, assistant_sid, unique_name, status, build_duration, error_code, status_callback, training_version, model, date_created, date_updated) \
             VALUES ($1, $2, $3, 'enqueued', NULL, NULL, $4, 0, NULL, $5, $5)"
                .to_owned(),
            vec![
                (&sid).into(),
                (&assistant).into(),
                unique_name.clone().into(),
                new.status_callback.into(),
                now.into(),
            ],
        )
        .execute(&mut *tx)
        .await
        .map_err(|error| unique_to_taken(error.into(), &MODEL_BUILDS, &assistant, &unique_name))?;
        let record = build_by_sid(&mut tx, &sid).await?;
        tx.commit().await?;
        Ok(record)
    }

    pub async fn fetch_model_build(
        &self,
        account: &Sid,
        assistant: &str,
        model_build: &str,
    ) -> Result<ModelBuildRecord> {
        let mut conn = self.conn().await?;
        let assistant = resolve_assistant(&mut conn, account, assistant).await?;
        let build = resolve(&mut conn, &MODEL_BUILDS, &assistant, model_build).await?;
        build_by_sid(&mut conn, &build).await
    }

    /// Renames a build (its only updatable property).
    pub async fn update_model_build(
        &self,
        account: &Sid,
        assistant: &str,
        model_build: &str,
        unique_name: &str,
    ) -> Result<ModelBuildRecord> {
        let mut tx = self.write_tx().await?;
        let assistant = resolve_assistant(&mut tx, account, assistant).await?;
        let build = resolve(&mut tx, &MODEL_BUILDS, &assistant, model_build).await?;
        check_own_unique_name(
            ResourceKind::ModelBuild,
            SidPrefix::ModelBuild,
            unique_name,
            &build,
        )?;
        if unique_name_taken(
            &mut tx,
            &MODEL_BUILDS,
            &assistant,
            unique_name,
            Some(&build),
        )
        .await?
        {
            return Err(name_taken(&MODEL_BUILDS, &assistant, unique_name));
        }
        let sets: Vec<(&str, Arg)> = vec![
            ("unique_name", unique_name.into()),
            ("date_updated", self.now().into()),
        ];
        update_row(&mut tx, "model_builds", &build, sets).await?;
        let record = build_by_sid(&mut tx, &build).await?;
        tx.commit().await?;
        Ok(record)
    }

    /// Deletes a build and its model; the assistant falls back to its newest
    /// other completed build.
    pub async fn delete_model_build(
        &self,
        account: &Sid,
        assistant: &str,
        model_build: &str,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let assistant = resolve_assistant(&mut tx, account, assistant).await?;
        let build = resolve(&mut tx, &MODEL_BUILDS, &assistant, model_build).await?;
        delete_row(&mut tx, &MODEL_BUILDS, &assistant, &build).await?;
        refresh_latest(&mut tx, &assistant).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn list_model_builds(
        &self,
        account: &Sid,
        assistant: &str,
        page: &PageRequest,
    ) -> Result<Page<ModelBuildRecord>> {
        let mut conn = self.conn().await?;
        let assistant = resolve_assistant(&mut conn, account, assistant).await?;
        let list = ListQuery {
            table: BUILD_FROM,
            columns: BUILD_COLUMNS,
            filter: "assistant_sid = $1".to_owned(),
            args: vec![(&assistant).into()],
        };
        fetch_page(&mut conn, list, page)
            .await?
            .try_map(|row| build_from_row(&row))
    }

    /// For a trainer: takes the oldest enqueued build of any live assistant and
    /// marks it `building`; each build is handed to one caller only, across
    /// processes. The assistant's data as of this moment is what it must train on.
    ///
    /// The claim is a lease of [`MODEL_BUILD_LEASE_SECONDS`]: the trainer
    /// renews it while training ([`Store::renew_model_build_lease`]); a build
    /// whose lease ran out (its trainer died) is claimed again, oldest first
    /// with the enqueued ones.
    pub async fn claim_model_build(&self) -> Result<Option<ModelBuildRecord>> {
        let mut tx = self.write_tx().await?;
        let lock = match self.backend() {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        };
        let sql = format!(
            "UPDATE model_builds SET status = 'building', date_updated = $1, lease_until = $2, \
             training_version = (SELECT a.training_version FROM assistants a WHERE a.sid = model_builds.assistant_sid) \
             WHERE sid = (SELECT b.sid FROM model_builds b WHERE \
             (b.status = 'enqueued' OR (b.status = 'building' AND COALESCE(b.lease_until, 0) < $1)) \
             AND b.assistant_sid IN (SELECT sid FROM assistants WHERE deleted = 0) ORDER BY b.seq LIMIT 1{lock}) \
             RETURNING sid"
        );
        let now = self.now();
        let row = query_with(
            sql,
            vec![now.into(), (now + MODEL_BUILD_LEASE_SECONDS).into()],
        )
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let record = build_by_sid(&mut tx, &sid(&row, "sid")?).await?;
        tx.commit().await?;
        Ok(Some(record))
    }

    /// Extends the lease of a build being trained by another
    /// [`MODEL_BUILD_LEASE_SECONDS`]; `false` when it is no longer building
    /// (finished, or deleted).
    pub async fn renew_model_build_lease(&self, model_build: &Sid) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE model_builds SET lease_until = $1 WHERE sid = $2 AND status = 'building'",
        )
        .bind(self.now() + MODEL_BUILD_LEASE_SECONDS)
        .bind(model_build.as_str())
        .execute(&self.inner.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records how a build ended. A completed build becomes the assistant's
    /// latest (unless a newer one completed first) and clears
    /// `needs_model_build` when nothing changed since the build was claimed.
    /// Fails with `WrongStatus` unless the build is enqueued or building.
    pub async fn finish_model_build(
        &self,
        model_build: &Sid,
        outcome: BuildOutcome,
    ) -> Result<ModelBuildRecord> {
        let mut tx = self.write_tx().await?;
        let record = build_by_sid(&mut tx, model_build).await?;
        if !matches!(
            record.status,
            ModelBuildStatus::Enqueued | ModelBuildStatus::Building
        ) {
            return Err(StoreError::WrongStatus {
                kind: ResourceKind::ModelBuild,
                key: model_build.to_string(),
                status: record.status.to_string(),
                expected: "enqueued or building".to_owned(),
            });
        }
        let now = self.now();
        let (status, duration, error_code, model) = match outcome {
            BuildOutcome::Completed {
                model,
                build_duration,
            } => (
                ModelBuildStatus::Completed,
                Some(build_duration),
                None,
                Some(model),
            ),
            BuildOutcome::Failed {
                error_code,
                build_duration,
            } => (
                ModelBuildStatus::Failed,
                Some(build_duration),
                Some(error_code),
                None,
            ),
            BuildOutcome::Canceled => (ModelBuildStatus::Canceled, None, None, None),
        };
        let sets: Vec<(&str, Arg)> = vec![
            ("status", status.as_str().into()),
            ("build_duration", duration.into()),
            ("error_code", error_code.into()),
            ("model", Arg::Blob(model)),
            ("date_updated", now.into()),
        ];
        update_row(&mut tx, "model_builds", model_build, sets).await?;
        if status == ModelBuildStatus::Completed {
            refresh_latest(&mut tx, &record.assistant_sid).await?;
            sqlx::query(
                "UPDATE assistants SET needs_model_build = CASE WHEN training_version = \
                 (SELECT training_version FROM model_builds WHERE sid = $1) THEN 0 ELSE 1 END \
                 WHERE sid = $2 AND latest_model_build_sid = $1",
            )
            .bind(model_build.as_str())
            .bind(record.assistant_sid.as_str())
            .execute(&mut *tx)
            .await?;
        }
        let record = build_by_sid(&mut tx, model_build).await?;
        tx.commit().await?;
        Ok(record)
    }

    /// The trained model of a completed build.
    pub async fn model_build_artifact(&self, model_build: &Sid) -> Result<Vec<u8>> {
        let row = sqlx::query("SELECT status, model FROM model_builds WHERE sid = $1")
            .bind(model_build.as_str())
            .fetch_optional(&self.inner.pool)
            .await?
            .ok_or_else(|| {
                StoreError::not_found(ResourceKind::ModelBuild, model_build.as_str(), None)
            })?;
        let status = text(&row, "status")?;
        blob(&row, "model")?.ok_or_else(|| StoreError::WrongStatus {
            kind: ResourceKind::ModelBuild,
            key: model_build.to_string(),
            status,
            expected: "completed".to_owned(),
        })
    }

    /// The assistant's latest completed build and its model, if it has one.
    pub async fn latest_model(&self, assistant: &Sid) -> Result<Option<(Sid, Vec<u8>)>> {
        let row = sqlx::query(
            "SELECT b.sid, b.model FROM assistants a JOIN model_builds b ON b.sid = a.latest_model_build_sid WHERE a.sid = $1",
        )
        .bind(assistant.as_str())
        .fetch_optional(&self.inner.pool)
        .await?;
        match row {
            Some(row) => {
                let sid = sid(&row, "sid")?;
                let model = blob(&row, "model")?.ok_or_else(|| {
                    StoreError::corrupt(format!("model of build {sid}"), "it is missing")
                })?;
                Ok(Some((sid, model)))
            }
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip() {
        for status in [
            ModelBuildStatus::Enqueued,
            ModelBuildStatus::Building,
            ModelBuildStatus::Completed,
            ModelBuildStatus::Failed,
            ModelBuildStatus::Canceled,
        ] {
            assert_eq!(ModelBuildStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(ModelBuildStatus::parse("done"), None);
    }
}
