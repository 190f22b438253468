//! The full export: every table, every row, no secrets.

mod common;

use std::collections::{BTreeSet, HashMap};

use calamine::{Data, Reader};
use common::{Cooperative, Reading, Table, date, open, read, rubles, units, utc};
use domain::Role;
use entities::{contract, delivery, link_code, meter, meter_photo, payment, reading, staff};
use reports::full_export;
use sea_orm::{ActiveModelTrait, ColumnTrait, DbBackend, EntityTrait, NotSet, QueryFilter, Set};
use service::access::staff as accounts;
use service::access::telegram::{self, LinkTarget};
use service::audit::Actor;

/// The tables the export must hold, in the schema's order, and their sheets.
const TABLES: [(&str, &str); 28] = [
    ("plots", "Участки"),
    ("consumers", "Потребители"),
    ("holdings", "Владельцы участков"),
    ("contracts", "Договоры"),
    ("meters", "Счётчики"),
    ("photos", "Фото"),
    ("meter_photos", "Фото счётчиков"),
    ("readings", "Показания"),
    ("seal_events", "Пломбы"),
    ("tariffs", "Тарифы"),
    ("charges", "Начисления"),
    ("payments", "Оплаты"),
    ("bank_documents", "Документы выписок"),
    ("payer_accounts", "Счета плательщиков"),
    ("closed_periods", "Закрытые месяцы"),
    ("period_balances", "Сальдо по месяцам"),
    ("staff", "Сотрудники"),
    ("telegram_links", "Привязки Telegram"),
    ("link_codes", "Коды привязки"),
    ("bank_details", "Реквизиты"),
    ("network_lines", "Линии сети"),
    ("line_plots", "Участки линий"),
    ("loss_decisions", "Решения о потерях"),
    ("audit_log", "Журнал действий"),
    ("deliveries", "Рассылки"),
    ("announcements", "Объявления"),
    ("member_requests", "Обращения"),
    ("request_messages", "Сообщения обращений"),
];

/// Tables left out on purpose: sessions and dialogue state are not the cooperative's data, and
/// the log of handled Telegram updates is only there to drop duplicates.
const LEFT_OUT: [&str; 5] =
    ["web_sessions", "import_drafts", "telegram_dialogues", "telegram_updates", "seaql_migrations"];

/// The known cooperative plus what only the export shows: staff with a password and an API
/// token, a used and a live link code, an inventory photo, a broken seal, a delivery, a closed
/// February with its balances.
struct Exported {
    coop: Cooperative,
    token: String,
    live_code: String,
}

