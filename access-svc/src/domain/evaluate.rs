//! The four-level check (permission.proto): availability on the portal, object
//! operation, record, column, in that order; a "no" at any level ends it. The same
//! functions answer Check (the decision), Explain (the decision with every step and
//! rule) and RecordFilter (levels 1 and 2, then the record predicate), so the three
//! can never disagree.

use super::{
    ColumnLevel, Effect, Grantee, Operation, Right, Rights, Subject,
    priority::{Rank, RolePriorities, effective_priority, winner},
};

/// An entry of the list of objects available for portal users.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalObjectFact {
    pub id: String,
    pub record_permissions_enabled: bool,
}

/// An object operation grant or system operation grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EffectGrant {
    pub id: String,
    pub grantee: Grantee,
    pub effect: Effect,
    pub priority: Option<i64>,
}

/// An object operation grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationGrantFact {
    pub operation: Operation,
    pub grant: EffectGrant,
}

/// A column grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnGrantFact {
    pub id: String,
    pub grantee: Grantee,
    pub column_code: String,
    pub level: ColumnLevel,
    pub priority: Option<i64>,
}

/// A record grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordGrantFact {
    pub id: String,
    pub grantee: Grantee,
    pub rights: Rights,
}

/// What the check knows about one object, limited to grants that reach the subject.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectFacts {
    /// The portal list entry; `None` when the object is not on the portal.
    pub object: Option<PortalObjectFact>,
    /// A section in read-only mode whose primary object this is.
    pub read_only_section_id: Option<String>,
    /// Operation grants on the object (every operation) that reach the subject.
    pub operation_grants: Vec<OperationGrantFact>,
    /// Column grants on the object that reach the subject.
    pub column_grants: Vec<ColumnGrantFact>,
    /// Priorities of the roles those grants are made to.
    pub role_priorities: RolePriorities,
}

/// What the check knows about the record a query names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordFacts {
    /// The query names no record.
    NotNamed,
    /// The record was never registered by its owning service.
    Unregistered,
    /// The record's author and the record grants that reach the subject.
    Registered { author_user_id: String, grants: Vec<RecordGrantFact> },
}

/// One question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub object_code: String,
    pub operation: Operation,
    pub record_id: Option<String>,
    pub column_codes: Vec<String>,
}

/// The levels of a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Level {
    Subject = 1,
    Availability = 2,
    Operation = 3,
    Record = 4,
    Column = 5,
    SystemOperation = 6,
}

/// Why a check denied (numbered as permission.proto's DenialReason).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Denial {
    SubjectInactive = 1,
    ObjectNotOnPortal = 2,
    SectionReadOnly = 3,
    OperationNotGranted = 4,
    OperationDenied = 5,
    RecordNotRegistered = 6,
    RecordNotGranted = 7,
    ColumnReadOnly = 8,
    ColumnHidden = 9,
    SystemOperationNotGranted = 10,
    SystemOperationDenied = 11,
}

/// What happened at one level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Allowed = 1,
    Denied = 2,
    Skipped = 3,
    NotReached = 4,
}

/// What kind of rule a traced rule is (numbered as permission.proto's RuleKind).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleKind {
    SystemAdministrator = 1,
    PortalObject = 2,
    Section = 3,
    ObjectOperationGrant = 4,
    RecordAuthor = 5,
    RecordGrant = 6,
    ColumnGrant = 7,
    SystemOperationGrant = 8,
    DefaultDeny = 9,
}

/// One rule that applied at a level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TracedRule {
    pub kind: RuleKind,
    pub rule_id: String,
    pub grantee: Option<Grantee>,
    pub effect: Option<Effect>,
    pub rights: Rights,
    pub column: Option<(String, ColumnLevel)>,
    pub effective_priority: i64,
    pub decisive: bool,
}

impl TracedRule {
    fn builtin(kind: RuleKind, rule_id: &str) -> Self {
        Self {
            kind,
            rule_id: rule_id.to_owned(),
            grantee: None,
            effect: None,
            rights: Rights::default(),
            column: None,
            effective_priority: 0,
            decisive: true,
        }
    }
}

/// One level of a check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub level: Level,
    pub outcome: Outcome,
    pub detail: String,
    pub rules: Vec<TracedRule>,
}

/// Which columns the subject may see and change.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ColumnMask {
    pub other_columns: ColumnLevel,
    pub editable: Vec<String>,
    pub read_only: Vec<String>,
    pub hidden: Vec<String>,
}

