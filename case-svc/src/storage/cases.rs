//! Cases, their history, the number sequence, and the SLA columns the event worker
//! scans. Every change to a case is written with its history entries (and the email it
//! asks for) in one transaction, guarded by the version the change was computed from.

use service_kit::registrations;
use sqlx::AnyConnection;

use super::{Store, knowledge::TagRecord, outbox::OutboxMail};
use crate::domain::{
    CASE_OBJECT, CaseError,
    numbering::case_number,
    sla::{ClockState, SlaClock},
};

/// What inserting a case did.
#[derive(Debug, Clone)]
pub enum Inserted {
    /// Stored it.
    Stored(Box<CaseRecord>),
    /// Nothing: an earlier call with the same request id made the case with this id.
    Earlier(String),
}

/// A case as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CaseRecord {
    pub id: String,
    pub number: String,
    pub number_key: String,
    pub sequence: i64,
    pub subject: String,
    pub description: String,
    pub status: String,
    pub category: String,
    pub service_id: Option<String>,
    pub agreement_id: Option<String>,
    pub candidate_ids: String,
    pub author_user_id: String,
    pub contact_id: String,
    pub account_id: String,
    pub organization_id: String,
    pub owner_group_id: String,
    pub assignee_user_id: String,
    pub priority: i32,
    pub tags: String,
    pub calendar_id: String,
    pub response_target: i64,
    pub response_state: String,
    pub response_deadline: Option<i64>,
    pub response_frozen_ms: i64,
    pub response_carried_ms: i64,
    pub response_breached: i16,
    pub response_warning_due: Option<i64>,
    pub response_breach_due: Option<i64>,
    pub resolution_target: i64,
    pub resolution_state: String,
    pub resolution_deadline: Option<i64>,
    pub resolution_frozen_ms: i64,
    pub resolution_carried_ms: i64,
    pub resolution_breached: i16,
    pub resolution_warning_due: Option<i64>,
    pub resolution_breach_due: Option<i64>,
    pub first_response_at: Option<i64>,
    pub first_resolution_at: Option<i64>,
    pub actual_resolution_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub closure_reason: String,
    pub solution: String,
    pub feedback_level: i32,
    pub feedback_notes: String,
    pub feedback_user_id: String,
    pub feedback_at: Option<i64>,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Which SLA clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockKind {
    Response,
    Resolution,
}

impl ClockKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Response => "response",
            Self::Resolution => "resolution",
        }
    }
}

impl CaseRecord {
    /// One of the case's clocks as the domain sees it.
    pub fn clock(&self, kind: ClockKind) -> SlaClock {
        let r = self;
        let (target, state, deadline, frozen, carried, breached, warning, breach) = match kind {
            ClockKind::Response => (
                r.response_target,
                &r.response_state,
                r.response_deadline,
                r.response_frozen_ms,
                r.response_carried_ms,
                r.response_breached,
                r.response_warning_due,
                r.response_breach_due,
            ),
            ClockKind::Resolution => (
                r.resolution_target,
                &r.resolution_state,
                r.resolution_deadline,
                r.resolution_frozen_ms,
                r.resolution_carried_ms,
                r.resolution_breached,
                r.resolution_warning_due,
                r.resolution_breach_due,
            ),
        };
        SlaClock {
            target_minutes: target,
            state: ClockState::parse(state),
            deadline,
            frozen_ms: frozen,
            carried_overdue_ms: carried,
            breached: breached != 0,
            warning_due: warning,
            breach_due: breach,
        }
    }

