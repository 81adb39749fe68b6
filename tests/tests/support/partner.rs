//! Partner fixtures for the partner tests: partner organizations with users who hold
//! (or lack) "Partner portal users", clients of the partner services, and small
//! builders for leads and opportunities.

#![allow(dead_code)]

use portal_proto::{
    identity::AccountType,
    partner::{
        CreateLeadRequest, CreateOpportunityRequest, CreatePartnershipRequest, Lead, Money, Opportunity,
        OpportunityCloseState, OpportunityStage, Partnership, lead_service_client::LeadServiceClient,
        opportunity_service_client::OpportunityServiceClient,
        partner_lookup_service_client::PartnerLookupServiceClient,
        partner_program_service_client::PartnerProgramServiceClient,
        partnership_service_client::PartnershipServiceClient,
    },
};
use portal_tests::{Suite, authed, fixtures};
use tonic::{Status, transport::Channel};

/// The identity role every partner user needs for the partner program.
pub const PARTNER_PORTAL_USERS: &str = "partner-portal-users";

/// A partner company as the tests use it.
pub struct Partner {
    pub account_id: String,
    pub organization_id: String,
    /// A member with "Partner portal users".
    pub user_id: String,
    /// That member's contact.
    pub contact_id: String,
    pub token: String,
    /// A member without the role.
    pub plain_token: String,
}

/// A partner account, its organization under "Partners", a member with the role and
/// one without.
pub async fn partner(suite: &Suite, admin: &str, name: &str) -> Partner {
    let organization = fixtures::organization(suite, admin, name, AccountType::Partner).await;
    assert_eq!(organization.parent_role_id, "partners", "a partner's organization sits under Partners");
    let slug = name.to_lowercase().replace(' ', "-");
    let (user, token) =
        fixtures::member(suite, admin, &organization.id, &format!("seller@{slug}.example"), false).await;
    let (_, plain_token) =
        fixtures::member(suite, admin, &organization.id, &format!("other@{slug}.example"), false).await;
    fixtures::add_to_role(suite, admin, PARTNER_PORTAL_USERS, &[&user.id]).await;
    Partner {
        account_id: organization.account_id,
        organization_id: organization.id,
        user_id: user.id,
        contact_id: user.contact_id,
        token,
        plain_token,
    }
}

pub fn lookups(suite: &Suite) -> PartnerLookupServiceClient<Channel> {
    PartnerLookupServiceClient::new(suite.channel())
}

pub fn partnerships(suite: &Suite) -> PartnershipServiceClient<Channel> {
    PartnershipServiceClient::new(suite.channel())
}

pub fn programs(suite: &Suite) -> PartnerProgramServiceClient<Channel> {
    PartnerProgramServiceClient::new(suite.channel())
}

pub fn leads(suite: &Suite) -> LeadServiceClient<Channel> {
    LeadServiceClient::new(suite.channel())
}

pub fn opportunities(suite: &Suite) -> OpportunityServiceClient<Channel> {
    OpportunityServiceClient::new(suite.channel())
}

/// A reseller partnership starting today, made by staff.
pub async fn reseller_partnership(suite: &Suite, admin: &str, partner: &Partner) -> Result<Partnership, Status> {
    let partnership = Partnership {
        partner_account_id: partner.account_id.clone(),
        partner_type_id: "reseller".into(),
        ..Default::default()
    };
    let request = CreatePartnershipRequest { partnership: Some(partnership), request_id: String::new() };
    partnerships(suite).create_partnership(authed(request, admin)).await.map(|r| r.into_inner())
}

/// A lead for `company`, registered with `token`.
pub async fn lead(suite: &Suite, token: &str, company: &str, email: &str) -> Result<Lead, Status> {
    let lead = Lead { company_name: company.into(), email: email.into(), ..Default::default() };
    leads(suite)
        .create_lead(authed(CreateLeadRequest { lead: Some(lead), request_id: String::new() }, token))
        .await
        .map(|r| r.into_inner())
}

/// An opportunity of `amount` USD in `state`, created with `token`.
pub async fn opportunity(
    suite: &Suite,
    token: &str,
    name: &str,
    amount: &str,
    state: OpportunityCloseState,
) -> Result<Opportunity, Status> {
    let opportunity = Opportunity {
        name: name.into(),
        amount: Some(Money { amount: amount.into(), currency_code: "USD".into() }),
        stage: OpportunityStage::Contracting.into(),
        close_state: state.into(),
        ..Default::default()
    };
    let request = CreateOpportunityRequest { opportunity: Some(opportunity), request_id: String::new() };
    opportunities(suite).create_opportunity(authed(request, token)).await.map(|r| r.into_inner())
}

pub use portal_tests::error_reason as reason;
