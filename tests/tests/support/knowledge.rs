//! Helpers of the knowledge-base tests: external users, articles and clients.

#![allow(dead_code)]

use portal_proto::{
    case::{
        Article, ArticleType, CreateArticleRequest, folder_service_client::FolderServiceClient,
        knowledge_base_service_client::KnowledgeBaseServiceClient, tag_service_client::TagServiceClient,
    },
    identity::{CreateUserRequest, User, UserKind, user_service_client::UserServiceClient},
};
use portal_tests::{Suite, authed};
use tonic::{Status, transport::Channel};
use tonic_types::StatusExt;

/// The licence product external test users get.
pub const PRODUCT: &str = "customer-portal-on-site";
/// Their password.
pub const PASSWORD: &str = "a knowledge base reader password";

/// Creates an external user with `email` (as the administrator) and returns their user id
/// and session token.
pub async fn external_user(suite: &Suite, admin: &str, email: &str) -> (String, String) {
    let request = CreateUserRequest {
        user: Some(User { email: email.into(), kind: UserKind::External.into(), ..Default::default() }),
        licence_product_id: PRODUCT.into(),
        password: PASSWORD.into(),
        ..Default::default()
    };
    let user = UserServiceClient::new(suite.channel()).create_user(authed(request, admin)).await.unwrap().into_inner();
    let token = suite.login(email, PASSWORD).await.expect("the new user logs in");
    (user.id, token)
}

pub fn knowledge(suite: &Suite) -> KnowledgeBaseServiceClient<Channel> {
    KnowledgeBaseServiceClient::new(suite.channel())
}

pub fn folders(suite: &Suite) -> FolderServiceClient<Channel> {
    FolderServiceClient::new(suite.channel())
}

pub fn tags(suite: &Suite) -> TagServiceClient<Channel> {
    TagServiceClient::new(suite.channel())
}

/// An article to create.
pub fn draft(title: &str, article_type: ArticleType, body: &str, tags: &[&str]) -> Article {
    Article {
        title: title.into(),
        r#type: article_type.into(),
        body: body.into(),
        tags: tags.iter().map(|t| t.to_string()).collect(),
        ..Default::default()
    }
}

/// Creates an article as `token`.
pub async fn create_article(suite: &Suite, token: &str, article: Article) -> Result<Article, Status> {
    let request = CreateArticleRequest { article: Some(article), request_id: String::new() };
    knowledge(suite).create_article(authed(request, token)).await.map(|r| r.into_inner())
}

pub use portal_tests::error_reason as reason;

/// The fields a BadRequest names.
pub fn bad_fields(status: &Status) -> Vec<String> {
    status
        .get_details_bad_request()
        .map(|bad| bad.field_violations.into_iter().map(|v| v.field).collect())
        .unwrap_or_default()
}
