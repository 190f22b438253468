//! The consumer told in Telegram when a payment is posted (issue 13.5), through the real app and
//! the fake Bot API: a payment entered in the panel reaches the linked chat once with the new
//! balance, a burst makes one message, a reversal says «сторнирован», an opt-out and a stale
//! notice send nothing, a blocked chat is recorded and turns reminders off, and a restart sends
//! nothing twice.

use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::{Service, kopecks, meter_value};
use entities::{consumer, delivery, payment};
use poem::http::StatusCode;
use sea_orm::{EntityTrait, QueryOrder};
use service::access::telegram::LinkTarget;
use service::audit::Actor;
use service::ledger::payments::notices::{self, QUIET};
use service::register::sign_up::SignedUp;
use service::testing::{default_now, member, standard_tariffs};
use tests::app::{start, test_config};
use tests::bot_chat::BotChat;
use tests::fake_telegram::Call;
use tests::{PanelClient, TestApp, seed};

fn is_notice(call: &Call) -> bool {
    call.is("sendMessage") && call.text().is_some_and(|t| t.contains("Не присылать такие сообщения"))
}

/// Payment notices Telegram accepted for `chat`.
fn notices_to(app: &TestApp, chat: i64) -> Vec<String> {
    let calls = app.telegram.calls_to("sendMessage");
    let accepted = calls.iter().filter(|c| is_notice(c) && c.chat_id() == Some(chat) && !c.result.is_null());
    accepted.filter_map(|c| c.text().map(str::to_owned)).collect()
}

/// A water consumer on plot 7 owing 1 200,00 ₽ for February (30 m³ at 40 ₽), linked to `chat`.
async fn owing(app: &TestApp, plot: &str, chat: i64) -> SignedUp {
    let ctx = app.ctx();
    let signed = member(ctx, plot, &format!("W-{plot}"), Service::Water, 100).await;
    seed::reading(ctx, signed.meter_id, &[meter_value!(130_000)], "2026-02-20").await;
    BotChat::new(&app.telegram, chat).link(ctx, LinkTarget::Consumer(signed.consumer_id)).await;
    signed
}

async fn accountant(app: &TestApp) -> PanelClient {
    let panel = PanelClient::new(app.ctx());
    panel.login("admin", "admin-password").await;
    panel
}

async fn pay(panel: &PanelClient, contract: &str, amount: &str) {
    let fields = [("contract", contract), ("amount", amount), ("paid_on", "2026-03-14"), ("reference", "")];
    panel.get("/payments").await.assert_ok();
    let page = panel.post_form("/payments", &fields).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
}

async fn payments(app: &TestApp) -> Vec<payment::Model> {
    payment::Entity::find().order_by_asc(payment::Column::Id).all(app.ctx().db.conn()).await.unwrap()
}

/// Moves the clock past the quiet time and waits for the next notice to `chat`.
async fn next_notice(app: &TestApp, chat: i64, at: DateTime<Utc>) -> String {
    let seen = app.telegram.calls().len();
    app.clock.set(at);
    let call = app.telegram.wait_for_call(seen, Duration::from_secs(10), |c| is_notice(c) && c.chat_id() == Some(chat));
    call.await.text().unwrap().to_owned()
}

