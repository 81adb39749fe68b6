//! The lookup use cases, written once for every lookup kind: read and list (staff and
//! partner users), create with an idempotent request_id, update by field mask with an
//! etag, delete under the one deletion rule (staff only). What differs between kinds,
//! their validation and references, is [`LookupKind`].

use std::future::Future;

use service_kit::{Caller, clock::Clock, secrets};

use crate::{
    authority::{Authority, Object, Operation},
    domain::{
        PartnerError,
        lookup::{self, ParameterValues, Role, Source, Unit},
    },
    storage::{
        LevelParameterRecord, LookupRow, LookupTable, ParameterCategoryRecord, ParameterTypeRecord, PartnerLevelRecord,
        PartnerTypeRecord, Store, Value,
    },
};

/// What one lookup kind adds to the generic use cases.
pub trait LookupKind: LookupTable {
    /// The request field the row travels in, for error field paths ("partner_type").
    const FIELD: &'static str;
    /// The paths an update may name.
    const UPDATABLE: &'static [&'static str];

    /// Copies the field at `path` (one of `UPDATABLE`) from `patch`.
    fn apply(&mut self, patch: &Self, path: &str);

    /// Checks the row as it is about to be written and fills what follows from its
    /// references; `before` is the stored row when updating.
    fn prepare(self, before: Option<&Self>, store: &Store) -> impl Future<Output = Result<Self, PartnerError>> + Send;
}

fn field<T: LookupKind>(name: &str) -> String {
    format!("{}.{name}", T::FIELD)
}

fn common<T: LookupKind>(row: &mut LookupRow) -> Result<(), PartnerError> {
    row.description = lookup::description(&field::<T>("description"), &row.description)?;
    Ok(())
}

/// Fetches a referenced row, or INVALID_ARGUMENT naming the field that refers to it.
async fn referenced<R: LookupTable>(store: &Store, field: String, id: &str) -> Result<R, PartnerError> {
    if id.is_empty() {
        return Err(PartnerError::invalid(field, "is required"));
    }
    store
        .lookup::<R>(id)
        .await?
        .ok_or_else(|| PartnerError::invalid(field, format!("no {} has id '{id}'", R::RESOURCE)))
}

impl LookupKind for PartnerTypeRecord {
    const FIELD: &'static str = "partner_type";
    const UPDATABLE: &'static [&'static str] = &["name", "description"];

    fn apply(&mut self, patch: &Self, path: &str) {
        match path {
            "name" => self.name = patch.name.clone(),
            _ => self.row.description = patch.row.description.clone(),
        }
    }

    async fn prepare(mut self, _before: Option<&Self>, _store: &Store) -> Result<Self, PartnerError> {
        self.name = lookup::name_and_key(&field::<Self>("name"), &self.name)?.0;
        common::<Self>(&mut self.row)?;
        Ok(self)
    }
}

impl LookupKind for PartnerLevelRecord {
    const FIELD: &'static str = "partner_level";
    const UPDATABLE: &'static [&'static str] = &["name", "target_points", "order", "description"];

    fn apply(&mut self, patch: &Self, path: &str) {
        match path {
            "name" => self.name = patch.name.clone(),
            "target_points" => self.target_points = patch.target_points,
            "order" => self.level_order = patch.level_order,
            _ => self.row.description = patch.row.description.clone(),
        }
    }

    async fn prepare(mut self, _before: Option<&Self>, store: &Store) -> Result<Self, PartnerError> {
        let mut problems = Vec::new();
        match lookup::name_and_key(&field::<Self>("name"), &self.name) {
            Ok((name, _)) => self.name = name,
            Err(PartnerError::Invalid(p)) => problems.extend(p),
            Err(other) => return Err(other),
        }
        if self.target_points < 1 {
            problems.push((field::<Self>("target_points"), "must be at least 1".into()));
        }
        if self.level_order < 1 {
            problems.push((field::<Self>("order"), "must be at least 1".into()));
        }
        if !problems.is_empty() {
            return Err(PartnerError::Invalid(problems));
        }
        common::<Self>(&mut self.row)?;
        referenced::<PartnerTypeRecord>(store, field::<Self>("partner_type_id"), &self.partner_type_id).await?;
        Ok(self)
    }
}

