//! Logging in to the real panel app on a temporary SQLite file: sessions, lockout and the limit
//! per address, redirects after login, and the headers and error pages every response carries.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use domain::Role;
use entities::{staff, web_session};
use futures::future::join_all;
use poem::http::{Method, StatusCode, header};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use service::access::login::FREE_ATTEMPTS;
use service::access::throttle;
use service::audit::Actor;
use service::testing::TestContext;
use tests::{Page, PanelClient};

/// The `n`-th machine of a network of attackers, or of colleagues.
fn machine(n: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(0x0A00_0000 + n))
}

async fn account(t: &TestContext, login: &str) -> staff::Model {
    service::access::staff::by_login(t.ctx.db.conn(), login).await.unwrap().expect("the account")
}

/// The message of a refused login form.
fn refusal(page: &Page) -> &str {
    let start = page.body.find("role=\"alert\">").unwrap_or_else(|| panic!("no refusal in:\n{}", page.body));
    let rest = &page.body[start + "role=\"alert\">".len()..];
    &rest[..rest.find("</p>").expect("the refusal ends")]
}

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
    let page = client.try_login("buh", "wrong").await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    page.assert_contains("Неверный логин или пароль.").assert_contains("value=\"buh\"");
    assert_eq!(client.get("/").await.status, StatusCode::SEE_OTHER, "still logged out");
}

