//! A consumer's chat can only send readings for meters on that consumer's own contracts, however
//! the update was made: the buttons offer only their meters, and the service refuses the rest.

use domain::{Service, TariffPlan};
use entities::{reading, telegram_dialogue};
use sea_orm::{ActiveModelTrait, EntityTrait, PaginatorTrait, Set};
use serde_json::{Value, json};
use service::Context;
use service::access::telegram::LinkTarget;
use service::register::sign_up::{ConsumerRef, SignedUp};
use service::testing::{default_now, new_consumer, sign, standard_tariffs};
use tests::TestApp;
use tests::bot_chat::BotChat;
use tests::fake_telegram::updates;

const NOT_YOURS: &str = "Этот счётчик не относится к вашим договорам.";

/// Bender with water and electricity on plot 7, and Koreiko's water meter on plot 8.
struct Neighbours {
    water: SignedUp,
    power: SignedUp,
    theirs: SignedUp,
}

async fn neighbours() -> (TestApp, Neighbours) {
    let app = TestApp::spawn_at(default_now()).await;
    let ctx = app.ctx();
    standard_tariffs(ctx).await;
    let bender = new_consumer("Бендер О. И.", None);
    let water = sign(ctx, "7", bender, "W-7", Service::Water, TariffPlan::Single, &[100]).await;
    let bender = ConsumerRef::Existing(water.consumer_id);
    let power = sign(ctx, "7", bender, "E-7", Service::Electricity, TariffPlan::Single, &[10]).await;
    let koreiko = new_consumer("Корейко А. И.", None);
    let theirs = sign(ctx, "8", koreiko, "W-8", Service::Water, TariffPlan::Single, &[100]).await;
    (app, Neighbours { water, power, theirs })
}

async fn reading_count(ctx: &Context) -> u64 {
    reading::Entity::find().count(ctx.db.conn()).await.unwrap()
}

/// Stores `state` as the chat's dialogue, as a stale or forged state would be.
async fn put_state(ctx: &Context, chat_id: i64, state: Value) {
    let conn = ctx.db.conn();
    telegram_dialogue::Entity::delete_by_id(chat_id).exec(conn).await.unwrap();
    let row = telegram_dialogue::ActiveModel {
        chat_id: Set(chat_id),
        state: Set(state.to_string()),
        updated_at: Set(ctx.now()),
    };
    row.insert(conn).await.unwrap();
}

#[tokio::test]
async fn a_crafted_meter_button_does_not_open_someone_elses_meter() {
    let (app, n) = neighbours().await;
    let chat = BotChat::new(&app.telegram, 7001);
    chat.link(app.ctx(), LinkTarget::Consumer(n.water.consumer_id)).await;

    let choice = chat.send("Передать показания").await;
    assert_eq!(choice.buttons(), [format!("m:{}", n.water.meter_id), format!("m:{}", n.power.meter_id)]);
    let offered = choice.calls.iter().find(|c| !c.callback_data().is_empty()).expect("the choice of meters");
    let message_id = offered.result["message_id"].as_i64().expect("a message id");

    // A press on that message carrying the neighbour's meter, which the bot never offered.
    let crafted = updates::callback(7001, &format!("m:{}", n.theirs.meter_id), message_id);
    let reply = chat.push(crafted).await;
    reply.expect("Эта кнопка уже неактуальна");
    assert!(!reply.text().contains("SN-W-8"), "the neighbour's meter is not shown:\n{}", reply.text());
    chat.send("105").await.expect("Выберите счётчик кнопкой выше");
    assert_eq!(reading_count(app.ctx()).await, 0);
}

#[tokio::test]
async fn a_draft_naming_someone_elses_meter_is_refused_and_nothing_is_stored() {
    let (app, n) = neighbours().await;
    let chat = BotChat::new(&app.telegram, 7002);
    chat.link(app.ctx(), LinkTarget::Consumer(n.water.consumer_id)).await;

    // The value step checks the reading with the service before going on.
    let draft = json!({"nonce": "forged-1", "mode": "Consumer", "meter_id": n.theirs.meter_id});
    put_state(app.ctx(), 7002, json!({ "Values": draft })).await;
    chat.send("105").await.expect(NOT_YOURS);
    chat.send("105").await.expect("Выберите действие в меню");

    // «Подтвердить» submits: the service refuses there too.
    let draft = json!({"nonce": "forged-2", "mode": "Consumer", "meter_id": n.theirs.meter_id, "values": [105_000]});
    put_state(app.ctx(), 7002, json!({ "Confirm": draft })).await;
    let calls = app.telegram.calls();
    let sent = calls.iter().rev().filter(|c| c.chat_id() == Some(7002));
    let last_message = sent.filter_map(|c| c.result["message_id"].as_i64()).next().expect("a message in the chat");
    chat.push(updates::callback(7002, "ok", last_message)).await.expect(NOT_YOURS);

    assert_eq!(reading_count(app.ctx()).await, 0);
}
