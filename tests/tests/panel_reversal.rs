//! Reversal (сторно) and moving a payment to another contract in the panel (issue 13.4), through
//! the real app: an accountant reverses with a reason, a second try and a controller are refused,
//! and the debt on the contract page follows.

use domain::{Kopecks, Role, Service, TariffPlan, kopecks};
use entities::payment;
use poem::http::StatusCode;
use sea_orm::{EntityTrait, QueryOrder};
use service::testing::{TestContext, new_consumer};
use tests::PanelClient;

async fn payments(t: &TestContext) -> Vec<payment::Model> {
    payment::Entity::find().order_by_asc(payment::Column::Id).all(t.ctx.db.conn()).await.unwrap()
}

/// W-1 and W-2, and 1 500,00 ₽ entered on W-1 by the accountant.
async fn entered() -> (TestContext, PanelClient, payment::Model) {
    let t = TestContext::new().await;
    t.sign("1", new_consumer("Иванова А. П.", None), "W-1", Service::Water, TariffPlan::Single, &[0]).await;
    t.sign("2", new_consumer("Петров Б. В.", None), "W-2", Service::Water, TariffPlan::Single, &[0]).await;
    let client = PanelClient::staff(&t, "buh", Role::Accountant).await;
    let today = t.ctx.today().format("%Y-%m-%d").to_string();
    let page = client
        .post_form("/payments", &[("contract", "W-1"), ("amount", "1 500"), ("paid_on", &today), ("reference", "П-1")])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let stored = payments(&t).await.remove(0);
    (t, client, stored)
}

#[tokio::test]
async fn an_accountant_reverses_a_payment_once_with_a_reason() {
    let (t, client, original) = entered().await;
    let path = format!("/payments/{}", original.id);
    client.get("/payments").await.assert_ok().assert_contains(&format!("href=\"{path}\""));
    client.get(&path).await.assert_ok().assert_contains("Сторнировать").assert_contains("Перенести на другой договор");

    let reverse = format!("{path}/reverse");
    let page = client.post_form(&reverse, &[("reason", "  ")]).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    page.assert_contains("Укажите причину.");
    let long = "я".repeat(501);
    let page = client.post_form(&reverse, &[("reason", &long)]).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    page.assert_contains("Причина: не длиннее 500 символов, а здесь 501.");
    assert_eq!(payments(&t).await.len(), 1, "nothing stored");

    let page = client.post_form(&reverse, &[("reason", "Внесён дважды")]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let stored = payments(&t).await;
    let [_, reversal] = &stored[..] else { panic!("the original and its reversal: {stored:?}") };
    assert_eq!((reversal.amount_kopecks, reversal.reverses_id), (kopecks!(-1500_00), Some(original.id)));
    assert_eq!(reversal.paid_on, t.ctx.today());
    let contract = client.get(&format!("/contracts/{}", original.contract_id)).await;
    contract
        .assert_ok()
        .assert_contains("Задолженности нет")
        .assert_contains(&format!("сторно платежа № {}", original.id));

    // The page of a reversed payment has no forms; a crafted second POST is refused.
    client.get(&path).await.assert_ok().assert_lacks("Перенести на другой договор").assert_contains("сторнирован");
    let again = client.post_form(&reverse, &[("reason", "ещё раз")]).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    again.assert_contains(&format!("Платёж № {} уже сторнирован.", original.id));
    assert_eq!(payments(&t).await.len(), 2);
}

#[tokio::test]
async fn moving_a_payment_books_it_on_the_other_contract() {
    let (t, client, original) = entered().await;
    let transfer = format!("/payments/{}/transfer", original.id);
    let page = client.post_form(&transfer, &[("contract", "Z-9"), ("reason", "не тот договор")]).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    page.assert_contains("Договор № Z-9 не найден.").assert_contains("value=\"Z-9\"");
    let page = client.post_form(&transfer, &[("contract", "W-2"), ("reason", "не тот договор")]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let stored = payments(&t).await;
    let amounts: Vec<(i64, Kopecks)> = stored.iter().map(|p| (p.contract_id, p.amount_kopecks)).collect();
    let w2 = stored[2].contract_id;
    assert_ne!(w2, original.contract_id);
    assert_eq!(
        amounts,
        [
            (original.contract_id, kopecks!(1500_00)),
            (original.contract_id, kopecks!(-1500_00)),
            (w2, kopecks!(1500_00))
        ]
    );
    client.get(&format!("/contracts/{w2}")).await.assert_contains("Переплата (аванс) 1\u{202f}500,00 ₽");
}

#[tokio::test]
async fn a_controller_can_neither_see_nor_reverse_a_payment() {
    let (t, _accountant, original) = entered().await;
    let controller = PanelClient::staff(&t, "walker", Role::Controller).await;
    let path = format!("/payments/{}", original.id);
    assert_eq!(controller.get(&path).await.status, StatusCode::FORBIDDEN);
    let page = controller.post_form(&format!("{path}/reverse"), &[("reason", "хочу")]).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let page = controller.post_form(&format!("{path}/transfer"), &[("contract", "W-2"), ("reason", "хочу")]).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert_eq!(payments(&t).await.len(), 1);
}
