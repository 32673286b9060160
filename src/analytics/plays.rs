//! The `plays` view (migration 029), spelled out for the queries that read it at scale.
//!
//! PostgreSQL cannot flatten a UNION ALL whose branch has a WHERE clause (the view's ingest
//! branch keeps out CineVault's rows): it computes every column of every row it reads, so a
//! range count cannot stay in a covering index, and an ORDER BY ... LIMIT over the view sorts
//! the whole history. The hot queries therefore write the union themselves: only the columns
//! they read ([`union`]), or each side ordered and limited before the two are merged
//! ([`newest_first`]). Each column means what it means in the view.

/// One side of the union: the ingest API's sessions, or CineVault's rows made into plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Ingest,
    Cinevault,
}

impl Side {
    pub const BOTH: [Side; 2] = [Side::Ingest, Side::Cinevault];

    /// The side's table, aliased `s`, with the condition that keeps its rows.
    fn from(self) -> &'static str {
        match self {
            Side::Ingest => "stream_sessions s",
            Side::Cinevault => "cinevault_plays s",
        }
    }

    fn keep(self) -> &'static str {
        match self {
            Side::Ingest => "s.source <> 'cinevault'",
            Side::Cinevault => "true",
        }
    }

    /// The expression of a play's `column` on this side (table alias `s`).
    pub fn column(self, column: &str) -> String {
        debug_assert!(COLUMNS.contains(&column), "not a column of plays: {column}");
        let expr = match (self, column) {
            (Side::Ingest, "watch_seconds") => "s.duration_seconds".to_owned(),
            (Side::Ingest, "last_active") => {
                "cv_session_last_active(s.is_active, s.started_at, s.ended_at, s.last_reported_at)"
                    .to_owned()
            }
            (Side::Ingest, "request_rows") => "1".to_owned(),
            (Side::Ingest, "position_seconds") => "NULL::int".to_owned(),
            (Side::Ingest, "history_completed") => "NULL::boolean".to_owned(),
            (Side::Ingest, "duration_source") => "'reported'::varchar(20)".to_owned(),
            (Side::Cinevault, "source") => "'cinevault'::varchar(20)".to_owned(),
            (_, c) => format!("s.{c}"),
        };
        format!("{expr} AS {column}")
    }

    fn select_list(self, columns: &[&str]) -> String {
        columns
            .iter()
            .map(|c| self.column(c))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Every column of `plays`.
pub const COLUMNS: [&str; 20] = [
    "id",
    "source",
    "user_id",
    "media_item_id",
    "playback_type",
    "quality",
    "codec",
    "resolution",
    "container",
    "client_info",
    "started_at",
    "ended_at",
    "is_active",
    "last_active",
    "watch_seconds",
    "bytes_served",
    "request_rows",
    "position_seconds",
    "history_completed",
    "duration_source",
];

/// `plays` with only `columns`, as a parenthesised subquery to alias: conditions on the alias
/// are pushed into both sides, which then read their covering indexes.
pub fn union(columns: &[&str]) -> String {
    let sides: Vec<String> = Side::BOTH
        .iter()
        .map(|side| {
            format!(
                "SELECT {} FROM {} WHERE {}",
                side.select_list(columns),
                side.from(),
                side.keep()
            )
        })
        .collect();
    format!("({})", sides.join(" UNION ALL "))
}

/// `template` once per side, the results one after the other (`UNION ALL`): each side
/// aggregates on its own, in parallel and in its own indexes, and the caller adds them up.
/// In `template`, `{plays}` stands for the side's table (alias `s`) and the condition that
/// keeps its rows (so it is followed by `AND ...` or nothing), and `{column}` for the
/// expression of a play's column on that side, e.g. `{watch_seconds}`.
pub fn each_side(template: &str) -> String {
    let sides: Vec<String> = Side::BOTH
        .iter()
        .map(|side| {
            let mut q =
                template.replace("{plays}", &format!("{} WHERE {}", side.from(), side.keep()));
            for c in COLUMNS {
                let expr = side.column(c);
                let bare = expr.rsplit_once(" AS ").map_or(expr.as_str(), |(e, _)| e);
                q = q.replace(&format!("{{{c}}}"), bare);
            }
            format!("({q})")
        })
        .collect();
    sides.join(" UNION ALL ")
}

/// The newest plays first, by `(started_at, id)`: each side ordered and limited to `limit`
/// (a placeholder such as `$3`) on its own, then merged. `columns` are the play's, `joins`
/// (e.g. `JOIN users u ON u.id = s.user_id`) and `extra` (more select-list items, e.g.
/// `u.username`) may use the alias `s`, and so may `filter` (conditions joined with AND).
pub fn newest_first(
    columns: &[&str],
    extra: &str,
    joins: &str,
    filter: &str,
    limit: &str,
) -> String {
    let extra = if extra.is_empty() {
        String::new()
    } else {
        format!(", {extra}")
    };
    let sides: Vec<String> = Side::BOTH
        .iter()
        .map(|side| {
            format!(
                "(SELECT {}{extra} FROM {} {joins} WHERE {} AND ({filter})
                  ORDER BY s.started_at DESC, s.id DESC LIMIT {limit})",
                side.select_list(columns),
                side.from(),
                side.keep()
            )
        })
        .collect();
    format!(
        "SELECT * FROM ({}) newest ORDER BY started_at DESC, id DESC LIMIT {limit}",
        sides.join(" UNION ALL ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_side_spells_the_views_columns() {
        assert_eq!(
            Side::Ingest.column("watch_seconds"),
            "s.duration_seconds AS watch_seconds"
        );
        assert_eq!(
            Side::Cinevault.column("watch_seconds"),
            "s.watch_seconds AS watch_seconds"
        );
        assert_eq!(
            Side::Cinevault.column("source"),
            "'cinevault'::varchar(20) AS source"
        );
        assert_eq!(Side::Ingest.column("source"), "s.source AS source");
        let u = union(&["user_id", "started_at"]);
        assert!(u.starts_with("(SELECT s.user_id AS user_id, s.started_at AS started_at FROM stream_sessions s WHERE s.source <> 'cinevault' UNION ALL"));
        assert!(u.ends_with("FROM cinevault_plays s WHERE true)"));
        assert_eq!(
            each_side("SELECT sum({watch_seconds}), {source} FROM {plays} AND s.user_id = $1"),
            "(SELECT sum(s.duration_seconds), s.source FROM stream_sessions s \
             WHERE s.source <> 'cinevault' AND s.user_id = $1) UNION ALL \
             (SELECT sum(s.watch_seconds), 'cinevault'::varchar(20) FROM cinevault_plays s \
             WHERE true AND s.user_id = $1)"
        );
    }
}
