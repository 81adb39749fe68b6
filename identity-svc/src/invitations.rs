//! The invitation use cases: send (and resend, which revokes the previous link), read,
//! list, revoke, and redeem a link (set or generate the password, spend the link, log
//! in). Each change is one transaction with its audit event and, when it sends email,
//! its outbox row.

use service_kit::{Caller, clock::Clock, secrets};

use crate::{
    auth::{Auth, OpenedSession},
    authority::Authority,
    domain::{
        IdentityError, email,
        password::PasswordHasher,
        password_policy,
        tokens::{GENERATED_PASSWORD_BYTES, Purpose, TokenState},
        user::UserKind,
    },
    mail_outbox::Mailer,
    storage::{AuditEntry, InvitationFilter, InvitationRecord, NewInvitation, Store},
    system_settings::SystemSettings,
    tokens::{self, Binding, LinkEmail},
};

/// How a failed item of SendInvitations is reported: as the error it would have been
/// as a call of its own.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ItemFailure {
    pub code: i32,
    pub reason: String,
    pub message: String,
}

impl From<IdentityError> for ItemFailure {
    fn from(error: IdentityError) -> Self {
        use tonic_types::StatusExt;
        let status = tonic::Status::from(error);
        Self {
            code: status.code() as i32,
            reason: status.get_details_error_info().map(|info| info.reason).unwrap_or_default(),
            message: status.message().to_owned(),
        }
    }
}

/// What SendInvitations did for one user.
#[derive(Debug, Clone)]
pub struct SendOutcome {
    pub user_id: String,
    pub result: Result<InvitationRecord, ItemFailure>,
}

/// What a retried SendInvitations returns: the first call's outcome per user.
#[derive(serde::Serialize, serde::Deserialize)]
struct Remembered {
    user_id: String,
    invitation_id: Option<String>,
    failure: Option<ItemFailure>,
}

/// A redeemed invitation.
#[derive(Debug, Clone)]
pub struct Redeemed {
    pub user_id: String,
    pub email: String,
    pub generated_password: String,
    pub session: OpenedSession,
}

const IDEMPOTENCY_SCOPE: &str = "invitation.send";

/// The invitation use cases.
#[derive(Debug, Clone)]
pub struct Invitations {
    store: Store,
    auth: Auth,
    hasher: PasswordHasher,
    settings: SystemSettings,
    clock: Clock,
    mailer: Mailer,
    authority: Authority,
}

fn snapshot(invitation: &InvitationRecord) -> String {
    serde_json::json!({
        "id": invitation.id,
        "user_id": invitation.user_id,
        "email": invitation.email,
        "organization_id": invitation.organization_id,
        "expires_at": invitation.expires_at,
    })
    .to_string()
}

impl Invitations {
    pub fn new(
        store: Store,
        auth: Auth,
        hasher: PasswordHasher,
        settings: SystemSettings,
        clock: Clock,
        mailer: Mailer,
        authority: Authority,
    ) -> Self {
        Self { store, auth, hasher, settings, clock, mailer, authority }
    }

    /// Refuses callers who may not invite anyone: only system administrators and
    /// organization administrators (for their own organization) invite.
    async fn inviter(&self, caller: &Caller) -> Result<crate::domain::authority::Actor, IdentityError> {
        let actor = self.authority.actor(caller).await?;
        if actor.caller.system_administrator || actor.organization_administrator {
            Ok(actor)
        } else {
            Err(IdentityError::NotAllowed(
                "only system administrators and organization administrators manage invitations",
            ))
        }
    }

    /// The settings in force, refused with MAILBOX_NOT_CONFIGURED while no sender is set.
    async fn mail_settings(&self) -> Result<crate::domain::settings::Effective, IdentityError> {
        let settings = self.settings.current().await?;
        if settings.stored.ssp_registration_mailbox.trim().is_empty() {
            return Err(IdentityError::Refused(
                "MAILBOX_NOT_CONFIGURED",
                "invitations need a sender: set the SSPRegistrationMailbox setting (ssp_registration_mailbox) first"
                    .into(),
            ));
        }
        Ok(settings)
    }

