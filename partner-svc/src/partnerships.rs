//! The partnership use cases (staff only): one partnership per partner, its type,
//! level, dates, currency and active flag; a manual level change is recorded as a
//! promotion and restarts point counting. After every change the points are evaluated
//! again.

use service_kit::{Caller, clock::Clock, secrets};

use crate::{
    authority::{Authority, Object, Operation},
    domain::{PartnerError, dates, lookup, opportunities::check_currency},
    program::Program,
    storage::{PartnerLevelRecord, PartnerTypeRecord, PartnershipFilter, PartnershipRecord, PromotionRecord, Store},
};

/// The currency of partnerships that name none.
pub const DEFAULT_CURRENCY: &str = "USD";

/// A partnership as a caller states it (create) or patches it (update).
#[derive(Debug, Clone, Default)]
pub struct PartnershipDraft {
    pub id: String,
    pub partner_account_id: String,
    pub partner_type_id: String,
    pub partner_level_id: String,
    pub start_date: String,
    pub due_date: String,
    pub active: Option<bool>,
    pub currency_code: String,
    pub etag: String,
}

/// The paths UpdatePartnership may name.
pub const UPDATABLE: &[&str] =
    &["partner_type_id", "partner_level_id", "start_date", "due_date", "active", "currency_code"];

#[derive(Debug, Clone)]
pub struct Partnerships {
    store: Store,
    authority: Authority,
    program: Program,
    clock: Clock,
}

impl Partnerships {
    pub fn new(store: Store, authority: Authority, program: Program, clock: Clock) -> Self {
        Self { store, authority, program, clock }
    }

    /// Checks dates, type, level and currency of a partnership about to be written.
    async fn check(&self, p: &mut PartnershipRecord) -> Result<(), PartnerError> {
        let mut problems = Vec::new();
        let start =
            dates::parse(&p.start_date).map_err(|e| problems.push(("partnership.start_date".to_owned(), e))).ok();
        let due = dates::parse(&p.due_date).map_err(|e| problems.push(("partnership.due_date".to_owned(), e))).ok();
        if let (Some(start), Some(due)) = (start, due)
            && due <= start
        {
            problems.push(("partnership.due_date".into(), "must be after start_date".into()));
        }
        if let Err(PartnerError::Invalid(p)) = check_currency("partnership.currency_code", &p.currency_code) {
            problems.extend(p);
        }
        if !problems.is_empty() {
            return Err(PartnerError::Invalid(problems));
        }
        self.store
            .lookup::<PartnerTypeRecord>(&p.partner_type_id)
            .await?
            .ok_or_else(|| PartnerError::NotFound("partner type", p.partner_type_id.clone()))?;
        if let Some(level_id) = &p.partner_level_id {
            let level = self
                .store
                .lookup::<PartnerLevelRecord>(level_id)
                .await?
                .ok_or_else(|| PartnerError::NotFound("partner level", level_id.clone()))?;
            if level.partner_type_id != p.partner_type_id {
                return Err(PartnerError::invalid(
                    "partnership.partner_level_id",
                    "is a level of another partner type; choose a level of the partnership's type",
                ));
            }
        }
        Ok(())
    }

    pub async fn create(
        &self,
        caller: &Caller,
        draft: PartnershipDraft,
        request_id: &str,
    ) -> Result<PartnershipRecord, PartnerError> {
        let actor = self.authority.staff(caller, Object::Partnership, Operation::Create).await?;
        let now = self.clock.now();
        if let Some(id) = self.store.created_by_request(actor.user_id(), "partnerships", request_id, now).await?
            && let Some(done) = self.store.partnership(&id).await?
        {
            return Ok(done);
        }
        let mut problems = Vec::new();
        for (field, value) in [
            ("partnership.partner_account_id", &draft.partner_account_id),
            ("partnership.partner_type_id", &draft.partner_type_id),
        ] {
            if value.is_empty() {
                problems.push((field.to_owned(), "is required".to_owned()));
            }
        }
        if !problems.is_empty() {
            return Err(PartnerError::Invalid(problems));
        }
        let account = self.authority.partner_account(&draft.partner_account_id).await?;
        let start_date = if draft.start_date.is_empty() { dates::date_of(now).to_string() } else { draft.start_date };
        let due_date = match (draft.due_date.is_empty(), dates::parse(&start_date)) {
            (true, Ok(start)) => dates::one_year_after(start).to_string(),
            _ => draft.due_date,
        };
        let counting_since = dates::parse(&start_date).map(dates::start_of).unwrap_or(now);
        let mut partnership = PartnershipRecord {
            id: secrets::new_id(),
            partner_account_id: account.account_id,
            partner_organization_id: account.organization_id,
            partner_type_id: draft.partner_type_id,
            partner_level_id: Some(draft.partner_level_id).filter(|l| !l.is_empty()),
            start_date,
            due_date,
            active: i16::from(draft.active.unwrap_or(true)),
            currency_code: if draft.currency_code.is_empty() { DEFAULT_CURRENCY.into() } else { draft.currency_code },
            points: 0,
            counting_since,
            counting_after_event: String::new(),
            version: 1,
            created_at: now,
            updated_at: now,
        };
        self.check(&mut partnership).await?;
        let mut tx = self.store.begin().await?;
        Store::insert_partnership(&mut tx, &partnership).await?;
        Store::remember_request(&mut tx, actor.user_id(), "partnerships", request_id, &partnership.id, now).await?;
        tx.commit().await?;
        self.reevaluated(partnership).await
    }

