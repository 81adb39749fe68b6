//! Templates: macros written `#Name#`, the rules a saved template follows, and
//! rendering with macro values (plain text in the subject and text body,
//! HTML-escaped in the HTML body).

use std::collections::{BTreeSet, HashMap};

use super::{NotifyError, catalog::CodeSpec};

/// Longest subject, in characters.
pub const MAX_SUBJECT_CHARS: usize = 255;
/// Longest body, in bytes.
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// Longest template code, in characters.
pub const MAX_CODE_CHARS: usize = 100;

/// The macro names (without `#`) written in `text`, in order of first use.
pub fn macros_in(text: &str) -> Vec<&str> {
    let mut found: Vec<&str> = Vec::new();
    for (_, name, _) in macro_spans(text) {
        if !found.contains(&name) {
            found.push(name);
        }
    }
    found
}

/// `(start, name, end)` of every `#Name#` in `text`, `end` past the closing `#`.
fn macro_spans(text: &str) -> Vec<(usize, &str, usize)> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'#' {
            let start = i + 1;
            let mut end = start;
            while end < bytes.len() && bytes[end].is_ascii_alphanumeric() {
                end += 1;
            }
            if end > start && end < bytes.len() && bytes[end] == b'#' {
                spans.push((i, &text[start..end], end + 1));
                i = end + 1;
                continue;
            }
        }
        i += 1;
    }
    spans
}

/// Whether a code may be used as a template code: 1 to 100 letters, digits, spaces,
/// `-` and `_`.
pub fn check_code(code: &str) -> Result<(), String> {
    if code.trim().is_empty() {
        return Err("is required".into());
    }
    if code.chars().count() > MAX_CODE_CHARS {
        return Err("must be at most 100 characters".into());
    }
    if code != code.trim() {
        return Err("must not start or end with a space".into());
    }
    if !code.chars().all(|c| c.is_alphanumeric() || c == ' ' || c == '-' || c == '_') {
        return Err("may contain only letters, digits, spaces, '-' and '_'".into());
    }
    Ok(())
}

/// The text of a template, as saved or as a draft.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TemplateText {
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
}

