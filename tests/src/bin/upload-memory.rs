//! Upload memory: how much the resident memory of the all-in-one process grows while
//! concurrent clients upload large attachments (issue 13 §3: uploads are streamed to
//! storage in pieces, never held whole).
//!
//! `cargo run --release -p portal-tests --bin upload-memory -- GATEWAY_BINARY [UPLOADS] [MIB]`
//! (defaults 20 uploads of 64 MiB). It starts GATEWAY_BINARY (the all-in-one `gateway`,
//! built with `cargo build --release -p gateway`) on SQLite in a temporary folder, raises
//! the attachment limit to 1 GiB, uploads to one knowledge-base article from UPLOADS clients
//! at once in 64 KiB chunks (content generated as it is sent, so the client holds none of
//! it), samples the server's VmRSS every 50 ms, and checks every stored file's SHA-256.

use std::{
    net::TcpListener,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use portal_proto::case::{
    Article, ArticleType, AttachmentUploadMetadata, CaseSettings, CreateArticleRequest, UpdateCaseSettingsRequest,
    UploadAttachmentRequest, attachment_service_client::AttachmentServiceClient, attachment_upload_metadata,
    case_settings_service_client::CaseSettingsServiceClient, knowledge_base_service_client::KnowledgeBaseServiceClient,
    upload_attachment_request::Payload,
};
use portal_proto::identity::{LoginRequest, session_service_client::SessionServiceClient};
use portal_tests::authed;
use sha2::{Digest, Sha256};
use tonic::transport::Channel;

const ADMIN_EMAIL: &str = "admin@upload-memory.test";
const ADMIN_PASSWORD: &str = "upload-memory-admin-password-1";
const CHUNK: usize = 64 * 1024;

/// The `n`th chunk of every upload's content: a cheap generator, so no upload is held.
fn chunk(n: usize) -> Vec<u8> {
    let mut state = (n as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..CHUNK)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

/// The server's resident set, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// Starts the all-in-one process on a free port.
fn start(binary: &str, data_dir: &std::path::Path) -> (Child, String) {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(binary)
        .env("PORTAL__LISTEN", format!("127.0.0.1:{port}"))
        .env("PORTAL__DATA_DIR", data_dir)
        .env("PORTAL__BOOTSTRAP__ADMIN_EMAIL", ADMIN_EMAIL)
        .env("PORTAL__BOOTSTRAP__ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("PORTAL__LOG__FILTER", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("start the gateway binary");
    (child, format!("http://127.0.0.1:{port}"))
}

async fn login(channel: &Channel) -> String {
    for _ in 0..600 {
        let mut sessions = SessionServiceClient::new(channel.clone());
        let request = LoginRequest { email: ADMIN_EMAIL.into(), password: ADMIN_PASSWORD.into() };
        if let Ok(response) = sessions.login(request).await {
            return response.into_inner().token;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the all-in-one process did not let the administrator in within 60 s");
}

/// Uploads `chunks` generated chunks to `article_id`; returns the stored SHA-256.
async fn upload(channel: Channel, token: String, article_id: String, chunks: usize) -> String {
    let metadata = UploadAttachmentRequest {
        payload: Some(Payload::Metadata(AttachmentUploadMetadata {
            parent: Some(attachment_upload_metadata::Parent::ArticleId(article_id)),
            file_name: "big.bin".into(),
            content_type: "application/octet-stream".into(),
            size_bytes: (chunks * CHUNK) as i64,
            sha256: String::new(),
            request_id: String::new(),
        })),
    };
    let content = (0..chunks).map(|n| UploadAttachmentRequest { payload: Some(Payload::Chunk(chunk(n))) });
    let messages = tokio_stream::iter(std::iter::once(metadata).chain(content));
    let mut client = AttachmentServiceClient::new(channel);
    client.upload_attachment(authed(messages, &token)).await.expect("upload").into_inner().sha256
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let binary = args.get(1).expect("usage: upload-memory GATEWAY_BINARY [UPLOADS] [MIB]").clone();
    let uploads: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(20).clamp(1, 200);
    let size_mib: usize = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(64).clamp(1, 1024);
    let chunks = size_mib * 1024 * 1024 / CHUNK;
    let expected: String = {
        let mut hasher = Sha256::new();
        (0..chunks).for_each(|n| hasher.update(chunk(n)));
        hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
    };

    let data_dir = tempfile::tempdir().expect("temporary folder");
    let (mut child, url) = start(&binary, data_dir.path());
    let pid = child.id();
    let channel = Channel::from_shared(url.clone()).unwrap().connect_lazy();
    let token = login(&channel).await;
    let settings = UpdateCaseSettingsRequest {
        settings: Some(CaseSettings { max_attachment_bytes: 1 << 30, ..Default::default() }),
        update_mask: Some(prost_types::FieldMask { paths: vec!["max_attachment_bytes".into()] }),
    };
    CaseSettingsServiceClient::new(channel.clone()).update_case_settings(authed(settings, &token)).await.unwrap();
    let article = Article {
        title: "Large files".into(),
        r#type: ArticleType::Faq.into(),
        body: "uploads".into(),
        ..Default::default()
    };
    let request = CreateArticleRequest { article: Some(article), request_id: String::new() };
    let article_id = KnowledgeBaseServiceClient::new(channel.clone())
        .create_article(authed(request, &token))
        .await
        .unwrap()
        .into_inner()
        .id;
    // Warm up: one small upload, so pools and buffers exist before the baseline.
    upload(channel.clone(), token.clone(), article_id.clone(), 16).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let baseline = rss_kib(pid);

    let sampling = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = {
        let sampling = sampling.clone();
        tokio::spawn(async move {
            let mut peak = 0;
            while sampling.load(std::sync::atomic::Ordering::Relaxed) {
                peak = peak.max(rss_kib(pid));
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            peak
        })
    };
    let started = Instant::now();
    // Each client on a connection of its own, as separate users would be.
    let runs: Vec<_> = (0..uploads)
        .map(|_| {
            let channel = Channel::from_shared(url.clone()).unwrap().connect_lazy();
            tokio::spawn(upload(channel, token.clone(), article_id.clone(), chunks))
        })
        .collect();
    let mut intact = 0;
    for run in runs {
        if run.await.expect("upload task") == expected {
            intact += 1;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    sampling.store(false, std::sync::atomic::Ordering::Relaxed);
    let peak = sampler.await.unwrap();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let after = rss_kib(pid);
    let _ = child.kill();
    let _ = child.wait();

    let growth = peak.saturating_sub(baseline);
    println!("{uploads} concurrent uploads of {size_mib} MiB in {CHUNK} B chunks, all-in-one on SQLite");
    println!(
        "stored intact (SHA-256 as sent): {intact} of {uploads}; {elapsed:.1} s, {:.1} MiB/s",
        (uploads * size_mib) as f64 / elapsed
    );
    println!(
        "server VmRSS: before {:.1} MiB, peak {:.1} MiB (+{:.1} MiB, {:.2} MiB per upload), 5 s after {:.1} MiB",
        mib(baseline),
        mib(peak),
        mib(growth),
        mib(growth) / uploads as f64,
        mib(after)
    );
}
