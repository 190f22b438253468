//! `kill -9` in the middle of a burst of submissions: after a restart every acknowledged reading
//! is there and SQLite's integrity check passes. Runs the real `chernomorsk` binary.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use domain::Role;
use entities::{meter, reading};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use service::audit::Actor;
use service::{Clock, Context, Db, Settings};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn start(dir: &std::path::Path, url: &str, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_chernomorsk"))
        .env_clear()
        .env("DATABASE_URL", url)
        .env("PANEL_ADDR", format!("127.0.0.1:{port}"))
        .env("PHOTO_DIR", dir.join("photos"))
        .env("RUST_LOG", "warn")
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chernomorsk")
}

/// One HTTP/1.1 request on a fresh connection; the status code and body.
async fn http(port: u16, method: &str, path: &str, token: &str, body: &str) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await?;
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    let status = response.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    Ok((status, body))
}

async fn wait_until_up(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok((200, _)) = http(port, "GET", "/healthz", "", "").await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("chernomorsk did not start");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_readings_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let url = service::db::sqlite_url(&dir.path().join("crash.db"), "rwc");

    // Seed: a cooperative, and an admin with an API token.
    let (token, meters) = {
        let db = Db::open(&url).await.unwrap();
        let ctx = Context::new(db, Settings::with_photo_dir(dir.path().join("photos")), Clock::system());
        service::demo::generate(&ctx, service::demo::DemoSpec { plots: 60, months: 2, seed: 9 }).await.unwrap();
        let admin = service::access::staff::create(
            &ctx,
            service::access::staff::NewStaff {
                login: "admin".into(),
                full_name: "Админ".into(),
                role: Role::Admin,
                password: "admin-password".into(),
            },
            Actor::System,
        )
        .await
        .unwrap();
        let token =
            service::access::staff::issue_api_token(&ctx, admin.id, service::audit::Actor::System).await.unwrap();
        let meters = meter::Entity::find().all(ctx.db.conn()).await.unwrap();
        let ids: Vec<i64> = meters.iter().map(|m| m.id).collect();
        let last = service::register::cards::last_accepted(ctx.db.conn(), &ids).await.unwrap();
        let next: Vec<(i64, Vec<String>)> = meters
            .iter()
            .map(|m| {
                let base = last.get(&m.id).map(|r| r.values()).unwrap_or_else(|| m.initial_values());
                (m.id, base.iter().map(|v| v.checked_add(domain::meter_value!(1_000)).unwrap().to_string()).collect())
            })
            .collect();
        (token, next)
    };

    let port = free_port();
    let mut child = start(dir.path(), &url, port);
    wait_until_up(port).await;

    // A burst from 8 clients; the process is killed once 40 readings were acknowledged.
    // Each acknowledged reading as (meter, reading id).
    let acknowledged = Arc::new(std::sync::Mutex::new(Vec::<(i64, i64)>::new()));
    let count = Arc::new(AtomicUsize::new(0));
    let mut clients = Vec::new();
    for chunk in meters.chunks(meters.len().div_ceil(8)) {
        let (chunk, token) = (chunk.to_vec(), token.clone());
        let (acknowledged, count) = (acknowledged.clone(), count.clone());
        clients.push(tokio::spawn(async move {
            for (meter_id, values) in chunk {
                let key = format!("crash-{meter_id}");
                let body = serde_json::json!({"meter_id": meter_id, "values": values, "idempotency_key": key, "confirmed": true});
                match http(port, "POST", "/api/readings", &token, &body.to_string()).await {
                    Ok((201, body)) => {
                        let created: serde_json::Value = serde_json::from_str(&body).unwrap();
                        acknowledged.lock().unwrap().push((meter_id, created["id"].as_i64().unwrap()));
                        count.fetch_add(1, Ordering::SeqCst);
                    }
                    Ok((status, body)) if status != 0 => panic!("unexpected answer {status}: {body}"),
                    // The server died mid-request: not acknowledged, nothing promised.
                    _ => return,
                }
            }
        }));
    }
    while count.load(Ordering::SeqCst) < 40 {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    child.kill().expect("SIGKILL");
    child.wait().unwrap();
    for client in clients {
        client.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() >= 40);
    assert!(acknowledged.len() < meters.len(), "the kill must land in the middle of the burst");

    // Restart: every acknowledged reading is there, once, and the file is sound.
    let port = free_port();
    let mut child = start(dir.path(), &url, port);
    wait_until_up(port).await;
    let db = Db::open(&url).await.unwrap();
    assert_eq!(service::backup::integrity_check(&db).await.unwrap(), "ok");
    let (meters, ids): (Vec<i64>, Vec<i64>) = acknowledged.iter().copied().unzip();
    let stored = reading::Entity::find().filter(reading::Column::Id.is_in(ids)).all(db.conn()).await.unwrap();
    assert_eq!(stored.len(), acknowledged.len(), "every acknowledged reading survived");
    // The seed's readings carry no key; the burst's do, one per meter.
    let keyed = reading::Entity::find()
        .filter(reading::Column::MeterId.is_in(meters))
        .filter(reading::Column::IdempotencyKey.is_not_null())
        .count(db.conn())
        .await
        .unwrap();
    assert_eq!(keyed, acknowledged.len() as u64, "each acknowledged reading is there once");
    child.kill().unwrap();
    child.wait().unwrap();
}
