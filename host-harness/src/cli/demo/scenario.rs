//! The demo: a HubSpot portal (the emulator) and a xentral tenant, connected and kept in sync
//! by the real plugin through the real scheduler for a few simulated cycles, with edits on
//! both sides between cycles (contacts, companies, contact persons, deals), one conflict, one
//! fault burst and records that end (archived and merged in HubSpot, deleted in xentral); then
//! a comparison of both sides. Everything runs in-process on a virtual clock, so two simulated hours take seconds.

use std::collections::BTreeMap;
use std::sync::Arc;

use hubspot_emulator::{
    Emulator, EmulatorConfig, FaultPlan, ObjectType, RandomFaults, SeedSpec, TokenConfig,
};
use serde::Serialize;
use xentral_erp::Value;

use super::verify::{self, Comparison};
use xentral_host::clock::{HostClock, SharedClock, VirtualClock};
use xentral_host::host::{Connection, XentralHost};
use xentral_host::report::{JobReport, Settings};
use xentral_host::scheduler;
use xentral_host::secrets::HostKey;
use xentral_hubspot_plugin::engine::lifecycle::SWEEP_EVERY_MS;
use xentral_hubspot_plugin::xentral::COMPANY_ADDRESS as COMPANY;

/// The demo tenant's name.
pub const TENANT: &str = "demo";
const TOKEN: &str = "pat-demo-0000-1111-2222";
/// 2026-01-15 08:00 UTC.
const START_MS: i64 = 1_768_464_000_000;
/// Contact persons of each seeded xentral company address.
pub const PERSONS_PER_COMPANY: usize = 2;

/// How big the demo is.
#[derive(Debug, Clone)]
pub struct DemoConfig {
    /// HubSpot contacts.
    pub contacts: usize,
    /// HubSpot deals.
    pub deals: usize,
    /// HubSpot companies (most contacts and deals get a primary one).
    pub companies: usize,
    /// xentral company addresses in the group, each with [`PERSONS_PER_COMPANY`] contact
    /// persons; some share their web site's domain with a HubSpot company.
    pub company_addresses: usize,
    /// xentral addresses in the group.
    pub addresses: usize,
    /// Of those, how many share an e-mail with a HubSpot contact.
    pub shared_emails: usize,
    /// xentral resubmissions in a synchronised view.
    pub resubmissions: usize,
    /// Scheduler cycles.
    pub cycles: usize,
    /// Simulated minutes between cycles.
    pub cycle_minutes: i64,
}

impl Default for DemoConfig {
    fn default() -> Self {
        DemoConfig {
            contacts: 2_000,
            deals: 300,
            companies: 150,
            company_addresses: 20,
            addresses: 500,
            shared_emails: 100,
            resubmissions: 100,
            cycles: 7,
            cycle_minutes: 20,
        }
    }
}

/// Record counts on both sides.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Totals {
    /// HubSpot contacts.
    pub hubspot_contacts: usize,
    /// HubSpot deals.
    pub hubspot_deals: usize,
    /// HubSpot companies.
    pub hubspot_companies: usize,
    /// xentral person addresses in the contact group.
    pub xentral_addresses: i64,
    /// xentral company addresses.
    pub xentral_companies: i64,
    /// xentral contact persons.
    pub xentral_contact_persons: i64,
    /// xentral resubmissions.
    pub xentral_resubmissions: i64,
}

/// Job results added up over the demo.
#[derive(Debug, Clone, Default, Serialize)]
pub struct JobTotals {
    /// Jobs run by the scheduler.
    pub jobs: usize,
    /// Jobs that failed as a whole.
    pub failed_jobs: usize,
    /// Writes to xentral.
    pub xentral: SideTotals,
    /// Writes to HubSpot.
    pub hubspot: SideTotals,
    /// API calls by endpoint.
    pub api_calls: BTreeMap<String, u32>,
}

