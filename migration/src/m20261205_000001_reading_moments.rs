//! A meter's accepted readings by moment: the network balance (`service::network`) asks each
//! consumer meter for its readings within the common meter's interval and its nearest ones on
//! either side. With only the `(meter_id, period)`, `(period, status)` and `(status)` indexes
//! SQLite took the status one and went through every accepted reading once per meter: minutes at
//! 10 000 plots × 24 months, a seek each with this index (`EXPLAIN QUERY PLAN`: `SEARCH readings USING COVERING INDEX
//! idx_readings_meter_id_status_taken_at (meter_id=? AND status=? AND taken_at<?)`).

use sea_orm_migration::prelude::*;

adds_indexes!([("readings", &["meter_id", "status", "taken_at"])]);
