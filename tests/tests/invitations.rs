//! Invitations through the gateway (issue 4, DESIGN.md §3 "Invitations", "Tokens"): the
//! emailed link sets a password and logs in, once; it expires; resending revokes the old
//! link; of 20 parallel redemptions exactly one wins; without a password one is
//! generated. Emails travel identity's outbox → notify → a real SMTP server.

mod support {
    pub mod links;
}

use std::time::Duration;

use portal_proto::identity::{
    DeactivateUserRequest, GetInvitationRequest, InvitationRevokeReason, InvitationState, ListInvitationsRequest,
    RedeemInvitationRequest, RedeemInvitationResponse, ResendInvitationRequest, RevokeInvitationRequest,
    SendInvitationsRequest, Settings, invitation_service_client::InvitationServiceClient,
};
use portal_tests::{Mode, authed};
use support::links::{BASE, LinkSuite, MAILBOX, PASSWORD, PRODUCT, refusal, token_in};
use tonic::{Code, Status, transport::Channel};

link_tests!(clock: service_kit::clock::Clock::system();
    the_link_sets_a_password_logs_in_and_works_once,
    resending_revokes_the_old_link,
    of_twenty_parallel_redemptions_exactly_one_succeeds,
    without_a_password_one_is_generated_and_the_link_is_spent,
    sending_refuses_what_cannot_be_invited,
);
link_tests!(clock: portal_tests::manual_clock(); the_link_expires_after_its_lifetime);

fn invitations(suite: &LinkSuite) -> InvitationServiceClient<Channel> {
    InvitationServiceClient::new(suite.suite.channel())
}

async fn invite(suite: &LinkSuite, user_id: &str) -> portal_proto::identity::Invitation {
    let admin = suite.admin().await;
    let request = SendInvitationsRequest { user_ids: vec![user_id.into()], request_id: String::new() };
    let mut results = invitations(suite).send_invitations(authed(request, &admin)).await.unwrap().into_inner().results;
    let result = results.remove(0);
    assert_eq!(result.error, None);
    result.invitation.expect("an invitation")
}

async fn redeem(suite: &LinkSuite, token: &str, password: &str) -> Result<RedeemInvitationResponse, Status> {
    let request = RedeemInvitationRequest { token: token.into(), password: password.into() };
    invitations(suite).redeem_invitation(request).await.map(|r| r.into_inner())
}

async fn get(suite: &LinkSuite, id: &str) -> portal_proto::identity::Invitation {
    let admin = suite.admin().await;
    invitations(suite)
        .get_invitation(authed(GetInvitationRequest { id: id.into() }, &admin))
        .await
        .unwrap()
        .into_inner()
}

async fn the_link_sets_a_password_logs_in_and_works_once(suite: LinkSuite) {
    let user = suite.external("Ann.Invited@Example.com", PRODUCT, "").await.unwrap();
    let sent = invite(&suite, &user.id).await;
    assert_eq!((sent.state(), sent.email.as_str()), (InvitationState::Pending, "Ann.Invited@Example.com"));
    let mail = suite.wait_mail_to("Ann.Invited@Example.com", 1).await;
    if suite.suite.mode == Mode::AllInOne {
        // In the distributed test wiring notify starts before identity's address is known,
        // so it falls back to mail.from_address; all-in-one shows GetMailSettings at work.
        assert!(mail[0].from.contains(MAILBOX), "sent from the SSPRegistrationMailbox setting: {}", mail[0].from);
    }
    let token = token_in(&mail[0], "invitation");
    assert!(token.len() >= 22, "at least 128 bits: {token}");

    let unknown = redeem(&suite, "no-such-token", PASSWORD).await;
    assert_eq!(refusal(unknown), (Code::NotFound, "TOKEN_NOT_FOUND".into()));
    let weak = redeem(&suite, &token, "short").await.unwrap_err();
    assert_eq!((weak.code(), support::links::reason(&weak)), (Code::InvalidArgument, "PASSWORD_TOO_SHORT".into()));

    let redeemed = redeem(&suite, &token, PASSWORD).await.expect("the refused password did not spend the link");
    assert_eq!((redeemed.user_id.as_str(), redeemed.generated_password.as_str()), (user.id.as_str(), ""));
    let session = redeemed.session.expect("the user is logged in");
    assert!(suite.session_works(&session.token).await);
    suite.suite.login("ann.invited@example.com", PASSWORD).await.expect("the password was set");

    let again = redeem(&suite, &token, "another long password").await;
    assert_eq!(refusal(again), (Code::FailedPrecondition, "TOKEN_ALREADY_USED".into()));
    let accepted = get(&suite, &sent.id).await;
    assert_eq!(accepted.state(), InvitationState::Accepted);
    assert!(accepted.accept_time.is_some() && !accepted.password_generated);
}

