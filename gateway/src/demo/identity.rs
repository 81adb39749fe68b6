//! The demo's directory (portal.identity.v1): the customer Acme Inc with its
//! organization, the Boston and Toronto roles of seed 003 and two departments, and the
//! partner Globex Solutions under "Partners" whose users are "Partner portal users".

use std::collections::HashMap;

use portal_proto::identity::{
    Account, AccountType, AddRoleMembersRequest, Contact, CreateAccountRequest, CreateDepartmentRequest,
    CreateOrganizationRequest, CreateRoleRequest, CreateUserRequest, Department, ListDepartmentsRequest,
    ListLicenceProductsRequest, ListOrganizationsRequest, ListRolesRequest, ListUsersRequest, Organization,
    PortalEdition, Role, RoleKind, UpdateContactRequest, User, UserKind, account_service_client::AccountServiceClient,
    contact_service_client::ContactServiceClient, licence_service_client::LicenceServiceClient,
    organization_service_client::OrganizationServiceClient, role_service_client::RoleServiceClient,
    user_service_client::UserServiceClient,
};

use super::{DEMO_PASSWORD, DemoError, DemoLogin, DemoSummary, Session, Step};

/// The functional role that lets partner users work their program (identity's fixed id).
pub const PARTNER_PORTAL_USERS: &str = "partner-portal-users";

