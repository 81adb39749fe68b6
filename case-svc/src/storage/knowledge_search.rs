//! Full-text search of articles: the one place where the two backends differ.
//!
//! PostgreSQL matches a stored, weighted tsvector (title A, tags B, body C; the `simple`
//! configuration, so no stemming and no stop words) behind a GIN index; SQLite matches
//! an FTS5 table (title, tags, body; the `unicode61` tokenizer keeping diacritics) that
//! triggers keep in step with `kb_articles`. Both split text into runs of letters and
//! digits and lowercase it, match every query word as a word or word prefix, and score
//! alike: 3 per word found in the title, 2 in a tag, 1 in the body. The index is not
//! portable SQL, so [`prepare`] creates it when the service starts, after the migrations.

use service_kit::db::{Backend, Database};
use sqlx::{AssertSqlSafe, Executor};

use super::knowledge::{ArticleRecord, Keyset, KnowledgeStore, Position, Reach, Statement, article_columns};
use crate::domain::knowledge::{ArticleFilter, KnowledgeError};

/// Creates the backend's search index if it is missing. Idempotent, and safe for
/// replicas starting at the same time.
pub async fn prepare(db: &Database) -> Result<(), KnowledgeError> {
    let statements: &[&str] = match db.backend {
        Backend::Postgres => &[
            "ALTER TABLE kb_articles ADD COLUMN IF NOT EXISTS search_vector tsvector GENERATED ALWAYS AS \
             (setweight(to_tsvector('simple', title), 'A') || setweight(to_tsvector('simple', tags), 'B') \
             || setweight(to_tsvector('simple', body), 'C')) STORED",
            "CREATE INDEX IF NOT EXISTS kb_articles_search ON kb_articles USING GIN (search_vector)",
        ],
        Backend::Sqlite => &[
            "CREATE VIRTUAL TABLE IF NOT EXISTS kb_article_fts USING fts5(article_id UNINDEXED, title, tags, body, \
             tokenize = 'unicode61 remove_diacritics 0')",
            "CREATE TRIGGER IF NOT EXISTS kb_articles_fts_insert AFTER INSERT ON kb_articles BEGIN \
             INSERT INTO kb_article_fts (article_id, title, tags, body) VALUES (new.id, new.title, new.tags, new.body); \
             END",
            "CREATE TRIGGER IF NOT EXISTS kb_articles_fts_update AFTER UPDATE OF title, tags, body ON kb_articles BEGIN \
             UPDATE kb_article_fts SET title = new.title, tags = new.tags, body = new.body WHERE article_id = new.id; \
             END",
            "CREATE TRIGGER IF NOT EXISTS kb_articles_fts_delete AFTER DELETE ON kb_articles BEGIN \
             DELETE FROM kb_article_fts WHERE article_id = old.id; END",
        ],
    };
    for statement in statements {
        // Replicas starting together may race to create the same object; the loser's
        // retry finds it and does nothing.
        if db.writer.execute(AssertSqlSafe(*statement)).await.is_err() {
            db.writer.execute(AssertSqlSafe(*statement)).await?;
        }
    }
    Ok(())
}

/// A search hit: the article (with its body, for the snippet) and its score.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SearchHit {
    #[sqlx(flatten)]
    pub article: ArticleRecord,
    pub score: i64,
}

/// The order of search hits: best score first, then more likes, more views, most
/// recently modified, id.
pub fn search_keyset() -> Keyset {
    Keyset { columns: vec!["s.score", "s.like_count", "s.view_count", "s.updated_at", "s.id"], descending: true }
}

impl KnowledgeStore {
    /// A page of the articles holding every word of `words` (lowercase runs of letters
    /// and digits) that also match `filter`, best first, for `reader`.
    pub async fn search_articles(
        &self,
        reader: &str,
        reach: &Reach,
        words: &[String],
        filter: &ArticleFilter,
        after: Option<&Position>,
        limit: i64,
    ) -> Result<Vec<SearchHit>, KnowledgeError> {
        let mut statement = Statement::new("");
        let reader = statement.text(reader);
        let (matches, score) = match_and_score(self.db.backend, &mut statement, words);
        statement.push(&format!(
            "SELECT * FROM (SELECT {}, {score} AS score FROM kb_articles a WHERE {matches}",
            article_columns(&reader, true)
        ));
        statement.restrict(reach)?;
        statement.filter_articles(filter);
        statement.push(") s WHERE 1 = 1");
        statement.page(&search_keyset(), after, limit);
        statement.fetch_all(&mut *self.connection().await?).await
    }
}

/// The backend's condition that an article (`a`) holds every word, and its score.
fn match_and_score(backend: Backend, statement: &mut Statement, words: &[String]) -> (String, String) {
    const POINTS: [(&str, &str, i64); 3] = [("A", "title", 3), ("B", "tags", 2), ("C", "body", 1)];
    let mut terms = Vec::new();
    let matches = match backend {
        Backend::Postgres => {
            let all = words.iter().map(|w| format!("{w}:*")).collect::<Vec<_>>().join(" & ");
            let all = statement.text(&all);
            for word in words {
                for (weight, _, points) in POINTS {
                    let query = statement.text(&format!("{word}:*{weight}"));
                    terms.push(format!(
                        "CASE WHEN a.search_vector @@ to_tsquery('simple', {query}) THEN {points} ELSE 0 END"
                    ));
                }
            }
            format!("a.search_vector @@ to_tsquery('simple', {all})")
        }
        Backend::Sqlite => {
            let fts = "SELECT article_id FROM kb_article_fts WHERE kb_article_fts MATCH";
            let all = words.iter().map(|w| format!("\"{w}\" *")).collect::<Vec<_>>().join(" AND ");
            let all = statement.text(&all);
            for word in words {
                for (_, column, points) in POINTS {
                    let query = statement.text(&format!("{column} : \"{word}\" *"));
                    terms.push(format!("CASE WHEN a.id IN ({fts} {query}) THEN {points} ELSE 0 END"));
                }
            }
            format!("a.id IN ({fts} {all})")
        }
    };
    (matches, format!("CAST({} AS BIGINT)", terms.join(" + ")))
}
