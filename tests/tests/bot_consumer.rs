//! The consumer bot end to end: the whole app on a temporary database, talking to a fake Bot API.

use chrono::Duration;
use domain::{Kopecks, ReadingSource, ReadingStatus, Service, TariffPlan, cost};
use domain::{billing::Balance, kopecks, meter_value};
use entities::{reading, telegram_dialogue, telegram_link};
use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, Set};
use service::Context;
use service::access::telegram::{self, LinkTarget};
use service::audit::Actor;
use service::ledger::payments::{self, NewPayment};
use service::meters::photos;
use service::register::sign_up::{ConsumerRef, SignedUp};
use service::testing::photos::jpeg;
use service::testing::{default_now, new_consumer, sign, standard_tariffs};
use tests::bot_chat::BotChat;
use tests::{TestApp, seed};

const MENU: [&str; 7] =
    ["Задолженность", "История расчётов", "Передать показания", "История", "График", "Написать в правление", "Помощь"];

async fn app() -> TestApp {
    let app = TestApp::spawn_at(default_now()).await;
    standard_tariffs(app.ctx()).await;
    app
}

/// Bender's plot 7: a water meter from 100 m³ and, optionally, a day/night electricity meter.
async fn bender(ctx: &Context, with_power: bool) -> (SignedUp, Option<SignedUp>) {
    let consumer = new_consumer("Бендер О. И.", Some("+7 978 123-45-67"));
    let water = sign(ctx, "7", consumer, "W-7", Service::Water, TariffPlan::Single, &[100]).await;
    let power = match with_power {
        true => {
            let existing = ConsumerRef::Existing(water.consumer_id);
            Some(sign(ctx, "7", existing, "E-7", Service::Electricity, TariffPlan::DayNight, &[1000, 500]).await)
        }
        false => None,
    };
    (water, power)
}

async fn readings_by(ctx: &Context, source: ReadingSource) -> Vec<reading::Model> {
    let all = reading::Entity::find().all(ctx.db.conn()).await.unwrap();
    all.into_iter().filter(|r| r.source == source).collect()
}

#[tokio::test]
async fn an_unknown_user_only_learns_how_to_get_access() {
    let app = app().await;
    bender(app.ctx(), false).await;
    let stranger = BotChat::new(&app.telegram, 1001);

    for text in ["Привет", "Задолженность", "/help", "123"] {
        let reply = stranger.send(text).await;
        reply.expect("код привязки").expect("Поделиться номером");
        assert_eq!(reply.keyboard(), ["Поделиться номером"], "{text}");
        assert!(!reply.text().contains("Итого"), "{}", reply.text());
    }
    stranger.send("/controller").await.expect("только контролёрам и администраторам");
    assert!(telegram::identify(app.ctx().db.conn(), 1001).await.unwrap().consumer.is_none());
}

#[tokio::test]
async fn a_one_time_code_links_once_and_expires() {
    let app = app().await;
    let (water, _) = bender(app.ctx(), false).await;
    let code = telegram::issue_code(app.ctx(), LinkTarget::Consumer(water.consumer_id), None).await.unwrap().code;

    let bender = BotChat::new(&app.telegram, 2001);
    let reply = bender.send(&format!("/start {code}")).await;
    reply.expect("Здравствуйте, Бендер О. И.!");
    assert_eq!(reply.keyboard(), MENU);
    let linked = telegram::identify(app.ctx().db.conn(), 2001).await.unwrap();
    assert_eq!(linked.consumer.map(|c| c.id), Some(water.consumer_id));

    let reused = BotChat::new(&app.telegram, 2002);
    reused.send(&format!("/start {code}")).await.expect("уже использован");
    reused.send("Задолженность").await.expect("код привязки");

    let late_code = telegram::issue_code(app.ctx(), LinkTarget::Consumer(water.consumer_id), None).await.unwrap().code;
    app.clock.advance(app.ctx().settings.link_code_ttl + Duration::minutes(1));
    let late = BotChat::new(&app.telegram, 2003);
    late.send(&format!("/start {late_code}")).await.expect("Срок действия кода истёк");
    late.send("/start NOSUCHCODE").await.expect("Код не найден");
    for user in [2002, 2003] {
        assert!(!telegram::identify(app.ctx().db.conn(), user).await.unwrap().is_known());
    }
}

