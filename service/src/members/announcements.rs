//! Announcements from the board: who gets one (the audience, counted before sending), sending it
//! (one `deliveries` row per recipient, made in the transaction that stores it, so the scheduler
//! sends each exactly once across restarts and instances), and what became of each send.

use std::collections::HashMap;

use domain::{Kopecks, Period, PlotNumber, Service, TextKind, TooLong};
use entities::{announcement, consumer, contract, delivery, plot};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, NotSet, QueryFilter, QueryOrder, QuerySelect,
    Set, Value,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit::{self, Actor};
use crate::deliveries::{self, Fate};
use crate::error::internal_errors;
use crate::ledger::debt::{self, Scope};
use crate::readings::walk::UNREAD_CONTRACT;
use crate::register::changes::ConsumerSetting;
use crate::{Context, Internal};

/// The `deliveries.kind` of an announcement; the target is `<announcement id>:<consumer id>`.
pub const KIND: &str = "announcement";
pub use crate::deliveries::{BLOCKED, MAX_ATTEMPTS, SKIPPED};
/// The most plot numbers an audience may list.
pub const MAX_PLOTS: usize = 500;

/// Who gets an announcement: every linked member, narrowed by each part that is set. The parts
/// about contracts (service, plots, unread) must hold for one and the same open contract.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Audience {
    /// Consumers of this service only.
    pub service: Option<Service>,
    /// With a contract on one of these plots (plots have no street field: a street is its
    /// plots' numbers).
    pub plots: Vec<PlotNumber>,
    /// Whose debt over all their contracts (`ledger::debt`) is above this.
    pub debt_above: Option<Kopecks>,
    /// With a contract not read this month (the walk's own rule).
    pub unread: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum AnnouncementError {
    #[error("Напишите текст объявления.")]
    Empty,
    #[error(transparent)]
    TooLong(#[from] TooLong),
    #[error("Участков в списке больше {MAX_PLOTS}: разошлите объявление частями или всем.")]
    TooManyPlots,
    #[error("«{0}» — не номер участка. Номера пишутся через запятую: 12, 14, 15а.")]
    BadPlot(String),
    #[error("Таких участков нет в реестре: {}.", .0.join(", "))]
    UnknownPlots(Vec<String>),
    #[error("Под выбранные условия не подходит ни один привязанный к боту член товарищества: отправлять некому.")]
    NoRecipients,
    /// The same text to the same members within [`REPEAT_WINDOW`]: a form sent twice.
    #[error("Это объявление уже отправлено (№ {0}) — повтор не отправлен. Его доставка — на странице объявления.")]
    AlreadySent(i64),
    #[error(transparent)]
    Internal(#[from] Internal),
}
internal_errors!(AnnouncementError);

impl Audience {
    /// Plot numbers as people type them: `12, 14 15а; 16`. Bounded before anything is parsed.
    pub fn parse_plots(text: &str) -> Result<Vec<PlotNumber>, AnnouncementError> {
        let text = TextKind::Notes.bounded(text)?;
        let words: Vec<&str> =
            text.split(|c: char| c == ',' || c == ';' || c.is_whitespace()).filter(|w| !w.is_empty()).collect();
        if words.len() > MAX_PLOTS {
            return Err(AnnouncementError::TooManyPlots);
        }
        let mut plots = Vec::with_capacity(words.len());
        for word in words {
            let number =
                PlotNumber::parse(word).map_err(|_| AnnouncementError::BadPlot(word.chars().take(20).collect()))?;
            if !plots.contains(&number) {
                plots.push(number);
            }
        }
        Ok(plots)
    }

    /// In words, for the panel: «вода · участки 12, 14 · долг больше 1 000,00 ₽».
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(service) = self.service {
            parts.push(format!("услуга «{service}»"));
        }
        if !self.plots.is_empty() {
            let numbers: Vec<&str> = self.plots.iter().map(PlotNumber::as_str).collect();
            parts.push(format!("участки {}", numbers.join(", ")));
        }
        if let Some(debt) = self.debt_above {
            parts.push(format!("долг больше {debt}"));
        }
        if self.unread {
            parts.push("не передали показания за месяц".to_owned());
        }
        match parts.is_empty() {
            true => "все привязанные к боту".to_owned(),
            false => parts.join(" · "),
        }
    }
}

/// A member an announcement goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recipient {
    pub consumer_id: i64,
    /// A member linked from several Telegram accounts gets it at the latest linked one.
    pub telegram_user_id: i64,
}

