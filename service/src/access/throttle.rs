//! Budgets of attempts kept in this process's memory, refused before any work: logins per client
//! address, so that a flood from one address is refused before any password is hashed (argon2
//! costs tens of milliseconds and 19 MiB per attempt) and before any account is touched; and per
//! Telegram user, the link codes they try and the photos members send.
//!
//! What a flood spends is this process's CPU, memory and disk. Guessing one account's password
//! from many addresses, or through several instances, is bounded by the account's lockout in the
//! database ([`super::login::authenticate`]).

use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, Duration, Utc};

/// Login attempts an address may make in a row; after that, one more per [`INTERVAL`]. A success
/// gives its attempt back, so only failures use the budget up.
pub const BURST: i32 = 5;
pub const INTERVAL: Duration = Duration::minutes(1);
/// Keys remembered at most (a few dozen bytes each); idle ones are forgotten first.
const MAX_KEYS: usize = 50_000;

/// `burst` attempts in a row per key, then one more per `interval`.
#[derive(Debug)]
pub struct Throttle<K> {
    burst: i32,
    interval: Duration,
    /// Per key, when its budget is whole again (the "theoretical arrival time" of GCRA): each
    /// attempt moves it `interval` later, and a key is refused while it is more than `burst - 1`
    /// intervals ahead.
    whole_at: Mutex<HashMap<K, DateTime<Utc>>>,
}

impl<K: Hash + Eq + Copy + std::fmt::Debug> Throttle<K> {
    pub fn new(burst: i32, interval: Duration) -> Throttle<K> {
        Throttle { burst, interval, whole_at: Mutex::default() }
    }

    /// Takes one attempt from the budget of `key`, or says how long until one is free.
    pub fn take(&self, key: K, now: DateTime<Utc>) -> Result<(), Duration> {
        let mut whole_at = self.whole_at.lock().unwrap_or_else(PoisonError::into_inner);
        let from = whole_at.get(&key).copied().filter(|at| *at > now).unwrap_or(now);
        let ahead = from - now;
        let allowed = self.interval * (self.burst - 1);
        if ahead > allowed {
            return Err(ahead - allowed);
        }
        if !whole_at.contains_key(&key) && whole_at.len() >= MAX_KEYS {
            whole_at.retain(|_, at| *at > now);
            if whole_at.len() >= MAX_KEYS {
                // Tens of thousands of keys at once: let this one through uncounted rather than
                // refuse everyone; what each attempt costs stays bounded elsewhere (the accounts'
                // lockout, one heavy job per core).
                tracing::warn!(?key, "throttle full: {} keys are being counted", whole_at.len());
                return Ok(());
            }
        }
        whole_at.insert(key, from + self.interval);
        Ok(())
    }

    /// Gives back the attempt `key` took (it succeeded).
    pub fn give_back(&self, key: K, now: DateTime<Utc>) {
        let mut whole_at = self.whole_at.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(at) = whole_at.get_mut(&key) {
            *at -= self.interval;
            if *at <= now {
                whole_at.remove(&key);
            }
        }
    }
}

/// A wait as people are told it: in whole minutes, rounded up («через 1 мин.», never «через 0»).
pub fn minutes_up(wait: Duration) -> i64 {
    let minute = Duration::minutes(1).num_milliseconds();
    ((wait.num_milliseconds() + minute - 1) / minute).max(1)
}

/// Login attempts per client address ([`BURST`], then one per [`INTERVAL`]).
#[derive(Debug)]
pub struct AddressThrottle(Throttle<IpAddr>);

impl Default for AddressThrottle {
    fn default() -> Self {
        AddressThrottle(Throttle::new(BURST, INTERVAL))
    }
}

impl AddressThrottle {
    /// Takes one attempt from the budget of `address`, or says how long until one is free.
    pub fn take(&self, address: IpAddr, now: DateTime<Utc>) -> Result<(), Duration> {
        self.0.take(key(address), now)
    }

    /// Gives back the attempt `address` took (the login succeeded).
    pub fn give_back(&self, address: IpAddr, now: DateTime<Utc>) {
        self.0.give_back(key(address), now)
    }
}

/// What a Telegram user may try: link codes (a member mistypes one now and then; a guesser tries
/// thousands), and photos in the member's flows (a reading's, a request's: a few a month; each
/// is decoded on a shared core and kept on disk). Controllers' photos on their rounds are not
/// counted: staff, a whole street a day.
#[derive(Debug)]
pub struct TelegramBudgets {
    pub link_codes: Throttle<i64>,
    pub member_photos: Throttle<i64>,
}

impl Default for TelegramBudgets {
    fn default() -> Self {
        TelegramBudgets {
            link_codes: Throttle::new(5, Duration::minutes(10)),
            member_photos: Throttle::new(10, Duration::minutes(30)),
        }
    }
}

/// What one attacker cannot easily multiply: an IPv4 address, or the /64 network of an IPv6
/// address (one host usually has a whole /64 to choose from).
fn key(address: IpAddr) -> IpAddr {
    match address.to_canonical() {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !(u128::from(u64::MAX));
            IpAddr::V6(Ipv6Addr::from(bits))
        }
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
    }

    #[test]
    fn a_burst_then_one_per_interval_and_successes_are_free() {
        let throttle = AddressThrottle::default();
        let address: IpAddr = "203.0.113.7".parse().unwrap();
        for _ in 0..BURST {
            assert_eq!(throttle.take(address, at(0)), Ok(()));
        }
        assert_eq!(throttle.take(address, at(0)), Err(INTERVAL));
        assert_eq!(throttle.take(address, at(20)), Err(INTERVAL - Duration::seconds(20)), "refusals cost nothing");
        assert_eq!(throttle.take("203.0.113.8".parse().unwrap(), at(20)), Ok(()), "another address");
        assert_eq!(throttle.take(address, at(60)), Ok(()));
        assert!(throttle.take(address, at(60)).is_err());
        throttle.give_back(address, at(60));
        assert_eq!(throttle.take(address, at(60)), Ok(()), "a success gave its attempt back");
    }

    #[test]
    fn waits_are_told_in_whole_minutes_rounded_up() {
        let told = |ms: i64| minutes_up(Duration::milliseconds(ms));
        assert_eq!([told(400), told(60_000), told(60_001), told(599_999), told(0), told(-5_000)], [1, 1, 2, 10, 1, 1]);
    }

    #[test]
    fn an_ipv6_network_is_one_address() {
        let throttle = AddressThrottle::default();
        for host in 1..=BURST {
            assert_eq!(throttle.take(format!("2001:db8:1:2::{host}").parse().unwrap(), at(0)), Ok(()));
        }
        assert!(throttle.take("2001:db8:1:2:ffff::1".parse().unwrap(), at(0)).is_err());
        assert_eq!(throttle.take("2001:db8:1:3::1".parse().unwrap(), at(0)), Ok(()));
        // An IPv4 client seen through an IPv6 socket is its IPv4 address.
        let v4: IpAddr = "198.51.100.1".parse().unwrap();
        for _ in 0..BURST {
            throttle.take(v4, at(0)).unwrap();
        }
        assert!(throttle.take("::ffff:198.51.100.1".parse().unwrap(), at(0)).is_err());
    }
}
