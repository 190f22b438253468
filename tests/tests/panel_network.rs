//! The cooperative's own network end to end (issue 16): an admin adds the main meter in the
//! panel, a controller reads it on `/m` like any meter, the meeting's method and the sharing go
//! through the panel's forms, and the month's report, the «Баланс сети» page, its chart and the
//! consumers' debts all show the result.

use std::io::Cursor;

use calamine::{Data, DataType, Reader};
use chrono::TimeZone;
use domain::{Kopecks, MeterValue, Role, Service, TariffPlan};
use poem::http::{StatusCode, header};
use poem::test::TestFormField;
use service::ledger::debt::{self, Scope};
use service::testing::photos::jpeg;
use service::testing::{TestContext, new_consumer};
use tests::{PanelClient, seed};

fn whole(v: i64) -> Vec<MeterValue> {
    vec![MeterValue::from_whole(v).unwrap()]
}

fn sheet_rows(bytes: &[u8], sheet: &str) -> Vec<Vec<Data>> {
    let mut book = calamine::open_workbook_auto_from_rs(Cursor::new(bytes.to_vec())).expect("an xlsx");
    book.worksheet_range(sheet).unwrap_or_else(|e| panic!("{sheet}: {e}")).rows().map(<[Data]>::to_vec).collect()
}

