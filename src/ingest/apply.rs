//! Each event as SQL inside the writer's transaction. Every statement is idempotent: a
//! retried start inserts nothing, figures only move forward, a stop keeps its first end.

use chrono::Utc;
use deadpool_postgres::Transaction;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;
use uuid::Uuid;

use super::events::{opt_str, Event, PlaybackType};
use crate::error::AppError;

/// What an applied event changed, for the Prometheus counters (counted after commit).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Effect {
    pub session_started: Option<PlaybackType>,
    pub bytes_served: i64,
    pub watch_seconds: i64,
    /// (success, hw_accel) of a transcode that completed now.
    pub transcode_completed: Option<(bool, Option<String>)>,
    pub stream_error: bool,
}

/// A refusal for one event: the HTTP status it deserves and the field at fault.
#[derive(Debug)]
pub enum Refusal {
    NotFound {
        field: &'static str,
        message: String,
    },
    Unprocessable {
        field: &'static str,
        message: String,
    },
    Conflict {
        message: String,
    },
    /// A database failure: the whole group is retried or answered 503/500.
    Database(tokio_postgres::Error),
}

impl From<tokio_postgres::Error> for Refusal {
    fn from(e: tokio_postgres::Error) -> Self {
        Refusal::Database(e)
    }
}

impl Refusal {
    /// The HTTP error, with `prefix` (e.g. `events[3].`) before the field name.
    pub fn into_app_error(self, prefix: &str) -> AppError {
        match self {
            Refusal::NotFound { field, message } => {
                AppError::not_found(message).with_field(format!("{prefix}{field}"))
            }
            Refusal::Unprocessable { field, message } => {
                AppError::unprocessable(format!("{prefix}{field}"), message)
            }
            Refusal::Conflict { message } => AppError::conflict(message),
            Refusal::Database(e) => AppError::from(e),
        }
    }
}

/// Turns a foreign-key violation into "unknown user 'id'" naming the field.
fn missing_reference(
    err: tokio_postgres::Error,
    refs: &[(&'static str, &'static str, Option<Uuid>)],
) -> Refusal {
    let Some(db) = err.as_db_error() else {
        return Refusal::Database(err);
    };
    if *db.code() == SqlState::UNIQUE_VIOLATION {
        return Refusal::Conflict {
            message: format!(
                "conflicts with an existing record: {}",
                db.detail().unwrap_or(db.message())
            ),
        };
    }
    if *db.code() != SqlState::FOREIGN_KEY_VIOLATION {
        return Refusal::Database(err);
    }
    let constraint = db.constraint().unwrap_or("");
    for (field, what, id) in refs {
        if constraint.contains(field) {
            let id = id.map(|i| i.to_string()).unwrap_or_default();
            return Refusal::Unprocessable {
                field,
                message: format!("unknown {what} '{id}'"),
            };
        }
    }
    Refusal::Unprocessable {
        field: "body",
        message: "refers to a record that does not exist".into(),
    }
}

/// A start the ingest API reports: one row, one play. The user's summary gets its delta in the
/// same statement (migration 030). The last column says, when nothing was inserted, who
/// wrote the row already there (a retry of ours, or one of CineVault's own rows).
const SESSION_START: &str = "WITH ins AS (
        INSERT INTO stream_sessions (id, user_id, media_item_id, playback_type, quality, codec,
            resolution, container, client_info, started_at, last_reported_at, source)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, 'ingest')
        ON CONFLICT (id) DO NOTHING
        RETURNING user_id, media_item_id, started_at
    ), activity AS (
        INSERT INTO user_activity_deltas (user_id, plays, watch_seconds, last_active, recompute)
        SELECT user_id, 1, 0, started_at, false FROM ins
    ), genres AS (
        INSERT INTO user_genre_deltas (user_id, genre, plays)
        SELECT ins.user_id, g.genre, 1
        FROM ins CROSS JOIN LATERAL cv_item_genres(ins.media_item_id) AS g(genre)
    )
    SELECT (SELECT count(*) FROM ins), (SELECT source::text FROM stream_sessions WHERE id = $1)";