/// The answer to one query, with the steps that led to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub level: Level,
    pub denial: Option<Denial>,
    pub mask: Option<ColumnMask>,
    pub denied_columns: Vec<String>,
    pub steps: Vec<Step>,
}

/// The result of one level: its step, and the denial when it said no.
struct LevelResult {
    step: Step,
    denial: Option<Denial>,
}

impl LevelResult {
    fn allowed(level: Level, detail: String, rules: Vec<TracedRule>) -> Self {
        Self { step: Step { level, outcome: Outcome::Allowed, detail, rules }, denial: None }
    }

    fn skipped(level: Level, detail: &str) -> Self {
        Self { step: Step { level, outcome: Outcome::Skipped, detail: detail.into(), rules: Vec::new() }, denial: None }
    }

    fn denied(level: Level, denial: Denial, detail: String, rules: Vec<TracedRule>) -> Self {
        Self { step: Step { level, outcome: Outcome::Denied, detail, rules }, denial: Some(denial) }
    }
}

const OBJECT_LEVELS: [Level; 4] = [Level::Availability, Level::Operation, Level::Record, Level::Column];

fn not_reached(levels: &[Level]) -> Vec<Step> {
    levels
        .iter()
        .map(|&level| Step { level, outcome: Outcome::NotReached, detail: String::new(), rules: Vec::new() })
        .collect()
}

/// The verdict on who the subject is, before any level: `Some` ends the check.
fn subject_verdict(subject: &Subject, levels: &[Level]) -> Option<Decision> {
    let (allowed, denial, detail, rules) = if !subject.active {
        (false, Some(Denial::SubjectInactive), "the user is unknown or deactivated", Vec::new())
    } else if subject.system_administrator {
        (
            true,
            None,
            "system administrators are allowed everything",
            vec![TracedRule::builtin(RuleKind::SystemAdministrator, "")],
        )
    } else {
        return None;
    };
    let mut steps = vec![Step {
        level: Level::Subject,
        outcome: if allowed { Outcome::Allowed } else { Outcome::Denied },
        detail: detail.into(),
        rules,
    }];
    steps.extend(not_reached(levels));
    let mask = allowed.then(|| ColumnMask {
        other_columns: ColumnLevel::Edit,
        editable: Vec::new(),
        read_only: Vec::new(),
        hidden: Vec::new(),
    });
    Some(Decision { allowed, level: Level::Subject, denial, mask, denied_columns: Vec::new(), steps })
}

/// Level 1: the object is on the portal and, for writes, its section is not read-only.
/// Employees are not limited by the list.
fn availability(subject: &Subject, query: &Query, facts: &ObjectFacts) -> LevelResult {
    let level = Level::Availability;
    if !subject.external {
        return LevelResult::skipped(level, "employees are not limited by the portal object list");
    }
    let Some(object) = &facts.object else {
        return LevelResult::denied(
            level,
            Denial::ObjectNotOnPortal,
            format!("{} is not in the list of objects available for portal users", query.object_code),
            vec![TracedRule::builtin(RuleKind::DefaultDeny, "")],
        );
    };
    if query.operation.writes()
        && let Some(section) = &facts.read_only_section_id
    {
        return LevelResult::denied(
            level,
            Denial::SectionReadOnly,
            format!("the section of {} is read-only, so {} is refused", query.object_code, query.operation.name()),
            vec![TracedRule::builtin(RuleKind::Section, section)],
        );
    }
    LevelResult::allowed(
        level,
        format!("{} is available on the portal", query.object_code),
        vec![TracedRule::builtin(RuleKind::PortalObject, &object.id)],
    )
}

/// Decides among allow/deny grants by priority; returns the traced rules (winner marked)
/// and the winning effect, `None` when no grant reaches the subject.
fn decide_effect(
    grants: &[&EffectGrant],
    priorities: &RolePriorities,
    kind: RuleKind,
) -> (Vec<TracedRule>, Option<Effect>) {
    let ranks: Vec<Rank> = grants
        .iter()
        .map(|grant| Rank {
            effective_priority: effective_priority(grant.priority, &grant.grantee, priorities),
            to_user: grant.grantee.is_user(),
            restrictiveness: grant.effect.restrictiveness(),
        })
        .collect();
    let best = winner(ranks.iter().copied());
    let rules = grants
        .iter()
        .zip(&ranks)
        .enumerate()
        .map(|(index, (grant, rank))| TracedRule {
            kind,
            rule_id: grant.id.clone(),
            grantee: Some(grant.grantee.clone()),
            effect: Some(grant.effect),
            rights: Rights::default(),
            column: None,
            effective_priority: rank.effective_priority,
            decisive: Some(index) == best,
        })
        .collect();
    (rules, best.map(|index| grants[index].effect))
}

