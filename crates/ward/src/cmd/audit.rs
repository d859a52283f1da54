//! `ward audit`: verify the hash chain of the audit log, or list its last entries.

use super::migrate::{block_on, StoreArgs};
use anyhow::Result;
use clap::{Args, Subcommand};
use std::process::ExitCode;

#[derive(Args, Debug, Clone)]
pub struct AuditArgs {
    #[command(subcommand)]
    pub command: AuditCommand,
}

#[derive(Subcommand, Debug, Clone)]
pub enum AuditCommand {
    /// Recompute the chain: exit 0 when intact, 1 with the first problem found (an
    /// edited, reordered or deleted entry).
    Verify {
        #[command(flatten)]
        store: StoreArgs,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print the last entries (oldest first).
    List {
        #[command(flatten)]
        store: StoreArgs,
        #[arg(long, default_value_t = 50)]
        last: u32,
    },
}

pub fn run(args: AuditArgs) -> Result<ExitCode> {
    block_on(async {
        match args.command {
            AuditCommand::Verify { store, json } => {
                let store = store.open(false).await?;
                let report = store.verify_audit_chain().await?;
                store.close().await;
                if json {
                    println!("{}", serde_json::to_string_pretty(&report)?);
                }
                match &report.problem {
                    None => {
                        if !json {
                            println!(
                                "audit log intact: {} entries, head {} {}",
                                report.entries, report.head_seq, report.head_hash
                            );
                        }
                        Ok(ExitCode::SUCCESS)
                    }
                    Some(p) => {
                        eprintln!("audit log TAMPERED: {p}");
                        Ok(ExitCode::from(1))
                    }
                }
            }
            AuditCommand::List { store, last } => {
                let store = store.open(false).await?;
                let (head, _) = store.audit_head().await?;
                let from = (head - i64::from(last)).max(0);
                for e in store.audit_entries(from, last).await? {
                    println!(
                        "{}\t{}\t{}\t{}\t{}\t{}",
                        e.seq, e.ts, e.actor, e.source, e.action, e.object
                    );
                }
                store.close().await;
                Ok(ExitCode::SUCCESS)
            }
        }
    })
}
