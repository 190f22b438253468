//! A fake Telegram Bot API server for end-to-end tests.
//!
//! The real bot (teloxide) talks to it over loopback HTTP exactly as it would talk to
//! `api.telegram.org`: tests queue updates with [`FakeTelegram::push_update`], the bot fetches
//! them with `getUpdates`, and every other call it makes is recorded for assertions.
//!
//! Wire details that matter (checked against teloxide-core 0.13):
//! - method names arrive in PascalCase (`/bot<TOKEN>/SendMessage`), so they are matched
//!   case-insensitively and recorded in the Bot API docs' lowerCamelCase;
//! - bodies are JSON, or `multipart/form-data` when a file is uploaded; teloxide then names the
//!   file part by a random id and sets the parameter to `attach://<id>`;
//! - any HTTP 5xx makes teloxide sleep 10 s before reading the body, so errors here are 4xx.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use poem::http::StatusCode;
use poem::listener::{Acceptor, Listener, TcpAcceptor, TcpListener};
use poem::web::{Data, Multipart, Path};
use poem::{
    Body, Endpoint, EndpointExt, FromRequest, Request, RequestBody, Response, Route, Server, get, handler, post,
};
use serde_json::{Map, Value, json};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use url::Url;

/// The bot token this fake accepts.
pub const TOKEN: &str = "123456:TEST";
const BOT_ID: i64 = 123456;
const BOT_USERNAME: &str = "chernomorsk_test_bot";
/// Upper bound for a `getUpdates` long poll: teloxide asks for 10 s, but a short poll keeps the
/// bot's shutdown and the tests' idle checks quick. Pushed updates still end a poll at once.
const MAX_LONG_POLL: Duration = Duration::from_secs(1);
/// How long the `wait_*` helpers wait before failing the test.
pub const WAIT_TIMEOUT: Duration = Duration::from_secs(10);
const WAIT_POLL_INTERVAL: Duration = Duration::from_millis(20);
/// [`FakeTelegram::wait_idle`] also wants this long without any call, so that replies the bot
/// is still sending for the updates it has just acknowledged are not missed.
const QUIET_PERIOD: Duration = Duration::from_millis(100);

/// Message ids, shared by user messages built in [`updates`] and messages the bot sends, so
/// that every message in a test has its own id, as in a real private chat.
static NEXT_MESSAGE_ID: AtomicI64 = AtomicI64::new(1);

fn next_message_id() -> i64 {
    NEXT_MESSAGE_ID.fetch_add(1, Ordering::Relaxed)
}

/// A running fake Bot API server; it stops when dropped.
pub struct FakeTelegram {
    shared: Arc<Shared>,
    api_url: Url,
    server: JoinHandle<()>,
}

/// One Bot API request the bot made.
#[derive(Clone, Debug)]
pub struct Call {
    /// Method name in lowerCamelCase, e.g. `sendMessage`.
    pub method: String,
    /// The JSON body, or the multipart text fields as a JSON object of strings.
    pub params: Value,
    /// Uploaded files (multipart file parts).
    pub files: Vec<UploadedFile>,
    /// The `result` the fake answered with, e.g. the `Message` for `sendMessage` (its
    /// `message_id` is what a callback update for that message needs).
    pub result: Value,
}

/// A file part of a multipart request.
#[derive(Clone, Debug)]
pub struct UploadedFile {
    /// The parameter that refers to the file (`document`, `photo`, ...), or the part's own name
    /// if no parameter refers to it.
    pub field: String,
    pub file_name: Option<String>,
    pub bytes: Vec<u8>,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    /// Wakes long-polling `getUpdates` requests when an update is queued.
    update_queued: Notify,
    /// Whether answers to uploads wait: see [`FakeTelegram::hold_uploads`].
    uploads_held: watch::Sender<bool>,
}

#[derive(Default)]
struct State {
    /// Every call except `getUpdates`, which is the polling transport rather than a bot action.
    calls: Vec<Call>,
    /// How many `getUpdates` requests came.
    polls: usize,
    last_call_at: Option<Instant>,
    /// Updates not acknowledged yet, sorted by `update_id`; see [`State::take_updates`].
    pending: Vec<PendingUpdate>,
    last_update_id: i64,
    /// Downloadable files by `file_id`.
    files: HashMap<String, Vec<u8>>,
    /// The latest version of each message the bot sent, by `message_id`, so that callback
    /// updates can carry the real message as Telegram does.
    bot_messages: HashMap<i64, Value>,
    /// Users who blocked the bot: sending to them fails as on Telegram.
    blocked: HashSet<i64>,
    /// Telegram's flood limit, when modelled: at most this many sends in any second.
    sends_per_second: Option<usize>,
    /// When the sends of the last second were accepted.
    recent_sends: VecDeque<Instant>,
    /// Sends refused with 429 «Too Many Requests» (not recorded as calls).
    too_many_requests: usize,
    /// Calls to fail, by lowercase method: how many more, and with what.
    failing: HashMap<String, (usize, ApiError)>,
}

/// Where Telegram will be while it is out of reach: a loopback port bound, so no other socket
/// takes it meanwhile, but not listening, so the bot's connections are refused.
pub struct AwayPort(tokio::net::TcpSocket);

impl AwayPort {
    pub fn hold() -> AwayPort {
        let socket = tokio::net::TcpSocket::new_v4().expect("a TCP socket");
        socket.bind("127.0.0.1:0".parse().expect("an address")).expect("bind a loopback port");
        AwayPort(socket)
    }

    pub fn addr(&self) -> std::net::SocketAddr {
        self.0.local_addr().expect("a bound socket has an address")
    }
}