    /// For callers that create users and invite them in one call (CreateUser,
    /// AddUsersByEmail): refuses with MAILBOX_NOT_CONFIGURED before anything is created.
    pub async fn check_mailbox(&self) -> Result<(), IdentityError> {
        self.mail_settings().await.map(drop)
    }

    /// Invites one user just created by `caller`, exactly as SendInvitations would.
    pub async fn invite(&self, caller: &Caller, user_id: &str) -> Result<InvitationRecord, IdentityError> {
        let actor = self.inviter(caller).await?;
        let settings = self.mail_settings().await?;
        self.invite_one(&actor, &settings, user_id).await
    }

    /// The invitation `id` if the caller may see it; NOT_FOUND otherwise.
    pub async fn get(&self, caller: &Caller, id: &str) -> Result<InvitationRecord, IdentityError> {
        let actor = self.inviter(caller).await?;
        self.store
            .invitation(id)
            .await?
            .filter(|invitation| actor.caller.system_administrator || actor.administers(&invitation.organization_id))
            .ok_or_else(|| IdentityError::NotFound("invitation", id.to_owned()))
    }

    /// A page of the invitations the caller may see, newest first.
    pub async fn list(
        &self,
        caller: &Caller,
        mut filter: InvitationFilter,
        limit: i64,
    ) -> Result<Vec<InvitationRecord>, IdentityError> {
        let actor = self.inviter(caller).await?;
        if !actor.caller.system_administrator {
            let own = actor.organization_id.clone().unwrap_or_default();
            if !filter.organization_id.is_empty() && filter.organization_id != own {
                return Err(IdentityError::NotFound("organization", filter.organization_id));
            }
            filter.organization_id = own;
        }
        filter.now = self.clock.now();
        self.store.invitations(&filter, limit).await
    }

    /// Sends an invitation to each user; a failing user does not stop the others.
    pub async fn send(
        &self,
        caller: &Caller,
        user_ids: &[String],
        request_id: &str,
    ) -> Result<Vec<SendOutcome>, IdentityError> {
        let actor = self.inviter(caller).await?;
        let key = (!request_id.is_empty()).then(|| format!("{}/{}", caller.user_id, request_id));
        if let Some(key) = &key
            && let Some(first) = self.store.idempotent_result(IDEMPOTENCY_SCOPE, key).await?
        {
            return self.replay(&first).await;
        }
        // Naming only users the caller may not reach tells nothing about them (NOT_FOUND);
        // otherwise each user gets an outcome of their own.
        let mut reachable = false;
        for user_id in user_ids {
            if self.store.user(user_id).await?.is_some_and(|user| actor.may_read_user(user.as_target())) {
                reachable = true;
                break;
            }
        }
        if !reachable {
            return Err(IdentityError::UserNotFound(user_ids.first().cloned().unwrap_or_default()));
        }
        let settings = self.mail_settings().await?;
        let mut outcomes = Vec::with_capacity(user_ids.len());
        for user_id in user_ids {
            let result = match self.invite_one(&actor, &settings, user_id).await {
                Ok(invitation) => Ok(invitation),
                Err(error @ IdentityError::Store(_)) => return Err(error),
                Err(error) => Err(ItemFailure::from(error)),
            };
            outcomes.push(SendOutcome { user_id: user_id.clone(), result });
        }
        if let Some(key) = &key {
            let remembered: Vec<Remembered> = outcomes
                .iter()
                .map(|o| Remembered {
                    user_id: o.user_id.clone(),
                    invitation_id: o.result.as_ref().ok().map(|i| i.id.clone()),
                    failure: o.result.as_ref().err().cloned(),
                })
                .collect();
            let json = serde_json::to_string(&remembered).map_err(|e| IdentityError::Corrupt(e.to_string()))?;
            let mut tx = self.store.begin().await?;
            Store::remember_result(&mut tx, IDEMPOTENCY_SCOPE, key, &json, self.clock.now()).await?;
            tx.commit().await?;
        }
        Ok(outcomes)
    }