/// The members `audience` names in `period`: linked to the bot, and (unless `urgent`) not muting
/// announcements. In consumer order.
pub async fn recipients(
    conn: &impl ConnectionTrait,
    audience: &Audience,
    urgent: bool,
    period: Period,
) -> Result<Vec<Recipient>, AnnouncementError> {
    let plot_ids = plot_ids(conn, &audience.plots).await?;
    let mut values: Vec<Value> = Vec::new();
    let mut contract = Vec::new();
    if let Some(service) = audience.service {
        contract.push("k.service = ?".to_owned());
        values.push(service.code().into());
    }
    if !plot_ids.is_empty() {
        contract.push(format!("k.plot_id IN ({})", vec!["?"; plot_ids.len()].join(", ")));
        values.extend(plot_ids.iter().map(|&id| Value::from(id)));
    }
    if audience.unread {
        contract.push(UNREAD_CONTRACT.to_owned());
        values.push(period.to_string().into());
    }
    let mut conditions = Vec::new();
    if !contract.is_empty() {
        conditions.push(format!(
            "EXISTS (SELECT 1 FROM contracts k WHERE k.consumer_id = c.id AND k.closed_on IS NULL AND {})",
            contract.join(" AND ")
        ));
    }
    if !urgent {
        conditions.push("c.announcements_muted = ?".to_owned());
        values.push(false.into());
    }
    let filter = match conditions.is_empty() {
        true => String::new(),
        false => format!("WHERE {}", conditions.join(" AND ")),
    };
    let sql = format!(
        "SELECT c.id AS consumer_id, l.telegram_user_id FROM consumers c \
         JOIN telegram_links l ON l.id = (SELECT MAX(id) FROM telegram_links WHERE consumer_id = c.id) \
         {filter} ORDER BY c.id"
    );
    let rows = crate::db::query(conn, &sql, values).await?;
    let mut found: Vec<Recipient> = rows
        .iter()
        .map(|row| {
            Ok(Recipient {
                consumer_id: row.try_get("", "consumer_id")?,
                telegram_user_id: row.try_get("", "telegram_user_id")?,
            })
        })
        .collect::<Result<_, DbErr>>()?;
    if let Some(threshold) = audience.debt_above {
        let debts = debts(conn, audience.service).await?;
        found.retain(|r| debts.get(&r.consumer_id).is_some_and(|debt| *debt > threshold));
    }
    Ok(found)
}

/// Each consumer's debt: what they owe on their contracts of `service` (any, when none), from
/// the ledger's one balance query. Each contract is owed on its own, so an advance on one (paid
/// ahead for electricity) does not lower the debt on another (water).
async fn debts(
    conn: &impl ConnectionTrait,
    service: Option<Service>,
) -> Result<HashMap<i64, Kopecks>, AnnouncementError> {
    let balances = debt::balances(conn, Scope::All, None).await?;
    let mut contracts =
        contract::Entity::find().select_only().columns([contract::Column::Id, contract::Column::ConsumerId]);
    if let Some(service) = service {
        contracts = contracts.filter(contract::Column::Service.eq(service));
    }
    let owners: Vec<(i64, i64)> = contracts.into_tuple().all(conn).await?;
    let mut per_consumer: HashMap<i64, Vec<Kopecks>> = HashMap::new();
    for (contract_id, consumer_id) in owners {
        let owed = balances.get(&contract_id).map(|b| b.debt()).filter(|debt| debt.is_positive());
        per_consumer.entry(consumer_id).or_default().extend(owed);
    }
    per_consumer.into_iter().map(|(consumer_id, owed)| Ok((consumer_id, Kopecks::try_sum(owed)?))).collect()
}