/// One side's writes added up over the demo's jobs.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SideTotals {
    /// Records created.
    pub created: u32,
    /// Records updated.
    pub updated: u32,
    /// Records compared and found equal.
    pub unchanged: u32,
    /// Records changed on both sides.
    pub conflicts: u32,
    /// Records that failed (and were retried).
    pub failed: u32,
    /// Records left out, by reason.
    pub excluded: BTreeMap<String, u32>,
}

impl JobTotals {
    fn add(&mut self, r: &JobReport) {
        for (sum, side) in [
            (&mut self.xentral, &r.xentral),
            (&mut self.hubspot, &r.hubspot),
        ] {
            sum.created += side.created;
            sum.updated += side.updated;
            sum.unchanged += side.unchanged;
            sum.conflicts += side.conflicts;
            sum.failed += side.failed;
            for c in &side.excluded {
                *sum.excluded.entry(c.reason.clone()).or_default() += c.count;
            }
        }
        for c in &r.api_calls {
            *self.api_calls.entry(c.reason.clone()).or_default() += c.count;
        }
    }
}

/// What the demo did and found.
#[derive(Debug, Clone, Serialize)]
pub struct DemoReport {
    /// Counts before the first sync.
    pub before: Totals,
    /// Counts at the end.
    pub after: Totals,
    /// The jobs' results, added up.
    pub jobs: JobTotals,
    /// HubSpot requests the emulator counted (all of them, including retried ones).
    pub api_calls_total: u64,
    /// Requests HubSpot refused with 429.
    pub rate_limited: u64,
    /// The least time those calls need under HubSpot's rolling windows (100 per 10 s, search 5
    /// per second, bursts included: `hubspot_emulator::floor`), in seconds.
    pub rate_limit_floor_s: f64,
    /// Simulated time that passed, in minutes.
    pub simulated_minutes: i64,
    /// Links that ended (object, reason, count, whether the user must act), as sync health
    /// lists them.
    pub ended: Vec<Ended>,
    /// The final comparison.
    pub comparison: Comparison,
}

/// Links of one object kind that ended for one reason.
#[derive(Debug, Clone, Serialize)]
pub struct Ended {
    /// `contact`, `company`, `contact-person` or `deal`.
    pub object: String,
    /// Why they ended.
    pub reason: String,
    /// How many.
    pub count: u32,
    /// Whether they wait for the user (a merge to do by hand in xentral).
    pub needs_action: bool,
}

/// A step the demo reports to whoever shows progress.
#[derive(Debug, Clone)]
pub enum Step {
    /// A phase started (with its number of units of work).
    Phase(&'static str, u64),
    /// One unit of the current phase is done.
    Tick,
    /// A line worth showing.
    Note(String),
}

/// Errors that stop the demo.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// A step failed.
    #[error("{0}")]
    Step(String),
}

/// Turns any displayable error into a demo step error.
trait StepResult<T> {
    fn step(self) -> Result<T, DemoError>;
}

impl<T, E: std::fmt::Display> StepResult<T> for Result<T, E> {
    fn step(self) -> Result<T, DemoError> {
        self.map_err(|e| DemoError::Step(e.to_string()))
    }
}

/// The pairs of one object kind the plugin keeps in sync, by xentral id (its `links`
/// export: the demo reads no plugin table).
fn links(host: &XentralHost, object: &str) -> Result<Vec<(String, i64)>, DemoError> {
    host.links(TENANT, object).step()?.step()
}

/// A HubSpot deal stage as the contract names it: (pipeline id, stage id).
pub type DealStage = (String, String);

/// Each mapped xentral stage and the HubSpot stage it maps to (the `list-stages` export).
fn stage_map(host: &XentralHost) -> Result<Vec<(i64, DealStage)>, DemoError> {
    let listed = host.list_stages(TENANT).step()?.result.step()?;
    Ok(listed
        .xentral
        .into_iter()
        .filter_map(|s| Some((s.id, s.mapped_to?)))
        .collect())
}

