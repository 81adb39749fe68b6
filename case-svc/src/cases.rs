//! Case use cases: register a case (agreement selection, number, deadlines), read it
//! with its remaining or overdue times, list the cases the caller may read, change its
//! fields, move it through its statuses (the rule is `domain::status`), rate it, and read
//! its history. Every change is one transaction with its history and email.

use std::collections::HashMap;

use service_kit::{ApiError, Caller, clock::Clock, secrets};

use crate::{
    agreements::Agreements,
    calendars::to_working,
    case_access::{self, CaseAccess, Operation},
    catalog::expected_version,
    directory::{ContactPlace, Directory},
    domain::{
        CaseError,
        agreement_selection::Selection,
        calendar::WorkingCalendar,
        case_columns::{FEEDBACK_NOTES, HiddenFields, SATISFACTION_LEVEL, column_of},
        sla::{ClockState, SlaClock, TimeLeft},
        status::{self, CaseStatus, ClockEffect, Mover, Transition},
    },
    settings::Settings,
    storage::{
        CaseRecord, HistoryRecord, ServiceRecord, Store,
        cases::{CaseChange, CaseQuery, ClockKind, Inserted},
        knowledge::TagRecord,
        outbox::OutboxMail,
    },
};

/// Built-in email template codes (notify-svc).
pub const FEEDBACK_TEMPLATE: &str = "Case feedback request";
pub const MESSAGE_TEMPLATE: &str = "Case message";
pub const WARNING_TEMPLATE: &str = "Case SLA warning";
pub const BREACH_TEMPLATE: &str = "Case SLA breach";

/// A case to register, as the adapter validated it.
#[derive(Debug, Clone, Default)]
pub struct NewCase {
    pub subject: String,
    pub description: String,
    /// Required only without a service.
    pub category: Option<String>,
    pub service_id: String,
    pub agreement_id: String,
    pub contact_id: String,
    pub owner_group_id: String,
    pub assignee_user_id: String,
    pub priority: i32,
    pub tags: Vec<String>,
}

/// A case with its clocks' remaining or overdue time as of the read.
#[derive(Debug, Clone)]
pub struct CaseView {
    pub case: CaseRecord,
    pub response_left: Option<TimeLeft>,
    pub resolution_left: Option<TimeLeft>,
}

/// The changes an UpdateCase asks for: `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct CasePatch {
    pub subject: Option<String>,
    pub description: Option<String>,
    pub priority: Option<i32>,
    pub tags: Option<Vec<String>>,
    pub agreement_id: Option<String>,
    pub service_id: Option<String>,
    pub owner_group_id: Option<String>,
    pub assignee_user_id: Option<String>,
    pub solution: Option<String>,
}

impl CasePatch {
    /// The columns of the case this patch edits (access refuses read-only ones).
    fn edited_columns(&self) -> Vec<&'static str> {
        let fields = [
            ("subject", self.subject.is_some()),
            ("description", self.description.is_some()),
            ("priority", self.priority.is_some()),
            ("tags", self.tags.is_some()),
            ("service_agreement_id", self.agreement_id.is_some()),
            ("service_item_id", self.service_id.is_some()),
            ("owner_group_id", self.owner_group_id.is_some()),
            ("assignee_user_id", self.assignee_user_id.is_some()),
            ("solution", self.solution.is_some()),
        ];
        fields.into_iter().filter(|(_, edited)| *edited).filter_map(|(field, _)| column_of(field)).collect()
    }
}

/// The cases' use cases.
#[derive(Debug, Clone)]
pub struct Cases {
    pub store: Store,
    pub clock: Clock,
    pub directory: Directory,
    pub agreements: Agreements,
    pub settings: Settings,
    pub access: CaseAccess,
    /// The portal's public base URL, for links in emails.
    pub public_base_url: String,
}

/// How many times a change is tried when concurrent changes of the case keep winning.
const CONFLICT_ATTEMPTS: usize = 5;

/// Runs `change`, a read-modify-write of one case, again when another writer (the SLA
/// worker firing an event, another user's message) changed the case in between and the
/// caller named no etag: such a caller asked for the change on the case as it is now, so
/// losing that race must not fail the call. With an etag, a conflict stays ABORTED.
pub async fn on_current<T, F, Fut>(etag: &str, mut change: F) -> Result<T, CaseError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, CaseError>>,
{
    let mut attempts = if etag.is_empty() { CONFLICT_ATTEMPTS } else { 1 };
    loop {
        attempts -= 1;
        match change().await {
            Err(CaseError::StaleEtag { .. }) if attempts > 0 => continue,
            result => return result,
        }
    }
}

