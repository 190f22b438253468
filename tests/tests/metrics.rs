//! `/metrics` after a few requests, an update, a reading and a nightly backup: the names and
//! labels Prometheus scrapes, closed to the public; `/healthz` answering 503 once the database
//! is gone.

use std::net::{IpAddr, Ipv4Addr};

use domain::{Service, TariffPlan, meter_value};
use poem::http::StatusCode;
use service::testing::{self, default_now, new_consumer, office_reading};
use tests::bot_chat::BotChat;
use tests::{PanelClient, TestApp};

async fn get(app: &TestApp, path: &str, bearer: Option<&str>) -> (u16, String, String) {
    let mut request = reqwest::Client::new().get(app.app.panel_url().join(path).unwrap());
    if let Some(token) = bearer {
        request = request.header("Authorization", format!("Bearer {token}"));
    }
    let response = request.send().await.expect("the panel answers");
    let status = response.status().as_u16();
    let content_type =
        response.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    (status, content_type, response.text().await.unwrap())
}

/// The value of the sample `name{labels}` in `text`.
fn sample(text: &str, series: &str) -> f64 {
    let line = text
        .lines()
        .find(|l| l.starts_with(&format!("{series} ")))
        .unwrap_or_else(|| panic!("no {series} in:\n{text}"));
    line.rsplit(' ').next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn metrics_count_by_route_pattern_and_are_served_to_loopback_or_the_token_only() {
    let app = TestApp::spawn_with(default_now(), |config| {
        config.backup_time = bot::config::BackupTime(Some(chrono::NaiveTime::MIN));
    })
    .await;
    let ctx = app.ctx();
    testing::standard_tariffs(ctx).await;
    let signed =
        testing::sign(ctx, "12", new_consumer("Иванова А. П.", None), "W-12", Service::Water, TariffPlan::Single, &[0])
            .await;
    service::readings::submit(ctx, office_reading(signed.meter_id, vec![meter_value!(5_000)])).await.unwrap();
    BotChat::new(&app.telegram, 71_001).send("/start").await;
    app.app.scheduler_looked().await;
    for path in ["healthz", "plots/12345", "plots/67890", "no-such-page"] {
        get(&app, path, None).await;
    }

    let (status, content_type, text) = get(&app, "metrics", None).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(content_type, "application/openmetrics-text; version=1.0.0; charset=utf-8");
    assert!(sample(&text, r#"chernomorsk_http_requests_total{route="/healthz",method="GET",status="200"}"#) >= 1.0);
    // Two plots, one series: the pattern, not the path.
    assert!(sample(&text, r#"chernomorsk_http_requests_total{route="/plots/:id",method="GET",status="303"}"#) >= 2.0);
    assert!(!text.contains("12345"), "{text}");
    assert!(sample(&text, r#"chernomorsk_http_requests_total{route="unmatched",method="GET",status="404"}"#) >= 1.0);
    assert!(sample(&text, r#"chernomorsk_bot_updates_total{outcome="handled"}"#) >= 1.0);
    assert!(sample(&text, r#"chernomorsk_recorded_total{what="reading",source="panel"}"#) >= 1.0);
    assert!(sample(&text, r#"chernomorsk_deliveries_total{kind="backup",outcome="sent"}"#) >= 1.0);
    let age = sample(&text, "chernomorsk_backup_age_seconds");
    match ctx.db.backend() {
        sea_orm::DatabaseBackend::Sqlite => assert!((0.0..3600.0).contains(&age), "a copy was just taken: {age}"),
        // PostgreSQL is backed up with pg_dump, outside the program: no age to tell.
        _ => assert!(age.is_nan(), "{age}"),
    }
    assert!(sample(&text, "chernomorsk_db_write_wait_seconds_count") >= 1.0);
    assert!(sample(&text, r#"chernomorsk_db_pool_connections{state="idle"}"#) >= 0.0);
    assert!(text.contains(r#"chernomorsk_db_write_wait_seconds_bucket{le="0.0001"}"#), "{text}");
    assert!(text.ends_with("# EOF\n"));

    // Not from elsewhere without the token (through the proxy a request is not loopback).
    let outside = PanelClient::new(ctx).browser_at(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7)));
    let refused = outside.get("/metrics").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.body.contains("только на этом сервере"), "{}", refused.body);

    // Nor through a reverse proxy on this machine: it connects from loopback but names its client.
    let proxied = reqwest::Client::new()
        .get(app.app.panel_url().join("metrics").unwrap())
        .header("X-Forwarded-For", "203.0.113.7")
        .send()
        .await
        .unwrap();
    assert_eq!(proxied.status().as_u16(), 403);

    // With METRICS_TOKEN, only its bearer, from anywhere.
    let app = app.restart(|config| config.metrics_token = Some("s3cret-token".into())).await;
    assert_eq!(get(&app, "metrics", None).await.0, 403);
    assert_eq!(get(&app, "metrics", Some("s3cret-tokeN")).await.0, 403);
    assert_eq!(get(&app, "metrics", Some("s3cret-token")).await.0, 200);
}

#[tokio::test]
async fn healthz_fails_once_the_database_is_gone() {
    let app = TestApp::spawn().await;
    assert_eq!(get(&app, "healthz", None).await.0, 200);
    // Every connection of the pool closed: what a database that went away looks like to a query.
    app.ctx().db.conn().clone().close().await.unwrap();
    let (status, _, body) = get(&app, "healthz", None).await;
    assert_eq!((status, body.as_str()), (503, "база данных недоступна"));
}
