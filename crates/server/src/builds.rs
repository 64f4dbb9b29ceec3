//! Model builds: training an assistant's NLU model from what the store holds,
//! and the in-memory cache of trained models that turns and queries use.
//!
//! A build goes `enqueued → building → completed | failed` in the store
//! (training runs on a blocking thread, the serialised model is stored with
//! the build). Turns answer from the assistant's newest completed build; its
//! model is read from the store once and then kept in memory, keyed by the
//! build's SID, so a turn never re-reads or re-trains a model.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use otto_model::Assistant;
use otto_model::Sid;
use otto_nlu::{Model, TrainOptions, TrainProgress, TrainingData};
use otto_store::{
    AssistantIds, BuildOutcome, MODEL_BUILD_LEASE_SECONDS, ModelBuildRecord, ModelBuildStatus,
    NewModelBuild, Store, StoreError,
};
use tracing::Instrument;

use crate::training_data::training_data;
use crate::understanding::NluUnderstanding;

/// `error_code` of a build whose training data the NLU refused (an otto code:
/// Autopilot's codes for failed builds are not documented).
pub const INVALID_TRAINING_DATA: i64 = 90001;
/// `error_code` of a build whose training crashed or whose assistant vanished.
pub const TRAINING_FAILED: i64 = 90002;

/// Why a model could not be had.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The stored model of a completed build does not load (written by
    /// another otto version, or damaged): train the assistant again.
    #[error("the model of build {build} cannot be loaded: {problem}; start a new model build")]
    BadModel { build: Sid, problem: String },
}

/// A progress callback for training.
pub type Progress = Box<dyn FnMut(TrainProgress) + Send>;

/// A trained model in memory with what it belongs to.
#[derive(Debug)]
pub struct LoadedModel {
    pub build_sid: Sid,
    pub assistant_sid: Sid,
    pub understanding: NluUnderstanding,
}

/// Trains builds and keeps the trained models.
#[derive(Debug)]
pub struct Builds {
    store: Store,
    options: TrainOptions,
    /// By build SID; at most one build per assistant is kept.
    models: Mutex<HashMap<Sid, Arc<LoadedModel>>>,
    /// One model load from the store at a time (two turns missing the cache
    /// together load it once).
    loading: tokio::sync::Mutex<()>,
    wake: tokio::sync::Notify,
    loads: AtomicU64,
    /// Builds whose model another otto version wrote, already rebuilt by
    /// this process (so each is rebuilt once, not on every turn).
    outdated: Mutex<std::collections::HashSet<Sid>>,
}

impl Builds {
    pub fn new(store: Store) -> Builds {
        Builds {
            store,
            options: TrainOptions::default(),
            models: Mutex::new(HashMap::new()),
            loading: tokio::sync::Mutex::new(()),
            wake: tokio::sync::Notify::new(),
            loads: AtomicU64::new(0),
            outdated: Mutex::new(std::collections::HashSet::new()),
        }
    }

    /// Queues a new build in place of `build`, whose model has format
    /// `found`, once per process.
    async fn rebuild_outdated(
        &self,
        ids: &AssistantIds,
        build: &Sid,
        found: u32,
    ) -> Result<(), BuildError> {
        if !self
            .outdated
            .lock()
            .expect("not poisoned")
            .insert(build.clone())
        {
            return Ok(());
        }
        tracing::warn!(%build, assistant = %ids.sid, found, reads = otto_nlu::MODEL_FORMAT_VERSION,
            "the model was written by another otto version; training it again");
        let new = NewModelBuild {
            unique_name: None,
            status_callback: None,
        };
        self.enqueue(&ids.account_sid, ids.sid.as_str(), new)
            .await?;
        Ok(())
    }

    /// Queues a build of the assistant's current data and wakes the worker.
    pub async fn enqueue(
        &self,
        account: &Sid,
        assistant: &str,
        new: NewModelBuild,
    ) -> Result<ModelBuildRecord, BuildError> {
        let record = self
            .store
            .create_model_build(account, assistant, new)
            .await?;
        tracing::info!(build = %record.sid, assistant = %record.assistant_sid, "model build enqueued");
        self.wake.notify_one();
        Ok(record)
    }