async fn exported() -> Exported {
    let coop = Cooperative::build().await;
    let ctx = &coop.t.ctx;
    let admin = coop.t.staff("anna", Role::Admin).await;
    coop.t.staff("boris", Role::Controller).await;
    let token = accounts::issue_api_token(ctx, admin.id, Actor::System).await.unwrap();
    let used = telegram::issue_code(ctx, LinkTarget::Consumer(1), Some(admin.id)).await.unwrap();
    telegram::redeem(ctx, &used.code, 777).await.unwrap();
    let everyone = service::members::announcements::Draft {
        body: "Собрание в субботу.".into(),
        urgent: false,
        audience: Default::default(),
    };
    service::members::announcements::send(ctx, &everyone, Actor::Staff(admin.id)).await.unwrap();
    let member = service::members::requests::Member { consumer_id: 1, telegram_user_id: 777 };
    let request = service::members::requests::open(ctx, member, domain::RequestTopic::Seal, "Пломба сорвана.", None);
    let request = request.await.unwrap();
    service::members::requests::answer(ctx, request.id, "Придём в субботу.", Actor::Staff(admin.id)).await.unwrap();
    let live_code = telegram::issue_code(ctx, LinkTarget::Staff(admin.id), Some(admin.id)).await.unwrap().code;
    let meter = meter::Entity::find().filter(meter::Column::Serial.eq("SN-В-3")).one(ctx.db.conn()).await.unwrap();
    let broken = Reading::new(meter.unwrap().id, &[9], utc(2026, 3, 14, 9));
    read(&coop.t, Reading { actor: Actor::Staff(admin.id), seal_intact: Some(false), ..broken }).await;
    meter_photo::ActiveModel {
        id: NotSet,
        meter_id: Set(1),
        photo_id: Set(coop.photo_id),
        taken_at: Set(ctx.now()),
        staff_id: Set(Some(admin.id)),
        created_at: Set(ctx.now()),
    }
    .insert(ctx.db.conn())
    .await
    .unwrap();
    delivery::ActiveModel {
        id: NotSet,
        kind: Set("monthly_report".into()),
        period: Set(common::period("2026-02")),
        target: Set("chat:-100123".into()),
        sent_at: Set(Some(ctx.now())),
        attempts: Set(1),
        last_error: Set(None),
        next_attempt_at: Set(None),
        created_at: Set(ctx.now()),
        parts_sent: Set(0),
    }
    .insert(ctx.db.conn())
    .await
    .unwrap();
    service::testing::bank_details(ctx).await;
    // A bank statement whose one payment nothing matched, resolved and its payer account remembered.
    use bank::testing::{ACCOUNT, TestDocument, write_statement};
    use service::ledger::payments::statement;
    let document = TestDocument::incoming("7", "10.03.2026", "100.00", "Некто", "40817810000000000001", "взносы");
    let file = write_statement(ACCOUNT, "01.03.2026", "14.03.2026", &[document]);
    let preview = statement::preview(ctx, "kl_to_1c.txt", file).await.unwrap();
    statement::commit(ctx, "kl_to_1c.txt", preview.into_rows(), Actor::Staff(admin.id)).await.unwrap();
    let waiting = statement::waiting(ctx.db.conn()).await.unwrap();
    let contract = entities::contract::Entity::find().one(ctx.db.conn()).await.unwrap().unwrap();
    let choice = statement::Choice { contract_number: contract.number, amount: domain::kopecks!(100_00) };
    statement::resolve(ctx, waiting[0].id, vec![choice], true, false, Actor::Staff(admin.id)).await.unwrap();
    service::testing::network_line(ctx, domain::Service::Water, "Водозабор", "ВЗУ", false, &[]).await;
    service::testing::network_line(ctx, domain::Service::Water, "Улица 1", "Л-1", true, &["1", "3"]).await;
    let by_plot = service::network::Decision {
        method: domain::LossMethod::PerPlot,
        cap_percent: Some(10),
        flag_percent: 15,
        decided_on: None,
    };
    let on = chrono::NaiveDate::from_ymd_opt(2026, 1, 10).unwrap();
    service::network::decide(ctx, domain::Service::Water, by_plot, on, Actor::System).await.unwrap();
    service::ledger::months::close(ctx, domain::Period::new(2026, 2).unwrap(), Actor::System).await.unwrap();
    Exported { coop, token, live_code }
}

#[tokio::test]
async fn every_table_is_a_sheet_with_all_its_rows() {
    let e = exported().await;
    let conn = e.coop.t.ctx.db.conn();
    let mut book = open(full_export(&e.coop.t.ctx).await.unwrap());
    assert_eq!(book.sheet_names(), TABLES.map(|(_, sheet)| sheet));
    for (table, sheet) in TABLES {
        let rows = service::db::query(conn, &format!("SELECT COUNT(*) AS n FROM {table}"), []).await.unwrap();
        let count: i64 = rows[0].try_get("", "n").unwrap();
        assert!(count > 0, "the fixture fills {table}");
        let read = Table::read(&mut book, sheet);
        assert_eq!(read.rows.len() as i64, count, "rows of {table}");
        // Every column is named in Russian.
        for header in &read.headers {
            assert!(header.chars().any(|c| matches!(c, 'а'..='я' | 'А'..='Я')), "«{header}» on {sheet}");
        }
    }
}

/// A new table must be exported or left out on purpose, never forgotten.
#[tokio::test]
async fn no_table_is_forgotten() {
    let e = exported().await;
    let conn = e.coop.t.ctx.db.conn();
    let sql = match conn.get_database_backend() {
        DbBackend::Postgres => {
            "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()"
        }
        _ => "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
    };
    let rows = service::db::query(conn, sql, []).await.unwrap();
    let mut schema: BTreeSet<String> = rows.iter().map(|row| row.try_get("", "name").unwrap()).collect();
    for table in LEFT_OUT {
        assert!(schema.remove(table), "{table} is not in the schema any more");
    }
    assert_eq!(TABLES.map(|(table, _)| table.to_owned()).into_iter().collect::<BTreeSet<_>>(), schema);
    let book = open(full_export(&e.coop.t.ctx).await.unwrap());
    assert_eq!(book.sheet_names(), TABLES.map(|(_, sheet)| sheet));
}