#[tokio::test]
async fn sharing_ones_own_contact_links_and_a_foreign_one_is_refused() {
    let app = app().await;
    let (water, _) = bender(app.ctx(), false).await;
    let user = BotChat::new(&app.telegram, 3001);

    // Someone else's contact, and one typed in or forwarded (no user id on it).
    user.share_contact("79781234567", Some(3999)).await.expect("только свой собственный контакт");
    user.share_contact("79781234567", None).await.expect("только свой собственный контакт");
    assert_eq!(telegram_link::Entity::find().all(app.ctx().db.conn()).await.unwrap().len(), 0);

    user.share_contact("79990000000", Some(3001)).await.expect("не найден в списке потребителей");

    let reply = user.share_contact("79781234567", Some(3001)).await;
    reply.expect("Здравствуйте, Бендер О. И.!");
    assert_eq!(reply.keyboard(), MENU);
    let linked = telegram::identify(app.ctx().db.conn(), 3001).await.unwrap();
    assert_eq!(linked.consumer.map(|c| c.id), Some(water.consumer_id));
}

#[tokio::test]
async fn debt_shows_the_domains_numbers_for_two_services_and_a_partial_payment() {
    let app = app().await;
    let consumer = new_consumer("Бендер О. И.", None);
    let water = sign(app.ctx(), "7", consumer, "W-7", Service::Water, TariffPlan::Single, &[100]).await;
    let existing = ConsumerRef::Existing(water.consumer_id);
    let power = sign(app.ctx(), "7", existing, "E-7", Service::Electricity, TariffPlan::Single, &[1000]).await;
    seed::reading(app.ctx(), water.meter_id, &[meter_value!(112_500)], "2026-02-20").await;
    seed::reading(app.ctx(), power.meter_id, &[meter_value!(1_100_000)], "2026-02-20").await;
    let payment = NewPayment {
        contract_number: "W-7".into(),
        amount: kopecks!(200_00),
        paid_on: "2026-03-01".parse().unwrap(),
        for_period: Some("2026-02".parse().unwrap()),
        reference: None,
        confirm_duplicate: false,
    };
    payments::record(app.ctx(), payment, Actor::System).await.unwrap();

    let chat = BotChat::new(&app.telegram, 4001);
    chat.link(app.ctx(), LinkTarget::Consumer(water.consumer_id)).await;
    let reply = chat.send("Задолженность").await;

    // 12,5 m³ at 40 ₽ less 200 ₽ paid; 100 kWh at 5 ₽, unpaid.
    let water_balance = Balance::new(cost(meter_value!(12_500), kopecks!(40_00)).unwrap(), kopecks!(200_00)).unwrap();
    let power_balance = Balance::new(cost(meter_value!(100_000), kopecks!(5_00)).unwrap(), Kopecks::ZERO).unwrap();
    let total = water_balance.checked_add(power_balance).unwrap();
    assert_eq!(
        (water_balance.debt(), power_balance.debt(), total.debt()),
        (kopecks!(300_00), kopecks!(500_00), kopecks!(800_00))
    );
    reply
        .expect("Задолженность на 15.03.2026")
        .expect("Вода — договор № W-7, участок 7")
        .expect("Начислено за февраль 2026: 500,00 ₽")
        .expect("Последняя оплата: 200,00 ₽ от 01.03.2026")
        .expect(&water_balance.describe())
        .expect("Электроэнергия — договор № E-7, участок 7")
        .expect("Оплат пока нет")
        .expect(&power_balance.describe())
        .expect(&format!("Итого: {}", total.describe().to_lowercase()));
    assert_eq!(total.describe(), "Задолженность 800,00 ₽");
}

/// A Telegram account guessing link codes gets five tries, then one per ten minutes; a member
/// sending photo after photo gets ten, then one per half hour. Both are refused before any work.
#[tokio::test]
async fn link_codes_and_photos_from_one_telegram_account_are_counted() {
    let app = app().await;
    let (water, _) = bender(app.ctx(), false).await;
    let guesser = BotChat::new(&app.telegram, 7001);
    for n in 0..5 {
        guesser.send(&format!("/start GUESS{n:03}")).await.expect("Код не найден");
    }
    let code = telegram::issue_code(app.ctx(), LinkTarget::Consumer(water.consumer_id), None).await.unwrap().code;
    guesser.send(&format!("/start {code}")).await.expect("Слишком много попыток ввести код. Следующая — через 10 мин.");
    app.clock.advance(Duration::minutes(10));
    guesser.send(&format!("/start {code}")).await.expect("Здравствуйте, Бендер О. И.!");

    guesser.send("Передать показания").await;
    guesser.send("110").await.expect("Пришлите фото счётчика");
    for n in 0..10 {
        guesser.send_photo(&format!("scan-{n}"), b"%PDF-1.4".to_vec()).await.expect("Это не фотография");
    }
    let refused = guesser.send_photo("meter", jpeg(640, 480)).await;
    refused.expect("Фотографий подряд уже много. Следующую можно прислать через 30 мин.");
    assert!(refused.calls.iter().all(|c| !c.is("getFile")), "nothing fetched");
    app.clock.advance(Duration::minutes(30));
    guesser.send_photo("meter", jpeg(640, 480)).await.expect("Фото: приложено");
}