#[tokio::test]
async fn the_login_form_stores_no_session_and_keeps_its_csrf_check() {
    let t = TestContext::new().await;
    t.staff("buh", Role::Accountant).await;
    let client = PanelClient::new(&t.ctx);
    for n in 0..50 {
        client.browser_at(machine(n)).get("/login").await.assert_ok();
    }
    assert_eq!(client.try_login("buh", "wrong").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(session_rows(&t).await, 0, "no row for anonymous visitors");
    assert_eq!(client.cookie(), None, "and no session cookie");

    // The form's token lives in a cookie of its own, which another site cannot send along.
    let token = client.csrf().expect("the form's token");
    let fields =
        |token: &str| [("login", "buh".to_owned()), ("password", "buh-password".into()), ("csrf_token", token.into())];
    let elsewhere = client.browser_at(machine(1000));
    let page = elsewhere.post_raw_form("/login", &fields(&token)).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    page.assert_contains("Форма устарела");
    let page = client.post_raw_form("/login", &fields("forged")).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert_eq!(client.post_raw_form("/login", &fields(&token)).await.status, StatusCode::SEE_OTHER);
    assert_eq!(session_rows(&t).await, 1, "a session is stored once there is someone in it");
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
    assert_eq!(page.location(), Some("/m/"));
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
    assert!(
        service::access::login::authenticate(&t.ctx, "buh", "buh-password", None).await.is_ok(),
        "password unchanged"
    );

    let page = client
        .post_form(
            "/account/password",
            &[("current", "buh-password"), ("new", "new-password"), ("repeat", "new-password")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(service::access::login::authenticate(&t.ctx, "buh", "new-password", None).await.is_ok());
}

/// A session left open on a shared machine does not let anyone guess its owner's password: the
/// current password on «Сменить пароль» is counted as a login is, and a too-short new password
/// is refused before the current one is looked at.
#[tokio::test]
async fn the_current_password_is_not_guessed_through_the_change_form() {
    let t = TestContext::new().await;
    t.staff("buh", Role::Accountant).await;
    let client = PanelClient::new(&t.ctx).browser_at(machine(7));
    client.login("buh", "buh-password").await;
    client.get("/account").await.assert_ok();
    let change = |current: &'static str, new: &'static str| {
        let client = &client;
        async move { client.post_form("/account/password", &[("current", current), ("new", new), ("repeat", new)]).await }
    };

    change("buh-password", "short").await.assert_contains("Пароль должен быть не короче 8 символов.");
    change("guess-0", "short").await.assert_contains("Пароль должен быть не короче 8 символов.");
    assert_eq!(account(&t, "buh").await.failed_attempts, 0, "nothing checked for a refused new password");
    for n in 0..throttle::BURST {
        change(["guess-1", "guess-2", "guess-3", "guess-4", "guess-5"][n as usize], "long-enough")
            .await
            .assert_contains("Текущий пароль указан неверно.");
    }
    change("buh-password", "long-enough").await.assert_contains("Слишком много попыток с вашего адреса.");
    assert_eq!(account(&t, "buh").await.failed_attempts, throttle::BURST, "counted against the account's lock");
    assert!(service::access::login::authenticate(&t.ctx, "buh", "buh-password", None).await.is_ok(), "unchanged");

    // Locked by guesses from elsewhere: the owner in their session is told so, not «неверно».
    let mut locked: staff::ActiveModel = account(&t, "buh").await.into();
    locked.locked_until = Set(Some(t.ctx.now() + chrono::Duration::minutes(4)));
    sea_orm::ActiveModelTrait::update(locked, t.ctx.db.conn()).await.unwrap();
    change("buh-password", "long-enough").await.assert_contains("закрыт после неудачных попыток ещё на 4 мин.");
}

/// 100 guesses at once from 100 machines, then the right password: only the guesses up to the
/// lock are checked, and the right password does not get in while the lock lasts.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_guesses_cannot_pass_the_lock() {
    let t = TestContext::new().await;
    t.staff("buh", Role::Accountant).await;
    let server = PanelClient::new(&t.ctx);
    let browsers: Vec<Arc<PanelClient>> = (0..100).map(|n| Arc::new(server.browser_at(machine(n)))).collect();
    join_all(browsers.iter().map(|b| b.get("/login"))).await;
    let guesses = browsers.iter().cloned().map(|browser| {
        tokio::spawn(async move { browser.post_form("/login", &[("login", "buh"), ("password", "guess")]).await })
    });
    let answers: Vec<Page> = join_all(guesses).await.into_iter().map(|answer| answer.expect("answered")).collect();

    assert!(answers.iter().all(|page| page.status == StatusCode::UNAUTHORIZED));
    let checked = account(&t, "buh").await.failed_attempts;
    assert_eq!(checked, FREE_ATTEMPTS, "guesses checked before the lock held");
    let owner = server.browser_at(machine(500));
    let page = owner.try_login("buh", "buh-password").await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED, "locked: the right password waits too");
    assert_eq!(refusal(&page), refusal(&answers[0]));
    assert_eq!(account(&t, "buh").await.failed_attempts, FREE_ATTEMPTS, "nothing checked while locked");

    t.clock.advance(chrono::Duration::minutes(1));
    owner.login("buh", "buh-password").await;
    assert_eq!(account(&t, "buh").await.failed_attempts, 0);
}

/// 200 attempts at once from one address: the address's budget is checked first, so only that
/// many reach the accounts and the rest are refused at once, in Russian, with a 429.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_address_gets_a_few_attempts_then_429() {
    let t = TestContext::new().await;
    t.staff("buh", Role::Accountant).await;
    let server = PanelClient::new(&t.ctx);
    let attacker = Arc::new(server.browser_at(machine(1)));
    attacker.get("/login").await;
    let guesses = (0..200).map(|_| {
        let attacker = attacker.clone();
        tokio::spawn(async move { attacker.post_form("/login", &[("login", "buh"), ("password", "guess")]).await })
    });
    let answers: Vec<Page> = join_all(guesses).await.into_iter().map(|answer| answer.expect("answered")).collect();

    let refused: Vec<&Page> = answers.iter().filter(|p| p.status == StatusCode::TOO_MANY_REQUESTS).collect();
    let checked = answers.iter().filter(|p| p.status == StatusCode::UNAUTHORIZED).count();
    assert_eq!(checked, throttle::BURST as usize);
    assert_eq!(refused.len(), 200 - checked);
    assert_eq!(
        refusal(refused[0]),
        "Слишком много попыток входа с вашего адреса. Подождите минуту и попробуйте снова."
    );
    assert_eq!(refused[0].headers.get(header::RETRY_AFTER).map(|v| v.to_str().unwrap()), Some("60"));
    let buh = account(&t, "buh").await;
    assert_eq!(buh.failed_attempts, throttle::BURST, "refused attempts never reached the account");
    assert_eq!(buh.locked_until, None, "the address was stopped before the account locked");

    // The owner, elsewhere, is not locked out; the attacker gets one more try a minute later.
    server.browser_at(machine(2)).login("buh", "buh-password").await;
    assert_eq!(attacker.try_login("buh", "guess").await.status, StatusCode::TOO_MANY_REQUESTS);
    t.clock.advance(throttle::INTERVAL);
    assert_eq!(attacker.try_login("buh", "guess").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(attacker.try_login("buh", "guess").await.status, StatusCode::TOO_MANY_REQUESTS);
}

/// An unknown login, a deactivated account, a locked one and a wrong password all get the same
/// answer.
#[tokio::test]
async fn every_refused_login_reads_the_same() {
    let t = TestContext::new().await;
    t.staff("buh", Role::Accountant).await;
    let gone = t.staff("ushla", Role::Accountant).await;
    service::access::staff::set_active(&t.ctx, gone.id, false, Actor::System).await.unwrap();
    t.staff("zaperta", Role::Controller).await;
    for n in 0..FREE_ATTEMPTS as u32 {
        service::access::login::authenticate(&t.ctx, "zaperta", "guess", Some(machine(100 + n))).await.unwrap_err();
    }
    let server = PanelClient::new(&t.ctx);
    let mut answers = Vec::new();
    for (n, (login, password)) in
        [("nikto", "guess"), ("ushla", "ushla-password"), ("zaperta", "zaperta-password"), ("buh", "guess")]
            .into_iter()
            .enumerate()
    {
        let page = server.browser_at(machine(n as u32)).try_login(login, password).await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED, "{login}");
        answers.push(refusal(&page).to_owned());
    }
    assert!(answers.iter().all(|a| *a == answers[0]), "{answers:#?}");
    assert!(answers[0].starts_with("Неверный логин или пароль."));
}

