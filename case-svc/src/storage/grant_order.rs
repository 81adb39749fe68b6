//! The creation time of each granted case, kept next to its grants in the replica of
//! access's record grants (`access_record_grants.record_created_at`, a case-svc extension
//! of `service_kit::access::REPLICA_DDL`, migration 0023). A list in creation order reads
//! its page of granted cases from one index instead of fetching every granted case to
//! sort them. Grants whose time is not known yet are read the slow way, so a missing time
//! is never wrong, only slower.

use service_kit::db::Database;
use sqlx::AnyConnection;

use super::cases::{Bind, CaseQuery};
use crate::domain::CaseError;

/// Records the creation time of a new case on the grants of it the replica already holds
/// (its registration with access comes first, and a sync may have brought them).
pub async fn case_stored(
    connection: &mut AnyConnection,
    object_code: &str,
    case_id: &str,
    created_at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE access_record_grants SET record_created_at = $3 \
         WHERE object_code = $1 AND record_id = $2 AND record_created_at IS NULL",
    )
    .bind(object_code)
    .bind(case_id)
    .bind(created_at)
    .execute(connection)
    .await?;
    Ok(())
}

/// Fills the creation time of the grants a sync brought for cases already stored.
pub async fn fill(database: &Database, object_code: &str) -> Result<(), CaseError> {
    sqlx::query(
        "UPDATE access_record_grants SET record_created_at = \
         (SELECT cases.created_at FROM cases WHERE cases.id = access_record_grants.record_id) \
         WHERE object_code = $1 AND record_created_at IS NULL \
         AND EXISTS (SELECT 1 FROM cases WHERE cases.id = access_record_grants.record_id)",
    )
    .bind(object_code)
    .execute(&database.writer)
    .await?;
    Ok(())
}

/// The ways into the cases that grants to `grantee_keys` let the caller read, for a list in
/// creation order (`query`'s direction, position and limit): the grants whose time is
/// known, read in order from the index, and the grants whose time is not known yet.
/// Unless the list is `filtered` (conditions besides the record filter), the first way
/// takes just the page of grants; otherwise it joins the grants in order on the creation
/// time as well as the id, so that the list's order is the grants' order and the database
/// can stop once the page is full.
pub fn granted_ways(query: &mut CaseQuery, object_code: &str, grantee_keys: &[String], filtered: bool) -> [String; 2] {
    let object = query.bind(Bind::Text(object_code.to_owned()));
    let keys: Vec<String> = grantee_keys.iter().map(|key| query.bind(Bind::Text(key.clone()))).collect();
    let keys = keys.join(", ");
    let granted = format!("g.object_code = {object} AND g.grantee_key IN ({keys}) AND g.can_read = 1");
    let (cmp, direction) = if query.descending { ("<", "DESC") } else { (">", "ASC") };
    let after = match query.after.clone() {
        Some((position, id)) => {
            let position = query.bind(Bind::Int(position));
            let id = query.bind(Bind::Text(id));
            format!(
                " AND (g.record_created_at {cmp} {position} \
                 OR (g.record_created_at = {position} AND g.record_id {cmp} {id}))"
            )
        }
        None => String::new(),
    };
    let in_order = format!(
        "SELECT DISTINCT g.record_created_at, g.record_id FROM access_record_grants g \
         WHERE {granted} AND g.record_created_at IS NOT NULL{after} \
         ORDER BY g.record_created_at {direction}, g.record_id {direction}"
    );
    let sorted = if filtered {
        format!(
            "cases JOIN ({in_order}) AS sorted \
             ON sorted.record_id = cases.id AND sorted.record_created_at = cases.created_at WHERE 1 = 1"
        )
    } else {
        format!("cases WHERE cases.id IN (SELECT page.record_id FROM ({in_order} LIMIT {}) AS page)", query.limit)
    };
    let unsorted = format!(
        "cases JOIN (SELECT DISTINCT g.record_id FROM access_record_grants g \
         WHERE {granted} AND g.record_created_at IS NULL) AS unsorted ON unsorted.record_id = cases.id WHERE 1 = 1"
    );
    [sorted, unsorted]
}
