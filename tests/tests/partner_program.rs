//! Partner programs through the gateway (issue 7; DESIGN.md §6; seed 003 "Partner portal"
//! and "Setting up a partner program"): the seed's Reseller example with its promotion
//! to Bronze, one partnership per partner, inactive partnerships, who sees which
//! program, lead and opportunity, protected base lookup rows, and duplicate leads.

#[path = "support/partner.rs"]
mod support_partner;

use std::time::Duration;

use portal_proto::partner::{
    CreateLevelParameterRequest, CreateParameterCategoryRequest, CreateParameterTypeRequest, CreatePartnerLevelRequest,
    CreatePartnerTypeRequest, DeleteLevelParameterRequest, DeleteParameterCategoryRequest, DeleteParameterTypeRequest,
    DeletePartnerLevelRequest, DeletePartnerTypeRequest, GetLeadRequest, GetOpportunityRequest,
    GetPartnerProgramRequest, LeadDuplicateMatch, LevelParameter, ListLeadsRequest, ListOpportunitiesRequest,
    ListPartnerTypesRequest, ListPromotionsRequest, Opportunity, OpportunityCloseState, ParameterCategory,
    ParameterRole, ParameterSource, ParameterType, ParameterUnit, PartnerLevel, PartnerProgram, PartnerType,
    Partnership, PromotionKind, UpdateOpportunityRequest, UpdatePartnerTypeRequest, UpdatePartnershipRequest,
};
use portal_tests::{Suite, authed, suite_tests};
use support_partner::*;
use tonic::Code;

suite_tests!(
    manual_clock: the_seed_example_reaches_bronze_resets_points_and_counts_on_toward_silver,
    a_second_partnership_is_refused_and_an_inactive_one_shows_no_program,
    partner_users_need_the_role_and_see_only_their_own_partner,
    base_lookup_rows_cannot_be_deleted_but_custom_ones_can,
    a_lead_another_partner_registered_is_flagged_without_naming_that_partner,
    parallel_activity_promotes_once_and_parallel_partnerships_make_one,
    certified_experts_earn_their_points_and_show_in_the_program,
    a_manual_level_change_needs_a_reason_is_recorded_and_restarts_counting,
);

async fn program(suite: &Suite, token: &str, partner_account_id: &str) -> Result<PartnerProgram, tonic::Status> {
    let request = GetPartnerProgramRequest { partner_account_id: partner_account_id.into(), ..Default::default() };
    programs(suite).get_partner_program(authed(request, token)).await.map(|r| r.into_inner())
}

fn tick(suite: &Suite) {
    suite.clock.advance(Duration::from_secs(1));
}