#[tokio::test]
async fn login_redirects_stay_on_this_site() {
    let t = TestContext::new().await;
    t.staff("buh", Role::Accountant).await;
    // `next` as the browser sends it in the query, and what the login page must send it to.
    let cases = [
        ("%2Fok%3Fx%3D1", Some("/ok?x=1")),
        ("/payments?page=2", Some("/payments?page=2")),
        ("/%09/example.org/", None),
        ("//example.org", None),
        ("/%5Cexample.org", None),
        ("%5C%5Cexample.org", None),
        ("https://example.org", None),
        ("/.//example.org", None),
        ("/%0A/example.org", None),
        ("/ok%0D%0ASet-Cookie:%20x=1", Some("/okSet-Cookie:%20x=1")),
    ];
    let server = PanelClient::new(&t.ctx);
    for (n, (query, expected)) in cases.into_iter().enumerate() {
        let browser = server.browser_at(machine(n as u32));
        let form = browser.get(&format!("/login?next={query}")).await;
        form.assert_ok();
        let next = form.input_value("next");
        assert_eq!(next.as_deref(), expected, "the form for next={query}");
        let mut fields = vec![("login", "buh"), ("password", "buh-password")];
        fields.extend(next.as_deref().map(|next| ("next", next)));
        let page = browser.post_form("/login", &fields).await;
        assert_eq!(page.location(), Some(expected.unwrap_or("/")), "next={query}");
    }
    // A crafted form is parsed the same way.
    for (n, next) in ["/\t/example.org/", "/\\example.org", "//example.org", "\n//example.org"].into_iter().enumerate()
    {
        let browser = server.browser_at(machine(100 + n as u32));
        browser.get("/login").await;
        let page = browser.post_form("/login", &[("login", "buh"), ("password", "buh-password"), ("next", next)]).await;
        assert_eq!(page.location(), Some("/"), "{next:?}");
    }
}

