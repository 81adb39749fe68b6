//! `portal.partner.v1.PartnerProgramService`: the program view, promotions, and
//! RecomputePoints.

use portal_proto::partner::{self as pb, partner_program_service_server::PartnerProgramService};
use service_kit::{Caller, clock::to_timestamp, validate};
use tonic::{Request, Response, Status};

use super::{fingerprint, lookups::unit_to_proto, newest_first_next, newest_first_position, page_limit, time_range};
use crate::{
    domain::{
        analytics::{Figures, Granularity},
        decimal::Decimal,
        lookup::Unit,
        points::{Progress, Tier},
    },
    program::{AnalyticsRequest, Program, ProgramView, RecordedProgress},
    storage::PromotionRecord,
};

#[derive(Debug, Clone)]
pub struct ProgramApi {
    pub program: Program,
}

fn level_summary(tier: &Tier) -> pb::LevelSummary {
    pb::LevelSummary {
        id: tier.id.clone(),
        name: tier.name.clone(),
        order: i32::try_from(tier.order).unwrap_or(i32::MAX),
        target_points: tier.target_points,
    }
}

fn progress_to_proto(p: &Progress) -> pb::ObligationProgress {
    pb::ObligationProgress {
        level_parameter_id: p.obligation.parameter_id.clone(),
        parameter_category_id: p.obligation.category_id.clone(),
        category_name: p.obligation.category_name.clone(),
        unit: unit_to_proto(p.obligation.unit).into(),
        target_value: p.obligation.target.to_string(),
        actual_value: p.actual.to_string(),
        fulfilled: p.fulfilled,
        points: p.obligation.points,
        points_awarded: p.points_awarded,
    }
}

fn recorded_to_proto(p: RecordedProgress) -> pb::ObligationProgress {
    pb::ObligationProgress {
        unit: Unit::from_stored(&p.unit).map(unit_to_proto).unwrap_or_default().into(),
        level_parameter_id: p.level_parameter_id,
        parameter_category_id: p.parameter_category_id,
        category_name: p.category_name,
        target_value: p.target_value,
        actual_value: p.actual_value,
        fulfilled: p.fulfilled,
        points: p.points,
        points_awarded: p.points_awarded,
    }
}

fn recorded(promotion: &PromotionRecord) -> Vec<RecordedProgress> {
    serde_json::from_str(&promotion.obligations_json).unwrap_or_default()
}

fn promotion_to_proto(p: PromotionRecord) -> pb::Promotion {
    let obligations = recorded(&p).into_iter().map(recorded_to_proto).collect();
    let kind = if p.kind == "manual" { pb::PromotionKind::Manual } else { pb::PromotionKind::Automatic };
    pb::Promotion {
        kind: kind.into(),
        obligations,
        promote_time: Some(to_timestamp(p.promote_time)),
        create_time: Some(to_timestamp(p.created_at)),
        id: p.id,
        partnership_id: p.partnership_id,
        from_level_id: p.from_level_id,
        from_level_name: p.from_level_name,
        to_level_id: p.to_level_id,
        to_level_name: p.to_level_name,
        points: p.points,
        reason: p.reason,
        actor_user_id: p.actor_user_id,
    }
}

fn benefits(tier: &Tier) -> Vec<pb::Benefit> {
    tier.benefits
        .iter()
        .map(|b| pb::Benefit {
            level_parameter_id: b.parameter_id.clone(),
            parameter_category_id: b.category_id.clone(),
            category_name: b.category_name.clone(),
            unit: unit_to_proto(b.unit).into(),
            value: b.value.clone(),
            description: b.description.clone(),
        })
        .collect()
}

fn money(amount: Decimal, currency: &str) -> Option<pb::Money> {
    Some(pb::Money { amount: amount.to_string(), currency_code: currency.to_owned() })
}

fn figures_to_proto(f: &Figures, currency: &str) -> pb::PeriodAnalytics {
    pb::PeriodAnalytics {
        start_date: f.start.to_string(),
        end_date: f.end.to_string(),
        leads_registered: f.leads_registered,
        leads_converted: f.leads_converted,
        leads_disqualified: f.leads_disqualified,
        opportunities_created: f.opportunities_created,
        opportunities_won: f.opportunities_won,
        opportunities_lost: f.opportunities_lost,
        won_amount: money(f.won_amount, currency),
        open_amount: money(f.open_amount, currency),
        lead_conversion_rate: f.lead_conversion_rate(),
        win_rate: f.win_rate(),
    }
}