struct PendingUpdate {
    id: i64,
    update: Value,
    delivered: bool,
}

impl FakeTelegram {
    /// Starts the server on 127.0.0.1:0.
    pub async fn start() -> FakeTelegram {
        let acceptor = TcpListener::bind("127.0.0.1:0").into_acceptor().await.expect("bind the fake Telegram server");
        Self::serve(acceptor)
    }

    /// Starts the server on the port `away` held: Telegram coming back where the bot has been
    /// looking for it.
    pub async fn start_at(away: AwayPort) -> FakeTelegram {
        let listener = away.0.listen(1024).expect("listen on the held port");
        Self::serve(TcpAcceptor::from_tokio(listener).expect("a loopback listener"))
    }

    fn serve(acceptor: TcpAcceptor) -> FakeTelegram {
        let addr = *acceptor.local_addr()[0].as_socket_addr().expect("a TCP listener has a socket address");
        let shared = Arc::new(Shared::default());
        let app = app(shared.clone());
        let server = tokio::spawn(async move {
            if let Err(err) = Server::new_with_acceptor(acceptor).run(app).await {
                eprintln!("fake Telegram server stopped: {err}");
            }
        });
        let api_url = Url::parse(&format!("http://{addr}/")).expect("a socket address makes a valid URL");
        FakeTelegram { shared, api_url, server }
    }

    pub fn token(&self) -> &str {
        TOKEN
    }

    /// The base URL for teloxide's `Bot::set_api_url`.
    pub fn api_url(&self) -> Url {
        self.api_url.clone()
    }

    /// A bot that talks to this server.
    pub fn bot(&self) -> teloxide::Bot {
        teloxide::Bot::new(TOKEN).set_api_url(self.api_url())
    }

    /// Queues an update for `getUpdates` under the next `update_id` (any `update_id` in
    /// `update` is replaced) and returns that id.
    pub fn push_update(&self, mut update: Value) -> i64 {
        let mut state = self.shared.state();
        let id = state.last_update_id + 1;
        update["update_id"] = id.into();
        state.enqueue(id, update);
        drop(state);
        self.shared.update_queued.notify_waiters();
        id
    }

    /// Queues an update with the `update_id` it already has, e.g. to simulate Telegram
    /// re-delivering an update the bot has seen.
    pub fn push_raw_update(&self, update: Value) {
        let id = update["update_id"].as_i64().expect("push_raw_update needs an integer update_id");
        self.shared.state().enqueue(id, update);
        self.shared.update_queued.notify_waiters();
    }

    /// Registers a downloadable file: `getFile(file_id)` returns a `File` whose `file_path`
    /// serves `bytes`.
    pub fn add_file(&self, file_id: &str, bytes: Vec<u8>) {
        self.shared.state().files.insert(file_id.to_owned(), bytes);
    }

    /// The user `chat_id` blocks the bot: from now on sending there fails with 403.
    pub fn block(&self, chat_id: i64) {
        self.shared.state().blocked.insert(chat_id);
    }

    /// Models Telegram's flood limit: from now on a send beyond `per_second` in any second is
    /// refused with 429 and `retry_after: 1`, as Telegram refuses it, and is not recorded.
    pub fn limit_sends(&self, per_second: usize) {
        self.shared.state().sends_per_second = Some(per_second);
    }

    /// The next `times` calls to `method` fail with 500 «Internal Server Error», as Telegram's
    /// servers now and then answer (recorded, with a null result).
    pub fn fail_next(&self, method: &str, times: usize) {
        let error = ApiError { status: StatusCode::INTERNAL_SERVER_ERROR, description: "Internal Server Error".into() };
        self.shared.state().failing.insert(method.to_ascii_lowercase(), (times, error));
    }

    /// The next call to `method` is refused with 400 and `description` («Bad Request: …»), as
    /// Telegram refuses a request it will not carry out.
    pub fn refuse_next(&self, method: &str, description: &str) {
        let error = ApiError { status: StatusCode::BAD_REQUEST, description: description.to_owned() };
        self.shared.state().failing.insert(method.to_ascii_lowercase(), (1, error));
    }

    /// From now on an upload (`sendDocument`) is recorded when it arrives but answered only after
    /// [`release_uploads`](Self::release_uploads): the bot is in the middle of sending a file.
    pub fn hold_uploads(&self) {
        self.shared.uploads_held.send_replace(true);
    }

    /// Answers the held uploads, and those to come at once.
    pub fn release_uploads(&self) {
        self.shared.uploads_held.send_replace(false);
    }

    /// How many sends were refused with 429.
    pub fn too_many_requests(&self) -> usize {
        self.shared.state().too_many_requests
    }

    /// Every call recorded so far, in order (`getUpdates` polls are not recorded).
    pub fn calls(&self) -> Vec<Call> {
        self.shared.state().calls.clone()
    }

    /// How many times the bot has polled `getUpdates` (none in webhook mode).
    pub fn polls(&self) -> usize {
        self.shared.state().polls
    }

    /// How many calls from index `since` match `pred`, without copying them (for benchmarks).
    pub fn count_since(&self, since: usize, pred: impl Fn(&Call) -> bool) -> usize {
        self.shared.state().calls.get(since..).unwrap_or_default().iter().filter(|call| pred(call)).count()
    }

    /// Calls to one method, e.g. `"sendMessage"` (case-insensitive).
    pub fn calls_to(&self, method: &str) -> Vec<Call> {
        self.shared.state().calls.iter().filter(|call| call.is(method)).cloned().collect()
    }

