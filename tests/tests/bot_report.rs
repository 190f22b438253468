//! `/report [ГГГГ-ММ]` in the bot: the monthly report as an xlsx file for accountants and admins,
//! refused to everyone else.

use std::io::Cursor;

use calamine::{Reader, Xlsx};
use charts::inspect;
use charts::palette::LINES;
use domain::{MeterValue, Role, Service, TariffPlan};
use service::access::telegram::LinkTarget;
use service::charts::Size;
use service::testing::{default_now, network_line, new_consumer, sign, staff, standard_tariffs};
use tests::bot_chat::{BotChat, Reply};
use tests::{TestApp, seed};

const REFUSED: &str = "Отчёт для бухгалтерии доступен только бухгалтерам и администраторам.";

/// Mid-March 2026, with one consumer on plot 7.
async fn app() -> (TestApp, i64) {
    let (app, water) = app_with_meter().await;
    (app, water.0)
}

/// [`app`]'s consumer id and plot 7's water meter.
async fn app_with_meter() -> (TestApp, (i64, i64)) {
    let app = TestApp::spawn_at(default_now()).await;
    standard_tariffs(app.ctx()).await;
    let bender = new_consumer("Бендер О. И.", None);
    let water = sign(app.ctx(), "7", bender, "W-7", Service::Water, TariffPlan::Single, &[100]).await;
    (app, (water.consumer_id, water.meter_id))
}

async fn staff_chat<'a>(app: &'a TestApp, user_id: i64, login: &str, role: Role) -> BotChat<'a> {
    let member = staff(app.ctx(), login, role).await;
    let chat = BotChat::new(&app.telegram, user_id);
    chat.link(app.ctx(), LinkTarget::Staff(member.id)).await;
    chat
}

/// The one document in `reply`: its caption and file name, after checking it is a workbook
/// with the accounting sheets.
fn report(reply: &Reply) -> (String, String) {
    let [document] = reply.documents()[..] else { panic!("expected one document:\n{:?}", reply.calls) };
    let [file] = &document.files[..] else { panic!("expected one file: {document:?}") };
    let workbook = Xlsx::new(Cursor::new(file.bytes.clone())).expect("an xlsx workbook");
    assert!(workbook.sheet_names().iter().any(|s| s == "Показания"), "{:?}", workbook.sheet_names());
    (document.text().unwrap_or_default().to_owned(), file.file_name.clone().unwrap_or_default())
}

#[tokio::test]
async fn accountants_and_admins_get_the_report_as_an_xlsx_file() {
    let (app, _) = app().await;

    let accountant = staff_chat(&app, 31_001, "zosya", Role::Accountant).await;
    let reply = accountant.send("/report").await;
    assert_eq!(report(&reply), ("Отчёт за февраль 2026".into(), "report-2026-02.xlsx".into()));

    let admin = staff_chat(&app, 31_002, "chairman", Role::Admin).await;
    let reply = admin.send("/report 2026-01").await;
    assert_eq!(report(&reply), ("Отчёт за январь 2026".into(), "report-2026-01.xlsx".into()));
}

#[tokio::test]
async fn everyone_else_is_refused() {
    let (app, consumer_id) = app().await;
    let controller = staff_chat(&app, 32_001, "ostap", Role::Controller).await;
    let consumer = BotChat::new(&app.telegram, 32_002);
    consumer.link(app.ctx(), LinkTarget::Consumer(consumer_id)).await;
    let stranger = BotChat::new(&app.telegram, 32_003);

    for chat in [&controller, &consumer, &stranger] {
        let reply = chat.send("/report 2026-02").await;
        reply.expect(REFUSED);
        assert!(reply.documents().is_empty(), "user {}", chat.user_id);
    }
}

#[tokio::test]
async fn a_month_that_is_not_one_or_has_not_begun_is_explained() {
    let (app, _) = app().await;
    let accountant = staff_chat(&app, 33_001, "zosya", Role::Accountant).await;

    let reply = accountant.send("/report март").await;
    reply.expect("«март» — не месяц").expect("например /report 2026-02");
    assert!(reply.documents().is_empty());

    let reply = accountant.send("/report 2026-04").await;
    reply.expect("Отчёт за апрель 2026 ещё нельзя построить");
    assert!(reply.documents().is_empty());
}

/// Issue 16: with common meters the report is followed by the losses chart, a picture of the
/// phone size, captioned with the network's headline figures; without them nothing more is sent
/// (`accountants_and_admins_get_the_report_as_an_xlsx_file` checks one call only).
#[tokio::test]
async fn with_common_meters_the_losses_chart_follows_the_report_as_a_picture() {
    let (app, (_, plot_meter)) = app_with_meter().await;
    let ctx = app.ctx();
    let accountant = staff_chat(&app, 34_001, "zosya", Role::Accountant).await;
    let reply = accountant.send("/report").await;
    assert_eq!(reply.calls.len(), 1, "no common meters, no picture: {:?}", reply.calls);

    let line = network_line(ctx, Service::Water, "Главный", "ВЗУ", false, &[]).await;
    let common = service::meters::of_contract(ctx.db.conn(), line.contract_id).await.unwrap()[0].id;
    let whole = |v: i64| vec![MeterValue::from_whole(v).unwrap()];
    for (day, supplied, sold) in [("2026-01-31", 40, 136), ("2026-02-28", 100, 190)] {
        seed::reading(ctx, common, &whole(supplied), day).await;
        seed::reading(ctx, plot_meter, &whole(sold), day).await;
    }

    let reply = accountant.send("/report").await;
    assert_eq!(report(&reply), ("Отчёт за февраль 2026".into(), "report-2026-02.xlsx".into()));
    let [photo] = reply.photos()[..] else { panic!("expected one picture:\n{:?}", reply.calls) };
    let caption = photo.text().unwrap_or_default();
    assert!(caption.starts_with("Баланс сети за февраль 2026") && caption.contains("Вода: отпущено 60"), "{caption}");
    let [file] = &photo.files[..] else { panic!("expected one file: {photo:?}") };
    let image = inspect::decode(&file.bytes, Size::PHONE);
    // Not blank: the line's colour draws more than its legend swatch, across January and February.
    let drawn = image.pixels().filter(|p| **p == inspect::rgb(LINES[0])).count();
    assert!(drawn > 200, "{drawn} pixels of the line");
    let calls: Vec<&str> = reply.calls.iter().map(|c| c.method.as_str()).collect();
    assert_eq!(calls, ["sendDocument", "sendPhoto"], "the document first, the picture once");
}