impl LookupKind for ParameterCategoryRecord {
    const FIELD: &'static str = "parameter_category";
    const UPDATABLE: &'static [&'static str] = &["name", "description", "source", "unit"];

    fn apply(&mut self, patch: &Self, path: &str) {
        match path {
            "name" => self.name = patch.name.clone(),
            "source" => self.source = patch.source.clone(),
            "unit" => self.unit = patch.unit.clone(),
            _ => self.row.description = patch.row.description.clone(),
        }
    }

    async fn prepare(mut self, before: Option<&Self>, _store: &Store) -> Result<Self, PartnerError> {
        self.name = lookup::name_and_key(&field::<Self>("name"), &self.name)?.0;
        common::<Self>(&mut self.row)?;
        let source = Source::from_stored(&self.source)
            .map_err(|_| PartnerError::invalid(field::<Self>("source"), "is required"))?;
        let unit =
            Unit::from_stored(&self.unit).map_err(|_| PartnerError::invalid(field::<Self>("unit"), "is required"))?;
        lookup::check_category(source, unit)
            .map_err(|_| PartnerError::invalid(field::<Self>("unit"), "does not suit the source"))?;
        if let Some(before) = before {
            let base = before.row.is_base();
            lookup::check_base_unchanged(Self::RESOURCE, base, "source", before.source != self.source)?;
            lookup::check_base_unchanged(Self::RESOURCE, base, "unit", before.unit != self.unit)?;
        }
        Ok(self)
    }
}

impl LookupKind for ParameterTypeRecord {
    const FIELD: &'static str = "parameter_type";
    const UPDATABLE: &'static [&'static str] = &["name", "role"];

    fn apply(&mut self, patch: &Self, path: &str) {
        match path {
            "name" => self.name = patch.name.clone(),
            _ => self.role = patch.role.clone(),
        }
    }

    async fn prepare(mut self, before: Option<&Self>, store: &Store) -> Result<Self, PartnerError> {
        self.name = lookup::name_and_key(&field::<Self>("name"), &self.name)?.0;
        Role::from_stored(&self.role).map_err(|_| PartnerError::invalid(field::<Self>("role"), "is required"))?;
        if let Some(before) = before
            && before.role != self.role
        {
            lookup::check_base_unchanged(Self::RESOURCE, before.row.is_base(), "role", true)?;
            if store.lookup_in_use::<Self>(&self.row.id).await? {
                return Err(PartnerError::Refused(
                    "LOOKUP_IN_USE",
                    "level parameters use this parameter type; its role cannot change".into(),
                ));
            }
        }
        Ok(self)
    }
}

impl LookupKind for LevelParameterRecord {
    const FIELD: &'static str = "level_parameter";
    const UPDATABLE: &'static [&'static str] =
        &["parameter_category_id", "parameter_type_id", "target_value", "points", "benefit_value", "description"];

    fn apply(&mut self, patch: &Self, path: &str) {
        match path {
            "parameter_category_id" => self.parameter_category_id = patch.parameter_category_id.clone(),
            "parameter_type_id" => self.parameter_type_id = patch.parameter_type_id.clone(),
            "target_value" => self.target_value = patch.target_value.clone(),
            "points" => self.points = patch.points,
            "benefit_value" => self.benefit_value = patch.benefit_value.clone(),
            _ => self.row.description = patch.row.description.clone(),
        }
    }

    async fn prepare(mut self, _before: Option<&Self>, store: &Store) -> Result<Self, PartnerError> {
        common::<Self>(&mut self.row)?;
        let level: PartnerLevelRecord =
            referenced(store, field::<Self>("partner_level_id"), &self.partner_level_id).await?;
        let category: ParameterCategoryRecord =
            referenced(store, field::<Self>("parameter_category_id"), &self.parameter_category_id).await?;
        let kind: ParameterTypeRecord =
            referenced(store, field::<Self>("parameter_type_id"), &self.parameter_type_id).await?;
        self.partner_type_id = level.partner_type_id;
        self.target_value = self.target_value.trim().to_owned();
        self.benefit_value = self.benefit_value.trim().to_owned();
        if let Ok(target) = crate::domain::decimal::Decimal::parse(&self.target_value) {
            self.target_value = target.to_string();
        }
        lookup::check_parameter(
            &format!("{}.", Self::FIELD),
            &ParameterValues {
                role: Role::from_stored(&kind.role)?,
                source: Source::from_stored(&category.source)?,
                unit: Unit::from_stored(&category.unit)?,
                target_value: &self.target_value,
                points: self.points,
                benefit_value: &self.benefit_value,
            },
        )?;
        Ok(self)
    }
}

