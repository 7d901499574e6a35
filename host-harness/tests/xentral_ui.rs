//! The xentral UI and its save hooks, one behaviour per test, through the real plugin on a
//! virtual clock: every save fires `record-changed` exactly once, a failing hook keeps the edit,
//! and the `xentral-host xentral …` commands do what they say.
//!
//! Hooks are counted in the plugin's own queue (`hubspot_sync_queue`). The plugin enqueues a
//! record only while no open entry for it exists, so the harness adds a trigger that closes each
//! entry as it is inserted: every hook call then leaves exactly one row, and a hook fired twice
//! would leave two.

mod common;

use common::cli;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use xentral_erp::ui::{self, NewAddress, NewResubmission, NewStage};
use xentral_erp::{Database, Value};
use xentral_host::tenant::DataDir;
use xentral_host::xentral_ui::{HookError, UiError};
use xentral_host::{
    Entity, JobError, SharedClock, SystemClock, VirtualClock, XentralHost, XentralUi,
};

/// 2026-01-01T00:00:00Z, 01:00 in Berlin.
const START_MS: i64 = 1_767_225_600_000;

/// Makes every save hook leave one row in the plugin's queue (see the module docs).
fn count_hooks(db: &mut dyn Database) {
    db.execute(
        "CREATE TRIGGER hook_counter AFTER INSERT ON hubspot_sync_queue \
         BEGIN UPDATE hubspot_sync_queue SET completed = 1 WHERE id = NEW.id; END",
        &[],
    )
    .unwrap();
}

struct Harness {
    _dir: tempfile::TempDir,
    host: XentralHost,
}

impl Harness {
    /// The real plugin over a fresh data directory with tenant `t`, its plugin tables created,
    /// hooks counted, and a group `Hubspot`.
    fn new() -> Self {
        let dir = common::warm_data_dir();
        let host = XentralHost::new(
            dir.path(),
            common::test_key(),
            Arc::new(VirtualClock::new(START_MS)),
        )
        .unwrap();
        host.create_tenant("t").unwrap();
        host.record_changed("t", Entity::Address, 0)
            .unwrap()
            .result
            .unwrap();
        let h = Harness { _dir: dir, host };
        let mut db = h.db();
        db.execute("DELETE FROM hubspot_sync_queue", &[]).unwrap();
        count_hooks(&mut *db);
        h.ui().create_group("Hubspot").unwrap();
        h
    }

    fn ui(&self) -> XentralUi<'_> {
        XentralUi::new(&self.host, "t").unwrap()
    }

    fn db(&self) -> Box<dyn Database> {
        self.host
            .tenant("t")
            .unwrap()
            .open_admin_db(self.host.clock())
            .unwrap()
    }

    /// The save hooks fired so far, as (entity, record id) in order.
    fn hooks(&self) -> Vec<(String, i64)> {
        let rows = self
            .db()
            .query(
                "SELECT entity, record_id FROM hubspot_sync_queue ORDER BY id",
                &[],
            )
            .unwrap();
        rows.rows
            .iter()
            .map(|r| (r[0].to_text().unwrap(), r[1].as_i64().unwrap()))
            .collect()
    }

    fn address(&self, id: i64) -> BTreeMap<String, Value> {
        ui::get_address(&mut *self.db(), id).unwrap().unwrap()
    }

    fn resubmission(&self, id: i64) -> BTreeMap<String, Value> {
        ui::get_resubmission(&mut *self.db(), id).unwrap().unwrap()
    }

    fn add_ada(&self) -> i64 {
        let saved = self.ui().add_address(&ada()).unwrap();
        saved.hook.unwrap();
        saved.change.id
    }

    /// A view with two stages; returns (view, first stage, second stage).
    fn board(&self) -> (i64, i64, i64) {
        let mut db = self.db();
        let view = ui::create_view(&mut *db, "Sales", "sales", true).unwrap();
        let stage = |db: &mut dyn Database, name: &str, sort| {
            ui::create_stage(
                db,
                &NewStage {
                    name: name.into(),
                    kurzbezeichnung: name.into(),
                    sort,
                    view,
                    ..NewStage::default()
                },
            )
            .unwrap()
        };
        let first = stage(&mut *db, "Lead", 1);
        let second = stage(&mut *db, "Won", 2);
        (view, first, second)
    }
}

fn ada() -> NewAddress {
    NewAddress {
        typ: "herr".into(),
        name: "Ada Lovelace".into(),
        vorname: "Ada".into(),
        nachname: "Lovelace".into(),
        email: "ada@example.com".into(),
        land: "DE".into(),
        lead: true,
        ..NewAddress::default()
    }
}

fn text(s: &str) -> Value {
    Value::Text(s.into())
}

fn address_hook(id: i64) -> (String, i64) {
    ("address".into(), id)
}

