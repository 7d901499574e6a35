//! Deals ⇄ resubmissions, end to end: every pipeline, stage mapping automatic or
//! user-defined, amounts exact, dates right, no duplicates ever.

mod common;

use std::collections::BTreeMap;

use common::{TENANT, World, assert_no_writes, both_backends};
use hubspot_emulator::{
    FaultKind, FaultPlan, ObjectType, Pipeline, ScriptedFault, SeedSpec, Stage,
};
use xentral_erp::Value;
use xentral_host::report::{Entity, Job, StageMode};

fn props(p: &[(&str, &str)]) -> BTreeMap<String, String> {
    p.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn deal(w: &World, p: &[(&str, &str)]) -> String {
    w.hubspot
        .create_object(ObjectType::Deals, props(p))
        .expect("deal created")
}

fn deal_prop(w: &World, id: &str, prop: &str) -> String {
    w.hubspot
        .get_object(ObjectType::Deals, id)
        .expect("deal exists")
        .properties
        .get(prop)
        .cloned()
        .flatten()
        .unwrap_or_default()
}

fn linked_resubmission(w: &World, deal: &str) -> Option<i64> {
    w.db()
        .query(
            "SELECT wiedervorlage_id FROM hubspot_sync_deal_links WHERE hs_deal_id = ?",
            &[Value::Text(deal.into())],
        )
        .unwrap()
        .rows
        .first()
        .and_then(|r| r[0].as_i64())
}

fn linked_deal(w: &World, wv: i64) -> Option<String> {
    w.db()
        .query(
            "SELECT hs_deal_id FROM hubspot_sync_deal_links WHERE wiedervorlage_id = ?",
            &[Value::Integer(wv)],
        )
        .unwrap()
        .rows
        .first()
        .and_then(|r| r[0].to_text())
}

fn column(w: &World, wv: i64, col: &str) -> String {
    let row = xentral_erp::ui::get_resubmission(w.db().as_mut(), wv)
        .unwrap()
        .expect("resubmission exists");
    row.get(col).and_then(Value::to_text).unwrap_or_default()
}

/// The xentral stage mapped to a HubSpot stage.
fn xentral_stage(w: &World, pipeline: &str, stage: &str) -> i64 {
    w.count(&format!(
        "SELECT wiedervorlage_stage_id FROM hubspot_sync_stage_map WHERE pipeline_id = '{pipeline}' AND stage_id = '{stage}'"
    ))
}

/// A stage a xentral user adds to `view`.
fn user_stage(w: &World, view: i64, name: &str) -> i64 {
    xentral_erp::ui::create_stage(
        w.db().as_mut(),
        &xentral_erp::ui::NewStage {
            kurzbezeichnung: name.into(),
            name: name.into(),
            view,
            ..Default::default()
        },
    )
    .unwrap()
}

/// A xentral user adds a resubmission (and the save hook fires).
fn resubmission(
    w: &World,
    name: &str,
    amount: Option<&str>,
    stage: i64,
    date: Option<&str>,
    address: i64,
) -> i64 {
    let change = xentral_erp::ui::add_resubmission(
        w.db().as_mut(),
        &xentral_erp::ui::NewResubmission {
            bezeichnung: name.into(),
            betrag: amount.map(str::to_owned),
            stages: stage,
            adresse: address,
            datum_erinnerung: date
                .map(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap()),
            ..Default::default()
        },
        chrono::NaiveDate::from_ymd_opt(2026, 1, 15)
            .unwrap()
            .and_hms_opt(11, 0, 0)
            .unwrap(),
    )
    .unwrap();
    w.record_changed(Entity::Resubmission, change.id);
    change.id
}

fn edit_resubmission(w: &World, id: i64, changes: &[(&str, Value)]) {
    let changes: BTreeMap<String, Value> = changes
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    xentral_erp::ui::edit_resubmission(w.db().as_mut(), id, &changes).unwrap();
    w.record_changed(Entity::Resubmission, id);
}

both_backends! {
    fn connect_mirrors_every_pipeline_as_a_view_with_its_stages(backend) {
        let w = World::on(backend);
        w.connect();
        let pipelines = w.hubspot.pipelines();
        assert!(pipelines.len() >= 2);
        assert_eq!(
            w.count("SELECT COUNT(*) FROM wiedervorlage_view"),
            pipelines.len() as i64
        );
        let stages: usize = pipelines.iter().map(|p| p.stages.len()).sum();
        assert_eq!(
            w.count("SELECT COUNT(*) FROM wiedervorlage_stages"),
            stages as i64
        );
        let chance = w.count(&format!(
            "SELECT chance FROM wiedervorlage_stages WHERE id = {}",
            xentral_stage(&w, "default", "appointmentscheduled")
        ));
        assert_eq!(chance, 20);
        let contract = xentral_stage(&w, "default", "contractsent");
        assert_eq!(
            w.count(&format!("SELECT COUNT(*) FROM wiedervorlage_stages WHERE id = {contract} AND kurzbezeichnung = 'Contract Sent'")),
            1
        );
        assert_eq!(
            w.count("SELECT COUNT(*) FROM hubspot_sync_stage_map WHERE pipeline_id = 'default' AND stage_id = 'default'"),
            0,
            "never the literal default"
        );
    }
}

both_backends! {
    fn refresh_adds_new_stages_follows_renames_hides_archived_and_never_duplicates(backend) {
        let w = World::on(backend);
        w.connect();
        let before = w.count("SELECT COUNT(*) FROM wiedervorlage_stages");
        let mut p = w
            .hubspot
            .pipelines()
            .into_iter()
            .find(|p| p.id == "default")
            .unwrap();
        p.stages
            .iter_mut()
            .find(|s| s.id == "qualifiedtobuy")
            .unwrap()
            .label = "Qualified (renamed)".into();
        p.stages
            .push(Stage::new("negotiation", "Negotiation", 9, 0.7, false));
        w.hubspot.upsert_pipeline(p);
        w.hubspot.upsert_pipeline(Pipeline {
            id: "99001".into(),
            label: "Events".into(),
            display_order: 5,
            archived: false,
            stages: vec![Stage::new("99002", "Booked", 0, 0.5, false)],
        });
        w.hubspot.archive_stage("default", "closedlost");
        for _ in 0..2 {
            w.host.refresh(TENANT).unwrap().result.unwrap();
        }
        assert_eq!(
            w.count("SELECT COUNT(*) FROM wiedervorlage_stages"),
            before + 2
        );
        let renamed = xentral_stage(&w, "default", "qualifiedtobuy");
        assert_eq!(
            w.count(&format!("SELECT COUNT(*) FROM wiedervorlage_stages WHERE id = {renamed} AND name = 'Qualified (renamed)'")),
            1
        );
        let lost = xentral_stage(&w, "default", "closedlost");
        assert_eq!(
            w.count(&format!(
                "SELECT stageausblenden FROM wiedervorlage_stages WHERE id = {lost}"
            )),
            1
        );
        assert_eq!(
            w.count("SELECT COUNT(*) FROM wiedervorlage_view WHERE name = 'Events'"),
            1
        );
    }
}

both_backends! {
    fn new_deal_becomes_a_resubmission_in_its_stage_with_exact_amount_and_local_date(backend) {
        let w = World::on(backend);
        w.connect();
        let contact = w.hubspot_contact(&[("email", "buyer@example.com"), ("firstname", "Bea")]);
        w.run(Job::SyncContacts);
        let id = deal(
            &w,
            &[
                ("dealname", "Großauftrag 2026"),
                ("amount", "1234.56"),
                ("closedate", "2026-03-31"),
                ("pipeline", "7834561"),
                (
                    "dealstage",
                    w.hubspot
                        .pipelines()
                        .iter()
                        .find(|p| p.id == "7834561")
                        .unwrap()
                        .stages[1]
                        .id
                        .as_str(),
                ),
            ],
        );
        w.hubspot.associate(ObjectType::Deals, &id, &contact);
        let r = w.run(Job::SyncDeals);
        assert_eq!(r.xentral.created, 1, "{r:#?}");
        let wv = linked_resubmission(&w, &id).expect("linked");
        assert_eq!(column(&w, wv, "bezeichnung"), "Großauftrag 2026");
        assert_eq!(column(&w, wv, "betrag"), "1234.56");
        assert_eq!(column(&w, wv, "datum_erinnerung"), "2026-03-31");
        let stage = column(&w, wv, "stages").parse::<i64>().unwrap();
        let stage_id = w
            .hubspot
            .pipelines()
            .iter()
            .find(|p| p.id == "7834561")
            .unwrap()
            .stages[1]
            .id
            .clone();
        assert_eq!(
            stage,
            xentral_stage(&w, "7834561", &stage_id),
            "second pipeline's board"
        );
        let address = w.linked_address(&contact).unwrap();
        assert_eq!(column(&w, wv, "adresse"), address.to_string());
    }
}

both_backends! {
    fn deal_amount_changes_reach_xentral(backend) {
        let w = World::on(backend);
        w.connect();
        let id = deal(
            &w,
            &[
                ("dealname", "A"),
                ("amount", "10"),
                ("pipeline", "default"),
                ("dealstage", "qualifiedtobuy"),
            ],
        );
        w.run(Job::SyncDeals);
        w.hubspot
            .update_object(ObjectType::Deals, &id, props(&[("amount", "99999.99")]))
            .unwrap();
        w.run(Job::SyncDeals);
        assert_eq!(
            column(&w, linked_resubmission(&w, &id).unwrap(), "betrag"),
            "99999.99"
        );
    }
}

both_backends! {
    fn contact_synced_after_the_deal_is_linked_later_never_guessed(backend) {
        let w = World::on(backend);
        w.connect();
        let contact = w.hubspot_contact(&[("email", "late@example.com")]);
        let id = deal(
            &w,
            &[
                ("dealname", "Late"),
                ("pipeline", "default"),
                ("dealstage", "qualifiedtobuy"),
            ],
        );
        w.hubspot.associate(ObjectType::Deals, &id, &contact);
        w.run(Job::SyncDeals);
        let wv = linked_resubmission(&w, &id).unwrap();
        assert_eq!(column(&w, wv, "adresse"), "0");
        w.run(Job::SyncContacts);
        w.run(Job::SyncDeals);
        assert_eq!(
            column(&w, wv, "adresse"),
            w.linked_address(&contact).unwrap().to_string()
        );
    }
}

both_backends! {
    fn resubmission_in_a_view_becomes_a_deal_with_midnight_close_date_and_contact(backend) {
        let w = World::on(backend);
        w.connect();
        let address = w.add_address("Ida", "Ice", "ida@example.com");
        w.run(Job::ProcessQueue);
        let contact = w.linked_contact(address).unwrap();
        let stage = xentral_stage(
            &w,
            "75e28846",
            &w.hubspot
                .pipelines()
                .iter()
                .find(|p| p.id == "75e28846")
                .unwrap()
                .stages[0]
                .id,
        );
        let wv = resubmission(
            &w,
            "Renewal Ida",
            Some("250.00"),
            stage,
            Some("2026-06-30"),
            address,
        );
        let r = w.run(Job::ProcessQueue);
        assert_eq!(r.hubspot.created, 1, "{r:#?}");
        let id = linked_deal(&w, wv).unwrap();
        assert_eq!(deal_prop(&w, &id, "dealname"), "Renewal Ida");
        assert_eq!(deal_prop(&w, &id, "amount"), "250.00");
        assert_eq!(deal_prop(&w, &id, "pipeline"), "75e28846");
        assert!(
            deal_prop(&w, &id, "closedate").starts_with("2026-06-30"),
            "{}",
            deal_prop(&w, &id, "closedate")
        );
        assert_eq!(deal_prop(&w, &id, "xentral_id"), wv.to_string());
        assert_eq!(
            w.hubspot.associations(ObjectType::Deals, &id),
            vec![contact]
        );
    }
}

both_backends! {
    fn empty_reminder_date_is_exported_as_no_close_date_never_1970(backend) {
        let w = World::on(backend);
        w.connect();
        let stage = xentral_stage(&w, "default", "qualifiedtobuy");
        let wv = resubmission(&w, "No date", None, stage, None, 0);
        w.run(Job::ProcessQueue);
        let id = linked_deal(&w, wv).unwrap();
        assert_eq!(deal_prop(&w, &id, "closedate"), "");
        assert_eq!(deal_prop(&w, &id, "amount"), "");
    }
}

both_backends! {
    fn a_dropped_reply_to_a_deal_upsert_never_makes_a_second_deal(backend) {
        let w = World::on(backend);
        w.connect();
        let stage = xentral_stage(&w, "default", "qualifiedtobuy");
        for i in 0..120 {
            resubmission(&w, &format!("WV {i}"), Some("1.00"), stage, None, 0);
        }
        w.hubspot.set_faults(FaultPlan::scripted(vec![
            ScriptedFault::new(FaultKind::DropAfterApply).path("deals/batch/upsert"),
        ]));
        w.run(Job::ProcessQueue);
        w.run(Job::SyncDeals);
        let deals = w.hubspot.objects(ObjectType::Deals);
        assert_eq!(deals.len(), 120);
        assert_eq!(w.count("SELECT COUNT(*) FROM hubspot_sync_deal_links"), 120);
        assert_eq!(
            w.count("SELECT COUNT(*) FROM wiedervorlage"),
            120,
            "nothing imported back as a copy"
        );
    }
}

both_backends! {
    fn merge_touches_only_name_amount_stage_and_date(backend) {
        let w = World::on(backend);
        w.connect();
        let stage = xentral_stage(&w, "default", "qualifiedtobuy");
        let wv = resubmission(&w, "Original", Some("100.00"), stage, Some("2026-02-01"), 0);
        edit_resubmission(
            &w,
            wv,
            &[("beschreibung", Value::Text("Notes only xentral has".into()))],
        );
        w.run(Job::ProcessQueue);
        let id = linked_deal(&w, wv).unwrap();
        w.hubspot
            .update_object(
                ObjectType::Deals,
                &id,
                props(&[("amount", "150.5"), ("dealstage", "contractsent")]),
            )
            .unwrap();
        edit_resubmission(
            &w,
            wv,
            &[("bezeichnung", Value::Text("Renamed in xentral".into()))],
        );
        w.run(Job::SyncDeals);
        assert_eq!(column(&w, wv, "betrag"), "150.50");
        assert_eq!(
            column(&w, wv, "stages"),
            xentral_stage(&w, "default", "contractsent").to_string()
        );
        assert_eq!(column(&w, wv, "beschreibung"), "Notes only xentral has");
        assert_eq!(deal_prop(&w, &id, "dealname"), "Renamed in xentral");
        let again = w.run(Job::SyncDeals);
        assert_no_writes(&again);
    }
}

both_backends! {
    fn resubmission_moved_out_of_the_views_stops_syncing_and_nothing_is_deleted(backend) {
        let w = World::on(backend);
        w.connect();
        let stage = xentral_stage(&w, "default", "qualifiedtobuy");
        let wv = resubmission(&w, "Leaving", Some("5.00"), stage, None, 0);
        w.run(Job::ProcessQueue);
        let id = linked_deal(&w, wv).unwrap();
        let view = xentral_erp::ui::create_view(w.db().as_mut(), "Internal", "INT", true).unwrap();
        let other = user_stage(&w, view, "Todo");
        edit_resubmission(
            &w,
            wv,
            &[
                ("stages", Value::Integer(other)),
                ("betrag", Value::Text("7.00".into())),
            ],
        );
        let r = w.run(Job::ProcessQueue);
        assert_eq!(
            r.hubspot.excluded_for("not in a view synchronised with HubSpot"), 1,
            "{r:#?}"
        );
        assert_eq!(deal_prop(&w, &id, "amount"), "5.00");
        assert!(
            w.hubspot
                .get_object(ObjectType::Deals, &id)
                .is_some_and(|d| !d.archived)
        );
    }
}

both_backends! {
    fn unmapped_stage_excludes_the_deal_with_a_reason_in_user_defined_mode(backend) {
        let w = World::on(backend);
        let mut s = w.settings();
        s.stage_mode = StageMode::UserDefined;
        w.connect_with(&s);
        w.host.refresh(TENANT).unwrap().result.unwrap();
        assert_eq!(
            w.count("SELECT COUNT(*) FROM wiedervorlage_stages"),
            0,
            "user-defined creates no stages"
        );
        let view = xentral_erp::ui::create_view(w.db().as_mut(), "Vertrieb", "VT", true).unwrap();
        let mine = user_stage(&w, view, "Angebot");
        let listed = w.host.list_stages(TENANT).unwrap().result.unwrap();
        assert_eq!(listed.xentral.len(), 1);
        assert!(listed.xentral[0].mapped_to.is_none());
        assert!(listed.hubspot.iter().all(|h| h.mapped_to.is_none()));
        w.host
            .map_stage(TENANT, mine, "default", "contractsent")
            .unwrap()
            .result
            .unwrap();
        // Both sides of the listing agree on the mapping, by ids.
        let listed = w.host.list_stages(TENANT).unwrap().result.unwrap();
        assert_eq!(
            listed.xentral[0].mapped_to,
            Some(("default".to_owned(), "contractsent".to_owned()))
        );
        let hubspot_side: Vec<_> = listed
            .hubspot
            .iter()
            .filter(|h| h.mapped_to.is_some())
            .map(|h| (h.pipeline_id.as_str(), h.stage_id.as_str(), h.mapped_to))
            .collect();
        assert_eq!(hubspot_side, [("default", "contractsent", Some(mine))]);
        let mapped = deal(
            &w,
            &[
                ("dealname", "Mapped"),
                ("pipeline", "default"),
                ("dealstage", "contractsent"),
            ],
        );
        deal(
            &w,
            &[
                ("dealname", "Unmapped"),
                ("pipeline", "default"),
                ("dealstage", "closedwon"),
            ],
        );
        let r = w.run(Job::SyncDeals);
        assert_eq!(r.xentral.created, 1, "{r:#?}");
        assert_eq!(
            r.xentral.excluded_for("deal stage not mapped to a xentral stage"),
            1
        );
        assert_eq!(
            column(&w, linked_resubmission(&w, &mapped).unwrap(), "stages"),
            mine.to_string()
        );
        let err = w
            .host
            .map_stage(TENANT, mine, "default", "nonexistent")
            .unwrap()
            .result
            .unwrap_err();
        assert!(err.to_string().contains("no stage 'nonexistent'"), "{err}");
    }
}

both_backends! {
    fn without_the_schema_scope_deals_are_imported_but_never_exported(backend) {
        let w = World::on_with(backend, |c| {
            c.tokens = vec![hubspot_emulator::TokenConfig::with_scopes(
                common::TOKEN,
                &[
                    "crm.objects.contacts.read",
                    "crm.objects.contacts.write",
                    "crm.objects.deals.read",
                    "crm.objects.deals.write",
                    "crm.objects.owners.read",
                ],
            )];
        });
        let report = w.connect();
        assert!(
            report
                .warnings
                .iter()
                .any(|m| m.contains("crm.schemas.deals.write")),
            "{:?}",
            report.warnings
        );
        deal(
            &w,
            &[
                ("dealname", "In"),
                ("pipeline", "default"),
                ("dealstage", "qualifiedtobuy"),
            ],
        );
        let stage = xentral_stage(&w, "default", "qualifiedtobuy");
        resubmission(&w, "Out", None, stage, None, 0);
        let r = w.run(Job::SyncDeals);
        assert_eq!(r.xentral.created, 1);
        assert_eq!(
            r.hubspot.excluded_for("deal export needs the crm.schemas.deals.write scope"), 1,
            "{r:#?}"
        );
        assert_eq!(w.hubspot.objects(ObjectType::Deals).len(), 1);
    }
}

both_backends! {
    fn deals_sharing_one_modified_timestamp_all_arrive_once(backend) {
        let w = World::on(backend);
        w.hubspot.seed(SeedSpec {
            shared_modified: Some(hubspot_emulator::SharedModified {
                object: ObjectType::Deals,
                count: 12_000,
                at_ms: Some(common::START_MS - 3_600_000),
            }),
            associations: false,
            ..SeedSpec::new(4, 0, 12_000)
        });
        w.connect();
        let r = w.run(Job::SyncDeals);
        assert!(!r.pending, "{r:#?}");
        assert_eq!(
            w.count("SELECT COUNT(DISTINCT hs_deal_id) FROM hubspot_sync_deal_links"),
            12_000
        );
        assert_eq!(w.count("SELECT COUNT(*) FROM wiedervorlage"), 12_000);
    }
}

both_backends! {
    fn deal_sync_trapped_mid_page_then_rerun_loses_and_duplicates_nothing(backend) {
        let probe = World::on(backend);
        probe.hubspot.seed(SeedSpec {
            associations: false,
            ..SeedSpec::new(21, 0, 800)
        });
        probe.connect();
        let full = probe.run_raw(Job::SyncDeals, Default::default());
        assert!(full.result.is_ok());
        let w = World::on(backend);
        w.hubspot.seed(SeedSpec {
            associations: false,
            ..SeedSpec::new(21, 0, 800)
        });
        w.connect();
        let mut t = w.host.tenant(TENANT).unwrap();
        t.config.limits.fuel = full.fuel_used / 2;
        t.save().unwrap();
        let trapped = w.run_raw(Job::SyncDeals, Default::default());
        assert!(trapped.result.is_err());
        let partial = w.count("SELECT COUNT(*) FROM wiedervorlage");
        assert_eq!(w.count("SELECT COUNT(*) FROM hubspot_sync_deal_links"), partial);
        t.config.limits = Default::default();
        t.save().unwrap();
        w.run(Job::SyncDeals);
        let live = w.hubspot.objects(ObjectType::Deals).len() as i64;
        assert_eq!(w.count("SELECT COUNT(*) FROM hubspot_sync_deal_links"), live);
        assert_eq!(w.count("SELECT COUNT(*) FROM wiedervorlage"), live);
    }
}

both_backends! {
    fn deal_sync_survives_5xx_429_and_malformed_replies(backend) {
        let w = World::on(backend);
        w.hubspot.seed(SeedSpec {
            associations: false,
            ..SeedSpec::new(22, 0, 500)
        });
        w.connect();
        let stage = xentral_stage(&w, "default", "qualifiedtobuy");
        for i in 0..150 {
            resubmission(
                &w,
                &format!("Out {i}"),
                Some("3.00"),
                stage,
                Some("2026-05-01"),
                0,
            );
        }
        w.hubspot.set_faults(FaultPlan {
            random: Some(hubspot_emulator::RandomFaults {
                probability: 0.3,
                statuses: vec![429, 500, 502, 503, 504],
                seed: 5,
                filter: Default::default(),
            }),
            script: vec![
                ScriptedFault::new(FaultKind::MalformedJson).path("deals/search"),
                ScriptedFault::new(FaultKind::MalformedJson).path("deals/batch/upsert"),
            ],
        });
        for _ in 0..8 {
            let r = w.run(Job::SyncDeals);
            w.run(Job::ProcessQueue);
            if !r.pending && r.hubspot.failed == 0 && r.xentral.failed == 0 {
                break;
            }
            w.clock.advance_ms(15 * 60_000);
        }
        w.hubspot.set_faults(FaultPlan::default());
        w.clock.advance_ms(60 * 60_000);
        w.run(Job::SyncDeals);
        w.run(Job::SyncDeals);
        let live = w.hubspot.objects(ObjectType::Deals).len() as i64;
        assert_eq!(live, 650, "no duplicate deals");
        assert_eq!(w.count("SELECT COUNT(*) FROM hubspot_sync_deal_links"), 650);
        assert_eq!(
            w.count("SELECT COUNT(*) FROM wiedervorlage"),
            650,
            "no duplicate resubmissions"
        );
        assert_eq!(w.count("SELECT COUNT(*) FROM hubspot_sync_failures"), 0);
    }
}

both_backends! {
    fn a_resubmission_on_an_unmapped_stage_of_a_synced_view_says_so(backend) {
        let w = World::on(backend);
        let mut s = w.settings();
        s.stage_mode = StageMode::UserDefined;
        w.connect_with(&s);
        let view = xentral_erp::ui::create_view(w.db().as_mut(), "Vertrieb", "VT", true).unwrap();
        let (mapped, unmapped) = (user_stage(&w, view, "Angebot"), user_stage(&w, view, "Intern"));
        w.host.map_stage(TENANT, mapped, "default", "contractsent").unwrap().result.unwrap();
        resubmission(&w, "On the unmapped stage", Some("1.00"), unmapped, None, 0);
        let r = w.run(Job::ProcessQueue);
        assert_eq!(r.hubspot.excluded_for("stage not mapped to a HubSpot stage"), 1, "{r:#?}");
        assert!(r.hubspot.excluded_for("not in a view synchronised with HubSpot") == 0, "{r:#?}");
        assert!(w.hubspot.objects(ObjectType::Deals).is_empty());
    }
}

/// Amounts another module wrote as text in German notation (SQLite keeps such text in the
/// decimal column; MariaDB's `decimal(10,2)` cannot hold it, so the case is SQLite's).
#[test]
fn amounts_written_in_german_notation_are_read_and_unreadable_ones_reported() {
    let w = World::new();
    w.connect();
    let stage = xentral_stage(&w, "default", "qualifiedtobuy");
    let german = resubmission(&w, "Deutsch", None, stage, None, 0);
    let short = resubmission(&w, "Kurz", None, stage, None, 0);
    let bad = resubmission(&w, "Kaputt", None, stage, None, 0);
    for (id, amount) in [(german, "1.234,56"), (short, "2,5"), (bad, "zwölf")] {
        w.db()
            .execute(
                "UPDATE wiedervorlage SET betrag = ? WHERE id = ?",
                &[Value::Text(amount.into()), Value::Integer(id)],
            )
            .unwrap();
    }
    let r = w.run(Job::ProcessQueue);
    assert_eq!(r.hubspot.created, 3, "{r:#?}");
    assert_eq!(
        deal_prop(&w, &linked_deal(&w, german).unwrap(), "amount"),
        "1234.56"
    );
    assert_eq!(
        deal_prop(&w, &linked_deal(&w, short).unwrap(), "amount"),
        "2.50"
    );
    assert_eq!(deal_prop(&w, &linked_deal(&w, bad).unwrap(), "amount"), "");
    let notes: Vec<&String> = r.messages.iter().filter(|m| m.contains("amount")).collect();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0].starts_with(&format!("resubmission {bad}: amount 'zwölf'")),
        "{notes:?}"
    );
}