/// What is wrong with a template's macros.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct MacroReport {
    /// `(macro, field)`: a required macro a non-empty body lacks.
    pub missing: Vec<(String, &'static str)>,
    /// `(macro, field)`: a macro the code does not know.
    pub unknown: Vec<(String, &'static str)>,
}

impl TemplateText {
    fn parts(&self) -> [(&'static str, &str); 3] {
        [("subject", &self.subject), ("body_text", &self.body_text), ("body_html", &self.body_html)]
    }

    /// Checks the shape of the fields (not the macros); each error names its field.
    pub fn check_shape(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        if self.subject.trim().is_empty() {
            problems.push(("subject", "is required".to_owned()));
        } else if self.subject.chars().count() > MAX_SUBJECT_CHARS {
            problems.push(("subject", "must be at most 255 characters".to_owned()));
        } else if self.subject.contains(['\r', '\n']) {
            problems.push(("subject", "must not contain line breaks".to_owned()));
        }
        for (field, body) in [("body_text", &self.body_text), ("body_html", &self.body_html)] {
            if body.len() > MAX_BODY_BYTES {
                problems.push((field, "must be at most 256 KiB".to_owned()));
            }
        }
        if self.body_text.trim().is_empty() && self.body_html.trim().is_empty() {
            problems.push(("body_text", "body_text or body_html is required".to_owned()));
        }
        problems
    }

    /// The macros the text lacks or does not know, for the code `spec`.
    pub fn check_macros(&self, spec: &CodeSpec) -> MacroReport {
        let mut report = MacroReport::default();
        for (field, text) in self.parts() {
            for name in macros_in(text) {
                if spec.macro_named(name).is_none() {
                    report.unknown.push((format!("#{name}#"), field));
                }
            }
        }
        for (field, body) in [("body_text", &self.body_text), ("body_html", &self.body_html)] {
            if body.trim().is_empty() {
                continue;
            }
            let used = macros_in(body);
            for required in spec.required {
                if !used.contains(&required.name) {
                    report.missing.push((format!("#{}#", required.name), field));
                }
            }
        }
        report
    }

    /// The text as saved: its shape and macros must satisfy `spec`.
    pub fn validate(&self, spec: &CodeSpec) -> Result<(), NotifyError> {
        let problems = self.check_shape();
        if !problems.is_empty() {
            return Err(NotifyError::Invalid(problems));
        }
        let report = self.check_macros(spec);
        if let Some((name, field)) = report.missing.into_iter().next() {
            return Err(NotifyError::MacroMissing { name, field });
        }
        if let Some((name, field)) = report.unknown.into_iter().next() {
            return Err(NotifyError::MacroUnknown { name, field });
        }
        Ok(())
    }

    /// Renders the text with `values` (keyed without `#`); macros the code does not know
    /// and macros without a value are left as written.
    pub fn render(&self, spec: &CodeSpec, values: &HashMap<String, String>) -> Rendered {
        let subject = substitute(&self.subject, spec, values, |v| v.replace(['\r', '\n'], " "));
        let body_html = substitute(&self.body_html, spec, values, escape_html);
        let body_text = if self.body_text.trim().is_empty() {
            html_to_text(&body_html)
        } else {
            substitute(&self.body_text, spec, values, str::to_owned)
        };
        Rendered { subject, body_text, body_html }
    }
}

/// A rendered email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
}

fn substitute(
    text: &str,
    spec: &CodeSpec,
    values: &HashMap<String, String>,
    encode: impl Fn(&str) -> String,
) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (start, name, end) in macro_spans(text) {
        if spec.macro_named(name).is_none() {
            continue;
        }
        let Some(value) = values.get(name) else {
            continue;
        };
        out.push_str(&text[last..start]);
        out.push_str(&encode(value));
        last = end;
    }
    out.push_str(&text[last..]);
    out
}

