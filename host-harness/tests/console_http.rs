//! The web console over HTTP, route by route: login and its rate limit, sessions, CSRF and
//! origin checks on every change, tenant separation, and each action of the module and
//! health pages against an emulated portal, with what it changed checked in the host.

mod console_support;

use console_support::{ConsoleWorld, PASSWORD, TOKEN};
use hubspot_emulator::{Pipeline, Stage};
use xentral_host::actions::run::{RunRequest, run_job};
use xentral_host::console::LoginLimits;
use xentral_host::console::password::password_file;
use xentral_host::report::{Job, StageMode};
use xentral_host::scheduler::starter_status;

const MINUTE: i64 = 60_000;

/// Every POST route of a tenant with a form that would change something.
fn changes(tenant: &str) -> Vec<(String, Vec<(&'static str, &'static str)>)> {
    vec![
        (
            format!("/t/{tenant}/connection"),
            vec![("hubspot_url", "http://127.0.0.1:9"), ("token", "pat-x")],
        ),
        (
            format!("/t/{tenant}/settings"),
            vec![("group", "Changed"), ("stage_mode", "automatic")],
        ),
        (format!("/t/{tenant}/refresh"), vec![]),
        (
            format!("/t/{tenant}/stages"),
            vec![("stage.1", "default:closedwon")],
        ),
        (
            format!("/t/{tenant}/starters/1"),
            vec![("period", "5"), ("active", "on")],
        ),
        (format!("/t/{tenant}/run"), vec![("job", "process-queue")]),
        (
            format!("/t/{tenant}/dry-run"),
            vec![("job", "process-queue")],
        ),
        ("/logout".to_owned(), vec![]),
    ]
}

fn period_of_first_starter(w: &ConsoleWorld, tenant: &str) -> i64 {
    starter_status(&w.host, tenant).unwrap()[0].period_minutes
}

fn saved_group(w: &ConsoleWorld, tenant: &str) -> Option<String> {
    w.host
        .tenant(tenant)
        .unwrap()
        .config
        .settings
        .map(|s| s.group)
}

#[test]
fn every_page_and_change_needs_a_login_and_changes_nothing_without_one() {
    let w = ConsoleWorld::new(&["acme"]);
    w.connect("acme");
    let anonymous = w.client();
    for page in ["/", "/t/acme", "/t/acme/health", "/t/nobody"] {
        let r = anonymous.get(page);
        assert_eq!(
            (r.status, r.header("location")),
            (303, Some("/login")),
            "{page}"
        );
    }
    for (action, fields) in changes("acme") {
        let r = anonymous.post(&action, &fields);
        assert_eq!(
            (r.status, r.header("location")),
            (303, Some("/login")),
            "{action}"
        );
    }
    assert_eq!(period_of_first_starter(&w, "acme"), 10);
    assert_eq!(saved_group(&w, "acme").as_deref(), Some("Hubspot"));
    assert_eq!(
        w.hubspot.stats().count_status(401),
        0,
        "no request reached HubSpot"
    );
}

#[test]
fn the_right_password_starts_a_new_http_only_strict_session() {
    let w = ConsoleWorld::new(&["acme"]);
    let c = w.client();
    let form = c.get("/login");
    assert_eq!(form.status, 200);
    let anonymous = c.cookie().expect("the login form starts a session");
    let r = c.login(PASSWORD);
    assert_eq!(
        (r.status, r.header("location")),
        (303, Some("/")),
        "{}",
        r.body
    );
    let set = r.header("set-cookie").unwrap();
    assert!(set.starts_with("xentral_console="), "{set}");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set.contains(attribute), "{set}");
    }
    assert!(!set.contains("Secure"), "plain HTTP on loopback: {set}");
    let session = c.cookie().unwrap();
    assert_ne!(session, anonymous, "a login replaces the session id");
    assert_eq!(session.len(), "xentral_console=".len() + 64);
    let tenants = c.get("/");
    assert_eq!(tenants.status, 200);
    assert!(
        tenants.body.contains(r#"href="/t/acme""#),
        "{}",
        tenants.body
    );

    // The login form's id is worthless now.
    c.set_cookie(Some(anonymous));
    assert_eq!(c.get("/").status, 303);
}

