//! The in-process API other crates use, and deterministic seeding.

mod common;

use std::collections::{BTreeMap, HashSet};

use common::{Harness, START_MS, agent};
use hubspot_emulator::{
    Emulator, EmulatorConfig, ManualClock, ObjectType, SeedSpec, SharedModified, WriteError,
};

fn props(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn create_object_in_process_is_visible_over_http() {
    let h = Harness::new();
    let id = h
        .emu
        .create_object(ObjectType::Contacts, props(&[("email", "ui@example.com")]))
        .unwrap();
    let reply = h.get(&format!("/crm/v3/objects/contacts/{id}"));
    assert_eq!(reply.body["properties"]["email"], "ui@example.com");
    assert_eq!(h.emu.stats().total, 1, "in-process calls are not counted");
}

#[test]
fn update_object_bumps_the_modified_time_on_the_shared_clock() {
    let h = Harness::new();
    let id = h
        .emu
        .create_object(ObjectType::Contacts, props(&[("firstname", "A")]))
        .unwrap();
    h.clock.advance(42_000);
    h.emu
        .update_object(ObjectType::Contacts, &id, props(&[("firstname", "B")]))
        .unwrap();
    let record = h.emu.get_object(ObjectType::Contacts, &id).unwrap();
    assert_eq!(record.updated_at_ms, START_MS + 42_000);
    assert_eq!(record.created_at_ms, START_MS);
    assert_eq!(record.properties["firstname"].as_deref(), Some("B"));
    assert_eq!(
        record.properties["hs_object_id"].as_deref(),
        Some(id.as_str())
    );
}

#[test]
fn archive_object_in_process_marks_the_record_archived() {
    let h = Harness::new();
    let id = h
        .emu
        .create_object(ObjectType::Contacts, props(&[("email", "x@example.com")]))
        .unwrap();
    h.emu.archive_object(ObjectType::Contacts, &id).unwrap();
    let all = h.emu.objects(ObjectType::Contacts);
    assert!(all[0].archived);
    assert_eq!(all[0].archived_at_ms, Some(START_MS));
    assert!(matches!(
        h.emu.archive_object(ObjectType::Contacts, &id),
        Err(WriteError::NotFound { .. })
    ));
}

#[test]
fn in_process_writes_follow_the_same_rules() {
    let h = Harness::new();
    let first = h
        .emu
        .create_object(ObjectType::Contacts, props(&[("email", "dup@example.com")]))
        .unwrap();
    match h
        .emu
        .create_object(ObjectType::Contacts, props(&[("email", "DUP@example.com")]))
    {
        Err(WriteError::Conflict { existing_id, .. }) => assert_eq!(existing_id, first),
        other => panic!("expected a conflict, got {other:?}"),
    }
    let invalid = h
        .emu
        .create_object(ObjectType::Deals, props(&[("dealname", "D")]));
    assert!(matches!(invalid, Err(WriteError::Invalid { .. })));
}

#[test]
fn touch_in_process_sets_one_timestamp_on_n_records() {
    let h = Harness::new();
    h.emu.seed(SeedSpec::new(2, 0, 30));
    assert_eq!(h.emu.touch(ObjectType::Deals, Some(10), 1_000), 10);
    assert_eq!(
        h.emu
            .objects(ObjectType::Deals)
            .iter()
            .filter(|d| d.updated_at_ms == 1_000)
            .count(),
        10
    );
    assert_eq!(h.emu.touch(ObjectType::Deals, None, 2_000), 30);
}

fn seeded(seed: u64) -> Vec<hubspot_emulator::Record> {
    let clock = ManualClock::new(START_MS);
    let emu = Emulator::start(EmulatorConfig {
        clock: Some(clock.now_fn()),
        ..EmulatorConfig::default()
    })
    .unwrap();
    emu.seed(SeedSpec::new(seed, 300, 100));
    let mut all = emu.objects(ObjectType::Contacts);
    all.extend(emu.objects(ObjectType::Deals));
    all
}

#[test]
fn seeding_is_deterministic_for_a_seed() {
    let first = seeded(11);
    assert_eq!(first, seeded(11));
    assert_ne!(first, seeded(12));
}

#[test]
fn seeded_contacts_are_varied_like_real_portals() {
    let h = Harness::new();
    let summary = h.emu.seed(SeedSpec::new(4, 2_000, 0));
    assert_eq!(summary.contacts, 2_000);
    let contacts = h.emu.objects(ObjectType::Contacts);
    let value = |r: &hubspot_emulator::Record, p: &str| r.properties.get(p).cloned().flatten();
    let emails: Vec<String> = contacts.iter().filter_map(|c| value(c, "email")).collect();
    assert!(
        emails.len() < contacts.len(),
        "some contacts lack an e-mail"
    );
    assert!(
        emails
            .iter()
            .any(|e| e.chars().any(|c| c.is_ascii_uppercase())),
        "mixed-case e-mails"
    );
    let lowered: HashSet<String> = emails.iter().map(|e| e.to_lowercase()).collect();
    assert_eq!(lowered.len(), emails.len(), "unique case-insensitively");
    assert!(
        contacts
            .iter()
            .any(|c| value(c, "firstname").is_none() && value(c, "lastname").is_none())
    );
    let names: String = contacts
        .iter()
        .filter_map(|c| value(c, "lastname"))
        .collect();
    for needle in ["Müller", "Øre", "李", "🦊"] {
        assert!(names.contains(needle), "{needle}");
    }
    let countries: HashSet<String> = contacts
        .iter()
        .filter_map(|c| value(c, "country"))
        .collect();
    for country in ["Germany", "Deutschland", "DE", "United States"] {
        assert!(countries.contains(country), "{country}");
    }
    let statuses: HashSet<String> = contacts
        .iter()
        .filter_map(|c| value(c, "hs_lead_status"))
        .collect();
    assert_eq!(statuses.len(), 8);
    let stages: HashSet<String> = contacts
        .iter()
        .filter_map(|c| value(c, "lifecyclestage"))
        .collect();
    assert!(stages.len() >= 6);
    assert!(
        contacts
            .iter()
            .any(|c| value(c, "hubspot_owner_id").is_some())
    );
}

#[test]
fn seeded_deals_span_pipelines_and_link_to_contacts() {
    let h = Harness::new();
    let summary = h.emu.seed(SeedSpec::new(4, 200, 300));
    assert!(summary.associations > 100);
    let deals = h.emu.objects(ObjectType::Deals);
    let pipelines: HashSet<String> = deals
        .iter()
        .filter_map(|d| d.properties["pipeline"].clone())
        .collect();
    assert!(pipelines.len() >= 3, "{pipelines:?}");
    assert!(deals.iter().any(|d| !d.associations.is_empty()));
    let pipelines = h.get("/crm/v3/pipelines/deals").body;
    let stages_of = |id: &str| -> Vec<String> {
        let pipeline = pipelines["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == id)
            .unwrap();
        pipeline["stages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_string())
            .collect()
    };
    let listed = h.get("/crm/v3/objects/deals?limit=100");
    for deal in listed.body["results"].as_array().unwrap() {
        let p = &deal["properties"];
        let stage = p["dealstage"].as_str().unwrap().to_string();
        assert!(
            stages_of(p["pipeline"].as_str().unwrap()).contains(&stage),
            "stage in its pipeline"
        );
    }
}

#[test]
fn seeding_can_give_many_records_one_modified_time() {
    let h = Harness::new();
    let mut spec = SeedSpec::new(6, 500, 0);
    spec.shared_modified = Some(SharedModified {
        object: ObjectType::Contacts,
        count: 400,
        at_ms: Some(START_MS - 5_000),
    });
    h.emu.seed(spec);
    let same = h
        .emu
        .objects(ObjectType::Contacts)
        .iter()
        .filter(|c| c.updated_at_ms == START_MS - 5_000)
        .count();
    assert_eq!(same, 400);
}

#[test]
fn seed_at_start_up_comes_from_the_config() {
    let h = Harness::with(|c| c.seed = Some(SeedSpec::new(1, 15, 5)));
    assert_eq!(h.emu.objects(ObjectType::Contacts).len(), 15);
    assert_eq!(h.emu.objects(ObjectType::Deals).len(), 5);
}

#[test]
fn emulator_is_usable_from_inside_an_async_runtime() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let url = runtime.block_on(async {
        let emu = Emulator::start(EmulatorConfig::default()).unwrap();
        emu.seed(SeedSpec::new(1, 3, 0));
        let url = emu.base_url();
        assert_eq!(emu.objects(ObjectType::Contacts).len(), 3);
        emu.shutdown();
        url
    });
    assert!(url.starts_with("http://127.0.0.1:"));
}

#[test]
fn shutdown_stops_serving() {
    let emu = Emulator::start(EmulatorConfig::default()).unwrap();
    let url = format!("{}/crm/v3/owners", emu.base_url());
    let ok = agent()
        .get(&url)
        .header("Authorization", "Bearer test-token")
        .call()
        .unwrap();
    assert_eq!(ok.status(), 200);
    emu.shutdown();
    assert!(agent().get(&url).call().is_err());
}

#[test]
fn in_process_pipelines_owners_and_associations() {
    let h = Harness::new();
    assert_eq!(h.emu.pipelines()[0].id, "default");
    assert_eq!(h.emu.owners().len(), 5);
    let contact = h
        .emu
        .create_object(ObjectType::Contacts, props(&[("email", "a@example.com")]))
        .unwrap();
    let deal = h
        .emu
        .create_object(
            ObjectType::Deals,
            props(&[
                ("dealname", "D"),
                ("pipeline", "default"),
                ("dealstage", "closedwon"),
            ]),
        )
        .unwrap();
    assert!(h.emu.associate(ObjectType::Deals, &deal, &contact));
    assert_eq!(h.emu.associations(ObjectType::Contacts, &contact), [deal]);
}

fn with_companies(companies: usize) -> SeedSpec {
    SeedSpec {
        companies,
        ..SeedSpec::new(7, 400, 150)
    }
}

#[test]
fn seeded_companies_have_unicode_names_and_shared_and_missing_domains() {
    let h = Harness::new();
    let summary = h.emu.seed(with_companies(60));
    assert_eq!(summary.companies, 60);
    let companies = h.emu.objects(ObjectType::Companies);
    assert_eq!(companies.len(), 60);
    let (first, last) = summary.company_ids.unwrap();
    assert_eq!(companies[0].id, first);
    assert_eq!(companies[59].id, last);
    assert!(companies.iter().any(|c| {
        c.properties["name"]
            .as_deref()
            .is_some_and(|n| !n.is_ascii())
    }));
    let domains: Vec<&str> = companies
        .iter()
        .filter_map(|c| c.properties.get("domain").and_then(|d| d.as_deref()))
        .collect();
    assert!(domains.len() < 60, "some companies have no domain");
    let distinct: HashSet<&&str> = domains.iter().collect();
    assert!(distinct.len() < domains.len(), "some domains are shared");
}

#[test]
fn seeded_contacts_and_deals_have_primary_companies() {
    let h = Harness::new();
    let summary = h.emu.seed(with_companies(20));
    assert!(summary.company_associations > 0);
    let contacts = h.emu.objects(ObjectType::Contacts);
    let linked: Vec<_> = contacts
        .iter()
        .filter(|c| c.links.iter().any(|l| l.object == ObjectType::Companies))
        .collect();
    assert!(linked.len() > 200 && linked.len() < 400, "{}", linked.len());
    for contact in &linked {
        let primary: Vec<_> = contact
            .links
            .iter()
            .filter(|l| l.object == ObjectType::Companies && l.primary)
            .collect();
        assert_eq!(primary.len(), 1, "{contact:?}");
        assert_eq!(
            contact.properties["associatedcompanyid"].as_deref(),
            Some(primary[0].id.as_str())
        );
    }
    assert!(contacts.iter().any(|c| {
        c.links
            .iter()
            .filter(|l| l.object == ObjectType::Companies)
            .count()
            == 2
    }));
    let deals = h.emu.objects(ObjectType::Deals);
    assert!(deals.iter().any(|d| {
        d.links
            .iter()
            .any(|l| l.object == ObjectType::Companies && l.primary)
    }));
}

#[test]
fn seeding_companies_leaves_contacts_and_deals_as_seeded_without_them() {
    let without = Harness::new();
    without.emu.seed(with_companies(0));
    let with = Harness::new();
    with.emu.seed(with_companies(30));
    let strip = |records: Vec<hubspot_emulator::Record>| {
        records
            .into_iter()
            .map(|mut r| {
                r.properties.remove("associatedcompanyid");
                r.links.retain(|l| l.object != ObjectType::Companies);
                r
            })
            .collect::<Vec<_>>()
    };
    for object in [ObjectType::Contacts, ObjectType::Deals] {
        assert_eq!(
            strip(without.emu.objects(object)),
            strip(with.emu.objects(object))
        );
    }
}

#[test]
fn associate_with_checks_the_type_id_and_the_records() {
    let h = Harness::new();
    let contact = h
        .emu
        .create_object(ObjectType::Contacts, props(&[("email", "a@example.com")]))
        .unwrap();
    let company = h
        .emu
        .create_object(ObjectType::Companies, props(&[("name", "Acme")]))
        .unwrap();
    assert!(matches!(
        h.emu.associate_with(
            ObjectType::Contacts,
            &contact,
            ObjectType::Companies,
            &company,
            3
        ),
        Err(WriteError::Invalid { .. })
    ));
    assert!(matches!(
        h.emu.associate_with(
            ObjectType::Contacts,
            &contact,
            ObjectType::Companies,
            "99",
            279
        ),
        Err(WriteError::NotFound { .. })
    ));
    assert!(h.emu.associate(ObjectType::Companies, &company, &contact));
    assert_eq!(
        h.emu
            .associations_to(ObjectType::Contacts, &contact, ObjectType::Companies),
        std::slice::from_ref(&company)
    );
    assert_eq!(
        h.emu.associations(ObjectType::Companies, &company),
        [contact]
    );
}