fn totals(host: &XentralHost, hubspot: &Emulator) -> Result<Totals, DemoError> {
    let count = |sql: &str| -> Result<i64, DemoError> {
        let mut db = host
            .tenant(TENANT)
            .and_then(|t| Ok(t.open_admin_db(host.clock())?))
            .step()?;
        let r = db.query(sql, &[]).step()?;
        Ok(r.scalar().and_then(Value::as_i64).unwrap_or(0))
    };
    let live = |object| {
        hubspot
            .objects(object)
            .iter()
            .filter(|r| !r.archived)
            .count()
    };
    Ok(Totals {
        hubspot_contacts: live(ObjectType::Contacts),
        hubspot_deals: live(ObjectType::Deals),
        hubspot_companies: live(ObjectType::Companies),
        xentral_addresses: count(&format!(
            "SELECT COUNT(DISTINCT a.id) FROM adresse a JOIN adresse_rolle r ON r.adresse = a.id JOIN gruppen g ON g.id = r.parameter \
             WHERE g.name = 'Hubspot' AND r.objekt = 'Gruppe' AND r.bis = '0000-00-00' AND a.geloescht = 0 \
             AND a.id NOT IN (SELECT id FROM adresse WHERE {COMPANY})"
        ))?,
        xentral_companies: count(&format!(
            "SELECT COUNT(*) FROM adresse WHERE geloescht = 0 AND {COMPANY}"
        ))?,
        xentral_contact_persons: count("SELECT COUNT(*) FROM ansprechpartner WHERE geloescht = 0")?,
        xentral_resubmissions: count("SELECT COUNT(*) FROM wiedervorlage")?,
    })
}

