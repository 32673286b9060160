//! `GET /analytics/library-health`: per library, how complete the metadata is and what the
//! files are (codecs, resolutions, HDR, Atmos).

use std::collections::BTreeMap;

use serde::Serialize;
use tokio_postgres::GenericClient;
use uuid::Uuid;

use super::{percent, sort_by_count, DbResult, NameCount};

#[derive(Serialize, utoipa::ToSchema, Debug, Clone, PartialEq)]
pub struct LibraryHealthReport {
    /// Null (with a null name) for the items in no library, listed last when there are any.
    pub library_id: Option<Uuid>,
    pub name: Option<String>,
    /// The library's `media_type` (movies, tv_shows, music, ...).
    pub library_type: Option<String>,
    pub total_items: i64,
    /// Items with a description, a poster, a year and at least one genre (a `tags` row of
    /// category `genre`, linked through `media_tags`).
    pub complete_items: i64,
    /// `complete_items` out of `total_items`, in percent; 0 for an empty library.
    pub metadata_completeness_percent: f64,
    /// Items without a description (`media_items.description`; the field keeps its first
    /// name).
    pub missing_overview: i64,
    pub missing_poster: i64,
    pub missing_year: i64,
    pub missing_genres: i64,
    /// Items per value, most frequent first; `unknown` where the column is empty.
    pub video_codecs: Vec<NameCount>,
    pub audio_codecs: Vec<NameCount>,
    pub resolutions: Vec<NameCount>,
    /// Items with an HDR format, and how many of each format.
    pub hdr_count: i64,
    pub hdr_formats: Vec<NameCount>,
    /// Items whose `audio_format` mentions Atmos.
    pub atmos_count: i64,
}

#[derive(Serialize, utoipa::ToSchema, Debug, Clone, PartialEq)]
pub struct LibraryHealth {
    pub libraries: Vec<LibraryHealthReport>,
}

/// Each item's flags are computed once (`OFFSET 0` keeps the planner from copying the
/// expressions into every aggregate). Text that is NULL, empty or only spaces is missing; the
/// `LIKE ' %'` guard trims only text that starts with a space. Genres are counted apart
/// ([`GENRES_SQL`]), so the two passes can run at once.
const COUNTS_SQL: &str = "\
WITH flags AS (
    SELECT library_id,
           NOT (description IS NULL OR description = ''
                OR (description LIKE ' %' AND btrim(description) = '')) AS has_overview,
           NOT (poster_path IS NULL OR poster_path = ''
                OR (poster_path LIKE ' %' AND btrim(poster_path) = '')) AS has_poster,
           year IS NOT NULL AS has_year,
           COALESCE(audio_format ILIKE '%atmos%', false) AS atmos
    FROM media_items
    OFFSET 0
), per AS (
    SELECT library_id,
           count(*) AS total,
           count(*) FILTER (WHERE NOT has_overview) AS missing_overview,
           count(*) FILTER (WHERE NOT has_poster) AS missing_poster,
           count(*) FILTER (WHERE NOT has_year) AS missing_year,
           count(*) FILTER (WHERE atmos) AS atmos
    FROM flags GROUP BY library_id
)
SELECT * FROM (
    SELECT l.id, l.name::text AS name, l.media_type::text AS library_type,
           COALESCE(per.total, 0) AS total,
           COALESCE(per.missing_overview, 0) AS missing_overview,
           COALESCE(per.missing_poster, 0) AS missing_poster,
           COALESCE(per.missing_year, 0) AS missing_year,
           COALESCE(per.atmos, 0) AS atmos, 0 AS last
    FROM libraries l LEFT JOIN per ON per.library_id = l.id
    UNION ALL
    SELECT NULL, NULL, NULL, total, missing_overview, missing_poster, missing_year, atmos, 1
    FROM per WHERE library_id IS NULL
) x
ORDER BY last, name, id";

/// Per library, the items with at least one genre (CineVault's `tags` of category `genre`,
/// through `media_tags`) and, of those, the complete ones (a description, a poster and a
/// year too): a hash semi-join of the items with their genre links.
const GENRES_SQL: &str = "\
SELECT m.library_id, count(*) AS with_genres,
       count(*) FILTER (
           WHERE NOT (m.description IS NULL OR m.description = ''
                      OR (m.description LIKE ' %' AND btrim(m.description) = ''))
             AND NOT (m.poster_path IS NULL OR m.poster_path = ''
                      OR (m.poster_path LIKE ' %' AND btrim(m.poster_path) = ''))
             AND m.year IS NOT NULL) AS complete
FROM media_items m
WHERE m.id IN (SELECT mt.media_item_id FROM media_tags mt JOIN tags t ON t.id = mt.tag_id
               WHERE t.category = 'genre' AND btrim(t.name::text) <> '')
GROUP BY m.library_id";

/// All four distributions in one pass over the raw columns (spelling variants such as
/// trailing spaces are merged afterwards, in [`add`]); `grouping(...)` tells which set a row
/// belongs to (a bit is 1 for each column *not* grouped in that row).
const DISTRIBUTIONS_SQL: &str = "\
SELECT library_id, grouping(codec, audio_codec, resolution, hdr_format) AS grouping_set,
       codec AS video_codec, audio_codec, resolution, hdr_format, count(*) AS n
