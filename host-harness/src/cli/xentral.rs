//! `xentral-host xentral TENANT …`: act as a xentral user. Every edit is saved in the tenant's
//! database and then fires the plugin's save hook once, as xentral's save events do.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use clap::{Args, Subcommand};
use serde::Serialize;
use xentral_erp::Value;
use xentral_erp::ui::{self, NewAddress, NewContactPerson, NewResubmission};
use xentral_host::XentralUi;
use xentral_host::xentral_ui::{Saved, UiError};

use super::output::{self, CliError, ExitKind};

#[derive(Debug, Args)]
pub struct XentralArgs {
    /// The tenant.
    tenant: String,
    /// Print what was done as JSON.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: XentralCommand,
}

#[derive(Debug, Subcommand)]
enum XentralCommand {
    /// Add, edit and delete addresses (`adresse`).
    ///
    /// Example: xentral-host xentral acme address delete 7
    #[command(subcommand)]
    Address(AddressCommand),
    /// Put addresses into groups or take them out (`adresse_rolle`), or create a group.
    ///
    /// Example: xentral-host xentral acme group add 7 Hubspot
    #[command(subcommand)]
    Group(GroupCommand),
    /// Add, edit and move resubmissions (`wiedervorlage`).
    ///
    /// Example: xentral-host xentral acme resubmission move 4 --stage 5
    #[command(subcommand)]
    Resubmission(ResubmissionCommand),
    /// Add, edit and delete the contact persons of a company address (`ansprechpartner`).
    ///
    /// Example: xentral-host xentral acme contact-person add --adresse 7 --vorname Ada --name "Ada Lovelace" --email ada@example.com
    #[command(subcommand)]
    ContactPerson(ContactPersonCommand),
}

#[derive(Debug, Subcommand)]
enum ContactPersonCommand {
    /// Save a new contact person of a company address.
    ///
    /// Example: xentral-host xentral acme contact-person add --adresse 7 --vorname Ada --name "Ada Lovelace" --email ada@example.com
    Add(ContactPersonAddArgs),
    /// Save edits to a contact person, one `--set column=value` per column (`--set adresse=9`
    /// moves it to another company address).
    ///
    /// Example: xentral-host xentral acme contact-person edit 3 --set telefon=+49301234
    Edit {
        /// The contact person id.
        id: i64,
        /// `column=value`; repeat for several columns.
        #[arg(long = "set", value_name = "COLUMN=VALUE", required = true, value_parser = parse_assignment)]
        set: Vec<(String, String)>,
    },
    /// Delete a contact person the xentral way: it stays, marked `geloescht = 1`.
    ///
    /// Example: xentral-host xentral acme contact-person delete 3
    Delete {
        /// The contact person id.
        id: i64,
    },
}

#[derive(Debug, Args)]
struct ContactPersonAddArgs {
    /// The company address it belongs to.
    #[arg(long)]
    adresse: i64,
    /// First name.
    #[arg(long, default_value = "")]
    vorname: String,
    /// The whole name; defaults to the first name.
    #[arg(long)]
    name: Option<String>,
    /// E-mail address.
    #[arg(long, default_value = "")]
    email: String,
    /// Phone.
    #[arg(long, default_value = "")]
    telefon: String,
    /// Mobile.
    #[arg(long, default_value = "")]
    mobil: String,
    /// Position (`bereich`).
    #[arg(long, default_value = "")]
    bereich: String,
    /// Department (`abteilung`).
    #[arg(long, default_value = "")]
    abteilung: String,
}

#[derive(Debug, Subcommand)]
enum AddressCommand {
    /// Save a new address, optionally in groups (one save, one save hook).
    ///
    /// Example: xentral-host xentral acme address add --vorname Ada --nachname Lovelace --email ada@example.com --group Hubspot --lead
    Add(Box<AddressAddArgs>),
    /// Save edits to an address, one `--set column=value` per column (values are stored as text;
    /// the column type converts them).
    ///
    /// Example: xentral-host xentral acme address edit 7 --set telefon=+49301234 --set ort=Berlin
    Edit {
        /// The address id.
        id: i64,
        /// `column=value`; repeat for several columns.
        #[arg(long = "set", value_name = "COLUMN=VALUE", required = true, value_parser = parse_assignment)]
        set: Vec<(String, String)>,
    },
    /// Delete an address the xentral way: it stays, marked `geloescht = 1`.
    ///
    /// Example: xentral-host xentral acme address delete 7
    Delete {
        /// The address id.
        id: i64,
    },
}

