//! The mobile form's offline half over HTTP, through the real panel app on a temporary SQLite
//! file: a reading queued on the phone arrives whole (values, photo, the time it was taken, a key
//! made on the phone) and is answered in JSON; the app's files are served as a browser and its
//! service worker need them.

use chrono::{DateTime, Duration, Utc};
use domain::{ReadingSource, ReadingStatus, Role, Service, TariffPlan, meter_value};
use entities::{photo, reading};
use poem::http::{StatusCode, header};
use poem::test::{TestForm, TestFormField};
use sea_orm::{EntityTrait, PaginatorTrait};
use service::meters::Replacement;
use service::register::sign_up::SignedUp;
use service::testing::photos::jpeg;
use service::testing::{TestContext, new_consumer};
use tests::{Page, PanelClient};

/// A controller logged in on a phone, and plot 3's water meter (100 m³ at installation).
struct Phone {
    t: TestContext,
    client: PanelClient,
    water: SignedUp,
}

/// One queued reading as app.js sends it.
struct Queued<'a> {
    key: &'a str,
    values: &'a [&'a str],
    taken_at: String,
    confirmed: bool,
    /// The photo the server answered it has, sent instead of the picture.
    photo_id: Option<i64>,
}

impl Phone {
    async fn start() -> Phone {
        let t = TestContext::new().await;
        t.standard_tariffs().await;
        let water = t.sign("3", new_consumer("Иванов", None), "В-3", Service::Water, TariffPlan::Single, &[100]).await;
        let client = PanelClient::staff(&t, "kontroler", Role::Controller).await;
        Phone { t, client, water }
    }

    fn now(&self) -> DateTime<Utc> {
        self.t.ctx.now()
    }

    fn queued<'a>(&self, key: &'a str, values: &'a [&'a str]) -> Queued<'a> {
        let taken_at = (self.now() - Duration::hours(2)).to_rfc3339();
        Queued { key, values, taken_at, confirmed: false, photo_id: None }
    }

    async fn send(&self, meter_id: i64, queued: &Queued<'_>) -> Page {
        let mut form = TestForm::new().text("key", queued.key);
        for value in queued.values {
            form = form.text("value", *value);
        }
        form = form.text("seal", "yes").text("comment", "").text("taken_at", queued.taken_at.clone());
        if queued.confirmed {
            form = form.text("confirmed", "true");
        }
        form = match queued.photo_id {
            Some(id) => form.text("photo_id", id.to_string()),
            None => form.field(
                TestFormField::bytes(jpeg(640, 480)).name("photo").filename("meter.jpg").content_type("image/jpeg"),
            ),
        };
        let path = format!("/m/meters/{meter_id}/reading");
        let page = self.client.post_multipart_as_script(&path, form).await;
        assert_eq!(page.headers[header::CONTENT_TYPE], "application/json; charset=utf-8", "{}", page.body);
        page
    }

    async fn readings(&self) -> Vec<reading::Model> {
        reading::Entity::find().all(self.t.ctx.db.conn()).await.expect("readings")
    }

    async fn photo_count(&self) -> u64 {
        photo::Entity::find().count(self.t.ctx.db.conn()).await.expect("photos")
    }
}

fn assert_answer(page: &Page, status: StatusCode, outcome: &str, message: &str) {
    assert_eq!(page.status, status, "{}", page.body);
    let answer = page.json();
    assert_eq!(answer["outcome"], outcome, "{answer}");
    let said = answer["message"].as_str().expect("a message");
    assert!(said.contains(message), "expected «{message}» in «{said}»");
}