/// Runs the demo in `data_dir` (a throw-away directory).
pub fn run(
    data_dir: &std::path::Path,
    config: &DemoConfig,
    progress: &mut dyn FnMut(Step),
) -> Result<DemoReport, DemoError> {
    let clock = Arc::new(VirtualClock::new(START_MS));
    let shared: SharedClock = clock.clone();
    let emulator_clock = Arc::clone(&clock);
    // Over HTTPS, as against the real HubSpot: the tenant trusts the emulator's CA.
    let hubspot = Emulator::start(EmulatorConfig {
        tokens: vec![TokenConfig::all_scopes(TOKEN)],
        clock: Some(Arc::new(move || emulator_clock.now_ms())),
        tls: true,
        ..EmulatorConfig::default()
    })
    .map_err(|e| DemoError::Step(format!("starting the HubSpot emulator: {e}")))?;

    progress(Step::Phase("seeding HubSpot", 1));
    hubspot.seed(SeedSpec {
        companies: config.companies,
        ..SeedSpec::new(2026, config.contacts, config.deals)
    });
    progress(Step::Tick);

    let host = XentralHost::new(data_dir, HostKey::ephemeral(), shared).step()?;
    host.create_tenant(TENANT).step()?;
    seed_xentral(&host, &hubspot, config, progress)?;
    let before = totals(&host, &hubspot)?;

    progress(Step::Phase("connecting", 1));
    let settings = Settings {
        hubspot_url: hubspot.base_url(),
        ..xentral_host::settings_defaults::built_in(xentral_host::bindings::CONTRACT_VERSION)
    };
    let configured = host
        .configure(
            TENANT,
            &Connection {
                hubspot_url: Some(&settings.hubspot_url),
                token: Some(TOKEN),
                extra_ca_pem: hubspot.ca_pem(),
            },
            &settings,
        )
        .step()?
        .result
        .map_err(|e| DemoError::Step(format!("connecting: {e}")))?;
    progress(Step::Note(configured.message.clone()));
    host.refresh(TENANT)
        .step()?
        .result
        .map_err(|e| DemoError::Step(format!("refresh: {e}")))?;
    progress(Step::Tick);
    add_resubmissions(&host, config)?;

    let mut jobs = JobTotals::default();
    progress(Step::Phase("scheduler cycles", config.cycles as u64));
    for cycle in 0..config.cycles {
        let pass = scheduler::run_due(&host, 2);
        for run in &pass.runs {
            if let Some(r) = &run.report {
                jobs.jobs += 1;
                jobs.add(r);
            } else if matches!(run.outcome, scheduler::RunOutcome::Failed(_)) {
                jobs.jobs += 1;
                jobs.failed_jobs += 1;
            }
        }
        match cycle {
            0 => edit_both_sides(&host, &hubspot, progress)?,
            1 => make_conflict(&host, &hubspot, progress)?,
            2 => {
                progress(Step::Note(
                    "fault burst: 30 % of HubSpot requests fail with 5xx or 429".into(),
                ));
                hubspot.set_faults(FaultPlan {
                    random: Some(RandomFaults {
                        probability: 0.3,
                        statuses: vec![429, 500, 502, 503, 504],
                        seed: 7,
                        filter: Default::default(),
                    }),
                    script: Vec::new(),
                });
            }
            3 => {
                hubspot.set_faults(FaultPlan::default());
                end_records(&host, &hubspot, progress)?;
            }
            _ => {}
        }
        clock.advance_ms(config.cycle_minutes * 60_000);
        progress(Step::Tick);
    }
    // Let the last changes settle: every starter once more, twice, after the search lag; then
    // once more after the archive sweep's interval, so it reads every link.
    for wait_minutes in [61, 61, SWEEP_EVERY_MS / 60_000] {
        clock.advance_ms(wait_minutes * 60_000);
        for run in scheduler::run_due(&host, 2).runs {
            if let Some(r) = &run.report {
                jobs.jobs += 1;
                jobs.add(r);
            }
        }
    }
    let stats = hubspot.stats();
    let tenant = host.tenant(TENANT).step()?;
    let mut db = tenant.open_admin_db(host.clock()).step()?;
    let zone: chrono_tz::Tz = tenant.config.time_zone.parse().map_err(|_| {
        DemoError::Step(format!(
            "the demo tenant's time zone '{}' is unknown",
            tenant.config.time_zone
        ))
    })?;
    let now = chrono::DateTime::from_timestamp_millis(host.clock().now_ms()).unwrap_or_default();
    let today = now.with_timezone(&zone).date_naive();
    let health = host.sync_health(TENANT).step()?.result.step()?;
    let ended: Vec<Ended> = health
        .objects
        .iter()
        .flat_map(|o| {
            o.ended.iter().map(|e| Ended {
                object: o.object.clone(),
                reason: e.reason.clone(),
                count: e.count,
                needs_action: e.needs_action,
            })
        })
        .collect();
    let linked = verify::Linked {
        ended: {
            let mut all = verify::Ended::default();
            for o in &health.objects {
                for r in o.ended.iter().flat_map(|e| &e.records) {
                    all.add(&o.object, &r.hubspot_id, r.xentral_id);
                }
            }
            all
        },
        contacts: links(&host, "contact")?.into_iter().collect(),
        persons: links(&host, "contact-person")?.into_iter().collect(),
        companies: links(&host, "company")?.into_iter().collect(),
        deals: links(&host, "deal")?.into_iter().collect(),
        stages: stage_map(&host)?.into_iter().collect(),
    };
    let comparison =
        verify::compare(db.as_mut(), &hubspot, &linked, "Hubspot", today, zone).step()?;
    Ok(DemoReport {
        before,
        after: totals(&host, &hubspot)?,
        api_calls_total: stats.total,
        rate_limited: stats.count_status(429),
        rate_limit_floor_s: hubspot_emulator::floor::floor(
            hubspot_emulator::floor::Calls::from_stats(&stats),
            u64::from(EmulatorConfig::default().rate_limit_per_10s),
            0,
        )
        .ms as f64
            / 1000.0,
        simulated_minutes: (clock.now_ms() - START_MS) / 60_000,
        jobs,
        ended,
        comparison,
    })
}

