//! Companies ⇄ company addresses, their contacts ⇄ contact persons, deals ⇄ company addresses
//! and owners ⇄ sales reps, end to end: the real plugin through the host against the
//! emulator, on both backends.

mod common;

use common::{World, assert_no_writes, both_backends};
use hubspot_emulator::ObjectType::{Companies, Contacts, Deals};
use hubspot_emulator::{FaultKind, FaultPlan, ScriptedFault};
use xentral_host::report::{ContactMode, Job, Settings, Side, SyncRule};

/// HubSpot's association type of a contact's primary company.
const CONTACT_TO_PRIMARY_COMPANY: u32 = 1;
/// HubSpot's association type of a deal's primary company.
const DEAL_TO_PRIMARY_COMPANY: u32 = 5;

/// The xentral company address of a HubSpot company.
fn company_address(w: &World, company: &str) -> i64 {
    w.linked("company", company).expect("the company is linked")
}

both_backends! {
    fn a_hubspot_company_becomes_a_company_address_in_the_group(backend) {
        let w = World::on(backend);
        w.connect_companies();
        let id = w.hubspot_create(Companies, &[
            ("name", "Müller Maschinenbau GmbH"),
            ("domain", "mueller-maschinen.de"),
            ("phone", "+49 89 1234"),
            ("address", "Industriestraße 7"),
            ("zip", "80331"),
            ("city", "München"),
            ("country", "Germany"),
            ("state", "Bayern"),
            ("hs_lead_status", "OPEN"),
            ("lifecyclestage", "lead"),
        ]);
        let r = w.run(Job::SyncContacts);
        assert_eq!(r.xentral.created, 1, "{r:#?}");
        let a = company_address(&w, &id);
        assert_eq!(w.address(a, "typ"), "firma");
        assert_eq!(w.address(a, "name"), "Müller Maschinenbau GmbH");
        assert_eq!(w.address(a, "internetseite"), "mueller-maschinen.de");
        assert_eq!(w.address(a, "telefon"), "+49 89 1234");
        assert_eq!(w.address(a, "strasse"), "Industriestraße 7");
        assert_eq!(w.address(a, "plz"), "80331");
        assert_eq!(w.address(a, "ort"), "München");
        assert_eq!(w.address(a, "land"), "DE");
        assert_eq!(w.address(a, "bundesstaat"), "Bayern");
        assert_eq!(w.address(a, "freifeld1"), "OPEN");
        assert_eq!(w.address(a, "freifeld2"), "lead");
        assert_eq!(w.group_size(), 1);
        assert_eq!(w.linked_contact(a), None, "a company, not a contact");
        // A second run writes nothing on either side.
        w.hubspot.reset_stats();
        assert_no_writes(&w.run(Job::SyncContacts));
        assert_eq!(w.hubspot_writes(), 0);
    }
}

both_backends! {
    fn a_xentral_company_address_becomes_a_hubspot_company_keyed_by_its_xentral_id(backend) {
        let w = World::on(backend);
        w.connect_companies();
        let a = w.add_company_address("Acme Werkzeuge AG", "https://www.Acme-Werkzeuge.de/kontakt");
        w.edit_address(a, &[("ort", "Köln"), ("land", "DE")]);
        let q = w.run(Job::ProcessQueue);
        assert_eq!(q.hubspot.created, 1, "{q:#?}");
        let id = w.linked_hubspot("company", a).expect("linked");
        assert_eq!(w.hubspot_value(Companies, &id, "name"), "Acme Werkzeuge AG");
        assert_eq!(w.hubspot_value(Companies, &id, "domain"), "acme-werkzeuge.de");
        assert_eq!(
            w.hubspot_value(Companies, &id, "website"),
            "https://www.Acme-Werkzeuge.de/kontakt"
        );
        assert_eq!(w.hubspot_value(Companies, &id, "city"), "Köln");
        assert_eq!(w.hubspot_value(Companies, &id, "country"), "Germany");
        assert_eq!(w.hubspot_value(Companies, &id, "xentral_id"), a.to_string());
        // An edit in xentral flows; nothing comes back.
        w.edit_address(a, &[("telefon", "0221 555")]);
        w.run(Job::ProcessQueue);
        assert_eq!(w.hubspot_value(Companies, &id, "phone"), "0221 555");
        w.hubspot.reset_stats();
        assert_no_writes(&w.run(Job::SyncContacts));
        assert_eq!(w.hubspot_writes(), 0);
        assert_eq!(w.live(Companies).len(), 1);
    }
}

