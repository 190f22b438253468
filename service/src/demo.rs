//! Deterministic demo data: a cooperative with history, for trying the system and for benchmarks.
//! The same seed gives the same plots, people, readings and payments.

use chrono::{Datelike, Duration, NaiveDate, NaiveTime, TimeZone};
use domain::{
    Kopecks, MeterSpec, MeterValue, PaymentSource, Period, Phone, PlotNumber, ReadingPoint, ReadingSource,
    ReadingStatus, Service, TariffPlan, Zone, charges_for_meter, kopecks,
};
use entities::{consumer, contract, holding, meter, payment, plot, reading, tariff};
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, NotSet, PaginatorTrait, Set};

use crate::ledger::{charges, months};
use crate::{Context, Internal};

#[derive(Debug, Clone, Copy)]
pub struct DemoSpec {
    pub plots: u32,
    /// Months of history before the current one.
    pub months: u32,
    pub seed: u64,
}

/// What was generated, with the ledger totals the debts must add up to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DemoSummary {
    pub plots: usize,
    pub contracts: usize,
    pub readings: usize,
    pub payments: usize,
    pub charged: Kopecks,
    pub paid: Kopecks,
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("В базе уже есть участки: демо-данные создаются только в пустой базе.")]
    NotEmpty,
    #[error(transparent)]
    Network(#[from] crate::network::NetworkError),
    #[error(transparent)]
    Internal(#[from] Internal),
}
crate::error::internal_errors!(DemoError);

/// SplitMix64: tiny, fast, and stable across crate versions (demo data must not change when a
/// dependency does).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }

    /// True with probability `percent`/100.
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

const SURNAMES: &[&str] = &[
    "Иванов",
    "Петров",
    "Сидоров",
    "Кузнецов",
    "Смирнов",
    "Попов",
    "Васильев",
    "Соколов",
    "Михайлов",
    "Новиков",
    "Фёдоров",
    "Морозов",
    "Волков",
    "Алексеев",
    "Лебедев",
    "Семёнов",
    "Егоров",
    "Павлов",
    "Козлов",
    "Степанов",
    "Николаев",
    "Орлов",
    "Андреев",
    "Макаров",
    "Никитин",
    "Захаров",
    "Зайцев",
    "Соловьёв",
    "Борисов",
    "Яковлев",
];
const MALE_NAMES: &[&str] =
    &["Александр", "Сергей", "Владимир", "Николай", "Михаил", "Андрей", "Алексей", "Виктор", "Юрий", "Остап"];
const FEMALE_NAMES: &[&str] =
    &["Елена", "Ольга", "Татьяна", "Наталья", "Ирина", "Светлана", "Галина", "Людмила", "Мария", "Зинаида"];
const PATRONYMICS: &[&str] = &["Иванов", "Петров", "Сергеев", "Николаев", "Михайлов", "Андреев", "Викторов"];

fn person(rng: &mut Rng) -> String {
    let surname = rng.pick(SURNAMES);
    let patronymic = rng.pick(PATRONYMICS);
    if rng.chance(50) {
        format!("{surname} {} {patronymic}ич", rng.pick(MALE_NAMES))
    } else {
        format!("{surname}а {} {patronymic}на", rng.pick(FEMALE_NAMES))
    }
}

/// Prices before and after the mid-history change, per unit.
const PRICES: &[(Service, Zone, Kopecks, Kopecks)] = &[
    (Service::Water, Zone::Single, kopecks!(45_12), kopecks!(48_30)),
    (Service::Electricity, Zone::Single, kopecks!(6_50), kopecks!(6_95)),
    (Service::Electricity, Zone::Day, kopecks!(7_20), kopecks!(7_70)),
    (Service::Electricity, Zone::Night, kopecks!(3_60), kopecks!(3_85)),
];

/// Rows are inserted in chunks that stay under SQLite's limit of bound variables.
const CHUNK: usize = 1_000;

/// Fills an empty database. History starts `months` months before the current one; about half
/// of the current month is read so far.
pub async fn generate(ctx: &Context, spec: DemoSpec) -> Result<DemoSummary, DemoError> {
    if plot::Entity::find().count(ctx.db.conn()).await? > 0 {
        return Err(DemoError::NotEmpty);
    }
    let txn = ctx.db.begin_write().await?;
    let summary = fill(&txn, ctx, spec).await?;
    txn.commit().await?;
    Ok(summary)
}

async fn fill(conn: &impl ConnectionTrait, ctx: &Context, spec: DemoSpec) -> Result<DemoSummary, DemoError> {
    let mut rng = Rng(spec.seed);
    let now = ctx.now();
    let current = ctx.current_period();
    let mut first = current;
    for _ in 0..spec.months {
        first = first.prev();
    }
    let change_period = {
        let mut p = first;
        for _ in 0..spec.months / 2 {
            p = p.next();
        }
        p
    };
    let start = first.first_day() - Duration::days(1);

    let tariffs: Vec<domain::Tariff> = PRICES
        .iter()
        .flat_map(|&(service, zone, before, after)| {
            [
                domain::Tariff { service, zone, price: before, valid_from: start - Duration::days(365) },
                domain::Tariff { service, zone, price: after, valid_from: change_period.first_day() },
            ]
        })
        .collect();
    tariff::Entity::insert_many(tariffs.iter().map(|t| tariff::ActiveModel {
        id: NotSet,
        service: Set(t.service),
        zone: Set(t.zone),
        price_kopecks: Set(t.price),
        valid_from: Set(t.valid_from),
        created_at: Set(now),
    }))
    .exec(conn)
    .await?;

    let mut summary = DemoSummary::default();
    let mut plots = Vec::new();
    let mut consumers = Vec::new();
    let mut holdings = Vec::new();
    let mut contracts = Vec::new();
    let mut meters = Vec::new();
    // Ids are assigned here so that children can refer to parents before anything is inserted.
    for n in 1..=spec.plots as i64 {
        let number = PlotNumber::parse(&n.to_string()).expect("numbers are plot numbers");
        plots.push(plot::ActiveModel {
            id: Set(n),
            number: Set(number),
            address: Set(Some(format!("ул. Садовая, {}", (n - 1) / 20 + 1))),
            notes: Set(None),
            area_m2: Set(None),
            created_at: Set(now),
        });
        let phone = Phone::parse(&format!("+7978{:07}", 1_000_000 + n)).expect("a valid phone");
        consumers.push(consumer::ActiveModel {
            id: Set(n),
            full_name: Set(person(&mut rng)),
            phone: Set(Some(phone)),
            notes: Set(None),
            reminders_enabled: Set(true),
            announcements_muted: Set(false),
            created_at: Set(now),
        });
        holdings.push(holding::ActiveModel {
            id: NotSet,
            plot_id: Set(n),
            consumer_id: Set(n),
            since: Set(start),
            until: Set(None),
        });
        for service in [Service::Water, Service::Electricity] {
            let has = match service {
                Service::Water => rng.chance(90),
                Service::Electricity => rng.chance(96),
            };
            if !has {
                continue;
            }
            let plan = if service == Service::Electricity && rng.chance(30) {
                TariffPlan::DayNight
            } else {
                TariffPlan::Single
            };
            let id = contracts.len() as i64 + 1;
            let prefix = match service {
                Service::Water => "В",
                Service::Electricity => "Э",
            };
            contracts.push((
                contract::ActiveModel {
                    id: Set(id),
                    number: Set(format!("{prefix}-{n:04}")),
                    consumer_id: Set(n),
                    plot_id: Set(n),
                    service: Set(service),
                    tariff_plan: Set(plan),
                    signed_on: Set(start),
                    closed_on: Set(None),
                    created_at: Set(now),
                },
                service,
                plan,
            ));
            let initial: Vec<MeterValue> =
                plan.zones().iter().map(|_| MeterValue::from_whole(rng.range(0, 5_000))).collect::<Result<_, _>>()?;
            meters.push((
                meter::ActiveModel {
                    id: Set(id),
                    contract_id: Set(id),
                    serial: Set(format!(
                        "{}{:08}",
                        if service == Service::Water { "W" } else { "E" },
                        rng.range(0, 99_999_999)
                    )),
                    zones: Set(plan.zones().len() as i16),
                    installed_on: Set(start),
                    initial_t1: Set(initial[0]),
                    initial_t2: Set(initial.get(1).copied()),
                    seal_number: Set(Some(format!("П-{:06}", rng.range(0, 999_999)))),
                    seal_checked_on: Set(Some(start)),
                    verification_due: Set(Some(start + Duration::days(rng.range(30, 6 * 365)))),
                    removed_on: Set(None),
                    created_at: Set(now),
                },
                MeterSpec { service, zones: plan.zones().to_vec(), initial, installed_on: start },
            ));
        }
    }
    summary.plots = plots.len();
    summary.contracts = contracts.len();
    insert_chunked(conn, plots).await?;
    insert_chunked(conn, consumers).await?;
    insert_chunked(conn, holdings).await?;
    insert_chunked(conn, contracts.iter().map(|(c, _, _)| c.clone()).collect()).await?;
    insert_chunked(conn, meters.iter().map(|(m, _)| m.clone()).collect()).await?;

    // Each meter's whole history is made in one go, but a real cooperative's tables grow month
    // by month, so a month's rows lie together in the file. Rows are kept with the moment they
    // would have arrived and inserted in that order: the report of a month then reads the pages
    // a real database of that size would (issue 20). Only the common meters' few readings, which
    // `network` adds later, come after them all.
    let mut reading_rows = Vec::new();
    let mut consumption = Vec::new();
    let mut payment_rows = Vec::new();
    let mut reading_id = 0i64;
    for (meter_id, (_, spec_m)) in (1i64..).zip(&meters) {
        let contract_id = meter_id;
        let mut values = spec_m.initial.clone();
        let mut points = Vec::new();
        let mut period = first;
        while period <= current {
            let is_current = period == current;
            let read = if is_current { rng.chance(50) && ctx.today().day() > 1 } else { rng.chance(88) };
            // Consumption runs every month whether or not anyone reads the meter.
            let summer = (5..=9).contains(&period.month());
            for (value, zone) in values.iter_mut().zip(&spec_m.zones) {
                let units = match (spec_m.service, zone) {
                    (Service::Water, _) => rng.range(1_000, if summer { 15_000 } else { 5_000 }),
                    (Service::Electricity, Zone::Night) => rng.range(20_000, 150_000),
                    (Service::Electricity, _) => rng.range(40_000, if summer { 400_000 } else { 250_000 }),
                };
                *value = value.checked_add(MeterValue::new(units)?)?;
            }
            if read {
                // This month's readings were taken before today: one later today would stand in
                // the future of the demo's own clock, and a reading entered now would be checked
                // against it.
                let last_day = if is_current { ctx.today().day() - 1 } else { period.last_day().day() };
                let day = rng.range(1, i64::from(last_day)) as u32;
                let date = NaiveDate::from_ymd_opt(period.year(), period.month(), day).expect("a day of the month");
                let local = date.and_time(NaiveTime::from_hms_opt(rng.range(8, 19) as u32, 0, 0).expect("an hour"));
                let taken_at = ctx.settings.tz.from_local_datetime(&local).earliest().expect("a local time").to_utc();
                reading_id += 1;
                let source = match rng.range(0, 2) {
                    0 => ReadingSource::ConsumerBot,
                    1 => ReadingSource::ControllerWeb,
                    _ => ReadingSource::ControllerBot,
                };
                reading_rows.push((
                    taken_at,
                    reading_id,
                    reading::ActiveModel {
                        id: NotSet,
                        meter_id: Set(meter_id),
                        period: Set(period),
                        taken_at: Set(taken_at),
                        value_t1: Set(values[0]),
                        value_t2: Set(values.get(1).copied()),
                        source: Set(source),
                        staff_id: Set(None),
                        consumer_id: Set((source == ReadingSource::ConsumerBot)
                            .then_some(contract_consumer(&contracts, contract_id))),
                        seal_intact: Set((source != ReadingSource::ConsumerBot).then_some(true)),
                        comment: Set(None),
                        photo_id: Set(None),
                        status: Set(ReadingStatus::Accepted),
                        supersedes_id: Set(None),
                        idempotency_key: Set(None),
                        created_at: Set(now),
                    },
                ));
                points.push(ReadingPoint {
                    reading_id,
                    period,
                    taken_on: ctx.local_date(taken_at),
                    values: values.clone(),
                });
            }
            period = period.next();
        }
        let charges = charges_for_meter(spec_m, &points, &tariffs).map_err(|e| Internal(e.into()))?;
        // Most pay each month's bill the next month; some pay part, some nothing, a few pay ahead.
        let habit = rng.range(0, 99);
        for period_charges in charges.chunk_by(|a, b| a.for_period == b.for_period) {
            let period = period_charges[0].for_period;
            let billed = Kopecks::try_sum(period_charges.iter().map(|c| c.amount))?;
            summary.charged = summary.charged.checked_add(billed)?;
            let amount = match habit {
                0..=69 => billed,
                70..=84 => Kopecks::new(billed.get() * rng.range(30, 90) / 100)?,
                85..=94 if rng.chance(50) => billed,
                85..=94 => Kopecks::ZERO,
                _ => billed.checked_add(Kopecks::new(rng.range(0, 50_000))?)?,
            };
            let paid_on = period.next().first_day() + Duration::days(rng.range(2, 20));
            if amount.is_positive() && Period::of(paid_on) < current.next() && paid_on <= ctx.today() {
                summary.paid = summary.paid.checked_add(amount)?;
                payment_rows.push((
                    paid_on,
                    payment::ActiveModel {
                        id: NotSet,
                        contract_id: Set(contract_id),
                        amount_kopecks: Set(amount),
                        paid_on: Set(paid_on),
                        // Booked when the money arrived (nothing is closed in a fresh demo).
                        period: Set(Period::of(paid_on)),
                        for_period: Set(period),
                        reference: Set(Some(format!("DEMO-{contract_id}-{period}"))),
                        staff_id: Set(None),
                        source: Set(PaymentSource::Import),
                        created_at: Set(now),
                        reverses_id: Set(None),
                        bank_document_id: Set(None),
                        reason: Set(None),
                    },
                ));
            }
        }
        consumption.extend(charges.into_iter().map(|c| (contract_id, meter_id, c)));
    }
    summary.readings = reading_rows.len();
    summary.payments = payment_rows.len();
    // Readings are numbered in the order they were taken, and charges follow their readings.
    reading_rows.sort_by_key(|&(taken_at, made, _)| (taken_at, made));
    let mut renumbered = vec![0; reading_rows.len()];
    let reading_rows: Vec<_> = (1i64..)
        .zip(reading_rows)
        .map(|(id, (_, made, mut row))| {
            renumbered[(made - 1) as usize] = id;
            row.id = Set(id);
            row
        })
        .collect();
    for (_, _, c) in &mut consumption {
        c.reading_id = renumbered[(c.reading_id - 1) as usize];
    }
    consumption.sort_by_key(|(_, _, c)| (c.for_period, c.reading_id));
    payment_rows.sort_by_key(|&(paid_on, _)| paid_on);
    insert_chunked(conn, reading_rows).await?;
    insert_chunked(
        conn,
        consumption
            .into_iter()
            .map(|(contract_id, meter_id, c)| charges::consumption_line(contract_id, meter_id, c, now))
            .collect(),
    )
    .await?;
    insert_chunked(conn, payment_rows.into_iter().map(|(_, row)| row).collect()).await?;
    fix_sequences(conn).await?;
    Ok(summary)
}

/// Closes the demo's months before the last full one, as each month's report would have: a
/// cooperative two years in has its balances stored month by month, and its last full month
/// waits for its report. Returns the last month closed, if any is.
pub async fn close_reported(ctx: &Context) -> Result<Option<Period>, DbErr> {
    months::close_for_report(ctx, ctx.current_period().prev().prev()).await?;
    Ok(months::closed_months(ctx.db.conn()).await?.last_closed())
}

/// The cooperative's electricity network on top of [`generate`]'s plots: the main meter at the
/// transformer and a line per street of the first two, read on each month's last evening (this
/// month: now). Line «Садовая, 2» leaks (19 % over its plots), line 1 loses 6 %, the rest of the
/// network 5 %: the main meter's month comes out at about 7–9 %.
pub async fn network(ctx: &Context) -> Result<(), DemoError> {
    use std::collections::BTreeSet;

    use crate::network::{Network, NewLine, add_line};
    use crate::register::sign_up::NewMeter;

    let conn = ctx.db.conn();
    let plots = plot::Entity::find().all(conn).await?;
    let Some(first) = reading::Entity::find().all(conn).await?.iter().map(|r| r.period).min() else {
        return Ok(());
    };
    let street = |n: i64| -> BTreeSet<i64> {
        let address = format!("ул. Садовая, {n}");
        plots.iter().filter(|p| p.address.as_deref() == Some(address.as_str())).map(|p| p.id).collect()
    };
    let line = |name: &str, point: &str, under_main: bool, ids: &BTreeSet<i64>| NewLine {
        service: Service::Electricity,
        name: name.to_owned(),
        under_main,
        point: PlotNumber::parse(point).expect("a point on the map"),
        meter: NewMeter {
            serial: format!("ДЕМО-{point}"),
            installed_on: first.first_day() - Duration::days(1),
            initial: vec![MeterValue::ZERO],
            seal_number: None,
            verification_due: None,
        },
        plots: plots.iter().filter(|p| ids.contains(&p.id)).map(|p| p.number.clone()).collect(),
    };
    let actor = crate::audit::Actor::System;
    let (one, two) = (street(1), street(2));
    let main = add_line(ctx, line("Трансформатор", "ТП-1", false, &BTreeSet::new()), actor).await?;
    let first_line = add_line(ctx, line("Садовая, 1", "Л-1", true, &one), actor).await?;
    let leaking = add_line(ctx, line("Садовая, 2", "Л-2", true, &two), actor).await?;
    let network = Network::load(conn, ctx, Service::Electricity).await?;
    let mut rows = Vec::new();
    let mut period = first;
    while period <= ctx.current_period() {
        let evening = period.last_day().and_time(NaiveTime::from_hms_opt(20, 0, 0).expect("an hour"));
        let evening = ctx.settings.tz.from_local_datetime(&evening).earliest().expect("a local time").to_utc();
        let at = evening.min(ctx.now());
        let (all, l1, l2) = (
            network.sold_until(None, at.timestamp()),
            network.sold_until(Some(&one), at.timestamp()),
            network.sold_until(Some(&two), at.timestamp()),
        );
        for (line, value) in [
            (&main, all * 105 / 100 + l1 / 100 + l2 * 14 / 100),
            (&first_line, l1 * 106 / 100),
            (&leaking, l2 * 119 / 100),
        ] {
            let meter_id = crate::meters::of_contract(conn, line.contract_id).await?[0].id;
            rows.push(reading::ActiveModel {
                id: NotSet,
                meter_id: Set(meter_id),
                period: Set(period),
                taken_at: Set(at),
                value_t1: Set(MeterValue::new(value)?),
                value_t2: Set(None),
                source: Set(ReadingSource::ControllerWeb),
                staff_id: Set(None),
                consumer_id: Set(None),
                seal_intact: Set(Some(true)),
                comment: Set(None),
                photo_id: Set(None),
                status: Set(ReadingStatus::Accepted),
                supersedes_id: Set(None),
                idempotency_key: Set(None),
                created_at: Set(ctx.now()),
            });
        }
        period = period.next();
    }
    insert_chunked(conn, rows).await?;
    Ok(())
}

fn contract_consumer(contracts: &[(contract::ActiveModel, Service, TariffPlan)], contract_id: i64) -> i64 {
    contracts[(contract_id - 1) as usize].0.consumer_id.clone().unwrap()
}

async fn insert_chunked<A>(conn: &impl ConnectionTrait, rows: Vec<A>) -> Result<(), DbErr>
where
    A: sea_orm::ActiveModelTrait + Send,
{
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(CHUNK).collect();
        A::Entity::insert_many(chunk).exec_without_returning(conn).await?;
    }
    Ok(())
}

/// PostgreSQL sequences do not see explicitly inserted ids; move them past the demo rows.
async fn fix_sequences(conn: &impl ConnectionTrait) -> Result<(), DbErr> {
    if conn.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
        return Ok(());
    }
    for table in ["plots", "consumers", "contracts", "meters", "readings"] {
        let sql = format!("SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))");
        conn.execute_unprepared(&sql).await?;
    }
    Ok(())
}
