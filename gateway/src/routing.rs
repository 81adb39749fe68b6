//! Which calls the gateway forwards, to which area, and which need no login.

use std::collections::HashSet;

use portal_proto::common::Audience;
use service_kit::{
    contract,
    server::{is_internal, services_in},
};

/// Whether the method at `path` is callable without a session: its contract opens it to
/// anyone (`portal.common.v1.authorization` with `AUDIENCE_OPEN`: logging in and the flows
/// that start from an emailed link or a public form). Every other public method needs
/// `authorization: Bearer`.
pub fn open_without_login(path: &str) -> bool {
    contract::rule(path).is_some_and(|rule| rule.audiences().any(|audience| audience == Audience::Open))
}

/// A call's destination, read from its path `/portal.<area>.v1.<Service>/<Method>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route<'a> {
    pub service: &'a str,
    pub area: &'a str,
    pub needs_login: bool,
}

/// The public services and where their calls go.
#[derive(Debug, Clone)]
pub struct RoutingTable {
    public_services: HashSet<String>,
}

impl Default for RoutingTable {
    fn default() -> Self {
        let public_services =
            services_in(portal_proto::FILE_DESCRIPTOR_SET).into_iter().filter(|name| !is_internal(name)).collect();
        Self { public_services }
    }
}

impl RoutingTable {
    /// Fully qualified names of the public services, sorted.
    pub fn public_services(&self) -> Vec<String> {
        let mut names: Vec<String> = self.public_services.iter().cloned().collect();
        names.sort();
        names
    }

    /// Where a call to `path` goes, or `None` for anything that is not a public method.
    pub fn route<'a>(&self, path: &'a str) -> Option<Route<'a>> {
        let (service, method) = path.strip_prefix('/')?.split_once('/')?;
        if method.is_empty() || method.contains('/') || !self.public_services.contains(service) {
            return None;
        }
        let area = service.strip_prefix("portal.")?.split('.').next()?;
        Some(Route { service, area, needs_login: !open_without_login(path) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_public_methods_by_area() {
        let table = RoutingTable::default();
        let login = table.route("/portal.identity.v1.SessionService/Login").unwrap();
        assert_eq!(login, Route { service: "portal.identity.v1.SessionService", area: "identity", needs_login: false });
        assert!(table.route("/portal.identity.v1.SessionService/WhoAmI").unwrap().needs_login);
    }

    #[test]
    fn never_routes_internal_or_unknown_services() {
        let table = RoutingTable::default();
        assert_eq!(table.route("/portal.identity.v1.IdentityInternalService/AuthenticateSession"), None);
        assert_eq!(table.route("/portal.nothing.v1.X/Y"), None);
        assert_eq!(table.route("/grpc.health.v1.Health/Check"), None);
        assert_eq!(table.route("garbage"), None);
    }

    #[test]
    fn every_area_has_public_services() {
        let names = RoutingTable::default().public_services();
        for area in ["identity", "access", "case", "partner", "notify"] {
            assert!(names.iter().any(|n| n.starts_with(&format!("portal.{area}.v1."))), "no public service in {area}");
        }
        assert!(!names.iter().any(|n| is_internal(n)));
    }

    #[test]
    fn the_login_free_methods_are_those_the_contracts_open() {
        let mut open: Vec<String> = portal_proto::DESCRIPTOR_POOL
            .services()
            .filter(|service| !is_internal(service.full_name()))
            .flat_map(|service| service.methods().collect::<Vec<_>>())
            .map(|method| format!("/{}/{}", method.parent_service().full_name(), method.name()))
            .filter(|path| open_without_login(path))
            .collect();
        open.sort();
        assert_eq!(
            open,
            [
                "/portal.identity.v1.InvitationService/RedeemInvitation",
                "/portal.identity.v1.PasswordService/RequestPasswordRecovery",
                "/portal.identity.v1.PasswordService/ResetPassword",
                "/portal.identity.v1.RegistrationService/ConfirmRegistration",
                "/portal.identity.v1.RegistrationService/Register",
                "/portal.identity.v1.SessionService/Login",
                "/portal.identity.v1.SettingsService/GetPublicSettings",
            ]
        );
        let table = RoutingTable::default();
        assert!(open.iter().all(|path| table.route(path).is_some_and(|route| !route.needs_login)));
    }
}