fn not_found(id: &str) -> CaseError {
    CaseError::NotFound { resource: "case", id: id.to_owned() }
}

fn precondition(reason: &'static str, message: impl Into<String>) -> CaseError {
    CaseError::Precondition { reason, message: message.into() }
}

/// A history entry of `kind` for a case.
pub fn history(case: &CaseRecord, at: i64, actor: &str, kind: &str) -> HistoryRecord {
    HistoryRecord {
        id: secrets::new_id(),
        case_id: case.id.clone(),
        at,
        actor_user_id: actor.to_owned(),
        kind: kind.to_owned(),
        changes: "[]".into(),
        ..Default::default()
    }
}

/// Field changes as the history stores them.
pub fn changes_json(changes: &[(&str, String, String)]) -> String {
    serde_json::to_string(&changes.iter().map(|(f, o, n)| [*f, o.as_str(), n.as_str()]).collect::<Vec<_>>())
        .unwrap_or_else(|_| "[]".into())
}

/// An RFC 3339 rendering of an instant, for history values and emails.
pub fn rfc3339(millis: Option<i64>) -> String {
    millis
        .and_then(|m| jiff::Timestamp::from_millisecond(m).ok())
        .map(|t| t.round(jiff::Unit::Second).map(|t| t.to_string()).unwrap_or_default())
        .unwrap_or_default()
}

impl Cases {
    /// The calendar a case's deadlines are counted in.
    pub async fn calendar_of(&self, case: &CaseRecord) -> Result<WorkingCalendar, CaseError> {
        if case.calendar_id.is_empty() {
            return Ok(WorkingCalendar::around_the_clock());
        }
        match self.store.calendar(&case.calendar_id).await? {
            Some(record) => to_working(&record),
            None => Ok(WorkingCalendar::around_the_clock()),
        }
    }

    /// A case on which the caller may do `operation`, else NOT_FOUND when they may not
    /// reach it (never PERMISSION_DENIED for the record).
    pub async fn reachable(&self, caller: &Caller, id: &str, operation: Operation) -> Result<CaseRecord, CaseError> {
        self.reachable_editing(caller, id, operation, &[]).await
    }

    /// As [`Self::reachable`], when the caller may also edit `columns` of the case.
    async fn reachable_editing(
        &self,
        caller: &Caller,
        id: &str,
        operation: Operation,
        columns: &[&str],
    ) -> Result<CaseRecord, CaseError> {
        let case = self.store.case(id).await?.ok_or_else(|| not_found(id))?;
        self.access.require_record(caller, &case, operation, columns).await?;
        Ok(case)
    }

    /// The view of a case as of now.
    pub async fn view(&self, case: CaseRecord) -> Result<CaseView, CaseError> {
        let calendar = self.calendar_of(&case).await?;
        Ok(self.view_on(case, &calendar))
    }

    /// The view of a case as of now, its calendar already loaded.
    fn view_on(&self, case: CaseRecord, calendar: &WorkingCalendar) -> CaseView {
        let now = self.clock.now();
        CaseView {
            response_left: case.clock(ClockKind::Response).time_left(calendar, now),
            resolution_left: case.clock(ClockKind::Resolution).time_left(calendar, now),
            case,
        }
    }

    /// The mail of a template about a case for a user.
    pub fn mail(&self, case: &CaseRecord, template: &str, recipient: &str, extra: Vec<(String, String)>) -> OutboxMail {
        let mut values = vec![
            ("CaseNumber".to_owned(), case.number.clone()),
            ("CaseSubject".to_owned(), case.subject.clone()),
            ("CaseUrl".to_owned(), format!("{}/cases/{}", self.public_base_url, case.number)),
        ];
        values.extend(extra);
        OutboxMail {
            id: secrets::new_id(),
            template_code: template.to_owned(),
            recipient_user_id: recipient.to_owned(),
            macro_values: values,
            created_at: self.clock.now(),
        }
    }

