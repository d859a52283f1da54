//! The administration commands (issue 6 item 8): `ward migrate`, `ward user
//! add/list/disable/enable/passwd/roles`, `ward token create/list/revoke`,
//! `ward audit verify` (which must catch an edited, reordered or deleted entry), on SQLite
//! (`--data DIR`) and PostgreSQL (`--database URL`, a fresh database on 127.0.0.1:5432).

use sqlx::Connection;
use std::io::Write;
use std::process::{Command, Output, Stdio};
use ward_store::testing::ScratchPg;

fn ward(args: &[&str], stdin: Option<&str>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ward"));
    c.args(args)
        .env_remove("WARD_DATABASE_URL")
        .env("USER", "opsperson")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("run ward");
    if let Some(mut si) = child.stdin.take() {
        if let Some(s) = stdin {
            si.write_all(s.as_bytes()).expect("stdin");
        }
    }
    child.wait_with_output().expect("wait")
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn ok(o: Output) -> String {
    assert!(o.status.success(), "ward failed: {}\n{}", out(&o), err(&o));
    out(&o)
}

/// A store location for the commands plus direct SQL on it.
struct Target {
    args: Vec<String>,
    url: String,
    pg: Option<ScratchPg>,
    _dir: tempfile::TempDir,
}

impl Target {
    fn sqlite() -> Target {
        let dir = tempfile::tempdir().expect("temp");
        let data = dir.path().join("data");
        Target {
            args: vec!["--data".into(), data.display().to_string()],
            url: format!("sqlite:{}", data.join("ward.db").display()),
            pg: None,
            _dir: dir,
        }
    }

    async fn postgres() -> Target {
        let pg = ScratchPg::create("this test").await;
        let url = pg.url().to_string();
        Target {
            args: vec!["--database".into(), url.clone()],
            url,
            pg: Some(pg),
            _dir: tempfile::tempdir().expect("temp"),
        }
    }

    fn run(&self, sub: &[&str], rest: &[&str], stdin: Option<&str>) -> Output {
        let mut a: Vec<&str> = sub.to_vec();
        a.extend(self.args.iter().map(String::as_str));
        a.extend_from_slice(rest);
        ward(&a, stdin)
    }

    async fn exec(&self, sql: &str) {
        if self.pg.is_some() {
            let mut c = sqlx::PgConnection::connect(&self.url)
                .await
                .expect("connect");
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
                .execute(&mut c)
                .await
                .expect("sql");
            c.close().await.ok();
        } else {
            let mut c = sqlx::SqliteConnection::connect(&self.url)
                .await
                .expect("connect");
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
                .execute(&mut c)
                .await
                .expect("sql");
            c.close().await.ok();
        }
    }

    async fn drop_triggers(&self) {
        if self.pg.is_some() {
            self.exec("DROP TRIGGER audit_log_no_update ON audit_log")
                .await;
        } else {
            self.exec("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;")
                .await;
        }
    }

    async fn finish(mut self) {
        if let Some(pg) = self.pg.take() {
            pg.drop_now().await;
        }
    }
}

fn field_after<'a>(text: &'a str, marker: &str) -> &'a str {
    text.lines()
        .find_map(|l| l.split_once(marker).map(|(_, v)| v.trim()))
        .unwrap_or_else(|| panic!("no {marker:?} in {text}"))
}