const STREAM_ERROR: &str =
    "INSERT INTO stream_errors (id, session_id, user_id, media_item_id, message, occurred_at)
                     SELECT $1, $2,
                            COALESCE($3, (SELECT user_id FROM stream_sessions WHERE id = $2)),
                            COALESCE($4, (SELECT media_item_id FROM stream_sessions WHERE id = $2)),
                            $5, $6
                     ON CONFLICT (id) DO NOTHING";

const TRANSCODE_START: &str =
    "INSERT INTO transcode_history (id, media_item_id, user_id, input_codec, output_codec,
                     input_resolution, output_resolution, hw_accel, quality, started_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                 ON CONFLICT (id) DO NOTHING";

const TRANSCODE_COMPLETE: &str = "WITH done AS (
                         UPDATE transcode_history SET
                             success = $2,
                             error_message = CASE WHEN $2 THEN NULL ELSE COALESCE($3, 'transcode failed') END,
                             duration_seconds = COALESCE($4, GREATEST(0, LEAST(2147483647,
                                 EXTRACT(EPOCH FROM ($6 - started_at))))::int),
                             file_size_bytes = COALESCE($5, file_size_bytes),
                             completed_at = GREATEST($6, started_at)
                         WHERE id = $1 AND completed_at IS NULL
                         RETURNING hw_accel)
                     SELECT (SELECT hw_accel FROM done), EXISTS (SELECT 1 FROM done),
                            EXISTS (SELECT 1 FROM transcode_history WHERE id = $1)";

// The catalogue (standalone databases only: src/http/ingest.rs refuses it on CineVault's).
// Timestamps go into CineVault's `timestamp without time zone` columns as wall-clock time
// in the database's zone (cv_db_zone()).

const USER_UPSERT: &str = "INSERT INTO users (id, username, role, created_at)
                 VALUES ($1, $2, $3::text::user_role,
                         COALESCE($4::timestamptz, now()) AT TIME ZONE cv_db_zone())
                 ON CONFLICT (id) DO UPDATE SET username = EXCLUDED.username,
                     role = EXCLUDED.role,
                     created_at = COALESCE($4 AT TIME ZONE cv_db_zone(), users.created_at)";

const LIBRARY_UPSERT: &str = "INSERT INTO libraries (id, name, media_type, created_at)
                 VALUES ($1, $2, $3::text::media_type,
                         COALESCE($4::timestamptz, now()) AT TIME ZONE cv_db_zone())
                 ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name,
                     media_type = EXCLUDED.media_type,
                     created_at = COALESCE($4 AT TIME ZONE cv_db_zone(), libraries.created_at)";

const MEDIA_ITEM_UPSERT: &str =
    "INSERT INTO media_items (id, library_id, title, media_type, year, description, poster_path,
                     duration_seconds, codec, audio_codec, resolution, hdr_format,
                     audio_format, container, file_path, file_size, added_at)
                 VALUES ($1, $2, $3, $4::text::media_type, $5, $6, $7, $8, $9, $10, $11, $12,
                     $13, $14, $15, COALESCE($16::bigint, 0),
                     COALESCE($17::timestamptz, now()) AT TIME ZONE cv_db_zone())
                 ON CONFLICT (id) DO UPDATE SET library_id = EXCLUDED.library_id,
                     title = EXCLUDED.title, media_type = EXCLUDED.media_type, year = EXCLUDED.year,
                     description = EXCLUDED.description, poster_path = EXCLUDED.poster_path,
                     duration_seconds = EXCLUDED.duration_seconds,
                     codec = EXCLUDED.codec, audio_codec = EXCLUDED.audio_codec,
                     resolution = EXCLUDED.resolution, hdr_format = EXCLUDED.hdr_format,
                     audio_format = EXCLUDED.audio_format, container = EXCLUDED.container,
                     file_path = EXCLUDED.file_path, file_size = EXCLUDED.file_size,
                     added_at = COALESCE($17 AT TIME ZONE cv_db_zone(), media_items.added_at)";

/// The item's genres as CineVault keeps them: one `tags` row per genre (found by its slug).
const GENRE_TAGS_UPSERT: &str = "INSERT INTO tags (name, slug, category)
     SELECT DISTINCT ON (cv_tag_slug(n)) btrim(n), cv_tag_slug(n), 'genre'
     FROM unnest($1::text[]) AS n WHERE btrim(n) <> ''
     ORDER BY cv_tag_slug(n), btrim(n)
     ON CONFLICT (slug) DO NOTHING";

