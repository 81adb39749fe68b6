//! notify-svc as its own process (distributed mode).

use service_kit::runner::{self, ServiceSpec};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    runner::run(ServiceSpec {
        area: notify_svc::AREA,
        default_port: 50065,
        migrations: notify_svc::MIGRATIONS,
        start: |context| Box::pin(notify_svc::start(context)),
    })
    .await
}
