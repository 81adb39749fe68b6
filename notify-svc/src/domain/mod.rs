//! Notify's rules, in plain Rust: the template codes and their macros, cultures
//! and their fallback, macro validation and rendering, and the delivery states
//! with their retry policy, where links may point. No tonic, no SQL.

pub mod catalog;
pub mod culture;
pub mod defaults;
pub mod delivery;
pub mod email;
mod error;
pub mod links;
pub mod template;

pub use error::NotifyError;
