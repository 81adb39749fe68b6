//! Service agreement use cases, and the selection of the agreement a new case falls
//! under (the rule itself is `domain::agreement_selection`).

use service_kit::{ApiError, Caller, clock::Clock, secrets};

use crate::{
    case_access,
    catalog::{expected_version, require_manager},
    directory::{ContactPlace, Directory},
    domain::{
        CaseError,
        agreement_selection::{self, Selection, ServiceLevel},
    },
    storage::{AgreementRecord, Store, agreements::AgreementFilter},
};

/// The settable fields of an agreement.
#[derive(Debug, Clone, Default)]
pub struct AgreementFields {
    pub name: String,
    pub description: String,
    /// (kind, id): `contact`, `department` or `account`.
    pub service_object: Option<(String, String)>,
    pub service_ids: Vec<String>,
    pub calendar_id: String,
    pub status: String,
    pub is_default: bool,
}

/// The agreements' use cases.
#[derive(Debug, Clone)]
pub struct Agreements {
    pub store: Store,
    pub clock: Clock,
    pub directory: Directory,
}

fn level_of(kind: Option<&str>) -> Option<ServiceLevel> {
    match kind? {
        "contact" => Some(ServiceLevel::Contact),
        "department" => Some(ServiceLevel::Department),
        "account" => Some(ServiceLevel::Account),
        _ => None,
    }
}

impl Agreements {
    fn not_found(id: &str) -> CaseError {
        CaseError::NotFound { resource: "service agreement", id: id.to_owned() }
    }

    /// Checks what the fields refer to and the one-default rule.
    async fn check(&self, fields: &AgreementFields, id: &str) -> Result<(), CaseError> {
        let mut violations = service_kit::error::Violations::new();
        if fields.is_default && fields.service_object.is_some() {
            violations.add("service_agreement.service_object", "the default agreement serves everyone; leave it empty");
        }
        if !fields.is_default && fields.service_object.is_none() {
            violations
                .add("service_agreement.service_object", "set contact_id, department_id or account_id (or is_default)");
        }
        for (index, service_id) in fields.service_ids.iter().enumerate() {
            if self.store.service(service_id).await?.is_none() {
                violations.add(format!("service_agreement.service_item_ids[{index}]"), "no such service");
            }
        }
        if self.store.calendar(&fields.calendar_id).await?.is_none() {
            violations.add("service_agreement.calendar_id", "no such calendar");
        }
        violations.finish()?;
        if fields.is_default && self.store.default_agreement_other_than(id).await?.is_some() {
            return Err(CaseError::Precondition {
                reason: "DEFAULT_AGREEMENT_EXISTS",
                message: "another agreement is already the default; clear its is_default first".into(),
            });
        }
        Ok(())
    }

    fn record(fields: AgreementFields, base: AgreementRecord) -> AgreementRecord {
        let (object_kind, object_id) = fields.service_object.map_or((None, None), |(k, i)| (Some(k), Some(i)));
        let mut service_ids = fields.service_ids;
        service_ids.sort();
        service_ids.dedup();
        AgreementRecord {
            name_key: fields.name.to_lowercase(),
            name: fields.name,
            description: fields.description,
            object_kind,
            object_id,
            calendar_id: fields.calendar_id,
            status: fields.status,
            is_default: i16::from(fields.is_default),
            service_ids,
            ..base
        }
    }

    pub async fn create(
        &self,
        caller: &Caller,
        fields: AgreementFields,
        request_id: &str,
    ) -> Result<AgreementRecord, CaseError> {
        require_manager(caller, "service agreements")?;
        if let Some(id) = self.store.created_before(&caller.user_id, "agreement", request_id).await? {
            return self.store.agreement(&id).await?.ok_or_else(|| Self::not_found(&id));
        }
        self.check(&fields, "").await?;
        let now = self.clock.now();
        let base = AgreementRecord {
            id: secrets::new_id(),
            name: String::new(),
            name_key: String::new(),
            object_kind: None,
            object_id: None,
            calendar_id: String::new(),
            status: String::new(),
            is_default: 0,
            description: String::new(),
            version: 1,
            created_at: now,
            updated_at: now,
            service_ids: Vec::new(),
        };
        let record = Self::record(fields, base);
        self.store.insert_agreement(&record, &caller.user_id, request_id).await?;
        Ok(record)
    }

    /// The service objects a portal user's agreements may name: their contact, its
    /// department and its account.
    async fn own_objects(&self, caller: &Caller) -> Result<Vec<(String, String)>, CaseError> {
        let Some(person) = self.directory.person(&caller.user_id).await? else {
            return Ok(Vec::new());
        };
        let place = self.directory.contact(&person.contact_id).await?.unwrap_or_default();
        Ok(objects_of(&ContactPlace { account_id: person.account_id.clone(), ..place }, &person.contact_id))
    }

    pub async fn get(&self, caller: &Caller, id: &str) -> Result<AgreementRecord, CaseError> {
        let agreement = self.store.agreement(id).await?.ok_or_else(|| Self::not_found(id))?;
        if case_access::is_staff(caller) || agreement.is_default != 0 {
            return Ok(agreement);
        }
        let objects = self.own_objects(caller).await?;
        let serves = agreement.object_kind.as_ref().zip(agreement.object_id.as_ref());
        match serves {
            Some((kind, object)) if objects.iter().any(|(k, o)| k == kind && o == object) => Ok(agreement),
            _ => Err(Self::not_found(id)),
        }
    }

