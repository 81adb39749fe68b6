//! The knowledge base's rules: what a valid article, tag, comment and search query
//! is, who may change a comment, how often a view counts, and what can go wrong.
//! Plain Rust: no tonic, no SQL.

use service_kit::{ApiError, clock::Millis, db::DbError, error::Violation};

/// The access-svc object that knowledge-base articles are (records of it when record
/// permissions are enabled for it).
pub const OBJECT_CODE: &str = "KnowledgeBase";

/// The longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 500;
/// The longest article body, in characters.
pub const MAX_BODY_CHARS: usize = 200_000;
/// The most tags an article carries.
pub const MAX_TAGS: usize = 20;
/// The longest tag, in characters.
pub const MAX_TAG_CHARS: usize = 50;
/// The longest comment, in characters.
pub const MAX_COMMENT_CHARS: usize = 4_000;
/// The longest search query, in characters.
pub const MAX_QUERY_CHARS: usize = 200;
/// The most distinct words a search query may hold.
pub const MAX_QUERY_WORDS: usize = 10;
/// The longest client request id, in characters.
pub const MAX_REQUEST_ID_CHARS: usize = 100;
/// How long a request id is remembered, and how long one user's views of an article
/// count as one view.
pub const DAY_MS: Millis = 24 * 60 * 60 * 1000;
/// The longest search snippet, in characters.
pub const SNIPPET_CHARS: usize = 300;

/// What can go wrong in the knowledge base.
#[derive(Debug, thiserror::Error)]
pub enum KnowledgeError {
    /// Bad input: (field, problem) pairs.
    #[error("invalid request")]
    Invalid(Vec<(String, String)>),
    /// Something the request names does not exist or is not the caller's (resource, id).
    #[error("{0} '{1}' was not found")]
    NotFound(&'static str, String),
    /// The resource changed since the caller read it.
    #[error("the {0} changed since you read it; read it again and retry with the new etag")]
    Stale(&'static str),
    /// The caller may not do this (reason, message).
    #[error("{1}")]
    Denied(&'static str, String),
    /// A folder name already used under the same parent.
    #[error("{0}")]
    NameTaken(String),
    /// A rule refuses the action (reason, message).
    #[error("{1}")]
    Refused(&'static str, String),
    /// A limit is reached (reason, message).
    #[error("{1}")]
    Limit(&'static str, String),
    /// Access-svc refused, or could not answer (never taken as an allow).
    #[error(transparent)]
    Access(#[from] ApiError),
    #[error("stored data cannot be read: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Store(#[from] DbError),
}

impl KnowledgeError {
    /// Bad input in one field.
    pub fn invalid(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Self::Invalid(vec![(field.into(), problem.into())])
    }
}

impl From<sqlx::Error> for KnowledgeError {
    fn from(error: sqlx::Error) -> Self {
        Self::Store(error.into())
    }
}

impl From<KnowledgeError> for ApiError {
    fn from(error: KnowledgeError) -> Self {
        match error {
            KnowledgeError::Invalid(problems) => ApiError::InvalidArgument(
                problems
                    .into_iter()
                    .map(|(field, description)| Violation { field, description, reason: None })
                    .collect(),
            ),
            KnowledgeError::NotFound(resource, id) => ApiError::NotFound { resource, id },
            KnowledgeError::Stale(_) => ApiError::Aborted { reason: "ETAG_MISMATCH", message: error.to_string() },
            KnowledgeError::Denied(reason, message) => ApiError::PermissionDenied { reason, message },
            KnowledgeError::NameTaken(message) => ApiError::AlreadyExists { reason: "FOLDER_NAME_TAKEN", message },
            KnowledgeError::Refused(reason, message) => ApiError::FailedPrecondition { reason, message },
            KnowledgeError::Limit(reason, message) => ApiError::ResourceExhausted { reason, message },
            KnowledgeError::Access(error) => error,
            KnowledgeError::Corrupt(detail) => ApiError::internal(detail),
            KnowledgeError::Store(db) => db.into(),
        }
    }
}

/// The kinds of article.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArticleType {
    Faq,
    RulesAndRegulations,
    DocumentTemplate,
    AdvertisingMaterial,
    General,
}

impl ArticleType {
    /// Every kind, in the contract's order.
    pub const ALL: [ArticleType; 5] = [
        ArticleType::Faq,
        ArticleType::RulesAndRegulations,
        ArticleType::DocumentTemplate,
        ArticleType::AdvertisingMaterial,
        ArticleType::General,
    ];

    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            ArticleType::Faq => "faq",
            ArticleType::RulesAndRegulations => "rules_and_regulations",
            ArticleType::DocumentTemplate => "document_template",
            ArticleType::AdvertisingMaterial => "advertising_material",
            ArticleType::General => "general",
        }
    }

    /// The kind of a stored code.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.code() == code)
    }
}

/// An article's editable content, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleContent {
    pub title: String,
    pub article_type: ArticleType,
    pub body: String,
    /// Normalised by [`normalize_tags`].
    pub tags: Vec<String>,
}

impl ArticleContent {
    /// The title lowercased, for case-insensitive filters and ordering.
    pub fn title_key(&self) -> String {
        self.title.to_lowercase()
    }
}

/// Which articles a list shows: every set part must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArticleFilter {
    /// Any of these kinds; empty means all.
    pub types: Vec<ArticleType>,
    /// All of these tag keys.
    pub tag_keys: Vec<String>,
    /// Lowercased text the title contains; empty means any title.
    pub title_contains: String,
    /// Written within [start, end).
    pub created: TimeSpan,
    /// Last changed within [start, end).
    pub updated: TimeSpan,
}

