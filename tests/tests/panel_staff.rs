//! Staff accounts, managed by admins in the panel: creation, roles, access, password resets,
//! API tokens and Telegram link codes.

use domain::Role;
use entities::{audit_log, link_code, staff};
use poem::http::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use service::testing::TestContext;
use tests::PanelClient;

async fn member(t: &TestContext, login: &str) -> staff::Model {
    service::access::staff::by_login(t.ctx.db.conn(), login).await.unwrap().expect("the account")
}

#[tokio::test]
async fn admins_create_accounts_and_mistakes_are_explained() {
    let t = TestContext::new().await;
    let admin = PanelClient::staff(&t, "admin", Role::Admin).await;
    admin.get("/staff/new").await.assert_ok();
    let form = |login: &'static str, password: &'static str, repeat: &'static str| {
        [
            ("login", login),
            ("full_name", "Кузнецова Анна"),
            ("role", "accountant"),
            ("password", password),
            ("repeat", repeat),
        ]
    };
    for (fields, message) in [
        (form("ан", "long-enough-1", "long-enough-1"), "Логин может содержать латинские буквы"),
        (form("kuz", "long-enough-1", "other-password"), "Пароли не совпадают."),
        (form("kuz", "short", "short"), "Пароль должен быть не короче 8 символов."),
        (form("admin", "long-enough-1", "long-enough-1"), "Логин «admin» уже занят."),
    ] {
        let page = admin.post_form("/staff", &fields).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{message}");
        page.assert_contains(message).assert_contains("value=\"Кузнецова Анна\"").assert_lacks("long-enough-1");
    }
    assert!(service::access::staff::by_login(t.ctx.db.conn(), "kuz").await.unwrap().is_none());

    let page = admin.post_form("/staff", &form("kuz", "long-enough-1", "long-enough-1")).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(member(&t, "kuz").await.role, Role::Accountant);
    let kuz = PanelClient::new(&t.ctx);
    kuz.login("kuz", "long-enough-1").await;
    kuz.get("/payments").await.assert_ok();
}

#[tokio::test]
async fn roles_access_and_passwords_are_changed_by_admins() {
    let t = TestContext::new().await;
    let admin = PanelClient::staff(&t, "admin", Role::Admin).await;
    let petrov = t.staff("petrov", Role::Controller).await;
    let path = format!("/staff/{}", petrov.id);
    admin.get(&path).await.assert_ok().assert_contains("<option value=\"controller\" selected>");

    let page = admin.post_form(&format!("{path}/role"), &[("role", "accountant")]).await;
    admin.get(page.location().unwrap()).await.assert_contains("Роль «petrov»: бухгалтер.");
    assert_eq!(member(&t, "petrov").await.role, Role::Accountant);

    let page =
        admin.post_form(&format!("{path}/password"), &[("password", "new-secret-1"), ("repeat", "new-secret-1")]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let petrov_browser = PanelClient::new(&t.ctx);
    petrov_browser.login("petrov", "new-secret-1").await;
    petrov_browser.get("/").await.assert_ok();

    admin.post_form(&format!("{path}/active"), &[("active", "false")]).await;
    assert!(!member(&t, "petrov").await.active);
    assert_eq!(petrov_browser.get("/").await.status, StatusCode::SEE_OTHER, "the open session ends");
    assert!(service::access::login::authenticate(&t.ctx, "petrov", "new-secret-1", None).await.is_err());
    admin.post_form(&format!("{path}/active"), &[("active", "true")]).await;
    assert!(member(&t, "petrov").await.active);

    // The last admin can neither leave nor step down.
    let me = member(&t, "admin").await;
    for (action, field, value) in [("active", "active", "false"), ("role", "role", "controller")] {
        let page = admin.post_form(&format!("/staff/{}/{action}", me.id), &[(field, value)]).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        page.assert_contains("Нельзя отключить или лишить прав последнего администратора");
    }
    let me = member(&t, "admin").await;
    assert!(me.active && me.role == Role::Admin);
}

#[tokio::test]
async fn api_tokens_are_shown_once_and_work() {
    let t = TestContext::new().await;
    let admin = PanelClient::staff(&t, "admin", Role::Admin).await;
    let buh = t.staff("buh", Role::Accountant).await;
    admin.get(&format!("/staff/{}", buh.id)).await;
    let page = admin.post_form(&format!("/staff/{}/token", buh.id), &[]).await;
    page.assert_ok().assert_contains("показан один раз");
    let token =
        page.body.split("<p class=\"code\"><code>").nth(1).and_then(|rest| rest.split('<').next()).unwrap().to_owned();
    assert_eq!(token.len(), 40);

    let api = PanelClient::new(&t.ctx);
    api.api_get("/api/tariffs", &token).await.assert_ok();
    let stored = member(&t, "buh").await.api_token_hash.unwrap();
    assert_ne!(stored, token, "only the hash is kept");
    admin.get(&format!("/staff/{}", buh.id)).await.assert_contains("выдан").assert_lacks(&token);
    // Issuing a token is audited like every admin action, without the token.
    let issued = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("staff.api_token"))
        .all(t.ctx.db.conn())
        .await
        .unwrap();
    let by_admin = Some(member(&t, "admin").await.id);
    assert_eq!(issued.iter().map(|e| (e.entity_id, e.staff_id)).collect::<Vec<_>>(), [(Some(buh.id), by_admin)]);
    assert!(!issued[0].details.contains(&token));

    // A new token replaces the old one.
    admin.post_form(&format!("/staff/{}/token", buh.id), &[]).await;
    assert_eq!(api.api_get("/api/tariffs", &token).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn staff_get_telegram_link_codes() {
    let t = TestContext::new().await;
    let admin = PanelClient::staff(&t, "admin", Role::Admin).await;
    let kontroler = t.staff("kontroler", Role::Controller).await;
    admin.get(&format!("/staff/{}", kontroler.id)).await;
    let page = admin.post_form(&format!("/staff/{}/link-code", kontroler.id), &[]).await;
    let code = page.assert_ok().link_code();
    page.assert_contains(&format!("https://t.me/chernomorsk_test_bot?start={code}"));
    let stored = link_code::Entity::find().filter(link_code::Column::StaffId.eq(kontroler.id)).all(t.ctx.db.conn());
    let stored = stored.await.unwrap();
    assert_eq!(stored.len(), 1);
    assert!(!stored[0].code_hash.contains(&code), "only a hash of the code is stored");
    let linked = service::access::telegram::redeem(&t.ctx, &code, 77).await.expect("the shown code works");
    assert_eq!(linked.staff.map(|s| s.id), Some(kontroler.id));
}