async fn admin_commands(t: &Target) {
    // migrate: creates the schema, then nothing to do.
    let first = ok(t.run(&["migrate"], &[], None));
    assert!(first.contains("applied migrations"), "{first}");
    let again = ok(t.run(&["migrate"], &[], None));
    assert!(again.contains("up to date"), "{again}");

    // user add: a one-time password, printed once.
    let o = ok(t.run(&["user", "add"], &["alice", "--role", "admin"], None));
    let otp = field_after(
        &o,
        "one-time password (shown once; change it at first login):",
    );
    assert_eq!(otp.len(), 24, "{o}");
    // With a chosen password: the policy applies.
    let weak = t.run(
        &["user", "add"],
        &["bob", "--role", "auditor", "--password-stdin"],
        Some("bob12345678901\n"),
    );
    assert!(!weak.status.success());
    assert!(err(&weak).contains("user name"), "{}", err(&weak));
    let o = ok(t.run(
        &["user", "add"],
        &["bob", "--role", "auditor", "--password-stdin"],
        Some("a long passphrase for b0b\n"),
    ));
    assert!(!o.contains("one-time"), "{o}");
    let unknown = t.run(&["user", "add"], &["carl", "--role", "superuser"], None);
    assert!(!unknown.status.success() && err(&unknown).contains("unknown role"));
    let dup = t.run(&["user", "add"], &["bob", "--role", "auditor"], None);
    assert!(!dup.status.success() && err(&dup).contains("exists"));

    // list, roles, disable, enable.
    let list = ok(t.run(&["user", "list"], &[], None));
    assert!(
        list.lines().any(|l| l.starts_with("alice\tadmin\tactive")),
        "{list}"
    );
    assert!(
        list.lines().any(|l| l.starts_with("bob\tauditor\tactive")),
        "{list}"
    );
    assert!(!list.contains(otp) && !list.contains("argon2"));
    ok(t.run(
        &["user", "roles"],
        &["bob", "--role", "auditor", "--role", "clinical_engineer"],
        None,
    ));
    ok(t.run(&["user", "disable"], &["bob"], None));
    let list = ok(t.run(&["user", "list", "--json"], &[], None));
    let users: serde_json::Value = serde_json::from_str(&list).expect("json");
    let bob = users
        .as_array()
        .expect("array")
        .iter()
        .find(|u| u["username"] == "bob")
        .expect("bob")
        .clone();
    assert_eq!(bob["disabled"], true);
    assert_eq!(bob["roles"].as_array().map(Vec::len), Some(2));
    assert!(bob.get("password_hash").is_none());
    ok(t.run(&["user", "enable"], &["bob"], None));
    assert!(ok(t.run(&["user", "list"], &[], None))
        .lines()
        .any(|l| l.starts_with("bob\tauditor,clinical_engineer\tactive")));

    // passwd: a new one-time password, different from the first.
    let o = ok(t.run(&["user", "passwd"], &["alice"], None));
    let otp2 = field_after(
        &o,
        "one-time password (shown once; change it at first login):",
    );
    assert_ne!(otp, otp2);
    let missing = t.run(&["user", "passwd"], &["nobody"], None);
    assert!(!missing.status.success() && err(&missing).contains("no user"));

    // tokens.
    let o = ok(t.run(
        &["token", "create"],
        &[
            "--user",
            "bob",
            "--name",
            "siem",
            "--scope",
            "read_inventory,read_findings",
        ],
        None,
    ));
    let secret = field_after(&o, "secret (shown once):").to_string();
    assert!(secret.starts_with("ward_") && secret.len() == 69, "{o}");
    let bad = t.run(
        &["token", "create"],
        &["--user", "bob", "--name", "x", "--scope", "everything"],
        None,
    );
    assert!(!bad.status.success() && err(&bad).contains("unknown scope"));
    let list = ok(t.run(&["token", "list"], &[], None));
    assert!(!list.contains(&secret), "{list}");
    let line = list
        .lines()
        .find(|l| l.contains("\tsiem\t"))
        .expect("token listed")
        .to_string();
    assert!(line.ends_with("active"), "{line}");
    let id = line.split('\t').next().expect("id").to_string();
    ok(t.run(&["token", "revoke"], &[&id], None));
    let list = ok(t.run(&["token", "list", "--json"], &[], None));
    assert!(
        list.contains("\"revoked_at\": 1") || list.contains("\"revoked_at\":1"),
        "{list}"
    );

    // audit: every change above is in an intact chain, with the CLI as actor.
    let v = ok(t.run(&["audit", "verify"], &[], None));
    assert!(v.contains("audit log intact"), "{v}");
    let entries: u64 = v
        .split_whitespace()
        .nth(3)
        .and_then(|n| n.parse().ok())
        .expect("count");
    assert!(entries >= 8, "{v}");
    let l = ok(t.run(&["audit", "list"], &["--last", "100"], None));
    assert!(
        l.contains("cli:opsperson") && l.contains("user.disable") && l.contains("token.revoke"),
        "{l}"
    );
}

async fn tampering_is_detected(t: &Target) {
    t.drop_triggers().await;
    // Edited entry.
    t.exec("UPDATE audit_log SET actor = 'someone else' WHERE seq = 2")
        .await;
    let o = t.run(&["audit", "verify"], &[], None);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(
        err(&o).contains("TAMPERED") && err(&o).contains("entry 2"),
        "{}",
        err(&o)
    );
}

async fn reorder_and_delete_are_detected(t: &Target) {
    t.drop_triggers().await;
    t.exec(
        "UPDATE audit_log SET seq = -1 WHERE seq = 3; \
         UPDATE audit_log SET seq = 3 WHERE seq = 4; \
         UPDATE audit_log SET seq = 4 WHERE seq = -1;",
    )
    .await;
    let o = t.run(&["audit", "verify", "--json"], &[], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(out(&o).contains("\"problem\""), "{}", out(&o));
    // Put them back: intact again (the check is of content, not of some flag).
    t.exec(
        "UPDATE audit_log SET seq = -1 WHERE seq = 3; \
         UPDATE audit_log SET seq = 3 WHERE seq = 4; \
         UPDATE audit_log SET seq = 4 WHERE seq = -1;",
    )
    .await;
    ok(t.run(&["audit", "verify"], &[], None));
    t.exec("DELETE FROM audit_log WHERE seq = 5").await;
    let o = t.run(&["audit", "verify"], &[], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err(&o).contains("missing") || err(&o).contains("deleted"),
        "{}",
        err(&o)
    );
}

#[tokio::test(flavor = "current_thread")]
async fn admin_commands_on_sqlite() {
    let t = Target::sqlite();
    admin_commands(&t).await;
    tampering_is_detected(&t).await;
}

#[tokio::test(flavor = "current_thread")]
async fn reorder_and_delete_on_sqlite() {
    let t = Target::sqlite();
    ok(t.run(&["migrate"], &[], None));
    for n in ["u1", "u2", "u3", "u4", "u5", "u6"] {
        ok(t.run(&["user", "add"], &[n, "--role", "auditor"], None));
    }
    reorder_and_delete_are_detected(&t).await;
}

#[tokio::test(flavor = "current_thread")]
async fn admin_commands_on_postgres() {
    let t = Target::postgres().await;
    admin_commands(&t).await;
    tampering_is_detected(&t).await;
    t.finish().await;
}

#[tokio::test(flavor = "current_thread")]
async fn reorder_and_delete_on_postgres() {
    let t = Target::postgres().await;
    ok(t.run(&["migrate"], &[], None));
    for n in ["u1", "u2", "u3", "u4", "u5", "u6"] {
        ok(t.run(&["user", "add"], &[n, "--role", "auditor"], None));
    }
    reorder_and_delete_are_detected(&t).await;
    t.finish().await;
}

#[test]
fn verify_refuses_a_missing_store() {
    let dir = tempfile::tempdir().expect("temp");
    let o = ward(
        &[
            "audit",
            "verify",
            "--data",
            &dir.path().join("none").display().to_string(),
        ],
        None,
    );
    assert!(!o.status.success());
    assert!(err(&o).contains("ward.db is missing"), "{}", err(&o));
}