    pub async fn create(&self, caller: &Caller, new: NewCase, request_id: &str) -> Result<CaseView, CaseError> {
        self.access.require_create(caller).await?;
        if let Some(id) = self.store.created_before(&caller.user_id, "case", request_id).await? {
            return self.earlier(&id).await;
        }
        let staff = case_access::is_staff(caller);
        let mut violations = service_kit::error::Violations::new();
        if !staff {
            for (field, value) in [
                ("case.contact_id", &new.contact_id),
                ("case.owner_group_id", &new.owner_group_id),
                ("case.assignee_user_id", &new.assignee_user_id),
            ] {
                if !value.is_empty() {
                    violations.add(field, "only staff may set it");
                }
            }
        }
        if new.service_id.is_empty() && new.category.is_none() {
            violations.add("case.service_item_id", "give a service, or at least a category");
        }
        violations.finish()?;
        let author = self.directory.person(&caller.user_id).await?.unwrap_or_default();
        let contact = self.contact_of(caller, &new.contact_id, &author).await?;
        let service = if new.service_id.is_empty() {
            None
        } else {
            let service = self.active_service(&new.service_id).await?;
            if new.category.as_ref().is_some_and(|c| *c != service.category) {
                return Err(CaseError::Api(ApiError::invalid(
                    "case.category",
                    "differs from the service's category; leave it empty to take the service's",
                )));
            }
            Some(service)
        };
        let category = service.as_ref().map(|s| s.category.clone()).or(new.category.clone()).unwrap_or_default();
        let (agreement_id, candidates) = if new.agreement_id.is_empty() {
            match self.agreements.select(&contact, &new.service_id).await?.0 {
                Selection::Selected { agreement_id, .. } => (Some(agreement_id), Vec::new()),
                Selection::Tie { candidate_ids, .. } => (None, candidate_ids),
                Selection::None => (None, Vec::new()),
            }
        } else {
            self.check_named_agreement(&contact, &new.agreement_id, &new.service_id).await?;
            (Some(new.agreement_id.clone()), Vec::new())
        };
        let settings = self.settings.get().await?;
        let calendar_id = match &agreement_id {
            Some(id) => self.store.agreement(id).await?.map(|a| a.calendar_id).unwrap_or_default(),
            None if candidates.is_empty() => settings.default_calendar_id.clone().unwrap_or_default(),
            None => String::new(),
        };
        let now = self.clock.now();
        let subject = if new.subject.is_empty() {
            match &service {
                Some(service) => format!("{} ({})", service.name, category.replace('_', " ")),
                None => category.replace('_', " "),
            }
        } else {
            new.subject
        };
        let mut tags = normalize_tags(new.tags);
        tags.sort();
        let mut case = CaseRecord {
            id: secrets::new_id(),
            number: String::new(),
            number_key: String::new(),
            sequence: 0,
            subject,
            description: new.description,
            status: CaseStatus::New.as_str().into(),
            category,
            service_id: service.as_ref().map(|s| s.id.clone()),
            agreement_id,
            candidate_ids: candidates.join(","),
            author_user_id: caller.user_id.clone(),
            contact_id: contact.contact_id.clone(),
            account_id: contact.account_id.clone(),
            organization_id: if contact.contact_id == author.contact_id {
                author.organization_id.clone()
            } else {
                String::new()
            },
            owner_group_id: new.owner_group_id,
            assignee_user_id: new.assignee_user_id,
            priority: if new.priority == 0 { 2 } else { new.priority },
            tags: tags.join(","),
            calendar_id,
            response_target: 0,
            response_state: String::new(),
            response_deadline: None,
            response_frozen_ms: 0,
            response_carried_ms: 0,
            response_breached: 0,
            response_warning_due: None,
            response_breach_due: None,
            resolution_target: 0,
            resolution_state: String::new(),
            resolution_deadline: None,
            resolution_frozen_ms: 0,
            resolution_carried_ms: 0,
            resolution_breached: 0,
            resolution_warning_due: None,
            resolution_breach_due: None,
            first_response_at: None,
            first_resolution_at: None,
            actual_resolution_at: None,
            closed_at: None,
            closure_reason: String::new(),
            solution: String::new(),
            feedback_level: 0,
            feedback_notes: String::new(),
            feedback_user_id: String::new(),
            feedback_at: None,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let (response_target, resolution_target) =
            service.as_ref().map_or((0, 0), |s| (s.response_time_minutes, s.resolution_time_minutes));
        case.set_clock(ClockKind::Response, &SlaClock::not_started(response_target));
        case.set_clock(ClockKind::Resolution, &SlaClock::not_started(resolution_target));
        if service.is_some() && candidates.is_empty() {
            self.start_clocks(&mut case, i64::from(settings.sla_warning_percent)).await?;
        }
        let change =
            CaseChange { history: vec![history(&case, now, &caller.user_id, "created")], ..Default::default() };
        let width = usize::try_from(settings.number_width).unwrap_or(5);
        // Access hears of the case before it is stored, so no stored case is ever unknown to
        // access; a case that is not stored is removed from access (see
        // `service_kit::registrations`).
        self.access.register(&case).await?;
        let id = case.id.clone();
        match self.store.insert_case(case, &settings.number_prefix, width, change, &caller.user_id, request_id).await {
            Ok(Inserted::Stored(stored)) => self.view(*stored).await,
            Ok(Inserted::Earlier(earlier)) => {
                self.access.unregister(&id).await;
                self.earlier(&earlier).await
            }
            Err(error) => {
                self.access.unregister(&id).await;
                Err(error)
            }
        }
    }

    /// The case an earlier call with the same request id made.
    async fn earlier(&self, id: &str) -> Result<CaseView, CaseError> {
        let case = self.store.case(id).await?.ok_or_else(|| not_found(id))?;
        self.view(case).await
    }

    /// Starts both clocks from the case's registration.
    async fn start_clocks(&self, case: &mut CaseRecord, warning_percent: i64) -> Result<(), CaseError> {
        let calendar = self.calendar_of(case).await?;
        for kind in [ClockKind::Response, ClockKind::Resolution] {
            let target = case.clock(kind).target_minutes;
            case.set_clock(kind, &SlaClock::start(&calendar, target, case.created_at, warning_percent)?);
        }
        Ok(())
    }

    async fn contact_of(
        &self,
        caller: &Caller,
        contact_id: &str,
        author: &crate::directory::Person,
    ) -> Result<ContactPlace, CaseError> {
        if contact_id.is_empty() || contact_id == author.contact_id {
            let place =
                if author.contact_id.is_empty() { None } else { self.directory.contact(&author.contact_id).await? };
            let mut place = place.unwrap_or_default();
            place.contact_id = author.contact_id.clone();
            if place.account_id.is_empty() {
                place.account_id = author.account_id.clone();
            }
            return Ok(place);
        }
        self.agreements.contact_for(caller, contact_id).await
    }

    async fn check_named_agreement(
        &self,
        contact: &ContactPlace,
        agreement_id: &str,
        service_id: &str,
    ) -> Result<(), CaseError> {
        let agreement = self
            .store
            .agreement(agreement_id)
            .await?
            .ok_or_else(|| CaseError::NotFound { resource: "service agreement", id: agreement_id.to_owned() })?;
        let serves = agreement.is_default != 0
            || match (agreement.object_kind.as_deref(), agreement.object_id.as_deref()) {
                (Some("contact"), Some(id)) => id == contact.contact_id,
                (Some("department"), Some(id)) => id == contact.department_id,
                (Some("account"), Some(id)) => id == contact.account_id,
                _ => false,
            };
        if agreement.status != "active" || !serves {
            return Err(precondition(
                "SERVICE_AGREEMENT_NOT_APPLICABLE",
                "the agreement is not active or does not serve the case's contact",
            ));
        }
        if !service_id.is_empty() && !agreement.service_ids.iter().any(|s| s == service_id) {
            return Err(precondition("SERVICE_NOT_COVERED", "the agreement does not cover the service"));
        }
        Ok(())
    }

    pub async fn get(&self, caller: &Caller, id: &str) -> Result<CaseView, CaseError> {
        let case = self.reachable(caller, id, Operation::Read).await?;
        self.view(case).await
    }

    /// A page of the cases the caller may read, with the fields hidden from them on every
    /// case; `query` holds the typed filters.
    pub async fn list(
        &self,
        caller: &Caller,
        mut query: CaseQuery,
    ) -> Result<(Vec<CaseView>, HiddenFields), CaseError> {
        let Some(hidden) = self.access.restrict(caller, &mut query).await? else {
            return Ok((Vec::new(), HiddenFields::default()));
        };
        let cases = self.store.list_cases(&query).await?;
        // A page's cases share few calendars: load each once, not once per case.
        let mut calendars: HashMap<String, WorkingCalendar> = HashMap::new();
        let mut views = Vec::with_capacity(cases.len());
        for case in cases {
            if !calendars.contains_key(&case.calendar_id) {
                calendars.insert(case.calendar_id.clone(), self.calendar_of(&case).await?);
            }
            let calendar = &calendars[&case.calendar_id];
            views.push(self.view_on(case, calendar));
        }
        Ok((views, hidden))
    }

    /// A page of the tags on the cases the caller may read that start with `prefix`,
    /// most used first; counts include only those cases.
    pub async fn list_tags(
        &self,
        caller: &Caller,
        prefix: &str,
        after: Option<(i64, String)>,
        limit: i64,
    ) -> Result<Vec<TagRecord>, CaseError> {
        let mut query = CaseQuery::default();
        if self.access.restrict(caller, &mut query).await?.is_none() {
            return Ok(Vec::new());
        }
        self.store.case_tags(&query, &prefix.trim().to_lowercase(), after, limit).await
    }

    /// Loads a reachable case and checks the etag.
    async fn for_change(
        &self,
        caller: &Caller,
        id: &str,
        etag: &str,
        columns: &[&str],
    ) -> Result<CaseRecord, CaseError> {
        let case = self.reachable_editing(caller, id, Operation::Update, columns).await?;
        if expected_version(etag, "case")?.is_some_and(|v| v != case.version) {
            return Err(CaseError::StaleEtag { resource: "case" });
        }
        Ok(case)
    }

    /// Writes a changed case (bumping its version), or ABORTED when it changed meanwhile.
    async fn save(&self, mut case: CaseRecord, change: CaseChange, now: i64) -> Result<CaseView, CaseError> {
        case.version += 1;
        case.updated_at = now;
        if !self.store.save_case(&case, change).await? {
            return Err(CaseError::StaleEtag { resource: "case" });
        }
        self.view(case).await
    }

    pub async fn update(&self, caller: &Caller, id: &str, etag: &str, patch: CasePatch) -> Result<CaseView, CaseError> {
        on_current(etag, || self.update_once(caller, id, etag, patch.clone())).await
    }

    async fn update_once(
        &self,
        caller: &Caller,
        id: &str,
        etag: &str,
        patch: CasePatch,
    ) -> Result<CaseView, CaseError> {
        let mut case = self.for_change(caller, id, etag, &patch.edited_columns()).await?;
        let staff = case_access::is_staff(caller);
        let status = CaseStatus::parse(&case.status).unwrap_or(CaseStatus::New);
        let only_tags = patch.subject.is_none()
            && patch.description.is_none()
            && patch.priority.is_none()
            && patch.agreement_id.is_none()
            && patch.service_id.is_none()
            && patch.owner_group_id.is_none()
            && patch.assignee_user_id.is_none()
            && patch.solution.is_none();
        if status.is_final() && !only_tags {
            return Err(CaseError::Closed(status));
        }
        let staff_only = [&patch.service_id, &patch.owner_group_id, &patch.assignee_user_id, &patch.solution];
        if !staff && staff_only.iter().any(|field| field.is_some()) {
            return Err(CaseError::PermissionDenied {
                message: "service_item_id, owner_group_id, assignee_user_id and solution are staff-only fields".into(),
            });
        }
        let now = self.clock.now();
        let mut changes: Vec<(&str, String, String)> = Vec::new();
        let mut set = |field: &'static str, target: &mut String, value: Option<String>| {
            if let Some(value) = value.filter(|v| v != target) {
                changes.push((field, target.clone(), value.clone()));
                *target = value;
            }
        };
        set("subject", &mut case.subject, patch.subject);
        set("description", &mut case.description, patch.description);
        set("owner_group_id", &mut case.owner_group_id, patch.owner_group_id);
        set("assignee_user_id", &mut case.assignee_user_id, patch.assignee_user_id);
        set("solution", &mut case.solution, patch.solution);
        set(
            "tags",
            &mut case.tags,
            patch.tags.map(|tags| {
                let mut tags = normalize_tags(tags);
                tags.sort();
                tags.join(",")
            }),
        );
        if let Some(priority) = patch.priority.filter(|p| *p != case.priority) {
            changes.push(("priority", case.priority.to_string(), priority.to_string()));
            case.priority = priority;
        }
        let percent = i64::from(self.settings.get().await?.sla_warning_percent);
        if let Some(service_id) = patch.service_id.filter(|s| case.service_id.as_ref() != Some(s)) {
            self.change_service(&mut case, &service_id, status, now, percent, &mut changes).await?;
        }
        if let Some(agreement_id) = patch.agreement_id {
            if case.agreement_id.is_some() {
                return Err(precondition("CASE_FIELD_IMMUTABLE", "the case's agreement is fixed once set"));
            }
            if !case.candidate_ids.split(',').any(|c| c == agreement_id) {
                return Err(precondition(
                    "SERVICE_AGREEMENT_NOT_CANDIDATE",
                    "choose one of service_agreement_candidate_ids",
                ));
            }
            let agreement = self
                .store
                .agreement(&agreement_id)
                .await?
                .ok_or_else(|| CaseError::NotFound { resource: "service agreement", id: agreement_id.clone() })?;
            changes.push(("service_agreement_id", String::new(), agreement_id.clone()));
            case.agreement_id = Some(agreement_id);
            case.candidate_ids.clear();
            case.calendar_id = agreement.calendar_id;
            if case.service_id.is_some() {
                self.start_late_clocks(&mut case, status, now, percent).await?;
            }
        }
        if changes.is_empty() {
            return self.view(case).await;
        }
        let mut entry = history(&case, now, &caller.user_id, "fields_changed");
        entry.changes = changes_json(&changes);
        self.save(case, CaseChange { history: vec![entry], ..Default::default() }, now).await
    }