#[tokio::test]
async fn a_two_zone_reading_with_a_photo_is_stored_once() {
    let app = app().await;
    let (water, power) = bender(app.ctx(), true).await;
    let power = power.unwrap();
    let chat = BotChat::new(&app.telegram, 5001);
    chat.link(app.ctx(), LinkTarget::Consumer(water.consumer_id)).await;

    let reply = chat.send("Передать показания").await;
    assert_eq!(reply.buttons(), [format!("m:{}", water.meter_id), format!("m:{}", power.meter_id)]);
    chat.press(&format!("m:{}", power.meter_id))
        .await
        .expect("Электроэнергия, счётчик SN-E-7 (участок 7)")
        .expect("Шкала «День». Предыдущее показание: 1000 кВт·ч.");
    chat.send("1100").await.expect("Шкала «Ночь». Предыдущее показание: 500 кВт·ч.");
    let reply = chat.send("550").await;
    reply.expect("Пришлите фото счётчика");
    assert_eq!(reply.buttons(), ["np"]);

    // Telegram does not let bots download files over 20 MB; the intake takes up to 15 MB.
    let mut huge = tests::fake_telegram::updates::photo(5001, "huge", None);
    huge["message"]["photo"][0]["file_size"] = 25_000_000.into();
    let reply = chat.push(huge).await;
    reply.expect("Фото слишком большое: не больше 15 МБ.");
    assert!(reply.calls.iter().all(|c| !c.is("getFile")), "the huge photo was not to be fetched");
    chat.send_photo("not-a-photo", b"%PDF-1.4 invoice".to_vec()).await.expect("Это не фотография");
    chat.send_photo("tiny", jpeg(100, 80)).await.expect("Снимок слишком маленький");

    let reply = chat.send_photo("meter", jpeg(640, 480)).await;
    reply.expect("День: 1100 кВт·ч").expect("Ночь: 550 кВт·ч").expect("Фото: приложено");
    assert_eq!(reply.buttons(), ["ok", "fix"]);
    assert!(
        readings_by(app.ctx(), ReadingSource::ConsumerBot).await.is_empty(),
        "nothing is saved before «Подтвердить»"
    );

    let reply = chat.press("ok").await;
    reply.expect("Показание принято");
    assert_eq!(reply.keyboard(), MENU);
    // A double tap: the second press finds the dialogue moved on.
    chat.press("ok").await.expect("Эта кнопка уже неактуальна");

    let saved = readings_by(app.ctx(), ReadingSource::ConsumerBot).await;
    assert_eq!(saved.len(), 1);
    let saved = &saved[0];
    assert_eq!(saved.meter_id, power.meter_id);
    assert_eq!(saved.values(), [meter_value!(1_100_000), meter_value!(550_000)]);
    assert_eq!((saved.status, saved.consumer_id), (ReadingStatus::Accepted, Some(water.consumer_id)));
    // The draft's key (chat 5001), scoped to the meter and the consumer.
    let scope = format!("m{}:c{}:tg:5001:", power.meter_id, water.consumer_id);
    assert!(saved.idempotency_key.as_deref().is_some_and(|k| k.starts_with(&scope)), "{saved:?}");
    let photo = photos::file(app.ctx(), saved.photo_id.expect("the photo is attached"), false).await.unwrap();
    assert!(photo.is_some_and(|path| path.is_file()));

    chat.send("История").await.expect("• 15.03.2026 — день 1100, ночь 550 (Потребитель (бот))");
}

#[tokio::test]
async fn a_confirmation_retried_after_a_crash_records_once() {
    let app = app().await;
    let (water, _) = bender(app.ctx(), false).await;
    let chat = BotChat::new(&app.telegram, 6001);
    chat.link(app.ctx(), LinkTarget::Consumer(water.consumer_id)).await;
    chat.send("Передать показания").await;
    chat.send("105").await;
    chat.press("np").await.expect("Фото: нет");
    let conn = app.ctx().db.conn();
    let before_saving = telegram_dialogue::Entity::find_by_id(6001).one(conn).await.unwrap().unwrap();

    chat.press("ok").await.expect("Показание принято");
    // As if the process died after saving the reading but before moving the dialogue on.
    let mut restored = before_saving.clone().into_active_model();
    restored.state = Set(before_saving.state);
    restored.update(conn).await.unwrap();
    chat.press("ok").await.expect("Это показание уже сохранено.");

    assert_eq!(readings_by(app.ctx(), ReadingSource::ConsumerBot).await.len(), 1);
}

