//! Licence products and seats. A seat is taken by a conditional UPDATE of the pool's
//! counter in the same transaction that records the assignment, so parallel
//! assignments can never hold more seats than the pool has.

use service_kit::{clock::Millis, config::LicenceProductConfig, secrets};
use sqlx::AnyConnection;

use super::Store;
use crate::domain::IdentityError;

/// A product and its pool.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProductRecord {
    pub id: String,
    pub display_name: String,
    pub edition: String,
    pub deployment: String,
    pub total_seats: i64,
    pub used_seats: i64,
}

/// A seat held by a user.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AssignmentRecord {
    pub id: String,
    pub user_id: String,
    pub licence_product_id: String,
    pub assigned_at: Millis,
    pub assigned_by: String,
}

/// Filters and position of the assignment listing.
#[derive(Debug, Clone, Default)]
pub struct AssignmentFilter {
    pub licence_product_id: String,
    pub user_id: String,
    pub organization_id: String,
    /// Keyset position: assignments strictly older than (time, id).
    pub before: Option<(Millis, String)>,
}

impl Store {
    /// Makes the products table match the configuration (new products, changed names and
    /// seat counts). Products no longer configured stay, for the seats that reference them.
    pub async fn sync_licence_products(&self, products: &[LicenceProductConfig]) -> Result<(), IdentityError> {
        let mut tx = self.db.begin().await?;
        for product in products {
            sqlx::query(
                "INSERT INTO licence_products (id, display_name, edition, deployment, total_seats) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO UPDATE SET display_name = excluded.display_name, \
                 edition = excluded.edition, deployment = excluded.deployment, total_seats = excluded.total_seats",
            )
            .bind(&product.id)
            .bind(&product.display_name)
            .bind(&product.edition)
            .bind(&product.deployment)
            .bind(i64::from(product.seats))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn licence_products(&self) -> Result<Vec<ProductRecord>, IdentityError> {
        Ok(sqlx::query_as("SELECT * FROM licence_products ORDER BY edition, deployment, id")
            .fetch_all(&self.db.pool)
            .await?)
    }

    /// The product with this id, or else with this display name (case-insensitive).
    pub async fn licence_product(&self, id_or_name: &str) -> Result<Option<ProductRecord>, IdentityError> {
        Ok(sqlx::query_as(
            "SELECT * FROM licence_products WHERE id = $1 OR lower(display_name) = lower($1) \
             ORDER BY CASE WHEN id = $1 THEN 0 ELSE 1 END LIMIT 1",
        )
        .bind(id_or_name)
        .fetch_optional(&self.db.pool)
        .await?)
    }

    pub async fn assignment_of(&self, user_id: &str) -> Result<Option<AssignmentRecord>, IdentityError> {
        Ok(sqlx::query_as("SELECT * FROM licence_assignments WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(&self.db.pool)
            .await?)
    }

    /// Takes a seat of `product_id` for `user_id`; `None` when the pool is full.
    pub async fn take_seat(
        connection: &mut AnyConnection,
        user_id: &str,
        product_id: &str,
        assigned_by: &str,
        now: Millis,
    ) -> Result<Option<AssignmentRecord>, IdentityError> {
        let taken = sqlx::query(
            "UPDATE licence_products SET used_seats = used_seats + 1 WHERE id = $1 AND used_seats < total_seats",
        )
        .bind(product_id)
        .execute(&mut *connection)
        .await?
        .rows_affected();
        if taken == 0 {
            return Ok(None);
        }
        let assignment = AssignmentRecord {
            id: secrets::new_id(),
            user_id: user_id.to_owned(),
            licence_product_id: product_id.to_owned(),
            assigned_at: now,
            assigned_by: assigned_by.to_owned(),
        };
        sqlx::query(
            "INSERT INTO licence_assignments (id, user_id, licence_product_id, assigned_at, assigned_by) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&assignment.id)
        .bind(&assignment.user_id)
        .bind(&assignment.licence_product_id)
        .bind(assignment.assigned_at)
        .bind(&assignment.assigned_by)
        .execute(&mut *connection)
        .await?;
        Store::bump_access_epoch(connection, user_id).await?;
        Ok(Some(assignment))
    }

    /// Gives back the seat `user_id` holds, if any.
    pub async fn release_seat(
        connection: &mut AnyConnection,
        user_id: &str,
    ) -> Result<Option<AssignmentRecord>, IdentityError> {
        let released: Option<AssignmentRecord> =
            sqlx::query_as("DELETE FROM licence_assignments WHERE user_id = $1 RETURNING *")
                .bind(user_id)
                .fetch_optional(&mut *connection)
                .await?;
        if let Some(released) = &released {
            sqlx::query("UPDATE licence_products SET used_seats = used_seats - 1 WHERE id = $1")
                .bind(&released.licence_product_id)
                .execute(&mut *connection)
                .await?;
            Store::bump_access_epoch(connection, user_id).await?;
        }
        Ok(released)
    }

    /// Up to `limit` assignments matching `filter`, newest first.
    pub async fn licence_assignments(
        &self,
        filter: &AssignmentFilter,
        limit: i64,
    ) -> Result<Vec<AssignmentRecord>, IdentityError> {
        let (before_time, before_id) = filter.before.clone().unwrap_or((i64::MAX, String::new()));
        Ok(sqlx::query_as(
            "SELECT a.* FROM licence_assignments a JOIN users u ON u.id = a.user_id \
             WHERE ($1 = '' OR a.licence_product_id = $1) AND ($2 = '' OR a.user_id = $2) \
             AND ($3 = '' OR u.organization_id = $3) \
             AND (a.assigned_at < $4 OR (a.assigned_at = $4 AND ($5 = '' OR a.id < $5))) \
             ORDER BY a.assigned_at DESC, a.id DESC LIMIT $6",
        )
        .bind(&filter.licence_product_id)
        .bind(&filter.user_id)
        .bind(&filter.organization_id)
        .bind(before_time)
        .bind(before_id)
        .bind(limit)
        .fetch_all(&self.db.pool)
        .await?)
    }
}
