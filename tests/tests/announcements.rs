//! Announcements end to end: composed and sent from the panel, delivered by the scheduler through
//! the fake Bot API to exactly the chosen members, once, across a restart; a blocked chat
//! recorded; a send stopped part way goes on without a duplicate; Telegram's 429s waited out.

use domain::Service;
use service::access::telegram::LinkTarget;
use service::audit::Actor;
use service::members::announcements::{self, Audience, Draft};
use service::testing::{TestContext, link, member, standard_tariffs};
use tests::bot_chat::BotChat;
use tests::fake_telegram::Call;
use tests::{FakeTelegram, PanelClient, TestApp};

/// Announcement messages with `needle` that Telegram accepted, by chat.
fn delivered(telegram: &FakeTelegram, needle: &str) -> Vec<i64> {
    let mut chats: Vec<i64> = telegram
        .calls_to("sendMessage")
        .iter()
        .filter(|c| c.text().is_some_and(|t| t.starts_with("Объявление") || t.starts_with("❗")))
        .filter(|c| c.text().is_some_and(|t| t.contains(needle)) && !c.result.is_null())
        .filter_map(Call::chat_id)
        .collect();
    chats.sort();
    chats
}

/// Waits (through the scheduler's looks, not the clock) until no send of `id` is pending.
async fn all_sent(app: &TestApp, id: i64) {
    for _ in 0..200 {
        app.app.scheduler_looked().await;
        let (_, tally, _) = announcements::receipts(app.ctx(), id).await.unwrap().unwrap();
        if tally.pending == 0 {
            return;
        }
    }
    panic!("announcement {id} is still being sent");
}

fn announcement_id(page: &tests::Page) -> i64 {
    let location = page.location().expect("sending redirects to the announcement");
    location.trim_start_matches("/announcements/").parse().expect("an announcement's address")
}

#[tokio::test]
async fn water_consumers_on_a_street_get_it_once_blocked_recorded_muted_skipped_unless_urgent() {
    let app = TestApp::spawn().await;
    let ctx = app.ctx();
    standard_tariffs(ctx).await;
    let mut members = Vec::new();
    for (plot, service, chat) in [
        ("1", Service::Water, Some(501)),
        ("2", Service::Water, Some(502)),
        ("3", Service::Electricity, Some(503)),
        ("4", Service::Water, None),
        ("5", Service::Water, Some(505)),
        ("7", Service::Water, Some(507)),
    ] {
        let number = format!("{}-{plot}", service.code());
        let signed = member(ctx, plot, &number, service, 0).await;
        if let Some(chat) = chat {
            BotChat::new(&app.telegram, chat).link(ctx, LinkTarget::Consumer(signed.consumer_id)).await;
        }
        members.push(signed);
    }
    // Plot 5's member mutes announcements in the bot; plot 2's blocked the bot.
    let muting = BotChat::new(&app.telegram, 505);
    assert_eq!(muting.send("/announcements").await.buttons(), ["ann:off"]);
    muting.press("ann:off").await.expect("кроме срочных");
    app.telegram.block(502);

    let panel = PanelClient::new(ctx);
    panel.login("admin", "admin-password").await;
    panel.get("/announcements").await.assert_ok();
    let street = [("service", "water"), ("plots", "1, 2, 3, 4, 5")];
    let fields = |body: &'static str, urgent: bool| {
        let mut fields = vec![("body", body)];
        fields.extend(street);
        if urgent {
            fields.push(("urgent", "on"));
        }
        fields
    };
    let preview = panel.post_form("/announcements/preview", &fields("Воду отключат в среду с 9 до 14.", false)).await;
    preview.assert_ok().assert_contains("Получат: 2");
    let sent = panel.post_form("/announcements", &fields("Воду отключат в среду с 9 до 14.", false)).await;
    let id = announcement_id(&sent);
    all_sent(&app, id).await;
    assert_eq!(delivered(&app.telegram, "Воду отключат"), [501]);
    let to_blocked = |c: &Call| c.chat_id() == Some(502) && c.text().is_some_and(|t| t.contains("Воду отключат"));
    let blocked = app.telegram.calls_to("sendMessage").iter().filter(|c| to_blocked(c)).count();
    assert_eq!(blocked, 1, "tried once, not retried");
    let page = panel.get(&format!("/announcements/{id}")).await;
    page.assert_ok().assert_contains("Член 1").assert_contains("доставлено").assert_contains("заблокировал бота");
    page.assert_lacks("Член 5").assert_lacks("Член 7").assert_lacks("Член 3");

    // Urgent: the muted member gets it too.
    let sent = panel.post_form("/announcements", &fields("Авария на линии: света нет до вечера.", true)).await;
    let urgent = announcement_id(&sent);
    all_sent(&app, urgent).await;
    assert_eq!(delivered(&app.telegram, "Авария на линии"), [501, 505]);

    // A restart sends nothing again.
    let calls = app.telegram.calls_to("sendMessage").len();
    let app = app.restart(|_| {}).await;
    app.app.scheduler_looked().await;
    app.app.scheduler_looked().await;
    assert_eq!(app.telegram.calls_to("sendMessage").len(), calls);
    let listed = PanelClient::new(app.ctx());
    listed.login("admin", "admin-password").await;
    listed.get("/announcements").await.assert_ok().assert_contains("Авария на линии");
}

