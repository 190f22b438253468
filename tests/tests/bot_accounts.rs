//! «История расчётов» in the bot (issue 13.6), through the fake Bot API: a linked member gets the
//! last months as text and the акт сверки since go-live as an xlsx document.

use std::io::Cursor;

use calamine::{Reader, Xlsx};
use domain::{Role, Service, TariffPlan, kopecks};
use service::access::telegram::LinkTarget;
use service::audit::Actor;
use service::ledger::charges;
use service::ledger::payments;
use service::testing::{default_now, new_consumer, paid, sign, staff, standard_tariffs};
use tests::TestApp;
use tests::bot_chat::BotChat;

/// Bender (plot 7) owes 250,00 ₽ from before go-live on 15.03.2026 and paid 100,00 ₽ that day.
#[tokio::test]
async fn a_member_gets_the_months_as_text_and_the_act_as_a_file() {
    let app = TestApp::spawn_at(default_now()).await;
    let ctx = app.ctx();
    standard_tariffs(ctx).await;
    let water =
        sign(ctx, "7", new_consumer("Бендер О. И.", None), "W-7", Service::Water, TariffPlan::Single, &[100]).await;
    let admin = staff(ctx, "buh", Role::Accountant).await;
    let today = ctx.today();
    charges::book_opening_balance(
        ctx.db.conn(),
        ctx,
        water.contract_id,
        kopecks!(250_00),
        today,
        Actor::Staff(admin.id),
    )
    .await
    .unwrap();
    payments::record(ctx, paid("W-7", kopecks!(100_00), "2026-03-15"), Actor::Staff(admin.id)).await.unwrap();

    let bender = BotChat::new(&app.telegram, 41_001);
    bender.link(ctx, LinkTarget::Consumer(water.consumer_id)).await;
    bender.send("/help").await.expect("«История расчётов» — начислено, оплачено и сальдо");
    let reply = bender.send("История расчётов").await;
    let [text] = reply.texts()[..] else { panic!("one message:\n{:?}", reply.calls) };
    assert_eq!(
        text,
        "История расчётов: начислено / оплачено / сальдо на конец месяца\n\
         март 2026: 250,00 ₽ / 100,00 ₽ / задолженность 150,00 ₽\n\
         \n\
         Итого на 15.03.2026: задолженность 150,00 ₽\n\
         Акт сверки с 15.03.2026 по 15.03.2026 — в файле ниже."
    );
    let [document] = reply.documents()[..] else { panic!("one document:\n{:?}", reply.calls) };
    assert_eq!(document.text(), Some("Акт сверки с 15.03.2026 по 15.03.2026"));
    let [file] = &document.files[..] else { panic!("one file: {document:?}") };
    assert_eq!(file.file_name.as_deref(), Some("akt-sverki-7-2026-03-15-2026-03-15.xlsx"));
    let mut book = Xlsx::new(Cursor::new(file.bytes.clone())).expect("an xlsx workbook");
    let sheet = book.worksheet_range("Акт сверки").unwrap();
    assert_eq!(sheet.get_value((1, 0)).unwrap().to_string(), "СНТ «Черноморск» — Бендер О. И.");
}
