//! When a reading was taken, as the device that took it says: a phone that queued the reading
//! without a signal and sent it later. Such a time is believed only within bounds: a phone's
//! clock may run a little fast, and a week is longer than any round without a signal; an older
//! reading is entered by an admin, who can give its date.

use chrono::{DateTime, Duration, Utc};

/// The oldest reading a device may date, in days before now.
pub const MAX_AGE_DAYS: i64 = 7;
/// How far ahead of the server a device's clock may run, in minutes.
pub const MAX_AHEAD_MINUTES: i64 = 5;
/// The longest time text read: an RFC 3339 time with nanoseconds and an offset is 35 characters.
const MAX_LEN: usize = 40;

/// Why a device's time of a reading was not accepted. Messages go straight to the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TakenAtError {
    #[error("Время снятия показания «{0}» не читается: нужны дата и время в формате RFC 3339.")]
    Unreadable(String),
    #[error(
        "Время снятия показания по часам телефона позже, чем сейчас. Проверьте дату и время на телефоне \
         и введите показание заново."
    )]
    InFuture,
    #[error(
        "Показание снято {days} дн. назад, а с телефона принимаются показания не старше {MAX_AGE_DAYS} дней. \
         Передайте его администратору: он внесёт его в панели с датой снятия."
    )]
    TooOld { days: i64 },
}

/// `taken_at` if it lies between [`MAX_AGE_DAYS`] before `now` and [`MAX_AHEAD_MINUTES`] after.
pub fn check_taken_at(taken_at: DateTime<Utc>, now: DateTime<Utc>) -> Result<DateTime<Utc>, TakenAtError> {
    if taken_at > now + Duration::minutes(MAX_AHEAD_MINUTES) {
        return Err(TakenAtError::InFuture);
    }
    let age = now - taken_at;
    if age > Duration::days(MAX_AGE_DAYS) {
        return Err(TakenAtError::TooOld { days: age.num_days() });
    }
    Ok(taken_at)
}

/// Parses an RFC 3339 time (`2026-11-30T18:54:22.123Z`, what a browser's `toISOString` gives)
/// and checks it with [`check_taken_at`].
pub fn parse_taken_at(input: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, TakenAtError> {
    let input = input.trim();
    let unreadable = || TakenAtError::Unreadable(input.chars().take(MAX_LEN).collect());
    if input.len() > MAX_LEN {
        return Err(unreadable());
    }
    let taken_at = DateTime::parse_from_rfc3339(input).map_err(|_| unreadable())?.to_utc();
    check_taken_at(taken_at, now)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).unwrap()
    }

    #[test]
    fn a_time_within_the_week_is_taken_as_given() {
        for input in ["2026-11-30T11:59:59.123Z", "2026-11-30T15:04:00+03:00", "2026-11-23T12:00:00Z"] {
            let expected = DateTime::parse_from_rfc3339(input).unwrap().to_utc();
            assert_eq!(parse_taken_at(input, now()), Ok(expected), "{input}");
        }
        // A phone's clock a little fast.
        assert!(parse_taken_at("2026-11-30T12:04:59Z", now()).is_ok());
    }

    #[test]
    fn a_time_too_old_or_ahead_is_refused() {
        assert_eq!(parse_taken_at("2026-11-23T11:59:59Z", now()), Err(TakenAtError::TooOld { days: 7 }));
        assert_eq!(parse_taken_at("2026-11-01T12:00:00Z", now()), Err(TakenAtError::TooOld { days: 29 }));
        assert_eq!(parse_taken_at("2026-11-30T12:05:01Z", now()), Err(TakenAtError::InFuture));
        assert_eq!(parse_taken_at("2099-01-01T00:00:00Z", now()), Err(TakenAtError::InFuture));
        let message = TakenAtError::TooOld { days: 9 }.to_string();
        assert!(message.starts_with("Показание снято 9 дн. назад"), "{message}");
    }

    #[test]
    fn what_is_not_a_time_is_named_and_cut() {
        for input in ["", "вчера", "30.11.2026 12:00", "2026-11-30", "2026-11-30T12:00:00"] {
            assert!(matches!(parse_taken_at(input, now()), Err(TakenAtError::Unreadable(_))), "{input}");
        }
        let Err(TakenAtError::Unreadable(shown)) = parse_taken_at(&"1".repeat(2_000_000), now()) else {
            panic!("a long text is not a time");
        };
        assert_eq!(shown.len(), MAX_LEN);
    }
}