    /// The partnership after evaluating its points again.
    async fn reevaluated(&self, partnership: PartnershipRecord) -> Result<PartnershipRecord, PartnerError> {
        self.program.evaluate_partner(&partnership.partner_account_id).await?;
        self.store
            .partnership(&partnership.id)
            .await?
            .ok_or_else(|| PartnerError::NotFound("partnership", partnership.id))
    }

    pub async fn get(&self, caller: &Caller, id: &str) -> Result<PartnershipRecord, PartnerError> {
        self.authority.staff(caller, Object::Partnership, Operation::Read).await?;
        self.store.partnership(id).await?.ok_or_else(|| PartnerError::NotFound("partnership", id.to_owned()))
    }

    pub async fn list(
        &self,
        caller: &Caller,
        filter: &PartnershipFilter,
        before: Option<(i64, String)>,
        limit: i64,
    ) -> Result<Vec<PartnershipRecord>, PartnerError> {
        self.authority.staff(caller, Object::Partnership, Operation::Read).await?;
        self.store.partnerships(filter, before, limit).await
    }

    pub async fn update(
        &self,
        caller: &Caller,
        patch: PartnershipDraft,
        paths: &[String],
        level_change_reason: &str,
    ) -> Result<PartnershipRecord, PartnerError> {
        let actor = self.authority.staff(caller, Object::Partnership, Operation::Update).await?;
        if paths.is_empty() {
            return Err(PartnerError::invalid(
                "update_mask",
                format!("is required; updatable: {}", UPDATABLE.join(", ")),
            ));
        }
        if let Some(bad) = paths.iter().find(|p| !UPDATABLE.contains(&p.as_str())) {
            return Err(PartnerError::invalid(
                "update_mask",
                format!("'{bad}' cannot be updated; updatable: {}", UPDATABLE.join(", ")),
            ));
        }
        let before = self
            .store
            .partnership(&patch.id)
            .await?
            .ok_or_else(|| PartnerError::NotFound("partnership", patch.id.clone()))?;
        lookup::check_etag("partnership", &patch.etag, before.version)?;
        let changes = |path: &str| paths.iter().any(|p| p == path);
        let now = self.clock.now();
        let mut next = before.clone();
        if changes("partner_type_id") {
            next.partner_type_id = patch.partner_type_id.clone();
        }
        if changes("partner_level_id") {
            next.partner_level_id = Some(patch.partner_level_id.clone()).filter(|l| !l.is_empty());
        } else if next.partner_type_id != before.partner_type_id {
            next.partner_level_id = None;
        }
        if changes("start_date") {
            next.start_date = patch.start_date.clone();
            if before.counting_after_event.is_empty()
                && dates::parse(&before.start_date).map(dates::start_of).ok() == Some(before.counting_since)
            {
                next.counting_since = dates::parse(&next.start_date).map(dates::start_of).unwrap_or(now);
            }
        }
        if changes("due_date") {
            next.due_date = patch.due_date.clone();
        }
        if changes("active") {
            next.active = i16::from(patch.active.unwrap_or(false));
        }
        if changes("currency_code") {
            next.currency_code = patch.currency_code.clone();
        }
        self.check(&mut next).await?;
        let level_changed = next.partner_level_id != before.partner_level_id;
        let reason = level_change_reason.trim();
        if level_changed && changes("partner_level_id") && (reason.is_empty() || reason.chars().count() > 1000) {
            return Err(PartnerError::invalid(
                "level_change_reason",
                "is required (1 to 1,000 characters) when the level changes",
            ));
        }
        let mut tx = self.store.begin().await?;
        if level_changed {
            next.points = 0;
            next.counting_since = now;
            next.counting_after_event = String::new();

            let reason =
                if changes("partner_level_id") { reason.to_owned() } else { "the partner type changed".to_owned() };
            let promotion = PromotionRecord {
                id: secrets::new_id(),
                partnership_id: before.id.clone(),
                from_level_id: before.partner_level_id.clone().unwrap_or_default(),
                from_level_name: self.level_name(&before.partner_level_id).await?,
                to_level_id: next.partner_level_id.clone().unwrap_or_default(),
                to_level_name: self.level_name(&next.partner_level_id).await?,
                kind: "manual".into(),
                points: 0,
                reason,
                obligations_json: "[]".into(),
                actor_user_id: actor.user_id().to_owned(),
                promote_time: now,
                created_at: now,
            };
            Store::insert_promotion(&mut tx, &promotion).await?;
        }
        Store::update_partnership(&mut tx, &next, now).await?;
        tx.commit().await?;
        self.reevaluated(next).await
    }

    async fn level_name(&self, level: &Option<String>) -> Result<String, PartnerError> {
        match level {
            Some(id) => Ok(self.store.lookup::<PartnerLevelRecord>(id).await?.map(|l| l.name).unwrap_or_default()),
            None => Ok(String::new()),
        }
    }

    pub async fn delete(&self, caller: &Caller, id: &str, etag: &str) -> Result<(), PartnerError> {
        self.authority.staff(caller, Object::Partnership, Operation::Delete).await?;
        let partnership =
            self.store.partnership(id).await?.ok_or_else(|| PartnerError::NotFound("partnership", id.to_owned()))?;
        lookup::check_etag("partnership", etag, partnership.version)?;
        self.store.delete_partnership(id, partnership.version).await
    }
}