/// A password change, an admin's reset and a change of access end the member's other sessions;
/// the one changing their own password stays logged in; an old cookie never comes back.
#[tokio::test]
async fn sessions_end_when_credentials_or_access_change() {
    let t = TestContext::new().await;
    let admin = PanelClient::staff(&t, "admin", Role::Admin).await;
    let buh = t.staff("buh", Role::Accountant).await;
    let rows = |id: i64| {
        let conn = t.ctx.db.conn();
        async move { web_session::Entity::find().filter(web_session::Column::StaffId.eq(id)).all(conn).await.unwrap() }
    };

    let laptop = admin.browser_at(machine(1));
    let phone = admin.browser_at(machine(2));
    laptop.login("buh", "buh-password").await;
    phone.login("buh", "buh-password").await;
    assert_eq!(rows(buh.id).await.len(), 2);
    laptop.get("/account").await.assert_ok();
    let page = laptop
        .post_form(
            "/account/password",
            &[("current", "buh-password"), ("new", "second-pass"), ("repeat", "second-pass")],
        )
        .await;
    assert_eq!(page.location(), Some("/account"));
    laptop.get("/account").await.assert_ok().assert_contains("Пароль изменён.");
    assert_eq!(phone.get("/").await.status, StatusCode::SEE_OTHER, "the other session ended");
    assert_eq!(rows(buh.id).await.len(), 1, "only the laptop's new session is left");

    admin.get(&format!("/staff/{}", buh.id)).await;
    let reset = [("password", "third-pass"), ("repeat", "third-pass")];
    assert_eq!(admin.post_form(&format!("/staff/{}/password", buh.id), &reset).await.status, StatusCode::SEE_OTHER);
    assert_eq!(laptop.get("/").await.status, StatusCode::SEE_OTHER, "an admin's reset ends it too");
    assert!(rows(buh.id).await.is_empty());
    admin.get("/staff").await.assert_ok();

    let office = admin.browser_at(machine(3));
    office.login("buh", "third-pass").await;
    let old_cookie = office.cookie().expect("a session");
    let old_row = rows(buh.id).await.pop().expect("the office's session");
    admin.get(&format!("/staff/{}", buh.id)).await;
    admin.post_form(&format!("/staff/{}/active", buh.id), &[("active", "false")]).await;
    assert!(rows(buh.id).await.is_empty(), "a deactivated member's sessions are deleted");
    admin.post_form(&format!("/staff/{}/active", buh.id), &[("active", "true")]).await;
    assert!(account(&t, "buh").await.active);
    assert_eq!(office.get_with_cookie("/", &old_cookie).await.status, StatusCode::SEE_OTHER, "no revival");
    // Even if a request in flight during the change wrote the row back, the session stays over.
    let written_back = web_session::ActiveModel {
        id: Set(old_row.id),
        entries: Set(old_row.entries),
        expires_at: Set(old_row.expires_at),
        staff_id: Set(old_row.staff_id),
    };
    web_session::Entity::insert(written_back).exec(t.ctx.db.conn()).await.unwrap();
    assert_eq!(office.get_with_cookie("/", &old_cookie).await.status, StatusCode::SEE_OTHER, "no revival");
    office.login("buh", "third-pass").await;
    office.get("/").await.assert_ok();
}

/// An admin who sets their own password in the staff form stays logged in, as on /account.
#[tokio::test]
async fn an_admin_resetting_their_own_password_stays_logged_in() {
    let t = TestContext::new().await;
    let admin = PanelClient::staff(&t, "admin", Role::Admin).await;
    let me = account(&t, "admin").await;
    admin.get(&format!("/staff/{}", me.id)).await;
    let reset = [("password", "fresh-pass-1"), ("repeat", "fresh-pass-1")];
    let page = admin.post_form(&format!("/staff/{}/password", me.id), &reset).await;
    admin.get(page.location().expect("back to the account")).await.assert_ok().assert_contains("Пароль задан");
}

