//! Leads and opportunities, and the partner activity the points are computed from.
//!
//! Lists take the caller's visibility as an SQL condition on the row (`scope`), so
//! filtering and keyset pagination both happen in the database.

use portal_proto::access::RecordFilter;
use service_kit::{
    access::{ListPredicate, list_predicate},
    clock::Millis,
};
use sqlx::AssertSqlSafe;

use super::{Store, Tx, Value};
use crate::domain::{
    PartnerError,
    analytics::{LeadFact, OpportunityFact},
    decimal::Decimal,
    leads::LeadStatus,
    opportunities::CloseState,
    points::{Activity, Event},
};

/// A lead as stored.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct LeadRecord {
    pub id: String,
    pub partner_account_id: String,
    pub partner_organization_id: String,
    pub registered_by_user_id: String,
    pub company_name: String,
    pub company_key: String,
    pub contact_name: String,
    pub email: String,
    pub email_domain: String,
    pub phone: String,
    pub need_description: String,
    pub status: String,
    pub disqualification_reason: String,
    pub duplicate_match: String,
    /// The lead's place in its partner's activity order.
    pub activity_seq: i64,
    pub version: i64,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// An opportunity as stored.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct OpportunityRecord {
    pub id: String,
    pub partner_account_id: String,
    pub partner_organization_id: String,
    pub lead_id: Option<String>,
    pub registered_by_user_id: String,
    pub name: String,
    pub customer_name: String,
    pub amount_hundredths: i64,
    pub currency_code: String,
    pub stage: String,
    pub close_state: String,
    pub close_date: String,
    pub close_time: Option<Millis>,
    /// The closing's place in its partner's activity order (0 while open).
    pub close_seq: i64,
    pub version: i64,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// Typed filters of ListLeads.
#[derive(Debug, Clone, Default)]
pub struct LeadFilter {
    pub partner_account_id: String,
    pub statuses: Vec<String>,
    pub registered_by_user_id: String,
    pub created: (Option<Millis>, Option<Millis>),
    pub company_name_contains: String,
    pub only_duplicates: bool,
}

/// Typed filters of ListOpportunities.
#[derive(Debug, Clone, Default)]
pub struct OpportunityFilter {
    pub partner_account_id: String,
    pub lead_id: String,
    pub stages: Vec<String>,
    pub close_states: Vec<String>,
    pub close_date_from: String,
    pub close_date_to: String,
    pub created: (Option<Millis>, Option<Millis>),
    pub name_contains: String,
}

/// Builds a WHERE clause with numbered placeholders.
#[derive(Default)]
struct Conditions {
    sql: String,
    values: Vec<Value>,
}

impl Conditions {
    fn push(&mut self, condition: &str, value: Value) {
        self.values.push(value);
        self.sql.push_str(&format!(" AND {}", condition.replace("{}", &format!("${}", self.values.len()))));
    }

    fn text(&mut self, condition: &str, value: &str) {
        if !value.is_empty() {
            self.push(condition, Value::Text(value.to_owned()));
        }
    }

    fn any_of(&mut self, column: &str, values: &[String]) {
        if values.is_empty() {
            return;
        }
        let mut placeholders = Vec::new();
        for value in values {
            self.values.push(Value::Text(value.clone()));
            placeholders.push(format!("${}", self.values.len()));
        }
        self.sql.push_str(&format!(" AND {column} IN ({})", placeholders.join(", ")));
    }

    fn range(&mut self, column: &str, (from, to): (Option<Millis>, Option<Millis>)) {
        if let Some(from) = from {
            self.push(&format!("{column} >= {{}}"), Value::Int(from));
        }
        if let Some(to) = to {
            self.push(&format!("{column} < {{}}"), Value::Int(to));
        }
    }

    /// Newest first, before the keyset position.
    fn before(&mut self, before: Option<(i64, String)>) {
        if let Some((time, id)) = before {
            self.values.extend([Value::Int(time), Value::Text(id)]);
            let n = self.values.len();
            self.sql.push_str(&format!(" AND (created_at < ${} OR (created_at = ${} AND id < ${n}))", n - 1, n - 1));
        }
    }

