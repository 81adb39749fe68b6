//! How a message leaves: over SMTP (lettre, bounded timeouts, TLS as configured),
//! or as an `.eml` file with its links logged (the all-in-one default).

use std::{path::PathBuf, time::Duration};

use lettre::{
    Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Mailbox, MultiPart, header::ContentType},
    transport::smtp::{
        authentication::Credentials,
        client::{Tls, TlsParameters},
        extension::ClientId,
    },
};
use service_kit::config::{MailDelivery, PortalConfig, SmtpTls};

use crate::{
    domain::{delivery::Failure, template::links_in},
    storage::Claimed,
};

/// Where messages go.
pub enum Transport {
    /// `.eml` files in a folder.
    File { dir: PathBuf },
    /// An SMTP server.
    Smtp { mailer: AsyncSmtpTransport<Tokio1Executor>, server: String },
}

impl Transport {
    /// The transport the configuration asks for; the error names the bad setting.
    pub fn from_config(config: &PortalConfig, hello_domain: &str) -> Result<Self, String> {
        let mail = &config.mail;
        match mail.delivery {
            MailDelivery::File => Ok(Self::File { dir: config.data_dir.join("mail") }),
            MailDelivery::Smtp => {
                let host = mail.smtp_host.trim();
                let tls_parameters = || {
                    TlsParameters::new(host.to_owned())
                        .map_err(|e| format!("mail.smtp_tls: cannot set up TLS for {host}: {e}"))
                };
                let tls = match mail.smtp_tls {
                    SmtpTls::None => Tls::None,
                    SmtpTls::Starttls => Tls::Required(tls_parameters()?),
                    SmtpTls::Tls => Tls::Wrapper(tls_parameters()?),
                };
                let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
                    .port(mail.smtp_port)
                    .tls(tls)
                    .timeout(Some(Duration::from_millis(mail.smtp_timeout_ms)))
                    .hello_name(ClientId::Domain(hello_domain.to_owned()));
                if !mail.smtp_username.is_empty() {
                    builder =
                        builder.credentials(Credentials::new(mail.smtp_username.clone(), mail.smtp_password.clone()));
                }
                Ok(Self::Smtp { mailer: builder.build(), server: format!("{host}:{}", mail.smtp_port) })
            }
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Self::File { dir } => format!("files under {}", dir.display()),
            Self::Smtp { server, .. } => format!("SMTP {server}"),
        }
    }

    /// Hands one message over; the error says whether trying again may help.
    pub async fn send(&self, claim: &Claimed, from: &str) -> Result<(), Failure> {
        let message = build(claim, from)?;
        match self {
            Self::File { dir } => {
                let write = async {
                    tokio::fs::create_dir_all(dir).await?;
                    // Written aside, then renamed: a reader never sees half a message.
                    let part = dir.join(format!(".{}.eml.part", claim.id));
                    tokio::fs::write(&part, message.formatted()).await?;
                    tokio::fs::rename(&part, dir.join(format!("{}.eml", claim.id))).await
                };
                write.await.map_err(|e| Failure::Temporary {
                    code: 0,
                    reason: format!("writing the message under {}: {e}", dir.display()),
                })?;
                let links = links_in(&claim.body_text);
                tracing::info!(
                    to = %claim.recipient_email,
                    subject = %claim.subject,
                    file = %dir.join(format!("{}.eml", claim.id)).display(),
                    links = %links.join(" "),
                    "mail written"
                );
                Ok(())
            }
            Self::Smtp { mailer, .. } => mailer.send(message).await.map(drop).map_err(classify),
        }
    }
}

/// The MIME message of a delivery, with its stable Message-ID.
fn build(claim: &Claimed, from: &str) -> Result<Message, Failure> {
    let permanent = |reason: String| Failure::Permanent { code: 0, reason };
    let from: Address =
        from.parse().map_err(|e| permanent(format!("the sender address '{from}' is not valid: {e}")))?;
    let to: Address = claim
        .recipient_email
        .parse()
        .map_err(|e| permanent(format!("the recipient address '{}' is not valid: {e}", claim.recipient_email)))?;
    let name = claim.recipient_name.trim();
    let builder = Message::builder()
        .from(Mailbox::new(None, from))
        .to(Mailbox::new((!name.is_empty()).then(|| name.to_owned()), to))
        .subject(claim.subject.clone())
        .message_id(Some(claim.message_id.clone()));
    let message = if claim.body_html.is_empty() {
        builder.header(ContentType::TEXT_PLAIN).body(claim.body_text.clone())
    } else {
        builder.multipart(MultiPart::alternative_plain_html(claim.body_text.clone(), claim.body_html.clone()))
    };
    message.map_err(|e| permanent(format!("the message cannot be built: {e}")))
}

/// 4xx replies, timeouts and connection problems are temporary; 5xx replies and
/// messages the client cannot send are permanent.
fn classify(error: lettre::transport::smtp::Error) -> Failure {
    let detail = std::error::Error::source(&error).map(|s| s.to_string()).unwrap_or_default();
    let code = error.status().and_then(|c| c.to_string().parse::<u16>().ok()).unwrap_or(0);
    if error.is_permanent() {
        Failure::Permanent { code, reason: format!("{code} {detail}").trim().to_owned() }
    } else if error.is_transient() {
        Failure::Temporary { code, reason: format!("{code} {detail}").trim().to_owned() }
    } else if error.is_timeout() {
        Failure::Temporary { code: 0, reason: "timeout waiting for the SMTP server".into() }
    } else if error.is_client() {
        Failure::Permanent { code: 0, reason: error.to_string() }
    } else {
        // Refused or reset connections, TLS failures, garbled replies.
        Failure::Temporary { code: 0, reason: error.to_string() }
    }
}