both_backends! {
    fn switching_stage_modes_never_renames_a_users_stage_and_a_mapping_says_what_it_replaces(backend) {
        let w = World::on(backend);
        w.connect();
        let mirror = xentral_stage(&w, "default", "contractsent");
        let mut s = w.settings();
        s.stage_mode = StageMode::UserDefined;
        w.connect_with(&s);
        let view = xentral_erp::ui::create_view(w.db().as_mut(), "Vertrieb", "VT", true).unwrap();
        let mine = user_stage(&w, view, "Angebot");
        let said = w.host.map_stage(TENANT, mine, "default", "contractsent").unwrap().result.unwrap();
        assert!(
            said.contains(&format!("xentral stage {mirror} 'Contract Sent' no longer maps to default:contractsent")),
            "{said}"
        );
        let again = w.host.map_stage(TENANT, mine, "default", "contractsent").unwrap().result.unwrap();
        assert!(again.contains("nothing changed"), "{again}");

        w.connect();
        assert_eq!(column_of_stage(&w, mine, "name"), "Angebot", "the user's stage keeps its name");
        assert_eq!(column_of_stage(&w, mine, "view"), view.to_string());
        assert_eq!(
            w.count("SELECT COUNT(*) FROM wiedervorlage_stages WHERE name = 'Contract Sent'"),
            1,
            "one 'Contract Sent' column"
        );
        assert_eq!(
            w.count("SELECT COUNT(*) FROM hubspot_sync_stage_map WHERE pipeline_id = 'default' AND stage_id = 'contractsent'"),
            1
        );
        assert_eq!(xentral_stage(&w, "default", "contractsent"), mine);
        // By construction: a second row for one HubSpot stage is refused by the database.
        let dup = w.db().execute(
            "INSERT INTO hubspot_sync_stage_map (wiedervorlage_stage_id, wiedervorlage_view_id, pipeline_id, stage_id, is_system) VALUES (?, 0, 'default', 'contractsent', 0)",
            &[Value::Integer(mirror)],
        );
        assert!(dup.is_err(), "{dup:?}");
    }
}

fn column_of_stage(w: &World, id: i64, column: &str) -> String {
    w.db()
        .query(
            &format!("SELECT {column} FROM wiedervorlage_stages WHERE id = ?"),
            &[Value::Integer(id)],
        )
        .unwrap()
        .rows[0][0]
        .to_text()
        .unwrap_or_default()
}
