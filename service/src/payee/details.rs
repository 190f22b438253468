//! The cooperative's bank details: one row, saved by an admin after `bank::BankDetails::parse`
//! has checked every field, each change in the audit log.

use std::sync::{Mutex, PoisonError};

pub use bank::details::{BankDetails, DetailsError, DetailsInput, Field};
use chrono::{DateTime, TimeDelta, Utc};
use entities::{bank_details, staff};
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set};
use serde_json::json;

use super::qr::PayError;
use crate::audit::{self, Actor};
use crate::error::internal_errors;
use crate::{Context, Internal};

/// The one row's id.
const ROW: i64 = 1;

#[derive(Debug, thiserror::Error)]
pub enum DetailsSaveError {
    /// Every refused field, each message naming its field.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join(" "))]
    Invalid(Vec<DetailsError>),
    #[error(transparent)]
    Internal(#[from] Internal),
}
internal_errors!(DetailsSaveError);

/// The details as saved, with who saved them last and when, for the admin's page.
#[derive(Debug, Clone)]
pub struct Saved {
    pub row: bank_details::Model,
    pub updated_by: Option<String>,
}

impl Saved {
    pub fn updated_at(&self) -> DateTime<Utc> {
        self.row.updated_at
    }
}

/// The saved row, if the details were ever set.
pub async fn saved(conn: &impl ConnectionTrait) -> Result<Option<Saved>, Internal> {
    let Some(row) = bank_details::Entity::find_by_id(ROW).one(conn).await? else { return Ok(None) };
    let updated_by = match row.updated_by {
        Some(id) => staff::Entity::find_by_id(id).one(conn).await?.map(|s| s.full_name),
        None => None,
    };
    Ok(Some(Saved { row, updated_by }))
}

/// The details payments go to. Not set yet, or a stored row that fails its own check (it was
/// saved only after that check, so it was edited by hand), is a refusal that says what to do —
/// never a broken code, and never an error page for a page that merely shows the code.
pub async fn current(conn: &impl ConnectionTrait) -> Result<BankDetails, PayError> {
    let row = bank_details::Entity::find_by_id(ROW).one(conn).await.map_err(Internal::from)?;
    let row = row.ok_or(PayError::NoDetails)?;
    BankDetails::parse(&input_of(&row)).map_err(|errors| {
        tracing::error!(?errors, "the stored bank details do not pass their own check");
        PayError::BrokenDetails
    })
}

/// How long an instance goes by what it last read of the details before reading them again, in
/// [`offered`]. That answer only decides whether the bot offers its pay buttons: the code itself
/// is made from the details read at that moment (`qr::payment`), so another instance's save is
/// seen here at most this late, and never puts a stale account into a code.
const OFFER_FRESH_FOR: TimeDelta = TimeDelta::seconds(60);

/// What [`offered`] last found and when, and how many saves this process has made since it
/// started: a finding read before a save is not kept after it.
#[derive(Debug, Default)]
pub struct LastCheck(Mutex<Checked>);

#[derive(Debug, Default, Clone, Copy)]
struct Checked {
    saves: u64,
    last: Option<(DateTime<Utc>, Usable)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Usable {
    Yes,
    NotSet,
    Broken,
}

/// Whether payment codes can be offered: the details are set and pass their check. The bot asks
/// this with every «Задолженность»; it reads the row at most once a minute (`OFFER_FRESH_FOR`),
/// and at once after a save in this process.
pub async fn offered(ctx: &Context) -> Result<(), PayError> {
    let now = ctx.now();
    let (saves, fresh) = ctx.details_check.fresh_at(now);
    let usable = match fresh {
        Some(usable) => usable,
        None => {
            let usable = match current(ctx.db.conn()).await {
                Ok(_) => Usable::Yes,
                Err(PayError::NoDetails) => Usable::NotSet,
                Err(PayError::BrokenDetails) => Usable::Broken,
                Err(other) => return Err(other),
            };
            ctx.details_check.remember(saves, now, usable);
            usable
        }
    };
    match usable {
        Usable::Yes => Ok(()),
        Usable::NotSet => Err(PayError::NoDetails),
        Usable::Broken => Err(PayError::BrokenDetails),
    }
}

impl LastCheck {
    fn lock(&self) -> std::sync::MutexGuard<'_, Checked> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The saves so far, and the last finding unless it is older than [`OFFER_FRESH_FOR`] (or
    /// from a clock since set back).
    fn fresh_at(&self, now: DateTime<Utc>) -> (u64, Option<Usable>) {
        let checked = *self.lock();
        let fresh = checked.last.filter(|(at, _)| *at <= now && now - *at < OFFER_FRESH_FOR);
        (checked.saves, fresh.map(|(_, usable)| usable))
    }

