//! Contacts and the departments of accounts, through the gateway (issue 4; DESIGN.md §3
//! "Contacts and accounts"; case-svc selects service agreements by department).

use portal_proto::identity::{
    Account, AccountType, Address, AddressType, Contact, CreateAccountRequest, CreateContactRequest,
    CreateDepartmentRequest, CreateUserRequest, DeleteAccountRequest, DeleteDepartmentRequest, Department,
    GetAccountRequest, GetContactRequest, ListAccountsRequest, ListContactsRequest, ListDepartmentsRequest,
    UpdateAccountRequest, UpdateContactRequest, UpdateDepartmentRequest, User, UserKind,
    account_service_client::AccountServiceClient, contact_service_client::ContactServiceClient,
    user_service_client::UserServiceClient,
};
use portal_tests::{Suite, authed, fixtures, suite_tests};
use tonic::Code;
use tonic_types::StatusExt;

suite_tests!(
    departments_belong_to_one_account_and_contacts_work_in_them,
    people_change_only_their_personal_fields,
    accounts_are_listed_changed_and_deleted_only_when_unused,
    contacts_are_listed_within_what_the_caller_may_see,
);

fn mask(paths: &[&str]) -> Option<prost_types::FieldMask> {
    Some(prost_types::FieldMask { paths: paths.iter().map(|p| p.to_string()).collect() })
}

async fn department(suite: &Suite, token: &str, account_id: &str, name: &str) -> Result<Department, tonic::Status> {
    let department = Department { account_id: account_id.into(), name: name.into(), ..Default::default() };
    let request = CreateDepartmentRequest { department: Some(department), request_id: String::new() };
    AccountServiceClient::new(suite.channel()).create_department(authed(request, token)).await.map(|r| r.into_inner())
}

async fn departments_belong_to_one_account_and_contacts_work_in_them(suite: Suite) {
    let admin = suite.admin_token().await;
    let acme = fixtures::organization(&suite, &admin, "Acme", AccountType::Customer).await;
    let globex = fixtures::organization(&suite, &admin, "Globex", AccountType::Customer).await;
    let support = department(&suite, &admin, &acme.account_id, "Support").await.expect("a department");
    let twin = department(&suite, &admin, &acme.account_id, "SUPPORT").await.unwrap_err();
    assert_eq!(
        (twin.code(), twin.get_details_error_info().unwrap().reason),
        (Code::AlreadyExists, "DEPARTMENT_NAME_USED".into())
    );
    department(&suite, &admin, &globex.account_id, "Support").await.expect("another account may use the name");

    let mut contacts = ContactServiceClient::new(suite.channel());
    let contact = |account: &str, department: &str| Contact {
        full_name: "Carol Client".into(),
        email: "carol@acme.example".into(),
        account_id: account.into(),
        department_id: department.into(),
        ..Default::default()
    };
    let create = |contact: Contact| CreateContactRequest { contact: Some(contact), request_id: String::new() };
    let wrong = contacts.create_contact(authed(create(contact(&globex.account_id, &support.id)), &admin)).await;
    let wrong = wrong.unwrap_err();
    assert_eq!(wrong.code(), Code::InvalidArgument);
    assert_eq!(wrong.get_details_bad_request().unwrap().field_violations[0].field, "contact.department_id");
    let carol = contacts
        .create_contact(authed(create(contact(&acme.account_id, &support.id)), &admin))
        .await
        .expect("a contact in Acme's support department")
        .into_inner();
    assert_eq!(carol.department_id, support.id);

    let mut accounts = AccountServiceClient::new(suite.channel());
    let delete = DeleteDepartmentRequest { id: support.id.clone(), etag: String::new() };
    let in_use = accounts.delete_department(authed(delete.clone(), &admin)).await.unwrap_err();
    assert_eq!(in_use.get_details_error_info().unwrap().reason, "DEPARTMENT_IN_USE");
    let moved = UpdateContactRequest {
        contact: Some(Contact { id: carol.id.clone(), department_id: String::new(), ..Default::default() }),
        update_mask: mask(&["department_id"]),
    };
    let carol = contacts.update_contact(authed(moved, &admin)).await.unwrap().into_inner();
    assert!(carol.department_id.is_empty());
    let rename = UpdateDepartmentRequest {
        department: Some(Department {
            id: support.id.clone(),
            name: "Service desk".into(),
            etag: support.etag.clone(),
            ..Default::default()
        }),
        update_mask: mask(&["name"]),
    };
    let renamed = accounts.update_department(authed(rename.clone(), &admin)).await.unwrap().into_inner();
    assert_eq!(renamed.name, "Service desk");
    assert_eq!(accounts.update_department(authed(rename, &admin)).await.unwrap_err().code(), Code::Aborted);
    accounts.delete_department(authed(delete, &admin)).await.expect("an unused department can go");

    // An external user lists only the departments of their own organization's account.
    department(&suite, &admin, &acme.account_id, "Sales").await.unwrap();
    let (_, member) = fixtures::member(&suite, &admin, &acme.id, "ann@acme.example", false).await;
    let listed = accounts
        .list_departments(authed(ListDepartmentsRequest { account_id: String::new(), ..Default::default() }, &member))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.departments.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(), ["Sales"]);
}

