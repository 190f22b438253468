//! The register in the panel: signing contracts, editing plots, consumers, contracts and meters,
//! photos, searching, and what hostile input does (nothing), through the real app.

use domain::{Role, Service, TariffPlan};
use entities::{audit_log, consumer, contract, holding, meter, meter_photo, plot};
use poem::http::StatusCode;
use poem::test::TestFormField;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use service::testing::{TestContext, new_consumer, office_reading};
use tests::{Page, PanelClient};

async fn admin(t: &TestContext) -> PanelClient {
    PanelClient::staff(t, "admin", Role::Admin).await
}

async fn count<E: EntityTrait>(t: &TestContext) -> u64
where
    E::Model: Sync,
{
    E::find().count(t.ctx.db.conn()).await.unwrap()
}

async fn audit_actions(t: &TestContext, entity: &str) -> Vec<(String, String)> {
    audit_log::Entity::find()
        .filter(audit_log::Column::Entity.eq(entity))
        .order_by_asc(audit_log::Column::Id)
        .all(t.ctx.db.conn())
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.action, e.details))
        .collect()
}

/// A filled-in sign-up form for a new consumer on plot 7.
fn sign_up_form() -> Vec<(&'static str, &'static str)> {
    vec![
        ("consumer_id", ""),
        ("full_name", "Петрова Мария Ивановна"),
        ("phone", "8 (912) 345-67-89"),
        ("plot", "7а"),
        ("plot_address", "Линия 2"),
        ("number", "Э-0007"),
        ("service", "electricity"),
        ("plan", "day_night"),
        ("signed_on", "2026-03-01"),
        ("serial", "EM-123"),
        ("installed_on", "2026-03-01"),
        ("initial_t1", "1200,5"),
        ("initial_t2", "300"),
        ("seal_number", "П-55"),
        ("verification_due", "01.03.2032"),
    ]
}

fn with(
    form: &[(&'static str, &'static str)],
    field: &'static str,
    value: &'static str,
) -> Vec<(&'static str, &'static str)> {
    form.iter().map(|&(k, v)| (k, if k == field { value } else { v })).collect()
}

fn follow(page: &Page) -> &str {
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    page.location().expect("a redirect")
}

#[tokio::test]
async fn signing_up_creates_consumer_plot_contract_and_meter_in_one_form() {
    let t = TestContext::new().await;
    let client = admin(&t).await;
    client.get("/contracts/new").await.assert_ok().assert_contains("— новый потребитель —");
    let page = client.post_form("/contracts", &sign_up_form()).await;
    let to = follow(&page).to_owned();
    client
        .get(&to)
        .await
        .assert_ok()
        .assert_contains("Договор № Э-0007 подписан.")
        .assert_contains("Петрова Мария Ивановна");

    let conn = t.ctx.db.conn();
    let signed = contract::Entity::find().one(conn).await.unwrap().unwrap();
    assert_eq!((signed.service, signed.tariff_plan), (Service::Electricity, TariffPlan::DayNight));
    let person = consumer::Entity::find_by_id(signed.consumer_id).one(conn).await.unwrap().unwrap();
    assert_eq!(person.phone.unwrap().as_str(), "+79123456789");
    let place = plot::Entity::find_by_id(signed.plot_id).one(conn).await.unwrap().unwrap();
    assert_eq!((place.number.as_str(), place.address.as_deref()), ("7А", Some("Линия 2")));
    let installed = meter::Entity::find().one(conn).await.unwrap().unwrap();
    assert_eq!(installed.initial_values(), [domain::meter_value!(1_200_500), domain::meter_value!(300_000)]);
    assert_eq!(audit_actions(&t, "contract").await[0].0, "contract.sign");

    // The same person signs for water on the same plot, chosen from the list.
    let form = client.get(&format!("/contracts/new?consumer={}&plot=7А", person.id)).await;
    form.assert_contains(&format!("<option value=\"{}\" selected>", person.id)).assert_contains("value=\"7А\"");
    let id = person.id.to_string();
    let water = [
        ("consumer_id", id.as_str()),
        ("plot", "7А"),
        ("number", "В-0007"),
        ("service", "water"),
        ("plan", "single"),
        ("signed_on", "2026-03-02"),
        ("serial", "WM-9"),
        ("installed_on", "2026-03-02"),
        ("initial_t1", "10"),
    ];
    follow(&client.post_form("/contracts", &water).await);
    assert_eq!((count::<consumer::Entity>(&t).await, count::<plot::Entity>(&t).await), (1, 1));
    assert_eq!(count::<contract::Entity>(&t).await, 2);
}

