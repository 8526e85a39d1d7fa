//! Small facts the sandbox keeps about itself in the database.

use super::{Store, StoreError};
use sqlx::Row;

impl Store {
    pub async fn sandbox_state(&self, key: &str) -> Result<Option<String>, StoreError> {
        let row =
            sqlx::query("SELECT value FROM sandbox_state WHERE key = $1").bind(key).fetch_optional(self.pool()).await?;
        Ok(row.map(|r| r.try_get("value")).transpose()?)
    }

    pub async fn set_sandbox_state(&self, key: &str, value: &str) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO sandbox_state (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(key)
            .bind(value)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}