both_backends! {
    fn a_company_in_both_systems_is_matched_by_its_domain_not_duplicated(backend) {
        let w = World::on(backend);
        w.connect_companies();
        let a = w.add_company_address("Müller GmbH", "http://www.mueller.de/impressum");
        let id = w.hubspot_create(Companies, &[("name", "Müller GmbH"), ("domain", "mueller.de"), ("city", "Ulm")]);
        let r = w.run(Job::SyncContacts);
        assert_eq!((r.xentral.created, r.hubspot.created), (0, 0), "{r:#?}");
        assert_eq!(w.linked("company", &id), Some(a));
        assert_eq!(w.address(a, "ort"), "Ulm");
        assert_eq!(w.live(Companies).len(), 1);
        assert_eq!(w.count("SELECT COUNT(*) FROM adresse"), 1);
    }
}

both_backends! {
    fn the_same_name_with_another_domain_or_no_domain_is_another_company(backend) {
        let w = World::on(backend);
        w.connect_companies();
        let ulm = w.add_company_address("Müller GmbH", "mueller-ulm.de");
        let nameless_site = w.add_company_address("Schmidt KG", "");
        let hs_ulm = w.hubspot_create(Companies, &[("name", "Müller GmbH"), ("domain", "mueller-berlin.de")]);
        let hs_schmidt = w.hubspot_create(Companies, &[("name", "Schmidt KG")]);
        w.run(Job::SyncContacts);
        w.run(Job::ProcessQueue);
        assert_ne!(w.linked("company", &hs_ulm), Some(ulm), "never matched by the name");
        assert_ne!(w.linked("company", &hs_schmidt), Some(nameless_site));
        assert_eq!(w.live(Companies).len(), 4, "two of each name, in both systems");
        assert_eq!(w.count("SELECT COUNT(*) FROM adresse WHERE typ = 'firma'"), 4);
        assert_eq!(w.links("company").len(), 4);
    }
}

both_backends! {
    fn a_new_xentral_company_that_hubspot_has_by_domain_is_linked_not_created(backend) {
        let w = World::on(backend);
        w.connect_companies();
        w.run(Job::SyncContacts);
        // Created in HubSpot after the last pull; the queue sends the xentral one first.
        let id = w.hubspot_create(Companies, &[("name", "Beta Systems"), ("domain", "beta-systems.io"), ("phone", "1")]);
        let a = w.add_company_address("Beta Systems GmbH", "beta-systems.io");
        let q = w.run(Job::ProcessQueue);
        assert_eq!(q.hubspot.created, 0, "{q:#?}");
        assert_eq!(w.linked("company", &id), Some(a));
        assert_eq!(w.live(Companies).len(), 1);
        assert_eq!(w.hubspot_value(Companies, &id, "xentral_id"), a.to_string());
        // The first link's merge: xentral's name won on HubSpot, HubSpot's phone comes over.
        assert_eq!(w.hubspot_value(Companies, &id, "name"), "Beta Systems GmbH");
        w.run(Job::SyncContacts);
        assert_eq!(w.address(a, "telefon"), "1");
        assert_eq!(w.address(a, "name"), "Beta Systems GmbH");
        w.hubspot.reset_stats();
        assert_no_writes(&w.run(Job::SyncContacts));
        assert_eq!(w.hubspot_writes(), 0);
    }
}

both_backends! {
    fn several_candidates_with_one_domain_are_left_for_the_user_never_guessed(backend) {
        let w = World::on(backend);
        w.connect_companies();
        w.add_company_address("Gamma Nord", "gamma.de");
        w.add_company_address("Gamma Süd", "www.gamma.de");
        let id = w.hubspot_create(Companies, &[("name", "Gamma"), ("domain", "gamma.de")]);
        let r = w.run(Job::SyncContacts);
        assert_eq!(
            r.xentral.excluded_for("domain matches several xentral company addresses (link one by hand: give the others another web site)"),
            1,
            "{r:#?}"
        );
        assert_eq!(w.linked("company", &id), None);
        // Two HubSpot companies share a domain a new xentral company has.
        let w = World::on(backend);
        w.connect_companies();
        w.run(Job::SyncContacts);
        w.hubspot_create(Companies, &[("name", "Delta A"), ("domain", "delta.de")]);
        w.hubspot_create(Companies, &[("name", "Delta B"), ("domain", "delta.de")]);
        let a = w.add_company_address("Delta", "delta.de");
        let q = w.run(Job::ProcessQueue);
        assert_eq!(
            q.hubspot.excluded_for("domain matches several HubSpot companies (merge them in HubSpot, or give the address another web site)"),
            1,
            "{q:#?}"
        );
        assert_eq!(w.linked_hubspot("company", a), None);
        assert_eq!(w.live(Companies).len(), 2, "nothing created");
    }
}

