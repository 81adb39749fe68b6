//! identity-svc: contacts, accounts, users, organizations, roles, licences,
//! credentials, sessions, tokens and settings.
//!
//! `api` adapts gRPC to the use cases in `auth`, which apply the rules in
//! `domain` to the rows in `storage`.

pub mod access_link;
pub mod api;
pub mod auth;
pub mod authority;
pub mod contacts;
pub mod directory;
pub mod domain;
pub mod invitations;
pub mod licensing;
pub mod mail_outbox;
pub mod organizations;
pub mod provisioning;
pub mod recovery;
pub mod registration;
pub mod roles;
pub mod setting_references;
pub mod storage;
pub mod system_settings;
pub mod tokens;
pub mod users;

use portal_proto::identity::{
    account_service_server::AccountServiceServer, audit_service_server::AuditServiceServer,
    contact_service_server::ContactServiceServer, identity_internal_service_server::IdentityInternalServiceServer,
    invitation_service_server::InvitationServiceServer, licence_service_server::LicenceServiceServer,
    organization_service_server::OrganizationServiceServer, password_service_server::PasswordServiceServer,
    provisioning_service_server::ProvisioningServiceServer, registration_service_server::RegistrationServiceServer,
    role_service_server::RoleServiceServer, session_service_server::SessionServiceServer,
    settings_service_server::SettingsServiceServer, user_service_server::UserServiceServer,
};
use service_kit::{ServiceContext, ServiceModule, StartError, db::Database, service_routes};

pub use storage::MIGRATIONS;

use crate::{
    access_link::AccessLink,
    api::{
        AuditApi, ContactApi, InternalApi, LicenceApi, OrganizationApi, PasswordApi, ProvisioningApi, RoleApi,
        SessionApi, SettingsApi, UserApi,
    },
    api::{InvitationApi, RegistrationApi},
    auth::Auth,
    authority::Authority,
    contacts::Contacts,
    directory::Directory,
    domain::{password::PasswordHasher, settings::SettingsDefaults},
    invitations::Invitations,
    licensing::Licensing,
    mail_outbox::{Mailer, Relay},
    organizations::Organizations,
    provisioning::Provisioning,
    recovery::Recovery,
    registration::Registrations,
    roles::Roles,
    setting_references::SettingReferences,
    storage::Store,
    system_settings::SystemSettings,
    users::Users,
};

/// The area name, used for the database and the upstream map.
pub const AREA: &str = "identity";

/// Connects and migrates identity's database, creates the system administrator on the
/// first start, and builds identity's gRPC services.
pub async fn start(context: ServiceContext) -> Result<ServiceModule, StartError> {
    let config = &context.config;
    let database = Database::connect(config, AREA, MIGRATIONS).await?;
    let store = Store::new(database.clone());
    let defaults = SettingsDefaults {
        public_base_url: config.public_base_url.trim_end_matches('/').to_owned(),
        session_idle_lifetime: config.session.idle_timeout_seconds,
        session_absolute_lifetime: config.session.absolute_timeout_seconds,
    };
    let references = SettingReferences::new(context.upstreams.clone(), context.assertion_key.clone());
    let settings = SystemSettings::new(store.clone(), defaults, references, context.clock.clone());
    store.sync_licence_products(&config.licences).await.map_err(|e| StartError::Other(e.to_string()))?;
    let hasher = PasswordHasher::default();
    let auth = Auth::new(store.clone(), hasher.clone(), settings.clone(), context.clock.clone());
    let mailer = Mailer::default();
    let relay = Relay::new(store.clone(), context.upstreams.clone(), context.assertion_key.clone(), &mailer);
    let clock = &context.clock;
    let access_link = AccessLink::new(context.upstreams.clone(), context.assertion_key.clone());
    let authority = Authority::new(store.clone(), access_link.clone());
    let invitations = Invitations::new(
        store.clone(),
        auth.clone(),
        hasher.clone(),
        settings.clone(),
        clock.clone(),
        mailer.clone(),
        authority.clone(),
    );
    let registrations =
        Registrations::new(store.clone(), hasher.clone(), settings.clone(), clock.clone(), mailer.clone());
    let recovery = Recovery::new(store.clone(), hasher.clone(), settings.clone(), clock.clone(), mailer);
    let internal_settings = settings.clone();
    let roles = Roles::new(store.clone(), context.clock.clone(), access_link.clone(), authority.clone());
    let users = Users::new(
        store.clone(),
        hasher,
        settings.clone(),
        roles.clone(),
        invitations.clone(),
        context.clock.clone(),
        authority.clone(),
    );
    let provisioning =
        Provisioning::new(store.clone(), roles.clone(), settings.clone(), context.clock.clone(), authority.clone());
    let organizations = Organizations::new(
        store.clone(),
        roles.clone(),
        settings.clone(),
        invitations.clone(),
        context.clock.clone(),
        authority.clone(),
    );
    let licensing = Licensing::new(store.clone(), context.clock.clone(), access_link, authority.clone());
    let directory = Directory::new(store.clone(), roles.clone());
    let contact_api = ContactApi {
        contacts: Contacts::new(store.clone(), clock.clone(), authority),
        organizations: organizations.clone(),
    };
    if let Some(password) = auth
        .ensure_system_administrator(&config.bootstrap.admin_email, &config.bootstrap.admin_password)
        .await
        .map_err(|e| StartError::Other(e.to_string()))?
    {
        announce_administrator(&config.bootstrap.admin_email, &password, config.bootstrap.admin_password.is_empty());
    }
    let (routes, services) = service_routes!(context;
        SessionServiceServer<SessionApi>(SessionApi { auth: auth.clone() }) as Public,
        PasswordServiceServer<PasswordApi>(PasswordApi { auth: auth.clone(), recovery }) as Public,
        InvitationServiceServer<InvitationApi>(InvitationApi { invitations, clock: clock.clone() }) as Public,
        RegistrationServiceServer<RegistrationApi>(RegistrationApi { registrations }) as Public,
        SettingsServiceServer<SettingsApi>(SettingsApi { settings }) as Public,
        UserServiceServer<UserApi>(UserApi { users, organizations: organizations.clone() }) as Public,
        OrganizationServiceServer<OrganizationApi>(OrganizationApi { organizations }) as Public,
        AccountServiceServer<ContactApi>(contact_api.clone()) as Public,
        RoleServiceServer<RoleApi>(RoleApi { roles }) as Public,
        ProvisioningServiceServer<ProvisioningApi>(ProvisioningApi { provisioning }) as Public,
        ContactServiceServer<ContactApi>(contact_api) as Public,
        LicenceServiceServer<LicenceApi>(LicenceApi { licensing }) as Public,
        AuditServiceServer<AuditApi>(AuditApi { store }) as Public,
        IdentityInternalServiceServer<InternalApi>(InternalApi { auth, settings: internal_settings, directory }) as Internal,
    );
    context.shutdown.spawn(relay.run(context.shutdown.clone()));
    Ok(ServiceModule { area: AREA, routes, services, database })
}

/// Shows the first start's administrator login once, on standard error: the log stream
/// (standard output, JSON lines in production) never carries the password.
fn announce_administrator(email: &str, password: &str, generated: bool) {
    tracing::info!(%email, "created the system administrator");
    if generated {
        eprintln!(
            "\n  System administrator created. Log in with\n    email:    {email}\n    password: {password}\n  \
             This password is shown only now; change it after logging in.\n"
        );
    }
}