/// When an item's genres change, its plays move from the old genres to the new ones in the
/// per-user genre summary (migration 030), so favourite genres follow the catalogue at once.
/// Run after GENRE_TAGS_UPSERT and before MEDIA_TAGS_REPLACE: it compares the item's linked
/// genres with the ones it is about to have.
const MEDIA_ITEM_GENRES_MOVE: &str = "WITH new_genres AS (
         SELECT DISTINCT btrim(t.name::text) AS genre FROM tags t
         WHERE t.slug = ANY (SELECT cv_tag_slug(n) FROM unnest($2::text[]) AS n)
           AND t.category = 'genre' AND btrim(t.name::text) <> ''
     ), old_genres AS (
         SELECT genre FROM cv_item_genres($1) AS g(genre)
     ), change AS (
         (SELECT genre, 1 AS sign FROM new_genres EXCEPT SELECT genre, 1 FROM old_genres)
         UNION ALL
         (SELECT genre, -1 FROM old_genres EXCEPT SELECT genre, -1 FROM new_genres)
     )
     INSERT INTO user_genre_deltas (user_id, genre, plays)
     SELECT p.user_id, c.genre, c.sign * p.n
     FROM change c
     CROSS JOIN (SELECT user_id, count(*) AS n FROM plays WHERE media_item_id = $1
                 GROUP BY user_id) p";

/// Links the item to exactly its genres (other kinds of tags are left alone).
const MEDIA_TAGS_REPLACE: &str = "WITH wanted AS (
         SELECT t.id FROM tags t
         WHERE t.slug = ANY (SELECT cv_tag_slug(n) FROM unnest($2::text[]) AS n)
           AND t.category = 'genre'
     ), dropped AS (
         DELETE FROM media_tags mt USING tags t
         WHERE mt.media_item_id = $1 AND t.id = mt.tag_id AND t.category = 'genre'
           AND mt.tag_id NOT IN (SELECT id FROM wanted)
     )
     INSERT INTO media_tags (media_item_id, tag_id)
     SELECT $1, id FROM wanted
     ON CONFLICT (media_item_id, tag_id) DO NOTHING";

/// Progress or stop of one of the ingest API's sessions (CineVault's own rows are not
/// reported through it), with the user's summary delta in the same statement.
const SESSION_UPDATE: &str = "WITH old AS (
         SELECT id, bytes_served, duration_seconds,
                cv_session_last_active(is_active, started_at, ended_at, last_reported_at) AS seen
         FROM stream_sessions WHERE id = $1 AND source <> 'cinevault' FOR UPDATE
     ), upd AS (
         UPDATE stream_sessions s SET
             bytes_served = GREATEST(s.bytes_served, COALESCE($2, s.bytes_served)),
             duration_seconds = GREATEST(s.duration_seconds, COALESCE($3, s.duration_seconds)),
             last_reported_at = GREATEST(s.last_reported_at, $4),
             is_active = s.is_active AND $5::timestamptz IS NULL,
             ended_at = CASE WHEN $5::timestamptz IS NULL THEN s.ended_at
                             ELSE COALESCE(s.ended_at, GREATEST($5, s.started_at)) END
         FROM old
         WHERE s.id = old.id
         RETURNING s.user_id, s.bytes_served - old.bytes_served AS bytes,
                   s.duration_seconds - old.duration_seconds AS secs,
                   cv_session_last_active(s.is_active, s.started_at, s.ended_at,
                                          s.last_reported_at) AS seen,
                   old.seen AS seen_before
     ), activity AS (
         INSERT INTO user_activity_deltas (user_id, plays, watch_seconds, last_active, recompute)
         SELECT user_id, 0, secs, seen, seen < seen_before FROM upd
         WHERE secs <> 0 OR seen IS DISTINCT FROM seen_before
     )
     SELECT bytes, secs FROM upd";