    async fn replay(&self, first: &str) -> Result<Vec<SendOutcome>, IdentityError> {
        let remembered: Vec<Remembered> =
            serde_json::from_str(first).map_err(|e| IdentityError::Corrupt(e.to_string()))?;
        let mut outcomes = Vec::with_capacity(remembered.len());
        for item in remembered {
            let result = match (item.invitation_id, item.failure) {
                (Some(id), _) => Ok(self
                    .store
                    .invitation(&id)
                    .await?
                    .ok_or_else(|| IdentityError::Corrupt(format!("remembered invitation {id} is gone")))?),
                (None, failure) => Err(failure.unwrap_or(ItemFailure {
                    code: tonic::Code::Internal as i32,
                    reason: String::new(),
                    message: "the first attempt failed".into(),
                })),
            };
            outcomes.push(SendOutcome { user_id: item.user_id, result });
        }
        Ok(outcomes)
    }

    /// Resends the invitation of the user of invitation `id`, whatever its state.
    pub async fn resend(&self, caller: &Caller, id: &str) -> Result<InvitationRecord, IdentityError> {
        let earlier = self.get(caller, id).await?;
        let actor = self.inviter(caller).await?;
        let settings = self.mail_settings().await?;
        self.invite_one(&actor, &settings, &earlier.user_id).await
    }

    /// Invites one user: revokes their live invitation (REPLACED), stores the new one
    /// with its token and email, and the audit event, in one transaction.
    async fn invite_one(
        &self,
        actor: &crate::domain::authority::Actor,
        settings: &crate::domain::settings::Effective,
        user_id: &str,
    ) -> Result<InvitationRecord, IdentityError> {
        let user = self
            .store
            .user(user_id)
            .await?
            .filter(|user| actor.may_read_user(user.as_target()))
            .ok_or_else(|| IdentityError::UserNotFound(user_id.to_owned()))?;
        if !actor.may_manage_user(user.as_target()) {
            return Err(IdentityError::NotAllowed(if user.kind() == UserKind::Employee {
                "only system administrators invite employees"
            } else {
                "you may invite only the users of your own organization"
            }));
        }
        if !user.is_active() {
            return Err(IdentityError::Refused(
                "USER_INACTIVE",
                format!("user '{user_id}' is deactivated: reactivate them first"),
            ));
        }
        if !user.may_log_in() {
            return Err(IdentityError::Refused(
                "NO_LICENCE",
                format!("user '{user_id}' holds no licence seat: assign one first (LicenceService.AssignLicence)"),
            ));
        }
        let email_normalized = email::normalize(&user.email).map_err(IdentityError::Corrupt)?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let replaced =
            Store::revoke_live_tokens(&mut tx, Purpose::Invitation, Some(&user.id), &email_normalized, "replaced", now)
                .await?;
        let issued = tokens::issue(
            &mut tx,
            Binding {
                purpose: Purpose::Invitation,
                user_id: Some(&user.id),
                email_normalized: &email_normalized,
                lifetime_seconds: settings.stored.invitation_token_lifetime,
            },
            &settings.public_base_url,
            LinkEmail {
                recipient_email: &user.email,
                recipient_name: &user.full_name,
                culture: &user.culture,
                template_code: &settings.stored.portal_invitation_email_template,
                link_macro: crate::domain::settings::INVITATION_LINK_MACRO,
            },
            now,
        )
        .await?;
        let organization_id = user.organization_id.clone().unwrap_or_default();
        Store::insert_invitation(
            &mut tx,
            &NewInvitation {
                id: &issued.token_id,
                user_id: &user.id,
                email: &user.email,
                organization_id: &organization_id,
                sent_by_user_id: &actor.caller.user_id,
                outbox_id: &issued.outbox_id,
            },
            now,
        )
        .await?;
        Store::mark_replaced(&mut tx, &replaced, &issued.token_id).await?;
        Store::record_audit(
            &mut tx,
            AuditEntry {
                actor: &actor.caller,
                action: if replaced.is_empty() { "invitation.send" } else { "invitation.resend" },
                resource_type: "invitation",
                resource_id: &issued.token_id,
                organization_id: &organization_id,
                before_json: if replaced.is_empty() {
                    String::new()
                } else {
                    serde_json::json!({ "revoked_invitation_ids": replaced }).to_string()
                },
                after_json: serde_json::json!({
                    "id": issued.token_id, "user_id": user.id, "email": user.email,
                    "expires_at": now + settings.stored.invitation_token_lifetime * 1000,
                })
                .to_string(),
                request_id: "",
            },
            now,
        )
        .await?;
        tx.commit().await?;
        self.mailer.wake();
        self.store.invitation(&issued.token_id).await?.ok_or(IdentityError::NotFound("invitation", issued.token_id))
    }

