//! Who the caller is for the authority rules: the stored facts about them (organization,
//! administrator flag), and for employees whether access-svc grants them the system
//! operation `CanAdministratePortalUsers`. Read fresh on every call, so a demotion or a
//! revoked grant applies to the very next request.

use service_kit::{Caller, CallerKind};

use crate::{access_link::AccessLink, domain::IdentityError, domain::authority::Actor, storage::Store};

/// Builds the [`Actor`] of a call.
#[derive(Debug, Clone)]
pub struct Authority {
    store: Store,
    access: AccessLink,
}

impl Authority {
    pub fn new(store: Store, access: AccessLink) -> Self {
        Self { store, access }
    }

    pub async fn actor(&self, caller: &Caller) -> Result<Actor, IdentityError> {
        let mut actor = self.store.actor(caller).await?;
        if caller.is_user() && caller.kind == CallerKind::Employee && !caller.system_administrator {
            actor.portal_user_administrator = self.access.may_administrate_portal_users(&caller.user_id).await?;
        }
        Ok(actor)
    }
}