const SESSION_STARTS_BULK: &str = "WITH ins AS (
         INSERT INTO stream_sessions (id, user_id, media_item_id, playback_type, quality, codec,
             resolution, container, client_info, started_at, last_reported_at, source)
         SELECT id, u, m, p, q, c, r, ct, ci, s, s, 'ingest'
         FROM UNNEST($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[],
                     $7::text[], $8::text[], $9::text[], $10::timestamptz[])
              AS t(id, u, m, p, q, c, r, ct, ci, s)
         ON CONFLICT (id) DO NOTHING
         RETURNING id, user_id, media_item_id, started_at
     ), activity AS (
         INSERT INTO user_activity_deltas (user_id, plays, watch_seconds, last_active, recompute)
         SELECT user_id, count(*), 0, max(started_at), false FROM ins GROUP BY user_id
     ), genres AS (
         INSERT INTO user_genre_deltas (user_id, genre, plays)
         SELECT ins.user_id, g.genre, count(*)
         FROM ins CROSS JOIN LATERAL cv_item_genres(ins.media_item_id) AS g(genre)
         GROUP BY ins.user_id, g.genre
     )
     SELECT id FROM ins";

/// Every statement an event may run. Preparing them all before a group's events are sent
/// keeps pipelined events in order: no event waits on a prepare while a later one goes.
const ALL_SQL: [&str; 12] = [
    SESSION_START,
    STREAM_ERROR,
    TRANSCODE_START,
    TRANSCODE_COMPLETE,
    USER_UPSERT,
    LIBRARY_UPSERT,
    MEDIA_ITEM_UPSERT,
    GENRE_TAGS_UPSERT,
    MEDIA_ITEM_GENRES_MOVE,
    MEDIA_TAGS_REPLACE,
    SESSION_UPDATE,
    SESSION_STARTS_BULK,
];

pub async fn prepare_all(tx: &Transaction<'_>) -> Result<(), tokio_postgres::Error> {
    for sql in ALL_SQL {
        tx.prepare_cached(sql).await?;
    }
    Ok(())
}

/// Statements are prepared once per connection and cached, so an event costs one round
/// trip, and events issued together are pipelined in the order they were issued.
async fn exec(
    tx: &Transaction<'_>,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<u64, tokio_postgres::Error> {
    let stmt = tx.prepare_cached(sql).await?;
    tx.execute(&stmt, params).await
}

async fn query_opt(
    tx: &Transaction<'_>,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Option<Row>, tokio_postgres::Error> {
    let stmt = tx.prepare_cached(sql).await?;
    tx.query_opt(&stmt, params).await
}

