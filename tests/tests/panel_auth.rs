//! Logging in to the real panel app on a temporary SQLite file.

use domain::Role;
use entities::web_session;
use poem::http::StatusCode;
use sea_orm::{EntityTrait, PaginatorTrait};
use service::testing::TestContext;
use tests::PanelClient;

async fn session_rows(t: &TestContext) -> u64 {
    web_session::Entity::find().count(t.ctx.db.conn()).await.unwrap()
}

#[tokio::test]
async fn anonymous_visitors_are_sent_to_the_login_form() {
    let t = TestContext::new().await;
    let client = PanelClient::new(&t.ctx);
    let page = client.get("/account").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), Some("/login?next=%2Faccount"));
    client.get("/login").await.assert_ok().assert_contains("Логин");
}

#[tokio::test]
async fn wrong_password_is_refused_in_russian_and_keeps_the_login() {
    let t = TestContext::new().await;
    t.staff("buh", Role::Accountant).await;
    let client = PanelClient::new(&t.ctx);
    client.get("/login").await;
    let page = client.post_form("/login", &[("login", "buh"), ("password", "wrong")]).await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    page.assert_contains("Неверный логин или пароль.").assert_contains("value=\"buh\"");
    assert_eq!(client.get("/").await.status, StatusCode::SEE_OTHER, "still logged out");
}

#[tokio::test]
async fn login_issues_a_new_session_id_and_logout_ends_it() {
    let t = TestContext::new().await;
    t.staff("buh", Role::Accountant).await;
    let client = PanelClient::new(&t.ctx);
    // A session id planted before login (by a shared computer's previous user, a sibling site).
    client.plant_cookie("chernomorsk_session", "planted-by-someone-else");

    let page = client.login("buh", "buh-password").await;
    assert_eq!(page.location(), Some("/"));
    let after = client.cookie().expect("a session");
    assert_ne!(after, "chernomorsk_session=planted-by-someone-else", "session fixation");
    client.get("/").await.assert_ok().assert_contains("Сводка");
    let planted = PanelClient::new(&t.ctx);
    assert_eq!(
        planted.get_with_cookie("/", "chernomorsk_session=planted-by-someone-else").await.status,
        StatusCode::SEE_OTHER
    );

    client.post_form("/logout", &[]).await;
    assert_eq!(client.get("/").await.status, StatusCode::SEE_OTHER);
    // The old cookie is dead on the server, not just forgotten by the browser.
    assert_eq!(planted.get_with_cookie("/", &after).await.status, StatusCode::SEE_OTHER);
    assert_eq!(session_rows(&t).await, 0);
}

#[tokio::test]
async fn controllers_land_on_the_mobile_form_and_cannot_open_office_pages() {
    let t = TestContext::new().await;
    t.staff("kontroler", Role::Controller).await;
    let client = PanelClient::new(&t.ctx);
    let page = client.login("kontroler", "kontroler-password").await;
    assert_eq!(page.location(), Some("/m"));
    let page = client.get("/").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    page.assert_contains("Недостаточно прав");
}

#[tokio::test]
async fn forms_without_the_csrf_token_are_refused() {
    let t = TestContext::new().await;
    t.staff("buh", Role::Accountant).await;
    let client = PanelClient::new(&t.ctx);
    client.login("buh", "buh-password").await;
    client.get("/account").await.assert_ok();

    let fields =
        [("current", "buh-password".to_owned()), ("new", "new-password".into()), ("repeat", "new-password".into())];
    let page = client.post_raw_form("/account/password", &fields).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    page.assert_contains("Форма устарела");
    let forged: Vec<_> = fields.iter().cloned().chain([("csrf_token", "forged".to_owned())]).collect();
    assert_eq!(client.post_raw_form("/account/password", &forged).await.status, StatusCode::FORBIDDEN);
    assert!(service::staff::authenticate(&t.ctx, "buh", "buh-password", None).await.is_ok(), "password unchanged");

    let page = client
        .post_form(
            "/account/password",
            &[("current", "buh-password"), ("new", "new-password"), ("repeat", "new-password")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(service::staff::authenticate(&t.ctx, "buh", "new-password", None).await.is_ok());
}

#[tokio::test]
async fn login_redirect_stays_on_this_site() {
    let t = TestContext::new().await;
    t.staff("buh", Role::Accountant).await;
    let client = PanelClient::new(&t.ctx);
    client.get("/login?next=//evil.example/").await;
    let page = client
        .post_form("/login", &[("login", "buh"), ("password", "buh-password"), ("next", "//evil.example/")])
        .await;
    assert_eq!(page.location(), Some("/"));
}
