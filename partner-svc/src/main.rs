//! partner-svc as its own process (distributed mode).

use service_kit::runner::{self, ServiceSpec};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    runner::run(ServiceSpec {
        area: partner_svc::AREA,
        default_port: 50064,
        migrations: partner_svc::MIGRATIONS,
        start: |context| Box::pin(partner_svc::start(context)),
    })
    .await
}
