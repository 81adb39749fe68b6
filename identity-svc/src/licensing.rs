//! The licence use cases: read the products, assign and release seats. Releasing a
//! seat ends the user's sessions at once (an external user without a seat cannot log in).

use service_kit::{Caller, clock::Clock};

use crate::{
    access_link::AccessLink,
    authority::Authority,
    domain::{IdentityError, user::UserKind},
    storage::{AssignmentFilter, AssignmentRecord, AuditEntry, ProductRecord, Store},
};

/// The licence use cases.
#[derive(Debug, Clone)]
pub struct Licensing {
    store: Store,
    clock: Clock,
    access: AccessLink,
    authority: Authority,
}

/// What assigning a seat did.
#[derive(Debug, Clone)]
pub struct Assigned {
    pub assignment: AssignmentRecord,
    /// False when the user already held a seat of that product (the call was a repeat).
    pub new: bool,
}

fn assignment_json(assignment: &AssignmentRecord) -> String {
    serde_json::json!({
        "id": assignment.id,
        "user_id": assignment.user_id,
        "licence_product_id": assignment.licence_product_id,
    })
    .to_string()
}

impl Licensing {
    pub fn new(store: Store, clock: Clock, access: AccessLink, authority: Authority) -> Self {
        Self { store, clock, access, authority }
    }

    pub async fn products(&self, caller: &Caller) -> Result<Vec<ProductRecord>, IdentityError> {
        if !self.authority.actor(caller).await?.may_read_licence_products() {
            return Err(IdentityError::NotAllowed("only employees may read the licence products"));
        }
        self.store.licence_products().await
    }

    pub async fn product(&self, caller: &Caller, id: &str) -> Result<ProductRecord, IdentityError> {
        self.products(caller)
            .await?
            .into_iter()
            .find(|p| p.id == id)
            .ok_or_else(|| IdentityError::NotFound("licence product", id.to_owned()))
    }

    /// Gives `user_id` a seat of `product_id`; a repeat returns the existing seat.
    pub async fn assign(&self, caller: &Caller, user_id: &str, product_id: &str) -> Result<Assigned, IdentityError> {
        if !self.authority.actor(caller).await?.may_manage_licences() {
            return Err(IdentityError::NotAllowed("only system administrators may assign licences"));
        }
        let user = self.store.user(user_id).await?.ok_or_else(|| IdentityError::UserNotFound(user_id.to_owned()))?;
        let product = self
            .store
            .licence_product(product_id)
            .await?
            .ok_or_else(|| IdentityError::NotFound("licence product", product_id.to_owned()))?;
        if user.kind() != UserKind::External {
            return Err(IdentityError::Refused("USER_NOT_EXTERNAL", "employees need no licence".into()));
        }
        if let Some(existing) = self.store.assignment_of(user_id).await? {
            if existing.licence_product_id == product.id {
                return Ok(Assigned { assignment: existing, new: false });
            }
            return Err(IdentityError::Refused(
                "LICENCE_ALREADY_ASSIGNED",
                format!("the user holds a seat of '{}'; release it first", existing.licence_product_id),
            ));
        }
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let assignment = Store::take_seat(&mut tx, user_id, &product.id, &caller.user_id, now)
            .await?
            .ok_or_else(|| IdentityError::NoFreeSeat(product.id.clone()))?;
        Store::record_audit(
            &mut tx,
            AuditEntry {
                actor: caller,
                action: "licence_assignment.assign",
                resource_type: "licence_assignment",
                resource_id: &assignment.id,
                organization_id: user.organization_id.as_deref().unwrap_or_default(),
                before_json: String::new(),
                after_json: assignment_json(&assignment),
                request_id: "",
            },
            now,
        )
        .await?;
        tx.commit().await?;
        self.access.users_changed(vec![user_id.to_owned()]).await?;
        Ok(Assigned { assignment, new: true })
    }

    /// Releases the seat `user_id` holds (if any) and ends the user's sessions.
    pub async fn release(&self, caller: &Caller, user_id: &str) -> Result<Option<AssignmentRecord>, IdentityError> {
        if !self.authority.actor(caller).await?.may_manage_licences() {
            return Err(IdentityError::NotAllowed("only system administrators may release licences"));
        }
        let user = self.store.user(user_id).await?.ok_or_else(|| IdentityError::UserNotFound(user_id.to_owned()))?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let Some(released) = Store::release_seat(&mut tx, user_id).await? else {
            return Ok(None);
        };
        Store::end_user_sessions(&mut tx, user_id, "", "licence_released", now).await?;
        Store::revoke_user_tokens(&mut tx, user_id, "licence_released", now).await?;
        Store::record_audit(
            &mut tx,
            AuditEntry {
                actor: caller,
                action: "licence_assignment.release",
                resource_type: "licence_assignment",
                resource_id: &released.id,
                organization_id: user.organization_id.as_deref().unwrap_or_default(),
                before_json: assignment_json(&released),
                after_json: String::new(),
                request_id: "",
            },
            now,
        )
        .await?;
        tx.commit().await?;
        self.access.users_changed(vec![user_id.to_owned()]).await?;
        Ok(Some(released))
    }

    pub async fn assignments(
        &self,
        caller: &Caller,
        filter: &AssignmentFilter,
        limit: i64,
    ) -> Result<Vec<AssignmentRecord>, IdentityError> {
        if !self.authority.actor(caller).await?.may_manage_licences() {
            return Err(IdentityError::NotAllowed("only system administrators may list licence assignments"));
        }
        self.store.licence_assignments(filter, limit).await
    }
}
