//! The bank's own statement (1CClientBankExchange) in the panel, through the real app on a
//! temporary SQLite file: files written byte for byte as a bank's client writes them (Windows-1251,
//! CRLF), previewed, confirmed, loaded again, and what nothing matched resolved in «Разобрать».

use bank::testing::{ACCOUNT, TestDocument, write_statement, write_statement_of};
use domain::{Kopecks, PaymentSource, Role, Service, TariffPlan, kopecks, meter_value};
use entities::{bank_document, payment};
use sea_orm::{EntityTrait, QueryOrder};
use service::testing::{TestContext, bank_details, new_consumer};
use tests::{PanelClient, seed};

const STATEMENT: &str = "/payments/statement";
const REVIEW: &str = "/payments/review";
/// Сидоров pays from this account and writes nothing the matcher can use.
const SIDOROV: &str = "40817810500000000777";

/// Plot 12 (Иванова: E-12 owes 500 ₽ for February; W-12 owes 250 ₽ for January and 250 ₽ for
/// February) and plot 14 (Петров: E-14); the cooperative's details set; an accountant logged in.
async fn office() -> (TestContext, PanelClient) {
    let t = TestContext::new().await;
    t.standard_tariffs().await;
    bank_details(&t.ctx).await;
    let ivanova = new_consumer("Иванова Анна Петровна", None);
    let power = t.sign("12", ivanova, "E-12", Service::Electricity, TariffPlan::Single, &[1000]).await;
    let existing = service::register::sign_up::ConsumerRef::Existing(power.consumer_id);
    let water = t.sign("12", existing, "W-12", Service::Water, TariffPlan::Single, &[100]).await;
    t.sign("14", new_consumer("Петров Борис Викторович", None), "E-14", Service::Electricity, TariffPlan::Single, &[0])
        .await;
    seed::reading(&t.ctx, water.meter_id, &[meter_value!(106_250)], "2026-01-20").await;
    seed::reading(&t.ctx, water.meter_id, &[meter_value!(112_500)], "2026-02-20").await;
    seed::reading(&t.ctx, power.meter_id, &[meter_value!(1_100_000)], "2026-02-20").await;
    let client = PanelClient::staff(&t, "buh", Role::Accountant).await;
    (t, client)
}

/// What the first statement holds: a payment by contract number, a plot's payment naming no
/// service, one nothing matches, and the cooperative's own payment going out.
fn march_statement() -> Vec<u8> {
    let documents = [
        TestDocument::incoming(
            "101",
            "02.03.2026",
            "300.00",
            "Петров Борис Викторович",
            "40817810500000000014",
            "Оплата по договору E-14 за февраль",
        ),
        TestDocument::incoming("102", "03.03.2026", "700.00", "Иванова Анна Петровна", "40817810500000000012", "уч 12"),
        TestDocument::incoming("103", "04.03.2026", "1500.00", "Сидоров Карп Карпович", SIDOROV, "членские взносы"),
        TestDocument {
            payer_account: ACCOUNT.to_owned(),
            payee_account: "40702810900000012345".to_owned(),
            ..TestDocument::incoming("55", "05.03.2026", "12000.00", "СНТ «Черноморск»", ACCOUNT, "Вывоз мусора")
        },
    ];
    write_statement(ACCOUNT, "01.03.2026", "10.03.2026", &documents)
}

/// Loads [`march_statement`] and returns what waits in «Разобрать»: Сидоров's 1 500 ₽ (103).
async fn load_march(t: &TestContext, client: &PanelClient) -> Vec<bank_document::Model> {
    let preview = client.upload_file(STATEMENT, "kl_to_1c.txt", march_statement()).await;
    client.confirm_import(STATEMENT, &preview).await;
    service::ledger::payments::statement::waiting(t.ctx.db.conn()).await.unwrap()
}

/// E-14's 1 500 ₽ of 04.03 typed in, then marked «Уже внесён» as the money of Сидоров's 103 (a
/// mistake: 103 names no plot, so any typed payment of its amount and day is offered).
async fn marked_for_sidorov(t: &TestContext, client: &PanelClient) -> (payment::Model, bank_document::Model) {
    let typed = service::testing::paid("E-14", kopecks!(1500_00), "2026-03-04");
    let typed = service::ledger::payments::record(&t.ctx, typed, service::audit::Actor::System).await.unwrap();
    let waiting = load_march(t, client).await;
    let [sidorov] = &waiting[..] else { panic!("103 waits: {waiting:?}") };
    let path = format!("{REVIEW}/{}/entered", sidorov.id);
    let marked = client.post_form(&path, &[("payment_id", &typed.id.to_string())]).await;
    assert_eq!(marked.location(), Some(REVIEW), "{}", marked.body);
    (typed, sidorov.clone())
}

/// A statement of 04.03 bringing Петров's own 1 500 ₽ for E-14 (104).
fn petrovs_1500() -> Vec<u8> {
    let petrov = TestDocument::incoming(
        "104",
        "04.03.2026",
        "1500.00",
        "Петров Борис Викторович",
        "40817810500000000014",
        "Оплата по договору E-14",
    );
    write_statement(ACCOUNT, "04.03.2026", "04.03.2026", &[petrov])
}

async fn payments(t: &TestContext) -> Vec<(String, Kopecks, PaymentSource, Option<i64>)> {
    let numbers: std::collections::HashMap<i64, String> = entities::contract::Entity::find()
        .all(t.ctx.db.conn())
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.id, c.number))
        .collect();
    payment::Entity::find()
        .order_by_asc(payment::Column::Id)
        .all(t.ctx.db.conn())
        .await
        .unwrap()
        .into_iter()
        .map(|p| (numbers[&p.contract_id].clone(), p.amount_kopecks, p.source, p.bank_document_id))
        .collect()
}

