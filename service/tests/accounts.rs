//! Staff logins and Telegram linking on a real SQLite file.

use std::net::{IpAddr, Ipv4Addr};

use chrono::Duration;
use domain::{Role, Service, TariffPlan};
use service::access::login::{self, FREE_ATTEMPTS, LoginError};
use service::access::staff::{self, AccountError, NewStaff};
use service::access::telegram::{self, LinkError, LinkTarget};
use service::audit::Actor;
use service::testing::{TestContext, new_consumer};

async fn controller(t: &TestContext) -> entities::staff::Model {
    let new = NewStaff {
        login: "Kontroler".into(),
        full_name: "Паниковский".into(),
        role: Role::Controller,
        password: "correct horse".into(),
    };
    staff::create(&t.ctx, new, Actor::System).await.unwrap()
}

/// A client address of its own for the `n`-th attempt, so that only the account's lockout is
/// at work.
fn address(n: u32) -> Option<IpAddr> {
    Some(IpAddr::V4(Ipv4Addr::from(0x0A00_0000 + n)))
}

#[tokio::test]
async fn login_checks_the_password_and_locks_after_failures() {
    let t = TestContext::new().await;
    let account = controller(&t).await;
    assert_eq!(account.login, "kontroler");
    assert_ne!(account.password_hash, "correct horse");
    assert!(account.password_hash.starts_with("$argon2id$"));

    assert_eq!(login::authenticate(&t.ctx, "KONTROLER", "correct horse", address(0)).await.unwrap().id, account.id);
    assert!(matches!(login::authenticate(&t.ctx, "nobody", "x", address(0)).await, Err(LoginError::Invalid)));
    for n in 1..=FREE_ATTEMPTS as u32 {
        let refused = login::authenticate(&t.ctx, "kontroler", "wrong", address(n)).await;
        assert!(matches!(refused, Err(LoginError::Invalid)));
    }
    // Locked now: even the right password gets the same answer, and is not checked.
    let refused = login::authenticate(&t.ctx, "kontroler", "correct horse", address(100)).await;
    assert!(matches!(refused, Err(LoginError::Invalid)));
    let locked = staff::get(t.ctx.db.conn(), account.id).await.unwrap().unwrap();
    assert_eq!(locked.failed_attempts, FREE_ATTEMPTS);
    assert_eq!(locked.locked_until, Some(t.ctx.now() + Duration::minutes(1)));
    t.clock.advance(Duration::seconds(61));
    let back = login::authenticate(&t.ctx, "kontroler", "correct horse", address(101)).await.unwrap();
    // Success resets the count.
    assert_eq!((back.failed_attempts, back.locked_until), (0, None));
    let stored = staff::get(t.ctx.db.conn(), account.id).await.unwrap().unwrap();
    assert_eq!((stored.failed_attempts, stored.locked_until), (0, None));
}

#[tokio::test]
async fn an_admin_reset_lifts_the_lock() {
    let t = TestContext::new().await;
    let account = controller(&t).await;
    for n in 1..=FREE_ATTEMPTS as u32 {
        login::authenticate(&t.ctx, "kontroler", "wrong", address(n)).await.unwrap_err();
    }
    staff::reset_password(&t.ctx, account.id, "battery staple", account.id).await.unwrap();
    assert!(login::authenticate(&t.ctx, "kontroler", "battery staple", address(0)).await.is_ok());
}

#[tokio::test]
async fn one_address_is_stopped_before_hashing_and_before_the_account_locks() {
    let t = TestContext::new().await;
    let account = controller(&t).await;
    let from = address(1);
    for _ in 0..service::access::throttle::BURST {
        assert!(matches!(login::authenticate(&t.ctx, "kontroler", "wrong", from).await, Err(LoginError::Invalid)));
    }
    for password in ["wrong", "correct horse"] {
        let refused = login::authenticate(&t.ctx, "kontroler", password, from).await;
        assert!(matches!(refused, Err(LoginError::TooManyAttempts { .. })), "{refused:?}");
    }
    let stored = staff::get(t.ctx.db.conn(), account.id).await.unwrap().unwrap();
    assert_eq!(stored.failed_attempts, service::access::throttle::BURST, "refused attempts are not counted");
    assert_eq!(stored.locked_until, None, "the address was stopped before the account locked");
    // The account itself is open to its owner elsewhere, and to this address a minute later.
    assert!(login::authenticate(&t.ctx, "kontroler", "correct horse", address(2)).await.is_ok());
    t.clock.advance(service::access::throttle::INTERVAL);
    assert!(login::authenticate(&t.ctx, "kontroler", "correct horse", from).await.is_ok());
}

#[tokio::test]
async fn passwords_are_bounded_before_hashing() {
    let t = TestContext::new().await;
    let account = controller(&t).await;
    let long = "x".repeat(staff::MAX_PASSWORD_LEN + 1);
    assert!(matches!(
        staff::reset_password(&t.ctx, account.id, &long, account.id).await,
        Err(AccountError::LongPassword)
    ));
    assert!(matches!(login::authenticate(&t.ctx, "kontroler", &long, address(1)).await, Err(LoginError::Invalid)));
    let stored = staff::get(t.ctx.db.conn(), account.id).await.unwrap().unwrap();
    assert_eq!(stored.failed_attempts, 0, "refused before the account was looked at");
}

