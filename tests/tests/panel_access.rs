//! Who may use what: every page, form and API operation, called as anonymous, controller,
//! accountant and admin, against the access written in the route tables (`panel::pages()`,
//! `panel::api::OPERATIONS`) next to the routes themselves.

use std::collections::BTreeSet;

use domain::{Role, Service, TariffPlan};
use poem::http::{Method, StatusCode};
use service::readings::Submission;
use service::testing::photos::jpeg;
use service::testing::{TestContext, new_consumer, office_reading};
use tests::{Page, PanelClient};

/// Ids of one record of each kind, to put into `:id` and `{id}`.
struct Ids {
    plot: i64,
    consumer: i64,
    contract: i64,
    meter: i64,
    reading: i64,
    photo: i64,
    /// A staff member the admin's forms act on (not the admin, who must stay logged in).
    staff: i64,
}

async fn fixture(t: &TestContext) -> Ids {
    t.standard_tariffs().await;
    let signed =
        t.sign("12", new_consumer("Иванова А. П.", None), "W-12", Service::Water, TariffPlan::Single, &[0]).await;
    let photo = service::meters::photos::store(&t.ctx, jpeg(400, 300)).await.unwrap();
    let submission =
        Submission { photo_id: Some(photo.id), ..office_reading(signed.meter_id, vec![domain::meter_value!(5_000)]) };
    let reading = service::readings::submit(&t.ctx, submission).await.unwrap().reading;
    let staff = t.staff("zhertva", Role::Controller).await;
    // So that the payment QR routes draw a code.
    service::testing::bank_details(&t.ctx).await;
    Ids {
        plot: signed.plot_id,
        consumer: signed.consumer_id,
        contract: signed.contract_id,
        meter: signed.meter_id,
        reading: reading.id,
        photo: photo.id,
        staff: staff.id,
    }
}

/// `/plots/:id/edit`, `/api/plots/{id}` or `/m/plots/:id` with a real id.
fn concrete(path: &str, ids: &Ids) -> String {
    let under = path.strip_prefix("/api").or_else(|| path.strip_prefix("/m")).unwrap_or(path);
    let resource = under.split('/').nth(1).unwrap_or_default();
    let id = match resource {
        "plots" => ids.plot,
        "consumers" => ids.consumer,
        "contracts" => ids.contract,
        "meters" => ids.meter,
        "readings" => ids.reading,
        "photos" => ids.photo,
        "staff" => ids.staff,
        _ => return path.to_owned(),
    };
    path.replace(":id", &id.to_string())
        .replace("{id}", &id.to_string())
        .replace(":contract", &ids.contract.to_string())
}

/// Checks one call's outcome against whether `role` should get in.
fn check(page: &Page, method: &Method, path: &str, role: Option<Role>, allowed: bool) {
    let who = role.map_or("anonymous", Role::code);
    let api = path.starts_with("/api/") && !path.starts_with("/api/docs") && path != "/api/openapi.json";
    let to_login =
        page.status == StatusCode::SEE_OTHER && page.location().is_some_and(|l| l.starts_with("/login?next="));
    let refused = page.status == StatusCode::FORBIDDEN || page.status == StatusCode::UNAUTHORIZED || to_login;
    if allowed {
        assert!(!refused, "{method} {path} as {who}: refused with {} {:?}", page.status, page.location());
        assert!(page.status.as_u16() < 500, "{method} {path} as {who}: {}\n{}", page.status, page.body);
        assert_ne!(page.status, StatusCode::NOT_FOUND, "{method} {path} as {who}: no such route or record");
    } else if role.is_none() && api {
        assert_eq!(page.status, StatusCode::UNAUTHORIZED, "{method} {path} as {who}");
    } else if role.is_none() {
        assert!(to_login, "{method} {path} as {who}: expected a redirect to /login, got {}", page.status);
    } else {
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{method} {path} as {who}: {}", page.body);
    }
}

async fn client_for(t: &TestContext, role: Option<Role>) -> PanelClient {
    match role {
        Some(role) => PanelClient::staff(t, &format!("user-{}", role.code()), role).await,
        None => {
            let client = PanelClient::new(&t.ctx);
            // A browser that has seen the login form: its forms carry a valid CSRF token, so what
            // answers is the route's own access check.
            client.get("/login").await.assert_ok();
            client
        }
    }
}