    /// Waits until a call matching `pred` is recorded at index `since` or later in
    /// [`calls`](Self::calls) and returns it; panics with the calls made since then on timeout.
    pub async fn wait_for_call(&self, since: usize, timeout: Duration, pred: impl Fn(&Call) -> bool) -> Call {
        self.wait_for_indexed_call(since, timeout, pred).await.1
    }

    /// Like [`wait_for_call`](Self::wait_for_call), also returning the call's index in
    /// [`calls`](Self::calls).
    pub async fn wait_for_indexed_call(
        &self,
        since: usize,
        timeout: Duration,
        pred: impl Fn(&Call) -> bool,
    ) -> (usize, Call) {
        let deadline = Instant::now() + timeout;
        loop {
            // A snapshot, so that `pred` may itself look at the fake.
            if let Some(found) = self.calls().into_iter().enumerate().skip(since).find(|(_, call)| pred(call)) {
                return found;
            }
            if Instant::now() >= deadline {
                panic!("no matching Bot API call within {timeout:?}; calls since #{since}:\n{}", self.dump(since));
            }
            tokio::time::sleep(WAIT_POLL_INTERVAL).await;
        }
    }

    /// Waits for the next `sendMessage` or `editMessageText` to `chat_id` at index `since` or
    /// later and returns its text.
    pub async fn next_text_to(&self, chat_id: i64, since: usize) -> String {
        let call = self
            .wait_for_call(since, WAIT_TIMEOUT, |call| {
                (call.is("sendMessage") || call.is("editMessageText")) && call.chat_id() == Some(chat_id)
            })
            .await;
        call.text().unwrap_or_default().to_owned()
    }

    /// Waits for the next message the bot sends or edits in `chat_id` at index `since` or later
    /// (a text, an edit or a document) and returns its call.
    pub async fn next_reply_to(&self, chat_id: i64, since: usize) -> Call {
        let replies = ["sendMessage", "editMessageText", "sendDocument"];
        self.wait_for_call(since, WAIT_TIMEOUT, |call| {
            replies.iter().any(|method| call.is(method)) && call.chat_id() == Some(chat_id)
        })
        .await
    }

    /// Waits until the bot is idle: every queued update was fetched and then acknowledged by a
    /// later `getUpdates`, and no call has come for a short quiet period. Panics after 10 s.
    ///
    /// The quiet period is a heuristic: teloxide acknowledges updates before its handlers finish,
    /// so a handler that is slow to make its first call may still be running.
    pub async fn wait_idle(&self) {
        let deadline = Instant::now() + WAIT_TIMEOUT;
        loop {
            let (unacknowledged, quiet) = {
                let state = self.shared.state();
                (state.pending.len(), state.last_call_at.is_none_or(|at| at.elapsed() >= QUIET_PERIOD))
            };
            if unacknowledged == 0 && quiet {
                return;
            }
            if Instant::now() >= deadline {
                panic!(
                    "the bot is not idle after {WAIT_TIMEOUT:?}: {unacknowledged} update(s) unacknowledged; recent calls:\n{}",
                    self.dump(0)
                );
            }
            tokio::time::sleep(WAIT_POLL_INTERVAL).await;
        }
    }

    /// The last few calls from index `since`, one per line, for failure messages.
    fn dump(&self, since: usize) -> String {
        const SHOWN: usize = 20;
        let state = self.shared.state();
        let calls = state.calls.get(since..).unwrap_or_default();
        let first = since + calls.len().saturating_sub(SHOWN);
        let lines: Vec<String> = calls
            .iter()
            .skip(calls.len().saturating_sub(SHOWN))
            .zip(first..)
            .map(|(call, index)| {
                let files: Vec<_> =
                    call.files.iter().map(|file| (&file.field, &file.file_name, file.bytes.len())).collect();
                format!("  #{index} {} {} files={files:?}", call.method, call.params)
            })
            .collect();
        if lines.is_empty() { "  (none)".to_owned() } else { lines.join("\n") }
    }
}

impl Drop for FakeTelegram {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Call {
    /// Whether this is a call to `method` (case-insensitive).
    pub fn is(&self, method: &str) -> bool {
        self.method.eq_ignore_ascii_case(method)
    }

    /// `chat_id` as a number (JSON sends a number, multipart a string).
    pub fn chat_id(&self) -> Option<i64> {
        int_param(&self.params, "chat_id")
    }

    /// `text`, or `caption` for media.
    pub fn text(&self) -> Option<&str> {
        self.params.get("text").or_else(|| self.params.get("caption")).and_then(Value::as_str)
    }

    /// The `callback_data` of every inline keyboard button.
    pub fn callback_data(&self) -> Vec<String> {
        self.buttons("inline_keyboard", "callback_data")
    }

    /// The text of every reply keyboard button.
    pub fn keyboard_texts(&self) -> Vec<String> {
        self.buttons("keyboard", "text")
    }

    /// `reply_markup`, which multipart requests carry as a JSON string.
    fn reply_markup(&self) -> Option<Value> {
        match self.params.get("reply_markup")? {
            Value::String(encoded) => serde_json::from_str(encoded).ok(),
            markup => Some(markup.clone()),
        }
    }

