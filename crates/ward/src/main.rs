//! The `ward` command line. It holds no logic of its own: each subcommand wires the
//! library crates together and prints what they return.

mod cmd;
mod output;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Ward: passive medical-device security for hospitals.
#[derive(Parser, Debug)]
#[command(name = "ward", version, about, long_about = None)]
struct Cli {
    /// Log filter (tracing `EnvFilter` syntax), e.g. `info` or `ward=debug`. Logs go to stderr.
    /// Default: `info` for `serve` and `sensor`, `warn` otherwise.
    #[arg(long, global = true, env = "WARD_LOG")]
    log: Option<String>,
    /// Logs as JSON lines.
    #[arg(long, global = true)]
    log_json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Generate a small synthetic hospital capture and analyse it.
    Demo(cmd::demo::DemoArgs),
    /// Analyse capture files or folders: devices, connections, security observations.
    Analyze(cmd::analyze::AnalyzeArgs),
    /// Capture (live, receive only, or files) and print, or ship batches to a server.
    Sensor(cmd::sensor::SensorArgs),
    /// Run the Ward server: API, web UI, sensor ingest, jobs.
    Serve(cmd::serve::ServeArgs),
    /// Generate a synthetic hospital capture (for benchmarks and tests).
    Generate(cmd::generate::GenerateArgs),
    /// Match devices against advisories, score clinical risk, plan mitigations.
    Assess(cmd::assess::AssessArgs),
    /// Vulnerability intelligence: import, show, validate; CVSS scoring.
    Intel(cmd::intel::IntelArgs),
    /// Posture report (NHS six steps, IMDRF model pages) as printable HTML or PDF.
    Report(cmd::report::ReportArgs),
    /// Local users and their roles (server administration).
    User(cmd::user::UserArgs),
    /// API tokens for sensors and integrations.
    Token(cmd::token::TokenArgs),
    /// The hash-chained audit log: verify, list.
    Audit(cmd::audit::AuditArgs),
    /// Apply the store's pending migrations.
    Migrate(cmd::migrate::MigrateArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let service = matches!(cli.command, Command::Serve(_) | Command::Sensor(_));
    let json = cli.log_json
        || matches!(&cli.command, Command::Serve(a) if a.log_format == cmd::serve::LogFormat::Json);
    let filter = cli
        .log
        .clone()
        .unwrap_or_else(|| if service { "info" } else { "warn" }.to_string());
    init_logging(&filter, json);
    let result = match cli.command {
        Command::Demo(a) => cmd::demo::run(a),
        Command::Analyze(a) => cmd::analyze::run(a),
        Command::Sensor(a) => cmd::sensor::run(a),
        Command::Serve(a) => cmd::serve::run(a),
        Command::Generate(a) => cmd::generate::run(a),
        Command::Assess(a) => cmd::assess::run(a),
        Command::Intel(a) => cmd::intel::run(a),
        Command::Report(a) => cmd::report::run(a),
        Command::User(a) => cmd::user::run(a),
        Command::Token(a) => cmd::token::run(a),
        Command::Audit(a) => cmd::audit::run(a),
        Command::Migrate(a) => cmd::migrate::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("ward: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn init_logging(filter: &str, json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}