#[tokio::test]
async fn a_send_stopped_part_way_goes_on_after_a_restart_without_a_duplicate_waiting_out_429s() {
    let t = TestContext::new().await;
    standard_tariffs(&t.ctx).await;
    let telegram = FakeTelegram::start().await;
    let chats: Vec<i64> = (1..=10).map(|n| 7000 + n).collect();
    for (n, chat) in chats.iter().enumerate() {
        let plot = (n + 1).to_string();
        let signed = member(&t.ctx, &plot, &format!("W-{plot}"), Service::Water, 0).await;
        link(&t.ctx, signed.consumer_id, *chat).await;
    }
    let draft = Draft {
        body: "Собрание в субботу в 11:00.".into(), urgent: false, audience: Audience::default()
    };
    announcements::send(&t.ctx, &draft, Actor::System).await.unwrap();

    // The first instance sends three, then stops.
    let first = bot::scheduler::Announcements { bot: bot::scheduler::broadcaster(telegram.bot()), batch: 3 };
    bot::scheduler::step(&first, &t.ctx).await.unwrap();
    drop(first);
    assert_eq!(delivered(&telegram, "Собрание").len(), 3);

    // The next one, under a flood limit modelled at one send a second (each send here takes
    // less): the 429s are waited out and sent again.
    telegram.limit_sends(1);
    let second = bot::scheduler::Announcements { bot: bot::scheduler::broadcaster(telegram.bot()), batch: 100 };
    bot::scheduler::step(&second, &t.ctx).await.unwrap();
    bot::scheduler::step(&second, &t.ctx).await.unwrap();
    assert_eq!(delivered(&telegram, "Собрание"), chats, "each member exactly once");
    assert!(telegram.too_many_requests() > 0, "the flood limit was met");
    assert!(announcements::pending(&t.ctx, 100).await.unwrap().is_empty());
}

