//! The cooperative's own network (issue 16): lines with their common meters, the month's balance
//! of each line and the sharing of the main meter's losses among the plots as a ledger line.
//!
//! A line's common meter is an ordinary meter on the cooperative's own contract for that line
//! (`network_lines.contract_id`, consumer [`COOPERATIVE`], «plot» the point where the meter
//! stands, e.g. `ТП-1`). So one meter per contract stays true, the meter is read through every door
//! (panel form, `/m`, the controller bot) under the same validation, rollover and replacement
//! rules, and the only difference is that [`crate::ledger::charges`] never bills such a contract.
//! How a balance aligns plots read on other days, and how the last kopeck is placed: see
//! [`domain::network`].

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use domain::network::{Balance, ShareError, Sharer, Track, allocate, percent_text, units_text};
use domain::{
    ChargeKind, Kopecks, LossMethod, MeterValue, Period, PlotNumber, ReadingStatus, Service, TariffPlan, TextKind,
    Zone, cost, tariff_on,
};
use entities::{charge, contract, line_plot, loss_decision, meter, network_line, plot, reading, tariff};
use sea_orm::sea_query::Condition;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, JoinType, NotSet, QueryFilter, QueryOrder,
    QuerySelect, RelationTrait, Set, Value,
};
use serde_json::json;

use crate::audit::{self, Actor};
use crate::db::Source;
use crate::error::internal_errors;
use crate::ledger::{lines, months};
use crate::register::RegisterError;
use crate::register::cards::find_plot;
use crate::register::sign_up::{self, ConsumerRef, NewMeter, SignUp};
use crate::{Context, Internal};

/// The consumer the common meters' contracts are signed with.
pub const COOPERATIVE: &str = "СНТ (общие сети)";
/// A line losing more than this share of what it got is flagged, until the meeting says otherwise.
pub const DEFAULT_FLAG_PERCENT: i32 = 15;
/// Flagged lines named in the accountants' message.
const HEADLINE_LINES: usize = 5;
/// The most a cap or a flag may be, in percent.
const MAX_PERCENT: i32 = 100;