/// Level 2: a grant allows the operation on the object.
fn operation(query: &Query, facts: &ObjectFacts) -> LevelResult {
    let level = Level::Operation;
    let grants: Vec<&EffectGrant> =
        facts.operation_grants.iter().filter(|g| g.operation == query.operation).map(|g| &g.grant).collect();
    let (rules, effect) = decide_effect(&grants, &facts.role_priorities, RuleKind::ObjectOperationGrant);
    let what = format!("{} on {}", query.operation.name(), query.object_code);
    match effect {
        Some(Effect::Allow) => LevelResult::allowed(level, format!("a grant allows {what}"), rules),
        Some(Effect::Deny) => {
            LevelResult::denied(level, Denial::OperationDenied, format!("a deny of {what} wins"), rules)
        }
        None => LevelResult::denied(
            level,
            Denial::OperationNotGranted,
            format!("no grant allows {what} (least access)"),
            vec![TracedRule::builtin(RuleKind::DefaultDeny, "")],
        ),
    }
}

/// True when level 3 limits this subject on this object.
fn record_level_applies(subject: &Subject, facts: &ObjectFacts) -> bool {
    subject.external && facts.object.as_ref().is_some_and(|object| object.record_permissions_enabled)
}

/// Level 3: the subject created the record or a record grant gives the right needed.
fn record(subject: &Subject, query: &Query, facts: &ObjectFacts, record: &RecordFacts) -> LevelResult {
    let level = Level::Record;
    if !record_level_applies(subject, facts) {
        return LevelResult::skipped(level, "record permissions do not limit this user on this object");
    }
    let (author, grants) = match record {
        RecordFacts::NotNamed => return LevelResult::skipped(level, "no record named; lists use RecordFilter"),
        RecordFacts::Unregistered => {
            return LevelResult::denied(
                level,
                Denial::RecordNotRegistered,
                "the record was never registered with access".into(),
                vec![TracedRule::builtin(RuleKind::DefaultDeny, "")],
            );
        }
        RecordFacts::Registered { author_user_id, grants } => (author_user_id, grants),
    };
    let needed = query.operation.required_right();
    let is_author = *author == subject.user_id;
    let mut rules = Vec::new();
    if is_author {
        let mut rule = TracedRule::builtin(RuleKind::RecordAuthor, "");
        rule.rights = Rights::ALL;
        rules.push(rule);
    }
    let mut decided = is_author;
    for grant in grants {
        let decisive = !decided && grant.rights.has(needed);
        decided |= decisive;
        rules.push(TracedRule {
            kind: RuleKind::RecordGrant,
            rule_id: grant.id.clone(),
            grantee: Some(grant.grantee.clone()),
            effect: None,
            rights: grant.rights,
            column: None,
            effective_priority: 0,
            decisive,
        });
    }
    if decided {
        let why = if is_author { "the user created the record" } else { "a record grant gives the right needed" };
        LevelResult::allowed(level, why.into(), rules)
    } else {
        rules.push(TracedRule::builtin(RuleKind::DefaultDeny, ""));
        LevelResult::denied(
            level,
            Denial::RecordNotGranted,
            format!("the user did not create the record and no grant gives {needed:?} on it"),
            rules,
        )
    }
}

