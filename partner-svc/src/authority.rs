//! Who the caller is to the partner program and what it may do: the one place
//! partner-svc decides access. Every decision goes through access-svc
//! (`service_kit::access`): object operations with `Check` (and the record for single
//! records, so another partner's record is NOT_FOUND), lists through `RecordFilter`
//! pushed into SQL over the local grant replica, and `RegisterRecord` for new leads and
//! opportunities so the default rule (readable by the author's organization) applies.
//!
//! Object codes: "Partnership" (the program and the lookups; READ is granted to
//! "Partner portal users", CRUD to employees), "Lead" and "Opportunity" (record
//! permissions). Once access allows, the caller becomes an [`Actor`]: staff for
//! employees, or a partner user acting for the partner account its organization (under
//! "Partners") is bound to, as identity reports it.

use portal_proto::identity::{self as idpb, identity_internal_service_client::IdentityInternalServiceClient};
use service_kit::{
    ApiError, Caller, CallerKind, ServiceContext, access::AccessClient, assertion::AssertionKey,
    context::SignedUpstream, db::Database, registrations::Registrations,
};

use crate::{domain::PartnerError, storage::Scope};

/// What access decides on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Object {
    /// Partnerships, the partner program and the lookups that define it.
    Partnership,
    Lead,
    Opportunity,
}

impl Object {
    pub fn code(self) -> &'static str {
        match self {
            Object::Partnership => "Partnership",
            Object::Lead => "Lead",
            Object::Opportunity => "Opportunity",
        }
    }

    fn resource(self) -> &'static str {
        match self {
            Object::Partnership => "partnership",
            Object::Lead => "lead",
            Object::Opportunity => "opportunity",
        }
    }
}

pub use portal_proto::access::ObjectOperation as Operation;

/// A caller acting on the partner program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// An employee.
    Staff { user_id: String },
    /// A user of a partner organization.
    Partner(PartnerUser),
}

/// A partner user and the partner it acts for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerUser {
    pub user_id: String,
    pub organization_id: String,
    pub account_id: String,
}

impl Actor {
    pub fn user_id(&self) -> &str {
        match self {
            Actor::Staff { user_id } => user_id,
            Actor::Partner(partner) => &partner.user_id,
        }
    }

    pub fn is_staff(&self) -> bool {
        matches!(self, Actor::Staff { .. })
    }

    /// The partner account a partner user acts for; `None` for staff.
    pub fn own_account(&self) -> Option<&str> {
        match self {
            Actor::Staff { .. } => None,
            Actor::Partner(partner) => Some(&partner.account_id),
        }
    }
}

/// A partner company: an identity account of type Partner bound to an organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerAccount {
    pub account_id: String,
    pub organization_id: String,
    pub name: String,
}

/// Answers what a caller may do, through access and identity.
#[derive(Clone)]
pub struct Authority {
    context: ServiceContext,
    access: AccessClient,
    registrations: Registrations,
    database: Database,
}

impl std::fmt::Debug for Authority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authority").finish_non_exhaustive()
    }
}

fn upstream_error(what: &str, status: tonic::Status) -> PartnerError {
    PartnerError::Upstream(format!(
        "identity could not {what} ({}: {}); retry shortly",
        status.code(),
        status.message()
    ))
}

impl Authority {
    pub fn new(context: &ServiceContext, database: Database) -> Self {
        let access = AccessClient::new(context, "partner");
        let registrations = Registrations::new(access.clone(), database.clone(), context.clock.clone());
        Self { access, registrations, context: context.clone(), database }
    }

    fn identity(&self) -> Result<IdentityInternalServiceClient<SignedUpstream>, PartnerError> {
        let key: &AssertionKey = &self.context.assertion_key;
        let upstream = self
            .context
            .upstreams
            .signed("identity", key, "partner")
            .ok_or_else(|| PartnerError::Upstream("identity is not configured (upstreams.identity)".into()))?;
        Ok(IdentityInternalServiceClient::new(upstream))
    }

    /// Asks access whether the caller may do `operation` on `object` (the record
    /// `record_id`), and returns the caller as an actor. A record the caller may not
    /// reach is NOT_FOUND; anything else refused is PERMISSION_DENIED.
    pub async fn require(
        &self,
        caller: &Caller,
        object: Object,
        operation: Operation,
        record_id: Option<&str>,
    ) -> Result<Actor, PartnerError> {
        if !matches!(caller.kind, CallerKind::Employee | CallerKind::External) {
            return Err(PartnerError::Denied("NOT_ALLOWED", "this call needs a logged-in user".into()));
        }
        self.access.require(&caller.user_id, object.code(), operation, record_id, &[]).await.map_err(|e| match e {
            ApiError::NotFound { .. } => {
                PartnerError::NotFound(object.resource(), record_id.unwrap_or_default().to_owned())
            }
            other => PartnerError::Api(other),
        })?;
        match caller.kind {
            CallerKind::Employee => Ok(Actor::Staff { user_id: caller.user_id.clone() }),
            _ => self.partner_user(caller).await.map(Actor::Partner),
        }
    }