async fn the_seed_example_reaches_bronze_resets_points_and_counts_on_toward_silver(suite: Suite) {
    let admin = suite.admin_token().await;
    let reseller = partner(&suite, &admin, "Northwind Resale").await;
    let partnership = reseller_partnership(&suite, &admin, &reseller).await.unwrap();
    assert_eq!(partnership.active, Some(true));
    assert_eq!(partnership.partner_organization_id, reseller.organization_id);
    assert!(partnership.partner_level_id.is_empty());
    tick(&suite);

    // Nine leads and a sale that is not closed yet: the program shows progress only.
    for i in 0..9 {
        lead(&suite, &reseller.token, &format!("Prospect {i}"), "").await.unwrap();
        tick(&suite);
    }
    let sale = opportunity(&suite, &reseller.token, "Big deal", "100000", OpportunityCloseState::Open).await.unwrap();
    tick(&suite);
    let before = program(&suite, &reseller.token, "").await.unwrap();
    assert!(before.current_level.is_none());
    assert_eq!(before.next_level.as_ref().unwrap().name, "Bronze");
    assert_eq!(before.points, 0, "9 of 10 leads and no sale won fulfil no obligation");
    let next = before.next_tier.as_ref().unwrap();
    let leads_progress = next.obligations.iter().find(|o| o.category_name == "Leads number").unwrap();
    assert_eq!((leads_progress.actual_value.as_str(), leads_progress.target_value.as_str()), ("9", "10"));

    // The tenth lead: 40 points, still no Bronze.
    lead(&suite, &reseller.token, "Prospect 9", "").await.unwrap();
    tick(&suite);
    assert_eq!(program(&suite, &reseller.token, "").await.unwrap().points, 40);

    // Winning the 100,000 sale: 80 points reach Bronze with its 10% margin; points reset.
    let won = Opportunity { id: sale.id.clone(), close_state: OpportunityCloseState::Won.into(), ..Default::default() };
    let request = UpdateOpportunityRequest {
        opportunity: Some(won),
        update_mask: Some(prost_types::FieldMask { paths: vec!["close_state".into()] }),
    };
    let won = opportunities(&suite).update_opportunity(authed(request, &reseller.token)).await.unwrap().into_inner();
    assert!(won.close_time.is_some() && !won.close_date.is_empty());
    tick(&suite);
    let bronze = program(&suite, &reseller.token, "").await.unwrap();
    assert_eq!(bronze.current_level.as_ref().unwrap().name, "Bronze");
    assert_eq!(bronze.points, 0, "points reset at the promotion");
    let margin = &bronze.current_tier.as_ref().unwrap().benefits;
    assert_eq!(margin.len(), 1);
    assert_eq!((margin[0].category_name.as_str(), margin[0].value.as_str()), ("Margin", "10"));
    assert_eq!(margin[0].unit(), ParameterUnit::Percent);
    assert_eq!(bronze.next_level.as_ref().unwrap().name, "Silver");
    assert_eq!(bronze.promotions.len(), 1);
    let promotion = &bronze.promotions[0];
    assert_eq!(promotion.kind(), PromotionKind::Automatic);
    assert_eq!((promotion.from_level_name.as_str(), promotion.to_level_name.as_str()), ("", "Bronze"));
    assert_eq!(promotion.points, 80);
    assert_eq!(promotion.reason, "80 of 80 points: Leads number 10/10 (+40), Opportunity amount 100000/100000 (+40)");
    assert_eq!(promotion.promote_time, won.close_time, "promoted at the sale that reached the target");
    assert!(bronze.next_tier.as_ref().unwrap().obligations.iter().all(|o| o.actual_value == "0"));

    // Further activity counts toward Silver only: 25 more leads fulfil Silver's leads
    // obligation (30 points), the Bronze sale does not count again.
    for i in 0..25 {
        lead(&suite, &reseller.token, &format!("Silver prospect {i}"), "").await.unwrap();
        tick(&suite);
    }
    let toward_silver = program(&suite, &reseller.token, "").await.unwrap();
    assert_eq!(toward_silver.current_level.as_ref().unwrap().name, "Bronze");
    assert_eq!(toward_silver.points, 30);
    let silver = toward_silver.next_tier.as_ref().unwrap();
    let actual = |name: &str| silver.obligations.iter().find(|o| o.category_name == name).unwrap().actual_value.clone();
    assert_eq!(actual("Leads number"), "25");
    assert_eq!(actual("Opportunity amount"), "0");

    // Analytics over the partnership so far: 35 leads, one sale won for 100,000.
    let total = toward_silver.analytics_total.as_ref().unwrap();
    assert_eq!((total.leads_registered, total.opportunities_created, total.opportunities_won), (35, 1, 1));
    assert_eq!(total.won_amount.as_ref().unwrap().amount, "100000");
    assert_eq!(total.win_rate, 1.0);
    let periods: i64 = toward_silver.analytics.iter().map(|p| p.leads_registered).sum();
    assert_eq!(periods, 35, "the periods add up to the total");
    for (start, end) in [("2026-13-01", ""), ("2000-01-01", "2026-01-01")] {
        let request = GetPartnerProgramRequest {
            analytics_start_date: start.into(),
            analytics_end_date: end.into(),
            ..Default::default()
        };
        let refused = programs(&suite).get_partner_program(authed(request, &reseller.token)).await.unwrap_err();
        assert_eq!(refused.code(), Code::InvalidArgument, "{start}..{end}");
    }

    // Staff see the same standing on the partnership, and recomputing changes nothing.
    let stored = partnerships(&suite)
        .get_partnership(authed(portal_proto::partner::GetPartnershipRequest { id: partnership.id.clone() }, &admin))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((stored.partner_level_id.as_str(), stored.points), ("reseller-bronze", 30));
    let recompute =
        portal_proto::partner::RecomputePointsRequest { partnership_id: partnership.id.clone(), dry_run: false };
    let recomputed = programs(&suite).recompute_points(authed(recompute, &admin)).await.unwrap().into_inner();
    assert!(recomputed.promotions.is_empty());
    assert_eq!((recomputed.previous_points, recomputed.points), (30, 30));
    let listed = programs(&suite)
        .list_promotions(authed(ListPromotionsRequest::default(), &reseller.token))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.promotions.len(), 1, "one promotion recorded, however often points were evaluated");
}

