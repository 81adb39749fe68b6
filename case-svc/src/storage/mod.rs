//! case-svc's tables, through sqlx's `Any` driver (PostgreSQL or SQLite).

pub mod folders;
pub mod knowledge;
pub mod knowledge_search;