/// Issue 19 point 1: an announcement with a photo goes as sendPhoto with the text as its caption
/// (the mute button under it); a text over Telegram's 1 024-character caption goes as the photo
/// and then the text, and only the text again when Telegram failed it; a file that is not a photo is refused before anything is stored or sent.
#[tokio::test]
async fn an_announcement_with_a_photo_is_sent_as_a_photo_with_its_caption() {
    use image::GenericImageView;
    use service::testing::photos::{jpeg, png};

    let app = TestApp::spawn().await;
    let ctx = app.ctx();
    standard_tariffs(ctx).await;
    for (plot, chat) in [("1", 801), ("2", 802)] {
        let signed = member(ctx, plot, &format!("В-{plot}"), Service::Water, 0).await;
        BotChat::new(&app.telegram, chat).link(ctx, LinkTarget::Consumer(signed.consumer_id)).await;
    }
    let panel = PanelClient::new(ctx);
    panel.login("admin", "admin-password").await;
    panel.get("/announcements").await.assert_ok();
    let counted =
        panel.post_form("/announcements/preview", &[("body", "Собрание в субботу."), ("service", "water")]).await;
    counted.assert_ok().assert_contains(r#"name="photo""#).assert_contains(r#"enctype="multipart/form-data""#);
    let form =
        |body: &str, photo: Vec<u8>, name: &str, kind: &str| {
            panel.multipart().text("body", body.to_owned()).text("service", "water").field(
                poem::test::TestFormField::bytes(photo).name("photo").filename(name.to_owned()).content_type(kind),
            )
        };

    // Not a photo: refused with the intake's own words, nothing stored.
    let refused =
        panel.post_multipart("/announcements", form("Текст.", b"%PDF-1.4".to_vec(), "a.pdf", "application/pdf")).await;
    assert_eq!(refused.status, poem::http::StatusCode::UNPROCESSABLE_ENTITY);
    refused.assert_contains("Это не фотография");
    assert!(announcements::list(ctx, 10).await.unwrap().is_empty());

    let sent = panel
        .post_multipart("/announcements", form("Собрание в субботу в 12:00.", jpeg(1200, 900), "s.jpg", "image/jpeg"))
        .await;
    let short = announcement_id(&sent);
    all_sent(&app, short).await;
    let long_text = format!("Отчёт правления. {}", "Ремонт линии. ".repeat(90));
    assert!(long_text.chars().count() > 1024 && long_text.chars().count() <= 3500);
    // Telegram fails the first text after its photo: the retry sends the text alone.
    app.telegram.fail_next("sendMessage", 1);
    let sent = panel.post_multipart("/announcements", form(&long_text, png(800, 600), "r.png", "image/png")).await;
    let long = announcement_id(&sent);
    let failed = |c: &Call| c.text().is_some_and(|t| t.contains("Ремонт линии.")) && c.result.is_null();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !app.telegram.calls_to("sendMessage").iter().any(failed) {
        assert!(std::time::Instant::now() < deadline, "Telegram's failure never met the text");
        app.app.scheduler_looked().await;
    }
    app.clock.advance(chrono::Duration::minutes(2));
    all_sent(&app, long).await;

    let photos = app.telegram.calls_to("sendPhoto");
    let captioned: Vec<&Call> =
        photos.iter().filter(|c| c.text().is_some_and(|t| t.contains("Собрание в субботу"))).collect();
    let mut chats: Vec<i64> = captioned.iter().filter_map(|c| c.chat_id()).collect();
    chats.sort();
    assert_eq!(chats, [801, 802], "one photo with the caption per member");
    for call in &captioned {
        assert!(call.text().unwrap().starts_with("Объявление правления"));
        assert_eq!(call.callback_data(), ["ann:off"], "the mute button under the photo");
        let image = image::load_from_memory(&call.files[0].bytes).expect("a picture Telegram can show");
        assert_eq!(image.dimensions(), (1200, 900));
    }
    assert!(delivered(&app.telegram, "Собрание в субботу").is_empty(), "no separate text message");
    // The long one: the photo without a caption, then the text with the button, once per member
    // (the failed text's photo is not sent again).
    let bare: Vec<&Call> = photos.iter().filter(|c| c.text().is_none()).collect();
    assert_eq!(bare.len(), 2, "photos without a caption");
    assert_eq!(delivered(&app.telegram, "Ремонт линии."), [801, 802]);
}

/// «Долг больше 0» is any debt: the threshold is a debt's, from zero up, not a payment's (which
/// must be above zero); a negative one is refused in Russian.
#[tokio::test]
async fn a_debt_threshold_of_zero_picks_every_debtor() {
    use service::testing::office_reading;

    let app = TestApp::spawn().await;
    let ctx = app.ctx();
    standard_tariffs(ctx).await;
    let owes = member(ctx, "1", "W-1", Service::Water, 0).await;
    let clear = member(ctx, "2", "W-2", Service::Water, 0).await;
    link(ctx, owes.consumer_id, 601).await;
    link(ctx, clear.consumer_id, 602).await;
    service::readings::submit(ctx, office_reading(owes.meter_id, vec![domain::meter_value!(1_000)])).await.unwrap();

    let panel = PanelClient::new(ctx);
    panel.login("admin", "admin-password").await;
    panel.get("/announcements").await.assert_ok();
    let preview = async |threshold: &str| {
        panel
            .post_form("/announcements/preview", &[("body", "Погасите долг до 1 декабря."), ("debt_above", threshold)])
            .await
    };
    preview("0").await.assert_ok().assert_contains("Получат: 1");
    let refused = preview("-5").await;
    assert_eq!(refused.status, poem::http::StatusCode::UNPROCESSABLE_ENTITY);
    refused.assert_contains("Порог долга не может быть меньше нуля");
}
