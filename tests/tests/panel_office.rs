//! Tariffs, an opening balance corrected, and reports in the panel.

use calamine::Reader;
use domain::{Kopecks, Role, Service, TariffPlan, kopecks, meter_value};
use entities::charge;
use poem::http::{StatusCode, header};
use sea_orm::EntityTrait;
use service::testing::{TestContext, new_consumer, office_reading};
use tests::PanelClient;

#[tokio::test]
async fn a_new_price_is_added_from_a_date_and_recomputes_charges() {
    let t = TestContext::new().await;
    t.standard_tariffs().await;
    let signed = t.sign("1", new_consumer("Зайцева", None), "W-1", Service::Water, TariffPlan::Single, &[0]).await;
    let reading = office_reading(signed.meter_id, vec![meter_value!(10_000)]);
    service::readings::submit(&t.ctx, reading).await.unwrap();
    let charged = || async {
        let lines = charge::Entity::find().all(t.ctx.db.conn()).await.unwrap();
        Kopecks::try_sum(lines.iter().map(|c| c.amount_kopecks)).unwrap()
    };
    assert_eq!(charged().await, kopecks!(400_00));

    let admin = PanelClient::staff(&t, "admin", Role::Admin).await;
    admin.get("/tariffs").await.assert_ok().assert_contains("40,00 ₽ / м³").assert_contains("value=\"2026-04-01\"");
    for (fields, message) in [
        (
            [("service", "water"), ("zone", "single"), ("price", "0"), ("valid_from", "2026-03-01")],
            "Цена должна быть больше нуля.",
        ),
        (
            [("service", "water"), ("zone", "night"), ("price", "45"), ("valid_from", "2026-03-01")],
            "У услуги «Вода» нет зоны «Ночь».",
        ),
        ([("service", "water"), ("zone", "single"), ("price", "45"), ("valid_from", "2020-01-01")], "уже есть"),
        // Accepted before prices had a ceiling; its charges made the dashboard's debt −2·10¹⁶ ₽.
        (
            [("service", "water"), ("zone", "single"), ("price", "999 999 999 999"), ("valid_from", "2026-03-01")],
            "Цена не может быть больше 10\u{202f}000,00 ₽ за единицу.",
        ),
        (
            [("service", "water"), ("zone", "single"), ("price", "10 000,01"), ("valid_from", "2026-03-01")],
            "Цена не может быть больше 10\u{202f}000,00 ₽ за единицу.",
        ),
    ] {
        let page = admin.post_form("/tariffs", &fields).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{message}");
        page.assert_contains(message).assert_contains(&format!("value=\"{}\"", fields[2].1));
    }
    assert_eq!(charged().await, kopecks!(400_00));

    let page = admin
        .post_form(
            "/tariffs",
            &[("service", "water"), ("zone", "single"), ("price", "45,5"), ("valid_from", "2026-03-01")],
        )
        .await;
    admin.get(page.location().unwrap()).await.assert_contains("Цена Вода, общая: 45,50 ₽ с 01.03.2026.");
    // The days from 01.03 are at the new price: 01.01 → 15.03 is 73 days, 14 of them in March.
    // 10 m³ × 59/73 = 8,082 rest 14 and × 14/73 = 1,917 rest 59, the leftover litre to March:
    // 8,082 × 40,00 = 323,28 ₽ and 1,918 × 45,50 = 87,269 → 87,27 ₽.
    assert_eq!(charged().await, kopecks!(410_55), "March's days are at the new price");

    // 45,50 was meant to be 41,50: the same date again is refused, then corrected with the box.
    let fix = [("service", "water"), ("zone", "single"), ("price", "41,5"), ("valid_from", "2026-03-01")];
    admin.post_form("/tariffs", &fix).await.assert_contains("отметьте «Исправить цену с этой даты»");
    let fixed: Vec<_> = fix.iter().copied().chain([("correct", "on")]).collect();
    let page = admin.post_form("/tariffs", &fixed).await;
    admin.get(page.location().unwrap()).await.assert_contains("Цена Вода, общая: 41,50 ₽ с 01.03.2026.");
    // 1,918 × 41,50 = 79,597 → 79,60 ₽ for March's days (March is open: its line is rewritten).
    assert_eq!(charged().await, kopecks!(402_88));
}

