//! The database: one [`Store`] over SQLite (the sandbox, a single node) or PostgreSQL (production,
//! any number of nodes), through sqlx's `Any` driver so that every statement is written once.
//!
//! Rules: every SQL statement of stetgate lives in this module, behind a method named for what it
//! means; statements use `$1`-style parameters, which both databases understand; money is integer
//! minor units, civil dates ISO text, instants Unix milliseconds, so no type differs between the
//! two. Migrations are embedded, one folder per database (`migrations/sqlite`, `migrations/postgres`)
//! kept in step; a test checks that both folders hold the same migrations.

mod ais;
mod banks;
mod decisions;
mod fallback;
mod hub;
mod ledger;
mod oauth;
mod permissions;
mod pis;
mod psu;
mod purge;
mod registry;
mod sandbox;
mod sqlite_reads;
mod statements;
mod statistics;

pub use banks::BankRecord;
pub use fallback::Consumed;
pub use ledger::Origin;
pub use oauth::{Presented, Redeemed};
pub use pis::Posted;
pub use purge::{PURGE_GRACE, Purged};
pub use registry::Inserted;
pub use statements::LedgerImport;
pub use statistics::{RolledUp, StatisticsRecords};

use sqlite_reads::{Param, ReadRow, SqliteReaders, col};
use sqlx::any::{AnyPoolOptions, AnyRow, install_default_drivers};
use sqlx::{AnyPool, Executor};
use std::path::{Path, PathBuf};
use std::time::Duration;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("src/store/migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("src/store/migrations/postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database error (SQLite read): {0}")]
    SqliteRead(#[from] rusqlite::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL (expected sqlite: or postgres://)")]
    UnsupportedUrl,
    #[error("the SQLite database file {0} is gone")]
    SqliteFileGone(PathBuf),
    #[error("the database holds a value stetgate cannot read: {0}")]
    Corrupt(String),
}

/// What a SQLite commit survives once stetgate has answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqliteDurability {
    /// A power loss or the machine's crash: the log is synced to disk at every commit (SQLite's
    /// `synchronous = FULL`). `stetgate serve` on SQLite.
    PowerLoss,
    /// stetgate's own crash or kill, not the machine's: the log is written at every commit and
    /// synced at checkpoints (`synchronous = NORMAL` in WAL mode), so a power loss may undo the
    /// last commits. The sandbox, whose data is test data: one disk sync less per write
    /// (docs/performance.md).
    ProcessCrash,
}

impl SqliteDurability {
    fn pragma(self) -> &'static str {
        match self {
            SqliteDurability::PowerLoss => "PRAGMA synchronous = FULL",
            SqliteDurability::ProcessCrash => "PRAGMA synchronous = NORMAL",
        }
    }
}

/// The shared database of a stetgate deployment. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    sqlite_file: Option<PathBuf>,
    /// The registrations and consents this node has read (`decisions.rs`).
    remembered: std::sync::Arc<decisions::Remembered>,
    /// SQLite: the connections of the hot reads, run on the calling thread (`sqlite_reads.rs`).
    readers: Option<std::sync::Arc<SqliteReaders>>,
    /// SQLite: the node's turn to write ([`Store::begin_write`]).
    sqlite_writer: std::sync::Arc<tokio::sync::Mutex<()>>,
}

/// A transaction that writes, holding (on SQLite) the node's turn to write until it ends. Its
/// statements run on it as on the connection (`&mut *tx`).
pub(crate) struct WriteTx {
    tx: sqlx::Transaction<'static, sqlx::Any>,
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl WriteTx {
    async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }

    async fn rollback(self) -> Result<(), sqlx::Error> {
        self.tx.rollback().await
    }
}

impl std::ops::Deref for WriteTx {
    type Target = sqlx::AnyConnection;
    fn deref(&self) -> &sqlx::AnyConnection {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.tx
    }
}

