//! The lead and opportunity use cases. Partner users (with "Partner portal users")
//! register and work their own partner's records; staff see and change every
//! partner's. A record the caller may not reach is NOT_FOUND. Every change that can
//! move points evaluates the partner's partnership again.

use service_kit::{Caller, clock::Clock, registrations, secrets};

use crate::{
    authority::{Actor, Authority, Object, Operation},
    domain::{
        PartnerError, dates,
        decimal::Decimal,
        leads::{self, DuplicateMatch, LeadStatus},
        lookup,
        opportunities::{self, CloseState},
    },
    program::Program,
    storage::{LeadFilter, LeadRecord, OpportunityFilter, OpportunityRecord, Store, Tx},
};

/// The paths UpdateLead may name.
pub const LEAD_UPDATABLE: &[&str] =
    &["company_name", "contact_name", "email", "phone", "need_description", "status", "disqualification_reason"];
/// The paths UpdateOpportunity may name.
pub const OPPORTUNITY_UPDATABLE: &[&str] = &["name", "customer_name", "amount", "stage", "close_state", "close_date"];

/// An opportunity's amount as a caller states it.
#[derive(Debug, Clone, Default)]
pub struct MoneyDraft {
    pub amount: String,
    pub currency_code: String,
}

#[derive(Debug, Clone)]
pub struct Activity {
    store: Store,
    authority: Authority,
    program: Program,
    clock: Clock,
}

fn check_mask(paths: &[String], updatable: &[&str]) -> Result<(), PartnerError> {
    if paths.is_empty() {
        return Err(PartnerError::invalid("update_mask", format!("is required; updatable: {}", updatable.join(", "))));
    }
    match paths.iter().find(|p| !updatable.contains(&p.as_str())) {
        Some(bad) => Err(PartnerError::invalid(
            "update_mask",
            format!("'{bad}' cannot be updated; updatable: {}", updatable.join(", ")),
        )),
        None => Ok(()),
    }
}

fn text(problems: &mut Vec<(String, String)>, field: &str, value: &str, required: bool, max: usize) {
    let length = value.trim().chars().count();
    if (required && length == 0) || value.chars().count() > max {
        let need = if required {
            format!("is required, 1 to {max} characters")
        } else {
            format!("must be at most {max} characters")
        };
        problems.push((field.to_owned(), need));
    }
}

fn finish(problems: Vec<(String, String)>) -> Result<(), PartnerError> {
    if problems.is_empty() { Ok(()) } else { Err(PartnerError::Invalid(problems)) }
}

/// Checks a lead's fields as they will be written.
fn check_lead(lead: &LeadRecord) -> Result<(), PartnerError> {
    let mut problems = Vec::new();
    text(&mut problems, "lead.company_name", &lead.company_name, true, 250);
    text(&mut problems, "lead.contact_name", &lead.contact_name, false, 250);
    text(&mut problems, "lead.phone", &lead.phone, false, 50);
    text(&mut problems, "lead.need_description", &lead.need_description, false, 8000);
    text(&mut problems, "lead.disqualification_reason", &lead.disqualification_reason, false, 1000);
    if !lead.email.is_empty()
        && let Err(PartnerError::Invalid(p)) = leads::check_email("lead.email", &lead.email)
    {
        problems.extend(p);
    }
    if !lead.disqualification_reason.is_empty() && lead.status != LeadStatus::Disqualified.stored() {
        problems.push(("lead.disqualification_reason".into(), "is only for a disqualified lead".into()));
    }
    finish(problems)
}

impl Activity {
    pub fn new(store: Store, authority: Authority, program: Program, clock: Clock) -> Self {
        Self { store, authority, program, clock }
    }

    /// The partner a new record is for: a partner user's own (naming another is
    /// PERMISSION_DENIED), or the one staff name. Returns (account, organization).
    async fn partner_for(&self, actor: &Actor, named: &str, field: &str) -> Result<(String, String), PartnerError> {
        match actor {
            Actor::Partner(partner) => {
                if !named.is_empty() && named != partner.account_id {
                    return Err(PartnerError::Denied(
                        "NOT_ALLOWED",
                        "partner users register records for their own partner only".into(),
                    ));
                }
                Ok((partner.account_id.clone(), partner.organization_id.clone()))
            }
            Actor::Staff { .. } => {
                if named.is_empty() {
                    return Err(PartnerError::invalid(field, "is required for staff"));
                }
                let account = self.authority.partner_account(named).await?;
                Ok((account.account_id, account.organization_id))
            }
        }
    }