/// The ids of the plots numbered `numbers`; refused naming the numbers not in the register.
async fn plot_ids(conn: &impl ConnectionTrait, numbers: &[PlotNumber]) -> Result<Vec<i64>, AnnouncementError> {
    if numbers.is_empty() {
        return Ok(Vec::new());
    }
    let found = plot::Entity::find().filter(plot::Column::Number.is_in(numbers.iter().cloned())).all(conn).await?;
    let unknown: Vec<String> =
        numbers.iter().filter(|n| !found.iter().any(|p| &p.number == *n)).map(|n| n.as_str().to_owned()).collect();
    match unknown.is_empty() {
        true => Ok(found.into_iter().map(|p| p.id).collect()),
        false => Err(AnnouncementError::UnknownPlots(unknown)),
    }
}

/// What the admin composed.
#[derive(Debug, Clone)]
pub struct Draft {
    pub body: String,
    pub urgent: bool,
    pub audience: Audience,
}

impl Draft {
    fn checked_body(&self) -> Result<String, AnnouncementError> {
        let body = TextKind::Announcement.bounded(&self.body)?;
        match body.is_empty() {
            true => Err(AnnouncementError::Empty),
            false => Ok(body),
        }
    }
}

/// The same announcement again within this time is a form sent twice (a double click, a page
/// reloaded), not a second message to every member.
pub const REPEAT_WINDOW: chrono::Duration = chrono::Duration::minutes(30);

/// How many members `draft` would reach now.
pub async fn preview(ctx: &Context, draft: &Draft) -> Result<usize, AnnouncementError> {
    draft.checked_body()?;
    Ok(recipients(ctx.db.conn(), &draft.audience, draft.urgent, ctx.current_period()).await?.len())
}

/// Stores the announcement and one delivery per recipient, audited, in one transaction; the
/// scheduler sends them.
pub async fn send(ctx: &Context, draft: &Draft, actor: Actor) -> Result<announcement::Model, AnnouncementError> {
    send_with_photo(ctx, draft, None, actor).await
}

/// [`send`] with a photo already stored through [`crate::meters::photos::store`] (its intake and
/// limits), sent with the text as its caption.
pub async fn send_with_photo(
    ctx: &Context,
    draft: &Draft,
    photo_id: Option<i64>,
    actor: Actor,
) -> Result<announcement::Model, AnnouncementError> {
    let body = draft.checked_body()?;
    let period = ctx.current_period();
    let txn = ctx.db.begin_write().await?;
    let recipients = recipients(&txn, &draft.audience, draft.urgent, period).await?;
    if recipients.is_empty() {
        return Err(AnnouncementError::NoRecipients);
    }
    let audience = serde_json::to_string(&draft.audience).map_err(|e| Internal(e.into()))?;
    let repeat = announcement::Entity::find()
        .filter(announcement::Column::Body.eq(&body))
        .filter(announcement::Column::Urgent.eq(draft.urgent))
        .filter(announcement::Column::Audience.eq(&audience))
        .filter(announcement::Column::CreatedAt.gt(ctx.now() - REPEAT_WINDOW))
        .one(&txn)
        .await?;
    if let Some(repeat) = repeat {
        return Err(AnnouncementError::AlreadySent(repeat.id));
    }
    let count = i32::try_from(recipients.len()).map_err(|e| Internal(e.into()))?;
    let stored = announcement::ActiveModel {
        id: NotSet,
        body: Set(body),
        urgent: Set(draft.urgent),
        audience: Set(audience),
        period: Set(period),
        recipients: Set(count),
        created_by: Set(actor.staff_id()),
        created_at: Set(ctx.now()),
        photo_id: Set(photo_id),
    }
    .insert(&txn)
    .await?;
    let targets = recipients.iter().map(|r| target(stored.id, r.consumer_id));
    deliveries::schedule(&txn, ctx, KIND, period, targets).await?;
    let details = json!({"audience": draft.audience.describe(), "urgent": draft.urgent, "recipients": count,
                         "photo": photo_id});
    audit::record(&txn, ctx, actor, "announcement.send", "announcement", Some(stored.id), details).await?;
    txn.commit().await?;
    Ok(stored)
}

