//! `portal.case.v1.CaseService`.

use portal_proto::case::{self as pb, case_service_server::CaseService};
use service_kit::{ApiError, clock::from_timestamp, error::Violations, paging, validate};
use tonic::{Request, Response, Status};

use super::convert::{
    caller, case_to_proto, category_to_store, check_length, check_request_id, history_kind_to_store, history_to_proto,
    mask_paths, reason_from_proto, status, status_from_proto,
};
use super::folders::stored_case_filter;
use crate::{
    cases::{CasePatch, CaseView, Cases, NewCase, normalize_tags},
    domain::{
        folders::Section,
        status::{Mover, PortalAction},
    },
    folders::Folders,
    storage::cases::{Bind, CaseQuery},
};

#[derive(Debug, Clone)]
pub struct CaseApi {
    pub cases: Cases,
    /// The callers' saved filters, for lists by folder.
    pub folders: Folders,
}

fn check_tags(violations: &mut Violations, field: &str, tags: &[String]) {
    if tags.len() > 20 {
        violations.add(field, "at most 20 tags");
    }
    if tags.iter().any(|t| t.trim().is_empty() || t.chars().count() > 50 || t.contains(',')) {
        violations.add(field, "each tag must be 1 to 50 characters, without commas");
    }
}

fn priority(value: i32, field: &str, violations: &mut Violations) -> i32 {
    match pb::CasePriority::try_from(value) {
        Ok(_) => value,
        Err(_) => {
            violations.add(field, "unknown priority");
            0
        }
    }
}

/// The ordering key of a case list and its direction.
fn order(value: i32) -> Result<(&'static str, bool), Status> {
    Ok(match pb::CaseOrderBy::try_from(value).map_err(|_| ApiError::invalid("order_by", "unknown order"))? {
        pb::CaseOrderBy::Unspecified | pb::CaseOrderBy::CreateTimeDesc => ("created_at", true),
        pb::CaseOrderBy::CreateTimeAsc => ("created_at", false),
        pb::CaseOrderBy::UpdateTimeDesc => ("updated_at", true),
        pb::CaseOrderBy::UpdateTimeAsc => ("updated_at", false),
        pb::CaseOrderBy::NumberDesc => ("sequence", true),
        pb::CaseOrderBy::ResponseDeadlineAsc => ("COALESCE(response_deadline, 9223372036854775807)", false),
        pb::CaseOrderBy::ResolutionDeadlineAsc => ("COALESCE(resolution_deadline, 9223372036854775807)", false),
        pb::CaseOrderBy::PriorityDesc => ("priority", true),
    })
}

