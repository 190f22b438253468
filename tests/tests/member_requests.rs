//! Members' requests end to end: written in the bot (topic, text, photo), numbered, answered in
//! the panel, the answer arriving in the member's chat under the number, the member's reply
//! threaded to it; nobody else can write under it.

use std::time::Duration;

use domain::{RequestStatus, Service, TariffPlan};
use entities::{member_request, request_message};
use sea_orm::EntityTrait;
use service::access::telegram::LinkTarget;
use service::testing::photos::jpeg;
use service::testing::{new_consumer, sign, standard_tariffs};
use tests::bot_chat::BotChat;
use tests::fake_telegram::updates;
use tests::{PanelClient, TestApp};

#[tokio::test]
async fn a_request_written_in_the_bot_is_answered_in_the_panel_and_the_answer_reaches_its_chat() {
    let app = TestApp::spawn().await;
    let ctx = app.ctx();
    standard_tariffs(ctx).await;
    let bender =
        sign(ctx, "7", new_consumer("Бендер О. И.", None), "W-7", Service::Water, TariffPlan::Single, &[0]).await;
    let other =
        sign(ctx, "9", new_consumer("Козлевич А.", None), "W-9", Service::Water, TariffPlan::Single, &[0]).await;
    let (member, stranger) = (BotChat::new(&app.telegram, 601), BotChat::new(&app.telegram, 602));
    member.link(ctx, LinkTarget::Consumer(bender.consumer_id)).await;
    stranger.link(ctx, LinkTarget::Consumer(other.consumer_id)).await;

    let topics = member.send("Написать в правление").await;
    assert_eq!(topics.buttons(), ["rt:meter", "rt:seal", "rt:bill", "rt:other"]);
    member.press("rt:seal").await.expect("Тема: пломба");
    member.send(&"ж".repeat(2001)).await.expect("Текст обращения: не длиннее 2000 символов");
    let asked = member.send("Пломба на счётчике воды сорвана.").await;
    assert_eq!(asked.buttons(), ["np"]);
    let opened = member.send_photo("seal-photo", jpeg(640, 480)).await;
    let text = opened.text();
    let number: i64 = text
        .strip_prefix("Обращение № ")
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no number in «{text}»"));

    let panel = PanelClient::new(ctx);
    panel.login("admin", "admin-password").await;
    panel.get("/").await.assert_ok().assert_contains("Обращений за сутки");
    panel.get("/requests?status=new").await.assert_ok().assert_contains("Пломба на счётчике воды сорвана.");
    let page = panel.get(&format!("/requests/{number}")).await;
    page.assert_ok().assert_contains("Бендер О. И.").assert_contains("W-7").assert_contains("Фото к обращению");
    let too_long = "ж".repeat(2001);
    panel
        .post_form(&format!("/requests/{number}/answer"), &[("body", &too_long)])
        .await
        .assert_contains("не длиннее 2000");
    let since = app.telegram.calls().len();
    let answered =
        panel.post_form(&format!("/requests/{number}/answer"), &[("body", "Контролёр придёт в субботу.")]).await;
    assert_eq!(answered.location(), Some(format!("/requests/{number}").as_str()));

    let heading = format!("Ответ на обращение № {number}");
    let answer = app
        .telegram
        .wait_for_call(since, Duration::from_secs(10), |c| c.text().is_some_and(|t| t.starts_with(&heading)))
        .await;
    assert_eq!(answer.chat_id(), Some(601));
    assert!(answer.text().unwrap().contains("Контролёр придёт в субботу."));
    app.app.scheduler_looked().await;
    let answers = app.telegram.calls_to("sendMessage");
    let answers: Vec<_> = answers.iter().filter(|c| c.text().is_some_and(|t| t.starts_with(&heading))).collect();
    assert_eq!(answers.len(), 1, "sent once");

    // Someone else pressing a crafted «Ответить» cannot write under it.
    stranger.push(updates::callback(602, &format!("rq:{number}"), 0)).await;
    stranger.send("Я тоже хочу.").await.expect(&format!("Обращение № {number} не найдено."));

    member.press(&format!("rq:{number}")).await.expect(&format!("Напишите ответ к обращению № {number}"));
    member.send("Спасибо, буду дома.").await.expect(&format!("Ваш ответ добавлен к обращению № {number}"));
    let conn = ctx.db.conn();
    let request = member_request::Entity::find_by_id(number).one(conn).await.unwrap().unwrap();
    assert_eq!(request.status, RequestStatus::New, "back in the queue");
    let thread = request_message::Entity::find().all(conn).await.unwrap();
    let bodies: Vec<&str> = thread.iter().filter(|m| m.request_id == number).map(|m| m.body.as_str()).collect();
    assert_eq!(bodies, ["Пломба на счётчике воды сорвана.", "Контролёр придёт в субботу.", "Спасибо, буду дома."]);

    panel.post_form(&format!("/requests/{number}/status"), &[("status", "closed")]).await;
    member.press(&format!("rq:{number}")).await;
    member.send("Ещё вопрос.").await.expect("закрыто");
}
