//! The cooperative's bank details in the panel and the payment QR code drawn from them, over the
//! real panel app: refusals next to their fields, the saved set audited, the picture read back by
//! a real QR decoder, who may see what, and the printable monthly receipts carrying the code.

use bank::testing::{DETAILS, decode_qr, decode_qr_svg};
use domain::{Role, Service, TariffPlan, kopecks, meter_value};
use poem::http::{StatusCode, header};
use sea_orm::ConnectionTrait;
use service::audit::{self, Actor};
use service::ledger::payments::{self, NewPayment};
use service::payee::details;
use service::register::sign_up::ConsumerRef;
use service::testing::{TestContext, bank_details, new_consumer};
use tests::{Page, PanelClient, seed};

const NO_DETAILS: &str = "Реквизиты для оплаты ещё не заданы — обратитесь в правление.";

/// The form as an admin fills it: `DETAILS` with the account grouped by four, as people type it.
fn form(account: &str) -> Vec<(&'static str, &str)> {
    vec![
        ("payee", DETAILS.payee),
        ("inn", DETAILS.inn),
        ("kpp", DETAILS.kpp),
        ("account", account),
        ("bank_name", DETAILS.bank_name),
        ("bic", DETAILS.bic),
        ("correspondent_account", DETAILS.correspondent_account),
    ]
}

/// The error shown under the input `name`, if any.
fn field_error(page: &Page, name: &str) -> Option<String> {
    let start = page.body.find(&format!("<label for=\"{name}\">"))?;
    let rest = &page.body[start..];
    let field_end = rest.find("</div>").unwrap_or(rest.len());
    let error = rest[..field_end].split("<p class=\"field-error\">").nth(1)?;
    Some(error.split("</p>").next()?.to_owned())
}

