//! A meter's life in the panel: replacement and rollover forms, seal reports from the mobile form
//! to the front page and back, and the meters due for verification.

use chrono::NaiveDate;
use domain::{MeterValue, Role, Service, TariffPlan, meter_value};
use entities::{meter, seal_event};
use poem::http::StatusCode;
use poem::test::TestFormField;
use sea_orm::{EntityTrait, QueryOrder};
use service::audit::Actor;
use service::register::changes;
use service::register::changes::MeterDetails;
use service::register::sign_up::SignedUp;
use service::testing::photos::jpeg;
use service::testing::{TestContext, new_consumer};
use tests::{Page, PanelClient, seed};

/// A water meter on plot 5 installed at 100 m³, read at 120 in February; the clock at 15.03.2026.
async fn water(t: &TestContext) -> SignedUp {
    t.standard_tariffs().await;
    let signed =
        t.sign("5", new_consumer("Козлевич А. Л.", None), "W-5", Service::Water, TariffPlan::Single, &[100]).await;
    seed::reading(&t.ctx, signed.meter_id, &[meter_value!(120_000)], "2026-02-20").await;
    signed
}

async fn meters(t: &TestContext) -> Vec<meter::Model> {
    meter::Entity::find().order_by_asc(meter::Column::Id).all(t.ctx.db.conn()).await.unwrap()
}

/// Follows a form's redirect to the page it leads to.
async fn follow(client: &PanelClient, page: &Page) -> Page {
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    client.get(page.location().expect("a redirect")).await
}

