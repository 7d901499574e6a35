//! A manual `run`'s lock as an operator meets it, through the command line: a run killed with
//! SIGKILL leaves a lock the next `run` on this machine takes over at once (it used to block
//! manual runs for hours); a lock held on another machine is refused with its own exit code
//! and names its holder, until `run --force` takes it over with a warning.

mod common;

use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{cli_output, test_key, warm_data_dir};
use hubspot_emulator::{
    Emulator, EmulatorConfig, FaultKind, FaultPlan, ScriptedFault, TokenConfig,
};
use xentral_erp::Value;
use xentral_erp::scheduler::{self, Starter};
use xentral_host::{SystemClock, XentralHost};

const TOKEN: &str = "pat-eu1-10ck-7e57-0000-0000-000000000000";
const PARAMETER: &str = "hubspot_pull_contacts";

fn connected(dir: &Path) -> Emulator {
    let hubspot = Emulator::start(EmulatorConfig {
        tokens: vec![TokenConfig::all_scopes(TOKEN)],
        ..EmulatorConfig::default()
    })
    .unwrap();
    common::connected_tenant(dir, &hubspot, TOKEN);
    hubspot
}

fn admin_db(dir: &Path) -> Box<dyn xentral_erp::Database> {
    let clock: xentral_host::SharedClock = Arc::new(SystemClock);
    let host = XentralHost::new(dir, test_key(), clock.clone()).unwrap();
    host.tenant("acme").unwrap().open_admin_db(&clock).unwrap()
}

fn starter(dir: &Path) -> Starter {
    scheduler::find_by_parameter(admin_db(dir).as_mut(), PARAMETER)
        .unwrap()
        .unwrap()
}

#[test]
fn a_run_killed_mid_job_leaves_a_lock_the_next_run_here_takes_over_at_once() {
    let dir = warm_data_dir();
    let hubspot = connected(dir.path());
    // The run's first search hangs, so it is surely holding the lock when it is killed.
    hubspot.set_faults(FaultPlan::scripted(vec![
        ScriptedFault::new(FaultKind::LatencyMs(30_000)).path("/search"),
    ]));
    let mut child = common::cli_command(dir.path(), &["run", "acme", "sync-contacts"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let held = loop {
        let s = starter(dir.path());
        if s.mutex || Instant::now() > deadline {
            break s;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(held.mutex, "the run never took its lock: {held:?}");
    let holder = held.holder().expect("the lease names its holder");
    assert_eq!(holder.pid, child.id());
    child.kill().unwrap();
    child.wait().unwrap();

    let out = cli_output(dir.path(), &["run", "acme", "sync-contacts"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!(
            "took over the lock of 'Hubspot Synchronize Contacts' from process {}",
            holder.pid
        )) && stdout.contains("that process is gone"),
        "{stdout}"
    );
    let after = starter(dir.path());
    assert_eq!((after.mutex, after.status.as_str()), (false, "OK"));
}

#[test]
fn a_lock_held_on_another_machine_is_refused_with_exit_6_until_forced() {
    let dir = warm_data_dir();
    let _hubspot = connected(dir.path());
    admin_db(dir.path())
        .execute(
            "UPDATE prozessstarter SET mutex = 1, mutexcounter = 0, status = ? WHERE parameter = ?",
            &[
                Value::from("running since 2026-01-01 00:00:00 (run 0123456789ab; pid 4242 on elsewhere, boot 1a2b3c4d)"),
                Value::from(PARAMETER),
            ],
        )
        .unwrap();

    let refused = cli_output(dir.path(), &["run", "acme", "sync-contacts"]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(6), "{stderr}");
    assert!(
        stderr.contains(
            "is running right now (process 4242 on elsewhere since 2026-01-01 00:00:00 UTC)"
        ) && stderr.contains("--force"),
        "{stderr}"
    );
    let s = starter(dir.path());
    assert_eq!(
        (s.mutex, s.mutexcounter),
        (true, 0),
        "a refused manual run counts nothing"
    );

    let forced = cli_output(dir.path(), &["run", "acme", "sync-contacts", "--force"]);
    let stdout = String::from_utf8_lossy(&forced.stdout);
    assert!(
        forced.status.success(),
        "{}",
        String::from_utf8_lossy(&forced.stderr)
    );
    assert!(
        stdout.contains(
            "took over the lock of 'Hubspot Synchronize Contacts' from process 4242 on elsewhere"
        ) && stdout.contains("forced"),
        "{stdout}"
    );
    let after = starter(dir.path());
    assert_eq!((after.mutex, after.status.as_str()), (false, "OK"));
}
