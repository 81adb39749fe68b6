//! Helpers of the case tests: clients of the case services, and fixtures (calendars,
//! services, agreements, organizations with members) made through the gateway.

#![allow(dead_code)]

use portal_proto::{
    case::{
        CalculateDeadlineRequest, Calendar, Case, CaseCategory, CaseStatus, CreateCalendarRequest, CreateCaseRequest,
        CreateServiceAgreementRequest, CreateServiceItemRequest, DayOfWeek, GetCaseRequest, Holiday, ServiceAgreement,
        ServiceAgreementStatus, ServiceItem, TransitionCaseRequest, WorkingDay, WorkingPeriod,
        calendar_service_client::CalendarServiceClient, case_message_service_client::CaseMessageServiceClient,
        case_service_client::CaseServiceClient, service_agreement::ServiceObject,
        service_agreement_service_client::ServiceAgreementServiceClient,
        service_catalog_service_client::ServiceCatalogServiceClient,
    },
    identity::{AccountType, User},
};
use portal_tests::{Suite, authed, fixtures};
use tonic::{Status, transport::Channel};

/// The ErrorInfo reason of a refusal.
pub fn reason(status: &Status) -> String {
    portal_tests::error_reason(status)
}

/// Seconds since the Unix epoch of a UTC date and time.
pub fn utc(year: i64, month: i64, day: i64, hour: i64, minute: i64) -> i64 {
    // Howard Hinnant's days-from-civil.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * 86_400 + hour * 3600 + minute * 60
}

pub fn at(seconds: i64) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds, nanos: 0 }
}

pub const HOUR: i64 = 3600;

pub fn catalog(suite: &Suite) -> ServiceCatalogServiceClient<Channel> {
    ServiceCatalogServiceClient::new(suite.channel())
}
pub fn calendars(suite: &Suite) -> CalendarServiceClient<Channel> {
    CalendarServiceClient::new(suite.channel())
}
pub fn agreements(suite: &Suite) -> ServiceAgreementServiceClient<Channel> {
    ServiceAgreementServiceClient::new(suite.channel())
}
pub fn cases(suite: &Suite) -> CaseServiceClient<Channel> {
    CaseServiceClient::new(suite.channel())
}
pub fn messages(suite: &Suite) -> CaseMessageServiceClient<Channel> {
    CaseMessageServiceClient::new(suite.channel())
}

/// Monday to Friday 09:00-18:00 in `zone`, with whole-day `holidays` ("YYYY-MM-DD").
pub async fn nine_to_six(suite: &Suite, admin: &str, name: &str, zone: &str, holidays: &[&str]) -> Calendar {
    let day = |day: DayOfWeek| WorkingDay {
        day: day.into(),
        periods: vec![WorkingPeriod { start_minute: 540, end_minute: 1080 }],
    };
    let calendar = Calendar {
        name: name.into(),
        time_zone: zone.into(),
        weekly_hours: vec![
            day(DayOfWeek::Monday),
            day(DayOfWeek::Tuesday),
            day(DayOfWeek::Wednesday),
            day(DayOfWeek::Thursday),
            day(DayOfWeek::Friday),
        ],
        holidays: holidays
            .iter()
            .map(|date| Holiday { date: (*date).into(), name: "Holiday".into(), working_periods: vec![] })
            .collect(),
        ..Default::default()
    };
    calendars(suite)
        .create_calendar(authed(CreateCalendarRequest { calendar: Some(calendar), request_id: String::new() }, admin))
        .await
        .expect("create the calendar")
        .into_inner()
}

/// A service with response and resolution times in working minutes.
pub async fn service(suite: &Suite, admin: &str, name: &str, response: i64, resolution: i64) -> ServiceItem {
    let item = ServiceItem {
        name: name.into(),
        category: CaseCategory::Incident.into(),
        response_time_minutes: response,
        resolution_time_minutes: resolution,
        ..Default::default()
    };
    catalog(suite)
        .create_service_item(authed(
            CreateServiceItemRequest { service_item: Some(item), request_id: String::new() },
            admin,
        ))
        .await
        .expect("create the service")
        .into_inner()
}

/// An active agreement covering `services`, measured with `calendar_id`, serving
/// `object` (or the default agreement when `None`).
pub async fn agreement(
    suite: &Suite,
    admin: &str,
    name: &str,
    object: Option<ServiceObject>,
    services: &[&str],
    calendar_id: &str,
) -> ServiceAgreement {
    let agreement = ServiceAgreement {
        name: name.into(),
        is_default: object.is_none(),
        service_object: object,
        service_item_ids: services.iter().map(|s| s.to_string()).collect(),
        calendar_id: calendar_id.into(),
        status: ServiceAgreementStatus::Active.into(),
        ..Default::default()
    };
    agreements(suite)
        .create_service_agreement(authed(
            CreateServiceAgreementRequest { service_agreement: Some(agreement), request_id: String::new() },
            admin,
        ))
        .await
        .expect("create the agreement")
        .into_inner()
}

/// An organization with one member who can log in: (member, token, account id).
pub async fn customer(suite: &Suite, admin: &str, name: &str, email: &str) -> (User, String, String) {
    let organization = fixtures::organization(suite, admin, name, AccountType::Customer).await;
    let (user, token) = fixtures::member(suite, admin, &organization.id, email, false).await;
    (user, token, organization.account_id)
}

/// Registers a case about `service_id` as the holder of `token`.
pub async fn open_case(suite: &Suite, token: &str, service_id: &str, subject: &str) -> Result<Case, Status> {
    let case = Case { subject: subject.into(), service_item_id: service_id.into(), ..Default::default() };
    cases(suite)
        .create_case(authed(CreateCaseRequest { case: Some(case), request_id: String::new() }, token))
        .await
        .map(|r| r.into_inner())
}

pub async fn get_case(suite: &Suite, token: &str, id: &str) -> Result<Case, Status> {
    cases(suite).get_case(authed(GetCaseRequest { id: id.into() }, token)).await.map(|r| r.into_inner())
}

/// A staff move of a case.
pub async fn transition(
    suite: &Suite,
    admin: &str,
    id: &str,
    target: CaseStatus,
    reason: portal_proto::case::CaseClosureReason,
) -> Result<Case, Status> {
    let request = TransitionCaseRequest {
        id: id.into(),
        target_status: target.into(),
        closure_reason: reason.into(),
        ..Default::default()
    };
    cases(suite).transition_case(authed(request, admin)).await.map(|r| r.into_inner())
}

/// The deadline `minutes` of working time after `start` (seconds) in a calendar.
pub async fn deadline(suite: &Suite, token: &str, calendar_id: &str, start: i64, minutes: i64) -> i64 {
    let request = CalculateDeadlineRequest {
        calendar_id: calendar_id.into(),
        start_time: Some(at(start)),
        working_duration: Some(prost_types::Duration { seconds: minutes * 60, nanos: 0 }),
    };
    calendars(suite)
        .calculate_deadline(authed(request, token))
        .await
        .expect("calculate the deadline")
        .into_inner()
        .deadline
        .expect("a deadline")
        .seconds
}
