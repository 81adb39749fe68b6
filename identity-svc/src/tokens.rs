//! What the emailed-link flows (invitations, registration, recovery) share: issuing a
//! token together with the email that carries its link, in the transaction of the
//! change; finding a presented token; and acting as the user a token belongs to.

use std::collections::BTreeMap;

use service_kit::{Caller, CallerKind, clock::Millis, secrets};
use sqlx::AnyConnection;

use crate::{
    domain::{
        IdentityError,
        brute_force::{Scope, Throttle},
        tokens::{MAX_TOKEN_CHARS, Purpose, TOKEN_BYTES, link},
        user::UserKind,
    },
    storage::{NewToken, OutgoingEmail, Store, TokenRecord, UserRecord},
};

/// The email that carries a link.
#[derive(Debug, Clone)]
pub struct LinkEmail<'a> {
    pub recipient_email: &'a str,
    pub recipient_name: &'a str,
    pub culture: &'a str,
    pub template_code: &'a str,
    /// The template's macro the link goes into, e.g. `RecoveryLinkUrl`.
    pub link_macro: &'static str,
}

/// A token just stored, and the outbox row of its email.
#[derive(Debug, Clone)]
pub struct Issued {
    pub token_id: String,
    pub outbox_id: String,
}

/// A token's binding: what it is for, whose it is, and for how long.
#[derive(Debug, Clone, Copy)]
pub struct Binding<'a> {
    pub purpose: Purpose,
    pub user_id: Option<&'a str>,
    pub email_normalized: &'a str,
    pub lifetime_seconds: i64,
}

/// Stores a new token and queues the email carrying its link (built from
/// `public_base_url`, the setting, never from the request), in the caller's transaction.
pub async fn issue(
    connection: &mut AnyConnection,
    binding: Binding<'_>,
    public_base_url: &str,
    email: LinkEmail<'_>,
    now: Millis,
) -> Result<Issued, IdentityError> {
    let token = secrets::random_token(TOKEN_BYTES);
    let token_id = secrets::new_id();
    let new = NewToken {
        id: &token_id,
        digest: &secrets::token_digest(&token),
        purpose: binding.purpose,
        user_id: binding.user_id,
        email_normalized: binding.email_normalized,
        expires_at: now + binding.lifetime_seconds * 1000,
    };
    Store::insert_token(&mut *connection, &new, now).await?;
    let mut macro_values = BTreeMap::new();
    macro_values.insert(email.link_macro, link(public_base_url, binding.purpose, &token));
    macro_values.insert("ContactName", email.recipient_name.to_owned());
    macro_values.insert("Email", email.recipient_email.to_owned());
    let outbox_id = Store::queue_email(
        connection,
        &OutgoingEmail {
            recipient_email: email.recipient_email,
            recipient_name: email.recipient_name,
            culture: email.culture,
            template_code: email.template_code,
            macro_values,
        },
        now,
    )
    .await?;
    Ok(Issued { token_id, outbox_id })
}

/// Per hour: unknown tokens one client address may present, and registrations plus
/// recovery requests per client address and per email. Past a limit the refusal window
/// doubles with each further attempt (from 1 s); counting restarts every hour, so a busy
/// address (a proxy) is never shut out for longer than that.
const TOKEN_GUESSES_PER_ADDRESS: i64 = 50;
const MAIL_REQUESTS_PER_ADDRESS: i64 = 100;
const MAIL_REQUESTS_PER_EMAIL: i64 = 5;
const WINDOW_MS: Millis = 3_600_000;

/// Refuses with TOO_MANY_ATTEMPTS while any of `subjects` is over its limit in the
/// current hour; otherwise counts this attempt against each, in the same transaction.
async fn limit(store: &Store, subjects: &[(Scope, &str)], now: Millis) -> Result<(), IdentityError> {
    let window = now.div_euclid(WINDOW_MS);
    let counters: Vec<_> = subjects
        .iter()
        .filter(|(_, key)| !key.is_empty())
        .map(|(scope, key)| (*scope, format!("{key}|{window}")))
        .collect();
    let throttle = Throttle {
        account_threshold: MAIL_REQUESTS_PER_EMAIL,
        address_threshold: if counters.iter().any(|(scope, _)| *scope == Scope::TokenAddress) {
            TOKEN_GUESSES_PER_ADDRESS
        } else {
            MAIL_REQUESTS_PER_ADDRESS
        },
        max_delay_ms: WINDOW_MS,
    };
    match store.reserve_attempt(&counters, throttle, now).await? {
        Some(_) => Ok(()),
        None => Err(IdentityError::TooManyAttempts),
    }
}

