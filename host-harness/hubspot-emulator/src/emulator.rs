//! The running emulator and its in-process API: a server on its own thread and tokio runtime, so
//! synchronous callers (the host, tests) need no async runtime of their own.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use axum::serve::ListenerExt;
use axum_server::accept::NoDelayAcceptor;
use axum_server::tls_rustls::{RustlsAcceptor, RustlsConfig};
use tokio::sync::oneshot;

use crate::app::App;
use crate::association::{HUBSPOT_DEFINED, Kind, kind_of, kinds, type_id};
use crate::config::EmulatorConfig;
use crate::error::{StartError, WriteError};
use crate::faults::FaultPlan;
use crate::object_type::ObjectType;
use crate::owners::Owner;
use crate::pipelines::Pipeline;
use crate::seed::{SeedSpec, SeedSummary, seed};
use crate::server::router;
use crate::stats::Stats;
use crate::store::{Input, Record};
use crate::tls::TlsIdentity;

/// A running emulated portal; stops on [`Emulator::shutdown`] or drop.
pub struct Emulator {
    app: Arc<App>,
    addr: SocketAddr,
    ca_pem: Option<String>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("addr", &self.addr)
            .finish()
    }
}

fn input_of(properties: BTreeMap<String, String>) -> Input {
    properties
        .into_iter()
        .map(|(k, v)| (k, (!v.is_empty()).then_some(v)))
        .collect()
}

fn parse_id(id: &str) -> Result<u64, WriteError> {
    id.parse()
        .map_err(|_| WriteError::NotFound { id: id.into() })
}