#[tokio::test]
async fn every_page_and_form_admits_exactly_its_roles() {
    let t = TestContext::new().await;
    let ids = fixture(&t).await;
    let mut routes = panel::pages();
    // Logging out ends the session the rest of the calls use, so it goes last.
    routes.sort_by_key(|r| r.path == "/logout");
    for role in [None, Some(Role::Controller), Some(Role::Accountant), Some(Role::Admin)] {
        let client = client_for(&t, role).await;
        for route in &routes {
            let path = concrete(route.path, &ids);
            let page = match route.method {
                Method::GET => client.get(&path).await,
                _ => client.post_form(&path, &[]).await,
            };
            check(&page, &route.method, route.path, role, route.access.allows(role));
        }
    }
}

/// The route table is the whole panel: `panel::app` mounts `pages()` and the API and nothing
/// else. Any other `.at(`/`.nest(` in the panel's sources is a route the access test above would
/// not call, so it fails here.
#[test]
fn no_route_is_mounted_outside_the_tables() {
    let allowed = [("lib.rs", "route.at(path, methods)"), ("lib.rs", ".nest(\"/api\", api::service())")];
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../panel/src");
    let mut found = Vec::new();
    let mut dirs = vec![src.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let name = path.strip_prefix(&src).unwrap().to_string_lossy().into_owned();
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            for line in std::fs::read_to_string(&path).unwrap().lines() {
                let mounts = [".at(", ".nest(", ".nest_no_strip("].iter().any(|m| line.contains(m));
                if mounts && !allowed.iter().any(|(file, call)| name == *file && line.contains(call)) {
                    found.push(format!("{name}: {}", line.trim()));
                }
            }
        }
    }
    assert!(found.is_empty(), "routes mounted outside panel::pages() and api::OPERATIONS: {found:#?}");
    // And the table has the mobile form and the photos.
    let paths: BTreeSet<&str> = panel::pages().iter().map(|r| r.path).collect();
    for path in ["/m", "/m/unread", "/m/plots/:id", "/m/meters/:id/reading", "/photos/:id", "/photos/:id/thumb"] {
        assert!(paths.contains(path), "{path} missing from panel::pages()");
    }
}

#[tokio::test]
async fn every_api_operation_admits_exactly_its_roles() {
    let t = TestContext::new().await;
    let ids = fixture(&t).await;
    for role in [None, Some(Role::Controller), Some(Role::Accountant), Some(Role::Admin)] {
        let client = match role {
            Some(_) => client_for(&t, role).await,
            // An API client without a login has no session at all.
            None => PanelClient::new(&t.ctx),
        };
        for (method, path, access) in panel::api::OPERATIONS {
            let concrete = concrete(path, &ids);
            let page = match *method {
                Method::GET => client.get(&concrete).await,
                _ => client.post_json(&concrete, &serde_json::json!({})).await,
            };
            check(&page, method, path, role, access.allows(role));
        }
    }
}

#[tokio::test]
async fn the_api_table_lists_every_documented_operation() {
    let t = TestContext::new().await;
    let spec = PanelClient::new(&t.ctx).get("/api/openapi.json").await.json();
    let documented: BTreeSet<(String, String)> = spec["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, methods)| {
            methods.as_object().expect("methods").keys().map(move |m| (m.to_uppercase(), format!("/api{path}")))
        })
        .collect();
    let listed: BTreeSet<(String, String)> =
        panel::api::OPERATIONS.iter().map(|(m, p, _)| (m.to_string(), (*p).to_owned())).collect();
    assert_eq!(documented, listed);
    let schemes = spec["components"]["securitySchemes"].as_object().expect("security schemes");
    assert_eq!(schemes["token"]["scheme"], "bearer");
}

#[tokio::test]
async fn deactivated_staff_lose_pages_and_api_tokens() {
    let t = TestContext::new().await;
    let buh = t.staff("buh", Role::Accountant).await;
    let token = service::access::staff::issue_api_token(&t.ctx, buh.id, service::audit::Actor::System).await.unwrap();
    let client = PanelClient::new(&t.ctx);
    client.login("buh", "buh-password").await;
    client.api_get("/api/plots", &token).await.assert_ok();

    service::access::staff::set_active(&t.ctx, buh.id, false, service::audit::Actor::System).await.unwrap();
    assert_eq!(client.get("/").await.location(), Some("/login?next=%2F"));
    assert_eq!(client.api_get("/api/plots", &token).await.status, StatusCode::UNAUTHORIZED);
}
