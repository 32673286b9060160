//! What the sidecar's queries need of each table: the columns it reads or writes and the
//! types it reads them as. Checked before anything is created in CineVault's database (its
//! core tables must be there first) and, in every database, once the steps have run (an
//! adopted table must have what the sidecar needs).

use super::probe::Catalog;

/// Types a column may have: several where the sidecar reads them alike (varchar or text).
const TEXT: &[&str] = &["varchar", "text", "bpchar"];
const UUID: &[&str] = &["uuid"];
const INT: &[&str] = &["int4"];
const BIGINT: &[&str] = &["int8"];
const BOOL: &[&str] = &["bool"];
const REAL: &[&str] = &["float4"];
const TS: &[&str] = &["timestamp"];
const TSTZ: &[&str] = &["timestamptz"];

type Need = (&'static str, &'static [&'static str]);

/// CineVault's core tables, with the CineVault migration that brings each (for the message
/// while the sidecar waits for them).
pub const CORE: &[(&str, &str, &[Need])] = &[
    (
        "users",
        "001",
        &[
            ("id", UUID),
            ("username", TEXT),
            ("role", &["user_role"]),
            ("is_active", BOOL),
            ("created_at", TS),
        ],
    ),
    (
        "libraries",
        "001",
        &[
            ("id", UUID),
            ("name", TEXT),
            ("media_type", &["media_type"]),
        ],
    ),
    (
        "media_items",
        "001, 018, 024",
        &[
            ("id", UUID),
            ("library_id", UUID),
            ("media_type", &["media_type"]),
            ("title", TEXT),
            ("year", INT),
            ("description", TEXT),
            ("poster_path", TEXT),
            ("file_path", TEXT),
            ("file_size", BIGINT),
            ("duration_seconds", INT),
            ("codec", TEXT),
            ("audio_codec", TEXT),
            ("resolution", TEXT),
            ("container", TEXT),
            ("hdr_format", TEXT),
            ("audio_format", TEXT),
            ("added_at", TS),
        ],
    ),
    (
        "tags",
        "003",
        &[
            ("id", UUID),
            ("name", TEXT),
            ("category", &["tag_category"]),
        ],
    ),
    (
        "media_tags",
        "003",
        &[("media_item_id", UUID), ("tag_id", UUID)],
    ),
    (
        "watch_history",
        "002",
        &[
            ("user_id", UUID),
            ("media_item_id", UUID),
            ("progress_seconds", INT),
            ("duration_seconds", INT),
            ("completed", BOOL),
            ("last_watched_at", TS),
        ],
    ),
];

/// The analytics tables (the spec's 025, CineVault's or the sidecar's) and the sidecar's
/// additions to them.
pub const ANALYTICS: &[(&str, &[Need])] = &[
    (
        "stream_sessions",
        &[
            ("id", UUID),
            ("user_id", UUID),
            ("media_item_id", UUID),
            ("playback_type", TEXT),
            ("quality", TEXT),
            ("codec", TEXT),
            ("resolution", TEXT),
            ("container", TEXT),
            ("bytes_served", BIGINT),
            ("duration_seconds", INT),
            ("client_info", TEXT),
            ("started_at", TSTZ),
            ("ended_at", TSTZ),
            ("is_active", BOOL),
            ("last_reported_at", TSTZ),
            ("source", TEXT),
        ],
    ),
    (
        "transcode_history",
        &[
            ("id", UUID),
            ("media_item_id", UUID),
            ("user_id", UUID),
            ("input_codec", TEXT),
            ("output_codec", TEXT),
            ("input_resolution", TEXT),
            ("output_resolution", TEXT),
            ("hw_accel", TEXT),
            ("quality", TEXT),
            ("duration_seconds", INT),
            ("file_size_bytes", BIGINT),
            ("success", BOOL),
            ("error_message", TEXT),
            ("started_at", TSTZ),
            ("completed_at", TSTZ),
        ],
    ),
    (
        "system_metrics",
        &[
            ("id", UUID),
            ("host", TEXT),
            ("cpu_percent", REAL),
            ("memory_percent", REAL),
            ("memory_used_mb", INT),
            ("gpu_encoder_percent", REAL),
            ("gpu_memory_percent", REAL),
            ("gpu_temp_celsius", REAL),
            ("disk_total_gb", REAL),
            ("disk_used_gb", REAL),
            ("disk_free_gb", REAL),
            ("active_streams", INT),
            ("active_transcodes", INT),
            ("recorded_at", TSTZ),
        ],
    ),
    (
        "daily_stats",
        &[
            ("stat_date", &["date"]),
            ("total_plays", INT),
            ("unique_users", INT),
            ("total_watch_minutes", INT),
            ("total_bytes_served", BIGINT),
            ("transcodes", INT),
            ("direct_plays", INT),
            ("direct_streams", INT),
            ("transcode_failures", INT),
            ("new_media_added", INT),
            ("library_size_total", INT),
            ("storage_used_bytes", BIGINT),
        ],
    ),
    (
        "notification_channels",
        &[
            ("id", UUID),
            ("name", TEXT),
            ("channel_type", TEXT),
            ("webhook_url", TEXT),
            ("is_enabled", BOOL),
            ("events", &["jsonb"]),
            ("signing_secret", TEXT),
            ("created_at", TSTZ),
            ("updated_at", TSTZ),
        ],
    ),
    (
        "alert_rules",
        &[
            ("id", UUID),
            ("name", TEXT),
            ("condition_type", TEXT),
            ("threshold", REAL),
            ("cooldown_minutes", INT),
            ("channel_id", UUID),
            ("is_enabled", BOOL),
            ("send_resolved", BOOL),
            ("last_triggered_at", TSTZ),
            ("created_at", TSTZ),
            ("updated_at", TSTZ),
        ],
    ),
    (
        "alert_log",
        &[
            ("id", UUID),
            ("rule_id", UUID),
            ("channel_id", UUID),
            ("message", TEXT),
            ("success", BOOL),
            ("error_detail", TEXT),
            ("sent_at", TSTZ),
            ("kind", TEXT),
            ("host", TEXT),
            ("http_status", INT),
            ("attempts", INT),
            ("sent_by", TEXT),
        ],
    ),
];

/// The first thing CineVault's core schema lacks, as a sentence; `None` when complete.
pub fn missing_core(catalog: &Catalog) -> Option<String> {
    for (table, migrations, needs) in CORE {
        if !catalog.has_table(table) {
            return Some(format!(
                "table {table} is missing (CineVault's migration {migrations} creates it)"
            ));
        }
        if let Some(problem) = first_problem(catalog, table, needs) {
            return Some(format!(
                "{problem} (CineVault's migrations {migrations} make it)"
            ));
        }
    }
    None
}

/// The first table or column of every kind of database that is missing or of another type.
pub fn mismatch(catalog: &Catalog) -> Option<String> {
    CORE.iter()
        .map(|(t, _, needs)| (*t, *needs))
        .chain(ANALYTICS.iter().copied())
        .find_map(|(table, needs)| {
            if !catalog.has_table(table) {
                return Some(format!("table {table} is missing"));
            }
            first_problem(catalog, table, needs)
        })
}

fn first_problem(catalog: &Catalog, table: &str, needs: &[Need]) -> Option<String> {
    needs
        .iter()
        .find_map(|(column, types)| match catalog.column_type(table, column) {
            None => Some(format!("column {table}.{column} is missing")),
            Some(t) if !types.contains(&t) => Some(format!(
                "column {table}.{column} is of type {t}; the sidecar needs {}",
                types.join(" or ")
            )),
            Some(_) => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> Catalog {
        let mut c = Catalog::default();
        for (table, _, needs) in CORE {
            for (col, types) in *needs {
                c.columns
                    .entry((*table).into())
                    .or_default()
                    .insert((*col).into(), types[0].into());
            }
        }
        c
    }

    #[test]
    fn the_first_missing_piece_is_named_with_the_migration_that_brings_it() {
        let mut c = full();
        assert_eq!(missing_core(&c), None);
        c.columns
            .get_mut("media_items")
            .expect("table")
            .remove("audio_format");
        assert_eq!(
            missing_core(&c).as_deref(),
            Some(
                "column media_items.audio_format is missing (CineVault's migrations 001, 018, 024 make it)"
            )
        );
        c.columns.remove("tags");
        assert!(missing_core(&c)
            .expect("missing")
            .starts_with("column media_items.audio_format"));
        let mut c = full();
        c.columns.remove("watch_history");
        assert_eq!(
            missing_core(&c).as_deref(),
            Some("table watch_history is missing (CineVault's migration 002 creates it)")
        );
        let mut c = full();
        c.columns
            .get_mut("users")
            .expect("users")
            .insert("created_at".into(), "timestamptz".into());
        assert!(missing_core(&c)
            .expect("type")
            .contains("users.created_at is of type timestamptz; the sidecar needs timestamp"));
    }
}
