//! Replays, against a database with CineVault's schema, every statement CineVault's Go code
//! runs on the seven analytics tables (stream_sessions, transcode_history, system_metrics,
//! daily_stats, notification_channels, alert_rules, alert_log), plus the deletes of media
//! items, libraries and users whose ON DELETE CASCADE into those tables (and into
//! watch_history and media_tags) CineVault relies on.
//!
//! The SQL text of every CineVault statement is copied byte for byte from CineVault's Go
//! source (github JustinTDCT/CineVault at b7e8cd7), tabs and line breaks included. Each runs
//! on its own (autocommit, as database/sql does), with bound parameters of the types the
//! server infers for them: `DateTime<Utc>` for timestamptz, `NaiveDateTime` where Go binds a
//! `time.Time` against a `timestamp without time zone` column (PostgreSQL drops lib/pq's
//! offset there), `NaiveDate` for `date`, `f32` for REAL, `Uuid` for uuid, and a text label
//! for enum parameters (lib/pq sends every parameter as text).
//!
//! CineVault's statements, in replay order (Go file, function; `ar` is `analytics_repository.go`,
//! `nr` is `notification_repository.go`, both in internal/repository/):
//!
//! * core rows CineVault writes while scanning and scraping:
//!   - internal/repository/user_repository.go `UserRepository.Create` (INSERT INTO users)
//!   - internal/api/handlers_sessions.go `recordSession` (INSERT INTO user_sessions; 037 only)
//!   - internal/jobs/task_metadata.go `linkGenreTags` (the genre SELECT, INSERT INTO tags,
//!     INSERT INTO media_tags)
//! * playback, internal/api/handlers_stream.go `handleStreamDirect` / `handleStreamSegment`:
//!   - `SELECT max_simultaneous_streams FROM users` (036 only) and the open-streams COUNT
//!   - ar `CreateStreamSession` (the 11-column INSERT), ar `EndStreamSession` (UPDATE)
//!   - ar `RecordTranscode` (the 15-column INSERT; CineVault has no caller for it)
//! * the collector, internal/analytics/collector.go: ar `CountActiveStreams`,
//!   ar `RecordSystemMetrics` (INSERT), ar `CleanupOldMetrics` (the 30-day DELETE)
//! * the rollup, internal/analytics/rollup.go: ar `ComputeDailyRollup` (four SELECTs),
//!   ar `UpsertDailyStat` (INSERT ... ON CONFLICT (stat_date) DO UPDATE)
//! * the dashboard, internal/api/handlers_analytics.go:
//!   - ar `GetAnalyticsOverview` (ten SELECTs) and ar `GetLatestMetrics`
//!   - ar `GetActiveStreams`, ar `GetRecentStreams`, ar `GetStreamTypeBreakdown`
//!   - ar `GetWatchActivity` (built as the Go code builds it: without filters, and with all
//!     four filters), ar `GetUserActivitySummaries`
//!   - ar `GetTranscodeStats` (two SELECTs), ar `GetRecentTranscodes`
//!   - ar `GetMetricsHistory`, ar `GetStorageStats`, ar `GetLibraryHealth` (one SELECT plus
//!     two per library), ar `GetDailyTrends`
//! * notifications, internal/api/handlers_notifications.go and internal/notifications/alerts.go:
//!   - nr `CreateChannel`, `UpdateChannel`, `GetChannel`, `ListChannels`,
//!     `ListEnabledChannels`
//!   - nr `CreateAlertRule`, `UpdateAlertRule`, `ListAlertRules`
//!   - the evaluator: nr `ListEnabledAlertRules` (the rules ⋈ channels join),
//!     ar `GetLatestMetrics`, nr `StreamErrorCount`, nr `TranscodeFailureCount`,
//!     nr `GetChannel`, nr `LogAlert` (INSERT), nr `UpdateLastTriggered` (UPDATE)
//!   - nr `GetRecentAlerts`
//!   - nr `SetPreference`, `GetPreferencesForEvent`, `GetUserPreferences` (037 only)
//!   - nr `DeleteAlertRule`, nr `DeleteChannel`
//! * deletes: internal/repository/media_repository.go `MediaRepository.Delete` and
//!   `BulkDelete`, internal/repository/media_updates.go `MarkUnavailable`,
//!   internal/repository/library_repository.go `LibraryRepository.Delete`,
//!   internal/repository/user_repository.go `UserRepository.Delete`.
//!
//! The replay's own statements (not CineVault's text) are the CineVault-shaped INSERTs of
//! libraries, media items and watch_history rows (CineVault's own INSERTs name columns that
//! the fixture schema leaves out), a schema probe, and the checks after each delete that the
//! dependent rows are really gone.
//!
//! Statements that exist only in later CineVault schemas (028 extras, 036 stream limits, 037
//! sessions and notification preferences) run only when the schema has them; on a
//! migration-025 schema everything else runs.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use tokio_postgres::types::{IsNull, Kind, ToSql, Type};
use tokio_postgres::{Client, Row};
use uuid::Uuid;

/// What a replay did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Replayed {
    /// Every statement run: CineVault's, the seed INSERTs and the checks.
    pub statements: usize,
    /// Of those, the statements whose SQL text is CineVault's.
    pub cinevault_statements: usize,
    /// The schema had what CineVault's migrations 028, 036 and 037 add, so the statements
    /// that need them ran too.
    pub latest: bool,
    /// Rows that existed just before CineVault's deletes and were gone after them.
    pub cascaded: Cascaded,
}

/// Dependent rows removed by the cascades of CineVault's deletes (all checked to be 0 after).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cascaded {
    /// Media items removed with their library.
    pub media_items: i64,
    /// Household sub-profiles removed with their parent user.
    pub users: i64,
    pub stream_sessions: i64,
    pub transcode_history: i64,
    pub watch_history: i64,
    pub media_tags: i64,
    /// 037 only.
    pub user_sessions: i64,
    /// 037 only: with the user and with the channel.
    pub user_notification_preferences: i64,
    /// Alert rules removed with their channel.
    pub alert_rules: i64,
    /// alert_log rows whose rule_id or channel_id became NULL (ON DELETE SET NULL).
    pub alert_log_set_null: i64,
}

// ─────────────── CineVault's statements (exact text) ───────────────

// analytics_repository.go:26 CreateStreamSession
pub const CREATE_STREAM_SESSION: &str = "INSERT INTO stream_sessions (id, user_id, media_item_id, playback_type, quality, codec, resolution, container, client_info, started_at, is_active)
\t\tVALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)";

// analytics_repository.go:34 EndStreamSession
pub const END_STREAM_SESSION: &str = "UPDATE stream_sessions SET ended_at=$1, is_active=false, bytes_served=$2, duration_seconds=$3 WHERE id=$4";

// analytics_repository.go:40 GetActiveStreams
const GET_ACTIVE_STREAMS: &str = "SELECT ss.id, ss.user_id, ss.media_item_id, ss.playback_type, ss.quality, ss.codec, ss.resolution,
\t\tss.bytes_served, ss.duration_seconds, ss.started_at, ss.is_active,
\t\tu.username, m.title
\t\tFROM stream_sessions ss
\t\tJOIN users u ON u.id = ss.user_id
\t\tJOIN media_items m ON m.id = ss.media_item_id
\t\tWHERE ss.is_active = true
\t\tORDER BY ss.started_at DESC";

// analytics_repository.go:67 GetRecentStreams
const GET_RECENT_STREAMS: &str =
    "SELECT ss.id, ss.user_id, ss.media_item_id, ss.playback_type, ss.quality, ss.resolution,
\t\tss.bytes_served, ss.duration_seconds, ss.started_at, ss.ended_at, ss.is_active,
\t\tu.username, m.title
\t\tFROM stream_sessions ss
\t\tJOIN users u ON u.id = ss.user_id
\t\tJOIN media_items m ON m.id = ss.media_item_id
\t\tORDER BY ss.started_at DESC LIMIT $1";

// analytics_repository.go:94 CountActiveStreams (also :221, GetAnalyticsOverview)
const COUNT_ACTIVE_STREAMS: &str = "SELECT COUNT(*) FROM stream_sessions WHERE is_active = true";

// analytics_repository.go:104 RecordTranscode
const RECORD_TRANSCODE: &str = "INSERT INTO transcode_history (id, media_item_id, user_id, input_codec, output_codec, input_resolution, output_resolution, hw_accel, quality, duration_seconds, file_size_bytes, success, error_message, started_at, completed_at)
\t\tVALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15)";

// analytics_repository.go:116 GetTranscodeStats
const TRANSCODE_STATS: &str = "SELECT COUNT(*), COALESCE(SUM(CASE WHEN success THEN 1 ELSE 0 END),0),
\t\tCOALESCE(SUM(CASE WHEN NOT success THEN 1 ELSE 0 END),0),
\t\tCOALESCE(AVG(duration_seconds),0),
\t\tCOALESCE(SUM(CASE WHEN hw_accel IS NOT NULL AND hw_accel != 'libx264' THEN 1 ELSE 0 END)::float / NULLIF(COUNT(*),0) * 100, 0)
\t\tFROM transcode_history WHERE started_at >= $1";

// analytics_repository.go:130 GetTranscodeStats (codec distribution)
const TRANSCODE_CODECS: &str = "SELECT COALESCE(output_codec,'unknown'), COUNT(*) FROM transcode_history WHERE started_at >= $1 GROUP BY output_codec ORDER BY COUNT(*) DESC LIMIT 10";

// analytics_repository.go:143 GetRecentTranscodes
const RECENT_TRANSCODES: &str = "SELECT th.id, th.media_item_id, th.user_id, th.input_codec, th.output_codec, th.output_resolution, th.hw_accel, th.quality, th.duration_seconds, th.success, th.error_message, th.started_at, th.completed_at, m.title
\t\tFROM transcode_history th
\t\tJOIN media_items m ON m.id = th.media_item_id
\t\tORDER BY th.started_at DESC LIMIT $1";

// analytics_repository.go:168 RecordSystemMetrics
pub const RECORD_SYSTEM_METRICS: &str = "INSERT INTO system_metrics (id, cpu_percent, memory_percent, memory_used_mb, gpu_encoder_percent, gpu_memory_percent, gpu_temp_celsius, disk_total_gb, disk_used_gb, disk_free_gb, active_streams, active_transcodes, recorded_at)
\t\tVALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)";

