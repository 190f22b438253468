//! The акт сверки from the panel (issue 13.6) over HTTP: office staff download the xlsx from the
//! contract's and the consumer's page, a controller is refused, a bad range is explained.

use calamine::Reader;
use domain::{Role, Service, TariffPlan};
use poem::http::{StatusCode, header};
use service::testing::{TestContext, new_consumer};
use tests::PanelClient;

#[tokio::test]
async fn office_staff_download_the_act_and_a_bad_range_is_explained() {
    let t = TestContext::new().await;
    t.standard_tariffs().await;
    let w = t.sign("12А", new_consumer("Зайцева", None), "W-12", Service::Water, TariffPlan::Single, &[0]).await;
    let accountant = PanelClient::staff(&t, "buh", Role::Accountant).await;
    accountant
        .get(&format!("/contracts/{}", w.contract_id))
        .await
        .assert_ok()
        .assert_contains(&format!("action=\"/contracts/{}/akt\"", w.contract_id))
        .assert_contains("value=\"2026-01-01\"")
        .assert_contains("value=\"2026-03-15\"");
    accountant.get(&format!("/consumers/{}", w.consumer_id)).await.assert_ok().assert_contains("Акт сверки");

    for path in [
        format!("/contracts/{}/akt?from=2026-01-01&to=2026-03-15", w.contract_id),
        format!("/consumers/{}/akt", w.consumer_id),
    ] {
        let page = accountant.get(&path).await;
        page.assert_ok();
        let disposition = page.headers[header::CONTENT_DISPOSITION].to_str().unwrap();
        assert_eq!(disposition, "attachment; filename=\"akt-sverki-12A-2026-01-01-2026-03-15.xlsx\"");
        let mut book = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(page.bytes.clone())).unwrap();
        let sheet = book.worksheet_range("Акт сверки").unwrap();
        assert_eq!(sheet.get_value((1, 0)).unwrap().to_string(), "СНТ «Черноморск» — Зайцева");
    }

    let refused = [
        ("from=2026-03-15&to=2026-01-01", "Начало периода 15.03.2026 позже его конца 01.01.2026."),
        ("from=март&to=2026-01-01", "Начало периода: «март» — не дата."),
        ("from=2016-01-01&to=2026-03-15", "Период акта — не длиннее 10 лет"),
        ("from=2026-01-01&to=", "Конец периода: Дата не указана."),
    ];
    for (query, message) in refused {
        let page = accountant.get(&format!("/contracts/{}/akt?{query}", w.contract_id)).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {}", page.body);
        page.assert_contains(message);
    }
    // 5 000 typed characters come back cut to 40, in the message and in the field.
    let long = "1".repeat(5_000);
    let page = accountant.get(&format!("/contracts/{}/akt?from={long}&to=2026-03-15", w.contract_id)).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    page.assert_contains(&format!("value=\"{}\"", "1".repeat(40))).assert_lacks(&"1".repeat(41));
    let page = accountant.get("/contracts/999999/akt").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);

    let controller = PanelClient::staff(&t, "walker", Role::Controller).await;
    for path in [format!("/contracts/{}/akt", w.contract_id), format!("/consumers/{}/akt", w.consumer_id)] {
        assert_eq!(controller.get(&path).await.status, StatusCode::FORBIDDEN, "{path}");
    }
}
