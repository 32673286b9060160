//! What the database holds now: its tables, columns, indexes and enum types (one read of
//! the catalog), and what the sidecar recorded about it.

use std::collections::{BTreeMap, BTreeSet};

use tokio_postgres::GenericClient;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Catalog {
    /// table or view → column → type (`udt_name`: uuid, varchar, timestamptz, user_role, ...).
    pub columns: BTreeMap<String, BTreeMap<String, String>>,
    pub views: BTreeSet<String>,
    pub indexes: BTreeSet<String>,
    /// enum type → its labels in order.
    pub enums: BTreeMap<String, Vec<String>>,
}

impl Catalog {
    pub async fn read(client: &impl GenericClient) -> Result<Self, tokio_postgres::Error> {
        let mut catalog = Catalog::default();
        let rows = client
            .query(
                "SELECT c.table_name::text, c.column_name::text, c.udt_name::text
                 FROM information_schema.columns c
                 WHERE c.table_schema = current_schema()
                 ORDER BY c.table_name, c.ordinal_position",
                &[],
            )
            .await?;
        for r in rows {
            catalog
                .columns
                .entry(r.get(0))
                .or_default()
                .insert(r.get(1), r.get(2));
        }
        for r in client
            .query(
                "SELECT table_name::text FROM information_schema.views
                 WHERE table_schema = current_schema()",
                &[],
            )
            .await?
        {
            catalog.views.insert(r.get(0));
        }
        for r in client
            .query(
                "SELECT indexname::text FROM pg_indexes WHERE schemaname = current_schema()",
                &[],
            )
            .await?
        {
            catalog.indexes.insert(r.get(0));
        }
        for r in client
            .query(
                "SELECT t.typname::text, e.enumlabel::text
                 FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
                 WHERE t.typnamespace = current_schema()::regnamespace
                 ORDER BY t.typname, e.enumsortorder",
                &[],
            )
            .await?
        {
            catalog.enums.entry(r.get(0)).or_default().push(r.get(1));
        }
        Ok(catalog)
    }

    pub fn has_table(&self, table: &str) -> bool {
        self.columns.contains_key(table) && !self.views.contains(table)
    }

    pub fn has_column(&self, table: &str, column: &str) -> bool {
        self.column_type(table, column).is_some()
    }

    pub fn column_type(&self, table: &str, column: &str) -> Option<&str> {
        self.columns
            .get(table)
            .and_then(|c| c.get(column))
            .map(String::as_str)
    }

    /// No table at all (a database just created for someone).
    pub fn is_empty(&self) -> bool {
        self.columns.is_empty()
    }

    /// The core tables as the sidecar's first release created them in a database of its own.
    pub fn has_first_release_core(&self) -> bool {
        self.has_column("users", "is_admin") && !self.has_column("users", "role")
    }

    /// What differs from `before`: objects this run created or added, in a stable order.
    pub fn changes_since(&self, before: &Catalog) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        for (table, cols) in &self.columns {
            let kind = if self.views.contains(table) {
                "view"
            } else {
                "table"
            };
            match before.columns.get(table) {
                None => out.push(("created", format!("{kind} {table}"))),
                Some(old) => {
                    for col in cols.keys().filter(|c| !old.contains_key(*c)) {
                        out.push(("added", format!("column {table}.{col}")));
                    }
                    for col in old.keys().filter(|c| !cols.contains_key(*c)) {
                        out.push(("removed", format!("column {table}.{col}")));
                    }
                }
            }
        }
        for table in before.columns.keys() {
            if !self.columns.contains_key(table) {
                out.push(("removed", format!("table {table}")));
            }
        }
        for index in self.indexes.difference(&before.indexes) {
            out.push(("added", format!("index {index}")));
        }
        for index in before.indexes.difference(&self.indexes) {
            out.push(("removed", format!("index {index}")));
        }
        for name in self.enums.keys() {
            if !before.enums.contains_key(name) {
                out.push(("created", format!("type {name}")));
            }
        }
        out
    }
}

/// The mode recorded by an earlier start, if the sidecar ever set this database up.
pub async fn recorded_mode(
    client: &impl GenericClient,
) -> Result<Option<String>, tokio_postgres::Error> {
    let exists: bool = client
        .query_one("SELECT to_regclass('analytics_database') IS NOT NULL", &[])
        .await?
        .get(0);
    if !exists {
        return Ok(None);
    }
    Ok(client
        .query_opt("SELECT mode FROM analytics_database", &[])
        .await?
        .map(|r| r.get(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog(tables: &[(&str, &[&str])]) -> Catalog {
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
    fn changes_name_what_was_created_added_and_removed() {
        let before = catalog(&[("users", &["id", "is_admin"]), ("old", &["x"])]);
        let mut after = catalog(&[("users", &["id", "role"]), ("plays", &["id"])]);
        after.views.insert("plays".into());
        after.indexes.insert("idx_a".into());
        let got = after.changes_since(&before);
        assert_eq!(
            got,
            vec![
                ("created", "view plays".to_owned()),
                ("added", "column users.role".to_owned()),
                ("removed", "column users.is_admin".to_owned()),
                ("removed", "table old".to_owned()),
                ("added", "index idx_a".to_owned()),
            ]
        );
        assert!(before.has_first_release_core());
        assert!(!after.has_first_release_core());
    }
}
