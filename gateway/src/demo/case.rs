//! The demo's service desk (portal.case.v1): a catalog with response and resolution
//! times, a Mon-Fri 9-18 calendar, agreements at every level, cases in several states
//! opened by the demo users (staff steps taken as the administrator) and
//! knowledge-base articles.

use portal_proto::case::{
    Article, ArticleType, Calendar, CancelCaseRequest, Case, CaseCategory, CaseStatus, CloseCaseRequest,
    CreateArticleRequest, CreateCalendarRequest, CreateCaseRequest, CreateServiceAgreementRequest,
    CreateServiceItemRequest, DayOfWeek, Holiday, ServiceAgreement, ServiceAgreementStatus, ServiceItem,
    TransitionCaseRequest, WorkingDay, WorkingPeriod, calendar_service_client::CalendarServiceClient,
    case_service_client::CaseServiceClient, knowledge_base_service_client::KnowledgeBaseServiceClient,
    service_agreement::ServiceObject, service_agreement_service_client::ServiceAgreementServiceClient,
    service_catalog_service_client::ServiceCatalogServiceClient,
};
use tonic::Code;

use super::{DEMO_PASSWORD, DemoError, DemoSummary, Session, Step, identity::Directory};

/// (name, category, response minutes, resolution minutes), in working time.
const SERVICES: [(&str, CaseCategory, i64, i64); 4] = [
    ("Email and calendar", CaseCategory::Incident, 120, 480),
    ("VPN access", CaseCategory::ServiceRequest, 240, 960),
    ("Laptop replacement", CaseCategory::ServiceRequest, 480, 2400),
    ("Billing question", CaseCategory::Consultation, 240, 1440),
];

/// Where a demo case ends up, and who moves it there.
#[derive(Clone, Copy)]
enum Outcome {
    New,
    InProgress,
    WaitingForResponse,
    Resolved,
    ClosedByUser,
    CanceledByUser,
}

struct DemoCase {
    key: &'static str,
    author: &'static str,
    service: usize,
    subject: &'static str,
    description: &'static str,
    outcome: Outcome,
}

const CASES: [DemoCase; 6] = [
    DemoCase {
        key: "outlook",
        author: "brian.walsh@acme.example",
        service: 0,
        subject: "Outlook cannot send email",
        description: "Since this morning every message stays in the outbox.",
        outcome: Outcome::New,
    },
    DemoCase {
        key: "vpn",
        author: "bella.cruz@acme.example",
        service: 1,
        subject: "VPN access for a new laptop",
        description: "Please enable the VPN profile on my new laptop.",
        outcome: Outcome::InProgress,
    },
    DemoCase {
        key: "screen",
        author: "tom.leroux@acme.example",
        service: 2,
        subject: "Broken laptop screen",
        description: "The screen flickers and then goes dark.",
        outcome: Outcome::WaitingForResponse,
    },
    DemoCase {
        key: "invoice",
        author: "tara.singh@acme.example",
        service: 3,
        subject: "Invoice shows the wrong tax rate",
        description: "Invoice 2026-114 applies 20% instead of 13%.",
        outcome: Outcome::Resolved,
    },
    DemoCase {
        key: "mailbox",
        author: "olivia.bennett@acme.example",
        service: 0,
        subject: "Shared mailbox for the support team",
        description: "Create support@acme.example for the five people of the IT team.",
        outcome: Outcome::ClosedByUser,
    },
    DemoCase {
        key: "outlook-again",
        author: "brian.walsh@acme.example",
        service: 0,
        subject: "Outlook cannot send email (again)",
        description: "Opened twice by mistake.",
        outcome: Outcome::CanceledByUser,
    },
];

/// (key, type, title, body, tags); the administrator writes these.
const ARTICLES: [(&str, ArticleType, &str, &str, &[&str]); 3] = [
    (
        "reset-password",
        ArticleType::Faq,
        "How do I reset my portal password?",
        "Choose \"Forgot password\" on the login page and follow the link we email you. The link works once and \
         for one hour.",
        &["password", "login"],
    ),
    (
        "support-hours",
        ArticleType::Faq,
        "When is the service desk open?",
        "Monday to Friday, 9:00 to 18:00 Eastern time, except public holidays. Response and resolution times \
         count working hours only.",
        &["sla", "hours"],
    ),
    (
        "acceptable-use",
        ArticleType::RulesAndRegulations,
        "Rules for using the support portal",
        "One issue per case; attach screenshots rather than passwords; close cases you no longer need.",
        &["rules"],
    ),
];