#[tokio::test]
async fn a_statement_is_matched_split_stored_once_and_the_rest_resolved_in_review() {
    let (t, client) = office().await;
    client.get(STATEMENT).await.assert_ok().assert_contains("Экспорт");

    let file = march_statement();
    let preview = client.upload_file(STATEMENT, "kl_to_1c.txt", file.clone()).await;
    preview
        .assert_ok()
        .assert_contains("будет внесена, по номеру договора E-14")
        // Oldest debt first: January's water, then February's electricity before February's water.
        .assert_contains("будет внесена, по номеру участка 12, разделена по долгам")
        .assert_contains("E-12: 450,00 ₽<br>W-12: 250,00 ₽")
        .assert_contains("Разобрать: в назначении нет ни договора, ни участка, ни знакомого плательщика")
        .assert_contains("не поступление: получатель — счёт 40702810900000012345");
    assert_eq!(preview.number_after("В «Разобрать»"), 1);
    assert_eq!(preview.number_after("Не поступления (пропущены)"), 1);
    assert!(payments(&t).await.is_empty(), "the preview writes nothing");

    let done = client.confirm_import(STATEMENT, &preview).await;
    assert_eq!(done.location(), Some(REVIEW));
    let stored = payments(&t).await;
    let amounts: Vec<(&str, Kopecks, PaymentSource)> = stored.iter().map(|(n, a, s, _)| (n.as_str(), *a, *s)).collect();
    let source = PaymentSource::BankStatement;
    assert_eq!(
        amounts,
        [("E-14", kopecks!(300_00), source), ("E-12", kopecks!(450_00), source), ("W-12", kopecks!(250_00), source)]
    );
    assert!(stored.iter().all(|(.., document)| document.is_some()), "each payment points at its document");
    assert_eq!(stored[1].3, stored[2].3, "the split's payments point at one document");
    client.get("/payments?source=bank_statement").await.assert_contains("Выписка банка");

    // The same file again, and a statement overlapping it, add nothing.
    let again = client.upload_file(STATEMENT, "kl_to_1c.txt", file).await;
    again.assert_ok().assert_contains("Новых поступлений в выписке нет");
    assert_eq!(again.number_after("Уже загружены"), 3);
    assert_eq!(again.input_value("import_id"), None);
    assert_eq!(bank_document::Entity::find().all(t.ctx.db.conn()).await.unwrap().len(), 3);

    // «Разобрать»: the amounts must add up to the payment's, then it is posted and remembered.
    let queue = client.get(REVIEW).await;
    queue.assert_ok().assert_contains("членские взносы").assert_contains(SIDOROV);
    let waiting = service::ledger::payments::statement::waiting(t.ctx.db.conn()).await.unwrap();
    let path = format!("{REVIEW}/{}", waiting[0].id);
    client.get(&path).await.assert_ok().assert_contains("Запомнить для этого счёта плательщика");
    let short = [("contract_1", "E-14"), ("amount_1", "1000"), ("contract_2", "W-12"), ("amount_2", "400")];
    client.post_form(&path, &short).await.assert_contains(
        "Суммы по договорам (1\u{202f}400,00 ₽) должны в точности составить сумму платежа (1\u{202f}500,00 ₽).",
    );
    let unknown = [("contract_1", "E-99"), ("amount_1", "1500")];
    client.post_form(&path, &unknown).await.assert_contains("Договор № E-99 не найден.");
    assert_eq!(payments(&t).await.len(), 3, "nothing posted by a refused choice");
    let chosen = [("contract_1", "E-14"), ("amount_1", "1500"), ("remember", "on")];
    assert_eq!(client.post_form(&path, &chosen).await.location(), Some(REVIEW));
    assert_eq!(payments(&t).await[3].0, "E-14");
    assert_eq!(payments(&t).await[3].1, kopecks!(1500_00));
    client.get(REVIEW).await.assert_contains("Всё разобрано");
    // Resolved once: sending the form again posts nothing.
    client.post_form(&path, &chosen).await.assert_contains("Этот платёж уже разобран или не найден.");
    assert_eq!(payments(&t).await.len(), 4);
    let trail = service::audit::audit_trail(t.ctx.db.conn(), "bank_document", &[waiting[0].id]).await.unwrap();
    assert_eq!(trail.len(), 1, "the choice is audited");

    // A statement of the settlement account and a special one: money to the special account
    // (target contributions) is not a payment for services and is left out, named.
    let special = "40703810300000000777";
    let both = [
        TestDocument {
            payee_account: special.to_owned(),
            ..TestDocument::incoming("301", "11.03.2026", "5000.00", "Петров Б. В.", "40817810500000000014", "уч 14")
        },
        TestDocument::incoming("302", "11.03.2026", "100.00", "Петров Б. В.", "40817810500000000014", "договор E-14"),
    ];
    let two = client
        .upload_file(
            STATEMENT,
            "kl_to_1c.txt",
            write_statement_of(&[ACCOUNT, special], "11.03.2026", "11.03.2026", &both),
        )
        .await;
    two.assert_ok().assert_contains(&format!("поступление на другой счёт СНТ ({special}), не на расчётный счёт"));
    assert_eq!(two.number_after("Не поступления (пропущены)"), 1);
    client.confirm_import(STATEMENT, &two).await;
    assert_eq!(payments(&t).await.len(), 5, "only the settlement account's payment is posted");
    assert_eq!(payments(&t).await[4].1, kopecks!(100_00));

    // The next statement from that payer account matches by it.
    let april = [TestDocument::incoming("201", "12.03.2026", "200.00", "Сидоров К.К.", SIDOROV, "за март")];
    let next = client
        .upload_file(STATEMENT, "kl_to_1c.txt", write_statement(ACCOUNT, "11.03.2026", "14.03.2026", &april))
        .await;
    next.assert_contains("будет внесена, по счёту плательщика (запомнено)");
    client.confirm_import(STATEMENT, &next).await;
    assert_eq!(payments(&t).await[5].0, "E-14");

    // Typed from the bank app on the day, then in the statement: not booked a second time.
    let typed = service::ledger::payments::NewPayment {
        contract_number: "E-14".into(),
        amount: kopecks!(250_00),
        paid_on: chrono::NaiveDate::from_ymd_opt(2026, 3, 13).unwrap(),
        for_period: None,
        reference: None,
        confirm_duplicate: false,
    };
    let typed = service::ledger::payments::record(&t.ctx, typed, service::audit::Actor::System).await.unwrap();
    let same = [TestDocument::incoming("401", "13.03.2026", "250.00", "Петров Б. В.", "40817810500000000099", "E-14")];
    let preview = client
        .upload_file(STATEMENT, "kl_to_1c.txt", write_statement(ACCOUNT, "13.03.2026", "13.03.2026", &same))
        .await;
    preview.assert_contains(&format!(
        "Разобрать: похоже, уже внесён вручную — платёж № {} — 250,00 ₽ по договору № E-14 от 13.03.2026",
        typed.id
    ));
    client.confirm_import(STATEMENT, &preview).await;
    assert_eq!(payments(&t).await.len(), 7, "the typed payment only; the document waits in «Разобрать»");
}

/// Sidorov's 1 500 ₽ divided in «Разобрать» between plot 12's E-12 and W-12 with «Запомнить»,
/// then W-12's 500 ₽ moved to E-14 as the wrong contract: the choice was the mistake, so the
/// account is forgotten — all of it, or E-12 would take its next payment unasked — and that
/// payment waits in «Разобрать».
#[tokio::test]
async fn moving_a_remembered_accounts_payment_forgets_the_account() {
    let (t, client) = office().await;
    let waiting = load_march(&t, &client).await;
    let path = format!("{REVIEW}/{}", waiting[0].id);
    let chosen =
        [("contract_1", "E-12"), ("amount_1", "1000"), ("contract_2", "W-12"), ("amount_2", "500"), ("remember", "on")];
    assert_eq!(client.post_form(&path, &chosen).await.location(), Some(REVIEW));
    let posted = payment::Entity::find().order_by_desc(payment::Column::Id).one(t.ctx.db.conn()).await;
    let posted = posted.unwrap().unwrap();
    assert_eq!(posted.amount_kopecks, kopecks!(500_00), "W-12's share, posted last");

    let fields = [("contract", "E-14"), ("reason", "не тот договор")];
    let moved = client.post_form(&format!("/payments/{}/transfer", posted.id), &fields).await;
    let page = client.get(moved.location().expect("to the moved line")).await;
    page.assert_contains(&format!("Счёт плательщика {SIDOROV} больше не запоминается"));

    let april = [TestDocument::incoming("201", "12.03.2026", "200.00", "Сидоров К.К.", SIDOROV, "за март")];
    let next = client
        .upload_file(STATEMENT, "kl_to_1c.txt", write_statement(ACCOUNT, "11.03.2026", "14.03.2026", &april))
        .await;
    assert!(!next.body.contains("(запомнено)"), "{}", next.body);
    assert_eq!(next.number_after("В «Разобрать»"), 1, "{}", next.body);
}

