//! Layered configuration: built-in defaults, then an optional TOML file, then
//! environment variables `PORTAL__SECTION__KEY` (for example
//! `PORTAL__DATABASE__URL`). With nothing configured the suite runs as the
//! all-in-one default on 127.0.0.1:50051 with SQLite files under `./data/`.

use std::{net::SocketAddr, path::PathBuf};

use figment::{
    Figment,
    providers::{Env, Format, Serialized, Toml},
};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};

/// The whole configuration of the suite; each binary reads the sections it needs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortalConfig {
    /// Address the process listens on (the gateway, or one service of the distributed mode).
    pub listen: SocketAddr,
    /// Folder for the embedded default's SQLite files and written mail.
    pub data_dir: PathBuf,
    /// The public base URL that links in emails are built from (never from request headers).
    pub public_base_url: String,
    pub database: DatabaseConfig,
    pub cache: CacheConfig,
    pub assertion: AssertionConfig,
    pub server: ServerConfig,
    pub gateway: GatewayConfig,
    pub log: LogConfig,
    pub bootstrap: BootstrapConfig,
    pub session: SessionConfig,
    pub upstreams: UpstreamsConfig,
    pub mail: MailConfig,
    /// The licence products this deployment sells, each with its seat pool.
    pub licences: Vec<LicenceProductConfig>,
}

/// Where each service keeps its data.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://…` or `postgres://…`. `{data_dir}` and `{service}` are replaced, so one
    /// setting gives every service of an all-in-one process its own SQLite file.
    /// On PostgreSQL each service keeps its tables in its own schema (see `schema_prefix`).
    pub url: String,
    /// PostgreSQL only: the service's schema is `<schema_prefix><service>`.
    pub schema_prefix: String,
    /// Largest number of pooled connections per service.
    pub max_connections: u32,
}

/// The shared cache: always in process, plus Redis when a URL is given.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheConfig {
    /// `redis://host:port/db`; empty keeps caching in process only.
    pub redis_url: String,
    /// Entries kept in process per cache.
    pub local_capacity: u64,
    /// Lifetime of a cached entry, in seconds.
    pub ttl_seconds: u64,
    /// Longest wait for a Redis answer before the cache is skipped, in milliseconds.
    pub redis_timeout_ms: u64,
}

/// The signed statement of who is calling, made by the gateway and checked by every service.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssertionConfig {
    /// The shared signing key (at least 32 characters). Empty in the all-in-one default, where
    /// a random key is made at start; required in the distributed mode.
    pub secret: String,
    /// A second key whose assertions are accepted, though nothing is signed with it: the
    /// next key or the one being rotated out. Empty when no rotation is under way.
    pub previous_secret: String,
    /// How long a signed assertion stays valid, in seconds.
    pub ttl_seconds: u64,
}

/// Limits every server of the suite applies.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Largest request or response message, in bytes.
    pub max_message_bytes: usize,
    /// Upper bound on a call's duration, in milliseconds; a shorter client deadline wins.
    pub request_timeout_ms: u64,
    /// Calls served at once before new ones are refused with RESOURCE_EXHAUSTED (at the
    /// gateway: calls of logged-in users).
    pub max_in_flight: usize,
    /// How long a request may take to deliver its first message (a one-message request: its
    /// whole body) before it is answered DEADLINE_EXCEEDED, in milliseconds.
    pub first_message_timeout_ms: u64,
    /// On SIGTERM, how long calls in flight may take to finish, in seconds.
    pub drain_timeout_seconds: u64,
    /// On SIGTERM, how long health reports NOT_SERVING before the listener closes, in
    /// milliseconds, so that load balancers stop sending new calls first.
    pub drain_delay_ms: u64,
}

/// Limits of the public entry that keep slow or hostile clients from starving others.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayConfig {
    /// Calls without a login (login, registration, recovery, invitations, health,
    /// reflection) in flight at once; they never take the logged-in users' `server.max_in_flight`.
    pub max_in_flight_without_login: usize,
    /// Streams one client connection may have open at once.
    pub max_streams_per_connection: u32,
    /// Networks of the proxies in front of the gateway (an ingress, a load balancer), as
    /// CIDRs. Only for a call from one of them is the client's address read from
    /// `forwarded_header`; empty (the default) trusts no one and takes the connection's peer.
    pub trusted_proxies: Vec<IpNet>,
    /// The header those proxies record the client's address in. The other one is never
    /// read: proxies pass it on as the client sent it.
    pub forwarded_header: ForwardedHeader,
}

