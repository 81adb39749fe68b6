//! Deadlines in working time through the gateway (issue 6, DESIGN.md §5 "Deadlines"):
//! the calendar arithmetic (Friday 16:00 + 4 working hours in Mon-Fri 9-18 is Monday
//! 11:00; holidays skipped; a daylight-saving change), and case deadlines on a manual
//! clock, where time in "Waiting for response" extends the resolution deadline by exactly
//! that working time.

#[path = "support/case.rs"]
mod support_case;

use portal_proto::case::{
    CalculateWorkingTimeRequest, CaseClosureReason, CaseStatus, ReopenCaseRequest, SlaClockState, sla_clock::TimeLeft,
};
use portal_tests::{Suite, authed, suite_tests};
use support_case::*;

suite_tests!(manual_clock: calendar_arithmetic_counts_working_time_only, case_deadlines_follow_the_calendar_and_pauses);

async fn calendar_arithmetic_counts_working_time_only(suite: Suite) {
    let admin = suite.admin_token().await;
    let office = nine_to_six(&suite, &admin, "Office UTC", "UTC", &[]).await;
    // Friday 2026-11-20 16:00 + 4 working hours: 2 on Friday, 2 on Monday.
    assert_eq!(deadline(&suite, &admin, &office.id, utc_time(2026, 11, 20, 16), 240).await, utc_time(2026, 11, 23, 11));
    // A deadline on the end of a period stays there.
    assert_eq!(deadline(&suite, &admin, &office.id, utc_time(2026, 11, 20, 16), 120).await, utc_time(2026, 11, 20, 18));

    // Berlin (UTC+1 in November) with Monday 2026-11-23 a holiday: Tuesday 11:00 local.
    let berlin = nine_to_six(&suite, &admin, "Berlin", "Europe/Berlin", &["2026-11-23"]).await;
    let start = utc_time(2026, 11, 20, 15); // 16:00 in Berlin
    assert_eq!(deadline(&suite, &admin, &berlin.id, start, 240).await, utc_time(2026, 11, 24, 10));

    // New York springs forward on Sunday 2026-03-08: Friday 16:00 EST + 4 h is Monday
    // 11:00 EDT, 15:00 UTC (not 16:00 UTC, as in winter).
    let new_york = nine_to_six(&suite, &admin, "New York", "America/New_York", &[]).await;
    let friday = utc(2026, 3, 6, 21, 0);
    assert_eq!(deadline(&suite, &admin, &new_york.id, friday, 240).await, utc(2026, 3, 9, 15, 0));
    // In November it falls back: Friday 16:00 EDT (20:00 UTC) + 4 h is Monday 11:00 EST (16:00 UTC).
    assert_eq!(deadline(&suite, &admin, &new_york.id, utc(2026, 10, 30, 20, 0), 240).await, utc(2026, 11, 2, 16, 0));
    // The working time of the week across the change is still 5 x 9 hours.
    let request = CalculateWorkingTimeRequest {
        calendar_id: new_york.id.clone(),
        start_time: Some(at(utc(2026, 3, 2, 0, 0))),
        end_time: Some(at(utc(2026, 3, 16, 0, 0))),
    };
    let week = calendars(&suite).calculate_working_time(authed(request, &admin)).await.unwrap().into_inner();
    assert_eq!(week.working_duration.unwrap().seconds, 2 * 5 * 9 * HOUR);
}

fn utc_time(year: i64, month: i64, day: i64, hour: i64) -> i64 {
    utc(year, month, day, hour, 0)
}

async fn case_deadlines_follow_the_calendar_and_pauses(suite: Suite) {
    suite.clock.set(utc_time(2026, 11, 20, 16) * 1000);
    let admin = suite.admin_token().await;
    let calendar = nine_to_six(&suite, &admin, "Office", "UTC", &[]).await;
    let service = service(&suite, &admin, "Printing", 240, 600).await;
    agreement(&suite, &admin, "Everyone", None, &[&service.id], &calendar.id).await;
    let (_, token, _) = customer(&suite, &admin, "Acme", "ann@acme.test").await;

    let case = open_case(&suite, &token, &service.id, "Printer jams").await.unwrap();
    assert!(case.number.starts_with("SR"), "{}", case.number);
    assert_eq!(case.calendar_id, calendar.id);
    let response = case.response.unwrap();
    assert_eq!(response.deadline.unwrap().seconds, utc_time(2026, 11, 23, 11), "Friday 16:00 + 4 h");
    assert_eq!(response.state(), SlaClockState::Running);
    let resolution = case.resolution.unwrap();
    // 10 working hours: 2 on Friday, 8 on Monday.
    assert_eq!(resolution.deadline.unwrap().seconds, utc_time(2026, 11, 23, 17));
    assert_eq!(resolution.time_left, Some(TimeLeft::Remaining(prost_types::Duration { seconds: 10 * HOUR, nanos: 0 })));

    // Monday 10:00: staff take it up and then wait for the customer.
    suite.clock.set(utc_time(2026, 11, 23, 10) * 1000);
    let admin = suite.admin_token().await;
    let token = suite.login("ann@acme.test", portal_tests::fixtures::MEMBER_PASSWORD).await.unwrap();
    let taken =
        transition(&suite, &admin, &case.id, CaseStatus::InProgress, CaseClosureReason::Unspecified).await.unwrap();
    assert_eq!(taken.response.unwrap().state(), SlaClockState::Stopped, "the first response stops the response clock");
    let waiting = transition(&suite, &admin, &case.id, CaseStatus::WaitingForResponse, CaseClosureReason::Unspecified)
        .await
        .unwrap();
    let paused = waiting.resolution.unwrap();
    assert_eq!(paused.state(), SlaClockState::Paused);
    let seven_hours = Some(TimeLeft::Remaining(prost_types::Duration { seconds: 7 * HOUR, nanos: 0 }));
    assert_eq!(paused.time_left, seven_hours, "3 of 10 hours used");

    // Tuesday 12:00 (11 working hours later) the customer reopens it; still 7 h left.
    suite.clock.set(utc_time(2026, 11, 24, 12) * 1000);
    let token = suite.login("ann@acme.test", portal_tests::fixtures::MEMBER_PASSWORD).await.unwrap_or(token);
    let still = get_case(&suite, &token, &case.id).await.unwrap().resolution.unwrap();
    assert_eq!(still.time_left, seven_hours, "a paused clock is frozen");
    let reopened = cases(&suite)
        .reopen_case(authed(ReopenCaseRequest { id: case.id.clone(), ..Default::default() }, &token))
        .await
        .unwrap()
        .into_inner();
    let resumed = reopened.resolution.unwrap();
    assert_eq!(resumed.state(), SlaClockState::Running);
    assert_eq!(resumed.deadline.unwrap().seconds, utc_time(2026, 11, 25, 10), "Tuesday 12:00 + 7 h");
    // The extension equals the working time spent waiting.
    let working = |start: i64, end: i64| {
        let request = CalculateWorkingTimeRequest {
            calendar_id: calendar.id.clone(),
            start_time: Some(at(start)),
            end_time: Some(at(end)),
        };
        let mut client = calendars(&suite);
        let token = token.clone();
        async move {
            client
                .calculate_working_time(authed(request, &token))
                .await
                .unwrap()
                .into_inner()
                .working_duration
                .unwrap()
                .seconds
        }
    };
    let waited = working(utc_time(2026, 11, 23, 10), utc_time(2026, 11, 24, 12)).await;
    assert_eq!(waited, 11 * HOUR);
    assert_eq!(working(utc_time(2026, 11, 23, 17), resumed.deadline.unwrap().seconds).await, waited);
}
