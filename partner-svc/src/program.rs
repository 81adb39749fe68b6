//! The partner program use cases: evaluating a partnership's points after every change
//! of its activity (and on demand), and the program as its partner sees it.
//!
//! Evaluation reads the partnership, its type's ladder from the lookups and the
//! partner's activity, runs the pure `domain::points::evaluate`, and writes the new
//! standing with the promotions it made in one transaction guarded by the
//! partnership's version; a concurrent change makes it read again and retry, so two
//! changes at once can never record one promotion twice.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use service_kit::{
    Caller,
    clock::{Clock, Millis},
    secrets,
};

use crate::{
    authority::{Actor, Authority, Object, Operation},
    domain::{
        PartnerError,
        analytics::{self, Figures, Granularity},
        dates,
        decimal::Decimal,
        lookup::{Role, Source, Unit},
        points::{self, Benefit, Evaluation, Ladder, Obligation, Progress, Standing, Tier, Window},
    },
    storage::{
        LevelParameterRecord, ParameterCategoryRecord, ParameterTypeRecord, PartnerLevelRecord, PartnerTypeRecord,
        PartnershipRecord, PromotionRecord, Store, TrainingRecord, Value,
    },
};

/// How often an evaluation retries when the partnership changed under it.
const EVALUATION_ATTEMPTS: usize = 8;

/// An obligation's progress as recorded on a promotion.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecordedProgress {
    pub level_parameter_id: String,
    pub parameter_category_id: String,
    pub category_name: String,
    pub unit: String,
    pub target_value: String,
    pub actual_value: String,
    pub fulfilled: bool,
    pub points: i64,
    pub points_awarded: i64,
}

impl From<&Progress> for RecordedProgress {
    fn from(p: &Progress) -> Self {
        Self {
            level_parameter_id: p.obligation.parameter_id.clone(),
            parameter_category_id: p.obligation.category_id.clone(),
            category_name: p.obligation.category_name.clone(),
            unit: p.obligation.unit.stored().into(),
            target_value: p.obligation.target.to_string(),
            actual_value: p.actual.to_string(),
            fulfilled: p.fulfilled,
            points: p.obligation.points,
            points_awarded: p.points_awarded,
        }
    }
}

/// A partnership's evaluation with what it was computed from.
#[derive(Debug, Clone)]
pub struct Evaluated {
    pub partnership: PartnershipRecord,
    pub ladder: Ladder,
    pub evaluation: Evaluation,
}

/// The program as shown: the partnership, its type, its evaluation, its latest
/// promotions, its analytics.
#[derive(Debug, Clone)]
pub struct ProgramView {
    pub evaluated: Evaluated,
    pub partner_type_name: String,
    pub promotions: Vec<PromotionRecord>,
    pub analytics: Vec<Figures>,
    pub analytics_total: Option<Figures>,
    /// The partner's trainings and certifications, most recent first (at most 100).
    pub trainings: Vec<TrainingRecord>,
    /// Distinct contacts holding a certification valid now.
    pub certified_experts: i64,
    pub as_of: Millis,
}

/// What analytics a program view asks for: granularity and the range as given (empty
/// for the defaults).
#[derive(Debug, Clone)]
pub struct AnalyticsRequest {
    pub granularity: Granularity,
    pub start_date: String,
    pub end_date: String,
}

/// The partner program use cases.
#[derive(Debug, Clone)]
pub struct Program {
    store: Store,
    authority: Authority,
    clock: Clock,
}

fn window(p: &PartnershipRecord) -> Window {
    let ends_at = dates::parse(&p.due_date).map(dates::end_of).unwrap_or(Millis::MAX);
    Window { active: p.is_active(), ends_at }
}

fn standing(p: &PartnershipRecord) -> Standing {
    Standing {
        level_id: p.partner_level_id.clone(),
        counting_since: p.counting_since,
        counting_after_event: p.counting_after_event.clone(),
    }
}

