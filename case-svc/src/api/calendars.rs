//! `portal.case.v1.CalendarService`, with the deadline and working-time calculations.

use portal_proto::case::{self as pb, calendar_service_server::CalendarService};
use service_kit::{
    ApiError,
    clock::{from_timestamp, to_timestamp},
    error::Violations,
    paging, validate,
};
use tonic::{Request, Response, Status};

use super::convert::{
    calendar_to_proto, caller, check_length, check_request_id, definition_from_proto, invalid, mask_paths, status,
};
use crate::{
    calendars::{CalendarFields, Calendars},
    domain::calendar::HORIZON_DAYS,
};

#[derive(Debug, Clone)]
pub struct CalendarApi {
    pub calendars: Calendars,
}

const MAX_WORKING_MS: i64 = 525_600 * 60_000;

fn check_name(name: &str) -> Result<(), Status> {
    let mut violations = Violations::new();
    check_length(&mut violations, "calendar.name", name, 1, 250);
    violations.finish().map_err(Status::from)
}

fn duration_ms(duration: &prost_types::Duration) -> i64 {
    duration.seconds.saturating_mul(1000).saturating_add(i64::from(duration.nanos / 1_000_000))
}

#[tonic::async_trait]
impl CalendarService for CalendarApi {
    async fn create_calendar(
        &self,
        request: Request<pb::CreateCalendarRequest>,
    ) -> Result<Response<pb::Calendar>, Status> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        check_request_id(&request.request_id)?;
        let calendar = request.calendar.ok_or_else(|| ApiError::invalid("calendar", "is required"))?;
        check_name(&calendar.name)?;
        let fields = CalendarFields {
            name: calendar.name.trim().to_owned(),
            time_zone: calendar.time_zone.clone(),
            definition: definition_from_proto(&calendar)?,
        };
        let created = self.calendars.create(&caller, fields, &request.request_id).await.map_err(status)?;
        Ok(Response::new(calendar_to_proto(created)))
    }

    async fn get_calendar(&self, request: Request<pb::GetCalendarRequest>) -> Result<Response<pb::Calendar>, Status> {
        caller(&request)?;
        validate::id("id", &request.get_ref().id)?;
        let calendar = self.calendars.get(&request.get_ref().id).await.map_err(status)?;
        Ok(Response::new(calendar_to_proto(calendar)))
    }

    async fn list_calendars(
        &self,
        request: Request<pb::ListCalendarsRequest>,
    ) -> Result<Response<pb::ListCalendarsResponse>, Status> {
        caller(&request)?;
        let request = request.into_inner();
        let limit = paging::page_size(request.page_size)?;
        let after = paging::text_position(&request.page_token)?;
        let mut calendars =
            self.calendars.store.list_calendars(&request.name_contains, after, limit + 1).await.map_err(status)?;
        let next_page_token = if calendars.len() as i64 > limit {
            calendars.truncate(limit as usize);
            calendars.last().map(|c| paging::text_token(&c.name_key, &c.id)).unwrap_or_default()
        } else {
            String::new()
        };
        Ok(Response::new(pb::ListCalendarsResponse {
            calendars: calendars.into_iter().map(calendar_to_proto).collect(),
            next_page_token,
        }))
    }

    async fn update_calendar(
        &self,
        request: Request<pb::UpdateCalendarRequest>,
    ) -> Result<Response<pb::Calendar>, Status> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        let calendar = request.calendar.ok_or_else(|| ApiError::invalid("calendar", "is required"))?;
        validate::id("calendar.id", &calendar.id)?;
        let paths = mask_paths(request.update_mask, &["name", "time_zone", "weekly_hours", "holidays"])?;
        let definition = definition_from_proto(&calendar)?;
        let updated = self
            .calendars
            .update(&caller, &calendar.id, &calendar.etag, |fields| {
                for path in &paths {
                    match path.as_str() {
                        "name" => {
                            check_name(&calendar.name).map_err(invalid)?;
                            fields.name = calendar.name.trim().to_owned();
                        }
                        "time_zone" => fields.time_zone = calendar.time_zone.clone(),
                        "weekly_hours" => fields.definition.weekly = definition.weekly.clone(),
                        _ => fields.definition.holidays = definition.holidays.clone(),
                    }
                }
                Ok(())
            })
            .await
            .map_err(status)?;
        Ok(Response::new(calendar_to_proto(updated)))
    }

    async fn delete_calendar(&self, request: Request<pb::DeleteCalendarRequest>) -> Result<Response<()>, Status> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        validate::id("id", &request.id)?;
        self.calendars.delete(&caller, &request.id, &request.etag).await.map_err(status)?;
        Ok(Response::new(()))
    }

    async fn calculate_deadline(
        &self,
        request: Request<pb::CalculateDeadlineRequest>,
    ) -> Result<Response<pb::CalculateDeadlineResponse>, Status> {
        caller(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        if request.calendar_id.is_empty() {
            violations.add("calendar_id", "is required");
        }
        if request.start_time.is_none() {
            violations.add("start_time", "is required");
        }
        let working = request.working_duration.as_ref().map(duration_ms);
        match working {
            None => violations.add("working_duration", "is required"),
            Some(ms) if !(0..=MAX_WORKING_MS).contains(&ms) => {
                violations.add("working_duration", "must be between 0 and 525,600 minutes")
            }
            _ => {}
        }
        violations.finish()?;
        let start = from_timestamp(&request.start_time.unwrap_or_default());
        let calendar = self.calendars.load(&request.calendar_id).await.map_err(status)?;
        let deadline = calendar
            .add_working_time(start, working.unwrap_or_default())
            .map_err(|e| status(crate::domain::CaseError::from(e)))?;
        let local_deadline = jiff::Timestamp::from_millisecond(deadline)
            .map(|t| t.to_zoned_datetime(calendar.zone().clone()).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string())
            .unwrap_or_default();
        let elapsed = deadline - start;
        Ok(Response::new(pb::CalculateDeadlineResponse {
            deadline: Some(to_timestamp(deadline)),
            local_deadline,
            elapsed: Some(prost_types::Duration {
                seconds: elapsed.div_euclid(1000),
                nanos: (elapsed.rem_euclid(1000) * 1_000_000) as i32,
            }),
        }))
    }

    async fn calculate_working_time(
        &self,
        request: Request<pb::CalculateWorkingTimeRequest>,
    ) -> Result<Response<pb::CalculateWorkingTimeResponse>, Status> {
        caller(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        if request.calendar_id.is_empty() {
            violations.add("calendar_id", "is required");
        }
        let (Some(start), Some(end)) = (request.start_time.as_ref(), request.end_time.as_ref()) else {
            violations.add("start_time", "start_time and end_time are required");
            return Err(violations.finish().unwrap_err().into());
        };
        let (start, end) = (from_timestamp(start), from_timestamp(end));
        if end < start {
            violations.add("end_time", "must not be before start_time");
        } else if end - start > HORIZON_DAYS * 86_400_000 {
            violations.add("end_time", "the span may be at most 3 years");
        }
        violations.finish()?;
        let calendar = self.calendars.load(&request.calendar_id).await.map_err(status)?;
        let working = calendar.working_time_between(start, end);
        Ok(Response::new(pb::CalculateWorkingTimeResponse {
            working_duration: Some(prost_types::Duration { seconds: working / 1000, nanos: 0 }),
        }))
    }
}