/// A half-open span of instants; an unset end leaves that side open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimeSpan {
    pub start: Option<Millis>,
    pub end: Option<Millis>,
}

/// The orders of an article list; ties are broken by id.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ArticleOrder {
    /// Most recently modified first.
    #[default]
    UpdatedFirst,
    /// Newest first.
    NewestFirst,
    /// By title, A to Z.
    ByTitle,
    /// Most viewed first.
    MostViewed,
    /// Most liked first.
    MostLiked,
    /// Popular: most viewed first, then most liked, then most recently modified.
    Popular,
}

/// Checks a title: 1 to 500 characters, not blank.
pub fn check_title(title: &str) -> Result<String, String> {
    let title = title.trim();
    match title.chars().count() {
        0 => Err("is required".into()),
        n if n > MAX_TITLE_CHARS => Err(format!("must be at most {MAX_TITLE_CHARS} characters (it has {n})")),
        _ => Ok(title.to_owned()),
    }
}

/// Checks a body: at most 200,000 characters.
pub fn check_body(body: &str) -> Result<String, String> {
    match body.chars().count() {
        n if n > MAX_BODY_CHARS => Err(format!("must be at most {MAX_BODY_CHARS} characters (it has {n})")),
        _ => Ok(body.to_owned()),
    }
}

/// Trims the tags, drops case-insensitive duplicates (the first spelling stays) and
/// sorts them case-insensitively; refuses empty or over-long tags, tags with control
/// characters, and more than 20.
pub fn normalize_tags(tags: &[String]) -> Result<Vec<String>, String> {
    let mut kept: Vec<String> = Vec::new();
    for (index, tag) in tags.iter().enumerate() {
        let tag = tag.trim();
        let length = tag.chars().count();
        if length == 0 || length > MAX_TAG_CHARS {
            return Err(format!("tag {index} must be 1 to {MAX_TAG_CHARS} characters"));
        }
        if tag.chars().any(char::is_control) {
            return Err(format!("tag {index} must not contain control characters"));
        }
        if !kept.iter().any(|k| k.to_lowercase() == tag.to_lowercase()) {
            kept.push(tag.to_owned());
        }
    }
    if kept.len() > MAX_TAGS {
        return Err(format!("must hold at most {MAX_TAGS} distinct tags (it has {})", kept.len()));
    }
    kept.sort_by_key(|t| (t.to_lowercase(), t.clone()));
    Ok(kept)
}

/// The comparison key of a tag.
pub fn tag_key(tag: &str) -> String {
    tag.trim().to_lowercase()
}

/// Checks a comment: 1 to 4,000 characters, not blank.
pub fn check_comment(body: &str) -> Result<String, String> {
    let trimmed = body.trim();
    match trimmed.chars().count() {
        0 => Err("is required".into()),
        n if n > MAX_COMMENT_CHARS => Err(format!("must be at most {MAX_COMMENT_CHARS} characters (it has {n})")),
        _ => Ok(trimmed.to_owned()),
    }
}

/// Checks a client request id: at most 100 characters (empty means none).
pub fn check_request_id(request_id: &str) -> Result<(), String> {
    if request_id.chars().count() > MAX_REQUEST_ID_CHARS {
        Err(format!("must be at most {MAX_REQUEST_ID_CHARS} characters"))
    } else {
        Ok(())
    }
}

/// The words a search looks for: the runs of letters and digits of the query,
/// lowercased, each once, in query order. Both search backends split text the same
/// way, so a word matches wherever it occurs as a word or the start of one.
pub fn search_words(query: &str) -> Result<Vec<String>, String> {
    let length = query.chars().count();
    if length > MAX_QUERY_CHARS {
        return Err(format!("must be at most {MAX_QUERY_CHARS} characters (it has {length})"));
    }
    let mut words: Vec<String> = Vec::new();
    for word in query.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
        let word = word.to_lowercase();
        if !words.contains(&word) {
            words.push(word);
        }
    }
    match words.len() {
        0 => Err("must contain at least one word of letters or digits".into()),
        n if n > MAX_QUERY_WORDS => Err(format!("must contain at most {MAX_QUERY_WORDS} distinct words (it has {n})")),
        _ => Ok(words),
    }
}