    /// Adds the scope's conditions; false when it allows nothing at all.
    fn scope(&mut self, scope: &Scope) -> Result<bool, PartnerError> {
        let first = self.values.len() + 1;
        match list_predicate(&scope.filter, scope.object_code, "r", "id", "registered_by_user_id", first)? {
            ListPredicate::Nothing => return Ok(false),
            ListPredicate::Everything => {}
            ListPredicate::Where(predicate) => {
                self.sql.push_str(&format!(" AND {}", predicate.sql));
                self.values.extend(predicate.params.into_iter().map(Value::Text));
            }
        }
        if let Some(account) = &scope.partner_account_id {
            self.push("r.partner_account_id = {}", Value::Text(account.clone()));
        }
        Ok(true)
    }

    async fn fetch<T>(self, select: &str, limit: i64, store: &Store) -> Result<Vec<T>, PartnerError>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Send + Unpin,
    {
        let sql = format!("{select} WHERE 1 = 1{} ORDER BY created_at DESC, id DESC LIMIT {limit}", self.sql);
        let mut query = sqlx::query_as(AssertSqlSafe(sql));
        for value in self.values {
            query = match value {
                Value::Text(text) => query.bind(text),
                Value::Int(int) => query.bind(int),
            };
        }
        Ok(query.fetch_all(&store.db.pool).await?)
    }
}

/// The records of an object a list may return: access's record filter for the caller
/// (rendered against the grant replica) and, for partner users, their own partner's.
#[derive(Debug, Clone)]
pub struct Scope {
    pub object_code: &'static str,
    pub filter: RecordFilter,
    pub partner_account_id: Option<String>,
}

/// The ordering key of an event: its place in the partner's activity order.
fn activity_key(seq: i64) -> String {
    format!("{seq:020}")
}

