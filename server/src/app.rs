//! `Application`: builds the whole gateway from settings and binds it. `main`, the API tests
//! and the end-to-end tests all start Hoist through it.

use std::net::SocketAddr;
use std::sync::Arc;

use poem::endpoint::make_sync;
use poem::{Endpoint, EndpointExt, IntoResponse, Route, get};
use tokio::net::TcpListener;

use crate::audit::Audit;
use crate::auth::{AuthConfigError, Authenticator};
use crate::config::{ConfigProblem, Settings};
use crate::hooks::Hooks;
use crate::http::compress::compress_response;
use crate::http::cors::BrowserAccess;
use crate::http::middleware::observe;
use crate::http::rate_limit::limit_rates;
use crate::http::refusal::Refusals;
use crate::http::serve::{self, Timeouts};
use crate::images::ImageRules;
use crate::limits::RateLimits;
use crate::metrics::Metrics;
use crate::state::AppState;
use crate::storage::embedded::{EmbeddedError, EmbeddedS3};
use crate::storage::upload::Uploads;
use crate::storage::{Buckets, StorageError};
use crate::triggers::Triggers;
use crate::{api, aws, janitor, validation};

/// Why the gateway could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Auth(#[from] AuthConfigError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Embedded(#[from] EmbeddedError),
    /// Every problem of the settings (see [`validation::check`]).
    #[error("invalid configuration: {}", list(.0))]
    Config(Vec<ConfigProblem>),
    #[error("cannot set up the audit trail: {0}")]
    Audit(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

fn list(problems: &[ConfigProblem]) -> String {
    let problems: Vec<String> = problems.iter().map(ToString::to_string).collect();
    problems.join("; ")
}

/// A bound, not yet serving, gateway.
pub struct Application {
    listener: TcpListener,
    addr: SocketAddr,
    /// The `[server] admin_bind` listener, when configured.
    admin: Option<(TcpListener, SocketAddr)>,
    state: Arc<AppState>,
    embedded: Option<EmbeddedS3>,
}

/// Which routes a listener serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listening {
    /// Every route (no `admin_bind`).
    All,
    /// Every route but the admin ones, which live on the admin listener.
    Public,
    /// Only the admin routes.
    Admin,
}

/// The routes of the admin listener: metrics, readiness, and liveness so that one port can
/// serve every probe.
const ADMIN_PATHS: &[&str] = &["/metrics", "/ready", "/heartbeat"];

/// The admin routes the public listener gives up when there is an admin listener; liveness
/// stays on both (the container's health check asks the public port).
const ADMIN_ONLY_PATHS: &[&str] = &["/metrics", "/ready"];

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("addr", &self.addr)
            .field("embedded", &self.embedded)
            .finish_non_exhaustive()
    }
}

impl Application {
    /// Checks the settings, starts the embedded store if configured, connects every alias and
    /// binds the listener.
    pub async fn build(settings: Settings) -> Result<Self, StartError> {
        let problems = validation::check(&settings);
        if !problems.is_empty() {
            return Err(StartError::Config(problems));
        }
        let embedded = start_embedded(&settings).await?;
        let sdk = aws::sdk_config(&settings.aws).await;
        let buckets = Buckets::connect(&settings, &sdk, embedded.as_ref()).await?;
        let auth = Authenticator::from_settings(&settings.auth)?;
        let metrics = Arc::new(Metrics::new());
        let triggers = Triggers::build(&settings.triggers, &sdk, &settings.aws, metrics.clone())
            .map_err(StartError::Config)?;
        let triggers = Arc::new(triggers);
        let audit = Arc::new(
            Audit::build(&settings.audit, &buckets, metrics.clone()).map_err(StartError::Audit)?,
        );
        let hooks = Hooks::new(&settings, triggers.clone(), metrics.clone(), audit.clone());
        let images =
            ImageRules::from_settings(&settings.images, &settings.files, &settings.buckets)
                .map_err(StartError::Config)?;
        if settings.buckets.is_empty() {
            tracing::warn!("no bucket alias is configured: every file and image route refuses");
        }
        let (listener, addr) = bind(settings.server.bind).await?;
        let admin = match settings.server.admin_bind {
            Some(admin_bind) => Some(bind(admin_bind).await?),
            None => None,
        };
        let uploads = Uploads::new(&settings.upload, metrics.clone());
        let limits = RateLimits::from_settings(&settings);
        let state = Arc::new(AppState {
            settings: Arc::new(settings),
            buckets,
            auth,
            metrics,
            triggers,
            uploads,
            images,
            limits,
            hooks,
            audit,
        });
        Ok(Self {
            listener,
            addr,
            admin,
            state,
            embedded,
        })
    }