#[tokio::test]
async fn bootstrap_admin_is_created_once() {
    let t = TestContext::new().await;
    let password = staff::ensure_bootstrap_admin(&t.ctx, None).await.unwrap().expect("a generated password");
    assert!(password.len() >= 12);
    assert!(login::authenticate(&t.ctx, "admin", &password, None).await.is_ok());
    assert_eq!(staff::ensure_bootstrap_admin(&t.ctx, None).await.unwrap(), None);
}

#[tokio::test]
async fn link_codes_are_single_use_and_expire() {
    let t = TestContext::new().await;
    let s =
        t.sign("7", new_consumer("Козлевич А. К.", None), "E-7", Service::Electricity, TariffPlan::Single, &[0]).await;
    let code = telegram::issue_code(&t.ctx, LinkTarget::Consumer(s.consumer_id), None).await.unwrap();

    let who = telegram::redeem(&t.ctx, &code.code.to_lowercase(), 1001).await.unwrap();
    assert_eq!(who.consumer.unwrap().id, s.consumer_id);
    assert!(matches!(telegram::redeem(&t.ctx, &code.code, 1002).await, Err(LinkError::UsedCode)));
    assert!(matches!(telegram::redeem(&t.ctx, "NOSUCHCD", 1002).await, Err(LinkError::UnknownCode)));

    let late = telegram::issue_code(&t.ctx, LinkTarget::Consumer(s.consumer_id), None).await.unwrap();
    t.clock.advance(t.ctx.settings.link_code_ttl + Duration::seconds(1));
    assert!(matches!(telegram::redeem(&t.ctx, &late.code, 1003).await, Err(LinkError::ExpiredCode)));
    assert!(!telegram::identify(t.ctx.db.conn(), 1003).await.unwrap().is_known());
}

#[tokio::test]
async fn staff_link_by_code() {
    let t = TestContext::new().await;
    let account = controller(&t).await;
    let code = telegram::issue_code(&t.ctx, LinkTarget::Staff(account.id), Some(account.id)).await.unwrap();
    let who = telegram::redeem(&t.ctx, &code.code, 77).await.unwrap();
    assert_eq!(who.staff.unwrap().role, Role::Controller);
    assert!(who.consumer.is_none());
}

#[tokio::test]
async fn contact_links_only_the_senders_own_number() {
    let t = TestContext::new().await;
    let s = t
        .sign(
            "3",
            new_consumer("Балаганов Ш.", Some("+7 978 123-45-67")),
            "W-3",
            Service::Water,
            TariffPlan::Single,
            &[0],
        )
        .await;
    assert!(matches!(
        telegram::link_by_contact(&t.ctx, 500, Some(501), "79781234567").await,
        Err(LinkError::ForeignContact)
    ));
    assert!(matches!(
        telegram::link_by_contact(&t.ctx, 500, None, "79781234567").await,
        Err(LinkError::ForeignContact)
    ));
    assert!(matches!(
        telegram::link_by_contact(&t.ctx, 500, Some(500), "79780000000").await,
        Err(LinkError::PhoneNotFound(_))
    ));
    let who = telegram::link_by_contact(&t.ctx, 500, Some(500), "79781234567").await.unwrap();
    assert_eq!(who.consumer.unwrap().id, s.consumer_id);
}

#[tokio::test]
async fn a_delivery_is_claimed_by_one_and_sent_once() {
    use service::deliveries;
    let t = TestContext::new().await;
    let period = domain::Period::parse("2026-02").unwrap();
    let first = deliveries::claim(&t.ctx, "monthly_report", period, "-100").await.unwrap().expect("claimed");
    assert_eq!(first.attempts, 1);
    // A second instance finds it claimed.
    assert!(deliveries::claim(&t.ctx, "monthly_report", period, "-100").await.unwrap().is_none());
    // The first instance fails; the retry waits.
    deliveries::mark_failed(&t.ctx, first, "network down").await.unwrap();
    assert!(deliveries::claim(&t.ctx, "monthly_report", period, "-100").await.unwrap().is_none());
    t.clock.advance(Duration::minutes(2));
    let second = deliveries::claim(&t.ctx, "monthly_report", period, "-100").await.unwrap().expect("retry");
    assert_eq!(second.attempts, 2);
    deliveries::mark_sent(&t.ctx, second).await.unwrap();
    assert!(deliveries::is_sent(&t.ctx, "monthly_report", period, "-100").await.unwrap());
    t.clock.advance(Duration::days(1));
    assert!(deliveries::claim(&t.ctx, "monthly_report", period, "-100").await.unwrap().is_none(), "sent once");
    // Another target or period is independent.
    assert!(deliveries::claim(&t.ctx, "monthly_report", period, "-200").await.unwrap().is_some());
}