    /// Writes a clock back into the record.
    pub fn set_clock(&mut self, kind: ClockKind, clock: &SlaClock) {
        let state = clock.state.as_str().to_owned();
        let breached = i16::from(clock.breached);
        match kind {
            ClockKind::Response => {
                self.response_target = clock.target_minutes;
                self.response_state = state;
                self.response_deadline = clock.deadline;
                self.response_frozen_ms = clock.frozen_ms;
                self.response_carried_ms = clock.carried_overdue_ms;
                self.response_breached = breached;
                self.response_warning_due = clock.warning_due;
                self.response_breach_due = clock.breach_due;
            }
            ClockKind::Resolution => {
                self.resolution_target = clock.target_minutes;
                self.resolution_state = state;
                self.resolution_deadline = clock.deadline;
                self.resolution_frozen_ms = clock.frozen_ms;
                self.resolution_carried_ms = clock.carried_overdue_ms;
                self.resolution_breached = breached;
                self.resolution_warning_due = clock.warning_due;
                self.resolution_breach_due = clock.breach_due;
            }
        }
    }
}

/// One history entry as stored.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct HistoryRecord {
    pub id: String,
    pub case_id: String,
    pub at: i64,
    pub actor_user_id: String,
    pub kind: String,
    pub from_status: String,
    pub to_status: String,
    pub closure_reason: String,
    /// JSON list of `[field, old, new]`.
    pub changes: String,
    pub comment: String,
    pub related_id: String,
    pub sla_clock: String,
}

/// Everything one change of a case writes.
#[derive(Debug, Default)]
pub struct CaseChange {
    pub history: Vec<HistoryRecord>,
    pub mails: Vec<OutboxMail>,
    pub message: Option<super::MessageRecord>,
    /// (kind, caller, request id) of a retried-create key to remember for the message.
    pub request: Option<(String, String, String)>,
}

/// A keyset-paginated, filtered case list as SQL pieces.
#[derive(Debug, Default)]
pub struct CaseQuery {
    /// `AND …` conditions with `$n` placeholders numbered in `binds` order.
    pub conditions: Vec<String>,
    pub binds: Vec<Bind>,
    /// The ordering key expression (a BIGINT) and whether it descends.
    pub order_key: &'static str,
    pub descending: bool,
    pub after: Option<(i64, String)>,
    pub limit: i64,
    /// Index-driven ways into the cases the conditions may select (`cases … WHERE …`
    /// fragments whose union holds every such case), set with the caller's record filter:
    /// the list then reads a page through each way and merges them, because the filter's
    /// OR of author and grant would make PostgreSQL walk the table in list order.
    pub ways: Vec<String>,
}

/// A value bound into a dynamic query.
#[derive(Debug, Clone)]
pub enum Bind {
    Text(String),
    Int(i64),
}

impl CaseQuery {
    /// Adds a bound value and returns its placeholder.
    pub fn bind(&mut self, value: Bind) -> String {
        self.binds.push(value);
        format!("${}", self.binds.len())
    }
}

const CASE_COLUMNS: &str = "id, number, number_key, sequence, subject, description, status, category, service_id, \
    agreement_id, candidate_ids, author_user_id, contact_id, account_id, organization_id, owner_group_id, \
    assignee_user_id, priority, tags, calendar_id, response_target, response_state, response_deadline, \
    response_frozen_ms, response_carried_ms, response_breached, response_warning_due, response_breach_due, \
    resolution_target, resolution_state, resolution_deadline, resolution_frozen_ms, resolution_carried_ms, \
    resolution_breached, resolution_warning_due, resolution_breach_due, first_response_at, first_resolution_at, \
    actual_resolution_at, closed_at, closure_reason, solution, feedback_level, feedback_notes, feedback_user_id, \
    feedback_at, version, created_at, updated_at";