// analytics_repository.go:178 GetLatestMetrics
const LATEST_METRICS: &str = "SELECT id, cpu_percent, memory_percent, memory_used_mb, gpu_encoder_percent, gpu_memory_percent, gpu_temp_celsius, disk_total_gb, disk_used_gb, disk_free_gb, active_streams, active_transcodes, recorded_at
\t\tFROM system_metrics ORDER BY recorded_at DESC LIMIT 1";

// analytics_repository.go:189 GetMetricsHistory
const METRICS_HISTORY: &str = "SELECT id, cpu_percent, memory_percent, memory_used_mb, gpu_encoder_percent, gpu_memory_percent, gpu_temp_celsius, disk_total_gb, disk_used_gb, disk_free_gb, active_streams, active_transcodes, recorded_at
\t\tFROM system_metrics WHERE recorded_at >= $1 ORDER BY recorded_at ASC";

// analytics_repository.go:209 CleanupOldMetrics
pub const CLEANUP_OLD_METRICS: &str = "DELETE FROM system_metrics WHERE recorded_at < $1";

// analytics_repository.go:224 and :227 GetAnalyticsOverview (plays today, plays this week)
const OVERVIEW_PLAYS_SINCE: &str = "SELECT COUNT(*) FROM stream_sessions WHERE started_at >= $1";

// analytics_repository.go:230 GetAnalyticsOverview
const OVERVIEW_UNIQUE_USERS: &str =
    "SELECT COUNT(DISTINCT user_id) FROM stream_sessions WHERE started_at >= $1";

// analytics_repository.go:233 GetAnalyticsOverview
const OVERVIEW_BANDWIDTH: &str =
    "SELECT COALESCE(SUM(bytes_served),0) FROM stream_sessions WHERE started_at >= $1";

// analytics_repository.go:236 GetAnalyticsOverview
const OVERVIEW_LIBRARY_SIZE: &str = "SELECT COUNT(*) FROM media_items";

// analytics_repository.go:239 GetAnalyticsOverview
const OVERVIEW_STORAGE: &str = "SELECT COALESCE(SUM(file_size),0) FROM media_items";

// analytics_repository.go:242 GetAnalyticsOverview
const OVERVIEW_TRANSCODES_TODAY: &str =
    "SELECT COUNT(*) FROM stream_sessions WHERE started_at >= $1 AND playback_type = 'transcode'";

// analytics_repository.go:245 GetAnalyticsOverview
const OVERVIEW_DIRECT_PLAYS_TODAY: &str =
    "SELECT COUNT(*) FROM stream_sessions WHERE started_at >= $1 AND playback_type = 'direct_play'";

// analytics_repository.go:248 GetAnalyticsOverview
const OVERVIEW_FAILURES_TODAY: &str =
    "SELECT COUNT(*) FROM transcode_history WHERE started_at >= $1 AND success = false";

// analytics_repository.go:266 GetStreamTypeBreakdown
const STREAM_TYPE_BREAKDOWN: &str =
    "SELECT COALESCE(SUM(CASE WHEN playback_type='direct_play' THEN 1 ELSE 0 END),0),
\t\tCOALESCE(SUM(CASE WHEN playback_type='direct_stream' THEN 1 ELSE 0 END),0),
\t\tCOALESCE(SUM(CASE WHEN playback_type='transcode' THEN 1 ELSE 0 END),0),
\t\tCOUNT(*)
\t\tFROM stream_sessions WHERE started_at >= $1";

// analytics_repository.go:278 GetWatchActivity (the fixed part; see watch_activity_sql)
const WATCH_ACTIVITY_BASE: &str = "SELECT wh.user_id, u.username, wh.media_item_id, m.title, COALESCE(ss.playback_type,'direct_play'),
\t\twh.last_watched_at, COALESCE(wh.progress_seconds/60,0), wh.completed, m.poster_path
\t\tFROM watch_history wh
\t\tJOIN users u ON u.id = wh.user_id
\t\tJOIN media_items m ON m.id = wh.media_item_id
\t\tLEFT JOIN LATERAL (SELECT playback_type FROM stream_sessions WHERE user_id = wh.user_id AND media_item_id = wh.media_item_id ORDER BY started_at DESC LIMIT 1) ss ON true
\t\tWHERE 1=1";

// analytics_repository.go:331 GetUserActivitySummaries
const USER_ACTIVITY: &str = "SELECT u.id, u.username,
\t\tCOUNT(wh.id) AS total_plays,
\t\tCOALESCE(SUM(wh.progress_seconds)/60, 0) AS total_mins,
\t\tCOALESCE(MAX(wh.last_watched_at), u.created_at) AS last_active
\t\tFROM users u
\t\tLEFT JOIN watch_history wh ON wh.user_id = u.id
\t\tWHERE u.is_active = true
\t\tGROUP BY u.id, u.username, u.created_at
\t\tORDER BY total_plays DESC";

// analytics_repository.go:359 GetStorageStats
const STORAGE_STATS: &str = "SELECT l.id, l.name, COUNT(m.id), COALESCE(SUM(m.file_size),0)
\t\tFROM libraries l
\t\tLEFT JOIN media_items m ON m.library_id = l.id
\t\tGROUP BY l.id, l.name ORDER BY SUM(m.file_size) DESC NULLS LAST";

// analytics_repository.go:382 GetLibraryHealth
const LIBRARY_HEALTH: &str = "SELECT l.id, l.name,
\t\tCOUNT(m.id) AS total,
\t\tCOALESCE(SUM(CASE WHEN m.description IS NULL OR m.description = '' THEN 1 ELSE 0 END),0) AS missing_meta,
\t\tCOALESCE(SUM(CASE WHEN m.poster_path IS NULL THEN 1 ELSE 0 END),0) AS missing_poster,
\t\tCOALESCE(SUM(CASE WHEN m.hdr_format IS NOT NULL AND m.hdr_format != '' THEN 1 ELSE 0 END),0) AS hdr_count,
\t\tCOALESCE(SUM(CASE WHEN m.audio_format IS NOT NULL AND LOWER(m.audio_format) LIKE '%atmos%' THEN 1 ELSE 0 END),0) AS atmos_count
\t\tFROM libraries l
\t\tLEFT JOIN media_items m ON m.library_id = l.id
\t\tGROUP BY l.id, l.name";

// analytics_repository.go:410 GetLibraryHealth (per library)
const LIBRARY_CODECS: &str = "SELECT COALESCE(codec,'unknown'), COUNT(*) FROM media_items WHERE library_id=$1 GROUP BY codec ORDER BY COUNT(*) DESC LIMIT 10";

// analytics_repository.go:419 GetLibraryHealth (per library)
const LIBRARY_RESOLUTIONS: &str = "SELECT COALESCE(resolution,'unknown'), COUNT(*) FROM media_items WHERE library_id=$1 GROUP BY resolution ORDER BY COUNT(*) DESC LIMIT 10";

// analytics_repository.go:436 GetDailyTrends
const DAILY_TRENDS: &str = "SELECT id, stat_date, total_plays, unique_users, total_watch_minutes, total_bytes_served,
\t\ttranscodes, direct_plays, direct_streams, transcode_failures, new_media_added, library_size_total, storage_used_bytes
\t\tFROM daily_stats WHERE stat_date >= $1 AND stat_date <= $2 ORDER BY stat_date ASC";

// analytics_repository.go:458 UpsertDailyStat
pub const UPSERT_DAILY_STAT: &str = "INSERT INTO daily_stats (id, stat_date, total_plays, unique_users, total_watch_minutes, total_bytes_served, transcodes, direct_plays, direct_streams, transcode_failures, new_media_added, library_size_total, storage_used_bytes)
\t\tVALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)
\t\tON CONFLICT (stat_date) DO UPDATE SET
\t\t\ttotal_plays=$3, unique_users=$4, total_watch_minutes=$5, total_bytes_served=$6,
\t\t\ttranscodes=$7, direct_plays=$8, direct_streams=$9, transcode_failures=$10,
\t\t\tnew_media_added=$11, library_size_total=$12, storage_used_bytes=$13";

// analytics_repository.go:478 ComputeDailyRollup
const ROLLUP_STREAMS: &str = "SELECT COUNT(*), COUNT(DISTINCT user_id), COALESCE(SUM(duration_seconds)/60,0), COALESCE(SUM(bytes_served),0),
\t\tCOALESCE(SUM(CASE WHEN playback_type='transcode' THEN 1 ELSE 0 END),0),
\t\tCOALESCE(SUM(CASE WHEN playback_type='direct_play' THEN 1 ELSE 0 END),0),
\t\tCOALESCE(SUM(CASE WHEN playback_type='direct_stream' THEN 1 ELSE 0 END),0)
\t\tFROM stream_sessions WHERE started_at >= $1 AND started_at < $2";

// analytics_repository.go:487 ComputeDailyRollup
const ROLLUP_FAILURES: &str = "SELECT COUNT(*) FROM transcode_history WHERE started_at >= $1 AND started_at < $2 AND success = false";

// analytics_repository.go:491 ComputeDailyRollup
const ROLLUP_NEW_MEDIA: &str =
    "SELECT COUNT(*) FROM media_items WHERE added_at >= $1 AND added_at < $2";

// analytics_repository.go:495 ComputeDailyRollup
const ROLLUP_LIBRARY_TOTALS: &str = "SELECT COUNT(*), COALESCE(SUM(file_size),0) FROM media_items";

// notification_repository.go:26 CreateChannel
const CREATE_CHANNEL: &str = "INSERT INTO notification_channels (id, name, channel_type, webhook_url, is_enabled, events, created_at, updated_at)
\t\tVALUES ($1,$2,$3,$4,$5,$6,$7,$8)";

// notification_repository.go:34 UpdateChannel
const UPDATE_CHANNEL: &str = "UPDATE notification_channels SET name=$1, channel_type=$2, webhook_url=$3, is_enabled=$4, events=$5, updated_at=$6 WHERE id=$7";

// notification_repository.go:40 DeleteChannel
const DELETE_CHANNEL: &str = "DELETE FROM notification_channels WHERE id=$1";

// notification_repository.go:46 GetChannel
const GET_CHANNEL: &str =
    "SELECT id, name, channel_type, webhook_url, is_enabled, events, created_at, updated_at
\t\tFROM notification_channels WHERE id=$1";