async fn a_second_partnership_is_refused_and_an_inactive_one_shows_no_program(suite: Suite) {
    let admin = suite.admin_token().await;
    let partner = partner(&suite, &admin, "Contoso Partners").await;
    let partnership = reseller_partnership(&suite, &admin, &partner).await.unwrap();
    assert_eq!(
        partnership.due_date,
        {
            let start: Vec<i32> = partnership.start_date.split('-').map(|p| p.parse().unwrap()).collect();
            format!(
                "{:04}-{:02}-{:02}",
                start[0] + 1,
                start[1],
                if start[1] == 2 && start[2] == 29 { 28 } else { start[2] }
            )
        },
        "the due date defaults to one year after the start"
    );
    let second = reseller_partnership(&suite, &admin, &partner).await.unwrap_err();
    assert_eq!(second.code(), Code::AlreadyExists);
    assert_eq!(reason(&second), "PARTNERSHIP_EXISTS");
    assert!(program(&suite, &partner.token, "").await.is_ok());

    let inactive = Partnership { id: partnership.id.clone(), active: Some(false), ..Default::default() };
    let request = UpdatePartnershipRequest {
        partnership: Some(inactive),
        update_mask: Some(prost_types::FieldMask { paths: vec!["active".into()] }),
        level_change_reason: String::new(),
    };
    let updated = partnerships(&suite).update_partnership(authed(request, &admin)).await.unwrap().into_inner();
    assert_eq!(updated.active, Some(false));
    let hidden = program(&suite, &partner.token, "").await.unwrap_err();
    assert_eq!(hidden.code(), Code::NotFound, "an inactive partnership shows no program");
    let staff_view = program(&suite, &admin, &partner.account_id).await.unwrap();
    assert!(!staff_view.active, "staff still see it");

    // A customer account cannot have a partnership.
    let customer = portal_tests::fixtures::organization(
        &suite,
        &admin,
        "Plain Customer",
        portal_proto::identity::AccountType::Customer,
    )
    .await;
    let request = portal_proto::partner::CreatePartnershipRequest {
        partnership: Some(Partnership {
            partner_account_id: customer.account_id,
            partner_type_id: "reseller".into(),
            ..Default::default()
        }),
        request_id: String::new(),
    };
    let refused = partnerships(&suite).create_partnership(authed(request, &admin)).await.unwrap_err();
    assert_eq!((refused.code(), reason(&refused).as_str()), (Code::FailedPrecondition, "ACCOUNT_NOT_PARTNER"));
}