FROM media_items
GROUP BY GROUPING SETS ((library_id, codec), (library_id, audio_codec),
                        (library_id, resolution), (library_id, hdr_format))";

const VIDEO_CODEC: i32 = 0b0111;
const AUDIO_CODEC: i32 = 0b1011;
const RESOLUTION: i32 = 0b1101;
const HDR_FORMAT: i32 = 0b1110;

/// Adds `n` items under `value` trimmed of spaces (as SQL's `btrim`), or under `missing`
/// when there is no such text; with no `missing` name such items are not counted.
fn add(list: &mut Vec<NameCount>, value: Option<&str>, missing: Option<&str>, n: i64) {
    let name = match value.map(|v| v.trim_matches(' ')).filter(|v| !v.is_empty()) {
        Some(v) => v,
        None => match missing {
            Some(m) => m,
            None => return,
        },
    };
    match list.iter_mut().find(|e| e.name == name) {
        Some(e) => e.count += n,
        None => list.push(NameCount::new(name, n)),
    }
}

/// The counts, the genres and the distributions are three passes over `media_items`: given
/// three connections they run at once (the same client more than once runs them one after
/// the other).
pub async fn reports(
    client: &impl GenericClient,
    second: &impl GenericClient,
    third: &impl GenericClient,
) -> DbResult<LibraryHealth> {
    let (counts, genres, distributions) = tokio::try_join!(
        client.query(COUNTS_SQL, &[]),
        second.query(GENRES_SQL, &[]),
        third.query(DISTRIBUTIONS_SQL, &[]),
    )?;
    let mut with_genres: BTreeMap<Option<Uuid>, (i64, i64)> = BTreeMap::new();
    for row in &genres {
        with_genres.insert(
            row.try_get("library_id")?,
            (row.try_get("with_genres")?, row.try_get("complete")?),
        );
    }
    let mut libraries = counts
        .iter()
        .map(|r| {
            let library_id: Option<Uuid> = r.try_get("id")?;
            let total: i64 = r.try_get("total")?;
            let (genred, complete) = with_genres.get(&library_id).copied().unwrap_or((0, 0));
            Ok(LibraryHealthReport {
                library_id,
                name: r.try_get("name")?,
                library_type: r.try_get("library_type")?,
                total_items: total,
                complete_items: complete,
                metadata_completeness_percent: percent(complete, total),
                missing_overview: r.try_get("missing_overview")?,
                missing_poster: r.try_get("missing_poster")?,
                missing_year: r.try_get("missing_year")?,
                missing_genres: total - genred,
                video_codecs: Vec::new(),
                audio_codecs: Vec::new(),
                resolutions: Vec::new(),
                hdr_count: 0,
                hdr_formats: Vec::new(),
                atmos_count: r.try_get("atmos")?,
            })
        })
        .collect::<DbResult<Vec<_>>>()?;
    let index: BTreeMap<Option<Uuid>, usize> = libraries
        .iter()
        .enumerate()
        .map(|(i, l)| (l.library_id, i))
        .collect();
    for row in distributions {
        let library: Option<Uuid> = row.try_get("library_id")?;
        let Some(&i) = index.get(&library) else {
            continue;
        };
        let report = &mut libraries[i];
        let n: i64 = row.try_get("n")?;
        let set: i32 = row.try_get("grouping_set")?;
        let (list, column, missing) = match set {
            VIDEO_CODEC => (&mut report.video_codecs, "video_codec", Some("unknown")),
            AUDIO_CODEC => (&mut report.audio_codecs, "audio_codec", Some("unknown")),
            RESOLUTION => (&mut report.resolutions, "resolution", Some("unknown")),
            // SDR items (no HDR format) are not an HDR format.
            HDR_FORMAT => (&mut report.hdr_formats, "hdr_format", None),
            _ => continue,
        };
        let value: Option<String> = row.try_get(column)?;
        add(list, value.as_deref(), missing, n);
    }
    for report in &mut libraries {
        for list in [
            &mut report.video_codecs,
            &mut report.audio_codecs,
            &mut report.resolutions,
            &mut report.hdr_formats,
        ] {
            sort_by_count(list);
        }
        report.hdr_count = report.hdr_formats.iter().map(|h| h.count).sum();
    }
    Ok(LibraryHealth { libraries })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spelling_variants_merge_and_missing_values_are_named_or_skipped() {
        let mut list = Vec::new();
        add(&mut list, Some("hevc"), Some("unknown"), 2);
        add(&mut list, Some(" hevc "), Some("unknown"), 1);
        add(&mut list, None, Some("unknown"), 4);
        add(&mut list, Some("  "), Some("unknown"), 1);
        assert_eq!(
            list,
            vec![NameCount::new("hevc", 3), NameCount::new("unknown", 5)]
        );
        let mut hdr = Vec::new();
        add(&mut hdr, None, None, 7);
        add(&mut hdr, Some(""), None, 1);
        assert!(hdr.is_empty());
    }
}