/// The lookup use cases.
#[derive(Debug, Clone)]
pub struct Lookups {
    store: Store,
    authority: Authority,
    clock: Clock,
}

impl Lookups {
    pub fn new(store: Store, authority: Authority, clock: Clock) -> Self {
        Self { store, authority, clock }
    }

    pub async fn get<T: LookupKind>(&self, caller: &Caller, id: &str) -> Result<T, PartnerError> {
        self.authority.require(caller, Object::Partnership, Operation::Read, None).await?;
        self.store.lookup::<T>(id).await?.ok_or_else(|| PartnerError::NotFound(T::RESOURCE, id.to_owned()))
    }

    /// A page of rows meeting `conditions`, after the keyset position `after`.
    pub async fn list<T: LookupKind>(
        &self,
        caller: &Caller,
        conditions: &[(&str, Value)],
        after: Option<(String, String)>,
        limit: i64,
    ) -> Result<Vec<T>, PartnerError> {
        self.authority.require(caller, Object::Partnership, Operation::Read, None).await?;
        self.store.lookups::<T>(conditions, after, limit).await
    }

    pub async fn create<T: LookupKind>(
        &self,
        caller: &Caller,
        mut draft: T,
        request_id: &str,
    ) -> Result<T, PartnerError> {
        let actor = self.authority.staff(caller, Object::Partnership, Operation::Update).await?;
        let now = self.clock.now();
        if let Some(id) = self.store.created_by_request(actor.user_id(), T::TABLE, request_id, now).await?
            && let Some(done) = self.store.lookup::<T>(&id).await?
        {
            return Ok(done);
        }
        let description = std::mem::take(&mut draft.row_mut().description);
        *draft.row_mut() =
            LookupRow { id: secrets::new_id(), description, base: 0, version: 1, created_at: now, updated_at: now };
        let record = draft.prepare(None, &self.store).await?;
        let mut tx = self.store.begin().await?;
        Store::insert_lookup(&mut tx, &record).await?;
        Store::remember_request(&mut tx, actor.user_id(), T::TABLE, request_id, &record.row().id, now).await?;
        tx.commit().await?;
        Ok(record)
    }

    /// Applies the fields named by `paths` from `patch` to the row `patch` names.
    pub async fn update<T: LookupKind>(
        &self,
        caller: &Caller,
        patch: T,
        etag: &str,
        paths: &[String],
    ) -> Result<T, PartnerError> {
        self.authority.staff(caller, Object::Partnership, Operation::Update).await?;
        if paths.is_empty() {
            return Err(PartnerError::invalid(
                "update_mask",
                format!("is required; updatable: {}", T::UPDATABLE.join(", ")),
            ));
        }
        if let Some(bad) = paths.iter().find(|p| !T::UPDATABLE.contains(&p.as_str())) {
            return Err(PartnerError::invalid(
                "update_mask",
                format!("'{bad}' cannot be updated; updatable: {}", T::UPDATABLE.join(", ")),
            ));
        }
        let id = patch.row().id.clone();
        let before =
            self.store.lookup::<T>(&id).await?.ok_or_else(|| PartnerError::NotFound(T::RESOURCE, id.clone()))?;
        lookup::check_etag(T::RESOURCE, etag, before.row().version)?;
        let mut next = before.clone();
        for path in paths {
            next.apply(&patch, path);
        }
        let next = next.prepare(Some(&before), &self.store).await?;
        self.store.update_lookup(&next, self.clock.now()).await
    }

    pub async fn delete<T: LookupKind>(&self, caller: &Caller, id: &str, etag: &str) -> Result<(), PartnerError> {
        self.authority.staff(caller, Object::Partnership, Operation::Update).await?;
        self.store.delete_lookup::<T>(id, etag).await
    }
}