/// Level 4: the column mask, narrowed by what levels 1-3 allow (`may_change`), and the
/// columns of the query it refuses.
fn columns(query: &Query, facts: &ObjectFacts, may_change: bool) -> (LevelResult, ColumnMask, Vec<String>) {
    let level = Level::Column;
    let cap = |level: ColumnLevel| if level == ColumnLevel::Edit && !may_change { ColumnLevel::Read } else { level };
    let mut codes: Vec<&str> = facts.column_grants.iter().map(|g| g.column_code.as_str()).collect();
    codes.sort_unstable();
    codes.dedup();
    let mut mask = ColumnMask {
        other_columns: if may_change { ColumnLevel::Edit } else { ColumnLevel::Read },
        editable: Vec::new(),
        read_only: Vec::new(),
        hidden: Vec::new(),
    };
    let mut rules = Vec::new();
    for code in codes {
        let grants: Vec<&super::evaluate::ColumnGrantFact> =
            facts.column_grants.iter().filter(|g| g.column_code == code).collect();
        let ranks: Vec<Rank> = grants
            .iter()
            .map(|g| Rank {
                effective_priority: effective_priority(g.priority, &g.grantee, &facts.role_priorities),
                to_user: g.grantee.is_user(),
                restrictiveness: g.level.restrictiveness(),
            })
            .collect();
        let Some(best) = winner(ranks.iter().copied()) else { continue };
        match cap(grants[best].level) {
            ColumnLevel::Edit => mask.editable.push(code.to_owned()),
            ColumnLevel::Read => mask.read_only.push(code.to_owned()),
            ColumnLevel::Hidden => mask.hidden.push(code.to_owned()),
        }
        rules.extend(grants.iter().zip(&ranks).enumerate().map(|(index, (grant, rank))| TracedRule {
            kind: RuleKind::ColumnGrant,
            rule_id: grant.id.clone(),
            grantee: Some(grant.grantee.clone()),
            effect: None,
            rights: Rights::default(),
            column: Some((grant.column_code.clone(), grant.level)),
            effective_priority: rank.effective_priority,
            decisive: index == best,
        }));
    }
    let level_of = |code: &str| {
        if mask.hidden.iter().any(|c| c == code) {
            ColumnLevel::Hidden
        } else if mask.read_only.iter().any(|c| c == code) {
            ColumnLevel::Read
        } else if mask.editable.iter().any(|c| c == code) {
            ColumnLevel::Edit
        } else {
            mask.other_columns
        }
    };
    let needs_edit = matches!(query.operation, Operation::Create | Operation::Update);
    let checks_columns = query.operation != Operation::Delete;
    let mut denied = Vec::new();
    let mut any_hidden = false;
    for code in query.column_codes.iter().filter(|_| checks_columns) {
        let held = level_of(code);
        let refused = held == ColumnLevel::Hidden || (needs_edit && held != ColumnLevel::Edit);
        if refused {
            any_hidden |= held == ColumnLevel::Hidden;
            denied.push(code.clone());
        }
    }
    let result = if denied.is_empty() {
        LevelResult::allowed(level, "the columns asked for are permitted".into(), rules)
    } else {
        let denial = if any_hidden { Denial::ColumnHidden } else { Denial::ColumnReadOnly };
        LevelResult::denied(level, denial, format!("columns refused: {}", denied.join(", ")), rules)
    };
    (result, mask, denied)
}

/// True when levels 1-3 let the subject update the data the query is about (the record
/// named, or the object in general).
fn may_update(subject: &Subject, query: &Query, facts: &ObjectFacts, record_facts: &RecordFacts) -> bool {
    let update = Query { operation: Operation::Update, column_codes: Vec::new(), ..query.clone() };
    availability(subject, &update, facts).denial.is_none()
        && operation(&update, facts).denial.is_none()
        && record(subject, &update, facts, record_facts).denial.is_none()
}

/// Checks one query for one subject, with every step.
pub fn check(subject: &Subject, query: &Query, facts: &ObjectFacts, record_facts: &RecordFacts) -> Decision {
    if let Some(decision) = subject_verdict(subject, &OBJECT_LEVELS) {
        return decision;
    }
    let mut steps = Vec::with_capacity(4);
    let earlier =
        [availability(subject, query, facts), operation(query, facts), record(subject, query, facts, record_facts)];
    let mut last_level = Level::Availability;
    for (index, result) in earlier.into_iter().enumerate() {
        if result.step.outcome != Outcome::Skipped {
            last_level = result.step.level;
        }
        steps.push(result.step);
        if let Some(denial) = result.denial {
            steps.extend(not_reached(&OBJECT_LEVELS[index + 1..]));
            return Decision {
                allowed: false,
                level: OBJECT_LEVELS[index],
                denial: Some(denial),
                mask: None,
                denied_columns: Vec::new(),
                steps,
            };
        }
    }
    let may_change = match query.operation {
        Operation::Create | Operation::Update => true,
        Operation::Read | Operation::Delete => may_update(subject, query, facts, record_facts),
    };
    let (result, mask, denied_columns) = columns(query, facts, may_change);
    let denial = result.denial;
    if denial.is_some() || !result.step.rules.is_empty() || !query.column_codes.is_empty() {
        last_level = Level::Column;
    }
    steps.push(result.step);
    Decision {
        allowed: denial.is_none(),
        level: if denial.is_some() { Level::Column } else { last_level },
        denial,
        mask: Some(mask),
        denied_columns,
        steps,
    }
}