#[derive(Debug, Args)]
struct AddressAddArgs {
    /// Display name; defaults to "VORNAME NACHNAME".
    #[arg(long)]
    name: Option<String>,
    /// First name.
    #[arg(long, default_value = "")]
    vorname: String,
    /// Last name.
    #[arg(long, default_value = "")]
    nachname: String,
    /// E-mail address.
    #[arg(long, default_value = "")]
    email: String,
    /// Phone.
    #[arg(long, default_value = "")]
    telefon: String,
    /// Street and number.
    #[arg(long, default_value = "")]
    strasse: String,
    /// Postcode.
    #[arg(long, default_value = "")]
    plz: String,
    /// City.
    #[arg(long, default_value = "")]
    ort: String,
    /// Country as ISO-2 code.
    #[arg(long, default_value = "")]
    land: String,
    /// Web site (a company's domain comes from it).
    #[arg(long, default_value = "")]
    internetseite: String,
    /// `firma`, `herr`, `frau` or empty.
    #[arg(long, default_value = "firma")]
    typ: String,
    /// Put the address into this group (by name); repeat for several.
    #[arg(long = "group")]
    groups: Vec<String>,
    /// Mark the address as a lead.
    #[arg(long)]
    lead: bool,
}

#[derive(Debug, Subcommand)]
enum GroupCommand {
    /// Put an address into a group (by group name) from today on.
    ///
    /// Example: xentral-host xentral acme group add 7 Hubspot
    Add {
        /// The address id.
        id: i64,
        /// The group's name.
        group: String,
    },
    /// End an address's membership in a group (its `bis` becomes yesterday).
    ///
    /// Example: xentral-host xentral acme group remove 7 Hubspot
    Remove {
        /// The address id.
        id: i64,
        /// The group's name.
        group: String,
    },
    /// Create an active group (no save hook: groups themselves are not synchronised).
    ///
    /// Example: xentral-host xentral acme group create Hubspot
    Create {
        /// The group's name.
        name: String,
    },
}

#[derive(Debug, Subcommand)]
enum ResubmissionCommand {
    /// Save a new resubmission.
    ///
    /// Example: xentral-host xentral acme resubmission add --bezeichnung "Rahmenvertrag 2026" --betrag 12.50 --adresse 7 --stage 3 --datum-erinnerung 2026-03-31
    Add(ResubmissionAddArgs),
    /// Save edits to a resubmission, one `--set column=value` per column.
    ///
    /// Example: xentral-host xentral acme resubmission edit 4 --set betrag=99.00 --set chance=50
    Edit {
        /// The resubmission id.
        id: i64,
        /// `column=value`; repeat for several columns.
        #[arg(long = "set", value_name = "COLUMN=VALUE", required = true, value_parser = parse_assignment)]
        set: Vec<(String, String)>,
    },
    /// Move a resubmission onto another stage, or onto the first stage of another view (board).
    ///
    /// Example: xentral-host xentral acme resubmission move 4 --stage 5
    Move {
        /// The resubmission id.
        id: i64,
        /// The target stage (`wiedervorlage_stages.id`).
        #[arg(long, required_unless_present = "view", conflicts_with = "view")]
        stage: Option<i64>,
        /// The target view (`wiedervorlage_view.id`): its first stage.
        #[arg(long)]
        view: Option<i64>,
    },
}

#[derive(Debug, Args)]
struct ResubmissionAddArgs {
    /// Title.
    #[arg(long)]
    bezeichnung: String,
    /// Description.
    #[arg(long, default_value = "")]
    beschreibung: String,
    /// Amount, a decimal number such as 12.50.
    #[arg(long)]
    betrag: Option<String>,
    /// The address it concerns.
    #[arg(long, default_value_t = 0)]
    adresse: i64,
    /// The stage (`wiedervorlage_stages.id`).
    #[arg(long, default_value_t = 0)]
    stage: i64,
    /// Reminder date, YYYY-MM-DD.
    #[arg(long)]
    datum_erinnerung: Option<NaiveDate>,
}

fn parse_assignment(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((column, value)) if !column.trim().is_empty() => {
            Ok((column.trim().to_owned(), value.to_owned()))
        }
        _ => Err(format!("expected COLUMN=VALUE, got '{s}'")),
    }
}

fn changes(set: Vec<(String, String)>) -> BTreeMap<String, Value> {
    set.into_iter().map(|(c, v)| (c, Value::Text(v))).collect()
}

/// What one command did, as printed.
#[derive(Debug, Serialize)]
struct Done {
    action: String,
    entity: ui::Entity,
    id: i64,
    hook: HookReport,
}