/// xentral before HubSpot is connected: addresses in the group (some sharing e-mails with
/// HubSpot contacts, in other letter case).
fn seed_xentral(
    host: &XentralHost,
    hubspot: &Emulator,
    config: &DemoConfig,
    progress: &mut dyn FnMut(Step),
) -> Result<(), DemoError> {
    progress(Step::Phase("seeding xentral", config.addresses as u64));
    let tenant = host.tenant(TENANT).step()?;
    let mut db = tenant.open_admin_db(host.clock()).step()?;
    let group = xentral_erp::ui::create_group(db.as_mut(), "Hubspot", "HUBSPOT").step()?;
    let shared: Vec<String> = hubspot
        .objects(ObjectType::Contacts)
        .iter()
        .filter_map(|r| r.properties.get("email").cloned().flatten())
        .take(config.shared_emails)
        .collect();
    let today = chrono::NaiveDate::from_ymd_opt(2026, 1, 15).unwrap_or_default();
    let cities = ["Berlin", "München", "Köln", "Leipzig", "Wien", "Zürich"];
    let countries = ["DE", "DE", "DE", "DE", "AT", "CH"];
    db.begin().step()?;
    for i in 0..config.addresses {
        let email = match shared.get(i) {
            Some(e) => e.to_uppercase(),
            None => format!("kunde{i}@xentral-demo.de"),
        };
        let change = xentral_erp::ui::add_address(
            db.as_mut(),
            &xentral_erp::ui::NewAddress {
                name: format!("Kundin {i}"),
                vorname: format!("Kundin{i}"),
                nachname: format!("Muster{i}"),
                email,
                telefon: format!("+49 30 {i:06}"),
                ort: cities[i % cities.len()].into(),
                land: countries[i % countries.len()].into(),
                lead: true,
                ..Default::default()
            },
        )
        .step()?;
        xentral_erp::ui::add_to_group(db.as_mut(), change.id, group, today).step()?;
        progress(Step::Tick);
    }
    seed_companies(db.as_mut(), hubspot, config, group, today)?;
    db.commit().step()?;
    Ok(())
}

/// Company addresses in the group, each with its contact persons. The first third use the
/// domain of a HubSpot company no other HubSpot company has (so they are linked to it, not
/// created a second time); the rest have their own.
fn seed_companies(
    db: &mut dyn xentral_erp::Database,
    hubspot: &Emulator,
    config: &DemoConfig,
    group: i64,
    today: chrono::NaiveDate,
) -> Result<(), DemoError> {
    let mut domains: BTreeMap<String, usize> = BTreeMap::new();
    for c in hubspot.objects(ObjectType::Companies) {
        let d = c
            .properties
            .get("domain")
            .cloned()
            .flatten()
            .unwrap_or_default();
        if !d.is_empty() {
            *domains.entry(d).or_default() += 1;
        }
    }
    let mut shared = domains
        .into_iter()
        .filter(|(_, n)| *n == 1)
        .map(|(d, _)| d)
        .take(config.company_addresses / 3);
    for i in 0..config.company_addresses {
        let website = match shared.next() {
            Some(domain) => format!("https://www.{domain}/"),
            None => format!("https://firma{i}.xentral-demo.de"),
        };
        let company = xentral_erp::ui::add_address(
            db,
            &xentral_erp::ui::NewAddress {
                typ: "firma".into(),
                name: format!("Firma {i} GmbH"),
                telefon: format!("+49 89 {i:06}"),
                ort: "München".into(),
                land: "DE".into(),
                internetseite: website,
                lead: true,
                ..Default::default()
            },
        )
        .step()?;
        xentral_erp::ui::add_to_group(db, company.id, group, today).step()?;
        for j in 0..PERSONS_PER_COMPANY {
            xentral_erp::ui::add_contact_person(
                db,
                &xentral_erp::ui::NewContactPerson {
                    adresse: company.id,
                    name: format!("Person{j} Firma{i}"),
                    vorname: format!("Person{j}"),
                    email: format!("person{j}@firma{i}.xentral-demo.de"),
                    telefon: format!("+49 89 {i:04}{j:02}"),
                    bereich: "Einkauf".into(),
                    ..Default::default()
                },
            )
            .step()?;
        }
    }
    Ok(())
}

