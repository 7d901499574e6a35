//! What the plugin is, for the host: its jobs (the process starters it creates), the xentral
//! tables it uses with the verbs on each, and its own tables. The host grants it no more than
//! this (intersected with the host's own policy), so a table or verb missing here is refused
//! by the database itself.

use crate::api::{Manifest, Privilege};
use crate::store::state;
use crate::xentral;

/// The contract version this plugin is built against (also in its custom section).
pub const CONTRACT_VERSION: &str = "0.3.0";

/// The xentral tables the plugin uses, with only the verbs it needs on each.
pub const XENTRAL_TABLES: &[(&str, &[Privilege])] = {
    use Privilege::{Insert as I, Select as S, Update as U};
    &[
        ("adresse", &[S, I, U]),
        ("ansprechpartner", &[S, I, U]),
        ("adresse_rolle", &[S, I]),
        ("gruppen", &[S, I]),
        ("wiedervorlage", &[S, I, U]),
        ("wiedervorlage_stages", &[S, I, U]),
        ("wiedervorlage_view", &[S, I, U]),
        ("konfiguration", &[S, I, U]),
        ("prozessstarter", &[S, I]),
        ("firmendaten_werte", &[S, I, U]),
        ("laender", &[S]),
        // The old HubSpot module's id maps, read to take its links over where a xentral
        // still has them (see `takeover`).
        ("hubspot_contacts", &[S]),
        ("hubspot_deals", &[S]),
    ]
};

/// The manifest.
pub fn manifest() -> Manifest {
    Manifest {
        contract_version: CONTRACT_VERSION,
        jobs: xentral::STARTERS.to_vec(),
        xentral_tables: XENTRAL_TABLES.to_vec(),
        own_tables: state::OWN_TABLES.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_job_has_one_starter_and_no_table_is_both_xentral_and_own() {
        let m = manifest();
        let mut jobs: Vec<_> = m.jobs.iter().map(|j| j.job.name()).collect();
        jobs.sort_unstable();
        jobs.dedup();
        assert_eq!(jobs.len(), m.jobs.len());
        for (table, _) in &m.xentral_tables {
            assert!(!m.own_tables.contains(table), "{table}");
            assert!(
                !table.starts_with(state::OWN_TABLE_PREFIX),
                "{table} is in the plugin's namespace"
            );
        }
    }
}
