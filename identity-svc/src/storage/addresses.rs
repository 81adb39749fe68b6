//! Account addresses, replaced as a whole list.

use sqlx::AnyConnection;

use super::Store;
use crate::domain::{
    IdentityError,
    address::{Address, AddressType},
};

#[derive(Debug, Clone, sqlx::FromRow)]
struct AddressRow {
    id: String,
    r#type: String,
    is_primary: i16,
    country: String,
    region: String,
    city: String,
    address_line: String,
    postal_code: String,
}

impl From<AddressRow> for Address {
    fn from(row: AddressRow) -> Self {
        Address {
            id: row.id,
            r#type: Some(AddressType::from_stored(&row.r#type)),
            primary: row.is_primary != 0,
            country: row.country,
            region: row.region,
            city: row.city,
            address_line: row.address_line,
            postal_code: row.postal_code,
        }
    }
}

impl Store {
    /// An account's addresses in the order they were given.
    pub async fn addresses_of(&self, account_id: &str) -> Result<Vec<Address>, IdentityError> {
        let rows: Vec<AddressRow> = sqlx::query_as(
            "SELECT id, type, is_primary, country, region, city, address_line, postal_code \
             FROM account_addresses WHERE account_id = $1 ORDER BY position",
        )
        .bind(account_id)
        .fetch_all(&self.db.pool)
        .await?;
        Ok(rows.into_iter().map(Address::from).collect())
    }

    /// Makes `addresses` the account's list: given ids are kept (and must be the
    /// account's), the others get new ids, missing ones are deleted. Returns the list as
    /// stored, or the index of an address whose id is not the account's.
    pub async fn replace_addresses(
        connection: &mut AnyConnection,
        account_id: &str,
        addresses: &[Address],
    ) -> Result<Result<Vec<Address>, usize>, IdentityError> {
        let current: Vec<(String,)> = sqlx::query_as("SELECT id FROM account_addresses WHERE account_id = $1")
            .bind(account_id)
            .fetch_all(&mut *connection)
            .await?;
        if let Some(index) = addresses.iter().position(|a| !a.id.is_empty() && !current.iter().any(|(id,)| *id == a.id))
        {
            return Ok(Err(index));
        }
        sqlx::query("DELETE FROM account_addresses WHERE account_id = $1")
            .bind(account_id)
            .execute(&mut *connection)
            .await?;
        let mut stored = Vec::with_capacity(addresses.len());
        for (position, address) in addresses.iter().enumerate() {
            let id = if address.id.is_empty() { service_kit::secrets::new_id() } else { address.id.clone() };
            let kind = address.r#type.unwrap_or(AddressType::Actual);
            sqlx::query(
                "INSERT INTO account_addresses (id, account_id, type, is_primary, country, region, city, \
                 address_line, postal_code, position) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(&id)
            .bind(account_id)
            .bind(kind.as_str())
            .bind(i16::from(address.primary))
            .bind(address.country.trim())
            .bind(address.region.trim())
            .bind(address.city.trim())
            .bind(address.address_line.trim())
            .bind(address.postal_code.trim())
            .bind(i32::try_from(position).unwrap_or(i32::MAX))
            .execute(&mut *connection)
            .await?;
            stored.push(Address { id, r#type: Some(kind), ..address.clone() });
        }
        Ok(Ok(stored))
    }
}