/// «Запомненные счета плательщиков» lists what «Запомнить» tied together, and «Забыть» unties an
/// account remembered by mistake: its next payment waits in «Разобрать» instead of going to E-14.
#[tokio::test]
async fn a_remembered_account_is_listed_and_forgotten_on_its_page() {
    let (t, client) = office().await;
    let accounts = "/payments/accounts";
    client.get(accounts).await.assert_ok().assert_contains("Запомненных счетов нет");
    let waiting = load_march(&t, &client).await;
    let chosen = [("contract_1", "E-14"), ("amount_1", "1500"), ("remember", "on")];
    assert_eq!(client.post_form(&format!("{REVIEW}/{}", waiting[0].id), &chosen).await.location(), Some(REVIEW));

    client.get(REVIEW).await.assert_contains(&format!("href=\"{accounts}\""));
    let listed = client.get(accounts).await;
    for shown in ["Сидоров Карп Карпович", SIDOROV, "№ E-14 (участок 14)", "Забыть"] {
        listed.assert_contains(shown);
    }
    let april = [TestDocument::incoming("201", "12.03.2026", "200.00", "Сидоров К.К.", SIDOROV, "за март")];
    let april = write_statement(ACCOUNT, "11.03.2026", "14.03.2026", &april);
    let next = client.upload_file(STATEMENT, "kl_to_1c.txt", april.clone()).await;
    assert!(next.body.contains("(запомнено)"), "{}", next.body);

    let forgotten = client.post_form(&format!("{accounts}/forget"), &[("account", SIDOROV)]).await;
    assert_eq!(forgotten.location(), Some(accounts), "{}", forgotten.body);
    client.get(accounts).await.assert_contains("Запомненных счетов нет");
    let again = client.post_form(&format!("{accounts}/forget"), &[("account", SIDOROV)]).await;
    assert_eq!(again.status, poem::http::StatusCode::UNPROCESSABLE_ENTITY);
    again.assert_contains("не запомнен: забывать нечего");
    let audited = entities::audit_log::Entity::find().all(t.ctx.db.conn()).await.unwrap();
    assert_eq!(audited.iter().filter(|a| a.action == "payer_account.forgotten").count(), 1);

    let next = client.upload_file(STATEMENT, "kl_to_1c.txt", april).await;
    assert!(!next.body.contains("(запомнено)"), "{}", next.body);
    assert_eq!(next.number_after("В «Разобрать»"), 1, "{}", next.body);
}

/// Petrov paid 800 ₽ on Saturday 07.03 and sent the receipt; the accountant typed it in on that
/// day. The money arrived on Tuesday 10.03: the statement's document is found as typed in all the
/// same (its order's date to its arrival), waits in «Разобрать» and is marked «Уже внесён». The
/// other way round, plot 12's 500 ₽ of 12.03 that the statement posted on its arrival, 14.03, is
/// asked about when typed in from the receipt.
#[tokio::test]
async fn money_typed_in_on_the_receipts_day_is_found_in_a_statement_that_brought_it_later() {
    let (t, client) = office().await;
    let actor = service::audit::Actor::System;
    let typed = service::ledger::payments::NewPayment {
        reference: None,
        ..service::testing::paid("E-14", kopecks!(800_00), "2026-03-07")
    };
    let typed = service::ledger::payments::record(&t.ctx, typed, actor).await.unwrap();
    let account = "40817810500000000014";
    let documents = [
        TestDocument {
            received: Some("10.03.2026".into()),
            ..TestDocument::incoming("601", "07.03.2026", "800.00", "Петров Борис Викторович", account, "E-14")
        },
        TestDocument {
            received: Some("14.03.2026".into()),
            ..TestDocument::incoming("602", "12.03.2026", "500.00", "Иванова Анна Петровна", account, "уч 12")
        },
    ];
    let file = write_statement(ACCOUNT, "01.03.2026", "14.03.2026", &documents);
    let preview = client.upload_file(STATEMENT, "kl_to_1c.txt", file).await;
    preview.assert_contains(&format!(
        "похоже, уже внесён вручную — платёж № {} — {} по договору № E-14 от 07.03.2026",
        typed.id,
        kopecks!(800_00)
    ));
    client.confirm_import(STATEMENT, &preview).await;
    let waiting = service::ledger::payments::statement::waiting(t.ctx.db.conn()).await.unwrap();
    let [document] = &waiting[..] else { panic!("601 waits: {waiting:?}") };
    let path = format!("{REVIEW}/{}", document.id);
    client.get(&path).await.assert_contains(&format!("Уже внесён: платёж № {}", typed.id));
    let linked = client.post_form(&format!("{path}/entered"), &[("payment_id", &typed.id.to_string())]).await;
    assert_eq!(linked.location(), Some(REVIEW), "{}", linked.body);

    let receipt = service::ledger::payments::NewPayment {
        reference: None,
        ..service::testing::paid("W-12", kopecks!(500_00), "2026-03-12")
    };
    let asked = service::ledger::payments::record(&t.ctx, receipt, actor).await;
    let Err(service::ledger::payments::PaymentError::PossibleDuplicate { found }) = asked else {
        panic!("asked first: {asked:?}")
    };
    assert!(found.contains("от 14.03.2026 документом выписки № 602"), "{found}");
}

/// A payment to one contract counts against the plot's debts when a later payment of the same
/// statement is divided among them: W-12's 500 ₽ pays its January and February, so the plot's
/// 500 ₽ after it all goes to E-12's February.
#[tokio::test]
async fn a_plots_payment_is_divided_after_the_statements_earlier_payments() {
    let (t, client) = office().await;
    let account = "40817810500000000012";
    let documents = [
        TestDocument::incoming(
            "201",
            "02.03.2026",
            "500.00",
            "Иванова Анна Петровна",
            account,
            "Оплата по договору W-12",
        ),
        TestDocument::incoming("202", "03.03.2026", "500.00", "Иванова Анна Петровна", account, "уч 12"),
    ];
    let file = write_statement(ACCOUNT, "01.03.2026", "10.03.2026", &documents);
    let preview = client.upload_file(STATEMENT, "kl_to_1c.txt", file).await;
    preview.assert_ok();
    client.confirm_import(STATEMENT, &preview).await;
    let stored: Vec<(String, Kopecks)> = payments(&t).await.into_iter().map(|(n, a, ..)| (n, a)).collect();
    assert_eq!(stored, [("W-12".to_owned(), kopecks!(500_00)), ("E-12".to_owned(), kopecks!(500_00))]);
}

/// The bank's register of payments, loaded after the statement that brought the same money: its
/// payment numbers are not the statement's, so the row is caught by contract, amount and day, and
/// its number again is a repeat. A second 300,00 ₽ of that day (two months paid) is new: the
/// statement brought one.
#[tokio::test]
async fn a_payment_from_the_statement_is_not_imported_again_from_a_register() {
    let (t, client) = office().await;
    let preview = client.upload_file(STATEMENT, "kl_to_1c.txt", march_statement()).await;
    client.confirm_import(STATEMENT, &preview).await;
    assert_eq!(payments(&t).await.len(), 3);

    let register = "Договор;Сумма;Дата оплаты;Период;Номер платежа\n\
                    E-14;300,00;02.03.2026;2026-02;123456\n\
                    E-14;300,00;02.03.2026;2026-02;123456\n\
                    E-14;300,00;02.03.2026;2026-01;123458\n\
                    E-14;300,00;03.03.2026;2026-02;123457\n";
    let page = client.upload_file("/payments/import", "reestr.csv", register.as_bytes().to_vec()).await;
    page.assert_ok()
        .assert_contains("возможный повтор: оплата этого участка на ту же сумму уже внесена из выписки банка (документ этого дня или пришедший не позже чем через 14 дн.)");
    assert_eq!(page.number_after("Будут внесены"), 2, "the day's second payment and the next day's are new");
    assert_eq!(page.number_after("Уже внесены или повторяются"), 2);
    page.assert_contains("повтор: тот же номер платежа в строке 2");
    client.confirm_import("/payments/import", &page).await;
    assert_eq!(payments(&t).await.len(), 5);
}

