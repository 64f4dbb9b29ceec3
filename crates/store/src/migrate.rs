//! Built-in schema migrations, applied at connect.
//!
//! Each migration has one SQL file per backend (`migrations/sqlite/`,
//! `migrations/postgres/`); the two are kept in step by hand. Applied versions
//! are recorded in `otto_schema_migrations`. The run is one transaction that
//! first takes the write lock (`BEGIN IMMEDIATE` on SQLite, an advisory lock on
//! PostgreSQL), so several processes starting at once apply each migration once.

use sqlx::{AssertSqlSafe, Executor};

use crate::db::{Backend, Store, int};
use crate::error::{Result, StoreError};

struct Migration {
    version: i64,
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "init",
        sqlite: include_str!("../migrations/sqlite/0001_init.sql"),
        postgres: include_str!("../migrations/postgres/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "api_keys",
        sqlite: include_str!("../migrations/sqlite/0002_api_keys.sql"),
        postgres: include_str!("../migrations/postgres/0002_api_keys.sql"),
    },
    Migration {
        version: 3,
        name: "definition_version",
        sqlite: include_str!("../migrations/sqlite/0003_definition_version.sql"),
        postgres: include_str!("../migrations/postgres/0003_definition_version.sql"),
    },
    Migration {
        version: 4,
        name: "webhooks_in_definition",
        sqlite: include_str!("../migrations/sqlite/0004_webhooks_in_definition.sql"),
        postgres: include_str!("../migrations/postgres/0004_webhooks_in_definition.sql"),
    },
];

/// The schema version this build of otto writes.
pub const SCHEMA_VERSION: i64 = 4;

/// Key of the PostgreSQL advisory lock held while migrating ("otto" in ASCII).
const MIGRATION_LOCK: i64 = 0x6f74_746f;

/// Applies every migration not yet recorded; returns how many it applied.
pub(crate) async fn run(store: &Store) -> Result<usize> {
    let backend = store.backend();
    if backend == Backend::Sqlite {
        // Persistent in the file; readers then never block the writer.
        store
            .inner
            .pool
            .execute("PRAGMA journal_mode = WAL")
            .await?;
    }
    let mut tx = store.write_tx().await?;
    let table = match backend {
        Backend::Sqlite => {
            "CREATE TABLE IF NOT EXISTS otto_schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)"
        }
        Backend::Postgres => {
            sqlx::query("SELECT 1 AS locked FROM (SELECT pg_advisory_xact_lock($1)) AS l")
                .bind(MIGRATION_LOCK)
                .fetch_all(&mut *tx)
                .await?;
            "CREATE TABLE IF NOT EXISTS otto_schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)"
        }
    };
    sqlx::query(table).execute(&mut *tx).await?;
    let applied: Vec<i64> = sqlx::query("SELECT version FROM otto_schema_migrations")
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|row| int(row, "version"))
        .collect::<Result<_>>()?;
    if let Some(newest) = applied.iter().max().filter(|v| **v > SCHEMA_VERSION) {
        return Err(StoreError::invalid(
            "database",
            format!(
                "its schema is version {newest}, newer than this otto understands ({SCHEMA_VERSION}); upgrade otto"
            ),
        ));
    }
    let mut count = 0;
    for migration in MIGRATIONS {
        if applied.contains(&migration.version) {
            continue;
        }
        let sql = match backend {
            Backend::Sqlite => migration.sqlite,
            Backend::Postgres => migration.postgres,
        };
        for statement in statements(sql) {
            tx.execute(AssertSqlSafe(statement)).await?;
        }
        sqlx::query(
            "INSERT INTO otto_schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
        )
        .bind(migration.version)
        .bind(migration.name)
        .bind(store.now())
        .execute(&mut *tx)
        .await?;
        tracing::info!(
            version = migration.version,
            name = migration.name,
            "applied store migration"
        );
        count += 1;
    }
    tx.commit().await?;
    Ok(count)
}