#[tokio::test]
async fn a_common_meter_read_on_the_phone_gives_the_months_balance_shares_and_report() {
    // 20 March 2026, noon UTC.
    let t = TestContext::at(chrono::Utc.with_ymd_and_hms(2026, 3, 20, 12, 0, 0).unwrap()).await;
    t.standard_tariffs().await;
    let mut plots = Vec::new();
    for plot in ["1", "2", "3"] {
        let consumer = new_consumer(&format!("Садовод {plot}"), None);
        plots.push(t.sign(plot, consumer, &format!("Э-{plot}"), Service::Electricity, TariffPlan::Single, &[0]).await);
    }
    let admin = PanelClient::staff(&t, "admin", Role::Admin).await;
    let added = admin
        .post_form(
            "/network/lines",
            &[
                ("service", "electricity"),
                ("name", "Главный"),
                ("point", "ТП-1"),
                ("serial", "ТП-0001"),
                ("installed_on", "2026-01-01"),
                ("initial", "0"),
                ("plots", ""),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let line = service::network::balances(t.ctx.db.conn(), &t.ctx, domain::Period::parse("2026-03").unwrap())
        .await
        .unwrap()
        .remove(0)
        .line;
    let main_meter = service::meters::of_contract(t.ctx.db.conn(), line.contract_id).await.unwrap()[0].id;

    // February, read in the office on the 28th: main 1 000, plots 300 + 300 + 250 = 850 (15 %).
    seed::reading(&t.ctx, main_meter, &whole(1_000), "2026-02-28").await;
    for (signed, value) in plots.iter().zip([300, 300, 250]) {
        seed::reading(&t.ctx, signed.meter_id, &whole(value), "2026-02-28").await;
    }
    // March: the controller reads the main meter on the phone (2 000: 1 000 supplied); the
    // plots were read the same morning: 200 + 150 + 600 = 950 sold, 50 lost (5 %).
    let controller = PanelClient::staff(&t, "kontroler", Role::Controller).await;
    let form = controller.get(&format!("/m/meters/{main_meter}/reading")).await;
    let key = form.assert_ok().assert_contains("ТП-1").input_value("key").expect("a key");
    let reading = controller
        .multipart()
        .text("key", key)
        .text("value", "2000")
        .text("seal", "yes")
        .field(TestFormField::bytes(jpeg(640, 480)).name("photo").filename("meter.jpg").content_type("image/jpeg"));
    let sent = controller.post_multipart(&format!("/m/meters/{main_meter}/reading"), reading).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    for (signed, value) in plots.iter().zip([500, 450, 850]) {
        seed::reading(&t.ctx, signed.meter_id, &whole(value), "2026-03-20").await;
    }

    // The meeting: per plot equally, then March shared: 50 kWh × 5,00 ₽ = 250,00 ₽ over three
    // plots = 83,34 + 83,33 + 83,33 (the last kopeck to the first in walking order).
    let decided = admin
        .post_form(
            "/network/decision",
            &[
                ("service", "electricity"),
                ("method", "per_plot"),
                ("cap_percent", ""),
                ("flag_percent", "10"),
                ("decided_on", "2026-02-01"),
            ],
        )
        .await;
    assert_eq!(decided.status, StatusCode::SEE_OTHER, "{}", decided.body);
    // Not before the month is over: the share would be made from part of its readings.
    let early = admin.post_form("/network/share", &[("service", "electricity"), ("month", "2026-03")]).await;
    assert_eq!(early.status, StatusCode::UNPROCESSABLE_ENTITY);
    early.assert_contains("Месяц март 2026 ещё не закончился");
    t.clock.set(chrono::Utc.with_ymd_and_hms(2026, 4, 1, 6, 0, 0).unwrap());
    // Twelve days on, the morning's session has expired: the chairman signs in again.
    let admin = PanelClient::staff(&t, "predsedatel", Role::Admin).await;
    let shared = admin.post_form("/network/share", &[("service", "electricity"), ("month", "2026-03")]).await;
    assert_eq!(shared.status, StatusCode::SEE_OTHER, "{}", shared.body);
    let twice = admin.post_form("/network/share", &[("service", "electricity"), ("month", "2026-03")]).await;
    assert_eq!(twice.status, StatusCode::UNPROCESSABLE_ENTITY);
    twice.assert_contains("Потери за март 2026 уже распределены.");

    // The consumers' debts: their March consumption at 5,00 ₽ and their share.
    for (signed, expected) in plots.iter().zip([500 * 500 + 8_334, 450 * 500 + 8_333, 850 * 500 + 8_333]) {
        let balances = debt::balances(t.ctx.db.conn(), Scope::Contract(signed.contract_id), None).await.unwrap();
        assert_eq!(balances[&signed.contract_id].debt(), Kopecks::new(expected).unwrap());
    }

    // The page and its chart: February lost 15 %, above the meeting's 10 %; March 5 %.
    let accountant = PanelClient::staff(&t, "buh", Role::Accountant).await;
    let page = accountant.get("/network?month=2026-02").await;
    page.assert_ok().assert_contains("15 %").assert_contains("потери выше порога");
    let page = accountant.get("/network?month=2026-03").await;
    page.assert_ok()
        .assert_contains("5 %")
        .assert_contains(r#"<img src="/charts/losses""#)
        .assert_lacks("потери выше порога");
    let chart = accountant.get("/charts/losses").await;
    chart.assert_ok();
    assert_eq!(chart.headers[header::CONTENT_TYPE], "image/svg+xml");
    assert!(
        chart.body.starts_with("<svg")
            && chart.body.contains(r#"width="900""#)
            && chart.body.contains(r#"height="400""#)
    );
    // Not blank: the line's name in the legend and a line through its two months.
    assert!(chart.body.contains("Электроэнергия: Главный") && chart.body.contains("<polyline"), "{}", chart.body);
    let controller = PanelClient::staff(&t, "kontroler-2", Role::Controller).await;
    assert_eq!(controller.get("/charts/losses").await.status, StatusCode::FORBIDDEN);

    // The month's report read back: the balance and the shares, counted in «Сводка».
    let report = accountant.get("/reports/monthly?period=2026-03").await;
    report.assert_ok();
    let lines = sheet_rows(&report.bytes, "Баланс сети");
    let main = lines.iter().find(|row| row.get(1) == Some(&Data::String("Главный".into()))).expect("the main line");
    assert_eq!(main[3..6], [Data::Float(1000.0), Data::Float(950.0), Data::Float(50.0)]);
    assert_eq!(main[7], Data::String("5 %".into()));
    let shares = sheet_rows(&report.bytes, "Потери в сетях");
    let amounts: Vec<f64> = shares.iter().filter_map(|row| row.get(4)?.get_float()).collect();
    assert!(amounts.ends_with(&[83.34, 83.33, 83.33]), "{amounts:?}");
}