    /// Evaluates the partner's points after a change; a failure is logged, not returned:
    /// the change is committed and the next evaluation (or RecomputePoints) catches up.
    async fn evaluate(&self, partner_account_id: &str) {
        if let Err(error) = self.program.evaluate_partner(partner_account_id).await {
            tracing::warn!(%partner_account_id, %error, "points evaluation after an activity change failed");
        }
    }

    /// The duplicate match of a lead against other partners' leads.
    async fn duplicate_match(&self, tx: &mut Tx, lead: &LeadRecord) -> Result<String, PartnerError> {
        let found = self
            .store
            .matching_leads(tx, &lead.partner_account_id, &lead.company_key, &lead.email_domain, &lead.id)
            .await?;
        let by_name = found.iter().any(|(_, name, _)| *name);
        let by_domain = found.iter().any(|(_, _, domain)| *domain);
        Ok(DuplicateMatch::of(by_name, by_domain).map(|m| m.stored().to_owned()).unwrap_or_default())
    }

    pub async fn create_lead(
        &self,
        caller: &Caller,
        mut lead: LeadRecord,
        request_id: &str,
    ) -> Result<(Actor, LeadRecord), PartnerError> {
        let actor = self.authority.require(caller, Object::Lead, Operation::Create, None).await?;
        let now = self.clock.now();
        if let Some(id) = self.store.created_by_request(actor.user_id(), "leads", request_id, now).await?
            && let Some(done) = self.store.lead(&id).await?
        {
            return Ok((actor, done));
        }
        let (account, organization) =
            self.partner_for(&actor, &lead.partner_account_id, "lead.partner_account_id").await?;
        if lead.status.is_empty() {
            lead.status = LeadStatus::New.stored().into();
        }
        leads::check_initial_status(LeadStatus::from_stored(&lead.status)?)?;
        check_lead(&lead)?;
        lead.id = secrets::new_id();
        lead.partner_account_id = account;
        lead.partner_organization_id = organization;
        lead.registered_by_user_id = actor.user_id().to_owned();
        lead.company_name = lead.company_name.trim().to_owned();
        lead.company_key = leads::company_key(&lead.company_name);
        lead.email_domain = leads::company_domain(&lead.email);
        lead.version = 1;
        lead.created_at = now;
        lead.updated_at = now;
        // Access hears of the lead before it is stored; one not stored is removed from
        // access again (see `service_kit::registrations`).
        self.authority.register(Object::Lead, &lead.id, actor.user_id(), &lead.partner_organization_id).await?;
        let stored = async {
            let mut tx = self.store.begin().await?;
            (lead.created_at, lead.activity_seq) = Store::next_activity(&mut tx, &lead.partner_account_id, now).await?;
            lead.updated_at = lead.created_at;
            lead.duplicate_match = self.duplicate_match(&mut tx, &lead).await?;
            Store::insert_lead(&mut tx, &lead).await?;
            Store::remember_request(&mut tx, actor.user_id(), "leads", request_id, &lead.id, now).await?;
            registrations::settle(&mut tx, Object::Lead.code(), &lead.id).await?;
            Ok::<_, PartnerError>(tx.commit().await?)
        };
        if let Err(error) = stored.await {
            self.authority.abandon(Object::Lead, &lead.id).await;
            return Err(error);
        }
        self.evaluate(&lead.partner_account_id).await;
        Ok((actor, lead))
    }

    /// A lead access lets the caller reach for `operation`, or NOT_FOUND.
    async fn reachable_lead(
        &self,
        caller: &Caller,
        id: &str,
        operation: Operation,
    ) -> Result<(Actor, LeadRecord), PartnerError> {
        let actor = self.authority.require(caller, Object::Lead, operation, Some(id)).await?;
        let lead = self.store.lead(id).await?.ok_or_else(|| PartnerError::NotFound("lead", id.to_owned()))?;
        Ok((actor, lead))
    }