/// `%text%` for LIKE, with LIKE's wildcards escaped.
fn contains(text: &str) -> String {
    let escaped = text.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

impl Store {
    pub async fn lead(&self, id: &str) -> Result<Option<LeadRecord>, PartnerError> {
        Ok(sqlx::query_as("SELECT * FROM leads WHERE id = $1").bind(id).fetch_optional(&self.db.pool).await?)
    }

    pub async fn leads(
        &self,
        scope: &Scope,
        filter: &LeadFilter,
        before: Option<(i64, String)>,
        limit: i64,
    ) -> Result<Vec<LeadRecord>, PartnerError> {
        let mut c = Conditions::default();
        if !c.scope(scope)? {
            return Ok(Vec::new());
        }
        c.text("partner_account_id = {}", &filter.partner_account_id);
        c.any_of("status", &filter.statuses);
        c.text("registered_by_user_id = {}", &filter.registered_by_user_id);
        c.range("created_at", filter.created);
        if !filter.company_name_contains.is_empty() {
            c.push("company_key LIKE {} ESCAPE '\\'", Value::Text(contains(&filter.company_name_contains)));
        }
        if filter.only_duplicates {
            c.sql.push_str(" AND duplicate_match <> ''");
        }
        c.before(before);
        c.fetch("SELECT * FROM leads r", limit, self).await
    }

    pub async fn insert_lead(tx: &mut Tx, lead: &LeadRecord) -> Result<(), PartnerError> {
        sqlx::query(
            "INSERT INTO leads (id, partner_account_id, partner_organization_id, registered_by_user_id, company_name, \
             company_key, contact_name, email, email_domain, phone, need_description, status, \
             disqualification_reason, duplicate_match, version, created_at, updated_at, activity_seq) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
        )
        .bind(&lead.id)
        .bind(&lead.partner_account_id)
        .bind(&lead.partner_organization_id)
        .bind(&lead.registered_by_user_id)
        .bind(&lead.company_name)
        .bind(&lead.company_key)
        .bind(&lead.contact_name)
        .bind(&lead.email)
        .bind(&lead.email_domain)
        .bind(&lead.phone)
        .bind(&lead.need_description)
        .bind(&lead.status)
        .bind(&lead.disqualification_reason)
        .bind(&lead.duplicate_match)
        .bind(lead.version)
        .bind(lead.created_at)
        .bind(lead.updated_at)
        .bind(lead.activity_seq)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Writes a changed lead if still at `lead.version`; ABORTED otherwise.
    pub async fn update_lead(tx: &mut Tx, lead: &LeadRecord, now: Millis) -> Result<(), PartnerError> {
        let done = sqlx::query(
            "UPDATE leads SET company_name = $1, company_key = $2, contact_name = $3, email = $4, email_domain = $5, \
             phone = $6, need_description = $7, status = $8, disqualification_reason = $9, duplicate_match = $10, \
             version = version + 1, updated_at = $11 WHERE id = $12 AND version = $13",
        )
        .bind(&lead.company_name)
        .bind(&lead.company_key)
        .bind(&lead.contact_name)
        .bind(&lead.email)
        .bind(&lead.email_domain)
        .bind(&lead.phone)
        .bind(&lead.need_description)
        .bind(&lead.status)
        .bind(&lead.disqualification_reason)
        .bind(&lead.duplicate_match)
        .bind(now)
        .bind(&lead.id)
        .bind(lead.version)
        .execute(&mut **tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(PartnerError::Stale("lead"));
        }
        Ok(())
    }

    pub async fn delete_lead(&self, id: &str, version: i64) -> Result<(), PartnerError> {
        let mut tx = self.begin().await?;
        let used: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM opportunities WHERE lead_id = $1")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        if used > 0 {
            return Err(PartnerError::Refused(
                "LEAD_HAS_OPPORTUNITIES",
                "the lead has opportunities; delete them first or keep the lead".into(),
            ));
        }
        let done = sqlx::query("DELETE FROM leads WHERE id = $1 AND version = $2")
            .bind(id)
            .bind(version)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(PartnerError::Stale("lead"));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Other partners' leads (not disqualified) with the same company key or email
    /// domain, as (id, matched by name, matched by domain).
    pub async fn matching_leads(
        &self,
        exec: &mut Tx,
        partner_account_id: &str,
        company_key: &str,
        email_domain: &str,
        except_id: &str,
    ) -> Result<Vec<(String, bool, bool)>, PartnerError> {
        let rows: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT id, company_key, email_domain FROM leads \
             WHERE partner_account_id <> $1 AND status <> 'disqualified' AND id <> $4 \
             AND (company_key = $2 OR ($3 <> '' AND email_domain = $3)) ORDER BY created_at, id LIMIT 100",
        )
        .bind(partner_account_id)
        .bind(company_key)
        .bind(email_domain)
        .bind(except_id)
        .fetch_all(&mut **exec)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, key, domain)| (id, key == company_key, !email_domain.is_empty() && domain == email_domain))
            .collect())
    }

    /// The ids of other partners' leads a lead duplicates (for staff).
    pub async fn duplicates_of(&self, lead: &LeadRecord) -> Result<Vec<String>, PartnerError> {
        if lead.duplicate_match.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.begin().await?;
        let found = self
            .matching_leads(&mut tx, &lead.partner_account_id, &lead.company_key, &lead.email_domain, &lead.id)
            .await?;
        tx.commit().await?;
        Ok(found.into_iter().map(|(id, _, _)| id).collect())
    }

    pub async fn opportunity(&self, id: &str) -> Result<Option<OpportunityRecord>, PartnerError> {
        Ok(sqlx::query_as("SELECT * FROM opportunities WHERE id = $1").bind(id).fetch_optional(&self.db.pool).await?)
    }

    pub async fn opportunities(
        &self,
        scope: &Scope,
        filter: &OpportunityFilter,
        before: Option<(i64, String)>,
        limit: i64,
    ) -> Result<Vec<OpportunityRecord>, PartnerError> {
        let mut c = Conditions::default();
        if !c.scope(scope)? {
            return Ok(Vec::new());
        }
        c.text("partner_account_id = {}", &filter.partner_account_id);
        c.text("lead_id = {}", &filter.lead_id);
        c.any_of("stage", &filter.stages);
        c.any_of("close_state", &filter.close_states);
        c.text("close_date >= {}", &filter.close_date_from);
        c.text("close_date <= {}", &filter.close_date_to);
        if !filter.close_date_from.is_empty() || !filter.close_date_to.is_empty() {
            c.sql.push_str(" AND close_date <> ''");
        }
        c.range("created_at", filter.created);
        if !filter.name_contains.is_empty() {
            c.push("LOWER(name) LIKE {} ESCAPE '\\'", Value::Text(contains(&filter.name_contains)));
        }
        c.before(before);
        c.fetch("SELECT * FROM opportunities r", limit, self).await
    }

    pub async fn insert_opportunity(tx: &mut Tx, o: &OpportunityRecord) -> Result<(), PartnerError> {
        sqlx::query(
            "INSERT INTO opportunities (id, partner_account_id, partner_organization_id, lead_id, \
             registered_by_user_id, name, customer_name, amount_hundredths, currency_code, stage, close_state, \
             close_date, close_time, version, created_at, updated_at, close_seq) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
        )
        .bind(&o.id)
        .bind(&o.partner_account_id)
        .bind(&o.partner_organization_id)
        .bind(&o.lead_id)
        .bind(&o.registered_by_user_id)
        .bind(&o.name)
        .bind(&o.customer_name)
        .bind(o.amount_hundredths)
        .bind(&o.currency_code)
        .bind(&o.stage)
        .bind(&o.close_state)
        .bind(&o.close_date)
        .bind(o.close_time)
        .bind(o.version)
        .bind(o.created_at)
        .bind(o.updated_at)
        .bind(o.close_seq)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Writes a changed opportunity if still at `o.version`; ABORTED otherwise.
    pub async fn update_opportunity(tx: &mut Tx, o: &OpportunityRecord, now: Millis) -> Result<(), PartnerError> {
        let done = sqlx::query(
            "UPDATE opportunities SET name = $1, customer_name = $2, amount_hundredths = $3, currency_code = $4, \
             stage = $5, close_state = $6, close_date = $7, close_time = $8, version = version + 1, updated_at = $9, \
             close_seq = $12 WHERE id = $10 AND version = $11",
        )
        .bind(&o.name)
        .bind(&o.customer_name)
        .bind(o.amount_hundredths)
        .bind(&o.currency_code)
        .bind(&o.stage)
        .bind(&o.close_state)
        .bind(&o.close_date)
        .bind(o.close_time)
        .bind(now)
        .bind(&o.id)
        .bind(o.version)
        .bind(o.close_seq)
        .execute(&mut **tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(PartnerError::Stale("opportunity"));
        }
        Ok(())
    }

    pub async fn delete_opportunity(&self, id: &str, version: i64) -> Result<(), PartnerError> {
        let done = sqlx::query("DELETE FROM opportunities WHERE id = $1 AND version = $2")
            .bind(id)
            .bind(version)
            .execute(&self.db.writer)
            .await?;
        if done.rows_affected() == 0 {
            return Err(PartnerError::Stale("opportunity"));
        }
        Ok(())
    }

    /// Marks a lead Converted (inside the transaction that creates its opportunity).
    pub async fn convert_lead(tx: &mut Tx, lead_id: &str, now: Millis) -> Result<(), PartnerError> {
        sqlx::query(
            "UPDATE leads SET status = 'converted', version = version + 1, updated_at = $1 \
             WHERE id = $2 AND status <> 'disqualified'",
        )
        .bind(now)
        .bind(lead_id)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// The next place in a partner's activity order: an instant not before `now` nor the
    /// partner's last one, and the next sequence number. Taken inside the transaction of
    /// the change; the upsert holds the partner's row until commit, so a partner's
    /// activity commits in this order.
    pub async fn next_activity(
        tx: &mut Tx,
        partner_account_id: &str,
        now: Millis,
    ) -> Result<(Millis, i64), PartnerError> {
        Ok(sqlx::query_as(
            "INSERT INTO partner_activity_clocks (partner_account_id, last_at, last_seq) VALUES ($1, $2, 1) \
             ON CONFLICT (partner_account_id) DO UPDATE SET last_seq = partner_activity_clocks.last_seq + 1, \
             last_at = CASE WHEN excluded.last_at > partner_activity_clocks.last_at THEN excluded.last_at \
             ELSE partner_activity_clocks.last_at END \
             RETURNING last_at, last_seq",
        )
        .bind(partner_account_id)
        .bind(now)
        .fetch_one(&mut **tx)
        .await?)
    }

    /// The partner's leads and opportunities registered (or, for opportunities, closed)
    /// within [from, to), for analytics; amounts only in `currency`.
    pub async fn analytics_facts(
        &self,
        partner_account_id: &str,
        (from, to): (Millis, Millis),
        currency: &str,
    ) -> Result<(Vec<LeadFact>, Vec<OpportunityFact>), PartnerError> {
        let leads: Vec<(Millis, String)> = sqlx::query_as(
            "SELECT created_at, status FROM leads WHERE partner_account_id = $1 AND created_at >= $2 AND created_at < $3",
        )
        .bind(partner_account_id)
        .bind(from)
        .bind(to)
        .fetch_all(&self.db.pool)
        .await?;
        let opportunities: Vec<(Millis, Option<Millis>, String, i64, String)> = sqlx::query_as(
            "SELECT created_at, close_time, close_state, amount_hundredths, currency_code FROM opportunities \
             WHERE partner_account_id = $1 AND ((created_at >= $2 AND created_at < $3) \
             OR (close_time >= $2 AND close_time < $3))",
        )
        .bind(partner_account_id)
        .bind(from)
        .bind(to)
        .fetch_all(&self.db.pool)
        .await?;
        let leads = leads
            .into_iter()
            .map(|(created_at, status)| Ok(LeadFact { created_at, status: LeadStatus::from_stored(&status)? }))
            .collect::<Result<_, PartnerError>>()?;
        let opportunities = opportunities
            .into_iter()
            .map(|(created_at, close_time, state, amount, code)| {
                Ok(OpportunityFact {
                    created_at,
                    close_time,
                    state: CloseState::from_stored(&state)?,
                    amount: (code == currency).then(|| Decimal::from_hundredths(amount)),
                })
            })
            .collect::<Result<_, PartnerError>>()?;
        Ok((leads, opportunities))
    }

    /// The partner's recorded activity that may count from `since` on: leads (not
    /// disqualified) at registration, won opportunities at their close time (amounts only
    /// in `currency`).
    pub async fn activity(
        &self,
        partner_account_id: &str,
        since: Millis,
        currency: &str,
    ) -> Result<Vec<Event>, PartnerError> {
        let leads: Vec<(i64, Millis)> = sqlx::query_as(
            "SELECT activity_seq, created_at FROM leads \
             WHERE partner_account_id = $1 AND status <> 'disqualified' AND created_at >= $2",
        )
        .bind(partner_account_id)
        .bind(since)
        .fetch_all(&self.db.pool)
        .await?;
        let won: Vec<(i64, Millis, i64, String)> = sqlx::query_as(
            "SELECT close_seq, close_time, amount_hundredths, currency_code FROM opportunities \
             WHERE partner_account_id = $1 AND close_state = 'won' AND close_time >= $2",
        )
        .bind(partner_account_id)
        .bind(since)
        .fetch_all(&self.db.pool)
        .await?;
        let mut events: Vec<Event> = leads
            .into_iter()
            .map(|(seq, at)| Event { at, key: activity_key(seq), activity: Activity::LeadRegistered })
            .collect();
        events.extend(won.into_iter().map(|(seq, at, amount, code)| Event {
            at,
            key: activity_key(seq),
            activity: Activity::OpportunityWon { amount: (code == currency).then(|| Decimal::from_hundredths(amount)) },
        }));
        Ok(events)
    }
}