#[tokio::test]
async fn a_payment_entered_in_the_panel_is_told_once_with_the_new_balance_and_so_is_its_reversal() {
    let app = TestApp::spawn_at(default_now()).await;
    standard_tariffs(app.ctx()).await;
    let chat = 51_007;
    owing(&app, "7", chat).await;
    let panel = accountant(&app).await;
    pay(&panel, "W-7", "500").await;

    // Within the quiet time nothing goes: more postings of the burst may follow.
    app.app.scheduler_looked().await;
    assert!(notices_to(&app, chat).is_empty(), "{:?}", notices_to(&app, chat));

    let text = next_notice(&app, chat, default_now() + QUIET).await;
    assert!(text.contains("Поступила оплата 500,00 ₽ от 14.03.2026 по договору № W-7 (участок 7)"), "{text}");
    assert!(text.contains("Договор № W-7: задолженность 700,00 ₽"), "{text}");
    app.app.scheduler_looked().await;
    assert_eq!(notices_to(&app, chat).len(), 1);

    let original = payments(&app).await.remove(0);
    let path = format!("/payments/{}", original.id);
    panel.get(&path).await.assert_ok();
    let page = panel.post_form(&format!("{path}/reverse"), &[("reason", "Внесён дважды")]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let text = next_notice(&app, chat, default_now() + QUIET * 3).await;
    assert!(text.contains("Платёж 500,00 ₽ от 14.03.2026 по договору № W-7 (участок 7) сторнирован"), "{text}");
    let debt = kopecks!(1200_00);
    assert!(text.contains(&format!("Договор № W-7: задолженность {debt}.")), "{text}");
    assert!(!text.contains("Поступила оплата"), "the first payment is not told again: {text}");

    // A restart (as after a crash or a deploy) sends nothing again.
    let app = app.restart(|_| {}).await;
    app.clock.set(default_now() + QUIET * 10);
    app.app.scheduler_looked().await;
    assert_eq!(notices_to(&app, chat).len(), 2, "{:?}", notices_to(&app, chat));
    let rows = delivery::Entity::find().all(app.ctx().db.conn()).await.unwrap();
    let sent: Vec<_> = rows.iter().filter(|d| d.kind == notices::KIND).map(|d| d.sent_at.is_some()).collect();
    assert_eq!(sent, [true, true]);
}

#[tokio::test]
async fn two_payments_posted_together_make_one_message_listing_both() {
    let app = TestApp::spawn_at(default_now()).await;
    standard_tariffs(app.ctx()).await;
    let chat = 52_007;
    owing(&app, "7", chat).await;
    let panel = accountant(&app).await;
    pay(&panel, "W-7", "300").await;
    app.clock.set(default_now() + chrono::Duration::seconds(30));
    pay(&panel, "W-7", "900").await;

    // The quiet time counts from the newest posting of the burst.
    app.clock.set(default_now() + QUIET);
    app.app.scheduler_looked().await;
    assert!(notices_to(&app, chat).is_empty(), "{:?}", notices_to(&app, chat));

    let text = next_notice(&app, chat, default_now() + QUIET * 2).await;
    assert!(text.contains("Поступила оплата 300,00 ₽"), "{text}");
    assert!(text.contains("Поступила оплата 900,00 ₽"), "{text}");
    assert_eq!(text.matches("Договор № W-7:").count(), 1, "{text}");
    assert!(text.contains("Договор № W-7: задолженности нет."), "{text}");
    app.app.scheduler_looked().await;
    assert_eq!(notices_to(&app, chat).len(), 1, "{:?}", notices_to(&app, chat));
    let rows = delivery::Entity::find().all(app.ctx().db.conn()).await.unwrap();
    assert!(rows.iter().filter(|d| d.kind == notices::KIND).all(|d| d.sent_at.is_some()), "{rows:?}");
}

#[tokio::test]
async fn opted_out_stale_and_blocked_get_nothing_and_a_block_turns_reminders_off() {
    let app = TestApp::spawn_at(default_now()).await;
    let ctx = app.ctx();
    standard_tariffs(ctx).await;
    let (opted_out, blocked, late) = (53_001, 53_002, 53_003);
    let quiet = owing(&app, "1", opted_out).await;
    let blocking = owing(&app, "2", blocked).await;
    owing(&app, "3", late).await;
    app.telegram.block(blocked);
    let panel = accountant(&app).await;
    // Opted out before the payment: nothing is even queued.
    let actor = Actor::Consumer { consumer_id: quiet.consumer_id, telegram_user_id: opted_out };
    service::readings::reminders::set_enabled(ctx, quiet.consumer_id, false, actor).await.unwrap();
    pay(&panel, "W-1", "100").await;
    pay(&panel, "W-2", "200").await;

    let seen = app.telegram.calls().len();
    app.clock.set(default_now() + QUIET);
    app.telegram.wait_for_call(seen, Duration::from_secs(10), |c| is_notice(c) && c.chat_id() == Some(blocked)).await;
    // Well past every retry: the blocked chat is tried once.
    app.clock.set(default_now() + chrono::Duration::hours(3));
    app.app.scheduler_looked().await;
    let tries = app.telegram.calls_to("sendMessage").iter().filter(|c| is_notice(c)).count();
    assert_eq!(tries, 1, "one attempt, to the blocked chat only");
    let stored = consumer::Entity::find_by_id(blocking.consumer_id).one(ctx.db.conn()).await.unwrap().unwrap();
    assert!(!stored.reminders_enabled, "whoever blocked the bot gets neither reminders nor notices");
    let rows = delivery::Entity::find().all(ctx.db.conn()).await.unwrap();
    let notice_rows: Vec<_> = rows.iter().filter(|d| d.kind == notices::KIND).collect();
    let [row] = &notice_rows[..] else { panic!("only the blocked member's notice was queued: {rows:?}") };
    assert!(row.sent_at.is_none());
    assert!(row.last_error.as_deref().is_some_and(|e| e.starts_with(service::deliveries::BLOCKED)), "{row:?}");

    // The bot was down for three days: a notice that old is not news, and is put aside for good.
    let now = default_now() + chrono::Duration::hours(3);
    pay(&panel, "W-3", "300").await;
    app.clock.set(now + chrono::Duration::days(3));
    app.app.scheduler_looked().await;
    assert!(notices_to(&app, late).is_empty(), "{:?}", notices_to(&app, late));
    let rows = delivery::Entity::find().all(ctx.db.conn()).await.unwrap();
    let stale = rows.iter().rev().find(|d| d.kind == notices::KIND).unwrap();
    assert_eq!(stale.last_error.as_deref(), Some("skipped: устарело"), "{stale:?}");
    assert_eq!(stale.attempts, 0, "not claimed, not tried");
}

#[tokio::test]
async fn opting_out_after_the_posting_holds() {
    let app = TestApp::spawn_at(default_now()).await;
    let ctx = app.ctx();
    standard_tariffs(ctx).await;
    let chat = 54_001;
    let signed = owing(&app, "4", chat).await;
    let panel = accountant(&app).await;
    pay(&panel, "W-4", "100").await;
    // «Не напоминать» pressed before the quiet time ran out.
    BotChat::new(&app.telegram, chat).send("/reminders").await;
    BotChat::new(&app.telegram, chat).press("rem:off").await.expect("Напоминания выключены");
    app.clock.set(default_now() + QUIET * 2);
    app.app.scheduler_looked().await;
    app.app.scheduler_looked().await;
    assert!(notices_to(&app, chat).is_empty(), "{:?}", notices_to(&app, chat));
    let stored = consumer::Entity::find_by_id(signed.consumer_id).one(ctx.db.conn()).await.unwrap().unwrap();
    assert!(!stored.reminders_enabled);
    let rows = delivery::Entity::find().all(ctx.db.conn()).await.unwrap();
    let row = rows.iter().find(|d| d.kind == notices::KIND).expect("queued while reminders were on");
    assert_eq!(row.last_error.as_deref(), Some("skipped: уведомления отключены"), "{row:?}");
}

/// Two instances on one database (PostgreSQL: an SQLite file is for one process, see
/// `two_instances.rs`) both look at the same notices; the lease lets one send each.
#[tokio::test]
async fn a_second_instance_on_the_same_database_sends_nothing_twice() {
    let postgres = std::env::var("TEST_DATABASE_URL").is_ok_and(|url| url.starts_with("postgres"));
    if !postgres {
        assert!(std::env::var_os("CHERNOMORSK_REQUIRE_POSTGRES").is_none(), "TEST_DATABASE_URL is not postgres://");
        eprintln!("payment_notices: the two-instance case skipped, it needs PostgreSQL (TEST_DATABASE_URL)");
        return;
    }
    let app = TestApp::spawn_at(default_now()).await;
    standard_tariffs(app.ctx()).await;
    let chats = [55_001, 55_002, 55_003];
    for (plot, chat) in ["1", "2", "3"].into_iter().zip(chats) {
        owing(&app, plot, chat).await;
    }
    let second = start(test_config(&app.dir, app.database_url(), Some(&app.telegram)), &app.clock, |_| {}).await;
    let panel = accountant(&app).await;
    for contract in ["W-1", "W-2", "W-3"] {
        pay(&panel, contract, "100").await;
    }

    app.clock.set(default_now() + QUIET);
    for chat in chats {
        let to_chat = |c: &Call| is_notice(c) && c.chat_id() == Some(chat);
        app.telegram.wait_for_call(0, Duration::from_secs(10), to_chat).await;
    }
    // Both schedulers look again several times, and once past the lease.
    for _ in 0..5 {
        app.app.scheduler_looked().await;
        second.scheduler_looked().await;
    }
    app.clock.set(default_now() + QUIET + service::deliveries::LEASE * 2);
    app.app.scheduler_looked().await;
    second.scheduler_looked().await;
    for chat in chats {
        assert_eq!(notices_to(&app, chat).len(), 1, "chat {chat}: {:?}", notices_to(&app, chat));
    }
    second.stop().await;
}
