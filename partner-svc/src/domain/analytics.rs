//! Lead and opportunity analytics of a partner program by period: calendar months,
//! quarters or years (UTC), clipped to the requested range, with the same figures over
//! the whole range.

use jiff::{ToSpan, civil::Date};
use service_kit::clock::Millis;

use super::{dates, decimal::Decimal, leads::LeadStatus, opportunities::CloseState};

/// The most periods one answer holds.
pub const MAX_PERIODS: usize = 60;

/// The length of a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granularity {
    Month,
    Quarter,
    Year,
}

/// A lead as analytics see it.
#[derive(Debug, Clone, Copy)]
pub struct LeadFact {
    pub created_at: Millis,
    pub status: LeadStatus,
}

/// An opportunity as analytics see it; `amount` is `None` in another currency.
#[derive(Debug, Clone, Copy)]
pub struct OpportunityFact {
    pub created_at: Millis,
    pub close_time: Option<Millis>,
    pub state: CloseState,
    pub amount: Option<Decimal>,
}

/// The figures of one period (or of the whole range).
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    pub start: Date,
    pub end: Date,
    pub leads_registered: i64,
    pub leads_converted: i64,
    pub leads_disqualified: i64,
    pub opportunities_created: i64,
    pub opportunities_won: i64,
    pub opportunities_lost: i64,
    pub won_amount: Decimal,
    pub open_amount: Decimal,
}

impl Figures {
    fn new(start: Date, end: Date) -> Self {
        Self {
            start,
            end,
            leads_registered: 0,
            leads_converted: 0,
            leads_disqualified: 0,
            opportunities_created: 0,
            opportunities_won: 0,
            opportunities_lost: 0,
            won_amount: Decimal::ZERO,
            open_amount: Decimal::ZERO,
        }
    }

    /// Converted leads per registered lead, 0 without leads.
    pub fn lead_conversion_rate(&self) -> f64 {
        ratio(self.leads_converted, self.leads_registered)
    }

    /// Won per closed opportunity, 0 when none closed.
    pub fn win_rate(&self) -> f64 {
        ratio(self.opportunities_won, self.opportunities_won + self.opportunities_lost)
    }

    fn contains(&self, at: Millis) -> bool {
        at >= dates::start_of(self.start) && at < dates::end_of(self.end)
    }

    fn count(&mut self, leads: &[LeadFact], opportunities: &[OpportunityFact]) {
        for lead in leads {
            if !self.contains(lead.created_at) {
                continue;
            }
            self.leads_registered += 1;
            match lead.status {
                LeadStatus::Converted => self.leads_converted += 1,
                LeadStatus::Disqualified => self.leads_disqualified += 1,
                _ => {}
            }
        }
        for o in opportunities {
            if self.contains(o.created_at) {
                self.opportunities_created += 1;
                if o.state == CloseState::Open {
                    self.open_amount = self.open_amount.saturating_add(o.amount.unwrap_or_default());
                }
            }
            if o.close_time.is_some_and(|t| self.contains(t)) {
                match o.state {
                    CloseState::Won => {
                        self.opportunities_won += 1;
                        self.won_amount = self.won_amount.saturating_add(o.amount.unwrap_or_default());
                    }
                    CloseState::Lost => self.opportunities_lost += 1,
                    CloseState::Open => {}
                }
            }
        }
    }
}

fn ratio(part: i64, whole: i64) -> f64 {
    if whole == 0 { 0.0 } else { part as f64 / whole as f64 }
}

/// The first day of the calendar period holding `date`.
fn period_start(date: Date, granularity: Granularity) -> Date {
    match granularity {
        Granularity::Month => date.first_of_month(),
        Granularity::Quarter => {
            let month = (date.month() - 1) / 3 * 3 + 1;
            Date::new(date.year(), month, 1).unwrap_or(date)
        }
        Granularity::Year => date.first_of_year(),
    }
}

fn next_period(start: Date, granularity: Granularity) -> Option<Date> {
    match granularity {
        Granularity::Month => start.checked_add(1.month()).ok(),
        Granularity::Quarter => start.checked_add(3.months()).ok(),
        Granularity::Year => start.checked_add(1.year()).ok(),
    }
}

