//! The controllers' mobile form under `/m` and photo serving, through the real panel app on a
//! temporary SQLite file.

use std::io::Cursor;

use chrono::{TimeZone, Utc};
use domain::{ReadingSource, ReadingStatus, Role, Service, TariffPlan, meter_value};
use entities::{photo, reading, staff};
use image::ImageFormat;
use poem::http::{StatusCode, header};
use poem::test::{TestForm, TestFormField};
use sea_orm::{EntityTrait, PaginatorTrait};
use service::audit::Actor;
use service::readings;
use service::readings::{Submission, SubmitError};
use service::register::changes;
use service::register::sign_up::SignedUp;
use service::testing::photos::jpeg;
use service::testing::{TestContext, new_consumer};
use tests::{Page, PanelClient};

/// Plots 3 (water), 7 (day/night electricity) and 12 (water) with a controller logged in.
struct Walk {
    t: TestContext,
    client: PanelClient,
    controller: staff::Model,
    water: SignedUp,
    power: SignedUp,
    far: SignedUp,
}

impl Walk {
    async fn start() -> Walk {
        let t = TestContext::new().await;
        t.standard_tariffs().await;
        let controller = t.staff("kontroler", Role::Controller).await;
        // Signed out of route order: the walk must still go 3, 7, 12.
        let far = t.sign("12", new_consumer("Сидоров", None), "В-12", Service::Water, TariffPlan::Single, &[50]).await;
        let water = t.sign("3", new_consumer("Иванов", None), "В-3", Service::Water, TariffPlan::Single, &[100]).await;
        let power = t
            .sign("7", new_consumer("Петрова", None), "Э-7", Service::Electricity, TariffPlan::DayNight, &[1000, 500])
            .await;
        let client = PanelClient::new(&t.ctx);
        client.login("kontroler", "kontroler-password").await;
        Walk { t, client, controller, water, power, far }
    }

