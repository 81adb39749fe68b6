//! Conversions between the `portal.case.v1` messages and case-svc's records, shared by
//! the adapters.

use portal_proto::case as pb;
use service_kit::{ApiError, Caller, clock::to_timestamp, error::Violations};
use tonic::{Request, Status};

use crate::{
    cases::CaseView,
    domain::{
        CaseError,
        case_columns::HiddenFields,
        sla::{ClockState, TimeLeft},
        status::{CaseStatus, ClosureReason},
    },
    storage::{
        AgreementRecord, CalendarRecord, HistoryRecord, MessageRecord, ServiceRecord, SettingsRecord,
        calendars::{CalendarDefinition, StoredHoliday},
        cases::ClockKind,
    },
};

/// The verified caller of a request (a logged-in user).
pub fn caller<T>(request: &Request<T>) -> Result<Caller, Status> {
    Caller::user_of(request).cloned()
}

/// Maps a use-case error to a status.
pub fn status(error: CaseError) -> Status {
    ApiError::from(error).into()
}

/// Carries an adapter's INVALID_ARGUMENT through a use case's change callback.
pub fn invalid(status: Status) -> CaseError {
    let violations = tonic_types::StatusExt::get_details_bad_request(&status)
        .map(|bad| {
            bad.field_violations
                .into_iter()
                .map(|v| service_kit::error::Violation { field: v.field, description: v.description, reason: None })
                .collect()
        })
        .unwrap_or_default();
    CaseError::Api(ApiError::InvalidArgument(violations))
}

/// Checks a client request id (at most 100 characters).
pub fn check_request_id(request_id: &str) -> Result<(), Status> {
    if request_id.chars().count() > 100 {
        return Err(ApiError::invalid("request_id", "at most 100 characters").into());
    }
    Ok(())
}

/// Checks a text's length in characters.
pub fn check_length(violations: &mut Violations, field: &str, value: &str, min: usize, max: usize) {
    let length = value.chars().count();
    if length < min || length > max {
        violations.add(field, format!("must be {min} to {max} characters, got {length}"));
    }
}

/// The update mask's paths, required and limited to `allowed`.
pub fn mask_paths(mask: Option<prost_types::FieldMask>, allowed: &[&str]) -> Result<Vec<String>, Status> {
    let paths = mask.map(|m| m.paths).unwrap_or_default();
    if paths.is_empty() {
        return Err(
            ApiError::invalid("update_mask", format!("name the fields to change: {}", allowed.join(", "))).into()
        );
    }
    if let Some(unknown) = paths.iter().find(|p| !allowed.contains(&p.as_str())) {
        return Err(ApiError::invalid(
            "update_mask",
            format!("'{unknown}' cannot be updated; updatable: {}", allowed.join(", ")),
        )
        .into());
    }
    Ok(paths)
}

pub fn category_to_store(value: i32) -> Option<&'static str> {
    match pb::CaseCategory::try_from(value).ok()? {
        pb::CaseCategory::Incident => Some("incident"),
        pb::CaseCategory::ServiceRequest => Some("service_request"),
        pb::CaseCategory::Consultation => Some("consultation"),
        pb::CaseCategory::Unspecified => None,
    }
}

pub fn category_to_proto(value: &str) -> pb::CaseCategory {
    match value {
        "incident" => pb::CaseCategory::Incident,
        "service_request" => pb::CaseCategory::ServiceRequest,
        "consultation" => pb::CaseCategory::Consultation,
        _ => pb::CaseCategory::Unspecified,
    }
}

pub fn service_to_proto(service: ServiceRecord) -> pb::ServiceItem {
    pb::ServiceItem {
        category: category_to_proto(&service.category).into(),
        etag: service.version.to_string(),
        create_time: Some(to_timestamp(service.created_at)),
        update_time: Some(to_timestamp(service.updated_at)),
        active: service.active != 0,
        id: service.id,
        name: service.name,
        description: service.description,
        response_time_minutes: service.response_time_minutes,
        resolution_time_minutes: service.resolution_time_minutes,
    }
}

pub fn day_to_index(value: i32) -> Option<usize> {
    match pb::DayOfWeek::try_from(value).ok()? {
        pb::DayOfWeek::Unspecified => None,
        day => Some(day as usize - 1),
    }
}