/// The records a subject may reach for an operation, as a predicate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// Every record (no record level for this subject and object).
    AllowAll,
    /// No record (a level before the record level denied).
    DenyAll { level: Level, denial: Denial },
    /// Records created by one of `author_user_ids`, or granted to one of `grantee_keys`
    /// with `required_right`.
    Match { author_user_ids: Vec<String>, grantee_keys: Vec<String>, required_right: Right },
}

/// RecordFilter: levels 1 and 2 for the operation, then the record predicate, and the
/// column mask of the records it selects (with EDIT assumed on them for UPDATE).
pub fn record_filter(subject: &Subject, query: &Query, facts: &ObjectFacts) -> (Filter, Option<ColumnMask>) {
    if let Some(decision) = subject_verdict(subject, &[]) {
        return match decision.denial {
            Some(denial) => (Filter::DenyAll { level: decision.level, denial }, None),
            None => (Filter::AllowAll, decision.mask),
        };
    }
    for result in [availability(subject, query, facts), operation(query, facts)] {
        if let Some(denial) = result.denial {
            return (Filter::DenyAll { level: result.step.level, denial }, None);
        }
    }
    let may_change = match query.operation {
        Operation::Create | Operation::Update => true,
        Operation::Read | Operation::Delete => {
            let update = Query { operation: Operation::Update, ..query.clone() };
            availability(subject, &update, facts).denial.is_none() && operation(&update, facts).denial.is_none()
        }
    };
    let (_, mask, _) = columns(&Query { column_codes: Vec::new(), ..query.clone() }, facts, may_change);
    let filter = if record_level_applies(subject, facts) {
        Filter::Match {
            author_user_ids: vec![subject.user_id.clone()],
            grantee_keys: subject.grantee_keys(),
            required_right: query.operation.required_right(),
        }
    } else {
        Filter::AllowAll
    };
    (filter, Some(mask))
}