    fn buttons(&self, keyboard: &str, field: &str) -> Vec<String> {
        let Some(markup) = self.reply_markup() else { return Vec::new() };
        let rows = markup.get(keyboard).and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        rows.iter()
            .filter_map(Value::as_array)
            .flatten()
            .filter_map(|button| button.get(field).and_then(Value::as_str))
            .map(str::to_owned)
            .collect()
    }
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        // A test that panicked mid-assertion must not take the server down with it.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Long-polls like Telegram: answers as soon as updates are queued, or with an empty list
    /// once the (capped) timeout passes.
    async fn get_updates(&self, params: &Value) -> Value {
        let offset = int_param(params, "offset").unwrap_or(0);
        let limit =
            int_param(params, "limit").and_then(|limit| usize::try_from(limit).ok()).unwrap_or(100).clamp(1, 100);
        let timeout = int_param(params, "timeout").and_then(|secs| u64::try_from(secs).ok()).unwrap_or(0);
        let deadline = Instant::now() + Duration::from_secs(timeout).min(MAX_LONG_POLL);
        loop {
            // Registered before looking at the queue, so a push in between is not missed.
            let queued = self.update_queued.notified();
            tokio::pin!(queued);
            queued.as_mut().enable();
            let updates = self.state().take_updates(offset, limit);
            if !updates.is_empty() || tokio::time::timeout_at(deadline, queued).await.is_err() {
                return Value::Array(updates);
            }
        }
    }
}

impl State {
    fn enqueue(&mut self, id: i64, mut update: Value) {
        self.attach_callback_message(&mut update);
        self.last_update_id = self.last_update_id.max(id);
        let at = self.pending.partition_point(|pending| pending.id <= id);
        self.pending.insert(at, PendingUpdate { id, update, delivered: false });
    }

    /// Acknowledges and returns pending updates.
    ///
    /// Unlike a high-water mark ("return ids >= offset"), this keeps a queue so that an update
    /// re-queued with an id the bot already acknowledged (Telegram retrying a delivery) is
    /// delivered again: an update leaves the queue only once it has been delivered at least
    /// once and a later `getUpdates` has an `offset` greater than its id.
    fn take_updates(&mut self, offset: i64, limit: usize) -> Vec<Value> {
        self.pending.retain(|pending| !(pending.delivered && pending.id < offset));
        self.pending
            .iter_mut()
            .take(limit)
            .map(|pending| {
                pending.delivered = true;
                pending.update.clone()
            })
            .collect()
    }

    /// Replaces the placeholder message of a callback query with the message the bot really
    /// sent under that id, if it did.
    fn attach_callback_message(&self, update: &mut Value) {
        let Some(message) = update.pointer_mut("/callback_query/message") else { return };
        let Some(sent) = message["message_id"].as_i64().and_then(|id| self.bot_messages.get(&id)) else { return };
        if sent["chat"]["id"] == message["chat"]["id"] {
            *message = sent.clone();
        }
    }

    /// Whether `call` is a send beyond the modelled flood limit; one within it is counted.
    fn over_the_limit(&mut self, call: &Call) -> bool {
        let Some(limit) = self.sends_per_second else { return false };
        if !call.method.to_ascii_lowercase().starts_with("send") {
            return false;
        }
        let now = Instant::now();
        while self.recent_sends.front().is_some_and(|at| now.duration_since(*at) >= Duration::from_secs(1)) {
            self.recent_sends.pop_front();
        }
        if self.recent_sends.len() >= limit {
            return true;
        }
        self.recent_sends.push_back(now);
        false
    }

    /// Computes the `result` for a call; an `Err` is a Bot API error description.
    fn answer(&mut self, call: &Call) -> Result<Value, ApiError> {
        let method = call.method.to_ascii_lowercase();
        if method.starts_with("send") && call.chat_id().is_some_and(|chat| self.blocked.contains(&chat)) {
            return Err(ApiError { status: StatusCode::FORBIDDEN, description: BLOCKED.to_owned() });
        }
        if let Some((left @ 1.., error)) = self.failing.get_mut(&method) {
            *left -= 1;
            return Err(error.clone());
        }
        match method.as_str() {
            "getme" => Ok(me()),
            "getwebhookinfo" => {
                Ok(json!({"url": "", "has_custom_certificate": false, "pending_update_count": self.pending.len()}))
            }
            "getfile" => self.file(call),
            // The `...Inline` variants (teloxide strips the suffix) edit inline messages and get `true`.
            _ if returns_message(&method) && call.params.get("inline_message_id").is_none() => {
                self.bot_message(call, method.starts_with("editmessage"))
            }
            _ => Ok(Value::Bool(true)),
        }
    }

    fn file(&self, call: &Call) -> Result<Value, ApiError> {
        let file_id = call.params.get("file_id").and_then(Value::as_str).ok_or("Bad Request: file_id is required")?;
        let bytes = self.files.get(file_id).ok_or("Bad Request: invalid file id")?;
        Ok(json!({
            "file_id": file_id,
            "file_unique_id": unique_id(file_id),
            "file_size": bytes.len(),
            "file_path": file_path(file_id),
        }))
    }

