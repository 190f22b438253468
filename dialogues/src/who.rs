//! Who sent an update, read from the database on every update: unlinking a consumer, or
//! deactivating or demoting a staff member, takes effect at their very next step.

use domain::ReadingSource;
use entities::{consumer, staff};
use service::audit::Actor;
use service::{Chain, Context};
use teloxide::types::{Update, UserId};

use crate::state::{Mode, State};

/// The sender of an update. Authorization always goes by the user (`from.id`), never the chat.
#[derive(Clone, Debug)]
pub struct Who {
    pub telegram_id: i64,
    pub consumer: Option<consumer::Model>,
    /// Active staff only.
    pub staff: Option<staff::Model>,
}

/// Whose reading a submission records, and through which channel.
#[derive(Clone, Copy, Debug)]
pub struct Author {
    pub actor: Actor,
    pub source: ReadingSource,
}

impl Who {
    pub fn new(telegram_id: i64, identity: service::access::telegram::Identity) -> Who {
        Who { telegram_id, consumer: identity.consumer, staff: identity.staff }
    }

    pub fn is_known(&self) -> bool {
        self.consumer.is_some() || self.staff.is_some()
    }

    /// The staff member, if their role lets them read meters.
    pub fn controller(&self) -> Option<staff::Model> {
        self.staff.clone().filter(|s| s.role.can_read_meters())
    }

    /// The staff member, if their role lets them see money (and so the reports).
    pub fn accountant(&self) -> Option<staff::Model> {
        self.staff.clone().filter(|s| s.role.can_handle_money())
    }

    /// Who records a draft of `mode`, if this sender still may.
    pub fn author(&self, mode: Mode) -> Option<Author> {
        match mode {
            Mode::Consumer => self.consumer.as_ref().map(|c| Author {
                actor: Actor::Consumer { consumer_id: c.id, telegram_user_id: self.telegram_id },
                source: ReadingSource::ConsumerBot,
            }),
            Mode::Controller { .. } => {
                self.controller().map(|s| Author { actor: Actor::Staff(s.id), source: ReadingSource::ControllerBot })
            }
        }
    }

    /// Whether the sender is in a state they may no longer be in.
    pub fn lost_access(&self, state: &State) -> bool {
        match state {
            State::Idle => false,
            State::PickMeter
            | State::PayAmount { .. }
            | State::RequestTopic
            | State::RequestText { .. }
            | State::RequestPhoto { .. }
            | State::RequestReply { .. } => self.consumer.is_none(),
            State::Walk { .. } => self.controller().is_none(),
            State::Values(d) | State::Seal(d) | State::SealComment(d) | State::Photo(d) | State::Confirm(d) => {
                self.author(d.mode).is_none()
            }
        }
    }
}

/// Telegram user ids fit in 52 bits.
pub fn telegram_id(user: UserId) -> i64 {
    user.0 as i64
}

/// Looks the sender up; updates without a sender (channel posts) go no further. A database
/// failure is logged and the update dropped, as teloxide does when the dialogue cannot be read.
pub async fn who(update: Update, ctx: Context) -> Option<Who> {
    let id = telegram_id(update.from()?.id);
    match service::access::telegram::identify(ctx.db.conn(), id).await {
        Ok(identity) => Some(Who::new(id, identity)),
        Err(e) => {
            tracing::error!(telegram_id = id, "could not identify the sender: {}", Chain(&e));
            None
        }
    }
}
