//! Controller mode end to end: the whole app on a temporary database, talking to a fake Bot API.

use domain::{MeterValue, ReadingSource, ReadingStatus, Role, Service, TariffPlan, meter_value};
use entities::{meter, reading, staff};
use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, Set};
use service::Context;
use service::access::telegram::LinkTarget;
use service::register::sign_up::{ConsumerRef, SignedUp};
use service::testing::photos::jpeg;
use service::testing::{default_now, new_consumer, sign, staff as new_staff, standard_tariffs};
use tests::bot_chat::BotChat;
use tests::{TestApp, seed};

const CONTROLLER_ONLY: &str = "Режим контролёра доступен только контролёрам и администраторам.";

/// Plots 3, 7 and 12; plot 7 has water (read in February: 12,5 m³ unpaid) and day/night power.
struct Plots {
    three: SignedUp,
    seven_water: SignedUp,
    seven_power: SignedUp,
    twelve: SignedUp,
}

async fn app_with_plots() -> (TestApp, Plots) {
    let app = TestApp::spawn_at(default_now()).await;
    let ctx = app.ctx();
    standard_tariffs(ctx).await;
    let three =
        sign(ctx, "3", new_consumer("Корейко А. И.", None), "W-3", Service::Water, TariffPlan::Single, &[0]).await;
    let bender = new_consumer("Бендер О. И.", None);
    let seven_water = sign(ctx, "7", bender, "W-7", Service::Water, TariffPlan::Single, &[100]).await;
    let bender = ConsumerRef::Existing(seven_water.consumer_id);
    let seven_power = sign(ctx, "7", bender, "E-7", Service::Electricity, TariffPlan::DayNight, &[1000, 500]).await;
    let panikovsky = new_consumer("Паниковский М. С.", None);
    let twelve = sign(ctx, "12", panikovsky, "W-12", Service::Water, TariffPlan::Single, &[0]).await;
    seed::reading(ctx, seven_water.meter_id, &[meter_value!(112_500)], "2026-02-20").await;
    (app, Plots { three, seven_water, seven_power, twelve })
}

async fn controller_chat<'a>(app: &'a TestApp, user_id: i64, login: &str, role: Role) -> (BotChat<'a>, staff::Model) {
    let member = new_staff(app.ctx(), login, role).await;
    let chat = BotChat::new(&app.telegram, user_id);
    chat.link(app.ctx(), LinkTarget::Staff(member.id)).await.expect("учётной записи сотрудника");
    (chat, member)
}

async fn update_staff(ctx: &Context, member: &staff::Model, change: impl FnOnce(&mut staff::ActiveModel)) {
    let mut active = member.clone().into_active_model();
    change(&mut active);
    active.update(ctx.db.conn()).await.unwrap();
}

#[tokio::test]
async fn a_controller_links_walks_a_plot_and_records_a_reading_with_a_photo() {
    let (app, plots) = app_with_plots().await;
    let (chat, controller) = controller_chat(&app, 10_001, "ostap", Role::Controller).await;

    let reply = chat.send("/controller").await;
    reply.expect("Режим контролёра");
    assert_eq!(reply.buttons(), ["u"]);

    let reply = chat.press("u").await;
    reply.expect("Не сняты за март 2026: 3.");
    let route: Vec<String> =
        [&plots.three, &plots.seven_water, &plots.twelve].map(|p| format!("p:{}", p.plot_id)).into();
    assert_eq!(reply.buttons(), route);

    let reply = chat.press(&format!("p:{}", plots.seven_water.plot_id)).await;
    reply
        .expect("Участок 7")
        .expect("Потребитель: Бендер О. И.")
        .expect("Долг по участку: задолженность 500,00 ₽")
        .expect("Вода · SN-W-7: 112,5 от 20.02.2026")
        .expect("Электроэнергия · SN-E-7: показаний ещё не было");
    let (water, power, twelve) = (plots.seven_water.meter_id, plots.seven_power.meter_id, plots.twelve.plot_id);
    assert_eq!(reply.buttons(), [format!("m:{water}"), format!("m:{power}"), format!("p:{twelve}"), "u".into()]);

    chat.press(&format!("m:{power}")).await.expect("Шкала «День». Предыдущее показание: 1000 кВт·ч.");
    chat.send("1100").await.expect("Шкала «Ночь»");
    let reply = chat.send("550").await;
    reply.expect("Пломба цела?");
    assert_eq!(reply.buttons(), ["s:1", "s:0"]);
    chat.press("s:0").await.expect("что с пломбой");
    // Over the limit: refused whole and asked again, nothing cut off and kept.
    chat.send(&"ж".repeat(2_000_000))
        .await
        .expect("Комментарий: не длиннее 500 символов, а здесь 2000000.")
        .expect("что с пломбой");
    let reply = chat.send("Сорвана, следы клея").await;
    reply.expect("без фото показание контролёра не принимается");
    assert!(reply.buttons().is_empty(), "a controller cannot skip the photo: {:?}", reply.buttons());
    chat.send("фото потом").await.expect("без фото показание контролёра не принимается");
    chat.send_photo("meter-7", jpeg(800, 600))
        .await
        .expect("День: 1100 кВт·ч")
        .expect("Пломба: нарушена — Сорвана, следы клея")
        .expect("Фото: приложено");

    let reply = chat.press("ok").await;
    reply.expect("Показание принято").expect("Электроэнергия · SN-E-7: день 1100, ночь 550 от 15.03.2026 ✓");
    assert!(reply.buttons().contains(&format!("p:{twelve}")), "the next unread plot is offered: {:?}", reply.buttons());

    let saved: Vec<reading::Model> = reading::Entity::find().all(app.ctx().db.conn()).await.unwrap();
    let saved: Vec<_> = saved.into_iter().filter(|r| r.meter_id == power).collect();
    assert_eq!(saved.len(), 1);
    let saved = &saved[0];
    assert_eq!((saved.source, saved.status), (ReadingSource::ControllerBot, ReadingStatus::Accepted));
    assert_eq!((saved.staff_id, saved.consumer_id), (Some(controller.id), None));
    assert_eq!((saved.seal_intact, saved.comment.as_deref()), (Some(false), Some("Сорвана, следы клея")));
    assert_eq!(saved.values(), [meter_value!(1_100_000), meter_value!(550_000)]);
    assert!(saved.photo_id.is_some());
    let checked = meter::Entity::find_by_id(power).one(app.ctx().db.conn()).await.unwrap().unwrap().seal_checked_on;
    assert_eq!(checked, Some(app.ctx().today()));
}