both_backends! {
    fn a_country_xentral_does_not_know_is_reported_never_written_raw(backend) {
        let w = World::on(backend);
        w.connect_companies();
        let company = w.hubspot_create(Companies, &[("name", "Huawei Partner"), ("country", "中国"), ("city", "深圳")]);
        let contact = w.hubspot_contact(&[("email", "li@example.cn"), ("country", "中国")]);
        let r = w.run(Job::SyncContacts);
        let a = company_address(&w, &company);
        assert_eq!(w.address(a, "land"), "", "no raw text in the ISO column");
        assert_eq!(w.address(a, "ort"), "深圳");
        let person = w.linked_address(&contact).expect("a person address");
        assert_eq!(w.address(person, "land"), "");
        let reported: Vec<&String> = r
            .messages
            .iter()
            .filter(|m| m.contains("country '中国' is not in xentral's country list"))
            .collect();
        assert_eq!(reported.len(), 2, "{:?}", r.messages);
        // Nothing goes back to HubSpot, and the next run reports nothing again.
        let again = w.run(Job::SyncContacts);
        assert!(!again.messages.iter().any(|m| m.contains("中国")), "{:?}", again.messages);
        w.run(Job::ProcessQueue);
        assert_eq!(w.hubspot_value(Companies, &company, "country"), "中国");
        assert_eq!(w.hubspot_prop(&contact, "country"), "中国");
    }
}

both_backends! {
    fn a_contact_of_a_synced_company_becomes_its_contact_person(backend) {
        let w = World::on(backend);
        w.connect_companies();
        let company = w.hubspot_create(Companies, &[("name", "Omega AG"), ("domain", "omega.ch")]);
        let contact = w.hubspot_contact(&[
            ("email", "Eva.Huber@omega.ch"),
            ("firstname", "Eva"),
            ("lastname", "Huber"),
            ("phone", "+41 44 1"),
            ("mobilephone", "+41 79 2"),
            ("jobtitle", "Einkauf"),
        ]);
        w.hubspot.associate_with(Contacts, &contact, Companies, &company, CONTACT_TO_PRIMARY_COMPANY).unwrap();
        let r = w.run(Job::SyncContacts);
        assert_eq!(r.xentral.created, 2, "the company and its contact person: {r:#?}");
        let a = company_address(&w, &company);
        let p = w.linked("contact-person", &contact).expect("a contact person");
        assert_eq!(w.linked_address(&contact), None, "not a second person address");
        assert_eq!(w.person(p, "adresse"), a.to_string());
        assert_eq!(w.person(p, "name"), "Eva Huber");
        assert_eq!(w.person(p, "vorname"), "Eva");
        assert_eq!(w.person(p, "email"), "eva.huber@omega.ch");
        assert_eq!(w.person(p, "telefon"), "+41 44 1");
        assert_eq!(w.person(p, "mobil"), "+41 79 2");
        assert_eq!(w.person(p, "bereich"), "Einkauf");
        assert_eq!(w.count("SELECT COUNT(*) FROM adresse"), 1);
        // Edited in xentral, it flows back; nothing ping-pongs.
        w.edit_contact_person(p, &[("name", "Eva Huber-Meier"), ("telefon", "+41 44 9")]);
        let q = w.run(Job::ProcessQueue);
        assert_eq!(q.hubspot.updated, 1, "{q:#?}");
        assert_eq!(w.hubspot_prop(&contact, "lastname"), "Huber-Meier");
        assert_eq!(w.hubspot_prop(&contact, "phone"), "+41 44 9");
        w.hubspot.reset_stats();
        assert_no_writes(&w.run(Job::SyncContacts));
        assert_eq!(w.hubspot_writes(), 0);
    }
}