impl Store {
    /// Connects to `url`. A SQLite file is created when missing and switched to WAL mode; the pool
    /// itself opens the file read-write without creating it, so a database file deleted under a
    /// running server is reported as gone instead of silently recreated empty.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        Store::open_with(url, SqliteDurability::PowerLoss).await
    }

    /// [`Store::open`], with SQLite commits made as durable as `durability` says.
    pub async fn open_with(url: &str, durability: SqliteDurability) -> Result<Store, StoreError> {
        install_default_drivers();
        let (backend, sqlite_file) = if let Some(rest) = url.strip_prefix("sqlite:") {
            let path = rest.trim_start_matches("//");
            let path = path.split('?').next().unwrap_or(path);
            (Backend::Sqlite, Some(PathBuf::from(path)))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Backend::Postgres, None)
        } else {
            return Err(StoreError::UnsupportedUrl);
        };
        let pool = match &sqlite_file {
            Some(path) => {
                let create = AnyPoolOptions::new().max_connections(1).connect(&sqlite_url(path, "rwc")).await?;
                // WAL is a property of the file: set once, it holds for every later connection.
                create.execute("PRAGMA journal_mode = WAL").await?;
                create.close().await;
                pool_options()
                    .max_connections(8)
                    .after_connect(move |connection, _| {
                        Box::pin(async move {
                            // Reads straight from the mapped file instead of a pread and a copy
                            // into each connection's small page cache per page: GET /accounts
                            // slowed as the ledger grew without it (docs/performance.md#growth).
                            connection.execute(SQLITE_MMAP).await?;
                            connection.execute(durability.pragma()).await?;
                            Ok(())
                        })
                    })
                    .connect(&sqlite_url(path, "rw"))
                    .await?
            }
            None => pool_options().max_connections(16).connect(url).await?,
        };
        let readers = sqlite_file.as_deref().map(|path| std::sync::Arc::new(SqliteReaders::new(path)));
        Ok(Store {
            pool,
            backend,
            sqlite_file,
            remembered: Default::default(),
            readers,
            sqlite_writer: Default::default(),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Applies the embedded migrations of this backend that are not applied yet.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&self.pool).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&self.pool).await?,
        }
        Ok(())
    }

    /// Readiness: the database answers a query on stetgate's own schema (and, for SQLite, its file
    /// is still where it was opened).
    pub async fn ping(&self) -> Result<(), StoreError> {
        if let Some(path) = &self.sqlite_file
            && !path.exists()
        {
            return Err(StoreError::SqliteFileGone(path.clone()));
        }
        sqlx::query("SELECT COUNT(*) FROM banks").fetch_one(&self.pool).await?;
        Ok(())
    }

    /// Closes every connection (on shutdown): the pool's and SQLite's hot-read connections.
    pub async fn close(&self) {
        if let Some(readers) = &self.readers {
            readers.close();
        }
        self.pool.close().await;
    }

    fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Runs a read every request makes (one statement text for both databases) and decodes its
    /// rows: on SQLite on this thread (`sqlite_reads.rs`), on PostgreSQL through the pool.
    async fn read_rows<T>(
        &self,
        sql: &'static str,
        params: &[Param<'_>],
        decode: impl Fn(&dyn ReadRow) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        if let Some(readers) = &self.readers {
            return readers.rows(sql, params, decode);
        }
        let mut query = sqlx::query(sql);
        for param in params {
            query = match *param {
                Param::Text(text) => query.bind(text),
            };
        }
        query.fetch_all(self.pool()).await?.iter().map(|row| decode(row)).collect()
    }

    /// Begins a transaction that will write. On SQLite it takes the write lock at once (`BEGIN
    /// IMMEDIATE`, waiting for it as long as the busy timeout allows): a deferred transaction that
    /// reads first and then writes fails with "database is locked", without waiting, when another
    /// connection or process wrote in between (its snapshot is stale), which the support commands
    /// running beside a server hit.
    ///
    /// On SQLite the node's writers also queue for the write lock here, in order, instead of in
    /// SQLite's busy handler, which retries after sleeps of 1 to 100 ms: the lock stood free while
    /// the writers slept (PUT /consents under load: p99 195 ms, max 1.4 s; docs/performance.md).
    async fn begin_write(&self) -> Result<WriteTx, StoreError> {
        Ok(match self.backend {
            Backend::Sqlite => {
                let turn = self.write_turn().await?;
                WriteTx { tx: self.pool.begin_with("BEGIN IMMEDIATE").await?, _turn: turn }
            }
            Backend::Postgres => WriteTx { tx: self.pool.begin().await?, _turn: None },
        })
    }

    /// On SQLite, the node's turn to write, also taken for the frequent writes made outside a
    /// transaction. Waited for as long as SQLite's busy timeout: a write that cannot start by then
    /// fails as SQLite's own "database is locked" would.
    async fn write_turn(&self) -> Result<Option<tokio::sync::OwnedMutexGuard<()>>, StoreError> {
        match self.backend {
            Backend::Sqlite => tokio::time::timeout(SQLITE_BUSY_TIMEOUT, self.sqlite_writer.clone().lock_owned())
                .await
                .map(Some)
                .map_err(|_| StoreError::Database(sqlx::Error::PoolTimedOut)),
            Backend::Postgres => Ok(None),
        }
    }

    /// Runs a statement that writes and returns one row (`INSERT ... RETURNING`) to its end.
    ///
    /// SQLite commits the implicit transaction of such a statement only when it is stepped to its
    /// end: reading the first row and dropping the statement (`fetch_one`) returned the row of a
    /// write whose commit then failed (disk full), and the failure was never seen.
    async fn write_returning_one(
        &self,
        query: sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments>,
    ) -> Result<AnyRow, StoreError> {
        let _turn = self.write_turn().await?;
        let mut rows = query.fetch_all(self.pool()).await?;
        match (rows.pop(), rows.is_empty()) {
            (Some(row), true) => Ok(row),
            _ => Err(StoreError::Corrupt("a write returned no row or several".into())),
        }
    }
}

