//! The training and certification use cases: staff record them for a partner's
//! contacts; partner users read their own partner's. Every change evaluates the
//! partner's points again (trainings completed and certified experts are sources).

use service_kit::{Caller, clock::Clock, secrets};

use crate::{
    authority::{Actor, Authority, Object, Operation},
    domain::{PartnerError, dates, lookup},
    program::Program,
    storage::{Store, TrainingFilter, TrainingRecord},
};

/// The paths UpdatePartnerTraining may name.
pub const UPDATABLE: &[&str] = &["contact_id", "title", "kind", "completion_date", "expiry_date"];

#[derive(Debug, Clone)]
pub struct Trainings {
    store: Store,
    authority: Authority,
    program: Program,
    clock: Clock,
}

impl Trainings {
    pub fn new(store: Store, authority: Authority, program: Program, clock: Clock) -> Self {
        Self { store, authority, program, clock }
    }

    /// Checks a record as it will be written and copies its contact's name.
    async fn check(&self, t: &mut TrainingRecord) -> Result<(), PartnerError> {
        let mut problems = Vec::new();
        let title = t.title.trim().chars().count();
        if title == 0 || t.title.chars().count() > 250 {
            problems.push(("partner_training.title".to_owned(), "is required, 1 to 250 characters".to_owned()));
        }
        if t.contact_id.is_empty() {
            problems.push(("partner_training.contact_id".into(), "is required".into()));
        }
        if !matches!(t.kind.as_str(), "training" | "certification") {
            problems.push(("partner_training.kind".into(), "is required: training or certification".into()));
        }
        let completed = dates::parse(&t.completion_date)
            .map_err(|e| problems.push(("partner_training.completion_date".into(), e)))
            .ok();
        if !t.expiry_date.is_empty() {
            match dates::parse(&t.expiry_date) {
                Err(e) => problems.push(("partner_training.expiry_date".into(), e)),
                Ok(_) if t.kind == "training" => {
                    problems.push(("partner_training.expiry_date".into(), "must be empty for a training".into()))
                }
                Ok(expiry) if completed.is_some_and(|c| expiry < c) => {
                    problems.push(("partner_training.expiry_date".into(), "must not be before completion_date".into()))
                }
                Ok(_) => {}
            }
        }
        if !problems.is_empty() {
            return Err(PartnerError::Invalid(problems));
        }
        t.title = t.title.trim().to_owned();
        t.contact_name = self.authority.partner_contact(&t.contact_id, &t.partner_account_id).await?;
        Ok(())
    }

    async fn evaluate(&self, partner_account_id: &str) {
        if let Err(error) = self.program.evaluate_partner(partner_account_id).await {
            tracing::warn!(%partner_account_id, %error, "points evaluation after a training change failed");
        }
    }

    pub async fn create(
        &self,
        caller: &Caller,
        mut t: TrainingRecord,
        request_id: &str,
    ) -> Result<TrainingRecord, PartnerError> {
        let actor = self.authority.staff(caller, Object::Partnership, Operation::Update).await?;
        let now = self.clock.now();
        if let Some(id) = self.store.created_by_request(actor.user_id(), "trainings", request_id, now).await?
            && let Some(done) = self.store.training(&id).await?
        {
            return Ok(done);
        }
        if t.partner_account_id.is_empty() {
            return Err(PartnerError::invalid("partner_training.partner_account_id", "is required"));
        }
        self.authority.partner_account(&t.partner_account_id).await?;
        self.check(&mut t).await?;
        t.id = secrets::new_id();
        t.version = 1;
        t.created_at = now;
        t.updated_at = now;
        let mut tx = self.store.begin().await?;
        Store::insert_training(&mut tx, &t).await?;
        Store::remember_request(&mut tx, actor.user_id(), "trainings", request_id, &t.id, now).await?;
        tx.commit().await?;
        self.evaluate(&t.partner_account_id).await;
        Ok(t)
    }

    /// A record the caller may read: staff any, partner users their own partner's
    /// (another's is NOT_FOUND).
    async fn readable(&self, caller: &Caller, id: &str) -> Result<(Actor, TrainingRecord), PartnerError> {
        let actor = self.authority.require(caller, Object::Partnership, Operation::Read, None).await?;
        let record = self
            .store
            .training(id)
            .await?
            .filter(|t| actor.own_account().is_none_or(|own| own == t.partner_account_id))
            .ok_or_else(|| PartnerError::NotFound("partner training", id.to_owned()))?;
        Ok((actor, record))
    }

    pub async fn get(&self, caller: &Caller, id: &str) -> Result<TrainingRecord, PartnerError> {
        Ok(self.readable(caller, id).await?.1)
    }

    pub async fn list(
        &self,
        caller: &Caller,
        mut filter: TrainingFilter,
        only_valid: bool,
        after: Option<(String, String)>,
        limit: i64,
    ) -> Result<Vec<TrainingRecord>, PartnerError> {
        let actor = self.authority.require(caller, Object::Partnership, Operation::Read, None).await?;
        if let Some(own) = actor.own_account() {
            filter.partner_account_id = own.to_owned();
        }
        if only_valid {
            filter.valid_on = dates::date_of(self.clock.now()).to_string();
        }
        self.store.trainings(&filter, after, limit).await
    }

    pub async fn update(
        &self,
        caller: &Caller,
        patch: TrainingRecord,
        etag: &str,
        paths: &[String],
    ) -> Result<TrainingRecord, PartnerError> {
        self.authority.staff(caller, Object::Partnership, Operation::Update).await?;
        if paths.is_empty() || paths.iter().any(|p| !UPDATABLE.contains(&p.as_str())) {
            return Err(PartnerError::invalid(
                "update_mask",
                format!("is required; updatable: {}", UPDATABLE.join(", ")),
            ));
        }
        let mut next = self
            .store
            .training(&patch.id)
            .await?
            .ok_or_else(|| PartnerError::NotFound("partner training", patch.id.clone()))?;
        lookup::check_etag("partner training", etag, next.version)?;
        for path in paths {
            match path.as_str() {
                "contact_id" => next.contact_id = patch.contact_id.clone(),
                "title" => next.title = patch.title.clone(),
                "kind" => next.kind = patch.kind.clone(),
                "completion_date" => next.completion_date = patch.completion_date.clone(),
                _ => next.expiry_date = patch.expiry_date.clone(),
            }
        }
        self.check(&mut next).await?;
        self.store.update_training(&next, self.clock.now()).await?;
        self.evaluate(&next.partner_account_id).await;
        self.store.training(&next.id).await?.ok_or_else(|| PartnerError::NotFound("partner training", next.id.clone()))
    }

    pub async fn delete(&self, caller: &Caller, id: &str, etag: &str) -> Result<(), PartnerError> {
        self.authority.staff(caller, Object::Partnership, Operation::Update).await?;
        let record =
            self.store.training(id).await?.ok_or_else(|| PartnerError::NotFound("partner training", id.to_owned()))?;
        lookup::check_etag("partner training", etag, record.version)?;
        self.store.delete_training(id, record.version).await?;
        self.evaluate(&record.partner_account_id).await;
        Ok(())
    }
}