both_backends! {
    fn a_contact_person_added_in_xentral_becomes_a_contact_of_its_company(backend) {
        let w = World::on(backend);
        w.connect_companies();
        let a = w.add_company_address("Sigma GmbH", "sigma.de");
        w.run(Job::ProcessQueue);
        let company = w.linked_hubspot("company", a).expect("company created");
        let p = w.add_contact_person(a, "Tom", "Weber", "tom.weber@sigma.de");
        let q = w.run(Job::ProcessQueue);
        assert_eq!(q.hubspot.created, 1, "{q:#?}");
        let contact = w.linked_hubspot("contact-person", p).expect("linked");
        assert_eq!(w.hubspot_prop(&contact, "firstname"), "Tom");
        assert_eq!(w.hubspot_prop(&contact, "lastname"), "Weber");
        assert_eq!(w.hubspot_prop(&contact, "associatedcompanyid"), company);
        assert!(w
            .hubspot
            .association_type_ids(Contacts, &contact, Companies, &company)
            .contains(&CONTACT_TO_PRIMARY_COMPANY));
        w.hubspot.reset_stats();
        assert_no_writes(&w.run(Job::SyncContacts));
        assert_no_writes(&w.run(Job::ProcessQueue));
        assert_eq!(w.hubspot_writes(), 0);
    }
}

both_backends! {
    fn moving_a_contact_to_another_company_moves_the_contact_person(backend) {
        let w = World::on(backend);
        w.connect_companies();
        let first = w.hubspot_create(Companies, &[("name", "Alt GmbH"), ("domain", "alt.de")]);
        let second = w.hubspot_create(Companies, &[("name", "Neu GmbH"), ("domain", "neu.de")]);
        let contact = w.hubspot_contact(&[("email", "kai@alt.de"), ("firstname", "Kai")]);
        w.hubspot.associate_with(Contacts, &contact, Companies, &first, CONTACT_TO_PRIMARY_COMPANY).unwrap();
        w.run(Job::SyncContacts);
        let p = w.linked("contact-person", &contact).unwrap();
        assert_eq!(w.person(p, "adresse"), company_address(&w, &first).to_string());
        w.hubspot.associate_with(Contacts, &contact, Companies, &second, CONTACT_TO_PRIMARY_COMPANY).unwrap();
        w.run(Job::SyncContacts);
        assert_eq!(w.linked("contact-person", &contact), Some(p), "the same contact person");
        assert_eq!(w.person(p, "adresse"), company_address(&w, &second).to_string());
        assert_eq!(w.count("SELECT COUNT(*) FROM ansprechpartner"), 1);
        // Moved in xentral, its company becomes the contact's primary company.
        w.edit_contact_person(p, &[("adresse", &company_address(&w, &first).to_string())]);
        w.run(Job::ProcessQueue);
        assert_eq!(w.hubspot_prop(&contact, "associatedcompanyid"), first);
        w.hubspot.reset_stats();
        assert_no_writes(&w.run(Job::SyncContacts));
        assert_eq!(w.hubspot_writes(), 0);
    }
}

both_backends! {
    fn with_the_addresses_mode_a_companys_contact_stays_an_address_of_its_own(backend) {
        let w = World::on(backend);
        w.connect_with(&Settings {
            contact_mode: ContactMode::Addresses,
            ..w.company_settings()
        });
        let company = w.hubspot_create(Companies, &[("name", "Pi AG"), ("domain", "pi.de")]);
        let contact = w.hubspot_contact(&[("email", "pia@pi.de")]);
        w.hubspot.associate_with(Contacts, &contact, Companies, &company, CONTACT_TO_PRIMARY_COMPANY).unwrap();
        w.run(Job::SyncContacts);
        assert!(w.linked_address(&contact).is_some());
        assert_eq!(w.linked("contact-person", &contact), None);
        // Switching to contact persons later keeps the linked address: no duplicate.
        w.connect_with(&w.company_settings());
        w.hubspot_edit(&contact, &[("phone", "7")]);
        w.run(Job::SyncContacts);
        assert_eq!(w.linked("contact-person", &contact), None);
        assert_eq!(w.address(w.linked_address(&contact).unwrap(), "telefon"), "7");
        assert_eq!(w.count("SELECT COUNT(*) FROM ansprechpartner"), 0);
    }
}