/// The periods from `start` to `end` (inclusive, `end` not before `start`), clipped to
/// the range; `Err` with the number needed when more than [`MAX_PERIODS`].
pub fn periods(start: Date, end: Date, granularity: Granularity) -> Result<Vec<(Date, Date)>, usize> {
    let mut periods = Vec::new();
    let mut from = period_start(start, granularity);
    while from <= end {
        let next = next_period(from, granularity);
        let last = next.and_then(|n| n.yesterday().ok()).unwrap_or(end);
        periods.push((from.max(start), last.min(end)));
        if periods.len() > MAX_PERIODS {
            return Err(periods.len());
        }
        match next {
            Some(next) => from = next,
            None => break,
        }
    }
    Ok(periods)
}

/// The figures per period and over the whole range.
pub fn analytics(
    periods: &[(Date, Date)],
    leads: &[LeadFact],
    opportunities: &[OpportunityFact],
) -> (Vec<Figures>, Option<Figures>) {
    let per_period: Vec<Figures> = periods
        .iter()
        .map(|(start, end)| {
            let mut figures = Figures::new(*start, *end);
            figures.count(leads, opportunities);
            figures
        })
        .collect();
    let total = match (periods.first(), periods.last()) {
        (Some((start, _)), Some((_, end))) => {
            let mut figures = Figures::new(*start, *end);
            figures.count(leads, opportunities);
            Some(figures)
        }
        _ => None,
    };
    (per_period, total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> Date {
        dates::parse(text).unwrap()
    }

    #[test]
    fn periods_follow_the_calendar_and_are_clipped() {
        let months = periods(date("2026-01-15"), date("2026-03-10"), Granularity::Month).unwrap();
        let shown: Vec<_> = months.iter().map(|(a, b)| format!("{a}..{b}")).collect();
        assert_eq!(shown, ["2026-01-15..2026-01-31", "2026-02-01..2026-02-28", "2026-03-01..2026-03-10"]);
        let quarters = periods(date("2026-02-01"), date("2026-12-31"), Granularity::Quarter).unwrap();
        assert_eq!(quarters.len(), 4);
        assert_eq!(quarters[1], (date("2026-04-01"), date("2026-06-30")));
        assert!(periods(date("2020-01-01"), date("2026-01-01"), Granularity::Month).is_err());
        assert_eq!(periods(date("2020-01-01"), date("2026-01-01"), Granularity::Year).unwrap().len(), 7);
    }

    #[test]
    fn figures_count_leads_at_registration_and_sales_at_closing() {
        let at = |d: &str| dates::start_of(date(d)) + 3_600_000;
        let leads = [
            LeadFact { created_at: at("2026-01-05"), status: LeadStatus::Converted },
            LeadFact { created_at: at("2026-01-06"), status: LeadStatus::Disqualified },
            LeadFact { created_at: at("2026-02-01"), status: LeadStatus::New },
        ];
        let opportunities = [
            OpportunityFact {
                created_at: at("2026-01-07"),
                close_time: Some(at("2026-02-03")),
                state: CloseState::Won,
                amount: Some(Decimal::from_count(100_000)),
            },
            OpportunityFact {
                created_at: at("2026-01-08"),
                close_time: None,
                state: CloseState::Open,
                amount: Some(Decimal::from_count(500)),
            },
            OpportunityFact {
                created_at: at("2026-02-08"),
                close_time: Some(at("2026-02-09")),
                state: CloseState::Lost,
                amount: None,
            },
        ];
        let periods = periods(date("2026-01-01"), date("2026-02-28"), Granularity::Month).unwrap();
        let (months, total) = analytics(&periods, &leads, &opportunities);
        assert_eq!((months[0].leads_registered, months[0].leads_converted, months[0].leads_disqualified), (2, 1, 1));
        assert_eq!(months[0].lead_conversion_rate(), 0.5);
        assert_eq!((months[0].opportunities_created, months[0].opportunities_won), (2, 0));
        assert_eq!(months[0].open_amount, Decimal::from_count(500));
        assert_eq!((months[1].opportunities_won, months[1].opportunities_lost), (1, 1));
        assert_eq!(months[1].won_amount, Decimal::from_count(100_000));
        assert_eq!(months[1].win_rate(), 0.5);
        let total = total.unwrap();
        assert_eq!((total.leads_registered, total.opportunities_created, total.opportunities_won), (3, 3, 1));
    }
}
