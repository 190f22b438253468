//! Readings in the panel: the list with filters and photos, reviewing flagged readings,
//! corrections as new records, and the audit trail.

use domain::{MeterValue, ReadingSource, ReadingStatus, Role, Service, TariffPlan};
use entities::reading;
use poem::http::StatusCode;
use sea_orm::EntityTrait;
use service::audit::Actor;
use service::readings::{Submission, submit};
use service::testing::{TestContext, new_consumer};
use tests::PanelClient;

fn submission(meter_id: i64, value: i64, source: ReadingSource) -> Submission {
    Submission {
        seal_intact: Some(true),
        confirmed: true,
        ..Submission::new(meter_id, vec![MeterValue::from_whole(value).unwrap()], source, Actor::System)
    }
}

async fn status(t: &TestContext, id: i64) -> ReadingStatus {
    reading::Entity::find_by_id(id).one(t.ctx.db.conn()).await.unwrap().unwrap().status
}

/// A water meter installed at 0 and read at 100 in February, so 100 m³ a month is usual.
async fn metered() -> (TestContext, i64) {
    let t = TestContext::new().await;
    t.standard_tariffs().await;
    let signed = t.sign("1", new_consumer("Антонова", None), "W-1", Service::Water, TariffPlan::Single, &[0]).await;
    t.clock.set(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 2, 10, 9, 0, 0).unwrap());
    submit(&t.ctx, submission(signed.meter_id, 100, ReadingSource::ConsumerBot)).await.unwrap();
    t.clock.set(service::testing::default_now());
    (t, signed.meter_id)
}

#[tokio::test]
async fn admins_review_flagged_readings_and_accountants_only_look() {
    let (t, meter) = metered().await;
    let flagged = submit(&t.ctx, submission(meter, 5_000, ReadingSource::ConsumerBot)).await.unwrap().reading;
    assert_eq!(flagged.status, ReadingStatus::Flagged);
    let path = format!("/readings/{}", flagged.id);

    let buh = PanelClient::staff(&t, "buh", Role::Accountant).await;
    buh.get("/readings?status=flagged").await.assert_ok().assert_contains("5000").assert_lacks(">100<");
    buh.get(&path).await.assert_ok().assert_contains("На проверке").assert_lacks("Принять");
    assert_eq!(buh.post_form(&format!("{path}/review"), &[("decision", "accept")]).await.status, StatusCode::FORBIDDEN);

    let admin = PanelClient::staff(&t, "admin", Role::Admin).await;
    admin.get(&path).await.assert_contains("Принять").assert_contains("Отклонить");
    let page = admin.post_form(&format!("{path}/review"), &[("decision", "maybe")]).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    page.assert_contains("Выберите: принять или отклонить.");
    let page = admin.post_form(&format!("{path}/review"), &[("decision", "accept")]).await;
    assert_eq!(page.location(), Some(path.as_str()));
    assert_eq!(status(&t, flagged.id).await, ReadingStatus::Accepted);
    let shown = admin.get(&path).await;
    shown.assert_contains("Показание: принято.").assert_contains("Проверено").assert_contains("Сотрудник admin");

    // Reviewing twice is refused with the service's reason.
    let page = admin.post_form(&format!("{path}/review"), &[("decision", "reject")]).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    page.assert_contains("Это показание не ждёт проверки.");
}

#[tokio::test]
async fn corrections_are_new_readings_with_a_reason_and_a_visible_trail() {
    let (t, meter) = metered().await;
    let wrong = submit(&t.ctx, submission(meter, 150, ReadingSource::Panel)).await.unwrap().reading;
    let admin = PanelClient::staff(&t, "admin", Role::Admin).await;
    let path = format!("/readings/{}", wrong.id);
    admin.get(&path).await.assert_ok().assert_contains("value=\"150\"");

    let page = admin.post_form(&format!("{path}/correct"), &[("value_t1", "140,5"), ("reason", " ")]).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    page.assert_contains("Укажите причину исправления.").assert_contains("value=\"140,5\"");
    let page = admin.post_form(&format!("{path}/correct"), &[("value_t1", "99"), ("reason", "опечатка")]).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    page.assert_contains("меньше предыдущего").assert_contains("value=\"опечатка\"");
    assert_eq!(status(&t, wrong.id).await, ReadingStatus::Accepted, "nothing changed yet");

    let page =
        admin.post_form(&format!("{path}/correct"), &[("value_t1", "140,5"), ("reason", "опечатка контролёра")]).await;
    let corrected_path = page.location().expect("to the new reading").to_owned();
    assert_ne!(corrected_path, path);
    assert_eq!(status(&t, wrong.id).await, ReadingStatus::Superseded);
    let shown = admin.get(&corrected_path).await;
    shown
        .assert_contains("Показание исправлено.")
        .assert_contains("Версии")
        .assert_contains("140,5")
        .assert_contains("Исправлено")
        .assert_contains("опечатка контролёра")
        .assert_contains("Передано");
    // The old version shows the same trail and can no longer be corrected.
    admin.get(&path).await.assert_contains("опечатка контролёра").assert_lacks("Причина исправления");
}

#[tokio::test]
async fn the_list_filters_by_month_and_source_and_shows_photos() {
    let (t, meter) = metered().await;
    let photo = service::meters::photos::store(&t.ctx, service::testing::photos::png(320, 240)).await.unwrap();
    let with_photo = Submission { photo_id: Some(photo.id), ..submission(meter, 180, ReadingSource::ControllerWeb) };
    submit(&t.ctx, with_photo).await.unwrap();
    let client = PanelClient::staff(&t, "buh", Role::Accountant).await;

    let all = client.get("/readings").await;
    all.assert_ok().assert_contains(&format!("src=\"/photos/{}/thumb\"", photo.id)).assert_contains(">100<");
    client.get("/readings?period=2026-02").await.assert_contains(">100<").assert_lacks(">180<");
    client.get("/readings?source=controller_web").await.assert_contains(">180<").assert_lacks(">100<");
    client
        .get("/readings?source=consumer_bot&period=2026-03")
        .await
        .assert_contains("Ничего не найдено.")
        .assert_contains("<option value=\"consumer_bot\" selected>");
}
