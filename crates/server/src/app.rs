//! Putting the parts together: store, account, model builds, turn service
//! and the HTTP routes, plus the background workers of `otto serve`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use otto_engine::{EngineConfig, FetchError};
use otto_store::{Account, Clock, Store};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::builds::Builds;
use crate::events::{EventDelivery, EventDeliveryConfig};
use crate::fetch::{FetchConfig, HttpFetcher};
use crate::http::{self, AppState};
use crate::turns::TurnService;

/// Settings of a server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The base URL clients reach this server at (`DialoguePayloadUrl` and
    /// `url` properties start with it).
    pub public_url: String,
    /// The engine's settings; its `api_base_url` is replaced by `public_url`.
    pub engine: EngineConfig,
    pub fetch: FetchConfig,
    pub body_limit: usize,
    /// The clock of turns (give the store the same one).
    pub clock: Clock,
    /// How often the build worker looks for builds queued by other processes.
    pub build_poll: Duration,
    /// How often idle dialogues are ended.
    pub idle_sweep: Duration,
    /// Whether Twilio webhooks (messaging, voice) must carry a valid
    /// `X-Twilio-Signature`; off only for local testing.
    pub check_signatures: bool,
    /// The event webhook delivery worker.
    pub events: EventDeliveryConfig,
}

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig {
            public_url: "http://127.0.0.1:8080".to_owned(),
            engine: EngineConfig::default(),
            fetch: FetchConfig::default(),
            body_limit: http::DEFAULT_BODY_LIMIT,
            clock: Clock::system(),
            build_poll: Duration::from_secs(5),
            idle_sweep: Duration::from_secs(60),
            check_signatures: true,
            events: EventDeliveryConfig::default(),
        }
    }
}

/// A server's parts.
#[derive(Debug, Clone)]
pub struct Otto {
    pub store: Store,
    pub account: Account,
    pub builds: Arc<Builds>,
    pub turns: Arc<TurnService>,
    pub events: EventDelivery,
    pub config: ServerConfig,
}

impl Otto {
    pub fn new(store: Store, account: Account, config: ServerConfig) -> Result<Otto, FetchError> {
        let builds = Arc::new(Builds::new(store.clone()));
        let fetcher = HttpFetcher::new(&account.auth_token, config.fetch.clone())?;
        let engine = EngineConfig {
            api_base_url: config.public_url.clone(),
            ..config.engine.clone()
        };
        let turns = Arc::new(TurnService::new(
            store.clone(),
            account.clone(),
            builds.clone(),
            fetcher,
            engine,
            config.clock.clone(),
        ));
        let events = EventDelivery::new(store.clone(), &account.auth_token, config.events.clone())?;
        Ok(Otto {
            store,
            account,
            builds,
            turns,
            events,
            config,
        })
    }

    pub fn router(&self) -> Router {
        http::router(AppState {
            turns: self.turns.clone(),
            account: self.account.clone(),
            public_url: self.config.public_url.clone(),
            body_limit: self.config.body_limit,
            check_signatures: self.config.check_signatures,
        })
    }

    /// Starts the model-build worker, the idle-dialogue sweeper and the
    /// event webhook delivery worker.
    pub fn spawn_workers(&self) -> Vec<JoinHandle<()>> {
        vec![
            tokio::spawn(self.builds.clone().run_worker(self.config.build_poll)),
            tokio::spawn(self.turns.clone().run_idle_sweeper(self.config.idle_sweep)),
            tokio::spawn(self.events.clone().run()),
        ]
    }

    /// Serves HTTP on `listener` in a background task.
    pub fn spawn(&self, listener: TcpListener) -> std::io::Result<RunningServer> {
        let address = listener.local_addr()?;
        let router = self.router();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let result = axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
            if let Err(error) = result {
                tracing::error!(%error, "HTTP server");
            }
        });
        Ok(RunningServer {
            address,
            stop: Some(stop),
            task,
        })
    }
}

/// An HTTP server running in the background; stops when dropped.
#[derive(Debug)]
pub struct RunningServer {
    pub address: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl RunningServer {
    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Stops accepting, lets requests in flight finish, and waits.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