#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    #[error("Укажите название линии.")]
    NoName,
    #[error("Главный счётчик «{0}» уже заведён: у услуги он один.")]
    MainExists(String),
    #[error("Сначала заведите главный счётчик услуги «{0}»: линии подключаются к нему.")]
    NoMainMeter(Service),
    #[error("Участка {0} нет в реестре.")]
    UnknownPlot(PlotNumber),
    #[error("Участок {plot} уже на линии «{line}».")]
    PlotOnAnotherLine { plot: PlotNumber, line: String },
    #[error("Общий счётчик «{line}» за {} не снят: баланса за месяц нет.", .period.russian())]
    NotRead { line: String, period: Period },
    #[error("Нет тарифа «{service}» на {}: потери не в чем выразить.", .on.format("%d.%m.%Y"))]
    NoTariff { service: Service, on: NaiveDate },
    /// Shared from part of a month's readings, the share would have to be redone with a reason.
    #[error("Месяц {} ещё не закончился: потери распределяются по его итогам, с первого числа следующего месяца.", .0.russian())]
    NotEnded(Period),
    #[error("Потери за {} уже распределены. Чтобы распределить заново, укажите причину.", .0.russian())]
    AlreadyShared(Period),
    #[error("Процент {0} вне допустимого: от 0 до 100.")]
    Percent(i32),
    #[error("Дата решения не может быть позже сегодняшней.")]
    FutureDecision,
    /// A closed month's lines are not rewritten (`ledger::lines`' message).
    #[error("{0}")]
    Closed(String),
    #[error(transparent)]
    Share(#[from] ShareError),
    #[error(transparent)]
    Register(RegisterError),
    #[error(transparent)]
    Text(#[from] domain::TooLong),
    #[error(transparent)]
    Internal(#[from] Internal),
}
internal_errors!(NetworkError);

impl From<lines::LineError> for NetworkError {
    fn from(e: lines::LineError) -> Self {
        match e {
            lines::LineError::Db(e) => e.into(),
            closed @ lines::LineError::Closed(_) => NetworkError::Closed(closed.to_string()),
        }
    }
}

impl From<RegisterError> for NetworkError {
    fn from(e: RegisterError) -> Self {
        match e {
            RegisterError::Internal(e) => NetworkError::Internal(e),
            refused => NetworkError::Register(refused),
        }
    }
}

/// A line and its common meter, as an admin adds them.
#[derive(Debug, Clone)]
pub struct NewLine {
    pub service: Service,
    pub name: String,
    /// False: the service's main meter; true: a line under it.
    pub under_main: bool,
    /// Where the meter stands, named like a plot on the map (`ТП-1`, `ВЗУ`, `Л-3`).
    pub point: PlotNumber,
    pub meter: NewMeter,
    /// The plots a line under the main meter feeds.
    pub plots: Vec<PlotNumber>,
}

/// Adds a line: the cooperative's contract at `point` with its common meter, and its plots.
pub async fn add_line(ctx: &Context, line: NewLine, actor: Actor) -> Result<network_line::Model, NetworkError> {
    let name = TextKind::FullName.bounded(&line.name)?;
    if name.is_empty() {
        return Err(NetworkError::NoName);
    }
    let txn = ctx.db.begin_write().await?;
    let lines = network_line::Entity::find().all(&txn).await?;
    let main = lines.iter().find(|l| l.service == line.service && l.parent_id.is_none());
    let parent_id = match (line.under_main, main) {
        (false, Some(main)) => return Err(NetworkError::MainExists(main.name.clone())),
        (false, None) => None,
        (true, Some(main)) => Some(main.id),
        (true, None) => return Err(NetworkError::NoMainMeter(line.service)),
    };
    let mut plot_ids = Vec::new();
    for number in &line.plots {
        let plot = find_plot(&txn, number).await?.ok_or_else(|| NetworkError::UnknownPlot(number.clone()))?;
        // «3, 3» or «3, 3а» written as one plot twice names it once.
        if !plot_ids.contains(&plot.id) {
            plot_ids.push(plot.id);
        }
    }
    let taken = line_plot::Entity::find().filter(line_plot::Column::PlotId.is_in(plot_ids.clone())).all(&txn).await?;
    for row in taken {
        if let Some(other) = lines.iter().find(|l| l.id == row.line_id && l.service == line.service) {
            let plot = plot::Entity::find_by_id(row.plot_id).one(&txn).await?.map(|p| p.number);
            return Err(NetworkError::PlotOnAnotherLine {
                plot: plot.unwrap_or_else(|| line.point.clone()),
                line: other.name.clone(),
            });
        }
    }
    let cooperative = match lines.first() {
        Some(any) => contract::Entity::find_by_id(any.contract_id).one(&txn).await?.map(|c| c.consumer_id),
        None => None,
    };
    let consumer = cooperative
        .map_or_else(|| ConsumerRef::New { full_name: COOPERATIVE.to_owned(), phone: None }, ConsumerRef::Existing);
    let plan = if line.meter.initial.len() == 2 { TariffPlan::DayNight } else { TariffPlan::Single };
    let signed = sign_up::sign_up_in(
        &txn,
        ctx,
        SignUp {
            plot: line.point.clone(),
            plot_address: None,
            consumer,
            contract_number: format!("СЕТЬ-{}", line.point),
            service: line.service,
            plan,
            signed_on: line.meter.installed_on,
            meter: line.meter,
        },
        actor,
    )
    .await?;
    let row = network_line::ActiveModel {
        id: NotSet,
        service: Set(line.service),
        name: Set(name),
        parent_id: Set(parent_id),
        contract_id: Set(signed.contract_id),
        created_at: Set(ctx.now()),
    }
    .insert(&txn)
    .await?;
    for plot_id in plot_ids {
        line_plot::ActiveModel { id: NotSet, line_id: Set(row.id), plot_id: Set(plot_id) }.insert(&txn).await?;
    }
    let details = json!({"service": row.service.code(), "name": row.name, "parent_id": parent_id,
                         "contract_id": row.contract_id, "meter_id": signed.meter_id, "plots": line.plots});
    audit::record(&txn, ctx, actor, "network.line", "network_line", Some(row.id), details).await?;
    txn.commit().await?;
    Ok(row)
}

/// The contracts that carry common meters: never billed, never share losses.
pub async fn line_contracts(conn: &impl Source) -> Result<BTreeSet<i64>, DbErr> {
    let lines: Vec<network_line::Model> = conn.rows("SELECT * FROM network_lines", vec![]).await?;
    Ok(lines.into_iter().map(|l| l.contract_id).collect())
}

/// The meeting's decision in force: what is shared, how, and when a line is flagged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub method: LossMethod,
    pub cap_percent: Option<i32>,
    pub flag_percent: i32,
    /// None: no decision yet, the defaults.
    pub decided_on: Option<NaiveDate>,
}

impl Decision {
    fn cap(self) -> Option<u32> {
        self.cap_percent.and_then(|c| u32::try_from(c).ok())
    }

    fn flag(self) -> u32 {
        u32::try_from(self.flag_percent).unwrap_or(0)
    }
}

/// The decision in force on day `on` for `service`.
pub async fn decision(conn: &impl Source, service: Service, on: NaiveDate) -> Result<Decision, DbErr> {
    let sql = "SELECT * FROM loss_decisions WHERE service = ? AND decided_on <= ? \
               ORDER BY decided_on DESC, id DESC LIMIT 1";
    let row: Option<loss_decision::Model> =
        conn.rows(sql, vec![service.code().into(), on.into()]).await?.into_iter().next();
    Ok(row.map_or(
        Decision { method: LossMethod::None, cap_percent: None, flag_percent: DEFAULT_FLAG_PERCENT, decided_on: None },
        |r| Decision {
            method: r.method,
            cap_percent: r.cap_percent,
            flag_percent: r.flag_percent,
            decided_on: Some(r.decided_on),
        },
    ))
}

/// Records a meeting's decision; earlier ones stay as the history.
pub async fn decide(
    ctx: &Context,
    service: Service,
    decision: Decision,
    decided_on: NaiveDate,
    actor: Actor,
) -> Result<loss_decision::Model, NetworkError> {
    for percent in decision.cap_percent.into_iter().chain([decision.flag_percent]) {
        if !(0..=MAX_PERCENT).contains(&percent) {
            return Err(NetworkError::Percent(percent));
        }
    }
    if decided_on > ctx.today() {
        return Err(NetworkError::FutureDecision);
    }
    let txn = ctx.db.begin_write().await?;
    let row = loss_decision::ActiveModel {
        id: NotSet,
        service: Set(service),
        method: Set(decision.method),
        cap_percent: Set(decision.cap_percent),
        flag_percent: Set(decision.flag_percent),
        decided_on: Set(decided_on),
        staff_id: Set(actor.staff_id()),
        created_at: Set(ctx.now()),
    }
    .insert(&txn)
    .await?;
    let details = json!({"service": service.code(), "method": decision.method.code(),
                         "cap_percent": decision.cap_percent, "flag_percent": decision.flag_percent,
                         "decided_on": decided_on});
    audit::record(&txn, ctx, actor, "network.decision", "loss_decision", Some(row.id), details).await?;
    txn.commit().await?;
    Ok(row)
}

/// One line's month: supplied by its common meter between its readings closing the previous
/// month and this one, and sold on its plots over the same moments.
#[derive(Debug, Clone)]
pub struct LineBalance {
    pub line: network_line::Model,
    pub point: PlotNumber,
    /// The common meter's closing readings: the previous month's (or its installation) and this
    /// month's; None when it was not read this month.
    pub interval: Option<(DateTime<Utc>, DateTime<Utc>)>,
    pub balance: Balance,
    /// The line's consumer contracts, and those of them not read at or after the interval's end.
    pub contracts: usize,
    pub unread: usize,
    pub flagged: bool,
    /// Each consumer contract's pro-rated consumption over the interval, in walking order.
    pub sharers: Vec<(PlotNumber, Sharer)>,
}

/// Every line's balance for `period`, main meters first.
pub async fn balances(conn: &impl Source, ctx: &Context, period: Period) -> Result<Vec<LineBalance>, DbErr> {
    Ok(history(conn, ctx, &[period]).await?.pop().map(|(_, b)| b).unwrap_or_default())
}

/// Every line's balance for each of `periods`, reading the network once per service.
pub async fn history(
    conn: &impl Source,
    ctx: &Context,
    periods: &[Period],
) -> Result<Vec<(Period, Vec<LineBalance>)>, DbErr> {
    // The main meters (no parent) first on every backend: PostgreSQL puts NULLs last by default.
    let sql = "SELECT * FROM network_lines ORDER BY parent_id NULLS FIRST, id";
    let lines: Vec<network_line::Model> = conn.rows(sql, vec![]).await?;
    let mut out: Vec<(Period, Vec<LineBalance>)> = periods.iter().map(|&p| (p, Vec::new())).collect();
    for service in Service::ALL.iter().copied() {
        let of_service: Vec<&network_line::Model> = lines.iter().filter(|l| l.service == service).collect();
        if of_service.is_empty() {
            continue;
        }
        let network = Network::load_for(conn, ctx, service, Some(periods)).await?;
        for (period, balances) in &mut out {
            let flag = decision(conn, service, period.last_day()).await?.flag();
            balances.extend(of_service.iter().map(|line| network.balance(line, *period, flag)));
        }
    }
    Ok(out)
}

/// The month's network in a few words for the accountants' chat: each main meter's balance and
/// the lines above their threshold; none without common meters.
pub async fn headline(conn: &impl Source, ctx: &Context, period: Period) -> Result<Option<String>, DbErr> {
    let balances = balances(conn, ctx, period).await?;
    if balances.is_empty() {
        return Ok(None);
    }
    let percent = |b: &LineBalance| b.balance.losses_basis_points().map_or_else(|| "—".to_owned(), percent_text);
    let mut lines = vec!["Потери в сетях:".to_owned()];
    // A Telegram caption holds 1 024 characters: the worst few lines, and how many more.
    let flagged = balances.iter().filter(|b| b.line.parent_id.is_some() && b.flagged).count();
    let mut shown = 0;
    for b in &balances {
        let unit = b.line.service.unit();
        let (main, read) = (b.line.parent_id.is_none(), b.interval.is_some());
        match (main, read) {
            (true, true) => lines.push(format!(
                "{}: отпущено {} {unit}, продано {} {unit}, потери {} {unit} ({})",
                b.line.service,
                units_text(b.balance.supplied),
                units_text(b.balance.sold),
                units_text(b.balance.losses()),
                percent(b)
            )),
            (true, false) => lines.push(format!("{}: общий счётчик за месяц не снят", b.line.service)),
            (false, _) if b.flagged && shown < HEADLINE_LINES => {
                shown += 1;
                let name: String = b.line.name.chars().take(60).collect();
                lines.push(format!("выше порога: «{name}» — {}", percent(b)));
            }
            (false, _) => {}
        }
    }
    if flagged > shown {
        lines.push(format!("и ещё линий выше порога: {}", flagged - shown));
    }
    Ok(Some(lines.join("\n")))
}

/// The decisions taken, newest first: the history the meeting's choices leave.
pub async fn decisions(conn: &impl ConnectionTrait) -> Result<Vec<loss_decision::Model>, DbErr> {
    loss_decision::Entity::find()
        .order_by_desc(loss_decision::Column::DecidedOn)
        .order_by_desc(loss_decision::Column::Id)
        .all(conn)
        .await
}

/// A service's contracts, plots, meters' tracks and line memberships, read once.
pub(crate) struct Network {
    contracts: Vec<contract::Model>,
    plots: HashMap<i64, plot::Model>,
    tracks: HashMap<i64, Vec<Track>>,
    /// The common meter's closing readings per contract: (period, moment), in time order.
    closings: HashMap<i64, Vec<(Period, i64)>>,
    installed: HashMap<i64, i64>,
    line_plots: HashMap<i64, BTreeSet<i64>>,
    line_contracts: BTreeSet<i64>,
    tz: chrono_tz::Tz,
}

/// A meter's accepted reading, as a track needs it.
struct Point {
    meter_id: i64,
    taken_at: DateTime<Utc>,
    value_t1: MeterValue,
    value_t2: Option<MeterValue>,
}

crate::from_row!(Point { meter_id, taken_at, value_t1, value_t2 });

/// A common meter's accepted reading: the month it closed and when.
struct CommonReading {
    meter_id: i64,
    period: Period,
    taken_at: DateTime<Utc>,
}

crate::from_row!(CommonReading { meter_id, period, taken_at });

/// The accepted readings of a service's meters. The meters come as an `IN` list, so that with a
/// window on `taken_at` SQLite seeks each one's readings in `idx_readings_meter_id_status_taken_at`
/// instead of scanning every accepted reading (`EXPLAIN QUERY PLAN` in the `sqlite3` shell; 16 ms
/// against 86 ms for a join at 10 000 plots × 24 months).
const POINTS: &str = "\
    SELECT r.meter_id, r.taken_at, r.value_t1, r.value_t2 FROM readings r \
    WHERE r.status = ? AND r.meter_id IN ( \
        SELECT m.id FROM meters m JOIN contracts c ON c.id = m.contract_id WHERE c.service = ?)";

/// Each meter's accepted reading nearest to a moment on one side (`{side}` and `{order}`). The
/// service's contracts come first (SQLite keeps a `CROSS JOIN`'s order): left free, SQLite
/// walked every meter, sought its reading and only then looked at the service (10 000 plots:
/// 13 ms of CPU against 2–8 ms in the `sqlite3` shell, BENCHMARKS.md run 10).
const NEAREST: &str = "\
    SELECT r.meter_id, r.taken_at, r.value_t1, r.value_t2 \
    FROM contracts c CROSS JOIN meters m JOIN readings r ON r.id = ( \
        SELECT id FROM readings WHERE meter_id = m.id AND status = ? AND taken_at {side} ? \
        ORDER BY taken_at {order}, id {order} LIMIT 1) \
    WHERE m.contract_id = c.id AND c.service = ?";

impl Network {
    /// The network with every reading: for following it over its whole life (the demo).
    pub(crate) async fn load(conn: &impl Source, ctx: &Context, service: Service) -> Result<Network, DbErr> {
        Self::load_for(conn, ctx, service, None).await
    }

    /// The network as far as the balances of `periods` need it (its whole life when none).
    ///
    /// Only the common meters' readings are read in full: they fix the intervals. Of the
    /// consumer meters' readings only those within the intervals are read, plus each meter's
    /// nearest one before and after them, and a track built from these gives every value within
    /// as one built from all of them. Two years of 10 000 plots are about 400 000 readings; a
    /// month's balance needs two or three per meter.
    async fn load_for(
        conn: &impl Source,
        ctx: &Context,
        service: Service,
        periods: Option<&[Period]>,
    ) -> Result<Network, DbErr> {
        let (code, accepted) = (|| Value::from(service.code()), || Value::from(ReadingStatus::Accepted.code()));
        let contracts: Vec<contract::Model> =
            conn.rows("SELECT * FROM contracts WHERE service = ?", vec![code()]).await?;
        let plots: Vec<plot::Model> = conn.rows("SELECT * FROM plots", vec![]).await?;
        let plots: HashMap<i64, plot::Model> = plots.into_iter().map(|p| (p.id, p)).collect();
        let sql = "SELECT m.* FROM meters m JOIN contracts c ON c.id = m.contract_id WHERE c.service = ?";
        let meters: Vec<meter::Model> = conn.rows(sql, vec![code()]).await?;
        let line_contracts = line_contracts(conn).await?;
        // Asked by meter (`IN`), SQLite seeks the few common meters' readings in
        // `idx_readings_meter_id_status_taken_at`; asked through a join on their contracts, it
        // walked every accepted reading (180 ms at 10 000 plots × 24 months).
        let sql = "SELECT meter_id, period, taken_at FROM readings WHERE status = ? AND meter_id IN ( \
                   SELECT m.id FROM meters m JOIN network_lines l ON l.contract_id = m.contract_id \
                   WHERE l.service = ?) \
                   ORDER BY meter_id, taken_at, id";
        let common: Vec<CommonReading> = conn.rows(sql, vec![accepted(), code()]).await?;
        let meter_contract: HashMap<i64, i64> = meters.iter().map(|m| (m.id, m.contract_id)).collect();
        let mut closings: HashMap<i64, Vec<(Period, i64)>> = HashMap::new();
        for r in &common {
            if let Some(&contract_id) = meter_contract.get(&r.meter_id) {
                closings.entry(contract_id).or_default().push((r.period, r.taken_at.timestamp()));
            }
        }
        for list in closings.values_mut() {
            list.sort_by_key(|&(_, at)| at);
        }
        let mut installed = HashMap::new();
        let mut points: HashMap<i64, Vec<(i64, i64)>> = HashMap::new();
        for m in &meters {
            let at = start_of_day(ctx, m.installed_on);
            points.entry(m.id).or_default().push((at, total(&m.initial_values())));
            let first = installed.entry(m.contract_id).or_insert(at);
            *first = (*first).min(at);
        }
        let mut line_plots: HashMap<i64, BTreeSet<i64>> = HashMap::new();
        let rows: Vec<line_plot::Model> = conn.rows("SELECT * FROM line_plots", vec![]).await?;
        for row in rows {
            line_plots.entry(row.line_id).or_default().insert(row.plot_id);
        }
        let mut network = Network {
            contracts,
            plots,
            tracks: HashMap::new(),
            closings,
            installed,
            line_plots,
            line_contracts,
            tz: ctx.settings.tz,
        };

        let read: Vec<Point> = match periods.map(|periods| network.span(periods)) {
            None => conn.rows(POINTS, vec![accepted(), code()]).await?,
            Some(None) => Vec::new(),
            Some(Some((from, to))) => {
                let at = |moment: i64| Value::from(Utc.timestamp_opt(moment, 0).single());
                // Tracks count whole seconds, so a reading within the second after `to` stands
                // at `to` in a track: the window ends before `to + 1`, not at `to`.
                let to = to + 1;
                let sql = format!(
                    "{POINTS} AND r.taken_at >= ? AND r.taken_at < ? UNION ALL {} UNION ALL {}",
                    NEAREST.replace("{side}", "<").replace("{order}", "DESC"),
                    NEAREST.replace("{side}", ">=").replace("{order}", "ASC"),
                );
                let values = vec![
                    accepted(),
                    code(),
                    at(from),
                    at(to),
                    accepted(),
                    at(from),
                    code(),
                    accepted(),
                    at(to),
                    code(),
                ];
                conn.rows(&sql, values).await?
            }
        };
        for r in read {
            let values = reading::register_values(r.value_t1, r.value_t2);
            points.entry(r.meter_id).or_default().push((r.taken_at.timestamp(), total(&values)));
        }
        for m in &meters {
            network.tracks.entry(m.contract_id).or_default().push(Track::new(points.remove(&m.id).unwrap_or_default()));
        }
        Ok(network)
    }

    /// The common meter's interval for `period` on `line_contract`: from its closing reading of
    /// the last month read before (or its installation) to this month's.
    fn interval(&self, line_contract: i64, period: Period) -> Option<(i64, i64)> {
        let closings = self.closings.get(&line_contract).map(Vec::as_slice).unwrap_or_default();
        let end = closings.iter().rev().find(|(p, _)| *p == period).map(|&(_, at)| at)?;
        let start = closings
            .iter()
            .rev()
            .find(|(p, _)| *p < period)
            .map(|&(_, at)| at)
            .or_else(|| self.installed.get(&line_contract).copied())?;
        Some((start, end))
    }

    /// From the earliest start to the latest end of every line's interval in `periods`.
    fn span(&self, periods: &[Period]) -> Option<(i64, i64)> {
        let intervals =
            self.line_contracts.iter().flat_map(|&c| periods.iter().filter_map(move |&p| self.interval(c, p)));
        intervals.fold(None, |span, (start, end)| match span {
            None => Some((start, end)),
            Some((from, to)) => Some((from.min(start), to.max(end))),
        })
    }

    fn balance(&self, line: &network_line::Model, period: Period, flag_percent: u32) -> LineBalance {
        let point = self
            .plot_of(line.contract_id)
            .map(|p| p.number.clone())
            .unwrap_or_else(|| PlotNumber::parse("0").expect("a plot number"));
        let mut result = LineBalance {
            line: line.clone(),
            point,
            interval: None,
            balance: Balance::default(),
            contracts: 0,
            unread: 0,
            flagged: false,
            sharers: Vec::new(),
        };
        let fed: Vec<&contract::Model> = self
            .contracts
            .iter()
            .filter(|c| !self.line_contracts.contains(&c.id))
            .filter(|c| match line.parent_id {
                None => true,
                Some(_) => self.line_plots.get(&line.id).is_some_and(|plots| plots.contains(&c.plot_id)),
            })
            .collect();
        result.contracts = fed.len();
        let Some((start, end)) = self.interval(line.contract_id, period) else {
            return result;
        };
        result.interval = Utc.timestamp_opt(start, 0).single().zip(Utc.timestamp_opt(end, 0).single());
        let used = |contract_id: i64| -> i64 {
            self.tracks.get(&contract_id).map_or(0, |ts| ts.iter().map(|t| t.used_between(start, end)).sum())
        };
        result.balance.supplied = used(line.contract_id);
        let mut sharers: Vec<(PlotNumber, Sharer)> = Vec::new();
        for c in fed {
            // A contract closed before the interval bought nothing in it and shares nothing.
            let start_day = Utc.timestamp_opt(start, 0).single().map(|t| t.with_timezone(&self.tz).date_naive());
            if c.closed_on.zip(start_day).is_some_and(|(closed, from)| closed < from) {
                continue;
            }
            let tracks = self.tracks.get(&c.id).map(Vec::as_slice).unwrap_or_default();
            if tracks.iter().all(|t| t.unread_at(end)) {
                result.unread += 1;
            }
            let plot = self.plots.get(&c.plot_id);
            let consumption = used(c.id);
            result.balance.sold += consumption;
            let number =
                plot.map(|p| p.number.clone()).unwrap_or_else(|| PlotNumber::parse("0").expect("a plot number"));
            sharers.push((number, Sharer { contract_id: c.id, consumption, area: plot.and_then(|p| p.area_m2) }));
        }
        sharers.sort_by(|a, b| {
            PlotNumber::route_order(a.0.as_str(), b.0.as_str()).then(a.1.contract_id.cmp(&b.1.contract_id))
        });
        result.sharers = sharers;
        result.flagged = result.balance.is_flagged(flag_percent);
        result
    }

    /// What the meters of consumer contracts on `plots` (all plots when none) showed by moment
    /// `at`, pro-rated, since they were installed: only on a network with every reading
    /// ([`Network::load`]), as the moments are not bounded by any month's interval.
    pub(crate) fn sold_until(&self, plots: Option<&BTreeSet<i64>>, at: i64) -> i64 {
        let fed = self.contracts.iter().filter(|c| !self.line_contracts.contains(&c.id));
        fed.filter(|c| plots.is_none_or(|plots| plots.contains(&c.plot_id)))
            .filter_map(|c| self.tracks.get(&c.id))
            .flatten()
            .map(|t| t.used_between(i64::MIN, at))
            .sum()
    }

    fn plot_of(&self, contract_id: i64) -> Option<&plot::Model> {
        let contract = self.contracts.iter().find(|c| c.id == contract_id)?;
        self.plots.get(&contract.plot_id)
    }
}

fn total(values: &[MeterValue]) -> i64 {
    values.iter().map(|v| v.thousandths()).sum()
}

/// The moment a day starts in the cooperative's time zone, in seconds.
fn start_of_day(ctx: &Context, day: NaiveDate) -> i64 {
    let midnight = day.and_hms_opt(0, 0, 0).expect("midnight exists");
    ctx.settings
        .tz
        .from_local_datetime(&midnight)
        .earliest()
        .map_or_else(|| midnight.and_utc().timestamp(), |t| t.timestamp())
}

/// A month's sharing of a service's losses, as booked.
#[derive(Debug, Clone)]
pub struct Shared {
    pub balance: LineBalance,
    pub decision: Decision,
    /// The losses charged to the plots (after the cap), thousandths, and their price per unit.
    pub charged: MeterValue,
    pub price: Kopecks,
    pub amount: Kopecks,
    /// Each contract's share, in walking order (zero shares left out).
    pub shares: Vec<(i64, Kopecks)>,
}

/// Shares `period`'s losses of `service`'s main meter among its plots as «Потери в сетях» lines,
/// once. `again` (a reason) redoes it: in an open month the month's loss lines are replaced; a
/// closed month is never rewritten, the differences are booked in the first open month.
pub async fn share(
    ctx: &Context,
    service: Service,
    period: Period,
    again: Option<&str>,
    actor: Actor,
) -> Result<Shared, NetworkError> {
    let reason = again.map(|r| TextKind::Reason.bounded(r)).transpose()?.filter(|r| !r.is_empty());
    if period >= ctx.current_period() {
        return Err(NetworkError::NotEnded(period));
    }
    let txn = ctx.db.begin_write().await?;
    let main = network_line::Entity::find()
        .filter(network_line::Column::Service.eq(service))
        .filter(network_line::Column::ParentId.is_null())
        .one(&txn)
        .await?
        .ok_or(NetworkError::NoMainMeter(service))?;
    let decision = decision(&txn, service, period.last_day()).await?;
    let balance = Network::load_for(&txn, ctx, service, Some(&[period])).await?.balance(&main, period, decision.flag());
    let Some((_, end)) = balance.interval else {
        return Err(NetworkError::NotRead { line: main.name, period });
    };
    let end_day = ctx.local_date(end);
    let tariffs: Vec<domain::Tariff> = tariff::Entity::find().all(&txn).await?.into_iter().map(Into::into).collect();
    let price = tariff_on(&tariffs, service, Zone::Single, end_day)
        .ok_or(NetworkError::NoTariff { service, on: end_day })?
        .price;
    let charged = MeterValue::new(balance.balance.chargeable(decision.cap())).map_err(Internal::from)?;
    let amount = cost(charged, price).map_err(Internal::from)?;
    let sharers: Vec<Sharer> = balance.sharers.iter().map(|(_, s)| s.clone()).collect();
    let shares: Vec<(i64, Kopecks)> =
        allocate(decision.method, amount, &sharers)?.into_iter().filter(|(_, k)| *k != Kopecks::ZERO).collect();

    let booked_lines = charge::Entity::find()
        .filter(charge::Column::Kind.eq(ChargeKind::NetworkLosses))
        .filter(charge::Column::ForPeriod.eq(period))
        .join(JoinType::InnerJoin, charge::Relation::Contract.def())
        .filter(contract::Column::Service.eq(service))
        .all(&txn)
        .await?;
    if !booked_lines.is_empty() && reason.is_none() {
        return Err(NetworkError::AlreadyShared(period));
    }
    let closed = months::closed_months(&txn).await?;
    let text = format!(
        "Потери в сетях за {}: {} ({}), {}",
        period.russian(),
        balance.balance.losses_basis_points().map_or_else(|| "—".to_owned(), percent_text),
        decision.method.label().to_lowercase(),
        reason.as_deref().unwrap_or("распределение")
    );
    let line = |booking: Period, contract_id: i64, amount: Kopecks| charge::ActiveModel {
        id: NotSet,
        contract_id: Set(contract_id),
        meter_id: Set(None),
        reading_id: Set(None),
        period: Set(booking),
        for_period: Set(period),
        dated_on: Set(booking.last_day().min(ctx.today()).max(booking.first_day())),
        from_on: Set(None),
        to_on: Set(None),
        reason: Set(Some(text.clone())),
        cause_kind: Set(None),
        cause_id: Set(None),
        consumption_change: Set(None),
        kind: Set(ChargeKind::NetworkLosses),
        zone: Set(None),
        previous_value: Set(None),
        current_value: Set(None),
        consumption: Set(None),
        price_kopecks: Set(Some(price)),
        amount_kopecks: Set(amount),
        created_at: Set(ctx.now()),
    };
    if closed.is_closed(period) {
        // A closed month stays as reported: only the differences, in the first open month.
        let booking = months::first_open_period(&txn).await?.unwrap_or_else(|| period.next());
        let mut was: HashMap<i64, i64> = HashMap::new();
        for l in &booked_lines {
            *was.entry(l.contract_id).or_default() += l.amount_kopecks.get();
        }
        let mut now: HashMap<i64, i64> = shares.iter().map(|(c, k)| (*c, k.get())).collect();
        let ids: BTreeSet<i64> = was.keys().chain(now.keys()).copied().collect();
        let mut rows = Vec::new();
        for id in ids {
            let diff = now.remove(&id).unwrap_or(0) - was.get(&id).copied().unwrap_or(0);
            if diff != 0 {
                rows.push(line(booking, id, Kopecks::new(diff).map_err(Internal::from)?));
            }
        }
        lines::write(&txn, closed, None, rows).await?;
    } else {
        let which = (!booked_lines.is_empty()).then(|| {
            Condition::all().add(charge::Column::Id.is_in(booked_lines.iter().map(|l| l.id).collect::<Vec<_>>()))
        });
        let rows = shares.iter().map(|&(c, k)| line(period, c, k)).collect();
        lines::write(&txn, closed, which, rows).await?;
    }
    let details = json!({"service": service.code(), "period": period.to_string(), "method": decision.method.code(),
                         "cap_percent": decision.cap_percent, "supplied": balance.balance.supplied,
                         "sold": balance.balance.sold, "charged": charged.thousandths(), "price": price.get(),
                         "amount": amount.get(), "contracts": shares.len(), "again": reason});
    audit::record(&txn, ctx, actor, "network.share", "network_line", Some(main.id), details).await?;
    txn.commit().await?;
    Ok(Shared { balance, decision, charged, price, amount, shares })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TestContext;

    /// What a balance shows, to compare two loads of one network.
    fn figures(b: &LineBalance) -> impl PartialEq + std::fmt::Debug + use<> {
        (b.line.id, b.interval, b.balance, b.contracts, b.unread, b.flagged, b.sharers.clone())
    }

    /// The balances from the readings around each month are those from every reading, month by
    /// month, including months in which some plots went unread.
    #[tokio::test]
    async fn reading_around_the_interval_gives_the_balance_of_every_reading() {
        let t = TestContext::new().await;
        crate::demo::generate(&t.ctx, crate::demo::DemoSpec { plots: 40, months: 5, seed: 3 }).await.unwrap();
        crate::demo::network(&t.ctx).await.unwrap();
        let conn = t.ctx.db.conn();
        let lines = network_line::Entity::find().all(conn).await.unwrap();
        let everything = Network::load(conn, &t.ctx, Service::Electricity).await.unwrap();
        let mut balanced = 0;
        let mut period = t.ctx.current_period();
        for _ in 0..6 {
            period = period.prev();
            let around = Network::load_for(conn, &t.ctx, Service::Electricity, Some(&[period])).await.unwrap();
            for line in &lines {
                let (whole, windowed) = (everything.balance(line, period, 15), around.balance(line, period, 15));
                assert_eq!(figures(&windowed), figures(&whole), "{} in {period}", line.name);
                balanced += usize::from(whole.interval.is_some());
            }
        }
        assert!(balanced >= 3 * 4, "the lines have balances in most months: {balanced}");
    }
}
