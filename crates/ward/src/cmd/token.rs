//! `ward token`: API tokens for sensors and integrations (the secret is printed once;
//! the store keeps its SHA-256 only).

use super::migrate::{block_on, StoreArgs};
use super::user::cli_actor;
use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use std::process::ExitCode;
use ward_server::{AppState, ServerConfig};

#[derive(Args, Debug, Clone)]
pub struct TokenArgs {
    #[command(subcommand)]
    pub command: TokenCommand,
}

#[derive(Subcommand, Debug, Clone)]
pub enum TokenCommand {
    /// Create a token acting for a user (its roles bound the scopes).
    Create {
        #[command(flatten)]
        store: StoreArgs,
        /// The user the token acts for.
        #[arg(long)]
        user: String,
        /// A name for the token (e.g. the sensor's).
        #[arg(long)]
        name: String,
        /// Scopes: permission names (`ingest`, `read_inventory`, ...), `read` or `*`
        /// (repeat or separate with commas).
        #[arg(long = "scope", required = true, value_delimiter = ',')]
        scopes: Vec<String>,
        /// Limit the token to one site.
        #[arg(long)]
        site: Option<String>,
        /// Lifetime in days (0: never expires).
        #[arg(long, default_value_t = 90)]
        expires_in_days: u32,
    },
    /// List tokens (no secrets).
    List {
        #[command(flatten)]
        store: StoreArgs,
        /// Only this user's tokens.
        #[arg(long)]
        user: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token by id.
    Revoke {
        #[command(flatten)]
        store: StoreArgs,
        id: String,
    },
}

pub fn run(args: TokenArgs) -> Result<ExitCode> {
    block_on(async {
        let actor = cli_actor();
        match args.command {
            TokenCommand::Create {
                store,
                user,
                name,
                scopes,
                site,
                expires_in_days,
            } => {
                let store = store.open(false).await?;
                let u = store
                    .user_by_name(&user)
                    .await?
                    .with_context(|| format!("no user {user:?}"))?;
                if let Some(s) = &site {
                    anyhow::ensure!(
                        store.sites().await?.iter().any(|x| &x.id == s),
                        "unknown site {s:?}"
                    );
                }
                let expires = (expires_in_days > 0).then(|| {
                    ward_store::now_micros() + i64::from(expires_in_days) * 86_400_000_000
                });
                let state = AppState::new(store.clone(), ServerConfig::default());
                let (t, secret) = ward_server::auth::issue_token_record(
                    &state, &u.id, &name, &scopes, site, expires, &actor,
                )
                .await
                .map_err(|e| anyhow::anyhow!(e.message))?;
                store.close().await;
                println!(
                    "created token {} ({}) for {user} with scopes {}",
                    t.name,
                    t.id,
                    t.scopes.join(",")
                );
                println!("secret (shown once): {secret}");
            }
            TokenCommand::List { store, user, json } => {
                let store = store.open(false).await?;
                let uid = match &user {
                    Some(n) => Some(
                        store
                            .user_by_name(n)
                            .await?
                            .with_context(|| format!("no user {n:?}"))?
                            .id,
                    ),
                    None => None,
                };
                let tokens = store.list_tokens(uid.as_deref()).await?;
                store.close().await;
                if json {
                    println!("{}", serde_json::to_string_pretty(&tokens)?);
                } else {
                    let now = ward_store::now_micros();
                    println!("ID\tNAME\tUSER\tSCOPES\tSITE\tSTATE");
                    for t in &tokens {
                        let state = if t.revoked_at.is_some() {
                            "revoked"
                        } else if !t.active(now) {
                            "expired"
                        } else {
                            "active"
                        };
                        println!(
                            "{}\t{}\t{}\t{}\t{}\t{state}",
                            t.id,
                            t.name,
                            t.user_id.as_deref().unwrap_or("-"),
                            t.scopes.join(","),
                            t.site.as_deref().unwrap_or("*")
                        );
                    }
                }
            }
            TokenCommand::Revoke { store, id } => {
                let store = store.open(false).await?;
                let changed = store.revoke_token(&id, &actor).await?;
                store.close().await;
                if changed {
                    println!("revoked {id}");
                } else {
                    println!("{id} was already revoked");
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}