impl Emulator {
    /// Binds the listen address, seeds if asked, and serves on a background thread.
    pub fn start(config: EmulatorConfig) -> Result<Emulator, StartError> {
        let app = Arc::new(App::new(&config));
        if let Some(spec) = &config.seed {
            let now = app.now();
            seed(&mut app.store(), spec, now);
        }
        let listener =
            std::net::TcpListener::bind(config.listen).map_err(|source| StartError::Bind {
                addr: config.listen,
                source,
            })?;
        listener
            .set_nonblocking(true)
            .map_err(StartError::Runtime)?;
        let addr = listener.local_addr().map_err(StartError::Runtime)?;
        let tls = config
            .tls
            .then(TlsIdentity::generate)
            .transpose()
            .map_err(StartError::Tls)?;
        let ca_pem = tls.as_ref().map(|t| t.ca_pem().to_owned());
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("hubspot-emulator")
            .enable_all()
            .build()
            .map_err(StartError::Runtime)?;
        let (stop, stopped) = oneshot::channel::<()>();
        let routes = router(app.clone());
        let thread = std::thread::Builder::new()
            .name("hubspot-emulator".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let served = match tls {
                        Some(identity) => serve_https(listener, identity, routes, stopped).await,
                        None => serve_http(listener, routes, stopped).await,
                    };
                    if let Err(err) = served {
                        tracing::error!("hubspot emulator stopped: {err}");
                    }
                });
                // Open keep-alive connections are simply dropped with the runtime.
                runtime.shutdown_timeout(Duration::from_millis(500));
            })
            .map_err(StartError::Runtime)?;
        Ok(Emulator {
            app,
            addr,
            ca_pem,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// `https://127.0.0.1:PORT` (or `http://` without TLS), the base URL to give a client
    /// instead of `https://api.hubapi.com`.
    pub fn base_url(&self) -> String {
        let scheme = if self.ca_pem.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.addr)
    }

    /// The CA certificate (PEM) that signed the server's certificate, when serving HTTPS: what
    /// a client must trust to reach this emulator.
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// Writes the CA certificate to `path` (PEM); an error when serving plain HTTP.
    pub fn write_ca(&self, path: &std::path::Path) -> std::io::Result<()> {
        let pem = self
            .ca_pem
            .as_deref()
            .ok_or_else(|| std::io::Error::other("the emulator serves plain HTTP; it has no CA"))?;
        std::fs::write(path, pem)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Generates data (see [`SeedSpec`]).
    pub fn seed(&self, spec: SeedSpec) -> SeedSummary {
        let now = self.app.now();
        seed(&mut self.app.store(), &spec, now)
    }

    /// A snapshot of the call counters.
    pub fn stats(&self) -> Stats {
        self.app.stats().snapshot()
    }

    /// The most requests the portal was answering at the same time since the counters were
    /// zeroed: how many a client had in flight together.
    pub fn max_in_flight(&self) -> usize {
        self.app.max_in_flight()
    }

    /// Zeroes the call counters.
    pub fn reset_stats(&self) {
        self.app.reset_stats();
    }

    /// Back to a fresh portal: data, counters, rate-limit windows and faults (the clock is kept).
    pub fn reset_all(&self) {
        self.app.reset_all();
    }

    /// Replaces the fault plan.
    pub fn set_faults(&self, plan: FaultPlan) {
        self.app.set_faults(plan);
    }

    /// Moves the emulator clock by `ms` (negative goes back).
    pub fn advance_clock(&self, ms: i64) {
        self.app.clock.advance(ms);
    }

    /// Sets the emulator clock to `ms` since the epoch.
    pub fn set_clock(&self, ms: i64) {
        self.app.clock.set(ms);
    }

    /// The emulator clock, epoch ms.
    pub fn now_ms(&self) -> i64 {
        self.app.now()
    }

    /// Gives the first `count` live records (or all) one modified time, as a HubSpot bulk job does;
    /// returns how many were touched.
    pub fn touch(&self, object: ObjectType, count: Option<usize>, at_ms: i64) -> usize {
        let now = self.app.now();
        self.app.store().touch(object, count, at_ms, now)
    }

    /// Creates a record as a user in the HubSpot UI would (same validation; no auth, no rate limit).
    pub fn create_object(
        &self,
        object: ObjectType,
        properties: BTreeMap<String, String>,
    ) -> Result<String, WriteError> {
        let now = self.app.now();
        self.app
            .store()
            .create(object, &input_of(properties), now)
            .map(|id| id.to_string())
    }

    /// Edits a record as a UI user would; bumps its modified time when something changed.
    pub fn update_object(
        &self,
        object: ObjectType,
        id: &str,
        properties: BTreeMap<String, String>,
    ) -> Result<(), WriteError> {
        let now = self.app.now();
        self.app
            .store()
            .update(object, parse_id(id)?, &input_of(properties), now)
    }

    /// Archives (deletes) a record as a UI user would.
    pub fn archive_object(&self, object: ObjectType, id: &str) -> Result<(), WriteError> {
        let now = self.app.now();
        self.app.store().archive(object, parse_id(id)?, now)
    }

    /// Restores an archived record as HubSpot's recycle bin does (there is no API for it): same
    /// id and properties, the associations whose partners are still live, a modified time of now,
    /// back in search. `Conflict` when a live record has taken one of its unique values (an
    /// e-mail, a `hasUniqueValue` property) meanwhile; `NotFound` unless it is archived.
    pub fn restore_object(&self, object: ObjectType, id: &str) -> Result<(), WriteError> {
        let now = self.app.now();
        self.app.store().restore(object, parse_id(id)?, now)
    }

    /// Merges `other` into `primary` as a UI user (or `POST …/merge`) would, and returns the id
    /// of the record the merge creates; both old ids point at it from then on.
    pub fn merge(
        &self,
        object: ObjectType,
        primary: &str,
        other: &str,
    ) -> Result<String, WriteError> {
        let now = self.app.now();
        let (primary, other) = (parse_id(primary)?, parse_id(other)?);
        self.app
            .store()
            .merge(object, primary, other, now)
            .map(|id| id.to_string())
    }

    /// One record, archived or not.
    pub fn get_object(&self, object: ObjectType, id: &str) -> Option<Record> {
        let id: u64 = id.parse().ok()?;
        let store = self.app.store();
        let objects = store.objects(object);
        objects
            .records
            .get(&id)
            .map(|rec| objects.to_record(id, rec))
    }

    /// All records of a type in id order, archived ones included (see [`Record::archived`]).
    pub fn objects(&self, object: ObjectType) -> Vec<Record> {
        let store = self.app.store();
        let objects = store.objects(object);
        objects
            .records
            .iter()
            .map(|(id, rec)| objects.to_record(*id, rec))
            .collect()
    }

    /// Makes a portal validation rule require `property` on every write of `object`: a write
    /// that would leave it empty is refused with `400 VALIDATION_ERROR` (`REQUIRED`). False if
    /// the property does not exist.
    pub fn require_property(&self, object: ObjectType, property: &str) -> bool {
        let mut store = self.app.store();
        let objects = store.objects_mut(object);
        let Some(slot) = objects.schema.slot(property) else {
            return false;
        };
        if !objects.required.contains(&slot) {
            objects.required.push(slot);
        }
        true
    }

    /// Associates a record with one of its [`ObjectType::partner`] type, unlabelled (HubSpot's
    /// default association, both directions); false if either is missing or archived.
    pub fn associate(&self, from: ObjectType, from_id: &str, to_id: &str) -> bool {
        let now = self.app.now();
        match (from_id.parse(), to_id.parse()) {
            (Ok(a), Ok(b)) => {
                self.app
                    .store()
                    .link((from, a), (from.partner(), b), Kind::Unlabelled, Some(now))
            }
            _ => false,
        }
    }

    /// Associates two records with one of HubSpot's association type ids from `from` to `to`
    /// (e.g. 1: the contact's primary company, 279: unlabelled contact→company), as a UI user
    /// would. A primary type demotes the holder's previous primary company to unlabelled.
    pub fn associate_with(
        &self,
        from: ObjectType,
        from_id: &str,
        to: ObjectType,
        to_id: &str,
        association_type_id: u32,
    ) -> Result<(), WriteError> {
        let kind = kind_of(from, to, HUBSPOT_DEFINED, association_type_id).ok_or_else(|| {
            WriteError::invalid(format!(
                "Association type {association_type_id} is not valid from {} to {}",
                from.name(),
                to.name()
            ))
        })?;
        let (a, b) = (parse_id(from_id)?, parse_id(to_id)?);
        let now = self.app.now();
        let mut store = self.app.store();
        for (object, id) in [(from, a), (to, b)] {
            if !store.is_live(object, id) {
                return Err(WriteError::NotFound { id: id.to_string() });
            }
        }
        store.link((from, a), (to, b), kind, Some(now));
        Ok(())
    }

    /// Ids of the records of the [`ObjectType::partner`] type associated with this one.
    pub fn associations(&self, from: ObjectType, id: &str) -> Vec<String> {
        self.associations_to(from, id, from.partner())
    }

    /// Ids of the records of type `to` associated with this one.
    pub fn associations_to(&self, from: ObjectType, id: &str, to: ObjectType) -> Vec<String> {
        self.get_object(from, id)
            .map(|r| {
                r.links
                    .into_iter()
                    .filter(|l| l.object == to)
                    .map(|l| l.id)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The association type ids from one record to another, ascending (e.g. `[1, 279]` for a
    /// contact's primary company); empty when they are not associated.
    pub fn association_type_ids(
        &self,
        from: ObjectType,
        from_id: &str,
        to: ObjectType,
        to_id: &str,
    ) -> Vec<u32> {
        let (Ok(a), Ok(b)) = (from_id.parse::<u64>(), to_id.parse::<u64>()) else {
            return Vec::new();
        };
        let store = self.app.store();
        let Some(link) = store
            .objects(from)
            .records
            .get(&a)
            .and_then(|r| r.link_to(to, b).copied())
        else {
            return Vec::new();
        };
        kinds(link.primary)
            .iter()
            .filter_map(|kind| type_id(from, to, *kind))
            .collect()
    }

    /// All deal pipelines, archived ones included.
    pub fn pipelines(&self) -> Vec<Pipeline> {
        self.app.store().pipelines.clone()
    }

    /// Adds a pipeline, or replaces the one with the same id (to rename it or change its stages).
    pub fn upsert_pipeline(&self, pipeline: Pipeline) {
        let mut store = self.app.store();
        match store.pipelines.iter_mut().find(|p| p.id == pipeline.id) {
            Some(existing) => *existing = pipeline,
            None => store.pipelines.push(pipeline),
        }
    }

    /// Archives a pipeline; false if there is none with this id.
    pub fn archive_pipeline(&self, pipeline_id: &str) -> bool {
        let mut store = self.app.store();
        store
            .pipelines
            .iter_mut()
            .find(|p| p.id == pipeline_id)
            .map(|p| p.archived = true)
            .is_some()
    }

    /// Archives one stage of a pipeline; false if either is unknown.
    pub fn archive_stage(&self, pipeline_id: &str, stage_id: &str) -> bool {
        let mut store = self.app.store();
        store
            .pipelines
            .iter_mut()
            .find(|p| p.id == pipeline_id)
            .and_then(|p| p.stages.iter_mut().find(|s| s.id == stage_id))
            .map(|s| s.archived = true)
            .is_some()
    }

    /// The portal's owners, deactivated ones included.
    pub fn owners(&self) -> Vec<Owner> {
        self.app.store().owners.clone()
    }

    /// Adds an active owner (a new HubSpot user) with the next owner and user ids.
    pub fn add_owner(&self, email: &str, first_name: &str, last_name: &str) -> Owner {
        let now = self.app.now();
        let mut store = self.app.store();
        let owner = Owner::numbered(store.owners.len(), email, first_name, last_name, now);
        store.owners.push(owner.clone());
        owner
    }

    /// Deactivates an owner, as removing the user does: it is then listed only with
    /// `archived=true` and is no longer a valid `hubspot_owner_id`. False for an unknown id.
    pub fn deactivate_owner(&self, id: &str) -> bool {
        let mut store = self.app.store();
        store
            .owners
            .iter_mut()
            .find(|o| o.id == id)
            .map(|o| o.archived = true)
            .is_some()
    }

    /// Stops the server and waits for its thread.
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

impl Drop for Emulator {
    fn drop(&mut self) {
        self.stop_server();
    }
}

/// Serves plain HTTP until `stopped`.
async fn serve_http(
    listener: std::net::TcpListener,
    routes: axum::Router,
    stopped: oneshot::Receiver<()>,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::from_std(listener)?.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    tokio::select! {
        served = axum::serve(listener, routes) => served,
        _ = stopped => Ok(()),
    }
}

/// Serves HTTPS with `identity` until `stopped`.
async fn serve_https(
    listener: std::net::TcpListener,
    identity: TlsIdentity,
    routes: axum::Router,
    stopped: oneshot::Receiver<()>,
) -> std::io::Result<()> {
    let acceptor = RustlsAcceptor::new(RustlsConfig::from_config(identity.server_config()))
        .acceptor(NoDelayAcceptor::new());
    let server = axum_server::from_tcp(listener)?
        .acceptor(acceptor)
        .http1_only();
    tokio::select! {
        served = server.serve(routes.into_make_service()) => served,
        _ = stopped => Ok(()),
    }
}

/// Runs an emulator until Ctrl-C: the entry point of `xentral-host hubspot-emulator`. With
/// TLS and `ca_file`, the CA is written there for clients to trust.
pub fn run_standalone(
    config: EmulatorConfig,
    ca_file: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    let emulator = Emulator::start(config)?;
    println!("HubSpot emulator listening on {}", emulator.base_url());
    if let Some(path) = ca_file {
        emulator.write_ca(path)?;
        println!("its CA certificate is in {}", path.display());
    }
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(tokio::signal::ctrl_c())?;
    emulator.shutdown();
    Ok(())
}
