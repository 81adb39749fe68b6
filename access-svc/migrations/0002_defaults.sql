-- The product's defaults (DESIGN.md §4): the objects on the portal, the configurations,
-- the system-operation catalog, and the grants every external user, partner portal user
-- and employee starts with. They are ordinary rows and can be changed like any other.

INSERT INTO portal_objects (id, code, object_key, display_name, record_permissions_enabled, created_at, updated_at) VALUES
    ('object-case', 'Case', 'case', 'Portal cases', 1, 0, 0),
    ('object-knowledge-base', 'KnowledgeBase', 'knowledgebase', 'Portal knowledge base', 0, 0, 0),
    ('object-lead', 'Lead', 'lead', 'Leads', 1, 0, 0),
    ('object-opportunity', 'Opportunity', 'opportunity', 'Opportunities', 1, 0, 0),
    ('object-partnership', 'Partnership', 'partnership', 'Partner program', 0, 0, 0);

INSERT INTO portal_configurations (id, enabled, updated_at) VALUES
    ('self-service', 1, 0),
    ('customer-portal', 1, 0),
    ('partner-portal', 1, 0);

INSERT INTO system_operations (code, display_name, description) VALUES
    ('CanAdministratePortalUsers', 'Manage portal users', 'Manage every portal organization and its users, roles and permissions.'),
    ('CanChangeOwnPassword', 'Change own password', 'Change the password on the user profile page.'),
    ('CanExportExcel', 'Export to Excel', 'Export lists to Excel.'),
    ('CanManageLookups', 'Manage lookups', 'Edit lookups such as email templates.'),
    ('CanManagePortalMainPage', 'Manage the portal main page', 'Edit the portal main page.'),
    ('CanUseFolders', 'Use folders', 'Use the folder area of the portal sections.'),
    ('CanViewPortalMainPage', 'View the portal main page', 'See the portal main page.');

INSERT INTO system_operation_grants (id, operation_code, grantee_kind, grantee_id, grantee_key, effect, priority, sort_key, created_at, updated_at) VALUES
    ('default-so-main-page', 'CanViewPortalMainPage', 'role', 'all-external-users', 'r:all-external-users', 1, NULL, 'CanViewPortalMainPage/default-so-main-page', 0, 0),
    ('default-so-password', 'CanChangeOwnPassword', 'role', 'all-external-users', 'r:all-external-users', 1, NULL, 'CanChangeOwnPassword/default-so-password', 0, 0),
    ('default-so-folders', 'CanUseFolders', 'role', 'all-external-users', 'r:all-external-users', 1, NULL, 'CanUseFolders/default-so-folders', 0, 0);