both_backends! {
    fn a_deal_of_a_company_lands_on_its_address_and_a_resubmission_of_one_becomes_its_deal(backend) {
        let w = World::on(backend);
        w.connect_companies();
        let company = w.hubspot_create(Companies, &[("name", "Kappa SE"), ("domain", "kappa.eu")]);
        let contact = w.hubspot_contact(&[("email", "ina@kappa.eu")]);
        w.hubspot.associate_with(Contacts, &contact, Companies, &company, CONTACT_TO_PRIMARY_COMPANY).unwrap();
        w.run(Job::SyncContacts);
        let a = company_address(&w, &company);
        let p = w.linked("contact-person", &contact).unwrap();
        let deal = w.hubspot_create(Deals, &[
            ("dealname", "Rahmenvertrag"),
            ("pipeline", "default"),
            ("dealstage", "appointmentscheduled"),
            ("amount", "1200"),
        ]);
        w.hubspot.associate_with(Deals, &deal, Contacts, &contact, 3).unwrap();
        w.hubspot.associate_with(Deals, &deal, Companies, &company, DEAL_TO_PRIMARY_COMPANY).unwrap();
        w.run(Job::SyncDeals);
        let wv = w.linked("deal", &deal).expect("a resubmission");
        let mut db = w.db();
        let row = xentral_erp::ui::get_resubmission(db.as_mut(), wv).unwrap().unwrap();
        let col = |c: &str| row.get(c).and_then(xentral_erp::Value::as_i64).unwrap_or(0);
        assert_eq!(col("adresse"), a, "the company's address wins over the contact");
        assert_eq!(col("ansprechpartner_id"), p);
        // A resubmission of a company address becomes a deal associated with the company.
        let stage = w.count("SELECT MIN(id) FROM wiedervorlage_stages");
        let ui = xentral_host::xentral_ui::XentralUi::new(&w.host, common::TENANT).unwrap();
        let new = ui
            .add_resubmission(&xentral_erp::ui::NewResubmission {
                bezeichnung: "Wartungsvertrag".into(),
                adresse: a,
                stages: stage,
                ..Default::default()
            })
            .unwrap()
            .change
            .id;
        w.run(Job::ProcessQueue);
        let new_deal = w.linked_hubspot("deal", new).expect("a deal");
        assert!(w
            .hubspot
            .association_type_ids(Deals, &new_deal, Companies, &company)
            .contains(&DEAL_TO_PRIMARY_COMPANY));
        w.hubspot.reset_stats();
        assert_no_writes(&w.run(Job::SyncDeals));
        assert_eq!(w.hubspot_writes(), 0);
    }
}

both_backends! {
    fn owners_map_to_sales_reps_by_email_and_an_unmatched_one_is_reported(backend) {
        let w = World::on(backend);
        let known = w.hubspot.add_owner("vera.vertrieb@xentral.example", "Vera", "Vertrieb");
        let stranger = w.hubspot.add_owner("nobody@elsewhere.example", "No", "Body");
        w.connect_companies();
        let rep = w.add_address("Vera", "Vertrieb", "Vera.Vertrieb@xentral.example");
        let matched = w.hubspot_create(Companies, &[("name", "Eins"), ("hubspot_owner_id", &known.id)]);
        let unmatched = w.hubspot_create(Companies, &[("name", "Zwei"), ("hubspot_owner_id", &stranger.id)]);
        let r = w.run(Job::SyncContacts);
        assert_eq!(w.address(company_address(&w, &matched), "vertrieb"), rep.to_string(), "{r:#?}");
        assert_eq!(w.address(company_address(&w, &unmatched), "vertrieb"), "");
        assert!(
            r.messages.iter().any(|m| m.contains("nobody@elsewhere.example") && m.contains("matches no xentral person address")),
            "{:?}",
            r.messages
        );
        // A sales rep set in xentral becomes the owner in HubSpot.
        let other = w.hubspot.add_owner("otto@xentral.example", "Otto", "Ort");
        let otto = w.add_address("Otto", "Ort", "otto@xentral.example");
        w.clock.advance_ms(2 * 3_600_000);
        w.edit_address(company_address(&w, &matched), &[("vertrieb", &otto.to_string())]);
        w.run(Job::ProcessQueue);
        assert_eq!(w.hubspot_value(Companies, &matched, "hubspot_owner_id"), other.id);
    }
}

