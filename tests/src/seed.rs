//! Data the end-to-end tests put in before they start, beyond `service::testing`'s.

use chrono::NaiveDate;
use domain::MeterValue;
use service::readings::Submission;
use service::testing::office_reading;
use service::{Context, readings};

/// A reading entered in the panel on `day` (`YYYY-MM-DD`, at 09:00 UTC), confirmed, so an
/// unusual jump is stored too.
pub async fn reading(ctx: &Context, meter_id: i64, values: &[MeterValue], day: &str) {
    let taken_at = day.parse::<NaiveDate>().unwrap().and_hms_opt(9, 0, 0).unwrap().and_utc();
    let submission = Submission { taken_at: Some(taken_at), ..office_reading(meter_id, values.to_vec()) };
    readings::submit(ctx, submission).await.expect("a reading");
}