fn resubmission_hook(id: i64) -> (String, i64) {
    ("resubmission".into(), id)
}

#[test]
fn add_address_saves_it_and_fires_the_hook_once() {
    let h = Harness::new();
    let id = h.add_ada();
    let row = h.address(id);
    assert_eq!(row["email"], text("ada@example.com"));
    assert_eq!(row["lead"], Value::Integer(1));
    assert_eq!(h.hooks(), [address_hook(id)]);
}

#[test]
fn edit_address_fires_the_hook_once_per_edit() {
    let h = Harness::new();
    let id = h.add_ada();
    let ui = h.ui();
    ui.edit_address(id, &BTreeMap::from([("ort".into(), text("Berlin"))]))
        .unwrap()
        .hook
        .unwrap();
    ui.edit_address(id, &BTreeMap::from([("telefon".into(), text("+4930"))]))
        .unwrap()
        .hook
        .unwrap();
    assert_eq!(h.address(id)["ort"], text("Berlin"));
    assert_eq!(h.address(id)["telefon"], text("+4930"));
    assert_eq!(h.hooks(), vec![address_hook(id); 3]);
}

#[test]
fn delete_address_sets_geloescht_and_fires_the_hook_once() {
    let h = Harness::new();
    let id = h.add_ada();
    h.ui().delete_address(id).unwrap().hook.unwrap();
    assert_eq!(h.address(id)["geloescht"], Value::Integer(1));
    assert_eq!(h.hooks(), vec![address_hook(id); 2]);
}

#[test]
fn add_to_group_writes_the_adresse_rolle_row_and_fires_the_hook_once() {
    let h = Harness::new();
    let id = h.add_ada();
    h.ui().add_to_group(id, "Hubspot").unwrap().hook.unwrap();
    let group = ui::find_group_by_name(&mut *h.db(), "Hubspot")
        .unwrap()
        .unwrap();
    let rows = h
        .db()
        .query(
            "SELECT subjekt, praedikat, objekt, parameter, von, bis FROM adresse_rolle WHERE adresse = ?",
            &[id.into()],
        )
        .unwrap();
    let row: Vec<String> = rows.rows[0].iter().map(|v| v.to_text().unwrap()).collect();
    assert_eq!(
        row,
        [
            "Mitglied",
            "von",
            "Gruppe",
            &group.to_string(),
            "2026-01-01",
            "0000-00-00"
        ]
    );
    assert_eq!(h.hooks(), vec![address_hook(id); 2]);
}

#[test]
fn remove_from_group_ends_the_membership_and_fires_the_hook_once() {
    let h = Harness::new();
    let id = h.add_ada();
    h.ui().add_to_group(id, "Hubspot").unwrap();
    h.ui()
        .remove_from_group(id, "Hubspot")
        .unwrap()
        .hook
        .unwrap();
    let rows = h
        .db()
        .query(
            "SELECT bis FROM adresse_rolle WHERE adresse = ?",
            &[id.into()],
        )
        .unwrap();
    assert_eq!(rows.scalar(), Some(&text("2025-12-31")));
    assert_eq!(h.hooks(), vec![address_hook(id); 3]);
}

#[test]
fn add_address_in_groups_is_one_save_with_one_hook() {
    let h = Harness::new();
    let saved = h
        .ui()
        .add_address_in_groups(&ada(), &["Hubspot".into()])
        .unwrap();
    saved.hook.unwrap();
    let group = ui::find_group_by_name(&mut *h.db(), "Hubspot")
        .unwrap()
        .unwrap();
    let today = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    assert!(ui::is_group_member(&mut *h.db(), saved.change.id, group, today).unwrap());
    assert_eq!(h.hooks(), [address_hook(saved.change.id)]);
}

#[test]
fn unknown_group_saves_nothing_and_fires_no_hook() {
    let h = Harness::new();
    let err = h
        .ui()
        .add_address_in_groups(&ada(), &["Nope".into()])
        .unwrap_err();
    assert!(
        matches!(err, UiError::UnknownGroup(ref g) if g == "Nope"),
        "{err:?}"
    );
    let count = h.db().query("SELECT COUNT(*) FROM adresse", &[]).unwrap();
    assert_eq!(count.scalar(), Some(&Value::Integer(0)));
    assert!(h.hooks().is_empty());
}

#[test]
fn refused_edit_fires_no_hook() {
    let h = Harness::new();
    let err = h
        .ui()
        .edit_address(404, &BTreeMap::from([("ort".into(), text("Berlin"))]))
        .unwrap_err();
    assert!(matches!(err, UiError::Database(_)), "{err:?}");
    assert!(h.hooks().is_empty());
}

