//! Payments in the panel: entry by hand and import of the bank's file (xlsx or CSV), through the
//! real app on a temporary SQLite file.

use chrono::NaiveDate;
use domain::{Kopecks, PaymentSource, Period, Role, Service, TariffPlan, kopecks};
use entities::{import_draft, payment, web_session};
use poem::http::StatusCode;
use rust_xlsxwriter::{Format, Workbook};
use sea_orm::{EntityTrait, PaginatorTrait, QueryOrder};
use service::audit::Actor;
use service::ledger::payments::NewPayment;
use service::testing::{TestContext, new_consumer};
use tests::PanelClient;

/// The bank statement's import page.
const IMPORT: &str = "/payments/import";

const HEADER: [&str; 5] = ["Договор", "Сумма", "Дата оплаты", "Период", "Номер платежа"];

/// Two contracts (W-1, E-1) and an accountant logged in.
async fn office() -> (TestContext, PanelClient) {
    let t = TestContext::new().await;
    t.sign("1", new_consumer("Иванова А. П.", None), "W-1", Service::Water, TariffPlan::Single, &[0]).await;
    t.sign("2", new_consumer("Петров Б. В.", None), "E-1", Service::Electricity, TariffPlan::Single, &[0]).await;
    let client = PanelClient::staff(&t, "buh", Role::Accountant).await;
    (t, client)
}

async fn payments(t: &TestContext) -> Vec<payment::Model> {
    payment::Entity::find().order_by_asc(payment::Column::Id).all(t.ctx.db.conn()).await.unwrap()
}

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, d).unwrap()
}

/// A cell of a test workbook.
enum Cell {
    Text(&'static str),
    Number(f64),
    Date(NaiveDate),
    Empty,
}
use Cell::{Date, Empty, Number, Text};

fn xlsx(rows: &[Vec<Cell>]) -> Vec<u8> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    let date = Format::new().set_num_format("dd.mm.yyyy");
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let (r, c) = (r as u32, c as u16);
            match cell {
                Text(s) => sheet.write_string(r, c, *s).map(drop),
                Number(n) => sheet.write_number(r, c, *n).map(drop),
                Date(d) => sheet.write_date_with_format(r, c, d, &date).map(drop),
                Empty => Ok(()),
            }
            .unwrap();
        }
    }
    workbook.save_to_buffer().unwrap()
}

fn header() -> Vec<Cell> {
    HEADER.iter().map(|h| Text(h)).collect()
}