    /// A lead and, for staff, the other partners' leads it duplicates.
    pub async fn get_lead(&self, caller: &Caller, id: &str) -> Result<(Actor, LeadRecord), PartnerError> {
        self.reachable_lead(caller, id, Operation::Read).await
    }

    /// The other partners' leads a lead duplicates; staff only, never partner users.
    pub async fn duplicate_ids(&self, actor: &Actor, lead: &LeadRecord) -> Result<Vec<String>, PartnerError> {
        if actor.is_staff() { self.store.duplicates_of(lead).await } else { Ok(Vec::new()) }
    }

    pub async fn list_leads(
        &self,
        caller: &Caller,
        filter: &LeadFilter,
        before: Option<(i64, String)>,
        limit: i64,
    ) -> Result<(Actor, Vec<LeadRecord>), PartnerError> {
        let actor = self.authority.require(caller, Object::Lead, Operation::Read, None).await?;
        let scope = self.authority.list_scope(&actor, Object::Lead).await?;
        let rows = self.store.leads(&scope, filter, before, limit).await?;
        Ok((actor, rows))
    }

    pub async fn update_lead(
        &self,
        caller: &Caller,
        patch: LeadRecord,
        etag: &str,
        paths: &[String],
    ) -> Result<(Actor, LeadRecord), PartnerError> {
        check_mask(paths, LEAD_UPDATABLE)?;
        let (actor, before) = self.reachable_lead(caller, &patch.id, Operation::Update).await?;
        lookup::check_etag("lead", etag, before.version)?;
        let mut next = before.clone();
        for path in paths {
            match path.as_str() {
                "company_name" => next.company_name = patch.company_name.trim().to_owned(),
                "contact_name" => next.contact_name = patch.contact_name.clone(),
                "email" => next.email = patch.email.clone(),
                "phone" => next.phone = patch.phone.clone(),
                "need_description" => next.need_description = patch.need_description.clone(),
                "status" => next.status = patch.status.clone(),
                _ => next.disqualification_reason = patch.disqualification_reason.clone(),
            }
        }
        if next.status.is_empty() {
            return Err(PartnerError::invalid("lead.status", "is required"));
        }
        leads::check_status_change(LeadStatus::from_stored(&before.status)?, LeadStatus::from_stored(&next.status)?)?;
        if next.status != LeadStatus::Disqualified.stored() && !paths.iter().any(|p| p == "disqualification_reason") {
            next.disqualification_reason.clear();
        }
        check_lead(&next)?;
        next.company_key = leads::company_key(&next.company_name);
        next.email_domain = leads::company_domain(&next.email);
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        if next.company_key != before.company_key || next.email_domain != before.email_domain {
            next.duplicate_match = self.duplicate_match(&mut tx, &next).await?;
        }
        Store::update_lead(&mut tx, &next, now).await?;
        tx.commit().await?;
        if next.status != before.status {
            self.evaluate(&next.partner_account_id).await;
        }
        let stored = self.store.lead(&next.id).await?.ok_or_else(|| PartnerError::NotFound("lead", next.id.clone()))?;
        Ok((actor, stored))
    }

    pub async fn delete_lead(&self, caller: &Caller, id: &str, etag: &str) -> Result<(), PartnerError> {
        let (_, lead) = self.reachable_lead(caller, id, Operation::Delete).await?;
        lookup::check_etag("lead", etag, lead.version)?;
        self.store.delete_lead(id, lead.version).await?;
        self.authority.unregister(Object::Lead, id).await;
        self.evaluate(&lead.partner_account_id).await;
        Ok(())
    }

