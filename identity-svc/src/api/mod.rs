//! The gRPC adapter: proto in, validation, domain call, proto out. Errors are
//! mapped to `Status` once, through `service_kit::ApiError`.

mod audit;
mod contacts;
mod internal;
mod invitations;
mod licences;
pub(crate) mod organizations;
mod password;
mod provisioning;
mod registration;
pub(crate) mod roles;
mod session;
mod settings;
mod users;

pub use audit::AuditApi;
pub use contacts::ContactApi;
pub use internal::InternalApi;
pub use invitations::InvitationApi;
pub use licences::LicenceApi;
pub use organizations::OrganizationApi;
pub use password::PasswordApi;
pub use provisioning::ProvisioningApi;
pub use registration::RegistrationApi;
pub use roles::RoleApi;
pub use session::SessionApi;
pub use settings::SettingsApi;
pub use users::UserApi;

use portal_proto::identity as pb;
use service_kit::ApiError;
use tonic::Status;

use crate::domain::user::UserKind;

impl From<UserKind> for pb::UserKind {
    fn from(kind: UserKind) -> Self {
        match kind {
            UserKind::Employee => pb::UserKind::Employee,
            UserKind::External => pb::UserKind::External,
        }
    }
}

/// Refuses an empty required field, naming it.
fn required(field: &'static str, value: &str) -> Result<(), Status> {
    if value.is_empty() { Err(ApiError::invalid(field, "is required").into()) } else { Ok(()) }
}

/// Refuses a list's `text` filter over 100 characters.
fn search_text(text: &str) -> Result<(), Status> {
    if text.chars().count() > 100 {
        Err(ApiError::invalid("text", "must be at most 100 characters").into())
    } else {
        Ok(())
    }
}
