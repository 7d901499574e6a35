//! What the engine needs of an object kind, and the two jobs it runs over any kind: the sync
//! (pull behind the cursor, then reconcile and push) and the push of queued records. A kind
//! (contacts ⇄ addresses, deals ⇄ resubmissions, …) supplies its settings switch, what a run
//! loads once, its pull (its sink over the engine's feed) and its push (its rows over the
//! engine's batch target); the order of the steps, the switch and the budget stops are here.

use std::collections::BTreeMap;

use crate::api::{Entity, PluginError};
use crate::engine::incremental::Flow;
use crate::engine::lifecycle::{self, Ending};
use crate::engine::push::PushOutcome;
use crate::engine::session::Session;
use crate::settings::StoredSettings;

/// One kind of record the engine syncs.
pub trait ObjectKind {
    /// The xentral record the kind's queue entries name.
    const ENTITY: Entity;
    /// Said in the report when the kind is switched off.
    const SWITCHED_OFF: &'static str;
    /// What one run loads once (mappings, filters, the rule).
    type Ctx;

    /// Whether the settings switch the kind on.
    fn switched_on(settings: &StoredSettings) -> bool;

    /// Loads what a run needs.
    fn load(s: &mut Session<'_>) -> Result<Self::Ctx, PluginError>;

    /// The kind's link tables with what happens when their records end (see
    /// [`lifecycle`]); none for a kind that keeps no links of its own.
    fn endings(ctx: &Self::Ctx) -> Vec<Ending<'_>>;

    /// Pulls HubSpot's changes (failed records due for a retry first, then behind the
    /// cursor, then any backfill); `Stop` when a budget stopped it.
    fn pull(s: &mut Session<'_>, ctx: &Self::Ctx) -> Result<Flow, PluginError>;

    /// Pushes xentral's records to HubSpot: every record that takes part (`None`, the
    /// reconciliation) or the given ids (the queue). Returns the outcome per id.
    fn push(
        s: &mut Session<'_>,
        ctx: &Self::Ctx,
        only: Option<&[i64]>,
    ) -> Result<BTreeMap<i64, PushOutcome>, PluginError>;
}

/// The sync job of a kind: the links whose xentral record is gone end; the pull (which also
/// moves the link of a record merged in HubSpot it meets); the sweep for records archived or
/// merged in HubSpot (after the pull, so it never takes the budget the pull needs, and before
/// the push, so nothing is pushed to an archived record); and, unless a budget stopped one of
/// them, reconcile and push. `Stop` when a budget stopped it (what comes after it in the job
/// waits for the next run).
pub fn sync<K: ObjectKind>(s: &mut Session<'_>) -> Result<Flow, PluginError> {
    if !K::switched_on(&s.settings) {
        s.report.messages.push(K::SWITCHED_OFF.into());
        return Ok(Flow::Continue);
    }
    let ctx = K::load(s)?;
    let endings = K::endings(&ctx);
    for &e in &endings {
        if lifecycle::end_deleted_in_xentral(s, e)? == Flow::Stop {
            return Ok(Flow::Stop);
        }
    }
    if K::pull(s, &ctx)? == Flow::Stop {
        return Ok(Flow::Stop);
    }
    for &e in &endings {
        if lifecycle::sweep(s, e)? == Flow::Stop {
            return Ok(Flow::Stop);
        }
    }
    K::push(s, &ctx, None)?;
    Ok(if s.client.budget_left().is_err() {
        Flow::Stop
    } else {
        Flow::Continue
    })
}

/// Pushes the queued records `ids` of a kind; a kind switched off leaves each out with the
/// reason (the queue then settles them).
pub fn push_queued<K: ObjectKind>(
    s: &mut Session<'_>,
    ids: &[i64],
) -> Result<BTreeMap<i64, PushOutcome>, PluginError> {
    if !K::switched_on(&s.settings) {
        return Ok(ids
            .iter()
            .map(|id| {
                (
                    *id,
                    PushOutcome::Excluded("switched off in the settings".into()),
                )
            })
            .collect());
    }
    let ctx = K::load(s)?;
    K::push(s, &ctx, Some(ids))
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;
    use crate::api::{Budget, Job, Settings, StageMode};
    use crate::platform::Platform;
    use crate::testing::{AllSecrets, FakeClock, FakeHttp, MemoryDb, NullLog};

    thread_local! {
        /// What the fake kind was asked to do, in order.
        static STEPS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    }

    fn step(what: impl Into<String>) {
        STEPS.with(|s| s.borrow_mut().push(what.into()));
    }

    /// A kind that records each step; its pull stops when the settings' group says `stop`.
    struct Recorder;

    impl ObjectKind for Recorder {
        const ENTITY: Entity = Entity::Address;
        const SWITCHED_OFF: &'static str = "recorder is switched off";
        type Ctx = bool;

        fn switched_on(settings: &StoredSettings) -> bool {
            settings.hs_sync_addresses
        }

        fn load(_: &mut Session<'_>) -> Result<bool, PluginError> {
            step("load");
            Ok(true)
        }

        fn endings(_: &bool) -> Vec<Ending<'_>> {
            Vec::new()
        }

        fn pull(s: &mut Session<'_>, _: &bool) -> Result<Flow, PluginError> {
            step("pull");
            Ok(if s.settings.hs_contact_grp == "stop" {
                Flow::Stop
            } else {
                Flow::Continue
            })
        }

        fn push(
            _: &mut Session<'_>,
            _: &bool,
            only: Option<&[i64]>,
        ) -> Result<BTreeMap<i64, PushOutcome>, PluginError> {
            step(format!("push {only:?}"));
            Ok(only
                .unwrap_or_default()
                .iter()
                .map(|id| (*id, PushOutcome::Done))
                .collect())
        }
    }

    /// Runs `f` in a session whose settings switch the kind on or off and name `group`;
    /// returns the steps and the report's messages.
    fn with_session(
        on: bool,
        group: &str,
        f: impl FnOnce(&mut Session<'_>),
    ) -> (Vec<String>, Vec<String>) {
        STEPS.with(|s| s.borrow_mut().clear());
        let settings = Settings {
            hubspot_url: "http://127.0.0.1:9".into(),
            credential: "hubspot".into(),
            contacts: on,
            contacts_since: None,
            lead_statuses: Vec::new(),
            group: group.into(),
            deals: true,
            stage_mode: StageMode::Automatic,
            api_version: String::new(),
            companies: false,
            contact_mode: Default::default(),
            contact_rule: Default::default(),
            company_rule: Default::default(),
            deal_rule: Default::default(),
        };
        let stored = StoredSettings::new(&settings, Default::default());
        let (mut http, mut db) = (FakeHttp::new(Vec::new()), MemoryDb::new(0));
        let clock = FakeClock::new(0);
        let mut platform = Platform {
            http: &mut http,
            db: &mut db,
            clock: &clock,
            log: &NullLog,
            secrets: &AllSecrets,
        };
        let mut session = Session::new(&mut platform, stored, Job::SyncContacts, Budget::default());
        f(&mut session);
        let messages = session.report.messages.clone();
        (STEPS.with(|s| s.borrow().clone()), messages)
    }

    #[test]
    fn a_sync_loads_once_pulls_then_pushes_every_record() {
        let (steps, _) = with_session(true, "go", |s| {
            assert_eq!(sync::<Recorder>(s).unwrap(), Flow::Continue);
        });
        assert_eq!(steps, ["load", "pull", "push None"]);
    }

    #[test]
    fn a_pull_a_budget_stopped_is_not_followed_by_a_push() {
        let (steps, _) = with_session(true, "stop", |s| {
            assert_eq!(sync::<Recorder>(s).unwrap(), Flow::Stop);
        });
        assert_eq!(steps, ["load", "pull"]);
    }

    #[test]
    fn a_kind_switched_off_does_nothing_and_says_so() {
        let (steps, messages) = with_session(false, "go", |s| {
            assert_eq!(sync::<Recorder>(s).unwrap(), Flow::Continue);
        });
        assert!(steps.is_empty());
        assert_eq!(messages, ["recorder is switched off"]);
    }

    #[test]
    fn queued_records_of_a_kind_switched_off_are_left_out_with_the_reason_unloaded() {
        let mut outcomes = BTreeMap::new();
        let (steps, _) = with_session(false, "go", |s| {
            outcomes = push_queued::<Recorder>(s, &[4, 7]).unwrap();
        });
        assert!(steps.is_empty());
        let excluded = PushOutcome::Excluded("switched off in the settings".into());
        assert_eq!(
            outcomes,
            BTreeMap::from([(4, excluded.clone()), (7, excluded)])
        );
        let (steps, _) = with_session(true, "go", |s| {
            outcomes = push_queued::<Recorder>(s, &[4]).unwrap();
        });
        assert_eq!(steps, ["load", "push Some([4])"]);
        assert_eq!(outcomes, BTreeMap::from([(4, PushOutcome::Done)]));
    }
}
