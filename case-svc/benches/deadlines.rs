//! Deadline computation over a 30-day horizon with holidays (DESIGN.md §10: an SLA
//! deadline ≤ 20 µs). Run: `cargo bench -p case-svc --bench deadlines`.

use std::{collections::HashMap, hint::black_box};

use case_svc::domain::calendar::{Period, WorkingCalendar, parse_date, parse_zone};
use criterion::{Criterion, criterion_group, criterion_main};

/// Mon-Fri 09:00-13:00 and 14:00-18:00 in Berlin, with a holiday every other week.
fn calendar() -> WorkingCalendar {
    let day = || vec![Period { start_minute: 540, end_minute: 780 }, Period { start_minute: 840, end_minute: 1080 }];
    let weekly = [day(), day(), day(), day(), day(), vec![], vec![]];
    let holidays: HashMap<i64, Vec<Period>> = [
        "2026-03-02",
        "2026-03-17",
        "2026-03-27",
        "2026-04-03",
        "2026-04-06",
        "2026-04-14",
        "2026-04-24",
        "2026-05-01",
        "2026-05-14",
        "2026-05-25",
    ]
    .iter()
    .map(|d| (parse_date(d).expect("date"), vec![]))
    .collect();
    WorkingCalendar::new(parse_zone("Europe/Berlin").expect("zone"), weekly, holidays).expect("calendar")
}

fn deadlines(c: &mut Criterion) {
    let calendar = calendar();
    // Thursday 2026-03-19 15:30 UTC; 19 working days of 8 h spans 30 calendar days and the
    // spring-forward change (2026-03-29) and three holidays.
    let start = 1_773_934_200_000;
    let working = 19 * 8 * 3_600_000;
    let deadline = calendar.add_working_time(start, working).expect("within the horizon");
    assert!(deadline - start >= 29 * 86_400_000, "the horizon spans about 30 days");
    c.bench_function("add_working_time: 152 working hours over 30 days with holidays and DST", |b| {
        b.iter(|| calendar.add_working_time(black_box(start), black_box(working)))
    });
    c.bench_function("working_time_between: 30 days with holidays and DST", |b| {
        b.iter(|| calendar.working_time_between(black_box(start), black_box(deadline)))
    });
}

criterion_group!(benches, deadlines);
criterion_main!(benches);
