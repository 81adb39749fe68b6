//! The adapters of the grant administration services: ObjectOperationGrantService,
//! ColumnGrantService, SystemOperationService, RolePriorityService,
//! DefaultRecordRuleService and RecordGrantService. The three prioritised grant kinds
//! share one use case (`Admin::*_grant`) and differ here only in their messages.

use portal_proto::access::{
    self as pb, column_grant_service_server::ColumnGrantService,
    default_record_rule_service_server::DefaultRecordRuleService,
    object_operation_grant_service_server::ObjectOperationGrantService,
    record_grant_service_server::RecordGrantService, role_priority_service_server::RolePriorityService,
    system_operation_service_server::SystemOperationService,
};
use service_kit::{ApiError, Caller, validate};
use sqlx::Row;
use tonic::{Request, Response, Status};

use super::{convert, record_grant_to_proto};
use crate::{
    admin::{Admin, GrantChanges, NewGrant, PageRequest},
    domain::{AccessError, ColumnLevel, Effect, GranteeKind, priority::effective_priority, valid_code},
    storage::{
        self,
        grants::{GrantFilter, GrantKind, GrantRow, RolePriorityRow, RuleRow},
        records::Source,
    },
};

/// The adapter of every grant administration service.
#[derive(Clone, Debug)]
pub struct GrantsApi {
    pub admin: Admin,
}

fn user<T>(request: &Request<T>) -> Result<Caller, Status> {
    Ok(Caller::user_of(request)?.clone())
}

fn err(error: AccessError) -> Status {
    ApiError::from(error).into()
}

fn code(field: &str, value: &str) -> Result<(), AccessError> {
    valid_code(value, 128).map_err(|problem| AccessError::invalid(field, problem))
}

fn effect(field: &str, value: i32) -> Result<i16, AccessError> {
    Effect::from_i32(value).map(|e| e as i16).ok_or_else(|| AccessError::invalid(field, "is required: ALLOW or DENY"))
}

fn level(field: &str, value: i32) -> Result<i16, AccessError> {
    ColumnLevel::from_i32(value)
        .map(|l| l as i16)
        .ok_or_else(|| AccessError::invalid(field, "is required: EDIT, READ or HIDDEN"))
}

impl GrantsApi {
    /// The effective priority of each grant, in order.
    async fn effective(&self, grants: &[GrantRow]) -> Result<Vec<i32>, AccessError> {
        let grantees: Vec<_> = grants.iter().map(|g| &g.grantee).collect();
        let priorities = self.admin.role_priorities_of(&grantees).await?;
        Ok(grants.iter().map(|g| effective_priority(g.priority, &g.grantee, &priorities) as i32).collect())
    }

    async fn one(&self, grant: GrantRow) -> Result<(GrantRow, i32), AccessError> {
        let effective = self.effective(std::slice::from_ref(&grant)).await?[0];
        Ok((grant, effective))
    }

    async fn page(&self, grants: Vec<GrantRow>) -> Result<Vec<(GrantRow, i32)>, AccessError> {
        let effective = self.effective(&grants).await?;
        Ok(grants.into_iter().zip(effective).collect())
    }

    fn update_changes(
        &self,
        paths: &[&str],
        value: Option<i16>,
        priority: Option<i32>,
        field: &str,
    ) -> Result<GrantChanges, AccessError> {
        let mut changes = GrantChanges::default();
        for path in paths {
            match *path {
                "priority" => changes.priority = Some(convert::priority(&format!("{field}.priority"), priority)?),
                _ => changes.value = value,
            }
        }
        Ok(changes)
    }
}

fn operation_grant(row: &GrantRow, effective_priority: i32) -> pb::ObjectOperationGrant {
    pb::ObjectOperationGrant {
        id: row.id.clone(),
        object_code: row.code.clone(),
        grantee: Some(convert::grantee_to_proto(&row.grantee)),
        operation: row.operation.into(),
        effect: row.value.into(),
        priority: row.priority.map(|p| p as i32),
        effective_priority,
        etag: storage::etag(row.version),
        create_time: convert::time(row.created_at),
        update_time: convert::time(row.updated_at),
    }
}