    pub async fn list(&self, caller: &Caller, mut filter: AgreementFilter) -> Result<Vec<AgreementRecord>, CaseError> {
        if !case_access::is_staff(caller) {
            let own = self.own_objects(caller).await?;
            filter.objects = if filter.objects.is_empty() {
                own
            } else {
                filter.objects.into_iter().filter(|o| own.contains(o)).collect()
            };
            filter.restrict_to_objects = true;
        }
        self.store.list_agreements(&filter).await
    }

    pub async fn update(
        &self,
        caller: &Caller,
        id: &str,
        etag: &str,
        change: impl FnOnce(&mut AgreementFields) -> Result<(), CaseError>,
    ) -> Result<AgreementRecord, CaseError> {
        require_manager(caller, "service agreements")?;
        let current = self.store.agreement(id).await?.ok_or_else(|| Self::not_found(id))?;
        let expected = expected_version(etag, "service agreement")?.unwrap_or(current.version);
        if expected != current.version {
            return Err(CaseError::StaleEtag { resource: "service agreement" });
        }
        let mut fields = AgreementFields {
            name: current.name.clone(),
            description: current.description.clone(),
            service_object: current.object_kind.clone().zip(current.object_id.clone()),
            service_ids: current.service_ids.clone(),
            calendar_id: current.calendar_id.clone(),
            status: current.status.clone(),
            is_default: current.is_default != 0,
        };
        change(&mut fields)?;
        self.check(&fields, id).await?;
        let base = AgreementRecord { version: current.version + 1, updated_at: self.clock.now(), ..current };
        let record = Self::record(fields, base);
        if !self.store.update_agreement(&record, expected).await? {
            return Err(CaseError::StaleEtag { resource: "service agreement" });
        }
        Ok(record)
    }

    pub async fn delete(&self, caller: &Caller, id: &str, etag: &str) -> Result<(), CaseError> {
        require_manager(caller, "service agreements")?;
        self.store.agreement(id).await?.ok_or_else(|| Self::not_found(id))?;
        if self.store.agreement_in_use(id).await? {
            return Err(CaseError::Precondition {
                reason: "SERVICE_AGREEMENT_IN_USE",
                message: "a case is under this agreement; set its status to inactive instead".into(),
            });
        }
        if !self.store.delete_agreement(id, expected_version(etag, "service agreement")?).await? {
            return Err(CaseError::StaleEtag { resource: "service agreement" });
        }
        Ok(())
    }

    /// The agreement a case for `contact` about `service_id` (empty: any) would get,
    /// with the agreements the selection names.
    pub async fn select(
        &self,
        contact: &ContactPlace,
        service_id: &str,
    ) -> Result<(Selection, Vec<AgreementRecord>), CaseError> {
        let objects = objects_of(contact, &contact.contact_id);
        let borrowed: Vec<(&str, &str)> = objects.iter().map(|(k, i)| (k.as_str(), i.as_str())).collect();
        let (applicable, default) = self.store.applicable_agreements(&borrowed, service_id).await?;
        let levels: Vec<(ServiceLevel, String)> =
            applicable.iter().filter_map(|a| Some((level_of(a.object_kind.as_deref())?, a.id.clone()))).collect();
        let selection = agreement_selection::select(&levels, default.as_ref().map(|d| d.id.as_str()));
        let named: Vec<String> = match &selection {
            Selection::Selected { agreement_id, .. } => vec![agreement_id.clone()],
            Selection::Tie { candidate_ids, .. } => candidate_ids.clone(),
            Selection::None => Vec::new(),
        };
        let mut all = applicable;
        all.extend(default);
        let mut chosen: Vec<AgreementRecord> = all.into_iter().filter(|a| named.contains(&a.id)).collect();
        chosen.sort_by(|a, b| a.id.cmp(&b.id));
        chosen.dedup_by(|a, b| a.id == b.id);
        Ok((selection, chosen))
    }

    /// Where a contact stands: the caller's own contact when `contact_id` is empty; a
    /// portal user may only ask for their own.
    pub async fn contact_for(&self, caller: &Caller, contact_id: &str) -> Result<ContactPlace, CaseError> {
        let own = self.directory.person(&caller.user_id).await?;
        let wanted = if contact_id.is_empty() {
            own.as_ref().map(|p| p.contact_id.clone()).unwrap_or_default()
        } else {
            contact_id.to_owned()
        };
        if !case_access::is_staff(caller) && own.as_ref().map(|p| p.contact_id.as_str()) != Some(wanted.as_str()) {
            return Err(CaseError::PermissionDenied {
                message: "portal users may only ask for their own contact".into(),
            });
        }
        if wanted.is_empty() {
            return Err(CaseError::Api(ApiError::invalid("contact_id", "the caller has no contact; name one")));
        }
        let mut place = self
            .directory
            .contact(&wanted)
            .await?
            .ok_or_else(|| CaseError::NotFound { resource: "contact", id: wanted.clone() })?;
        if place.account_id.is_empty()
            && let Some(person) = own.filter(|p| p.contact_id == wanted)
        {
            place.account_id = person.account_id;
        }
        Ok(place)
    }
}

/// The (kind, id) service objects that serve a contact.
fn objects_of(place: &ContactPlace, contact_id: &str) -> Vec<(String, String)> {
    [("contact", contact_id), ("department", place.department_id.as_str()), ("account", place.account_id.as_str())]
        .into_iter()
        .filter(|(_, id)| !id.is_empty())
        .map(|(k, id)| (k.to_owned(), id.to_owned()))
        .collect()
}
