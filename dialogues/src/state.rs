//! Where each chat is in its conversation, stored as JSON in `telegram_dialogues`.
//!
//! States hold ids and what the user has typed so far, never copies of data that can go stale
//! (names, balances, roles): handlers read those afresh. Change them additively — new variants,
//! new fields with `#[serde(default)]` — because a stored state that no longer parses sends its
//! chat back to [`State::Idle`].

use chrono::{DateTime, Utc};
use domain::{MeterValue, RequestTopic};
use serde::{Deserialize, Serialize};
use service::payee::qr::Target;
use teloxide::dispatching::dialogue::{Dialogue, ErasedStorage};

pub type ChatDialogue = Dialogue<State, ErasedStorage<State>>;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum State {
    /// Nothing in progress: the main menu.
    #[default]
    Idle,
    /// A consumer chooses which of their meters to read.
    PickMeter,
    /// Controller mode between readings; `plot_id` is the plot whose card was shown last.
    Walk { plot_id: Option<i64> },
    /// Typing the values, day before night.
    Values(Draft),
    /// Controller: is the seal intact?
    Seal(Draft),
    /// Controller: what is wrong with the seal.
    SealComment(Draft),
    /// A photo of the meter: optional for consumers, required for controllers.
    Photo(Draft),
    /// The summary is on screen, waiting for «Подтвердить» or «Исправить».
    Confirm(Draft),
    /// A consumer pressed «Другая сумма» and types the amount to pay for `target`.
    PayAmount { target: Target },
    /// «Написать в правление»: the topics are on screen.
    RequestTopic,
    /// Typing the request's text.
    RequestText { topic: RequestTopic },
    /// A photo, or «Без фото», and the request is sent.
    RequestPhoto { topic: RequestTopic, body: String },
    /// Typing a reply under request `request_id`.
    RequestReply { request_id: i64 },
}

/// Whose reading a draft is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Mode {
    Consumer,
    /// A controller reading the meters of a plot on their walk.
    Controller {
        plot_id: i64,
    },
}

/// A reading being put together.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    /// Made when the draft starts. With the chat id it is the submission's idempotency key, so
    /// the draft is recorded once however many times «Подтвердить» arrives.
    pub nonce: String,
    pub mode: Mode,
    pub meter_id: i64,
    /// One per register typed so far, day before night.
    #[serde(default)]
    pub values: Vec<MeterValue>,
    #[serde(default)]
    pub seal_intact: Option<bool>,
    #[serde(default)]
    pub comment: Option<String>,
    #[serde(default)]
    pub photo_id: Option<i64>,
    /// The submitter was shown the warning about an unusual jump, so confirming records it.
    #[serde(default)]
    pub warned: bool,
    /// When the meter was read: the date of the message with the first value, which Telegram
    /// keeps when a message sent without a signal arrives later. None: when it is recorded.
    #[serde(default)]
    pub taken_at: Option<DateTime<Utc>>,
}

impl Draft {
    pub fn new(mode: Mode, meter_id: i64) -> Draft {
        Draft {
            nonce: service::access::secrets::random_token(12),
            mode,
            meter_id,
            values: Vec::new(),
            seal_intact: None,
            comment: None,
            photo_id: None,
            warned: false,
            taken_at: None,
        }
    }

    /// The same draft gives the same key in every update, so a retried confirmation is a no-op.
    pub fn idempotency_key(&self, chat_id: i64) -> String {
        format!("tg:{chat_id}:{}", self.nonce)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::meter_value;

    #[test]
    fn states_round_trip_through_json() {
        let mut draft = Draft::new(Mode::Controller { plot_id: 3 }, 12);
        draft.values = vec![meter_value!(1_500)];
        let paying = State::PayAmount { target: Target::Contract(4) };
        let writing = State::RequestPhoto { topic: RequestTopic::Seal, body: "Пломба сорвана".into() };
        for state in [State::Idle, State::Walk { plot_id: Some(3) }, State::Confirm(draft), paying, writing] {
            let json = serde_json::to_string(&state).unwrap();
            assert_eq!(serde_json::from_str::<State>(&json).unwrap(), state);
        }
    }

    #[test]
    fn fields_added_later_default_when_reading_older_states() {
        let old = r#"{"Values":{"nonce":"abc","mode":"Consumer","meter_id":7}}"#;
        let State::Values(draft) = serde_json::from_str::<State>(old).unwrap() else { panic!("not a Values state") };
        assert_eq!((draft.meter_id, draft.values.len(), draft.photo_id, draft.warned), (7, 0, None, false));
    }

    #[test]
    fn each_draft_has_its_own_key() {
        let (a, b) = (Draft::new(Mode::Consumer, 1), Draft::new(Mode::Consumer, 1));
        assert_eq!(a.idempotency_key(5), a.clone().idempotency_key(5));
        assert_ne!(a.idempotency_key(5), b.idempotency_key(5));
    }
}