#[test]
fn a_wrong_password_is_refused_and_logs_nothing_in() {
    let w = ConsoleWorld::new(&["acme"]);
    let c = w.client();
    let r = c.login("correct horse battery stapler");
    assert_eq!(r.status, 401);
    assert!(r.body.contains("The password is wrong."), "{}", r.body);
    assert!(
        !r.body.contains("correct horse"),
        "the password is never shown back"
    );
    assert_eq!(c.get("/").status, 303);
}

#[test]
fn login_rate_limit_obeyed_four_wrong_passwords_then_the_right_one_logs_in() {
    let w = ConsoleWorld::new(&["acme"]);
    let c = w.client();
    for _ in 0..4 {
        assert_eq!(c.login("wrong wrong wrong").status, 401);
    }
    assert_eq!(c.login(PASSWORD).status, 303);
    // The right password cleared the failures: four more wrong ones are allowed again.
    let other = w.client();
    for _ in 0..4 {
        assert_eq!(other.login("wrong wrong wrong").status, 401);
    }
    assert_eq!(other.login(PASSWORD).status, 303);
}

#[test]
fn login_rate_limit_violated_refuses_even_the_right_password_until_the_window_passes() {
    let w = ConsoleWorld::with_limits(
        &["acme"],
        LoginLimits {
            max_failures: 5,
            window_ms: 15 * MINUTE,
        },
    );
    let c = w.client();
    for _ in 0..5 {
        assert_eq!(c.login("wrong wrong wrong").status, 401);
        w.clock.advance_ms(MINUTE);
    }
    let r = c.login(PASSWORD);
    assert_eq!(r.status, 429, "{}", r.body);
    assert_eq!(
        r.header("retry-after"),
        Some("600"),
        "the first failure leaves in 10 min"
    );
    assert!(
        r.body.contains("Too many wrong passwords from this address: logins from it are refused for 10 more minute(s)."),
        "{}",
        r.body
    );
    assert_eq!(c.get("/").status, 303, "not logged in");
    w.clock.advance_ms(10 * MINUTE);
    assert_eq!(c.login(PASSWORD).status, 303, "the window passed");
}

#[test]
fn a_login_without_its_forms_token_is_refused() {
    let w = ConsoleWorld::new(&["acme"]);
    let c = w.client();
    c.get("/login");
    let r = c.post("/login", &[("password", PASSWORD)]);
    assert_eq!(r.status, 403);
    let r = c.post(
        "/login",
        &[("csrf", &"0".repeat(64)), ("password", PASSWORD)],
    );
    assert_eq!(r.status, 403);
    assert_eq!(c.get("/").status, 303);
    let fresh = w.client();
    let r = fresh.post("/login", &[("password", PASSWORD)]);
    assert_eq!(r.status, 403, "no session, no form: {}", r.body);
}

#[test]
fn every_change_without_the_sessions_csrf_token_is_refused_and_changes_nothing() {
    let w = ConsoleWorld::new(&["acme"]);
    w.connect("acme");
    let admin = w.admin();
    let other_session = w.admin().get("/t/acme").csrf();
    for (action, fields) in changes("acme") {
        let r = admin.post(&action, &fields);
        assert_eq!(r.status, 403, "{action} without a token: {}", r.body);
        let mut forged = vec![("csrf", other_session.as_str())];
        forged.extend_from_slice(&fields);
        let r = admin.post(&action, &forged);
        assert_eq!(r.status, 403, "{action} with another session's token");
        assert!(
            r.body.contains("security token does not match"),
            "{}",
            r.body
        );
    }
    assert_eq!(period_of_first_starter(&w, "acme"), 10);
    assert_eq!(saved_group(&w, "acme").as_deref(), Some("Hubspot"));
    assert_eq!(admin.get("/t/acme").status, 200, "still logged in");
}

