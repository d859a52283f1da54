//! `ward user`: local users and their roles, from the server's machine (the same rules as
//! the API: argon2id hashes, the password policy, one-time passwords shown once, every
//! change in the audit log with the actor `cli:<login>`).

use super::migrate::{block_on, StoreArgs};
use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use std::io::Read;
use std::process::ExitCode;
use ward_server::auth;
use ward_server::rbac::Role;
use ward_store::{Actor, NewUser, RoleGrant, Store, User};

#[derive(Args, Debug, Clone)]
pub struct UserArgs {
    #[command(subcommand)]
    pub command: UserCommand,
}

#[derive(Subcommand, Debug, Clone)]
pub enum UserCommand {
    /// Create a local user. Without --password-stdin a one-time password is printed once
    /// (it must be changed at the first login).
    Add {
        #[command(flatten)]
        store: StoreArgs,
        name: String,
        /// A role, optionally scoped to a site: `admin`, `security_analyst@site-a`, ...
        /// (repeat for several).
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        #[arg(long, default_value = "")]
        display_name: String,
        /// Read the password from standard input (first line) instead.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users with roles and state.
    List {
        #[command(flatten)]
        store: StoreArgs,
        /// As JSON (no password hashes).
        #[arg(long)]
        json: bool,
    },
    /// Disable a user: sessions end, tokens stop working.
    Disable {
        #[command(flatten)]
        store: StoreArgs,
        name: String,
    },
    /// Enable a disabled user.
    Enable {
        #[command(flatten)]
        store: StoreArgs,
        name: String,
    },
    /// Reset a password (one-time password printed once, or --password-stdin); clears a
    /// lockout and ends the user's sessions.
    Passwd {
        #[command(flatten)]
        store: StoreArgs,
        name: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Replace a user's roles.
    Roles {
        #[command(flatten)]
        store: StoreArgs,
        name: String,
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
    },
}

/// The audit actor of the command line.
pub fn cli_actor() -> Actor {
    let who = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".into());
    Actor::new(format!("cli:{who}"), None)
}

/// Parses `role` or `role@site`.
fn grants(store_sites: &[String], specs: &[String]) -> Result<Vec<RoleGrant>> {
    specs
        .iter()
        .map(|s| {
            let (role, site) = match s.split_once('@') {
                Some((r, site)) => (r, Some(site.to_string())),
                None => (s.as_str(), None),
            };
            if Role::parse(role).is_none() {
                let known: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
                bail!("unknown role {role:?} (known: {})", known.join(", "));
            }
            if let Some(site) = &site {
                if !store_sites.contains(site) {
                    bail!("unknown site {site:?}");
                }
            }
            Ok(RoleGrant {
                role: role.to_string(),
                site,
            })
        })
        .collect()
}

async fn site_ids(store: &Store) -> Result<Vec<String>> {
    Ok(store.sites().await?.into_iter().map(|s| s.id).collect())
}

async fn by_name(store: &Store, name: &str) -> Result<User> {
    store
        .user_by_name(name)
        .await?
        .with_context(|| format!("no user {name:?}"))
}

fn read_password() -> Result<String> {
    let mut s = String::new();
    std::io::stdin()
        .take(4096)
        .read_to_string(&mut s)
        .context("reading the password from standard input")?;
    Ok(s.lines().next().unwrap_or_default().to_string())
}

/// A password and its hash: from standard input (checked against the policy) or
/// generated (returned to print once).
fn new_password(name: &str, from_stdin: bool) -> Result<(String, String, bool)> {
    let (password, generated) = if from_stdin {
        let p = read_password()?;
        auth::check_password_policy(name, &p).map_err(anyhow::Error::msg)?;
        (p, false)
    } else {
        (auth::generate_password(), true)
    };
    let hash = auth::hash_password(&password).map_err(|e| anyhow::anyhow!(e.message))?;
    Ok((password, hash, generated))
}

fn roles_text(u: &User) -> String {
    u.roles
        .iter()
        .map(|g| match &g.site {
            Some(s) => format!("{}@{s}", g.role),
            None => g.role.clone(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

pub fn run(args: UserArgs) -> Result<ExitCode> {
    block_on(async {
        let actor = cli_actor();
        match args.command {
            UserCommand::Add {
                store,
                name,
                roles,
                display_name,
                password_stdin,
            } => {
                let valid = !name.is_empty()
                    && name.len() <= 64
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
                anyhow::ensure!(
                    valid,
                    "a user name has 1 to 64 letters, digits, '.', '_', '-' or '@'"
                );
                let store = store.open(true).await?;
                let grants = grants(&site_ids(&store).await?, &roles)?;
                anyhow::ensure!(
                    store.user_by_name(&name).await?.is_none(),
                    "a user {name:?} exists already"
                );
                let (password, hash, generated) = new_password(&name, password_stdin)?;
                let u = store
                    .create_user(
                        &NewUser {
                            id: auth::random_id(),
                            username: name.clone(),
                            display_name,
                            password_hash: Some(hash),
                            must_change_password: generated,
                            roles: grants,
                            ..NewUser::default()
                        },
                        &actor,
                    )
                    .await?;
                store.close().await;
                println!(
                    "created user {} ({}) with roles {}",
                    u.username,
                    u.id,
                    roles_text(&u)
                );
                if generated {
                    println!(
                        "one-time password (shown once; change it at first login): {password}"
                    );
                }
            }
            UserCommand::List { store, json } => {
                let store = store.open(false).await?;
                let users = store.list_users().await?;
                store.close().await;
                if json {
                    println!("{}", serde_json::to_string_pretty(&users)?);
                } else {
                    println!("NAME\tROLES\tSTATE\tID");
                    for u in &users {
                        let state = if u.disabled {
                            "disabled"
                        } else if u.locked_until.is_some_and(|l| l > ward_store::now_micros()) {
                            "locked"
                        } else if u.oidc_issuer.is_some() {
                            "sso"
                        } else {
                            "active"
                        };
                        println!("{}\t{}\t{state}\t{}", u.username, roles_text(u), u.id);
                    }
                }
            }
            UserCommand::Disable { store, name } => {
                let store = store.open(false).await?;
                let u = by_name(&store, &name).await?;
                store.set_user_disabled(&u.id, true, &actor).await?;
                store.close().await;
                println!("disabled {name}");
            }
            UserCommand::Enable { store, name } => {
                let store = store.open(false).await?;
                let u = by_name(&store, &name).await?;
                store.set_user_disabled(&u.id, false, &actor).await?;
                store.close().await;
                println!("enabled {name}");
            }
            UserCommand::Passwd {
                store,
                name,
                password_stdin,
            } => {
                let store = store.open(false).await?;
                let u = by_name(&store, &name).await?;
                anyhow::ensure!(
                    u.oidc_issuer.is_none(),
                    "{name} signs in through single sign-on"
                );
                let (password, hash, generated) = new_password(&name, password_stdin)?;
                store
                    .set_password_hash(&u.id, &hash, generated, &actor)
                    .await?;
                store.close().await;
                println!("password of {name} reset; sessions ended");
                if generated {
                    println!(
                        "one-time password (shown once; change it at first login): {password}"
                    );
                }
            }
            UserCommand::Roles { store, name, roles } => {
                let store = store.open(false).await?;
                let u = by_name(&store, &name).await?;
                let grants = grants(&site_ids(&store).await?, &roles)?;
                let u = store.set_user_roles(&u.id, &grants, &actor).await?;
                store.close().await;
                println!("{} now has roles {}", u.username, roles_text(&u));
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}