    /// Checks an opportunity's fields as they will be written.
    fn check_opportunity(
        o: &OpportunityRecord,
        money: Option<&MoneyDraft>,
    ) -> Result<Option<(i64, String)>, PartnerError> {
        let mut problems = Vec::new();
        text(&mut problems, "opportunity.name", &o.name, true, 250);
        text(&mut problems, "opportunity.customer_name", &o.customer_name, false, 250);
        if o.stage.is_empty() {
            problems.push(("opportunity.stage".into(), "is required".into()));
        }
        if !o.close_date.is_empty()
            && let Err(e) = dates::parse(&o.close_date)
        {
            problems.push(("opportunity.close_date".into(), e));
        }
        let mut amount = None;
        if let Some(money) = money {
            match Decimal::parse(&money.amount) {
                Ok(value) => amount = Some(value.hundredths()),
                Err(e) => problems.push(("opportunity.amount.amount".into(), e)),
            }
            if let Err(PartnerError::Invalid(p)) =
                opportunities::check_currency("opportunity.amount.currency_code", &money.currency_code)
            {
                problems.extend(p);
            }
        }
        finish(problems)?;
        Ok(amount.zip(money.map(|m| m.currency_code.clone())))
    }

    /// Stamps close_time (and defaults close_date) when an opportunity closes, clears
    /// close_time when it opens again.
    /// The closing takes its place in the partner's activity order (inside `tx`).
    async fn stamp_close(
        &self,
        tx: &mut Tx,
        before: CloseState,
        o: &mut OpportunityRecord,
    ) -> Result<(), PartnerError> {
        let state = CloseState::from_stored(&o.close_state)?;
        if state.is_closed() && before != state {
            let (at, seq) = Store::next_activity(tx, &o.partner_account_id, self.clock.now()).await?;
            o.close_time = Some(at);
            o.close_seq = seq;
            if o.close_date.is_empty() {
                o.close_date = dates::date_of(at).to_string();
            }
        }
        if !state.is_closed() {
            o.close_time = None;
            o.close_seq = 0;
        }
        Ok(())
    }

    pub async fn create_opportunity(
        &self,
        caller: &Caller,
        mut o: OpportunityRecord,
        money: Option<MoneyDraft>,
        request_id: &str,
    ) -> Result<OpportunityRecord, PartnerError> {
        let actor = self.authority.require(caller, Object::Opportunity, Operation::Create, None).await?;
        let now = self.clock.now();
        if let Some(id) = self.store.created_by_request(actor.user_id(), "opportunities", request_id, now).await?
            && let Some(done) = self.store.opportunity(&id).await?
        {
            return Ok(done);
        }
        let money = money.ok_or_else(|| PartnerError::invalid("opportunity.amount", "is required"))?;
        let (account, organization) =
            self.partner_for(&actor, &o.partner_account_id, "opportunity.partner_account_id").await?;
        let lead = match o.lead_id.as_deref().filter(|l| !l.is_empty()) {
            Some(lead_id) => {
                let (_, lead) = self.reachable_lead(caller, lead_id, Operation::Read).await?;
                if lead.partner_account_id != account {
                    return Err(PartnerError::NotFound("lead", lead_id.to_owned()));
                }
                if lead.status == LeadStatus::Disqualified.stored() {
                    return Err(PartnerError::Refused(
                        "LEAD_DISQUALIFIED",
                        "the lead is disqualified; qualify it again before creating an opportunity".into(),
                    ));
                }
                Some(lead)
            }
            None => None,
        };
        if o.customer_name.is_empty()
            && let Some(lead) = &lead
        {
            o.customer_name = lead.company_name.clone();
        }
        if o.close_state.is_empty() {
            o.close_state = CloseState::Open.stored().into();
        }
        let (amount, currency) = Self::check_opportunity(&o, Some(&money))?.unwrap_or_default();
        o.id = secrets::new_id();
        o.partner_account_id = account;
        o.partner_organization_id = organization;
        o.lead_id = lead.as_ref().map(|l| l.id.clone());
        o.registered_by_user_id = actor.user_id().to_owned();
        o.amount_hundredths = amount;
        o.currency_code = currency;
        o.version = 1;
        o.created_at = now;
        o.updated_at = now;
        self.authority.register(Object::Opportunity, &o.id, actor.user_id(), &o.partner_organization_id).await?;
        let stored = async {
            let mut tx = self.store.begin().await?;
            self.stamp_close(&mut tx, CloseState::Open, &mut o).await?;
            Store::insert_opportunity(&mut tx, &o).await?;
            if let Some(lead) = &lead {
                Store::convert_lead(&mut tx, &lead.id, now).await?;
            }
            Store::remember_request(&mut tx, actor.user_id(), "opportunities", request_id, &o.id, now).await?;
            registrations::settle(&mut tx, Object::Opportunity.code(), &o.id).await?;
            Ok::<_, PartnerError>(tx.commit().await?)
        };
        if let Err(error) = stored.await {
            self.authority.abandon(Object::Opportunity, &o.id).await;
            return Err(error);
        }
        self.evaluate(&o.partner_account_id).await;
        Ok(o)
    }