async fn people_change_only_their_personal_fields(suite: Suite) {
    let admin = suite.admin_token().await;
    let acme = fixtures::organization(&suite, &admin, "Acme", AccountType::Customer).await;
    let globex = fixtures::organization(&suite, &admin, "Globex", AccountType::Customer).await;
    let (ann, ann_token) = fixtures::member(&suite, &admin, &acme.id, "ann@acme.example", false).await;
    let (_, globex_admin) = fixtures::member(&suite, &admin, &globex.id, "boss@globex.example", true).await;
    let mut contacts = ContactServiceClient::new(suite.channel());
    let update = |paths: &[&str]| UpdateContactRequest {
        contact: Some(Contact {
            id: ann.contact_id.clone(),
            full_name: "Ann Smith".into(),
            job_title: "Buyer".into(),
            email: "other@acme.example".into(),
            account_id: globex.account_id.clone(),
            ..Default::default()
        }),
        update_mask: mask(paths),
    };
    let own = contacts.update_contact(authed(update(&["full_name", "job_title"]), &ann_token)).await.unwrap();
    assert_eq!((own.get_ref().full_name.as_str(), own.get_ref().job_title.as_str()), ("Ann Smith", "Buyer"));
    let account = contacts.update_contact(authed(update(&["account_id"]), &ann_token)).await.unwrap_err();
    assert_eq!(account.code(), Code::PermissionDenied);
    let username = contacts.update_contact(authed(update(&["email"]), &admin)).await.unwrap_err();
    assert_eq!(username.get_details_error_info().unwrap().reason, "CONTACT_EMAIL_IS_USERNAME");
    let hidden = contacts.get_contact(authed(GetContactRequest { id: ann.contact_id.clone() }, &globex_admin)).await;
    assert_eq!(hidden.unwrap_err().code(), Code::NotFound, "another organization's administrator sees nothing");
    let unknown = contacts.update_contact(authed(update(&["user_id"]), &admin)).await.unwrap_err();
    assert_eq!(unknown.code(), Code::InvalidArgument);
}