    /// Starts the clocks of a case whose service or agreement came after registration:
    /// they count from registration, the response clock stops at a first response already
    /// given, and the status's effect on the resolution clock applies now.
    async fn start_late_clocks(
        &self,
        case: &mut CaseRecord,
        status: CaseStatus,
        now: i64,
        percent: i64,
    ) -> Result<(), CaseError> {
        self.start_clocks(case, percent).await?;
        let calendar = self.calendar_of(case).await?;
        if let Some(at) = case.first_response_at {
            let mut response = case.clock(ClockKind::Response);
            response.stop(&calendar, at);
            case.set_clock(ClockKind::Response, &response);
        }
        apply_clock_effect(case, status, &calendar, now, percent)
    }

    /// Moves a case to another active service of its category (the category is fixed once
    /// saved). The case's agreement must cover it; pending candidate agreements that do not
    /// are dropped. The clocks take the new service's times, keeping the working time
    /// already used; clocks that never started (no service before) start from registration.
    async fn change_service(
        &self,
        case: &mut CaseRecord,
        service_id: &str,
        status: CaseStatus,
        now: i64,
        percent: i64,
        changes: &mut Vec<(&str, String, String)>,
    ) -> Result<(), CaseError> {
        let service = self.active_service(service_id).await?;
        if service.category != case.category {
            return Err(precondition(
                "CASE_FIELD_IMMUTABLE",
                format!(
                    "the case's category ({}) is fixed once saved; choose a service of that category",
                    case.category.replace('_', " ")
                ),
            ));
        }
        let not_covered = || precondition("SERVICE_NOT_COVERED", "the case's agreement does not cover the service");
        if let Some(agreement_id) = &case.agreement_id {
            if !self.covers(agreement_id, service_id).await? {
                return Err(not_covered());
            }
        } else if !case.candidate_ids.is_empty() {
            let mut covering = Vec::new();
            for candidate in case.candidate_ids.split(',') {
                if self.covers(candidate, service_id).await? {
                    covering.push(candidate.to_owned());
                }
            }
            if covering.is_empty() {
                return Err(not_covered());
            }
            let covering = covering.join(",");
            if covering != case.candidate_ids {
                changes.push(("service_agreement_candidate_ids", case.candidate_ids.clone(), covering.clone()));
                case.candidate_ids = covering;
            }
        }
        changes.push(("service_item_id", case.service_id.clone().unwrap_or_default(), service.id.clone()));
        let had_service = case.service_id.replace(service.id.clone()).is_some();
        let before = [ClockKind::Response, ClockKind::Resolution].map(|kind| case.clock(kind).deadline);
        let targets = [
            (ClockKind::Response, service.response_time_minutes),
            (ClockKind::Resolution, service.resolution_time_minutes),
        ];
        if had_service || !case.candidate_ids.is_empty() {
            let calendar = self.calendar_of(case).await?;
            for (kind, target) in targets {
                let mut clock = case.clock(kind);
                clock.retarget(&calendar, now, target, percent)?;
                case.set_clock(kind, &clock);
            }
        } else {
            for (kind, target) in targets {
                case.set_clock(kind, &SlaClock::not_started(target));
            }
            self.start_late_clocks(case, status, now, percent).await?;
        }
        for ((kind, _), old) in targets.into_iter().zip(before) {
            let new = case.clock(kind).deadline;
            if new != old {
                let field = if kind == ClockKind::Response { "response.deadline" } else { "resolution.deadline" };
                changes.push((field, rfc3339(old), rfc3339(new)));
            }
        }
        Ok(())
    }

