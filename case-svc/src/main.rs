//! case-svc as its own process (distributed mode).

use service_kit::runner::{self, ServiceSpec};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    runner::run(ServiceSpec {
        area: case_svc::AREA,
        default_port: 50063,
        migrations: case_svc::MIGRATIONS,
        start: |context| Box::pin(case_svc::start(context)),
    })
    .await
}