async fn partner_users_need_the_role_and_see_only_their_own_partner(suite: Suite) {
    let admin = suite.admin_token().await;
    let a = partner(&suite, &admin, "Alpha Resellers").await;
    let b = partner(&suite, &admin, "Beta Resellers").await;
    reseller_partnership(&suite, &admin, &a).await.unwrap();
    reseller_partnership(&suite, &admin, &b).await.unwrap();
    let b_lead = lead(&suite, &b.token, "Initech", "bill@initech.example").await.unwrap();
    let b_sale = opportunity(&suite, &b.token, "Initech rollout", "5000", OpportunityCloseState::Open).await.unwrap();
    lead(&suite, &a.token, "Umbrella", "").await.unwrap();

    // Without "Partner portal users": PERMISSION_DENIED everywhere.
    let denied = program(&suite, &a.plain_token, "").await.unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied, "{denied:?}");
    let denied = lead(&suite, &a.plain_token, "Hooli", "").await.unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let denied = leads(&suite).list_leads(authed(ListLeadsRequest::default(), &a.plain_token)).await.unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);

    // Partner A cannot see B's program, lead or opportunity.
    assert_eq!(program(&suite, &a.token, &b.account_id).await.unwrap_err().code(), Code::NotFound);
    let hidden = leads(&suite).get_lead(authed(GetLeadRequest { id: b_lead.id.clone() }, &a.token)).await.unwrap_err();
    assert_eq!(hidden.code(), Code::NotFound);
    let hidden = opportunities(&suite)
        .get_opportunity(authed(GetOpportunityRequest { id: b_sale.id.clone() }, &a.token))
        .await
        .unwrap_err();
    assert_eq!(hidden.code(), Code::NotFound);
    let a_leads = leads(&suite).list_leads(authed(ListLeadsRequest::default(), &a.token)).await.unwrap().into_inner();
    assert_eq!(a_leads.leads.iter().map(|l| l.company_name.as_str()).collect::<Vec<_>>(), ["Umbrella"]);
    let filtered = ListLeadsRequest { partner_account_id: b.account_id.clone(), ..Default::default() };
    let a_filtered = leads(&suite).list_leads(authed(filtered, &a.token)).await.unwrap().into_inner();
    assert!(a_filtered.leads.is_empty(), "naming another partner does not widen a partner user's list");
    let a_sales =
        opportunities(&suite).list_opportunities(authed(ListOpportunitiesRequest::default(), &a.token)).await.unwrap();
    assert!(a_sales.into_inner().opportunities.is_empty());

    // Staff see every partner's records.
    let all = leads(&suite).list_leads(authed(ListLeadsRequest::default(), &admin)).await.unwrap().into_inner();
    assert_eq!(all.leads.len(), 2);
    let staff_lead = leads(&suite).get_lead(authed(GetLeadRequest { id: b_lead.id }, &admin)).await.unwrap();
    assert_eq!(staff_lead.into_inner().partner_account_id, b.account_id);
    assert_eq!(program(&suite, &admin, &b.account_id).await.unwrap().partner_account_id, b.account_id);
}