fn bind_case<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    c: &'q CaseRecord,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    query
        .bind(&c.id)
        .bind(&c.number)
        .bind(&c.number_key)
        .bind(c.sequence)
        .bind(&c.subject)
        .bind(&c.description)
        .bind(&c.status)
        .bind(&c.category)
        .bind(&c.service_id)
        .bind(&c.agreement_id)
        .bind(&c.candidate_ids)
        .bind(&c.author_user_id)
        .bind(&c.contact_id)
        .bind(&c.account_id)
        .bind(&c.organization_id)
        .bind(&c.owner_group_id)
        .bind(&c.assignee_user_id)
        .bind(c.priority)
        .bind(&c.tags)
        .bind(&c.calendar_id)
        .bind(c.response_target)
        .bind(&c.response_state)
        .bind(c.response_deadline)
        .bind(c.response_frozen_ms)
        .bind(c.response_carried_ms)
        .bind(c.response_breached)
        .bind(c.response_warning_due)
        .bind(c.response_breach_due)
        .bind(c.resolution_target)
        .bind(&c.resolution_state)
        .bind(c.resolution_deadline)
        .bind(c.resolution_frozen_ms)
        .bind(c.resolution_carried_ms)
        .bind(c.resolution_breached)
        .bind(c.resolution_warning_due)
        .bind(c.resolution_breach_due)
        .bind(c.first_response_at)
        .bind(c.first_resolution_at)
        .bind(c.actual_resolution_at)
        .bind(c.closed_at)
        .bind(&c.closure_reason)
        .bind(&c.solution)
        .bind(c.feedback_level)
        .bind(&c.feedback_notes)
        .bind(&c.feedback_user_id)
        .bind(c.feedback_at)
        .bind(c.version)
        .bind(c.created_at)
        .bind(c.updated_at)
}

/// A query of `sql` with its bound values, in order.
fn bound<O>(sql: String, binds: Vec<Bind>) -> sqlx::query::QueryAs<'static, sqlx::Any, O, sqlx::any::AnyArguments>
where
    O: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow>,
{
    binds.into_iter().fold(sqlx::query_as(sqlx::AssertSqlSafe(sql)), |statement, bind| match bind {
        Bind::Text(text) => statement.bind(text),
        Bind::Int(int) => statement.bind(int),
    })
}

fn placeholders(count: usize) -> String {
    (1..=count).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ")
}

impl Store {
    pub async fn case(&self, id: &str) -> Result<Option<CaseRecord>, CaseError> {
        Ok(sqlx::query_as("SELECT * FROM cases WHERE id = $1").bind(id).fetch_optional(&self.db.pool).await?)
    }

    /// Inserts a new case: takes the next number of the sequence and formats it with
    /// `prefix` and `width`, in the same transaction as the row, its history, the request
    /// id and the settling of its registration with access. Returns the stored case, or
    /// the id of the case an earlier call with the request id made.
    #[allow(clippy::too_many_arguments)]
    pub async fn insert_case(
        &self,
        mut case: CaseRecord,
        prefix: &str,
        width: usize,
        change: CaseChange,
        caller_id: &str,
        request_id: &str,
    ) -> Result<Inserted, CaseError> {
        let mut tx = self.db.begin().await?;
        if let Some(earlier) =
            Store::claim_create(&mut tx, caller_id, "case", request_id, &case.id, case.created_at).await?
        {
            return Ok(Inserted::Earlier(earlier));
        }
        registrations::settle(&mut tx, CASE_OBJECT, &case.id).await?;
        let sequence: i64 = sqlx::query_scalar(
            "UPDATE case_sequence SET last_value = last_value + 1 WHERE id = 1 RETURNING last_value",
        )
        .fetch_one(&mut *tx)
        .await?;
        case.sequence = sequence;
        case.number = case_number(prefix, width, sequence);
        case.number_key = case.number.to_lowercase();
        let sql =
            format!("INSERT INTO cases ({CASE_COLUMNS}) VALUES ({})", placeholders(CASE_COLUMNS.split(", ").count()));
        bind_case(sqlx::query(sqlx::AssertSqlSafe(sql)), &case).execute(&mut *tx).await?;
        Store::write_tags(&mut tx, &case).await?;
        Store::write_change(&mut tx, change).await?;
        super::grant_order::case_stored(&mut tx, CASE_OBJECT, &case.id, case.created_at).await?;
        tx.commit().await?;
        Ok(Inserted::Stored(Box::new(case)))
    }