pub async fn load(admin: &Session, directory: &Directory, summary: &mut DemoSummary) -> Result<(), DemoError> {
    let service_ids = catalog(admin, summary).await?;
    let calendar = calendar(admin).await?;
    summary.calendar = format!("{} ({})", calendar.name, calendar.time_zone);
    agreements(admin, directory, &service_ids, &calendar.id, summary).await?;
    for demo in &CASES {
        let case = open_case(admin, directory, demo, &service_ids).await?;
        summary.cases.push(format!("{} {} ({:?})", case.number, case.subject, case.status()));
    }
    articles(admin, summary).await?;
    boston_article(admin, summary).await
}

async fn catalog(admin: &Session, summary: &mut DemoSummary) -> Result<Vec<String>, DemoError> {
    let mut catalog = ServiceCatalogServiceClient::new(admin.channel.clone());
    let mut ids = Vec::new();
    for (index, (name, category, response, resolution)) in SERVICES.into_iter().enumerate() {
        let item = ServiceItem {
            name: name.into(),
            category: category.into(),
            response_time_minutes: response,
            resolution_time_minutes: resolution,
            active: true,
            ..Default::default()
        };
        let request =
            CreateServiceItemRequest { service_item: Some(item), request_id: format!("demo-service-{index}") };
        let item = catalog.create_service_item(admin.request(request)).await.step(format!("case: service {name}"))?;
        summary.service_items.push(format!("{} ({} h / {} h)", item.name, response / 60, resolution / 60));
        ids.push(item.id);
    }
    Ok(ids)
}

async fn calendar(admin: &Session) -> Result<Calendar, DemoError> {
    let day = |day: DayOfWeek| WorkingDay {
        day: day.into(),
        periods: vec![WorkingPeriod { start_minute: 9 * 60, end_minute: 18 * 60 }],
    };
    let holiday =
        |date: &str, name: &str| Holiday { date: date.into(), name: name.into(), working_periods: Vec::new() };
    let calendar = Calendar {
        name: "Service desk hours".into(),
        time_zone: "America/New_York".into(),
        weekly_hours: [
            DayOfWeek::Monday,
            DayOfWeek::Tuesday,
            DayOfWeek::Wednesday,
            DayOfWeek::Thursday,
            DayOfWeek::Friday,
        ]
        .into_iter()
        .map(day)
        .collect(),
        holidays: vec![
            holiday("2026-11-26", "Thanksgiving Day"),
            holiday("2026-12-25", "Christmas Day"),
            holiday("2027-01-01", "New Year's Day"),
        ],
        ..Default::default()
    };
    let request = CreateCalendarRequest { calendar: Some(calendar), request_id: "demo-calendar".into() };
    CalendarServiceClient::new(admin.channel.clone())
        .create_calendar(admin.request(request))
        .await
        .step("case: the service desk calendar")
}

async fn agreements(
    admin: &Session,
    directory: &Directory,
    service_ids: &[String],
    calendar_id: &str,
    summary: &mut DemoSummary,
) -> Result<(), DemoError> {
    let olivia = directory.user("olivia.bennett@acme.example")?;
    let it = directory.department_ids.get("IT").cloned().unwrap_or_default();
    let levels = [
        ("default", "Standard support", None, "every customer without an agreement of their own"),
        (
            "account",
            "Acme Inc business support",
            Some(ServiceObject::AccountId(directory.customer_account_id.clone())),
            "every Acme Inc contact",
        ),
        ("department", "Acme IT priority support", Some(ServiceObject::DepartmentId(it)), "Acme's IT department"),
        (
            "contact",
            "Olivia Bennett VIP support",
            Some(ServiceObject::ContactId(olivia.contact_id.clone())),
            "Acme's IT manager",
        ),
    ];
    let mut agreements = ServiceAgreementServiceClient::new(admin.channel.clone());
    for (key, name, object, scope) in levels {
        let agreement = ServiceAgreement {
            name: name.into(),
            is_default: object.is_none(),
            service_object: object,
            service_item_ids: service_ids.to_vec(),
            calendar_id: calendar_id.into(),
            status: ServiceAgreementStatus::Active.into(),
            description: format!("Covers {scope}."),
            ..Default::default()
        };
        let request = CreateServiceAgreementRequest {
            service_agreement: Some(agreement),
            request_id: format!("demo-agreement-{key}"),
        };
        agreements.create_service_agreement(admin.request(request)).await.step(format!("case: agreement {name}"))?;
        summary.agreements.push(format!("{name} ({key})"));
    }
    Ok(())
}