async fn resending_revokes_the_old_link(suite: LinkSuite) {
    let user = suite.external("bob@example.com", PRODUCT, "").await.unwrap();
    let first = invite(&suite, &user.id).await;
    let old_token = suite.token("bob@example.com", "invitation", 1).await;
    let admin = suite.admin().await;
    let request = ResendInvitationRequest { id: first.id.clone() };
    let second = invitations(&suite).resend_invitation(authed(request, &admin)).await.unwrap().into_inner();
    let second = second.invitation.unwrap();
    assert_ne!(second.id, first.id);
    let new_token = suite.token("bob@example.com", "invitation", 2).await;
    assert_ne!(new_token, old_token);

    assert_eq!(refusal(redeem(&suite, &old_token, PASSWORD).await), (Code::FailedPrecondition, "TOKEN_REVOKED".into()));
    let old = get(&suite, &first.id).await;
    assert_eq!(
        (old.state(), old.revoke_reason(), old.replaced_by_invitation_id.as_str()),
        (InvitationState::Revoked, InvitationRevokeReason::Replaced, second.id.as_str())
    );
    redeem(&suite, &new_token, PASSWORD).await.expect("the new link works");

    // An administrator's revocation stops a link too, and listing shows every state.
    let carol = suite.external("carol@example.com", PRODUCT, "").await.unwrap();
    let third = invite(&suite, &carol.id).await;
    let carol_token = suite.token("carol@example.com", "invitation", 1).await;
    let revoked = invitations(&suite)
        .revoke_invitation(authed(RevokeInvitationRequest { id: third.id.clone() }, &admin))
        .await
        .unwrap()
        .into_inner()
        .invitation
        .unwrap();
    assert_eq!(revoked.revoke_reason(), InvitationRevokeReason::ByAdministrator);
    assert_eq!(refusal(redeem(&suite, &carol_token, PASSWORD).await).1, "TOKEN_REVOKED");
    let listed = invitations(&suite)
        .list_invitations(authed(ListInvitationsRequest { page_size: 2, ..Default::default() }, &admin))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.invitations.len(), 2, "newest first, two per page");
    assert_eq!(listed.invitations[0].id, third.id);
    let request = ListInvitationsRequest { page_token: listed.next_page_token, ..Default::default() };
    let rest = invitations(&suite).list_invitations(authed(request, &admin)).await.unwrap().into_inner();
    assert_eq!(rest.invitations.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(), [first.id.as_str()]);
    let accepted = ListInvitationsRequest { states: vec![InvitationState::Accepted.into()], ..Default::default() };
    let accepted = invitations(&suite).list_invitations(authed(accepted, &admin)).await.unwrap().into_inner();
    assert_eq!(accepted.invitations.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(), [second.id.as_str()]);
}

async fn of_twenty_parallel_redemptions_exactly_one_succeeds(suite: LinkSuite) {
    let user = suite.external("dave@example.com", PRODUCT, "").await.unwrap();
    invite(&suite, &user.id).await;
    let token = suite.token("dave@example.com", "invitation", 1).await;
    let attempts: Vec<_> = (0..20)
        .map(|i| {
            let channel = suite.suite.channel();
            let token = token.clone();
            tokio::spawn(async move {
                let request = RedeemInvitationRequest { token, password: format!("parallel password number {i}") };
                InvitationServiceClient::new(channel).redeem_invitation(request).await.map(|r| r.into_inner())
            })
        })
        .collect();
    let mut winners = Vec::new();
    for (i, attempt) in attempts.into_iter().enumerate() {
        match attempt.await.unwrap() {
            Ok(_) => winners.push(i),
            Err(status) => {
                assert_eq!(
                    (status.code(), support::links::reason(&status)),
                    (Code::FailedPrecondition, "TOKEN_ALREADY_USED".into())
                )
            }
        }
    }
    assert_eq!(winners.len(), 1, "exactly one redemption wins: {winners:?}");
    let password = format!("parallel password number {}", winners[0]);
    suite.suite.login("dave@example.com", &password).await.expect("the winner's password is the one set");
}

