//! Conversions between the `portal.access.v1` messages and the domain types, and the
//! request validation every service of the adapter shares.

use portal_proto::access as pb;
use service_kit::{clock::to_timestamp, validate};

use crate::domain::{
    AccessError, ColumnLevel, Grantee, GranteeKind, Operation, Right, Rights,
    evaluate::{ColumnMask, Decision, Query, Step, TracedRule},
};

/// The grantee a request names in `field`; INVALID_ARGUMENT when none or empty.
pub fn grantee(field: &str, grantee: Option<&pb::Grantee>) -> Result<Grantee, AccessError> {
    use pb::grantee::Subject;
    let (kind, id) = match grantee.and_then(|g| g.subject.as_ref()) {
        Some(Subject::UserId(id)) => (GranteeKind::User, id),
        Some(Subject::RoleId(id)) => (GranteeKind::Role, id),
        Some(Subject::OrganizationId(id)) => (GranteeKind::Organization, id),
        None => return Err(AccessError::invalid(field, "is required: set user_id, role_id or organization_id")),
    };
    validate::id(field, id)?;
    Ok(Grantee { kind, id: id.clone() })
}

/// An optional grantee filter.
pub fn grantee_filter(field: &str, filter: Option<&pb::Grantee>) -> Result<String, AccessError> {
    match filter {
        Some(g) if g.subject.is_some() => Ok(grantee(field, Some(g))?.key()),
        _ => Ok(String::new()),
    }
}

pub fn grantee_to_proto(grantee: &Grantee) -> pb::Grantee {
    use pb::grantee::Subject;
    let subject = match grantee.kind {
        GranteeKind::User => Subject::UserId(grantee.id.clone()),
        GranteeKind::Role => Subject::RoleId(grantee.id.clone()),
        GranteeKind::Organization => Subject::OrganizationId(grantee.id.clone()),
    };
    pb::Grantee { subject: Some(subject) }
}

/// Rights named in a request: at least one, none unspecified.
pub fn rights(field: &str, values: &[i32]) -> Result<Rights, AccessError> {
    let parsed: Option<Vec<Right>> = values.iter().map(|v| Right::from_i32(*v)).collect();
    match parsed {
        Some(list) if !list.is_empty() => Ok(Rights::of(list)),
        Some(_) => Err(AccessError::invalid(field, "name at least one right: READ, EDIT or DELETE")),
        None => Err(AccessError::invalid(field, "contains an unspecified or unknown right")),
    }
}

pub fn rights_to_proto(rights: Rights) -> Vec<i32> {
    rights.list().into_iter().map(|r| r as i32).collect()
}

/// An explicit priority in range, or none.
pub fn priority(field: &str, value: Option<i32>) -> Result<Option<i64>, AccessError> {
    match value {
        Some(p) if !(0..=crate::domain::MAX_PRIORITY).contains(&i64::from(p)) => {
            Err(AccessError::invalid(field, "must be between 0 and 1000000"))
        }
        other => Ok(other.map(i64::from)),
    }
}

/// A client request_id of at most 100 characters.
pub fn request_id(value: &str) -> Result<&str, AccessError> {
    if value.len() > 100 {
        Err(AccessError::invalid("request_id", "must be at most 100 characters"))
    } else {
        Ok(value)
    }
}

/// An object operation named in `field`.
pub fn operation(field: &str, value: i32) -> Result<Operation, AccessError> {
    Operation::from_i32(value).ok_or_else(|| AccessError::invalid(field, "is required: CREATE, READ, UPDATE or DELETE"))
}