fn column_grant(row: &GrantRow, effective_priority: i32) -> pb::ColumnGrant {
    pb::ColumnGrant {
        id: row.id.clone(),
        object_code: row.code.clone(),
        column_code: row.column_code.clone(),
        grantee: Some(convert::grantee_to_proto(&row.grantee)),
        level: row.value.into(),
        priority: row.priority.map(|p| p as i32),
        effective_priority,
        etag: storage::etag(row.version),
        create_time: convert::time(row.created_at),
        update_time: convert::time(row.updated_at),
    }
}

fn system_operation_grant(row: &GrantRow, effective_priority: i32) -> pb::SystemOperationGrant {
    pb::SystemOperationGrant {
        id: row.id.clone(),
        operation_code: row.code.clone(),
        grantee: Some(convert::grantee_to_proto(&row.grantee)),
        effect: row.value.into(),
        priority: row.priority.map(|p| p as i32),
        effective_priority,
        etag: storage::etag(row.version),
        create_time: convert::time(row.created_at),
        update_time: convert::time(row.updated_at),
    }
}

#[tonic::async_trait]
impl ObjectOperationGrantService for GrantsApi {
    async fn get_object_operation_grant(
        &self,
        request: Request<pb::GetObjectOperationGrantRequest>,
    ) -> Result<Response<pb::ObjectOperationGrant>, Status> {
        let caller = user(&request)?;
        let grant = self
            .admin
            .get_grant(&caller, GrantKind::Operation, validate::id("id", &request.get_ref().id)?)
            .await
            .map_err(err)?;
        let (grant, effective) = self.one(grant).await.map_err(err)?;
        Ok(Response::new(operation_grant(&grant, effective)))
    }

    async fn list_object_operation_grants(
        &self,
        request: Request<pb::ListObjectOperationGrantsRequest>,
    ) -> Result<Response<pb::ListObjectOperationGrantsResponse>, Status> {
        let caller = user(&request)?;
        let r = request.into_inner();
        let page = PageRequest::parse(r.page_size, &r.page_token).map_err(err)?;
        let filter = GrantFilter {
            code: r.object_code,
            operation: r.operation as i16,
            column_code: String::new(),
            grantee_key: convert::grantee_filter("grantee", r.grantee.as_ref()).map_err(err)?,
        };
        let (grants, next_page_token) =
            self.admin.list_grants(&caller, GrantKind::Operation, &filter, &page).await.map_err(err)?;
        let grants = self.page(grants).await.map_err(err)?;
        Ok(Response::new(pb::ListObjectOperationGrantsResponse {
            object_operation_grants: grants.iter().map(|(g, e)| operation_grant(g, *e)).collect(),
            next_page_token,
        }))
    }

    async fn create_object_operation_grant(
        &self,
        request: Request<pb::CreateObjectOperationGrantRequest>,
    ) -> Result<Response<pb::ObjectOperationGrant>, Status> {
        let caller = user(&request)?;
        let r = request.into_inner();
        let request_id = convert::request_id(&r.request_id).map_err(err)?;
        let g = r.object_operation_grant.unwrap_or_default();
        let f = "object_operation_grant";
        code(&format!("{f}.object_code"), &g.object_code).map_err(err)?;
        let new = NewGrant {
            kind: GrantKind::Operation,
            grantee: convert::grantee(&format!("{f}.grantee"), g.grantee.as_ref()).map_err(err)?,
            operation: convert::operation(&format!("{f}.operation"), g.operation).map_err(err)? as i16,
            value: effect(&format!("{f}.effect"), g.effect).map_err(err)?,
            priority: convert::priority(&format!("{f}.priority"), g.priority).map_err(err)?,
            code: g.object_code,
            column_code: String::new(),
        };
        let grant = self.admin.create_grant(&caller, new, request_id).await.map_err(err)?;
        let (grant, effective) = self.one(grant).await.map_err(err)?;
        Ok(Response::new(operation_grant(&grant, effective)))
    }