    /// Revokes a pending invitation; a revoked one is returned unchanged.
    pub async fn revoke(&self, caller: &Caller, id: &str) -> Result<InvitationRecord, IdentityError> {
        let invitation = self.get(caller, id).await?;
        let now = self.clock.now();
        match invitation.state(now) {
            TokenState::Revoked => return Ok(invitation),
            TokenState::Consumed | TokenState::Expired => {
                return Err(IdentityError::Refused(
                    "INVITATION_NOT_PENDING",
                    "only a pending invitation can be revoked; this one was accepted or has expired".into(),
                ));
            }
            TokenState::Live => {}
        }
        let mut tx = self.store.begin().await?;
        if Store::revoke_token(&mut tx, id, "by_administrator", now).await? {
            Store::record_audit(
                &mut tx,
                AuditEntry {
                    actor: caller,
                    action: "invitation.revoke",
                    resource_type: "invitation",
                    resource_id: id,
                    organization_id: &invitation.organization_id,
                    before_json: snapshot(&invitation),
                    after_json: serde_json::json!({ "state": "revoked" }).to_string(),
                    request_id: "",
                },
                now,
            )
            .await?;
            tx.commit().await?;
        } else {
            // Accepted, expired or revoked meanwhile: report what it is now.
            drop(tx);
            let current = self.get(caller, id).await?;
            if current.state(self.clock.now()) != TokenState::Revoked {
                return Err(IdentityError::Refused(
                    "INVITATION_NOT_PENDING",
                    "only a pending invitation can be revoked; this one was accepted or has expired".into(),
                ));
            }
        }
        self.get(caller, id).await
    }

    /// Redeems an invitation link: sets the given password (or generates one), spends the
    /// link, ends the user's other sessions and logs them in.
    pub async fn redeem(&self, token: &str, password: &str, client_address: &str) -> Result<Redeemed, IdentityError> {
        let record = tokens::find(&self.store, Purpose::Invitation, token, client_address, self.clock.now()).await?;
        record.state(self.clock.now()).usable(Purpose::Invitation)?;
        let user = tokens::holder(&self.store, &record, Purpose::Invitation).await?;
        let generated = password.is_empty();
        let password = if generated { secrets::random_token(GENERATED_PASSWORD_BYTES) } else { password.to_owned() };
        // A refused password does not spend the link: the user tries again.
        password_policy::check(&password, &user.email)
            .map_err(|rejection| IdentityError::PasswordRejected { field: "password", rejection })?;
        let hash = self.hasher.hash(&password).await?;
        let now = self.clock.now();
        let actor = tokens::acting_as(&user, client_address);
        let mut tx = self.store.begin().await?;
        if !Store::consume_token(&mut tx, &record.id, now).await? {
            drop(tx);
            return Err(tokens::refusal_after_race(&self.store, &record, now).await);
        }
        Store::set_password_hash(&mut tx, &user.id, &hash, now).await?;
        Store::set_password_generated(&mut tx, &record.id, generated).await?;
        let ended = Store::end_user_sessions(&mut tx, &user.id, "", "invitation_accepted", now).await?;
        Store::record_audit(
            &mut tx,
            AuditEntry {
                actor: &actor,
                action: "invitation.accept",
                resource_type: "invitation",
                resource_id: &record.id,
                organization_id: user.organization_id.as_deref().unwrap_or_default(),
                before_json: String::new(),
                after_json: serde_json::json!({
                    "user_id": user.id, "password_generated": generated, "ended_sessions": ended,
                })
                .to_string(),
                request_id: "",
            },
            now,
        )
        .await?;
        tx.commit().await?;
        let settings = self.settings.current().await?;
        let session = self.auth.open_session(&settings, user.id.clone()).await?;
        Ok(Redeemed {
            user_id: user.id,
            email: user.email,
            generated_password: if generated { password } else { String::new() },
            session,
        })
    }
}