    /// A service a case may be about: it exists and is active.
    async fn active_service(&self, id: &str) -> Result<ServiceRecord, CaseError> {
        let service = self
            .store
            .service(id)
            .await?
            .ok_or_else(|| CaseError::NotFound { resource: "service item", id: id.to_owned() })?;
        if service.active == 0 {
            return Err(precondition("SERVICE_ITEM_INACTIVE", "the service is inactive; choose another"));
        }
        Ok(service)
    }

    /// Whether an agreement covers a service.
    async fn covers(&self, agreement_id: &str, service_id: &str) -> Result<bool, CaseError> {
        Ok(self.store.agreement(agreement_id).await?.is_some_and(|a| a.service_ids.iter().any(|s| s == service_id)))
    }

    /// Moves a case: a portal action by an external user, a staff move by staff.
    pub async fn act(
        &self,
        caller: &Caller,
        id: &str,
        etag: &str,
        mover: Mover,
        comment: &str,
        solution: Option<String>,
    ) -> Result<CaseView, CaseError> {
        on_current(etag, || self.act_once(caller, id, etag, mover, comment, solution.clone())).await
    }

    async fn act_once(
        &self,
        caller: &Caller,
        id: &str,
        etag: &str,
        mover: Mover,
        comment: &str,
        solution: Option<String>,
    ) -> Result<CaseView, CaseError> {
        let columns = solution.as_ref().and_then(|_| column_of("solution"));
        let case = self.for_change(caller, id, etag, columns.as_slice()).await?;
        let staff = case_access::is_staff(caller);
        match mover {
            Mover::Portal(_) if staff => {
                return Err(CaseError::PermissionDenied {
                    message: "employees move cases with TransitionCase; the portal actions are for portal users".into(),
                });
            }
            Mover::Staff { .. } if !staff => {
                return Err(CaseError::PermissionDenied { message: "only employees may use TransitionCase".into() });
            }
            _ => {}
        }
        let from = CaseStatus::parse(&case.status).unwrap_or(CaseStatus::New);
        let transition = status::transition(from, mover)?;
        let mut change = CaseChange::default();
        let now = self.clock.now();
        let mut case = self.apply_transition(case, &transition, &caller.user_id, comment, now, &mut change).await?;
        if let Some(solution) = solution.filter(|s| !s.is_empty()) {
            case.solution = solution;
        }
        if transition.requests_feedback {
            let link = format!("{}/cases/{}/feedback", self.public_base_url, case.number);
            let author = case.author_user_id.clone();
            change.mails.push(self.mail(&case, FEEDBACK_TEMPLATE, &author, vec![("FeedbackLinkUrl".into(), link)]));
        }
        self.save(case, change, now).await
    }

