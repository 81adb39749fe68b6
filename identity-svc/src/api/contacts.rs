//! `portal.identity.v1.ContactService` and `AccountService`: the people the CRM knows,
//! the companies they work for, and those companies' departments.

use super::search_text;
use portal_proto::identity::{
    self as pb, account_service_server::AccountService, contact_service_server::ContactService,
};
use service_kit::{ApiError, Caller, clock::to_timestamp, paging, validate};
use tonic::{Request, Response, Status};

use crate::{
    api::organizations::{address_from_proto, address_to_proto},
    contacts::{ContactFields, ContactPath, Contacts},
    organizations::{AccountChanges, AccountView, Organizations},
    storage::{AccountFilter, ContactFilter, ContactRecord, DepartmentRecord},
};

#[derive(Debug, Clone)]
pub struct ContactApi {
    pub contacts: Contacts,
    pub organizations: Organizations,
}

fn contact_to_proto(contact: ContactRecord) -> pb::Contact {
    pb::Contact {
        etag: contact.version.to_string(),
        create_time: Some(to_timestamp(contact.created_at)),
        update_time: Some(to_timestamp(contact.updated_at)),
        id: contact.id,
        full_name: contact.full_name,
        email: contact.email,
        phone: contact.phone,
        job_title: contact.job_title,
        account_id: contact.account_id.unwrap_or_default(),
        department_id: contact.department_id.unwrap_or_default(),
        user_id: contact.user_id.unwrap_or_default(),
    }
}

fn fields_of(contact: pb::Contact) -> ContactFields {
    ContactFields {
        full_name: contact.full_name,
        email: contact.email,
        phone: contact.phone,
        job_title: contact.job_title,
        account_id: contact.account_id,
        department_id: contact.department_id,
    }
}

fn department_to_proto(department: DepartmentRecord) -> pb::Department {
    pb::Department {
        etag: department.version.to_string(),
        create_time: Some(to_timestamp(department.created_at)),
        update_time: Some(to_timestamp(department.updated_at)),
        id: department.id,
        account_id: department.account_id,
        name: department.name,
    }
}

#[tonic::async_trait]
impl ContactService for ContactApi {
    async fn create_contact(
        &self,
        request: Request<pb::CreateContactRequest>,
    ) -> Result<Response<pb::Contact>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let contact = request.into_inner().contact.ok_or_else(|| ApiError::invalid("contact", "is required"))?;
        let created = self.contacts.create(&caller, fields_of(contact)).await?;
        Ok(Response::new(contact_to_proto(created)))
    }

    async fn get_contact(&self, request: Request<pb::GetContactRequest>) -> Result<Response<pb::Contact>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let id = request.into_inner().id;
        validate::id("id", &id)?;
        Ok(Response::new(contact_to_proto(self.contacts.get(&caller, &id).await?)))
    }

    async fn list_contacts(
        &self,
        request: Request<pb::ListContactsRequest>,
    ) -> Result<Response<pb::ListContactsResponse>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let r = request.into_inner();
        search_text(&r.text)?;
        let page_size = paging::page_size(r.page_size)?;
        let after = paging::text_position(&r.page_token)?;
        let filter = ContactFilter {
            account_id: r.account_id,
            department_id: r.department_id,
            email: r.email,
            text: r.text,
            has_user: r.has_user,
            visible_to: None,
        };
        let mut contacts = self.contacts.list(&caller, filter, after, page_size + 1).await?;
        let next_page_token =
            paging::next_text_page(&mut contacts, page_size, |c| (c.full_name.as_str(), c.id.as_str()));
        let contacts = contacts.into_iter().map(contact_to_proto).collect();
        Ok(Response::new(pb::ListContactsResponse { contacts, next_page_token }))
    }

    async fn update_contact(
        &self,
        request: Request<pb::UpdateContactRequest>,
    ) -> Result<Response<pb::Contact>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let r = request.into_inner();
        let contact = r.contact.ok_or_else(|| ApiError::invalid("contact", "is required"))?;
        validate::id("contact.id", &contact.id)?;
        let mut paths = Vec::new();
        for path in r.update_mask.map(|mask| mask.paths).unwrap_or_default() {
            paths.push(match path.as_str() {
                "full_name" => ContactPath::FullName,
                "email" => ContactPath::Email,
                "phone" => ContactPath::Phone,
                "job_title" => ContactPath::JobTitle,
                "account_id" => ContactPath::AccountId,
                "department_id" => ContactPath::DepartmentId,
                other => {
                    return Err(ApiError::invalid(
                        "update_mask",
                        format!(
                            "'{other}' cannot be changed; updatable: full_name, email, phone, job_title, account_id, \
                             department_id"
                        ),
                    )
                    .into());
                }
            });
        }
        if paths.is_empty() {
            return Err(ApiError::invalid("update_mask", "name at least one path to change").into());
        }
        let (id, etag) = (contact.id.clone(), contact.etag.clone());
        let updated = self.contacts.update(&caller, &id, &etag, &paths, fields_of(contact)).await?;
        Ok(Response::new(contact_to_proto(updated)))
    }
}