#[tokio::test]
async fn only_controllers_and_admins_enter_controller_mode() {
    let (app, plots) = app_with_plots().await;

    BotChat::new(&app.telegram, 11_001).send("/controller").await.expect(CONTROLLER_ONLY);

    let consumer = BotChat::new(&app.telegram, 11_002);
    consumer.link(app.ctx(), LinkTarget::Consumer(plots.seven_water.consumer_id)).await;
    consumer.send("/controller").await.expect(CONTROLLER_ONLY);
    let reply = consumer.send("7").await;
    reply.expect("Выберите действие в меню");
    assert!(!reply.text().contains("Участок 7"), "{}", reply.text());

    let (accountant, _) = controller_chat(&app, 11_003, "zosya", Role::Accountant).await;
    accountant.send("/controller").await.expect(CONTROLLER_ONLY);

    let (admin, _) = controller_chat(&app, 11_004, "chairman", Role::Admin).await;
    admin.send("/controller").await.expect("Режим контролёра. Пришлите номер участка");
    admin.send("12").await.expect("Участок 12").expect("Потребитель: Паниковский М. С.");
}

#[tokio::test]
async fn a_controller_demoted_or_deactivated_mid_dialogue_loses_access_at_the_next_step() {
    let (app, plots) = app_with_plots().await;
    let ctx = app.ctx();

    let (demoted, member) = controller_chat(&app, 12_001, "balaganov", Role::Controller).await;
    demoted.send("/controller").await;
    demoted.send("7").await.expect("Участок 7");
    update_staff(ctx, &member, |s| s.role = Set(Role::Accountant)).await;
    let reply = demoted.send("12").await;
    reply.expect("больше недоступно");
    assert!(!reply.text().contains("Участок 12"), "{}", reply.text());
    demoted.send("/controller").await.expect(CONTROLLER_ONLY);

    let (deactivated, member) = controller_chat(&app, 12_002, "kozlevich", Role::Controller).await;
    deactivated.send("/controller").await;
    deactivated.send("3").await;
    deactivated.press(&format!("m:{}", plots.three.meter_id)).await.expect("Предыдущее показание: 0 м³.");
    update_staff(ctx, &member, |s| s.active = Set(false)).await;
    deactivated.send("15").await.expect("больше недоступно");
    let saved = reading::Entity::find().all(ctx.db.conn()).await.unwrap();
    assert!(saved.iter().all(|r| r.source != ReadingSource::ControllerBot), "{saved:?}");
}

/// A text message typed at `date` (Telegram keeps that date when the message, sent without a
/// signal, is delivered later).
fn typed_at(user_id: i64, text: &str, date: chrono::DateTime<chrono::Utc>) -> serde_json::Value {
    let mut update = tests::fake_telegram::updates::text(user_id, text);
    update["message"]["date"] = date.timestamp().into();
    update
}

