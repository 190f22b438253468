//! `/report [ГГГГ-ММ]` in the bot: the monthly report as an xlsx file for accountants and admins,
//! refused to everyone else.

use std::io::Cursor;

use calamine::{Reader, Xlsx};
use domain::{Role, Service, TariffPlan};
use service::access::telegram::LinkTarget;
use service::testing::{default_now, new_consumer, sign, staff, standard_tariffs};
use tests::TestApp;
use tests::bot_chat::{BotChat, Reply};

const REFUSED: &str = "Отчёт для бухгалтерии доступен только бухгалтерам и администраторам.";

/// Mid-March 2026, with one consumer on plot 7.
async fn app() -> (TestApp, i64) {
    let app = TestApp::spawn_at(default_now()).await;
    standard_tariffs(app.ctx()).await;
    let bender = new_consumer("Бендер О. И.", None);
    let water = sign(app.ctx(), "7", bender, "W-7", Service::Water, TariffPlan::Single, &[100]).await;
    (app, water.consumer_id)
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
