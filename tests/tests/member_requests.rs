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
    // The member's photo is the office's: a controller does not get it by its number.
    let photo_id = entities::request_message::Entity::find()
        .all(ctx.db.conn())
        .await
        .unwrap()
        .iter()
        .find_map(|m| m.photo_id)
        .expect("the request's photo");
    panel.get(&format!("/photos/{photo_id}")).await.assert_ok();
    service::testing::staff(ctx, "kontroler", domain::Role::Controller).await;
    let controller = PanelClient::new(ctx);
    controller.login("kontroler", "kontroler-password").await;
    assert_eq!(controller.get(&format!("/photos/{photo_id}")).await.status, poem::http::StatusCode::NOT_FOUND);
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
    panel.get(&format!("/requests/{number}")).await.assert_contains("в Telegram: доставлено");

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

    // Reopened and answered once the member has blocked the bot: the page says the answer did
    // not reach them, rather than passing it for one they read.
    panel.post_form(&format!("/requests/{number}/status"), &[("status", "in_work")]).await;
    app.telegram.block(601);
    panel.post_form(&format!("/requests/{number}/answer"), &[("body", "Перезвоните, пожалуйста.")]).await;
    app.app.scheduler_looked().await;
    app.app.scheduler_looked().await;
    panel.get(&format!("/requests/{number}")).await.assert_contains("в Telegram: заблокировал бота");
}

/// Logs `login` (a new staff member with `role`) into the panel.
async fn panel_as(ctx: &service::Context, login: &str, role: domain::Role) -> PanelClient {
    service::testing::staff(ctx, login, role).await;
    let panel = PanelClient::new(ctx);
    let landed = panel.login(login, &format!("{login}-password")).await;
    panel.get(landed.location().expect("login redirects")).await.assert_ok();
    panel
}