async fn without_a_password_one_is_generated_and_the_link_is_spent(suite: LinkSuite) {
    let user = suite.external("erin@example.com", PRODUCT, "").await.unwrap();
    let sent = invite(&suite, &user.id).await;
    let token = suite.token("erin@example.com", "invitation", 1).await;
    let redeemed = redeem(&suite, &token, "").await.unwrap();
    assert!(redeemed.generated_password.chars().count() >= 12, "{}", redeemed.generated_password);
    assert!(suite.session_works(&redeemed.session.unwrap().token).await);
    suite.suite.login("erin@example.com", &redeemed.generated_password).await.expect("the generated password works");
    assert_eq!(refusal(redeem(&suite, &token, "").await).1, "TOKEN_ALREADY_USED");
    assert!(get(&suite, &sent.id).await.password_generated);
}

async fn sending_refuses_what_cannot_be_invited(suite: LinkSuite) {
    let admin = suite.admin().await;
    let frank = suite.external("frank@example.com", PRODUCT, PASSWORD).await.unwrap();
    let gone = suite.external("gone@example.com", PRODUCT, "").await.unwrap();
    let mut users = portal_proto::identity::user_service_client::UserServiceClient::new(suite.suite.channel());
    let request = DeactivateUserRequest { id: gone.id.clone(), ..Default::default() };
    users.deactivate_user(authed(request, &admin)).await.unwrap();
    let request = SendInvitationsRequest {
        user_ids: vec![frank.id.clone(), "no-such-user".into(), gone.id.clone()],
        request_id: "send-1".into(),
    };
    let results = invitations(&suite).send_invitations(authed(request.clone(), &admin)).await.unwrap().into_inner();
    let outcome: Vec<_> = results
        .results
        .iter()
        .map(|r| (r.invitation.is_some(), r.error.as_ref().map(|e| (e.code, e.reason.clone()))))
        .collect();
    assert_eq!(
        outcome,
        [
            (true, None),
            (false, Some((Code::NotFound as i32, String::new()))),
            (false, Some((9, "USER_INACTIVE".into())))
        ]
    );
    let retried = invitations(&suite).send_invitations(authed(request, &admin)).await.unwrap().into_inner();
    assert_eq!(retried.results[0].invitation.as_ref().unwrap().id, results.results[0].invitation.as_ref().unwrap().id);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(suite.mail_to("frank@example.com").len(), 1, "a retried request_id sends nothing twice");

    // A plain user may not invite; without a mailbox nobody can.
    let frank_token = suite.suite.login("frank@example.com", PASSWORD).await.unwrap();
    let request = SendInvitationsRequest { user_ids: vec![frank.id.clone()], request_id: String::new() };
    let denied = invitations(&suite).send_invitations(authed(request.clone(), &frank_token)).await;
    assert_eq!(refusal(denied).0, Code::PermissionDenied);
    suite
        .settings(
            Settings { ssp_registration_mailbox: String::new(), ..Default::default() },
            &["ssp_registration_mailbox"],
        )
        .await;
    let refused = invitations(&suite).send_invitations(authed(request, &admin)).await;
    assert_eq!(refusal(refused), (Code::FailedPrecondition, "MAILBOX_NOT_CONFIGURED".into()));
}

async fn the_link_expires_after_its_lifetime(suite: LinkSuite) {
    let user = suite.external("gina@example.com", PRODUCT, "").await.unwrap();
    let sent = invite(&suite, &user.id).await;
    let token = suite.token("gina@example.com", "invitation", 1).await;
    let lifetime = sent.expire_time.unwrap().seconds - sent.create_time.unwrap().seconds;
    assert_eq!(lifetime, 72 * 3600, "the default lifetime");
    suite.suite.clock.advance(Duration::from_secs(72 * 3600 + 1));
    assert_eq!(refusal(redeem(&suite, &token, PASSWORD).await), (Code::FailedPrecondition, "TOKEN_EXPIRED".into()));
    assert_eq!(get(&suite, &sent.id).await.state(), InvitationState::Expired);
    assert!(BASE.starts_with("https://"));
}