#[tokio::test]
async fn a_payment_entered_by_hand_is_exact_to_the_kopeck() {
    let (t, client) = office().await;
    let form = client.get("/payments/new").await;
    // «За месяц» is optional and starts empty: a payment counts on the day the money arrived.
    form.assert_ok().assert_contains("За месяц (необязательно");
    let page = client
        .post_form(
            "/payments",
            &[
                ("contract", " W-1 "),
                ("amount", "1 234,56"),
                ("paid_on", "2026-03-10"),
                ("period", "2026-02"),
                ("reference", "П-77"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let stored = payments(&t).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].amount_kopecks, kopecks!(123_456));
    assert_eq!(
        (stored[0].period, stored[0].for_period),
        (Period::new(2026, 3).unwrap(), Period::new(2026, 2).unwrap())
    );
    assert_eq!(stored[0].reference.as_deref(), Some("П-77"));
    assert_eq!(stored[0].source, PaymentSource::Panel);
    client.get("/payments").await.assert_contains("Оплата 1\u{202f}234,56 ₽ по договору № W-1 внесена.");
}

#[tokio::test]
async fn entry_errors_keep_the_input_and_store_nothing() {
    let (t, client) = office().await;
    client.get("/payments/new").await;
    let page = client
        .post_form(
            "/payments",
            &[
                ("contract", "W-1"),
                ("amount", "12,345"),
                ("paid_on", "32.03.2026"),
                ("period", "март"),
                ("reference", ""),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    page.assert_contains("В сумме не больше двух знаков после запятой (копейки).")
        .assert_contains("«32.03.2026» — не дата.")
        .assert_contains("«март» — не месяц.")
        .assert_contains("value=\"12,345\"")
        .assert_contains("value=\"W-1\"");

    let page = client
        .post_form(
            "/payments",
            &[("contract", "Z-9"), ("amount", "100"), ("paid_on", "2026-03-10"), ("period", "2026-02")],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    page.assert_contains("Договор № Z-9 не найден.").assert_contains("value=\"Z-9\"");

    for (amount, refusal) in [
        ("10 000 000,01", "Платёж не может быть больше 10\u{202f}000\u{202f}000,00 ₽."),
        (
            "92233720368547758,07",
            "Сумма слишком велика: по модулю не больше 1\u{202f}000\u{202f}000\u{202f}000\u{202f}000,00 ₽.",
        ),
    ] {
        let fields = [("contract", "W-1"), ("amount", amount), ("paid_on", "2026-03-10"), ("period", "2026-02")];
        let page = client.post_form("/payments", &fields).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{amount}");
        page.assert_contains(refusal).assert_contains(&format!("value=\"{amount}\""));
    }
    assert!(payments(&t).await.is_empty());
}

#[tokio::test]
async fn an_xlsx_import_is_previewed_then_stored_once() {
    let (t, client) = office().await;
    // Already on file: one payment with a reference, one without.
    for (amount, reference) in [(500_00, Some("B-100")), (300_00, None)] {
        let payment = NewPayment {
            contract_number: "E-1".into(),
            amount: Kopecks::new(amount).unwrap(),
            paid_on: day(1),
            for_period: Some(Period::new(2026, 2).unwrap()),
            reference: reference.map(Into::into),
            confirm_duplicate: false,
        };
        service::ledger::payments::record(&t.ctx, payment, Actor::System).await.unwrap();
    }
    // A row without an amount makes the whole file unimportable: it is fixed and uploaded again.
    let broken = xlsx(&[
        header(),
        vec![Text("W-1"), Text("1 234,56"), Text("15.03.2026"), Text("2026-02"), Text("B-101")],
        vec![Text("W-1"), Empty, Text("16.03.2026"), Text("2026-02"), Text("B-102")],
    ]);
    let page = client.upload_file(IMPORT, "vypiska.xlsx", broken).await;
    page.assert_ok().assert_contains("Сумма: Сумма не указана.");
    assert_eq!(page.number_after("Строки с ошибками"), 1);
    assert!(page.input_value("import_id").is_none(), "a file with errors is not offered for import");

    let file = xlsx(&[
        header(),
        vec![Text("W-1"), Text("1 234,56"), Text("15.03.2026"), Text("2026-02"), Text("B-101")],
        vec![Text("E-1"), Number(99.99), Date(day(14)), Text("02.2026"), Number(102.0)],
        vec![Text("E-1"), Number(99.99), Date(day(14)), Text("2026-02"), Number(102.0)],
        vec![Text("E-1"), Number(500.0), Date(day(1)), Text("2026-02"), Text("B-100")],
        vec![Text("E-1"), Number(300.0), Date(day(1)), Date(NaiveDate::from_ymd_opt(2026, 2, 1).unwrap()), Empty],
    ]);
    let preview = client.upload_file(IMPORT, "vypiska.xlsx", file.clone()).await;
    preview.assert_ok();
    assert_eq!(preview.number_after("Будут внесены"), 2);
    assert_eq!(preview.number_after("Договор не найден"), 0);
    assert_eq!(preview.number_after("Уже внесены или повторяются"), 3);
    assert_eq!(preview.number_after("Строки с ошибками"), 0);
    preview
        .assert_contains("1\u{202f}334,55 ₽")
        .assert_contains("повтор: тот же номер платежа в строке 3")
        .assert_contains("уже внесена (номер платежа есть в учёте)")
        .assert_contains("возможный повтор: оплата по этому договору на ту же сумму и дату уже есть в учёте");
    assert_eq!(payments(&t).await.len(), 2, "a preview stores nothing");

    let done = client.confirm_import(IMPORT, &preview).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    client.get("/payments").await.assert_contains("внесено оплат: 2 на сумму 1\u{202f}334,55 ₽; пропущено повторов: 3");
    let stored = payments(&t).await;
    assert_eq!(stored.len(), 4);
    let imported: Vec<_> = stored.iter().filter(|p| p.source == PaymentSource::Import).collect();
    assert_eq!(
        imported.iter().map(|p| (p.amount_kopecks, p.paid_on, p.reference.as_deref())).collect::<Vec<_>>(),
        [(kopecks!(123_456), day(15), Some("B-101")), (kopecks!(9_999), day(14), Some("102"))]
    );

    // The same file again: nothing new, nothing to confirm.
    let again = client.upload_file(IMPORT, "vypiska.xlsx", file).await;
    assert_eq!(again.number_after("Будут внесены"), 0);
    assert_eq!(again.number_after("Уже внесены или повторяются"), 5);
    again.assert_contains("Новых оплат в файле нет");
    assert!(again.input_value("import_id").is_none());
    assert_eq!(payments(&t).await.len(), 4);

    // Another payment under a number on file (another contract, amount and day): not taken for
    // that one in silence, but named, and left to the accountant.
    let other = xlsx(&[header(), vec![Text("W-1"), Text("700"), Date(day(2)), Text("2026-02"), Text("B-100")]]);
    let page = client.upload_file(IMPORT, "vypiska.xlsx", other).await;
    let b100 = stored.iter().find(|p| p.reference.as_deref() == Some("B-100")).unwrap().id;
    page.assert_contains(&format!("этот номер платежа уже у платежа № {b100} с другим договором"));
    assert_eq!(page.number_after("Номер платежа у другого платежа"), 1);
    page.assert_contains("Файл не будет внесён");
    assert!(page.input_value("import_id").is_none(), "the file waits for the number to be fixed");

    // The same new number on two rows of the file with other amounts: one of them is wrong.
    let twice = xlsx(&[
        header(),
        vec![Text("W-1"), Text("700"), Date(day(2)), Text("2026-02"), Text("B-300")],
        vec![Text("E-1"), Text("70"), Date(day(2)), Text("2026-02"), Text("B-300")],
    ]);
    let page = client.upload_file(IMPORT, "vypiska.xlsx", twice).await;
    page.assert_contains("этот номер платежа уже в строке 2 с другим договором, суммой или датой");
    assert_eq!(page.number_after("Номер платежа у другого платежа"), 1);
    assert!(page.input_value("import_id").is_none());

    // A number that another payment took while the preview waited stops the file at confirming.
    let fresh = xlsx(&[header(), vec![Text("W-1"), Text("800"), Date(day(3)), Text("2026-02"), Text("B-200")]]);
    let preview = client.upload_file(IMPORT, "vypiska.xlsx", fresh).await;
    assert_eq!(preview.number_after("Будут внесены"), 1);
    let taken = NewPayment {
        contract_number: "E-1".into(),
        amount: kopecks!(50_00),
        paid_on: day(3),
        for_period: None,
        reference: Some("B-200".into()),
        confirm_duplicate: false,
    };
    service::ledger::payments::record(&t.ctx, taken, Actor::System).await.unwrap();
    let refused = client.confirm_import(IMPORT, &preview).await;
    client.get(refused.location().expect("back to the upload")).await.assert_contains("чужими номерами платежей");
    assert_eq!(payments(&t).await.len(), 5, "the taken number's payment only");
}

/// 300 ₽ typed in by hand and reversed to load the bank's file instead: the file's row of that
/// contract, amount and day is new money, not a repeat of the reversed payment.
#[tokio::test]
async fn a_reversed_payment_is_no_repeat_for_a_files_row() {
    let (t, client) = office().await;
    let typed = NewPayment {
        contract_number: "E-1".into(),
        amount: kopecks!(300_00),
        paid_on: day(1),
        for_period: None,
        reference: None,
        confirm_duplicate: false,
    };
    let typed = service::ledger::payments::record(&t.ctx, typed, Actor::System).await.unwrap();
    let file = xlsx(&[header(), vec![Text("E-1"), Number(300.0), Date(day(1)), Text("2026-02"), Empty]]);
    let page = client.upload_file(IMPORT, "vypiska.xlsx", file.clone()).await;
    assert_eq!(page.number_after("Уже внесены или повторяются"), 1, "{}", page.body);

    let source = PaymentSource::Panel;
    service::ledger::payments::reversal::reverse(&t.ctx, typed.id, "загрузим из файла банка", source, Actor::System)
        .await
        .unwrap();
    let preview = client.upload_file(IMPORT, "vypiska.xlsx", file).await;
    assert_eq!(preview.number_after("Будут внесены"), 1, "{}", preview.body);
    client.confirm_import(IMPORT, &preview).await;
    let imported = payments(&t).await.into_iter().filter(|p| p.source == PaymentSource::Import).count();
    assert_eq!(imported, 1);
}

#[tokio::test]
async fn a_csv_with_unknown_contracts_or_bad_rows_is_not_imported() {
    let (t, client) = office().await;
    let csv = "Договор;Сумма;Дата оплаты;Период;Номер платежа\n\
               W-1;100,00;01.03.2026;2026-02;A-1\n\
               W-404;200,00;01.03.2026;2026-02;A-2\n\
               E-1;сто;вчера;2026-02;A-3\n";
    let page = client.upload_file(IMPORT, "bank.csv", csv.as_bytes().to_vec()).await;
    page.assert_ok()
        .assert_contains("договор не найден")
        .assert_contains("Сумма: «сто» — не сумма. Пример: 1 234,56; Дата оплаты: «вчера» — не дата.")
        .assert_contains("Файл не будет внесён");
    assert_eq!((page.number_after("Будут внесены"), page.number_after("Договор не найден")), (1, 1));
    assert_eq!(page.number_after("Строки с ошибками"), 1);
    assert!(page.input_value("import_id").is_none());

    // Confirming anyway (a forged or stale form) stores nothing.
    let page = client.post_form("/payments/import/confirm", &[("import_id", "forged")]).await;
    assert_eq!(page.location(), Some("/payments/import"));
    client.get("/payments/import").await.assert_contains("Нечего вносить");
    assert!(payments(&t).await.is_empty());
}

/// A day still to come is a row's error in the preview (storing it would refuse it, and a
/// confirmed file failed as a whole with an internal error).
#[tokio::test]
async fn a_payment_dated_in_the_future_is_an_error_on_its_line() {
    let (t, client) = office().await;
    let csv = "Договор;Сумма;Дата оплаты;Период;Номер платежа\n\
               W-1;100,00;01.03.2026;2026-02;A-1\n\
               E-1;200,00;01.01.2030;2026-02;A-2\n";
    let page = client.upload_file(IMPORT, "bank.csv", csv.as_bytes().to_vec()).await;
    page.assert_ok().assert_contains("Дата оплаты 01.01.2030 ещё не наступила").assert_contains("Файл не будет внесён");
    assert_eq!((page.number_after("Будут внесены"), page.number_after("Строки с ошибками")), (1, 1));
    assert!(page.input_value("import_id").is_none());
    assert!(payments(&t).await.is_empty());
}

#[tokio::test]
async fn malformed_files_are_refused_in_russian() {
    let (t, client) = office().await;
    let wrong_columns = xlsx(&[vec![Text("Договор"), Text("Сумма")], vec![Text("W-1"), Number(10.0)]]);
    let page = client.upload_file(IMPORT, "columns.xlsx", wrong_columns).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    page.assert_contains("В первой строке нет столбцов «Дата оплаты», «Период».");

    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01".to_vec();
    let page = client.upload_file(IMPORT, "photo.xlsx", png).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    page.assert_contains("Файл «photo.xlsx» не читается как таблица.");

    let page = client.upload_file(IMPORT, "empty.csv", Vec::new()).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    page.assert_contains("Выберите файл выписки.");

    let page = client.upload_file(IMPORT, "header.csv", "Договор,Сумма,Дата оплаты,Период\n".into()).await;
    page.assert_contains("В файле нет ни одной оплаты");
    assert_eq!(payment::Entity::find().count(t.ctx.db.conn()).await.unwrap(), 0);
}

#[tokio::test]
async fn a_confirmation_from_an_older_preview_cannot_store_a_newer_file() {
    let (t, client) = office().await;
    let csv = |reference: &str| {
        format!("Договор,Сумма,Дата оплаты,Период,Номер платежа\nW-1,\"10,00\",01.03.2026,2026-02,{reference}\n")
    };
    let first = client.upload_file(IMPORT, "a.csv", csv("A-1").into_bytes()).await;
    let second = client.upload_file(IMPORT, "b.csv", csv("B-1").into_bytes()).await;
    assert_ne!(first.input_value("import_id"), second.input_value("import_id"));
    assert_eq!(client.confirm_import(IMPORT, &first).await.location(), Some("/payments/import"));
    assert!(payments(&t).await.is_empty());
    client.confirm_import(IMPORT, &second).await;
    assert_eq!(payments(&t).await[0].reference.as_deref(), Some("B-1"));
}

#[tokio::test]
async fn ten_thousand_rows_wait_as_a_draft_and_twenty_thousand_are_refused() {
    let (t, client) = office().await;
    let conn = t.ctx.db.conn();
    let statement = |rows: usize| {
        let lines: String = (0..rows).map(|i| format!("W-1;1,00;01.03.2026;2026-02;П-{i}\n")).collect();
        format!("Договор;Сумма;Дата оплаты;Период;Номер платежа\n{lines}").into_bytes()
    };
    let page = client.upload_file(IMPORT, "year.csv", statement(20_000)).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    page.assert_contains("В файле больше 10\u{202f}000 строк (ячейка A10101 уже за пределами)");

    // The longest file allowed: its 10 000 references are looked up in batches.
    let page = client.upload_file(IMPORT, "month.csv", statement(10_000)).await;
    page.assert_ok();
    assert_eq!(page.number_after("Будут внесены"), 10_000);
    // The rows wait in a draft; the session row, read by every request, stays small.
    assert_eq!(import_draft::Entity::find().count(conn).await.unwrap(), 1);
    let sessions = web_session::Entity::find().all(conn).await.unwrap();
    assert!(sessions.iter().all(|s| s.entries.len() < 2_000), "{:?}", sessions.iter().map(|s| s.entries.len()));

    let done = client.confirm_import(IMPORT, &page).await;
    assert_eq!(done.location(), Some("/payments?source=import"));
    assert_eq!(payment::Entity::find().count(conn).await.unwrap(), 10_000);
    assert_eq!(import_draft::Entity::find().count(conn).await.unwrap(), 0, "taken when stored");
    let again = client.confirm_import(IMPORT, &page).await;
    assert_eq!(again.location(), Some("/payments/import"), "a second click stores nothing");
    assert_eq!(payment::Entity::find().count(conn).await.unwrap(), 10_000);
}

#[tokio::test]
async fn text_beyond_its_limit_in_a_file_or_the_form_is_refused() {
    let (t, client) = office().await;
    let csv = format!(
        "Договор;Сумма;Дата оплаты;Период;Номер платежа\nW-1;100,00;01.03.2026;2026-02;{}\n{};200,00;01.03.2026;2026-02;A-2\n",
        "П".repeat(101),
        "W".repeat(51)
    );
    let page = client.upload_file(IMPORT, "bank.csv", csv.into_bytes()).await;
    page.assert_ok()
        .assert_contains("Номер платежа: не длиннее 100 символов, а здесь 101.")
        .assert_contains("Договор: не длиннее 50 символов, а здесь 51.")
        .assert_contains("Файл не будет внесён");
    assert_eq!(page.number_after("Строки с ошибками"), 2);
    assert!(page.input_value("import_id").is_none());

    client.get("/payments/new").await.assert_ok();
    let reference = "П".repeat(2_000_000);
    let form = [
        ("contract", "W-1"),
        ("amount", "100"),
        ("paid_on", "2026-03-01"),
        ("period", "2026-02"),
        ("reference", &reference),
    ];
    let page = client.post_form("/payments", &form).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    page.assert_contains("Номер платежа: не длиннее 100 символов, а здесь 2000000.");
    assert!(payments(&t).await.is_empty());
}
