//! A Telegram user talking to the bot through the [`FakeTelegram`]: each action queues an update
//! and waits until the bot has answered it in this chat.

use serde_json::Value;
use service::Context;
use service::access::telegram::LinkTarget;

use crate::fake_telegram::{Call, FakeTelegram, WAIT_TIMEOUT, updates};

/// One user in their private chat with the bot (chat id == user id).
pub struct BotChat<'a> {
    telegram: &'a FakeTelegram,
    pub user_id: i64,
}

/// What the bot did in answer to one update.
#[derive(Debug)]
pub struct Reply {
    /// The update as queued, with its `update_id`, for delivering it again.
    pub update: Value,
    /// Every Bot API call made from the update's delivery until the bot went idle.
    pub calls: Vec<Call>,
}

impl<'a> BotChat<'a> {
    pub fn new(telegram: &'a FakeTelegram, user_id: i64) -> BotChat<'a> {
        BotChat { telegram, user_id }
    }

    pub async fn send(&self, text: &str) -> Reply {
        self.push(updates::text(self.user_id, text)).await
    }

    /// Shares a contact whose `user_id` is `owner` (the sender's own, someone else's, or none
    /// for a contact typed in or forwarded).
    pub async fn share_contact(&self, phone: &str, owner: Option<i64>) -> Reply {
        self.push(updates::contact(self.user_id, phone, owner)).await
    }

    /// Sends a photo whose file the fake serves as `bytes`.
    pub async fn send_photo(&self, file_id: &str, bytes: Vec<u8>) -> Reply {
        self.telegram.add_file(file_id, bytes);
        self.push(updates::photo(self.user_id, file_id, None)).await
    }

    /// Presses the button carrying `data` on the latest bot message in this chat that has one.
    pub async fn press(&self, data: &str) -> Reply {
        let message = self
            .telegram
            .calls()
            .into_iter()
            .rev()
            .find(|call| call.chat_id() == Some(self.user_id) && call.callback_data().iter().any(|d| d == data))
            .unwrap_or_else(|| panic!("no message in chat {} has a button «{data}»", self.user_id));
        let message_id = message.result["message_id"].as_i64().expect("a sent message has an id");
        self.push(updates::callback(self.user_id, data, message_id)).await
    }

    /// Links this user to `target` the way people do: with a one-time code sent as `/start CODE`.
    pub async fn link(&self, ctx: &Context, target: LinkTarget) -> Reply {
        let code = service::access::telegram::issue_code(ctx, target, None).await.expect("a link code");
        self.send(&format!("/start {}", code.code)).await
    }

    /// Queues `update` and returns everything the bot did until it had finished handling it.
    pub async fn push(&self, mut update: Value) -> Reply {
        let since = self.telegram.calls().len();
        update["update_id"] = self.telegram.push_update(update.clone()).into();
        let until = self.probe(since).await;
        Reply { update, calls: self.telegram.calls().drain(since..until).collect() }
    }

    /// Tells when the bot has finished with the updates queued so far in this chat, and returns
    /// the index of the first call after them.
    ///
    /// teloxide handles one chat's updates one after another, so a probe queued after them is
    /// answered only once they are done. The probe is a press of a button the bot does not know:
    /// it answers the press and says the button is stale, leaving the dialogue as it was.
    async fn probe(&self, since: usize) -> usize {
        let probe = updates::callback(self.user_id, PROBE, 0);
        let id = probe["callback_query"]["id"].clone();
        self.telegram.push_update(probe);
        let answered = |call: &Call| call.is("answerCallbackQuery") && call.params["callback_query_id"] == id;
        let (until, _) = self.telegram.wait_for_indexed_call(since, WAIT_TIMEOUT, answered).await;
        // Its last message, so that the next action does not take it for an answer.
        self.telegram
            .wait_for_call(until, WAIT_TIMEOUT, |call| call.is("sendMessage") && call.chat_id() == Some(self.user_id))
            .await;
        until
    }
}

/// The callback data of the probe: no button of the bot carries it.
const PROBE: &str = "probe";

impl Reply {
    /// What the bot wrote to the chat, message by message.
    pub fn texts(&self) -> Vec<&str> {
        self.calls.iter().filter(|c| c.is("sendMessage") || c.is("editMessageText")).filter_map(Call::text).collect()
    }

    /// All the texts in one string, for `contains` checks and failure messages.
    pub fn text(&self) -> String {
        self.texts().join("\n———\n")
    }

    /// Panics with the whole reply unless some message contains `needle`.
    #[track_caller]
    pub fn expect(&self, needle: &str) -> &Self {
        assert!(self.text().contains(needle), "expected «{needle}» in the reply:\n{}", self.text());
        self
    }

    /// The documents the bot sent.
    pub fn documents(&self) -> Vec<&Call> {
        self.calls.iter().filter(|c| c.is("sendDocument")).collect()
    }

    /// The photos the bot sent.
    pub fn photos(&self) -> Vec<&Call> {
        self.calls.iter().filter(|c| c.is("sendPhoto")).collect()
    }

    /// The callback data of the inline buttons the bot sent, in order.
    pub fn buttons(&self) -> Vec<String> {
        self.calls.iter().flat_map(Call::callback_data).collect()
    }

    /// The labels of the reply keyboard of the last message that set one.
    pub fn keyboard(&self) -> Vec<String> {
        self.calls.iter().rev().map(Call::keyboard_texts).find(|k| !k.is_empty()).unwrap_or_default()
    }
}