#[tokio::test]
async fn a_decreasing_reading_is_refused_and_nothing_is_stored() {
    let app = app().await;
    let (water, _) = bender(app.ctx(), false).await;
    let chat = BotChat::new(&app.telegram, 7001);
    chat.link(app.ctx(), LinkTarget::Consumer(water.consumer_id)).await;

    chat.send("Передать показания").await.expect("Предыдущее показание: 100 м³.");
    chat.send("сто пять").await.expect("«сто пять» — не число");
    chat.send("99,5")
        .await
        .expect("Показание (общая) 99,5 меньше предыдущего (100). Проверьте цифры.")
        .expect("Предыдущее показание: 100 м³.");
    assert!(reading::Entity::find().all(app.ctx().db.conn()).await.unwrap().is_empty());

    chat.send("/cancel").await.expect("Действие отменено.");
    chat.send("105").await.expect("Выберите действие в меню");
    assert!(reading::Entity::find().all(app.ctx().db.conn()).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_suspicious_jump_is_confirmed_and_stored_flagged() {
    let app = app().await;
    let (water, _) = bender(app.ctx(), false).await;
    let chat = BotChat::new(&app.telegram, 8001);
    chat.link(app.ctx(), LinkTarget::Consumer(water.consumer_id)).await;

    chat.send("Передать показания").await;
    chat.send("5100").await;
    chat.press("np").await.expect("Расход (общая) 5000 — намного больше обычного");
    // «Исправить» starts the values over.
    chat.press("fix").await.expect("Предыдущее показание: 100 м³.");
    chat.send("5100").await;
    chat.press("np").await.expect("намного больше обычного");
    chat.press("ok").await.expect("отправлено на проверку администратору");

    let saved = readings_by(app.ctx(), ReadingSource::ConsumerBot).await;
    assert_eq!(saved.iter().map(|r| r.status).collect::<Vec<_>>(), [ReadingStatus::Flagged]);
}

#[tokio::test]
async fn a_restarted_bot_continues_mid_dialogue() {
    let app = app().await;
    let (water, power) = bender(app.ctx(), true).await;
    let power = power.unwrap();
    let chat_id = 9001;
    {
        let chat = BotChat::new(&app.telegram, chat_id);
        chat.link(app.ctx(), LinkTarget::Consumer(water.consumer_id)).await;
        chat.send("Передать показания").await;
        chat.press(&format!("m:{}", power.meter_id)).await;
        chat.send("1100").await.expect("Шкала «Ночь»");
    }

    let app = app.restart(|_| {}).await;
    let chat = BotChat::new(&app.telegram, chat_id);
    chat.send("550").await.expect("Пришлите фото счётчика");
    chat.press("np").await.expect("День: 1100 кВт·ч").expect("Ночь: 550 кВт·ч");
    chat.press("ok").await.expect("Показание принято");
    let saved = readings_by(app.ctx(), ReadingSource::ConsumerBot).await;
    assert_eq!(
        saved.iter().map(reading::Model::values).collect::<Vec<_>>(),
        [vec![meter_value!(1_100_000), meter_value!(550_000)]]
    );
}

#[tokio::test]
async fn a_state_from_an_older_version_starts_the_chat_over() {
    let app = app().await;
    let (water, _) = bender(app.ctx(), false).await;
    let chat = BotChat::new(&app.telegram, 9101);
    chat.link(app.ctx(), LinkTarget::Consumer(water.consumer_id)).await;
    let conn = app.ctx().db.conn();
    let mut row = telegram_dialogue::Entity::find_by_id(9101).one(conn).await.unwrap().unwrap().into_active_model();
    row.state = Set(r#"{"RemovedLongAgo":{"step":3}}"#.into());
    row.update(conn).await.unwrap();

    chat.send("12345").await.expect("Выберите действие в меню");
    chat.send("Передать показания").await.expect("Предыдущее показание: 100 м³.");
}

#[tokio::test]
async fn the_same_update_delivered_twice_is_handled_once() {
    let app = app().await;
    let (water, _) = bender(app.ctx(), false).await;
    let chat = BotChat::new(&app.telegram, 9201);
    chat.link(app.ctx(), LinkTarget::Consumer(water.consumer_id)).await;
    chat.send("Передать показания").await;
    chat.send("105").await;
    chat.press("np").await;
    let confirmed = chat.press("ok").await;
    confirmed.expect("Показание принято");

    // Telegram delivering the confirmation again, under the same update id.
    let calls_before = app.telegram.calls().len();
    app.telegram.push_raw_update(confirmed.update.clone());
    app.telegram.wait_idle().await;
    let since: Vec<String> = app.telegram.calls()[calls_before..].iter().map(|c| c.method.clone()).collect();
    assert!(since.is_empty(), "a redelivered update must not be answered: {since:?}");
    assert_eq!(readings_by(app.ctx(), ReadingSource::ConsumerBot).await.len(), 1);
}

#[tokio::test]
async fn group_chats_are_turned_away() {
    let app = app().await;
    let mut update = tests::fake_telegram::updates::text(9301, "/start");
    update["message"]["chat"] = serde_json::json!({"id": -100_500, "type": "group", "title": "Правление"});
    let since = app.telegram.calls().len();
    app.telegram.push_update(update);
    assert_eq!(
        app.telegram.next_text_to(-100_500, since).await,
        "Бот работает только в личных сообщениях. Напишите ему напрямую."
    );
}

#[tokio::test]
async fn a_failed_step_apologises_and_the_dialogue_goes_on() {
    let app = app().await;
    let (water, _) = bender(app.ctx(), false).await;
    let chat = BotChat::new(&app.telegram, 9401);
    chat.link(app.ctx(), LinkTarget::Consumer(water.consumer_id)).await;
    chat.send("Передать показания").await;
    chat.send("105").await;

    // A photo Telegram cannot serve: getFile fails.
    let vanished = tests::fake_telegram::updates::photo(9401, "vanished", None);
    chat.push(vanished).await.expect("Что-то пошло не так, попробуйте ещё раз.");
    chat.press("np").await.expect("Проверьте показание");
}

#[tokio::test]
async fn the_command_menu_is_registered_at_start() {
    let app = app().await;
    let registered = app.telegram.calls_to("setMyCommands");
    let commands: Vec<&str> =
        registered[0].params["commands"].as_array().unwrap().iter().filter_map(|c| c["command"].as_str()).collect();
    // teloxide sends the commands with their slash, which Telegram accepts.
    assert_eq!(commands, ["/start", "/help", "/cancel", "/controller", "/report", "/reminders", "/announcements"]);
}

#[tokio::test]
async fn the_chart_is_a_photo_of_the_last_year_beside_the_year_before() {
    // A year after the meter went in: fourteen monthly readings, January 2026 to February 2027.
    let app = TestApp::spawn_at(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2027, 3, 15, 12, 0, 0).unwrap()).await;
    standard_tariffs(app.ctx()).await;
    let (water, _) = bender(app.ctx(), false).await;
    let chat = BotChat::new(&app.telegram, 7001);
    chat.link(app.ctx(), LinkTarget::Consumer(water.consumer_id)).await;

    let reply = chat.send("График").await;
    reply.expect("Графика пока нет");
    assert!(reply.calls.iter().all(|c| c.method != "sendPhoto"), "no empty picture");

    let months = (0..14).map(|i| (2026 + i / 12, i % 12 + 1));
    for (n, (year, month)) in months.enumerate() {
        let value = domain::MeterValue::from_whole(105 + 5 * n as i64).unwrap();
        seed::reading(app.ctx(), water.meter_id, &[value], &format!("{year}-{month:02}-20")).await;
    }
    let reply = chat.send("График").await;
    let photos: Vec<_> = reply.calls.iter().filter(|c| c.method == "sendPhoto").collect();
    assert_eq!(photos.len(), 1, "one contract, one picture");
    assert_eq!(photos[0].params["caption"], "Участок 7, договор W-7");
    let image = charts::inspect::decode(&photos[0].files[0].bytes, service::charts::Size::PHONE);
    let inked = image.pixels().filter(|p| **p != charts::inspect::rgb(charts::palette::BACKGROUND)).count();
    assert!(inked * 100 / image.pixels().len() >= 5, "not blank: {inked} pixels drawn");
    // March 2026 to February 2027, and beside January and February the same months of 2026.
    assert_eq!(charts::inspect::bar_runs(&image, charts::palette::USED), 12);
    assert_eq!(charts::inspect::bar_runs(&image, charts::palette::USED_YEAR_BEFORE), 2);
}