    /// Takes the oldest enqueued build (of any assistant), trains it and
    /// records the outcome; `None` when nothing is enqueued.
    pub async fn train_next(
        &self,
        progress: Option<Progress>,
    ) -> Result<Option<ModelBuildRecord>, BuildError> {
        let Some(build) = self.store.claim_model_build().await? else {
            return Ok(None);
        };
        let span = tracing::info_span!("model_build", build = %build.sid, assistant = %build.assistant_sid);
        self.finish(build, progress)
            .instrument(span)
            .await
            .map(Some)
    }

    async fn finish(
        &self,
        build: ModelBuildRecord,
        progress: Option<Progress>,
    ) -> Result<ModelBuildRecord, BuildError> {
        let started = Instant::now();
        // The claim is a lease: renewed while training, so that a build whose
        // trainer died is claimed again by another worker (any instance).
        let training = self.train(&build, progress);
        tokio::pin!(training);
        let mut renew = tokio::time::interval(Duration::from_secs(
            (MODEL_BUILD_LEASE_SECONDS / 3).max(1).unsigned_abs(),
        ));
        renew.tick().await;
        let outcome = loop {
            tokio::select! {
                outcome = &mut training => break outcome,
                _ = renew.tick() => {
                    if let Err(error) = self.store.renew_model_build_lease(&build.sid).await {
                        tracing::warn!(%error, "could not renew the model build's lease");
                    }
                }
            }
        };
        let seconds = i64::try_from(started.elapsed().as_secs()).unwrap_or(i64::MAX);
        let record = match outcome {
            Ok((model, data)) => {
                let bytes = model.to_bytes();
                let record = self
                    .store
                    .finish_model_build(
                        &build.sid,
                        BuildOutcome::Completed {
                            model: bytes,
                            build_duration: seconds,
                        },
                    )
                    .await?;
                tracing::info!(
                    seconds = started.elapsed().as_secs_f64(),
                    "model build completed"
                );
                self.keep(LoadedModel {
                    build_sid: build.sid.clone(),
                    assistant_sid: build.assistant_sid.clone(),
                    understanding: NluUnderstanding::new(model, &data),
                });
                record
            }
            Err((code, problem)) => {
                tracing::warn!(code, %problem, "model build failed");
                self.store
                    .finish_model_build(
                        &build.sid,
                        BuildOutcome::Failed {
                            error_code: code,
                            build_duration: seconds,
                        },
                    )
                    .await?
            }
        };
        Ok(record)
    }

    /// Trains every enqueued build; returns how many were handled.
    pub async fn train_pending(&self) -> Result<usize, BuildError> {
        let mut handled = 0;
        while self.train_next(None).await?.is_some() {
            handled += 1;
        }
        Ok(handled)
    }

    /// Trains builds as they are enqueued, until the process ends. Builds
    /// enqueued by other processes are found by polling every `poll`.
    pub async fn run_worker(self: Arc<Self>, poll: Duration) {
        loop {
            if let Err(error) = self.train_pending().await {
                tracing::error!(%error, "model build worker");
            }
            let _ = tokio::time::timeout(poll, self.wake.notified()).await;
        }
    }

    async fn train(
        &self,
        build: &ModelBuildRecord,
        progress: Option<Progress>,
    ) -> Result<(Model, TrainingData), (i64, String)> {
        let (_, assistant) = self
            .store
            .load_assistant(&build.account_sid, build.assistant_sid.as_str())
            .await
            .map_err(|error| (TRAINING_FAILED, error.to_string()))?;
        let data = training_data(&assistant);
        if let Err(problems) = data.validate() {
            let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
            return Err((INVALID_TRAINING_DATA, text.join("; ")));
        }
        let options = self.options.clone();
        let mut progress = progress;
        let trained = tokio::task::spawn_blocking(move || {
            let mut report = |p: TrainProgress| {
                if let Some(progress) = progress.as_mut() {
                    progress(p);
                }
            };
            Model::train(&data, &options, &mut report).map(|model| (model, data))
        })
        .await;
        match trained {
            Ok(Ok(done)) => Ok(done),
            Ok(Err(error)) => Err((INVALID_TRAINING_DATA, error.to_string())),
            Err(error) => Err((TRAINING_FAILED, format!("training stopped: {error}"))),
        }
    }

