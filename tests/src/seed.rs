//! Data the end-to-end tests put in before they start, beyond `service::testing`'s.

use chrono::NaiveDate;
use domain::{MeterValue, Service, TariffPlan};
use service::readings::Submission;
use service::register::sign_up::SignedUp;
use service::testing::{new_consumer, office_reading, sign};
use service::{Context, readings};

/// «Член {plot}» on `plot`, with one single-tariff contract `number` of `service` and its meter
/// starting at `initial` units.
pub async fn member(ctx: &Context, plot: &str, number: &str, service: Service, initial: i64) -> SignedUp {
    let consumer = new_consumer(&format!("Член {plot}"), None);
    sign(ctx, plot, consumer, number, service, TariffPlan::Single, &[initial]).await
}

/// A reading entered in the panel on `day` (`YYYY-MM-DD`, at 09:00 UTC), confirmed, so an
/// unusual jump is stored too.
pub async fn reading(ctx: &Context, meter_id: i64, values: &[MeterValue], day: &str) {
    let taken_at = day.parse::<NaiveDate>().unwrap().and_hms_opt(9, 0, 0).unwrap().and_utc();
    let submission = Submission { taken_at: Some(taken_at), ..office_reading(meter_id, values.to_vec()) };
    readings::submit(ctx, submission).await.expect("a reading");
}