/// Resubmissions in the views Refresh created (so they are exported as deals).
fn add_resubmissions(host: &XentralHost, config: &DemoConfig) -> Result<(), DemoError> {
    let ui = xentral_host::xentral_ui::XentralUi::new(host, TENANT).step()?;
    let mut stages: Vec<i64> = stage_map(host)?
        .into_iter()
        .filter(|(_, (pipeline, _))| pipeline == "default")
        .map(|(id, _)| id)
        .collect();
    stages.sort_unstable();
    if stages.is_empty() {
        return Err(DemoError::Step("Refresh created no stages".into()));
    }
    for i in 0..config.resubmissions {
        ui.add_resubmission(&xentral_erp::ui::NewResubmission {
            bezeichnung: format!("Angebot {i:03}"),
            betrag: Some(format!("{}.{:02}", 500 + i * 37, i % 100)),
            stages: stages[i % stages.len()],
            datum_erinnerung: (i % 3 != 0)
                .then(|| {
                    chrono::NaiveDate::from_ymd_opt(2026, 2 + (i % 10) as u32, 1 + (i % 27) as u32)
                })
                .flatten(),
            ..Default::default()
        })
        .step()?;
    }
    Ok(())
}

/// Edits between cycles: HubSpot users change cities, company phone numbers and amounts and
/// add contacts; xentral users change phone numbers (of addresses and contact persons), add
/// addresses and a contact person, rename a company and resubmissions.
fn edit_both_sides(
    host: &XentralHost,
    hubspot: &Emulator,
    progress: &mut dyn FnMut(Step),
) -> Result<(), DemoError> {
    progress(Step::Note("edits on both sides".into()));
    let contacts = hubspot.objects(ObjectType::Contacts);
    for c in contacts.iter().filter(|c| !c.archived).step_by(80).take(25) {
        let _ = hubspot.update_object(
            ObjectType::Contacts,
            &c.id,
            BTreeMap::from([("city".to_owned(), "Hamburg".to_owned())]),
        );
    }
    for i in 0..10 {
        let _ = hubspot.create_object(
            ObjectType::Contacts,
            BTreeMap::from([
                ("email".to_owned(), format!("neu{i}@hubspot-demo.com")),
                ("firstname".to_owned(), format!("Neu{i}")),
                ("lastname".to_owned(), "Kontakt".to_owned()),
            ]),
        );
    }
    for d in hubspot
        .objects(ObjectType::Deals)
        .iter()
        .step_by(30)
        .take(10)
    {
        let _ = hubspot.update_object(
            ObjectType::Deals,
            &d.id,
            BTreeMap::from([("amount".to_owned(), "4242.42".to_owned())]),
        );
    }
    for c in hubspot
        .objects(ObjectType::Companies)
        .iter()
        .step_by(15)
        .take(10)
    {
        let _ = hubspot.update_object(
            ObjectType::Companies,
            &c.id,
            BTreeMap::from([("phone".to_owned(), "+49 40 123456".to_owned())]),
        );
    }
    let ui = xentral_host::xentral_ui::XentralUi::new(host, TENANT).step()?;
    for (_, person) in links(host, "contact-person")?.into_iter().take(5) {
        ui.edit_contact_person(
            person,
            &BTreeMap::from([(
                "telefon".to_owned(),
                Value::Text(format!("+49 69 {person:06}")),
            )]),
        )
        .step()?;
    }
    if let Some((_, company)) = links(host, "company")?
        .into_iter()
        .min_by_key(|(_, id)| *id)
    {
        ui.edit_address(
            company,
            &BTreeMap::from([(
                "name".to_owned(),
                Value::Text(format!("Firma {company} GmbH & Co. KG")),
            )]),
        )
        .step()?;
        ui.add_contact_person(&xentral_erp::ui::NewContactPerson {
            adresse: company,
            name: "Neue Ansprechpartnerin".into(),
            vorname: "Neue".into(),
            email: format!("neu@firma{company}.xentral-demo.de"),
            ..Default::default()
        })
        .step()?;
    }
    let ids: Vec<i64> = links(host, "contact")?
        .into_iter()
        .take(20)
        .map(|(_, address)| address)
        .collect();
    for id in ids {
        ui.edit_address(
            id,
            &BTreeMap::from([("telefon".to_owned(), Value::Text(format!("+49 40 {id:06}")))]),
        )
        .step()?;
    }
    for i in 0..5 {
        ui.add_address_in_groups(
            &xentral_erp::ui::NewAddress {
                name: format!("Neukunde {i}"),
                vorname: format!("Neu{i}"),
                nachname: "Kunde".into(),
                email: format!("neukunde{i}@xentral-demo.de"),
                lead: true,
                ..Default::default()
            },
            &["Hubspot".to_owned()],
        )
        .step()?;
    }
    let wv: Vec<i64> = links(host, "deal")?
        .into_iter()
        .take(10)
        .map(|(_, resubmission)| resubmission)
        .collect();
    for id in wv {
        ui.edit_resubmission(
            id,
            &BTreeMap::from([(
                "bezeichnung".to_owned(),
                Value::Text(format!("Angebot {id} (überarbeitet)")),
            )]),
        )
        .step()?;
    }
    Ok(())
}

