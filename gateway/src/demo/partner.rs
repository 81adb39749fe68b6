//! The demo's partner program (portal.partner.v1): the seed's Reseller program (its
//! Bronze, Silver and Platinum levels are base lookups partner-svc's migrations already
//! hold), a Reseller partnership for Globex Solutions, and the leads and opportunities
//! its partner users registered.

use portal_proto::partner::{
    CreateLeadRequest, CreateOpportunityRequest, CreatePartnershipRequest, Lead, ListLevelParametersRequest,
    ListPartnerLevelsRequest, ListPartnershipsRequest, Money, Opportunity, OpportunityCloseState, OpportunityStage,
    Partnership, lead_service_client::LeadServiceClient, opportunity_service_client::OpportunityServiceClient,
    partner_lookup_service_client::PartnerLookupServiceClient, partnership_service_client::PartnershipServiceClient,
};

use super::{DEMO_PASSWORD, DemoError, DemoSummary, Session, Step, identity::Directory};

/// partner-svc's base partner type of the seed's example.
const RESELLER: &str = "reseller";
/// The levels the seed's Reseller program climbs.
const LEVELS: [&str; 3] = ["Bronze", "Silver", "Platinum"];
const SELLER: &str = "paul.reyes@globex.example";

/// (key, company, contact, email, need).
const LEADS: [(&str, &str, &str, &str, &str); 3] = [
    ("initech", "Initech", "Bill Lumbergh", "bill@initech.example", "Service desk for 200 employees"),
    ("umbrella", "Umbrella Corporation", "Alice Abernathy", "alice@umbrella.example", "Customer portal for dealers"),
    ("hooli", "Hooli", "Gavin Belson", "gavin@hooli.example", "Partner portal pilot"),
];

/// (key, name, customer, amount in USD, stage, close state).
const OPPORTUNITIES: [(&str, &str, &str, &str, OpportunityStage, OpportunityCloseState); 2] = [
    ("initech", "Initech service desk", "Initech", "42000", OpportunityStage::Contracting, OpportunityCloseState::Won),
    (
        "umbrella",
        "Umbrella dealer portal",
        "Umbrella Corporation",
        "65000",
        OpportunityStage::Proposal,
        OpportunityCloseState::Open,
    ),
];

pub async fn load(admin: &Session, directory: &Directory, summary: &mut DemoSummary) -> Result<(), DemoError> {
    reseller_program(admin, summary).await?;
    let mut partnerships = PartnershipServiceClient::new(admin.channel.clone());
    let listed = partnerships
        .list_partnerships(admin.request(ListPartnershipsRequest {
            partner_account_id: directory.partner_account_id.clone(),
            ..Default::default()
        }))
        .await
        .step("partner: look up the Globex partnership")?;
    let partnership = match listed.partnerships.into_iter().next() {
        Some(partnership) => partnership,
        None => {
            let partnership = Partnership {
                partner_account_id: directory.partner_account_id.clone(),
                partner_type_id: RESELLER.into(),
                currency_code: "USD".into(),
                ..Default::default()
            };
            let request =
                CreatePartnershipRequest { partnership: Some(partnership), request_id: "demo-partnership".into() };
            partnerships.create_partnership(admin.request(request)).await.step("partner: the Globex partnership")?
        }
    };
    summary.partnership_id = partnership.id;
    let seller = Session::login(&admin.channel, directory.user(SELLER)?.email, DEMO_PASSWORD)
        .await
        .map_err(|status| DemoError::Call { step: format!("identity: log in as {SELLER}"), status })?;
    let mut leads = LeadServiceClient::new(seller.channel.clone());
    let mut lead_ids = Vec::new();
    for (key, company, contact, email, need) in LEADS {
        let lead = Lead {
            company_name: company.into(),
            contact_name: contact.into(),
            email: email.into(),
            need_description: need.into(),
            ..Default::default()
        };
        let request = CreateLeadRequest { lead: Some(lead), request_id: format!("demo-lead-{key}") };
        let lead = leads.create_lead(seller.request(request)).await.step(format!("partner: lead {company}"))?;
        lead_ids.push((key, lead.id));
    }
    summary.leads = lead_ids.len();
    let mut opportunities = OpportunityServiceClient::new(seller.channel.clone());
    for (key, name, customer, amount, stage, close_state) in OPPORTUNITIES {
        let lead_id = lead_ids.iter().find(|(lead, _)| *lead == key).map(|(_, id)| id.clone()).unwrap_or_default();
        let opportunity = Opportunity {
            lead_id,
            name: name.into(),
            customer_name: customer.into(),
            amount: Some(Money { amount: amount.into(), currency_code: "USD".into() }),
            stage: stage.into(),
            close_state: close_state.into(),
            ..Default::default()
        };
        let request =
            CreateOpportunityRequest { opportunity: Some(opportunity), request_id: format!("demo-opportunity-{key}") };
        opportunities.create_opportunity(seller.request(request)).await.step(format!("partner: opportunity {name}"))?;
    }
    summary.opportunities = OPPORTUNITIES.len();
    Ok(())
}

/// Checks that the Reseller levels are there (partner-svc's base lookups) and describes
/// them; the demo adds none of its own.
async fn reseller_program(admin: &Session, summary: &mut DemoSummary) -> Result<(), DemoError> {
    let mut lookups = PartnerLookupServiceClient::new(admin.channel.clone());
    let levels = lookups
        .list_partner_levels(admin.request(ListPartnerLevelsRequest {
            partner_type_id: RESELLER.into(),
            page_size: 100,
            ..Default::default()
        }))
        .await
        .step("partner: the Reseller levels")?
        .partner_levels;
    let parameters = lookups
        .list_level_parameters(admin.request(ListLevelParametersRequest {
            partner_type_id: RESELLER.into(),
            page_size: 100,
            ..Default::default()
        }))
        .await
        .step("partner: the Reseller obligations and benefits")?
        .level_parameters;
    for name in LEVELS {
        let level = levels
            .iter()
            .find(|l| l.name == name)
            .ok_or_else(|| DemoError::Missing(format!("partner-svc has no Reseller level {name}")))?;
        let of_level = || parameters.iter().filter(|p| p.partner_level_id == level.id);
        let obligations = of_level().filter(|p| !p.target_value.is_empty()).count();
        let benefits = of_level().filter(|p| !p.benefit_value.is_empty()).count();
        summary
            .partner_levels
            .push(format!("{name} ({} points, obligations: {obligations}, benefits: {benefits})", level.target_points));
    }
    Ok(())
}
