//! The access token as an operator handles it, through the command line against a local
//! HubSpot emulator: sealed at rest, bound to the origin it was saved for, absent from every
//! file the host writes and from everything it prints even at `RUST_LOG=trace`, and a wrong or
//! missing host key a clear error that names what to re-enter.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use base64::Engine;
use common::{TEST_KEY, cli, cli_output};
use hubspot_emulator::{Emulator, EmulatorConfig, TokenConfig};

const TOKEN: &str = "pat-eu1-5ecre7-70ken-0f-7he-7e57-p0r7al";

fn emulator() -> Emulator {
    Emulator::start(EmulatorConfig {
        tokens: vec![TokenConfig::all_scopes(TOKEN)],
        ..EmulatorConfig::default()
    })
    .unwrap()
}

/// A tenant connected to `hubspot` with the token.
fn connected(dir: &Path, hubspot: &Emulator) {
    common::connected_tenant(dir, hubspot, TOKEN);
}

/// Every way the token could show in a byte string: as is, hex (with and without spaces, as
/// wire dumps print it), base64.
fn leaks(haystack: &[u8]) -> Vec<&'static str> {
    let text = String::from_utf8_lossy(haystack).to_ascii_lowercase();
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let hex = hex::encode(TOKEN);
    let spaced: String = TOKEN
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ");
    let b64 = base64::engine::general_purpose::STANDARD
        .encode(TOKEN)
        .to_ascii_lowercase();
    let mut found = Vec::new();
    if text.contains(&TOKEN.to_ascii_lowercase()) {
        found.push("plain");
    }
    if compact.contains(&hex) || text.contains(&spaced) {
        found.push("hex");
    }
    if compact.contains(&b64[..b64.len() - 4]) {
        found.push("base64");
    }
    // A dump split over lines: the token's first 12 characters in hex on one line.
    if compact.contains(&hex::encode(&TOKEN[..12])) {
        found.push("hex fragment");
    }
    found
}

/// Every file under `dir`, recursively.
fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().filter_map(Result::ok) {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn no_file_the_host_writes_holds_the_token() {
    let hubspot = emulator();
    let dir = common::warm_data_dir();
    connected(dir.path(), &hubspot);
    cli(dir.path(), &["refresh", "acme"]);
    cli(dir.path(), &["run", "acme", "sync-contacts"]);
    cli(dir.path(), &["scheduler", "--once"]);
    cli(dir.path(), &["status", "acme", "--json"]);
    let written = files(dir.path());
    assert!(written.iter().any(|f| f.ends_with("secrets.enc.json")));
    assert!(written.iter().any(|f| f.ends_with("xentral.sqlite")));
    for file in written {
        let bytes = std::fs::read(&file).unwrap();
        assert!(
            leaks(&bytes).is_empty(),
            "{}: {:?}",
            file.display(),
            leaks(&bytes)
        );
    }
}

#[test]
fn nothing_printed_at_trace_holds_the_token() {
    let hubspot = emulator();
    let dir = common::warm_data_dir();
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_xentral-host"))
            .arg("--data-dir")
            .arg(dir.path())
            .args(args)
            .env("XENTRAL_HOST_KEY", TEST_KEY)
            .env("RUST_LOG", "trace,ureq=trace,ureq_proto=trace,rustls=trace")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        [out.stdout, out.stderr].concat()
    };
    let mut printed = run(&["tenant", "create", "acme"]);
    let url = hubspot.base_url();
    printed.extend(run(&[
        "settings",
        "acme",
        "--hubspot-url",
        &url,
        "--token",
        TOKEN,
    ]));
    printed.extend(run(&["run", "acme", "sync-contacts"]));
    printed.extend(run(&["refresh", "acme"]));
    // Trace output really was on: the host's own request lines are there.
    let text = String::from_utf8_lossy(&printed);
    assert!(text.contains("TRACE"), "{text}");
    assert!(text.contains("/crm/objects/2026-03/"), "{text}");
    assert!(leaks(&printed).is_empty(), "{:?}\n{text}", leaks(&printed));
}