/// A header proxies record the addresses a call came through in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ForwardedHeader {
    /// `X-Forwarded-For: client, proxy1, …` (ingress-nginx, Envoy and most load balancers).
    #[serde(rename = "x-forwarded-for")]
    XForwardedFor,
    /// `Forwarded: for=client, for=proxy1, …` (RFC 7239).
    #[serde(rename = "forwarded")]
    Forwarded,
}

/// Log output.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// `human` or `json`.
    pub format: LogFormat,
    /// A tracing filter such as `info` or `info,identity_svc=debug`; `RUST_LOG` wins when set.
    pub filter: String,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Human,
    Json,
}

/// The first start of an empty identity database.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BootstrapConfig {
    /// Email (username) of the system administrator created on first start.
    pub admin_email: String,
    /// The administrator's password; empty makes a random one that is printed once.
    pub admin_password: String,
}

/// One licence product: a portal edition on a deployment, with its seats.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LicenceProductConfig {
    /// Stable id, e.g. `customer-portal-cloud`.
    pub id: String,
    /// Shown name, e.g. `Customer portal cloud`; settings may name a product by it.
    pub display_name: String,
    /// `self_service`, `customer` or `partner`.
    pub edition: String,
    /// `cloud` or `on_site`.
    pub deployment: String,
    /// Seats in the pool.
    pub seats: u32,
}

impl LicenceProductConfig {
    fn new(id: &str, display_name: &str, edition: &str, seats: u32) -> Self {
        Self {
            id: id.into(),
            display_name: display_name.into(),
            edition: edition.into(),
            deployment: "on_site".into(),
            seats,
        }
    }
}

/// Session lifetimes.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionConfig {
    /// A session unused for this long ends, in seconds.
    pub idle_timeout_seconds: i64,
    /// A session ends this long after login whatever its activity, in seconds.
    pub absolute_timeout_seconds: i64,
}

/// Addresses of the services in the distributed mode (`http://host:port`). When all are
/// empty the gateway runs every service in its own process (the all-in-one default).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamsConfig {
    pub identity: String,
    pub access: String,
    pub case: String,
    pub partner: String,
    pub notify: String,
}

/// Outgoing email (notify-svc): how messages leave, and how the outbox retries.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailConfig {
    /// `file` (the all-in-one default: `.eml` files under `{data_dir}/mail/`, links logged)
    /// or `smtp`.
    pub delivery: MailDelivery,
    /// The sender used when the `SSPRegistrationMailbox` setting cannot be read or is empty.
    pub from_address: String,
    /// The domain part of every Message-ID (`<outbox-id@domain>`); empty takes the host
    /// of `public_base_url`.
    pub message_id_domain: String,
    /// SMTP server host name or address.
    pub smtp_host: String,
    /// SMTP server port (25, 587 for STARTTLS submission, 465 for implicit TLS).
    pub smtp_port: u16,
    /// `none`, `starttls` (required, not opportunistic) or `tls` (implicit TLS).
    pub smtp_tls: SmtpTls,
    /// SMTP login; empty sends without authentication.
    pub smtp_username: String,
    pub smtp_password: String,
    /// Longest wait for the connection and for each SMTP reply, in milliseconds.
    pub smtp_timeout_ms: u64,
    /// Messages claimed by one worker at a time.
    pub batch_size: u32,
    /// Messages of a batch sent at once.
    pub concurrency: u32,
    /// How often an idle worker looks for due messages, in milliseconds.
    pub poll_interval_ms: u64,
    /// How long a claim is held before another replica may take the message over, in seconds.
    /// Must exceed the longest possible send (several SMTP timeouts).
    pub lease_seconds: u64,
    /// The first retry delay after a temporary failure, in seconds; it doubles each time.
    pub retry_initial_seconds: u64,
    /// The longest delay between two attempts, in seconds.
    pub retry_max_seconds: u64,
    /// A message still failing this long after it was queued is dead-lettered, in seconds.
    pub give_up_after_seconds: u64,
    /// At SIGTERM, how long a send in progress may take to finish before it is abandoned
    /// and its message handed back for the next worker, in milliseconds.
    pub stop_grace_ms: u64,
}

/// How notify hands messages over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailDelivery {
    /// Writes `.eml` files under `{data_dir}/mail/` and logs the links they carry.
    File,
    /// Sends over SMTP.
    Smtp,
}

/// Transport security towards the SMTP server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain text (a relay on the same host or network).
    None,
    /// Plain connection upgraded with STARTTLS; refused if the server does not offer it.
    Starttls,
    /// TLS from the first byte (SMTPS).
    Tls,
}

