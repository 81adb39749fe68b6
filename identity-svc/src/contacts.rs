//! The contact and department use cases: the people the CRM knows and the departments of
//! their accounts (case-svc selects service agreements by a contact's department).

use service_kit::{Caller, CallerKind, clock::Clock, secrets};

use crate::{
    authority::Authority,
    domain::{IdentityError, authority::Actor, email},
    storage::{AuditEntry, ContactFilter, ContactRecord, ContactScope, DepartmentRecord, Store},
};

/// A contact's fields as a request gives them.
#[derive(Debug, Clone, Default)]
pub struct ContactFields {
    pub full_name: String,
    pub email: String,
    pub phone: String,
    pub job_title: String,
    pub account_id: String,
    pub department_id: String,
}

/// The fields of a contact a change may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactPath {
    FullName,
    Email,
    Phone,
    JobTitle,
    AccountId,
    DepartmentId,
}

impl ContactPath {
    /// Paths about the person, which they (and their organization's administrators) may change.
    fn is_personal(self) -> bool {
        matches!(self, Self::FullName | Self::Phone | Self::JobTitle)
    }
}

/// The contact and department use cases.
#[derive(Debug, Clone)]
pub struct Contacts {
    store: Store,
    clock: Clock,
    authority: Authority,
}

fn audit<'a>(
    caller: &'a Caller,
    action: &'a str,
    kind: &'a str,
    id: &'a str,
    before: String,
    after: String,
) -> AuditEntry<'a> {
    AuditEntry {
        actor: caller,
        action,
        resource_type: kind,
        resource_id: id,
        organization_id: "",
        before_json: before,
        after_json: after,
        request_id: "",
    }
}

fn contact_json(contact: &ContactRecord) -> String {
    serde_json::json!({
        "id": contact.id, "full_name": contact.full_name, "email": contact.email, "phone": contact.phone,
        "job_title": contact.job_title, "account_id": contact.account_id, "department_id": contact.department_id,
    })
    .to_string()
}

impl Contacts {
    pub fn new(store: Store, clock: Clock, authority: Authority) -> Self {
        Self { store, clock, authority }
    }

    /// Every problem of a contact's fields, by field name.
    async fn problems(&self, fields: &ContactFields) -> Result<Vec<(&'static str, String)>, IdentityError> {
        let mut problems = Vec::new();
        if fields.full_name.trim().is_empty() || fields.full_name.trim().chars().count() > 250 {
            problems.push(("contact.full_name", "must be 1 to 250 characters".to_owned()));
        }
        if !fields.email.trim().is_empty()
            && let Err(problem) = email::normalize(&fields.email)
        {
            problems.push(("contact.email", problem));
        }
        if fields.phone.chars().count() > 50 {
            problems.push(("contact.phone", "must be at most 50 characters".to_owned()));
        }
        if fields.job_title.chars().count() > 250 {
            problems.push(("contact.job_title", "must be at most 250 characters".to_owned()));
        }
        if !fields.department_id.is_empty() {
            match self.store.department(&fields.department_id).await? {
                None => return Err(IdentityError::NotFound("department", fields.department_id.clone())),
                Some(department) if department.account_id != fields.account_id => problems.push((
                    "contact.department_id",
                    "must be a department of the contact's account (set account_id to it)".to_owned(),
                )),
                Some(_) => {}
            }
        }
        if !fields.account_id.is_empty() && self.store.account(&fields.account_id).await?.is_none() {
            return Err(IdentityError::NotFound("account", fields.account_id.clone()));
        }
        Ok(problems)
    }