/// A listener that records whether any request carried an `Authorization` header.
fn spy() -> (String, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (connections, authorized) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (c, a) = (Arc::clone(&connections), Arc::clone(&authorized));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            c.fetch_add(1, Ordering::SeqCst);
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if line.to_ascii_lowercase().starts_with("authorization:") {
                    a.fetch_add(1, Ordering::SeqCst);
                }
            }
            let _ = stream.write_all(
                b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            );
        }
    });
    (url, connections, authorized)
}

#[test]
fn the_saved_token_is_never_sent_to_a_new_origin() {
    let hubspot = emulator();
    let dir = common::warm_data_dir();
    connected(dir.path(), &hubspot);
    let (other, connections, authorized) = spy();
    let out = cli_output(dir.path(), &["settings", "acme", "--hubspot-url", &other]);
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let saved = format!("http://{}", hubspot.addr());
    assert!(
        stderr.contains(&format!("the HubSpot URL changes from {saved}")),
        "{stderr}"
    );
    assert!(
        stderr.contains("give the access token again (--token)"),
        "{stderr}"
    );
    assert_eq!(connections.load(Ordering::SeqCst), 0);
    assert_eq!(authorized.load(Ordering::SeqCst), 0);
    // The saved URL is unchanged.
    let json = std::fs::read_to_string(dir.path().join("tenants/acme/tenant.json")).unwrap();
    assert!(json.contains(&hubspot.base_url()), "{json}");
}

#[test]
fn an_omitted_url_keeps_the_saved_one() {
    let hubspot = emulator();
    let dir = common::warm_data_dir();
    connected(dir.path(), &hubspot);
    hubspot.reset_stats();
    let out = cli(dir.path(), &["settings", "acme", "--deals", "off"]);
    assert!(!out.is_empty());
    assert!(hubspot.stats().total > 0, "the saved URL was used");
    let json = std::fs::read_to_string(dir.path().join("tenants/acme/tenant.json")).unwrap();
    assert!(json.contains(&hubspot.base_url()), "{json}");
    assert!(!json.contains("api.hubapi.com"), "{json}");
}

#[test]
fn plain_http_to_another_machine_is_refused_before_anything_is_sent() {
    let dir = common::warm_data_dir();
    cli(dir.path(), &["tenant", "create", "acme"]);
    let out = cli_output(
        dir.path(),
        &[
            "settings",
            "acme",
            "--hubspot-url",
            "http://api.hubapi.com",
            "--token",
            TOKEN,
        ],
    );
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("http://api.hubapi.com:80 uses plain http:// to a host that is not this machine: the access token would travel in clear"),
        "{stderr}"
    );
    assert!(!dir.path().join("tenants/acme/secrets.enc.json").exists());
}

#[test]
fn a_wrong_host_key_is_a_clear_error_naming_what_to_re_enter() {
    let hubspot = emulator();
    let dir = common::warm_data_dir();
    connected(dir.path(), &hubspot);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_xentral-host"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["run", "acme", "sync-contacts"])
        .env("XENTRAL_HOST_KEY", "00".repeat(32))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("the secrets hubspot of tenant 'acme' cannot be decrypted with the host key from $XENTRAL_HOST_KEY"),
        "{stderr}"
    );
    assert!(
        stderr.contains("re-enter the HubSpot token with `xentral-host settings acme --token …`"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    // Nothing was reset: with the right key it works again.
    cli(dir.path(), &["run", "acme", "sync-contacts"]);
}

#[test]
fn a_missing_key_file_is_a_clear_error_not_a_new_key() {
    let hubspot = emulator();
    let dir = common::warm_data_dir();
    let keys = tempfile::tempdir().unwrap();
    let key_file = keys.path().join("host.key");
    let with_file = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_xentral-host"))
            .arg("--data-dir")
            .arg(dir.path())
            .arg("--key-file")
            .arg(&key_file)
            .args(args)
            .env_remove("XENTRAL_HOST_KEY")
            .output()
            .unwrap()
    };
    assert!(with_file(&["tenant", "create", "acme"]).status.success());
    let url = hubspot.base_url();
    let saved = with_file(&["settings", "acme", "--hubspot-url", &url, "--token", TOKEN]);
    assert!(
        saved.status.success(),
        "{}",
        String::from_utf8_lossy(&saved.stderr)
    );
    assert!(key_file.exists(), "created on first use");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "{mode:o}");
    }
    std::fs::remove_file(&key_file).unwrap();
    let out = with_file(&["run", "acme", "sync-contacts"]);
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot be decrypted with the host key from"),
        "{stderr}"
    );
    assert!(!key_file.exists(), "reading never creates a key");
}