#[tokio::test]
async fn an_admin_sets_the_details_checked_and_audited_and_the_qr_code_appears() {
    let t = TestContext::new().await;
    t.standard_tariffs().await;
    let signed =
        t.sign("7", new_consumer("Бендер О. И.", None), "W-7", Service::Water, TariffPlan::Single, &[100]).await;
    // 12,5 m³ at 40 ₽: 500 ₽ for February.
    seed::reading(&t.ctx, signed.meter_id, &[meter_value!(112_500)], "2026-02-20").await;
    let admin = PanelClient::staff(&t, "admin", Role::Admin).await;
    let contract_png = format!("/contracts/{}/qr.png", signed.contract_id);

    // Unset: every payment place says so, and no picture is drawn.
    admin.get("/bank-details").await.assert_ok().assert_contains(NO_DETAILS);
    admin.get(&format!("/contracts/{}", signed.contract_id)).await.assert_ok().assert_contains(NO_DETAILS);
    let none = admin.get(&contract_png).await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);
    none.assert_contains(NO_DETAILS);

    // One digit off in the account: its control key does not match the БИК; nothing is saved.
    let refused = admin.post_form("/bank-details", &form("4070 3810 0415 0000 0124")).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let message = field_error(&refused, "account").expect("an error under the account");
    assert_eq!(
        message,
        "Расчётный счёт 40703810041500000124 не подходит к БИК 043510607: не сходится контрольный ключ. \
         Проверьте цифры счёта и БИК."
    );
    assert_eq!(field_error(&refused, "bic"), None);
    assert_eq!(refused.input_value("account").as_deref(), Some("4070 3810 0415 0000 0124"), "the input is kept");
    assert!(details::current(t.ctx.db.conn()).await.is_err(), "nothing is saved");
    // A bad ИНН and an 8-digit БИК, each under its own field.
    let mut bad = form("40703810041500000123");
    bad[1].1 = "9108001238";
    bad[5].1 = "04351060";
    let refused = admin.post_form("/bank-details", &bad).await;
    assert_eq!(
        field_error(&refused, "inn").as_deref(),
        Some("ИНН 9108001238: не сходится контрольная цифра. Проверьте цифры.")
    );
    assert_eq!(field_error(&refused, "bic").as_deref(), Some("БИК: нужно 9 цифр, а введено «04351060»."));

    let saved = admin.post_form("/bank-details", &form("4070 3810 0415 0000 0123")).await;
    assert_eq!(saved.location(), Some("/bank-details"), "{}", saved.body);
    let page = admin.get("/bank-details").await;
    page.assert_contains("Реквизиты сохранены").assert_contains("Сотрудник admin").assert_lacks(NO_DETAILS);
    assert_eq!(page.input_value("account").as_deref(), Some("40703810041500000123"));
    let trail = audit::audit_trail(t.ctx.db.conn(), "bank_details", &[1]).await.unwrap();
    assert_eq!(trail.len(), 1);
    assert_eq!(trail[0].staff_name.as_deref(), Some("Сотрудник admin"));
    assert!(trail[0].entry.details.contains(r#""account":"40703810041500000123""#), "{}", trail[0].entry.details);

    // The contract's code: the debt, the purpose our statement matcher recognises, the contract.
    let png = admin.get(&contract_png).await;
    png.assert_ok();
    assert_eq!(png.headers[header::CONTENT_TYPE], "image/png");
    assert_eq!(png.headers[header::CACHE_CONTROL], "no-store");
    assert_eq!(
        decode_qr(&png.bytes),
        "ST00012|Name=СНТ «Черноморск»|PersonalAcc=40703810041500000123|BankName=РНКБ БАНК (ПАО)|BIC=043510607|\
         CorrespAcc=30101810335100000607|Sum=50000|Purpose=Участок 7, договор W-7, вода за 02.2026|\
         PayeeINN=9108001239|KPP=910801001|PersAcc=W-7"
    );
    // The page draws the same code inline, with the picture to download beside it.
    let page = admin.get(&format!("/contracts/{}", signed.contract_id)).await;
    page.assert_contains(&format!("href=\"{contract_png}\""))
        .assert_contains("<th>Назначение платежа</th><td>Участок 7, договор W-7, вода за 02.2026</td>")
        .assert_contains("<th>Сумма</th><td>500,00 ₽</td>");
    assert_eq!(codes_on(&page.body), [decode_qr(&png.bytes)]);
    // The consumer's page: the owing contract's own code; there is no code for a total.
    let page = admin.get(&format!("/consumers/{}", signed.consumer_id)).await;
    assert_eq!(codes_on(&page.body), [decode_qr(&png.bytes)]);
    assert_eq!(admin.get(&format!("/consumers/{}/qr.png", signed.consumer_id)).await.status, StatusCode::NOT_FOUND);

    // Accountants see the code but not the form; controllers neither.
    let accountant = PanelClient::staff(&t, "buh", Role::Accountant).await;
    assert_eq!(accountant.get("/bank-details").await.status, StatusCode::FORBIDDEN);
    assert_eq!(decode_qr(&accountant.get(&contract_png).await.assert_ok().bytes), decode_qr(&png.bytes));
    let controller = PanelClient::staff(&t, "obhod", Role::Controller).await;
    assert_eq!(controller.get(&contract_png).await.status, StatusCode::FORBIDDEN);
    let anonymous = PanelClient::new(&t.ctx).get(&contract_png).await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn receipts_print_the_months_readings_money_and_code_one_sheet_per_consumer() {
    let t = TestContext::new().await;
    t.standard_tariffs().await;
    let bender =
        t.sign("7", new_consumer("Бендер О. И.", None), "W-7", Service::Water, TariffPlan::Single, &[100]).await;
    let kozlevich =
        t.sign("8", new_consumer("Козлевич А. И.", None), "W-8", Service::Water, TariffPlan::Single, &[5]).await;
    // February: 12,5 m³ at 40 ₽ = 500 ₽ for Bender, 200 ₽ of it paid; 1 m³ = 40 ₽ for Kozlevich.
    seed::reading(&t.ctx, bender.meter_id, &[meter_value!(112_500)], "2026-02-20").await;
    seed::reading(&t.ctx, kozlevich.meter_id, &[meter_value!(6_000)], "2026-02-21").await;
    let paid = NewPayment {
        contract_number: "W-7".into(),
        amount: kopecks!(200_00),
        paid_on: "2026-02-25".parse().unwrap(),
        for_period: None,
        reference: None,
        confirm_duplicate: false,
    };
    payments::record(&t.ctx, paid, Actor::System).await.unwrap();
    bank_details(&t.ctx).await;
    let accountant = PanelClient::staff(&t, "buh", Role::Accountant).await;

    let one = accountant.get(&format!("/receipts?period=2026-02&consumer={}", bender.consumer_id)).await;
    one.assert_ok()
        .assert_contains("Квитанция за февраль 2026")
        .assert_contains("<td>Бендер О. И.</td>")
        .assert_contains("<td class=\"num\">100 (01.01.2026)</td><td class=\"num\">112,5 (20.02.2026)</td>")
        .assert_contains("<td class=\"num\">12,5 м³</td><td class=\"num\">40,00 ₽</td><td class=\"num\">500,00 ₽</td>")
        // Opening, charged, paid, closing.
        .assert_contains("<td class=\"num\">0,00 ₽</td><td class=\"num\">500,00 ₽</td><td class=\"num\">200,00 ₽</td><td class=\"num\">300,00 ₽</td>")
        .assert_contains("<th>Сумма</th><td>300,00 ₽</td>")
        .assert_lacks("Козлевич");
    let [code] = &codes_on(&one.body)[..] else { panic!("one code on one receipt") };
    assert!(code.contains("|Sum=30000|") && code.ends_with("|PersAcc=W-7"), "{code}");
    assert_eq!(one.body.matches("<section class=\"receipt\">").count(), 1);

    // Everyone's, one sheet each, by name.
    let all = accountant.get("/receipts?period=2026-02").await;
    all.assert_ok();
    assert_eq!(all.body.matches("<section class=\"receipt\">").count(), 2);
    let (b, k) = (all.body.find("Бендер О. И.").unwrap(), all.body.find("Козлевич А. И.").unwrap());
    assert!(b < k, "by name");

    let future = accountant.get("/receipts?period=2099-01").await;
    assert_eq!(future.status, StatusCode::UNPROCESSABLE_ENTITY);
    future.assert_contains("ещё нельзя построить");
    assert_eq!(accountant.get("/receipts?period=abc").await.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn an_overpaid_contract_does_not_hide_another_ones_debt() {
    let t = TestContext::new().await;
    t.standard_tariffs().await;
    let water =
        t.sign("7", new_consumer("Бендер О. И.", None), "W-7", Service::Water, TariffPlan::Single, &[100]).await;
    let existing = ConsumerRef::Existing(water.consumer_id);
    t.sign("7", existing, "E-7", Service::Electricity, TariffPlan::Single, &[1000]).await;
    // 500 ₽ owed on water; 800 ₽ paid ahead on electricity. Netted, the consumer would «owe» −300 ₽.
    seed::reading(&t.ctx, water.meter_id, &[meter_value!(112_500)], "2026-02-20").await;
    let ahead = NewPayment {
        contract_number: "E-7".into(),
        amount: kopecks!(800_00),
        paid_on: "2026-02-25".parse().unwrap(),
        for_period: None,
        reference: None,
        confirm_duplicate: false,
    };
    payments::record(&t.ctx, ahead, Actor::System).await.unwrap();
    bank_details(&t.ctx).await;
    let accountant = PanelClient::staff(&t, "buh", Role::Accountant).await;

    for page in [
        format!("/consumers/{}", water.consumer_id),
        format!("/receipts?period=2026-02&consumer={}", water.consumer_id),
    ] {
        let shown = accountant.get(&page).await;
        shown.assert_ok().assert_contains("<th>Сумма</th><td>500,00 ₽</td>").assert_lacks("задолженности нет");
        let [code] = &codes_on(&shown.body)[..] else { panic!("one code, for the owing contract: {page}") };
        assert!(code.contains("|Sum=50000|") && code.ends_with("|PersAcc=W-7"), "{code}");
    }
}

#[tokio::test]
async fn details_edited_by_hand_past_their_check_take_the_codes_away_not_the_pages() {
    let t = TestContext::new().await;
    t.standard_tariffs().await;
    let signed =
        t.sign("7", new_consumer("Бендер О. И.", None), "W-7", Service::Water, TariffPlan::Single, &[100]).await;
    seed::reading(&t.ctx, signed.meter_id, &[meter_value!(112_500)], "2026-02-20").await;
    bank_details(&t.ctx).await;
    // One digit of the account changed in the database itself, past the form's check.
    let conn = t.ctx.db.conn();
    conn.execute_unprepared("UPDATE bank_details SET account = '40703810041500000124'").await.unwrap();
    let accountant = PanelClient::staff(&t, "buh", Role::Accountant).await;

    const BROKEN: &str = "QR-код недоступен: сохранённые реквизиты не проходят проверку";
    for page in [
        format!("/contracts/{}", signed.contract_id),
        format!("/consumers/{}", signed.consumer_id),
        format!("/receipts?period=2026-02&consumer={}", signed.consumer_id),
    ] {
        let shown = accountant.get(&page).await;
        shown.assert_ok().assert_contains(BROKEN).assert_contains("500,00 ₽");
        assert!(codes_on(&shown.body).is_empty(), "{page}: no code to a wrong account");
    }
    let png = accountant.get(&format!("/contracts/{}/qr.png", signed.contract_id)).await;
    assert_eq!(png.status, StatusCode::NOT_FOUND);
    png.assert_contains(BROKEN);
}

/// Every payment code a page draws inline, read back by a real decoder.
fn codes_on(page: &str) -> Vec<String> {
    page.split("<div class=\"payment-qr\">")
        .skip(1)
        .map(|block| {
            let svg = &block[block.find("<svg").expect("a drawing")..];
            decode_qr_svg(&svg[..svg.find("</svg>").expect("a closed drawing") + "</svg>".len()])
        })
        .collect()
}
