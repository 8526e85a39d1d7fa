//! SQLite's hot reads on the calling thread (docs/performance.md, "Issue 18", row 2; the
//! decision in docs/architecture.md).
//!
//! sqlx runs each SQLite connection on a thread of its own and hands every statement and every row
//! over a channel: two thread wake-ups at least per query, a third of the server's time under load
//! by profile. The reads every resource request makes (the authorization, the PSU's accounts and
//! balances, the funds consent, the overdraft, the token pair of a refresh, an account's
//! transactions) run here instead, on the task's own thread, through
//! connections opened read-write without create and held read-only (`PRAGMA query_only`). In WAL
//! mode a reader never waits for a writer, and with the file memory-mapped such a read takes tens
//! of microseconds: less than the two hand-offs it replaces. Writes, migrations and everything else
//! stay on the sqlx pool, so a read here sees what any write committed before it began.
//!
//! The statements are the same text as on PostgreSQL (`Store::read_rows` runs them there through
//! sqlx), and their rows are decoded by the same functions through [`ReadRow`].

use super::StoreError;
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// One bound value of a statement's `$n` parameter (the hot reads bind text only).
#[derive(Debug, Clone, Copy)]
pub(super) enum Param<'a> {
    Text(&'a str),
}

/// A row, whichever driver read it: the decoding functions of the store take this.
pub(super) trait ReadRow {
    fn text(&self, column: &str) -> Result<Option<String>, StoreError>;
    fn int(&self, column: &str) -> Result<Option<i64>, StoreError>;
    /// The text of the column at `index` (0 first): for rows read by the hundred, where looking
    /// each column up by name shows in the profile.
    fn text_at(&self, index: usize) -> Result<Option<String>, StoreError>;
    fn int_at(&self, index: usize) -> Result<Option<i64>, StoreError>;
}

impl ReadRow for sqlx::any::AnyRow {
    fn text(&self, column: &str) -> Result<Option<String>, StoreError> {
        Ok(sqlx::Row::try_get(self, column)?)
    }

    fn int(&self, column: &str) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::Row::try_get(self, column)?)
    }

    fn text_at(&self, index: usize) -> Result<Option<String>, StoreError> {
        Ok(sqlx::Row::try_get(self, index)?)
    }

    fn int_at(&self, index: usize) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::Row::try_get(self, index)?)
    }
}

/// A column that is missing or holds another type is a value stetgate cannot read (an internal
/// error), not a database that is unavailable.
impl ReadRow for rusqlite::Row<'_> {
    fn text(&self, column: &str) -> Result<Option<String>, StoreError> {
        self.get(column).map_err(|e| StoreError::Corrupt(format!("column {column}: {e}")))
    }

    fn int(&self, column: &str) -> Result<Option<i64>, StoreError> {
        self.get(column).map_err(|e| StoreError::Corrupt(format!("column {column}: {e}")))
    }

    fn text_at(&self, index: usize) -> Result<Option<String>, StoreError> {
        self.get(index).map_err(|e| StoreError::Corrupt(format!("column {index}: {e}")))
    }

    fn int_at(&self, index: usize) -> Result<Option<i64>, StoreError> {
        self.get(index).map_err(|e| StoreError::Corrupt(format!("column {index}: {e}")))
    }
}

/// A column's value as the decoding functions ask for it.
pub(super) trait FromColumn: Sized {
    fn from_column(row: &dyn ReadRow, column: &str) -> Result<Self, StoreError>;
}

impl FromColumn for Option<String> {
    fn from_column(row: &dyn ReadRow, column: &str) -> Result<Self, StoreError> {
        row.text(column)
    }
}

impl FromColumn for Option<i64> {
    fn from_column(row: &dyn ReadRow, column: &str) -> Result<Self, StoreError> {
        row.int(column)
    }
}

impl FromColumn for String {
    fn from_column(row: &dyn ReadRow, column: &str) -> Result<Self, StoreError> {
        row.text(column)?.ok_or_else(|| StoreError::Corrupt(format!("{column} is NULL")))
    }
}