    /// Waits until the build is completed, failed or canceled (training it
    /// here if it is still enqueued).
    pub async fn wait(
        &self,
        account: &Sid,
        assistant: &str,
        build: &Sid,
    ) -> Result<ModelBuildRecord, BuildError> {
        loop {
            if let Some(record) = self
                .wait_step(account, assistant, build, Box::new(|_| {}))
                .await?
            {
                return Ok(record);
            }
        }
    }

    /// One step of [`Builds::wait`]: the build's record once it is finished;
    /// otherwise trains the oldest enqueued build (reporting `progress`) or,
    /// while another worker trains it, waits a moment, and returns `None`.
    pub async fn wait_step(
        &self,
        account: &Sid,
        assistant: &str,
        build: &Sid,
        progress: Progress,
    ) -> Result<Option<ModelBuildRecord>, BuildError> {
        let record = self
            .store
            .fetch_model_build(account, assistant, build.as_str())
            .await?;
        match record.status {
            ModelBuildStatus::Enqueued => {
                self.train_next(Some(progress)).await?;
                Ok(None)
            }
            ModelBuildStatus::Building => {
                tokio::time::sleep(Duration::from_millis(100)).await;
                Ok(None)
            }
            _ => Ok(Some(record)),
        }
    }

    /// The model of the assistant's newest completed build, or `None` when it
    /// has none yet. `definition` is the assistant as loaded with `ids` (its
    /// custom field types check collect answers).
    pub async fn model_for(
        &self,
        ids: &AssistantIds,
        definition: &Assistant,
    ) -> Result<Option<Arc<LoadedModel>>, BuildError> {
        let Some(build) = &ids.latest_model_build_sid else {
            return Ok(None);
        };
        if let Some(found) = self.cached(build) {
            return Ok(Some(found));
        }
        let _one_at_a_time = self.loading.lock().await;
        if let Some(found) = self.cached(build) {
            return Ok(Some(found));
        }
        let bytes = self.store.model_build_artifact(build).await?;
        let model = match Model::from_bytes(&bytes) {
            Ok(model) => model,
            // Written by another otto version: train it again, from the same
            // definition, and answer "not trained yet" until that is done.
            Err(otto_nlu::ModelError::UnsupportedVersion { found }) => {
                self.rebuild_outdated(ids, build, found).await?;
                return Ok(None);
            }
            Err(error) => {
                return Err(BuildError::BadModel {
                    build: build.clone(),
                    problem: error.to_string(),
                });
            }
        };
        self.loads.fetch_add(1, Ordering::Relaxed);
        let loaded = self.keep(LoadedModel {
            build_sid: build.clone(),
            assistant_sid: ids.sid.clone(),
            understanding: NluUnderstanding::new(model, &training_data(definition)),
        });
        tracing::info!(build = %build, assistant = %ids.sid, "model loaded");
        Ok(Some(loaded))
    }

    fn cached(&self, build: &Sid) -> Option<Arc<LoadedModel>> {
        self.models
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(build)
            .cloned()
    }

    /// Keeps a model, dropping older builds of the same assistant.
    fn keep(&self, loaded: LoadedModel) -> Arc<LoadedModel> {
        let loaded = Arc::new(loaded);
        let mut models = self
            .models
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        models.retain(|_, other| other.assistant_sid != loaded.assistant_sid);
        models.insert(loaded.build_sid.clone(), loaded.clone());
        loaded
    }

    /// How many models were read from the store (not trained here) so far.
    pub fn loads_from_store(&self) -> u64 {
        self.loads.load(Ordering::Relaxed)
    }

    /// The build SIDs whose models are in memory.
    pub fn cached_builds(&self) -> Vec<Sid> {
        let mut builds: Vec<Sid> = self
            .models
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .keys()
            .cloned()
            .collect();
        builds.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        builds
    }

    /// Forgets every model in memory (they are read again when needed).
    pub fn clear_cache(&self) {
        self.models
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clear();
    }
}