/// A register dates a row the day the member paid; the bank's statement brought that money days
/// later (ordered on Saturday 07.03, arrived on Tuesday 10.03). The row is the statement's money
/// all the same, found over the document's days from its order to its arrival; a row of 11.03,
/// after the money arrived, is another payment.
#[tokio::test]
async fn a_register_row_dated_the_day_paid_repeats_the_statements_later_arrival() {
    let (t, client) = office().await;
    let document = TestDocument {
        received: Some("10.03.2026".into()),
        ..TestDocument::incoming("601", "07.03.2026", "800.00", "Петров Борис Викторович", SIDOROV, "E-14")
    };
    let file = write_statement(ACCOUNT, "01.03.2026", "10.03.2026", &[document]);
    let preview = client.upload_file(STATEMENT, "kl_to_1c.txt", file).await;
    client.confirm_import(STATEMENT, &preview).await;
    assert_eq!(payments(&t).await.len(), 1, "posted on its arrival");

    let register = "Договор;Сумма;Дата оплаты;Период;Номер платежа\n\
                    E-14;800,00;07.03.2026;2026-02;555001\n\
                    E-14;800,00;11.03.2026;2026-03;555002\n";
    let page = client.upload_file("/payments/import", "reestr.csv", register.as_bytes().to_vec()).await;
    page.assert_ok()
        .assert_contains("возможный повтор: оплата этого участка на ту же сумму уже внесена из выписки банка (документ этого дня или пришедший не позже чем через 14 дн.)");
    assert_eq!(page.number_after("Будут внесены"), 1, "{}", page.body);
    assert_eq!(page.number_after("Уже внесены или повторяются"), 1, "{}", page.body);
    client.confirm_import("/payments/import", &page).await;
    assert_eq!(payments(&t).await.len(), 2);
}

/// A register row is the statement's money again when the bank's document of that day and
/// amount paid the row's plot, divided among its contracts (700 ₽ «уч 12» went to E-12 and W-12),
/// or went to the row's contract by a move after the statement (E-14's 300 ₽ moved to W-12).
#[tokio::test]
async fn a_register_row_repeating_a_divided_or_moved_statement_payment_is_caught() {
    let (t, client) = office().await;
    let preview = client.upload_file(STATEMENT, "kl_to_1c.txt", march_statement()).await;
    client.confirm_import(STATEMENT, &preview).await;
    let petrov = payment::Entity::find().order_by_asc(payment::Column::Id).one(t.ctx.db.conn()).await.unwrap().unwrap();
    let (source, actor) = (PaymentSource::Panel, service::audit::Actor::System);
    service::ledger::payments::reversal::transfer(&t.ctx, petrov.id, "W-12", "не тот договор", source, actor)
        .await
        .unwrap();

    // The first row has no payment number: it is compared by its contents all the same.
    let register = "Договор;Сумма;Дата оплаты;Период;Номер платежа\n\
                    E-12;700,00;03.03.2026;2026-02;\n\
                    W-12;300,00;02.03.2026;2026-02;777002\n\
                    W-12;700,00;03.03.2026;2026-02;777003\n";
    let page = client.upload_file("/payments/import", "reestr.csv", register.as_bytes().to_vec()).await;
    page.assert_ok().assert_contains("оплата этого участка на ту же сумму уже внесена из выписки банка");
    assert_eq!(page.number_after("Уже внесены или повторяются"), 2, "the divided 700 ₽ and the moved 300 ₽");
    assert_eq!(page.number_after("Будут внесены"), 1, "a second 700 ₽ of that day: the statement brought one");
}

/// A payment typed in from the bank app while the statement's preview waited is found again
/// when the statement is confirmed: that document waits in «Разобрать» instead of booking the
/// money a second time.
#[tokio::test]
async fn a_payment_typed_in_while_the_preview_waited_is_not_booked_twice() {
    let (t, client) = office().await;
    let preview = client.upload_file(STATEMENT, "kl_to_1c.txt", march_statement()).await;
    preview.assert_ok().assert_contains("будет внесена, по номеру договора E-14");
    let typed = service::testing::paid("E-14", kopecks!(300_00), "2026-03-02");
    let typed = service::ledger::payments::record(&t.ctx, typed, service::audit::Actor::System).await.unwrap();

    client.confirm_import(STATEMENT, &preview).await;
    let petrov: Vec<_> = payments(&t).await.into_iter().filter(|(number, ..)| number == "E-14").collect();
    assert_eq!(petrov.len(), 1, "the typed one only: {petrov:?}");
    let documents = bank_document::Entity::find().order_by_asc(bank_document::Column::Id).all(t.ctx.db.conn()).await;
    let first = documents.unwrap().into_iter().next().unwrap();
    assert_eq!(first.status, "review");
    let reason = first.review_reason.unwrap();
    assert!(reason.contains(&format!("похоже, уже внесён вручную — платёж № {} — 300,00", typed.id)), "{reason}");
}

/// The same for a plot's payment whose whole sum went to one contract: typed in meanwhile on
/// the plot's other contract (which the statement's earlier payment had paid up, so it got no
/// share), it is found again as the preview would have found it.
#[tokio::test]
async fn a_plots_payment_typed_in_on_its_other_contract_is_not_booked_twice() {
    let (t, client) = office().await;
    let account = "40817810500000000012";
    let documents = [
        TestDocument::incoming("201", "02.03.2026", "500.00", "Иванова Анна Петровна", account, "по договору W-12"),
        TestDocument::incoming("202", "03.03.2026", "500.00", "Иванова Анна Петровна", account, "уч 12"),
    ];
    let file = write_statement(ACCOUNT, "01.03.2026", "10.03.2026", &documents);
    let preview = client.upload_file(STATEMENT, "kl_to_1c.txt", file).await;
    preview.assert_ok();
    let typed = service::testing::paid("W-12", kopecks!(500_00), "2026-03-03");
    service::ledger::payments::record(&t.ctx, typed, service::audit::Actor::System).await.unwrap();

    client.confirm_import(STATEMENT, &preview).await;
    let stored: Vec<(String, Kopecks, PaymentSource)> =
        payments(&t).await.into_iter().map(|(n, a, s, _)| (n, a, s)).collect();
    let w12 = ("W-12".to_owned(), kopecks!(500_00));
    assert_eq!(
        stored,
        [(w12.0.clone(), w12.1, PaymentSource::Panel), (w12.0, w12.1, PaymentSource::BankStatement)],
        "the typed one and the statement's first; the plot's payment waits in «Разобрать»"
    );
}

