//! The console in a real browser: headless Chromium (Debian's `chromium` and
//! `chromium-driver`) driven over WebDriver. An operator logs in, saves a wrong token and
//! reads HubSpot's reason, saves the right one, presses Refresh, maps a deal phase, runs a dry
//! run, runs the queue and finds the record HubSpot refused on the health page; the pages fit
//! a phone and load nothing from elsewhere. Screenshots go to `target/console-screenshots/`.
//!
//! Without Chromium the tests say how to install it and pass; with `XENTRAL_TEST_BROWSER=1`
//! (as `.ci/run` sets) a missing Chromium fails them.

mod console_support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use console_support::{ConsoleWorld, PASSWORD, TOKEN};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

/// Set to `1` to make a missing Chromium a failure instead of a skip.
const REQUIRE_ENV: &str = "XENTRAL_TEST_BROWSER";
const INSTALL_HINT: &str = "install with `apt-get install chromium chromium-driver`";

/// The browser and its driver, from the environment or Debian's paths.
fn tools() -> Option<(PathBuf, PathBuf)> {
    let path = |env: &str, default: &str| {
        std::env::var_os(env).map_or_else(|| PathBuf::from(default), PathBuf::from)
    };
    let driver = path("XENTRAL_TEST_CHROMEDRIVER", "/usr/bin/chromedriver");
    let chromium = path("XENTRAL_TEST_CHROMIUM", "/usr/bin/chromium");
    if driver.exists() && chromium.exists() {
        return Some((driver, chromium));
    }
    let missing: Vec<String> = [&driver, &chromium]
        .iter()
        .filter(|p| !p.exists())
        .map(|p| p.display().to_string())
        .collect();
    let missing = format!("{} missing", missing.join(" and "));
    if std::env::var(REQUIRE_ENV).as_deref() == Ok("1") {
        panic!("{REQUIRE_ENV}=1 but {missing}: {INSTALL_HINT}");
    }
    eprintln!("skipped: the browser tests need Chromium ({missing}); {INSTALL_HINT}");
    None
}