fn target(announcement_id: i64, consumer_id: i64) -> String {
    format!("{announcement_id}:{consumer_id}")
}

/// One recipient's send waiting for the scheduler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pending {
    pub period: Period,
    pub announcement_id: i64,
    pub consumer_id: i64,
}

impl Pending {
    /// `deliveries.target`.
    pub fn target(&self) -> String {
        target(self.announcement_id, self.consumer_id)
    }
}

/// Up to `limit` sends due now, oldest first (see [`deliveries::waiting`]).
pub async fn pending(ctx: &Context, limit: u64) -> Result<Vec<Pending>, DbErr> {
    let rows = deliveries::waiting(ctx, KIND, limit).await?;
    Ok(rows.iter().filter_map(|row| parse_target(row.period, &row.target)).collect())
}

fn parse_target(period: Period, target: &str) -> Option<Pending> {
    let (announcement, consumer) = target.split_once(':')?;
    Some(Pending { period, announcement_id: announcement.parse().ok()?, consumer_id: consumer.parse().ok()? })
}

/// What to send for `pending`, checked at the moment of sending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outgoing {
    Send {
        chat_id: i64,
        announcement: announcement::Model,
        /// The photo's stored JPEG, read at the moment of sending.
        photo: Option<Vec<u8>>,
    },
    /// Not to be sent, and why (the recipient unlinked, or muted a non-urgent one meanwhile).
    Skip(&'static str),
}

pub async fn outgoing(ctx: &Context, pending: &Pending) -> Result<Outgoing, Internal> {
    let conn = ctx.db.conn();
    let announcement = announcement::Entity::find_by_id(pending.announcement_id)
        .one(conn)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("announcement {}", pending.announcement_id)))?;
    let link = entities::telegram_link::Entity::find()
        .filter(entities::telegram_link::Column::ConsumerId.eq(pending.consumer_id))
        .order_by_desc(entities::telegram_link::Column::Id)
        .one(conn)
        .await?;
    let Some(link) = link else { return Ok(Outgoing::Skip("не привязан к боту")) };
    if !announcement.urgent {
        let muted =
            consumer::Entity::find_by_id(pending.consumer_id).one(conn).await?.is_none_or(|c| c.announcements_muted);
        if muted {
            return Ok(Outgoing::Skip("отключил объявления"));
        }
    }
    // Sent before a text too long for its caption failed: only the text is left.
    let photo_sent = deliveries::parts_sent(conn, KIND, pending.period, &pending.target()).await? > 0;
    let photo = match announcement.photo_id.filter(|_| !photo_sent) {
        Some(id) => match crate::meters::photos::file(ctx, id, false).await? {
            Some(path) => Some(tokio::fs::read(&path).await.map_err(|e| Internal(e.into()))?),
            None => None,
        },
        None => None,
    };
    Ok(Outgoing::Send { chat_id: link.telegram_user_id, announcement, photo })
}

/// Telegram took the photo of `pending`, sent before its text (too long for a caption).
pub async fn photo_sent(ctx: &Context, pending: &Pending) -> Result<(), DbErr> {
    deliveries::count_part_sent(ctx, KIND, pending.period, &pending.target()).await
}

/// The counts shown beside an announcement.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub delivered: usize,
    pub pending: usize,
    pub blocked: usize,
    /// Failed for good, or skipped.
    pub failed: usize,
}

impl Tally {
    fn count(&mut self, fate: &Fate) {
        match fate {
            Fate::Delivered(_) => self.delivered += 1,
            Fate::Pending(_) => self.pending += 1,
            Fate::Blocked => self.blocked += 1,
            Fate::Skipped(_) | Fate::Failed(_) => self.failed += 1,
        }
    }
}

