//! `xentral-host serve` and `xentral-host console password`: the operator's web console and
//! its administrator password.

use std::io::{BufRead, IsTerminal};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, Subcommand};
use xentral_host::console::password::password_file;
use xentral_host::console::{
    self, AdminPassword, ConsoleConfig, ConsoleError, LoginLimits, PasswordError, TlsFiles,
};

use super::output::{self, CliError, ExitKind};

/// Arguments of `serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address to listen on. Anything but a loopback address needs --tls-cert and
    /// --tls-key (the password and the session cookie never travel in clear).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Serve HTTPS with this certificate chain (PEM, leaf first).
    #[arg(long, value_name = "PATH", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM).
    #[arg(long, value_name = "PATH", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
}

/// `console …` commands.
#[derive(Debug, Subcommand)]
pub enum ConsoleCommand {
    /// Set the web console's administrator password (asked twice on a terminal, else read as
    /// one line from stdin); kept only as an Argon2id hash. Sessions made with the old
    /// password end.
    ///
    /// Example: xentral-host console password
    Password,
}

impl From<PasswordError> for CliError {
    fn from(e: PasswordError) -> Self {
        let hint = matches!(e, PasswordError::NotSet(_))
            .then_some("then start the console again with `xentral-host serve`");
        let error = CliError::new(ExitKind::Config, e.to_string());
        match hint {
            Some(h) => error.hint(h),
            None => error,
        }
    }
}

impl From<ConsoleError> for CliError {
    fn from(e: ConsoleError) -> Self {
        match e {
            ConsoleError::Password(p) => p.into(),
            ConsoleError::PlainHttpElsewhere(_) => CliError::new(ExitKind::Config, e.to_string())
                .hint("xentral-host serve --listen 0.0.0.0:8443 --tls-cert cert.pem --tls-key key.pem"),
            other => CliError::new(ExitKind::Config, other.to_string()),
        }
    }
}

/// Runs `serve` until Ctrl-C.
pub fn serve(env: &super::Env, args: ServeArgs) -> Result<(), CliError> {
    let tls = match (args.tls_cert, args.tls_key) {
        (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
        _ => None,
    };
    let config = ConsoleConfig {
        listen: args.listen,
        tls,
        password: AdminPassword::at(password_file(&env.data_dir)),
        login_limits: LoginLimits::default(),
    };
    let host = Arc::new(env.host()?);
    let running = console::start(host, config)?;
    output::line(format_args!(
        "console listening on {} (Ctrl-C stops it)",
        running.url()
    ));
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .and_then(|rt| rt.block_on(tokio::signal::ctrl_c()))
        .map_err(|e| CliError::new(ExitKind::JobFailed, format!("waiting for Ctrl-C: {e}")))?;
    running.shutdown();
    Ok(())
}

/// Reads the new password: twice without echo on a terminal, else one line of stdin.
fn read_password() -> Result<String, CliError> {
    let io = |e: std::io::Error| {
        CliError::new(
            ExitKind::Config,
            format!("could not read the password: {e}"),
        )
    };
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("New console password: ").map_err(io)?;
        let again = rpassword::prompt_password("Again: ").map_err(io)?;
        if first != again {
            return Err(CliError::new(
                ExitKind::Config,
                "the two passwords differ; nothing was changed",
            ));
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).map_err(io)?;
    Ok(line.trim_end_matches(['\n', '\r']).to_owned())
}

/// Runs `console …`.
pub fn console(env: &super::Env, command: ConsoleCommand) -> Result<(), CliError> {
    match command {
        ConsoleCommand::Password => {
            let password = AdminPassword::at(password_file(&env.data_dir));
            password.set(&read_password()?)?;
            output::line(format_args!(
                "the console's administrator password is set (an Argon2id hash in {}); sessions made with an earlier password have ended",
                password.path().display()
            ));
            Ok(())
        }
    }
}