    /// As [`Authority::require`], for what only staff do (PERMISSION_DENIED for partner
    /// users even where access would let them).
    pub async fn staff(&self, caller: &Caller, object: Object, operation: Operation) -> Result<Actor, PartnerError> {
        if caller.kind != CallerKind::Employee {
            return Err(PartnerError::Denied(
                "NOT_ALLOWED",
                "only staff may do this; partner users may read it".into(),
            ));
        }
        self.require(caller, object, operation, None).await
    }

    async fn partner_user(&self, caller: &Caller) -> Result<PartnerUser, PartnerError> {
        let denied = || {
            PartnerError::Denied(
                "NOT_A_PARTNER_USER",
                "the partner program is for users of a partner organization; ask your administrator".into(),
            )
        };
        if caller.organization_id.is_empty() {
            return Err(denied());
        }
        let organizations = self
            .identity()?
            .batch_get_organizations(idpb::BatchGetOrganizationsRequest {
                organization_ids: vec![caller.organization_id.clone()],
            })
            .await
            .map_err(|status| upstream_error("read the caller's organization", status))?
            .into_inner();
        let organization = organizations.organizations.into_iter().next().filter(|o| o.partner).ok_or_else(denied)?;
        Ok(PartnerUser {
            user_id: caller.user_id.clone(),
            organization_id: organization.organization_id,
            account_id: organization.account_id,
        })
    }

    /// What a list of `object` may return to `actor`: access's record filter (with the
    /// grant replica brought up to date) and, for partner users, their own partner.
    pub async fn list_scope(&self, actor: &Actor, object: Object) -> Result<Scope, PartnerError> {
        let answer = self.access.record_filter(actor.user_id(), object.code(), Operation::Read).await?;
        let filter = answer.filter.unwrap_or_default();
        self.access.sync(&self.database, object.code(), filter.min_grants_revision).await?;
        Ok(Scope { object_code: object.code(), filter, partner_account_id: actor.own_account().map(str::to_owned) })
    }

    /// Registers a new record with access (its author and organization), so the default
    /// record rules apply, through the journal; the transaction storing the record settles
    /// it with `service_kit::registrations::settle`.
    pub async fn register(
        &self,
        object: Object,
        record_id: &str,
        author_user_id: &str,
        organization_id: &str,
    ) -> Result<(), PartnerError> {
        Ok(self.registrations.register(object.code(), record_id, author_user_id, organization_id).await?)
    }

    /// The journal of registrations, whose sweep the service runs.
    pub fn registrations(&self) -> Registrations {
        self.registrations.clone()
    }

    /// Removes a registered record that will not be stored from access (now, or by the
    /// sweep).
    pub async fn abandon(&self, object: Object, record_id: &str) {
        self.registrations.abandon(object.code(), record_id).await
    }

    /// Unregisters a deleted record; a failure is logged (the record is gone either way,
    /// and access removes grants of unknown records when asked again).
    pub async fn unregister(&self, object: Object, record_id: &str) {
        if let Err(error) = self.access.unregister_record(object.code(), record_id).await {
            tracing::warn!(object = object.code(), %record_id, %error, "unregistering a deleted record failed");
        }
    }

    /// A contact of a partner: NOT_FOUND when unknown, FAILED_PRECONDITION
    /// CONTACT_NOT_OF_PARTNER when it belongs to another account. Returns its full name.
    pub async fn partner_contact(&self, contact_id: &str, partner_account_id: &str) -> Result<String, PartnerError> {
        let contacts = self
            .identity()?
            .batch_get_contacts(idpb::BatchGetContactsRequest { contact_ids: vec![contact_id.to_owned()] })
            .await
            .map_err(|status| upstream_error("read the contact", status))?
            .into_inner();
        let contact = contacts
            .contacts
            .into_iter()
            .find(|c| c.contact_id == contact_id)
            .ok_or_else(|| PartnerError::NotFound("contact", contact_id.to_owned()))?;
        if contact.account_id != partner_account_id {
            return Err(PartnerError::Refused(
                "CONTACT_NOT_OF_PARTNER",
                format!("contact '{contact_id}' does not belong to the partner's account"),
            ));
        }
        Ok(contact.full_name)
    }

    /// A partner account: NOT_FOUND when unknown, FAILED_PRECONDITION
    /// ACCOUNT_NOT_PARTNER when not of type Partner or bound to no organization.
    pub async fn partner_account(&self, account_id: &str) -> Result<PartnerAccount, PartnerError> {
        let accounts = self
            .identity()?
            .batch_get_accounts(idpb::BatchGetAccountsRequest { account_ids: vec![account_id.to_owned()] })
            .await
            .map_err(|status| upstream_error("read the partner account", status))?
            .into_inner();
        let account = accounts
            .accounts
            .into_iter()
            .find(|a| a.account_id == account_id)
            .ok_or_else(|| PartnerError::NotFound("account", account_id.to_owned()))?;
        if account.r#type() != idpb::AccountType::Partner || account.organization_id.is_empty() {
            return Err(PartnerError::Refused(
                "ACCOUNT_NOT_PARTNER",
                format!(
                    "account '{account_id}' is not a partner bound to a portal organization; make it a partner \
                     account and create its organization under \"Partners\" first"
                ),
            ));
        }
        Ok(PartnerAccount {
            account_id: account.account_id,
            organization_id: account.organization_id,
            name: account.name,
        })
    }
}