pub async fn apply(tx: &Transaction<'_>, event: &Event) -> Result<Effect, Refusal> {
    let now = Utc::now();
    match event {
        Event::SessionStart(s) => {
            let started = s.started_at.map(|t| t.0).unwrap_or(now);
            let row = query_opt(
                tx,
                SESSION_START,
                &[
                    &s.id.0,
                    &s.user_id.0,
                    &s.media_item_id.0,
                    &s.playback_type.as_str(),
                    &opt_str(&s.quality),
                    &opt_str(&s.codec),
                    &opt_str(&s.resolution),
                    &opt_str(&s.container),
                    &opt_str(&s.client_info),
                    &started,
                ],
            )
            .await
            .map_err(|e| {
                missing_reference(
                    e,
                    &[
                        ("user_id", "user", Some(s.user_id.0)),
                        ("media_item_id", "media item", Some(s.media_item_id.0)),
                    ],
                )
            })?;
            let (inserted, existing): (i64, Option<String>) = match &row {
                Some(r) => (r.get(0), r.get(1)),
                None => (0, None),
            };
            if inserted == 0 && existing.as_deref() == Some("cinevault") {
                return Err(Refusal::Conflict {
                    message: format!(
                        "session '{}' is a row CineVault's own stream handler wrote; report \
                         the ingest API's sessions under ids of their own",
                        s.id.0
                    ),
                });
            }
            Ok(Effect {
                session_started: (inserted == 1).then_some(s.playback_type),
                ..Effect::default()
            })
        }
        Event::SessionProgress {
            session_id,
            progress,
        } => {
            let at = progress.reported_at.map(|t| t.0).unwrap_or(now);
            update_session(
                tx,
                session_id.0,
                Some(progress.bytes_served.0),
                Some(progress.duration_seconds.get()),
                at,
                None,
            )
            .await
        }
        Event::SessionStop { session_id, stop } => {
            let at = stop.ended_at.map(|t| t.0).unwrap_or(now);
            update_session(
                tx,
                session_id.0,
                stop.bytes_served.map(|b| b.0),
                stop.duration_seconds.map(|d| d.get()),
                at,
                Some(at),
            )
            .await
        }
        Event::StreamError(e) => {
            let id = e.id.map(|i| i.0).unwrap_or_else(Uuid::new_v4);
            let at = e.occurred_at.map(|t| t.0).unwrap_or(now);
            let session = e.session_id.map(|i| i.0);
            let inserted = exec(
                tx,
                STREAM_ERROR,
                &[
                    &id,
                    &session,
                    &e.user_id.map(|i| i.0),
                    &e.media_item_id.map(|i| i.0),
                    &e.message.0,
                    &at,
                ],
            )
            .await
            .map_err(|err| {
                missing_reference(
                    err,
                    &[
                        ("session_id", "session", session),
                        ("user_id", "user", e.user_id.map(|i| i.0)),
                        ("media_item_id", "media item", e.media_item_id.map(|i| i.0)),
                    ],
                )
            })?;
            Ok(Effect {
                stream_error: inserted == 1,
                ..Effect::default()
            })
        }
        Event::TranscodeStart(t) => {
            let started = t.started_at.map(|x| x.0).unwrap_or(now);
            exec(
                tx,
                TRANSCODE_START,
                &[
                    &t.id.0,
                    &t.media_item_id.0,
                    &t.user_id.0,
                    &opt_str(&t.input_codec),
                    &opt_str(&t.output_codec),
                    &opt_str(&t.input_resolution),
                    &opt_str(&t.output_resolution),
                    &opt_str(&t.hw_accel),
                    &opt_str(&t.quality),
                    &started,
                ],
            )
            .await
            .map_err(|e| {
                missing_reference(
                    e,
                    &[
                        ("user_id", "user", Some(t.user_id.0)),
                        ("media_item_id", "media item", Some(t.media_item_id.0)),
                    ],
                )
            })?;
            Ok(Effect::default())
        }
        Event::TranscodeComplete {
            transcode_id,
            complete: c,
        } => {
            let at = c.completed_at.map(|t| t.0).unwrap_or(now);
            // Only an open transcode is completed; a repeated completion changes nothing.
            let row = query_opt(
                tx,
                TRANSCODE_COMPLETE,
                &[
                    &transcode_id.0,
                    &c.success,
                    &c.error_message.as_ref().map(|m| m.0.as_str()),
                    &c.duration_seconds.map(|d| d.get()),
                    &c.file_size_bytes.map(|b| b.0),
                    &at,
                ],
            )
            .await?;
            let (hw, completed, exists): (Option<String>, bool, bool) = match &row {
                Some(r) => (r.get(0), r.get(1), r.get(2)),
                None => (None, false, false),
            };
            if !exists {
                return Err(Refusal::NotFound {
                    field: "transcode_id",
                    message: format!("unknown transcode '{}'", transcode_id.0),
                });
            }
            Ok(Effect {
                transcode_completed: completed.then_some((c.success, hw)),
                ..Effect::default()
            })
        }
        Event::User(u) => {
            exec(
                tx,
                USER_UPSERT,
                &[
                    &u.id.0,
                    &u.username.0,
                    &u.role().as_str(),
                    &u.created_at.map(|t| t.0),
                ],
            )
            .await
            .map_err(|e| missing_reference(e, &[]))?;
            Ok(Effect::default())
        }
        Event::Library(l) => {
            exec(
                tx,
                LIBRARY_UPSERT,
                &[
                    &l.id.0,
                    &l.name.0,
                    &l.media_type.as_str(),
                    &l.created_at.map(|t| t.0),
                ],
            )
            .await
            .map_err(|e| missing_reference(e, &[]))?;
            Ok(Effect::default())
        }
        Event::MediaItem(m) => {
            exec(
                tx,
                MEDIA_ITEM_UPSERT,
                &[
                    &m.id.0,
                    &m.library_id.map(|i| i.0),
                    &m.title.0,
                    &m.media_type.as_str(),
                    &m.year.map(|y| y.get()),
                    &opt_str(&m.description),
                    &opt_str(&m.poster_path),
                    &m.duration_seconds.map(|r| r.get()),
                    &opt_str(&m.codec),
                    &opt_str(&m.audio_codec),
                    &opt_str(&m.resolution),
                    &opt_str(&m.hdr_format),
                    &opt_str(&m.audio_format),
                    &opt_str(&m.container),
                    &opt_str(&m.file_path),
                    &m.file_size.map(|b| b.0),
                    &m.added_at.map(|t| t.0),
                ],
            )
            .await
            .map_err(|e| {
                missing_reference(e, &[("library_id", "library", m.library_id.map(|i| i.0))])
            })?;
            let genres: Vec<&str> = m.genres.iter().map(|g| g.0.as_str()).collect();
            exec(tx, GENRE_TAGS_UPSERT, &[&genres]).await?;
            exec(tx, MEDIA_ITEM_GENRES_MOVE, &[&m.id.0, &genres]).await?;
            exec(tx, MEDIA_TAGS_REPLACE, &[&m.id.0, &genres]).await?;
            Ok(Effect::default())
        }
    }
}

