//! The outbox use cases: queue an email (idempotently, rendered from its template
//! in the recipient's culture), look deliveries up, and queue a dead letter again.

use std::{collections::HashMap, sync::Arc};

use service_kit::{clock::Clock, secrets};
use tokio::sync::Notify;

use crate::{
    domain::{
        NotifyError,
        culture::{self, DEFAULT_CULTURE},
        delivery::DeliveryState,
        email, template,
    },
    storage::{DeliveryFilter, DeliveryRow, NewDelivery, Store},
    templates::Templates,
};

/// One email to queue, its fields checked for shape by the caller.
#[derive(Debug, Clone)]
pub struct EmailRequest {
    pub idempotency_key: String,
    pub recipient_email: String,
    pub recipient_name: String,
    /// Canonical, or empty for "en-US".
    pub culture: String,
    pub template_code: String,
    pub macro_values: HashMap<String, String>,
}

/// The outbox.
#[derive(Debug, Clone)]
pub struct Outbox {
    store: Store,
    templates: Templates,
    clock: Clock,
    message_id_domain: String,
    /// Wakes this process's worker when something was queued.
    queued: Arc<Notify>,
}

impl Outbox {
    pub fn new(
        store: Store,
        templates: Templates,
        clock: Clock,
        message_id_domain: String,
        queued: Arc<Notify>,
    ) -> Self {
        Self { store, templates, clock, message_id_domain, queued }
    }

    /// Queues an email; the same idempotency key again returns the first delivery and
    /// `false`.
    pub async fn enqueue(&self, request: EmailRequest) -> Result<(String, bool), NotifyError> {
        if let Some(earlier) = self.store.delivery_by_key(&request.idempotency_key).await? {
            return Self::same_email(&request, earlier);
        }
        let wanted = if request.culture.is_empty() { DEFAULT_CULTURE.to_owned() } else { request.culture.clone() };
        let not_found =
            || NotifyError::TemplateNotFound { code: request.template_code.clone(), culture: wanted.clone() };
        let spec = self.templates.spec_for(&request.template_code).await?.ok_or_else(not_found)?;
        let values =
            template::normalize_values(&request.macro_values, &request.recipient_name, &request.recipient_email);
        if let Some(name) = template::missing_values(spec, &values).first() {
            return Err(NotifyError::MacroValueMissing { name: (*name).to_owned() });
        }
        let chosen = self
            .store
            .template_in(&request.template_code, &culture::fallback_chain(&wanted))
            .await?
            .ok_or_else(not_found)?;
        let rendered = chosen.text().render(spec, &values);
        let id = secrets::new_id();
        let new = NewDelivery {
            message_id: format!("<{id}@{}>", self.message_id_domain),
            id,
            idempotency_key: request.idempotency_key.clone(),
            template_code: request.template_code.clone(),
            culture: wanted,
            template_culture: chosen.culture,
            recipient_email: request.recipient_email.clone(),
            recipient_name: request.recipient_name.clone(),
            subject: rendered.subject,
            body_text: rendered.body_text,
            body_html: rendered.body_html,
        };
        let (row, created) = self.store.enqueue(&new, self.clock.now()).await?;
        if !created {
            // Another call with the same key won the race.
            return Self::same_email(&request, row);
        }
        self.queued.notify_one();
        tracing::debug!(delivery_id = %row.id, template = %row.template_code, "email queued");
        Ok((row.id, true))
    }

    fn same_email(request: &EmailRequest, earlier: DeliveryRow) -> Result<(String, bool), NotifyError> {
        if email::key(&earlier.recipient_email) != email::key(&request.recipient_email)
            || earlier.template_code != request.template_code
        {
            return Err(NotifyError::IdempotencyKeyReused(request.idempotency_key.clone()));
        }
        Ok((earlier.id, false))
    }

    pub async fn get(&self, id: &str) -> Result<DeliveryRow, NotifyError> {
        self.store.delivery(id).await?.ok_or_else(|| NotifyError::DeliveryNotFound(id.to_owned()))
    }

    pub async fn list(&self, filter: &DeliveryFilter) -> Result<Vec<DeliveryRow>, NotifyError> {
        self.store.deliveries(filter).await
    }

    /// Queues a dead-lettered delivery again, due now.
    pub async fn retry(&self, id: &str, actor: &str) -> Result<DeliveryRow, NotifyError> {
        let before = self.get(id).await?;
        if before.state() != DeliveryState::DeadLettered {
            return Err(NotifyError::NotDeadLettered { id: id.to_owned(), state: before.state().describe() });
        }
        let row = self.store.requeue_dead_letter(&before, actor, self.clock.now()).await?;
        match row {
            Some(row) => {
                self.queued.notify_one();
                tracing::info!(delivery_id = %id, actor, "dead letter queued again");
                Ok(row)
            }
            // Retried concurrently by someone else: report its current state.
            None => {
                let now = self.get(id).await?;
                Err(NotifyError::NotDeadLettered { id: id.to_owned(), state: now.state().describe() })
            }
        }
    }
}