/// A document waiting in «Разобрать» whose money a register brought meanwhile (1 500 ₽ on E-14
/// of its day): posting it to E-14 is refused with that payment named, «Уже внесён» links the
/// document to the payment and books nothing, and «Это другой платёж» posts it all the same.
#[tokio::test]
async fn a_waiting_documents_money_entered_meanwhile_is_not_booked_again() {
    let (t, client) = office().await;
    let waiting = load_march(&t, &client).await;
    let path = format!("{REVIEW}/{}", waiting[0].id);
    let from_register = service::testing::paid("E-14", kopecks!(1500_00), "2026-03-04");
    let entered =
        service::ledger::payments::record(&t.ctx, from_register, service::audit::Actor::System).await.unwrap();
    let before = payments(&t).await.len();

    client.get(&path).await.assert_ok().assert_contains(&format!(
        "Уже внесён: платёж № {} — {} по договору № E-14 от 04.03.2026",
        entered.id,
        kopecks!(1500_00)
    ));
    let chosen = [("contract_1", "E-14"), ("amount_1", "1500")];
    let refused = client.post_form(&path, &chosen).await;
    assert_eq!(refused.status, poem::http::StatusCode::UNPROCESSABLE_ENTITY);
    refused.assert_contains(&format!("Похоже, эти деньги уже внесены: платёж № {}", entered.id));
    let statement_payment = payment::Entity::find().order_by_asc(payment::Column::Id).one(t.ctx.db.conn()).await;
    let forged = statement_payment.unwrap().unwrap().id.to_string();
    let entered_path = format!("{path}/entered");
    client.post_form(&entered_path, &[("payment_id", &forged)]).await.assert_contains("не подходит к этому документу");

    let linked = client.post_form(&entered_path, &[("payment_id", &entered.id.to_string())]).await;
    assert_eq!(linked.location(), Some(REVIEW));
    assert_eq!(payments(&t).await.len(), before, "nothing new booked");
    let stored = payment::Entity::find_by_id(entered.id).one(t.ctx.db.conn()).await.unwrap().unwrap();
    assert_eq!(stored.bank_document_id, Some(waiting[0].id));
    client.get(REVIEW).await.assert_contains("Всё разобрано");

    // The register again, with a second real 1 500 ₽ of that day: its first row is on file by
    // its number and accounts for the document, so the second is new.
    let register = "Договор;Сумма;Дата оплаты;Период;Номер платежа\n\
                    E-14;1500,00;04.03.2026;2026-02;П-E-14-2026-03-04\n\
                    E-14;1500,00;04.03.2026;2026-02;888001\n";
    let page = client.upload_file("/payments/import", "reestr.csv", register.as_bytes().to_vec()).await;
    assert_eq!(page.number_after("Будут внесены"), 1, "{}", page.body);

    // Marked by mistake: «Отвязать» on the payment's page returns the document to «Разобрать»,
    // and the payment stays as it was.
    let payment_page = format!("/payments/{}", entered.id);
    client.get(&payment_page).await.assert_contains("Отвязать документ № 103");
    let unlinked = client.post_form(&format!("{payment_page}/unlink"), &[]).await;
    assert_eq!(unlinked.location(), Some(payment_page.as_str()), "{}", unlinked.body);
    let stored = payment::Entity::find_by_id(entered.id).one(t.ctx.db.conn()).await.unwrap().unwrap();
    assert_eq!((stored.bank_document_id, stored.amount_kopecks), (None, kopecks!(1500_00)));
    let waiting_again = service::ledger::payments::statement::waiting(t.ctx.db.conn()).await.unwrap();
    assert_eq!(waiting_again.iter().map(|d| d.id).collect::<Vec<_>>(), [waiting[0].id]);
    // A statement's own payment is not undone this way.
    let refused = client.post_form(&format!("/payments/{forged}/unlink"), &[]).await;
    assert_eq!(refused.status, poem::http::StatusCode::UNPROCESSABLE_ENTITY);
    refused.assert_contains("отвязывать нечего");
    assert_eq!(payments(&t).await.len(), before);
}