    /// Applies a validated transition to a case: status, closure reason, times, clocks and
    /// the history entries saying so.
    pub async fn apply_transition(
        &self,
        mut case: CaseRecord,
        transition: &Transition,
        actor: &str,
        comment: &str,
        now: i64,
        change: &mut CaseChange,
    ) -> Result<CaseRecord, CaseError> {
        let calendar = self.calendar_of(&case).await?;
        let percent = i64::from(self.settings.get().await?.sla_warning_percent);
        case.status = transition.to.as_str().into();
        if let Some(reason) = transition.closure_reason {
            case.closure_reason = reason.as_str().into();
        }
        if transition.set_first_resolution && case.first_resolution_at.is_none() {
            case.first_resolution_at = Some(now);
        }
        match transition.actual_resolution {
            Some(true) => case.actual_resolution_at = Some(now),
            Some(false) => case.actual_resolution_at = None,
            None => {}
        }
        if transition.set_closed_on {
            case.closed_at = Some(now);
        }
        let mut entry = history(&case, now, actor, "status_changed");
        entry.from_status = transition.from.as_str().into();
        entry.to_status = transition.to.as_str().into();
        entry.closure_reason = transition.closure_reason.map(|r| r.as_str().to_owned()).unwrap_or_default();
        entry.comment = comment.to_owned();
        change.history.push(entry);
        if transition.is_first_response && case.first_response_at.is_none() {
            first_response(&mut case, &calendar, now, change);
        }
        let before = case.clock(ClockKind::Resolution);
        apply_clock_effect(&mut case, transition.to, &calendar, now, percent)?;
        let after = case.clock(ClockKind::Resolution);
        if before.state == ClockState::Running && after.state == ClockState::Paused {
            change.history.push(history(&case, now, "", "sla_paused"));
        }
        if before.state == ClockState::Paused && after.state == ClockState::Running {
            let mut entry = history(&case, now, "", "sla_resumed");
            entry.changes = changes_json(&[("resolution.deadline", rfc3339(before.deadline), rfc3339(after.deadline))]);
            change.history.push(entry);
        }
        Ok(case)
    }