    /// Writes a changed case if its version is still `case.version - 1` (the caller
    /// bumped it), with the change's history, message and mail. False when stale.
    pub async fn save_case(&self, case: &CaseRecord, change: CaseChange) -> Result<bool, CaseError> {
        let mut tx = self.db.begin().await?;
        let assignments: Vec<String> =
            CASE_COLUMNS.split(", ").enumerate().skip(1).map(|(n, column)| format!("{column} = ${}", n + 1)).collect();
        let version_param = assignments.len() + 2;
        let sql = format!("UPDATE cases SET {} WHERE id = $1 AND version = ${version_param}", assignments.join(", "));
        let done =
            bind_case(sqlx::query(sqlx::AssertSqlSafe(sql)), case).bind(case.version - 1).execute(&mut *tx).await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        Store::write_tags(&mut tx, case).await?;
        Store::write_change(&mut tx, change).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Replaces the case's rows in `case_tags` with its current tags.
    async fn write_tags(conn: &mut AnyConnection, case: &CaseRecord) -> Result<(), CaseError> {
        let tags: Vec<&str> = case.tags.split(',').filter(|t| !t.is_empty()).collect();
        Ok(Store::replace_links(conn, "case_tags", "case_id", "tag", &case.id, &tags).await?)
    }

    async fn write_change(conn: &mut AnyConnection, change: CaseChange) -> Result<(), CaseError> {
        if let Some(message) = &change.message {
            Store::insert_message(conn, message).await?;
            if let Some((kind, caller, request_id)) = &change.request {
                Store::remember_create(conn, caller, kind, request_id, &message.id, message.created_at).await?;
            }
        }
        for entry in &change.history {
            Store::insert_history(conn, entry).await?;
        }
        for mail in change.mails {
            Store::queue_mail(conn, &mail).await?;
        }
        Ok(())
    }

    /// Writes one history entry, in the transaction of the change it records.
    pub async fn insert_history(conn: &mut AnyConnection, entry: &HistoryRecord) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO case_history (id, case_id, at, actor_user_id, kind, from_status, to_status, \
             closure_reason, changes, comment, related_id, sla_clock) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&entry.id)
        .bind(&entry.case_id)
        .bind(entry.at)
        .bind(&entry.actor_user_id)
        .bind(&entry.kind)
        .bind(&entry.from_status)
        .bind(&entry.to_status)
        .bind(&entry.closure_reason)
        .bind(&entry.changes)
        .bind(&entry.comment)
        .bind(&entry.related_id)
        .bind(&entry.sla_clock)
        .execute(conn)
        .await?;
        Ok(())
    }

    /// A page of cases.
    pub async fn list_cases(&self, query: &CaseQuery) -> Result<Vec<CaseRecord>, CaseError> {
        let mut filter = String::new();
        for condition in &query.conditions {
            filter.push_str(" AND ");
            filter.push_str(condition);
        }
        let mut binds = query.binds.clone();
        let key = query.order_key;
        let (cmp, direction) = if query.descending { ("<", "DESC") } else { (">", "ASC") };
        if let Some((position, id)) = &query.after {
            binds.push(Bind::Int(*position));
            let p = binds.len();
            binds.push(Bind::Text(id.clone()));
            let i = binds.len();
            filter.push_str(&format!(" AND ({key} {cmp} ${p} OR ({key} = ${p} AND cases.id {cmp} ${i}))"));
        }
        let page = format!(" ORDER BY {key} {direction}, id {direction} LIMIT {}", query.limit);
        let sql = if query.ways.is_empty() {
            format!("SELECT * FROM cases WHERE 1 = 1{filter}{page}")
        } else {
            let ways: Vec<String> = query
                .ways
                .iter()
                .enumerate()
                .map(|(n, way)| format!("SELECT * FROM (SELECT cases.* FROM {way}{filter}{page}) AS way{n}"))
                .collect();
            format!("SELECT * FROM ({}) AS cases{page}", ways.join(" UNION "))
        };
        let mut statement = sqlx::query_as(sqlx::AssertSqlSafe(sql));
        for bind in binds {
            statement = match bind {
                Bind::Text(text) => statement.bind(text),
                Bind::Int(int) => statement.bind(int),
            };
        }
        Ok(statement.fetch_all(&self.db.pool).await?)
    }

    /// A page of the tags of the cases `query` selects (its conditions and binds; its
    /// order and paging are not used) starting with `prefix` (lowercase), most used first,
    /// then by tag, after (usage count, tag).
    pub async fn case_tags(
        &self,
        query: &CaseQuery,
        prefix: &str,
        after: Option<(i64, String)>,
        limit: i64,
    ) -> Result<Vec<TagRecord>, CaseError> {
        let mut binds = query.binds.clone();
        let mut bind = |value: Bind| {
            binds.push(value);
            format!("${}", binds.len())
        };
        let pattern = bind(Bind::Text(format!("{}%", super::catalog::like_escape(prefix))));
        let mut sql = format!(
            "SELECT s.tag AS tag_key, s.tag, s.usage_count FROM (SELECT t.tag, COUNT(*) AS usage_count \
             FROM case_tags t JOIN cases ON cases.id = t.case_id WHERE t.tag LIKE {pattern} ESCAPE '\\'"
        );
        for condition in &query.conditions {
            sql.push_str(" AND ");
            sql.push_str(condition);
        }
        sql.push_str(" GROUP BY t.tag) s");
        if let Some((count, tag)) = after {
            let (count, tag) = (bind(Bind::Int(count)), bind(Bind::Text(tag)));
            sql.push_str(&format!(" WHERE s.usage_count < {count} OR (s.usage_count = {count} AND s.tag > {tag})"));
        }
        sql.push_str(&format!(" ORDER BY s.usage_count DESC, s.tag ASC LIMIT {limit}"));
        Ok(bound(sql, binds).fetch_all(&self.db.pool).await?)
    }

    /// A page of a case's history, oldest first, optionally of some kinds only.
    pub async fn case_history(
        &self,
        case_id: &str,
        kinds: &[String],
        after: Option<(i64, String)>,
        limit: i64,
    ) -> Result<Vec<HistoryRecord>, CaseError> {
        let mut sql = String::from("SELECT * FROM case_history WHERE case_id = $1");
        let mut binds = vec![Bind::Text(case_id.to_owned())];
        if !kinds.is_empty() {
            let list: Vec<String> = kinds
                .iter()
                .map(|k| {
                    binds.push(Bind::Text(k.clone()));
                    format!("${}", binds.len())
                })
                .collect();
            sql.push_str(&format!(" AND kind IN ({})", list.join(", ")));
        }
        if let Some((at, id)) = after {
            binds.push(Bind::Int(at));
            let a = binds.len();
            binds.push(Bind::Text(id));
            let i = binds.len();
            sql.push_str(&format!(" AND (at > ${a} OR (at = ${a} AND id > ${i}))"));
        }
        sql.push_str(&format!(" ORDER BY at, id LIMIT {limit}"));
        Ok(bound(sql, binds).fetch_all(&self.db.pool).await?)
    }

    /// Cases with an SLA event due at or before `now`, oldest due first.
    pub async fn cases_with_due_events(&self, now: i64, limit: i64) -> Result<Vec<CaseRecord>, CaseError> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT * FROM cases WHERE response_warning_due <= $1 OR response_breach_due <= $1 \
             OR resolution_warning_due <= $1 OR resolution_breach_due <= $1 ORDER BY created_at, id LIMIT {limit}"
        )))
        .bind(now)
        .fetch_all(&self.db.pool)
        .await?)
    }

    /// The earliest SLA event due after `now`, if any.
    pub async fn next_due_event(&self, now: i64) -> Result<Option<i64>, CaseError> {
        let mut earliest: Option<i64> = None;
        for column in ["response_warning_due", "response_breach_due", "resolution_warning_due", "resolution_breach_due"]
        {
            let next: Option<i64> =
                sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT MIN({column}) FROM cases WHERE {column} > $1")))
                    .bind(now)
                    .fetch_one(&self.db.pool)
                    .await?;
            earliest = match (earliest, next) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        Ok(earliest)
    }
}
