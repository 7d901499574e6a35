//! The console's command line: `console password` (an Argon2id hash only its owner may read),
//! `serve` (refusing to start without a password, or over plain HTTP off loopback, or with an
//! unusable certificate; over TLS with a `Secure`, `__Host-` cookie), and `starter` (the
//! schedule the console's process starters change).

mod common;

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::process::{Child, Stdio};
use std::sync::Arc;

use common::{cli, cli_command, cli_output, warm_data_dir};
use hubspot_emulator::{Emulator, EmulatorConfig, TokenConfig};
use ureq::tls::{Certificate, RootCerts, TlsConfig};

const PASSWORD: &str = "correct horse battery staple";

/// Runs `console password` with `password` on stdin.
fn set_password(data: &std::path::Path, password: &str) -> std::process::Output {
    let mut child = cli_command(data, &["console", "password"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    child.wait_with_output().unwrap()
}

/// A `serve` process; killed when dropped.
struct Served {
    child: Child,
    url: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `serve ARGS` and reads the address it announces.
fn serve(data: &std::path::Path, args: &[&str]) -> Served {
    let mut all = vec!["serve"];
    all.extend_from_slice(args);
    let mut child = cli_command(data, &all)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .strip_prefix("console listening on ")
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("serve printed {line:?}"))
        .to_owned();
    Served { child, url }
}

#[test]
fn console_password_keeps_only_an_argon2id_hash_only_its_owner_may_read() {
    let dir = warm_data_dir();
    let out = set_password(dir.path(), PASSWORD);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = dir.path().join("console/admin-password");
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with(&format!(
            "the console's administrator password is set (an Argon2id hash in {})",
            path.display()
        )),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let stored = std::fs::read_to_string(&path).unwrap();
    assert!(
        stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{stored}"
    );
    assert!(!stored.contains(PASSWORD) && !stored.contains("horse"));
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(path.parent().unwrap()), 0o700);
}

#[test]
fn a_short_console_password_is_refused_and_nothing_is_stored() {
    let dir = warm_data_dir();
    let out = set_password(dir.path(), "hunter2");
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).lines().next(),
        Some(
            "error: the password has 7 characters; use at least 12 (a passphrase of a few words is easy to type and hard to guess)"
        )
    );
    assert!(!dir.path().join("console/admin-password").exists());
}

#[test]
fn serve_refuses_to_start_without_a_password() {
    let dir = warm_data_dir();
    let out = cli_output(dir.path(), &["serve", "--listen", "127.0.0.1:0"]);
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr
            .starts_with("error: no console administrator password is set for this data directory"),
        "{stderr}"
    );
    assert!(
        stderr.contains("set one with `xentral-host console password`"),
        "{stderr}"
    );
}

#[test]
fn serve_refuses_plain_http_on_an_address_other_machines_reach() {
    let dir = warm_data_dir();
    set_password(dir.path(), PASSWORD);
    for address in ["0.0.0.0:8080", "192.0.2.10:8080", "[::]:8080"] {
        let out = cli_output(dir.path(), &["serve", "--listen", address]);
        assert_eq!(out.status.code(), Some(3), "{address}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let address = address.parse::<std::net::SocketAddr>().unwrap();
        assert_eq!(
            stderr.lines().next().unwrap(),
            format!(
                "error: refusing to serve the console on {address} over plain HTTP: the password and the session cookie would travel in clear; listen on 127.0.0.1 (the default), or give --tls-cert and --tls-key"
            )
        );
    }
}

#[test]
fn serve_refuses_a_certificate_that_does_not_load() {
    let dir = warm_data_dir();
    set_password(dir.path(), PASSWORD);
    let files = tempfile::tempdir().unwrap();
    let (cert, key) = (files.path().join("cert.pem"), files.path().join("key.pem"));
    std::fs::write(&cert, "not a certificate").unwrap();
    std::fs::write(&key, "not a key").unwrap();
    let out = cli_output(
        dir.path(),
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with(&format!("error: TLS: {}: ", cert.display())),
        "{stderr}"
    );
}

#[test]
fn serve_over_tls_sends_a_secure_host_only_cookie_and_hsts() {
    let dir = warm_data_dir();
    set_password(dir.path(), PASSWORD);
    let files = tempfile::tempdir().unwrap();
    let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    let (cert, key) = (files.path().join("cert.pem"), files.path().join("key.pem"));
    std::fs::write(&cert, certified.cert.pem()).unwrap();
    std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();
    let served = serve(
        dir.path(),
        &[
            "--listen",
            "127.0.0.1:0",
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    );
    assert!(
        served.url.starts_with("https://127.0.0.1:"),
        "{}",
        served.url
    );
    let root = Certificate::from_der(certified.cert.der()).to_owned();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .tls_config(
            TlsConfig::builder()
                .root_certs(RootCerts::Specific(Arc::new(vec![root])))
                .build(),
        )
        .build()
        .into();
    let response = agent.get(format!("{}/login", served.url)).call().unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let cookie = response.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.starts_with("__Host-xentral_console="), "{cookie}");
    for attribute in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    assert!(!cookie.contains("Domain"), "{cookie}");
    assert_eq!(
        response.headers()["strict-transport-security"],
        "max-age=31536000"
    );
    // Plain HTTP to the TLS port gets nothing.
    let plain = ureq::get(&served.url.replacen("https://", "http://", 1))
        .call()
        .map(|r| r.status().as_u16());
    assert!(
        plain.is_err() || plain.as_ref().is_ok_and(|s| *s >= 400),
        "{plain:?}"
    );
}

#[test]
fn starter_sets_a_period_and_switch_and_refuses_what_is_not_the_plugins() {
    let dir = warm_data_dir();
    let token = "pat-eu1-57a7e7-0000-0000-0000-000000000000";
    let hubspot = Emulator::start(EmulatorConfig {
        tokens: vec![TokenConfig::all_scopes(token)],
        ..EmulatorConfig::default()
    })
    .unwrap();
    common::connected_tenant(dir.path(), &hubspot, token);
    let out = cli(
        dir.path(),
        &["starter", "acme", "2", "--period", "30", "--active", "off"],
    );
    assert_eq!(
        out.trim(),
        "process starter 2 'Hubspot Synchronize Contacts': every 30 min, off (was every 60 min, on)"
    );
    let status = cli(dir.path(), &["status", "acme", "--json"]);
    let status: serde_json::Value = serde_json::from_str(&status).unwrap();
    let starter = &status["starters"][1];
    assert_eq!(
        (
            starter["period_minutes"].as_i64(),
            starter["aktiv"].as_bool()
        ),
        (Some(30), Some(false))
    );
    for (args, message) in [
        (
            &["starter", "acme", "2"][..],
            "error: give --period MINUTES, --active on|off, or both",
        ),
        (
            &["starter", "acme", "99", "--period", "5"][..],
            "error: tenant 'acme' has no process starter 99",
        ),
        (
            &["starter", "acme", "2", "--period", "0"][..],
            "error: the period must be 1 to 10080 minutes (a week), not 0",
        ),
    ] {
        let out = cli_output(dir.path(), args);
        assert_eq!(out.status.code(), Some(3), "{args:?}");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr).lines().next(),
            Some(message),
            "{args:?}"
        );
    }
}