    async fn update_object_operation_grant(
        &self,
        request: Request<pb::UpdateObjectOperationGrantRequest>,
    ) -> Result<Response<pb::ObjectOperationGrant>, Status> {
        let caller = user(&request)?;
        let r = request.into_inner();
        let paths = convert::mask_paths(r.update_mask.as_ref(), &["effect", "priority"]).map_err(err)?;
        let g = r.object_operation_grant.unwrap_or_default();
        let value = if paths.contains(&"effect") {
            Some(effect("object_operation_grant.effect", g.effect).map_err(err)?)
        } else {
            None
        };
        let changes = self.update_changes(&paths, value, g.priority, "object_operation_grant").map_err(err)?;
        let grant = self
            .admin
            .update_grant(
                &caller,
                GrantKind::Operation,
                validate::id("object_operation_grant.id", &g.id)?,
                &g.etag,
                changes,
            )
            .await
            .map_err(err)?;
        let (grant, effective) = self.one(grant).await.map_err(err)?;
        Ok(Response::new(operation_grant(&grant, effective)))
    }

    async fn delete_object_operation_grant(
        &self,
        request: Request<pb::DeleteObjectOperationGrantRequest>,
    ) -> Result<Response<()>, Status> {
        let caller = user(&request)?;
        let r = request.get_ref();
        self.admin
            .delete_grant(&caller, GrantKind::Operation, validate::id("id", &r.id)?, &r.etag)
            .await
            .map_err(err)?;
        Ok(Response::new(()))
    }
}

#[tonic::async_trait]
impl ColumnGrantService for GrantsApi {
    async fn get_column_grant(
        &self,
        request: Request<pb::GetColumnGrantRequest>,
    ) -> Result<Response<pb::ColumnGrant>, Status> {
        let caller = user(&request)?;
        let grant = self
            .admin
            .get_grant(&caller, GrantKind::Column, validate::id("id", &request.get_ref().id)?)
            .await
            .map_err(err)?;
        let (grant, effective) = self.one(grant).await.map_err(err)?;
        Ok(Response::new(column_grant(&grant, effective)))
    }

    async fn list_column_grants(
        &self,
        request: Request<pb::ListColumnGrantsRequest>,
    ) -> Result<Response<pb::ListColumnGrantsResponse>, Status> {
        let caller = user(&request)?;
        let r = request.into_inner();
        let page = PageRequest::parse(r.page_size, &r.page_token).map_err(err)?;
        let filter = GrantFilter {
            code: r.object_code,
            operation: 0,
            column_code: r.column_code,
            grantee_key: convert::grantee_filter("grantee", r.grantee.as_ref()).map_err(err)?,
        };
        let (grants, next_page_token) =
            self.admin.list_grants(&caller, GrantKind::Column, &filter, &page).await.map_err(err)?;
        let grants = self.page(grants).await.map_err(err)?;
        Ok(Response::new(pb::ListColumnGrantsResponse {
            column_grants: grants.iter().map(|(g, e)| column_grant(g, *e)).collect(),
            next_page_token,
        }))
    }