async fn accounts_are_listed_changed_and_deleted_only_when_unused(suite: Suite) {
    let admin = suite.admin_token().await;
    let acme = fixtures::organization(&suite, &admin, "Acme", AccountType::Customer).await;
    let (_, member) = fixtures::member(&suite, &admin, &acme.id, "ann@acme.example", false).await;
    let mut accounts = AccountServiceClient::new(suite.channel());
    let lonely = Account { name: "Lonely Ltd".into(), r#type: AccountType::Partner.into(), ..Default::default() };
    let lonely = accounts
        .create_account(authed(CreateAccountRequest { account: Some(lonely), request_id: String::new() }, &admin))
        .await
        .unwrap()
        .into_inner();

    let acme_account = accounts.get_account(authed(GetAccountRequest { id: acme.account_id.clone() }, &member)).await;
    assert_eq!(acme_account.unwrap().into_inner().organization_id, acme.id, "the bound organization is shown");
    let hidden = accounts.get_account(authed(GetAccountRequest { id: lonely.id.clone() }, &member)).await;
    assert_eq!(hidden.unwrap_err().code(), Code::NotFound);
    let list = |text: &str| ListAccountsRequest { text: text.into(), ..Default::default() };
    let own = accounts.list_accounts(authed(list(""), &member)).await.unwrap().into_inner().accounts;
    assert_eq!(own.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(), ["Acme"]);
    let partners = ListAccountsRequest { r#type: AccountType::Partner.into(), ..Default::default() };
    let partners = accounts.list_accounts(authed(partners, &admin)).await.unwrap().into_inner().accounts;
    assert_eq!(partners.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(), ["Lonely Ltd"]);

    let changed = Account {
        id: lonely.id.clone(),
        web: "https://lonely.example".into(),
        addresses: vec![Address { r#type: AddressType::Actual.into(), city: "Toronto".into(), ..Default::default() }],
        etag: lonely.etag.clone(),
        ..Default::default()
    };
    let request = UpdateAccountRequest { account: Some(changed), update_mask: mask(&["web", "addresses"]) };
    let updated = accounts.update_account(authed(request.clone(), &admin)).await.unwrap().into_inner();
    assert_eq!((updated.web.as_str(), updated.addresses[0].city.as_str()), ("https://lonely.example", "Toronto"));
    assert_eq!(accounts.update_account(authed(request, &admin)).await.unwrap_err().code(), Code::Aborted);

    let delete = |id: &str| DeleteAccountRequest { id: id.into(), etag: String::new() };
    let in_use = accounts.delete_account(authed(delete(&acme.account_id), &admin)).await.unwrap_err();
    assert_eq!(in_use.get_details_error_info().unwrap().reason, "ACCOUNT_IN_USE");
    let denied = accounts.delete_account(authed(delete(&acme.account_id), &member)).await.unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    accounts.delete_account(authed(delete(&lonely.id), &admin)).await.expect("an unused account can go");
    let gone = accounts.get_account(authed(GetAccountRequest { id: lonely.id }, &admin)).await;
    assert_eq!(gone.unwrap_err().code(), Code::NotFound);
}

async fn contacts_are_listed_within_what_the_caller_may_see(suite: Suite) {
    let admin = suite.admin_token().await;
    let acme = fixtures::organization(&suite, &admin, "Acme", AccountType::Customer).await;
    let globex = fixtures::organization(&suite, &admin, "Globex", AccountType::Customer).await;
    let (_, acme_admin) = fixtures::member(&suite, &admin, &acme.id, "boss@acme.example", true).await;
    let (ann, ann_token) = fixtures::member(&suite, &admin, &acme.id, "ann@acme.example", false).await;
    fixtures::member(&suite, &admin, &globex.id, "bob@globex.example", false).await;
    let mut contacts = ContactServiceClient::new(suite.channel());
    let prospect = Contact {
        full_name: "Carol Prospect".into(),
        email: "carol@acme.example".into(),
        account_id: acme.account_id.clone(),
        ..Default::default()
    };
    let carol = contacts
        .create_contact(authed(CreateContactRequest { contact: Some(prospect), request_id: String::new() }, &admin))
        .await
        .unwrap()
        .into_inner();
    assert!(carol.user_id.is_empty(), "a contact without a user");
    // Sorted here: the two backends collate upper and lower case differently.
    let names = |list: Vec<Contact>| {
        let mut names = list.into_iter().map(|c| c.full_name).collect::<Vec<_>>();
        names.sort();
        names
    };
    let list = |request: ListContactsRequest, token: &str| {
        let mut contacts = contacts.clone();
        let request = authed(request, token);
        async move { contacts.list_contacts(request).await.unwrap().into_inner() }
    };

    let everyone = list(ListContactsRequest::default(), &admin).await.contacts;
    assert_eq!(names(everyone).len(), 5, "the administrator's, three members' and Carol's");
    let acme_people = list(ListContactsRequest::default(), &acme_admin).await.contacts;
    let ann_contact = acme_people.iter().find(|c| c.id == ann.contact_id).expect("ann's contact is listed");
    assert_eq!(ann_contact.user_id, ann.id, "a listed contact names its user");
    assert_eq!(names(acme_people), ["Carol Prospect", "ann", "boss"], "an organization administrator's scope");
    assert_eq!(names(list(ListContactsRequest::default(), &ann_token).await.contacts), ["ann"], "only one's own");
    let without_user = ListContactsRequest { has_user: Some(false), ..Default::default() };
    assert_eq!(names(list(without_user, &admin).await.contacts), ["Carol Prospect"]);
    let by_email = ListContactsRequest { email: "CAROL@acme.example".into(), ..Default::default() };
    assert_eq!(list(by_email, &admin).await.contacts.len(), 1);
    let first = list(ListContactsRequest { page_size: 2, ..Default::default() }, &admin).await;
    let rest = ListContactsRequest { page_size: 2, page_token: first.next_page_token, ..Default::default() };
    let second = list(rest, &admin).await;
    assert_eq!(first.contacts.len() + second.contacts.len(), 4);

    // A user for Carol's contact takes the contact's email when none is given.
    let user = User { kind: UserKind::External.into(), contact_id: carol.id.clone(), ..Default::default() };
    let request =
        CreateUserRequest { user: Some(user), licence_product_id: fixtures::PRODUCT.into(), ..Default::default() };
    let created =
        UserServiceClient::new(suite.channel()).create_user(authed(request, &admin)).await.unwrap().into_inner();
    assert_eq!((created.email.as_str(), created.contact_id.as_str()), ("carol@acme.example", carol.id.as_str()));
    let shown = contacts.get_contact(authed(GetContactRequest { id: carol.id.clone() }, &admin)).await.unwrap();
    assert_eq!(shown.into_inner().user_id, created.id, "the contact now names its user");
}