#[test]
fn a_change_sent_from_another_sites_page_is_refused() {
    let w = ConsoleWorld::new(&["acme"]);
    w.connect("acme");
    let admin = w.admin();
    let csrf = admin.get("/t/acme").csrf();
    let form = [("csrf", csrf.as_str()), ("period", "5"), ("active", "on")];
    for extra in [
        [("origin", "http://attacker.example")],
        [("sec-fetch-site", "cross-site")],
        [("sec-fetch-site", "same-site")],
    ] {
        let r = admin.post_with("/t/acme/starters/1", &form, &extra);
        assert_eq!(r.status, 403, "{extra:?}");
    }
    assert_eq!(period_of_first_starter(&w, "acme"), 10);
    let own_origin = w.console.url();
    let r = admin.post_with(
        "/t/acme/starters/1",
        &form,
        &[("origin", &own_origin), ("sec-fetch-site", "same-origin")],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(period_of_first_starter(&w, "acme"), 5);
}

#[test]
fn changes_are_post_only() {
    let w = ConsoleWorld::new(&["acme"]);
    let admin = w.admin();
    for path in [
        "/t/acme/refresh",
        "/t/acme/settings",
        "/t/acme/run",
        "/logout",
    ] {
        assert_eq!(admin.get(path).status, 405, "{path}");
    }
}

#[test]
fn a_request_naming_another_host_is_refused() {
    let w = ConsoleWorld::new(&["acme"]);
    let c = w.client();
    let port = w.console.addr().port();
    let r = c.get_with("/login", &[("host", &format!("rebound.example:{port}"))]);
    assert_eq!(r.status, 421);
    let r = c.get_with("/login", &[("host", &format!("localhost:{port}"))]);
    assert_eq!(r.status, 200);
}

#[test]
fn every_answer_carries_the_security_headers_and_pages_are_not_stored() {
    let w = ConsoleWorld::new(&["acme"]);
    let admin = w.admin();
    for path in ["/login", "/", "/t/acme", "/t/acme/health", "/no/such/page"] {
        let r = admin.get(path);
        let csp = r.header("content-security-policy").unwrap_or("");
        assert!(
            csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
            "{path}: {csp}"
        );
        assert!(!csp.contains("script-src"), "no script is allowed: {csp}");
        assert_eq!(r.header("x-frame-options"), Some("DENY"), "{path}");
        assert_eq!(
            r.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(r.header("cache-control"), Some("no-store"), "{path}");
        assert!(
            !r.body.contains("<script") && !r.body.contains(" src="),
            "{path}"
        );
        for link in r.body.split(" href=\"").skip(1) {
            assert!(
                link.starts_with('/') || link.starts_with('#'),
                "{path} links only to itself: {link:.40}"
            );
        }
    }
    let css = w.client().get("/static/console.css");
    assert_eq!(css.status, 200);
    assert_eq!(css.header("content-type"), Some("text/css; charset=utf-8"));
    assert!(!css.body.contains("url("), "the stylesheet loads nothing");
    assert_eq!(admin.get("/no/such/page").status, 404);
}

#[test]
fn an_idle_session_ends_and_logout_ends_one_at_once() {
    let w = ConsoleWorld::new(&["acme"]);
    let admin = w.admin();
    w.clock.advance_ms(29 * MINUTE);
    assert_eq!(admin.get("/").status, 200);
    w.clock.advance_ms(30 * MINUTE);
    assert_eq!(admin.get("/").status, 303, "idle for 30 minutes");

    let admin = w.admin();
    let session = admin.cookie();
    let r = admin.submit("/", "/logout", &[]);
    assert_eq!((r.status, r.header("location")), (303, Some("/login")));
    assert!(r.header("set-cookie").unwrap().contains("Max-Age=0"));
    admin.set_cookie(session);
    assert_eq!(admin.get("/").status, 303, "the old cookie opens nothing");
}

#[test]
fn a_new_administrator_password_ends_every_session() {
    let w = ConsoleWorld::new(&["acme"]);
    let admin = w.admin();
    xentral_host::console::AdminPassword::at(password_file(w.dir.path()))
        .set("a brand new passphrase")
        .unwrap();
    assert_eq!(admin.get("/").status, 303);
    assert_eq!(w.client().login(PASSWORD).status, 401);
    assert_eq!(w.client().login("a brand new passphrase").status, 303);
}

#[test]
fn an_unknown_tenant_is_not_found() {
    let w = ConsoleWorld::new(&["acme"]);
    let admin = w.admin();
    for path in ["/t/nobody", "/t/nobody/health", "/t/..%2Facme"] {
        let r = admin.get(path);
        assert_eq!(r.status, 404, "{path}");
    }
    let r = admin.get("/t/nobody");
    assert!(
        r.body.contains("unknown tenant &#39;nobody&#39;")
            || r.body.contains("unknown tenant 'nobody'"),
        "{}",
        r.body
    );
}

#[test]
fn a_wrong_token_shows_hubspots_reason_keeps_the_url_and_saves_nothing() {
    let w = ConsoleWorld::new(&["acme"]);
    let admin = w.admin();
    let url = w.hubspot.base_url();
    let r = admin.submit(
        "/t/acme",
        "/t/acme/connection",
        &[("hubspot_url", &url), ("token", "pat-eu1-wrong-token")],
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body.contains("HubSpot rejected the access token (401"),
        "{}",
        r.body
    );
    assert!(
        r.body.contains(&format!(r#"value="{url}""#)),
        "the URL entered is kept"
    );
    assert!(
        !r.body.contains("pat-eu1-wrong-token"),
        "the token is never shown back"
    );
    let t = w.host.tenant("acme").unwrap();
    assert_eq!(t.config.hubspot_url, None);
    assert!(t.secrets().load().unwrap().is_empty());
}

#[test]
fn the_right_token_is_saved_answers_as_xentral_does_and_is_never_shown_again() {
    let w = ConsoleWorld::new(&["acme"]);
    let admin = w.admin();
    let url = w.hubspot.base_url();
    let r = admin.submit(
        "/t/acme",
        "/t/acme/connection",
        &[("hubspot_url", &url), ("token", TOKEN)],
    );
    assert_eq!(
        (r.status, r.header("location")),
        (303, Some("/t/acme#connection")),
        "{}",
        r.body
    );
    let page = admin.get("/t/acme");
    assert!(
        page.body.contains("Api key for Hubspot has been updated."),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("created the process starter"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains(&format!(
            "An access token is saved for <strong>{url}</strong>"
        )),
        "{}",
        page.body
    );
    assert!(!page.body.contains(TOKEN));
    let again = admin.get("/t/acme");
    assert!(
        !again.body.contains("Api key for Hubspot has been updated."),
        "shown once"
    );
    assert!(!again.body.contains(TOKEN));
    assert_eq!(
        w.host.tenant("acme").unwrap().config.hubspot_url.as_deref(),
        Some(url.as_str())
    );
}

#[test]
fn settings_are_saved_over_the_saved_ones_and_say_what_changed() {
    let w = ConsoleWorld::new(&["acme"]);
    w.connect("acme");
    let admin = w.admin();
    let r = admin.submit(
        "/t/acme",
        "/t/acme/settings",
        &[
            ("contacts", "on"),
            ("contacts_since", "2024-01-31T00:00:00Z"),
            ("group", "Kunden"),
            ("stage_mode", "user-defined"),
            ("contacts_direction", "two-way"),
            ("contacts_conflict_winner", "hubspot"),
            ("contact_field.city", "to-xentral"),
            ("deals_direction", "to-hubspot"),
            ("deals_conflict_winner", "xentral"),
            ("api_version", "legacy"),
        ],
    );
    assert_eq!(
        (r.status, r.header("location")),
        (303, Some("/t/acme#settings")),
        "{}",
        r.body
    );
    let saved = w.host.tenant("acme").unwrap().config.settings.unwrap();
    assert_eq!(saved.group, "Kunden");
    assert!(saved.contacts && !saved.deals, "an unchecked switch is off");
    assert_eq!(
        saved.contacts_since.as_deref(),
        Some("2024-01-31T00:00:00Z")
    );
    assert_eq!(saved.stage_mode, StageMode::UserDefined);
    assert_eq!(saved.api_version, "legacy");
    assert_eq!(
        serde_json::to_value(&saved.contact_rule).unwrap(),
        serde_json::json!({
            "direction": "TwoWay",
            "conflict_winner": "Hubspot",
            "fields": [{ "field": "city", "direction": "ToXentral" }],
            "on_hubspot_archive": "Keep",
            "on_xentral_delete": "Keep",
        })
    );
    let page = admin.get("/t/acme");
    assert!(
        page.body
            .contains("Settings updated; the saved access token was checked and kept."),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("calls HubSpot&#39;s API version legacy")
            || page.body.contains("calls HubSpot's API version legacy"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains(r#"id="stages""#),
        "user-defined mode shows the deal phases"
    );
}

#[test]
fn refused_settings_show_the_exact_reason_keep_what_was_entered_and_save_nothing() {
    let w = ConsoleWorld::new(&["acme"]);
    w.connect("acme");
    let admin = w.admin();
    let r = admin.submit(
        "/t/acme",
        "/t/acme/settings",
        &[
            ("contacts", "on"),
            ("contacts_since", "last tuesday"),
            ("group", "Kunden"),
            ("deals", "on"),
        ],
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body
            .contains("the contacts start time &#39;last tuesday&#39; is not an RFC 3339 instant")
            || r.body
                .contains("the contacts start time 'last tuesday' is not an RFC 3339 instant"),
        "{}",
        r.body
    );
    assert!(r.body.contains(r#"value="last tuesday""#), "{}", r.body);
    assert!(r.body.contains(r#"value="Kunden""#), "{}", r.body);
    assert!(r.body.contains("As you entered them (not saved)."));
    assert_eq!(saved_group(&w, "acme").as_deref(), Some("Hubspot"));

    let r = admin.submit(
        "/t/acme",
        "/t/acme/settings",
        &[("contact_field.city", "sideways")],
    );
    assert_eq!(r.status, 422);
    assert!(
        r.body
            .contains("is not a direction: two-way, to-xentral or to-hubspot"),
        "{}",
        r.body
    );
}

#[test]
fn refresh_shows_what_it_found() {
    let w = ConsoleWorld::new(&["acme"]);
    w.connect("acme");
    let admin = w.admin();
    let r = admin.submit("/t/acme", "/t/acme/refresh", &[]);
    assert_eq!(
        (r.status, r.header("location")),
        (303, Some("/t/acme#refresh"))
    );
    let page = admin.get("/t/acme");
    assert!(
        page.body.contains("Refreshed from HubSpot."),
        "{}",
        page.body
    );
    assert!(page.body.contains(" lead statuses, "), "{}", page.body);
    assert!(page.body.contains(" pipelines with "), "{}", page.body);
    assert!(
        page.body.contains(r#"<option value="NEW""#),
        "the lead statuses fill the multi-select: {}",
        page.body
    );
}

fn user_defined(w: &ConsoleWorld, admin: &console_support::Client) {
    let r = admin.submit(
        "/t/acme",
        "/t/acme/settings",
        &[
            ("contacts", "on"),
            ("deals", "on"),
            ("group", "Hubspot"),
            ("stage_mode", "user-defined"),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let _ = w;
}

#[test]
fn a_deal_phase_is_mapped_as_stages_map_does_it() {
    let w = ConsoleWorld::new(&["acme"]);
    w.connect("acme");
    let admin = w.admin();
    user_defined(&w, &admin);
    let overview = w.host.list_stages("acme").unwrap().result.unwrap();
    let stage = overview.xentral[0].id;
    let target = "default:closedwon";
    assert_ne!(
        overview.xentral[0]
            .mapped_to
            .as_ref()
            .map(xentral_host::report::stage_name)
            .as_deref(),
        Some(target)
    );
    let field = format!("stage.{stage}");
    let r = admin.submit("/t/acme", "/t/acme/stages", &[(&field, target)]);
    assert_eq!(
        (r.status, r.header("location")),
        (303, Some("/t/acme#stages")),
        "{}",
        r.body
    );
    let after = w.host.list_stages("acme").unwrap().result.unwrap();
    let mapped = after.xentral.iter().find(|s| s.id == stage).unwrap();
    assert_eq!(
        mapped
            .mapped_to
            .as_ref()
            .map(xentral_host::report::stage_name)
            .as_deref(),
        Some(target)
    );
    let page = admin.get("/t/acme");
    assert!(page.body.contains("Mapped 1 stage(s)."), "{}", page.body);
    assert!(
        page.body
            .contains(r#"<option value="default:closedwon" selected>"#),
        "{}",
        page.body
    );

    // The same choice again changes nothing.
    let r = admin.submit("/t/acme", "/t/acme/stages", &[(&field, target)]);
    assert_eq!(r.status, 303);
    assert!(
        admin
            .get("/t/acme")
            .body
            .contains("Nothing to change: every stage is mapped as shown.")
    );

    let r = admin.submit("/t/acme", "/t/acme/stages", &[(&field, "nonsense")]);
    assert_eq!(r.status, 422);
    assert!(
        r.body.contains(&format!(
            "xentral stage {stage}: &#39;nonsense&#39; is not PIPELINE_ID:STAGE_ID"
        )) || r.body.contains(&format!(
            "xentral stage {stage}: 'nonsense' is not PIPELINE_ID:STAGE_ID"
        )),
        "{}",
        r.body
    );
}

#[test]
fn the_deal_phases_are_paged() {
    let w = ConsoleWorld::new(&["acme"]);
    let stages: Vec<Stage> = (0..30)
        .map(|i| Stage::new(&format!("s{i:02}"), &format!("Step {i:02}"), i, 0.1, false))
        .collect();
    w.hubspot.upsert_pipeline(Pipeline {
        id: "777".into(),
        label: "Long pipeline".into(),
        display_order: 1,
        archived: false,
        stages,
    });
    w.connect("acme");
    let admin = w.admin();
    user_defined(&w, &admin);
    let total = w
        .host
        .list_stages("acme")
        .unwrap()
        .result
        .unwrap()
        .xentral
        .len();
    assert!(total > 20, "{total} xentral stages");
    let pages = total.div_ceil(20);
    let first = admin.get("/t/acme");
    assert_eq!(first.body.matches(r#"name="stage."#).count(), 20);
    assert!(
        first.body.contains(&format!("page 1 of {pages} ({total})")),
        "{}",
        first.body
    );
    assert!(
        first
            .body
            .contains(r#"href="/t/acme?stages_page=2#stages""#)
    );
    let last = admin.get(&format!("/t/acme?stages_page={pages}"));
    assert_eq!(
        last.body.matches(r#"name="stage."#).count(),
        total - 20 * (pages - 1)
    );
    assert!(
        last.body.contains("Long pipeline / Step 29")
            || first.body.contains("Long pipeline / Step 29")
            || admin
                .get("/t/acme?stages_page=2")
                .body
                .contains("Long pipeline / Step 29")
    );
}

#[test]
fn a_starters_schedule_is_saved_and_a_period_out_of_range_refused() {
    let w = ConsoleWorld::new(&["acme"]);
    w.connect("acme");
    let admin = w.admin();
    let id = starter_status(&w.host, "acme").unwrap()[1].id;
    let path = format!("/t/acme/starters/{id}");
    let r = admin.submit("/t/acme", &path, &[("period", "30")]);
    assert_eq!(r.status, 303, "{}", r.body);
    let s = &starter_status(&w.host, "acme").unwrap()[1];
    assert_eq!((s.period_minutes, s.aktiv), (30, false), "unchecked: off");
    assert!(
        admin
            .get("/t/acme")
            .body
            .contains("every 30 min, off (was every 60 min, on)")
    );
    for (period, message) in [
        ("0", "the period must be 1 to 10080 minutes (a week), not 0"),
        (
            "soon",
            "the period must be a whole number of minutes, not &#39;soon&#39;",
        ),
    ] {
        let r = admin.submit("/t/acme", &path, &[("period", period), ("active", "on")]);
        assert_eq!(r.status, 422, "{period}");
        assert!(
            r.body.contains(message) || r.body.contains(&message.replace("&#39;", "'")),
            "{}",
            r.body
        );
    }
    let r = admin.submit("/t/acme", "/t/acme/starters/999", &[("period", "5")]);
    assert_eq!(r.status, 404);
    assert_eq!(
        starter_status(&w.host, "acme").unwrap()[1].period_minutes,
        30
    );
}

#[test]
fn run_now_runs_the_job_under_its_lock_and_shows_its_report() {
    let w = ConsoleWorld::new(&["acme"]);
    w.connect("acme");
    let id = w.add_contact("acme", "Ada", "ada@example.com", "");
    let admin = w.admin();
    let r = admin.submit("/t/acme", "/t/acme/run", &[("job", "process-queue")]);
    assert_eq!(
        (r.status, r.header("location")),
        (303, Some("/t/acme#starters")),
        "{}",
        r.body
    );
    let page = admin.get("/t/acme");
    assert!(page.body.contains("Ran process-queue."), "{}", page.body);
    assert!(
        page.body.contains("What process-queue changed"),
        "{}",
        page.body
    );
    assert_eq!(
        w.hubspot
            .objects(hubspot_emulator::ObjectType::Contacts)
            .len(),
        1,
        "contact {id} exported"
    );
    let starter = starter_status(&w.host, "acme")
        .unwrap()
        .into_iter()
        .find(|s| s.job == Some(Job::ProcessQueue))
        .unwrap();
    assert!(
        starter.last_run.unwrap().manual,
        "recorded as a run by hand"
    );
    let r = admin.submit("/t/acme", "/t/acme/run", &[("job", "sync-everything")]);
    assert_eq!(r.status, 422);
    assert!(
        r.body.contains("unknown job &#39;sync-everything&#39;")
            || r.body.contains("unknown job 'sync-everything'"),
        "{}",
        r.body
    );
}

#[test]
fn a_dry_run_shows_a_table_of_what_would_change_and_writes_nothing() {
    let w = ConsoleWorld::new(&["acme"]);
    w.connect("acme");
    w.add_contact("acme", "Ada", "ada@example.com", "");
    let admin = w.admin();
    let r = admin.submit(
        "/t/acme/health",
        "/t/acme/dry-run",
        &[("job", "process-queue")],
    );
    assert_eq!(
        (r.status, r.header("location")),
        (303, Some("/t/acme/health#dry-run")),
        "{}",
        r.body
    );
    let page = admin.get("/t/acme/health");
    assert!(
        page.body
            .contains("Dry run of process-queue: nothing was written."),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("What process-queue would change (a dry run: nothing was written)"),
        "{}",
        page.body
    );
    let hubspot_row = page
        .body
        .split("<th scope=\"row\">HubSpot</th>")
        .nth(1)
        .unwrap();
    assert!(
        hubspot_row.starts_with(r#"<td class="num">1</td>"#),
        "one would be created: {hubspot_row}"
    );
    assert!(
        w.hubspot
            .objects(hubspot_emulator::ObjectType::Contacts)
            .is_empty(),
        "nothing written"
    );
    let health = w.host.sync_health("acme").unwrap().result.unwrap();
    assert_eq!(health.queue.pending, 1, "still queued");
}

#[test]
fn the_health_page_lists_a_failing_record_with_hubspots_reason() {
    let w = ConsoleWorld::new(&["acme"]);
    w.connect("acme");
    w.require_phone();
    let id = w.add_contact("acme", "Ada", "ada@example.com", "");
    run_job(&w.host, "acme", &RunRequest::of(Job::ProcessQueue))
        .unwrap()
        .result
        .unwrap();
    let admin = w.admin();
    let page = admin.get("/t/acme/health");
    assert_eq!(page.status, 200);
    let failing = page
        .body
        .split("Failing, by error")
        .nth(1)
        .expect("a failing table");
    assert!(failing.contains("phone"), "{failing}");
    assert!(
        failing.contains(&format!(
            r#"<p class="records">Records: <span class="record">{id} "#
        )),
        "{failing}"
    );
    assert!(
        failing.contains(&format!(r#"<input type="hidden" name="record" value="{id}"><button type="submit">retry now</button>"#)),
        "one record retried by its own button: {failing}"
    );
    assert!(failing.contains("needs a change"), "{failing}");
    assert!(page.body.contains("Export queue"), "{}", page.body);
}

#[test]
fn a_tenants_pages_never_show_another_tenants_data() {
    let w = ConsoleWorld::new(&["acme", "globex"]);
    w.connect("acme");
    w.connect("globex");
    let admin = w.admin();
    admin.submit(
        "/t/globex",
        "/t/globex/settings",
        &[
            ("contacts", "on"),
            ("group", "GlobexOnly"),
            ("stage_mode", "automatic"),
        ],
    );
    w.require_phone();
    w.add_contact("globex", "Gloria", "gloria@globex.example", "");
    run_job(&w.host, "globex", &RunRequest::of(Job::ProcessQueue))
        .unwrap()
        .result
        .unwrap();
    // An outcome on globex's page…
    let r = admin.submit("/t/globex", "/t/globex/refresh", &[]);
    assert_eq!(r.status, 303);
    // …never shows on acme's, and acme's pages hold none of globex's data.
    for path in ["/t/acme", "/t/acme/health"] {
        let page = admin.get(path);
        assert_eq!(page.status, 200);
        for theirs in [
            "GlobexOnly",
            "globex",
            "gloria",
            "Refreshed from HubSpot.",
            "Failing, by error",
        ] {
            assert!(
                !page.body.to_lowercase().contains(&theirs.to_lowercase()),
                "{path} shows {theirs}"
            );
        }
    }
    // A change on acme's page changes acme only.
    admin.submit(
        "/t/acme",
        "/t/acme/settings",
        &[
            ("contacts", "on"),
            ("group", "AcmeOnly"),
            ("stage_mode", "automatic"),
        ],
    );
    assert_eq!(saved_group(&w, "acme").as_deref(), Some("AcmeOnly"));
    assert_eq!(saved_group(&w, "globex").as_deref(), Some("GlobexOnly"));
    let globex = admin.get("/t/globex/health");
    assert!(globex.body.contains("Failing, by error"), "{}", globex.body);
}