#[test]
fn add_resubmission_saves_it_and_fires_the_hook_once() {
    let h = Harness::new();
    let (_, stage, _) = h.board();
    let saved = h
        .ui()
        .add_resubmission(&NewResubmission {
            bezeichnung: "Rahmenvertrag".into(),
            betrag: Some("12.50".into()),
            stages: stage,
            ..NewResubmission::default()
        })
        .unwrap();
    saved.hook.unwrap();
    let row = h.resubmission(saved.change.id);
    assert_eq!(row["betrag"], text("12.50"));
    assert_eq!(row["stages"], Value::Integer(stage));
    assert_eq!(row["datum_angelegt"], text("2026-01-01"));
    assert_eq!(row["zeit_angelegt"], text("01:00:00"));
    assert_eq!(h.hooks(), [resubmission_hook(saved.change.id)]);
}

#[test]
fn edit_and_move_resubmission_fire_the_hook_once_each() {
    let h = Harness::new();
    let (view, first, second) = h.board();
    let ui = h.ui();
    let id = ui
        .add_resubmission(&NewResubmission {
            bezeichnung: "Deal".into(),
            stages: second,
            ..NewResubmission::default()
        })
        .unwrap()
        .change
        .id;
    ui.edit_resubmission(id, &BTreeMap::from([("betrag".into(), text("99.00"))]))
        .unwrap()
        .hook
        .unwrap();
    ui.move_resubmission_to_view(id, view)
        .unwrap()
        .hook
        .unwrap();
    assert_eq!(h.resubmission(id)["stages"], Value::Integer(first));
    ui.move_resubmission(id, second).unwrap().hook.unwrap();
    assert_eq!(h.resubmission(id)["stages"], Value::Integer(second));
    assert_eq!(h.resubmission(id)["betrag"], text("99.00"));
    assert_eq!(h.hooks(), vec![resubmission_hook(id); 4]);
}

#[test]
fn failing_hook_keeps_the_edit() {
    let h = Harness::new();
    let mut tenant = h.host.tenant("t").unwrap();
    tenant.config.limits.fuel = 1;
    tenant.save().unwrap();
    let saved = h.ui().add_address(&ada()).unwrap();
    assert!(
        matches!(
            saved.hook,
            Err(HookError::Job(JobError::OutOfFuel { fuel: 1 }))
        ),
        "{:?}",
        saved.hook
    );
    assert_eq!(h.address(saved.change.id)["name"], text("Ada Lovelace"));
    assert!(h.hooks().is_empty());
}

fn cli_json(data_dir: &Path, args: &[&str]) -> serde_json::Value {
    let mut args = args.to_vec();
    args.push("--json");
    serde_json::from_str(&cli(data_dir, &args)).unwrap()
}

/// A data directory with tenant `acme` made by the CLI; returns it and acme's admin database.
fn cli_tenant() -> (tempfile::TempDir, Box<dyn Database>) {
    let dir = common::warm_data_dir();
    let created = cli(dir.path(), &["tenant", "create", "acme"]);
    assert!(created.starts_with("created tenant 'acme'"), "{created}");
    let clock: SharedClock = Arc::new(SystemClock);
    let db = DataDir::new(dir.path(), std::sync::Arc::new(common::test_key()))
        .tenant("acme")
        .unwrap()
        .open_admin_db(&clock)
        .unwrap();
    (dir, db)
}

#[test]
fn cli_tenant_create_address_add_and_status_json() {
    let (dir, mut db) = cli_tenant();
    cli(
        dir.path(),
        &["xentral", "acme", "group", "create", "Hubspot"],
    );
    let done = cli_json(
        dir.path(),
        &[
            "xentral",
            "acme",
            "address",
            "add",
            "--vorname",
            "Ada",
            "--nachname",
            "Lovelace",
            "--email",
            "ada@example.com",
            "--group",
            "Hubspot",
            "--land",
            "DE",
            "--lead",
        ],
    );
    assert_eq!(done["action"], "added");
    assert_eq!(done["entity"], "Address");
    assert_eq!(done["hook"]["ok"], true);
    let id = done["id"].as_i64().unwrap();
    let row = ui::get_address(&mut *db, id).unwrap().unwrap();
    assert_eq!(row["name"], text("Ada Lovelace"));
    assert_eq!(row["land"], text("DE"));
    assert_eq!(row["lead"], Value::Integer(1));

    let status = cli_json(dir.path(), &["status", "acme"]);
    assert_eq!(status["tenant"], "acme");
    assert_eq!(status["starters"], serde_json::json!([]));
}

