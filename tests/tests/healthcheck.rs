//! `chernomorsk healthcheck`, the container's health check: it asks the running panel's
//! `/healthz` (on loopback when the panel listens on every address) and fails once none answers.

use std::net::{Ipv4Addr, SocketAddr};

use tests::TestApp;

#[tokio::test]
async fn the_healthcheck_passes_while_the_panel_answers_and_fails_after_it_stops() {
    let app = TestApp::spawn().await;
    let addr = app.app.panel_addr;
    bot::cli::healthcheck(addr).await.expect("the running panel is healthy");
    // In the container the panel listens on 0.0.0.0; the check asks 127.0.0.1 at that port.
    let every_interface = SocketAddr::from((Ipv4Addr::UNSPECIFIED, addr.port()));
    bot::cli::healthcheck(every_interface).await.expect("asked on loopback");

    app.app.stop().await;
    let error = bot::cli::healthcheck(addr).await.expect_err("nothing answers after the stop");
    assert!(error.to_string().contains(&format!("GET http://{addr}/healthz")), "{error}");
}