    /// The `Message` a send or edit produces, remembered for later edits and callbacks.
    fn bot_message(&mut self, call: &Call, is_edit: bool) -> Result<Value, ApiError> {
        let chat_id = call.chat_id().ok_or("Bad Request: chat not found")?;
        let edited_id = int_param(&call.params, "message_id").filter(|_| is_edit);
        let message_id = edited_id.unwrap_or_else(next_message_id);
        let mut message = match edited_id.and_then(|id| self.bot_messages.get(&id)) {
            Some(sent) => sent.clone(),
            None => new_message(message_id, bot_user(), chat_id),
        };
        if edited_id.is_some() {
            message["edit_date"] = unix_now().into();
        }
        for field in ["text", "caption"] {
            if let Some(value) = call.params.get(field) {
                message[field] = value.clone();
            }
        }
        // A `Message` only carries inline keyboards, and an edit without one removes it.
        match call.reply_markup().filter(|markup| markup.get("inline_keyboard").is_some()) {
            Some(markup) => message["reply_markup"] = markup,
            None if edited_id.is_some() => {
                if let Some(message) = message.as_object_mut() {
                    message.remove("reply_markup");
                }
            }
            None => {}
        }
        if let Some((field, media)) = sent_media(call, message_id) {
            message[field] = media;
        }
        self.bot_messages.insert(message_id, message.clone());
        Ok(message)
    }
}

/// What Telegram answers a bot writing to someone who blocked it.
const BLOCKED: &str = "Forbidden: bot was blocked by the user";

/// A Bot API error: mostly «Bad Request» (400), as the fake's `?` on a `&str` gives.
#[derive(Debug, Clone)]
struct ApiError {
    status: StatusCode,
    description: String,
}

impl From<&str> for ApiError {
    fn from(description: &str) -> ApiError {
        ApiError { status: StatusCode::BAD_REQUEST, description: description.to_owned() }
    }
}

/// Methods whose result is the sent or edited `Message`.
fn returns_message(method: &str) -> bool {
    let sends = method.starts_with("send")
        && !matches!(method, "sendchataction" | "sendgift" | "sendgiftchat" | "sendmediagroup");
    sends || method.starts_with("editmessage") || matches!(method, "forwardmessage" | "stopmessagelivelocation")
}

/// The `document` or `photo` field of a sent message: an uploaded file gets a fresh file id, a
/// file id (or URL) sent as a string is echoed back.
fn sent_media(call: &Call, message_id: i64) -> Option<(&'static str, Value)> {
    let field = ["document", "photo"].into_iter().find(|field| call.params.get(*field).is_some())?;
    let upload = call.files.iter().find(|file| file.field == field);
    let file_id = match upload {
        Some(_) => format!("{field}-{message_id}"),
        None => call.params[field].as_str().unwrap_or_default().to_owned(),
    };
    let size = upload.map_or(0, |file| file.bytes.len());
    let media = if field == "photo" {
        json!([photo_size(&file_id, size)])
    } else {
        let file_name = upload.and_then(|file| file.file_name.clone());
        json!({"file_id": file_id, "file_unique_id": unique_id(&file_id), "file_name": file_name, "file_size": size})
    };
    Some((field, media))
}

fn app(shared: Arc<Shared>) -> impl Endpoint {
    Route::new().at("/file/:bot/*path", get(download)).at("/:bot/:method", post(api)).data(shared)
}

#[handler]
async fn api(
    req: &Request,
    body: Body,
    Path((bot, method)): Path<(String, String)>,
    Data(shared): Data<&Arc<Shared>>,
) -> Response {
    if bot.strip_prefix("bot") != Some(TOKEN) {
        return error_response(StatusCode::UNAUTHORIZED, "Unauthorized");
    }
    let mut call = match read_call(req, body, &method).await {
        Ok(call) => call,
        Err(problem) => return error_response(StatusCode::BAD_REQUEST, &format!("Bad Request: {problem}")),
    };
    if call.is("getUpdates") {
        shared.state().polls += 1;
        let updates = shared.get_updates(&call.params).await;
        return ok_response(updates);
    }
    let upload = call.is("sendDocument");
    let answer = {
        let mut state = shared.state();
        if state.over_the_limit(&call) {
            state.too_many_requests += 1;
            return too_many_requests();
        }
        let answer = state.answer(&call);
        call.result = answer.as_ref().cloned().unwrap_or(Value::Null);
        state.calls.push(call);
        state.last_call_at = Some(Instant::now());
        answer
    };
    if upload {
        // Only an error ends the wait early: the fake is being dropped.
        let _ = shared.uploads_held.subscribe().wait_for(|held| !held).await;
    }
    match answer {
        Ok(result) => ok_response(result),
        Err(ApiError { status, description }) => error_response(status, &description),
    }
}

/// Serves files registered with [`FakeTelegram::add_file`]; poem has already percent-decoded
/// `path` (teloxide sends `files%2F<id>`).
#[handler]
async fn download(Path((bot, path)): Path<(String, String)>, Data(shared): Data<&Arc<Shared>>) -> Response {
    let file = path.strip_prefix("files/").and_then(|file_id| shared.state().files.get(file_id).cloned());
    match file {
        Some(bytes) if bot.strip_prefix("bot") == Some(TOKEN) => Response::builder().body(bytes),
        _ => error_response(StatusCode::NOT_FOUND, "Not Found"),
    }
}

async fn read_call(req: &Request, body: Body, method: &str) -> Result<Call, String> {
    let is_multipart = req.content_type().is_some_and(|content_type| content_type.starts_with("multipart/form-data"));
    let (params, files) =
        if is_multipart { read_multipart(req, body).await? } else { (read_json(body).await?, Vec::new()) };
    Ok(Call { method: lower_camel_case(method), params, files, result: Value::Null })
}

async fn read_json(body: Body) -> Result<Value, String> {
    let bytes = body.into_vec().await.map_err(|err| err.to_string())?;
    if bytes.is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    match serde_json::from_slice(&bytes) {
        Ok(params @ Value::Object(_)) => Ok(params),
        Ok(_) => Err("the body must be a JSON object".to_owned()),
        Err(err) => Err(format!("invalid JSON body: {err}")),
    }
}

/// Text parts become string parameters; parts with a file name (even an empty one, which
/// teloxide sends for unnamed in-memory files) are uploads.
async fn read_multipart(req: &Request, body: Body) -> Result<(Value, Vec<UploadedFile>), String> {
    let mut multipart =
        Multipart::from_request(req, &mut RequestBody::new(body)).await.map_err(|err| err.to_string())?;
    let mut params = Map::new();
    let mut files = Vec::new();
    while let Some(part) = multipart.next_field().await.map_err(|err| err.to_string())? {
        let name = part.name().unwrap_or_default().to_owned();
        let file_name = part.file_name().map(str::to_owned);
        let bytes = part.bytes().await.map_err(|err| err.to_string())?;
        match file_name {
            Some(file_name) => {
                let file_name = Some(file_name).filter(|file_name| !file_name.is_empty());
                files.push(UploadedFile { field: name, file_name, bytes });
            }
            None => {
                let text = String::from_utf8(bytes).map_err(|_| format!("field `{name}` is not UTF-8"))?;
                params.insert(name, Value::String(text));
            }
        }
    }
    for file in &mut files {
        let reference = format!("attach://{}", file.field);
        if let Some(param) =
            params.iter().find_map(|(param, value)| (value.as_str() == Some(&reference)).then_some(param))
        {
            file.field = param.clone();
        }
    }
    Ok((Value::Object(params), files))
}

/// Telegram's answer to a flood: 429 with the seconds to wait in `parameters`.
fn too_many_requests() -> Response {
    let body = json!({
        "ok": false,
        "error_code": 429,
        "description": "Too Many Requests: retry after 1",
        "parameters": {"retry_after": 1},
    });
    json_response(StatusCode::TOO_MANY_REQUESTS, &body)
}

fn ok_response(result: Value) -> Response {
    json_response(StatusCode::OK, &json!({"ok": true, "result": result}))
}

fn error_response(status: StatusCode, description: &str) -> Response {
    json_response(status, &json!({"ok": false, "error_code": status.as_u16(), "description": description}))
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    Response::builder().status(status).content_type("application/json").body(body.to_string())
}

/// `SendMessage` -> `sendMessage`.
fn lower_camel_case(method: &str) -> String {
    let mut chars = method.chars();
    chars.next().map(|first| first.to_ascii_lowercase().to_string() + chars.as_str()).unwrap_or_default()
}

/// An integer parameter, which multipart requests carry as a string.
fn int_param(params: &Value, name: &str) -> Option<i64> {
    match params.get(name)? {
        Value::String(text) => text.parse().ok(),
        value => value.as_i64(),
    }
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| since.as_secs())
}

