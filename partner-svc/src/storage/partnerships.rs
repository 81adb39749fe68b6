//! Partnerships and their promotion history.

use service_kit::clock::Millis;
use sqlx::AssertSqlSafe;

use super::{Store, Tx, is_unique_violation};
use crate::domain::PartnerError;

/// A partnership as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PartnershipRecord {
    pub id: String,
    pub partner_account_id: String,
    pub partner_organization_id: String,
    pub partner_type_id: String,
    pub partner_level_id: Option<String>,
    pub start_date: String,
    pub due_date: String,
    pub active: i16,
    pub currency_code: String,
    pub points: i64,
    pub counting_since: Millis,
    pub counting_after_event: String,
    pub version: i64,
    pub created_at: Millis,
    pub updated_at: Millis,
}

impl PartnershipRecord {
    pub fn is_active(&self) -> bool {
        self.active != 0
    }
}

/// A recorded level change.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PromotionRecord {
    pub id: String,
    pub partnership_id: String,
    pub from_level_id: String,
    pub from_level_name: String,
    pub to_level_id: String,
    pub to_level_name: String,
    pub kind: String,
    pub points: i64,
    pub reason: String,
    pub obligations_json: String,
    pub actor_user_id: String,
    pub promote_time: Millis,
    pub created_at: Millis,
}

/// Typed filters of ListPartnerships.
#[derive(Debug, Clone, Default)]
pub struct PartnershipFilter {
    pub partner_account_id: String,
    pub partner_type_id: String,
    pub partner_level_id: String,
    pub only_active: bool,
}

impl Store {
    pub async fn partnership(&self, id: &str) -> Result<Option<PartnershipRecord>, PartnerError> {
        Ok(sqlx::query_as("SELECT * FROM partnerships WHERE id = $1").bind(id).fetch_optional(&self.db.pool).await?)
    }

    pub async fn partnership_of(&self, partner_account_id: &str) -> Result<Option<PartnershipRecord>, PartnerError> {
        Ok(sqlx::query_as("SELECT * FROM partnerships WHERE partner_account_id = $1")
            .bind(partner_account_id)
            .fetch_optional(&self.db.pool)
            .await?)
    }

    /// A page of partnerships, newest first, before the keyset position `before`.
    pub async fn partnerships(
        &self,
        filter: &PartnershipFilter,
        before: Option<(i64, String)>,
        limit: i64,
    ) -> Result<Vec<PartnershipRecord>, PartnerError> {
        let mut sql = String::from("SELECT * FROM partnerships WHERE 1 = 1");
        let mut texts = Vec::new();
        for (column, value) in [
            ("partner_account_id", &filter.partner_account_id),
            ("partner_type_id", &filter.partner_type_id),
            ("partner_level_id", &filter.partner_level_id),
        ] {
            if !value.is_empty() {
                texts.push(value.clone());
                sql.push_str(&format!(" AND {column} = ${}", texts.len()));
            }
        }
        if filter.only_active {
            sql.push_str(" AND active = 1");
        }
        let n = texts.len();
        if before.is_some() {
            sql.push_str(&format!(" AND (created_at < ${} OR (created_at = ${} AND id < ${}))", n + 1, n + 1, n + 2));
        }
        sql.push_str(&format!(" ORDER BY created_at DESC, id DESC LIMIT {limit}"));
        let mut query = sqlx::query_as(AssertSqlSafe(sql));
        for text in texts {
            query = query.bind(text);
        }
        if let Some((time, id)) = before {
            query = query.bind(time).bind(id);
        }
        Ok(query.fetch_all(&self.db.pool).await?)
    }