fn periods(periods: &[pb::WorkingPeriod]) -> Vec<(i32, i32)> {
    periods.iter().map(|p| (p.start_minute, p.end_minute)).collect()
}

fn periods_to_proto(periods: &[(i32, i32)]) -> Vec<pb::WorkingPeriod> {
    periods.iter().map(|&(start_minute, end_minute)| pb::WorkingPeriod { start_minute, end_minute }).collect()
}

/// The stored definition of a calendar's weekly hours and holidays.
pub fn definition_from_proto(calendar: &pb::Calendar) -> Result<CalendarDefinition, Status> {
    let mut violations = Violations::new();
    let mut definition = CalendarDefinition::default();
    let mut seen = [false; 7];
    for (index, day) in calendar.weekly_hours.iter().enumerate() {
        match day_to_index(day.day) {
            Some(d) if !seen[d] => {
                seen[d] = true;
                definition.weekly[d] = periods(&day.periods);
            }
            Some(_) => violations.add(format!("calendar.weekly_hours[{index}].day"), "each weekday may appear once"),
            None => violations.add(format!("calendar.weekly_hours[{index}].day"), "is required"),
        }
    }
    if calendar.holidays.len() > 1000 {
        violations.add("calendar.holidays", "at most 1,000 holidays");
    }
    for (index, holiday) in calendar.holidays.iter().enumerate() {
        check_length(&mut violations, &format!("calendar.holidays[{index}].name"), &holiday.name, 0, 250);
        definition.holidays.push(StoredHoliday {
            date: holiday.date.clone(),
            name: holiday.name.clone(),
            periods: periods(&holiday.working_periods),
        });
    }
    violations.finish()?;
    Ok(definition)
}

pub fn calendar_to_proto(calendar: CalendarRecord) -> pb::Calendar {
    let definition: CalendarDefinition = serde_json::from_str(&calendar.definition).unwrap_or_default();
    let days = [
        pb::DayOfWeek::Monday,
        pb::DayOfWeek::Tuesday,
        pb::DayOfWeek::Wednesday,
        pb::DayOfWeek::Thursday,
        pb::DayOfWeek::Friday,
        pb::DayOfWeek::Saturday,
        pb::DayOfWeek::Sunday,
    ];
    pb::Calendar {
        weekly_hours: definition
            .weekly
            .iter()
            .zip(days)
            .filter(|(periods, _)| !periods.is_empty())
            .map(|(periods, day)| pb::WorkingDay { day: day.into(), periods: periods_to_proto(periods) })
            .collect(),
        holidays: definition
            .holidays
            .iter()
            .map(|h| pb::Holiday {
                date: h.date.clone(),
                name: h.name.clone(),
                working_periods: periods_to_proto(&h.periods),
            })
            .collect(),
        etag: calendar.version.to_string(),
        create_time: Some(to_timestamp(calendar.created_at)),
        update_time: Some(to_timestamp(calendar.updated_at)),
        id: calendar.id,
        name: calendar.name,
        time_zone: calendar.time_zone,
    }
}

pub fn agreement_status_to_store(value: i32) -> Option<&'static str> {
    match pb::ServiceAgreementStatus::try_from(value).ok()? {
        pb::ServiceAgreementStatus::Draft => Some("draft"),
        pb::ServiceAgreementStatus::Active => Some("active"),
        pb::ServiceAgreementStatus::Inactive => Some("inactive"),
        pb::ServiceAgreementStatus::Unspecified => None,
    }
}

pub fn agreement_to_proto(agreement: AgreementRecord) -> pb::ServiceAgreement {
    use pb::service_agreement::ServiceObject;
    let status = match agreement.status.as_str() {
        "draft" => pb::ServiceAgreementStatus::Draft,
        "active" => pb::ServiceAgreementStatus::Active,
        _ => pb::ServiceAgreementStatus::Inactive,
    };
    let service_object = match (agreement.object_kind.as_deref(), agreement.object_id) {
        (Some("contact"), Some(id)) => Some(ServiceObject::ContactId(id)),
        (Some("department"), Some(id)) => Some(ServiceObject::DepartmentId(id)),
        (Some("account"), Some(id)) => Some(ServiceObject::AccountId(id)),
        _ => None,
    };
    pb::ServiceAgreement {
        id: agreement.id,
        name: agreement.name,
        service_object,
        service_item_ids: agreement.service_ids,
        calendar_id: agreement.calendar_id,
        status: status.into(),
        is_default: agreement.is_default != 0,
        description: agreement.description,
        etag: agreement.version.to_string(),
        create_time: Some(to_timestamp(agreement.created_at)),
        update_time: Some(to_timestamp(agreement.updated_at)),
    }
}