impl Program {
    pub fn new(store: Store, authority: Authority, clock: Clock) -> Self {
        Self { store, authority, clock }
    }

    /// The levels of a partner type with their obligations and benefits.
    pub async fn ladder(&self, partner_type_id: &str) -> Result<Ladder, PartnerError> {
        let by_type = [("partner_type_id = {}", Value::Text(partner_type_id.to_owned()))];
        let levels: Vec<PartnerLevelRecord> = self.store.all_lookups(&by_type).await?;
        let parameters: Vec<LevelParameterRecord> = self.store.all_lookups(&by_type).await?;
        let categories: HashMap<String, ParameterCategoryRecord> = self
            .store
            .all_lookups::<ParameterCategoryRecord>(&[])
            .await?
            .into_iter()
            .map(|c| (c.row.id.clone(), c))
            .collect();
        let kinds: HashMap<String, ParameterTypeRecord> = self
            .store
            .all_lookups::<ParameterTypeRecord>(&[])
            .await?
            .into_iter()
            .map(|t| (t.row.id.clone(), t))
            .collect();
        let mut tiers = Vec::new();
        for level in levels {
            let mut tier = Tier {
                id: level.row.id.clone(),
                name: level.name,
                order: level.level_order,
                target_points: level.target_points,
                obligations: Vec::new(),
                benefits: Vec::new(),
            };
            for parameter in parameters.iter().filter(|p| p.partner_level_id == level.row.id) {
                let (Some(category), Some(kind)) =
                    (categories.get(&parameter.parameter_category_id), kinds.get(&parameter.parameter_type_id))
                else {
                    continue;
                };
                let unit = Unit::from_stored(&category.unit)?;
                match Role::from_stored(&kind.role)? {
                    Role::Obligation => tier.obligations.push(Obligation {
                        parameter_id: parameter.row.id.clone(),
                        category_id: category.row.id.clone(),
                        category_name: category.name.clone(),
                        source: Source::from_stored(&category.source)?,
                        unit,
                        target: Decimal::parse(&parameter.target_value).map_err(PartnerError::Corrupt)?,
                        points: parameter.points,
                    }),
                    Role::Benefit => tier.benefits.push(Benefit {
                        parameter_id: parameter.row.id.clone(),
                        category_id: category.row.id.clone(),
                        category_name: category.name.clone(),
                        unit,
                        value: parameter.benefit_value.clone(),
                        description: parameter.row.description.clone(),
                    }),
                }
            }
            tiers.push(tier);
        }
        Ok(Ladder::new(tiers))
    }

    /// Evaluates a partnership as it is stored, without writing anything.
    async fn evaluated(&self, partnership: PartnershipRecord) -> Result<Evaluated, PartnerError> {
        let ladder = self.ladder(&partnership.partner_type_id).await?;
        let mut events = self
            .store
            .activity(&partnership.partner_account_id, partnership.counting_since, &partnership.currency_code)
            .await?;
        let trainings = self.store.trainings_of(&partnership.partner_account_id).await?;
        events.extend(trainings.iter().filter_map(TrainingRecord::event));
        let evaluation =
            points::evaluate(&standing(&partnership), &ladder, window(&partnership), &events, self.clock.now());
        Ok(Evaluated { partnership, ladder, evaluation })
    }

    /// Re-evaluates the partnership of `partner_account_id` (if any) and records what
    /// changed. Called after every change to the partner's activity.
    pub async fn evaluate_partner(&self, partner_account_id: &str) -> Result<Option<Evaluated>, PartnerError> {
        for _ in 0..EVALUATION_ATTEMPTS {
            let Some(partnership) = self.store.partnership_of(partner_account_id).await? else { return Ok(None) };
            let evaluated = self.evaluated(partnership).await?;
            match self.record(&evaluated).await {
                Ok(()) => return Ok(Some(evaluated)),
                Err(PartnerError::Stale(_)) => continue,
                Err(other) => return Err(other),
            }
        }
        Err(PartnerError::Contended)
    }