/// Escapes text for HTML element content and attribute values.
pub fn escape_html(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A readable plain-text version of an HTML body: tags dropped (block ends become line
/// breaks, a link keeps its address), common entities decoded, blank runs collapsed.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        out.push_str(&decode_entities(&rest[..open]));
        let Some(close) = rest[open..].find('>') else {
            rest = &rest[open..];
            break;
        };
        let tag = &rest[open + 1..open + close];
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        if tag.starts_with('/') && name == "a" {
            // The link's text is written; its address follows in brackets.
        } else if name == "a"
            && let Some(href) = attribute(tag, "href")
        {
            out.push_str(&format!("[{}] ", decode_entities(&href)));
        }
        if matches!(name.as_str(), "br" | "p" | "div" | "tr" | "li" | "h1" | "h2" | "h3" | "h4" | "table") {
            out.push('\n');
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(&decode_entities(rest));
    let mut lines: Vec<String> = Vec::new();
    for line in out.lines().map(|l| l.split_whitespace().collect::<Vec<_>>().join(" ")) {
        if line.is_empty() && lines.last().is_none_or(|l| l.is_empty()) {
            continue;
        }
        lines.push(line);
    }
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines.join("\n")
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let lower = tag.to_ascii_lowercase();
    let at = lower.find(&format!("{name}="))? + name.len() + 1;
    let value = &tag[at..];
    let quote = value.chars().next()?;
    if quote == '"' || quote == '\'' {
        let end = value[1..].find(quote)?;
        Some(value[1..1 + end].to_owned())
    } else {
        Some(value.split(|c: char| c.is_whitespace() || c == '>').next()?.to_owned())
    }
}

fn decode_entities(text: &str) -> String {
    text.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The http(s) links in a text, for the log of the all-in-one file delivery.
pub fn links_in(text: &str) -> Vec<String> {
    let mut links = Vec::new();
    for word in text.split(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '[' | ']' | '(' | ')')) {
        if (word.starts_with("http://") || word.starts_with("https://")) && !links.iter().any(|l| l == word) {
            links.push(word.to_owned());
        }
    }
    links
}

/// The macro values of an email: the caller's values (keys with or without `#`), plus
/// `ContactName` and `Email` from the recipient unless given.
pub fn normalize_values(
    given: &HashMap<String, String>,
    recipient_name: &str,
    recipient_email: &str,
) -> HashMap<String, String> {
    let mut values: HashMap<String, String> =
        given.iter().map(|(k, v)| (k.trim_matches('#').to_owned(), v.clone())).collect();
    values.entry("ContactName".into()).or_insert_with(|| recipient_name.to_owned());
    values.entry("Email".into()).or_insert_with(|| recipient_email.to_owned());
    values
}

/// The required macros of `spec` without a non-empty value.
pub fn missing_values(spec: &CodeSpec, values: &HashMap<String, String>) -> Vec<&'static str> {
    spec.required.iter().filter(|m| values.get(m.name).is_none_or(|v| v.trim().is_empty())).map(|m| m.name).collect()
}

/// The known macros used in `text` that have no value in `values`.
pub fn unfilled(text: &TemplateText, spec: &CodeSpec, values: &HashMap<String, String>) -> BTreeSet<String> {
    text.parts()
        .iter()
        .flat_map(|(_, t)| macros_in(t))
        .filter(|name| spec.macro_named(name).is_some() && !values.contains_key(*name))
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::catalog::{PASSWORD_RECOVERY, built_in};

    fn recovery() -> &'static CodeSpec {
        built_in(PASSWORD_RECOVERY).unwrap()
    }

    #[test]
    fn finds_macros_and_ignores_lookalikes() {
        assert_eq!(
            macros_in("Hi #ContactName#, #RecoveryLinkUrl# &#39; color: #fff; #a b#"),
            ["ContactName", "RecoveryLinkUrl"]
        );
    }

    #[test]
    fn a_body_without_its_required_macro_is_refused_naming_it() {
        let text = TemplateText {
            subject: "Recover".into(),
            body_text: "Hello #ContactName#".into(),
            body_html: String::new(),
        };
        match text.validate(recovery()) {
            Err(NotifyError::MacroMissing { name, field }) => {
                assert_eq!((name.as_str(), field), ("#RecoveryLinkUrl#", "body_text"));
            }
            other => panic!("{other:?}"),
        }
        let unknown =
            TemplateText { subject: "#Nope#".into(), body_text: "#RecoveryLinkUrl#".into(), body_html: String::new() };
        assert!(matches!(unknown.validate(recovery()), Err(NotifyError::MacroUnknown { .. })));
    }

    #[test]
    fn renders_plain_escaped_and_derived_text() {
        let text = TemplateText {
            subject: "For #ContactName#".into(),
            body_text: String::new(),
            body_html: "<p>Hi #ContactName#,</p><p><a href=\"#RecoveryLinkUrl#\">Recover</a></p>".into(),
        };
        let values = normalize_values(
            &HashMap::from([("#RecoveryLinkUrl#".to_owned(), "https://x.test/r?a=1&b=2".to_owned())]),
            "Ann <\"A\">\nB",
            "ann@x.test",
        );
        let rendered = text.render(recovery(), &values);
        assert_eq!(rendered.subject, "For Ann <\"A\"> B");
        assert!(rendered.body_html.contains("Ann &lt;&quot;A&quot;&gt;"));
        assert!(rendered.body_html.contains("https://x.test/r?a=1&amp;b=2"));
        assert!(rendered.body_text.contains("[https://x.test/r?a=1&b=2] Recover"), "{}", rendered.body_text);
        assert_eq!(links_in(&rendered.body_text), ["https://x.test/r?a=1&b=2"]);
    }

    #[test]
    fn required_values_must_be_given() {
        let values = normalize_values(&HashMap::new(), "A", "a@x.test");
        assert_eq!(missing_values(recovery(), &values), ["RecoveryLinkUrl"]);
    }
}