both_backends! {
    fn a_conflict_on_a_company_goes_to_the_configured_winner(backend) {
        for (winner, expected) in [(Side::Xentral, "Bremen"), (Side::Hubspot, "Hamburg")] {
            let w = World::on(backend);
            w.connect_with(&Settings {
                company_rule: SyncRule { conflict_winner: winner, ..SyncRule::two_way() },
                ..w.company_settings()
            });
            let id = w.hubspot_create(Companies, &[("name", "Zeta"), ("city", "Kiel")]);
            w.run(Job::SyncContacts);
            let a = company_address(&w, &id);
            w.hubspot_update(Companies, &id, &[("city", "Hamburg")]);
            xentral_erp::ui::edit_address(
                w.db().as_mut(),
                a,
                &[("ort".to_owned(), xentral_erp::Value::Text("Bremen".into()))].into(),
            )
            .unwrap();
            let r = w.run(Job::SyncContacts);
            w.run(Job::SyncContacts);
            assert_eq!(w.address(a, "ort"), expected, "{winner:?}: {r:#?}");
            assert_eq!(w.hubspot_value(Companies, &id, "city"), expected);
            let health = w.health();
            let conflicts = &health.object("company").recent_conflicts;
            assert_eq!(conflicts.len(), 1, "{health:#?}");
            assert_eq!((conflicts[0].xentral_value.as_str(), conflicts[0].hubspot_value.as_str()), ("Bremen", "Hamburg"));
        }
    }
}

both_backends! {
    fn a_huge_company_name_and_odd_unicode_are_cut_on_grapheme_boundaries_and_stay_stable(backend) {
        let w = World::on(backend);
        w.connect_companies();
        let family = "👩\u{200d}👩\u{200d}👧";
        let huge = format!("{}{family} Ŝtrañge Ünïcode ﷽", "Å".repeat(250));
        let id = w.hubspot_create(Companies, &[("name", &huge), ("city", "Zürich\u{a0}")]);
        let r = w.run(Job::SyncContacts);
        let a = company_address(&w, &id);
        let stored = w.address(a, "name");
        assert!(stored.chars().count() <= 255);
        assert!(!stored.ends_with('\u{200d}'));
        assert!(r.messages.iter().any(|m| m.contains("cut to fit")), "{:?}", r.messages);
        w.run(Job::ProcessQueue);
        assert_eq!(w.hubspot_value(Companies, &id, "name"), huge, "HubSpot's whole name is kept");
        w.hubspot.reset_stats();
        assert_no_writes(&w.run(Job::SyncContacts));
        assert_eq!(w.hubspot_writes(), 0);
    }
}

both_backends! {
    fn retried_company_creates_never_make_a_second_company(backend) {
        let w = World::on(backend);
        w.connect_companies();
        for i in 0..30 {
            w.add_company_address(&format!("Firma {i}"), &format!("firma{i}.de"));
        }
        // Writes applied whose replies are lost or unreadable, and a dropped domain lookup.
        w.hubspot.set_faults(FaultPlan::scripted(vec![
            ScriptedFault::new(FaultKind::DropAfterApply).path("companies/batch/upsert"),
            ScriptedFault::new(FaultKind::DropAfterApply).path("companies/batch/upsert"),
            ScriptedFault::new(FaultKind::MalformedJson).path("companies/batch/upsert"),
            ScriptedFault::new(FaultKind::Status(503)).path("companies/search"),
        ]));
        w.run(Job::ProcessQueue);
        for _ in 0..3 {
            w.clock.advance_ms(20 * 60_000);
            w.run(Job::SyncContacts);
            w.run(Job::ProcessQueue);
        }
        assert_eq!(w.live(Companies).len(), 30, "no duplicates in HubSpot");
        assert_eq!(w.links("company").len(), 30);
        assert_eq!(w.count("SELECT COUNT(*) FROM adresse WHERE typ = 'firma'"), 30);
    }
}

both_backends! {
    fn a_dry_run_lists_the_companies_and_contact_persons_it_would_create(backend) {
        let w = World::on(backend);
        w.connect_companies();
        let company = w.hubspot_create(Companies, &[("name", "Dry AG"), ("domain", "dry.de")]);
        let contact = w.hubspot_contact(&[("email", "d@dry.de")]);
        w.hubspot.associate_with(Contacts, &contact, Companies, &company, CONTACT_TO_PRIMARY_COMPANY).unwrap();
        let dry = w
            .run_raw(Job::SyncContacts, xentral_host::report::Budget { dry_run: true, ..Default::default() })
            .result
            .unwrap();
        assert!(dry.planned.iter().any(|c| c.object == "company" && c.kind == "create" && c.hubspot_id.as_deref() == Some(company.as_str())), "{:#?}", dry.planned);
        assert!(dry.planned.iter().any(|c| c.object == "contact" && c.hubspot_id.as_deref() == Some(contact.as_str())), "{:#?}", dry.planned);
        assert_eq!(w.links("company").len(), 0, "nothing written");
        assert_eq!(w.count("SELECT COUNT(*) FROM adresse"), 0);
        let real = w.run(Job::SyncContacts);
        assert!(real.planned.is_empty(), "a real run lists nothing");
    }
}