/// One recipient's line on an announcement's page.
#[derive(Debug, Clone)]
pub struct Receipt {
    pub consumer_id: i64,
    pub full_name: String,
    pub fate: Fate,
}

/// The latest `limit` announcements, newest first, with their counts.
pub async fn list(ctx: &Context, limit: u64) -> Result<Vec<(announcement::Model, Tally)>, DbErr> {
    let conn = ctx.db.conn();
    let announcements =
        announcement::Entity::find().order_by_desc(announcement::Column::Id).limit(limit).all(conn).await?;
    let mut listed = Vec::with_capacity(announcements.len());
    for a in announcements {
        let mut tally = Tally::default();
        for row in delivery_rows(conn, &a).await? {
            tally.count(&Fate::of(&row));
        }
        listed.push((a, tally));
    }
    Ok(listed)
}

async fn delivery_rows(conn: &impl ConnectionTrait, a: &announcement::Model) -> Result<Vec<delivery::Model>, DbErr> {
    delivery::Entity::find()
        .filter(delivery::Column::Kind.eq(KIND))
        .filter(delivery::Column::Period.eq(a.period))
        .filter(delivery::Column::Target.starts_with(format!("{}:", a.id)))
        .order_by_asc(delivery::Column::Id)
        .all(conn)
        .await
}

/// One announcement with each recipient's fate, or none.
pub async fn receipts(ctx: &Context, id: i64) -> Result<Option<(announcement::Model, Tally, Vec<Receipt>)>, DbErr> {
    let conn = ctx.db.conn();
    let Some(a) = announcement::Entity::find_by_id(id).one(conn).await? else { return Ok(None) };
    let rows = delivery_rows(conn, &a).await?;
    let consumer_ids: Vec<i64> =
        rows.iter().filter_map(|r| parse_target(r.period, &r.target)).map(|p| p.consumer_id).collect();
    let names: HashMap<i64, String> =
        crate::db::find_in(conn, consumer::Entity::find(), consumer::Column::Id, consumer_ids)
            .await?
            .into_iter()
            .map(|c| (c.id, c.full_name))
            .collect();
    let mut tally = Tally::default();
    let receipts = rows
        .iter()
        .filter_map(|row| {
            let pending = parse_target(row.period, &row.target)?;
            let fate = Fate::of(row);
            tally.count(&fate);
            let full_name = names.get(&pending.consumer_id).cloned().unwrap_or_default();
            Some(Receipt { consumer_id: pending.consumer_id, full_name, fate })
        })
        .collect();
    Ok(Some((a, tally, receipts)))
}

/// A member mutes announcements or turns them back on; a change is audited.
pub async fn set_muted(ctx: &Context, consumer_id: i64, muted: bool, actor: Actor) -> Result<(), Internal> {
    let setting = ConsumerSetting {
        column: consumer::Column::AnnouncementsMuted,
        action: "consumer.announcements",
        key: "announcements_muted",
    };
    setting.set(ctx, consumer_id, muted, actor).await
}

#[cfg(test)]
mod tests {
    use domain::{Service, TariffPlan, meter_value};

    use super::*;
    use crate::testing::{TestContext, member, new_consumer, office_reading};

    async fn link(t: &TestContext, consumer_id: i64, telegram_user_id: i64) {
        crate::testing::link(&t.ctx, consumer_id, telegram_user_id).await;
    }

    fn audience() -> Audience {
        Audience::default()
    }

    async fn chats(t: &TestContext, audience: &Audience, urgent: bool) -> Vec<i64> {
        let found = recipients(t.ctx.db.conn(), audience, urgent, t.ctx.current_period()).await.unwrap();
        found.iter().map(|r| r.telegram_user_id).collect()
    }

