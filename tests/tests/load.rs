//! Twenty controllers submitting through the panel's mobile form and ten consumers through the bot,
//! all at once against one SQLite file: every reading is stored exactly once and nobody sees an
//! error (no "database is locked" reaches a user).

use std::net::{IpAddr, Ipv4Addr};

use domain::{ReadingSource, Role, Service, TariffPlan};
use entities::reading;
use poem::http::StatusCode;
use poem::test::TestFormField;
use sea_orm::EntityTrait;
use service::access::telegram::LinkTarget;
use service::testing::photos::jpeg;
use service::testing::{self, new_consumer};
use tests::bot_chat::BotChat;
use tests::{PanelClient, TestApp};

const CONTROLLERS: i64 = 20;
const CONSUMERS: i64 = 10;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_people_submit_at_once_and_every_reading_is_stored_once() {
    let app = TestApp::spawn().await;
    let ctx = app.ctx();
    testing::standard_tariffs(ctx).await;

    // Plots 1–20 are walked by one controller each; plots 101–110 belong to consumers in the bot.
    let mut field = Vec::new();
    for i in 1..=CONTROLLERS {
        let login = format!("kontroler{i}");
        testing::staff(ctx, &login, Role::Controller).await;
        let plot = testing::sign(
            ctx,
            &i.to_string(),
            new_consumer(&format!("Потребитель {i}"), None),
            &format!("В-{i}"),
            Service::Water,
            TariffPlan::Single,
            &[100],
        )
        .await;
        field.push((login, plot.meter_id, i));
    }
    let mut remote = Vec::new();
    for i in 1..=CONSUMERS {
        let plot = testing::sign(
            ctx,
            &(100 + i).to_string(),
            new_consumer(&format!("Дачник {i}"), None),
            &format!("Э-{i}"),
            Service::Electricity,
            TariffPlan::Single,
            &[1000],
        )
        .await;
        let chat = BotChat::new(&app.telegram, 90_000 + i);
        chat.link(ctx, LinkTarget::Consumer(plot.consumer_id)).await.expect("Здравствуйте");
        remote.push((90_000 + i, plot.meter_id));
    }

    let photo = jpeg(640, 480);
    let controllers = field.into_iter().map(|(login, meter_id, i)| {
        let (ctx, photo) = (ctx.clone(), photo.clone());
        tokio::spawn(async move {
            // Each on their own phone, so on an address of their own: logins are limited per address.
            let phone = IpAddr::V4(Ipv4Addr::new(10, 0, 0, i as u8));
            let client = PanelClient::new(&ctx).browser_at(phone);
            client.login(&login, &format!("{login}-password")).await;
            let form = client.get(&format!("/m/meters/{meter_id}/reading")).await;
            let key = form.input_value("key").expect("an idempotency key");
            let body = client
                .multipart()
                .text("key", key)
                .text("value", "112,5")
                .text("seal", "yes")
                .text("comment", "")
                .field(TestFormField::bytes(photo).name("photo").filename("meter.jpg").content_type("image/jpeg"));
            let page = client.post_multipart(&format!("/m/meters/{meter_id}/reading"), body).await;
            assert_eq!(page.status, StatusCode::SEE_OTHER, "{login}: {}", page.body);
        })
    });
    let telegram = &app.telegram;
    let consumers = remote.iter().map(|&(user, _)| async move {
        let chat = BotChat::new(telegram, user);
        chat.send("Передать показания").await.expect("Пришлите");
        chat.send("1150").await;
        chat.press("np").await;
        let reply = chat.press("ok").await;
        assert!(!reply.text().contains("Что-то пошло не так"), "{user}: {}", reply.text());
        reply.expect("Показание принято");
    });
    let (controllers, ()) = tokio::join!(futures::future::join_all(controllers), async {
        futures::future::join_all(consumers).await;
    });
    for result in controllers {
        result.expect("a controller's submission");
    }

    let readings = reading::Entity::find().all(ctx.db.conn()).await.unwrap();
    assert_eq!(readings.len() as i64, CONTROLLERS + CONSUMERS, "no lost or duplicated writes");
    let web = readings.iter().filter(|r| r.source == ReadingSource::ControllerWeb).count() as i64;
    let bot = readings.iter().filter(|r| r.source == ReadingSource::ConsumerBot).count() as i64;
    assert_eq!((web, bot), (CONTROLLERS, CONSUMERS));
    let mut meters: Vec<i64> = readings.iter().map(|r| r.meter_id).collect();
    meters.sort();
    meters.dedup();
    assert_eq!(meters.len(), readings.len(), "one reading per meter");
    assert!(readings.iter().filter(|r| r.source == ReadingSource::ControllerWeb).all(|r| r.photo_id.is_some()));
}
