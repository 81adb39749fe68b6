//! The portal object list, the portal configurations and the portal sections as a use
//! case: who may change them, the configuration limits (`domain::sections`), one
//! transaction and one audit event per change, and a policy bump afterwards (level 1 of
//! every check reads them).

use std::sync::Arc;

use service_kit::{Caller, clock::Clock};

use crate::{
    admin::{PageRequest, actor},
    cache::{Counter, VersionedCache},
    domain::{
        AccessError,
        sections::{self, Configuration, NewSection, StandardSection},
    },
    permissions::Permissions,
    storage::{
        self, Store, Tx,
        catalog::{self, ConfigurationRow, PortalObjectRow, SectionRow},
        is_unique_violation,
    },
};

/// Section kinds (sections.proto's SectionKind).
pub const KIND_STANDARD: i16 = 1;
pub const KIND_CUSTOM: i16 = 2;

/// A section as asked for on create.
#[derive(Debug, Clone)]
pub struct NewSectionInput {
    pub standard: Option<StandardSection>,
    pub configuration: Configuration,
    pub code: String,
    pub title: String,
    pub primary_object_code: String,
    pub page_object_codes: Vec<String>,
    pub position: i64,
}

/// The changes an UpdateSection asks for.
#[derive(Debug, Clone, Default)]
pub struct SectionChanges {
    pub title: Option<String>,
    pub position: Option<i64>,
    pub page_object_codes: Option<Vec<String>>,
    pub primary_object_code: Option<String>,
}

/// The catalog use case.
#[derive(Clone, Debug)]
pub struct Catalog {
    pub store: Store,
    pub permissions: Permissions,
    pub cache: Arc<VersionedCache>,
    pub clock: Clock,
}

fn not_on_portal(code: &str) -> AccessError {
    AccessError::Refused(
        "OBJECT_NOT_ON_PORTAL",
        format!("object '{code}' is not in the list of objects available for portal users; add it first"),
    )
}

impl Catalog {
    async fn policy_changed(&self) {
        self.cache.bump(&[Counter::Policy]).await;
    }

