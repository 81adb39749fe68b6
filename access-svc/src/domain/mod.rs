//! The rules of access, as plain Rust: who a grant reaches, how conflicting grants
//! are decided ([`priority`]), the four-level check ([`evaluate`]), and the portal
//! configuration limits ([`sections`]). No tonic, no SQL.

pub mod delegation;
pub mod error;
pub mod evaluate;
pub mod priority;
pub mod sections;

pub use error::AccessError;

/// The priority a grant to a user has when it names none: above every role grant.
pub const USER_GRANT_PRIORITY: i64 = 1_000_000;
/// The highest explicit priority a grant or role may have.
pub const MAX_PRIORITY: i64 = 1_000_000;

/// Built-in role ids of identity that the seeded defaults name.
pub mod roles {
    pub const ALL_EXTERNAL_USERS: &str = "all-external-users";
    pub const ALL_EMPLOYEES: &str = "all-employees";
    pub const PARTNERS: &str = "partners";
    pub const PARTNER_PORTAL_USERS: &str = "partner-portal-users";
}

/// The system operation that lets an employee administer portal users and permissions.
pub const CAN_ADMINISTRATE_PORTAL_USERS: &str = "CanAdministratePortalUsers";

/// What kind of subject a grant is made to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GranteeKind {
    User,
    Role,
    Organization,
}

impl GranteeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Role => "role",
            Self::Organization => "organization",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "user" => Some(Self::User),
            "role" => Some(Self::Role),
            "organization" => Some(Self::Organization),
            _ => None,
        }
    }
}

/// One user, role or organization a grant is made to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Grantee {
    pub kind: GranteeKind,
    pub id: String,
}

impl Grantee {
    pub fn user(id: impl Into<String>) -> Self {
        Self { kind: GranteeKind::User, id: id.into() }
    }

    pub fn role(id: impl Into<String>) -> Self {
        Self { kind: GranteeKind::Role, id: id.into() }
    }

    /// The key grants are matched on. An organization is its role (identity gives the
    /// organization's role the organization's id), so both share the `r:` space.
    pub fn key(&self) -> String {
        match self.kind {
            GranteeKind::User => user_key(&self.id),
            GranteeKind::Role | GranteeKind::Organization => role_key(&self.id),
        }
    }

    pub fn is_user(&self) -> bool {
        self.kind == GranteeKind::User
    }
}

/// The grantee key of a user.
pub fn user_key(user_id: &str) -> String {
    format!("u:{user_id}")
}

/// The grantee key of a role or organization.
pub fn role_key(role_id: &str) -> String {
    format!("r:{role_id}")
}

/// The four object operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Operation {
    Create = 1,
    Read = 2,
    Update = 3,
    Delete = 4,
}

impl Operation {
    pub fn from_i32(value: i32) -> Option<Self> {
        match value {
            1 => Some(Self::Create),
            2 => Some(Self::Read),
            3 => Some(Self::Update),
            4 => Some(Self::Delete),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Create => "CREATE",
            Self::Read => "READ",
            Self::Update => "UPDATE",
            Self::Delete => "DELETE",
        }
    }

    /// The record right this operation needs on a named record.
    pub fn required_right(self) -> Right {
        match self {
            Self::Create | Self::Read => Right::Read,
            Self::Update => Right::Edit,
            Self::Delete => Right::Delete,
        }
    }

    /// True for the operations a read-only section refuses.
    pub fn writes(self) -> bool {
        self != Self::Read
    }
}

/// Allow or deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Effect {
    Allow = 1,
    Deny = 2,
}

impl Effect {
    pub fn from_i32(value: i32) -> Option<Self> {
        match value {
            1 => Some(Self::Allow),
            2 => Some(Self::Deny),
            _ => None,
        }
    }

    /// Deny is the more restrictive of the two at equal rank.
    pub fn restrictiveness(self) -> u8 {
        match self {
            Self::Allow => 0,
            Self::Deny => 1,
        }
    }
}

/// One record right.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Right {
    Read = 1,
    Edit = 2,
    Delete = 3,
}

impl Right {
    pub fn from_i32(value: i32) -> Option<Self> {
        match value {
            1 => Some(Self::Read),
            2 => Some(Self::Edit),
            3 => Some(Self::Delete),
            _ => None,
        }
    }
}

/// The rights a record grant carries. EDIT and DELETE imply READ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize)]
pub struct Rights {
    pub read: bool,
    pub edit: bool,
    pub delete: bool,
}

impl Rights {
    pub const ALL: Rights = Rights { read: true, edit: true, delete: true };

    /// The rights named, with READ added when EDIT or DELETE is there.
    pub fn of(rights: impl IntoIterator<Item = Right>) -> Self {
        let mut result = Self::default();
        for right in rights {
            match right {
                Right::Read => result.read = true,
                Right::Edit => result.edit = true,
                Right::Delete => result.delete = true,
            }
        }
        result.read |= result.edit || result.delete;
        result
    }

