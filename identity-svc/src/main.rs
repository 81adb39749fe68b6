//! identity-svc as its own process (distributed mode).

use service_kit::runner::{self, ServiceSpec};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    runner::run(ServiceSpec {
        area: identity_svc::AREA,
        default_port: 50061,
        migrations: identity_svc::MIGRATIONS,
        start: |context| Box::pin(identity_svc::start(context)),
    })
    .await
}
