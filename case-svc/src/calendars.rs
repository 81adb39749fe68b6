//! Calendar use cases: working-time calendars and the deadline and working-time
//! calculations made with them.

use std::collections::HashMap;

use service_kit::{ApiError, Caller, clock::Clock, secrets};

use crate::{
    catalog::{expected_version, require_manager},
    domain::{
        CaseError,
        calendar::{self, CalendarDefinitionError, WorkingCalendar},
    },
    storage::{CalendarRecord, Store, calendars::CalendarDefinition},
};

/// The settable fields of a calendar.
#[derive(Debug, Clone, Default)]
pub struct CalendarFields {
    pub name: String,
    pub time_zone: String,
    pub definition: CalendarDefinition,
}

/// The calendars' use cases.
#[derive(Debug, Clone)]
pub struct Calendars {
    pub store: Store,
    pub clock: Clock,
}

fn invalid(error: CalendarDefinitionError) -> CaseError {
    CaseError::Api(ApiError::invalid(format!("calendar.{}", error.field), error.problem))
}

/// Builds the arithmetic of a definition, checking it whole.
pub fn working_calendar(
    time_zone: &str,
    definition: &CalendarDefinition,
) -> Result<WorkingCalendar, CalendarDefinitionError> {
    let zone = calendar::parse_zone(time_zone).ok_or_else(|| CalendarDefinitionError {
        field: "time_zone".into(),
        problem: format!("'{time_zone}' is not an IANA time zone name such as Europe/London"),
    })?;
    let mut weekly: [Vec<calendar::Period>; 7] = Default::default();
    for (day, periods) in definition.weekly.iter().enumerate() {
        weekly[day] = calendar::check_periods(&format!("weekly_hours[{day}].periods"), periods)?;
    }
    let mut holidays = HashMap::new();
    for (index, holiday) in definition.holidays.iter().enumerate() {
        let day = calendar::parse_date(&holiday.date).ok_or_else(|| CalendarDefinitionError {
            field: format!("holidays[{index}].date"),
            problem: format!("'{}' is not a date in the form YYYY-MM-DD", holiday.date),
        })?;
        let periods = calendar::check_periods(&format!("holidays[{index}].working_periods"), &holiday.periods)?;
        if holidays.insert(day, periods).is_some() {
            return Err(CalendarDefinitionError {
                field: format!("holidays[{index}].date"),
                problem: format!("{} is listed twice", holiday.date),
            });
        }
    }
    WorkingCalendar::new(zone, weekly, holidays)
}

impl Calendars {
    fn not_found(id: &str) -> CaseError {
        CaseError::NotFound { resource: "calendar", id: id.to_owned() }
    }

    fn name_taken(name: &str) -> CaseError {
        CaseError::Api(ApiError::AlreadyExists {
            reason: "CALENDAR_EXISTS",
            message: format!("a calendar named '{name}' exists; choose another name"),
        })
    }

    pub async fn create(
        &self,
        caller: &Caller,
        mut fields: CalendarFields,
        request_id: &str,
    ) -> Result<CalendarRecord, CaseError> {
        require_manager(caller, "calendars")?;
        if let Some(id) = self.store.created_before(&caller.user_id, "calendar", request_id).await? {
            return self.store.calendar(&id).await?.ok_or_else(|| Self::not_found(&id));
        }
        working_calendar(&fields.time_zone, &fields.definition).map_err(invalid)?;
        fields.definition.holidays.sort_by(|a, b| a.date.cmp(&b.date));
        let now = self.clock.now();
        let record = CalendarRecord {
            id: secrets::new_id(),
            name_key: fields.name.to_lowercase(),
            name: fields.name,
            time_zone: fields.time_zone,
            definition: serde_json::to_string(&fields.definition).map_err(ApiError::internal)?,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        match self.store.insert_calendar(&record, &caller.user_id, request_id).await {
            Err(error) if crate::storage::is_unique_violation(&error) => Err(Self::name_taken(&record.name)),
            other => other.map(|()| record),
        }
    }

    pub async fn get(&self, id: &str) -> Result<CalendarRecord, CaseError> {
        self.store.calendar(id).await?.ok_or_else(|| Self::not_found(id))
    }

    /// The arithmetic of a stored calendar.
    pub async fn load(&self, id: &str) -> Result<WorkingCalendar, CaseError> {
        let record = self.get(id).await?;
        to_working(&record)
    }

    pub async fn update(
        &self,
        caller: &Caller,
        id: &str,
        etag: &str,
        change: impl FnOnce(&mut CalendarFields) -> Result<(), CaseError>,
    ) -> Result<CalendarRecord, CaseError> {
        require_manager(caller, "calendars")?;
        let current = self.get(id).await?;
        let expected = expected_version(etag, "calendar")?.unwrap_or(current.version);
        if expected != current.version {
            return Err(CaseError::StaleEtag { resource: "calendar" });
        }
        let mut fields = CalendarFields {
            name: current.name.clone(),
            time_zone: current.time_zone.clone(),
            definition: serde_json::from_str(&current.definition).map_err(ApiError::internal)?,
        };
        change(&mut fields)?;
        working_calendar(&fields.time_zone, &fields.definition).map_err(invalid)?;
        fields.definition.holidays.sort_by(|a, b| a.date.cmp(&b.date));
        let record = CalendarRecord {
            name_key: fields.name.to_lowercase(),
            name: fields.name,
            time_zone: fields.time_zone,
            definition: serde_json::to_string(&fields.definition).map_err(ApiError::internal)?,
            version: current.version + 1,
            updated_at: self.clock.now(),
            ..current
        };
        match self.store.update_calendar(&record, expected).await {
            Ok(true) => Ok(record),
            Ok(false) => Err(CaseError::StaleEtag { resource: "calendar" }),
            Err(error) if crate::storage::is_unique_violation(&error) => Err(Self::name_taken(&record.name)),
            Err(error) => Err(error),
        }
    }

    pub async fn delete(&self, caller: &Caller, id: &str, etag: &str) -> Result<(), CaseError> {
        require_manager(caller, "calendars")?;
        self.get(id).await?;
        if self.store.calendar_in_use(id).await? {
            return Err(CaseError::Precondition {
                reason: "CALENDAR_IN_USE",
                message: "a service agreement or the case settings name this calendar".into(),
            });
        }
        if !self.store.delete_calendar(id, expected_version(etag, "calendar")?).await? {
            return Err(CaseError::StaleEtag { resource: "calendar" });
        }
        Ok(())
    }
}

/// The arithmetic of a stored calendar record.
pub fn to_working(record: &CalendarRecord) -> Result<WorkingCalendar, CaseError> {
    let definition: CalendarDefinition = serde_json::from_str(&record.definition).map_err(ApiError::internal)?;
    working_calendar(&record.time_zone, &definition).map_err(|e| CaseError::Api(ApiError::internal(e)))
}