    pub async fn set_feedback(
        &self,
        caller: &Caller,
        id: &str,
        level: i32,
        notes: String,
    ) -> Result<CaseView, CaseError> {
        on_current("", || self.set_feedback_once(caller, id, level, notes.clone())).await
    }

    async fn set_feedback_once(
        &self,
        caller: &Caller,
        id: &str,
        level: i32,
        notes: String,
    ) -> Result<CaseView, CaseError> {
        let columns: &[&str] =
            if notes.is_empty() { &[SATISFACTION_LEVEL] } else { &[SATISFACTION_LEVEL, FEEDBACK_NOTES] };
        let mut case = self.reachable_editing(caller, id, Operation::Update, columns).await?;
        if case.author_user_id != caller.user_id {
            return Err(CaseError::PermissionDenied { message: "only the case's author may rate it".into() });
        }
        let status = CaseStatus::parse(&case.status).unwrap_or(CaseStatus::New);
        if !status.accepts_feedback() {
            return Err(CaseError::FeedbackNotAllowed(status));
        }
        let now = self.clock.now();
        let mut entry = history(&case, now, &caller.user_id, "feedback_set");
        entry.changes = changes_json(&[
            ("feedback.satisfaction_level", case.feedback_level.to_string(), level.to_string()),
            ("feedback.notes", case.feedback_notes.clone(), notes.clone()),
        ]);
        case.feedback_level = level;
        case.feedback_notes = notes;
        case.feedback_user_id = caller.user_id.clone();
        case.feedback_at = Some(now);
        self.save(case, CaseChange { history: vec![entry], ..Default::default() }, now).await
    }