/// The typed filter as SQL conditions; `field` names it in errors.
fn filter_conditions(filter: &pb::CaseFilter, field: &str, query: &mut CaseQuery) -> Result<(), Status> {
    let mut violations = Violations::new();
    if !filter.number.is_empty() {
        let p = query.bind(Bind::Text(filter.number.to_lowercase()));
        query.conditions.push(format!("number_key = {p}"));
    }
    let any_of = |column: &str, values: Vec<Bind>, query: &mut CaseQuery| {
        if values.is_empty() {
            return;
        }
        let list: Vec<String> = values.into_iter().map(|v| query.bind(v)).collect();
        query.conditions.push(format!("{column} IN ({})", list.join(", ")));
    };
    let mut statuses = Vec::new();
    for value in &filter.statuses {
        match status_from_proto(*value) {
            Some(s) => statuses.push(Bind::Text(s.as_str().into())),
            None => violations.add(format!("{field}.statuses"), "unknown status"),
        }
    }
    any_of("status", statuses, query);
    let mut categories = Vec::new();
    for value in &filter.categories {
        match category_to_store(*value) {
            Some(c) => categories.push(Bind::Text(c.into())),
            None => violations.add(format!("{field}.categories"), "unknown category"),
        }
    }
    any_of("category", categories, query);
    any_of("service_id", filter.service_item_ids.iter().map(|s| Bind::Text(s.clone())).collect(), query);
    any_of("priority", filter.priorities.iter().map(|p| Bind::Int(i64::from(*p))).collect(), query);
    for (column, value) in [
        ("author_user_id", &filter.author_user_id),
        ("contact_id", &filter.contact_id),
        ("account_id", &filter.account_id),
        ("owner_group_id", &filter.owner_group_id),
        ("assignee_user_id", &filter.assignee_user_id),
    ] {
        if !value.is_empty() {
            let p = query.bind(Bind::Text(value.clone()));
            query.conditions.push(format!("{column} = {p}"));
        }
    }
    for tag in normalize_tags(filter.tags.clone()) {
        let p = query.bind(Bind::Text(tag));
        query.conditions.push(format!("(',' || tags || ',') LIKE ('%,' || {p} || ',%')"));
    }
    for (column, part, range) in
        [("created_at", "create_time", &filter.create_time), ("updated_at", "update_time", &filter.update_time)]
    {
        let Some(range) = range else { continue };
        let start = range.start_time.as_ref().map(from_timestamp);
        let end = range.end_time.as_ref().map(from_timestamp);
        if let (Some(s), Some(e)) = (start, end)
            && e <= s
        {
            violations.add(format!("{field}.{part}"), "end_time must be after start_time");
        }
        if let Some(s) = start {
            let p = query.bind(Bind::Int(s));
            query.conditions.push(format!("{column} >= {p}"));
        }
        if let Some(e) = end {
            let p = query.bind(Bind::Int(e));
            query.conditions.push(format!("{column} < {p}"));
        }
    }
    if filter.only_breached {
        query.conditions.push("(response_breached = 1 OR resolution_breached = 1)".into());
    }
    if !filter.subject_contains.is_empty() {
        let pattern = format!("%{}%", crate::storage::catalog::like_escape(&filter.subject_contains.to_lowercase()));
        let p = query.bind(Bind::Text(pattern));
        query.conditions.push(format!("LOWER(subject) LIKE {p} ESCAPE '\\'"));
    }
    violations.finish().map_err(Status::from)
}

/// The keyset position of a case in an ordering.
fn position(case: &CaseView, key: &str) -> i64 {
    let c = &case.case;
    match key {
        "created_at" => c.created_at,
        "updated_at" => c.updated_at,
        "sequence" => c.sequence,
        "priority" => i64::from(c.priority),
        k if k.contains("response_deadline") => c.response_deadline.unwrap_or(i64::MAX),
        _ => c.resolution_deadline.unwrap_or(i64::MAX),
    }
}

impl CaseApi {
    /// The case as the caller may see it.
    async fn reply(&self, caller: &service_kit::Caller, view: CaseView) -> Result<Response<pb::Case>, Status> {
        let hidden = self.cases.access.hidden_fields(caller).await.map_err(status)?;
        Ok(Response::new(case_to_proto(view, &hidden)))
    }

    async fn portal_action(
        &self,
        request_caller: service_kit::Caller,
        id: &str,
        etag: &str,
        comment: &str,
        action: PortalAction,
    ) -> Result<Response<pb::Case>, Status> {
        validate::id("id", id)?;
        let mut violations = Violations::new();
        check_length(&mut violations, "comment", comment, 0, 4000);
        violations.finish()?;
        let view =
            self.cases.act(&request_caller, id, etag, Mover::Portal(action), comment, None).await.map_err(status)?;
        self.reply(&request_caller, view).await
    }
}