    /// Inserts a partnership; ALREADY_EXISTS when the partner has one.
    pub async fn insert_partnership(tx: &mut Tx, p: &PartnershipRecord) -> Result<(), PartnerError> {
        sqlx::query(
            "INSERT INTO partnerships (id, partner_account_id, partner_organization_id, partner_type_id, \
             partner_level_id, start_date, due_date, active, currency_code, points, counting_since, \
             counting_after_event, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(&p.id)
        .bind(&p.partner_account_id)
        .bind(&p.partner_organization_id)
        .bind(&p.partner_type_id)
        .bind(&p.partner_level_id)
        .bind(&p.start_date)
        .bind(&p.due_date)
        .bind(p.active)
        .bind(&p.currency_code)
        .bind(p.points)
        .bind(p.counting_since)
        .bind(&p.counting_after_event)
        .bind(p.version)
        .bind(p.created_at)
        .bind(p.updated_at)
        .execute(&mut **tx)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                PartnerError::AlreadyExists(
                    "PARTNERSHIP_EXISTS",
                    format!(
                        "partner account '{}' already has a partnership; change that one instead",
                        p.partner_account_id
                    ),
                )
            } else {
                e.into()
            }
        })?;
        Ok(())
    }

    /// Writes a changed partnership if it is still at `p.version`; ABORTED otherwise.
    pub async fn update_partnership(tx: &mut Tx, p: &PartnershipRecord, now: Millis) -> Result<(), PartnerError> {
        let done = sqlx::query(
            "UPDATE partnerships SET partner_type_id = $1, partner_level_id = $2, start_date = $3, due_date = $4, \
             active = $5, currency_code = $6, points = $7, counting_since = $8, counting_after_event = $9, \
             version = version + 1, updated_at = $10 WHERE id = $11 AND version = $12",
        )
        .bind(&p.partner_type_id)
        .bind(&p.partner_level_id)
        .bind(&p.start_date)
        .bind(&p.due_date)
        .bind(p.active)
        .bind(&p.currency_code)
        .bind(p.points)
        .bind(p.counting_since)
        .bind(&p.counting_after_event)
        .bind(now)
        .bind(&p.id)
        .bind(p.version)
        .execute(&mut **tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(PartnerError::Stale("partnership"));
        }
        Ok(())
    }

    /// Deletes a partnership (its promotions go with it) if still at `version`.
    pub async fn delete_partnership(&self, id: &str, version: i64) -> Result<(), PartnerError> {
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM promotions WHERE partnership_id = $1").bind(id).execute(&mut *tx).await?;
        let done = sqlx::query("DELETE FROM partnerships WHERE id = $1 AND version = $2")
            .bind(id)
            .bind(version)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(PartnerError::Stale("partnership"));
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn insert_promotion(tx: &mut Tx, p: &PromotionRecord) -> Result<(), PartnerError> {
        sqlx::query(
            "INSERT INTO promotions (id, partnership_id, from_level_id, from_level_name, to_level_id, to_level_name, \
             kind, points, reason, obligations_json, actor_user_id, promote_time, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(&p.id)
        .bind(&p.partnership_id)
        .bind(&p.from_level_id)
        .bind(&p.from_level_name)
        .bind(&p.to_level_id)
        .bind(&p.to_level_name)
        .bind(&p.kind)
        .bind(p.points)
        .bind(&p.reason)
        .bind(&p.obligations_json)
        .bind(&p.actor_user_id)
        .bind(p.promote_time)
        .bind(p.created_at)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// A page of a partnership's promotions, newest first, within [from, to).
    pub async fn promotions(
        &self,
        partnership_id: &str,
        range: (Option<Millis>, Option<Millis>),
        before: Option<(i64, String)>,
        limit: i64,
    ) -> Result<Vec<PromotionRecord>, PartnerError> {
        let mut sql = String::from(
            "SELECT * FROM promotions WHERE partnership_id = $1 AND promote_time >= $2 AND promote_time < $3",
        );
        sql.push_str(&after_clause_desc(&before));
        sql.push_str(&format!(" ORDER BY promote_time DESC, id DESC LIMIT {limit}"));
        let mut query = sqlx::query_as(AssertSqlSafe(sql))
            .bind(partnership_id)
            .bind(range.0.unwrap_or(i64::MIN))
            .bind(range.1.unwrap_or(i64::MAX));
        if let Some((time, id)) = before {
            query = query.bind(time).bind(id);
        }
        Ok(query.fetch_all(&self.db.pool).await?)
    }
}

fn after_clause_desc(before: &Option<(i64, String)>) -> String {
    match before {
        Some(_) => " AND (promote_time < $4 OR (promote_time = $4 AND id < $5))".into(),
        None => String::new(),
    }
}