// notification_repository.go:56 ListChannels
const LIST_CHANNELS: &str =
    "SELECT id, name, channel_type, webhook_url, is_enabled, events, created_at, updated_at
\t\tFROM notification_channels ORDER BY created_at ASC";

// notification_repository.go:74 ListEnabledChannels
const LIST_ENABLED_CHANNELS: &str =
    "SELECT id, name, channel_type, webhook_url, is_enabled, events, created_at, updated_at
\t\tFROM notification_channels WHERE is_enabled = true ORDER BY created_at ASC";

// notification_repository.go:98 CreateAlertRule
const CREATE_ALERT_RULE: &str = "INSERT INTO alert_rules (id, name, condition_type, threshold, cooldown_minutes, channel_id, is_enabled, created_at, updated_at)
\t\tVALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)";

// notification_repository.go:106 UpdateAlertRule
const UPDATE_ALERT_RULE: &str = "UPDATE alert_rules SET name=$1, condition_type=$2, threshold=$3, cooldown_minutes=$4, channel_id=$5, is_enabled=$6, updated_at=$7 WHERE id=$8";

// notification_repository.go:112 DeleteAlertRule
const DELETE_ALERT_RULE: &str = "DELETE FROM alert_rules WHERE id=$1";

// notification_repository.go:117 ListAlertRules
const LIST_ALERT_RULES: &str = "SELECT ar.id, ar.name, ar.condition_type, ar.threshold, ar.cooldown_minutes, ar.channel_id, ar.is_enabled, ar.last_triggered_at, ar.created_at, ar.updated_at, nc.name
\t\tFROM alert_rules ar JOIN notification_channels nc ON nc.id = ar.channel_id
\t\tORDER BY ar.created_at ASC";

// notification_repository.go:136 ListEnabledAlertRules (the evaluator's join)
const LIST_ENABLED_ALERT_RULES: &str = "SELECT ar.id, ar.name, ar.condition_type, ar.threshold, ar.cooldown_minutes, ar.channel_id, ar.is_enabled, ar.last_triggered_at, ar.created_at, ar.updated_at, nc.name
\t\tFROM alert_rules ar JOIN notification_channels nc ON nc.id = ar.channel_id
\t\tWHERE ar.is_enabled = true AND nc.is_enabled = true
\t\tORDER BY ar.created_at ASC";

// notification_repository.go:156 UpdateLastTriggered
pub const UPDATE_LAST_TRIGGERED: &str =
    "UPDATE alert_rules SET last_triggered_at = CURRENT_TIMESTAMP WHERE id = $1";

// notification_repository.go:164 LogAlert
pub const LOG_ALERT: &str =
    "INSERT INTO alert_log (id, rule_id, channel_id, message, success, error_detail, sent_at)
\t\tVALUES ($1,$2,$3,$4,$5,$6,CURRENT_TIMESTAMP)";

// notification_repository.go:170 GetRecentAlerts
const RECENT_ALERTS: &str =
    "SELECT al.id, al.rule_id, al.channel_id, al.message, al.success, al.error_detail, al.sent_at,
\t\tCOALESCE(ar.name,''), COALESCE(nc.name,'')
\t\tFROM alert_log al
\t\tLEFT JOIN alert_rules ar ON ar.id = al.rule_id
\t\tLEFT JOIN notification_channels nc ON nc.id = al.channel_id
\t\tORDER BY al.sent_at DESC LIMIT $1";

// notification_repository.go:196 TranscodeFailureCount
const TRANSCODE_FAILURE_COUNT: &str =
    "SELECT COUNT(*) FROM transcode_history WHERE success = false AND started_at >= $1";

// notification_repository.go:204 StreamErrorCount
const STREAM_ERROR_COUNT: &str = "SELECT COUNT(*) FROM stream_sessions WHERE started_at >= $1 AND is_active = false AND duration_seconds < 10";

// notification_repository.go:220 GetPreferencesForEvent (037)
const PREFERENCES_FOR_EVENT: &str = "SELECT user_id, event_type, channel_id, enabled
\t\tFROM user_notification_preferences WHERE event_type = $1 AND enabled = TRUE";

// notification_repository.go:240 SetPreference (037)
const SET_PREFERENCE: &str =
    "INSERT INTO user_notification_preferences (user_id, event_type, channel_id, enabled)
\t\tVALUES ($1, $2, $3, $4) ON CONFLICT (user_id, event_type, channel_id)
\t\tDO UPDATE SET enabled = $4";

// notification_repository.go:248 GetUserPreferences (037)
const USER_PREFERENCES: &str = "SELECT user_id, event_type, channel_id, enabled
\t\tFROM user_notification_preferences WHERE user_id = $1";

// handlers_stream.go:367 handleStreamDirect (036)
const USER_STREAM_LIMIT: &str = "SELECT max_simultaneous_streams FROM users WHERE id = $1";

// handlers_stream.go:370 handleStreamDirect (the max_simultaneous_streams check)
const COUNT_USER_OPEN_STREAMS: &str =
    "SELECT COUNT(*) FROM stream_sessions WHERE user_id = $1 AND ended_at IS NULL";

// user_repository.go:38 UserRepository.Create
const CREATE_USER: &str = "
\t\tINSERT INTO users (id, username, email, password_hash, pin_hash, display_name, first_name, last_name,
\t\t                    role, is_active, max_content_rating, is_kids_profile, avatar_id, parent_user_id)
\t\tVALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
\t\tRETURNING created_at, updated_at";

// user_repository.go:280 UserRepository.Delete
const DELETE_USER: &str = "DELETE FROM users WHERE id = $1";

// library_repository.go:299 LibraryRepository.Delete
const DELETE_LIBRARY: &str = "DELETE FROM libraries WHERE id = $1";

// media_repository.go:158 MediaRepository.Delete
const DELETE_MEDIA_ITEM: &str = "DELETE FROM media_items WHERE id = $1";

// media_repository.go:180 MediaRepository.BulkDelete: "DELETE FROM media_items WHERE id IN (%s)"
// with the placeholders joined by ", ", as built for two ids.
const BULK_DELETE_TWO_MEDIA_ITEMS: &str = "DELETE FROM media_items WHERE id IN ($1, $2)";

// media_updates.go:13 MarkUnavailable
const MARK_UNAVAILABLE: &str = "DELETE FROM media_items WHERE file_path = $1";

// task_metadata.go:387 and :394 linkGenreTags
const FIND_GENRE_TAG: &str =
    "SELECT id FROM tags WHERE category = 'genre' AND LOWER(name) = LOWER($1)";

// task_metadata.go:391 linkGenreTags
const INSERT_GENRE_TAG: &str = "INSERT INTO tags (id, name, slug, category) VALUES ($1, $2, $3, 'genre') ON CONFLICT DO NOTHING";

// task_metadata.go:397 linkGenreTags
const LINK_MEDIA_TAG: &str =
    "INSERT INTO media_tags (media_item_id, tag_id) VALUES ($1, $2) ON CONFLICT DO NOTHING";

// handlers_sessions.go:92 recordSession (037)
const RECORD_USER_SESSION: &str =
    "INSERT INTO user_sessions (user_id, token_hash, device_info, ip_address)
\t\tVALUES ($1, $2, $3, $4)";

/// analytics_repository.go:277-309 GetWatchActivity: the query as the Go code assembles it.
fn watch_activity_sql(user: bool, from: bool, to: bool, media_type: bool) -> String {
    let mut query = WATCH_ACTIVITY_BASE.to_string();
    let mut param_idx = 1;
    if user {
        query += &format!(" AND wh.user_id = ${param_idx}");
        param_idx += 1;
    }
    if from {
        query += &format!(" AND wh.last_watched_at >= ${param_idx}");
        param_idx += 1;
    }
    if to {
        query += &format!(" AND wh.last_watched_at <= ${param_idx}");
        param_idx += 1;
    }
    if media_type {
        query += &format!(" AND m.media_type = ${param_idx}");
        param_idx += 1;
    }
    query += &format!(" ORDER BY wh.last_watched_at DESC LIMIT ${param_idx}");
    query
}

// ─────────────── The replay's own statements (CineVault-shaped) ───────────────

/// Which later CineVault migrations the schema has.
const PROBE_SCHEMA: &str = "SELECT
    EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = 'public'
            AND table_name = 'media_items' AND column_name = 'parent_media_id'),
    EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = 'public'
            AND table_name = 'users' AND column_name = 'max_simultaneous_streams'),
    to_regclass('public.user_notification_preferences') IS NOT NULL
        AND to_regclass('public.user_sessions') IS NOT NULL";

/// LibraryRepository.Create's shape, with the columns a migration-025 schema has.
const INSERT_LIBRARY: &str =
    "INSERT INTO libraries (id, name, media_type, path, is_enabled, scan_on_startup,
    season_grouping, access_level, include_in_homepage, include_in_search,
    retrieve_metadata, nfo_import, nfo_export, prefer_local_artwork, adult_content_type)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
RETURNING created_at, updated_at";

/// MediaRepository.Create's shape, with the columns the fixture schema has (added_at
/// comes from the column default, as in CineVault).
const INSERT_MEDIA_ITEM: &str = "INSERT INTO media_items (
    id, library_id, media_type, file_path, file_name, file_size,
    title, sort_title, description, year, duration_seconds,
    resolution, width, height, codec, container, bitrate, audio_codec, audio_channels,
    poster_path, tv_show_id, tv_season_id, episode_number,
    edition_type, hdr_format, dynamic_range, audio_format
) VALUES (
    $1, $2, $3, $4, $5, $6,
    $7, $8, $9, $10, $11,
    $12, $13, $14, $15, $16, $17, $18, $19,
    $20, $21, $22, $23,
    $24, $25, $26, $27
)
RETURNING added_at, updated_at";

/// A trailer attached to a movie (migration 028's extras).
const INSERT_EXTRA: &str = "INSERT INTO media_items (
    id, library_id, media_type, file_path, file_name, file_size, title,
    resolution, codec, container, parent_media_id, extra_type
) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
RETURNING added_at";

/// WatchHistoryRepository.Upsert's shape, without edition_group_id (not in the fixture).
const UPSERT_WATCH_HISTORY: &str = "INSERT INTO watch_history (id, user_id, media_item_id,
                           progress_seconds, duration_seconds, completed, last_watched_at)
