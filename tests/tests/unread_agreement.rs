//! "Not read this month" is one rule: after a meter replacement the panel's register, the API,
//! the controllers' walk (`/m/unread`), the reminders and the monthly report say the same of
//! every contract.

use chrono::NaiveDate;
use domain::{Role, Service, TariffPlan, meter_value};
use service::access::telegram::{self, LinkTarget};
use service::meters::{self, Replacement};
use service::readings::{self, reminders};
use service::register::sign_up::SignedUp;
use service::testing::{TestContext, new_consumer, office_reading};
use tests::PanelClient;

async fn link(t: &TestContext, signed: &SignedUp, telegram_user_id: i64) {
    let code = telegram::issue_code(&t.ctx, LinkTarget::Consumer(signed.consumer_id), None).await.unwrap();
    telegram::redeem(&t.ctx, &code.code, telegram_user_id).await.unwrap();
}

#[tokio::test]
async fn after_a_replacement_the_panel_api_walk_reminders_and_report_agree() {
    // 15 March 2026.
    let t = TestContext::new().await;
    t.standard_tariffs().await;
    let water =
        |plot, name, number| t.sign(plot, new_consumer(name, None), number, Service::Water, TariffPlan::Single, &[0]);
    let replaced = water("31", "Бендер", "W-31").await;
    let read = water("47", "Корейко", "W-47").await;
    let unread = water("58", "Паниковский", "W-58").await;
    for (n, signed) in [&replaced, &read, &unread].into_iter().enumerate() {
        link(&t, signed, 7_000 + n as i64).await;
    }
    let admin = t.staff("admin", Role::Admin).await;
    // Replaced on 10 March: the old meter's final reading is the contract's reading of March; the
    // new meter has none yet.
    let replacement = Replacement {
        meter_id: replaced.meter_id,
        final_values: vec![meter_value!(12_000)],
        final_taken_on: NaiveDate::from_ymd_opt(2026, 3, 10).unwrap(),
        new_serial: "NEW-31".into(),
        new_initial_values: vec![meter_value!(0)],
        new_seal_number: None,
        new_verification_due: None,
        reason: "истёк срок поверки".into(),
    };
    meters::replace(&t.ctx, replacement, admin.id).await.unwrap();
    readings::submit(&t.ctx, office_reading(read.meter_id, vec![meter_value!(5_000)])).await.unwrap();
    let period = t.ctx.current_period();
    let expected = vec!["W-58".to_owned()];

    // The panel: the «не сняты» filter and the badge of each row.
    let panel = PanelClient::staff(&t, "boss", Role::Admin).await;
    let filtered = panel.get("/contracts?unread=on").await;
    filtered.assert_ok().assert_contains("W-58").assert_lacks("W-31").assert_lacks("W-47");
    panel.get("/contracts?q=W-58").await.assert_contains("не снято");
    for number in ["W-31", "W-47"] {
        panel.get(&format!("/contracts?q={number}")).await.assert_contains(number).assert_lacks("не снято");
    }
    panel.get("/meters?unread=on").await.assert_contains("W-58").assert_lacks("W-31").assert_lacks("W-47");

    // The API.
    let token = service::access::staff::issue_api_token(&t.ctx, admin.id, service::audit::Actor::System).await.unwrap();
    let api = PanelClient::new(&t.ctx);
    let contracts = api.api_get("/api/contracts?per_page=500", &token).await.json();
    let items = contracts["items"].as_array().unwrap();
    assert_eq!(items.len(), 3, "{contracts}");
    let api_unread: Vec<String> = items
        .iter()
        .filter(|c| c["unread_this_month"].as_bool().unwrap())
        .map(|c| c["number"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(api_unread, expected);
    let filtered = api.api_get("/api/contracts?unread=true", &token).await.json();
    assert_eq!(filtered["total"], 1, "{filtered}");

    // The controllers' walk.
    let controller = PanelClient::staff(&t, "ctl", Role::Controller).await;
    let walk = controller.get("/m/unread").await;
    walk.assert_ok().assert_contains(&format!(r#"href="/m/plots/{}">58<"#, unread.plot_id));
    for signed in [&replaced, &read] {
        walk.assert_lacks(&format!("/m/plots/{}\"", signed.plot_id));
    }
    controller.get("/m").await.assert_contains("Не сняты за март 2026: 1");

    // The reminders.
    let due = reminders::due_consumers(t.ctx.db.conn(), period).await.unwrap();
    assert_eq!(due.iter().map(|d| d.consumer_id).collect::<Vec<_>>(), [unread.consumer_id]);

    // The monthly report's sheet of unread contracts.
    let report = reports::monthly_data(&t.ctx, period, "https://example.org").await.unwrap();
    let report_unread: Vec<String> = report.unread.iter().map(|line| line.contract.number.clone()).collect();
    assert_eq!(report_unread, expected);
}