#[tokio::test]
async fn an_admin_replaces_a_meter_from_its_page() {
    let t = TestContext::new().await;
    let s = water(&t).await;
    let admin = PanelClient::staff(&t, "admin", Role::Admin).await;
    let path = format!("/meters/{}/replace", s.meter_id);
    admin.get(&format!("/meters/{}", s.meter_id)).await.assert_ok().assert_contains("Заменить счётчик");
    let form = |final_t1: &'static str, serial: &'static str| {
        [
            ("final_t1", final_t1),
            ("replaced_on", "2026-03-05"),
            ("serial", serial),
            ("initial_t1", "0"),
            ("seal_number", "P-2"),
            ("verification_due", "2032-03-01"),
            ("reason", "истёк срок поверки"),
        ]
    };

    let page = admin.post_form(&path, &form("119", "NEW-1")).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    page.assert_contains("Показание (общая) 119 меньше предыдущего (120).")
        .assert_contains(r#"value="119""#)
        .assert_contains(r#"value="NEW-1""#)
        .assert_contains(r#"value="истёк срок поверки""#)
        .assert_contains("<details open");
    let page = admin.post_form(&path, &form("сто", "NEW-1")).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    page.assert_contains("«сто» — не число").assert_contains("Исправьте ошибки в отмеченных полях.");
    let page = admin.post_form(&path, &form("150", " ")).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    page.assert_contains("Укажите заводской номер нового счётчика.").assert_contains(r#"value="150""#);
    let (reason, serial) = ("ж".repeat(2_000_000), "№".repeat(51));
    for (field, text, message) in [
        ("reason", &reason, "Причина: не длиннее 500 символов, а здесь 2000000."),
        ("serial", &serial, "Заводской номер счётчика: не длиннее 50 символов, а здесь 51."),
    ] {
        let fields =
            form("150", "NEW-1").map(|(name, value)| (name, if name == field { text.as_str() } else { value }));
        let page = admin.post_form(&path, &fields).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        page.assert_contains(message);
    }
    assert_eq!(meters(&t).await.len(), 1, "nothing changed");

    let page = follow(&admin, &admin.post_form(&path, &form("150", "NEW-1")).await).await;
    let [old, new] = meters(&t).await.try_into().expect("the old meter and the new one");
    let replaced_on = NaiveDate::from_ymd_opt(2026, 3, 5).unwrap();
    assert_eq!((old.removed_on, new.installed_on, new.serial.as_str()), (Some(replaced_on), replaced_on, "NEW-1"));
    page.assert_ok()
        .assert_contains("Счётчик № SN-W-5 снят, установлен № NEW-1.")
        .assert_contains("Счётчики по договору")
        .assert_contains(&format!(r#"<a href="/meters/{}">SN-W-5</a>"#, old.id))
        .assert_contains("NEW-1</a> (этот)");
    // The contract shows both meters, each with its readings; the removed one takes no more forms.
    admin
        .get(&format!("/contracts/{}", s.contract_id))
        .await
        .assert_ok()
        .assert_contains("Счётчик № NEW-1")
        .assert_contains("Счётчик № SN-W-5")
        .assert_contains("в работе")
        .assert_contains("05.03.2026");
    admin
        .get(&format!("/meters/{}", old.id))
        .await
        .assert_ok()
        .assert_contains("Снят")
        .assert_lacks("Заменить счётчик");

    let accountant = PanelClient::staff(&t, "buh", Role::Accountant).await;
    accountant.get(&format!("/meters/{}", new.id)).await.assert_ok().assert_lacks("Заменить счётчик");
    let refused = accountant.post_form(&format!("/meters/{}/replace", new.id), &form("0", "X")).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_admin_records_a_rollover_from_the_meter_page() {
    let t = TestContext::new().await;
    t.standard_tariffs().await;
    let s = t
        .sign("9", new_consumer("Паниковский М. С.", None), "E-9", Service::Electricity, TariffPlan::Single, &[99_950])
        .await;
    let admin = PanelClient::staff(&t, "admin", Role::Admin).await;
    let path = format!("/meters/{}/rollover", s.meter_id);
    let form = |digits: &'static str, value: &'static str| {
        [("digits", digits), ("rollover_t1", value), ("rollover_on", "2026-03-15")]
    };

    let page = admin.post_form(&path, &form("5", "99960")).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    page.assert_contains("это не переход через ноль")
        .assert_contains(r#"value="99960""#)
        .assert_contains(r#"value="5""#);
    let page = admin.post_form(&path, &form("пять", "30")).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    page.assert_contains("Укажите число цифр до запятой, например 5.").assert_contains(r#"value="30""#);
    assert_eq!(meters(&t).await.len(), 1, "nothing changed");

    let page = follow(&admin, &admin.post_form(&path, &form("5", "30")).await).await;
    page.assert_ok()
        .assert_contains("Переход через ноль записан: счётчик № SN-E-9 считает с нуля.")
        .assert_contains("Счётчики по договору")
        .assert_contains(r#"<td class="num">30</td>"#);
    let [old, new] = meters(&t).await.try_into().expect("two records of one meter");
    assert_eq!((old.serial.as_str(), new.serial.as_str()), ("SN-E-9", "SN-E-9"));
    assert_eq!(new.initial_values(), [MeterValue::ZERO]);
}

#[tokio::test]
async fn a_broken_seal_from_the_mobile_form_stays_on_the_front_page_until_resolved() {
    let t = TestContext::new().await;
    let s = water(&t).await;
    let controller = PanelClient::staff(&t, "kontroler", Role::Controller).await;
    let form_path = format!("/m/meters/{}/reading", s.meter_id);
    let key = controller.get(&form_path).await.assert_ok().input_value("key").expect("an idempotency key");
    let reading = controller
        .multipart()
        .text("key", key)
        .text("value", "125")
        .text("seal", "no")
        .text("comment", "Пломба сорвана")
        .field(TestFormField::bytes(jpeg(640, 480)).name("photo").filename("meter.jpg").content_type("image/jpeg"));
    let saved = controller.post_multipart(&form_path, reading).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let event = seal_event::Entity::find().one(t.ctx.db.conn()).await.unwrap().expect("a seal event");

    let admin = PanelClient::staff(&t, "admin", Role::Admin).await;
    admin
        .get("/")
        .await
        .assert_ok()
        .assert_contains("Нарушены пломбы")
        .assert_contains("SN-W-5")
        .assert_contains("Сотрудник kontroler")
        .assert_contains("Пломба сорвана")
        .assert_contains(&format!(r#"href="/meters/{}#seal-{}""#, s.meter_id, event.id));
    admin.get(&format!("/meters/{}", s.meter_id)).await.assert_contains(&format!(r#"id="seal-{}""#, event.id));

    let resolve = format!("/meters/{}/seal/resolve", s.meter_id);
    let event_id = event.id.to_string();
    let page =
        admin.post_form(&resolve, &[("event_id", &event_id), ("resolution", " "), ("seal_number", "P-77")]).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    page.assert_contains("Опишите, что сделано").assert_contains(r#"value="P-77""#);
    admin.get("/").await.assert_contains("Пломба сорвана");

    let fields = [("event_id", event_id.as_str()), ("resolution", "Опломбирован заново"), ("seal_number", "P-77")];
    let page = follow(&admin, &admin.post_form(&resolve, &fields).await).await;
    page.assert_ok()
        .assert_contains("Сообщение о пломбе закрыто.")
        .assert_contains("Опломбирован заново")
        .assert_contains("<td>P-77</td>")
        .assert_lacks("Закрыть сообщение");
    admin.get("/").await.assert_contains("Открытых сообщений нет.").assert_lacks("Пломба сорвана");
}

#[tokio::test]
async fn meters_due_for_verification_are_listed_overdue_first() {
    let t = TestContext::new().await;
    t.standard_tariffs().await;
    for (plot, due) in [("1", "2026-05-01"), ("2", "2026-03-01"), ("3", "2026-06-01")] {
        let number = format!("W-{plot}");
        let s = t.sign(plot, new_consumer(plot, None), &number, Service::Water, TariffPlan::Single, &[0]).await;
        let details = MeterDetails {
            serial: number.clone(),
            seal_number: None,
            seal_checked_on: None,
            verification_due: Some(due.parse().unwrap()),
        };
        changes::update_meter(&t.ctx, s.meter_id, details, Actor::System).await.unwrap();
    }
    let accountant = PanelClient::staff(&t, "buh", Role::Accountant).await;
    accountant.get("/").await.assert_contains(r#"<a href="/meters/verification">2</a>"#);
    let page = accountant.get("/meters/verification").await;
    page.assert_ok().assert_contains("01.03.2026 — просрочена").assert_contains("01.05.2026").assert_lacks("W-3<");
    let (overdue, soon) = (page.body.find(">W-2<").unwrap(), page.body.find(">W-1<").unwrap());
    assert!(overdue < soon, "the overdue meter comes first");
}
