//! Cultures (language tags such as "en-US", "fr-CA" or the neutral "fr") and the
//! fallback an email follows: the culture, its neutral language, then "en-US".

/// The culture every code keeps a template in, and the last fallback.
pub const DEFAULT_CULTURE: &str = "en-US";

/// The canonical form of a language tag: language lowercase, script titlecase,
/// region uppercase (`fr-ca` → `fr-CA`). The error says what is wrong.
pub fn canonical(tag: &str) -> Result<String, String> {
    let tag = tag.trim();
    if tag.is_empty() {
        return Err("is required".into());
    }
    if tag.len() > 35 {
        return Err("must be a language tag of at most 35 characters".into());
    }
    let mut parts = Vec::new();
    for (index, part) in tag.split(['-', '_']).enumerate() {
        let valid = !part.is_empty() && part.len() <= 8 && part.chars().all(|c| c.is_ascii_alphanumeric());
        if !valid {
            return Err(format!("'{tag}' is not a language tag such as en-US, fr-CA or fr"));
        }
        let formatted = if index == 0 {
            if !(2..=3).contains(&part.len()) || !part.chars().all(|c| c.is_ascii_alphabetic()) {
                return Err(format!("'{tag}' must start with a 2- or 3-letter language such as en or fr"));
            }
            part.to_ascii_lowercase()
        } else if part.len() == 4 && part.chars().all(|c| c.is_ascii_alphabetic()) {
            let lower = part.to_ascii_lowercase();
            let mut chars = lower.chars();
            chars.next().map(|first| first.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
        } else if part.len() == 2 && part.chars().all(|c| c.is_ascii_alphabetic()) {
            part.to_ascii_uppercase()
        } else {
            part.to_ascii_lowercase()
        };
        parts.push(formatted);
    }
    Ok(parts.join("-"))
}

/// The cultures to try, in order, for a recipient's (canonical) culture; empty means
/// "en-US".
pub fn fallback_chain(culture: &str) -> Vec<String> {
    let mut chain = Vec::new();
    if !culture.is_empty() {
        chain.push(culture.to_owned());
        if let Some((language, _)) = culture.split_once('-') {
            chain.push(language.to_owned());
        }
    }
    if !chain.iter().any(|c| c == DEFAULT_CULTURE) {
        chain.push(DEFAULT_CULTURE.to_owned());
    }
    chain
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonicalises_tags() {
        assert_eq!(canonical("fr-ca").unwrap(), "fr-CA");
        assert_eq!(canonical("EN_us").unwrap(), "en-US");
        assert_eq!(canonical("de").unwrap(), "de");
        assert_eq!(canonical("zh-hant-tw").unwrap(), "zh-Hant-TW");
        for bad in ["", "e", "english-US", "en--US", "en US", "12-US"] {
            assert!(canonical(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn falls_back_to_the_language_then_english() {
        assert_eq!(fallback_chain("fr-CA"), ["fr-CA", "fr", "en-US"]);
        assert_eq!(fallback_chain("de"), ["de", "en-US"]);
        assert_eq!(fallback_chain("en-US"), ["en-US", "en"]);
        assert_eq!(fallback_chain(""), ["en-US"]);
    }
}
