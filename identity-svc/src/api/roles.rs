//! `portal.identity.v1.RoleService`: roles of the tree and functional roles, and the
//! users in them.

use portal_proto::identity::{self as pb, role_service_server::RoleService};
use service_kit::{ApiError, Caller, clock::to_timestamp, paging, validate};
use tonic::{Request, Response, Status};

use crate::{
    domain::user::UserKind,
    roles::{CreatableKind, CreateRole, Membership, RoleChanges, Roles, Source},
    storage::{MembershipRecord, RoleFilter, RoleRecord},
};

#[derive(Debug, Clone)]
pub struct RoleApi {
    pub roles: Roles,
}

pub fn role_kind_to_proto(kind: &str) -> pb::RoleKind {
    match kind {
        "organizational" => pb::RoleKind::Organizational,
        "organization" => pb::RoleKind::Organization,
        _ => pb::RoleKind::Functional,
    }
}

pub fn well_known_to_proto(well_known: &str) -> pb::WellKnownRole {
    match well_known {
        "all_external_users" => pb::WellKnownRole::AllExternalUsers,
        "all_employees" => pb::WellKnownRole::AllEmployees,
        "partners" => pb::WellKnownRole::Partners,
        "partner_portal_users" => pb::WellKnownRole::PartnerPortalUsers,
        _ => pb::WellKnownRole::Unspecified,
    }
}

pub fn role_to_proto(role: RoleRecord) -> pb::Role {
    let kind = role_kind_to_proto(&role.kind);
    let well_known = well_known_to_proto(&role.well_known);
    let aliases =
        if well_known == pb::WellKnownRole::AllExternalUsers { vec!["All portal users".into()] } else { Vec::new() };
    pb::Role {
        kind: kind.into(),
        user_kind: pb::UserKind::from(UserKind::from_stored(&role.user_kind)).into(),
        well_known: well_known.into(),
        aliases,
        direct_member_count: 0,
        etag: role.version.to_string(),
        create_time: Some(to_timestamp(role.created_at)),
        update_time: Some(to_timestamp(role.updated_at)),
        id: role.id,
        display_name: role.display_name,
        parent_role_id: role.parent_id.unwrap_or_default(),
        organization_id: role.organization_id.unwrap_or_default(),
        description: role.description,
    }
}

fn direct(record: MembershipRecord) -> pb::RoleMembership {
    pb::RoleMembership {
        role_id: record.role_id,
        member: Some(pb::role_membership::Member::UserId(record.user_id)),
        source: pb::MembershipSource::Direct.into(),
        via_role_id: String::new(),
        create_time: Some(to_timestamp(record.created_at)),
        created_by_user_id: record.created_by,
    }
}

/// How a membership source appears in the API: the source, the role it comes through,
/// and for direct memberships when and by whom it was made.
pub fn source_to_proto(source: Source) -> (pb::MembershipSource, String, Option<prost_types::Timestamp>, String) {
    match source {
        Source::Direct { created_at, created_by } => {
            (pb::MembershipSource::Direct, String::new(), Some(to_timestamp(created_at)), created_by)
        }
        Source::Implicit => (pb::MembershipSource::Implicit, String::new(), None, String::new()),
        Source::Inherited { via } => (pb::MembershipSource::Inherited, via, None, String::new()),
    }
}

fn membership_to_proto(membership: Membership) -> pb::RoleMembership {
    let (source, via, create_time, created_by) = source_to_proto(membership.source);
    pb::RoleMembership {
        role_id: membership.role_id,
        member: Some(pb::role_membership::Member::UserId(membership.user_id)),
        source: source.into(),
        via_role_id: via,
        create_time,
        created_by_user_id: created_by,
    }
}