/// Issue 19 point 2: «Поручить контролёру» puts the member's plot on the walk (`/m` and the
/// bot's list) with the request's number and text until a controller reads a meter there, or
/// the request is closed; the member is told in the bot; only meter and seal requests, only the
/// member's own plots.
#[tokio::test]
async fn a_meter_request_becomes_a_controllers_task_until_the_plot_is_read_or_it_is_closed() {
    use domain::{RequestTopic, Role};
    use service::members::requests::{self, Member};

    let app = TestApp::spawn_at(service::testing::default_now()).await;
    let ctx = app.ctx();
    standard_tariffs(ctx).await;
    let bender =
        sign(ctx, "7", new_consumer("Бендер О. И.", None), "W-7", Service::Water, TariffPlan::Single, &[0]).await;
    sign(ctx, "9", new_consumer("Козлевич А.", None), "W-9", Service::Water, TariffPlan::Single, &[0]).await;
    let chat = BotChat::new(&app.telegram, 701);
    chat.link(ctx, LinkTarget::Consumer(bender.consumer_id)).await;
    let member = Member { consumer_id: bender.consumer_id, telegram_user_id: 701 };
    let open =
        |topic, text: &'static str| async move { requests::open(ctx, member, topic, text, None).await.unwrap().id };
    let meter = open(RequestTopic::Meter, "Счётчик воды крутится при закрытом кране.").await;
    let seal = open(RequestTopic::Seal, "Проверьте пломбу, пожалуйста.").await;
    let bill = open(RequestTopic::Bill, "Почему такой большой счёт?").await;

    let office = panel_as(ctx, "zosya", Role::Accountant).await;
    office.get(&format!("/requests/{bill}")).await.assert_ok().assert_lacks("Поручить контролёру");
    office.post_form(&format!("/requests/{bill}/task"), &[("plot", "7")]).await;
    office
        .get(&format!("/requests/{bill}"))
        .await
        .assert_contains("Контролёру поручаются только обращения о счётчике или пломбе.");
    let page = office.get(&format!("/requests/{meter}")).await;
    page.assert_ok().assert_contains("Поручить контролёру").assert_contains(r#"<option value="7">"#);
    // A crafted form naming someone else's plot, or no plot at all.
    for plot in ["9", "", "1; DROP TABLE plots"] {
        let refused = office.post_form(&format!("/requests/{meter}/task"), &[("plot", plot)]).await;
        assert_eq!(refused.status, poem::http::StatusCode::SEE_OTHER);
        office.get(&format!("/requests/{meter}")).await.assert_contains("не принадлежит члену товарищества");
    }
    let conn = ctx.db.conn();
    assert!(service::readings::walk::tasks(conn).await.unwrap().is_empty(), "nothing assigned by refusals");

    let since = app.telegram.calls().len();
    let assigned = office.post_form(&format!("/requests/{meter}/task"), &[("plot", "7")]).await;
    assert_eq!(assigned.location(), Some(format!("/requests/{meter}").as_str()));
    office.get(&format!("/requests/{meter}")).await.assert_contains("Поручено контролёру: участок 7, в списке обхода.");
    let twice = office.post_form(&format!("/requests/{meter}/task"), &[("plot", "7")]).await;
    assert_eq!(twice.status, poem::http::StatusCode::SEE_OTHER);
    office.get(&format!("/requests/{meter}")).await.assert_contains("уже поручено контролёру");
    office.post_form(&format!("/requests/{seal}/task"), &[("plot", "7")]).await;

    // The member is told, once per task, under the request's number.
    let heading = format!("Ответ на обращение № {meter}");
    let told = app
        .telegram
        .wait_for_call(since, Duration::from_secs(10), |c| c.text().is_some_and(|t| t.starts_with(&heading)))
        .await;
    assert_eq!(told.chat_id(), Some(701));
    assert!(told.text().unwrap().contains("придёт на участок 7"), "{:?}", told.text());
    let request = member_request::Entity::find_by_id(meter).one(conn).await.unwrap().unwrap();
    assert_eq!(request.status, RequestStatus::InWork);
    let audited = entities::audit_log::Entity::find().all(conn).await.unwrap();
    assert_eq!(audited.iter().filter(|a| a.action == "request.task").count(), 2, "{audited:?}");

    // On the walk: the phone's list and the bot's.
    let walker = panel_as(ctx, "ostap", Role::Controller).await;
    walker
        .get("/m/unread")
        .await
        .assert_ok()
        .assert_contains(&format!("обращение № {meter}: «Счётчик воды крутится при закрытом кране.»"))
        .assert_contains(&format!("обращение № {seal}"));
    let controller = service::testing::staff(ctx, "kozlevich", Role::Controller).await;
    let bot = BotChat::new(&app.telegram, 702);
    bot.link(ctx, LinkTarget::Staff(controller.id)).await;
    bot.send("/controller").await;
    let list = bot.press("u").await;
    list.expect("Поручения по обращениям:")
        .expect(&format!("Участок 7 — обращение № {meter}: «Счётчик воды крутится при закрытом кране.»"));
    assert_eq!(list.buttons()[0], format!("p:{}", bender.plot_id), "the task's plot leads");

    // Closed by staff: the seal request leaves the walk.
    office.post_form(&format!("/requests/{seal}/status"), &[("status", "closed")]).await;
    walker.get("/m/unread").await.assert_lacks(&format!("обращение № {seal}"));

    // A controller reads the plot's meter in the bot: the task is done.
    bot.press(&format!("p:{}", bender.plot_id)).await.expect("Участок 7");
    bot.press(&format!("m:{}", bender.meter_id)).await;
    bot.send("3").await.expect("Пломба цела?");
    bot.press("s:1").await;
    bot.send_photo("meter-7", jpeg(800, 600)).await;
    bot.press("ok").await.expect("Показание принято");
    walker.get("/m/unread").await.assert_lacks(&format!("обращение № {meter}"));
    let list = bot.press("u").await;
    assert!(!list.text().contains("Поручения"), "{}", list.text());
    office.get(&format!("/requests/{meter}")).await.assert_contains("выполнено или закрыто");
}

/// A member has at most `OPEN_MAX` requests waiting for the board: the next «Написать в правление»
/// says so before asking for a text or a photo; once one is answered, a new one can be written.
#[tokio::test]
async fn a_member_with_requests_enough_waiting_is_told_before_writing_another() {
    use service::members::requests;

    let app = TestApp::spawn().await;
    let ctx = app.ctx();
    let bender =
        sign(ctx, "7", new_consumer("Бендер О. И.", None), "W-7", Service::Water, TariffPlan::Single, &[0]).await;
    let chat = BotChat::new(&app.telegram, 611);
    chat.link(ctx, LinkTarget::Consumer(bender.consumer_id)).await;
    let member = requests::Member { consumer_id: bender.consumer_id, telegram_user_id: 611 };
    let mut opened = Vec::new();
    for n in 0..requests::OPEN_MAX {
        let body = format!("Вопрос {n}");
        opened.push(requests::open(ctx, member, domain::RequestTopic::Other, &body, None).await.unwrap().id);
    }
    let refused = requests::open(ctx, member, domain::RequestTopic::Other, "Ещё вопрос", None).await;
    assert!(matches!(refused, Err(requests::RequestError::TooManyOpen)), "{refused:?}");

    chat.send("Написать в правление").await.expect("ещё ждут ответа правления");
    requests::answer(ctx, opened[0], "Ответили.", service::audit::Actor::System).await.unwrap();
    // The answer's own «Ответить» (rq:…) may come in the same moment.
    let topics = chat.send("Написать в правление").await;
    assert!(topics.buttons().iter().any(|b| b == "rt:other"), "{:?}", topics.buttons());
}