/// Progress or stop: figures only grow, the first stop's end time stays. Returns how much
/// the figures grew, for the counters.
async fn update_session(
    tx: &Transaction<'_>,
    id: Uuid,
    bytes: Option<i64>,
    seconds: Option<i32>,
    reported_at: chrono::DateTime<Utc>,
    ended_at: Option<chrono::DateTime<Utc>>,
) -> Result<Effect, Refusal> {
    let row = query_opt(
        tx,
        SESSION_UPDATE,
        &[&id, &bytes, &seconds, &reported_at, &ended_at],
    )
    .await?;
    let Some(row) = row else {
        return Err(Refusal::NotFound {
            field: "session_id",
            message: format!("unknown session '{id}'"),
        });
    };
    let (bytes, secs): (i64, i32) = (row.get(0), row.get(1));
    Ok(Effect {
        bytes_served: bytes,
        watch_seconds: i64::from(secs),
        ..Effect::default()
    })
}

/// Many session starts in one statement (the common shape of a batch): one round trip and
/// one plan for the whole run instead of one per event. Same semantics as one by one.
pub async fn apply_session_starts(
    tx: &Transaction<'_>,
    starts: &[&super::events::SessionStart],
) -> Result<Vec<Effect>, Refusal> {
    let now = Utc::now();
    let col = |f: &dyn Fn(&super::events::SessionStart) -> Option<String>| -> Vec<Option<String>> {
        starts.iter().map(|s| f(s)).collect()
    };
    let ids: Vec<Uuid> = starts.iter().map(|s| s.id.0).collect();
    let users: Vec<Uuid> = starts.iter().map(|s| s.user_id.0).collect();
    let items: Vec<Uuid> = starts.iter().map(|s| s.media_item_id.0).collect();
    let types: Vec<&str> = starts.iter().map(|s| s.playback_type.as_str()).collect();
    let times: Vec<chrono::DateTime<Utc>> = starts
        .iter()
        .map(|s| s.started_at.map(|t| t.0).unwrap_or(now))
        .collect();
    let stmt = tx.prepare_cached(SESSION_STARTS_BULK).await?;
    let rows = tx
        .query(
            &stmt,
            &[
                &ids,
                &users,
                &items,
                &types,
                &col(&|s| s.quality.as_ref().map(|t| t.0.clone())),
                &col(&|s| s.codec.as_ref().map(|t| t.0.clone())),
                &col(&|s| s.resolution.as_ref().map(|t| t.0.clone())),
                &col(&|s| s.container.as_ref().map(|t| t.0.clone())),
                &col(&|s| s.client_info.as_ref().map(|t| t.0.clone())),
                &times,
            ],
        )
        .await
        .map_err(|e| {
            missing_reference(
                e,
                &[
                    ("user_id", "user", None),
                    ("media_item_id", "media item", None),
                ],
            )
        })?;
    let mut inserted: std::collections::HashSet<Uuid> = rows.iter().map(|r| r.get(0)).collect();
    Ok(starts
        .iter()
        .map(|s| Effect {
            // The first start of an id in the run is the one that inserted it.
            session_started: inserted.remove(&s.id.0).then_some(s.playback_type),
            ..Effect::default()
        })
        .collect())
}