    /// Writes an evaluation's standing, points and promotions if anything changed.
    async fn record(&self, evaluated: &Evaluated) -> Result<(), PartnerError> {
        let p = &evaluated.partnership;
        let e = &evaluated.evaluation;
        if e.promotions.is_empty() && e.points == p.points && e.standing == standing(p) {
            return Ok(());
        }
        let now = self.clock.now();
        let mut next = p.clone();
        next.partner_level_id = e.standing.level_id.clone();
        next.counting_since = e.standing.counting_since;
        next.counting_after_event = e.standing.counting_after_event.clone();
        next.points = e.points;
        let mut tx = self.store.begin().await?;
        Store::update_partnership(&mut tx, &next, now).await?;
        for promotion in &e.promotions {
            let (from_id, from_name) = promotion.from_level.clone().unwrap_or_default();
            let obligations: Vec<RecordedProgress> = promotion.obligations.iter().map(RecordedProgress::from).collect();
            let record = PromotionRecord {
                id: secrets::new_id(),
                partnership_id: p.id.clone(),
                from_level_id: from_id,
                from_level_name: from_name,
                to_level_id: promotion.to_level.0.clone(),
                to_level_name: promotion.to_level.1.clone(),
                kind: "automatic".into(),
                points: promotion.points,
                reason: promotion.reason.clone(),
                obligations_json: serde_json::to_string(&obligations)
                    .map_err(|e| PartnerError::Corrupt(e.to_string()))?,
                actor_user_id: String::new(),
                promote_time: promotion.at,
                created_at: now,
            };
            Store::insert_promotion(&mut tx, &record).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// RecomputePoints: staff only; an inactive partnership is refused.
    pub async fn recompute(
        &self,
        caller: &Caller,
        partnership_id: &str,
        dry_run: bool,
    ) -> Result<(i64, Evaluated), PartnerError> {
        self.authority.staff(caller, Object::Partnership, Operation::Update).await?;
        let partnership = self
            .store
            .partnership(partnership_id)
            .await?
            .ok_or_else(|| PartnerError::NotFound("partnership", partnership_id.to_owned()))?;
        if !partnership.is_active() {
            return Err(PartnerError::Refused(
                "PARTNERSHIP_INACTIVE",
                "the partnership is inactive and collects no points; activate it first".into(),
            ));
        }
        let previous = partnership.points;
        if dry_run {
            return Ok((previous, self.evaluated(partnership).await?));
        }
        let evaluated = self
            .evaluate_partner(&partnership.partner_account_id)
            .await?
            .ok_or_else(|| PartnerError::NotFound("partnership", partnership_id.to_owned()))?;
        Ok((previous, evaluated))
    }

    /// The partnership an actor may see the program of: partner users their own
    /// partner's, if active (anything else is NOT_FOUND); staff any partner's.
    async fn visible_partnership(
        &self,
        actor: &Actor,
        partner_account_id: &str,
    ) -> Result<PartnershipRecord, PartnerError> {
        let not_found = |id: &str| PartnerError::NotFound("partner program", id.to_owned());
        let account = match actor {
            Actor::Partner(partner) => {
                if !partner_account_id.is_empty() && partner_account_id != partner.account_id {
                    return Err(not_found(partner_account_id));
                }
                partner.account_id.as_str()
            }
            Actor::Staff { .. } if partner_account_id.is_empty() => {
                return Err(PartnerError::invalid("partner_account_id", "is required for staff"));
            }
            Actor::Staff { .. } => partner_account_id,
        };
        let partnership = self.store.partnership_of(account).await?.ok_or_else(|| not_found(account))?;
        if !actor.is_staff() && !partnership.is_active() {
            return Err(not_found(account));
        }
        Ok(partnership)
    }

    /// The analytics periods of a view: INVALID_ARGUMENT naming the field for malformed
    /// dates, an end before the start, or more than 60 periods.
    fn analytics_periods(
        &self,
        partnership: &PartnershipRecord,
        request: &AnalyticsRequest,
    ) -> Result<Vec<(jiff::civil::Date, jiff::civil::Date)>, PartnerError> {
        let stored = |text: &str| dates::parse(text).map_err(PartnerError::Corrupt);
        let given = |field: &str, text: &str| dates::parse(text).map_err(|e| PartnerError::invalid(field, e));
        let start = match request.start_date.as_str() {
            "" => stored(&partnership.start_date)?,
            text => given("analytics_start_date", text)?,
        };
        let end = match request.end_date.as_str() {
            "" => stored(&partnership.due_date)?.min(dates::date_of(self.clock.now())).max(start),
            text => given("analytics_end_date", text)?,
        };
        if end < start {
            return Err(PartnerError::invalid("analytics_end_date", "must not be before analytics_start_date"));
        }
        analytics::periods(start, end, request.granularity).map_err(|_| {
            PartnerError::invalid(
                "analytics_end_date",
                format!(
                    "the range holds more than {} periods; shorten it or choose longer periods",
                    analytics::MAX_PERIODS
                ),
            )
        })
    }

    /// GetPartnerProgram.
    pub async fn view(
        &self,
        caller: &Caller,
        partner_account_id: &str,
        analytics_request: &AnalyticsRequest,
    ) -> Result<ProgramView, PartnerError> {
        let actor = self.authority.require(caller, Object::Partnership, Operation::Read, None).await?;
        let partnership = self.visible_partnership(&actor, partner_account_id).await?;
        let periods = self.analytics_periods(&partnership, analytics_request)?;
        let range = match (periods.first(), periods.last()) {
            (Some((start, _)), Some((_, end))) => (dates::start_of(*start), dates::end_of(*end)),
            _ => (0, 0),
        };
        let (leads, opportunities) =
            self.store.analytics_facts(&partnership.partner_account_id, range, &partnership.currency_code).await?;
        let (analytics, analytics_total) = analytics::analytics(&periods, &leads, &opportunities);
        let partner_type_name = self
            .store
            .lookup::<PartnerTypeRecord>(&partnership.partner_type_id)
            .await?
            .map(|t| t.name)
            .unwrap_or_default();
        let promotions = self.store.promotions(&partnership.id, (None, None), None, 20).await?;
        let mut trainings = self.store.trainings_of(&partnership.partner_account_id).await?;
        let now = self.clock.now();
        let held: Vec<_> = trainings.iter().filter_map(TrainingRecord::event).collect();
        let certified_experts = points::certified_experts(&held, now);
        trainings.truncate(100);
        let evaluated = self.evaluated(partnership).await?;
        Ok(ProgramView {
            evaluated,
            partner_type_name,
            promotions,
            analytics,
            analytics_total,
            trainings,
            certified_experts,
            as_of: now,
        })
    }

    /// ListPromotions: partner users their own partnership's (`partnership_id` may be
    /// empty), staff any.
    pub async fn promotions(
        &self,
        caller: &Caller,
        partnership_id: &str,
        range: (Option<Millis>, Option<Millis>),
        before: Option<(i64, String)>,
        limit: i64,
    ) -> Result<Vec<PromotionRecord>, PartnerError> {
        let actor = self.authority.require(caller, Object::Partnership, Operation::Read, None).await?;
        let partnership = match &actor {
            Actor::Partner(_) => {
                let own = self.visible_partnership(&actor, "").await?;
                if !partnership_id.is_empty() && partnership_id != own.id {
                    return Err(PartnerError::NotFound("partnership", partnership_id.to_owned()));
                }
                own
            }
            Actor::Staff { .. } if partnership_id.is_empty() => {
                return Err(PartnerError::invalid(
                    "partnership_id",
                    "is required for employees (they have no partnership)",
                ));
            }
            Actor::Staff { .. } => self
                .store
                .partnership(partnership_id)
                .await?
                .ok_or_else(|| PartnerError::NotFound("partnership", partnership_id.to_owned()))?,
        };
        self.store.promotions(&partnership.id, range, before, limit).await
    }
}