#[tonic::async_trait]
impl CaseService for CaseApi {
    async fn create_case(&self, request: Request<pb::CreateCaseRequest>) -> Result<Response<pb::Case>, Status> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        check_request_id(&request.request_id)?;
        let case = request.case.ok_or_else(|| ApiError::invalid("case", "is required"))?;
        let mut violations = Violations::new();
        check_length(&mut violations, "case.subject", &case.subject, 0, 500);
        check_length(&mut violations, "case.description", &case.description, 0, 32_000);
        check_tags(&mut violations, "case.tags", &case.tags);
        let priority = priority(case.priority, "case.priority", &mut violations);
        let category = match case.category {
            0 => None,
            value => match category_to_store(value) {
                Some(c) => Some(c.to_owned()),
                None => {
                    violations.add("case.category", "unknown category");
                    None
                }
            },
        };
        violations.finish()?;
        let new = NewCase {
            subject: case.subject.trim().to_owned(),
            description: case.description,
            category,
            service_id: case.service_item_id,
            agreement_id: case.service_agreement_id,
            contact_id: case.contact_id,
            owner_group_id: case.owner_group_id,
            assignee_user_id: case.assignee_user_id,
            priority,
            tags: case.tags,
        };
        let view = self.cases.create(&caller, new, &request.request_id).await.map_err(status)?;
        self.reply(&caller, view).await
    }

    async fn get_case(&self, request: Request<pb::GetCaseRequest>) -> Result<Response<pb::Case>, Status> {
        let caller = caller(&request)?;
        validate::id("id", &request.get_ref().id)?;
        let view = self.cases.get(&caller, &request.get_ref().id).await.map_err(status)?;
        self.reply(&caller, view).await
    }

    async fn list_cases(
        &self,
        request: Request<pb::ListCasesRequest>,
    ) -> Result<Response<pb::ListCasesResponse>, Status> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        let limit = paging::page_size(request.page_size)?;
        let (order_key, descending) = order(request.order_by)?;
        let mut query = CaseQuery {
            order_key,
            descending,
            after: paging::position(&request.page_token)?,
            limit: limit + 1,
            ..Default::default()
        };
        filter_conditions(&request.filter.unwrap_or_default(), "filter", &mut query)?;
        if !request.folder_id.is_empty() {
            // Another user's folder, or a folder of another section, is NOT_FOUND.
            let folder = self
                .folders
                .folder_of_section(&caller, &request.folder_id, Section::Cases)
                .await
                .map_err(|e| Status::from(ApiError::from(e)))?;
            if let Some(stored) = stored_case_filter(&folder)? {
                filter_conditions(&stored, "folder.case_filter", &mut query)?;
            }
        }
        let (mut cases, hidden) = self.cases.list(&caller, query).await.map_err(status)?;
        let next_page_token = if cases.len() as i64 > limit {
            cases.truncate(limit as usize);
            cases.last().map(|c| format!("{}/{}", position(c, order_key), c.case.id)).unwrap_or_default()
        } else {
            String::new()
        };
        Ok(Response::new(pb::ListCasesResponse {
            cases: cases.into_iter().map(|c| case_to_proto(c, &hidden)).collect(),
            next_page_token,
        }))
    }

    async fn update_case(&self, request: Request<pb::UpdateCaseRequest>) -> Result<Response<pb::Case>, Status> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        let case = request.case.ok_or_else(|| ApiError::invalid("case", "is required"))?;
        validate::id("case.id", &case.id)?;
        let paths = request.update_mask.clone().map(|m| m.paths).unwrap_or_default();
        if paths.iter().any(|p| p == "category") {
            return Err(ApiError::FailedPrecondition {
                reason: "CASE_FIELD_IMMUTABLE",
                message: "the category is fixed once the case is saved".into(),
            }
            .into());
        }
        let paths = mask_paths(
            request.update_mask,
            &[
                "subject",
                "description",
                "priority",
                "tags",
                "service_item_id",
                "service_agreement_id",
                "owner_group_id",
                "assignee_user_id",
                "solution",
            ],
        )?;
        let mut violations = Violations::new();
        let mut patch = CasePatch::default();
        for path in &paths {
            match path.as_str() {
                "subject" => {
                    check_length(&mut violations, "case.subject", &case.subject, 1, 500);
                    patch.subject = Some(case.subject.trim().to_owned());
                }
                "description" => {
                    check_length(&mut violations, "case.description", &case.description, 0, 32_000);
                    patch.description = Some(case.description.clone());
                }
                "priority" => patch.priority = Some(priority(case.priority, "case.priority", &mut violations).max(1)),
                "tags" => {
                    check_tags(&mut violations, "case.tags", &case.tags);
                    patch.tags = Some(case.tags.clone());
                }
                "service_item_id" => {
                    if case.service_item_id.is_empty() {
                        violations
                            .add("case.service_item_id", "name the new service; a case's service cannot be removed");
                    }
                    patch.service_id = Some(case.service_item_id.clone());
                }
                "service_agreement_id" => patch.agreement_id = Some(case.service_agreement_id.clone()),
                "owner_group_id" => patch.owner_group_id = Some(case.owner_group_id.clone()),
                "assignee_user_id" => patch.assignee_user_id = Some(case.assignee_user_id.clone()),
                _ => {
                    check_length(&mut violations, "case.solution", &case.solution, 0, 32_000);
                    patch.solution = Some(case.solution.clone());
                }
            }
        }
        violations.finish()?;
        let view = self.cases.update(&caller, &case.id, &case.etag, patch).await.map_err(status)?;
        self.reply(&caller, view).await
    }

    async fn cancel_case(&self, request: Request<pb::CancelCaseRequest>) -> Result<Response<pb::Case>, Status> {
        let caller = caller(&request)?;
        let r = request.into_inner();
        self.portal_action(caller, &r.id, &r.etag, &r.comment, PortalAction::Cancel).await
    }

    async fn close_case(&self, request: Request<pb::CloseCaseRequest>) -> Result<Response<pb::Case>, Status> {
        let caller = caller(&request)?;
        let r = request.into_inner();
        self.portal_action(caller, &r.id, &r.etag, &r.comment, PortalAction::Close).await
    }

    async fn reopen_case(&self, request: Request<pb::ReopenCaseRequest>) -> Result<Response<pb::Case>, Status> {
        let caller = caller(&request)?;
        let r = request.into_inner();
        self.portal_action(caller, &r.id, &r.etag, &r.comment, PortalAction::Reopen).await
    }

    async fn transition_case(&self, request: Request<pb::TransitionCaseRequest>) -> Result<Response<pb::Case>, Status> {
        let caller = caller(&request)?;
        let r = request.into_inner();
        validate::id("id", &r.id)?;
        let mut violations = Violations::new();
        let target = status_from_proto(r.target_status);
        if target.is_none() {
            violations.add("target_status", "is required");
        }
        check_length(&mut violations, "comment", &r.comment, 0, 4000);
        check_length(&mut violations, "solution", &r.solution, 0, 32_000);
        violations.finish()?;
        let mover = Mover::Staff {
            target: target.unwrap_or(crate::domain::status::CaseStatus::New),
            reason: reason_from_proto(r.closure_reason),
        };
        let view =
            self.cases.act(&caller, &r.id, &r.etag, mover, &r.comment, Some(r.solution)).await.map_err(status)?;
        self.reply(&caller, view).await
    }

    async fn set_feedback(&self, request: Request<pb::SetFeedbackRequest>) -> Result<Response<pb::Case>, Status> {
        let caller = caller(&request)?;
        let r = request.into_inner();
        validate::id("id", &r.id)?;
        let mut violations = Violations::new();
        if !(1..=5).contains(&r.satisfaction_level) {
            violations.add("satisfaction_level", "must be 1 (worst) to 5 (best)");
        }
        check_length(&mut violations, "notes", &r.notes, 0, 4000);
        violations.finish()?;
        let view = self.cases.set_feedback(&caller, &r.id, r.satisfaction_level, r.notes).await.map_err(status)?;
        self.reply(&caller, view).await
    }

    async fn list_case_history(
        &self,
        request: Request<pb::ListCaseHistoryRequest>,
    ) -> Result<Response<pb::ListCaseHistoryResponse>, Status> {
        let caller = caller(&request)?;
        let r = request.into_inner();
        validate::id("case_id", &r.case_id)?;
        let limit = paging::page_size(r.page_size)?;
        let mut kinds = Vec::new();
        for kind in &r.kinds {
            kinds.push(
                history_kind_to_store(*kind).ok_or_else(|| ApiError::invalid("kinds", "unknown kind"))?.to_owned(),
            );
        }
        let after = paging::position(&r.page_token)?;
        let mut entries = self.cases.history(&caller, &r.case_id, &kinds, after, limit + 1).await.map_err(status)?;
        let next_page_token = paging::next_page(&mut entries, limit, |e| (e.at, &e.id));
        let hidden = self.cases.access.hidden_fields(&caller).await.map_err(status)?;
        Ok(Response::new(pb::ListCaseHistoryResponse {
            entries: entries.into_iter().map(|entry| history_to_proto(entry, &hidden)).collect(),
            next_page_token,
        }))
    }
}