fn assert_secured(page: &Page, what: &str) {
    let value = |name: header::HeaderName| {
        page.headers.get(&name).and_then(|v| v.to_str().ok()).unwrap_or_else(|| panic!("{what}: no {name}"))
    };
    assert!(value(header::CONTENT_SECURITY_POLICY).contains("frame-ancestors 'none'"), "{what}");
    assert_eq!(value(header::X_FRAME_OPTIONS), "DENY", "{what}");
    assert_eq!(value(header::X_CONTENT_TYPE_OPTIONS), "nosniff", "{what}");
    assert_eq!(value(header::REFERRER_POLICY), "same-origin", "{what}");
    // Photos are cached privately on purpose: they never change.
    let caching = value(header::CACHE_CONTROL);
    assert!(caching == "no-store" || (what == "photo" && caching.starts_with("private")), "{what}: {caching}");
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let t = TestContext::new().await;
    let photo = service::meters::photos::store(&t.ctx, service::testing::photos::jpeg(640, 480)).await.unwrap();
    let admin = PanelClient::staff(&t, "admin", Role::Admin).await;
    let token =
        service::access::staff::issue_api_token(&t.ctx, account(&t, "admin").await.id, Actor::System).await.unwrap();
    let anonymous = PanelClient::new(&t.ctx);

    for (what, page) in [
        ("login page", anonymous.get("/login").await),
        ("redirect to login", anonymous.get("/plots").await),
        ("dashboard", admin.get("/").await),
        ("mobile form", admin.get("/m").await),
        ("token page", admin.post_form(&format!("/staff/{}/token", account(&t, "admin").await.id), &[]).await),
        ("unknown page", admin.get("/nowhere").await),
        ("health check", anonymous.get("/healthz").await),
        ("API", anonymous.api_get("/api/plots", &token).await),
        ("API without a login", anonymous.get("/api/plots").await),
        ("API docs", anonymous.get("/api/docs").await),
        ("photo", admin.get(&format!("/photos/{}", photo.id)).await),
        ("photo missing", admin.get("/photos/999999").await),
    ] {
        assert_secured(&page, what);
    }
    let token_page = admin.post_form(&format!("/staff/{}/token", account(&t, "admin").await.id), &[]).await;
    token_page.assert_ok();
    assert_eq!(token_page.headers[header::CACHE_CONTROL], "no-store", "a secret is never cached");
    let pages = admin.get("/").await;
    let policy = pages.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(policy.starts_with("default-src 'none'") && !policy.contains("script-src"), "{policy}");
    let docs = anonymous.get("/api/docs").await;
    assert!(docs.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap().contains("script-src 'unsafe-inline'"));
}

#[tokio::test]
async fn crafted_requests_are_refused_in_russian() {
    let t = TestContext::new().await;
    let admin = PanelClient::staff(&t, "admin", Role::Admin).await;
    let anonymous = PanelClient::new(&t.ctx);
    anonymous.get("/login").await;
    for (what, page, status) in [
        (
            "a form without its fields",
            anonymous.post_form("/login", &[("login", "admin")]).await,
            StatusCode::BAD_REQUEST,
        ),
        ("an id that is not a number", admin.get("/plots/abc").await, StatusCode::BAD_REQUEST),
        ("a query that does not parse", admin.get("/plots?page=many").await, StatusCode::BAD_REQUEST),
        ("an unknown page", admin.get("/nowhere").await, StatusCode::NOT_FOUND),
        ("a form posted to a page", admin.post_form("/plots/new", &[]).await, StatusCode::METHOD_NOT_ALLOWED),
    ] {
        assert_eq!(page.status, status, "{what}: {}", page.body);
        assert!(page.body.contains("<html lang=\"ru\">") && page.body.contains("На главную"), "{what}: {}", page.body);
    }
    anonymous.get("/login").await;
    let huge = "x".repeat(64 * 1024);
    let page = anonymous.post_form("/login", &[("login", "admin"), ("password", &huge)]).await;
    assert_eq!(page.status, StatusCode::PAYLOAD_TOO_LARGE, "an anonymous form is small");
    page.assert_contains("Без входа в панель можно отправить не больше 16 КБ.");

    // An API call is as small without a real token: a made-up one is no one's.
    let token =
        service::access::staff::issue_api_token(&t.ctx, account(&t, "admin").await.id, Actor::System).await.unwrap();
    let body = || format!(r#"{{"meter_id": 1, "values": [1], "note": "{huge}"}}"#);
    let json = Some("application/json");
    for (who, token) in [("a made-up token", "made-up"), ("an empty token", "")] {
        let page = anonymous.api_send(Method::POST, "/api/readings", token, json, body()).await;
        assert_eq!(page.status, StatusCode::PAYLOAD_TOO_LARGE, "{who}");
    }
    let page = anonymous.api_send(Method::POST, "/api/readings", &token, json, body()).await;
    assert_ne!(page.status, StatusCode::PAYLOAD_TOO_LARGE, "a real token's call is read: {}", page.body);
}