    /// Keeps a finding read after `saves` saves, unless a save has come since.
    fn remember(&self, saves: u64, at: DateTime<Utc>, usable: Usable) {
        let mut checked = self.lock();
        if checked.saves == saves {
            checked.last = Some((at, usable));
        }
    }

    /// A save: what was read before it no longer holds.
    fn saved(&self) {
        let mut checked = self.lock();
        checked.saves += 1;
        checked.last = None;
    }
}

/// The stored row as the form's input (also what the form shows to edit).
pub fn input_of(row: &bank_details::Model) -> DetailsInput<'_> {
    DetailsInput {
        payee: &row.payee,
        inn: &row.inn,
        kpp: &row.kpp,
        account: &row.account,
        bank_name: &row.bank_name,
        bic: &row.bic,
        correspondent_account: &row.correspondent_account,
    }
}

/// Checks and saves the details (replacing any before them), recording the old and new values.
pub async fn save(ctx: &Context, input: &DetailsInput<'_>, actor: Actor) -> Result<BankDetails, DetailsSaveError> {
    let details = BankDetails::parse(input).map_err(DetailsSaveError::Invalid)?;
    let txn = ctx.db.begin_write().await?;
    let before = bank_details::Entity::find_by_id(ROW).one(&txn).await?;
    let row = bank_details::ActiveModel {
        id: Set(ROW),
        payee: Set(details.payee().to_owned()),
        inn: Set(details.inn().as_str().to_owned()),
        kpp: Set(details.kpp().as_str().to_owned()),
        account: Set(details.account().as_str().to_owned()),
        bank_name: Set(details.bank_name().to_owned()),
        bic: Set(details.bic().as_str().to_owned()),
        correspondent_account: Set(details.correspondent_account().as_str().to_owned()),
        updated_by: Set(actor.staff_id()),
        updated_at: Set(ctx.now()),
    };
    let after = match before {
        Some(_) => row.update(&txn).await?,
        None => row.insert(&txn).await?,
    };
    let audit = json!({"old": before.as_ref().map(values), "new": values(&after)});
    audit::record(&txn, ctx, actor, "bank_details.save", "bank_details", Some(ROW), audit).await?;
    txn.commit().await?;
    ctx.details_check.saved();
    Ok(details)
}

fn values(row: &bank_details::Model) -> serde_json::Value {
    json!({
        "payee": row.payee, "inn": row.inn, "kpp": row.kpp, "account": row.account,
        "bank_name": row.bank_name, "bic": row.bic, "correspondent_account": row.correspondent_account,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TestContext;

    fn input() -> DetailsInput<'static> {
        // As people type an account: grouped by four.
        DetailsInput { account: "4070 3810 0415 0000 0123", ..bank::testing::DETAILS }
    }

    #[tokio::test]
    async fn saves_checked_details_once_and_audits_each_change() {
        let t = TestContext::new().await;
        let conn = t.ctx.db.conn();
        assert!(matches!(current(conn).await, Err(PayError::NoDetails)));

        let wrong = DetailsInput { account: "40703810041500000124", ..input() };
        let Err(DetailsSaveError::Invalid(errors)) = save(&t.ctx, &wrong, Actor::System).await else {
            panic!("a wrong control key is refused")
        };
        assert_eq!(errors.len(), 1);
        assert!(errors[0].to_string().contains("не сходится контрольный ключ"), "{}", errors[0]);
        assert!(matches!(current(conn).await, Err(PayError::NoDetails)), "nothing is saved");

        let saved = save(&t.ctx, &input(), Actor::System).await.unwrap();
        assert_eq!(saved.account().as_str(), "40703810041500000123", "stored without the spaces");
        assert_eq!(current(conn).await.unwrap(), saved);
        let renamed = DetailsInput { payee: "СНТ «Черноморск-2»", ..input() };
        save(&t.ctx, &renamed, Actor::System).await.unwrap();
        assert_eq!(current(conn).await.unwrap().payee(), "СНТ «Черноморск-2»");
        assert_eq!(bank_details::Entity::find().all(conn).await.unwrap().len(), 1, "one row");

        let trail = audit::audit_trail(conn, "bank_details", &[ROW]).await.unwrap();
        assert_eq!(trail.len(), 2);
        let last: serde_json::Value = serde_json::from_str(&trail[1].entry.details).unwrap();
        assert_eq!(last["old"]["payee"], "СНТ «Черноморск»");
        assert_eq!(last["new"]["payee"], "СНТ «Черноморск-2»");
        assert!(trail[0].entry.details.contains(r#""old":null"#), "{}", trail[0].entry.details);

        // A row edited by hand past the check: a refusal naming the fix, not an internal error.
        let row = bank_details::Entity::find_by_id(ROW).one(conn).await.unwrap().unwrap();
        let mut edited: bank_details::ActiveModel = row.into();
        edited.account = Set("40703810041500000124".into());
        edited.update(conn).await.unwrap();
        let refused = current(conn).await.unwrap_err();
        assert!(matches!(refused, PayError::BrokenDetails));
        assert!(refused.to_string().contains("«Реквизиты»"), "{refused}");
    }

    /// Two instances on one database: the one that saves offers codes at once, the other within
    /// a minute, and each reads the row once a minute, not per question.
    #[tokio::test]
    async fn another_instance_offers_codes_within_a_minute_of_a_save() {
        let t = TestContext::new().await;
        let other = Context::new(t.ctx.db.clone(), (*t.ctx.settings).clone(), t.clock.clock());
        assert!(matches!(offered(&t.ctx).await, Err(PayError::NoDetails)));
        assert!(matches!(offered(&other).await, Err(PayError::NoDetails)));

        save(&t.ctx, &input(), Actor::System).await.unwrap();
        offered(&t.ctx).await.expect("the saving instance offers codes at once");
        t.clock.advance(OFFER_FRESH_FOR - TimeDelta::seconds(1));
        assert!(matches!(offered(&other).await, Err(PayError::NoDetails)), "the other goes by its last read");
        t.clock.advance(TimeDelta::seconds(1));
        offered(&other).await.expect("and reads the row again a minute after it");

        // Broken by hand: each instance stops offering codes once it reads the row again.
        let row = bank_details::Entity::find_by_id(ROW).one(t.ctx.db.conn()).await.unwrap().unwrap();
        let mut edited: bank_details::ActiveModel = row.into();
        edited.account = Set("40703810041500000124".into());
        edited.update(t.ctx.db.conn()).await.unwrap();
        offered(&other).await.expect("read a moment ago");
        t.clock.advance(OFFER_FRESH_FOR);
        assert!(matches!(offered(&other).await, Err(PayError::BrokenDetails)));
        assert!(matches!(offered(&t.ctx).await, Err(PayError::BrokenDetails)));

        // A clock set back does not stretch the last read.
        save(&t.ctx, &input(), Actor::System).await.unwrap();
        t.clock.advance(-TimeDelta::seconds(1));
        offered(&other).await.expect("read again when the clock went back");
    }

    /// A read that began before a save ends after it: its finding is not kept, so the save shows
    /// at the next question, not a minute later.
    #[test]
    fn a_finding_read_before_a_save_is_not_kept() {
        let check = LastCheck::default();
        let now = crate::testing::default_now();
        let (saves, fresh) = check.fresh_at(now);
        assert_eq!(fresh, None);
        check.saved();
        check.remember(saves, now, Usable::NotSet);
        assert_eq!(check.fresh_at(now), (1, None));
        check.remember(1, now, Usable::Yes);
        assert_eq!(check.fresh_at(now), (1, Some(Usable::Yes)));
    }
}