    /// The address the gateway listens on (port 0 resolved).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The address of the admin listener (`[server] admin_bind`, port 0 resolved).
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin.as_ref().map(|(_, addr)| *addr)
    }

    pub fn state(&self) -> &Arc<AppState> {
        &self.state
    }

    /// The embedded store, when this run started one.
    pub fn embedded(&self) -> Option<&EmbeddedS3> {
        self.embedded.as_ref()
    }

    /// Serves until `shutdown` resolves, then lets in-flight requests finish within
    /// `server.shutdown_timeout`.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send) -> std::io::Result<()> {
        let server = &self.state.settings.server;
        let timeout = server.shutdown_timeout;
        let timeouts = Timeouts {
            header: server.header_timeout,
            idle: server.idle_timeout,
        };
        let refusals = Refusals::new(self.state.metrics.refused.clone());
        let admin_addr = self.admin_addr();
        let state = &self.state;
        let dispatcher = tokio::spawn(state.hooks.dispatcher(&state.settings.hooks).run());
        let janitor = state
            .settings
            .janitor
            .enabled
            .then(|| tokio::spawn(janitor::run_every(state.clone())));
        // Keyed rate limiters forget clients whose allowance is whole again, every minute.
        let sweeper = tokio::spawn({
            let state = self.state.clone();
            async move {
                let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
                loop {
                    every.tick().await;
                    state.limits.sweep();
                }
            }
        });
        // One shutdown signal, seen by both listeners.
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let signal = async move {
            shutdown.await;
            let _ = stop.send(true);
        };
        let until_stopped = |mut stopped: tokio::sync::watch::Receiver<bool>| async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        };
        let public = match self.admin {
            None => Listening::All,
            Some(_) => Listening::Public,
        };
        let main = serve::serve(
            self.listener,
            routes(self.state.clone(), public),
            timeouts,
            refusals.clone(),
            until_stopped(stopped.clone()),
            timeout,
        );
        let admin = async {
            if let Some((listener, _)) = self.admin {
                serve::serve(
                    listener,
                    routes(self.state.clone(), Listening::Admin),
                    timeouts,
                    refusals.clone(),
                    until_stopped(stopped.clone()),
                    timeout,
                )
                .await;
            }
        };
        if let Some(addr) = admin_addr {
            tracing::info!(%addr, "hoist admin listening (metrics, readiness)");
        }
        tracing::info!(addr = %self.addr, "hoist listening");
        tokio::join!(signal, main, admin);
        sweeper.abort();
        // Requests cut off by the shutdown leave multipart uploads to abort; give those aborts
        // the same grace before the process (and the embedded store) goes.
        if tokio::time::timeout(timeout, self.state.uploads.idle())
            .await
            .is_err()
        {
            tracing::warn!("stopping with multipart upload aborts still running");
        }
        if let Some(janitor) = janitor {
            janitor.abort();
        }
        // Queued hook deliveries are memory: counted and logged as abandoned, not waited for.
        state.hooks.close();
        dispatcher.abort();
        // A clean shutdown writes the audit events still batched in memory.
        if tokio::time::timeout(timeout, state.audit.flush())
            .await
            .is_err()
        {
            tracing::error!("stopping before the pending audit events were written");
        }
        // The embedded store outlives the requests (and the audit batch) that used it.
        drop(self.embedded);
        tracing::info!("hoist stopped");
        Ok(())
    }

    /// Serves until SIGINT or SIGTERM.
    pub async fn run(self) -> std::io::Result<()> {
        self.run_until(shutdown_signal()).await
    }
}

