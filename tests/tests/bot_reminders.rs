//! Reminders to send readings: once a month, in the window (days 20–25 from 10:00 Moscow time),
//! to exactly the linked consumers who have not sent this month's readings and have not opted
//! out, with the debt when it is above 1000 ₽ — and not again after a restart.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use domain::{Service, TariffPlan, kopecks, meter_value};
use entities::{consumer, delivery};
use sea_orm::EntityTrait;
use service::access::telegram::LinkTarget;
use service::audit::Actor;
use service::testing::{default_now, new_consumer, sign, standard_tariffs};
use tests::bot_chat::BotChat;
use tests::fake_telegram::Call;
use tests::{TestApp, seed};

fn reminders(app: &TestApp) -> Vec<Call> {
    let is_reminder = |call: &Call| call.text().is_some_and(|t| t.starts_with("Напоминаем"));
    app.telegram.calls_to("sendMessage").into_iter().filter(is_reminder).collect()
}

/// Moscow is UTC+3 all year.
fn moscow(day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, day, hour - 3, minute, 0).unwrap()
}

#[tokio::test]
async fn reminds_once_exactly_the_linked_consumers_without_readings_who_want_it() {
    // 15 March: before the window.
    let app = TestApp::spawn_at(default_now()).await;
    let ctx = app.ctx();
    standard_tariffs(ctx).await;
    let water = |name| new_consumer(name, None);
    let read_this_month = sign(ctx, "3", water("Корейко А. И."), "W-3", Service::Water, TariffPlan::Single, &[0]).await;
    let opted_out = sign(ctx, "12", water("Паниковский М. С."), "W-12", Service::Water, TariffPlan::Single, &[0]).await;
    let due = sign(ctx, "7", water("Бендер О. И."), "W-7", Service::Water, TariffPlan::Single, &[100]).await;
    sign(ctx, "9", water("Балаганов Ш."), "W-9", Service::Water, TariffPlan::Single, &[0]).await;
    seed::reading(ctx, read_this_month.meter_id, &[meter_value!(5_000)], "2026-03-10").await;
    // 30 m³ in February at 40 ₽, unpaid.
    seed::reading(ctx, due.meter_id, &[meter_value!(130_000)], "2026-02-20").await;
    let debt = kopecks!(1200_00);

    let (korejko, panikovsky, bender) = (41_001, 41_002, 41_003);
    for (user, signed) in [(korejko, &read_this_month), (panikovsky, &opted_out), (bender, &due)] {
        BotChat::new(&app.telegram, user).link(ctx, LinkTarget::Consumer(signed.consumer_id)).await;
    }
    let actor = Actor::Consumer { consumer_id: opted_out.consumer_id, telegram_user_id: panikovsky };
    service::readings::reminders::set_enabled(ctx, opted_out.consumer_id, false, actor).await.unwrap();

    app.app.scheduler_looked().await;
    app.clock.set(moscow(20, 9, 59));
    app.app.scheduler_looked().await;
    assert!(reminders(&app).is_empty(), "{:?}", reminders(&app));

    let seen = app.telegram.calls().len();
    app.clock.set(moscow(20, 10, 0));
    let reminder = app.telegram.wait_for_call(seen, Duration::from_secs(10), |c| reminders_to(c, bender)).await;
    let text = reminder.text().unwrap();
    assert!(text.contains("показания счётчиков за март 2026"), "{text}");
    assert!(text.contains(&format!("Задолженность: {debt}")), "{text}");
    assert_eq!(reminder.callback_data(), ["rem:off"]);
    app.app.scheduler_looked().await;
    assert_eq!(reminders(&app).len(), 1, "{:?}", reminders(&app));

    // A restart later in the window sends nothing again.
    let app = app.restart(|_| {}).await;
    app.clock.set(moscow(22, 12, 0));
    app.app.scheduler_looked().await;
    assert_eq!(reminders(&app).len(), 1, "{:?}", reminders(&app));
    let sent = delivery::Entity::find().all(app.ctx().db.conn()).await.unwrap();
    let sent: Vec<_> = sent.iter().map(|d| (d.kind.as_str(), d.target.clone(), d.sent_at.is_some())).collect();
    assert_eq!(sent, [("reminder", due.consumer_id.to_string(), true)]);

    // «Не напоминать», pressed from the reminder.
    let chat = BotChat::new(&app.telegram, bender);
    chat.press("rem:off").await.expect("Напоминания выключены. Включить их снова — /reminders.");
    let stored = consumer::Entity::find_by_id(due.consumer_id).one(app.ctx().db.conn()).await.unwrap().unwrap();
    assert!(!stored.reminders_enabled);
    let reply = chat.send("/reminders").await;
    reply.expect("Напоминания о показаниях выключены.");
    assert_eq!(reply.buttons(), ["rem:on"]);
    chat.press("rem:on").await.expect("Напоминания включены.");
}

fn reminders_to(call: &Call, user: i64) -> bool {
    call.is("sendMessage") && call.chat_id() == Some(user) && call.text().is_some_and(|t| t.starts_with("Напоминаем"))
}

#[tokio::test]
async fn a_consumer_who_blocked_the_bot_is_tried_once_and_then_left_alone() {
    let app = TestApp::spawn_at(default_now()).await;
    let ctx = app.ctx();
    standard_tariffs(ctx).await;
    let signed =
        sign(ctx, "7", new_consumer("Бендер О. И.", None), "W-7", Service::Water, TariffPlan::Single, &[0]).await;
    let bender = 42_001;
    BotChat::new(&app.telegram, bender).link(ctx, LinkTarget::Consumer(signed.consumer_id)).await;
    app.telegram.block(bender);

    let seen = app.telegram.calls().len();
    app.clock.set(moscow(20, 10, 0));
    app.telegram.wait_for_call(seen, Duration::from_secs(10), |c| reminders_to(c, bender)).await;
    // Well past every retry the scheduler would make within the window.
    app.clock.set(moscow(22, 12, 0));
    app.app.scheduler_looked().await;
    assert_eq!(reminders(&app).len(), 1, "one attempt only: {:?}", reminders(&app));

    let stored = consumer::Entity::find_by_id(signed.consumer_id).one(ctx.db.conn()).await.unwrap().unwrap();
    assert!(!stored.reminders_enabled, "reminders are turned off for whoever blocked the bot");
    let attempts = delivery::Entity::find().all(ctx.db.conn()).await.unwrap();
    let [attempt] = &attempts[..] else { panic!("one delivery row: {attempts:?}") };
    assert!(attempt.sent_at.is_none());
    assert!(attempt.last_error.as_deref().is_some_and(|e| e.contains("blocked")), "{:?}", attempt.last_error);
}
