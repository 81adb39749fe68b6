//! access-svc as its own process (distributed mode).

use service_kit::runner::{self, ServiceSpec};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    runner::run(ServiceSpec {
        area: access_svc::AREA,
        default_port: 50062,
        migrations: access_svc::MIGRATIONS,
        start: |context| Box::pin(access_svc::start(context)),
    })
    .await
}