/// Whether `client_address` presented too many unknown tokens this hour.
async fn guessing(store: &Store, client_address: &str, now: Millis) -> Result<bool, IdentityError> {
    let subject = format!("{client_address}|{}", now.div_euclid(WINDOW_MS));
    Ok(!client_address.is_empty() && store.blocked_until(Scope::TokenAddress, &subject).await? > now)
}

/// Counts a registration or recovery request for `email_normalized` from `client_address`,
/// refusing it with TOO_MANY_ATTEMPTS past the limits (the same whether or not the email
/// has an account).
pub async fn limit_mail_request(
    store: &Store,
    client_address: &str,
    email_normalized: &str,
    now: Millis,
) -> Result<(), IdentityError> {
    limit(store, &[(Scope::MailRequestAddress, client_address), (Scope::MailRequestEmail, email_normalized)], now).await
}

/// The stored token a link carried, if it was issued for `purpose`; anything else
/// (unknown, malformed, another purpose) is TOKEN_NOT_FOUND, and counts against the
/// client address, which is refused with TOO_MANY_ATTEMPTS after too many.
pub async fn find(
    store: &Store,
    purpose: Purpose,
    token: &str,
    client_address: &str,
    now: Millis,
) -> Result<TokenRecord, IdentityError> {
    if guessing(store, client_address, now).await? {
        return Err(IdentityError::TooManyAttempts);
    }
    let token = token.trim();
    let found = if token.is_empty() || token.len() > MAX_TOKEN_CHARS {
        None
    } else {
        store.token_by_digest(&secrets::token_digest(token), purpose).await?
    };
    match found {
        Some(record) => Ok(record),
        None => {
            limit(store, &[(Scope::TokenAddress, client_address)], now).await?;
            Err(IdentityError::TokenNotFound)
        }
    }
}

/// After a lost race to consume `token`, the refusal that describes why it is spent now.
pub async fn refusal_after_race(store: &Store, token: &TokenRecord, now: Millis) -> IdentityError {
    let purpose = match token.purpose.as_str() {
        "invitation" => Purpose::Invitation,
        "confirmation" => Purpose::Confirmation,
        _ => Purpose::Recovery,
    };
    let state = match store.token_by_id(&token.id).await {
        Ok(Some(current)) => current.state(now),
        _ => crate::domain::tokens::TokenState::Consumed,
    };
    state.usable(purpose).err().unwrap_or(IdentityError::Refused(
        "TOKEN_ALREADY_USED",
        "this link was already used: log in, or ask for a new one".into(),
    ))
}

/// The user a token acts for, if the token still fits them: same email as when it was
/// sent, active, allowed to log in. Anything else means the link was voided
/// (TOKEN_REVOKED), even if the change that voided it did not revoke it explicitly.
pub async fn holder(store: &Store, token: &TokenRecord, purpose: Purpose) -> Result<UserRecord, IdentityError> {
    let user = match &token.user_id {
        Some(id) => store.user(id).await?,
        None => None,
    };
    let fits = |user: &UserRecord| {
        user.may_log_in()
            && crate::domain::email::normalize(&user.email).is_ok_and(|email| email == token.email_normalized)
    };
    match user {
        Some(user) if fits(&user) => Ok(user),
        _ => Err(crate::domain::tokens::TokenState::Revoked.usable(purpose).unwrap_err()),
    }
}

/// The user as the actor of the changes a link makes (the call itself is anonymous).
pub fn acting_as(user: &UserRecord, client_address: &str) -> Caller {
    let kind = match user.kind() {
        UserKind::Employee => CallerKind::Employee,
        UserKind::External => CallerKind::External,
    };
    Caller { kind, user_id: user.id.clone(), client_address: client_address.to_owned(), ..Caller::anonymous() }
}
