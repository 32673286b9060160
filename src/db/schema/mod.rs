//! The sidecar's schema on either kind of database (decisions.md §1):
//!
//! - **CineVault's database**: the core tables (users, libraries, media_items, tags,
//!   media_tags, watch_history) are CineVault's. The sidecar never creates them (CineVault's
//!   first migration uses plain `CREATE TABLE` and its entrypoint hides errors, so CineVault
//!   would come up on a broken schema); it waits until CineVault has made them, then adopts
//!   the analytics tables CineVault's own 025 made (or makes them in the same shape when
//!   CineVault is older than 025) and adds only what cannot trip CineVault's statements.
//! - **A standalone database**: the sidecar creates the core tables itself, with CineVault's
//!   names and types, and moves a database of its first release onto them.
//!
//! Which kind a database is comes from `--database-mode`, or from the database itself:
//! the mode recorded by an earlier start, CineVault's tables, or the first release's. An
//! empty database is never guessed: in `auto` the sidecar waits for CineVault there.

mod probe;
mod require;
mod steps;

use std::fmt;

use anyhow::Context;
use chrono_tz::Tz;
use tokio_postgres::Client;

pub use probe::Catalog;
pub use steps::{checksum, Step, STEPS};

use crate::config::DatabaseMode;

/// Any constant works as long as every replica uses the same one: it serialises schema
/// changes when several sidecars start at once against one database.
const SCHEMA_LOCK: i64 = crate::db::locks::SCHEMA;

/// A schema step waits this long for a lock CineVault's own statements hold before it gives
/// up and is retried, so the sidecar never queues CineVault's traffic behind it for long.
const LOCK_TIMEOUT: &str = "10s";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Cinevault,
    Standalone,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Cinevault => "cinevault",
            Kind::Standalone => "standalone",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "cinevault" => Some(Kind::Cinevault),
            "standalone" => Some(Kind::Standalone),
            _ => None,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why the schema is not ready, said to the admin on /readyz and in the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotReady {
    /// Something else has to happen first (CineVault creating its schema); retried.
    Waiting(String),
    /// The database contradicts the configuration, or an adopted table lacks what the
    /// sidecar needs; retried too (someone may fix it), but `migrate` stops on it.
    Refused(String),
}

impl NotReady {
    pub fn reason(&self) -> &str {
        match self {
            NotReady::Waiting(r) | NotReady::Refused(r) => r,
        }
    }
}

impl fmt::Display for NotReady {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.reason())
    }
}

/// The schema is in place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    pub kind: Kind,
    /// How the kind was known: "configured", "recorded", or what was found.
    pub decided_by: String,
    /// Steps applied by this call (empty when the schema was already complete).
    pub applied: Vec<i32>,
    /// What this call changed, as (what, object): "adopted table stream_sessions", ...
    pub changes: Vec<(String, String)>,
}

pub enum Outcome {
    Ready(Prepared),
    NotReady(NotReady),
}

#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub mode: DatabaseMode,
    /// The zone of `timestamp without time zone` values (converting the first release's
    /// timestamptz columns).
    pub db_time_zone: Tz,
}

/// Decides which kind of database this is, or why it cannot be used yet.
pub fn decide(
    mode: DatabaseMode,
    recorded: Option<&str>,
    catalog: &Catalog,
) -> Result<(Kind, String), NotReady> {
    let recorded_kind = recorded.and_then(Kind::parse);
    let found_cinevault = catalog.has_column("users", "role")
        && catalog.has_column("users", "password_hash")
        && recorded_kind != Some(Kind::Standalone);
    match (mode, recorded_kind) {
        (DatabaseMode::Cinevault, Some(Kind::Standalone)) => Err(NotReady::Refused(
            "--database-mode cinevault, but the sidecar set this database up as standalone \
             (its own core tables); point DATABASE_URL at CineVault's database"
                .into(),
        )),
        (DatabaseMode::Standalone, Some(Kind::Cinevault)) => Err(NotReady::Refused(
            "--database-mode standalone, but this is CineVault's database (recorded when the \
             sidecar first ran on it); give the sidecar a database of its own"
                .into(),
        )),
        (_, Some(kind)) => Ok((kind, "recorded".into())),
        (DatabaseMode::Cinevault, None) if catalog.has_first_release_core() => {
            Err(NotReady::Refused(
                "--database-mode cinevault, but this database holds the core tables of the \
                 sidecar's first release (users.is_admin), not CineVault's"
                    .into(),
            ))
        }
        (DatabaseMode::Cinevault, None) => Ok((Kind::Cinevault, "configured".into())),
        (DatabaseMode::Standalone, None) if found_cinevault => Err(NotReady::Refused(
            "--database-mode standalone, but this database holds CineVault's own users table \
             (role, password_hash); the sidecar never writes CineVault's core tables: use \
             --database-mode cinevault here, or give the sidecar a database of its own"
                .into(),
        )),
        (DatabaseMode::Standalone, None) => Ok((Kind::Standalone, "configured".into())),
        (DatabaseMode::Auto, None) if catalog.has_first_release_core() => Ok((
            Kind::Standalone,
            "found the core tables of the sidecar's first release".into(),
        )),
        (DatabaseMode::Auto, None) if catalog.has_table("users") => {
            Ok((Kind::Cinevault, "found CineVault's users table".into()))
        }
        (DatabaseMode::Auto, None) => Err(NotReady::Waiting(
            "the database has no users table yet: waiting for CineVault to create its schema \
             (for a database of the sidecar's own, set --database-mode standalone)"
                .into(),
        )),
    }
}