/// Checks one system operation; `grants` are the grants of it that reach the subject.
pub fn system_operation(
    subject: &Subject,
    code: &str,
    grants: &[EffectGrant],
    priorities: &RolePriorities,
) -> Decision {
    if let Some(mut decision) = subject_verdict(subject, &[Level::SystemOperation]) {
        decision.mask = None;
        return decision;
    }
    let level = Level::SystemOperation;
    let grants: Vec<&EffectGrant> = grants.iter().collect();
    let (rules, effect) = decide_effect(&grants, priorities, RuleKind::SystemOperationGrant);
    let (outcome, denial, detail, rules) = match effect {
        Some(Effect::Allow) => (Outcome::Allowed, None, format!("a grant allows {code}"), rules),
        Some(Effect::Deny) => {
            (Outcome::Denied, Some(Denial::SystemOperationDenied), format!("a deny of {code} wins"), rules)
        }
        None => (
            Outcome::Denied,
            Some(Denial::SystemOperationNotGranted),
            format!("no grant allows {code} (least access)"),
            vec![TracedRule::builtin(RuleKind::DefaultDeny, "")],
        ),
    };
    Decision {
        allowed: denial.is_none(),
        level,
        denial,
        mask: None,
        denied_columns: Vec::new(),
        steps: vec![Step { level, outcome, detail, rules }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{GranteeKind, roles::ALL_EXTERNAL_USERS};

    fn subject(roles: &[&str]) -> Subject {
        Subject {
            user_id: "alice".into(),
            external: true,
            active: true,
            system_administrator: false,
            organization_id: "acme".into(),
            role_ids: roles.iter().map(|r| r.to_string()).chain(["acme".into(), ALL_EXTERNAL_USERS.into()]).collect(),
        }
    }

    fn grant(id: &str, role: &str, operation: Operation, effect: Effect) -> OperationGrantFact {
        OperationGrantFact {
            operation,
            grant: EffectGrant { id: id.into(), grantee: Grantee::role(role), effect, priority: None },
        }
    }

    fn query(operation: Operation, record: Option<&str>, columns: &[&str]) -> Query {
        Query {
            object_code: "KnowledgeBase".into(),
            operation,
            record_id: record.map(str::to_owned),
            column_codes: columns.iter().map(|c| c.to_string()).collect(),
        }
    }

    /// The seed's example: Boston creates, reads and updates but does not delete;
    /// Toronto only reads and does not see ModifiedOn.
    fn seed_facts(subject: &Subject, record_permissions_enabled: bool) -> ObjectFacts {
        let all = [
            grant("b-c", "boston", Operation::Create, Effect::Allow),
            grant("b-r", "boston", Operation::Read, Effect::Allow),
            grant("b-u", "boston", Operation::Update, Effect::Allow),
            grant("b-d", "boston", Operation::Delete, Effect::Deny),
            grant("t-r", "toronto", Operation::Read, Effect::Allow),
        ];
        let columns = [ColumnGrantFact {
            id: "t-mod".into(),
            grantee: Grantee::role("toronto"),
            column_code: "ModifiedOn".into(),
            level: ColumnLevel::Hidden,
            priority: None,
        }];
        ObjectFacts {
            object: Some(PortalObjectFact { id: "kb".into(), record_permissions_enabled }),
            read_only_section_id: None,
            operation_grants: all.into_iter().filter(|g| subject.is_reached_by(&g.grant.grantee)).collect(),
            column_grants: columns.into_iter().filter(|g| subject.is_reached_by(&g.grantee)).collect(),
            role_priorities: RolePriorities::new(),
        }
    }

    #[test]
    fn boston_creates_reads_updates_but_does_not_delete() {
        let boston = subject(&["boston"]);
        let facts = seed_facts(&boston, false);
        for op in [Operation::Create, Operation::Read, Operation::Update] {
            assert!(check(&boston, &query(op, None, &[]), &facts, &RecordFacts::NotNamed).allowed, "{op:?}");
        }
        let delete = check(&boston, &query(Operation::Delete, None, &[]), &facts, &RecordFacts::NotNamed);
        assert_eq!(
            (delete.allowed, delete.level, delete.denial),
            (false, Level::Operation, Some(Denial::OperationDenied))
        );
    }

    #[test]
    fn toronto_only_reads_and_does_not_see_modified_on() {
        let toronto = subject(&["toronto"]);
        let facts = seed_facts(&toronto, false);
        let read = check(&toronto, &query(Operation::Read, None, &["Title"]), &facts, &RecordFacts::NotNamed);
        assert!(read.allowed);
        let mask = read.mask.unwrap();
        assert_eq!(mask.other_columns, ColumnLevel::Read);
        assert_eq!(mask.hidden, ["ModifiedOn"]);
        let hidden = check(&toronto, &query(Operation::Read, None, &["ModifiedOn"]), &facts, &RecordFacts::NotNamed);
        assert_eq!((hidden.allowed, hidden.denial), (false, Some(Denial::ColumnHidden)));
        assert_eq!(hidden.denied_columns, ["ModifiedOn"]);
        let update = check(&toronto, &query(Operation::Update, None, &[]), &facts, &RecordFacts::NotNamed);
        assert_eq!(update.denial, Some(Denial::OperationNotGranted));
    }

    #[test]
    fn a_user_in_both_roles_gets_what_the_priorities_say() {
        let both = subject(&["boston", "toronto"]);
        let mut facts = seed_facts(&both, false);
        facts.operation_grants.push(grant("t-d", "toronto", Operation::Delete, Effect::Allow));
        // Equal priority: the deny is more restrictive.
        assert!(!check(&both, &query(Operation::Delete, None, &[]), &facts, &RecordFacts::NotNamed).allowed);
        facts.role_priorities.insert("r:toronto".into(), 200);
        facts.role_priorities.insert("r:boston".into(), 100);
        assert!(check(&both, &query(Operation::Delete, None, &[]), &facts, &RecordFacts::NotNamed).allowed);
        // A user grant outranks role grants when priorities are unset.
        facts.role_priorities.clear();
        facts.operation_grants.push(OperationGrantFact {
            operation: Operation::Delete,
            grant: EffectGrant {
                id: "u-d".into(),
                grantee: Grantee::user("alice"),
                effect: Effect::Allow,
                priority: None,
            },
        });
        assert!(check(&both, &query(Operation::Delete, None, &[]), &facts, &RecordFacts::NotNamed).allowed);
    }

    #[test]
    fn each_level_denies_on_its_own() {
        let boston = subject(&["boston"]);
        let mut facts = seed_facts(&boston, true);
        let read = query(Operation::Read, Some("r1"), &[]);
        let others = RecordFacts::Registered { author_user_id: "bob".into(), grants: Vec::new() };
        assert_eq!(check(&boston, &read, &facts, &others).denial, Some(Denial::RecordNotGranted));
        assert_eq!(check(&boston, &read, &facts, &RecordFacts::Unregistered).denial, Some(Denial::RecordNotRegistered));
        let own = RecordFacts::Registered { author_user_id: "alice".into(), grants: Vec::new() };
        assert!(check(&boston, &read, &facts, &own).allowed);
        let shared = RecordFacts::Registered {
            author_user_id: "bob".into(),
            grants: vec![RecordGrantFact {
                id: "g".into(),
                grantee: Grantee { kind: GranteeKind::Organization, id: "acme".into() },
                rights: Rights::of([Right::Read]),
            }],
        };
        assert!(check(&boston, &read, &facts, &shared).allowed);
        let update = query(Operation::Update, Some("r1"), &[]);
        assert_eq!(check(&boston, &update, &facts, &shared).denial, Some(Denial::RecordNotGranted));
        facts.read_only_section_id = Some("s".into());
        assert_eq!(check(&boston, &update, &facts, &own).denial, Some(Denial::SectionReadOnly));
        assert!(check(&boston, &read, &facts, &own).allowed);
        facts.object = None;
        assert_eq!(check(&boston, &read, &facts, &own).denial, Some(Denial::ObjectNotOnPortal));
    }

    #[test]
    fn employees_skip_availability_and_records_and_admins_skip_everything() {
        let mut employee = subject(&["boston"]);
        employee.external = false;
        let mut facts = seed_facts(&employee, true);
        facts.object = None;
        let others = RecordFacts::Registered { author_user_id: "bob".into(), grants: Vec::new() };
        assert!(check(&employee, &query(Operation::Read, Some("r"), &[]), &facts, &others).allowed);
        let mut admin = subject(&[]);
        admin.system_administrator = true;
        let decision = check(&admin, &query(Operation::Delete, Some("r"), &[]), &ObjectFacts::default(), &others);
        assert_eq!((decision.allowed, decision.level), (true, Level::Subject));
        let mut gone = subject(&["boston"]);
        gone.active = false;
        assert_eq!(
            check(&gone, &query(Operation::Read, None, &[]), &facts, &others).denial,
            Some(Denial::SubjectInactive)
        );
    }

    #[test]
    fn record_filter_matches_author_and_grantee_keys_only_under_record_permissions() {
        let boston = subject(&["boston"]);
        let facts = seed_facts(&boston, true);
        let (filter, mask) = record_filter(&boston, &query(Operation::Read, None, &[]), &facts);
        assert_eq!(mask.unwrap().other_columns, ColumnLevel::Edit);
        let Filter::Match { author_user_ids, grantee_keys, required_right } = filter else { panic!("{filter:?}") };
        assert_eq!(author_user_ids, ["alice"]);
        assert!(grantee_keys.contains(&"r:boston".to_owned()) && grantee_keys.contains(&"u:alice".to_owned()));
        assert_eq!(required_right, Right::Read);
        let (filter, _) = record_filter(&boston, &query(Operation::Delete, None, &[]), &facts);
        assert_eq!(filter, Filter::DenyAll { level: Level::Operation, denial: Denial::OperationDenied });
        let open = seed_facts(&boston, false);
        assert_eq!(record_filter(&boston, &query(Operation::Read, None, &[]), &open).0, Filter::AllowAll);
    }

    #[test]
    fn system_operations_follow_priorities() {
        let alice = subject(&["boston"]);
        let allow = EffectGrant {
            id: "a".into(),
            grantee: Grantee::role(ALL_EXTERNAL_USERS),
            effect: Effect::Allow,
            priority: None,
        };
        let deny =
            EffectGrant { id: "d".into(), grantee: Grantee::role("boston"), effect: Effect::Deny, priority: Some(5) };
        let priorities = RolePriorities::new();
        assert!(system_operation(&alice, "CanExportExcel", &[allow.clone()], &priorities).allowed);
        let decision = system_operation(&alice, "CanExportExcel", &[allow, deny], &priorities);
        assert_eq!(decision.denial, Some(Denial::SystemOperationDenied));
        assert_eq!(system_operation(&alice, "X", &[], &priorities).denial, Some(Denial::SystemOperationNotGranted));
    }
}