#[derive(Debug, Serialize)]
struct HookReport {
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

impl From<UiError> for CliError {
    fn from(e: UiError) -> Self {
        match e {
            UiError::Host(h) => CliError::from(h),
            UiError::UnknownGroup(_) => CliError::new(ExitKind::Config, e.to_string()).hint(
                "the plugin creates its group on `xentral-host settings`; or create one with `xentral-host xentral TENANT group create NAME`",
            ),
            other => CliError::new(ExitKind::Config, other.to_string()),
        }
    }
}

/// Runs `xentral-host xentral …`.
pub fn run(env: &super::Env, args: XentralArgs) -> Result<(), CliError> {
    let host = env.host()?;
    let ui = XentralUi::new(&host, &args.tenant)?;
    let (action, saved) = match args.command {
        XentralCommand::Address(AddressCommand::Add(a)) => {
            let name = a
                .name
                .unwrap_or_else(|| format!("{} {}", a.vorname, a.nachname).trim().to_owned());
            let address = NewAddress {
                typ: a.typ,
                name,
                vorname: a.vorname,
                nachname: a.nachname,
                email: a.email,
                telefon: a.telefon,
                strasse: a.strasse,
                plz: a.plz,
                ort: a.ort,
                land: a.land,
                internetseite: a.internetseite,
                lead: a.lead,
                ..NewAddress::default()
            };
            (
                "added".to_owned(),
                ui.add_address_in_groups(&address, &a.groups)?,
            )
        }
        XentralCommand::Address(AddressCommand::Edit { id, set }) => {
            ("edited".to_owned(), ui.edit_address(id, &changes(set))?)
        }
        XentralCommand::Address(AddressCommand::Delete { id }) => {
            ("deleted".to_owned(), ui.delete_address(id)?)
        }
        XentralCommand::Group(GroupCommand::Add { id, group }) => (
            format!("added to group '{group}'"),
            ui.add_to_group(id, &group)?,
        ),
        XentralCommand::Group(GroupCommand::Remove { id, group }) => (
            format!("removed from group '{group}'"),
            ui.remove_from_group(id, &group)?,
        ),
        XentralCommand::Group(GroupCommand::Create { name }) => {
            let id = ui.create_group(&name)?;
            let value = serde_json::json!({ "action": "created group", "name": name, "id": id });
            output::print(args.json, &value, || {
                format!("created group '{name}' (id {id})")
            });
            return Ok(());
        }
        XentralCommand::Resubmission(ResubmissionCommand::Add(r)) => {
            let resubmission = NewResubmission {
                bezeichnung: r.bezeichnung,
                beschreibung: r.beschreibung,
                betrag: r.betrag,
                adresse: r.adresse,
                stages: r.stage,
                datum_erinnerung: r.datum_erinnerung,
                ..NewResubmission::default()
            };
            ("added".to_owned(), ui.add_resubmission(&resubmission)?)
        }
        XentralCommand::Resubmission(ResubmissionCommand::Edit { id, set }) => (
            "edited".to_owned(),
            ui.edit_resubmission(id, &changes(set))?,
        ),
        XentralCommand::Resubmission(ResubmissionCommand::Move { id, stage, view }) => {
            match (stage, view) {
                (Some(stage), _) => (
                    format!("moved to stage {stage}"),
                    ui.move_resubmission(id, stage)?,
                ),
                (None, Some(view)) => (
                    format!("moved to view {view}"),
                    ui.move_resubmission_to_view(id, view)?,
                ),
                (None, None) => {
                    return Err(CliError::new(ExitKind::Config, "give --stage or --view"));
                }
            }
        }
        XentralCommand::ContactPerson(ContactPersonCommand::Add(p)) => {
            let person = NewContactPerson {
                adresse: p.adresse,
                name: p.name.unwrap_or_else(|| p.vorname.clone()),
                vorname: p.vorname,
                email: p.email,
                telefon: p.telefon,
                mobil: p.mobil,
                bereich: p.bereich,
                abteilung: p.abteilung,
            };
            ("added".to_owned(), ui.add_contact_person(&person)?)
        }
        XentralCommand::ContactPerson(ContactPersonCommand::Edit { id, set }) => (
            "edited".to_owned(),
            ui.edit_contact_person(id, &changes(set))?,
        ),
        XentralCommand::ContactPerson(ContactPersonCommand::Delete { id }) => {
            ("deleted".to_owned(), ui.delete_contact_person(id)?)
        }
    };
    report(args.json, &action, saved);
    Ok(())
}

fn report(json: bool, action: &str, saved: Saved) {
    let done = Done {
        action: action.to_owned(),
        entity: saved.change.entity,
        id: saved.change.id,
        hook: HookReport {
            ok: saved.hook.is_ok(),
            error: saved.hook.as_ref().err().map(ToString::to_string),
        },
    };
    output::print(json, &done, || {
        let what = match done.entity {
            ui::Entity::Address => "address",
            ui::Entity::Resubmission => "resubmission",
            ui::Entity::ContactPerson => "contact person",
        };
        let hook = if done.hook.ok {
            "save hook fired"
        } else {
            "save hook FAILED (the edit is kept)"
        };
        format!("{what} {} {action}; {hook}", done.id)
    });
    if let Some(e) = &done.hook.error {
        eprintln!("warning: {e}");
    }
}