/// What both databases' pools share: a bounded wait for a connection, a liveness test only for a
/// connection that sat idle, and no connection returned to the pool inside a transaction.
///
/// sqlx tests every connection it hands out by default (a round trip to PostgreSQL, a hand-off to
/// the SQLite worker thread), which doubled the cost of each query under load
/// (docs/performance.md). A connection idle for less than [`TEST_IF_IDLE_FOR`] was in use a moment
/// ago; one idle for longer is tested, so a restarted database server costs no request.
///
/// A transaction whose COMMIT failed (a full disk, a lost server) may be left open on its
/// connection; reused, that connection would hold the database's write lock (SQLite: every other
/// write "database is locked") or run later statements inside the dead transaction. Such a
/// connection is closed instead, and the pool opens a fresh one.
fn pool_options() -> AnyPoolOptions {
    AnyPoolOptions::new()
        .acquire_timeout(Duration::from_secs(5))
        .test_before_acquire(false)
        .before_acquire(|connection, meta| {
            Box::pin(async move {
                if meta.idle_for > TEST_IF_IDLE_FOR {
                    sqlx::Connection::ping(connection).await?;
                }
                Ok(true)
            })
        })
        .after_release(|connection, _| {
            let clean = !sqlx::Connection::is_in_transaction(connection);
            if !clean {
                tracing::warn!("a database connection was released inside a transaction; it is closed");
            }
            Box::pin(async move { Ok(clean) })
        })
}

/// How long a pooled connection may sit idle and still be handed out untested.
const TEST_IF_IDLE_FOR: Duration = Duration::from_secs(1);