#[tokio::test]
async fn money_meter_values_and_dates_keep_their_meaning() {
    let e = exported().await;
    let conn = e.coop.t.ctx.db.conn();
    let mut book = open(full_export(&e.coop.t.ctx).await.unwrap());

    let payments = Table::read(&mut book, "Оплаты");
    let stored = payment::Entity::find().all(conn).await.unwrap();
    let numbers: HashMap<i64, String> =
        contract::Entity::find().all(conn).await.unwrap().into_iter().map(|c| (c.id, c.number)).collect();
    assert_eq!(payments.rows.len(), stored.len());
    for (row, payment) in payments.rows.iter().zip(&stored) {
        assert_eq!(payments.cell(row, "Код записи"), &Data::Float(payment.id as f64));
        assert_eq!(payments.cell(row, "Код договора"), &Data::Float(payment.contract_id as f64));
        assert_eq!(payments.text(row, "№ договора"), numbers[&payment.contract_id], "next to the id");
        assert_eq!(payments.column("№ договора"), payments.column("Код договора") + 1);
        assert_eq!(payments.cell(row, "Сумма, ₽"), &rubles(payment.amount_kopecks));
        assert_eq!(date(payments.cell(row, "Дата оплаты")), payment.paid_on);
        assert_eq!(payments.text(row, "Месяц"), payment.period.to_string());
    }
    let contracts = Table::read(&mut book, "Договоры");
    let first = &contracts.rows[0];
    assert_eq!((contracts.text(first, "№ договора"), contracts.text(first, "№ участка")), ("В-1".into(), "1".into()));
    assert_eq!(contracts.column("№ участка"), contracts.column("Код участка") + 1);

    let readings = Table::read(&mut book, "Показания");
    let stored = reading::Entity::find().all(conn).await.unwrap();
    for (row, reading) in readings.rows.iter().zip(&stored) {
        assert_eq!(readings.cell(row, "Показание (общее или день)"), &units(reading.value_t1));
        assert_eq!(readings.cell(row, "Показание (ночь)"), &reading.value_t2.map_or(Data::Empty, units));
        let local = reading.taken_at.with_timezone(&e.coop.t.ctx.settings.tz).naive_local();
        match readings.cell(row, "Снято") {
            Data::DateTime(at) => assert_eq!(at.as_datetime(), Some(local)),
            other => panic!("taken_at should be a date and time, found {other:?}"),
        }
    }
}

#[tokio::test]
async fn secrets_stay_out() {
    let e = exported().await;
    let conn = e.coop.t.ctx.db.conn();
    let token_hash = staff::Entity::find().all(conn).await.unwrap().into_iter().find_map(|s| s.api_token_hash);
    let token_hash = token_hash.expect("anna has an API token");
    let live = link_code::Entity::find().all(conn).await.unwrap().into_iter().filter(|c| c.used_at.is_none()).count();
    assert_eq!(live, 1, "the fixture leaves one live code");
    let mut book = open(full_export(&e.coop.t.ctx).await.unwrap());

    let staff = Table::read(&mut book, "Сотрудники");
    assert_eq!(staff.rows.len(), 2);
    assert!(staff.headers.contains(&"Логин".to_owned()));
    for secret in ["password_hash", "api_token_hash"] {
        assert!(
            !staff.headers.iter().any(|h| h.contains(secret) || h.contains("арол")),
            "{secret} in {:?}",
            staff.headers
        );
    }
    assert_eq!(Table::read(&mut book, "Коды привязки").headers.len(), 8, "all but code_hash");

    for sheet in book.sheet_names() {
        let range = book.worksheet_range(&sheet).unwrap();
        for cell in range.used_cells().map(|(_, _, cell)| cell.to_string()) {
            assert!(!cell.contains("$argon2"), "a password hash on {sheet}");
            for secret in [&token_hash, &e.token, &e.live_code] {
                assert!(!cell.contains(secret.as_str()), "«{secret}» on {sheet}");
            }
        }
    }
}