/// Opens `demo` as its author and, the first time only (while it is still New), moves it
/// to its outcome.
async fn open_case(
    admin: &Session,
    directory: &Directory,
    demo: &DemoCase,
    service_ids: &[String],
) -> Result<Case, DemoError> {
    let author = Session::login(&admin.channel, directory.user(demo.author)?.email, DEMO_PASSWORD)
        .await
        .map_err(|status| DemoError::Call { step: format!("identity: log in as {}", demo.author), status })?;
    let case = Case {
        subject: demo.subject.into(),
        description: demo.description.into(),
        service_item_id: service_ids.get(demo.service).cloned().unwrap_or_default(),
        ..Default::default()
    };
    let request = CreateCaseRequest { case: Some(case), request_id: format!("demo-case-{}", demo.key) };
    let mut as_author = CaseServiceClient::new(author.channel.clone());
    let mut case = as_author.create_case(author.request(request)).await.step(format!("case: open {}", demo.key))?;
    if case.status() != CaseStatus::New {
        return Ok(case);
    }
    let mut as_staff = CaseServiceClient::new(admin.channel.clone());
    let staff_steps: &[CaseStatus] = match demo.outcome {
        Outcome::New | Outcome::CanceledByUser => &[],
        Outcome::InProgress => &[CaseStatus::InProgress],
        Outcome::WaitingForResponse => &[CaseStatus::InProgress, CaseStatus::WaitingForResponse],
        Outcome::Resolved | Outcome::ClosedByUser => &[CaseStatus::InProgress, CaseStatus::Resolved],
    };
    for &target in staff_steps {
        let request = TransitionCaseRequest {
            id: case.id.clone(),
            target_status: target.into(),
            solution: if target == CaseStatus::Resolved { "Done: see the comment.".into() } else { String::new() },
            comment: format!("Moved to {target:?} by the service desk."),
            ..Default::default()
        };
        case = as_staff.transition_case(admin.request(request)).await.step(format!("case: move {}", demo.key))?;
    }
    match demo.outcome {
        Outcome::ClosedByUser => {
            let request =
                CloseCaseRequest { id: case.id.clone(), comment: "Works, thank you.".into(), ..Default::default() };
            case = as_author.close_case(author.request(request)).await.step(format!("case: close {}", demo.key))?;
        }
        Outcome::CanceledByUser => {
            let request = CancelCaseRequest { id: case.id.clone(), comment: "Duplicate.".into(), ..Default::default() };
            case = as_author.cancel_case(author.request(request)).await.step(format!("case: cancel {}", demo.key))?;
        }
        _ => {}
    }
    Ok(case)
}

async fn articles(admin: &Session, summary: &mut DemoSummary) -> Result<(), DemoError> {
    let mut knowledge = KnowledgeBaseServiceClient::new(admin.channel.clone());
    for (key, kind, title, body, tags) in ARTICLES {
        let article = Article {
            title: title.into(),
            r#type: kind.into(),
            body: body.into(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            ..Default::default()
        };
        let request = CreateArticleRequest { article: Some(article), request_id: format!("demo-article-{key}") };
        let article = knowledge.create_article(admin.request(request)).await.step(format!("case: article {key}"))?;
        summary.articles.push(format!("{} ({:?})", article.title, article.r#type()));
    }
    Ok(())
}

/// Seed 003's example article: written by a Boston user, so Toronto reads it through the
/// default record rule. case-svc may keep article writing to staff; then it is noted.
async fn boston_article(admin: &Session, summary: &mut DemoSummary) -> Result<(), DemoError> {
    let brian = Session::login(&admin.channel, "brian.walsh@acme.example", DEMO_PASSWORD)
        .await
        .map_err(|status| DemoError::Call { step: "identity: log in as the Boston user".into(), status })?;
    let article = Article {
        title: "Boston office: printing from a laptop".into(),
        r#type: ArticleType::Faq.into(),
        body: "Add the printer BOS-PRN-2 from Settings > Printers; it is on the third floor.".into(),
        tags: vec!["boston".into(), "printing".into()],
        ..Default::default()
    };
    let request = CreateArticleRequest { article: Some(article), request_id: "demo-article-boston-printing".into() };
    match KnowledgeBaseServiceClient::new(brian.channel.clone()).create_article(brian.request(request)).await {
        Ok(created) => {
            let created = created.into_inner();
            summary.articles.push(format!("{} (by Boston, read by Toronto)", created.title));
            Ok(())
        }
        Err(status) if status.code() == Code::PermissionDenied => {
            summary.notes.push(format!("case: a Boston user may not write articles ({})", status.message()));
            Ok(())
        }
        Err(status) => Err(DemoError::Call { step: "case: the Boston user's article".into(), status }),
    }
}