    pub async fn create_object(
        &self,
        caller: &Caller,
        code: String,
        display_name: String,
        record_permissions_enabled: bool,
        request_id: &str,
    ) -> Result<PortalObjectRow, AccessError> {
        Permissions::require_system_administrator(caller)?;
        let actor = actor(caller);
        if let Some(id) = self.store.created_by_request("portal_object", &actor, request_id).await?
            && let Some(row) = self.store.portal_object(&id).await?
        {
            return Ok(row);
        }
        let now = self.clock.now();
        let row = PortalObjectRow {
            id: service_kit::secrets::new_id(),
            code,
            display_name,
            record_permissions_enabled,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let mut tx = self.store.begin().await?;
        if let Err(error) = catalog::insert_object(&mut tx, &row).await {
            return Err(if is_unique_violation(&error) {
                AccessError::AlreadyExists("ALREADY_EXISTS", format!("object '{}' is already on the portal", row.code))
            } else {
                error
            });
        }
        storage::remember_request(&mut tx, "portal_object", &actor, request_id, &row.id, now).await?;
        storage::audit(&mut tx, &actor, "create", "portal_object", &row.id, None::<&()>, Some(&row), now).await?;
        tx.commit().await?;
        self.policy_changed().await;
        Ok(row)
    }

    /// Changes (`Some`) or removes (`None` changes) an object of the list.
    pub async fn change_object(
        &self,
        caller: &Caller,
        id: &str,
        etag: &str,
        changes: Option<(Option<String>, Option<bool>)>,
    ) -> Result<Option<PortalObjectRow>, AccessError> {
        Permissions::require_system_administrator(caller)?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let before =
            catalog::object_in(&mut tx, id).await?.ok_or_else(|| AccessError::NotFound("portal object", id.into()))?;
        storage::check_etag(etag, before.version, "portal object")?;
        let after = match changes {
            Some((display_name, record_permissions_enabled)) => {
                let after = PortalObjectRow {
                    display_name: display_name.unwrap_or_else(|| before.display_name.clone()),
                    record_permissions_enabled: record_permissions_enabled.unwrap_or(before.record_permissions_enabled),
                    version: before.version + 1,
                    updated_at: now,
                    ..before.clone()
                };
                catalog::update_object(&mut tx, &after).await?;
                Some(after)
            }
            None => {
                if catalog::object_used_by_section(&mut tx, &before.code).await? {
                    return Err(AccessError::Refused(
                        "OBJECT_USED_BY_SECTION",
                        format!("a portal section uses '{}'; remove it from the section first", before.code),
                    ));
                }
                catalog::delete_object(&mut tx, id).await?;
                None
            }
        };
        let action = if after.is_some() { "update" } else { "delete" };
        storage::audit(&mut tx, &actor(caller), action, "portal_object", id, Some(&before), after.as_ref(), now)
            .await?;
        tx.commit().await?;
        self.policy_changed().await;
        Ok(after)
    }

    pub async fn get_object(&self, caller: &Caller, id: &str) -> Result<PortalObjectRow, AccessError> {
        self.permissions.require_administrator(caller).await?;
        self.store.portal_object(id).await?.ok_or_else(|| AccessError::NotFound("portal object", id.into()))
    }

    pub async fn list_objects(
        &self,
        caller: &Caller,
        code: &str,
        page: &PageRequest,
    ) -> Result<(Vec<PortalObjectRow>, String), AccessError> {
        self.permissions.require_administrator(caller).await?;
        Ok(page.finish(self.store.list_portal_objects(code, &page.after, page.size + 1).await?))
    }

    pub async fn configurations(&self) -> Result<Vec<ConfigurationRow>, AccessError> {
        self.store.configurations().await
    }

    pub async fn set_configuration_enabled(
        &self,
        caller: &Caller,
        configuration: Configuration,
        etag: &str,
        enabled: bool,
    ) -> Result<ConfigurationRow, AccessError> {
        Permissions::require_system_administrator(caller)?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let (before, section_count) = catalog::configuration_in(&mut tx, configuration.id())
            .await?
            .ok_or_else(|| AccessError::NotFound("portal configuration", configuration.id().into()))?;
        storage::check_etag(etag, before.version, "portal configuration")?;
        if !enabled && section_count > 0 {
            return Err(AccessError::Refused(
                "CONFIGURATION_IN_USE",
                format!("the {} configuration still has sections; delete them first", configuration.id()),
            ));
        }
        let after = ConfigurationRow { enabled, version: before.version + 1, updated_at: now, ..before.clone() };
        catalog::update_configuration(&mut tx, &after).await?;
        storage::audit(
            &mut tx,
            &actor(caller),
            "update",
            "portal_configuration",
            &after.id,
            Some(&before),
            Some(&after),
            now,
        )
        .await?;
        tx.commit().await?;
        self.policy_changed().await;
        Ok(after)
    }

    /// Refuses page or primary objects that are not on the portal.
    async fn require_on_portal(tx: &mut Tx, codes: &[String]) -> Result<(), AccessError> {
        match catalog::missing_objects(tx, codes).await?.into_iter().next() {
            Some(code) => Err(not_on_portal(&code)),
            None => Ok(()),
        }
    }

    pub async fn create_section(
        &self,
        caller: &Caller,
        input: NewSectionInput,
        request_id: &str,
    ) -> Result<SectionRow, AccessError> {
        Permissions::require_system_administrator(caller)?;
        let actor = actor(caller);
        if let Some(id) = self.store.created_by_request("section", &actor, request_id).await?
            && let Some(row) = self.store.section(&id).await?
        {
            return Ok(row);
        }
        let (kind, code, primary) = match input.standard {
            Some(standard) => {
                let (code, primary) = standard.code_and_object();
                (NewSection::Standard(standard), code.to_owned(), primary.to_owned())
            }
            None => (NewSection::Custom, input.code.clone(), input.primary_object_code.clone()),
        };
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let (configuration, _) = catalog::configuration_in(&mut tx, input.configuration.id())
            .await?
            .ok_or_else(|| AccessError::NotFound("portal configuration", input.configuration.id().into()))?;
        sections::admit_section(input.configuration, configuration.enabled, kind, configuration.custom_section_count)?;
        let (page_object_codes, page_object_count) = sections::page_objects(&primary, &input.page_object_codes);
        let mut needed = page_object_codes.clone();
        needed.insert(0, primary.clone());
        Self::require_on_portal(&mut tx, &needed).await?;
        let row = SectionRow {
            id: service_kit::secrets::new_id(),
            kind: if input.standard.is_some() { KIND_STANDARD } else { KIND_CUSTOM },
            standard_section: input.standard.map_or(0, |s| s as i16),
            configuration_id: input.configuration.id().to_owned(),
            code,
            title: input.title,
            primary_object_code: primary,
            read_only: sections::is_read_only(input.configuration, page_object_count),
            page_object_codes,
            page_object_count,
            position: input.position,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        if let Err(error) = catalog::upsert_section(&mut tx, &row, true).await {
            return Err(if is_unique_violation(&error) {
                AccessError::AlreadyExists(
                    "ALREADY_EXISTS",
                    format!(
                        "a section with code '{}' or primary object '{}' exists",
                        row.code, row.primary_object_code
                    ),
                )
            } else {
                error
            });
        }
        storage::remember_request(&mut tx, "section", &actor, request_id, &row.id, now).await?;
        storage::audit(&mut tx, &actor, "create", "section", &row.id, None::<&()>, Some(&row), now).await?;
        tx.commit().await?;
        self.policy_changed().await;
        Ok(row)
    }

    /// Changes (`Some`) or removes (`None`) a section.
    pub async fn change_section(
        &self,
        caller: &Caller,
        id: &str,
        etag: &str,
        changes: Option<SectionChanges>,
    ) -> Result<Option<SectionRow>, AccessError> {
        Permissions::require_system_administrator(caller)?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let before =
            catalog::section_in(&mut tx, id).await?.ok_or_else(|| AccessError::NotFound("section", id.into()))?;
        storage::check_etag(etag, before.version, "section")?;
        let after = match changes {
            None => {
                catalog::delete_section(&mut tx, id).await?;
                None
            }
            Some(changes) => {
                let configuration = Configuration::from_id(&before.configuration_id)
                    .ok_or_else(|| AccessError::Unavailable("a section names an unknown configuration".into()))?;
                if changes.primary_object_code.is_some() && before.kind != KIND_CUSTOM {
                    return Err(AccessError::invalid(
                        "update_mask",
                        "primary_object_code can only be changed on custom sections",
                    ));
                }
                let primary = changes.primary_object_code.unwrap_or_else(|| before.primary_object_code.clone());
                let pages = changes.page_object_codes.unwrap_or_else(|| before.page_object_codes.clone());
                let (page_object_codes, page_object_count) = sections::page_objects(&primary, &pages);
                let mut needed = page_object_codes.clone();
                needed.insert(0, primary.clone());
                Self::require_on_portal(&mut tx, &needed).await?;
                let after = SectionRow {
                    title: changes.title.unwrap_or_else(|| before.title.clone()),
                    position: changes.position.unwrap_or(before.position),
                    read_only: sections::is_read_only(configuration, page_object_count),
                    primary_object_code: primary,
                    page_object_codes,
                    page_object_count,
                    version: before.version + 1,
                    updated_at: now,
                    ..before.clone()
                };
                if let Err(error) = catalog::upsert_section(&mut tx, &after, false).await {
                    return Err(if is_unique_violation(&error) {
                        AccessError::AlreadyExists("ALREADY_EXISTS", "another section has that primary object".into())
                    } else {
                        error
                    });
                }
                Some(after)
            }
        };
        let action = if after.is_some() { "update" } else { "delete" };
        storage::audit(&mut tx, &actor(caller), action, "section", id, Some(&before), after.as_ref(), now).await?;
        tx.commit().await?;
        self.policy_changed().await;
        Ok(after)
    }

    /// A section the caller may see: every section for administrators; for others only
    /// sections of enabled configurations whose primary object they may read.
    async fn visible(&self, caller: &Caller, section: &SectionRow) -> Result<bool, AccessError> {
        if self.permissions.is_administrator(caller).await? {
            return Ok(true);
        }
        let enabled = self.store.configurations().await?.iter().any(|c| c.id == section.configuration_id && c.enabled);
        if !enabled {
            return Ok(false);
        }
        let query = crate::domain::evaluate::Query {
            object_code: section.primary_object_code.clone(),
            operation: crate::domain::Operation::Read,
            record_id: None,
            column_codes: Vec::new(),
        };
        Ok(self.permissions.check(&caller.user_id, &query).await?.allowed)
    }

    pub async fn get_section(&self, caller: &Caller, id: &str) -> Result<SectionRow, AccessError> {
        let section = self.store.section(id).await?.ok_or_else(|| AccessError::NotFound("section", id.into()))?;
        if self.visible(caller, &section).await? {
            Ok(section)
        } else {
            Err(AccessError::NotFound("section", id.into()))
        }
    }

    pub async fn list_sections(
        &self,
        caller: &Caller,
        configuration_id: &str,
        kind: i16,
        page: &PageRequest,
    ) -> Result<(Vec<SectionRow>, String), AccessError> {
        let (rows, token) =
            page.finish(self.store.list_sections(configuration_id, kind, &page.after, page.size + 1).await?);
        let mut visible = Vec::with_capacity(rows.len());
        for row in rows {
            if self.visible(caller, &row).await? {
                visible.push(row);
            }
        }
        Ok((visible, token))
    }
}