/// «Исправить входящее сальдо» on the contract's page: 15 000,00 ₽ typed for 1 500,00.
#[tokio::test]
async fn an_opening_balance_typed_wrong_is_corrected_from_the_contracts_page() {
    let t = TestContext::new().await;
    t.standard_tariffs().await;
    let signed = t.sign("1", new_consumer("Зайцева", None), "W-1", Service::Water, TariffPlan::Single, &[0]).await;
    let (conn, actor) = (t.ctx.db.conn(), service::audit::Actor::System);
    let go_live = t.ctx.today();
    service::ledger::charges::book_opening_balance(
        conn,
        &t.ctx,
        signed.contract_id,
        kopecks!(15_000_00),
        go_live,
        actor,
    )
    .await
    .unwrap();
    let path = format!("/contracts/{}", signed.contract_id);
    // Admins only, as every other change of what is charged.
    let accountant = PanelClient::staff(&t, "buh", Role::Accountant).await;
    let page = accountant.get(&path).await;
    assert!(!page.assert_ok().body.contains("Исправить входящее сальдо"));
    let forbidden = accountant.post_form(&format!("{path}/opening-balance"), &[("saldo", "0"), ("reason", "x")]).await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    let client = PanelClient::staff(&t, "admin", Role::Admin).await;
    client.get(&path).await.assert_contains("Исправить входящее сальдо");

    let action = format!("{path}/opening-balance");
    let refused = client.post_form(&action, &[("saldo", "1500"), ("reason", "")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    refused.assert_contains("Укажите причину.").assert_contains("value=\"1500\"");
    let page = client.post_form(&action, &[("saldo", "1 500,00"), ("reason", "опечатка в реестре")]).await;
    assert_eq!(page.location(), Some(path.as_str()), "{}", page.body);
    client.get(&path).await.assert_contains(&format!("{} на ", kopecks!(1_500_00)));
    let debt = service::ledger::debt::statement(&t.ctx.db, signed.consumer_id).await.unwrap().total.debt();
    assert_eq!(debt, kopecks!(1_500_00));
    // The go-live month is still open, unsent: the correction stands in it, on the go-live day.
    let lines = charge::Entity::find().all(conn).await.unwrap();
    let booked: Vec<_> = lines.iter().map(|c| (c.period, c.dated_on, c.amount_kopecks)).collect();
    let month = domain::Period::of(go_live);
    assert_eq!(booked, [(month, go_live, kopecks!(15_000_00)), (month, go_live, kopecks!(-13_500_00))]);

    // A contract signed up by hand carried nothing over: its saldo is added the same way.
    let by_hand = t.sign("2", new_consumer("Козлова", None), "W-2", Service::Water, TariffPlan::Single, &[0]).await;
    let path = format!("/contracts/{}", by_hand.contract_id);
    client.get(&path).await.assert_contains("Добавить входящее сальдо");
    let added =
        client.post_form(&format!("{path}/opening-balance"), &[("saldo", "300"), ("reason", "долг с 2025")]).await;
    assert_eq!(added.location(), Some(path.as_str()), "{}", added.body);
    let debt = service::ledger::debt::statement(&t.ctx.db, by_hand.consumer_id).await.unwrap().total.debt();
    assert_eq!(debt, kopecks!(300_00));
    client.get(&path).await.assert_contains("Исправить входящее сальдо");
}

#[tokio::test]
async fn reports_download_as_xlsx() {
    let t = TestContext::new().await;
    t.standard_tariffs().await;
    t.sign("1", new_consumer("Зайцева", None), "W-1", Service::Water, TariffPlan::Single, &[0]).await;
    let client = PanelClient::staff(&t, "buh", Role::Accountant).await;
    client.get("/reports").await.assert_ok().assert_contains("value=\"2026-02\"");

    for (path, file_name) in
        [("/reports/monthly?period=2026-02", "report-2026-02.xlsx"), ("/reports/export", "export-2026-03-15.xlsx")]
    {
        let page = client.get(path).await;
        page.assert_ok();
        let disposition = page.headers.get(header::CONTENT_DISPOSITION).unwrap().to_str().unwrap();
        assert_eq!(disposition, format!("attachment; filename=\"{file_name}\""));
        assert!(page.headers[header::CONTENT_TYPE].to_str().unwrap().contains("spreadsheetml"));
        let workbook = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(page.bytes.clone())).expect("an xlsx");
        assert!(!workbook.sheet_names().is_empty());
    }

    let page = client.get("/reports/monthly?period=март").await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    page.assert_contains("«март» — не месяц.").assert_contains("value=\"март\"");
    let page = client.get("/reports/monthly?period=2026-05").await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    page.assert_contains("ещё нельзя построить");
}

#[tokio::test]
async fn the_reports_page_lists_the_closed_months_and_where_the_open_ones_start() {
    let t = TestContext::new().await;
    let accountant = PanelClient::staff(&t, "buh", Role::Accountant).await;
    accountant.get("/reports").await.assert_ok().assert_contains("Закрытых месяцев нет: все месяцы открыты.");

    let closed = accountant.post_form("/reports/close", &[("close_period", "2026-02")]).await;
    assert_eq!(closed.status, StatusCode::SEE_OTHER, "{}", closed.body);
    accountant
        .get("/reports")
        .await
        .assert_ok()
        .assert_contains("<td>март 2026 и далее</td><td>открыт</td>")
        .assert_contains("<td>февраль 2026</td><td>закрыт</td>");
}