    async fn create_column_grant(
        &self,
        request: Request<pb::CreateColumnGrantRequest>,
    ) -> Result<Response<pb::ColumnGrant>, Status> {
        let caller = user(&request)?;
        let r = request.into_inner();
        let request_id = convert::request_id(&r.request_id).map_err(err)?;
        let g = r.column_grant.unwrap_or_default();
        code("column_grant.object_code", &g.object_code).map_err(err)?;
        code("column_grant.column_code", &g.column_code).map_err(err)?;
        let new = NewGrant {
            kind: GrantKind::Column,
            grantee: convert::grantee("column_grant.grantee", g.grantee.as_ref()).map_err(err)?,
            operation: 0,
            value: level("column_grant.level", g.level).map_err(err)?,
            priority: convert::priority("column_grant.priority", g.priority).map_err(err)?,
            code: g.object_code,
            column_code: g.column_code,
        };
        let grant = self.admin.create_grant(&caller, new, request_id).await.map_err(err)?;
        let (grant, effective) = self.one(grant).await.map_err(err)?;
        Ok(Response::new(column_grant(&grant, effective)))
    }

    async fn update_column_grant(
        &self,
        request: Request<pb::UpdateColumnGrantRequest>,
    ) -> Result<Response<pb::ColumnGrant>, Status> {
        let caller = user(&request)?;
        let r = request.into_inner();
        let paths = convert::mask_paths(r.update_mask.as_ref(), &["level", "priority"]).map_err(err)?;
        let g = r.column_grant.unwrap_or_default();
        let value =
            if paths.contains(&"level") { Some(level("column_grant.level", g.level).map_err(err)?) } else { None };
        let changes = self.update_changes(&paths, value, g.priority, "column_grant").map_err(err)?;
        let grant = self
            .admin
            .update_grant(&caller, GrantKind::Column, validate::id("column_grant.id", &g.id)?, &g.etag, changes)
            .await
            .map_err(err)?;
        let (grant, effective) = self.one(grant).await.map_err(err)?;
        Ok(Response::new(column_grant(&grant, effective)))
    }

    async fn delete_column_grant(
        &self,
        request: Request<pb::DeleteColumnGrantRequest>,
    ) -> Result<Response<()>, Status> {
        let caller = user(&request)?;
        let r = request.get_ref();
        self.admin.delete_grant(&caller, GrantKind::Column, validate::id("id", &r.id)?, &r.etag).await.map_err(err)?;
        Ok(Response::new(()))
    }
}

