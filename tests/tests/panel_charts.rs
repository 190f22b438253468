//! The panel's charts: SVG drawn from the database for office staff, shown with plain `<img>`.

use charts::inspect::svg_rects;
use charts::palette;
use domain::{MeterValue, ReadingSource, Role, Service, TariffPlan, kopecks};
use poem::http::{StatusCode, header};
use service::audit::Actor;
use service::ledger::payments::{self, NewPayment};
use service::testing::{TestContext, new_consumer};
use tests::{PanelClient, seed};

const ROUTES: [&str; 4] = ["/charts/collection", "/charts/debt", "/charts/round", "/charts/sources"];

#[tokio::test]
async fn the_dashboard_charts_draw_a_known_history_for_office_staff_only() {
    // Today is 15 March 2026: readings on 20 January, 20 February and 10 March.
    let t = TestContext::new().await;
    t.standard_tariffs().await;
    let signed = t.sign("5", new_consumer("Грицацуева", None), "W-5", Service::Water, TariffPlan::Single, &[0]).await;
    for (day, value) in [("2026-01-20", 4), ("2026-02-20", 9), ("2026-03-10", 15)] {
        seed::reading(&t.ctx, signed.meter_id, &[MeterValue::from_whole(value).unwrap()], day).await;
    }

    // Another member paid 1 000 ₽ ahead: the debtors' debt and the net balance the debt chart
    // draws are two figures, each named for what it is.
    let ahead = t.sign("6", new_consumer("Зося", None), "W-6", Service::Water, TariffPlan::Single, &[0]).await;
    let paid = NewPayment {
        contract_number: "W-6".into(),
        amount: kopecks!(1_000_00),
        paid_on: "2026-03-01".parse().unwrap(),
        for_period: None,
        reference: None,
        confirm_duplicate: false,
    };
    payments::record(&t.ctx, paid, Actor::System).await.unwrap();
    assert_ne!(ahead.contract_id, signed.contract_id);

    let accountant = PanelClient::staff(&t, "zosya", Role::Accountant).await;
    let home = accountant.get("/").await;
    home.assert_ok()
        .assert_contains(r#"<th>Должников</th><td class="num">1</td>"#)
        .assert_contains(r#"<th>Их долг</th><td class="num">600,00 ₽</td>"#)
        .assert_contains(r#"<th>Сальдо: долг за вычетом переплат</th><td class="num">-400,00 ₽</td>"#);
    for route in ROUTES {
        home.assert_contains(&format!(r#"<img src="{route}""#));
        let svg = accountant.get(route).await;
        svg.assert_ok();
        assert_eq!(svg.headers[header::CONTENT_TYPE], "image/svg+xml", "{route}");
        assert!(svg.headers[header::CACHE_CONTROL].to_str().unwrap().starts_with("private"), "{route}");
        assert!(svg.body.starts_with("<svg") && svg.body.contains("<text"), "{route}: {}", svg.body);
    }
    // A bar a month and the legend's swatch.
    let collection = accountant.get("/charts/collection").await.body;
    assert_eq!(svg_rects(&collection, palette::CHARGED), 3 + 1);
    let sources = accountant.get("/charts/sources").await.body;
    assert_eq!(svg_rects(&sources, palette::source(ReadingSource::Panel)), 3 + 1);
    assert_eq!(svg_rects(&sources, palette::source(ReadingSource::ConsumerBot)), 0);
    let round = accountant.get("/charts/round").await.body;
    assert!(round.contains("март 2026: 50"), "this month's share in the legend, one of two read: {round}");

    let page = accountant.get(&format!("/consumers/{}", signed.consumer_id)).await;
    let chart = format!("/consumers/{}/charts/{}", signed.consumer_id, signed.contract_id);
    page.assert_ok().assert_contains(&format!(r#"<img src="{chart}""#));
    let consumption = accountant.get(&chart).await;
    assert_eq!(svg_rects(&consumption.assert_ok().body, palette::USED), 3 + 1);
    let elsewhere = format!("/consumers/{}/charts/{}", signed.consumer_id + 1, signed.contract_id);
    assert_eq!(accountant.get(&elsewhere).await.status, StatusCode::NOT_FOUND, "another consumer's contract");

    let anonymous = PanelClient::new(&t.ctx);
    let controller = PanelClient::staff(&t, "ostap", Role::Controller).await;
    for route in ROUTES.iter().map(|r| r.to_string()).chain([chart]) {
        let page = anonymous.get(&route).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{route}");
        assert!(page.location().is_some_and(|l| l.starts_with("/login")), "{route}");
        assert!(!page.body.contains("<svg"));
        assert_eq!(controller.get(&route).await.status, StatusCode::FORBIDDEN, "{route}");
    }
}
