//! The rules of case handling as plain Rust: working-time calendars, SLA clocks,
//! agreement selection, the status machine and case numbers. No tonic, no SQL.

pub mod agreement_selection;
pub mod attachments;
pub mod calendar;
pub mod case_columns;
pub mod error;
pub mod folders;
pub mod knowledge;
pub mod numbering;
pub mod sla;
pub mod status;

pub use error::CaseError;

/// The access-svc object that cases are.
pub const CASE_OBJECT: &str = "Case";
