//! Migrations embedded in the binary (refinery), applied at start-up and by `migrate`.

use anyhow::Context;
use refinery::Report;

mod embedded {
    refinery::embed_migrations!("migrations");
}

/// Any constant works as long as every replica uses the same one: it serialises
/// migrations when several sidecars start at once against one database.
const MIGRATION_LOCK: i64 = 0x0c1e_7a01_0000_0001;

/// The highest migration version this build carries.
pub fn latest_version() -> u32 {
    embedded::migrations::runner()
        .get_migrations()
        .iter()
        .map(|m| m.version())
        .max()
        .unwrap_or(0)
}

/// Every migration version this build carries, ascending.
pub fn versions() -> Vec<u32> {
    let mut v: Vec<u32> = embedded::migrations::runner()
        .get_migrations()
        .iter()
        .map(|m| m.version())
        .collect();
    v.sort_unstable();
    v
}

/// Applies every pending migration; returns the versions it applied.
pub async fn run(client: &mut tokio_postgres::Client) -> anyhow::Result<Vec<u32>> {
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await
        .context("taking the migration lock")?;
    let result: anyhow::Result<Report> = embedded::migrations::runner()
        .run_async(client)
        .await
        .context("applying migrations");
    // Unlock even when a migration failed; the connection is dropped after this anyway.
    let _ = client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .await;
    let report = result?;
    Ok(report
        .applied_migrations()
        .iter()
        .map(|m| m.version())
        .collect())
}