    #[tokio::test]
    async fn the_audience_is_linked_members_narrowed_by_each_part() {
        let t = TestContext::new().await;
        t.standard_tariffs().await;
        let single = TariffPlan::Single;
        let water3 = t.sign("3", new_consumer("Корейко", None), "W-3", Service::Water, single, &[0]).await;
        let power3 = t.sign("4", new_consumer("Бендер", None), "E-4", Service::Electricity, single, &[0]).await;
        let water9 = t.sign("9", new_consumer("Балаганов", None), "W-9", Service::Water, single, &[0]).await;
        let unlinked = t.sign("5", new_consumer("Паниковский", None), "W-5", Service::Water, single, &[0]).await;
        link(&t, water3.consumer_id, 301).await;
        link(&t, power3.consumer_id, 401).await;
        link(&t, water9.consumer_id, 901).await;
        // 25 m³ at 40 ₽: a debt of 1 000 ₽; and a reading this month, so not unread.
        crate::readings::submit(&t.ctx, office_reading(water9.meter_id, vec![meter_value!(25_000)])).await.unwrap();

        assert_eq!(chats(&t, &audience(), false).await, [301, 401, 901], "everyone linked, not the unlinked");
        let water = Audience { service: Some(Service::Water), ..audience() };
        assert_eq!(chats(&t, &water, false).await, [301, 901]);
        let street = Audience::parse_plots("3, 4;5").unwrap();
        let water_on_street = Audience { plots: street.clone(), ..water.clone() };
        assert_eq!(chats(&t, &water_on_street, false).await, [301]);
        assert_eq!(chats(&t, &Audience { plots: street, ..audience() }, false).await, [301, 401]);
        let debtors = |rubles: i64| Audience { debt_above: Some(Kopecks::new(rubles * 100).unwrap()), ..audience() };
        assert_eq!(chats(&t, &debtors(999), false).await, [901]);
        assert!(chats(&t, &debtors(1000), false).await.is_empty(), "above, not equal");
        assert_eq!(chats(&t, &Audience { unread: true, ..audience() }, false).await, [301, 401]);
        // 1 500 ₽ paid ahead for electricity does not lower the 1 000 ₽ owed for water; an
        // audience of one service counts that service's debt.
        let balaganov = crate::register::sign_up::ConsumerRef::Existing(water9.consumer_id);
        t.sign("9", balaganov, "E-9", Service::Electricity, single, &[0]).await;
        let today = t.ctx.today().format("%Y-%m-%d").to_string();
        let ahead = crate::testing::paid("E-9", domain::kopecks!(1500_00), &today);
        crate::ledger::payments::record(&t.ctx, ahead, Actor::System).await.unwrap();
        assert_eq!(chats(&t, &debtors(999), false).await, [901]);
        let owing =
            |service: Service| Audience { service: Some(service), debt_above: Some(Kopecks::ZERO), ..audience() };
        assert_eq!(chats(&t, &owing(Service::Water), false).await, [901]);
        assert!(chats(&t, &owing(Service::Electricity), false).await.is_empty(), "paid ahead for electricity");

        // Muted: only urgent ones reach them.
        let actor = Actor::System;
        set_muted(&t.ctx, water3.consumer_id, true, actor).await.unwrap();
        assert_eq!(chats(&t, &water, false).await, [901]);
        assert_eq!(chats(&t, &water, true).await, [301, 901]);
        let _ = unlinked;
    }