impl Default for MailConfig {
    fn default() -> Self {
        Self {
            delivery: MailDelivery::File,
            from_address: "portal@localhost".into(),
            message_id_domain: String::new(),
            smtp_host: "127.0.0.1".into(),
            smtp_port: 25,
            smtp_tls: SmtpTls::None,
            smtp_username: String::new(),
            smtp_password: String::new(),
            smtp_timeout_ms: 30_000,
            batch_size: 32,
            concurrency: 4,
            poll_interval_ms: 1_000,
            lease_seconds: 300,
            retry_initial_seconds: 30,
            retry_max_seconds: 3_600,
            give_up_after_seconds: 3 * 24 * 3_600,
            stop_grace_ms: 5_000,
        }
    }
}

impl Default for PortalConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 50051)),
            data_dir: PathBuf::from("./data"),
            public_base_url: "http://localhost:8080".into(),
            database: DatabaseConfig {
                url: "sqlite://{data_dir}/{service}.db?mode=rwc".into(),
                schema_prefix: String::new(),
                max_connections: 16,
            },
            cache: CacheConfig {
                redis_url: String::new(),
                local_capacity: 100_000,
                ttl_seconds: 300,
                redis_timeout_ms: 50,
            },
            assertion: AssertionConfig { secret: String::new(), previous_secret: String::new(), ttl_seconds: 60 },
            server: ServerConfig {
                max_message_bytes: 4 * 1024 * 1024,
                request_timeout_ms: 30_000,
                max_in_flight: 1024,
                first_message_timeout_ms: 5_000,
                drain_timeout_seconds: 25,
                drain_delay_ms: 0,
            },
            gateway: GatewayConfig {
                max_in_flight_without_login: 256,
                max_streams_per_connection: 100,
                trusted_proxies: Vec::new(),
                forwarded_header: ForwardedHeader::XForwardedFor,
            },
            log: LogConfig { format: LogFormat::Human, filter: "info".into() },
            bootstrap: BootstrapConfig { admin_email: "admin@portal.local".into(), admin_password: String::new() },
            session: SessionConfig { idle_timeout_seconds: 30 * 60, absolute_timeout_seconds: 12 * 60 * 60 },
            upstreams: UpstreamsConfig::default(),
            licences: vec![
                LicenceProductConfig::new(
                    "self-service-portal-on-site",
                    "Self-service portal on-site",
                    "self_service",
                    100,
                ),
                LicenceProductConfig::new("customer-portal-on-site", "Customer portal on-site", "customer", 50),
                LicenceProductConfig::new("partner-portal-on-site", "Partner portal on-site", "partner", 50),
            ],
            mail: MailConfig::default(),
        }
    }
}

/// A configuration that could not be read or does not make sense.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Invalid(#[from] Box<figment::Error>),
    #[error("configuration: {field}: {problem}")]
    Field { field: &'static str, problem: String },
}

impl PortalConfig {
    /// Loads defaults, then `file` (or `portal.toml` in the working directory if it exists),
    /// then `PORTAL__…` environment variables, and checks the result.
    pub fn load(file: Option<&std::path::Path>) -> Result<Self, ConfigError> {
        Self::load_with(Self::default(), file)
    }