/// Brings the schema up to date for the configured mode, or says why it cannot yet. Holds a
/// session advisory lock while it works, so replicas starting together take turns.
pub async fn prepare(client: &mut Client, opts: Options) -> anyhow::Result<Outcome> {
    client
        .execute("SELECT pg_advisory_lock($1)", &[&SCHEMA_LOCK])
        .await
        .context("taking the schema lock")?;
    let result = prepare_locked(client, opts).await;
    // Unlock even on failure; the connection is dropped after this anyway.
    let _ = client
        .execute("SELECT pg_advisory_unlock($1)", &[&SCHEMA_LOCK])
        .await;
    result
}

async fn prepare_locked(client: &mut Client, opts: Options) -> anyhow::Result<Outcome> {
    // IF NOT EXISTS notices ("already exists, skipping") say nothing to an admin.
    client
        .batch_execute("SET client_min_messages = warning")
        .await
        .context("quieting notices")?;
    let before = Catalog::read(&*client)
        .await
        .context("reading the catalog")?;
    let recorded = probe::recorded_mode(&*client)
        .await
        .context("reading the recorded database mode")?;
    let (kind, decided_by) = match decide(opts.mode, recorded.as_deref(), &before) {
        Ok(k) => k,
        Err(not_ready) => return Ok(Outcome::NotReady(not_ready)),
    };
    if kind == Kind::Cinevault {
        if let Some(missing) = require::missing_core(&before) {
            return Ok(Outcome::NotReady(NotReady::Waiting(format!(
                "waiting for CineVault's schema: {missing}"
            ))));
        }
    }
    client
        .batch_execute(BOOKKEEPING_SQL)
        .await
        .context("creating the schema bookkeeping tables")?;
    // Recorded before any step runs, so a start interrupted halfway never guesses again.
    client
        .execute(
            "INSERT INTO analytics_database (mode, decided_by) VALUES ($1, $2)
             ON CONFLICT (id) DO NOTHING",
            &[&kind.as_str(), &decided_by],
        )
        .await
        .context("recording the database mode")?;
    let applied_before: Vec<(i32, String)> = client
        .query(
            "SELECT version, checksum FROM analytics_schema_history",
            &[],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let mut applied = Vec::new();
    for step in steps::for_kind(kind) {
        let sum = checksum(step.sql);
        match applied_before.iter().find(|(v, _)| *v == step.version) {
            Some((_, recorded)) if *recorded != sum => {
                tracing::warn!(
                    step = step.name,
                    "a schema step already applied has changed since; it is not run again"
                );
                continue;
            }
            Some(_) => continue,
            None => {}
        }
        run_step(client, step, kind, opts.db_time_zone, &sum)
            .await
            .with_context(|| format!("applying schema step {}", step.name))?;
        applied.push(step.version);
    }
    let after = Catalog::read(&*client)
        .await
        .context("reading the catalog")?;
    if let Some(problem) = require::mismatch(&after) {
        return Ok(Outcome::NotReady(NotReady::Refused(format!(
            "the database's tables lack what the sidecar needs: {problem}"
        ))));
    }
    let mut changes: Vec<(String, String)> = Vec::new();
    if !applied.is_empty() {
        for (table, _) in require::ANALYTICS {
            if before.has_table(table) && !applied_before.iter().any(|(v, _)| *v == 25) {
                changes.push(("adopted".into(), format!("table {table}")));
            }
        }
        changes.extend(
            after
                .changes_since(&before)
                .into_iter()
                .filter(|(_, what)| {
                    !what.contains("analytics_schema") && !what.contains("analytics_database")
                })
                .map(|(k, w)| (k.to_owned(), w)),
        );
        let tx = client.transaction().await?;
        for (what, object) in &changes {
            tx.execute(
                "INSERT INTO analytics_schema_changes (change, object) VALUES ($1, $2)",
                &[what, object],
            )
            .await?;
        }
        tx.commit().await?;
    }
    Ok(Outcome::Ready(Prepared {
        kind,
        decided_by,
        applied,
        changes,
    }))
}

async fn run_step(
    client: &mut Client,
    step: &Step,
    kind: Kind,
    zone: Tz,
    sum: &str,
) -> anyhow::Result<()> {
    let tx = client.transaction().await?;
    tx.batch_execute(&format!("SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
        .await?;
    // Read by the steps with current_setting(): what kind of database this is, and the zone
    // of its timestamp-without-time-zone values.
    tx.execute(
        "SELECT set_config('cinevault_analytics.mode', $1, true),
                set_config('cinevault_analytics.db_timezone', $2, true)",
        &[&kind.as_str(), &zone.name()],
    )
    .await?;
    tx.batch_execute(step.sql).await?;
    tx.execute(
        "INSERT INTO analytics_schema_history (version, name, checksum) VALUES ($1, $2, $3)",
        &[&step.version, &step.name, &sum],
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The sidecar's own record of its schema: the steps applied, what they changed, and which
/// kind of database it decided this is.
const BOOKKEEPING_SQL: &str = "
CREATE TABLE IF NOT EXISTS analytics_schema_history (
    version     INT PRIMARY KEY,
    name        TEXT NOT NULL,
    checksum    TEXT NOT NULL,
    applied_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS analytics_schema_changes (
    id      BIGSERIAL PRIMARY KEY,
    at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    change  TEXT NOT NULL,
    object  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS analytics_database (
    id          BOOLEAN PRIMARY KEY DEFAULT true CHECK (id),
    mode        TEXT NOT NULL,
    decided_by  TEXT NOT NULL,
    set_up_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);";

/// The versions a database of `kind` has once it is complete.
pub fn required_versions(kind: Kind) -> Vec<i32> {
    steps::for_kind(kind).map(|s| s.version).collect()
}

/// Readiness: every step this kind of database needs is recorded as applied.
pub async fn check_applied(
    client: &impl tokio_postgres::GenericClient,
    kind: Kind,
) -> anyhow::Result<()> {
    let applied: Vec<i32> = client
        .query("SELECT version FROM analytics_schema_history", &[])
        .await
        .context("reading the schema history")?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let missing: Vec<i32> = required_versions(kind)
        .into_iter()
        .filter(|v| !applied.contains(v))
        .collect();
    anyhow::ensure!(
        missing.is_empty(),
        "schema steps not applied yet: {missing:?}"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cat(tables: &[(&str, &[&str])]) -> Catalog {
        let mut c = Catalog::default();
        for (t, cols) in tables {
            c.columns.insert(
                (*t).into(),
                cols.iter().map(|c| ((*c).into(), "text".into())).collect(),
            );
        }
        c
    }

    #[test]
    fn an_empty_database_is_never_guessed() {
        let empty = Catalog::default();
        assert!(matches!(
            decide(DatabaseMode::Auto, None, &empty),
            Err(NotReady::Waiting(_))
        ));
        assert_eq!(
            decide(DatabaseMode::Standalone, None, &empty).map(|k| k.0),
            Ok(Kind::Standalone)
        );
        assert_eq!(
            decide(DatabaseMode::Cinevault, None, &empty).map(|k| k.0),
            Ok(Kind::Cinevault)
        );
    }

    #[test]
    fn cinevault_and_first_release_databases_are_told_apart() {
        let cinevault = cat(&[(
            "users",
            &["id", "username", "email", "password_hash", "role"],
        )]);
        let first = cat(&[("users", &["id", "username", "is_admin", "created_at"])]);
        assert_eq!(
            decide(DatabaseMode::Auto, None, &cinevault).map(|k| k.0),
            Ok(Kind::Cinevault)
        );
        assert_eq!(
            decide(DatabaseMode::Auto, None, &first).map(|k| k.0),
            Ok(Kind::Standalone)
        );
        assert!(matches!(
            decide(DatabaseMode::Standalone, None, &cinevault),
            Err(NotReady::Refused(_))
        ));
        assert!(matches!(
            decide(DatabaseMode::Cinevault, None, &first),
            Err(NotReady::Refused(_))
        ));
        // A standalone database set up by the sidecar has role too, but its record says so.
        let own = cat(&[("users", &["id", "username", "role"])]);
        assert_eq!(
            decide(DatabaseMode::Auto, Some("standalone"), &own),
            Ok((Kind::Standalone, "recorded".to_owned()))
        );
        assert!(matches!(
            decide(DatabaseMode::Cinevault, Some("standalone"), &own),
            Err(NotReady::Refused(_))
        ));
        assert!(matches!(
            decide(DatabaseMode::Standalone, Some("cinevault"), &cinevault),
            Err(NotReady::Refused(_))
        ));
    }
}