async fn bind(addr: SocketAddr) -> Result<(TcpListener, SocketAddr), StartError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind { addr, source })?;
    let bound = listener.local_addr().unwrap_or(addr);
    Ok((listener, bound))
}

/// Runs one janitor pass from the command line (`hoist-server janitor --once`): connects the
/// aliases like the gateway does, without listening, and writes the audit events of the pass
/// before returning.
pub async fn janitor_once(settings: Settings) -> Result<janitor::Report, StartError> {
    let problems = validation::check(&settings);
    if !problems.is_empty() {
        return Err(StartError::Config(problems));
    }
    let embedded = start_embedded(&settings).await?;
    let sdk = aws::sdk_config(&settings.aws).await;
    let buckets = Buckets::connect(&settings, &sdk, embedded.as_ref()).await?;
    let metrics = Arc::new(Metrics::new());
    let audit =
        Audit::build(&settings.audit, &buckets, metrics.clone()).map_err(StartError::Audit)?;
    let report = janitor::pass(&buckets, &settings.janitor, &metrics, &audit).await;
    audit.flush().await;
    drop(embedded);
    Ok(report)
}

/// Starts the embedded store when it is on and no AWS endpoint is set.
async fn start_embedded(settings: &Settings) -> Result<Option<EmbeddedS3>, EmbeddedError> {
    if !settings.storage.embedded.enabled || settings.aws.endpoint.is_some() {
        return Ok(None);
    }
    let store = EmbeddedS3::start(&settings.storage.embedded).await?;
    tracing::info!(
        embedded_s3_endpoint = %store.endpoint,
        access_key_id = %store.access_key_id,
        secret_access_key = %secrecy::ExposeSecret::expose_secret(&store.secret_access_key),
        root = %settings.storage.embedded.root.display(),
        "embedded S3 store started; point awscli at it with --endpoint-url and these keys"
    );
    Ok(Some(store))
}

/// Every route of the gateway a listener serves, with the middleware around them.
pub fn routes(state: Arc<AppState>, listening: Listening) -> impl Endpoint + 'static {
    let service = api::service();
    let metrics = state.metrics.clone();
    let browser_access = BrowserAccess::new(&state.settings.cors);
    let render_metrics = {
        let metrics = metrics.clone();
        make_sync(move |_| {
            metrics
                .render()
                .with_content_type("text/plain; version=0.0.4; charset=utf-8")
        })
    };
    let spec = api::spec::yaml();
    let spec_yaml = make_sync(move |_| {
        // `with_content_type` replaces the text/plain of a String; `with_header` would add a
        // second Content-Type.
        spec.clone()
            .with_content_type("application/yaml; charset=utf-8")
    });
    Route::new()
        .at("/openapi.yaml", get(spec_yaml))
        .nest("/docs", api::spec::swagger_ui())
        .at("/metrics", get(render_metrics))
        .nest("/tus", api::tus::routes())
        .nest("/", service)
        .around(limit_rates)
        .data(state)
        .around(compress_response)
        .around(move |ep, req| async move {
            // Refused before routing, so the envelope and metrics are the unknown route's.
            let path = req.uri().path();
            let served = match listening {
                Listening::All => true,
                Listening::Public => !ADMIN_ONLY_PATHS.contains(&path),
                Listening::Admin => ADMIN_PATHS.contains(&path),
            };
            if served {
                ep.call(req).await.map(IntoResponse::into_response)
            } else {
                Err(poem::error::NotFoundError.into())
            }
        })
        // Boxed: the nested middleware types grow too deep for rustc's layout queries.
        .boxed()
        .with(browser_access)
        .around(move |ep, req| {
            let metrics = metrics.clone();
            async move { Ok(observe(ep, req, metrics).await) }
        })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown requested; finishing in-flight requests");
}