const CUSTOMER: &str = "Acme Inc";
const PARTNER: &str = "Globex Solutions";
const DEPARTMENTS: [&str; 2] = ["IT", "Finance"];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Company {
    Customer,
    Partner,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum DemoRole {
    Boston,
    Toronto,
    PartnerPortalUsers,
}

/// One demo user: who they are and where they stand.
struct Person {
    email: &'static str,
    full_name: &'static str,
    job_title: &'static str,
    company: Company,
    department: Option<&'static str>,
    roles: &'static [DemoRole],
    organization_administrator: bool,
}

const PEOPLE: [Person; 7] = [
    Person {
        email: "olivia.bennett@acme.example",
        full_name: "Olivia Bennett",
        job_title: "IT manager",
        company: Company::Customer,
        department: Some("IT"),
        roles: &[],
        organization_administrator: true,
    },
    Person {
        email: "brian.walsh@acme.example",
        full_name: "Brian Walsh",
        job_title: "Systems engineer",
        company: Company::Customer,
        department: Some("IT"),
        roles: &[DemoRole::Boston],
        organization_administrator: false,
    },
    Person {
        email: "bella.cruz@acme.example",
        full_name: "Bella Cruz",
        job_title: "Accountant",
        company: Company::Customer,
        department: Some("Finance"),
        roles: &[DemoRole::Boston],
        organization_administrator: false,
    },
    Person {
        email: "tom.leroux@acme.example",
        full_name: "Tom Leroux",
        job_title: "Support analyst",
        company: Company::Customer,
        department: Some("IT"),
        roles: &[DemoRole::Toronto],
        organization_administrator: false,
    },
    Person {
        email: "tara.singh@acme.example",
        full_name: "Tara Singh",
        job_title: "Controller",
        company: Company::Customer,
        department: Some("Finance"),
        roles: &[DemoRole::Toronto],
        organization_administrator: false,
    },
    Person {
        email: "paul.reyes@globex.example",
        full_name: "Paul Reyes",
        job_title: "Partner manager",
        company: Company::Partner,
        department: None,
        roles: &[DemoRole::PartnerPortalUsers],
        organization_administrator: true,
    },
    Person {
        email: "petra.novak@globex.example",
        full_name: "Petra Novak",
        job_title: "Sales executive",
        company: Company::Partner,
        department: None,
        roles: &[DemoRole::PartnerPortalUsers],
        organization_administrator: false,
    },
];

/// A demo user as the suite knows it.
#[derive(Clone)]
pub struct DemoUser {
    pub contact_id: String,
    pub email: &'static str,
}

/// The ids the other areas' demo parts build on.
pub struct Directory {
    pub customer_account_id: String,
    pub boston_role_id: String,
    pub toronto_role_id: String,
    pub department_ids: HashMap<&'static str, String>,
    pub partner_account_id: String,
    users: HashMap<&'static str, DemoUser>,
}

impl Directory {
    /// The demo user with `email` (one of [`PEOPLE`]).
    pub fn user(&self, email: &str) -> Result<&DemoUser, DemoError> {
        self.users.get(email).ok_or_else(|| DemoError::Missing(format!("no demo user {email}")))
    }
}

pub async fn load(admin: &Session, summary: &mut DemoSummary) -> Result<Directory, DemoError> {
    let customer = organization(admin, CUSTOMER, AccountType::Customer).await?;
    let partner = organization(admin, PARTNER, AccountType::Partner).await?;
    let boston = organizational_role(admin, &customer.id, "Boston").await?;
    let toronto = organizational_role(admin, &customer.id, "Toronto").await?;
    let mut department_ids = HashMap::new();
    for name in DEPARTMENTS {
        department_ids.insert(name, department(admin, &customer.account_id, name).await?.id);
    }
    let customer_product = licence_product(admin, PortalEdition::Customer).await?;
    let partner_product = licence_product(admin, PortalEdition::Partner).await?;
    let mut users = HashMap::new();
    let mut members: HashMap<String, Vec<String>> = HashMap::new();
    for person in &PEOPLE {
        let (organization, product) = match person.company {
            Company::Customer => (&customer, &customer_product),
            Company::Partner => (&partner, &partner_product),
        };
        let department_id = person.department.and_then(|name| department_ids.get(name)).cloned().unwrap_or_default();
        let user = user(admin, person, organization, &department_id, product).await?;
        for role in person.roles {
            let role_id = match role {
                DemoRole::Boston => boston.id.clone(),
                DemoRole::Toronto => toronto.id.clone(),
                DemoRole::PartnerPortalUsers => PARTNER_PORTAL_USERS.to_owned(),
            };
            members.entry(role_id).or_default().push(user.id.clone());
        }
        let mut profile = vec![organization.display_name.clone()];
        profile.extend(person.organization_administrator.then(|| "organization administrator".to_owned()));
        profile.extend(person.roles.iter().map(|role| {
            match role {
                DemoRole::Boston => "Boston",
                DemoRole::Toronto => "Toronto",
                DemoRole::PartnerPortalUsers => "Partner portal users",
            }
            .to_owned()
        }));
        summary.logins.push(DemoLogin {
            email: person.email.into(),
            full_name: person.full_name.into(),
            profile: profile.join(", "),
        });
        users.insert(person.email, DemoUser { contact_id: user.contact_id, email: person.email });
    }
    // Memberships that already exist are left as they are, so adding again is harmless.
    for (role_id, user_ids) in members {
        RoleServiceClient::new(admin.channel.clone())
            .add_role_members(admin.request(AddRoleMembersRequest { role_id, user_ids, ..Default::default() }))
            .await
            .step("identity: add the demo users to their roles")?;
    }
    summary.customer_organization_id = customer.id;
    summary.partner_organization_id = partner.id;
    summary.partner_account_id = partner.account_id.clone();
    summary.boston_role_id = boston.id.clone();
    summary.toronto_role_id = toronto.id.clone();
    summary.departments = DEPARTMENTS.iter().map(|d| d.to_string()).collect();
    Ok(Directory {
        customer_account_id: customer.account_id,
        boston_role_id: boston.id,
        toronto_role_id: toronto.id,
        department_ids,
        partner_account_id: partner.account_id,
        users,
    })
}

/// The account named `name` and the portal organization bound to it, found (through the
/// organization, as identity lists organizations by name but not accounts) or created.
async fn organization(admin: &Session, name: &str, account_type: AccountType) -> Result<Organization, DemoError> {
    let mut organizations = OrganizationServiceClient::new(admin.channel.clone());
    let listed = organizations
        .list_organizations(admin.request(ListOrganizationsRequest {
            partner: Some(account_type == AccountType::Partner),
            text: name.into(),
            page_size: 100,
            ..Default::default()
        }))
        .await
        .step(format!("identity: look up the organization {name}"))?;
    if let Some(organization) = listed.organizations.into_iter().find(|o| o.display_name == name) {
        return Ok(organization);
    }
    let account = Account { name: name.into(), r#type: account_type.into(), ..Default::default() };
    let account = AccountServiceClient::new(admin.channel.clone())
        .create_account(admin.request(CreateAccountRequest { account: Some(account), request_id: String::new() }))
        .await
        .step(format!("identity: create the account {name}"))?;
    let request = CreateOrganizationRequest {
        organization: Some(Organization { account_id: account.id, ..Default::default() }),
        request_id: String::new(),
    };
    organizations
        .create_organization(admin.request(request))
        .await
        .step(format!("identity: create the organization {name}"))
}

/// The organizational role `name` directly under the organization, found or created.
async fn organizational_role(admin: &Session, organization_id: &str, name: &str) -> Result<Role, DemoError> {
    let mut roles = RoleServiceClient::new(admin.channel.clone());
    let listed = roles
        .list_roles(admin.request(ListRolesRequest {
            kind: RoleKind::Organizational.into(),
            parent_role_id: organization_id.into(),
            page_size: 100,
            ..Default::default()
        }))
        .await
        .step(format!("identity: look up the role {name}"))?;
    if let Some(role) = listed.roles.into_iter().find(|r| r.display_name == name) {
        return Ok(role);
    }
    let role = Role {
        display_name: name.into(),
        kind: RoleKind::Organizational.into(),
        parent_role_id: organization_id.into(),
        ..Default::default()
    };
    roles
        .create_role(admin.request(CreateRoleRequest { role: Some(role), request_id: String::new() }))
        .await
        .step(format!("identity: create the role {name}"))
}

/// The department `name` of the account, found or created.
async fn department(admin: &Session, account_id: &str, name: &str) -> Result<Department, DemoError> {
    let mut accounts = AccountServiceClient::new(admin.channel.clone());
    let listed = accounts
        .list_departments(admin.request(ListDepartmentsRequest {
            account_id: account_id.into(),
            page_size: 100,
            ..Default::default()
        }))
        .await
        .step(format!("identity: look up the department {name}"))?;
    if let Some(department) = listed.departments.into_iter().find(|d| d.name == name) {
        return Ok(department);
    }
    let department = Department { account_id: account_id.into(), name: name.into(), ..Default::default() };
    accounts
        .create_department(
            admin.request(CreateDepartmentRequest { department: Some(department), request_id: String::new() }),
        )
        .await
        .step(format!("identity: create the department {name}"))
}

/// The id of a configured licence product of `edition` (the configuration names them).
async fn licence_product(admin: &Session, edition: PortalEdition) -> Result<String, DemoError> {
    let listed = LicenceServiceClient::new(admin.channel.clone())
        .list_licence_products(admin.request(ListLicenceProductsRequest::default()))
        .await
        .step("identity: list the licence products")?;
    listed
        .licence_products
        .into_iter()
        .find(|p| p.edition() == edition)
        .map(|p| p.id)
        .ok_or_else(|| DemoError::Missing(format!("no licence product of edition {edition:?} is configured")))
}

/// The demo user `person`, found by email or created (with a contact in the
/// organization's account, then placed in its department) with the demo password.
async fn user(
    admin: &Session,
    person: &Person,
    organization: &Organization,
    department_id: &str,
    licence_product_id: &str,
) -> Result<User, DemoError> {
    let mut users = UserServiceClient::new(admin.channel.clone());
    let listed = users
        .list_users(admin.request(ListUsersRequest { email: person.email.into(), ..Default::default() }))
        .await
        .step(format!("identity: look up {}", person.email))?;
    if let Some(user) = listed.users.into_iter().find(|u| u.email.eq_ignore_ascii_case(person.email)) {
        return Ok(user);
    }
    let request = CreateUserRequest {
        user: Some(User {
            email: person.email.into(),
            kind: UserKind::External.into(),
            organization_id: organization.id.clone(),
            ..Default::default()
        }),
        password: DEMO_PASSWORD.into(),
        licence_product_id: licence_product_id.into(),
        organization_administrator: person.organization_administrator,
        new_contact_full_name: person.full_name.into(),
        request_id: format!("demo-user-{}", person.email),
        ..Default::default()
    };
    let user =
        users.create_user(admin.request(request)).await.step(format!("identity: create the user {}", person.email))?;
    let contact = Contact {
        id: user.contact_id.clone(),
        job_title: person.job_title.into(),
        department_id: department_id.into(),
        ..Default::default()
    };
    let mut paths = vec!["job_title".to_owned()];
    paths.extend((!department_id.is_empty()).then(|| "department_id".to_owned()));
    let request = UpdateContactRequest { contact: Some(contact), update_mask: Some(prost_types::FieldMask { paths }) };
    ContactServiceClient::new(admin.channel.clone())
        .update_contact(admin.request(request))
        .await
        .step(format!("identity: place {} in the department", person.email))?;
    Ok(user)
}