#[tokio::test]
async fn a_queued_reading_is_stored_once_at_the_time_it_was_taken() {
    let phone = Phone::start().await;
    let session = phone.client.get("/m/session").await;
    session.assert_ok();
    assert_eq!(session.json()["csrf_token"].as_str(), phone.client.csrf().as_deref(), "the session's token");

    let first = phone.queued("0b9e5a0e-4c59-4a57-9d3f-5a4cf1e1c001", &["112,5"]);
    let page = phone.send(phone.water.meter_id, &first).await;
    assert_answer(&page, StatusCode::OK, "stored", "Сохранено: Вода, счётчик SN-В-3 (участок 3) — 112,5 м³.");
    assert_eq!(page.json()["duplicate"], false);
    let reading_id = page.json()["reading_id"].as_i64().expect("the reading's id");

    let [saved] = phone.readings().await.try_into().expect("one reading");
    assert_eq!((saved.id, saved.values()), (reading_id, vec![meter_value!(112_500)]));
    assert_eq!(saved.taken_at, phone.now() - Duration::hours(2), "dated when taken, not when sent");
    assert_eq!((saved.source, saved.status), (ReadingSource::ControllerWeb, ReadingStatus::Accepted));
    assert!(saved.photo_id.is_some(), "with its photo");

    // The answer was lost on the way: the phone sends the same item again, after another
    // reading of the meter was stored meanwhile. It is the same reading, not a second one, and
    // not refused as lower than the later one.
    let later = phone.queued("0b9e5a0e-4c59-4a57-9d3f-5a4cf1e1c002", &["120"]);
    assert_answer(&phone.send(phone.water.meter_id, &later).await, StatusCode::OK, "stored", "120 м³");
    let replay = phone.send(phone.water.meter_id, &first).await;
    assert_answer(&replay, StatusCode::OK, "stored", "112,5 м³");
    assert_eq!(
        (replay.json()["duplicate"].as_bool(), replay.json()["reading_id"].as_i64()),
        (Some(true), Some(reading_id))
    );
    assert_eq!(phone.readings().await.len(), 2);
    assert_eq!(phone.photo_count().await, 1, "one photo: the same bytes each time, stored by content");
}

#[tokio::test]
async fn a_refused_reading_comes_back_with_its_message_and_leaves_nothing() {
    let phone = Phone::start().await;
    let lower = phone.queued("k-lower", &["99"]);
    let page = phone.send(phone.water.meter_id, &lower).await;
    assert_answer(&page, StatusCode::UNPROCESSABLE_ENTITY, "refused", "Показание (общая) 99 меньше предыдущего (100).");

    let mut stale = phone.queued("k-stale", &["101"]);
    stale.taken_at = (phone.now() - Duration::days(8)).to_rfc3339();
    let page = phone.send(phone.water.meter_id, &stale).await;
    assert_answer(&page, StatusCode::UNPROCESSABLE_ENTITY, "refused", "Показание снято 8 дн. назад");

    let mut ahead = phone.queued("k-ahead", &["101"]);
    ahead.taken_at = (phone.now() + Duration::hours(1)).to_rfc3339();
    let page = phone.send(phone.water.meter_id, &ahead).await;
    assert_answer(&page, StatusCode::UNPROCESSABLE_ENTITY, "refused", "позже, чем сейчас");

    let mut garbled = phone.queued("k-garbled", &["101"]);
    garbled.taken_at = "вчера вечером".into();
    let page = phone.send(phone.water.meter_id, &garbled).await;
    assert_answer(&page, StatusCode::UNPROCESSABLE_ENTITY, "refused", "«вчера вечером» не читается");

    let page = phone.send(999_999, &phone.queued("k-gone", &["101"])).await;
    assert_answer(&page, StatusCode::UNPROCESSABLE_ENTITY, "refused", "Счётчик не найден.");

    assert!(phone.readings().await.is_empty());
    assert_eq!(phone.photo_count().await, 0, "values and time are checked before the photo is stored");
}

#[tokio::test]
async fn a_meter_replaced_meanwhile_refuses_new_queued_readings_and_knows_stored_ones() {
    let phone = Phone::start().await;
    let admin = phone.t.staff("boss", Role::Admin).await;
    let sent = phone.queued("k-before", &["105"]);
    let stored = phone.send(phone.water.meter_id, &sent).await.json()["reading_id"].as_i64().expect("stored");
    let replacement = Replacement {
        meter_id: phone.water.meter_id,
        final_values: vec![meter_value!(110_000)],
        final_taken_on: phone.now().date_naive(),
        new_serial: "SN-В-3-новый".into(),
        new_initial_values: vec![meter_value!(0)],
        new_seal_number: None,
        new_verification_due: None,
        reason: "Разбит корпус".into(),
    };
    service::meters::replace(&phone.t.ctx, replacement, admin.id).await.expect("replaced");
    let before = phone.readings().await.len();

    let page = phone.send(phone.water.meter_id, &phone.queued("k-old-meter", &["112"])).await;
    assert_answer(
        &page,
        StatusCode::UNPROCESSABLE_ENTITY,
        "refused",
        "Счётчик снят; показания по нему не принимаются.",
    );
    assert_eq!(phone.readings().await.len(), before, "nothing stored on the removed meter");
    // Sent before the replacement, its answer lost: still the same reading, not a refusal.
    let replay = phone.send(phone.water.meter_id, &sent).await;
    assert_answer(&replay, StatusCode::OK, "stored", "уже было сохранено");
    assert_eq!(
        (replay.json()["reading_id"].as_i64(), replay.json()["duplicate"].as_bool()),
        (Some(stored), Some(true))
    );
}