-- operation: 1 create, 2 read, 3 update, 4 delete. sort_key: object key / operation / id.
INSERT INTO operation_grants (id, object_code, object_key, grantee_kind, grantee_id, grantee_key, operation, effect, priority, sort_key, created_at, updated_at) VALUES
    ('default-ext-kb-read', 'KnowledgeBase', 'knowledgebase', 'role', 'all-external-users', 'r:all-external-users', 2, 1, NULL, 'knowledgebase/2/default-ext-kb-read', 0, 0),
    ('default-ext-case-create', 'Case', 'case', 'role', 'all-external-users', 'r:all-external-users', 1, 1, NULL, 'case/1/default-ext-case-create', 0, 0),
    ('default-ext-case-read', 'Case', 'case', 'role', 'all-external-users', 'r:all-external-users', 2, 1, NULL, 'case/2/default-ext-case-read', 0, 0),
    ('default-ext-case-update', 'Case', 'case', 'role', 'all-external-users', 'r:all-external-users', 3, 1, NULL, 'case/3/default-ext-case-update', 0, 0),
    ('default-ppu-partnership-read', 'Partnership', 'partnership', 'role', 'partner-portal-users', 'r:partner-portal-users', 2, 1, NULL, 'partnership/2/default-ppu-partnership-read', 0, 0),
    ('default-ppu-lead-create', 'Lead', 'lead', 'role', 'partner-portal-users', 'r:partner-portal-users', 1, 1, NULL, 'lead/1/default-ppu-lead-create', 0, 0),
    ('default-ppu-lead-read', 'Lead', 'lead', 'role', 'partner-portal-users', 'r:partner-portal-users', 2, 1, NULL, 'lead/2/default-ppu-lead-read', 0, 0),
    ('default-ppu-lead-update', 'Lead', 'lead', 'role', 'partner-portal-users', 'r:partner-portal-users', 3, 1, NULL, 'lead/3/default-ppu-lead-update', 0, 0),
    ('default-ppu-opportunity-create', 'Opportunity', 'opportunity', 'role', 'partner-portal-users', 'r:partner-portal-users', 1, 1, NULL, 'opportunity/1/default-ppu-opportunity-create', 0, 0),
    ('default-ppu-opportunity-read', 'Opportunity', 'opportunity', 'role', 'partner-portal-users', 'r:partner-portal-users', 2, 1, NULL, 'opportunity/2/default-ppu-opportunity-read', 0, 0),
    ('default-ppu-opportunity-update', 'Opportunity', 'opportunity', 'role', 'partner-portal-users', 'r:partner-portal-users', 3, 1, NULL, 'opportunity/3/default-ppu-opportunity-update', 0, 0),
    ('default-emp-case-create', 'Case', 'case', 'role', 'all-employees', 'r:all-employees', 1, 1, NULL, 'case/1/default-emp-case-create', 0, 0),
    ('default-emp-case-read', 'Case', 'case', 'role', 'all-employees', 'r:all-employees', 2, 1, NULL, 'case/2/default-emp-case-read', 0, 0),
    ('default-emp-case-update', 'Case', 'case', 'role', 'all-employees', 'r:all-employees', 3, 1, NULL, 'case/3/default-emp-case-update', 0, 0),
    ('default-emp-case-delete', 'Case', 'case', 'role', 'all-employees', 'r:all-employees', 4, 1, NULL, 'case/4/default-emp-case-delete', 0, 0),
    ('default-emp-kb-create', 'KnowledgeBase', 'knowledgebase', 'role', 'all-employees', 'r:all-employees', 1, 1, NULL, 'knowledgebase/1/default-emp-kb-create', 0, 0),
    ('default-emp-kb-read', 'KnowledgeBase', 'knowledgebase', 'role', 'all-employees', 'r:all-employees', 2, 1, NULL, 'knowledgebase/2/default-emp-kb-read', 0, 0),
    ('default-emp-kb-update', 'KnowledgeBase', 'knowledgebase', 'role', 'all-employees', 'r:all-employees', 3, 1, NULL, 'knowledgebase/3/default-emp-kb-update', 0, 0),
    ('default-emp-kb-delete', 'KnowledgeBase', 'knowledgebase', 'role', 'all-employees', 'r:all-employees', 4, 1, NULL, 'knowledgebase/4/default-emp-kb-delete', 0, 0),
    ('default-emp-lead-create', 'Lead', 'lead', 'role', 'all-employees', 'r:all-employees', 1, 1, NULL, 'lead/1/default-emp-lead-create', 0, 0),
    ('default-emp-lead-read', 'Lead', 'lead', 'role', 'all-employees', 'r:all-employees', 2, 1, NULL, 'lead/2/default-emp-lead-read', 0, 0),
    ('default-emp-lead-update', 'Lead', 'lead', 'role', 'all-employees', 'r:all-employees', 3, 1, NULL, 'lead/3/default-emp-lead-update', 0, 0),
    ('default-emp-lead-delete', 'Lead', 'lead', 'role', 'all-employees', 'r:all-employees', 4, 1, NULL, 'lead/4/default-emp-lead-delete', 0, 0),
    ('default-emp-opportunity-create', 'Opportunity', 'opportunity', 'role', 'all-employees', 'r:all-employees', 1, 1, NULL, 'opportunity/1/default-emp-opportunity-create', 0, 0),
    ('default-emp-opportunity-read', 'Opportunity', 'opportunity', 'role', 'all-employees', 'r:all-employees', 2, 1, NULL, 'opportunity/2/default-emp-opportunity-read', 0, 0),
    ('default-emp-opportunity-update', 'Opportunity', 'opportunity', 'role', 'all-employees', 'r:all-employees', 3, 1, NULL, 'opportunity/3/default-emp-opportunity-update', 0, 0),
    ('default-emp-opportunity-delete', 'Opportunity', 'opportunity', 'role', 'all-employees', 'r:all-employees', 4, 1, NULL, 'opportunity/4/default-emp-opportunity-delete', 0, 0),
    ('default-emp-partnership-create', 'Partnership', 'partnership', 'role', 'all-employees', 'r:all-employees', 1, 1, NULL, 'partnership/1/default-emp-partnership-create', 0, 0),
    ('default-emp-partnership-read', 'Partnership', 'partnership', 'role', 'all-employees', 'r:all-employees', 2, 1, NULL, 'partnership/2/default-emp-partnership-read', 0, 0),
    ('default-emp-partnership-update', 'Partnership', 'partnership', 'role', 'all-employees', 'r:all-employees', 3, 1, NULL, 'partnership/3/default-emp-partnership-update', 0, 0),
    ('default-emp-partnership-delete', 'Partnership', 'partnership', 'role', 'all-employees', 'r:all-employees', 4, 1, NULL, 'partnership/4/default-emp-partnership-delete', 0, 0);

-- Leads and opportunities registered by a user of a partner organization are readable
-- and editable by the author's whole organization.
INSERT INTO default_record_rules (id, object_code, object_key, author_kind, author_id, author_key, target_kind, target_grantee_kind, target_grantee_id, target_key, can_read, can_edit, can_delete, sort_key, created_at, updated_at) VALUES
    ('default-rule-lead-partner-org', 'Lead', 'lead', 'role', 'partners', 'r:partners', 'author_organization', '', '', 'author-organization', 1, 1, 0, 'lead/0/default-rule-lead-partner-org', 0, 0),
    ('default-rule-opportunity-partner-org', 'Opportunity', 'opportunity', 'role', 'partners', 'r:partners', 'author_organization', '', '', 'author-organization', 1, 1, 0, 'opportunity/0/default-rule-opportunity-partner-org', 0, 0);
