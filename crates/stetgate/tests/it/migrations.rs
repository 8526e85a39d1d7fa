//! The two migration folders (SQLite, PostgreSQL) must build the same database: the same tables,
//! columns, types, nullability, primary keys and named indexes. A unit test checks the files pair
//! up; this one applies both and compares what they made.

use crate::harness::TestDb;
use sqlx::{AnyConnection, Connection, Row};
use std::collections::BTreeSet;

/// `table.column type [not null] [pk]`, one per column, and `index name on table`.
async fn shape(db: &TestDb) -> BTreeSet<String> {
    let store = db.store().await;
    store.close().await;
    let mut connection = AnyConnection::connect(db.url()).await.unwrap();
    let (columns, indexes) = match db {
        TestDb::Sqlite { .. } => (
            "SELECT m.name AS table_name, p.name AS column_name, lower(p.type) AS data_type,
                    p.\"notnull\" AS not_null, CASE WHEN p.pk > 0 THEN 1 ELSE 0 END AS pk
             FROM sqlite_master m, pragma_table_info(m.name) p
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '_sqlx_migrations'",
            "SELECT name AS index_name, tbl_name AS table_name FROM sqlite_master
             WHERE type = 'index' AND sql IS NOT NULL",
        ),
        TestDb::Postgres { .. } => (
            "SELECT c.table_name::text AS table_name, c.column_name::text AS column_name,
                    c.data_type::text AS data_type,
                    CAST(CASE WHEN c.is_nullable = 'NO' THEN 1 ELSE 0 END AS BIGINT) AS not_null,
                    CAST(CASE WHEN k.column_name IS NULL THEN 0 ELSE 1 END AS BIGINT) AS pk
             FROM information_schema.columns c
             LEFT JOIN (SELECT ku.table_name, ku.column_name
                        FROM information_schema.table_constraints tc
                        JOIN information_schema.key_column_usage ku
                          ON tc.constraint_name = ku.constraint_name AND tc.table_schema = ku.table_schema
                        WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema = current_schema()) k
               ON k.table_name = c.table_name AND k.column_name = c.column_name
             WHERE c.table_schema = current_schema() AND c.table_name <> '_sqlx_migrations'",
            "SELECT indexname::text AS index_name, tablename::text AS table_name FROM pg_indexes
             WHERE schemaname = current_schema() AND indexname NOT LIKE '%\\_pkey' AND indexname NOT LIKE '%\\_key'",
        ),
    };
    let mut shape = BTreeSet::new();
    for row in sqlx::query(columns).fetch_all(&mut connection).await.unwrap() {
        let (table, column, kind): (String, String, String) =
            (row.get("table_name"), row.get("column_name"), row.get("data_type"));
        let (not_null, pk): (i64, i64) = (row.get("not_null"), row.get("pk"));
        // A primary-key column is NOT NULL in PostgreSQL whether declared so or not.
        let null = if not_null == 1 || pk == 1 { " not null" } else { "" };
        shape.insert(format!("{table}.{column} {kind}{null}{}", if pk == 1 { " pk" } else { "" }));
    }
    for row in sqlx::query(indexes).fetch_all(&mut connection).await.unwrap() {
        let (index, table): (String, String) = (row.get("index_name"), row.get("table_name"));
        shape.insert(format!("index {index} on {table}"));
    }
    connection.close().await.ok();
    shape
}

#[tokio::test]
async fn sqlite_and_postgresql_migrations_build_the_same_schema() {
    let Some(pg) = TestDb::postgres().await else { return };
    let sqlite = TestDb::sqlite();
    let (lite, post) = (shape(&sqlite).await, shape(&pg).await);
    pg.destroy().await;
    assert!(lite.iter().any(|c| c.starts_with("token_pairs.psu_id text")), "the comparison sees the columns: {lite:?}");
    let only_sqlite: Vec<_> = lite.difference(&post).collect();
    let only_postgres: Vec<_> = post.difference(&lite).collect();
    assert!(
        only_sqlite.is_empty() && only_postgres.is_empty(),
        "the migrations disagree:\n only in SQLite: {only_sqlite:#?}\n only in PostgreSQL: {only_postgres:#?}"
    );
}