/// A headless Chromium session. When it drops (a test that passed or panicked alike), the
/// session is ended, which quits Chromium, and then the driver is stopped: a driver killed
/// first would leave its browser running.
struct Browser {
    client: Client,
    driver: Child,
    session: String,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = ureq::delete(&self.session).call();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Browser {
    async fn start(driver: &Path, chromium: &Path) -> Browser {
        let port = free_port();
        let driver = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        while ureq::get(&format!("{url}/status")).call().is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver did not answer"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().unwrap();
        let args = vec![
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--window-size=1280,900".to_owned(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("chrome"));
        caps.insert(
            "goog:chromeOptions".into(),
            json!({ "binary": chromium, "args": args }),
        );
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&url)
            .await
            .expect("a Chromium session starts");
        let id = client
            .session_id()
            .await
            .unwrap()
            .expect("a WebDriver session has an id");
        Browser {
            client,
            driver,
            session: format!("{url}/session/{id}"),
            _profile: profile,
        }
    }

    /// Waits for the element `css` on the page (the outcome a submit leads to).
    async fn wait(&self, css: &str) -> fantoccini::elements::Element {
        match self
            .client
            .wait()
            .at_most(Duration::from_secs(30))
            .for_element(Locator::Css(css))
            .await
        {
            Ok(element) => element,
            Err(e) => {
                let url = self.client.current_url().await.map(|u| u.to_string());
                let source = self.client.source().await.unwrap_or_default();
                panic!("{css} did not appear ({e}) on {url:?}:\n{source}")
            }
        }
    }

    async fn text(&self, css: &str) -> String {
        self.wait(css).await.text().await.unwrap()
    }

    async fn click(&self, css: &str) {
        self.wait(css).await.click().await.unwrap();
    }

    async fn type_into(&self, css: &str, text: &str) {
        let input = self.wait(css).await;
        input.clear().await.unwrap();
        input.send_keys(text).await.unwrap();
    }

    async fn log_in(&self, base: &str) {
        self.client.goto(&format!("{base}/login")).await.unwrap();
        self.type_into("#password", PASSWORD).await;
        self.click("form[action='/login'] button").await;
        self.wait("a[href='/t/acme']").await;
    }

    /// Saves the whole page as a PNG in `target/console-screenshots/NAME.png`, the window
    /// stretched to the page's height.
    async fn screenshot(&self, name: &str, width: u32) -> PathBuf {
        let height = self
            .client
            .execute(
                "return document.documentElement.scrollHeight + window.outerHeight - window.innerHeight",
                vec![],
            )
            .await
            .unwrap()
            .as_u64()
            .unwrap_or(900);
        self.client
            .set_window_size(width, u32::try_from(height).unwrap_or(900).max(600))
            .await
            .unwrap();
        let png = self.client.screenshot().await.unwrap();
        assert!(png.starts_with(b"\x89PNG"), "a PNG");
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .parent()
            .unwrap()
            .join("console-screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        self.client.set_window_size(width, 900).await.unwrap();
        path
    }

    /// Every resource the page loaded.
    async fn resources(&self) -> Vec<String> {
        let loaded = self
            .client
            .execute(
                "return performance.getEntriesByType('resource').map(e => e.name)",
                vec![],
            )
            .await
            .unwrap();
        serde_json::from_value(loaded).unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_connects_maps_a_phase_dry_runs_and_finds_a_failing_record() {
    let Some((driver, chromium)) = tools() else {
        return;
    };
    let w = ConsoleWorld::new(&["acme"]);
    let base = w.console.url();
    let b = Browser::start(&driver, &chromium).await;
    b.log_in(&base).await;
    b.click("a[href='/t/acme']").await;

    // A wrong token: HubSpot's reason, the URL kept, the token gone.
    let hubspot = w.hubspot.base_url();
    b.type_into("#hubspot_url", &hubspot).await;
    b.type_into("#token", "pat-eu1-not-the-token").await;
    b.click("#connection button[type=submit]").await;
    let reason = b.text("#connection .notice.failed").await;
    assert!(
        reason.contains("HubSpot rejected the access token (401"),
        "{reason}"
    );
    let url = b.wait("#hubspot_url").await.prop("value").await.unwrap();
    assert_eq!(url.as_deref(), Some(hubspot.as_str()));
    assert_eq!(
        b.wait("#token")
            .await
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("")
    );
    assert!(
        !b.client
            .source()
            .await
            .unwrap()
            .contains("pat-eu1-not-the-token")
    );

    // The right one.
    b.type_into("#token", TOKEN).await;
    b.click("#connection button[type=submit]").await;
    let saved = b.text("#connection .notice.ok").await;
    assert!(
        saved.starts_with("Api key for Hubspot has been updated."),
        "{saved}"
    );
    assert!(!b.client.source().await.unwrap().contains(TOKEN));
    assert_eq!(
        b.client
            .execute("return document.cookie", vec![])
            .await
            .unwrap(),
        json!(""),
        "the session cookie is out of scripts' reach"
    );

    // Refresh.
    b.click("#refresh button[type=submit]").await;
    let found = b.text("#refresh .notice.ok").await;
    assert!(
        found.contains("Refreshed from HubSpot.") && found.contains(" lead statuses, "),
        "{found}"
    );
    let statuses = b
        .client
        .find_all(Locator::Css("#lead_status option"))
        .await
        .unwrap();
    assert!(statuses.len() >= 2, "Refresh filled the lead statuses");

    // User-defined stages, then one deal phase mapped.
    b.wait("#stage_mode")
        .await
        .select_by_value("user-defined")
        .await
        .unwrap();
    b.click("#settings button[type=submit]").await;
    let settings = b.text("#settings .notice.ok").await;
    assert!(settings.contains("Settings updated"), "{settings}");
    let phase = b.wait("#stages select").await;
    let name = phase.attr("name").await.unwrap().unwrap();
    phase.select_by_value("default:closedwon").await.unwrap();
    b.click("#stages button[type=submit]").await;
    let mapped = b.text("#stages .notice.ok").await;
    assert!(mapped.contains("Mapped 1 stage(s)."), "{mapped}");
    let shown = b
        .wait(&format!("select[name='{name}']"))
        .await
        .prop("value")
        .await
        .unwrap();
    assert_eq!(shown.as_deref(), Some("default:closedwon"));
    b.client.goto(&format!("{base}/t/acme")).await.unwrap();
    let settings_png = b.screenshot("settings", 1280).await;

    // A contact HubSpot will refuse (a portal rule wants a phone), queued by its save hook;
    // Run now sends it, HubSpot refuses it, and the health page lists it with the reason.
    w.require_phone();
    let ada = w.add_contact("acme", "Ada", "ada@example.com", "");
    b.click("#starters form:has(input[value='process-queue']) button")
        .await;
    let ran = b.text("#starters .notice.ok").await;
    assert!(ran.contains("Ran process-queue."), "{ran}");
    b.click("a[href='/t/acme/health']").await;
    let failing = b.text("#contact-failing .failure").await;
    assert!(failing.contains(&format!("Records: {ada}")), "{failing}");
    assert!(
        failing.contains("phone") && failing.contains("needs a change"),
        "{failing}"
    );

    // Another contact, with a phone: the dry run shows the queue would create it in HubSpot,
    // and writes nothing.
    w.add_contact("acme", "Bea", "bea@example.com", "+49 30 1234");
    b.wait("#job")
        .await
        .select_by_value("process-queue")
        .await
        .unwrap();
    b.click("#dry-run button[type=submit]").await;
    let dry = b.text("#dry-run .notice.ok").await;
    assert!(
        dry.contains("Dry run of process-queue: nothing was written."),
        "{dry}"
    );
    assert!(dry.contains("What process-queue would change"), "{dry}");
    let hubspot_created = b
        .text("#dry-run table.report tbody tr:nth-child(2) td:nth-child(2)")
        .await;
    assert_eq!(
        hubspot_created, "1",
        "one contact would be created in HubSpot"
    );
    assert!(
        w.hubspot
            .objects(hubspot_emulator::ObjectType::Contacts)
            .is_empty()
    );
    let planned = b.text("#dry-run #planned").await;
    assert!(
        planned.contains("contact") && planned.contains("create"),
        "record by record: {planned}"
    );
    assert!(
        b.text("#contact-failing").await.contains("needs a change"),
        "still listed"
    );
    let health_png = b.screenshot("health", 1280).await;

    // Retry the refused record now: it no longer waits for a change, the next run sends it.
    b.click(&format!(
        "#contact-failing form:has(input[name='record'][value='{ada}']) button"
    ))
    .await;
    let retried = b.text("#overview .notice.ok").await;
    assert!(
        retried.contains("1 failing record(s) will be retried by the next run"),
        "{retried}"
    );
    let now_due = b.text("#contact-failing .failure").await;
    assert!(
        now_due.contains("next retry") && !now_due.contains("needs a change"),
        "{now_due}"
    );

    for resource in b.resources().await {
        assert!(
            resource.starts_with(&base),
            "loaded from elsewhere: {resource}"
        );
    }
    eprintln!(
        "screenshots: {} and {}",
        settings_png.display(),
        health_png.display()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_fit_a_phone_screen() {
    let Some((driver, chromium)) = tools() else {
        return;
    };
    let w = ConsoleWorld::new(&["acme"]);
    w.connect("acme");
    w.require_phone();
    let id = w.add_contact("acme", "Ada", "ada@example.com", "");
    xentral_host::actions::run::run_job(
        &w.host,
        "acme",
        &xentral_host::actions::run::RunRequest::of(xentral_host::report::Job::ProcessQueue),
    )
    .unwrap()
    .result
    .unwrap();
    let base = w.console.url();
    let b = Browser::start(&driver, &chromium).await;
    b.client.set_window_size(390, 844).await.unwrap();
    b.log_in(&base).await;
    for (path, name) in [
        ("/t/acme", "phone-module"),
        ("/t/acme/health", "phone-health"),
    ] {
        b.client.goto(&format!("{base}{path}")).await.unwrap();
        b.wait("main h1").await;
        let fits = b
            .client
            .execute(
                "return document.documentElement.scrollWidth <= window.innerWidth",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(fits, json!(true), "{path} scrolls sideways on a phone");
        b.screenshot(name, 390).await;
    }
    assert!(b.text("#contact-failing").await.contains(&id.to_string()));
}