    pub async fn history(
        &self,
        caller: &Caller,
        id: &str,
        kinds: &[String],
        after: Option<(i64, String)>,
        limit: i64,
    ) -> Result<Vec<HistoryRecord>, CaseError> {
        self.reachable(caller, id, Operation::Read).await?;
        self.store.case_history(id, kinds, after, limit).await
    }
}

/// Stops the response clock: the first response was given now.
pub fn first_response(case: &mut CaseRecord, calendar: &WorkingCalendar, now: i64, change: &mut CaseChange) {
    case.first_response_at = Some(now);
    let mut clock = case.clock(ClockKind::Response);
    clock.stop(calendar, now);
    case.set_clock(ClockKind::Response, &clock);
    change.history.push(history(case, now, "", "first_response"));
}

/// Runs, pauses or stops the resolution clock (and stops the response clock in a final
/// status) as the case's new status requires.
pub fn apply_clock_effect(
    case: &mut CaseRecord,
    status: CaseStatus,
    calendar: &WorkingCalendar,
    now: i64,
    warning_percent: i64,
) -> Result<(), CaseError> {
    let mut resolution = case.clock(ClockKind::Resolution);
    match status.resolution_clock() {
        ClockEffect::Run => {
            resolution.resume(calendar, now, warning_percent)?;
        }
        ClockEffect::Pause => resolution.pause(calendar, now),
        ClockEffect::Stop => {
            resolution.stop(calendar, now);
            let mut response = case.clock(ClockKind::Response);
            response.stop(calendar, now);
            case.set_clock(ClockKind::Response, &response);
        }
    }
    case.set_clock(ClockKind::Resolution, &resolution);
    Ok(())
}

/// Tags compared case-insensitively: trimmed, lowercase, no duplicates.
pub fn normalize_tags(tags: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = tags.into_iter().map(|t| t.trim().to_lowercase()).filter(|t| !t.is_empty()).collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    /// A change that loses the race `losses` times, then succeeds; counts its attempts.
    async fn run(etag: &str, losses: usize) -> (Result<(), CaseError>, usize) {
        let attempts = Cell::new(0);
        let result = on_current(etag, || {
            attempts.set(attempts.get() + 1);
            let lost = attempts.get() <= losses;
            async move { if lost { Err(CaseError::StaleEtag { resource: "case" }) } else { Ok(()) } }
        })
        .await;
        (result, attempts.get())
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_change_without_an_etag_is_tried_again_when_another_writer_won() {
        let (result, attempts) = run("", 2).await;
        assert!(result.is_ok());
        assert_eq!(attempts, 3);
        let (result, attempts) = run("", 100).await;
        assert!(matches!(result, Err(CaseError::StaleEtag { .. })), "it gives up after {CONFLICT_ATTEMPTS}");
        assert_eq!(attempts, CONFLICT_ATTEMPTS);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_change_with_an_etag_is_not_tried_again() {
        let (result, attempts) = run("7", 1).await;
        assert!(matches!(result, Err(CaseError::StaleEtag { .. })));
        assert_eq!(attempts, 1);
    }
}