pub fn settings_to_proto(settings: SettingsRecord) -> pb::CaseSettings {
    pb::CaseSettings {
        number_prefix: settings.number_prefix,
        number_width: settings.number_width,
        max_attachment_bytes: settings.max_attachment_bytes,
        sla_warning_percent: settings.sla_warning_percent,
        default_calendar_id: settings.default_calendar_id.unwrap_or_default(),
        etag: settings.version.to_string(),
        update_time: Some(to_timestamp(settings.updated_at)),
    }
}

pub fn status_to_proto(status: &str) -> pb::CaseStatus {
    match CaseStatus::parse(status) {
        Some(CaseStatus::New) => pb::CaseStatus::New,
        Some(CaseStatus::InProgress) => pb::CaseStatus::InProgress,
        Some(CaseStatus::WaitingForResponse) => pb::CaseStatus::WaitingForResponse,
        Some(CaseStatus::Resolved) => pb::CaseStatus::Resolved,
        Some(CaseStatus::Closed) => pb::CaseStatus::Closed,
        Some(CaseStatus::Canceled) => pb::CaseStatus::Canceled,
        Some(CaseStatus::Reopened) => pb::CaseStatus::Reopened,
        None => pb::CaseStatus::Unspecified,
    }
}

pub fn status_from_proto(value: i32) -> Option<CaseStatus> {
    Some(match pb::CaseStatus::try_from(value).ok()? {
        pb::CaseStatus::New => CaseStatus::New,
        pb::CaseStatus::InProgress => CaseStatus::InProgress,
        pb::CaseStatus::WaitingForResponse => CaseStatus::WaitingForResponse,
        pb::CaseStatus::Resolved => CaseStatus::Resolved,
        pb::CaseStatus::Closed => CaseStatus::Closed,
        pb::CaseStatus::Canceled => CaseStatus::Canceled,
        pb::CaseStatus::Reopened => CaseStatus::Reopened,
        pb::CaseStatus::Unspecified => return None,
    })
}

pub fn reason_to_proto(reason: &str) -> pb::CaseClosureReason {
    match ClosureReason::parse(reason) {
        Some(ClosureReason::CanceledByUser) => pb::CaseClosureReason::CanceledByUser,
        Some(ClosureReason::ClosedByUser) => pb::CaseClosureReason::ClosedByUser,
        Some(ClosureReason::ClosedByStaff) => pb::CaseClosureReason::ClosedByStaff,
        Some(ClosureReason::CanceledByStaff) => pb::CaseClosureReason::CanceledByStaff,
        Some(ClosureReason::Duplicate) => pb::CaseClosureReason::Duplicate,
        Some(ClosureReason::NoCustomerResponse) => pb::CaseClosureReason::NoCustomerResponse,
        None => pb::CaseClosureReason::Unspecified,
    }
}

pub fn reason_from_proto(value: i32) -> Option<ClosureReason> {
    Some(match pb::CaseClosureReason::try_from(value).ok()? {
        pb::CaseClosureReason::CanceledByUser => ClosureReason::CanceledByUser,
        pb::CaseClosureReason::ClosedByUser => ClosureReason::ClosedByUser,
        pb::CaseClosureReason::ClosedByStaff => ClosureReason::ClosedByStaff,
        pb::CaseClosureReason::CanceledByStaff => ClosureReason::CanceledByStaff,
        pb::CaseClosureReason::Duplicate => ClosureReason::Duplicate,
        pb::CaseClosureReason::NoCustomerResponse => ClosureReason::NoCustomerResponse,
        pb::CaseClosureReason::Unspecified => return None,
    })
}