#[test]
fn cli_address_edit_and_delete() {
    let (dir, mut db) = cli_tenant();
    let id = ui::add_address(&mut *db, &ada()).unwrap().id.to_string();
    let out = cli(
        dir.path(),
        &[
            "xentral",
            "acme",
            "address",
            "edit",
            &id,
            "--set",
            "ort=Berlin",
            "--set",
            "plz=01067",
        ],
    );
    assert_eq!(out.trim(), format!("address {id} edited; save hook fired"));
    cli(dir.path(), &["xentral", "acme", "address", "delete", &id]);
    let row = ui::get_address(&mut *db, id.parse().unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(row["ort"], text("Berlin"));
    assert_eq!(row["plz"], text("01067"));
    assert_eq!(row["geloescht"], Value::Integer(1));
}

#[test]
fn cli_group_add_and_remove() {
    let (dir, mut db) = cli_tenant();
    let id = ui::add_address(&mut *db, &ada()).unwrap().id;
    let group = ui::create_group(&mut *db, "Hubspot", "").unwrap();
    let sid = id.to_string();
    let out = cli(
        dir.path(),
        &["xentral", "acme", "group", "add", &sid, "Hubspot"],
    );
    assert!(out.contains("added to group 'Hubspot'"), "{out}");
    // "Today" is the tenant's local date, which the membership starts on; around midnight it
    // differs from the UTC date.
    let since = db
        .query(
            "SELECT von FROM adresse_rolle WHERE adresse = ?",
            &[id.into()],
        )
        .unwrap();
    let today =
        chrono::NaiveDate::parse_from_str(since.rows[0][0].as_str().unwrap(), "%Y-%m-%d").unwrap();
    let members_after_add = ui::group_members(&mut *db, group, today).unwrap();
    cli(
        dir.path(),
        &["xentral", "acme", "group", "remove", &sid, "Hubspot"],
    );
    let members_after_remove = ui::group_members(&mut *db, group, today).unwrap();
    assert_eq!(members_after_add, [id]);
    assert!(members_after_remove.is_empty());
}

#[test]
fn cli_resubmission_add_edit_and_move() {
    let (dir, mut db) = cli_tenant();
    let view = ui::create_view(&mut *db, "Sales", "sales", true).unwrap();
    let stages: Vec<i64> = (1..=2)
        .map(|sort| {
            ui::create_stage(
                &mut *db,
                &NewStage {
                    name: format!("Stage {sort}"),
                    sort,
                    view,
                    ..NewStage::default()
                },
            )
            .unwrap()
        })
        .collect();
    let done = cli_json(
        dir.path(),
        &[
            "xentral",
            "acme",
            "resubmission",
            "add",
            "--bezeichnung",
            "Rahmenvertrag",
            "--betrag",
            "12.50",
            "--stage",
            &stages[1].to_string(),
            "--datum-erinnerung",
            "2026-03-31",
        ],
    );
    assert_eq!(done["entity"], "Resubmission");
    let id = done["id"].as_i64().unwrap();
    let sid = id.to_string();
    cli(
        dir.path(),
        &[
            "xentral",
            "acme",
            "resubmission",
            "edit",
            &sid,
            "--set",
            "betrag=99.00",
        ],
    );
    let moved = cli(
        dir.path(),
        &[
            "xentral",
            "acme",
            "resubmission",
            "move",
            &sid,
            "--view",
            &view.to_string(),
        ],
    );
    assert!(
        moved.contains(&format!("resubmission {id} moved to view {view}")),
        "{moved}"
    );
    let row = ui::get_resubmission(&mut *db, id).unwrap().unwrap();
    assert_eq!(row["betrag"], text("99.00"));
    assert_eq!(row["datum_erinnerung"], text("2026-03-31"));
    assert_eq!(row["stages"], Value::Integer(stages[0]));
    cli(
        dir.path(),
        &[
            "xentral",
            "acme",
            "resubmission",
            "move",
            &sid,
            "--stage",
            &stages[1].to_string(),
        ],
    );
    let row = ui::get_resubmission(&mut *db, id).unwrap().unwrap();
    assert_eq!(row["stages"], Value::Integer(stages[1]));
}

#[test]
fn every_new_command_has_help_with_an_example() {
    let dir = tempfile::tempdir().unwrap();
    let commands: &[&[&str]] = &[
        &["xentral"],
        &["xentral", "t", "address"],
        &["xentral", "t", "group"],
        &["xentral", "t", "resubmission"],
        &["xentral", "t", "address", "add"],
        &["xentral", "t", "address", "edit"],
        &["xentral", "t", "address", "delete"],
        &["xentral", "t", "group", "add"],
        &["xentral", "t", "group", "remove"],
        &["xentral", "t", "group", "create"],
        &["xentral", "t", "resubmission", "add"],
        &["xentral", "t", "resubmission", "edit"],
        &["xentral", "t", "resubmission", "move"],
        &["scheduler"],
        &["status"],
    ];
    for command in commands {
        let mut args = command.to_vec();
        args.push("--help");
        let help = cli(dir.path(), &args);
        assert!(
            help.contains("Example: xentral-host "),
            "{command:?}:\n{help}"
        );
    }
}