    #[tokio::test]
    async fn bad_audiences_and_texts_are_refused_in_russian() {
        let t = TestContext::new().await;
        t.standard_tariffs().await;
        t.sign("3", new_consumer("Корейко", None), "W-3", Service::Water, TariffPlan::Single, &[0]).await;
        let message = |e: AnnouncementError| e.to_string();
        assert_eq!(
            message(Audience::parse_plots("3, ?!").unwrap_err()),
            "«?!» — не номер участка. Номера пишутся через запятую: 12, 14, 15а."
        );
        let many = (1..=501).map(|n| n.to_string()).collect::<Vec<_>>().join(",");
        assert!(matches!(Audience::parse_plots(&many), Err(AnnouncementError::TooManyPlots)));
        let unknown = Audience { plots: Audience::parse_plots("3 77 78").unwrap(), ..audience() };
        let draft = Draft { body: "Воду отключат в среду.".into(), urgent: false, audience: unknown };
        assert_eq!(message(preview(&t.ctx, &draft).await.unwrap_err()), "Таких участков нет в реестре: 77, 78.");
        let draft = Draft { body: "  ".into(), urgent: false, audience: audience() };
        assert!(matches!(preview(&t.ctx, &draft).await, Err(AnnouncementError::Empty)));
        let draft = Draft { body: "ж".repeat(3501), urgent: false, audience: audience() };
        assert_eq!(
            message(preview(&t.ctx, &draft).await.unwrap_err()),
            "Текст объявления: не длиннее 3500 символов, а здесь 3501."
        );
        // Nobody linked: nothing to send, nothing stored.
        let draft = Draft { body: "Собрание в субботу.".into(), urgent: false, audience: audience() };
        assert!(matches!(send(&t.ctx, &draft, Actor::System).await, Err(AnnouncementError::NoRecipients)));
        assert!(list(&t.ctx, 10).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn each_recipient_gets_one_delivery_and_its_fate_is_told() {
        let t = TestContext::new().await;
        t.standard_tariffs().await;
        let mut consumers = Vec::new();
        for (n, chat) in [(1, 101), (2, 102), (3, 103)] {
            let signed = member(&t.ctx, &n.to_string(), &format!("W-{n}"), Service::Water, 0).await;
            link(&t, signed.consumer_id, chat).await;
            consumers.push(signed.consumer_id);
        }
        let draft =
            Draft { body: "Воду отключат в среду.".into(), urgent: false, audience: audience() };
        assert_eq!(preview(&t.ctx, &draft).await.unwrap(), 3);
        let sent = send(&t.ctx, &draft, Actor::System).await.unwrap();
        assert_eq!(sent.recipients, 3);
        // The form sent twice sends nothing twice.
        let again = send(&t.ctx, &draft, Actor::System).await.unwrap_err();
        assert_eq!(
            again.to_string(),
            format!(
                "Это объявление уже отправлено (№ {}) — повтор не отправлен. Его доставка — на странице объявления.",
                sent.id
            )
        );
        assert_eq!(list(&t.ctx, 10).await.unwrap().len(), 1);
        let due = pending(&t.ctx, 100).await.unwrap();
        assert_eq!(due.iter().map(|p| p.consumer_id).collect::<Vec<_>>(), consumers);

        // The first delivered, the second blocked, the third muted since.
        let ctx = &t.ctx;
        let claim =
            |p: Pending| async move { deliveries::claim(ctx, KIND, p.period, &p.target()).await.unwrap().unwrap() };
        deliveries::mark_sent(&t.ctx, claim(due[0]).await).await.unwrap();
        deliveries::mark_failed(&t.ctx, claim(due[1]).await, &format!("{BLOCKED}: Forbidden")).await.unwrap();
        set_muted(&t.ctx, consumers[2], true, Actor::System).await.unwrap();
        assert_eq!(outgoing(&t.ctx, &due[2]).await.unwrap(), Outgoing::Skip("отключил объявления"));
        let skipped = format!("{SKIPPED}: отключил объявления");
        deliveries::mark_failed(&t.ctx, claim(due[2]).await, &skipped).await.unwrap();

        // Nothing left to send, however long one waits.
        t.clock.advance(chrono::Duration::days(1));
        assert!(pending(&t.ctx, 100).await.unwrap().is_empty());
        let (_, tally, receipts) = receipts(&t.ctx, sent.id).await.unwrap().unwrap();
        assert_eq!(tally, Tally { delivered: 1, pending: 0, blocked: 1, failed: 1 });
        let fates: Vec<String> = receipts.iter().map(|r| format!("{}: {}", r.full_name, r.fate.label())).collect();
        assert_eq!(
            fates,
            ["Член 1: доставлено", "Член 2: заблокировал бота", "Член 3: не отправлено: отключил объявления"]
        );
    }
}
