-- System operations that govern administrative calls of other services (issue 13):
-- email templates (notify) and case settings (case). No default grants: the system
-- administrator is allowed every operation without one; anyone else needs a grant.
INSERT INTO system_operations (code, display_name, description) VALUES
    ('CanManageCaseSettings', 'Manage case settings', 'Change the case settings: case numbers, attachment size limit, SLA warning share, default calendar.'),
    ('CanManageEmailTemplates', 'Manage email templates', 'Create, change, delete, list and preview the email templates of the portal.');
