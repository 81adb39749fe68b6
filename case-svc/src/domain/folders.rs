//! Folders' rules: a folder is a user's saved filter of a list section, in a tree of
//! that user's folders of the same section. Plain Rust: no tonic, no SQL.

use std::collections::HashMap;

/// The longest folder name, in characters.
pub const MAX_NAME_CHARS: usize = 250;
/// The most folders one user keeps.
pub const MAX_FOLDERS_PER_USER: i64 = 500;

/// The list sections folders filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Cases,
    KnowledgeBase,
}

impl Section {
    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            Section::Cases => "cases",
            Section::KnowledgeBase => "knowledge_base",
        }
    }

    /// The section of a stored code.
    pub fn from_code(code: &str) -> Option<Self> {
        [Section::Cases, Section::KnowledgeBase].into_iter().find(|s| s.code() == code)
    }
}

/// Checks a folder name: 1 to 250 characters, not blank, no control characters.
pub fn check_name(name: &str) -> Result<String, String> {
    let name = name.trim();
    match name.chars().count() {
        0 => Err("is required".into()),
        n if n > MAX_NAME_CHARS => Err(format!("must be at most {MAX_NAME_CHARS} characters (it has {n})")),
        _ if name.chars().any(char::is_control) => Err("must not contain control characters".into()),
        _ => Ok(name.to_owned()),
    }
}

/// The comparison key of a name: unique among the children of one parent.
pub fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// Whether moving `folder` under `new_parent` would put it inside itself, given each
/// folder's parent ('' for a root).
pub fn would_cycle(folder: &str, new_parent: &str, parents: &HashMap<String, String>) -> bool {
    let mut current = new_parent;
    for _ in 0..=parents.len() {
        if current.is_empty() {
            return false;
        }
        if current == folder {
            return true;
        }
        current = parents.get(current).map(String::as_str).unwrap_or("");
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_cannot_move_under_itself_or_its_descendants() {
        let parents: HashMap<String, String> =
            [("a", ""), ("b", "a"), ("c", "b"), ("d", "")].map(|(f, p)| (f.to_owned(), p.to_owned())).into();
        assert!(would_cycle("a", "a", &parents));
        assert!(would_cycle("a", "c", &parents));
        assert!(!would_cycle("c", "d", &parents));
        assert!(!would_cycle("b", "", &parents));
    }

    #[test]
    fn names_are_bounded_and_compared_case_insensitively() {
        assert_eq!(check_name(" Open ").unwrap(), "Open");
        assert!(check_name("").is_err() && check_name(&"x".repeat(251)).is_err());
        assert_eq!(name_key(" Open "), name_key("OPEN"));
        assert_eq!(Section::from_code("cases"), Some(Section::Cases));
    }
}