    pub fn is_empty(self) -> bool {
        !(self.read || self.edit || self.delete)
    }

    pub fn has(self, right: Right) -> bool {
        match right {
            Right::Read => self.read,
            Right::Edit => self.edit,
            Right::Delete => self.delete,
        }
    }

    /// True when every right of `other` is also here.
    pub fn covers(self, other: Rights) -> bool {
        (self.read || !other.read) && (self.edit || !other.edit) && (self.delete || !other.delete)
    }

    pub fn list(self) -> Vec<Right> {
        [(self.read, Right::Read), (self.edit, Right::Edit), (self.delete, Right::Delete)]
            .into_iter()
            .filter_map(|(held, right)| held.then_some(right))
            .collect()
    }
}

/// How much of a column a subject may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum ColumnLevel {
    Edit = 1,
    Read = 2,
    Hidden = 3,
}

impl ColumnLevel {
    pub fn from_i32(value: i32) -> Option<Self> {
        match value {
            1 => Some(Self::Edit),
            2 => Some(Self::Read),
            3 => Some(Self::Hidden),
            _ => None,
        }
    }

    /// Hidden over read over edit at equal rank.
    pub fn restrictiveness(self) -> u8 {
        self as u8
    }
}

/// The user a check is about, as identity describes them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Subject {
    pub user_id: String,
    /// External (portal) user; false for employees.
    pub external: bool,
    pub active: bool,
    pub system_administrator: bool,
    /// The portal organization; empty when none.
    pub organization_id: String,
    /// Every role the user is in, nearest first.
    pub role_ids: Vec<String>,
}

impl Subject {
    /// An unknown user: denied everything.
    pub fn unknown(user_id: &str) -> Self {
        Self {
            user_id: user_id.to_owned(),
            external: true,
            active: false,
            system_administrator: false,
            organization_id: String::new(),
            role_ids: Vec::new(),
        }
    }

    /// The keys of every grantee that reaches this user: the user, each role, the organization.
    pub fn grantee_keys(&self) -> Vec<String> {
        let mut keys = Vec::with_capacity(self.role_ids.len() + 2);
        keys.push(user_key(&self.user_id));
        for role in &self.role_ids {
            keys.push(role_key(role));
        }
        if !self.organization_id.is_empty() {
            keys.push(role_key(&self.organization_id));
        }
        keys.dedup();
        let mut seen = std::collections::HashSet::new();
        keys.retain(|key| seen.insert(key.clone()));
        keys
    }

    /// True when a grant to `grantee` reaches this user.
    pub fn is_reached_by(&self, grantee: &Grantee) -> bool {
        match grantee.kind {
            GranteeKind::User => grantee.id == self.user_id,
            GranteeKind::Role | GranteeKind::Organization => {
                grantee.id == self.organization_id || self.role_ids.iter().any(|role| *role == grantee.id)
            }
        }
    }
}

/// Lowercased object code: object codes compare case-insensitively.
pub fn object_key(code: &str) -> String {
    code.to_ascii_lowercase()
}

/// A code: a letter, then letters, digits or "_", 1 to `max` characters.
pub fn valid_code(code: &str, max: usize) -> Result<(), String> {
    let mut chars = code.chars();
    match chars.next() {
        None => Err("is required".into()),
        Some(_) if code.chars().count() > max => Err(format!("must be at most {max} characters")),
        Some(first) if !first.is_ascii_alphabetic() => Err("must start with a letter".into()),
        Some(_) if !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') => {
            Err("may contain only letters, digits and \"_\"".into())
        }
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rights_imply_read() {
        assert_eq!(Rights::of([Right::Edit]), Rights { read: true, edit: true, delete: false });
        assert!(Rights::of([]).is_empty());
        assert!(Rights::ALL.covers(Rights::of([Right::Delete])));
        assert!(!Rights::of([Right::Read]).covers(Rights::of([Right::Edit])));
    }

    #[test]
    fn keys_cover_user_roles_and_organization_once() {
        let subject = Subject {
            user_id: "u1".into(),
            external: true,
            active: true,
            system_administrator: false,
            organization_id: "org".into(),
            role_ids: vec!["boston".into(), "org".into(), "all-external-users".into()],
        };
        assert_eq!(subject.grantee_keys(), ["u:u1", "r:boston", "r:org", "r:all-external-users"]);
        assert!(subject.is_reached_by(&Grantee { kind: GranteeKind::Organization, id: "org".into() }));
        assert!(!subject.is_reached_by(&Grantee::user("u2")));
    }

    #[test]
    fn codes() {
        assert!(valid_code("KnowledgeBase", 128).is_ok());
        assert!(valid_code("1x", 128).is_err());
        assert!(valid_code("a-b", 128).is_err());
        assert!(valid_code("", 128).is_err());
    }
}