/// A typed payment marked «Уже внесён» as a document's money is not reversed while it holds the
/// document: the bank's money would be booked nowhere. «Отвязать документ» first returns the
/// document to «Разобрать»; then the payment is reversed.
#[tokio::test]
async fn a_payment_holding_a_documents_money_is_unlinked_before_it_is_reversed() {
    let (t, client) = office().await;
    let waiting = load_march(&t, &client).await;
    let typed = service::testing::paid("E-14", kopecks!(1500_00), "2026-03-04");
    let typed = service::ledger::payments::record(&t.ctx, typed, service::audit::Actor::System).await.unwrap();
    let path = format!("{REVIEW}/{}/entered", waiting[0].id);
    let linked = client.post_form(&path, &[("payment_id", &typed.id.to_string())]).await;
    assert_eq!(linked.location(), Some(REVIEW), "{}", linked.body);
    let before = payments(&t).await.len();

    let payment_page = format!("/payments/{}", typed.id);
    let reverse = format!("{payment_page}/reverse");
    let refused = client.post_form(&reverse, &[("reason", "внесён по ошибке")]).await;
    assert_eq!(refused.status, poem::http::StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    refused.assert_contains(&format!(
        "Платёж № {0} отмечен кнопкой «Уже внесён» как деньги документа № 103 из выписки банка (его держат \
         платежи № {0})",
        typed.id
    ));
    assert_eq!(payments(&t).await.len(), before, "nothing reversed");
    client.get(REVIEW).await.assert_contains("Всё разобрано");

    client.post_form(&format!("{payment_page}/unlink"), &[]).await;
    let reversed = client.post_form(&reverse, &[("reason", "внесён по ошибке")]).await;
    assert!(reversed.location().is_some(), "{}", reversed.body);
    assert_eq!(payments(&t).await.len(), before + 1, "the reversal line");
    let waiting_again = service::ledger::payments::statement::waiting(t.ctx.db.conn()).await.unwrap();
    assert_eq!(waiting_again.iter().map(|d| d.id).collect::<Vec<_>>(), [waiting[0].id]);
}

/// «Уже внесён» on a document naming no plot (Сидоров's 1 500 ₽) offers any typed payment of its
/// amount and days. Marked by mistake with E-14's own 1 500 ₽, that payment still stands between
/// E-14's document and the books: the statement that brings it sends it to «Разобрать», and
/// posting it there asks first, naming the document the payment was marked for.
#[tokio::test]
async fn a_payment_marked_for_another_document_still_keeps_its_own_from_being_booked_twice() {
    let (t, client) = office().await;
    let (typed, sidorov) = marked_for_sidorov(&t, &client).await;
    let typed_id = typed.id.to_string();

    let preview = client.upload_file(STATEMENT, "kl_to_1c.txt", petrovs_1500()).await;
    preview.assert_contains(&format!("похоже, уже внесён вручную — платёж № {}", typed.id));
    client.confirm_import(STATEMENT, &preview).await;
    let before = payments(&t).await.len();
    let waiting = service::ledger::payments::statement::waiting(t.ctx.db.conn()).await.unwrap();
    let [petrov] = &waiting[..] else { panic!("104 waits: {waiting:?}") };
    let path = format!("{REVIEW}/{}", petrov.id);
    let page = client.get(&path).await;
    assert!(!page.body.contains("Уже внесён:"), "a payment holding a document is not offered: {}", page.body);
    page.assert_contains("Это другой платёж");
    let refused = client.post_form(&path, &[("contract_1", "E-14"), ("amount_1", "1500")]).await;
    assert_eq!(refused.status, poem::http::StatusCode::UNPROCESSABLE_ENTITY);
    refused.assert_contains(&format!(
        "Похоже, эти деньги уже внесены: платёж № {0} — {1} по договору № E-14 от 04.03.2026; платёж № {0} \
         кнопкой «Уже внесён» отмечен как деньги документа № 103 от 04.03.2026",
        typed.id,
        kopecks!(1500_00)
    ));
    // A stale page's «Уже внесён» says the same, not that the payment does not fit.
    let stale = client.post_form(&format!("{path}/entered"), &[("payment_id", &typed_id)]).await;
    assert_eq!(stale.status, poem::http::StatusCode::UNPROCESSABLE_ENTITY);
    stale.assert_contains("отмечен как деньги документа № 103 от 04.03.2026");
    // Сидоров's page, dealt with, names the payment holding it and offers nothing to post.
    let dealt_with = client.get(&format!("{REVIEW}/{}", sidorov.id)).await;
    dealt_with.assert_contains("Документ уже разобран").assert_contains(&format!("href=\"/payments/{}\"", typed.id));
    dealt_with.assert_lacks("Это другой платёж").assert_lacks("Внести").assert_lacks("Уже внесён?");
    assert_eq!(payments(&t).await.len(), before, "nothing booked");

    // Set right: the payment leaves Сидоров's document for Петров's own.
    client.post_form(&format!("/payments/{}/unlink", typed.id), &[]).await;
    let linked = client.post_form(&format!("{path}/entered"), &[("payment_id", &typed_id)]).await;
    assert_eq!(linked.location(), Some(REVIEW), "{}", linked.body);
    let waiting = service::ledger::payments::statement::waiting(t.ctx.db.conn()).await.unwrap();
    assert_eq!(waiting.iter().map(|d| d.id).collect::<Vec<_>>(), [sidorov.id]);
    assert_eq!(payments(&t).await.len(), before, "nothing booked");
}

/// Beside the payment marked for Сидоров's document, E-14 has another 1 500 ₽ typed in that day
/// and free: posting Петров's document names both, the free one offered to «Уже внесён» (naming
/// one alone, «Это другой платёж», true of it, booked the other's money twice).
#[tokio::test]
async fn posting_names_both_a_free_typed_payment_and_one_marked_for_another_document() {
    let (t, client) = office().await;
    let (marked, _) = marked_for_sidorov(&t, &client).await;
    let free = service::ledger::payments::NewPayment {
        reference: Some("второй".into()),
        confirm_duplicate: true,
        ..service::testing::paid("E-14", kopecks!(1500_00), "2026-03-04")
    };
    let free = service::ledger::payments::record(&t.ctx, free, service::audit::Actor::System).await.unwrap();

    let preview = client.upload_file(STATEMENT, "kl_to_1c.txt", petrovs_1500()).await;
    client.confirm_import(STATEMENT, &preview).await;
    let waiting = service::ledger::payments::statement::waiting(t.ctx.db.conn()).await.unwrap();
    let [petrov] = &waiting[..] else { panic!("104 waits: {waiting:?}") };
    let refused =
        client.post_form(&format!("{REVIEW}/{}", petrov.id), &[("contract_1", "E-14"), ("amount_1", "1500")]).await;
    assert_eq!(refused.status, poem::http::StatusCode::UNPROCESSABLE_ENTITY);
    refused.assert_contains(&format!(
        "платёж № {} кнопкой «Уже внесён» отмечен как деньги документа № 103 от 04.03.2026. На ту же сумму внесён и \
         платёж № {} — ",
        marked.id, free.id
    ));
    client.get(&format!("{REVIEW}/{}", petrov.id)).await.assert_contains(&format!("Уже внесён: платёж № {}", free.id));
}

/// A statement's payment moved to another contract (E-14's 300 ₽ of 02.03 to W-12) is a line of
/// its own holding the document, but the statement's money, not typed in: the next statement's
/// 300 ₽ «уч 12» of that day is posted, not sent to «Разобрать».
#[tokio::test]
async fn a_statements_moved_payment_is_no_typed_in_money_for_the_next_statement() {
    let (t, client) = office().await;
    let preview = client.upload_file(STATEMENT, "kl_to_1c.txt", march_statement()).await;
    client.confirm_import(STATEMENT, &preview).await;
    let e14 = payment::Entity::find().order_by_asc(payment::Column::Id).one(t.ctx.db.conn()).await.unwrap().unwrap();
    assert_eq!(e14.amount_kopecks, kopecks!(300_00));
    let fields = [("contract", "W-12"), ("reason", "не тот договор")];
    let moved = client.post_form(&format!("/payments/{}/transfer", e14.id), &fields).await;
    assert!(moved.location().is_some(), "{}", moved.body);

    let plot_12 =
        TestDocument::incoming("105", "02.03.2026", "300.00", "Иванова Анна Петровна", "40817810500000000012", "уч 12");
    let file = write_statement(ACCOUNT, "02.03.2026", "02.03.2026", &[plot_12]);
    let next = client.upload_file(STATEMENT, "kl_to_1c.txt", file).await;
    assert_eq!(next.number_after("В «Разобрать»"), 0, "{}", next.body);
    assert!(!next.body.contains("похоже, уже внесён вручную"), "{}", next.body);
}

/// «Это другой платёж»: the same day and amount on file, and the accountant says it is another.
#[tokio::test]
async fn another_payment_of_the_same_day_and_amount_is_posted_when_the_accountant_says_so() {
    let (t, client) = office().await;
    let waiting = load_march(&t, &client).await;
    let path = format!("{REVIEW}/{}", waiting[0].id);
    let other = service::testing::paid("E-14", kopecks!(1500_00), "2026-03-04");
    service::ledger::payments::record(&t.ctx, other, service::audit::Actor::System).await.unwrap();
    let before = payments(&t).await.len();
    let chosen = [("contract_1", "E-14"), ("amount_1", "1500"), ("other", "on")];
    assert_eq!(client.post_form(&path, &chosen).await.location(), Some(REVIEW));
    assert_eq!(payments(&t).await.len(), before + 1);
}

/// 1 500 ₽ «уч 12» typed from the bank app in parts (600 ₽ on W-12, 900 ₽ on E-12) before the
/// statement came, and 800 ₽ «E-14» typed as 300 + 500 while its preview waited: neither is
/// posted again. «Уже внесён» marks the parts as the document's money, and books nothing.
#[tokio::test]
async fn money_typed_in_parts_is_not_booked_again_by_the_statement() {
    let (t, client) = office().await;
    let actor = service::audit::Actor::System;
    let mut ids = Vec::new();
    for (contract, amount) in [("W-12", kopecks!(600_00)), ("E-12", kopecks!(900_00))] {
        let typed = service::testing::paid(contract, amount, "2026-03-03");
        ids.push(service::ledger::payments::record(&t.ctx, typed, actor).await.unwrap().id);
    }
    let account = "40817810500000000012";
    let documents = [
        TestDocument::incoming("301", "03.03.2026", "1500.00", "Иванова Анна Петровна", account, "уч 12"),
        TestDocument::incoming("302", "04.03.2026", "800.00", "Петров Борис Викторович", account, "по договору E-14"),
    ];
    let preview = client
        .upload_file(STATEMENT, "kl_to_1c.txt", write_statement(ACCOUNT, "01.03.2026", "10.03.2026", &documents))
        .await;
    preview.assert_contains(&format!(
        "похоже, уже внесён вручную — частями от 03.03.2026: платёж № {} — {} по договору № W-12, платёж № {} — {} \
         по договору № E-12",
        ids[0],
        kopecks!(600_00),
        ids[1],
        kopecks!(900_00)
    ));
    for amount in [kopecks!(300_00), kopecks!(500_00)] {
        let typed = service::testing::paid("E-14", amount, "2026-03-04");
        let typed = service::ledger::payments::NewPayment { reference: None, ..typed };
        service::ledger::payments::record(&t.ctx, typed, actor).await.unwrap();
    }
    client.confirm_import(STATEMENT, &preview).await;
    assert!(
        payments(&t).await.iter().all(|(.., source, _)| *source != PaymentSource::BankStatement),
        "nothing posted twice: {:?}",
        payments(&t).await
    );

    let waiting = service::ledger::payments::statement::waiting(t.ctx.db.conn()).await.unwrap();
    assert_eq!(waiting.iter().map(|d| d.number.as_str()).collect::<Vec<_>>(), ["301", "302"]);
    assert!(waiting[1].review_reason.as_deref().unwrap().contains("частями от 04.03.2026"), "{waiting:?}");
    let path = format!("{REVIEW}/{}", waiting[0].id);
    let page = client.get(&path).await;
    page.assert_contains(&format!("Уже внесён: частями от 03.03.2026: платёж № {}", ids[0]));
    let refused = client.post_form(&path, &[("contract_1", "E-12"), ("amount_1", "1500")]).await;
    assert_eq!(refused.status, poem::http::StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    let linked = client.post_form(&format!("{path}/entered"), &[("payment_id", &ids[1].to_string())]).await;
    assert_eq!(linked.location(), Some(REVIEW), "{}", linked.body);
    let held: Vec<Option<i64>> = payments(&t).await.iter().take(2).map(|(.., document)| *document).collect();
    assert_eq!(held, [Some(waiting[0].id), Some(waiting[0].id)]);
    assert_eq!(payments(&t).await.len(), 4, "nothing new booked");
}

/// What was typed in is found whatever else the day brought: 600 + 900 beside a separate 400 on
/// plot 12 (03.03); 1 000 ₽ typed on W-12 for a document naming E-12 (06.03); but 1 500 ₽ typed
/// on W-12 and reversed («внесён по ошибке») is no payment, and the statement's 1 500 is posted
/// (05.03).
#[tokio::test]
async fn a_statement_finds_money_typed_in_on_the_documents_plot_whatever_else_that_day_brought() {
    let (t, client) = office().await;
    let actor = service::audit::Actor::System;
    let typed = |contract: &str, amount: Kopecks, day: &str| service::ledger::payments::NewPayment {
        reference: None,
        ..service::testing::paid(contract, amount, day)
    };
    let mut ids = Vec::new();
    for (contract, amount, day) in [
        ("W-12", kopecks!(600_00), "2026-03-03"),
        ("E-12", kopecks!(900_00), "2026-03-03"),
        ("W-12", kopecks!(400_00), "2026-03-03"),
        ("W-12", kopecks!(1000_00), "2026-03-06"),
    ] {
        ids.push(service::ledger::payments::record(&t.ctx, typed(contract, amount, day), actor).await.unwrap().id);
    }
    let mistaken = service::ledger::payments::record(&t.ctx, typed("W-12", kopecks!(1500_00), "2026-03-05"), actor);
    let mistaken = mistaken.await.unwrap();
    let source = PaymentSource::Panel;
    service::ledger::payments::reversal::reverse(&t.ctx, mistaken.id, "внесён по ошибке", source, actor).await.unwrap();
    let account = "40817810500000000012";
    let payer = "Иванова Анна Петровна";
    let documents = [
        TestDocument::incoming("401", "03.03.2026", "1500.00", payer, account, "уч 12"),
        TestDocument::incoming("402", "05.03.2026", "1500.00", payer, account, "уч 12"),
        TestDocument::incoming("403", "06.03.2026", "1000.00", payer, account, "по договору E-12 свет"),
    ];
    let file = write_statement(ACCOUNT, "01.03.2026", "10.03.2026", &documents);
    let preview = client.upload_file(STATEMENT, "kl_to_1c.txt", file).await;
    client.confirm_import(STATEMENT, &preview).await;

    let waiting = service::ledger::payments::statement::waiting(t.ctx.db.conn()).await.unwrap();
    let reasons: Vec<(&str, &str)> =
        waiting.iter().map(|d| (d.number.as_str(), d.review_reason.as_deref().unwrap_or(""))).collect();
    let [(first, parts), (third, other)] = &reasons[..] else { panic!("401 and 403 wait: {reasons:?}") };
    assert_eq!((*first, *third), ("401", "403"));
    let expected = format!(
        "частями от 03.03.2026: платёж № {} — {} по договору № W-12, платёж № {} — {} по договору № E-12",
        ids[0],
        kopecks!(600_00),
        ids[1],
        kopecks!(900_00)
    );
    assert!(parts.contains(&expected), "{parts}");
    assert!(other.contains(&format!("платёж № {} — {} по договору № W-12", ids[3], kopecks!(1000_00))), "{other}");
    let posted: Vec<_> = payments(&t).await.into_iter().filter(|p| p.2 == PaymentSource::BankStatement).collect();
    let total = Kopecks::try_sum(posted.iter().map(|p| p.1)).unwrap();
    assert_eq!(total, kopecks!(1500_00), "402 only: {posted:?}");
}

/// The statement posted 700 ₽ «уч 12» on 03.03 to the plot's contracts; typing 700 ₽ (or 300 ₽,
/// a part) of that day on E-12 or W-12 afterwards is asked about, naming the document; on E-14,
/// or more than the document, it is not.
#[tokio::test]
async fn typing_in_a_plots_payment_the_statement_posted_is_asked_about() {
    let (t, client) = office().await;
    let preview = client.upload_file(STATEMENT, "kl_to_1c.txt", march_statement()).await;
    client.confirm_import(STATEMENT, &preview).await;
    let typed = |contract: &str, amount: Kopecks| service::ledger::payments::NewPayment {
        reference: None,
        ..service::testing::paid(contract, amount, "2026-03-03")
    };
    // The whole on either contract, or a part of it (typed in parts).
    for (contract, amount) in [("E-12", kopecks!(700_00)), ("W-12", kopecks!(700_00)), ("W-12", kopecks!(300_00))] {
        let asked = service::ledger::payments::record(&t.ctx, typed(contract, amount), service::audit::Actor::System);
        let asked = asked.await.unwrap_err().to_string();
        assert!(asked.contains("от 03.03.2026 документом выписки № 102 на договоры этого участка"), "{asked}");
    }
    let other_plot = typed("E-14", kopecks!(700_00));
    service::ledger::payments::record(&t.ctx, other_plot, service::audit::Actor::System).await.unwrap();
    let more_than_it = typed("W-12", kopecks!(800_00));
    service::ledger::payments::record(&t.ctx, more_than_it, service::audit::Actor::System).await.unwrap();
}

/// The money typed in on a plot's other contract counts too: 1 500 ₽ of the waiting document's
/// day on W-12 refuses posting the document to E-12, the same plot, as confirming a statement
/// would find it; posting it to E-14, another plot, goes through.
#[tokio::test]
async fn a_waiting_documents_money_entered_on_the_plots_other_contract_is_not_booked_again() {
    let (t, client) = office().await;
    let waiting = load_march(&t, &client).await;
    let path = format!("{REVIEW}/{}", waiting[0].id);
    let typed = service::testing::paid("W-12", kopecks!(1500_00), "2026-03-04");
    let typed = service::ledger::payments::record(&t.ctx, typed, service::audit::Actor::System).await.unwrap();
    let before = payments(&t).await.len();

    let refused = client.post_form(&path, &[("contract_1", "E-12"), ("amount_1", "1500")]).await;
    assert_eq!(refused.status, poem::http::StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    refused.assert_contains(&format!("уже внесены: платёж № {}", typed.id)).assert_contains("по договору № W-12");
    assert_eq!(payments(&t).await.len(), before);

    let posted = client.post_form(&path, &[("contract_1", "E-14"), ("amount_1", "1500")]).await;
    assert_eq!(posted.location(), Some(REVIEW), "{}", posted.body);
    assert_eq!(payments(&t).await.len(), before + 1);
}

/// Sidorov's 1 500 ₽ «членские взносы» came to the settlement account: no payment for water or
/// electricity. «Не оплата за услуги» sets it aside with the accountant's words; nothing is
/// booked, it leaves «Разобрать», and the statement loaded again adds nothing. Set aside by
/// mistake, it is returned to «Разобрать» and posted.
#[tokio::test]
async fn membership_fees_are_set_aside_not_booked() {
    let (t, client) = office().await;
    let waiting = load_march(&t, &client).await;
    let fees = waiting.iter().find(|d| d.purpose == "членские взносы").unwrap();
    let path = format!("{REVIEW}/{}", fees.id);
    let before = payments(&t).await.len();

    client.get(&path).await.assert_contains("Не оплата за услуги");
    let refused = client.post_form(&format!("{path}/aside"), &[("note", "  ")]).await;
    assert_eq!(refused.status, poem::http::StatusCode::UNPROCESSABLE_ENTITY);
    refused.assert_contains("Укажите, что это за деньги.");
    let aside = client.post_form(&format!("{path}/aside"), &[("note", "членские взносы за 2026 год")]).await;
    assert_eq!(aside.location(), Some(REVIEW), "{}", aside.body);

    let stored = bank_document::Entity::find_by_id(fees.id).one(t.ctx.db.conn()).await.unwrap().unwrap();
    assert_eq!(
        (stored.status.as_str(), stored.resolution_note.as_deref()),
        ("other", Some("членские взносы за 2026 год"))
    );
    assert!(
        service::ledger::payments::statement::waiting(t.ctx.db.conn()).await.unwrap().iter().all(|d| d.id != fees.id)
    );
    assert_eq!(payments(&t).await.len(), before, "nothing booked");
    let chosen = [("contract_1", "E-14"), ("amount_1", "1500")];
    client.post_form(&path, &chosen).await.assert_contains("Этот платёж уже разобран или не найден.");
    let again = client.upload_file(STATEMENT, "kl_to_1c.txt", march_statement()).await;
    again.assert_contains("уже загружен");

    // It was a member's payment after all: «Разобрать» lists it, and its page returns it there.
    client.get(REVIEW).await.assert_contains("членские взносы за 2026 год");
    client.get(&path).await.assert_contains("Отложен как не оплата за услуги: членские взносы за 2026 год");
    let returned = client.post_form(&format!("{path}/return"), &[]).await;
    assert_eq!(returned.location(), Some(path.as_str()), "{}", returned.body);
    let waiting = service::ledger::payments::statement::waiting(t.ctx.db.conn()).await.unwrap();
    assert!(waiting.iter().any(|d| d.id == fees.id));
    let twice = client.post_form(&format!("{path}/return"), &[]).await;
    assert_eq!(twice.status, poem::http::StatusCode::UNPROCESSABLE_ENTITY);
    twice.assert_contains("возвращать нечего");
    assert_eq!(client.post_form(&path, &chosen).await.location(), Some(REVIEW));
    assert_eq!(payments(&t).await.len(), before + 1, "booked once");
}

#[tokio::test]
async fn a_files_name_is_kept_short_whatever_the_form_sent() {
    let (t, client) = office().await;
    // A name of a megabyte, with a path before it: each document keeps the last component's first
    // 200 characters.
    let long = format!("/home/buh/{}.txt", "x".repeat(1 << 20));
    let preview = client.upload_file(STATEMENT, &long, march_statement()).await;
    preview.assert_ok().assert_contains("будет внесена, по номеру договора E-14");
    client.confirm_import(STATEMENT, &preview).await;
    let documents = bank_document::Entity::find().all(t.ctx.db.conn()).await.unwrap();
    assert_eq!(documents.len(), 3);
    let kept = format!("{}…", "x".repeat(200));
    assert!(
        documents.iter().all(|d| d.file_name == kept),
        "{:?}",
        documents[0].file_name.chars().take(20).collect::<String>()
    );
}

#[tokio::test]
async fn statements_that_cannot_be_loaded_say_why() {
    let (t, client) = office().await;
    let refused = |page: &tests::Page, message: &str| {
        assert_eq!(page.status, poem::http::StatusCode::UNPROCESSABLE_ENTITY, "{}", page.body);
        page.assert_contains(message);
    };

    let csv = "Дата;Сумма;Назначение\r\n01.03.2026;100;уч 12\r\n".as_bytes().to_vec();
    let page = client.upload_file(STATEMENT, "vypiska.csv", csv).await;
    refused(&page, "это не выписка в формате 1С — первая строка должна быть «1CClientBankExchange»");

    // DOS bytes under «Кодировка=Windows».
    let text = encoding_rs::WINDOWS_1251.decode(&march_statement()).0.replace(['«', '»'], "\"");
    let dos = encoding_rs::IBM866.encode(&text).0.into_owned();
    let page = client.upload_file(STATEMENT, "kl_to_1c.txt", dos).await;
    refused(&page, "похоже, он сохранён не в той кодировке, что указана в нём (Windows)");

    let other = write_statement("40702810900000012345", "01.03.2026", "10.03.2026", &[]);
    let page = client.upload_file(STATEMENT, "kl_to_1c.txt", other).await;
    refused(&page, "Это выписка по счёту 40702810900000012345, а расчётный счёт СНТ — 40703810041500000123.");

    let huge = vec![b'x'; service::ledger::payments::statement::MAX_FILE_BYTES + 1];
    let page = client.upload_file(STATEMENT, "kl_to_1c.txt", huge).await;
    refused(&page, "Файл больше 16 МБ");

    // A payment dated after today cannot count yet: the statement is not loaded.
    let future = [TestDocument::incoming("9", "20.03.2026", "100.00", "Петров Б. В.", "40817810500000000014", "E-14")];
    let page = client
        .upload_file(STATEMENT, "kl_to_1c.txt", write_statement(ACCOUNT, "01.03.2026", "20.03.2026", &future))
        .await;
    page.assert_contains("Дата оплаты 20.03.2026 ещё не наступила").assert_contains("Выписка не будет загружена");
    assert_eq!(page.input_value("import_id"), None);
    assert!(payments(&t).await.is_empty());
}