fn account_to_proto(view: AccountView) -> pb::Account {
    let account = view.account;
    let kind = if account.r#type == "partner" { pb::AccountType::Partner } else { pb::AccountType::Customer };
    pb::Account {
        id: account.id,
        name: account.name,
        r#type: kind.into(),
        phone: account.phone,
        web: account.web,
        addresses: view.addresses.into_iter().map(address_to_proto).collect(),
        primary_contact_id: String::new(),
        organization_id: view.organization_id.unwrap_or_default(),
        etag: account.version.to_string(),
        create_time: Some(to_timestamp(account.created_at)),
        update_time: Some(to_timestamp(account.updated_at)),
    }
}

#[tonic::async_trait]
impl AccountService for ContactApi {
    async fn create_account(
        &self,
        request: Request<pb::CreateAccountRequest>,
    ) -> Result<Response<pb::Account>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let account = request.into_inner().account.ok_or_else(|| ApiError::invalid("account", "is required"))?;
        let partner = match account.r#type() {
            pb::AccountType::Partner => true,
            pb::AccountType::Customer => false,
            pb::AccountType::Unspecified => {
                return Err(ApiError::invalid("account.type", "is required: customer or partner").into());
            }
        };
        let created = self.organizations.create_account(&caller, &account.name, partner).await?;
        Ok(Response::new(account_to_proto(self.organizations.account_view(&caller, &created.id).await?)))
    }

    async fn get_account(&self, request: Request<pb::GetAccountRequest>) -> Result<Response<pb::Account>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let id = request.into_inner().id;
        validate::id("id", &id)?;
        Ok(Response::new(account_to_proto(self.organizations.account_view(&caller, &id).await?)))
    }

    async fn list_accounts(
        &self,
        request: Request<pb::ListAccountsRequest>,
    ) -> Result<Response<pb::ListAccountsResponse>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let r = request.into_inner();
        search_text(&r.text)?;
        let page_size = paging::page_size(r.page_size)?;
        let after = paging::text_position(&r.page_token)?;
        let filter = AccountFilter {
            r#type: match r.r#type() {
                pb::AccountType::Unspecified => String::new(),
                pb::AccountType::Customer => "customer".into(),
                pb::AccountType::Partner => "partner".into(),
            },
            text: r.text,
            has_organization: r.has_organization,
            only_id: None,
        };
        let mut accounts = self.organizations.accounts(&caller, filter, after, page_size + 1).await?;
        let next_page_token =
            paging::next_text_page(&mut accounts, page_size, |a| (a.account.name.as_str(), a.account.id.as_str()));
        let accounts = accounts.into_iter().map(account_to_proto).collect();
        Ok(Response::new(pb::ListAccountsResponse { accounts, next_page_token }))
    }

    async fn update_account(
        &self,
        request: Request<pb::UpdateAccountRequest>,
    ) -> Result<Response<pb::Account>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let r = request.into_inner();
        let account = r.account.ok_or_else(|| ApiError::invalid("account", "is required"))?;
        validate::id("account.id", &account.id)?;
        let paths = paging::update_paths(r.update_mask)?;
        let mut changes = AccountChanges::default();
        for path in &paths {
            match path.as_str() {
                "name" => changes.name = Some(account.name.clone()),
                "type" => {
                    changes.partner = Some(match account.r#type() {
                        pb::AccountType::Partner => true,
                        pb::AccountType::Customer => false,
                        pb::AccountType::Unspecified => {
                            return Err(ApiError::invalid("account.type", "is required: customer or partner").into());
                        }
                    })
                }
                "phone" => changes.phone = Some(account.phone.clone()),
                "web" => changes.web = Some(account.web.clone()),
                "addresses" => {
                    changes.addresses = Some(account.addresses.iter().cloned().map(address_from_proto).collect())
                }
                other => {
                    return Err(ApiError::invalid(
                        "update_mask",
                        format!("'{other}' cannot be changed; updatable: name, type, phone, web, addresses"),
                    )
                    .into());
                }
            }
        }
        let view = self.organizations.update_account(&caller, &account.id, &account.etag, changes).await?;
        Ok(Response::new(account_to_proto(view)))
    }

    async fn delete_account(&self, request: Request<pb::DeleteAccountRequest>) -> Result<Response<()>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let r = request.into_inner();
        validate::id("id", &r.id)?;
        self.organizations.delete_account(&caller, &r.id, &r.etag).await?;
        Ok(Response::new(()))
    }

    async fn create_department(
        &self,
        request: Request<pb::CreateDepartmentRequest>,
    ) -> Result<Response<pb::Department>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let department =
            request.into_inner().department.ok_or_else(|| ApiError::invalid("department", "is required"))?;
        validate::id("department.account_id", &department.account_id)?;
        let created = self.contacts.create_department(&caller, &department.account_id, &department.name).await?;
        Ok(Response::new(department_to_proto(created)))
    }

    async fn get_department(
        &self,
        request: Request<pb::GetDepartmentRequest>,
    ) -> Result<Response<pb::Department>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let id = request.into_inner().id;
        validate::id("id", &id)?;
        Ok(Response::new(department_to_proto(self.contacts.department(&caller, &id).await?)))
    }

    async fn list_departments(
        &self,
        request: Request<pb::ListDepartmentsRequest>,
    ) -> Result<Response<pb::ListDepartmentsResponse>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let r = request.into_inner();
        let page_size = paging::page_size(r.page_size)?;
        let after = paging::text_position(&r.page_token)?;
        let mut departments = self.contacts.departments(&caller, &r.account_id, after, page_size + 1).await?;
        let next_page_token = paging::next_text_page(&mut departments, page_size, |d| (d.name.as_str(), d.id.as_str()));
        let departments = departments.into_iter().map(department_to_proto).collect();
        Ok(Response::new(pb::ListDepartmentsResponse { departments, next_page_token }))
    }

    async fn update_department(
        &self,
        request: Request<pb::UpdateDepartmentRequest>,
    ) -> Result<Response<pb::Department>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let r = request.into_inner();
        let department = r.department.ok_or_else(|| ApiError::invalid("department", "is required"))?;
        validate::id("department.id", &department.id)?;
        let paths = r.update_mask.map(|mask| mask.paths).unwrap_or_default();
        if paths != ["name"] {
            return Err(ApiError::invalid("update_mask", "only the path 'name' can be changed").into());
        }
        let renamed =
            self.contacts.rename_department(&caller, &department.id, &department.etag, &department.name).await?;
        Ok(Response::new(department_to_proto(renamed)))
    }

    async fn delete_department(&self, request: Request<pb::DeleteDepartmentRequest>) -> Result<Response<()>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let r = request.into_inner();
        validate::id("id", &r.id)?;
        self.contacts.delete_department(&caller, &r.id, &r.etag).await?;
        Ok(Response::new(()))
    }
}