impl FromColumn for i64 {
    fn from_column(row: &dyn ReadRow, column: &str) -> Result<Self, StoreError> {
        row.int(column)?.ok_or_else(|| StoreError::Corrupt(format!("{column} is NULL")))
    }
}

/// The value of `column` in `row`.
pub(super) fn col<T: FromColumn>(row: &dyn ReadRow, column: &str) -> Result<T, StoreError> {
    T::from_column(row, column)
}

/// Reader connections to one SQLite file, opened as needed and kept for the next read.
#[derive(Debug)]
pub(super) struct SqliteReaders {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    /// Set by [`SqliteReaders::close`]: no connection is opened or kept after it.
    closed: AtomicBool,
}

/// How long a hot read waits for a lock (see [`SqliteReaders::open`]).
const READER_BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(250);

/// How many idle reader connections are kept (more are opened under a burst, then closed).
const KEPT: usize = 8;

/// The names of the `$n` parameters, bound by name: SQLite numbers `$n` parameters in the order
/// they first appear in the text, not by `n`.
const PARAMETER_NAMES: [&str; 8] = ["$1", "$2", "$3", "$4", "$5", "$6", "$7", "$8"];

impl SqliteReaders {
    pub(super) fn new(path: &Path) -> SqliteReaders {
        SqliteReaders { path: path.to_path_buf(), idle: Mutex::new(Vec::new()), closed: AtomicBool::new(false) }
    }

    /// Closes the idle connections; every later read fails as the closed sqlx pool does.
    pub(super) fn close(&self) {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        self.closed.store(true, Ordering::SeqCst);
        idle.clear();
    }

    fn open(&self) -> Result<Connection, StoreError> {
        let connection = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
        )?;
        // A reader of a WAL file does not wait for writers; it may wait, rarely, while the log is
        // recovered or restarted. It waits on a runtime thread, so briefly: past that the request
        // is answered 503 (the database is busy) instead of stalling the node's other requests.
        connection.busy_timeout(READER_BUSY_TIMEOUT)?;
        connection.execute_batch(&format!("{}; PRAGMA query_only = ON", super::SQLITE_MMAP))?;
        connection.set_prepared_statement_cache_capacity(32);
        Ok(connection)
    }

    /// Runs `sql` with `params` and decodes every row with `decode`.
    pub(super) fn rows<T>(
        &self,
        sql: &str,
        params: &[Param<'_>],
        decode: impl Fn(&dyn ReadRow) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        if self.closed.load(Ordering::SeqCst) {
            return Err(StoreError::Database(sqlx::Error::PoolClosed));
        }
        let taken = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let connection = match taken {
            Some(connection) => connection,
            None => self.open()?,
        };
        let result = run(&connection, sql, params, decode);
        // A connection whose statement failed is closed, not kept: whatever went wrong with it
        // (a file replaced under it, an I/O error) is not handed to the next read.
        if result.is_ok() {
            // Under the lock `close` takes: a read that ends as the store closes keeps nothing.
            let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
            if idle.len() < KEPT && !self.closed.load(Ordering::SeqCst) {
                idle.push(connection);
            }
        }
        result
    }
}

fn run<T>(
    connection: &Connection,
    sql: &str,
    params: &[Param<'_>],
    decode: impl Fn(&dyn ReadRow) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    if params.len() > PARAMETER_NAMES.len() {
        return Err(StoreError::Corrupt("too many parameters for a hot read".into()));
    }
    let mut statement = connection.prepare_cached(sql)?;
    for (name, param) in PARAMETER_NAMES.iter().zip(params) {
        let Some(index) = statement.parameter_index(name)? else {
            return Err(StoreError::Corrupt(format!("the statement has no parameter {name}")));
        };
        match param {
            Param::Text(text) => statement.raw_bind_parameter(index, text)?,
        }
    }
    let mut rows = statement.raw_query();
    let mut decoded = Vec::new();
    while let Some(row) = rows.next()? {
        decoded.push(decode(row)?);
    }
    Ok(decoded)
}