#[tonic::async_trait]
impl RoleService for RoleApi {
    async fn create_role(&self, request: Request<pb::CreateRoleRequest>) -> Result<Response<pb::Role>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let role = request.into_inner().role.ok_or_else(|| ApiError::invalid("role", "is required"))?;
        let kind = match role.kind() {
            pb::RoleKind::Organizational => CreatableKind::Organizational,
            pb::RoleKind::Functional => CreatableKind::Functional,
            pb::RoleKind::Organization => {
                return Err(ApiError::invalid_because(
                    "role.kind",
                    "organizations are created with OrganizationService.CreateOrganization",
                    "USE_ORGANIZATION_SERVICE",
                )
                .into());
            }
            pb::RoleKind::Unspecified => {
                return Err(ApiError::invalid("role.kind", "is required: organizational or functional").into());
            }
        };
        let user_kind = match role.user_kind() {
            pb::UserKind::Employee => Some(UserKind::Employee),
            pb::UserKind::External => Some(UserKind::External),
            pb::UserKind::Unspecified => None,
        };
        let created = self
            .roles
            .create(
                &caller,
                CreateRole {
                    display_name: role.display_name,
                    kind,
                    user_kind,
                    parent_role_id: role.parent_role_id,
                    organization_id: role.organization_id,
                    description: role.description,
                },
            )
            .await?;
        Ok(Response::new(role_to_proto(created)))
    }

    async fn get_role(&self, request: Request<pb::GetRoleRequest>) -> Result<Response<pb::Role>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let id = request.into_inner().id;
        validate::id("id", &id)?;
        Ok(Response::new(role_to_proto(self.roles.get(&caller, &id).await?)))
    }

    async fn add_role_members(
        &self,
        request: Request<pb::AddRoleMembersRequest>,
    ) -> Result<Response<pb::AddRoleMembersResponse>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let r = request.into_inner();
        validate::id("role_id", &r.role_id)?;
        if !r.member_role_ids.is_empty() {
            // Who may not assign the role learns nothing more than that.
            self.roles.require_assignable(&caller, &r.role_id).await?;
            return Err(Status::unimplemented(
                "member_role_ids: roles as members of functional roles are not implemented yet",
            ));
        }
        if r.user_ids.is_empty() || r.user_ids.len() > 500 {
            return Err(ApiError::invalid("user_ids", "must name 1 to 500 users").into());
        }
        let added = self.roles.add_members(&caller, &r.role_id, &r.user_ids).await?;
        Ok(Response::new(pb::AddRoleMembersResponse { added: added.into_iter().map(direct).collect() }))
    }

    async fn remove_role_members(
        &self,
        request: Request<pb::RemoveRoleMembersRequest>,
    ) -> Result<Response<pb::RemoveRoleMembersResponse>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let r = request.into_inner();
        validate::id("role_id", &r.role_id)?;
        if !r.member_role_ids.is_empty() {
            // Who may not assign the role learns nothing more than that.
            self.roles.require_assignable(&caller, &r.role_id).await?;
            return Err(Status::unimplemented(
                "member_role_ids: roles as members of functional roles are not implemented yet",
            ));
        }
        if r.user_ids.is_empty() || r.user_ids.len() > 500 {
            return Err(ApiError::invalid("user_ids", "must name 1 to 500 users").into());
        }
        let removed = self.roles.remove_members(&caller, &r.role_id, &r.user_ids).await?;
        Ok(Response::new(pb::RemoveRoleMembersResponse { removed: removed.into_iter().map(direct).collect() }))
    }

    async fn list_role_memberships(
        &self,
        request: Request<pb::ListRoleMembershipsRequest>,
    ) -> Result<Response<pb::ListRoleMembershipsResponse>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let r = request.into_inner();
        let page_size = paging::page_size(r.page_size)?;
        match (r.role_id.is_empty(), r.user_id.is_empty(), r.member_role_id.is_empty()) {
            (true, false, true) => {
                if !r.page_token.is_empty() {
                    return Err(ApiError::invalid("page_token", "a user's roles fit on one page; send no token").into());
                }
                let memberships = self.roles.memberships_of(&caller, &r.user_id, r.include_inherited).await?;
                Ok(Response::new(pb::ListRoleMembershipsResponse {
                    memberships: memberships.into_iter().map(membership_to_proto).collect(),
                    next_page_token: String::new(),
                }))
            }
            (false, true, true) => {
                if r.include_inherited {
                    return Err(Status::unimplemented(
                        "include_inherited with role_id (members of descendant roles) is not implemented yet",
                    ));
                }
                let after = if r.page_token.is_empty() {
                    String::new()
                } else {
                    paging::text_position(&r.page_token)?.map(|(_, id)| id).unwrap_or_default()
                };
                let mut members = self.roles.members(&caller, &r.role_id, &after, page_size + 1).await?;
                let next_page_token = paging::next_text_page(&mut members, page_size, |m| ("", m.user_id.as_str()));
                Ok(Response::new(pb::ListRoleMembershipsResponse {
                    memberships: members.into_iter().map(direct).collect(),
                    next_page_token,
                }))
            }
            (true, true, false) => Err(Status::unimplemented(
                "member_role_id: roles as members of functional roles are not implemented yet",
            )),
            _ => Err(ApiError::invalid("role_id", "name exactly one of role_id, user_id and member_role_id").into()),
        }
    }

    async fn list_roles(
        &self,
        request: Request<pb::ListRolesRequest>,
    ) -> Result<Response<pb::ListRolesResponse>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let r = request.into_inner();
        let page_size = paging::page_size(r.page_size)?;
        let after = paging::text_position(&r.page_token)?;
        let stored = |kind: &str| kind.to_owned();
        let filter = RoleFilter {
            kind: match r.kind() {
                pb::RoleKind::Unspecified => String::new(),
                pb::RoleKind::Organizational => stored("organizational"),
                pb::RoleKind::Organization => stored("organization"),
                pb::RoleKind::Functional => stored("functional"),
            },
            user_kind: match r.user_kind() {
                pb::UserKind::Unspecified => String::new(),
                pb::UserKind::Employee => stored("employee"),
                pb::UserKind::External => stored("external"),
            },
            parent_role_id: r.parent_role_id.clone(),
            descendants_of_role_id: r.descendants_of_role_id.clone(),
            organization_id: r.organization_id.clone(),
            name_key: r.name.clone(),
            well_known: match r.well_known() {
                pb::WellKnownRole::Unspecified => String::new(),
                pb::WellKnownRole::AllExternalUsers => stored("all_external_users"),
                pb::WellKnownRole::AllEmployees => stored("all_employees"),
                pb::WellKnownRole::Partners => stored("partners"),
                pb::WellKnownRole::PartnerPortalUsers => stored("partner_portal_users"),
            },
            visible_organization: None,
        };
        let mut roles = self.roles.list(&caller, filter, after, page_size + 1).await?;
        let next_page_token =
            paging::next_text_page(&mut roles, page_size, |role| (role.display_name.as_str(), role.id.as_str()));
        Ok(Response::new(pb::ListRolesResponse {
            roles: roles.into_iter().map(role_to_proto).collect(),
            next_page_token,
        }))
    }

    async fn update_role(&self, request: Request<pb::UpdateRoleRequest>) -> Result<Response<pb::Role>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let r = request.into_inner();
        let role = r.role.ok_or_else(|| ApiError::invalid("role", "is required"))?;
        validate::id("role.id", &role.id)?;
        let paths = paging::update_paths(r.update_mask)?;
        let mut changes = RoleChanges::default();
        for path in &paths {
            match path.as_str() {
                "display_name" => changes.display_name = Some(role.display_name.clone()),
                "description" => changes.description = Some(role.description.clone()),
                "parent_role_id" => changes.parent_role_id = Some(role.parent_role_id.clone()),
                other => {
                    return Err(ApiError::invalid(
                        "update_mask",
                        format!("'{other}' cannot be changed; updatable: display_name, description, parent_role_id"),
                    )
                    .into());
                }
            }
        }
        let updated = self.roles.update(&caller, &role.id, &role.etag, changes).await?;
        Ok(Response::new(role_to_proto(updated)))
    }

    async fn delete_role(&self, request: Request<pb::DeleteRoleRequest>) -> Result<Response<()>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let r = request.into_inner();
        validate::id("id", &r.id)?;
        self.roles.delete(&caller, &r.id, &r.etag, r.force).await?;
        Ok(Response::new(()))
    }
}