    /// Opens the reading form of a meter and returns its idempotency key.
    async fn open_form(&self, meter_id: i64) -> String {
        let page = self.client.get(&format!("/m/meters/{meter_id}/reading")).await;
        page.assert_ok().assert_contains(r#"capture="environment""#);
        page.input_value("key").expect("the form carries an idempotency key")
    }

    async fn post(&self, meter_id: i64, form: TestForm) -> Page {
        self.client.post_multipart(&format!("/m/meters/{meter_id}/reading"), form).await
    }

    /// Reads a meter through a fresh form and returns the page the form leads to.
    async fn read_meter(&self, meter_id: i64, values: &[&str]) -> Page {
        let key = self.open_form(meter_id).await;
        let page =
            self.post(meter_id, reading_form(&self.client, &key, values, Some("yes"), Some(jpeg(640, 480)))).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        self.client.get(page.location().expect("a redirect")).await
    }

    /// Posts a fresh form and checks that it comes back refused with `message`, the input kept,
    /// and nothing stored.
    async fn assert_refused(
        &self,
        meter_id: i64,
        values: &[&str],
        seal: Option<&str>,
        photo: Option<Vec<u8>>,
        message: &str,
    ) {
        let key = self.open_form(meter_id).await;
        let page = self.post(meter_id, reading_form(&self.client, &key, values, seal, photo)).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{message}: {}", page.body);
        page.assert_contains(message)
            .assert_contains("Фото прикрепите заново")
            .assert_contains(&format!(r#"value="{}""#, values[0]))
            .assert_contains("Собака у калитки")
            .assert_contains(r#"enctype="multipart/form-data""#);
        if seal == Some("yes") {
            page.assert_contains(r#"value="yes" checked"#);
        }
        assert_eq!(page.input_value("key").as_deref(), Some(key.as_str()), "{message}: the key is kept");
        assert!(self.readings().await.is_empty(), "{message}: no reading stored");
        assert_eq!(self.photo_count().await, 0, "{message}: no photo stored");
    }

    async fn readings(&self) -> Vec<reading::Model> {
        reading::Entity::find().all(self.t.ctx.db.conn()).await.expect("readings")
    }

    async fn photo_count(&self) -> u64 {
        photo::Entity::find().count(self.t.ctx.db.conn()).await.expect("photos")
    }
}

/// The reading form as a browser sends it; without a photo the file part is empty, as browsers
/// send an empty file input.
fn reading_form(
    client: &PanelClient,
    key: &str,
    values: &[&str],
    seal: Option<&str>,
    photo: Option<Vec<u8>>,
) -> TestForm {
    let mut form = client.multipart().text("key", key);
    for value in values {
        form = form.text("value", *value);
    }
    if let Some(seal) = seal {
        form = form.text("seal", seal);
    }
    let (bytes, file_name) = match photo {
        Some(bytes) => (bytes, "meter.jpg"),
        None => (Vec::new(), ""),
    };
    form.text("comment", "Собака у калитки")
        .field(TestFormField::bytes(bytes).name("photo").filename(file_name).content_type("image/jpeg"))
}

#[tokio::test]
async fn every_mobile_route_needs_a_login() {
    let t = TestContext::new().await;
    let client = PanelClient::new(&t.ctx);
    for path in ["/m", "/m/unread", "/m/plots/1", "/m/meters/1/reading", "/photos/1", "/photos/1/thumb"] {
        let page = client.get(path).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(page.location(), Some(format!("/login?next={}", panel::auth::urlencode(path)).as_str()));
    }
    // A form post with a valid CSRF token (from the login page) still needs a login.
    client.get("/login").await.assert_ok();
    let page = client.post_multipart("/m/meters/1/reading", reading_form(&client, "k", &["1"], None, None)).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), Some("/login?next=%2Fm%2Fmeters%2F1%2Freading"));
}

#[tokio::test]
async fn only_controllers_and_admins_reach_the_mobile_form() {
    let walk = Walk::start().await;
    walk.t.staff("buh", Role::Accountant).await;
    walk.t.staff("boss", Role::Admin).await;
    let meter = walk.water.meter_id;
    let paths = [
        "/m".to_owned(),
        "/m/unread".into(),
        format!("/m/plots/{}", walk.water.plot_id),
        format!("/m/meters/{meter}/reading"),
    ];

    let accountant = PanelClient::new(&walk.t.ctx);
    accountant.login("buh", "buh-password").await;
    // A page with the session's CSRF token, so that the post below is refused for the role.
    accountant.get("/account").await.assert_ok();
    for path in &paths {
        let page = accountant.get(path).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}");
        page.assert_contains("Недостаточно прав");
    }
    let page = accountant
        .post_multipart(&paths[3], reading_form(&accountant, "k", &["101"], Some("yes"), Some(jpeg(400, 300))))
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);

    let admin = PanelClient::new(&walk.t.ctx);
    admin.login("boss", "boss-password").await;
    for path in &paths {
        admin.get(path).await.assert_ok();
        walk.client.get(path).await.assert_ok();
    }
    assert!(walk.readings().await.is_empty());
    // The phone frame offers the walk, not the office.
    let home = walk.client.get("/m").await;
    for office in ["/payments", "/staff", "/tariffs"] {
        assert!(!home.body.contains(office), "{office} on the controller's screen");
    }
}

#[tokio::test]
async fn plots_are_found_by_number_and_listed_in_walking_order() {
    let walk = Walk::start().await;
    let home = walk.client.get("/m").await;
    home.assert_ok().assert_contains("Не сняты за март 2026: 3");

    let unread = walk.client.get("/m/unread").await;
    let positions: Vec<usize> = [("3", &walk.water), ("7", &walk.power), ("12", &walk.far)]
        .iter()
        .map(|(number, signed)| {
            let link = format!(r#"href="/m/plots/{}">{number}<"#, signed.plot_id);
            unread.body.find(&link).unwrap_or_else(|| panic!("no link to plot {number} in:\n{}", unread.body))
        })
        .collect();
    assert!(positions.is_sorted(), "walking order 3, 7, 12: {positions:?}");

    let found = walk.client.get("/m?plot=+12+").await;
    assert_eq!(found.status, StatusCode::SEE_OTHER);
    assert_eq!(found.location(), Some(format!("/m/plots/{}", walk.far.plot_id).as_str()));

    let missing = walk.client.get("/m?plot=99").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    missing.assert_contains("Участка 99 нет в реестре.").assert_contains(r#"value="99""#);
    let junk = walk.client.get("/m?plot=1%3B+DROP").await;
    assert_eq!(junk.status, StatusCode::UNPROCESSABLE_ENTITY);
    junk.assert_contains("не номер участка");
}

#[tokio::test]
async fn the_plot_page_shows_debt_meters_and_the_reference_photo() {
    let walk = Walk::start().await;
    let ctx = &walk.t.ctx;
    // February's reading: 10 m³ at 40 ₽ owed.
    let february = Submission {
        taken_at: Some(Utc.with_ymd_and_hms(2026, 2, 10, 9, 0, 0).unwrap()),
        ..Submission::new(walk.water.meter_id, vec![meter_value!(110_000)], ReadingSource::Panel, Actor::System)
    };
    readings::submit(ctx, february).await.expect("February's reading");
    let reference = service::meters::photos::store(ctx, jpeg(640, 480)).await.expect("a reference photo");
    changes::add_meter_photo(ctx, walk.water.meter_id, reference.id, Actor::System).await.expect("filed");

    let page = walk.client.get(&format!("/m/plots/{}", walk.water.plot_id)).await;
    page.assert_ok()
        .assert_contains("Участок 3")
        .assert_contains("Задолженность 400,00 ₽")
        .assert_contains("Вода, счётчик SN-В-3")
        .assert_contains("Иванов")
        .assert_contains("Не снят за март 2026")
        .assert_contains("Последнее принятое: 110 (февраль 2026)")
        .assert_contains(&format!(r#"src="/photos/{}/thumb""#, reference.id))
        .assert_contains(&format!(r#"href="/m/meters/{}/reading""#, walk.water.meter_id))
        .assert_contains("Следующий участок: 7");

    let two_zones = walk.client.get(&format!("/m/plots/{}", walk.power.plot_id)).await;
    two_zones.assert_ok().assert_contains("Начальное: день 1000, ночь 500").assert_contains("Задолженности нет");
    let form = walk.client.get(&format!("/m/meters/{}/reading", walk.power.meter_id)).await;
    form.assert_contains("День, кВт·ч").assert_contains("Ночь, кВт·ч").assert_contains(r#"inputmode="decimal""#);
    assert_eq!(walk.client.get("/m/plots/9999").await.status, StatusCode::NOT_FOUND);
    assert_eq!(walk.client.get("/m/meters/9999/reading").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_reading_is_saved_with_its_author_seal_and_photo_and_the_next_plot_is_offered() {
    let walk = Walk::start().await;
    let key = walk.open_form(walk.water.meter_id).await;
    let page = walk
        .post(walk.water.meter_id, reading_form(&walk.client, &key, &["112,5"], Some("no"), Some(jpeg(800, 600))))
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let plot_page = format!("/m/plots/{}", walk.water.plot_id);
    assert_eq!(page.location(), Some(plot_page.as_str()));

    let page = walk.client.get(&plot_page).await;
    page.assert_ok()
        .assert_contains("Сохранено: Вода, счётчик SN-В-3 (участок 3) — 112,5 м³.")
        .assert_contains("Снят за март 2026: 112,5 м³")
        .assert_contains("Задолженность 500,00 ₽")
        .assert_contains(&format!(r#"href="/m/plots/{}">Следующий участок: 7<"#, walk.power.plot_id));

    let [saved] = walk.readings().await.try_into().expect("one reading");
    assert_eq!(saved.meter_id, walk.water.meter_id);
    assert_eq!(saved.values(), [meter_value!(112_500)]);
    assert_eq!(saved.source, ReadingSource::ControllerWeb);
    assert_eq!(saved.staff_id, Some(walk.controller.id));
    assert_eq!(saved.seal_intact, Some(false));
    assert_eq!(saved.comment.as_deref(), Some("Собака у калитки"));
    assert_eq!(saved.status, ReadingStatus::Accepted);
    let photo_id = saved.photo_id.expect("the photo is attached");
    let file = service::meters::photos::file(&walk.t.ctx, photo_id, false).await.unwrap().expect("a stored photo");
    assert!(file.starts_with(&walk.t.ctx.settings.photo_dir) && file.is_file(), "{}", file.display());

    // Two registers: day and night, in that order.
    let page = walk.read_meter(walk.power.meter_id, &["1100", "550,25"]).await;
    page.assert_contains("день 1100, ночь 550,25 кВт·ч").assert_contains("Следующий участок: 12");
}

#[tokio::test]
async fn the_walk_goes_round_the_route_until_every_plot_is_read() {
    let walk = Walk::start().await;
    // From the last plot on the route back to the first one not read.
    walk.read_meter(walk.far.meter_id, &["55"]).await.assert_contains("Следующий участок: 3");
    walk.read_meter(walk.water.meter_id, &["105"]).await.assert_contains("Следующий участок: 7");
    let page = walk.read_meter(walk.power.meter_id, &["1010", "505"]).await;
    page.assert_contains("Все участки за март 2026 обойдены.");
    assert!(!page.body.contains("Следующий участок"));
    walk.client.get("/m/unread").await.assert_contains("Все участки обойдены.");
    walk.client.get("/m").await.assert_contains("Не сняты за март 2026: 0");
}

#[tokio::test]
async fn refused_forms_come_back_with_the_message_and_the_input_and_store_nothing() {
    let walk = Walk::start().await;
    let meter = walk.water.meter_id;
    let truncated = {
        let whole = jpeg(800, 600);
        whole[..whole.len() / 2].to_vec()
    };
    // A real JPEG whose frame header claims 60000×60000 pixels.
    let pixel_bomb = {
        let mut bytes = jpeg(300, 300);
        let sof = bytes.windows(2).position(|marker| marker == [0xFF, 0xC0]).expect("a baseline frame header");
        bytes[sof + 5..sof + 9].copy_from_slice(&[0xEA, 0x60, 0xEA, 0x60]);
        bytes
    };
    // A 16-bit RGBA PNG of a few hundred kilobytes: 7.8 Mp, within the pixel limit, but 86 MB
    // once decoded (8 bytes a pixel, and 3 for the RGB copy).
    let wide_png = {
        let pixels =
            image::ImageBuffer::from_fn(2800, 2800, |x, y| image::Rgba([x as u16 * 23, y as u16 * 23, 0, 65_535]));
        let mut bytes = Cursor::new(Vec::new());
        image::DynamicImage::ImageRgba16(pixels).write_to(&mut bytes, ImageFormat::Png).expect("encode a PNG");
        bytes.into_inner()
    };
    let good = || Some(jpeg(400, 300));
    walk.assert_refused(meter, &["12а"], Some("yes"), good(), "«12а» — не число.").await;
    walk.assert_refused(meter, &["99"], Some("yes"), good(), "меньше предыдущего (100)").await;
    walk.assert_refused(meter, &["101", "102"], Some("yes"), good(), "У этого счётчика 1 шкал(ы), а передано 2.").await;
    walk.assert_refused(meter, &["101"], None, good(), &SubmitError::SealNotStated.to_string()).await;
    walk.assert_refused(meter, &["101"], Some("yes"), None, &SubmitError::NoPhoto.to_string()).await;
    let pdf = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n".to_vec();
    walk.assert_refused(meter, &["101"], Some("yes"), Some(pdf), "Это не фотография.").await;
    let too_big = vec![0xFF; 16 << 20];
    walk.assert_refused(meter, &["101"], Some("yes"), Some(too_big), "Фото слишком большое: не больше 15 МБ.").await;
    let message = "Снимок слишком большой по размеру (3600 Мп).";
    walk.assert_refused(meter, &["101"], Some("yes"), Some(pixel_bomb), message).await;
    let message = "Снимок слишком большой для обработки (8 Мп в таком формате).";
    walk.assert_refused(meter, &["101"], Some("yes"), Some(wide_png), message).await;
    walk.assert_refused(meter, &["101"], Some("yes"), Some(jpeg(120, 90)), "Снимок слишком маленький").await;
    walk.assert_refused(meter, &["101"], Some("yes"), Some(truncated), "Файл повреждён или обрезан.").await;
    let photo_dir = &walk.t.ctx.settings.photo_dir;
    assert!(!photo_dir.exists() || std::fs::read_dir(photo_dir).unwrap().next().is_none(), "no photo files");

    // A two-register meter needs both.
    walk.assert_refused(
        walk.power.meter_id,
        &["1100"],
        Some("yes"),
        good(),
        "У этого счётчика 2 шкал(ы), а передано 1.",
    )
    .await;
}

#[tokio::test]
async fn a_two_million_character_comment_is_refused_and_nothing_is_stored() {
    let walk = Walk::start().await;
    let meter = walk.water.meter_id;
    let key = walk.open_form(meter).await;
    let form = walk
        .client
        .multipart()
        .text("key", key)
        .text("value", "101")
        .text("seal", "yes")
        .text("comment", "ж".repeat(2_000_000))
        .field(TestFormField::bytes(jpeg(400, 300)).name("photo").filename("meter.jpg"));
    let page = walk.post(meter, form).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    page.assert_contains("Комментарий: не длиннее 500 символов, а здесь 2000000.");
    assert!(walk.readings().await.is_empty());
    assert_eq!(walk.photo_count().await, 0, "refused before the photo is stored");
}

#[tokio::test]
async fn a_suspicious_jump_is_stored_flagged_only_after_confirming() {
    let walk = Walk::start().await;
    let meter = walk.water.meter_id;
    let key = walk.open_form(meter).await;
    // 700 m³ since January is over the cap of 300 m³ a month.
    let page = walk.post(meter, reading_form(&walk.client, &key, &["800"], Some("yes"), Some(jpeg(800, 600)))).await;
    page.assert_ok()
        .assert_contains("намного больше обычного")
        .assert_contains("Подтвердить")
        .assert_contains("Исправить");
    assert!(walk.readings().await.is_empty(), "nothing recorded before confirming");
    let photo_id: i64 = page.input_value("photo_id").expect("the photo is kept").parse().unwrap();
    assert_eq!(walk.photo_count().await, 1);
    page.assert_contains(&format!(r#"src="/photos/{photo_id}""#));

    // «Исправить»: back to the form with the values and the photo kept, still nothing recorded.
    let carried = |extra: (&str, &str)| {
        walk.client
            .multipart()
            .text("key", key.as_str())
            .text("photo_id", photo_id.to_string())
            .text("value", "800")
            .text("seal", "yes")
            .text("comment", "Собака у калитки")
            .text(extra.0, extra.1)
    };
    let page = walk.post(meter, carried(("edit", "true"))).await;
    page.assert_ok().assert_contains(r#"value="800""#).assert_contains(&format!(r#"src="/photos/{photo_id}/thumb""#));
    assert!(!page.body.contains("Фото прикрепите заново"));
    assert!(walk.readings().await.is_empty());

    // «Подтвердить»: recorded, held for review, with the photo uploaded the first time.
    let page = walk.post(meter, carried(("confirmed", "true"))).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let [saved] = walk.readings().await.try_into().expect("one reading");
    assert_eq!(saved.status, ReadingStatus::Flagged);
    assert_eq!(saved.photo_id, Some(photo_id));
    assert_eq!(saved.values(), [meter_value!(800_000)]);
    let page = walk.client.get(page.location().unwrap()).await;
    page.assert_contains("ушло на проверку администратору").assert_contains("На проверке: 800 м³");

    // A forged photo id is refused.
    let key = walk.open_form(walk.far.meter_id).await;
    let form =
        walk.client.multipart().text("key", key).text("photo_id", "987654").text("value", "51").text("seal", "yes");
    let page = walk.post(walk.far.meter_id, form).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    page.assert_contains("Загруженное фото не найдено.");
    assert_eq!(walk.readings().await.len(), 1);
}

/// The idempotency key of a fresh reading form of `meter_id`, opened by `client`.
async fn form_key(client: &PanelClient, meter_id: i64) -> String {
    client.get(&format!("/m/meters/{meter_id}/reading")).await.input_value("key").expect("a key")
}

#[tokio::test]
async fn a_form_attaches_only_the_photo_it_uploaded_itself() {
    let walk = Walk::start().await;
    let (water, far) = (walk.water.meter_id, walk.far.meter_id);
    // The water meter's form uploads a photo and stops at the warning about a jump.
    let key = walk.open_form(water).await;
    let page = walk.post(water, reading_form(&walk.client, &key, &["800"], Some("yes"), Some(jpeg(800, 600)))).await;
    page.assert_ok().assert_contains("Подтвердить");
    let uploaded = page.input_value("photo_id").expect("the photo is kept");
    let reference = service::meters::photos::store(&walk.t.ctx, jpeg(640, 480)).await.expect("a reference photo");
    changes::add_meter_photo(&walk.t.ctx, far, reference.id, Actor::System).await.expect("filed");

    let naming = |client: &PanelClient, key: String, photo_id: &str, value: &str| {
        client
            .multipart()
            .text("key", key)
            .text("photo_id", photo_id.to_owned())
            .text("value", value.to_owned())
            .text("seal", "yes")
    };
    let controller = PanelClient::new(&walk.t.ctx);
    walk.t.staff("drugoy", Role::Controller).await;
    controller.login("drugoy", "drugoy-password").await;
    let attempts = [
        // That photo on another meter's form,
        (&walk.client, far, naming(&walk.client, walk.open_form(far).await, &uploaded, "51")),
        // on a new form for the same meter,
        (&walk.client, water, naming(&walk.client, walk.open_form(water).await, &uploaded, "800")),
        // on the same meter by another controller, even with the first form's key;
        (&controller, water, naming(&controller, form_key(&controller, water).await, &uploaded, "800")),
        (&controller, water, naming(&controller, key.clone(), &uploaded, "800")),
        // and a photo from the far meter's inventory.
        (&walk.client, far, naming(&walk.client, walk.open_form(far).await, &reference.id.to_string(), "51")),
    ];
    for (client, meter, form) in attempts {
        let page = client.post_multipart(&format!("/m/meters/{meter}/reading"), form).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", page.body);
        page.assert_contains("Загруженное фото не найдено.");
    }
    assert!(walk.readings().await.is_empty());

    // The form that uploaded it confirms with it, and confirming again (the browser's back
    // button) records nothing more.
    for _ in 0..2 {
        let form = naming(&walk.client, key.clone(), &uploaded, "800").text("confirmed", "true");
        let page = walk.post(water, form).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    }
    let [saved] = walk.readings().await.try_into().expect("one reading");
    assert_eq!(saved.photo_id.map(|id| id.to_string()), Some(uploaded));
}

#[tokio::test]
async fn the_same_idempotency_key_stores_one_reading() {
    let walk = Walk::start().await;
    let meter = walk.water.meter_id;
    let key = walk.open_form(meter).await;
    let first = walk.post(meter, reading_form(&walk.client, &key, &["105"], Some("yes"), Some(jpeg(400, 300)))).await;
    let second = walk.post(meter, reading_form(&walk.client, &key, &["105"], Some("yes"), Some(jpeg(400, 300)))).await;
    for page in [&first, &second] {
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        assert_eq!(page.location(), Some(format!("/m/plots/{}", walk.water.plot_id).as_str()));
    }
    walk.client
        .get(second.location().unwrap())
        .await
        .assert_contains("Сохранено: Вода, счётчик SN-В-3 (участок 3) — 105 м³.");
    assert_eq!(walk.readings().await.len(), 1);

    // A new form is a new reading.
    let key = walk.open_form(meter).await;
    let third = walk.post(meter, reading_form(&walk.client, &key, &["106"], Some("yes"), Some(jpeg(400, 300)))).await;
    assert_eq!(third.status, StatusCode::SEE_OTHER);
    assert_eq!(walk.readings().await.len(), 2);

    // That form's key sent for another meter is a reading of that meter, not a repeat.
    let far = walk.far.meter_id;
    let page = walk.post(far, reading_form(&walk.client, &key, &["51"], Some("yes"), Some(jpeg(400, 300)))).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let readings = walk.readings().await;
    assert_eq!((readings.len(), readings.iter().filter(|r| r.meter_id == far).count()), (3, 1));

    // A form stripped of its key is refused rather than stored without protection.
    let page = walk.post(meter, reading_form(&walk.client, "", &["107"], Some("yes"), Some(jpeg(400, 300)))).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    page.assert_contains("Ключ повторной отправки (idempotency_key) — от 1 до 100");
    assert_eq!(walk.readings().await.len(), 3);
}

#[tokio::test]
async fn photos_are_served_to_any_staff_by_id_only() {
    let t = TestContext::new().await;
    t.staff("buh", Role::Accountant).await;
    let stored = service::meters::photos::store(&t.ctx, jpeg(800, 600)).await.expect("stored");
    let client = PanelClient::new(&t.ctx);
    client.login("buh", "buh-password").await;

    let full = client.get(&format!("/photos/{}", stored.id)).await;
    assert_eq!(full.status, StatusCode::OK);
    assert_eq!(full.headers[header::CONTENT_TYPE], "image/jpeg");
    assert!(full.headers[header::CACHE_CONTROL].to_str().unwrap().starts_with("private"));
    let file = service::meters::photos::file(&t.ctx, stored.id, false).await.unwrap().expect("a path");
    assert_eq!(full.bytes, std::fs::read(file).expect("the stored file"));
    let thumb = client.get(&format!("/photos/{}/thumb", stored.id)).await;
    assert_eq!(thumb.status, StatusCode::OK);
    assert_eq!(thumb.headers[header::CONTENT_TYPE], "image/jpeg");

    assert_eq!(client.get("/photos/999").await.status, StatusCode::NOT_FOUND);
    for (path, refused) in [
        ("/photos/abc", &[StatusCode::BAD_REQUEST][..]),
        ("/photos/..%2F..%2Fetc%2Fpasswd", &[StatusCode::BAD_REQUEST, StatusCode::NOT_FOUND]),
        ("/photos/1/../../x", &[StatusCode::BAD_REQUEST, StatusCode::NOT_FOUND]),
        ("/photos/1/..%2F..%2F..%2Fetc%2Fpasswd", &[StatusCode::BAD_REQUEST, StatusCode::NOT_FOUND]),
    ] {
        let page = client.get(path).await;
        assert!(refused.contains(&page.status), "{path}: {}", page.status);
        assert!(!page.body.contains("root:"), "{path} served a system file");
    }
}