/// Up to 300 characters of the body around the first place a word starts, or else of
/// the title: what a search hit shows.
pub fn snippet(title: &str, body: &str, words: &[String]) -> String {
    let Some(start) = first_word_start(body, words) else {
        return title.chars().take(SNIPPET_CHARS).collect();
    };
    let lead = SNIPPET_CHARS / 3;
    let skip = body[..start].chars().count().saturating_sub(lead);
    let text: String = body.chars().skip(skip).take(SNIPPET_CHARS).collect();
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The byte offset in `text` where one of `words` (lowercase) begins a word.
fn first_word_start(text: &str, words: &[String]) -> Option<usize> {
    let mut previous_alphanumeric = false;
    for (offset, c) in text.char_indices() {
        if c.is_alphanumeric() && !previous_alphanumeric {
            let rest = text[offset..].chars().flat_map(char::to_lowercase);
            let here: String = rest.take(words.iter().map(|w| w.chars().count()).max().unwrap_or(0)).collect();
            if words.iter().any(|w| here.starts_with(w.as_str())) {
                return Some(offset);
            }
        }
        previous_alphanumeric = c.is_alphanumeric();
    }
    None
}

/// Only its author edits a comment: moderators delete, they do not put words in
/// someone's mouth.
pub fn may_edit_comment(caller_user_id: &str, author_user_id: &str) -> bool {
    caller_user_id == author_user_id
}

/// Its author deletes a comment, and so does a moderator (whoever may delete articles).
pub fn may_delete_comment(caller_user_id: &str, author_user_id: &str, moderator: bool) -> bool {
    caller_user_id == author_user_id || moderator
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_trimmed_deduplicated_case_insensitively_and_sorted() {
        let tags = ["  VPN ", "billing", "vpn", "Access"].map(String::from);
        assert_eq!(normalize_tags(&tags).unwrap(), ["Access", "billing", "VPN"]);
        assert!(normalize_tags(&[String::new()]).is_err());
        assert!(normalize_tags(&["x".repeat(51)]).is_err());
        assert!(normalize_tags(&["a\nb".into()]).is_err());
        let many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
        assert!(normalize_tags(&many).is_err());
        assert_eq!(normalize_tags(&many[..20]).unwrap().len(), 20);
    }

    #[test]
    fn search_words_are_lowercased_runs_of_letters_and_digits() {
        assert_eq!(search_words("Reset the VPN-password, reset!").unwrap(), ["reset", "the", "vpn", "password"]);
        assert_eq!(search_words("Zoë 42").unwrap(), ["zoë", "42"]);
        assert!(search_words(" -- ").is_err());
        assert!(search_words(&"a".repeat(201)).is_err());
        assert!(search_words("a b c d e f g h i j k").is_err());
    }

    #[test]
    fn snippets_start_near_the_first_match_or_show_the_title() {
        let body = format!("{} The VPN needs a token. {}", "filler ".repeat(100), "tail ".repeat(100));
        let words = vec!["vpn".to_owned()];
        let snippet = snippet("Remote access", &body, &words);
        assert!(snippet.contains("The VPN needs a token"), "{snippet}");
        assert!(snippet.chars().count() <= SNIPPET_CHARS);
        assert_eq!(super::snippet("Remote access", "nothing here", &words), "Remote access");
        assert_eq!(super::snippet("T", "prevpn", &words), "T", "a word matches only at a word start");
    }

    #[test]
    fn only_authors_edit_and_moderators_also_delete() {
        assert!(may_edit_comment("u1", "u1") && !may_edit_comment("staff", "u1"));
        assert!(may_delete_comment("u1", "u1", false));
        assert!(!may_delete_comment("u2", "u1", false));
        assert!(may_delete_comment("staff", "u1", true));
    }

    #[test]
    fn titles_bodies_and_comments_are_bounded() {
        assert_eq!(check_title("  Hello ").unwrap(), "Hello");
        assert!(check_title("  ").is_err() && check_title(&"x".repeat(501)).is_err());
        assert!(check_body(&"x".repeat(200_001)).is_err());
        assert!(check_comment("").is_err() && check_comment(&"x".repeat(4_001)).is_err());
        assert!(check_request_id(&"r".repeat(101)).is_err());
        assert_eq!(ArticleType::from_code("faq"), Some(ArticleType::Faq));
    }
}