/// A query, with its fields named under `prefix` (for example "query." or "queries[3].").
pub fn query(prefix: &str, query: Option<&pb::AccessQuery>) -> Result<Query, AccessError> {
    let Some(query) = query else {
        return Err(AccessError::invalid(prefix.trim_end_matches('.'), "is required"));
    };
    let field = |name: &str| format!("{prefix}{name}");
    validate::id(&field("object_code"), &query.object_code)?;
    let operation = operation(&field("operation"), query.operation)?;
    if !query.record_id.is_empty() && operation == Operation::Create {
        return Err(AccessError::invalid(
            field("record_id"),
            "must be empty for CREATE: the record does not exist yet",
        ));
    }
    validate::optional_id(&field("record_id"), &query.record_id)?;
    if query.column_codes.len() > 200 {
        return Err(AccessError::invalid(field("column_codes"), "at most 200 columns"));
    }
    validate::ids(&field("column_codes"), &query.column_codes)?;
    Ok(Query {
        object_code: query.object_code.clone(),
        operation,
        record_id: (!query.record_id.is_empty()).then(|| query.record_id.clone()),
        column_codes: query.column_codes.clone(),
    })
}

pub fn column_level(level: ColumnLevel) -> pb::ColumnAccessLevel {
    match level {
        ColumnLevel::Edit => pb::ColumnAccessLevel::Edit,
        ColumnLevel::Read => pb::ColumnAccessLevel::Read,
        ColumnLevel::Hidden => pb::ColumnAccessLevel::Hidden,
    }
}

pub fn mask_to_proto(mask: &ColumnMask) -> pb::ColumnMask {
    pb::ColumnMask {
        other_columns: column_level(mask.other_columns).into(),
        editable_column_codes: mask.editable.clone(),
        read_only_column_codes: mask.read_only.clone(),
        hidden_column_codes: mask.hidden.clone(),
    }
}

pub fn result_to_proto(decision: &Decision) -> pb::CheckResult {
    pb::CheckResult {
        allowed: decision.allowed,
        decided_level: decision.level as i32,
        denial_reason: decision.denial.map_or(0, |d| d as i32),
        column_mask: decision.mask.as_ref().map(mask_to_proto),
        denied_column_codes: decision.denied_columns.clone(),
    }
}

fn rule_to_proto(rule: &TracedRule) -> pb::ExplainedRule {
    pb::ExplainedRule {
        kind: rule.kind as i32,
        rule_id: rule.rule_id.clone(),
        grantee: rule.grantee.as_ref().map(grantee_to_proto),
        effect: rule.effect.map_or(0, |e| e as i32),
        record_rights: rights_to_proto(rule.rights),
        column_code: rule.column.as_ref().map(|(code, _)| code.clone()).unwrap_or_default(),
        column_level: rule.column.as_ref().map_or(0, |(_, level)| column_level(*level) as i32),
        effective_priority: rule.effective_priority.clamp(0, i64::from(i32::MAX)) as i32,
        decisive: rule.decisive,
    }
}

pub fn steps_to_proto(steps: &[Step]) -> Vec<pb::ExplainStep> {
    steps
        .iter()
        .map(|step| pb::ExplainStep {
            level: step.level as i32,
            outcome: step.outcome as i32,
            detail: step.detail.clone(),
            rules: step.rules.iter().map(rule_to_proto).collect(),
        })
        .collect()
}

/// An output timestamp.
pub fn time(millis: i64) -> Option<prost_types::Timestamp> {
    Some(to_timestamp(millis))
}

/// The update mask's paths, each checked against `allowed`; INVALID_ARGUMENT otherwise.
pub fn mask_paths<'a>(mask: Option<&'a prost_types::FieldMask>, allowed: &[&str]) -> Result<Vec<&'a str>, AccessError> {
    let Some(mask) = mask.filter(|m| !m.paths.is_empty()) else {
        return Err(AccessError::invalid(
            "update_mask",
            format!("is required; updatable paths: {}", allowed.join(", ")),
        ));
    };
    for path in &mask.paths {
        if !allowed.contains(&path.as_str()) {
            return Err(AccessError::invalid(
                "update_mask",
                format!("'{path}' cannot be updated; updatable paths: {}", allowed.join(", ")),
            ));
        }
    }
    Ok(mask.paths.iter().map(String::as_str).collect())
}