#[tonic::async_trait]
impl SystemOperationService for GrantsApi {
    async fn list_system_operations(
        &self,
        request: Request<pb::ListSystemOperationsRequest>,
    ) -> Result<Response<pb::ListSystemOperationsResponse>, Status> {
        user(&request)?;
        let r = request.into_inner();
        let page = PageRequest::parse(r.page_size, &r.page_token).map_err(err)?;
        let rows = sqlx::query(
            "SELECT code, display_name, description FROM system_operations WHERE code > $1 ORDER BY code LIMIT $2",
        )
        .bind(&page.after)
        .bind(page.size + 1)
        .fetch_all(&self.admin.store.db.pool)
        .await
        .map_err(|e| err(e.into()))?;
        let rows = rows
            .iter()
            .map(|row| {
                let operation = pb::SystemOperation {
                    code: row.try_get("code")?,
                    display_name: row.try_get("display_name")?,
                    description: row.try_get("description")?,
                };
                Ok((operation.code.clone(), operation))
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()
            .map_err(|e| err(e.into()))?;
        let (system_operations, next_page_token) = page.finish(rows);
        Ok(Response::new(pb::ListSystemOperationsResponse { system_operations, next_page_token }))
    }

    async fn get_system_operation_grant(
        &self,
        request: Request<pb::GetSystemOperationGrantRequest>,
    ) -> Result<Response<pb::SystemOperationGrant>, Status> {
        let caller = user(&request)?;
        let grant = self
            .admin
            .get_grant(&caller, GrantKind::SystemOperation, validate::id("id", &request.get_ref().id)?)
            .await
            .map_err(err)?;
        let (grant, effective) = self.one(grant).await.map_err(err)?;
        Ok(Response::new(system_operation_grant(&grant, effective)))
    }

    async fn list_system_operation_grants(
        &self,
        request: Request<pb::ListSystemOperationGrantsRequest>,
    ) -> Result<Response<pb::ListSystemOperationGrantsResponse>, Status> {
        let caller = user(&request)?;
        let r = request.into_inner();
        let page = PageRequest::parse(r.page_size, &r.page_token).map_err(err)?;
        let filter = GrantFilter {
            code: r.operation_code,
            operation: 0,
            column_code: String::new(),
            grantee_key: convert::grantee_filter("grantee", r.grantee.as_ref()).map_err(err)?,
        };
        let (grants, next_page_token) =
            self.admin.list_grants(&caller, GrantKind::SystemOperation, &filter, &page).await.map_err(err)?;
        let grants = self.page(grants).await.map_err(err)?;
        Ok(Response::new(pb::ListSystemOperationGrantsResponse {
            system_operation_grants: grants.iter().map(|(g, e)| system_operation_grant(g, *e)).collect(),
            next_page_token,
        }))
    }

    async fn create_system_operation_grant(
        &self,
        request: Request<pb::CreateSystemOperationGrantRequest>,
    ) -> Result<Response<pb::SystemOperationGrant>, Status> {
        let caller = user(&request)?;
        let r = request.into_inner();
        let request_id = convert::request_id(&r.request_id).map_err(err)?;
        let g = r.system_operation_grant.unwrap_or_default();
        code("system_operation_grant.operation_code", &g.operation_code).map_err(err)?;
        let new = NewGrant {
            kind: GrantKind::SystemOperation,
            grantee: convert::grantee("system_operation_grant.grantee", g.grantee.as_ref()).map_err(err)?,
            operation: 0,
            value: effect("system_operation_grant.effect", g.effect).map_err(err)?,
            priority: convert::priority("system_operation_grant.priority", g.priority).map_err(err)?,
            code: g.operation_code,
            column_code: String::new(),
        };
        let grant = self.admin.create_grant(&caller, new, request_id).await.map_err(err)?;
        let (grant, effective) = self.one(grant).await.map_err(err)?;
        Ok(Response::new(system_operation_grant(&grant, effective)))
    }

    async fn update_system_operation_grant(
        &self,
        request: Request<pb::UpdateSystemOperationGrantRequest>,
    ) -> Result<Response<pb::SystemOperationGrant>, Status> {
        let caller = user(&request)?;
        let r = request.into_inner();
        let paths = convert::mask_paths(r.update_mask.as_ref(), &["effect", "priority"]).map_err(err)?;
        let g = r.system_operation_grant.unwrap_or_default();
        let value = if paths.contains(&"effect") {
            Some(effect("system_operation_grant.effect", g.effect).map_err(err)?)
        } else {
            None
        };
        let changes = self.update_changes(&paths, value, g.priority, "system_operation_grant").map_err(err)?;
        let grant = self
            .admin
            .update_grant(
                &caller,
                GrantKind::SystemOperation,
                validate::id("system_operation_grant.id", &g.id)?,
                &g.etag,
                changes,
            )
            .await
            .map_err(err)?;
        let (grant, effective) = self.one(grant).await.map_err(err)?;
        Ok(Response::new(system_operation_grant(&grant, effective)))
    }

    async fn delete_system_operation_grant(
        &self,
        request: Request<pb::DeleteSystemOperationGrantRequest>,
    ) -> Result<Response<()>, Status> {
        let caller = user(&request)?;
        let r = request.get_ref();
        self.admin
            .delete_grant(&caller, GrantKind::SystemOperation, validate::id("id", &r.id)?, &r.etag)
            .await
            .map_err(err)?;
        Ok(Response::new(()))
    }
}

fn role_priority(row: &RolePriorityRow) -> pb::RolePriority {
    pb::RolePriority {
        id: row.id.clone(),
        role: Some(convert::grantee_to_proto(&row.role)),
        priority: row.priority as i32,
        etag: storage::etag(row.version),
        create_time: convert::time(row.created_at),
        update_time: convert::time(row.updated_at),
    }
}

fn priority_value(value: i32) -> Result<i64, AccessError> {
    convert::priority("role_priority.priority", Some(value)).map(|p| p.unwrap_or(0))
}

#[tonic::async_trait]
impl RolePriorityService for GrantsApi {
    async fn get_role_priority(
        &self,
        request: Request<pb::GetRolePriorityRequest>,
    ) -> Result<Response<pb::RolePriority>, Status> {
        let caller = user(&request)?;
        let row =
            self.admin.get_role_priority(&caller, validate::id("id", &request.get_ref().id)?).await.map_err(err)?;
        Ok(Response::new(role_priority(&row)))
    }

    async fn list_role_priorities(
        &self,
        request: Request<pb::ListRolePrioritiesRequest>,
    ) -> Result<Response<pb::ListRolePrioritiesResponse>, Status> {
        let caller = user(&request)?;
        let r = request.into_inner();
        let page = PageRequest::parse(r.page_size, &r.page_token).map_err(err)?;
        let key = convert::grantee_filter("role", r.role.as_ref()).map_err(err)?;
        let (rows, next_page_token) = self.admin.list_role_priorities(&caller, &key, &page).await.map_err(err)?;
        Ok(Response::new(pb::ListRolePrioritiesResponse {
            role_priorities: rows.iter().map(role_priority).collect(),
            next_page_token,
        }))
    }

    async fn create_role_priority(
        &self,
        request: Request<pb::CreateRolePriorityRequest>,
    ) -> Result<Response<pb::RolePriority>, Status> {
        let caller = user(&request)?;
        let r = request.into_inner();
        let request_id = convert::request_id(&r.request_id).map_err(err)?;
        let p = r.role_priority.unwrap_or_default();
        let role = convert::grantee("role_priority.role", p.role.as_ref()).map_err(err)?;
        if role.kind == GranteeKind::User {
            return Err(err(AccessError::invalid(
                "role_priority.role",
                "must be a role_id or organization_id, not a user",
            )));
        }
        let priority = priority_value(p.priority).map_err(err)?;
        let row = self.admin.create_role_priority(&caller, role, priority, request_id).await.map_err(err)?;
        Ok(Response::new(role_priority(&row)))
    }

    async fn update_role_priority(
        &self,
        request: Request<pb::UpdateRolePriorityRequest>,
    ) -> Result<Response<pb::RolePriority>, Status> {
        let caller = user(&request)?;
        let r = request.into_inner();
        convert::mask_paths(r.update_mask.as_ref(), &["priority"]).map_err(err)?;
        let p = r.role_priority.unwrap_or_default();
        let priority = priority_value(p.priority).map_err(err)?;
        let row = self
            .admin
            .change_role_priority(&caller, validate::id("role_priority.id", &p.id)?, &p.etag, Some(priority))
            .await
            .map_err(err)?;
        let row = row.ok_or_else(|| err(AccessError::NotFound("role priority", p.id.clone())))?;
        Ok(Response::new(role_priority(&row)))
    }

    async fn delete_role_priority(
        &self,
        request: Request<pb::DeleteRolePriorityRequest>,
    ) -> Result<Response<()>, Status> {
        let caller = user(&request)?;
        let r = request.get_ref();
        self.admin.change_role_priority(&caller, validate::id("id", &r.id)?, &r.etag, None).await.map_err(err)?;
        Ok(Response::new(()))
    }
}

fn rule(row: &RuleRow) -> pb::DefaultRecordRule {
    use pb::default_record_rule_target::Target;
    let target = match &row.target {
        Some(grantee) => Target::Grantee(convert::grantee_to_proto(grantee)),
        None => Target::AuthorOrganization(pb::AuthorOrganization {}),
    };
    pb::DefaultRecordRule {
        id: row.id.clone(),
        object_code: row.object_code.clone(),
        author: Some(convert::grantee_to_proto(&row.author)),
        target: Some(pb::DefaultRecordRuleTarget { target: Some(target) }),
        rights: convert::rights_to_proto(row.rights),
        etag: storage::etag(row.version),
        create_time: convert::time(row.created_at),
        update_time: convert::time(row.updated_at),
    }
}

#[tonic::async_trait]
impl DefaultRecordRuleService for GrantsApi {
    async fn get_default_record_rule(
        &self,
        request: Request<pb::GetDefaultRecordRuleRequest>,
    ) -> Result<Response<pb::DefaultRecordRule>, Status> {
        let caller = user(&request)?;
        Ok(Response::new(rule(
            &self.admin.get_rule(&caller, validate::id("id", &request.get_ref().id)?).await.map_err(err)?,
        )))
    }

    async fn list_default_record_rules(
        &self,
        request: Request<pb::ListDefaultRecordRulesRequest>,
    ) -> Result<Response<pb::ListDefaultRecordRulesResponse>, Status> {
        let caller = user(&request)?;
        let r = request.into_inner();
        let page = PageRequest::parse(r.page_size, &r.page_token).map_err(err)?;
        let author = convert::grantee_filter("author", r.author.as_ref()).map_err(err)?;
        let (rows, next_page_token) =
            self.admin.list_rules(&caller, &r.object_code, &author, &page).await.map_err(err)?;
        Ok(Response::new(pb::ListDefaultRecordRulesResponse {
            default_record_rules: rows.iter().map(rule).collect(),
            next_page_token,
        }))
    }

    async fn create_default_record_rule(
        &self,
        request: Request<pb::CreateDefaultRecordRuleRequest>,
    ) -> Result<Response<pb::DefaultRecordRule>, Status> {
        use pb::default_record_rule_target::Target;
        let caller = user(&request)?;
        let r = request.into_inner();
        let request_id = convert::request_id(&r.request_id).map_err(err)?;
        let d = r.default_record_rule.unwrap_or_default();
        code("default_record_rule.object_code", &d.object_code).map_err(err)?;
        let author = convert::grantee("default_record_rule.author", d.author.as_ref()).map_err(err)?;
        let target = match d.target.and_then(|t| t.target) {
            Some(Target::Grantee(g)) => {
                Some(convert::grantee("default_record_rule.target.grantee", Some(&g)).map_err(err)?)
            }
            Some(Target::AuthorOrganization(_)) => None,
            None => {
                return Err(err(AccessError::invalid(
                    "default_record_rule.target",
                    "is required: grantee or author_organization",
                )));
            }
        };
        let rights = convert::rights("default_record_rule.rights", &d.rights).map_err(err)?;
        let row =
            self.admin.create_rule(&caller, d.object_code, author, target, rights, request_id).await.map_err(err)?;
        Ok(Response::new(rule(&row)))
    }

    async fn update_default_record_rule(
        &self,
        request: Request<pb::UpdateDefaultRecordRuleRequest>,
    ) -> Result<Response<pb::DefaultRecordRule>, Status> {
        let caller = user(&request)?;
        let r = request.into_inner();
        convert::mask_paths(r.update_mask.as_ref(), &["rights"]).map_err(err)?;
        let d = r.default_record_rule.unwrap_or_default();
        let rights = convert::rights("default_record_rule.rights", &d.rights).map_err(err)?;
        let row = self
            .admin
            .change_rule(&caller, validate::id("default_record_rule.id", &d.id)?, &d.etag, Some(rights))
            .await
            .map_err(err)?;
        let row = row.ok_or_else(|| err(AccessError::NotFound("default record rule", d.id.clone())))?;
        Ok(Response::new(rule(&row)))
    }

    async fn delete_default_record_rule(
        &self,
        request: Request<pb::DeleteDefaultRecordRuleRequest>,
    ) -> Result<Response<()>, Status> {
        let caller = user(&request)?;
        let r = request.get_ref();
        self.admin.change_rule(&caller, validate::id("id", &r.id)?, &r.etag, None).await.map_err(err)?;
        Ok(Response::new(()))
    }
}

#[tonic::async_trait]
impl RecordGrantService for GrantsApi {
    async fn get_record_grant(
        &self,
        request: Request<pb::GetRecordGrantRequest>,
    ) -> Result<Response<pb::RecordGrant>, Status> {
        let caller = user(&request)?;
        let row =
            self.admin.get_record_grant(&caller, validate::id("id", &request.get_ref().id)?).await.map_err(err)?;
        Ok(Response::new(record_grant_to_proto(&row)))
    }

    async fn list_record_grants(
        &self,
        request: Request<pb::ListRecordGrantsRequest>,
    ) -> Result<Response<pb::ListRecordGrantsResponse>, Status> {
        let caller = user(&request)?;
        let r = request.into_inner();
        if !r.record_id.is_empty() && r.object_code.is_empty() {
            return Err(err(AccessError::invalid("object_code", "is required when record_id is set")));
        }
        validate::optional_id("object_code", &r.object_code)?;
        validate::optional_id("record_id", &r.record_id)?;
        let page = PageRequest::parse(r.page_size, &r.page_token).map_err(err)?;
        let grantee = convert::grantee_filter("grantee", r.grantee.as_ref()).map_err(err)?;
        let (rows, next_page_token) = self
            .admin
            .list_record_grants(&caller, &r.object_code, &r.record_id, &grantee, Source::from_i32(r.source), &page)
            .await
            .map_err(err)?;
        Ok(Response::new(pb::ListRecordGrantsResponse {
            record_grants: rows.iter().map(record_grant_to_proto).collect(),
            next_page_token,
        }))
    }

    async fn create_record_grant(
        &self,
        request: Request<pb::CreateRecordGrantRequest>,
    ) -> Result<Response<pb::RecordGrant>, Status> {
        let caller = user(&request)?;
        let r = request.into_inner();
        let request_id = convert::request_id(&r.request_id).map_err(err)?;
        let g = r.record_grant.unwrap_or_default();
        validate::id("record_grant.object_code", &g.object_code)?;
        validate::id("record_grant.record_id", &g.record_id)?;
        let grantee = convert::grantee("record_grant.grantee", g.grantee.as_ref()).map_err(err)?;
        let rights = convert::rights("record_grant.rights", &g.rights).map_err(err)?;
        let row = self
            .admin
            .create_record_grant(&caller, g.object_code, g.record_id, grantee, rights, request_id)
            .await
            .map_err(err)?;
        Ok(Response::new(record_grant_to_proto(&row)))
    }

    async fn update_record_grant(
        &self,
        request: Request<pb::UpdateRecordGrantRequest>,
    ) -> Result<Response<pb::RecordGrant>, Status> {
        let caller = user(&request)?;
        let r = request.into_inner();
        convert::mask_paths(r.update_mask.as_ref(), &["rights"]).map_err(err)?;
        let g = r.record_grant.unwrap_or_default();
        let rights = convert::rights("record_grant.rights", &g.rights).map_err(err)?;
        let row = self
            .admin
            .change_record_grant(&caller, validate::id("record_grant.id", &g.id)?, &g.etag, Some(rights))
            .await
            .map_err(err)?;
        let row = row.ok_or_else(|| err(AccessError::NotFound("record grant", g.id.clone())))?;
        Ok(Response::new(record_grant_to_proto(&row)))
    }

    async fn delete_record_grant(
        &self,
        request: Request<pb::DeleteRecordGrantRequest>,
    ) -> Result<Response<()>, Status> {
        let caller = user(&request)?;
        let r = request.get_ref();
        self.admin.change_record_grant(&caller, validate::id("id", &r.id)?, &r.etag, None).await.map_err(err)?;
        Ok(Response::new(()))
    }
}