fn program_to_proto(view: ProgramView) -> pb::PartnerProgram {
    let ProgramView {
        evaluated,
        partner_type_name,
        promotions,
        analytics,
        analytics_total,
        trainings,
        certified_experts,
        as_of,
    } = view;
    let currency = evaluated.partnership.currency_code.clone();
    let p = &evaluated.partnership;
    let e = &evaluated.evaluation;
    let current = e.standing.level_id.as_deref().and_then(|id| evaluated.ladder.tier(id));
    let next = evaluated.ladder.next_after(e.standing.level_id.as_deref());
    let current_tier = current.map(|tier| {
        // How the current tier was reached, as recorded on its latest automatic promotion.
        let reached = promotions.iter().find(|pr| pr.to_level_id == tier.id && pr.kind == "automatic");
        let obligations = match reached {
            Some(promotion) => recorded(promotion).into_iter().map(recorded_to_proto).collect(),
            None => tier
                .obligations
                .iter()
                .map(|o| pb::ObligationProgress {
                    level_parameter_id: o.parameter_id.clone(),
                    parameter_category_id: o.category_id.clone(),
                    category_name: o.category_name.clone(),
                    unit: unit_to_proto(o.unit).into(),
                    target_value: o.target.to_string(),
                    actual_value: String::new(),
                    fulfilled: false,
                    points: o.points,
                    points_awarded: 0,
                })
                .collect(),
        };
        pb::TierConditions { level: Some(level_summary(tier)), obligations, benefits: benefits(tier) }
    });
    let next_tier = next.map(|tier| pb::TierConditions {
        level: Some(level_summary(tier)),
        obligations: e.next_progress.iter().map(progress_to_proto).collect(),
        benefits: benefits(tier),
    });
    pb::PartnerProgram {
        partnership_id: p.id.clone(),
        partner_account_id: p.partner_account_id.clone(),
        partner_type_id: p.partner_type_id.clone(),
        partner_type_name,
        current_level: current.map(level_summary),
        next_level: next.map(level_summary),
        points: e.points,
        counting_since: Some(to_timestamp(e.standing.counting_since)),
        start_date: p.start_date.clone(),
        due_date: p.due_date.clone(),
        active: p.is_active(),
        currency_code: p.currency_code.clone(),
        current_tier,
        next_tier,
        trainings: trainings.into_iter().map(super::trainings::training_to_proto).collect(),
        certified_expert_count: i32::try_from(certified_experts).unwrap_or(i32::MAX),
        analytics: analytics.iter().map(|f| figures_to_proto(f, &currency)).collect(),
        analytics_total: analytics_total.as_ref().map(|f| figures_to_proto(f, &currency)),
        promotions: promotions.into_iter().map(promotion_to_proto).collect(),
        as_of_time: Some(to_timestamp(as_of)),
    }
}

#[tonic::async_trait]
impl PartnerProgramService for ProgramApi {
    async fn get_partner_program(
        &self,
        request: Request<pb::GetPartnerProgramRequest>,
    ) -> Result<Response<pb::PartnerProgram>, Status> {
        let caller = Caller::user_of(&request)?;
        let r = request.get_ref();
        let analytics = AnalyticsRequest {
            granularity: match r.analytics_granularity() {
                pb::AnalyticsGranularity::Unspecified | pb::AnalyticsGranularity::Month => Granularity::Month,
                pb::AnalyticsGranularity::Quarter => Granularity::Quarter,
                pb::AnalyticsGranularity::Year => Granularity::Year,
            },
            start_date: r.analytics_start_date.clone(),
            end_date: r.analytics_end_date.clone(),
        };
        let view = self.program.view(caller, &r.partner_account_id, &analytics).await?;
        Ok(Response::new(program_to_proto(view)))
    }

    async fn list_promotions(
        &self,
        request: Request<pb::ListPromotionsRequest>,
    ) -> Result<Response<pb::ListPromotionsResponse>, Status> {
        let caller = Caller::user_of(&request)?;
        let r = request.get_ref();
        validate::optional_id("partnership_id", &r.partnership_id)?;
        let (size, limit) = page_limit(r.page_size)?;
        let range = time_range("promote_time", r.promote_time)?;
        let filters = fingerprint(&(&r.partnership_id, range));
        let before = newest_first_position(&r.page_token, &filters)?;
        let mut rows = self.program.promotions(caller, &r.partnership_id, range, before, limit).await?;
        let next_page_token = newest_first_next(&mut rows, size, &filters, |p| (p.promote_time, &p.id));
        Ok(Response::new(pb::ListPromotionsResponse {
            promotions: rows.into_iter().map(promotion_to_proto).collect(),
            next_page_token,
        }))
    }

    async fn recompute_points(
        &self,
        request: Request<pb::RecomputePointsRequest>,
    ) -> Result<Response<pb::RecomputePointsResponse>, Status> {
        let caller = Caller::user_of(&request)?;
        let r = request.get_ref();
        validate::id("partnership_id", &r.partnership_id)?;
        let (previous_points, evaluated) = self.program.recompute(caller, &r.partnership_id, r.dry_run).await?;
        let e = &evaluated.evaluation;
        let promotions = e
            .promotions
            .iter()
            .map(|p| pb::Promotion {
                partnership_id: evaluated.partnership.id.clone(),
                from_level_id: p.from_level.as_ref().map(|l| l.0.clone()).unwrap_or_default(),
                from_level_name: p.from_level.as_ref().map(|l| l.1.clone()).unwrap_or_default(),
                to_level_id: p.to_level.0.clone(),
                to_level_name: p.to_level.1.clone(),
                kind: pb::PromotionKind::Automatic.into(),
                points: p.points,
                reason: p.reason.clone(),
                obligations: p.obligations.iter().map(progress_to_proto).collect(),
                promote_time: Some(to_timestamp(p.at)),
                ..Default::default()
            })
            .collect();
        Ok(Response::new(pb::RecomputePointsResponse {
            previous_points,
            points: e.points,
            promotions,
            current_level: e.standing.level_id.as_deref().and_then(|id| evaluated.ladder.tier(id)).map(level_summary),
            next_level_progress: e.next_progress.iter().map(progress_to_proto).collect(),
            counting_since: Some(to_timestamp(e.standing.counting_since)),
        }))
    }
}
