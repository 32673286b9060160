//! `GET /analytics/storage`: items and bytes per library, and the total.

use serde::Serialize;
use tokio_postgres::GenericClient;
use uuid::Uuid;

use super::DbResult;

/// One library's share of the storage. Items in no library are listed last, with a null
/// `library_id` and name, so the entries always add up to the total.
#[derive(Serialize, utoipa::ToSchema, Debug, Clone, PartialEq, Eq)]
pub struct StorageInfo {
    pub library_id: Option<Uuid>,
    pub name: Option<String>,
    /// The library's `media_type` (CineVault's: movies, tv_shows, music, ...).
    pub library_type: Option<String>,
    pub item_count: i64,
    pub total_bytes: i64,
}

#[derive(Serialize, utoipa::ToSchema, Debug, Clone, PartialEq, Eq)]
pub struct StorageSummary {
    pub total_items: i64,
    pub total_bytes: i64,
    pub libraries: Vec<StorageInfo>,
}

/// Every library (an empty one with zeros), by name; then the items in no library, if any.
const SQL: &str = "\
WITH per AS (
    SELECT library_id, count(*) AS n, COALESCE(sum(file_size), 0)::int8 AS bytes
    FROM media_items GROUP BY library_id
)
SELECT * FROM (
    SELECT l.id, l.name::text AS name, l.media_type::text AS library_type,
           COALESCE(per.n, 0) AS n, COALESCE(per.bytes, 0) AS bytes, 0 AS last
    FROM libraries l LEFT JOIN per ON per.library_id = l.id
    UNION ALL
    SELECT NULL, NULL, NULL, per.n, per.bytes, 1
    FROM per WHERE per.library_id IS NULL
) x
ORDER BY last, name, id";

pub async fn summary(client: &impl GenericClient) -> DbResult<StorageSummary> {
    let rows = client.query(SQL, &[]).await?;
    let libraries = rows
        .iter()
        .map(|r| {
            Ok(StorageInfo {
                library_id: r.try_get("id")?,
                name: r.try_get("name")?,
                library_type: r.try_get("library_type")?,
                item_count: r.try_get("n")?,
                total_bytes: r.try_get("bytes")?,
            })
        })
        .collect::<DbResult<Vec<_>>>()?;
    Ok(StorageSummary {
        total_items: libraries.iter().map(|l| l.item_count).sum(),
        total_bytes: libraries
            .iter()
            .fold(0i64, |acc, l| acc.saturating_add(l.total_bytes)),
        libraries,
    })
}