#[tokio::test]
async fn sign_up_errors_keep_the_input_and_store_nothing() {
    let t = TestContext::new().await;
    let client = admin(&t).await;
    client.get("/contracts/new").await;
    let bad = with(&with(&with(&sign_up_form(), "plot", "/1"), "phone", "12345"), "initial_t2", "-5");
    let page = client.post_form("/contracts", &bad).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    page.assert_contains("Исправьте ошибки в отмеченных полях.")
        .assert_contains("«/1» — не номер участка.")
        .assert_contains("«12345» — не номер телефона.")
        .assert_contains("Показание не может быть отрицательным.")
        .assert_contains("value=\"Петрова Мария Ивановна\"")
        .assert_contains("value=\"EM-123\"");

    // Refusals of the service layer land next to their field too.
    let water_day_night = with(&sign_up_form(), "service", "water");
    let page = client.post_form("/contracts", &water_day_night).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    page.assert_contains("Двухтарифный учёт (день/ночь) бывает только для электроэнергии.")
        .assert_contains("<option value=\"water\" selected>");
    assert_eq!(count::<contract::Entity>(&t).await, 0);
    assert_eq!(count::<consumer::Entity>(&t).await, 0);
    assert_eq!(count::<plot::Entity>(&t).await, 0);

    follow(&client.post_form("/contracts", &sign_up_form()).await);
    let again = with(&sign_up_form(), "full_name", "Другой Человек");
    let page = client.post_form("/contracts", &again).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    page.assert_contains("Договор № Э-0007 уже есть.").assert_contains("value=\"Другой Человек\"");
    assert_eq!(count::<consumer::Entity>(&t).await, 1, "the new consumer was rolled back with the contract");
}

