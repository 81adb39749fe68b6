//! "Add users by email" with invitations, through the gateway to a real SMTP server
//! (issue 4: the bulk add's invitations are sent on request and found at the server).

mod support {
    pub mod links;
}

use portal_proto::identity::{
    Account, AccountType, AddUserByEmailOutcome, AddUsersByEmailRequest, CreateAccountRequest,
    CreateOrganizationRequest, Organization, account_service_client::AccountServiceClient,
    organization_service_client::OrganizationServiceClient, user_service_client::UserServiceClient,
};
use portal_tests::authed;
use support::links::{LinkSuite, PASSWORD, PRODUCT, token_in};

link_tests!(clock: service_kit::clock::Clock::system();
    bulk_added_users_are_invited_and_can_set_their_password,
    a_user_created_with_an_invitation_loses_it_on_deactivation,
);

async fn bulk_added_users_are_invited_and_can_set_their_password(suite: LinkSuite) {
    let admin = suite.admin().await;
    let account = Account { name: "Umbrella".into(), r#type: AccountType::Customer.into(), ..Default::default() };
    let account = AccountServiceClient::new(suite.suite.channel())
        .create_account(authed(CreateAccountRequest { account: Some(account), request_id: String::new() }, &admin))
        .await
        .unwrap()
        .into_inner();
    let organization = OrganizationServiceClient::new(suite.suite.channel())
        .create_organization(authed(
            CreateOrganizationRequest {
                organization: Some(Organization { account_id: account.id, ..Default::default() }),
                request_id: String::new(),
            },
            &admin,
        ))
        .await
        .unwrap()
        .into_inner();
    let request = AddUsersByEmailRequest {
        organization_id: organization.id,
        emails: vec!["a@x.com".into(), "Bad Address".into(), "b@x.com".into(), "A@X.com".into()],
        licence_product_id: PRODUCT.into(),
        send_invitations: true,
        ..Default::default()
    };
    let results = UserServiceClient::new(suite.suite.channel())
        .add_users_by_email(authed(request, &admin))
        .await
        .unwrap()
        .into_inner()
        .results;
    let created: Vec<_> =
        results.iter().filter(|r| r.outcome() == AddUserByEmailOutcome::CreatedWithNewContact).collect();
    assert_eq!(created.len(), 2);
    assert!(created.iter().all(|r| !r.invitation_id.is_empty() && r.error.is_none()), "{results:?}");
    for address in ["a@x.com", "b@x.com"] {
        let mail = suite.wait_mail_to(address, 1).await;
        assert_eq!(mail.len(), 1, "one invitation to {address}");
        let token = token_in(&mail[0], "invitation");
        let mut invitations =
            portal_proto::identity::invitation_service_client::InvitationServiceClient::new(suite.suite.channel());
        let redeemed = invitations
            .redeem_invitation(portal_proto::identity::RedeemInvitationRequest { token, password: PASSWORD.into() })
            .await
            .unwrap()
            .into_inner();
        assert!(redeemed.session.is_some());
        suite.suite.login(address, PASSWORD).await.expect("the invited user logs in");
    }
    assert!(suite.mail_to("bad address").is_empty());
}

async fn a_user_created_with_an_invitation_loses_it_on_deactivation(suite: LinkSuite) {
    use portal_proto::identity::{
        CreateUserRequest, DeactivateUserRequest, InvitationState, ListInvitationsRequest, User, UserKind,
        invitation_service_client::InvitationServiceClient,
    };
    let admin = suite.admin().await;
    let mut users = UserServiceClient::new(suite.suite.channel());
    let request = CreateUserRequest {
        user: Some(User { email: "invited@example.com".into(), kind: UserKind::External.into(), ..Default::default() }),
        licence_product_id: PRODUCT.into(),
        send_invitation: true,
        ..Default::default()
    };
    let user = users.create_user(authed(request, &admin)).await.unwrap().into_inner();
    let mail = suite.wait_mail_to("invited@example.com", 1).await;
    let token = token_in(&mail[0], "invitation");
    let request = DeactivateUserRequest { id: user.id.clone(), ..Default::default() };
    users.deactivate_user(authed(request, &admin)).await.unwrap();
    let mut invitations = InvitationServiceClient::new(suite.suite.channel());
    let listed = invitations
        .list_invitations(authed(ListInvitationsRequest { user_id: user.id.clone(), ..Default::default() }, &admin))
        .await
        .unwrap()
        .into_inner()
        .invitations;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].state(), InvitationState::Revoked, "deactivation revokes the pending invitation");
    let refused = invitations
        .redeem_invitation(portal_proto::identity::RedeemInvitationRequest { token, password: PASSWORD.into() })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::FailedPrecondition);
}