VALUES ($1, $2, $3, $4, $5, $6, CURRENT_TIMESTAMP)
ON CONFLICT (user_id, media_item_id) DO UPDATE SET
    progress_seconds = EXCLUDED.progress_seconds,
    duration_seconds = EXCLUDED.duration_seconds,
    completed = EXCLUDED.completed,
    last_watched_at = CURRENT_TIMESTAMP
RETURNING id, last_watched_at";

/// What lib/pq would scan into int64 from ROLLUP_LIBRARY_TOTALS' numeric SUM.
const STORAGE_BYTES: &str = "SELECT COALESCE(SUM(file_size),0)::bigint FROM media_items";

const CHECK_DAILY_STAT: &str =
    "SELECT total_plays, library_size_total FROM daily_stats WHERE stat_date = $1";

const DEPENDENTS_OF_ITEMS: &str = "SELECT
    (SELECT COUNT(*) FROM media_items WHERE id = ANY($1)),
    (SELECT COUNT(*) FROM stream_sessions WHERE media_item_id = ANY($1)),
    (SELECT COUNT(*) FROM transcode_history WHERE media_item_id = ANY($1)),
    (SELECT COUNT(*) FROM watch_history WHERE media_item_id = ANY($1)),
    (SELECT COUNT(*) FROM media_tags WHERE media_item_id = ANY($1))";

const DEPENDENTS_OF_USERS: &str = "SELECT
    (SELECT COUNT(*) FROM users WHERE id = ANY($1)),
    (SELECT COUNT(*) FROM stream_sessions WHERE user_id = ANY($1)),
    (SELECT COUNT(*) FROM transcode_history WHERE user_id = ANY($1)),
    (SELECT COUNT(*) FROM watch_history WHERE user_id = ANY($1))";

const SESSIONS_AND_PREFERENCES_OF_USERS: &str = "SELECT
    (SELECT COUNT(*) FROM user_sessions WHERE user_id = ANY($1)),
    (SELECT COUNT(*) FROM user_notification_preferences WHERE user_id = ANY($1))";

const EXTRA_PARENT: &str = "SELECT parent_media_id FROM media_items WHERE id = $1";

const DEPENDENTS_OF_CHANNEL: &str = "SELECT
    (SELECT COUNT(*) FROM alert_rules WHERE channel_id = $1),
    (SELECT COUNT(*) FROM alert_log WHERE channel_id = $1 OR rule_id = ANY($2))";

const PREFERENCES_OF_CHANNEL: &str =
    "SELECT COUNT(*) FROM user_notification_preferences WHERE channel_id = $1";

const ALERT_LOG_NULLED: &str =
    "SELECT COUNT(*) FROM alert_log WHERE id = ANY($1) AND rule_id IS NULL AND channel_id IS NULL";

// ─────────────── Running statements ───────────────

type Param<'a> = &'a (dyn ToSql + Sync);

/// An enum value bound the way lib/pq binds a Go string: as its text label (the binary
/// form of an enum is its label), for a parameter the server inferred as an enum.
#[derive(Debug, Clone, Copy)]
struct Label(&'static str);

impl ToSql for Label {
    fn to_sql(
        &self,
        _ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        out.extend_from_slice(self.0.as_bytes());
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        matches!(ty.kind(), Kind::Enum(_))
    }

    tokio_postgres::types::to_sql_checked!();
}

fn failure(name: &str, sql: &str, err: &tokio_postgres::Error) -> String {
    let mut msg = format!("statement `{name}` failed: {err}\n  SQL: {sql}");
    if let Some(db) = err.as_db_error() {
        msg += &format!(
            "\n  PostgreSQL {} {}: {}",
            db.severity(),
            db.code().code(),
            db.message()
        );
        if let Some(detail) = db.detail() {
            msg += &format!("\n  detail: {detail}");
        }
        if let Some(hint) = db.hint() {
            msg += &format!("\n  hint: {hint}");
        }
        if let Some(position) = db.position() {
            msg += &format!("\n  position: {position:?}");
        }
        if let Some(where_) = db.where_() {
            msg += &format!("\n  where: {where_}");
        }
        if let Some(constraint) = db.constraint() {
            msg += &format!("\n  constraint: {constraint}");
        }
    }
    msg
}

fn get<'r, T: tokio_postgres::types::FromSql<'r>>(
    row: &'r Row,
    idx: usize,
    name: &str,
) -> Result<T, String> {
    row.try_get(idx)
        .map_err(|e| format!("statement `{name}`: column {idx}: {e}"))
}

fn check(ok: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(what())
    }
}

struct Runner<'a> {
    client: &'a Client,
    statements: usize,
    cinevault: usize,
}