/// The statements of a migration file: split at `;` ending a line, `--`
/// comment lines dropped. A PostgreSQL function body (`$$ … $$`) and a SQLite
/// trigger body (`BEGIN … END;`) stay whole. (The files contain no `;` inside
/// literals.)
fn statements(sql: &str) -> Vec<String> {
    let mut statements = Vec::new();
    let mut current = String::new();
    let mut in_dollar_quote = false;
    let mut in_trigger_body = false;
    for line in sql.lines() {
        let trimmed = line.trim();
        if !in_dollar_quote && (trimmed.is_empty() || trimmed.starts_with("--")) {
            continue;
        }
        current.push_str(line);
        current.push('\n');
        if line.matches("$$").count() % 2 == 1 {
            in_dollar_quote = !in_dollar_quote;
        }
        if current.trim_start().starts_with("CREATE TRIGGER") && trimmed == "BEGIN" {
            in_trigger_body = true;
        }
        let ends = if in_dollar_quote {
            false
        } else if in_trigger_body {
            trimmed == "END;"
        } else {
            trimmed.ends_with(';')
        };
        if ends {
            statements.push(current.trim().trim_end_matches(';').to_owned());
            current.clear();
            in_trigger_body = false;
        }
    }
    if !current.trim().is_empty() {
        statements.push(current.trim().to_owned());
    }
    statements
}

impl Store {
    /// The versions recorded in `otto_schema_migrations`, oldest first.
    pub async fn schema_versions(&self) -> Result<Vec<i64>> {
        sqlx::query("SELECT version FROM otto_schema_migrations ORDER BY version")
            .fetch_all(&self.inner.pool)
            .await?
            .iter()
            .map(|row| int(row, "version"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_statements_and_drops_comments() {
        let sql = "-- a comment\nCREATE TABLE a (x INTEGER);\n\nCREATE INDEX b\n  ON a (x);\n";
        assert_eq!(
            statements(sql),
            vec!["CREATE TABLE a (x INTEGER)", "CREATE INDEX b\n  ON a (x)"]
        );
    }

    #[test]
    fn keeps_function_and_trigger_bodies_whole() {
        let sql = "CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n    x := 1;\n    RETURN NEW;\nEND\n$$;\n\
                   CREATE TRIGGER t AFTER INSERT ON a\nBEGIN\n    UPDATE b SET n = n + 1;\nEND;\n\
                   CREATE TRIGGER u AFTER INSERT ON a\nFOR EACH ROW EXECUTE FUNCTION f();\n";
        let split = statements(sql);
        assert_eq!(split.len(), 3, "{split:?}");
        assert!(split[0].ends_with("END\n$$"));
        assert!(split[1].ends_with("SET n = n + 1;\nEND"));
        assert_eq!(
            split[2],
            "CREATE TRIGGER u AFTER INSERT ON a\nFOR EACH ROW EXECUTE FUNCTION f()"
        );
    }

    /// Tables with their column names (types differ by backend), added
    /// columns by name, and index statements verbatim. Triggers and functions
    /// are written differently on each backend; the store tests check what
    /// they do on both.
    fn shape(sql: &str) -> Vec<String> {
        statements(sql)
            .iter()
            .filter(|statement| {
                !statement.starts_with("CREATE TRIGGER")
                    && !statement.starts_with("CREATE FUNCTION")
            })
            .map(|statement| {
                let mut lines = statement.lines();
                let header = lines.next().unwrap_or_default().trim().to_owned();
                if header.starts_with("ALTER TABLE") {
                    let words: Vec<&str> = header.split_whitespace().take(6).collect();
                    return words.join(" ");
                }
                if !header.starts_with("CREATE TABLE") {
                    return statement.clone();
                }
                let columns: Vec<&str> = lines
                    .filter_map(|line| line.split_whitespace().next())
                    .collect();
                format!("{header} {}", columns.join(" "))
            })
            .collect()
    }

    #[test]
    fn both_backends_have_the_same_tables_columns_and_indexes() {
        for migration in MIGRATIONS {
            let sqlite = shape(migration.sqlite);
            assert_eq!(sqlite, shape(migration.postgres), "{}", migration.name);
            // Some migrations add only triggers, which `shape` leaves out.
            assert!(
                !statements(migration.sqlite).is_empty(),
                "{}",
                migration.name
            );
            assert!(
                !statements(migration.postgres).is_empty(),
                "{}",
                migration.name
            );
        }
        let init = shape(MIGRATIONS[0].sqlite);
        assert!(init.len() > 20);
        assert!(init.contains(&"CREATE TABLE settings ( key value date_updated )".to_owned()));
        assert_eq!(
            shape(MIGRATIONS[2].sqlite),
            vec![
                "ALTER TABLE assistants ADD COLUMN definition_version",
                "ALTER TABLE model_builds ADD COLUMN lease_until"
            ]
        );
        // Versions count up from 1 with no gap, the last being SCHEMA_VERSION.
        let versions: Vec<i64> = MIGRATIONS.iter().map(|m| m.version).collect();
        assert_eq!(versions, (1..=SCHEMA_VERSION).collect::<Vec<_>>());
    }
}