#[tokio::test]
async fn edits_are_saved_with_an_audit_trail_and_refusals_keep_the_input() {
    let t = TestContext::new().await;
    let signed = t.sign("3", new_consumer("Сидоров", None), "W-3", Service::Water, TariffPlan::Single, &[0]).await;
    t.sign("4", new_consumer("Орлова", None), "W-4", Service::Water, TariffPlan::Single, &[0]).await;
    let client = admin(&t).await;

    // Plot: renumbering onto another plot is refused; a new address is saved.
    client.get(&format!("/plots/{}/edit", signed.plot_id)).await.assert_ok();
    let page =
        client.post_form(&format!("/plots/{}", signed.plot_id), &[("number", "4"), ("address", "Набережная, 3")]).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    page.assert_contains("Участок 4 уже есть.").assert_contains("value=\"Набережная, 3\"");
    let page =
        client.post_form(&format!("/plots/{}", signed.plot_id), &[("number", "3"), ("address", "Набережная, 3")]).await;
    client.get(follow(&page)).await.assert_contains("Участок 3 сохранён.").assert_contains("Набережная, 3");
    let (action, details) = audit_actions(&t, "plot").await.pop().unwrap();
    assert_eq!((action.as_str(), details.as_str()), ("plot.update", r#"{"address":[null,"Набережная, 3"]}"#));

    // Consumer: a bad phone is refused, a good one normalised.
    let consumer_path = format!("/consumers/{}", signed.consumer_id);
    client.get(&format!("{consumer_path}/edit")).await.assert_ok().assert_contains("checked");
    let page = client.post_form(&consumer_path, &[("full_name", "Сидоров Иван"), ("phone", "abc")]).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    page.assert_contains("«abc» — не номер телефона.").assert_contains("value=\"Сидоров Иван\"");
    let page = client.post_form(&consumer_path, &[("full_name", "Сидоров Иван"), ("phone", "9123456789")]).await;
    client.get(follow(&page)).await.assert_contains("+79123456789").assert_contains("выключены");

    // Contract: a taken number is refused; closing ends readings and the holding.
    let contract_path = format!("/contracts/{}", signed.contract_id);
    let page = client.post_form(&contract_path, &[("number", "W-4"), ("signed_on", "2026-01-01")]).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    page.assert_contains("Договор № W-4 уже есть.");
    let page = client.post_form(&format!("{contract_path}/close"), &[("closed_on", "2025-12-31")]).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    page.assert_contains("Договор не может быть закрыт раньше, чем подписан (01.01.2026).")
        .assert_contains("value=\"2025-12-31\"");
    let page = client.post_form(&format!("{contract_path}/close"), &[("closed_on", "2026-03-15")]).await;
    client.get(follow(&page)).await.assert_contains("Договор № W-3 закрыт.").assert_contains("15.03.2026");
    let closed = contract::Entity::find_by_id(signed.contract_id).one(t.ctx.db.conn()).await.unwrap().unwrap();
    assert_eq!(closed.closed_on, chrono::NaiveDate::from_ymd_opt(2026, 3, 15));
    let holding = holding::Entity::find()
        .filter(holding::Column::ConsumerId.eq(signed.consumer_id))
        .one(t.ctx.db.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(holding.until, closed.closed_on, "their last contract on the plot closed, so the holding ended");
    let page = client.post_form(&format!("{contract_path}/close"), &[("closed_on", "2026-03-16")]).await;
    page.assert_contains("Договор № W-3 уже закрыт.");

    // Meter: the serial is required; the seal is saved.
    let meter_path = format!("/meters/{}", signed.meter_id);
    let page = client.post_form(&meter_path, &[("serial", " "), ("seal_number", "П-9")]).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    page.assert_contains("Укажите заводской номер счётчика.").assert_contains("value=\"П-9\"");
    let page = client
        .post_form(&meter_path, &[("serial", "SN-NEW"), ("seal_number", "П-9"), ("verification_due", "2030-01-01")])
        .await;
    client.get(follow(&page)).await.assert_contains("Счётчик № SN-NEW сохранён.").assert_contains("01.01.2030");
    let mut actions = Vec::new();
    for entity in ["consumer", "contract", "meter"] {
        actions.extend(audit_actions(&t, entity).await.into_iter().map(|(action, _)| action));
    }
    assert_eq!(actions, ["consumer.update", "contract.sign", "contract.sign", "contract.close", "meter.update"]);
}

#[tokio::test]
async fn accountants_see_the_register_read_only() {
    let t = TestContext::new().await;
    let signed = t.sign("5", new_consumer("Лебедев", None), "W-5", Service::Water, TariffPlan::Single, &[0]).await;
    let client = PanelClient::staff(&t, "buh", Role::Accountant).await;
    let page = client.get(&format!("/contracts/{}", signed.contract_id)).await;
    page.assert_ok().assert_lacks("Изменить").assert_lacks("Закрыть договор");
    client.get("/plots").await.assert_ok().assert_lacks("Новый участок");
}

#[tokio::test]
async fn hostile_names_are_shown_as_text() {
    let t = TestContext::new().await;
    let name = "<script>alert('x')</script> & <b>Жирный</b>";
    let signed = t.sign("6", new_consumer(name, None), "W-\"6\"", Service::Water, TariffPlan::Single, &[0]).await;
    let client = admin(&t).await;
    for path in [
        "/consumers".to_owned(),
        format!("/consumers/{}", signed.consumer_id),
        "/contracts".into(),
        format!("/consumers/{}/edit", signed.consumer_id),
    ] {
        client
            .get(&path)
            .await
            .assert_ok()
            .assert_lacks("<script>alert")
            .assert_lacks("<b>Жирный")
            .assert_contains("&lt;script&gt;alert('x')&lt;/script&gt; &amp; &lt;b&gt;Жирный&lt;/b&gt;");
    }
    client.get("/contracts").await.assert_contains("W-&quot;6&quot;");
}

#[tokio::test]
async fn search_strings_that_look_like_sql_are_just_searched_for() {
    let t = TestContext::new().await;
    let odd = "O'Brien'); DROP TABLE consumers; --";
    t.sign("8", new_consumer(odd, None), "W-8", Service::Water, TariffPlan::Single, &[0]).await;
    t.sign("9", new_consumer("Иванов", None), "W-9", Service::Water, TariffPlan::Single, &[0]).await;
    let client = admin(&t).await;
    let page = client.get("/consumers?q=%27%29%3B+DROP+TABLE+consumers%3B+--").await;
    page.assert_ok().assert_contains(odd).assert_lacks("Иванов");
    let page = client.get("/consumers?q=%27+OR+%271%27%3D%271").await;
    page.assert_ok().assert_contains("Ничего не найдено.");
    assert_eq!(count::<consumer::Entity>(&t).await, 2, "the table is still there");
}

#[tokio::test]
async fn search_and_filters_narrow_the_lists() {
    let t = TestContext::new().await;
    t.standard_tariffs().await;
    let ivanov = t
        .sign("10", new_consumer("Иванов Пётр", Some("+79001112233")), "W-10", Service::Water, TariffPlan::Single, &[0])
        .await;
    t.sign("11", new_consumer("Смирнова Ольга", None), "E-11", Service::Electricity, TariffPlan::Single, &[0]).await;
    // Ivanov's meter is read this month and charged, so he owes money and is not «unread».
    let reading = office_reading(ivanov.meter_id, vec![domain::meter_value!(10_000)]);
    service::readings::submit(&t.ctx, reading).await.unwrap();
    let client = admin(&t).await;
    let search = |query: &'static str| {
        let client = &client;
        async move { client.get(&format!("/contracts?{query}")).await }
    };
    search("q=%D0%B8%D0%B2%D0%B0%D0%BD%D0%BE%D0%B2").await.assert_contains("W-10").assert_lacks("E-11"); // «иванов»
    search("q=8+900+111-22-33").await.assert_contains("W-10").assert_lacks("E-11");
    search("q=e-11").await.assert_contains("E-11").assert_lacks("W-10");
    search("service=electricity").await.assert_contains("E-11").assert_lacks("W-10");
    search("debtors=on").await.assert_contains("W-10").assert_lacks("E-11");
    search("unread=on").await.assert_contains("E-11").assert_lacks("W-10");
    client.get("/plots?q=11").await.assert_contains("Смирнова Ольга").assert_lacks("Иванов Пётр");
    client.get("/consumers?debtors=on").await.assert_contains("Иванов Пётр").assert_contains("400,00 ₽");

    // Pages of 50, keeping the filters in the links.
    for n in 0..60 {
        let details = service::register::changes::PlotDetails {
            number: domain::PlotNumber::parse(&format!("{}", 100 + n)).unwrap(),
            address: Some("Дальняя линия".into()),
            notes: None,
        };
        service::register::changes::create_plot(&t.ctx, details, service::audit::Actor::System).await.unwrap();
    }
    let first = client.get("/plots?q=%D0%94%D0%B0%D0%BB%D1%8C%D0%BD%D1%8F%D1%8F").await;
    first
        .assert_contains("Страница 1 из 2 (всего 60)")
        .assert_contains("href=\"/plots?q=%D0%94%D0%B0%D0%BB%D1%8C%D0%BD%D1%8F%D1%8F&amp;page=2\"");
    client
        .get("/plots?q=%D0%94%D0%B0%D0%BB%D1%8C%D0%BD%D1%8F%D1%8F&page=2")
        .await
        .assert_contains("159")
        .assert_lacks(">100<");
}

#[tokio::test]
async fn meter_photos_are_uploaded_to_the_gallery() {
    let t = TestContext::new().await;
    let signed = t.sign("12", new_consumer("Ким", None), "W-12", Service::Water, TariffPlan::Single, &[0]).await;
    let client = admin(&t).await;
    let path = format!("/meters/{}", signed.meter_id);
    client.get(&path).await.assert_contains("Фото пока нет.");

    let not_a_photo =
        client.multipart().field(TestFormField::bytes(b"%PDF-1.4 ...".to_vec()).name("photo").filename("scan.pdf"));
    let page = client.post_multipart(&format!("{path}/photos"), not_a_photo).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    page.assert_contains("field-error");
    assert_eq!(count::<meter_photo::Entity>(&t).await, 0);

    let form = client
        .multipart()
        .field(TestFormField::bytes(service::testing::photos::png(320, 240)).name("photo").filename("meter.png"));
    let page = client.post_multipart(&format!("{path}/photos"), form).await;
    let gallery = client.get(follow(&page)).await;
    let photo = meter_photo::Entity::find().one(t.ctx.db.conn()).await.unwrap().expect("a gallery row");
    gallery.assert_contains("Фото добавлено.").assert_contains(&format!("src=\"/photos/{}/thumb\"", photo.photo_id));
}

#[tokio::test]
async fn telegram_link_codes_come_with_the_bots_link() {
    let t = TestContext::new().await;
    let signed = t.sign("13", new_consumer("Белова", None), "W-13", Service::Water, TariffPlan::Single, &[0]).await;
    let client = PanelClient::staff(&t, "buh", Role::Accountant).await;
    client.get(&format!("/consumers/{}", signed.consumer_id)).await;
    let page = client.post_form(&format!("/consumers/{}/link-code", signed.consumer_id), &[]).await;
    page.assert_ok().assert_contains("Код для «Белова»");
    let code = page.link_code();
    page.assert_contains(&format!("https://t.me/chernomorsk_test_bot?start={code}"));
    let linked = service::access::telegram::redeem(&t.ctx, &code, 1313).await.expect("the shown code works");
    assert_eq!(linked.consumer.map(|c| c.id), Some(signed.consumer_id));

    // With the bot off the code is still issued, and the page says so.
    let config = panel::PanelConfig { bot_username: Default::default(), ..tests::panel_client::test_panel_config() };
    let bot_off = PanelClient::for_endpoint(panel::app(t.ctx.clone(), config));
    bot_off.login("buh", "buh-password").await;
    bot_off.get("/").await;
    let page = bot_off.post_form(&format!("/consumers/{}/link-code", signed.consumer_id), &[]).await;
    page.assert_ok().assert_contains("Telegram-бот сейчас выключен").assert_lacks("https://t.me/");
}
