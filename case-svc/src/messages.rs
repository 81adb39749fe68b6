//! Message use cases: the conversation on a case, and complaints. Regular messages are
//! refused on Closed and Canceled cases; complaints are accepted on any case. Listed
//! messages carry their files.

use service_kit::{Caller, secrets};

use crate::{
    case_access::{self, Operation},
    cases::{Cases, MESSAGE_TEMPLATE, first_response, history, on_current},
    domain::{
        CaseError,
        status::{self, CaseStatus, Mover},
    },
    storage::{
        MessageRecord,
        attachments::{AttachmentRecord, AttachmentStore},
        cases::CaseChange,
    },
};

/// The messages' use cases (built on the cases').
#[derive(Debug, Clone)]
pub struct Messages {
    pub cases: Cases,
    pub files: AttachmentStore,
}

impl Messages {
    pub async fn post(
        &self,
        caller: &Caller,
        case_id: &str,
        body: String,
        is_complaint: bool,
        request_id: &str,
    ) -> Result<MessageRecord, CaseError> {
        on_current("", || self.post_once(caller, case_id, body.clone(), is_complaint, request_id)).await
    }

    async fn post_once(
        &self,
        caller: &Caller,
        case_id: &str,
        body: String,
        is_complaint: bool,
        request_id: &str,
    ) -> Result<MessageRecord, CaseError> {
        let store = &self.cases.store;
        let case = self.cases.reachable(caller, case_id, Operation::Update).await?;
        if let Some(id) = store.created_before(&caller.user_id, "message", request_id).await?
            && let Some(message) = store.message(&id).await?
        {
            return Ok(message);
        }
        let status = CaseStatus::parse(&case.status).unwrap_or(CaseStatus::New);
        status.check_postable(is_complaint)?;
        let staff = case_access::is_staff(caller);
        let now = self.cases.clock.now();
        let message = MessageRecord {
            id: secrets::new_id(),
            case_id: case.id.clone(),
            author_user_id: caller.user_id.clone(),
            author_kind: if staff { "employee" } else { "external" }.into(),
            body: body.clone(),
            is_complaint: i16::from(is_complaint),
            created_at: now,
        };
        let mut change = CaseChange::default();
        let mut entry =
            history(&case, now, &caller.user_id, if is_complaint { "complaint_posted" } else { "message_posted" });
        entry.related_id = message.id.clone();
        change.history.push(entry);
        let mut case = case;
        if staff && !is_complaint {
            if case.first_response_at.is_none() {
                let calendar = self.cases.calendar_of(&case).await?;
                first_response(&mut case, &calendar, now, &mut change);
            }
            if case.author_user_id != caller.user_id {
                let author = case.author_user_id.clone();
                change.mails.push(self.cases.mail(
                    &case,
                    MESSAGE_TEMPLATE,
                    &author,
                    vec![("MessageText".into(), body)],
                ));
            }
        }
        if !staff && !is_complaint && status == CaseStatus::WaitingForResponse {
            let transition = status::transition(status, Mover::CustomerReplied)?;
            case = self.cases.apply_transition(case, &transition, "", "", now, &mut change).await?;
        }
        change.message = Some(message.clone());
        case.version += 1;
        case.updated_at = now;
        change.request = Some(("message".into(), caller.user_id.clone(), request_id.to_owned()));
        if !store.save_case(&case, change).await? {
            return Err(CaseError::StaleEtag { resource: "case" });
        }
        Ok(message)
    }

    pub async fn list(
        &self,
        caller: &Caller,
        case_id: &str,
        complaints_only: bool,
        newest_first: bool,
        after: Option<(i64, String)>,
        limit: i64,
    ) -> Result<Vec<(MessageRecord, Vec<AttachmentRecord>)>, CaseError> {
        self.cases.reachable(caller, case_id, Operation::Read).await?;
        let messages = self.cases.store.list_messages(case_id, complaints_only, newest_first, after, limit).await?;
        // Whoever reads the case reads its messages' files.
        let ids: Vec<String> = messages.iter().map(|m| m.id.clone()).collect();
        let mut files = self.files.of_messages(&ids).await.map_err(|e| CaseError::Api(e.into()))?;
        Ok(messages
            .into_iter()
            .map(|message| {
                let (own, rest) = files.drain(..).partition(|file| file.parent_id == message.id);
                files = rest;
                (message, own)
            })
            .collect())
    }
}