fn duration(ms: i64) -> prost_types::Duration {
    prost_types::Duration { seconds: ms.div_euclid(1000), nanos: (ms.rem_euclid(1000) * 1_000_000) as i32 }
}

fn clock_to_proto(view: &CaseView, kind: ClockKind) -> pb::SlaClock {
    let clock = view.case.clock(kind);
    let left = match kind {
        ClockKind::Response => view.response_left,
        ClockKind::Resolution => view.resolution_left,
    };
    let state = match clock.state {
        ClockState::NotStarted => pb::SlaClockState::NotStarted,
        ClockState::Running => pb::SlaClockState::Running,
        ClockState::Paused => pb::SlaClockState::Paused,
        ClockState::Stopped => pb::SlaClockState::Stopped,
    };
    pb::SlaClock {
        target_minutes: clock.target_minutes,
        deadline: clock.deadline.map(to_timestamp),
        state: state.into(),
        time_left: left.map(|left| match left {
            TimeLeft::Remaining(ms) => pb::sla_clock::TimeLeft::Remaining(duration(ms)),
            TimeLeft::Overdue(ms) => pb::sla_clock::TimeLeft::Overdue(duration(ms)),
        }),
        breached: clock.breached || matches!(left, Some(TimeLeft::Overdue(_))),
    }
}

/// A case as the caller sees it: the fields they may not see are left empty.
pub fn case_to_proto(view: CaseView, hidden: &HiddenFields) -> pb::Case {
    let response = clock_to_proto(&view, ClockKind::Response);
    let resolution = clock_to_proto(&view, ClockKind::Resolution);
    let c = view.case;
    let split = |text: &str| -> Vec<String> { text.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect() };
    let mut case = pb::Case {
        id: c.id,
        number: c.number,
        subject: c.subject,
        description: c.description,
        status: status_to_proto(&c.status).into(),
        category: category_to_proto(&c.category).into(),
        service_item_id: c.service_id.unwrap_or_default(),
        service_agreement_id: c.agreement_id.unwrap_or_default(),
        service_agreement_candidate_ids: split(&c.candidate_ids),
        author_user_id: c.author_user_id,
        contact_id: c.contact_id,
        account_id: c.account_id,
        organization_id: c.organization_id,
        owner_group_id: c.owner_group_id,
        assignee_user_id: c.assignee_user_id,
        priority: c.priority,
        tags: split(&c.tags),
        response: Some(response),
        resolution: Some(resolution),
        first_response_time: c.first_response_at.map(to_timestamp),
        first_resolution_time: c.first_resolution_at.map(to_timestamp),
        actual_resolution_time: c.actual_resolution_at.map(to_timestamp),
        close_time: c.closed_at.map(to_timestamp),
        closure_reason: reason_to_proto(&c.closure_reason).into(),
        solution: c.solution,
        feedback: (c.feedback_level > 0).then(|| pb::CaseFeedback {
            satisfaction_level: c.feedback_level,
            notes: c.feedback_notes,
            user_id: c.feedback_user_id,
            update_time: c.feedback_at.map(to_timestamp),
        }),
        calendar_id: c.calendar_id,
        create_time: Some(to_timestamp(c.created_at)),
        update_time: Some(to_timestamp(c.updated_at)),
        etag: c.version.to_string(),
    };
    for field in hidden.iter() {
        clear_field(&mut case, field);
    }
    case
}

