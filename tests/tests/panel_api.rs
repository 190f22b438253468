//! The JSON API under `/api`, with API tokens and with the panel's session.

use domain::{Role, Service, TariffPlan, kopecks};
use entities::{payment, reading};
use poem::http::{Method, StatusCode, header};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;
use service::audit::Actor;
use service::testing::{TestContext, new_consumer};
use tests::{Page, PanelClient};

struct Api {
    t: TestContext,
    client: PanelClient,
    admin: String,
    buh: String,
    meter: i64,
    /// The electricity meter of contract E-2.
    other_meter: i64,
    consumer: i64,
}

async fn api() -> Api {
    let t = TestContext::new().await;
    t.standard_tariffs().await;
    let signed = t
        .sign("1", new_consumer("Фёдорова", Some("+79005554433")), "W-1", Service::Water, TariffPlan::Single, &[0])
        .await;
    let other = t.sign("2", new_consumer("Громов", None), "E-2", Service::Electricity, TariffPlan::Single, &[0]).await;
    let admin = t.staff("admin", Role::Admin).await;
    let buh = t.staff("buh", Role::Accountant).await;
    let admin = service::access::staff::issue_api_token(&t.ctx, admin.id, Actor::System).await.unwrap();
    let buh = service::access::staff::issue_api_token(&t.ctx, buh.id, Actor::System).await.unwrap();
    let client = PanelClient::new(&t.ctx);
    Api { t, client, admin, buh, meter: signed.meter_id, other_meter: other.meter_id, consumer: signed.consumer_id }
}

#[tokio::test]
async fn readings_are_submitted_with_the_same_checks_as_everywhere() {
    let a = api().await;
    let post = |body: serde_json::Value| {
        let a = &a;
        async move { a.client.api_post("/api/readings", &a.admin, &body).await }
    };
    let page = post(json!({"meter_id": a.meter, "values": ["12.5"], "idempotency_key": "k-1"})).await;
    assert_eq!(page.status, StatusCode::CREATED, "{}", page.body);
    let created = page.json();
    assert_eq!((created["values"][0].as_str(), created["status"].as_str()), (Some("12.5"), Some("accepted")));
    assert_eq!(created["source"], "panel");

    let again = post(json!({"meter_id": a.meter, "values": ["12.5"], "idempotency_key": "k-1"})).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json()["id"], created["id"]);

    let page = post(json!({"meter_id": a.meter, "values": ["12"]})).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.json()["message"].as_str().unwrap().contains("меньше предыдущего"));
    let page = post(json!({"meter_id": a.meter, "values": ["двенадцать"]})).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.json()["message"].as_str().unwrap().contains("не число"));
    assert_eq!(post(json!({"meter_id": 999, "values": ["1"]})).await.status, StatusCode::NOT_FOUND);

    let jump = post(json!({"meter_id": a.meter, "values": ["9000"]})).await;
    assert_eq!(jump.status, StatusCode::CONFLICT);
    assert!(jump.json()["message"].as_str().unwrap().contains("намного больше обычного"));
    let confirmed = post(json!({"meter_id": a.meter, "values": ["9000"], "confirmed": true})).await;
    assert_eq!(confirmed.status, StatusCode::CREATED);
    assert_eq!(confirmed.json()["status"], "flagged");
    assert_eq!(reading::Entity::find().count(a.t.ctx.db.conn()).await.unwrap(), 2);

    let listed = a.client.api_get("/api/readings?status=flagged", &a.buh).await.json();
    assert_eq!(listed["total"], 1);
    assert_eq!(listed["items"][0]["values"][0], "9000");
    let refused = a.client.api_get("/api/readings?status=maybe", &a.buh).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    // Accountants read readings but do not enter them.
    let page = a.client.api_post("/api/readings", &a.buh, &json!({"meter_id": a.meter, "values": ["13"]})).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_idempotency_key_repeats_only_its_own_meter_and_author() {
    let a = api().await;
    let second_admin = a.t.staff("admin2", Role::Admin).await;
    let second_admin = service::access::staff::issue_api_token(&a.t.ctx, second_admin.id, Actor::System).await.unwrap();
    let post = |token: &str, meter: i64, value: &str, key: &str| {
        let (a, token) = (&a, token.to_owned());
        let body = json!({"meter_id": meter, "values": [value], "idempotency_key": key});
        async move { a.client.api_post("/api/readings", &token, &body).await }
    };

    let first = post(&a.admin, a.meter, "12", "k-1").await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    // The same key on another meter, and from another admin: new readings, not the first one.
    let other_meter = post(&a.admin, a.other_meter, "5", "k-1").await;
    assert_eq!(other_meter.status, StatusCode::CREATED, "{}", other_meter.body);
    assert_eq!(
        (other_meter.json()["meter_id"].as_i64(), other_meter.json()["values"][0].as_str()),
        (Some(a.other_meter), Some("5"))
    );
    let other_author = post(&second_admin, a.meter, "13", "k-1").await;
    assert_eq!(other_author.status, StatusCode::CREATED, "{}", other_author.body);
    assert_eq!(other_author.json()["values"][0], "13");
    // The first admin retrying gets their own reading back.
    let retry = post(&a.admin, a.meter, "12", "k-1").await;
    assert_eq!(retry.status, StatusCode::OK);
    assert_eq!(retry.json()["id"], first.json()["id"]);

    for key in [String::new(), "k".repeat(101), "два слова".into()] {
        let refused = post(&a.admin, a.meter, "14", &key).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{key:?}");
        assert!(refused.json()["message"].as_str().unwrap().starts_with("Ключ повторной отправки"), "{}", refused.body);
    }
    assert_eq!(reading::Entity::find().count(a.t.ctx.db.conn()).await.unwrap(), 3);
}

