//! The operator's web console (`xentral-host serve`): for each tenant of a data directory,
//! the page a xentral user knows from the HubSpot module (the access token, the sync settings,
//! the deal phases, Refresh, the process starters) and the sync health with a dry run.
//!
//! Every action is the library action the command line runs ([`crate::actions`],
//! [`XentralHost::refresh`]); the console only shows forms and outcomes. Access: one
//! administrator password ([`password`], Argon2id), a session cookie (`HttpOnly`,
//! `SameSite=Strict`, `Secure` under TLS; [`session`]), a CSRF token on every form, the
//! login rate-limited per client ([`throttle`]), plain HTTP on loopback only and TLS
//! anywhere else ([`listen`]). The HTML is rendered on the server (maud), with no script and
//! nothing loaded from elsewhere, and is readable on a phone.
//!
//! It deliberately does not run the scheduler (that is `xentral-host scheduler`) and never
//! reads the plugin's tables: health comes from the plugin's `sync-health` export.

use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use axum_server::tls_rustls::{RustlsAcceptor, RustlsConfig};
use tokio::sync::oneshot;

use crate::host::XentralHost;

mod errors;
mod form;
pub mod listen;
mod notice;
mod pages;
pub mod password;
pub mod session;
mod settings_form;
pub mod throttle;
mod views;
mod web;

pub use listen::TlsFiles;
pub use password::{AdminPassword, PasswordError};
pub use throttle::LoginLimits;

/// Why the console could not start.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// Plain HTTP on an address other machines reach.
    #[error(
        "refusing to serve the console on {0} over plain HTTP: the password and the session cookie would travel in clear; listen on 127.0.0.1 (the default), or give --tls-cert and --tls-key"
    )]
    PlainHttpElsewhere(SocketAddr),
    /// The administrator password is missing or unusable.
    #[error(transparent)]
    Password(#[from] PasswordError),
    /// The certificate or key is unusable.
    #[error("TLS: {0}")]
    Tls(String),
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// The server's runtime could not start.
    #[error("the console's runtime: {0}")]
    Runtime(std::io::Error),
}

/// How to serve the console.
#[derive(Debug, Clone)]
pub struct ConsoleConfig {
    /// The address to listen on (port 0: any free port).
    pub listen: SocketAddr,
    /// HTTPS with this certificate and key; required for a non-loopback address.
    pub tls: Option<TlsFiles>,
    /// The administrator password (it must be set).
    pub password: AdminPassword,
    /// The login rate limit.
    pub login_limits: LoginLimits,
}

/// A running console; stops on [`RunningConsole::shutdown`] or drop.
pub struct RunningConsole {
    addr: SocketAddr,
    tls: bool,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for RunningConsole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningConsole")
            .field("addr", &self.addr)
            .field("tls", &self.tls)
            .finish()
    }
}

impl RunningConsole {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` (or `https://…`), the address to open.
    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// Stops the server and waits for it.
    pub fn shutdown(mut self) {
        self.stop_server();
    }

    fn stop_server(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for RunningConsole {
    fn drop(&mut self) {
        self.stop_server();
    }
}

/// Starts the console for `host`'s tenants on its own thread and runtime: checks the listen
/// address against TLS, that the password is set, and the certificate, then binds.
pub fn start(
    host: Arc<XentralHost>,
    config: ConsoleConfig,
) -> Result<RunningConsole, ConsoleError> {
    listen::check(config.listen, config.tls.as_ref())?;
    config.password.load()?;
    let tls = config.tls.as_ref().map(listen::server_config).transpose()?;
    let listener =
        std::net::TcpListener::bind(config.listen).map_err(|source| ConsoleError::Bind {
            addr: config.listen,
            source,
        })?;
    listener
        .set_nonblocking(true)
        .map_err(ConsoleError::Runtime)?;
    let addr = listener.local_addr().map_err(ConsoleError::Runtime)?;
    let console = Arc::new(web::Console::new(
        host,
        config.password,
        throttle::LoginThrottle::new(config.login_limits),
        tls.is_some(),
        listen::allowed_hosts(addr, tls.is_some()),
    ));
    let routes = pages::router(console).into_make_service_with_connect_info::<SocketAddr>();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("xentral-console")
        .enable_all()
        .build()
        .map_err(ConsoleError::Runtime)?;
    let (stop, stopped) = oneshot::channel::<()>();
    let serves_tls = tls.is_some();
    let thread = std::thread::Builder::new()
        .name("xentral-console".into())
        .spawn(move || {
            runtime.block_on(async move {
                let server = match axum_server::from_tcp(listener) {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::error!("the console could not serve: {e}");
                        return;
                    }
                };
                let served = match tls {
                    Some(config) => {
                        let acceptor = RustlsAcceptor::new(RustlsConfig::from_config(config));
                        tokio::select! {
                            served = server.acceptor(acceptor).serve(routes) => served,
                            _ = stopped => Ok(()),
                        }
                    }
                    None => tokio::select! {
                        served = server.serve(routes) => served,
                        _ = stopped => Ok(()),
                    },
                };
                if let Err(e) = served {
                    tracing::error!("the console stopped: {e}");
                }
            });
            runtime.shutdown_timeout(Duration::from_millis(500));
        })
        .map_err(ConsoleError::Runtime)?;
    Ok(RunningConsole {
        addr,
        tls: serves_tls,
        stop: Some(stop),
        thread: Some(thread),
    })
}
