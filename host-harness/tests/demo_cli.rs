//! `xentral-host demo`, as a new user runs it: every object kind synchronised both ways and
//! compared field by field at the end.

mod common;

use serde_json::Value;

#[test]
fn the_demo_keeps_every_kind_in_sync_and_finds_no_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    let out = common::cli_output(
        dir.path(),
        &[
            "demo",
            "--json",
            "--contacts",
            "300",
            "--deals",
            "40",
            "--companies",
            "30",
            "--addresses",
            "60",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let c = &report["comparison"];
    assert_eq!(c["mismatches"], 0, "{c:#}");
    for kind in [
        "contacts_compared",
        "persons_compared",
        "companies_compared",
        "deals_compared",
    ] {
        assert!(c[kind].as_u64().unwrap() > 0, "{kind}: {c:#}");
    }
    let (before, after) = (&report["before"], &report["after"]);
    // Each side got the other's records: HubSpot's companies and contacts in xentral, xentral's
    // addresses, company addresses and contact persons in HubSpot.
    assert_eq!(
        c["companies_compared"].as_u64(),
        after["hubspot_companies"].as_u64()
    );
    assert!(after["xentral_companies"].as_i64() > before["xentral_companies"].as_i64());
    assert!(after["xentral_contact_persons"].as_i64() > before["xentral_contact_persons"].as_i64());
    assert!(after["hubspot_companies"].as_u64() > before["hubspot_companies"].as_u64());
    assert_eq!(report["jobs"]["failed_jobs"], 0);
    // The records the demo ended, each ended for its reason and listed, none compared.
    let ended: Vec<(String, u64, bool)> = report["ended"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["reason"].as_str().unwrap().to_owned(),
                e["count"].as_u64().unwrap(),
                e["needs_action"].as_bool().unwrap(),
            )
        })
        .collect();
    assert!(
        ended.contains(&("archived in HubSpot".to_owned(), 2, false)),
        "{ended:?}"
    );
    assert!(
        ended.contains(&("deleted in xentral".to_owned(), 1, false)),
        "{ended:?}"
    );
    assert!(
        ended
            .iter()
            .any(|(reason, n, needs)| reason.starts_with("merged in HubSpot") && *n == 1 && *needs),
        "{ended:?}"
    );
    assert!(c["ended_skipped"].as_u64().unwrap() >= 4, "{c:#}");
}
