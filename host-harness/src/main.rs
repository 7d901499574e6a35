//! `xentral-host`: the command line of the xentral host harness.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