    /// Creates a contact (the CRM's record a user hangs off).
    pub async fn create(&self, caller: &Caller, fields: ContactFields) -> Result<ContactRecord, IdentityError> {
        if !self.authority.actor(caller).await?.may_manage_everything() {
            return Err(IdentityError::NotAllowed("only system administrators may create contacts"));
        }
        let problems = self.problems(&fields).await?;
        if !problems.is_empty() {
            return Err(IdentityError::Invalid(problems));
        }
        let now = self.clock.now();
        let optional = |value: &str| (!value.is_empty()).then(|| value.to_owned());
        let contact = ContactRecord {
            id: secrets::new_id(),
            full_name: fields.full_name.trim().to_owned(),
            email: fields.email.trim().to_owned(),
            phone: fields.phone.trim().to_owned(),
            job_title: fields.job_title.trim().to_owned(),
            account_id: optional(&fields.account_id),
            department_id: optional(&fields.department_id),
            version: 1,
            created_at: now,
            updated_at: now,
            user_id: None,
        };
        let mut tx = self.store.begin().await?;
        Store::insert_contact(&mut tx, &contact).await?;
        Store::record_audit(
            &mut tx,
            audit(caller, "contact.create", "contact", &contact.id, String::new(), contact_json(&contact)),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(contact)
    }

    /// Whether the actor may see the contact: employees all; an external user their own,
    /// and an organization administrator those of their organization's users and account.
    async fn visible(&self, actor: &Actor, contact: &ContactRecord) -> Result<bool, IdentityError> {
        if actor.may_manage_everything() || actor.caller.kind == CallerKind::Employee {
            return Ok(true);
        }
        let user = self.store.user_of_contact(&contact.id).await?;
        if user.as_ref().is_some_and(|user| user.id == actor.caller.user_id) {
            return Ok(true);
        }
        let Some(organization) = actor.organization_id.as_deref().filter(|_| actor.organization_administrator) else {
            return Ok(false);
        };
        let in_organization = user.as_ref().is_some_and(|user| user.organization_id.as_deref() == Some(organization));
        let account = self.store.organization(organization).await?.and_then(|o| o.account_id);
        Ok(in_organization || (account.is_some() && account == contact.account_id))
    }

    pub async fn get(&self, caller: &Caller, id: &str) -> Result<ContactRecord, IdentityError> {
        let actor = self.authority.actor(caller).await?;
        let contact = self.store.contact(id).await?.ok_or_else(|| IdentityError::NotFound("contact", id.to_owned()))?;
        if self.visible(&actor, &contact).await? {
            Ok(contact)
        } else {
            Err(IdentityError::NotFound("contact", id.to_owned()))
        }
    }

    /// The contacts the caller may see matching `filter`, by full name then id: employees
    /// all; an external user their own, and an organization administrator those of the
    /// organization's account and users.
    pub async fn list(
        &self,
        caller: &Caller,
        mut filter: ContactFilter,
        after: Option<(String, String)>,
        limit: i64,
    ) -> Result<Vec<ContactRecord>, IdentityError> {
        let actor = self.authority.actor(caller).await?;
        if !actor.may_manage_everything() && actor.caller.kind != CallerKind::Employee {
            let own_contact_id = self.store.user(&caller.user_id).await?.map(|u| u.contact_id).unwrap_or_default();
            let administered = actor.organization_id.clone().filter(|_| actor.organization_administrator);
            let account_id = match administered.as_deref() {
                Some(organization) => {
                    self.store.organization(organization).await?.and_then(|o| o.account_id).unwrap_or_default()
                }
                None => String::new(),
            };
            filter.visible_to =
                Some(ContactScope { own_contact_id, organization_id: administered.unwrap_or_default(), account_id });
        }
        filter.email = filter.email.trim().to_lowercase();
        filter.text = filter.text.trim().to_lowercase();
        self.store.contacts(&filter, after, limit).await
    }

    /// Changes the `paths` of a contact to the values in `fields`.
    pub async fn update(
        &self,
        caller: &Caller,
        id: &str,
        etag: &str,
        paths: &[ContactPath],
        fields: ContactFields,
    ) -> Result<ContactRecord, IdentityError> {
        let actor = self.authority.actor(caller).await?;
        let before = self.get(caller, id).await?;
        let own_or_managed = match self.store.user_of_contact(id).await? {
            Some(user) => user.id == actor.caller.user_id || actor.may_manage_user(user.as_target()),
            None => false,
        };
        let allowed = actor.may_manage_everything() || (own_or_managed && paths.iter().all(|p| p.is_personal()));
        if !allowed {
            return Err(IdentityError::NotAllowed(
                "you may change only the full name, phone and job title of your own contact (or your organization's users')",
            ));
        }
        if !etag.is_empty() && etag != before.version.to_string() {
            return Err(IdentityError::Stale("contact"));
        }
        if paths.contains(&ContactPath::Email) && self.store.user_of_contact(id).await?.is_some() {
            return Err(IdentityError::Refused(
                "CONTACT_EMAIL_IS_USERNAME",
                "the contact's email is its user's username: change it with UserService.UpdateUser".into(),
            ));
        }
        let mut merged = ContactFields {
            full_name: before.full_name.clone(),
            email: before.email.clone(),
            phone: before.phone.clone(),
            job_title: before.job_title.clone(),
            account_id: before.account_id.clone().unwrap_or_default(),
            department_id: before.department_id.clone().unwrap_or_default(),
        };
        for path in paths {
            match path {
                ContactPath::FullName => merged.full_name = fields.full_name.clone(),
                ContactPath::Email => merged.email = fields.email.clone(),
                ContactPath::Phone => merged.phone = fields.phone.clone(),
                ContactPath::JobTitle => merged.job_title = fields.job_title.clone(),
                ContactPath::AccountId => merged.account_id = fields.account_id.clone(),
                ContactPath::DepartmentId => merged.department_id = fields.department_id.clone(),
            }
        }
        let problems = self.problems(&merged).await?;
        if !problems.is_empty() {
            return Err(IdentityError::Invalid(problems));
        }
        let optional = |value: &str| (!value.is_empty()).then(|| value.to_owned());
        let after = ContactRecord {
            full_name: merged.full_name.trim().to_owned(),
            email: merged.email.trim().to_owned(),
            phone: merged.phone.trim().to_owned(),
            job_title: merged.job_title.trim().to_owned(),
            account_id: optional(&merged.account_id),
            department_id: optional(&merged.department_id),
            ..before.clone()
        };
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        if !Store::update_contact(&mut tx, &after, now).await? {
            return Err(IdentityError::Stale("contact"));
        }
        Store::record_audit(
            &mut tx,
            audit(caller, "contact.update", "contact", id, contact_json(&before), contact_json(&after)),
            now,
        )
        .await?;
        tx.commit().await?;
        self.store.contact(id).await?.ok_or_else(|| IdentityError::NotFound("contact", id.to_owned()))
    }

    /// Creates a department of an account.
    pub async fn create_department(
        &self,
        caller: &Caller,
        account_id: &str,
        name: &str,
    ) -> Result<DepartmentRecord, IdentityError> {
        if !self.authority.actor(caller).await?.may_manage_everything() {
            return Err(IdentityError::NotAllowed("only system administrators may create departments"));
        }
        let name = department_name(name)?;
        if self.store.account(account_id).await?.is_none() {
            return Err(IdentityError::NotFound("account", account_id.to_owned()));
        }
        let now = self.clock.now();
        let department = DepartmentRecord {
            id: secrets::new_id(),
            account_id: account_id.to_owned(),
            name,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let mut tx = self.store.begin().await?;
        if !Store::insert_department(&mut tx, &department).await? {
            return Err(name_used(&department.name));
        }
        let after = serde_json::json!({ "id": department.id, "account_id": account_id, "name": department.name });
        Store::record_audit(
            &mut tx,
            audit(caller, "department.create", "department", &department.id, String::new(), after.to_string()),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(department)
    }

    /// A department the caller may see: employees all, external users those of their
    /// organization's account.
    pub async fn department(&self, caller: &Caller, id: &str) -> Result<DepartmentRecord, IdentityError> {
        let actor = self.authority.actor(caller).await?;
        let department =
            self.store.department(id).await?.ok_or_else(|| IdentityError::NotFound("department", id.to_owned()))?;
        if self.may_see_account(&actor, &department.account_id).await? {
            Ok(department)
        } else {
            Err(IdentityError::NotFound("department", id.to_owned()))
        }
    }

    async fn may_see_account(&self, actor: &Actor, account_id: &str) -> Result<bool, IdentityError> {
        if actor.may_manage_everything() || actor.caller.kind == CallerKind::Employee {
            return Ok(true);
        }
        let Some(organization) = actor.organization_id.as_deref() else { return Ok(false) };
        let own_account = self.store.organization(organization).await?.and_then(|o| o.account_id);
        Ok(own_account.as_deref() == Some(account_id))
    }

    /// Departments the caller may see (of one account when `account_id` is set).
    pub async fn departments(
        &self,
        caller: &Caller,
        account_id: &str,
        after: Option<(String, String)>,
        limit: i64,
    ) -> Result<Vec<DepartmentRecord>, IdentityError> {
        let actor = self.authority.actor(caller).await?;
        let everything = actor.may_manage_everything() || actor.caller.kind == CallerKind::Employee;
        let account = if everything {
            account_id.to_owned()
        } else {
            let own = match actor.organization_id.as_deref() {
                Some(organization) => self.store.organization(organization).await?.and_then(|o| o.account_id),
                None => None,
            };
            match own {
                Some(own) if account_id.is_empty() || account_id == own => own,
                _ => return Ok(Vec::new()),
            }
        };
        self.store.departments(&account, after, limit).await
    }

    pub async fn rename_department(
        &self,
        caller: &Caller,
        id: &str,
        etag: &str,
        name: &str,
    ) -> Result<DepartmentRecord, IdentityError> {
        let before = self.department(caller, id).await?;
        if !self.authority.actor(caller).await?.may_manage_everything() {
            return Err(IdentityError::NotAllowed("only system administrators may change departments"));
        }
        if !etag.is_empty() && etag != before.version.to_string() {
            return Err(IdentityError::Stale("department"));
        }
        let name = department_name(name)?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        match Store::rename_department(&mut tx, &before, &name, now).await? {
            None => return Err(IdentityError::Stale("department")),
            Some(false) => return Err(name_used(&name)),
            Some(true) => {}
        }
        let (old, new) = (serde_json::json!({ "name": before.name }), serde_json::json!({ "name": name }));
        Store::record_audit(
            &mut tx,
            audit(caller, "department.update", "department", id, old.to_string(), new.to_string()),
            now,
        )
        .await?;
        tx.commit().await?;
        self.department(caller, id).await
    }

    pub async fn delete_department(&self, caller: &Caller, id: &str, etag: &str) -> Result<(), IdentityError> {
        let before = self.department(caller, id).await?;
        if !self.authority.actor(caller).await?.may_manage_everything() {
            return Err(IdentityError::NotAllowed("only system administrators may delete departments"));
        }
        if !etag.is_empty() && etag != before.version.to_string() {
            return Err(IdentityError::Stale("department"));
        }
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        if !Store::delete_department(&mut tx, id).await? {
            return Err(IdentityError::Refused(
                "DEPARTMENT_IN_USE",
                "contacts work in this department: move them to another one first".into(),
            ));
        }
        let old = serde_json::json!({ "account_id": before.account_id, "name": before.name });
        Store::record_audit(
            &mut tx,
            audit(caller, "department.delete", "department", id, old.to_string(), String::new()),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

fn department_name(name: &str) -> Result<String, IdentityError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 250 {
        return Err(IdentityError::Invalid(vec![("department.name", "must be 1 to 250 characters".into())]));
    }
    Ok(name.to_owned())
}

fn name_used(name: &str) -> IdentityError {
    IdentityError::AlreadyExists("DEPARTMENT_NAME_USED", format!("the account already has a department named '{name}'"))
}