#[tokio::test]
async fn a_reading_typed_without_a_signal_is_dated_when_it_was_typed_within_a_week() {
    let (app, plots) = app_with_plots().await;
    let (chat, _) = controller_chat(&app, 12_001, "ostap", Role::Controller).await;
    let now = app.ctx().now();
    let water = plots.three.meter_id;

    chat.send("/controller").await;
    chat.send("3").await.expect("Участок 3");
    chat.press(&format!("m:{water}")).await.expect("Предыдущее показание");
    // Typed five hours ago in a dead spot; Telegram delivered it now.
    let typed = now - chrono::Duration::hours(5);
    chat.push(typed_at(12_001, "7", typed)).await.expect("Пломба цела?");
    chat.press("s:1").await;
    chat.send_photo("meter-3", jpeg(800, 600)).await;
    chat.press("ok").await.expect("Показание принято");

    let saved: Vec<reading::Model> = reading::Entity::find().all(app.ctx().db.conn()).await.unwrap();
    let saved: Vec<_> = saved.into_iter().filter(|r| r.meter_id == water).collect();
    assert_eq!(saved.len(), 1);
    assert_eq!(saved[0].taken_at, typed, "dated when typed, not when delivered at {now}");

    // Eight days without a signal: refused with the reason, nothing stored.
    chat.press(&format!("m:{water}")).await.expect("Предыдущее показание: 7");
    let reply = chat.push(typed_at(12_001, "9", now - chrono::Duration::days(8))).await;
    reply.expect("Показание снято 8 дн. назад").expect("не старше 7 дней");
    let count =
        reading::Entity::find().all(app.ctx().db.conn()).await.unwrap().iter().filter(|r| r.meter_id == water).count();
    assert_eq!(count, 1);
}

/// Issue 16: the water intake's common meter is walked and read in the bot like a plot's meter
/// (its «plot» is the point «ВЗУ»), under the same rules, and the month's balance uses it.
#[tokio::test]
async fn a_controller_reads_the_common_meter_in_the_bot_and_the_balance_uses_it() {
    let (app, plots) = app_with_plots().await;
    let ctx = app.ctx();
    let line = service::testing::network_line(ctx, Service::Water, "Главный", "ВЗУ", false, &[]).await;
    let point = entities::contract::Entity::find_by_id(line.contract_id).one(ctx.db.conn()).await.unwrap().unwrap();
    let common = service::meters::of_contract(ctx.db.conn(), line.contract_id).await.unwrap()[0].id;
    let whole = |v: i64| vec![MeterValue::from_whole(v).unwrap()];
    // February closes on the 28th: common 200; plots 3, 7 and 12 at 10, 120 and 5.
    seed::reading(ctx, common, &whole(200), "2026-02-28").await;
    for (signed, value) in [(&plots.three, 10), (&plots.seven_water, 120), (&plots.twelve, 5)] {
        seed::reading(ctx, signed.meter_id, &whole(value), "2026-02-28").await;
    }
    // March, the morning of the walk: 25, 140 and 15 — 45 m³ sold.
    for (signed, value) in [(&plots.three, 25), (&plots.seven_water, 140), (&plots.twelve, 15)] {
        seed::reading(ctx, signed.meter_id, &whole(value), "2026-03-15").await;
    }
    let (chat, controller) = controller_chat(&app, 13_001, "ostap", Role::Controller).await;

    chat.send("/controller").await;
    let reply = chat.press("u").await;
    // Plot 7's power meter is still unread; the common meter's point closes the route.
    reply.expect("Не сняты за март 2026: 2.");
    let route = [plots.seven_power.plot_id, point.plot_id].map(|id| format!("p:{id}"));
    assert_eq!(reply.buttons(), route, "the common meter's point is on the walk");
    chat.send("взу").await.expect("Участок ВЗУ").expect("Потребитель: СНТ (общие сети)");
    chat.press(&format!("m:{common}")).await.expect("Предыдущее показание: 200 м³.");
    // The same validation as a plot's meter: going down is refused, nothing stored.
    chat.send("190").await.expect("Показание (общая) 190 меньше предыдущего (200).");
    chat.send("250").await.expect("Пломба цела?");
    chat.press("s:1").await;
    chat.send("без фото").await.expect("без фото показание контролёра не принимается");
    chat.send_photo("vzu", jpeg(800, 600)).await.expect("Пломба: цела").expect("Фото: приложено");
    chat.press("ok").await.expect("Показание принято");

    let saved: Vec<reading::Model> = reading::Entity::find().all(ctx.db.conn()).await.unwrap();
    let saved: Vec<_> = saved.into_iter().filter(|r| r.meter_id == common).collect();
    assert_eq!(saved.len(), 2, "February's and the walk's, not the refused 190: {saved:?}");
    let walked = &saved[1];
    assert_eq!(
        (walked.source, walked.staff_id, walked.seal_intact),
        (ReadingSource::ControllerBot, Some(controller.id), Some(true))
    );
    assert_eq!(walked.values(), [meter_value!(250_000)]);
    assert!(walked.photo_id.is_some());

    // The balance: 50 m³ supplied between the two common readings, 45 sold, 5 lost (10 %).
    let balance = service::network::balances(ctx.db.conn(), ctx, domain::Period::parse("2026-03").unwrap())
        .await
        .unwrap()
        .remove(0);
    assert_eq!(balance.interval.map(|(_, to)| to), Some(walked.taken_at));
    assert_eq!((balance.balance.supplied, balance.balance.sold), (50_000, 45_000));
    assert_eq!(balance.balance.losses_basis_points(), Some(1_000));
}
