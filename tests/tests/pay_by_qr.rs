//! Paying by QR code, end to end: a consumer asks «Задолженность» in the bot (fake Bot API) and
//! presses «Оплатить»; the picture is read back with a real QR decoder; the bank's 1C statement
//! carrying exactly that code's purpose and sum is written in Windows-1251 as a bank's client
//! writes it; the accountant uploads and confirms it in the panel; the consumer is told in the
//! bot; the debt is zero in the bot,
//! on the contract's page, in the API and in the month's report.

use std::io::Cursor;

use bank::testing::{ACCOUNT, TestDocument, decode_qr, write_statement};
use calamine::{Data, DataType, Reader, Xlsx};
use domain::{Role, Service, TariffPlan, meter_value};
use service::access::telegram::LinkTarget;
use service::audit::Actor;
use service::testing::{bank_details, default_now, new_consumer, sign, standard_tariffs};
use tests::bot_chat::BotChat;
use tests::{PanelClient, TestApp, seed};

/// The value of `field` in a ГОСТ Р 56042 string.
fn field<'a>(decoded: &'a str, field: &str) -> &'a str {
    decoded
        .split('|')
        .find_map(|pair| pair.strip_prefix(field)?.strip_prefix('='))
        .unwrap_or_else(|| panic!("no {field} in {decoded}"))
}

/// The rows of `sheet` in the workbook, as text.
fn rows(workbook: &[u8], sheet: &str) -> Vec<Vec<String>> {
    let mut book = Xlsx::new(Cursor::new(workbook.to_vec())).expect("an xlsx workbook");
    let range = book.worksheet_range(sheet).unwrap_or_else(|e| panic!("no sheet {sheet}: {e}"));
    range
        .rows()
        .map(|row| {
            row.iter()
                .map(|cell| match cell {
                    Data::Float(f) => format!("{f}"),
                    Data::Int(i) => i.to_string(),
                    Data::DateTime(_) => cell.as_date().expect("a date").format("%d.%m.%Y").to_string(),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect()
}

/// The cell under the header `column` in the row whose `key` column is `value`.
fn cell(rows: &[Vec<String>], key: &str, value: &str, column: &str) -> String {
    let header = rows.iter().position(|r| r.iter().any(|c| c == key)).expect("a header row");
    let at = |name: &str| rows[header].iter().position(|c| c == name).unwrap_or_else(|| panic!("no column {name}"));
    let row = rows[header + 1..].iter().find(|r| r[at(key)] == value).unwrap_or_else(|| panic!("no row {value}"));
    row[at(column)].clone()
}

#[tokio::test]
async fn a_debt_paid_by_our_qr_code_is_matched_exactly_and_is_zero_everywhere() {
    let app = TestApp::spawn_at(default_now()).await;
    let ctx = app.ctx();
    standard_tariffs(ctx).await;
    bank_details(ctx).await;
    // Bender on plot 7 owes 500 ₽ of water for February (12,5 m³ at 40 ₽).
    let water =
        sign(ctx, "7", new_consumer("Бендер О. И.", None), "W-7", Service::Water, TariffPlan::Single, &[100]).await;
    seed::reading(ctx, water.meter_id, &[meter_value!(112_500)], "2026-02-20").await;
    let chat = BotChat::new(&app.telegram, 7001);
    chat.link(ctx, LinkTarget::Consumer(water.consumer_id)).await;

    chat.send("Задолженность").await.expect("Задолженность 500,00 ₽");
    let reply = chat.press(&format!("pay:{}", water.contract_id)).await;
    let photos = reply.photos();
    let png = &photos[0].files.iter().find(|f| f.field == "photo").expect("the QR picture").bytes;
    let decoded = decode_qr(png);
    let (purpose, sum) = (field(&decoded, "Purpose"), field(&decoded, "Sum"));
    assert_eq!(sum, "50000");
    let kopecks: i64 = sum.parse().unwrap();

    // The consumer pays in a bank app by scanning the code; the money arrives on 10 March and
    // the bank's statement carries the code's purpose and sum.
    let paid = TestDocument::incoming(
        "5123",
        "10.03.2026",
        &format!("{}.{:02}", kopecks / 100, kopecks % 100),
        "Бендер Остап Ибрагимович",
        "40817810938000777777",
        purpose,
    );
    let statement = write_statement(ACCOUNT, "01.03.2026", "14.03.2026", &[paid]);

    let buh = service::testing::staff(ctx, "buh", Role::Accountant).await;
    let client = PanelClient::new(ctx);
    let landed = client.login("buh", "buh-password").await;
    client.get(landed.location().unwrap()).await.assert_ok();
    let preview = client.upload_file("/payments/statement", "kl_to_1c.txt", statement).await;
    preview.assert_ok().assert_contains("будет внесена, по назначению из нашего QR");
    assert_eq!(preview.number_after("В «Разобрать»"), 0);
    client.confirm_import("/payments/statement", &preview).await;

    // The consumer is told in the bot once the minute of quiet after the posting has passed:
    // amount, the day the money arrived, contract and plot, the new balance.
    let seen = app.telegram.calls().len();
    app.clock.set(default_now() + service::ledger::payments::notices::QUIET + chrono::Duration::minutes(1));
    let told = app.telegram.wait_for_call(seen, std::time::Duration::from_secs(10), |c| {
        c.is("sendMessage") && c.chat_id() == Some(7001) && c.text().is_some_and(|t| t.contains("Поступила оплата"))
    });
    let told = told.await.text().unwrap().to_owned();
    assert!(told.contains("Поступила оплата 500,00 ₽ от 10.03.2026 по договору № W-7 (участок 7)."), "{told}");
    assert!(told.contains("Договор № W-7: задолженности нет."), "{told}");

    // The bot.
    chat.send("Задолженность")
        .await
        .expect("Последняя оплата: 500,00 ₽ от 10.03.2026")
        .expect("Итого: задолженности нет");
    // The contract's page.
    client.get(&format!("/contracts/{}", water.contract_id)).await.assert_ok().assert_contains("Задолженности нет");
    // The API.
    let token = service::access::staff::issue_api_token(ctx, buh.id, Actor::System).await.unwrap();
    let debt = client.api_get(&format!("/api/consumers/{}/debt", water.consumer_id), &token).await.json();
    assert_eq!(debt["total"]["debt_kopecks"], 0, "{debt}");
    assert_eq!(debt["total"]["paid_kopecks"], kopecks);
    // March's report, read back: the payment in «Оплаты», the contract owing nothing at the month's end.
    let report = client.get("/reports/monthly?period=2026-03").await;
    report.assert_ok();
    let payments = rows(&report.bytes, "Оплаты");
    assert_eq!(cell(&payments, "Договор", "W-7", "Источник"), "Выписка банка");
    assert_eq!(cell(&payments, "Договор", "W-7", "Дата оплаты"), "10.03.2026");
    let accounts = rows(&report.bytes, "Начисления и оплаты");
    assert_eq!(cell(&accounts, "Договор", "W-7", "Оплачено за месяц, ₽"), "500");
    assert_eq!(cell(&accounts, "Договор", "W-7", "Долг на конец месяца, ₽ (минус — переплата)"), "0");
}