/// Empties one field of a case, by the name `domain::case_columns` gives it.
fn clear_field(case: &mut pb::Case, field: &str) {
    match field {
        "subject" => case.subject.clear(),
        "description" => case.description.clear(),
        "category" => case.category = pb::CaseCategory::Unspecified.into(),
        "service_item_id" => case.service_item_id.clear(),
        "service_agreement_id" => case.service_agreement_id.clear(),
        "service_agreement_candidate_ids" => case.service_agreement_candidate_ids.clear(),
        "contact_id" => case.contact_id.clear(),
        "account_id" => case.account_id.clear(),
        "owner_group_id" => case.owner_group_id.clear(),
        "assignee_user_id" => case.assignee_user_id.clear(),
        "priority" => case.priority = 0,
        "tags" => case.tags.clear(),
        "response" => case.response = None,
        "resolution" => case.resolution = None,
        "first_response_time" => case.first_response_time = None,
        "first_resolution_time" => case.first_resolution_time = None,
        "actual_resolution_time" => case.actual_resolution_time = None,
        "close_time" => case.close_time = None,
        "closure_reason" => case.closure_reason = pb::CaseClosureReason::Unspecified.into(),
        "solution" => case.solution.clear(),
        "feedback.satisfaction_level" => {
            if let Some(feedback) = &mut case.feedback {
                feedback.satisfaction_level = 0;
            }
        }
        "feedback.notes" => {
            if let Some(feedback) = &mut case.feedback {
                feedback.notes.clear();
            }
        }
        "calendar_id" => case.calendar_id.clear(),
        "create_time" => case.create_time = None,
        "update_time" => case.update_time = None,
        _ => {}
    }
}

const HISTORY_KINDS: [(&str, pb::CaseHistoryKind); 13] = [
    ("created", pb::CaseHistoryKind::Created),
    ("status_changed", pb::CaseHistoryKind::StatusChanged),
    ("fields_changed", pb::CaseHistoryKind::FieldsChanged),
    ("message_posted", pb::CaseHistoryKind::MessagePosted),
    ("complaint_posted", pb::CaseHistoryKind::ComplaintPosted),
    ("attachment_added", pb::CaseHistoryKind::AttachmentAdded),
    ("attachment_deleted", pb::CaseHistoryKind::AttachmentDeleted),
    ("feedback_set", pb::CaseHistoryKind::FeedbackSet),
    ("first_response", pb::CaseHistoryKind::FirstResponse),
    ("sla_paused", pb::CaseHistoryKind::SlaPaused),
    ("sla_resumed", pb::CaseHistoryKind::SlaResumed),
    ("sla_warning", pb::CaseHistoryKind::SlaWarning),
    ("sla_breached", pb::CaseHistoryKind::SlaBreached),
];

pub fn history_kind_to_store(value: i32) -> Option<&'static str> {
    HISTORY_KINDS.iter().find(|(_, k)| *k as i32 == value).map(|(s, _)| *s)
}

/// A history entry as the caller sees it: changes of fields they may not see are left out.
pub fn history_to_proto(entry: HistoryRecord, hidden: &HiddenFields) -> pb::CaseHistoryEntry {
    let kind = HISTORY_KINDS.iter().find(|(s, _)| *s == entry.kind).map_or(pb::CaseHistoryKind::Unspecified, |k| k.1);
    let changes: Vec<[String; 3]> = serde_json::from_str(&entry.changes).unwrap_or_default();
    let sla_clock = match entry.sla_clock.as_str() {
        "response" => pb::SlaClockKind::Response,
        "resolution" => pb::SlaClockKind::Resolution,
        _ => pb::SlaClockKind::Unspecified,
    };
    pb::CaseHistoryEntry {
        id: entry.id,
        case_id: entry.case_id,
        time: Some(to_timestamp(entry.at)),
        actor_user_id: entry.actor_user_id,
        kind: kind.into(),
        from_status: status_to_proto(&entry.from_status).into(),
        to_status: status_to_proto(&entry.to_status).into(),
        closure_reason: reason_to_proto(&entry.closure_reason).into(),
        changes: changes
            .into_iter()
            .filter(|[field, _, _]| !hidden.hides(field))
            .map(|[field, old_value, new_value]| pb::FieldChange { field, old_value, new_value })
            .collect(),
        comment: entry.comment,
        related_id: entry.related_id,
        sla_clock: sla_clock.into(),
    }
}

pub fn message_to_proto(message: MessageRecord) -> pb::CaseMessage {
    use portal_proto::identity::UserKind;
    let kind = if message.author_kind == "employee" { UserKind::Employee } else { UserKind::External };
    pb::CaseMessage {
        id: message.id,
        case_id: message.case_id,
        author_user_id: message.author_user_id,
        author_kind: kind.into(),
        body: message.body,
        is_complaint: message.is_complaint != 0,
        attachments: Vec::new(),
        create_time: Some(to_timestamp(message.created_at)),
    }
}