/// Records that end: two linked contacts archived in HubSpot (their addresses stay, the
/// default), two linked contacts merged there (one address keeps the link, the other waits
/// for a merge by hand), and a linked address deleted in xentral (HubSpot's contact stays).
fn end_records(
    host: &XentralHost,
    hubspot: &Emulator,
    progress: &mut dyn FnMut(Step),
) -> Result<(), DemoError> {
    let mut pairs = links(host, "contact")?;
    pairs.sort_unstable_by_key(|(_, address)| *address);
    let [a, b, c, d, e, ..] = pairs.as_slice() else {
        return Ok(());
    };
    progress(Step::Note(format!(
        "records that end: contacts {} and {} archived and {} merged with {} in HubSpot, address {} deleted in xentral",
        a.0, b.0, c.0, d.0, e.1
    )));
    for (id, _) in [a, b] {
        hubspot.archive_object(ObjectType::Contacts, id).step()?;
    }
    hubspot.merge(ObjectType::Contacts, &c.0, &d.0).step()?;
    xentral_host::xentral_ui::XentralUi::new(host, TENANT)
        .step()?
        .delete_address(e.1)
        .step()?;
    Ok(())
}

/// One contact edited on both sides before the next sync: xentral wins, a conflict is counted.
fn make_conflict(
    host: &XentralHost,
    hubspot: &Emulator,
    progress: &mut dyn FnMut(Step),
) -> Result<(), DemoError> {
    let ui = xentral_host::xentral_ui::XentralUi::new(host, TENANT).step()?;
    let Some((contact, address)) = links(host, "contact")?.pop() else {
        return Ok(());
    };
    progress(Step::Note(format!(
        "conflict: contact {contact} and address {address} both change their city"
    )));
    hubspot
        .update_object(
            ObjectType::Contacts,
            &contact,
            BTreeMap::from([("city".to_owned(), "Dresden".to_owned())]),
        )
        .step()?;
    ui.edit_address(
        address,
        &BTreeMap::from([("ort".to_owned(), Value::Text("Potsdam".into()))]),
    )
    .step()?;
    Ok(())
}