    /// Like [`PortalConfig::load`], starting from other defaults (a service binary's own port).
    pub fn load_with(defaults: Self, file: Option<&std::path::Path>) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(defaults));
        match file {
            Some(path) => figment = figment.merge(Toml::file_exact(path)),
            None => figment = figment.merge(Toml::file("portal.toml")),
        }
        let config: Self = figment.merge(Env::prefixed("PORTAL__").split("__")).extract().map_err(Box::new)?;
        config.validate()?;
        Ok(config)
    }

    /// True when no upstream address is set: every service runs inside the gateway.
    pub fn is_all_in_one(&self) -> bool {
        let u = &self.upstreams;
        [&u.identity, &u.access, &u.case, &u.partner, &u.notify].iter().all(|a| a.is_empty())
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let field = |field, problem: &str| Err(ConfigError::Field { field, problem: problem.into() });
        for (i, product) in self.licences.iter().enumerate() {
            let valid_id = !product.id.is_empty()
                && product.id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !valid_id || product.display_name.trim().is_empty() {
                return field(
                    "licences",
                    "every product needs an id (lowercase letters, digits, '-') and a display_name",
                );
            }
            if !matches!(product.edition.as_str(), "self_service" | "customer" | "partner") {
                return field("licences", "edition must be self_service, customer or partner");
            }
            if !matches!(product.deployment.as_str(), "cloud" | "on_site") {
                return field("licences", "deployment must be cloud or on_site");
            }
            if self.licences[..i].iter().any(|other| other.id == product.id) {
                return field("licences", "product ids must be unique");
            }
        }
        if !self.database.url.starts_with("sqlite:") && !self.database.url.starts_with("postgres") {
            return field("database.url", "must start with sqlite: or postgres://");
        }
        if !self.assertion.secret.is_empty() && self.assertion.secret.len() < 32 {
            return field("assertion.secret", "must be at least 32 characters");
        }
        if !self.assertion.previous_secret.is_empty() && self.assertion.previous_secret.len() < 32 {
            return field("assertion.previous_secret", "must be at least 32 characters");
        }
        if !self.is_all_in_one() && self.assertion.secret.is_empty() {
            return field("assertion.secret", "is required when upstream services are configured");
        }
        if self.server.max_in_flight == 0 {
            return field("server.max_in_flight", "must be at least 1");
        }
        if self.server.first_message_timeout_ms == 0 {
            return field("server.first_message_timeout_ms", "must be positive");
        }
        if self.gateway.max_in_flight_without_login == 0 {
            return field("gateway.max_in_flight_without_login", "must be at least 1");
        }
        if self.gateway.max_streams_per_connection == 0 {
            return field("gateway.max_streams_per_connection", "must be at least 1");
        }
        if self.session.idle_timeout_seconds <= 0 || self.session.absolute_timeout_seconds <= 0 {
            return field("session", "timeouts must be positive");
        }
        if !matches!(self.public_base_url.split_once("://"), Some(("http" | "https", rest)) if !rest.is_empty()) {
            return field("public_base_url", "must be an absolute http(s) URL");
        }
        self.mail.validate()
    }
}

impl MailConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        let field = |field, problem: &str| Err(ConfigError::Field { field, problem: problem.into() });
        if !self.from_address.contains('@') {
            return field("mail.from_address", "must be an email address");
        }
        if self.delivery == MailDelivery::Smtp && self.smtp_host.trim().is_empty() {
            return field("mail.smtp_host", "is required when mail.delivery is smtp");
        }
        if self.smtp_timeout_ms == 0 {
            return field("mail.smtp_timeout_ms", "must be positive");
        }
        if self.batch_size == 0 || self.concurrency == 0 {
            return field("mail", "batch_size and concurrency must be at least 1");
        }
        if self.retry_initial_seconds == 0 || self.retry_max_seconds < self.retry_initial_seconds {
            return field("mail.retry_max_seconds", "must be at least retry_initial_seconds, which must be positive");
        }
        // A claim must outlive a send: connect, greeting, EHLO, (STARTTLS,) AUTH, MAIL,
        // RCPT, DATA, end of data, QUIT, each bounded by the timeout.
        if self.lease_seconds * 1000 < self.smtp_timeout_ms * 10 {
            return field(
                "mail.lease_seconds",
                "must be at least 10 times mail.smtp_timeout_ms, so a claim outlives a send",
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The configuration with `key` set as the environment variable `PORTAL__…` to `raw`
    /// would set it (figment parses such values the same way).
    fn with_env_value(key: &str, raw: &str) -> Result<PortalConfig, Box<figment::Error>> {
        let value: figment::value::Value = raw.parse().expect("infallible");
        let figment = Figment::from(Serialized::defaults(PortalConfig::default()));
        figment.merge(Serialized::default(key, value)).extract().map_err(Box::new)
    }

    #[test]
    fn trusted_proxies_are_a_list_of_networks() {
        let config = with_env_value("gateway.trusted_proxies", r#"[10.0.0.0/8, fd00::/8, "192.168.1.7/32"]"#).unwrap();
        let networks: Vec<String> = config.gateway.trusted_proxies.iter().map(ToString::to_string).collect();
        assert_eq!(networks, ["10.0.0.0/8", "fd00::/8", "192.168.1.7/32"]);
        assert!(PortalConfig::default().gateway.trusted_proxies.is_empty(), "nothing is trusted by default");
        assert!(with_env_value("gateway.trusted_proxies", "[10.0.0.0/33]").is_err());
        assert!(with_env_value("gateway.trusted_proxies", "[proxy.example.com]").is_err());
        let config = with_env_value("gateway.forwarded_header", "forwarded").unwrap();
        assert_eq!(config.gateway.forwarded_header, ForwardedHeader::Forwarded);
    }
}