#[test]
fn a_key_file_inside_the_data_directory_is_refused() {
    let dir = common::warm_data_dir();
    let key_file = dir.path().join("host.key");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_xentral-host"))
        .arg("--data-dir")
        .arg(dir.path())
        .arg("--key-file")
        .arg(&key_file)
        .args(["tenant", "create", "acme"])
        .env_remove("XENTRAL_HOST_KEY")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("is inside the data directory"), "{stderr}");
}

#[test]
fn key_rotation_seals_every_secret_again_and_drops_the_old_key() {
    let hubspot = emulator();
    let dir = common::warm_data_dir();
    let keys = tempfile::tempdir().unwrap();
    let key_file = keys.path().join("host.key");
    let with_file = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_xentral-host"))
            .arg("--data-dir")
            .arg(dir.path())
            .arg("--key-file")
            .arg(&key_file)
            .args(args)
            .env_remove("XENTRAL_HOST_KEY")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    with_file(&["tenant", "create", "acme"]);
    with_file(&["tenant", "create", "beta"]);
    let url = hubspot.base_url();
    for t in ["acme", "beta"] {
        with_file(&["settings", t, "--hubspot-url", &url, "--token", TOKEN]);
    }
    let old_key = std::fs::read_to_string(&key_file).unwrap();
    let out = with_file(&["key", "rotate"]);
    assert!(out.contains("2 secret(s) sealed again"), "{out}");
    let new_key = std::fs::read_to_string(&key_file).unwrap();
    assert_ne!(old_key, new_key);
    let ring: serde_json::Value = serde_json::from_str(&new_key).unwrap();
    assert_eq!(ring["keys"].as_array().unwrap().len(), 1);
    with_file(&["run", "acme", "sync-contacts"]);
    with_file(&["run", "beta", "sync-contacts"]);
    // The old key opens nothing any more.
    std::fs::write(&key_file, old_key).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_xentral-host"))
        .arg("--data-dir")
        .arg(dir.path())
        .arg("--key-file")
        .arg(&key_file)
        .args(["run", "acme", "sync-contacts"])
        .env_remove("XENTRAL_HOST_KEY")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn the_operator_connects_to_a_tls_portal_with_its_ca_file() {
    let hubspot = Emulator::start(EmulatorConfig {
        tokens: vec![TokenConfig::all_scopes(TOKEN)],
        tls: true,
        ..EmulatorConfig::default()
    })
    .unwrap();
    let dir = common::warm_data_dir();
    let ca = tempfile::NamedTempFile::new().unwrap();
    hubspot.write_ca(ca.path()).unwrap();
    cli(dir.path(), &["tenant", "create", "acme"]);
    let url = hubspot.base_url();
    // Without the CA the portal's certificate is not trusted.
    let refused = cli_output(
        dir.path(),
        &["settings", "acme", "--hubspot-url", &url, "--token", TOKEN],
    );
    assert_eq!(refused.status.code(), Some(5));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("invalid peer certificate"), "{stderr}");
    let ca_path = ca.path().to_str().unwrap();
    let out = cli(
        dir.path(),
        &[
            "settings",
            "acme",
            "--hubspot-url",
            &url,
            "--token",
            TOKEN,
            "--ca-file",
            ca_path,
        ],
    );
    assert!(
        out.starts_with("Api key for Hubspot has been updated."),
        "{out}"
    );
    // The CA is kept with the tenant; later runs need no flag.
    let run = cli(dir.path(), &["run", "acme", "sync-contacts"]);
    assert!(run.contains("API calls"), "{run}");
}