fn file_path(file_id: &str) -> String {
    format!("files/{file_id}")
}

fn unique_id(file_id: &str) -> String {
    format!("unique-{file_id}")
}

fn photo_size(file_id: &str, file_size: usize) -> Value {
    json!({"file_id": file_id, "file_unique_id": unique_id(file_id), "width": 1280, "height": 960, "file_size": file_size})
}

fn bot_user() -> Value {
    json!({"id": BOT_ID, "is_bot": true, "first_name": "Chernomorsk", "username": BOT_USERNAME})
}

fn me() -> Value {
    let mut me = bot_user();
    for flag in ["can_join_groups", "can_read_all_group_messages", "supports_inline_queries", "has_main_web_app"] {
        me[flag] = false.into();
    }
    me
}

fn user(id: i64) -> Value {
    json!({"id": id, "is_bot": false, "first_name": "User"})
}

/// A message in the private chat with `chat_id`, without content.
fn new_message(message_id: i64, from: Value, chat_id: i64) -> Value {
    json!({
        "message_id": message_id,
        "date": unix_now(),
        "chat": {"id": chat_id, "type": "private", "first_name": "User"},
        "from": from,
    })
}

/// Builders for updates from a user in their private chat with the bot (chat id == user id),
/// without `update_id`: [`FakeTelegram::push_update`] assigns it.
pub mod updates {
    use serde_json::{Value, json};

    use super::{bot_user, new_message, next_message_id, photo_size, unique_id, user};

    /// A text message; a leading `/command` gets the `bot_command` entity Telegram adds.
    pub fn text(user_id: i64, text: &str) -> Value {
        let mut message = user_message(user_id);
        message["text"] = text.into();
        if text.starts_with('/') {
            let command = text.split_whitespace().next().unwrap_or(text);
            // Entity offsets and lengths are in UTF-16 code units.
            message["entities"] =
                json!([{"type": "bot_command", "offset": 0, "length": command.encode_utf16().count()}]);
        }
        json!({"message": message})
    }

    /// A shared contact, as sent by a "request contact" keyboard button (then
    /// `contact_user_id == Some(user_id)`).
    pub fn contact(user_id: i64, phone: &str, contact_user_id: Option<i64>) -> Value {
        let mut message = user_message(user_id);
        message["contact"] = json!({"phone_number": phone, "first_name": "User"});
        if let Some(contact_user_id) = contact_user_id {
            message["contact"]["user_id"] = contact_user_id.into();
        }
        json!({"message": message})
    }

    pub fn photo(user_id: i64, file_id: &str, caption: Option<&str>) -> Value {
        let mut message = user_message(user_id);
        message["photo"] = json!([photo_size(file_id, 100_000)]);
        if let Some(caption) = caption {
            message["caption"] = caption.into();
        }
        json!({"message": message})
    }

    pub fn document(user_id: i64, file_id: &str, file_name: &str, mime: &str) -> Value {
        let mut message = user_message(user_id);
        message["document"] = json!({
            "file_id": file_id,
            "file_unique_id": unique_id(file_id),
            "file_name": file_name,
            "mime_type": mime,
            "file_size": 100_000,
        });
        json!({"message": message})
    }

    /// A press of an inline button with `data` under the bot's message `message_id`. If the bot
    /// really sent that message, the queued update carries it instead of this placeholder.
    pub fn callback(user_id: i64, data: &str, message_id: i64) -> Value {
        let mut message = new_message(message_id, bot_user(), user_id);
        message["text"] = "".into();
        json!({"callback_query": {
            "id": format!("callback-{}", next_message_id()),
            "from": user(user_id),
            "chat_instance": format!("instance-{user_id}"),
            "data": data,
            "message": message,
        }})
    }

