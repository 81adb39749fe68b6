//! Users: employees (the company's staff) and external users (customers, partners).

/// The two kinds of user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserKind {
    Employee,
    External,
}

impl UserKind {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Employee => "employee",
            Self::External => "external",
        }
    }

    /// Reads the stored form; anything unknown is treated as the less privileged kind.
    pub fn from_stored(value: &str) -> Self {
        if value == "employee" { Self::Employee } else { Self::External }
    }
}