/// How long a SQLite write waits for the lock (sqlx's default busy timeout, kept).
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Up to 1 GiB of the SQLite file mapped into memory (shared by the connections; pages count in
/// resident memory only once touched, and the kernel may drop them).
const SQLITE_MMAP: &str = "PRAGMA mmap_size = 1073741824";

fn sqlite_url(path: &Path, mode: &str) -> String {
    format!("sqlite://{}?mode={mode}", path.display())
}

/// An instant as the store keeps it: Unix milliseconds (only the store sees this unit).
pub(crate) fn ms(t: jiff::Timestamp) -> i64 {
    t.as_millisecond()
}

/// An instant the store kept.
pub(crate) fn timestamp(ms: i64) -> Result<jiff::Timestamp, StoreError> {
    jiff::Timestamp::from_millisecond(ms).map_err(|e| StoreError::Corrupt(format!("instant {ms}: {e}")))
}

/// Decodes a text column that must hold one of a closed set of values.
fn parse_column<T>(value: String, column: &str, parse: impl FnOnce(&str) -> Option<T>) -> Result<T, StoreError> {
    parse(&value).ok_or_else(|| StoreError::Corrupt(format!("{column} = {value:?}")))
}

#[cfg(test)]
mod tests {
    use super::banks::BankRecord;

    /// A connection released while still inside a transaction (as a COMMIT that failed on a full
    /// disk leaves it) is closed, not handed to the next write: that write would otherwise run
    /// inside the dead transaction (never committed) or wait behind its lock ("database is
    /// locked" until restart). SQLite, where it was seen; the check is the pools' shared
    /// `after_release`, the same for PostgreSQL.
    #[tokio::test]
    async fn a_connection_released_inside_a_transaction_is_not_reused() {
        let dir = tempfile::tempdir().unwrap();
        let url = super::sqlite_url(&dir.path().join("stetgate.db"), "rwc");
        let store = super::Store::open(&url).await.unwrap();
        store.migrate().await.unwrap();
        let bank = |code: &str| BankRecord {
            code: stet::BankCode::parse(code).unwrap(),
            name: format!("Bank {code}"),
            brand: "test".into(),
        };
        let now = jiff::Timestamp::UNIX_EPOCH;
        {
            let mut connection = store.pool().acquire().await.unwrap();
            let mut transaction = sqlx::Connection::begin(&mut *connection).await.unwrap();
            sqlx::query("INSERT INTO banks (code, name, brand, created_at) VALUES ('99991', 'Lost', 'test', 0)")
                .execute(&mut *transaction)
                .await
                .unwrap();
            // Neither committed nor rolled back: the connection goes back inside its transaction.
            std::mem::forget(transaction);
        }
        store.upsert_bank(&bank("99992"), now).await.expect("the next write is not stuck behind the lock");
        let elsewhere = super::Store::open(&url).await.unwrap();
        assert!(elsewhere.bank(bank("99992").code).await.unwrap().is_some(), "and it is committed");
        assert!(elsewhere.bank(bank("99991").code).await.unwrap().is_none(), "the abandoned write is not");
    }

    /// `Store::close` closes SQLite's hot-read connections too: a read after it fails as the
    /// closed pool does, instead of running on a kept connection.
    #[tokio::test]
    async fn a_hot_read_after_close_fails_as_the_pool_does() {
        let dir = tempfile::tempdir().unwrap();
        let store = super::Store::open(&super::sqlite_url(&dir.path().join("stetgate.db"), "rwc")).await.unwrap();
        store.migrate().await.unwrap();
        let hash = crate::secret::Secret::generate().unwrap().hash();
        assert!(store.pair_by_access_token(&hash).await.unwrap().is_none(), "a hot read before: no such pair");
        store.close().await;
        let after = store.pair_by_access_token(&hash).await;
        assert!(matches!(after, Err(super::StoreError::Database(sqlx::Error::PoolClosed))), "{after:?}");
    }

    #[test]
    fn sqlite_and_postgres_migrations_are_kept_in_step() {
        let names = |db: &str| {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/store/migrations").join(db);
            let mut names: Vec<String> = std::fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            names
        };
        assert_eq!(names("sqlite"), names("postgres"), "every migration needs its twin in the other folder");
        assert_eq!(super::SQLITE_MIGRATIONS.iter().count(), super::POSTGRES_MIGRATIONS.iter().count());
    }
}