impl Runner<'_> {
    async fn exec(&mut self, name: &str, sql: &str, params: &[Param<'_>]) -> Result<u64, String> {
        self.statements += 1;
        self.client
            .execute(sql, params)
            .await
            .map_err(|e| failure(name, sql, &e))
    }

    async fn query(
        &mut self,
        name: &str,
        sql: &str,
        params: &[Param<'_>],
    ) -> Result<Vec<Row>, String> {
        self.statements += 1;
        self.client
            .query(sql, params)
            .await
            .map_err(|e| failure(name, sql, &e))
    }

    /// A CineVault statement run with `Exec`.
    async fn cv_exec(
        &mut self,
        name: &str,
        sql: &str,
        params: &[Param<'_>],
    ) -> Result<u64, String> {
        self.cinevault += 1;
        self.exec(name, sql, params).await
    }

    /// A CineVault statement run with `Query` / `QueryRow`.
    async fn cv_query(
        &mut self,
        name: &str,
        sql: &str,
        params: &[Param<'_>],
    ) -> Result<Vec<Row>, String> {
        self.cinevault += 1;
        self.query(name, sql, params).await
    }

    async fn cv_query_one(
        &mut self,
        name: &str,
        sql: &str,
        params: &[Param<'_>],
    ) -> Result<Row, String> {
        let mut rows = self.cv_query(name, sql, params).await?;
        check(rows.len() == 1, || {
            format!("statement `{name}` returned {} rows, not 1", rows.len())
        })?;
        Ok(rows.remove(0))
    }

    async fn own_query_one(
        &mut self,
        name: &str,
        sql: &str,
        params: &[Param<'_>],
    ) -> Result<Row, String> {
        let mut rows = self.query(name, sql, params).await?;
        check(rows.len() == 1, || {
            format!("statement `{name}` returned {} rows, not 1", rows.len())
        })?;
        Ok(rows.remove(0))
    }

    /// A one-row, all-bigint check query.
    async fn counts(
        &mut self,
        name: &str,
        sql: &str,
        params: &[Param<'_>],
    ) -> Result<Vec<i64>, String> {
        let row = self.own_query_one(name, sql, params).await?;
        (0..row.len()).map(|i| get(&row, i, name)).collect()
    }
}

// ─────────────── Seed data ───────────────

struct Item {
    title: &'static str,
    year: Option<i32>,
    file_name: &'static str,
    file_size: i64,
    duration_seconds: Option<i32>,
    resolution: Option<&'static str>,
    width: Option<i32>,
    height: Option<i32>,
    codec: Option<&'static str>,
    container: Option<&'static str>,
    bitrate: Option<i64>,
    audio_codec: Option<&'static str>,
    audio_channels: Option<i32>,
    description: Option<&'static str>,
    has_poster: bool,
    episode: Option<i32>,
    hdr_format: Option<&'static str>,
    audio_format: Option<&'static str>,
    genres: &'static [&'static str],
}

static MOVIES: [Item; 5] = [
    Item {
        title: "Dune: Part Two",
        year: Some(2024),
        file_name: "Dune.Part.Two.2024.2160p.UHD.BluRay.mkv",
        file_size: 61_203_441_664,
        duration_seconds: Some(9_956),
        resolution: Some("4K"),
        width: Some(3840),
        height: Some(2160),
        codec: Some("hevc"),
        container: Some("mkv"),
        bitrate: Some(49_180_000),
        audio_codec: Some("truehd"),
        audio_channels: Some(8),
        description: Some("Paul Atreides unites with the Fremen while on a warpath of revenge."),
        has_poster: true,
        episode: None,
        hdr_format: Some("HDR10"),
        audio_format: Some("TrueHD Atmos"),
        genres: &["Science Fiction", "Adventure"],
    },
    Item {
        title: "Arrival",
        year: Some(2016),
        file_name: "Arrival.2016.1080p.WEB-DL.mp4",
        file_size: 9_412_067_328,
        duration_seconds: Some(6_965),
        resolution: Some("1080p"),
        width: Some(1920),
        height: Some(1080),
        codec: Some("h264"),
        container: Some("mp4"),
        bitrate: Some(10_810_000),
        audio_codec: Some("aac"),
        audio_channels: Some(6),
        description: Some(
            "A linguist works with the military to communicate with alien lifeforms.",
        ),
        has_poster: true,
        episode: None,
        hdr_format: None,
        audio_format: None,
        genres: &["Science Fiction", "Drama"],
    },
    Item {
        title: "Blade Runner",
        year: Some(1982),
        file_name: "Blade.Runner.1982.720p.mp4",
        file_size: 4_294_967_296,
        duration_seconds: Some(7_036),
        resolution: Some("720p"),
        width: Some(1280),
        height: Some(720),
        codec: Some("h264"),
        container: Some("mp4"),
        bitrate: Some(4_880_000),
        audio_codec: Some("ac3"),
        audio_channels: Some(6),
        description: Some("A blade runner must pursue and terminate four replicants."),
        has_poster: true,
        episode: None,
        hdr_format: None,
        audio_format: None,
        genres: &["Science Fiction"],
    },
    Item {
        title: "Heat",
        year: Some(1995),
        file_name: "Heat.1995.DVDRip.avi",
        file_size: 1_468_006_400,
        duration_seconds: Some(10_217),
        resolution: Some("SD"),
        width: Some(720),
        height: Some(480),
        codec: Some("mpeg4"),
        container: Some("avi"),
        bitrate: Some(1_149_000),
        audio_codec: Some("mp3"),
        audio_channels: Some(2),
        description: None,
        has_poster: false,
        episode: None,
        hdr_format: None,
        audio_format: None,
        genres: &["Crime", "Drama"],
    },
    Item {
        title: "Sicario",
        year: Some(2015),
        file_name: "Sicario.2015.1080p.DV.mkv",
        file_size: 14_710_505_472,
        duration_seconds: Some(7_275),
        resolution: Some("1080p"),
        width: Some(1920),
        height: Some(1036),
        codec: Some("hevc"),
        container: Some("mkv"),
        bitrate: Some(16_170_000),
        audio_codec: Some("eac3"),
        audio_channels: Some(6),
        description: Some("An FBI agent is enlisted to aid in the war on drugs."),
        has_poster: true,
        episode: None,
        hdr_format: Some("Dolby Vision"),
        audio_format: None,
        genres: &["Crime"],
    },
];

static EPISODES: [Item; 2] = [
    Item {
        title: "Good News About Hell",
        year: Some(2022),
        file_name: "Severance.S01E01.1080p.mkv",
        file_size: 2_576_980_378,
        duration_seconds: Some(3_422),
        resolution: Some("1080p"),
        width: Some(1920),
        height: Some(1080),
        codec: Some("h264"),
        container: Some("mkv"),
        bitrate: Some(6_020_000),
        audio_codec: Some("eac3"),
        audio_channels: Some(6),
        description: Some("Mark leads a team of office workers whose memories have been split."),
        has_poster: true,
        episode: Some(1),
        hdr_format: None,
        audio_format: None,
        genres: &["Drama"],
    },
    Item {
        title: "Half Loop",
        year: Some(2022),
        file_name: "Severance.S01E02.1080p.mkv",
        file_size: 2_362_232_013,
        duration_seconds: Some(3_176),
        resolution: Some("1080p"),
        width: Some(1920),
        height: Some(1080),
        codec: Some("h264"),
        container: Some("mkv"),
        bitrate: Some(5_950_000),
        audio_codec: Some("eac3"),
        audio_channels: Some(6),
        description: None,
        has_poster: false,
        episode: Some(2),
        hdr_format: None,
        audio_format: None,
        genres: &["Drama", "Science Fiction"],
    },
];

const CHROME_UA: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36";
const SAFARI_UA: &str = "Mozilla/5.0 (iPad; CPU OS 17_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 Mobile/15E148 Safari/604.1";
const PASSWORD_HASH: &str = "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy";

/// Go's `t.Truncate(24 * time.Hour)`: UTC midnight.
fn utc_midnight(t: DateTime<Utc>) -> DateTime<Utc> {
    t.date_naive()
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc()
}

struct Seeded {
    movies_library: Uuid,
    tv_library: Uuid,
    admin: Uuid,
    viewer: Uuid,
    kid: Uuid,
    movies: Vec<(Uuid, String)>,
    episodes: Vec<Uuid>,
    extra: Option<Uuid>,
}

/// Inserts the core rows: two libraries, three users (an admin, a user and the user's
/// kids sub-profile), five movies, two episodes, genre tags and watch_history rows.
async fn seed(r: &mut Runner<'_>, run: &str, features: &Features) -> Result<Seeded, String> {
    let root = format!("/media/cv-replay-{run}");

    // Libraries.
    let movies_library = Uuid::new_v4();
    let tv_library = Uuid::new_v4();
    for (id, name, kind, path) in [
        (
            movies_library,
            "Movies",
            Label("movies"),
            format!("{root}/movies"),
        ),
        (
            tv_library,
            "TV Shows",
            Label("tv_shows"),
            format!("{root}/tv"),
        ),
    ] {
        let no_adult: Option<&str> = None;
        r.query(
            "seed: INSERT INTO libraries",
            INSERT_LIBRARY,
            &[
                &id,
                &name,
                &kind,
                &path,
                &true,
                &false,
                &(kind.0 == "tv_shows"),
                &Label("everyone"),
                &true,
                &true,
                &true,
                &false,
                &false,
                &true,
                &no_adult,
            ],
        )
        .await?;
    }

    // Users: UserRepository.Create, as the first-run setup, self-registration and the
    // household handler use it.
    let admin = Uuid::new_v4();
    let viewer = Uuid::new_v4();
    let kid = Uuid::new_v4();
    let none: Option<&str> = None;
    let no_parent: Option<Uuid> = None;
    for (id, username, display, role, rating, kids, avatar, parent) in [
        (
            admin,
            format!("admin-{run}"),
            "Admin",
            "admin",
            None,
            false,
            None,
            no_parent,
        ),
        (
            viewer,
            format!("alex-{run}"),
            "Alex",
            "user",
            None,
            false,
            Some("fox"),
            None,
        ),
        (
            kid,
            format!("alex-kids-{run}"),
            "Kids",
            "user",
            Some("PG"),
            true,
            Some("owl"),
            Some(viewer),
        ),
    ] {
        let email = format!("{username}@example.test");
        r.cv_query_one(
            "UserRepository.Create",
            CREATE_USER,
            &[
                &id,
                &username,
                &email,
                &PASSWORD_HASH,
                &none,
                &Some(display),
                &none,
                &none,
                &Label(role),
                &true,
                &rating,
                &kids,
                &avatar,
                &parent,
            ],
        )
        .await?;
    }

    if features.v037 {
        for (user, ua, ip) in [
            (admin, CHROME_UA, "192.168.1.10"),
            (viewer, SAFARI_UA, "192.168.1.23"),
        ] {
            let token_hash = format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple());
            r.cv_exec(
                "recordSession (INSERT INTO user_sessions)",
                RECORD_USER_SESSION,
                &[&user, &token_hash, &ua, &ip],
            )
            .await?;
        }
    }

    // Media items, as the scanner inserts them, then the genres as linkGenreTags links them.
    let show_id = Uuid::new_v4();
    let season_id = Uuid::new_v4();
    let mut movies = Vec::new();
    let mut episodes = Vec::new();
    let mut linked: Vec<(Uuid, &'static [&'static str])> = Vec::new();
    for (library, kind, dir, items) in [
        (movies_library, "movies", "movies", &MOVIES[..]),
        (
            tv_library,
            "tv_shows",
            "tv/Severance/Season 01",
            &EPISODES[..],
        ),
    ] {
        for item in items {
            let id = Uuid::new_v4();
            let file_path = format!("{root}/{dir}/{}", item.file_name);
            let poster = item
                .has_poster
                .then(|| format!("/previews/posters/{id}.jpg"));
            let (show, season) = match item.episode {
                Some(_) => (Some(show_id), Some(season_id)),
                None => (None, None),
            };
            let dynamic_range = if item.hdr_format.is_some() {
                "HDR"
            } else {
                "SDR"
            };
            r.query(
                "seed: INSERT INTO media_items",
                INSERT_MEDIA_ITEM,
                &[
                    &id,
                    &library,
                    &Label(kind),
                    &file_path,
                    &item.file_name,
                    &item.file_size,
                    &item.title,
                    &item.title,
                    &item.description,
                    &item.year,
                    &item.duration_seconds,
                    &item.resolution,
                    &item.width,
                    &item.height,
                    &item.codec,
                    &item.container,
                    &item.bitrate,
                    &item.audio_codec,
                    &item.audio_channels,
                    &poster,
                    &show,
                    &season,
                    &item.episode,
                    &"Theatrical",
                    &item.hdr_format,
                    &dynamic_range,
                    &item.audio_format,
                ],
            )
            .await?;
            if kind == "movies" {
                movies.push((id, file_path));
            } else {
                episodes.push(id);
            }
            linked.push((id, item.genres));
        }
    }

    let mut extra = None;
    if features.extras {
        let id = Uuid::new_v4();
        let file_path = format!("{root}/movies/Dune.Part.Two.2024-trailer.mp4");
        r.query(
            "seed: INSERT INTO media_items (extra)",
            INSERT_EXTRA,
            &[
                &id,
                &movies_library,
                &Label("movies"),
                &file_path,
                &"Dune.Part.Two.2024-trailer.mp4",
                &187_695_104_i64,
                &"Dune: Part Two (Trailer)",
                &"1080p",
                &"h264",
                &"mp4",
                &movies[0].0,
                &"trailer",
            ],
        )
        .await?;
        extra = Some(id);
    }

    for (item, genres) in linked {
        for &genre in genres {
            let found = r
                .cv_query("linkGenreTags (find genre)", FIND_GENRE_TAG, &[&genre])
                .await?;
            let tag: Uuid = match found.first() {
                Some(row) => get(row, 0, "linkGenreTags (find genre)")?,
                None => {
                    let slug = genre.replace(' ', "-").to_lowercase();
                    r.cv_exec(
                        "linkGenreTags (INSERT INTO tags)",
                        INSERT_GENRE_TAG,
                        &[&Uuid::new_v4(), &genre, &slug],
                    )
                    .await?;
                    let row = r
                        .cv_query_one(
                            "linkGenreTags (find genre again)",
                            FIND_GENRE_TAG,
                            &[&genre],
                        )
                        .await?;
                    get(&row, 0, "linkGenreTags (find genre again)")?
                }
            };
            r.cv_exec(
                "linkGenreTags (INSERT INTO media_tags)",
                LINK_MEDIA_TAG,
                &[&item, &tag],
            )
            .await?;
        }
    }

    // Progress reports (POST /api/v1/watch/{id}/progress); one pair twice, as the player
    // reports on close and again later.
    let duration = |i: &Item| i.duration_seconds.unwrap_or(0);
    for (user, item, progress, total, completed) in [
        (viewer, movies[0].0, 2_410, duration(&MOVIES[0]), false),
        (viewer, movies[0].0, 5_230, duration(&MOVIES[0]), false),
        (viewer, movies[1].0, 6_965, duration(&MOVIES[1]), true),
        (viewer, movies[3].0, 600, duration(&MOVIES[3]), false),
        (viewer, episodes[0], 3_422, duration(&EPISODES[0]), true),
        (kid, episodes[1], 1_290, duration(&EPISODES[1]), false),
        (admin, movies[4].0, 7_275, duration(&MOVIES[4]), true),
    ] {
        r.query(
            "seed: upsert watch_history",
            UPSERT_WATCH_HISTORY,
            &[
                &Uuid::new_v4(),
                &user,
                &item,
                &progress,
                &Some(total),
                &completed,
            ],
        )
        .await?;
    }

    Ok(Seeded {
        movies_library,
        tv_library,
        admin,
        viewer,
        kid,
        movies,
        episodes,
        extra,
    })
}

struct Features {
    /// 028: media_items.parent_media_id / extra_type.
    extras: bool,
    /// 036: users.max_simultaneous_streams.
    stream_limits: bool,
    /// 037: user_sessions and user_notification_preferences.
    v037: bool,
}

// ─────────────── The replay ───────────────

/// Replays CineVault's statements (see the module comment) against `client`'s database,
/// which must have CineVault's schema (real, or the fixture in src/demo). Fails with the
/// name, SQL and PostgreSQL error of the first statement that fails, or with the first
/// check that does not hold.
pub async fn replay(client: &Client) -> Result<Replayed, String> {
    let mut r = Runner {
        client,
        statements: 0,
        cinevault: 0,
    };
    let run = Uuid::new_v4().simple().to_string()[..8].to_string();

    let row = r
        .own_query_one("probe: which CineVault migrations", PROBE_SCHEMA, &[])
        .await?;
    let features = Features {
        extras: get(&row, 0, "probe")?,
        stream_limits: get(&row, 1, "probe")?,
        v037: get(&row, 2, "probe")?,
    };

    let s = seed(&mut r, &run, &features).await?;
    let (dune, arrival, blade_runner, heat, sicario) = (
        s.movies[0].0,
        s.movies[1].0,
        s.movies[2].0,
        s.movies[3].0,
        s.movies[4].0,
    );
    let (pilot, episode_two) = (s.episodes[0], s.episodes[1]);

    let now = Utc::now();
    let today = utc_midnight(now);
    let week_ago = today - Duration::days(7);
    let yesterday = utc_midnight(now - Duration::days(1));

    // ── Playback: handleStreamDirect / handleStreamSegment ──
    if features.stream_limits {
        let row = r
            .cv_query_one(
                "handleStreamDirect (max_simultaneous_streams)",
                USER_STREAM_LIMIT,
                &[&s.viewer],
            )
            .await?;
        let _max: i32 = get(&row, 0, "handleStreamDirect (max_simultaneous_streams)")?;
    }
    r.cv_query_one(
        "handleStreamDirect (open streams COUNT)",
        COUNT_USER_OPEN_STREAMS,
        &[&s.viewer],
    )
    .await?;

    struct Play {
        user: Uuid,
        item: Uuid,
        playback_type: &'static str,
        quality: Option<&'static str>,
        source: &'static Item,
        client_info: Option<&'static str>,
        started_at: DateTime<Utc>,
        /// None: never ended (CineVault's transcode rows).
        ended: Option<(DateTime<Utc>, i32)>,
    }
    let plays = [
        Play {
            user: s.viewer,
            item: arrival,
            playback_type: "direct_play",
            quality: None,
            source: &MOVIES[1],
            client_info: Some(CHROME_UA),
            started_at: now - Duration::seconds(50),
            ended: Some((now - Duration::seconds(8), 42)),
        },
        Play {
            user: s.viewer,
            item: dune,
            playback_type: "direct_stream",
            quality: None,
            source: &MOVIES[0],
            client_info: Some(CHROME_UA),
            started_at: now - Duration::seconds(30),
            ended: Some((now - Duration::seconds(25), 5)),
        },
        Play {
            user: s.viewer,
            item: dune,
            playback_type: "transcode",
            quality: Some("720p"),
            source: &MOVIES[0],
            client_info: Some(CHROME_UA),
            started_at: now - Duration::seconds(20),
            ended: None,
        },
        Play {
            user: s.kid,
            item: episode_two,
            playback_type: "direct_stream",
            quality: None,
            source: &EPISODES[1],
            client_info: Some(SAFARI_UA),
            started_at: now - Duration::minutes(40),
            ended: Some((now - Duration::minutes(18), 1_290)),
        },
        Play {
            user: s.admin,
            item: sicario,
            playback_type: "direct_stream",
            quality: None,
            source: &MOVIES[4],
            client_info: None,
            started_at: yesterday + Duration::hours(20),
            ended: Some((yesterday + Duration::hours(22), 7_200)),
        },
        Play {
            user: s.viewer,
            item: pilot,
            playback_type: "direct_stream",
            quality: None,
            source: &EPISODES[0],
            client_info: Some(SAFARI_UA),
            started_at: yesterday + Duration::hours(21),
            ended: Some((yesterday + Duration::hours(22), 3_422)),
        },
        Play {
            user: s.viewer,
            item: blade_runner,
            playback_type: "direct_play",
            quality: None,
            source: &MOVIES[2],
            client_info: Some(CHROME_UA),
            started_at: yesterday + Duration::hours(23),
            ended: Some((yesterday + Duration::hours(23) + Duration::seconds(3), 3)),
        },
    ];
    let mut transcode_session = Uuid::nil();
    for play in &plays {
        let id = Uuid::new_v4();
        r.cv_exec(
            "CreateStreamSession",
            CREATE_STREAM_SESSION,
            &[
                &id,
                &play.user,
                &play.item,
                &play.playback_type,
                &play.quality,
                &play.source.codec,
                &play.source.resolution,
                &play.source.container,
                &play.client_info,
                &play.started_at,
                &true,
            ],
        )
        .await?;
        match play.ended {
            Some((ended_at, duration)) => {
                let n = r
                    .cv_exec(
                        "EndStreamSession",
                        END_STREAM_SESSION,
                        &[&ended_at, &0_i64, &duration, &id],
                    )
                    .await?;
                check(n == 1, || {
                    format!("EndStreamSession updated {n} rows, not 1")
                })?;
            }
            None => transcode_session = id,
        }
    }
    let row = r
        .cv_query_one(
            "handleStreamDirect (open streams COUNT)",
            COUNT_USER_OPEN_STREAMS,
            &[&s.viewer],
        )
        .await?;
    let open: i64 = get(&row, 0, "handleStreamDirect (open streams COUNT)")?;
    check(open >= 1, || {
        format!("the never-ended transcode row is not counted as open ({open})")
    })?;

    // ── RecordTranscode (no caller in CineVault, but its INSERT must work) ──
    for (
        user,
        item,
        input,
        output,
        in_res,
        out_res,
        hw,
        quality,
        secs,
        bytes,
        ok,
        error,
        started,
    ) in [
        (
            s.viewer,
            dune,
            "hevc",
            "h264",
            "4K",
            "720p",
            Some("h264_nvenc"),
            "720p",
            1_812,
            1_184_366_592_i64,
            true,
            None,
            now - Duration::hours(3),
        ),
        (
            s.viewer,
            pilot,
            "h264",
            "h264",
            "1080p",
            "480p",
            Some("libx264"),
            "480p",
            4,
            0,
            false,
            Some("ffmpeg exited with status 1: Conversion failed!"),
            now - Duration::minutes(10),
        ),
        (
            s.admin,
            sicario,
            "hevc",
            "h264",
            "1080p",
            "1080p",
            Some("h264_qsv"),
            "1080p",
            7_275,
            5_368_709_120,
            true,
            None,
            yesterday + Duration::hours(20),
        ),
    ] {
        let completed_at = Some(now);
        r.cv_exec(
            "RecordTranscode",
            RECORD_TRANSCODE,
            &[
                &Uuid::new_v4(),
                &item,
                &user,
                &Some(input),
                &Some(output),
                &Some(in_res),
                &Some(out_res),
                &hw,
                &Some(quality),
                &secs,
                &bytes,
                &ok,
                &error,
                &started,
                &completed_at,
            ],
        )
        .await?;
    }

    // ── The collector: one tick, plus a row old enough for the 30-day purge ──
    let row = r
        .cv_query_one("CountActiveStreams", COUNT_ACTIVE_STREAMS, &[])
        .await?;
    let active = i32::try_from(get::<i64>(&row, 0, "CountActiveStreams")?).unwrap_or(i32::MAX);
    for (gpu, recorded_at) in [
        (
            Some((31.0_f32, 12.5_f32, 58.0_f32)),
            now - Duration::days(31),
        ),
        (Some((36.0, 14.0, 61.0)), now - Duration::seconds(60)),
        (None, now),
    ] {
        let (encoder, memory, temp) = match gpu {
            Some((e, m, t)) => (Some(e), Some(m), Some(t)),
            None => (None, None, None),
        };
        r.cv_exec(
            "RecordSystemMetrics",
            RECORD_SYSTEM_METRICS,
            &[
                &Uuid::new_v4(),
                &23.7_f32,
                &41.2_f32,
                &13_215_i32,
                &encoder,
                &memory,
                &temp,
                &3_725.3_f32,
                &3_312.8_f32,
                &412.5_f32,
                &active,
                &1_i32,
                &recorded_at,
            ],
        )
        .await?;
    }
    let purged = r
        .cv_exec(
            "CleanupOldMetrics",
            CLEANUP_OLD_METRICS,
            &[&(now - Duration::days(30))],
        )
        .await?;
    check(purged >= 1, || {
        "CleanupOldMetrics deleted no row older than 30 days".to_string()
    })?;

    // ── The rollup: RunDailyRollup for yesterday ──
    let day_end = yesterday + Duration::hours(24);
    let row = r
        .cv_query_one(
            "ComputeDailyRollup (stream sessions)",
            ROLLUP_STREAMS,
            &[&yesterday, &day_end],
        )
        .await?;
    let name = "ComputeDailyRollup (stream sessions)";
    let total_plays: i64 = get(&row, 0, name)?;
    let unique_users: i64 = get(&row, 1, name)?;
    let watch_minutes: i64 = get(&row, 2, name)?;
    // Column 3 is SUM(bigint), a numeric; CineVault never fills bytes_served, so it is 0.
    let transcodes: i64 = get(&row, 4, name)?;
    let direct_plays: i64 = get(&row, 5, name)?;
    let direct_streams: i64 = get(&row, 6, name)?;
    check(total_plays >= 3, || {
        format!("yesterday's rollup saw {total_plays} sessions, expected at least 3")
    })?;
    let row = r
        .cv_query_one(
            "ComputeDailyRollup (transcode failures)",
            ROLLUP_FAILURES,
            &[&yesterday, &day_end],
        )
        .await?;
    let failures: i64 = get(&row, 0, "ComputeDailyRollup (transcode failures)")?;
    // added_at is timestamp without time zone: lib/pq's offset is dropped, leaving UTC wall time.
    let (naive_start, naive_end): (NaiveDateTime, NaiveDateTime) =
        (yesterday.naive_utc(), day_end.naive_utc());
    let row = r
        .cv_query_one(
            "ComputeDailyRollup (new media)",
            ROLLUP_NEW_MEDIA,
            &[&naive_start, &naive_end],
        )
        .await?;
    let new_media: i64 = get(&row, 0, "ComputeDailyRollup (new media)")?;
    let row = r
        .cv_query_one(
            "ComputeDailyRollup (library totals)",
            ROLLUP_LIBRARY_TOTALS,
            &[],
        )
        .await?;
    let library_size: i64 = get(&row, 0, "ComputeDailyRollup (library totals)")?;
    let row = r
        .own_query_one("storage bytes as int64", STORAGE_BYTES, &[])
        .await?;
    let storage: i64 = get(&row, 0, "storage bytes as int64")?;
    let stat_date: NaiveDate = yesterday.date_naive();
    let int = |v: i64| i32::try_from(v).unwrap_or(i32::MAX);
    for pass in 0..2 {
        // The second pass is the next startup's rollup: ON CONFLICT (stat_date) DO UPDATE.
        let plays = int(total_plays) + pass;
        let n = r
            .cv_exec(
                "UpsertDailyStat",
                UPSERT_DAILY_STAT,
                &[
                    &Uuid::new_v4(),
                    &stat_date,
                    &plays,
                    &int(unique_users),
                    &int(watch_minutes),
                    &0_i64,
                    &int(transcodes),
                    &int(direct_plays),
                    &int(direct_streams),
                    &int(failures),
                    &int(new_media),
                    &int(library_size),
                    &storage,
                ],
            )
            .await?;
        check(n == 1, || {
            format!("UpsertDailyStat affected {n} rows, not 1")
        })?;
    }
    let row = r
        .own_query_one("daily_stats row", CHECK_DAILY_STAT, &[&stat_date])
        .await?;
    let stored: [i32; 2] = [
        get(&row, 0, "daily_stats row")?,
        get(&row, 1, "daily_stats row")?,
    ];
    check(stored == [int(total_plays) + 1, int(library_size)], || {
        format!("daily_stats after the upserts holds {stored:?}")
    })?;

    // ── The dashboard ──
    r.cv_query_one(
        "GetAnalyticsOverview (active streams)",
        COUNT_ACTIVE_STREAMS,
        &[],
    )
    .await?;
    r.cv_query_one(
        "GetAnalyticsOverview (plays today)",
        OVERVIEW_PLAYS_SINCE,
        &[&today],
    )
    .await?;
    r.cv_query_one(
        "GetAnalyticsOverview (plays this week)",
        OVERVIEW_PLAYS_SINCE,
        &[&week_ago],
    )
    .await?;
    r.cv_query_one(
        "GetAnalyticsOverview (unique users today)",
        OVERVIEW_UNIQUE_USERS,
        &[&today],
    )
    .await?;
    r.cv_query_one(
        "GetAnalyticsOverview (bandwidth today)",
        OVERVIEW_BANDWIDTH,
        &[&today],
    )
    .await?;
    r.cv_query_one(
        "GetAnalyticsOverview (library size)",
        OVERVIEW_LIBRARY_SIZE,
        &[],
    )
    .await?;
    r.cv_query_one("GetAnalyticsOverview (storage)", OVERVIEW_STORAGE, &[])
        .await?;
    r.cv_query_one(
        "GetAnalyticsOverview (transcodes today)",
        OVERVIEW_TRANSCODES_TODAY,
        &[&today],
    )
    .await?;
    r.cv_query_one(
        "GetAnalyticsOverview (direct plays today)",
        OVERVIEW_DIRECT_PLAYS_TODAY,
        &[&today],
    )
    .await?;
    r.cv_query_one(
        "GetAnalyticsOverview (failures today)",
        OVERVIEW_FAILURES_TODAY,
        &[&today],
    )
    .await?;
    r.cv_query_one("GetLatestMetrics", LATEST_METRICS, &[])
        .await?;

    let active_rows = r
        .cv_query("GetActiveStreams", GET_ACTIVE_STREAMS, &[])
        .await?;
    let mut listed = false;
    for row in &active_rows {
        listed |= get::<Uuid>(row, 0, "GetActiveStreams")? == transcode_session;
    }
    check(listed, || {
        "GetActiveStreams does not list the open transcode session".to_string()
    })?;
    r.cv_query("GetRecentStreams", GET_RECENT_STREAMS, &[&50_i64])
        .await?;
    r.cv_query_one(
        "GetStreamTypeBreakdown",
        STREAM_TYPE_BREAKDOWN,
        &[&(now - Duration::days(30))],
    )
    .await?;

    // GET /analytics/watch-activity without parameters, then with all four filters.
    let sql = watch_activity_sql(false, false, false, false);
    r.cv_query("GetWatchActivity (no filters)", &sql, &[&100_i64])
        .await?;
    let from: NaiveDateTime = today.naive_utc();
    let to: NaiveDateTime = (today + Duration::hours(24) - Duration::seconds(1)).naive_utc();
    let sql = watch_activity_sql(true, true, true, true);
    let rows = r
        .cv_query(
            "GetWatchActivity (user, from, to, media_type)",
            &sql,
            &[&s.viewer, &from, &to, &Label("movies"), &100_i64],
        )
        .await?;
    check(rows.len() >= 3, || {
        format!(
            "GetWatchActivity with filters returned {} rows, expected the viewer's 3 movies",
            rows.len()
        )
    })?;
    r.cv_query("GetUserActivitySummaries", USER_ACTIVITY, &[])
        .await?;

    let since = now - Duration::days(30);
    r.cv_query_one("GetTranscodeStats", TRANSCODE_STATS, &[&since])
        .await?;
    r.cv_query(
        "GetTranscodeStats (codec distribution)",
        TRANSCODE_CODECS,
        &[&since],
    )
    .await?;
    r.cv_query("GetRecentTranscodes", RECENT_TRANSCODES, &[&30_i64])
        .await?;
    r.cv_query_one("GetLatestMetrics (system)", LATEST_METRICS, &[])
        .await?;
    r.cv_query(
        "GetMetricsHistory",
        METRICS_HISTORY,
        &[&(now - Duration::hours(24))],
    )
    .await?;
    r.cv_query("GetStorageStats", STORAGE_STATS, &[]).await?;
    let health = r.cv_query("GetLibraryHealth", LIBRARY_HEALTH, &[]).await?;
    let mut libraries = Vec::new();
    for row in &health {
        libraries.push(get::<Uuid>(row, 0, "GetLibraryHealth")?);
    }
    check(
        libraries.contains(&s.movies_library) && libraries.contains(&s.tv_library),
        || "GetLibraryHealth does not list the seeded libraries".to_string(),
    )?;
    for library in [s.movies_library, s.tv_library] {
        r.cv_query(
            "GetLibraryHealth (codec distribution)",
            LIBRARY_CODECS,
            &[&library],
        )
        .await?;
        r.cv_query(
            "GetLibraryHealth (resolution distribution)",
            LIBRARY_RESOLUTIONS,
            &[&library],
        )
        .await?;
    }
    // stat_date is a date: lib/pq's timestamp text is read as its date part.
    let (trend_from, trend_to) = ((now - Duration::days(30)).date_naive(), now.date_naive());
    let trends = r
        .cv_query("GetDailyTrends", DAILY_TRENDS, &[&trend_from, &trend_to])
        .await?;
    check(!trends.is_empty(), || {
        "GetDailyTrends does not return yesterday's row".to_string()
    })?;

    // ── Notification channels and alert rules ──
    let all = serde_json::json!(["all"]);
    let discord = Uuid::new_v4();
    let slack = Uuid::new_v4();
    for (id, name, kind, url) in [
        (
            discord,
            "Discord #server",
            "discord",
            "https://discord.com/api/webhooks/1203948571/x7Qm0pZk",
        ),
        (
            slack,
            "Slack",
            "slack",
            "https://hooks.slack.com/services/T0AAAAAAA/B0BBBBBBB/cccccccccccc",
        ),
    ] {
        let created = Utc::now();
        r.cv_exec(
            "CreateChannel",
            CREATE_CHANNEL,
            &[&id, &name, &kind, &url, &true, &all, &created, &created],
        )
        .await?;
    }
    let n = r
        .cv_exec(
            "UpdateChannel",
            UPDATE_CHANNEL,
            &[
                &"Slack #alerts",
                &"slack",
                &"https://hooks.slack.com/services/T0AAAAAAA/B0BBBBBBB/dddddddddddd",
                &true,
                &all,
                &Utc::now(),
                &slack,
            ],
        )
        .await?;
    check(n == 1, || format!("UpdateChannel updated {n} rows, not 1"))?;
    r.cv_query_one("GetChannel", GET_CHANNEL, &[&slack]).await?;
    r.cv_query("ListChannels", LIST_CHANNELS, &[]).await?;
    r.cv_query("ListEnabledChannels", LIST_ENABLED_CHANNELS, &[])
        .await?;

    let disk_rule = Uuid::new_v4();
    let stream_rule = Uuid::new_v4();
    let transcode_rule = Uuid::new_v4();
    let gpu_rule = Uuid::new_v4();
    for (id, name, condition, threshold, cooldown, channel, enabled) in [
        (
            disk_rule,
            "Disk almost full",
            "disk_space_low",
            50.0_f32,
            60_i32,
            discord,
            true,
        ),
        (
            stream_rule,
            "Playback errors",
            "stream_error",
            0.0,
            30,
            discord,
            true,
        ),
        (
            transcode_rule,
            "Transcodes failing",
            "transcode_failure",
            0.0,
            60,
            slack,
            true,
        ),
        (gpu_rule, "GPU hot", "gpu_temp_high", 85.0, 60, slack, false),
    ] {
        let created = Utc::now();
        r.cv_exec(
            "CreateAlertRule",
            CREATE_ALERT_RULE,
            &[
                &id, &name, &condition, &threshold, &cooldown, &channel, &enabled, &created,
                &created,
            ],
        )
        .await?;
    }
    let n = r
        .cv_exec(
            "UpdateAlertRule",
            UPDATE_ALERT_RULE,
            &[
                &"Disk almost full",
                &"disk_space_low",
                &100.0_f32,
                &120_i32,
                &discord,
                &true,
                &Utc::now(),
                &disk_rule,
            ],
        )
        .await?;
    check(n == 1, || {
        format!("UpdateAlertRule updated {n} rows, not 1")
    })?;
    r.cv_query("ListAlertRules", LIST_ALERT_RULES, &[]).await?;

    // One evaluation (AlertEvaluator.evaluate), for the rules this replay made.
    let rules = r
        .cv_query("ListEnabledAlertRules", LIST_ENABLED_ALERT_RULES, &[])
        .await?;
    let mut enabled = Vec::new();
    for row in &rules {
        enabled.push(get::<Uuid>(row, 0, "ListEnabledAlertRules")?);
    }
    check(
        enabled.contains(&stream_rule)
            && enabled.contains(&transcode_rule)
            && !enabled.contains(&gpu_rule),
        || "ListEnabledAlertRules does not pick exactly the enabled rules".to_string(),
    )?;
    r.cv_query_one("GetLatestMetrics (evaluator)", LATEST_METRICS, &[])
        .await?;
    let hour_ago = Utc::now() - Duration::minutes(60);
    let row = r
        .cv_query_one("StreamErrorCount", STREAM_ERROR_COUNT, &[&hour_ago])
        .await?;
    let stream_errors: i64 = get(&row, 0, "StreamErrorCount")?;
    check(stream_errors >= 1, || {
        "StreamErrorCount does not count the 5-second session".to_string()
    })?;
    let row = r
        .cv_query_one(
            "TranscodeFailureCount",
            TRANSCODE_FAILURE_COUNT,
            &[&hour_ago],
        )
        .await?;
    let transcode_failures: i64 = get(&row, 0, "TranscodeFailureCount")?;
    check(transcode_failures >= 1, || {
        "TranscodeFailureCount does not count the failed transcode".to_string()
    })?;
    let mut logged = Vec::new();
    for (rule, channel, message, error) in [
        (
            stream_rule,
            discord,
            format!(
                "High stream error rate: {stream_errors} errors in the last hour (threshold: 0)"
            ),
            None,
        ),
        (
            transcode_rule,
            slack,
            format!(
                "High transcode failure rate: {transcode_failures} failures in the last hour (threshold: 0)"
            ),
            Some("webhook returned status 404"),
        ),
    ] {
        r.cv_query_one("GetChannel (evaluator)", GET_CHANNEL, &[&channel])
            .await?;
        let id = Uuid::new_v4();
        let (rule_id, channel_id) = (Some(rule), Some(channel));
        r.cv_exec(
            "LogAlert",
            LOG_ALERT,
            &[
                &id,
                &rule_id,
                &channel_id,
                &message,
                &error.is_none(),
                &error,
            ],
        )
        .await?;
        logged.push(id);
        let n = r
            .cv_exec("UpdateLastTriggered", UPDATE_LAST_TRIGGERED, &[&rule])
            .await?;
        check(n == 1, || format!("UpdateLastTriggered updated {n} rows, not 1"))?;
    }
    r.cv_query("GetRecentAlerts", RECENT_ALERTS, &[&100_i64])
        .await?;

    if features.v037 {
        for (user, event, channel, on) in [
            (s.viewer, "new_content", slack, true),
            (s.viewer, "new_content", slack, false),
            (s.viewer, "watchlist_available", discord, true),
        ] {
            r.cv_exec(
                "SetPreference",
                SET_PREFERENCE,
                &[&user, &event, &channel, &on],
            )
            .await?;
        }
        r.cv_query(
            "GetPreferencesForEvent",
            PREFERENCES_FOR_EVENT,
            &[&"watchlist_available"],
        )
        .await?;
        let prefs = r
            .cv_query("GetUserPreferences", USER_PREFERENCES, &[&s.viewer])
            .await?;
        check(prefs.len() == 2, || {
            format!("GetUserPreferences returned {} rows, not 2", prefs.len())
        })?;
    }

    let mut cascaded = Cascaded::default();

    let n = r
        .cv_exec("DeleteAlertRule", DELETE_ALERT_RULE, &[&gpu_rule])
        .await?;
    check(n == 1, || {
        format!("DeleteAlertRule deleted {n} rows, not 1")
    })?;

    // DeleteChannel: its rules go (CASCADE), its alert_log rows keep their text with
    // rule_id and channel_id set to NULL, and (037) its preferences go.
    let slack_rules = [transcode_rule, gpu_rule];
    let before = r
        .counts(
            "dependents of the channel",
            DEPENDENTS_OF_CHANNEL,
            &[&slack, &&slack_rules[..]],
        )
        .await?;
    let prefs_before = if features.v037 {
        r.counts(
            "preferences of the channel",
            PREFERENCES_OF_CHANNEL,
            &[&slack],
        )
        .await?[0]
    } else {
        0
    };
    let n = r
        .cv_exec("DeleteChannel", DELETE_CHANNEL, &[&slack])
        .await?;
    check(n == 1, || format!("DeleteChannel deleted {n} rows, not 1"))?;
    let after = r
        .counts(
            "dependents of the channel",
            DEPENDENTS_OF_CHANNEL,
            &[&slack, &&slack_rules[..]],
        )
        .await?;
    check(after == [0, 0], || {
        format!("after DeleteChannel, alert_rules/alert_log still reference it: {after:?}")
    })?;
    let nulled = r
        .counts(
            "alert_log rows set to NULL",
            ALERT_LOG_NULLED,
            &[&&logged[1..]],
        )
        .await?[0];
    check(nulled == 1, || {
        "the Slack alert_log row is gone or still references its rule/channel".to_string()
    })?;
    cascaded.alert_rules += before[0];
    cascaded.alert_log_set_null += nulled;
    if features.v037 {
        let left = r
            .counts(
                "preferences of the channel",
                PREFERENCES_OF_CHANNEL,
                &[&slack],
            )
            .await?[0];
        check(left == 0, || {
            format!("{left} preferences still reference the deleted channel")
        })?;
        cascaded.user_notification_preferences += prefs_before;
    }

    // ── Deletes of media items, a library and a user ──
    async fn item_dependents(r: &mut Runner<'_>, ids: &[Uuid]) -> Result<Vec<i64>, String> {
        r.counts("dependents of media items", DEPENDENTS_OF_ITEMS, &[&ids])
            .await
    }
    fn deleted_items(before: &[i64], cascaded: &mut Cascaded, with_items: bool) {
        if with_items {
            cascaded.media_items += before[0];
        }
        cascaded.stream_sessions += before[1];
        cascaded.transcode_history += before[2];
        cascaded.watch_history += before[3];
        cascaded.media_tags += before[4];
    }

    for (name, sql, ids, by_path) in [
        (
            "MediaRepository.Delete",
            DELETE_MEDIA_ITEM,
            vec![dune],
            None,
        ),
        (
            "MarkUnavailable",
            MARK_UNAVAILABLE,
            vec![arrival],
            Some(s.movies[1].1.clone()),
        ),
        (
            "MediaRepository.BulkDelete",
            BULK_DELETE_TWO_MEDIA_ITEMS,
            vec![blade_runner, heat],
            None,
        ),
    ] {
        let before = item_dependents(&mut r, &ids).await?;
        let n = match &by_path {
            Some(path) => r.cv_exec(name, sql, &[path]).await?,
            None if ids.len() == 2 => r.cv_exec(name, sql, &[&ids[0], &ids[1]]).await?,
            None => r.cv_exec(name, sql, &[&ids[0]]).await?,
        };
        check(n == ids.len() as u64, || {
            format!("{name} deleted {n} rows, not {}", ids.len())
        })?;
        let after = item_dependents(&mut r, &ids).await?;
        check(after.iter().all(|&c| c == 0), || {
            format!("after {name}, rows remain (items, stream_sessions, transcode_history, watch_history, media_tags): {after:?}")
        })?;
        deleted_items(&before, &mut cascaded, false);
    }
    if let Some(extra) = s.extra {
        let row = r
            .own_query_one("the trailer's parent", EXTRA_PARENT, &[&extra])
            .await?;
        let parent: Option<Uuid> = get(&row, 0, "the trailer's parent")?;
        check(parent.is_none(), || {
            "the trailer still points at the deleted movie (parent_media_id is ON DELETE SET NULL)"
                .to_string()
        })?;
    }

    let tv_items = [pilot, episode_two];
    let before = item_dependents(&mut r, &tv_items).await?;
    let n = r
        .cv_exec("LibraryRepository.Delete", DELETE_LIBRARY, &[&s.tv_library])
        .await?;
    check(n == 1, || {
        format!("LibraryRepository.Delete deleted {n} rows, not 1")
    })?;
    let after = item_dependents(&mut r, &tv_items).await?;
    check(after.iter().all(|&c| c == 0), || {
        format!("after LibraryRepository.Delete, rows remain (items, stream_sessions, transcode_history, watch_history, media_tags): {after:?}")
    })?;
    deleted_items(&before, &mut cascaded, true);

    // The viewer and, through users.parent_user_id ON DELETE CASCADE, the kids profile.
    let household = [s.viewer, s.kid];
    let before = r
        .counts(
            "dependents of users",
            DEPENDENTS_OF_USERS,
            &[&&household[..]],
        )
        .await?;
    let sessions_before = if features.v037 {
        r.counts(
            "sessions and preferences of users",
            SESSIONS_AND_PREFERENCES_OF_USERS,
            &[&&household[..]],
        )
        .await?
    } else {
        vec![0, 0]
    };
    let n = r
        .cv_exec("UserRepository.Delete", DELETE_USER, &[&s.viewer])
        .await?;
    check(n == 1, || {
        format!("UserRepository.Delete deleted {n} rows, not 1")
    })?;
    let after = r
        .counts(
            "dependents of users",
            DEPENDENTS_OF_USERS,
            &[&&household[..]],
        )
        .await?;
    check(after.iter().all(|&c| c == 0), || {
        format!("after UserRepository.Delete, rows remain (users, stream_sessions, transcode_history, watch_history): {after:?}")
    })?;
    cascaded.users += before[0] - 1;
    cascaded.stream_sessions += before[1];
    cascaded.transcode_history += before[2];
    cascaded.watch_history += before[3];
    if features.v037 {
        let after = r
            .counts(
                "sessions and preferences of users",
                SESSIONS_AND_PREFERENCES_OF_USERS,
                &[&&household[..]],
            )
            .await?;
        check(after == [0, 0], || {
            format!("after UserRepository.Delete, user_sessions/user_notification_preferences remain: {after:?}")
        })?;
        cascaded.user_sessions += sessions_before[0];
        cascaded.user_notification_preferences += sessions_before[1];
    }

    Ok(Replayed {
        statements: r.statements,
        cinevault_statements: r.cinevault,
        latest: features.extras && features.stream_limits && features.v037,
        cascaded,
    })
}