#[tokio::test]
async fn an_unusual_jump_waits_for_the_controllers_confirmation_under_the_same_key() {
    let phone = Phone::start().await;
    let mut jump = phone.queued("k-jump", &["1000"]);
    let page = phone.send(phone.water.meter_id, &jump).await;
    assert_answer(&page, StatusCode::CONFLICT, "confirm", "намного больше обычного");
    assert!(phone.readings().await.is_empty());
    let answer: serde_json::Value = serde_json::from_str(&page.body).unwrap();
    let photo_id = answer["photo_id"].as_i64().expect("the stored photo named in the answer");

    // Confirmed, the photo is named rather than sent again.
    jump.confirmed = true;
    jump.photo_id = Some(photo_id);
    assert_answer(&phone.send(phone.water.meter_id, &jump).await, StatusCode::OK, "stored", "на проверку");
    assert_answer(&phone.send(phone.water.meter_id, &jump).await, StatusCode::OK, "stored", "1000 м³");
    let [saved] = phone.readings().await.try_into().expect("one reading");
    assert_eq!(saved.status, ReadingStatus::Flagged);
    assert_eq!(saved.photo_id, Some(photo_id));
    assert_eq!(phone.photo_count().await, 1);
}

#[tokio::test]
async fn the_session_for_the_queue_needs_a_login_and_the_app_files_do_not() {
    let t = TestContext::new().await;
    let anonymous = PanelClient::new(&t.ctx);
    let page = anonymous.get("/m/session").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), Some("/login?next=%2Fm%2Fsession"));

    let mut etag = None;
    for (path, content_type, says) in [
        ("/m/app.js", "text/javascript; charset=utf-8", "crypto.randomUUID()"),
        ("/m/sw.js", "text/javascript; charset=utf-8", "caches.open"),
        ("/m/manifest.webmanifest", "application/manifest+json", "\"display\": \"standalone\""),
        ("/m/icon.svg", "image/svg+xml", "<svg"),
    ] {
        let page = anonymous.get(path).await;
        page.assert_ok().assert_contains(says);
        assert_eq!(page.headers[header::CONTENT_TYPE], content_type, "{path}");
        assert_eq!(page.headers[header::CACHE_CONTROL], "no-cache", "{path}: asked for each time, mostly a 304");
        let tag = page.headers[header::ETAG].to_str().unwrap().to_owned();
        assert_eq!(etag.get_or_insert_with(|| tag.clone()), &tag, "one version for all the files");
        let again = anonymous.get_with(path, &[(header::IF_NONE_MATCH, &tag)]).await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{path}");
        assert!(again.bytes.is_empty());
    }
    // The service worker names its cache after the version, so a new version replaces it.
    let version = etag.expect("a version").trim_matches('"').to_owned();
    anonymous
        .get("/m/sw.js")
        .await
        .assert_contains(&format!("const VERSION = '{version}'"))
        .assert_lacks("__VERSION__");
    let manifest: serde_json::Value =
        serde_json::from_slice(&anonymous.get("/m/manifest.webmanifest").await.bytes).unwrap();
    assert_eq!((manifest["start_url"].as_str(), manifest["scope"].as_str()), (Some("/m/"), Some("/m/")));
}

#[tokio::test]
async fn the_mobile_pages_may_run_their_own_script_and_nothing_else() {
    let t = TestContext::new().await;
    let controller = PanelClient::staff(&t, "kontroler", Role::Controller).await;
    let page = controller.get("/m/").await;
    page.assert_ok()
        .assert_contains(r#"<script src="/m/app.js" defer"#)
        .assert_contains(r#"<link rel="manifest" href="/m/manifest.webmanifest">"#);
    let policy = page.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    for allowed in ["script-src 'self';", "worker-src 'self';", "connect-src 'self';", "manifest-src 'self';"] {
        assert!(policy.contains(allowed), "{allowed} in {policy}");
    }
    assert!(!policy.contains("script-src 'unsafe"), "{policy}");
    // The office keeps its policy without scripts, `/meters` included (it starts with `/m`).
    let admin = PanelClient::staff(&t, "boss", Role::Admin).await;
    for path in ["/meters", "/"] {
        let policy = admin.get(path).await.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap().to_owned();
        assert!(!policy.contains("script-src"), "{path}: {policy}");
    }
}