    /// An opportunity access lets the caller reach for `operation`, or NOT_FOUND.
    async fn reachable_opportunity(
        &self,
        caller: &Caller,
        id: &str,
        operation: Operation,
    ) -> Result<(Actor, OpportunityRecord), PartnerError> {
        let actor = self.authority.require(caller, Object::Opportunity, operation, Some(id)).await?;
        let found =
            self.store.opportunity(id).await?.ok_or_else(|| PartnerError::NotFound("opportunity", id.to_owned()))?;
        Ok((actor, found))
    }

    pub async fn get_opportunity(&self, caller: &Caller, id: &str) -> Result<OpportunityRecord, PartnerError> {
        Ok(self.reachable_opportunity(caller, id, Operation::Read).await?.1)
    }

    pub async fn list_opportunities(
        &self,
        caller: &Caller,
        filter: &OpportunityFilter,
        before: Option<(i64, String)>,
        limit: i64,
    ) -> Result<Vec<OpportunityRecord>, PartnerError> {
        let actor = self.authority.require(caller, Object::Opportunity, Operation::Read, None).await?;
        let scope = self.authority.list_scope(&actor, Object::Opportunity).await?;
        self.store.opportunities(&scope, filter, before, limit).await
    }

    pub async fn update_opportunity(
        &self,
        caller: &Caller,
        patch: OpportunityRecord,
        money: Option<MoneyDraft>,
        etag: &str,
        paths: &[String],
    ) -> Result<OpportunityRecord, PartnerError> {
        check_mask(paths, OPPORTUNITY_UPDATABLE)?;
        let (actor, before) = self.reachable_opportunity(caller, &patch.id, Operation::Update).await?;
        lookup::check_etag("opportunity", etag, before.version)?;
        let mut next = before.clone();
        let mut new_money = None;
        for path in paths {
            match path.as_str() {
                "name" => next.name = patch.name.clone(),
                "customer_name" => next.customer_name = patch.customer_name.clone(),
                "amount" => {
                    new_money =
                        Some(money.clone().ok_or_else(|| PartnerError::invalid("opportunity.amount", "is required"))?)
                }
                "stage" => next.stage = patch.stage.clone(),
                "close_state" => next.close_state = patch.close_state.clone(),
                _ => next.close_date = patch.close_date.clone(),
            }
        }
        if next.close_state.is_empty() {
            return Err(PartnerError::invalid("opportunity.close_state", "is required"));
        }
        let state = CloseState::from_stored(&before.close_state)?;
        if !actor.is_staff() {
            opportunities::check_partner_change(state, CloseState::from_stored(&next.close_state)?, paths)?;
        }
        if let Some((amount, currency)) = Self::check_opportunity(&next, new_money.as_ref())? {
            next.amount_hundredths = amount;
            next.currency_code = currency;
        }
        let mut tx = self.store.begin().await?;
        self.stamp_close(&mut tx, state, &mut next).await?;
        Store::update_opportunity(&mut tx, &next, self.clock.now()).await?;
        tx.commit().await?;
        self.evaluate(&next.partner_account_id).await;
        self.store.opportunity(&next.id).await?.ok_or_else(|| PartnerError::NotFound("opportunity", next.id.clone()))
    }

    pub async fn delete_opportunity(&self, caller: &Caller, id: &str, etag: &str) -> Result<(), PartnerError> {
        let (actor, o) = self.reachable_opportunity(caller, id, Operation::Delete).await?;
        lookup::check_etag("opportunity", etag, o.version)?;
        if !actor.is_staff() {
            opportunities::check_partner_delete(CloseState::from_stored(&o.close_state)?)?;
        }
        self.store.delete_opportunity(id, o.version).await?;
        self.authority.unregister(Object::Opportunity, id).await;
        self.evaluate(&o.partner_account_id).await;
        Ok(())
    }
}
