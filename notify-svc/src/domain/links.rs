//! Where the links of an email may point, and what of them a delivery record may show.
//!
//! A template may link only to the portal's public base URL, or through a link macro
//! (`#…Url#`, whose value the owning service builds from that base URL): a template that
//! wraps `#RecoveryLinkUrl#` in a link to another host would mail one-time tokens to that
//! host. The check is an allow-list on every link target (HTML `href`/`src`/`action`
//! values) and on every `scheme://` address in the text, so encodings it does not decode
//! are refused rather than let through.
//!
//! One-time tokens travel as `token=` query parameters (identity's links); anything shown
//! of a delivery has their values replaced by [`REDACTED`].

/// What replaces a token's value in what a delivery shows.
pub const REDACTED: &str = "[redacted]";

/// HTML attributes whose value a mail client follows or loads.
const LINK_ATTRIBUTES: [&str; 4] = ["href", "src", "action", "background"];

/// The first link of `text` that does not lead to `base_url` (the public base URL, without
/// a trailing `/`), with `html` telling whether the text is an HTML body; `None` when every
/// link does.
pub fn foreign_link(text: &str, base_url: &str, html: bool) -> Option<String> {
    let decoded = if html { decode_character_references(text) } else { text.to_owned() };
    if html && let Some(value) = attribute_values(&decoded).into_iter().find(|value| !leads_to(value, base_url)) {
        return Some(value);
    }
    addresses(&decoded).into_iter().find(|address| !leads_to(address, base_url))
}

/// Whether a link target starts with the base URL (then ends or goes on with a path,
/// query or fragment) or with a link macro.
fn leads_to(target: &str, base_url: &str) -> bool {
    let target = target.trim();
    if let Some(rest) = target.strip_prefix('#')
        && let Some(end) = rest.find('#')
    {
        let name = &rest[..end];
        return name.ends_with("Url") && name.chars().all(|c| c.is_ascii_alphanumeric());
    }
    let Some(head) = target.get(..base_url.len()) else { return false };
    head.eq_ignore_ascii_case(base_url)
        && target[base_url.len()..].chars().next().is_none_or(|c| matches!(c, '/' | '?' | '#'))
}

/// The values of the link attributes of every tag, whatever their quoting.
fn attribute_values(html: &str) -> Vec<String> {
    let lower = html.to_ascii_lowercase();
    let mut values = Vec::new();
    for name in LINK_ATTRIBUTES {
        let mut from = 0;
        while let Some(found) = lower[from..].find(name) {
            let start = from + found;
            from = start + name.len();
            let preceded_by_space = lower[..start].chars().next_back().is_some_and(|c| c.is_whitespace() || c == '/');
            let after = lower[from..].trim_start();
            if !preceded_by_space || !after.starts_with('=') {
                continue;
            }
            let value_at = html.len() - after.len() + 1;
            let value = html[value_at..].trim_start();
            let text = match value.chars().next() {
                Some(quote @ ('"' | '\'')) => value[1..].split(quote).next().unwrap_or_default(),
                _ => value.split(|c: char| c.is_whitespace() || c == '>').next().unwrap_or_default(),
            };
            values.push(text.to_owned());
        }
    }
    values
}

/// Every `scheme://…` address in a text, and every protocol-relative `//host` one.
fn addresses(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = text[from..].find("//") {
        let slashes = from + at;
        from = slashes + 2;
        let scheme_start = text[..slashes]
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-' | ':'))
            .last()
            .map_or(slashes, |(i, _)| i);
        let scheme = &text[scheme_start..slashes];
        let protocol_relative = scheme.is_empty() && text[from..].chars().next().is_some_and(|c| c.is_alphanumeric());
        if !(scheme.ends_with(':') && scheme.len() > 1) && !protocol_relative {
            continue;
        }
        let end = text[from..]
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>'))
            .map_or(text.len(), |i| from + i);
        found.push(text[scheme_start..end].to_owned());
    }
    found
}

/// Decodes numeric and the common named character references, as a mail client would
/// before following a link.
fn decode_character_references(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let Some(semi) = rest[..rest.len().min(12)].find(';') else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..semi];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "colon" => Some(':'),
            "sol" => Some('/'),
            "nbsp" => Some(' '),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|dec| dec.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The text with the value of every `token=` parameter (any name ending in `token`,
/// case-insensitively) replaced by [`REDACTED`].
pub fn redact_tokens(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut from = 0;
    while let Some(found) = lower[from..].find("token=") {
        let value_start = from + found + "token=".len();
        from = value_start;
        let value_end = text[value_start..]
            .find(|c: char| c.is_whitespace() || matches!(c, '&' | '#' | '"' | '\'' | '<' | '>' | ')' | ']'))
            .map_or(text.len(), |i| value_start + i);
        if value_end == value_start {
            continue;
        }
        out.push_str(&text[copied..value_start]);
        out.push_str(REDACTED);
        copied = value_end;
        from = value_end;
    }
    out.push_str(&text[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "https://portal.example.com";

    #[test]
    fn links_to_the_base_url_or_through_link_macros_pass() {
        let html = r##"<p><a href="#RecoveryLinkUrl#">reset</a> <a href='https://PORTAL.example.com/help?x=1'>help</a>
            see https://portal.example.com/ or <img src=https://portal.example.com/logo.png></p>"##;
        assert_eq!(foreign_link(html, BASE, true), None);
        assert_eq!(foreign_link("Open #RecoveryLinkUrl# within an hour.", BASE, false), None);
    }

    #[test]
    fn links_elsewhere_are_found_however_written() {
        let wrapped = r##"<a href="https://evil.test/?next=#RecoveryLinkUrl#">reset</a>"##;
        assert_eq!(foreign_link(wrapped, BASE, true).as_deref(), Some("https://evil.test/?next=#RecoveryLinkUrl#"));
        assert!(foreign_link("go to https://portal.example.com.evil.test/#RecoveryLinkUrl#", BASE, false).is_some());
        assert!(foreign_link("<a HREF = //evil.test/x>x</a>", BASE, true).is_some());
        assert!(foreign_link("<a href=\"h&#116;tps&#58;//evil.test\">x</a>", BASE, true).is_some());
        assert!(foreign_link("<a href=\"javascript:alert(1)\">x</a>", BASE, true).is_some());
        assert!(foreign_link("<a href=\"#Email#\">x</a>", BASE, true).is_some());
        assert!(foreign_link("mail ftp://evil.test/#RecoveryLinkUrl#", BASE, false).is_some());
    }

    #[test]
    fn token_values_are_redacted() {
        assert_eq!(
            redact_tokens("Reset: https://p.test/recover-password?token=abcDEF_123&x=1 (1 h)"),
            "Reset: https://p.test/recover-password?token=[redacted]&x=1 (1 h)"
        );
        assert_eq!(redact_tokens("a?Token=x b?reset_token=y"), "a?Token=[redacted] b?reset_token=[redacted]");
        assert_eq!(redact_tokens("no secrets, token= alone"), "no secrets, token= alone");
    }
}