#[tokio::test]
async fn text_beyond_its_limit_is_refused_and_nothing_is_stored() {
    let a = api().await;
    let comment = "ж".repeat(2_000_000);
    let body = json!({"meter_id": a.meter, "values": ["12"], "comment": comment});
    let page = a.client.api_post("/api/readings", &a.admin, &body).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(page.json()["message"], "Комментарий: не длиннее 500 символов, а здесь 2000000.");
    assert_eq!(reading::Entity::find().count(a.t.ctx.db.conn()).await.unwrap(), 0);

    let body = json!({"contract_number": "W-1", "amount_kopecks": 100, "paid_on": "2026-03-10", "period": "2026-03",
                      "reference": "П".repeat(101)});
    let page = a.client.api_post("/api/payments", &a.buh, &body).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(page.json()["message"], "Номер платежа: не длиннее 100 символов, а здесь 101.");
    assert_eq!(payment::Entity::find().count(a.t.ctx.db.conn()).await.unwrap(), 0);

    let page = a.client.api_get(&format!("/api/plots?q={}", "1".repeat(101)), &a.buh).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert_eq!(page.json()["message"], "Поисковый запрос: не длиннее 100 символов, а здесь 101.");
}

#[tokio::test]
async fn payments_are_exact_and_show_up_in_the_consumers_debt() {
    let a = api().await;
    // 25 m³ at 40 ₽ = 1000 ₽ charged.
    a.client.api_post("/api/readings", &a.admin, &json!({"meter_id": a.meter, "values": ["25"]})).await;
    let body = json!({"contract_number": "W-1", "amount_kopecks": 123_456, "paid_on": "2026-03-10", "period": "2026-03", "reference": "B-1"});
    let page = a.client.api_post("/api/payments", &a.buh, &body).await;
    assert_eq!(page.status, StatusCode::CREATED, "{}", page.body);
    assert_eq!(page.json()["amount_kopecks"], 123_456);
    let stored = payment::Entity::find().one(a.t.ctx.db.conn()).await.unwrap().unwrap();
    assert_eq!(stored.amount_kopecks, kopecks!(123_456));

    let again = a.client.api_post("/api/payments", &a.buh, &body).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(again.json()["message"], "Платёж с номером «B-1» уже внесён.");
    let zero = json!({"contract_number": "W-1", "amount_kopecks": 0, "paid_on": "2026-03-10", "period": "2026-03"});
    assert_eq!(
        a.client.api_post("/api/payments", &a.buh, &zero).await.json()["message"],
        "Сумма должна быть больше нуля."
    );

    let debt = a.client.api_get(&format!("/api/consumers/{}/debt", a.consumer), &a.buh).await.json();
    assert_eq!(debt["total"]["charged_kopecks"], 100_000);
    assert_eq!(debt["total"]["debt_kopecks"], 100_000 - 123_456);
    assert!(debt["text"].as_str().unwrap().contains("Переплата (аванс) 234,56 ₽"));

    let consumer = a.client.api_get(&format!("/api/consumers/{}", a.consumer), &a.buh).await.json();
    assert_eq!(consumer["phone"], "+79005554433");
    assert_eq!(consumer["contracts"][0]["number"], "W-1");
    let missing = a.client.api_get("/api/consumers/999", &a.buh).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.json()["message"], "Потребитель не найден.");

    let listed = a.client.api_get("/api/payments?contract=W-1", &a.buh).await.json();
    assert_eq!(listed["items"][0]["reference"], "B-1");
    let electricity = a.client.api_get("/api/contracts?service=electricity", &a.buh).await.json();
    assert_eq!((electricity["total"].as_u64(), electricity["items"][0]["number"].as_str()), (Some(1), Some("E-2")));
    let tariffs = a.client.api_get("/api/tariffs", &a.buh).await.json();
    assert_eq!(tariffs.as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn the_panel_session_works_for_the_api_with_the_csrf_header() {
    let a = api().await;
    let browser = PanelClient::new(&a.t.ctx);
    browser.login("buh", "buh-password").await;
    browser.get("/").await.assert_ok();
    browser.get("/api/plots").await.assert_ok();
    let body = json!({"contract_number": "E-2", "amount_kopecks": 500, "paid_on": "2026-03-10", "period": "2026-02"});
    let forged = browser.post_raw_form("/api/payments", &[]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "a changing call with the cookie but no token");
    assert_eq!(browser.post_json("/api/payments", &body).await.status, StatusCode::CREATED);

    let stranger = PanelClient::new(&a.t.ctx);
    assert_eq!(stranger.post_json("/api/payments", &body).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(stranger.api_get("/api/plots", "not-a-token").await.status, StatusCode::UNAUTHORIZED);
    stranger.get("/api/docs").await.assert_ok().assert_contains("swagger");
}

/// An admin in the panel and a controller on `/m`, logged in.
async fn browsers(a: &Api) -> (PanelClient, PanelClient) {
    (PanelClient::staff(&a.t, "boss", Role::Admin).await, PanelClient::staff(&a.t, "walker", Role::Controller).await)
}

/// Every page the issue saw answer 500 once an absurd amount was stored.
async fn ledger_pages_answer(a: &Api, (admin, walker): &(PanelClient, PanelClient), plot_id: i64) {
    let office = ["/", "/plots", "/consumers", "/contracts", &format!("/plots/{plot_id}"), "/payments"];
    for path in office.iter().chain([&"/reports/monthly?period=2026-03"]) {
        let page = admin.get(path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
    }
    let page = walker.get(&format!("/m/plots/{plot_id}")).await;
    assert_eq!(page.status, StatusCode::OK, "/m/plots/{plot_id}");
    let api = ["/api/plots", "/api/consumers", "/api/contracts", "/api/payments", &format!("/api/plots/{plot_id}")];
    for path in api.iter().chain([&format!("/api/consumers/{}/debt", a.consumer).as_str()]) {
        let page = a.client.api_get(path, &a.buh).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
    }
}

#[tokio::test]
async fn absurd_amounts_and_dates_are_refused_and_nothing_breaks() {
    let a = api().await;
    a.client.api_post("/api/readings", &a.admin, &json!({"meter_id": a.meter, "values": ["25"]})).await;
    let pay = |amount: serde_json::Value, paid_on: &str| json!({"contract_number": "W-1", "amount_kopecks": amount, "paid_on": paid_on, "period": "2026-03"});
    let too_large = "Сумма слишком велика: по модулю не больше 1\u{202f}000\u{202f}000\u{202f}000\u{202f}000,00 ₽.";
    let not_positive = "Сумма должна быть больше нуля.";
    for (amount, message) in [
        (json!(i64::MAX), too_large),
        // Twice: two of these used to wrap to «Оплачено» −84 464 430 736 622 530 ₽.
        (json!(5_000_000_000_000_000_000_i64), too_large),
        (json!(5_000_000_000_000_000_000_i64), too_large),
        (json!(i64::MIN), too_large),
        (json!(-100), not_positive),
        (json!(0), not_positive),
        (json!(10_000_000_01), "Платёж не может быть больше 10\u{202f}000\u{202f}000,00 ₽."),
    ] {
        let page = a.client.api_post("/api/payments", &a.buh, &pay(amount.clone(), "2026-03-10")).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{amount}: {}", page.body);
        assert_eq!(page.json()["message"], message, "{amount}");
    }
    for (paid_on, shown) in
        [("0001-01-01", "01.01.0001"), ("+262142-12-31", "31.12.+262142"), ("1999-12-31", "31.12.1999")]
    {
        let page = a.client.api_post("/api/payments", &a.buh, &pay(json!(100), paid_on)).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{paid_on}: {}", page.body);
        assert_eq!(
            page.json()["message"],
            format!("Дата {shown} вне допустимых пределов: год от 2000 до 2999."),
            "{paid_on}"
        );
    }
    assert_eq!(payment::Entity::find().count(a.t.ctx.db.conn()).await.unwrap(), 0, "nothing stored");

    // The largest payment there can be is taken, and every page still adds up.
    let page = a.client.api_post("/api/payments", &a.buh, &pay(json!(10_000_000_00), "2026-03-10")).await;
    assert_eq!(page.status, StatusCode::CREATED, "{}", page.body);
    let plot_id = entities::plot::Entity::find().one(a.t.ctx.db.conn()).await.unwrap().unwrap().id;
    ledger_pages_answer(&a, &browsers(&a).await, plot_id).await;
    let debt = a.client.api_get(&format!("/api/consumers/{}/debt", a.consumer), &a.buh).await.json();
    assert_eq!(debt["total"]["debt_kopecks"], 1_000_00 - 10_000_000_00);
}

/// A database written before amounts were bounded: the attacker's payments, a price of a trillion
/// rubles and a charge it priced, stored as the old version stored them. They break every page
/// until the next start, whose migration moves them to the audit log.
#[tokio::test]
async fn a_database_holding_absurd_amounts_is_mended_at_start() {
    let a = api().await;
    a.client.api_post("/api/readings", &a.admin, &json!({"meter_id": a.meter, "values": ["25"]})).await;
    let body =
        json!({"contract_number": "W-1", "amount_kopecks": 300_00, "paid_on": "2026-03-10", "period": "2026-03"});
    assert_eq!(a.client.api_post("/api/payments", &a.buh, &body).await.status, StatusCode::CREATED);
    let conn = a.t.ctx.db.conn();
    let contract = |number: &'static str| async move {
        let contracts = entities::contract::Entity::find().all(conn).await.unwrap();
        contracts.into_iter().find(|c| c.number == number).unwrap().id
    };
    let (water, power) = (contract("W-1").await, contract("E-2").await);
    let browsers = browsers(&a).await;
    let at = "'2026-03-10T00:00:00Z'";
    conn.execute_unprepared(&format!(
        "INSERT INTO payments (contract_id, amount_kopecks, paid_on, period, source, created_at) VALUES \
         ({water}, {max}, '2026-03-10', '2026-03', 'panel', {at}), \
         ({power}, 5000000000000000000, '2026-03-10', '2026-03', 'panel', {at}), \
         ({power}, 5000000000000000000, '2026-03-11', '2026-03', 'panel', {at}); \
         INSERT INTO tariffs (service, zone, price_kopecks, valid_from, created_at) \
         VALUES ('electricity', 'single', 99999999999900, '2026-03-01', {at}); \
         INSERT INTO charges (contract_id, period, kind, zone, price_kopecks, amount_kopecks, created_at) \
         VALUES ({power}, '2026-03', 'consumption', 'single', 99999999999900, 2000000000000000000, {at})",
        max = i64::MAX,
    ))
    .await
    .unwrap();
    assert_eq!(browsers.0.get("/").await.status, StatusCode::INTERNAL_SERVER_ERROR, "the failure this mends");
    assert_eq!(a.client.api_get("/api/contracts", &a.buh).await.status, StatusCode::INTERNAL_SERVER_ERROR);

    // As if this version started on that database for the first time.
    conn.execute_unprepared("DELETE FROM seaql_migrations WHERE version = 'm20261201_000001_quarantine_out_of_range'")
        .await
        .unwrap();
    service::Db::open(&a.t.database_url()).await.unwrap();

    let plot_id = entities::plot::Entity::find().one(conn).await.unwrap().unwrap().id;
    ledger_pages_answer(&a, &browsers, plot_id).await;
    let amounts: Vec<i64> =
        payment::Entity::find().all(conn).await.unwrap().iter().map(|p| p.amount_kopecks.get()).collect();
    assert_eq!(amounts, [300_00], "only the real payment is left in the ledger");
    assert_eq!(entities::tariff::Entity::find().count(conn).await.unwrap(), 4);
    let debt = a.client.api_get(&format!("/api/consumers/{}/debt", a.consumer), &a.buh).await.json();
    assert_eq!(debt["total"]["debt_kopecks"], 1_000_00 - 300_00);

    let moved = entities::audit_log::Entity::find()
        .filter(entities::audit_log::Column::Action.eq("ledger.quarantine"))
        .all(conn)
        .await
        .unwrap();
    let entities: Vec<&str> = moved.iter().map(|e| e.entity.as_str()).collect();
    assert_eq!(entities, ["payment", "payment", "payment", "tariff", "charge"]);
    assert!(moved[0].details.contains(&i64::MAX.to_string()), "the row is kept whole: {}", moved[0].details);
}

/// A refusal as the API answers every one: JSON `{"message": …}` in Russian, with `status`.
fn assert_refused(page: &Page, status: StatusCode, what: &str) -> String {
    assert_eq!(page.status, status, "{what}: {}", page.body);
    let content_type = page.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(content_type.starts_with("application/json"), "{what}: Content-Type {content_type:?}, body {}", page.body);
    let body = page.json();
    let message = body["message"].as_str().unwrap_or_else(|| panic!("{what}: no message in {body}")).to_owned();
    assert_eq!(body.as_object().map(|o| o.len()), Some(1), "{what}: only the message: {body}");
    // It starts with a Russian word, and is not one of poem's English messages.
    assert!(message.starts_with(|c| matches!(c, 'А'..='Я')), "{what}: not Russian: {message}");
    for english in ["failed", "error", "parse", "invalid", "expected", "not found"] {
        assert!(!message.to_lowercase().contains(english), "{what}: {message}");
    }
    message
}

#[tokio::test]
async fn every_refusal_is_json_with_a_russian_message() {
    let a = api().await;
    let get = |path: &'static str| a.client.api_get(path, &a.buh);
    for (path, starts) in [
        ("/api/plots?page=0", "Параметр «page»: номер страницы — целое число от 1."),
        ("/api/plots?page=два", "Параметр «page»"),
        ("/api/consumers?per_page=0", "Параметр «per_page»: строк на странице — целое число от 1 до 500."),
        ("/api/readings?per_page=100000", "Параметр «per_page»"),
        ("/api/contracts?debtors=maybe", "Параметр «debtors»: true или false."),
        ("/api/readings?status=maybe", "Параметр «status»: неизвестное значение «maybe»"),
        ("/api/readings?period=2026-13", "Параметр «period»: "),
        ("/api/plots/abc", "Номер записи в адресе должен быть целым числом."),
    ] {
        let message = assert_refused(&get(path).await, StatusCode::BAD_REQUEST, path);
        assert!(message.starts_with(starts), "{path}: {message}");
    }
    assert_refused(&get("/api/nowhere").await, StatusCode::NOT_FOUND, "an unknown path");
    assert_refused(&get("/api/plots/999").await, StatusCode::NOT_FOUND, "an unknown plot");
    let delete = a.client.api_send(Method::DELETE, "/api/plots", &a.buh, None, Vec::new()).await;
    assert_refused(&delete, StatusCode::METHOD_NOT_ALLOWED, "DELETE");
    // The first page as usual, and the last row of the list on a page of one.
    assert_eq!(get("/api/plots?page=1&per_page=500").await.json()["total"], 2);
    assert_eq!(get("/api/plots?page=2&per_page=1").await.json()["items"].as_array().map(Vec::len), Some(1));

    let post = |content_type: Option<&'static str>, body: &'static str| {
        a.client.api_send(Method::POST, "/api/readings", &a.admin, content_type, body)
    };
    let json = Some("application/json");
    for (body, what) in [
        (r#"{"meter_id": 1, "values": ["#, "malformed JSON"),
        (r#"{"meter_id": "первый", "values": ["12"]}"#, "a string for a number"),
        (r#"{"meter_id": 1, "values": "12"}"#, "a string for a list"),
        (r#"{"values": ["12"]}"#, "a missing field"),
        (r#"{"meter_id": 1, "values": ["12"], "colour": "red"}"#, "an unknown field"),
        ("", "no body"),
    ] {
        let message = assert_refused(&post(json, body).await, StatusCode::BAD_REQUEST, what);
        assert!(message.starts_with("Тело запроса не разобрано"), "{what}: {message}");
    }
    for content_type in [None, Some("text/plain"), Some("application/x-www-form-urlencoded")] {
        let page = post(content_type, r#"{"meter_id": 1, "values": ["12"]}"#).await;
        let message = assert_refused(&page, StatusCode::UNSUPPORTED_MEDIA_TYPE, "not JSON");
        assert_eq!(message, "Тело запроса должно быть JSON с заголовком Content-Type: application/json.");
    }
    let huge = vec![b' '; 21 << 20];
    let page = a.client.api_send(Method::POST, "/api/payments", &a.buh, json, huge).await;
    assert_eq!(
        assert_refused(&page, StatusCode::PAYLOAD_TOO_LARGE, "21 MB"),
        "Слишком большой запрос: не больше 20 МБ."
    );

    // Who may not: no token, a wrong one, a role without the right, a session without the CSRF header.
    let stranger = PanelClient::new(&a.t.ctx);
    assert_refused(&stranger.api_get("/api/plots", "not-a-token").await, StatusCode::UNAUTHORIZED, "a bad token");
    let body = json!({"meter_id": a.meter, "values": ["13"]});
    assert_refused(&stranger.post_json("/api/readings", &body).await, StatusCode::UNAUTHORIZED, "no login");
    assert_refused(&a.client.api_post("/api/readings", &a.buh, &body).await, StatusCode::FORBIDDEN, "an accountant");
    let browser = PanelClient::new(&a.t.ctx);
    browser.login("admin", "admin-password").await;
    let forged = browser.post_raw_form("/api/readings", &[]).await;
    assert_refused(&forged, StatusCode::FORBIDDEN, "the session cookie without the CSRF header");
    assert_eq!(reading::Entity::find().count(a.t.ctx.db.conn()).await.unwrap(), 0);
}

#[tokio::test]
async fn the_openapi_document_describes_refusals_bounds_and_nullable_fields() {
    let a = api().await;
    let spec = a.client.get("/api/openapi.json").await.json();
    let paths = &spec["paths"];
    let statuses = |path: &str, method: &str| -> Vec<String> {
        let responses = paths[path][method]["responses"].as_object().unwrap_or_else(|| panic!("{method} {path}"));
        responses.keys().cloned().collect()
    };
    for (path, method, expected) in [
        ("/plots", "get", &["200", "400", "401", "403", "500"][..]),
        ("/plots/{id}", "get", &["200", "400", "401", "403", "404", "500"]),
        ("/tariffs", "get", &["200", "400", "401", "403", "500"]),
        ("/readings", "post", &["200", "201", "400", "401", "403", "404", "409", "413", "415", "422", "500"]),
        ("/payments", "post", &["201", "400", "401", "403", "409", "413", "415", "422", "500"]),
    ] {
        let mut documented = statuses(path, method);
        documented.sort();
        assert_eq!(documented, expected, "{method} {path}");
        for status in expected.iter().filter(|s| !s.starts_with('2')) {
            let content = &paths[path][method]["responses"][status]["content"]["application/json; charset=utf-8"];
            assert_eq!(content["schema"]["$ref"], "#/components/schemas/ApiError", "{method} {path} {status}");
        }
    }
    let parameter = |name: &str| {
        let parameters = paths["/plots"]["get"]["parameters"].as_array().expect("parameters");
        parameters.iter().find(|p| p["name"] == name).unwrap_or_else(|| panic!("no {name}"))["schema"].clone()
    };
    let bound = |name: &str, bound: &str| parameter(name)[bound].as_f64();
    assert_eq!(bound("page", "minimum"), Some(1.0));
    assert_eq!((bound("per_page", "minimum"), bound("per_page", "maximum")), (Some(1.0), Some(500.0)));

    let schemas = &spec["components"]["schemas"];
    for (schema, field) in [
        ("PlotOut", "address"),
        ("ConsumerDetail", "phone"),
        ("NewReadingIn", "comment"),
        ("NewPaymentIn", "reference"),
    ] {
        assert_eq!(schemas[schema]["properties"][field]["nullable"], true, "{schema}.{field}: {}", schemas[schema]);
    }
    assert_ne!(schemas["PlotOut"]["properties"]["number"]["nullable"], true, "a required field is not nullable");
}