async fn base_lookup_rows_cannot_be_deleted_but_custom_ones_can(suite: Suite) {
    let admin = suite.admin_token().await;
    let mut client = lookups(&suite);
    let protected = |status: tonic::Status| {
        assert_eq!((status.code(), reason(&status).as_str()), (Code::FailedPrecondition, "BASE_LOOKUP_PROTECTED"));
    };
    protected(
        client
            .delete_partner_type(authed(
                DeletePartnerTypeRequest { id: "reseller".into(), etag: String::new() },
                &admin,
            ))
            .await
            .unwrap_err(),
    );
    protected(
        client
            .delete_partner_level(authed(
                DeletePartnerLevelRequest { id: "reseller-bronze".into(), etag: String::new() },
                &admin,
            ))
            .await
            .unwrap_err(),
    );
    protected(
        client
            .delete_parameter_category(authed(
                DeleteParameterCategoryRequest { id: "margin".into(), etag: String::new() },
                &admin,
            ))
            .await
            .unwrap_err(),
    );
    protected(
        client
            .delete_parameter_type(authed(
                DeleteParameterTypeRequest { id: "obligation".into(), etag: String::new() },
                &admin,
            ))
            .await
            .unwrap_err(),
    );
    protected(
        client
            .delete_level_parameter(authed(
                DeleteLevelParameterRequest { id: "reseller-bronze-margin".into(), etag: String::new() },
                &admin,
            ))
            .await
            .unwrap_err(),
    );
    let types =
        client.list_partner_types(authed(ListPartnerTypesRequest::default(), &admin)).await.unwrap().into_inner();
    let names: Vec<_> = types.partner_types.iter().map(|t| (t.name.as_str(), t.base)).collect();
    assert_eq!(names, [("Consultant", true), ("Integrator", true), ("Reference", true), ("Reseller", true)]);

    // Base rows may be renamed; a stale etag is ABORTED.
    let reseller = types.partner_types.iter().find(|t| t.id == "reseller").unwrap().clone();
    let rename = |etag: &str| UpdatePartnerTypeRequest {
        partner_type: Some(PartnerType {
            id: "reseller".into(),
            name: "Value-added reseller".into(),
            etag: etag.into(),
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask { paths: vec!["name".into()] }),
    };
    let renamed = client.update_partner_type(authed(rename(&reseller.etag), &admin)).await.unwrap().into_inner();
    assert_eq!((renamed.name.as_str(), renamed.base), ("Value-added reseller", true));
    assert_eq!(
        client.update_partner_type(authed(rename(&reseller.etag), &admin)).await.unwrap_err().code(),
        Code::Aborted
    );

    // Partner users read lookups but do not change them.
    let partner = partner(&suite, &admin, "Gamma Consulting").await;
    let listed = client.list_partner_types(authed(ListPartnerTypesRequest::default(), &partner.token)).await;
    assert_eq!(listed.unwrap().into_inner().partner_types.len(), 4);
    let custom = PartnerType { name: "Distributor".into(), ..Default::default() };
    let denied = client
        .create_partner_type(authed(
            CreatePartnerTypeRequest { partner_type: Some(custom.clone()), request_id: String::new() },
            &partner.token,
        ))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);

    // Custom rows: a type, a level, a category, a parameter type and a parameter.
    let create = CreatePartnerTypeRequest { partner_type: Some(custom), request_id: "distributor-1".into() };
    let distributor = client.create_partner_type(authed(create.clone(), &admin)).await.unwrap().into_inner();
    let again = client.create_partner_type(authed(create, &admin)).await.unwrap().into_inner();
    assert_eq!(again.id, distributor.id, "a retried create with the same request_id creates once");
    assert!(!distributor.base);
    let duplicate = CreatePartnerTypeRequest {
        partner_type: Some(PartnerType { name: "distributor".into(), ..Default::default() }),
        request_id: String::new(),
    };
    assert_eq!(client.create_partner_type(authed(duplicate, &admin)).await.unwrap_err().code(), Code::AlreadyExists);
    let level = PartnerLevel {
        partner_type_id: distributor.id.clone(),
        name: "Gold".into(),
        target_points: 50,
        order: 1,
        ..Default::default()
    };
    let level = client
        .create_partner_level(authed(
            CreatePartnerLevelRequest { partner_level: Some(level), request_id: String::new() },
            &admin,
        ))
        .await
        .unwrap()
        .into_inner();
    let category = ParameterCategory {
        name: "Webinars held".into(),
        source: ParameterSource::None.into(),
        unit: ParameterUnit::Count.into(),
        ..Default::default()
    };
    let category = client
        .create_parameter_category(authed(
            CreateParameterCategoryRequest { parameter_category: Some(category), request_id: String::new() },
            &admin,
        ))
        .await
        .unwrap()
        .into_inner();
    let kind = ParameterType { name: "Perk".into(), role: ParameterRole::Benefit.into(), ..Default::default() };
    let kind = client
        .create_parameter_type(authed(
            CreateParameterTypeRequest { parameter_type: Some(kind), request_id: String::new() },
            &admin,
        ))
        .await
        .unwrap()
        .into_inner();
    let bad = LevelParameter {
        partner_level_id: level.id.clone(),
        parameter_category_id: "leads-number".into(),
        parameter_type_id: "obligation".into(),
        target_value: "ten".into(),
        points: 10,
        ..Default::default()
    };
    let bad = client
        .create_level_parameter(authed(
            CreateLevelParameterRequest { level_parameter: Some(bad), request_id: String::new() },
            &admin,
        ))
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    let perk = LevelParameter {
        partner_level_id: level.id.clone(),
        parameter_category_id: category.id.clone(),
        parameter_type_id: kind.id.clone(),
        benefit_value: "3".into(),
        ..Default::default()
    };
    let perk = client
        .create_level_parameter(authed(
            CreateLevelParameterRequest { level_parameter: Some(perk), request_id: String::new() },
            &admin,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(perk.partner_type_id, distributor.id);

    // In use: refused until what refers to it is gone; then custom rows go.
    let in_use = client
        .delete_partner_type(authed(
            DeletePartnerTypeRequest { id: distributor.id.clone(), etag: String::new() },
            &admin,
        ))
        .await
        .unwrap_err();
    assert_eq!((in_use.code(), reason(&in_use).as_str()), (Code::FailedPrecondition, "LOOKUP_IN_USE"));
    client
        .delete_level_parameter(authed(DeleteLevelParameterRequest { id: perk.id, etag: perk.etag }, &admin))
        .await
        .unwrap();
    client
        .delete_parameter_type(authed(DeleteParameterTypeRequest { id: kind.id, etag: String::new() }, &admin))
        .await
        .unwrap();
    client
        .delete_parameter_category(authed(
            DeleteParameterCategoryRequest { id: category.id, etag: String::new() },
            &admin,
        ))
        .await
        .unwrap();
    client
        .delete_partner_level(authed(DeletePartnerLevelRequest { id: level.id, etag: String::new() }, &admin))
        .await
        .unwrap();
    client
        .delete_partner_type(authed(
            DeletePartnerTypeRequest { id: distributor.id.clone(), etag: distributor.etag },
            &admin,
        ))
        .await
        .unwrap();
    let gone = client
        .get_partner_type(authed(portal_proto::partner::GetPartnerTypeRequest { id: distributor.id }, &admin))
        .await
        .unwrap_err();
    assert_eq!(gone.code(), Code::NotFound);
}

async fn a_lead_another_partner_registered_is_flagged_without_naming_that_partner(suite: Suite) {
    let admin = suite.admin_token().await;
    let first = partner(&suite, &admin, "First Partner").await;
    let second = partner(&suite, &admin, "Second Partner").await;
    let original = lead(&suite, &first.token, "Globex  Corporation", "hank@globex.example").await.unwrap();
    assert!(!original.duplicate);

    // The same company, written differently, by another partner: flagged, anonymously.
    let copy = lead(&suite, &second.token, "globex corporation", "Someone@GLOBEX.example").await.unwrap();
    assert!(copy.duplicate);
    assert_eq!(copy.duplicate_match(), LeadDuplicateMatch::CompanyNameAndEmailDomain);
    assert!(copy.duplicate_lead_ids.is_empty(), "partners never learn the other lead");
    assert_eq!(copy.partner_account_id, second.account_id);
    let answer = format!("{copy:?}");
    for secret in [&first.account_id, &original.id, &first.user_id, &first.organization_id] {
        assert!(!answer.contains(secret.as_str()), "the answer leaks {secret}");
    }
    let listed = leads(&suite)
        .list_leads(authed(ListLeadsRequest { only_duplicates: true, ..Default::default() }, &second.token))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.leads.len(), 1);
    assert!(listed.leads[0].duplicate_lead_ids.is_empty());

    // By email domain alone; a public mail domain is no evidence.
    let by_domain = lead(&suite, &second.token, "Globex Europe", "eu@globex.example").await.unwrap();
    assert_eq!(by_domain.duplicate_match(), LeadDuplicateMatch::EmailDomain);
    let public = lead(&suite, &second.token, "Someone Else Ltd", "hank@gmail.com").await.unwrap();
    assert!(!public.duplicate);
    let first_public = lead(&suite, &first.token, "Another Ltd", "x@gmail.com").await.unwrap();
    assert!(!first_public.duplicate);

    // The registering partner's own earlier leads are not duplicates.
    let own = lead(&suite, &first.token, "GLOBEX corporation", "").await.unwrap();
    assert_eq!(own.duplicate_match(), LeadDuplicateMatch::CompanyName, "the second partner's lead matches");
    let fresh = lead(&suite, &first.token, "Stark Industries", "").await.unwrap();
    let again = lead(&suite, &first.token, "Stark Industries", "").await.unwrap();
    assert!(!fresh.duplicate && !again.duplicate);

    // Staff see which of the other partners' leads it duplicates.
    let staff =
        leads(&suite).get_lead(authed(GetLeadRequest { id: copy.id.clone() }, &admin)).await.unwrap().into_inner();
    assert_eq!(staff.duplicate_lead_ids, [original.id, own.id]);
}

async fn parallel_activity_promotes_once_and_parallel_partnerships_make_one(suite: Suite) {
    let admin = suite.admin_token().await;
    let reseller = partner(&suite, &admin, "Parallel Partners").await;

    // Eight staff clicks at once: one partnership, seven ALREADY_EXISTS.
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let mut client = partnerships(&suite);
        let request = portal_proto::partner::CreatePartnershipRequest {
            partnership: Some(Partnership {
                partner_account_id: reseller.account_id.clone(),
                partner_type_id: "reseller".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        };
        let admin = admin.clone();
        calls.spawn(async move { client.create_partnership(authed(request, &admin)).await.map(|_| ()) });
    }
    let attempts = calls.join_all().await;
    assert_eq!(attempts.iter().filter(|a| a.is_ok()).count(), 1, "exactly one partnership per partner");
    assert!(attempts.iter().filter_map(|a| a.as_ref().err()).all(|e| e.code() == Code::AlreadyExists));
    tick(&suite);

    // The won sale first, then twelve leads registered at once: the evaluations race,
    // and Bronze is recorded once.
    opportunity(&suite, &reseller.token, "Won deal", "100000", OpportunityCloseState::Won).await.unwrap();
    tick(&suite);
    let mut calls = tokio::task::JoinSet::new();
    for i in 0..12 {
        let mut client = leads(&suite);
        let lead = portal_proto::partner::Lead { company_name: format!("Parallel {i}"), ..Default::default() };
        let request = portal_proto::partner::CreateLeadRequest { lead: Some(lead), request_id: String::new() };
        let token = reseller.token.clone();
        calls.spawn(async move { client.create_lead(authed(request, &token)).await.map(|_| ()) });
    }
    assert!(calls.join_all().await.iter().all(Result::is_ok));
    let shown = program(&suite, &reseller.token, "").await.unwrap();
    assert_eq!(shown.current_level.as_ref().unwrap().name, "Bronze");
    let promotions = programs(&suite)
        .list_promotions(authed(ListPromotionsRequest::default(), &reseller.token))
        .await
        .unwrap()
        .into_inner()
        .promotions;
    assert_eq!(promotions.len(), 1, "one promotion however the evaluations interleave");
    assert_eq!(shown.points, 0, "two leads after the tenth count toward Silver but fulfil nothing yet");
    let silver = shown.next_tier.unwrap();
    let leads_now = silver.obligations.iter().find(|o| o.category_name == "Leads number").unwrap();
    assert_eq!(leads_now.actual_value, "2");
}

async fn certified_experts_earn_their_points_and_show_in_the_program(suite: Suite) {
    use portal_proto::partner::{
        CreatePartnerTrainingRequest, GetPartnerTrainingRequest, ListPartnerTrainingsRequest, PartnerTraining,
        TrainingKind, partner_training_service_client::PartnerTrainingServiceClient,
    };
    let admin = suite.admin_token().await;
    let reseller = partner(&suite, &admin, "Certified Resellers").await;
    let other = partner(&suite, &admin, "Other Resellers").await;
    reseller_partnership(&suite, &admin, &reseller).await.unwrap();
    tick(&suite);
    for i in 0..10 {
        lead(&suite, &reseller.token, &format!("Lead {i}"), "").await.unwrap();
    }
    tick(&suite);
    opportunity(&suite, &reseller.token, "Deal", "100000", OpportunityCloseState::Won).await.unwrap();
    tick(&suite);
    assert_eq!(program(&suite, &reseller.token, "").await.unwrap().current_level.unwrap().name, "Bronze");

    let mut trainings = PartnerTrainingServiceClient::new(suite.channel());
    let today = {
        let shown = program(&suite, &reseller.token, "").await.unwrap();
        shown.start_date
    };
    let record = |contact: &str, kind: TrainingKind, expiry: &str| CreatePartnerTrainingRequest {
        partner_training: Some(PartnerTraining {
            partner_account_id: reseller.account_id.clone(),
            contact_id: contact.into(),
            title: "Certified sales engineer".into(),
            kind: kind.into(),
            completion_date: today.clone(),
            expiry_date: expiry.into(),
            ..Default::default()
        }),
        request_id: String::new(),
    };
    // Partner users read but do not record; a contact of another partner is refused.
    let denied = trainings
        .create_partner_training(authed(record(&reseller.contact_id, TrainingKind::Certification, ""), &reseller.token))
        .await;
    assert_eq!(denied.unwrap_err().code(), Code::PermissionDenied);
    let foreign = trainings
        .create_partner_training(authed(record(&other.contact_id, TrainingKind::Certification, ""), &admin))
        .await
        .unwrap_err();
    assert_eq!((foreign.code(), reason(&foreign).as_str()), (Code::FailedPrecondition, "CONTACT_NOT_OF_PARTNER"));
    let bad = trainings
        .create_partner_training(authed(record(&reseller.contact_id, TrainingKind::Training, "2099-01-01"), &admin))
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);

    // Two certified experts fulfil Silver's experts obligation: 20 points.
    let first = trainings
        .create_partner_training(authed(record(&reseller.contact_id, TrainingKind::Certification, ""), &admin))
        .await
        .unwrap()
        .into_inner();
    assert!(!first.contact_name.is_empty(), "the contact's name is copied");
    trainings
        .create_partner_training(authed(record(&reseller.contact_id, TrainingKind::Certification, ""), &admin))
        .await
        .unwrap();
    let one = program(&suite, &reseller.token, "").await.unwrap();
    assert_eq!(one.certified_expert_count, 1, "one person, however many certificates");
    let (expert, _) = portal_tests::fixtures::member(
        &suite,
        &admin,
        &reseller.organization_id,
        "expert@certified-resellers.example",
        false,
    )
    .await;
    trainings
        .create_partner_training(authed(record(&expert.contact_id, TrainingKind::Certification, ""), &admin))
        .await
        .unwrap();
    tick(&suite);
    let shown = program(&suite, &reseller.token, "").await.unwrap();
    assert_eq!(shown.certified_expert_count, 2);
    assert_eq!(shown.trainings.len(), 3);
    assert_eq!(shown.points, 20, "two certified experts fulfil Silver's experts obligation");
    let experts =
        shown.next_tier.unwrap().obligations.into_iter().find(|o| o.category_name == "Certified experts").unwrap();
    assert!(experts.fulfilled);

    // Partner users list their own; another partner's record is NOT_FOUND.
    let own = trainings
        .list_partner_trainings(authed(ListPartnerTrainingsRequest::default(), &reseller.token))
        .await
        .unwrap();
    assert_eq!(own.into_inner().partner_trainings.len(), 3);
    let hidden = trainings
        .get_partner_training(authed(GetPartnerTrainingRequest { id: first.id }, &other.token))
        .await
        .unwrap_err();
    assert_eq!(hidden.code(), Code::NotFound);
}

async fn a_manual_level_change_needs_a_reason_is_recorded_and_restarts_counting(suite: Suite) {
    let admin = suite.admin_token().await;
    let reseller = partner(&suite, &admin, "Manual Resellers").await;
    let partnership = reseller_partnership(&suite, &admin, &reseller).await.unwrap();
    tick(&suite);
    for i in 0..10 {
        lead(&suite, &reseller.token, &format!("Before {i}"), "").await.unwrap();
    }
    tick(&suite);
    assert_eq!(program(&suite, &reseller.token, "").await.unwrap().points, 40);

    let change = |reason: &str, etag: &str| UpdatePartnershipRequest {
        partnership: Some(Partnership {
            id: partnership.id.clone(),
            partner_level_id: "reseller-silver".into(),
            etag: etag.into(),
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask { paths: vec!["partner_level_id".into()] }),
        level_change_reason: reason.into(),
    };
    let refused = partnerships(&suite).update_partnership(authed(change("", ""), &admin)).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    let stale = partnerships(&suite).update_partnership(authed(change("Strategic partner", "0"), &admin)).await;
    assert_eq!(stale.unwrap_err().code(), Code::Aborted);
    let denied = partnerships(&suite).update_partnership(authed(change("Me", ""), &reseller.token)).await;
    assert_eq!(denied.unwrap_err().code(), Code::PermissionDenied);
    // Points evaluations change the partnership too: staff send the etag they read last.
    let current = partnerships(&suite)
        .get_partnership(authed(portal_proto::partner::GetPartnershipRequest { id: partnership.id.clone() }, &admin))
        .await
        .unwrap()
        .into_inner();
    assert_ne!(current.etag, partnership.etag, "the 40 points were recorded on the partnership");
    let changed = partnerships(&suite)
        .update_partnership(authed(change("Strategic partner", &current.etag), &admin))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((changed.partner_level_id.as_str(), changed.points), ("reseller-silver", 0));
    tick(&suite);

    let shown = program(&suite, &reseller.token, "").await.unwrap();
    assert_eq!(shown.current_level.unwrap().name, "Silver");
    assert_eq!(shown.next_level.unwrap().name, "Platinum");
    assert_eq!(shown.points, 0, "the ten earlier leads do not count toward Platinum");
    let manual = &shown.promotions[0];
    assert_eq!(manual.kind(), PromotionKind::Manual);
    assert_eq!((manual.from_level_name.as_str(), manual.to_level_name.as_str()), ("", "Silver"));
    assert_eq!(manual.reason, "Strategic partner");
    assert!(!manual.actor_user_id.is_empty());
    let dry = portal_proto::partner::RecomputePointsRequest { partnership_id: partnership.id.clone(), dry_run: true };
    let dry = programs(&suite).recompute_points(authed(dry, &admin)).await.unwrap().into_inner();
    assert!(dry.promotions.is_empty());
    assert_eq!(dry.current_level.unwrap().name, "Silver");
}