    fn user_message(user_id: i64) -> Value {
        new_message(next_message_id(), user(user_id), user_id)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use poem::http::StatusCode;
    use poem::test::TestClient;
    use serde_json::{Value, json};
    use teloxide::net::Download;
    use teloxide::prelude::*;
    use teloxide::types::{
        CallbackQueryId, FileId, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, KeyboardButton, KeyboardMarkup,
        MessageEntityKind, UpdateKind,
    };

    use super::{FakeTelegram, Shared, app, updates};

    #[tokio::test]
    async fn records_requests_and_answers_with_parsable_results() {
        let fake = FakeTelegram::start().await;
        let bot = fake.bot();

        let me = bot.get_me().await.unwrap();
        assert_eq!(me.username(), "chernomorsk_test_bot");
        assert!(me.is_bot);

        let keyboard = InlineKeyboardMarkup::new([[
            InlineKeyboardButton::callback("Yes", "confirm:1"),
            InlineKeyboardButton::callback("No", "cancel"),
        ]]);
        let sent = bot.send_message(ChatId(42), "Confirm?").reply_markup(keyboard).await.unwrap();
        assert_eq!(sent.text(), Some("Confirm?"));
        assert_eq!(sent.chat.id, ChatId(42));
        assert!(sent.reply_markup().is_some());

        let document = InputFile::memory(b"xlsx bytes".to_vec()).file_name("r.xlsx");
        let sent_document = bot.send_document(ChatId(42), document).caption("Report").await.unwrap();
        assert_eq!(sent_document.document().unwrap().file_name.as_deref(), Some("r.xlsx"));

        let calls = fake.calls();
        let methods: Vec<&str> = calls.iter().map(|call| call.method.as_str()).collect();
        assert_eq!(methods, ["getMe", "sendMessage", "sendDocument"]);

        let message = &fake.calls_to("SENDMESSAGE")[0];
        assert_eq!(message.chat_id(), Some(42));
        assert_eq!(message.text(), Some("Confirm?"));
        assert_eq!(message.callback_data(), ["confirm:1", "cancel"]);
        assert_eq!(message.result["message_id"].as_i64(), Some(i64::from(sent.id.0)));

        let upload = &fake.calls_to("sendDocument")[0];
        assert_eq!(upload.chat_id(), Some(42));
        assert_eq!(upload.text(), Some("Report"));
        assert_eq!(upload.files.len(), 1);
        assert_eq!(upload.files[0].field, "document");
        assert_eq!(upload.files[0].file_name.as_deref(), Some("r.xlsx"));
        assert_eq!(upload.files[0].bytes, b"xlsx bytes");
    }

    #[tokio::test]
    async fn answers_edits_keyboards_and_unnamed_uploads() {
        let fake = FakeTelegram::start().await;
        let bot = fake.bot();

        let keyboard = KeyboardMarkup::new([[
            KeyboardButton::new("Share phone").request(teloxide::types::ButtonRequest::Contact)
        ]]);
        let sent = bot.send_message(ChatId(7), "Phone?").reply_markup(keyboard).await.unwrap();
        assert_eq!(fake.calls_to("sendMessage")[0].keyboard_texts(), ["Share phone"]);

        let edited = bot.edit_message_text(ChatId(7), sent.id, "Thanks").await.unwrap();
        assert_eq!((edited.id, edited.text()), (sent.id, Some("Thanks")));
        bot.edit_message_reply_markup(ChatId(7), sent.id).await.unwrap();
        bot.answer_callback_query(CallbackQueryId("query-1".into())).await.unwrap();
        bot.delete_message(ChatId(7), sent.id).await.unwrap();
        bot.set_my_commands([teloxide::types::BotCommand::new("start", "Start")]).await.unwrap();

        let photo = bot.send_photo(ChatId(7), InputFile::memory(vec![1, 2, 3])).await.unwrap();
        assert_eq!(photo.photo().unwrap()[0].file.size, 3);
        let upload = &fake.calls_to("sendPhoto")[0];
        assert_eq!((upload.files[0].field.as_str(), upload.files[0].file_name.as_deref()), ("photo", None));

        let methods: Vec<String> = fake.calls().into_iter().map(|call| call.method).collect();
        assert_eq!(
            methods,
            [
                "sendMessage",
                "editMessageText",
                "editMessageReplyMarkup",
                "answerCallbackQuery",
                "deleteMessage",
                "setMyCommands",
                "sendPhoto"
            ]
        );
    }

    #[tokio::test]
    async fn a_dispatcher_gets_pushed_and_redelivered_updates() {
        let fake = FakeTelegram::start().await;
        let handler = Update::filter_message().endpoint(|bot: Bot, message: Message| async move {
            bot.send_message(message.chat.id, message.text().unwrap_or_default()).await?;
            respond(())
        });
        let mut dispatcher = Dispatcher::builder(fake.bot(), handler).build();
        let shutdown = dispatcher.shutdown_token();
        let dispatching = tokio::spawn(async move { dispatcher.dispatch().await });

        let run = async {
            let since = fake.calls().len();
            let update = updates::text(5, "/start hello");
            let id = fake.push_update(update.clone());
            assert_eq!(fake.next_text_to(5, since).await, "/start hello");

            // Telegram retrying the same update: the bot must see it again.
            let since = fake.calls().len();
            let mut again = update;
            again["update_id"] = id.into();
            fake.push_raw_update(again);
            assert_eq!(fake.next_text_to(5, since).await, "/start hello");
            fake.wait_idle().await;
            assert_eq!(fake.calls_to("sendMessage").len(), 2);

            shutdown.shutdown().expect("the dispatcher is running").await;
            dispatching.await.unwrap();
        };
        // Anything near teloxide's 10 s back-off means a request failed.
        tokio::time::timeout(Duration::from_secs(5), run).await.expect("the dispatcher round trip took too long");

        let methods: Vec<String> = fake.calls().into_iter().map(|call| call.method).collect();
        assert_eq!(methods, ["getWebhookInfo", "getMe", "sendMessage", "sendMessage"]);
    }

    #[tokio::test]
    async fn serves_registered_files() {
        let fake = FakeTelegram::start().await;
        let bot = fake.bot();
        fake.add_file("AgAD-photo 1", b"jpeg bytes".to_vec());

        let file = bot.get_file(FileId("AgAD-photo 1".into())).await.unwrap();
        assert!(file.path.contains('/'), "{}", file.path);
        assert_eq!(file.size, 10);
        let mut downloaded = Vec::new();
        bot.download_file(&file.path, &mut downloaded).await.unwrap();
        assert_eq!(downloaded, b"jpeg bytes");

        assert!(bot.get_file(FileId("unknown".into())).await.is_err());
        let mut sink = Vec::new();
        assert!(bot.download_file("files/unknown", &mut sink).await.is_err());
    }

    #[test]
    fn update_builders_parse_as_teloxide_updates() {
        let parse = |update: Value| -> Update {
            let mut update = update;
            update["update_id"] = 1.into();
            // From text, as teloxide does: its untagged enums do not parse from a `Value`.
            serde_json::from_str(&update.to_string()).unwrap()
        };
        let message = |update: Update| match update.kind {
            UpdateKind::Message(message) => message,
            other => panic!("not a message: {other:?}"),
        };

        let command = message(parse(updates::text(9, "/start abc")));
        assert_eq!((command.chat.id, command.from.as_ref().unwrap().id), (ChatId(9), UserId(9)));
        assert_eq!(command.text(), Some("/start abc"));
        let entity = &command.entities().unwrap()[0];
        assert_eq!((&entity.kind, entity.offset, entity.length), (&MessageEntityKind::BotCommand, 0, 6));

        let contact = message(parse(updates::contact(9, "+79780000000", Some(9))));
        assert_eq!(contact.contact().unwrap().phone_number, "+79780000000");
        assert_eq!(contact.contact().unwrap().user_id, Some(UserId(9)));

        let photo = message(parse(updates::photo(9, "photo-id", Some("meter"))));
        assert_eq!(photo.photo().unwrap()[0].file.id.0, "photo-id");
        assert_eq!(photo.caption(), Some("meter"));

        let document = message(parse(updates::document(9, "doc-id", "a.xlsx", "application/octet-stream")));
        assert_eq!(document.document().unwrap().file_name.as_deref(), Some("a.xlsx"));

        let UpdateKind::CallbackQuery(query) = parse(updates::callback(9, "pay:3", 77)).kind else {
            panic!("not a callback query");
        };
        assert_eq!(query.data.as_deref(), Some("pay:3"));
        assert_eq!(query.regular_message().map(|message| (message.id.0, message.chat.id)), Some((77, ChatId(9))));
    }

    #[tokio::test]
    async fn callback_updates_carry_the_message_the_bot_sent() {
        let fake = FakeTelegram::start().await;
        let keyboard = InlineKeyboardMarkup::new([[InlineKeyboardButton::callback("Pay", "pay")]]);
        let sent = fake.bot().send_message(ChatId(3), "Invoice").reply_markup(keyboard).await.unwrap();

        fake.push_update(updates::callback(3, "pay", i64::from(sent.id.0)));
        let delivered = fake.shared.state().take_updates(0, 100);
        assert_eq!(delivered[0]["callback_query"]["message"]["text"], "Invoice");
        assert_eq!(delivered[0]["callback_query"]["message"]["reply_markup"]["inline_keyboard"][0][0]["text"], "Pay");
    }

    #[tokio::test]
    async fn get_updates_acknowledges_by_offset_and_honours_limit() {
        let fake = FakeTelegram::start().await;
        let first = fake.push_update(updates::text(1, "a"));
        let second = fake.push_update(updates::text(1, "b"));
        let ids = |updates: Vec<Value>| -> Vec<i64> {
            updates.iter().map(|update| update["update_id"].as_i64().unwrap()).collect()
        };
        let mut state = fake.shared.state();
        assert_eq!(ids(state.take_updates(0, 1)), [first]);
        assert_eq!(ids(state.take_updates(first + 1, 100)), [second]);
        // Not acknowledged yet, so delivered again.
        assert_eq!(ids(state.take_updates(first + 1, 100)), [second]);
        assert!(state.take_updates(second + 1, 100).is_empty());
    }

    #[tokio::test]
    async fn rejects_bad_requests_with_bot_api_errors() {
        let client = TestClient::new(app(std::sync::Arc::new(Shared::default())));

        let response = client.post("/bot123456:TEST/SendMessage").body("{not json").send().await;
        response.assert_status(StatusCode::BAD_REQUEST);
        let body = response.json().await;
        body.value().object().get("ok").assert_bool(false);
        body.value().object().get("error_code").assert_i64(400);

        let response = client.post("/botWRONG/getMe").body("{}").send().await;
        response.assert_status(StatusCode::UNAUTHORIZED);

        let response = client.post("/bot123456:TEST/someFutureMethod").body_json(&json!({"x": 1})).send().await;
        response.assert_status_is_ok();
        response.assert_json(json!({"ok": true, "result": true})).await;
    }
}
