//! Loading the register at go-live from a spreadsheet: the template, the dry run on a hostile
//! file, the commit and its idempotent repeat, the opening debt as the bot, the debt and the
//! monthly report show it, billing from the opening reading, and the command line.

use std::io::Cursor;

use calamine::{Data, Range, Reader, Xlsx};
use chrono::NaiveDate;
use clap::Parser;
use domain::{ChargeKind, Kopecks, Period, Role, Service, TariffPlan, kopecks, meter_value};
use entities::{audit_log, charge, consumer, contract, holding, meter, plot};
use poem::http::StatusCode;
use rust_xlsxwriter::{Format, Workbook};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use service::access::telegram::LinkTarget;
use service::audit::Actor;
use service::ledger::charges;
use service::ledger::debt::{self, Scope};
use service::readings::Submission;
use service::register::changes::MeterDetails;
use service::register::import::plan::{Counts, Status};
use service::register::import::read::SCHEMA;
use service::register::{changes, import};
use service::spreadsheet::FileError;
use service::testing::{TestContext, default_now, new_consumer, office_reading, standard_tariffs};
use service::{Context, readings};
use tests::bot_chat::BotChat;
use tests::{PanelClient, TestApp};

/// A cell of a test workbook.
#[derive(Debug, Clone, Copy)]
enum Cell {
    Text(&'static str),
    Number(f64),
    Date(NaiveDate),
    Empty,
}
use Cell::{Date, Empty, Number, Text};

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// The opening day of the examples: the test clock stands at 15.03.2026.
fn opening_day() -> NaiveDate {
    day(2026, 3, 1)
}

/// A register row in the import's column order: Иванова's water contract В-1 on plot 1, read at
/// 100 m³ on 01.03.2026 and owing 1 500 ₽, with `changes` put over it by column name.
fn row(changes: &[(&str, Cell)]) -> Vec<Cell> {
    let base = [
        ("Участок", Text("1")),
        ("ФИО", Text("Иванова Анна Петровна")),
        ("Телефон", Text("+7 978 123-45-67")),
        ("Договор", Text("В-1")),
        ("Услуга", Text("Вода")),
        ("Тариф", Text("Однотарифный")),
        ("Счётчик", Text("ВК-1")),
        ("Пломба", Text("П-1")),
        ("Показание", Number(100.0)),
        ("Дата показания", Date(opening_day())),
        ("Сальдо", Number(1500.0)),
    ];
    SCHEMA
        .columns
        .iter()
        .map(|column| changes.iter().chain(&base).find(|(name, _)| *name == column.name).map_or(Empty, |(_, c)| *c))
        .collect()
}

fn header() -> Vec<Cell> {
    SCHEMA.columns.iter().map(|c| Text(c.name)).collect()
}

fn xlsx(rows: &[Vec<Cell>]) -> Vec<u8> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    let date = Format::new().set_num_format("dd.mm.yyyy");
    for (r, row) in (0..).zip(rows) {
        for (c, cell) in (0..).zip(row) {
            match cell {
                Text(s) => sheet.write_string(r, c, *s).map(drop),
                Number(n) => sheet.write_number(r, c, *n).map(drop),
                Date(d) => sheet.write_date_with_format(r, c, d, &date).map(drop),
                Empty => Ok(()),
            }
            .unwrap();
        }
    }
    workbook.save_to_buffer().unwrap()
}

/// Three contracts: Иванова's water and day/night electricity on plot 1 (the address given on
/// the second row only, a credit on the electricity), and Бендер's water on plot 2, without a
/// phone or a saldo, signed years before go-live.
fn register_file() -> Vec<u8> {
    xlsx(&[
        header(),
        row(&[]),
        row(&[
            ("Адрес", Text("ул. Морская, 1")),
            ("Договор", Text("Э-1")),
            ("Услуга", Text("Электроэнергия")),
            ("Тариф", Text("День/ночь")),
            ("Счётчик", Text("ЭН-1")),
            ("Пломба", Empty),
            ("Показание", Number(10_234.5)),
            ("Показание ночь", Number(4_567.25)),
            ("Сальдо", Text("-200,50")),
        ]),
        row(&[
            ("Участок", Number(2.0)),
            ("ФИО", Text("Бендер Остап Ибрагимович")),
            ("Телефон", Empty),
            ("Договор", Text("В-2")),
            ("Дата договора", Date(day(2019, 5, 15))),
            ("Счётчик", Text("ВК-2")),
            ("Поверка до", Text("01.06.2030")),
            ("Сальдо", Empty),
        ]),
    ])
}

/// The register's import page.
const IMPORT: &str = "/register/import";

const CREATED: Counts = Counts {
    plots: 2,
    consumers: 2,
    contracts: 3,
    on_file: 0,
    opening_debt: kopecks!(1_500_00),
    opening_credit: kopecks!(200_50),
};

async fn count<E: EntityTrait>(ctx: &Context) -> u64
where
    E::Model: Sync,
{
    E::find().count(ctx.db.conn()).await.unwrap()
}

/// Plots, consumers, contracts, meters, holdings and charges on file.
async fn register_size(ctx: &Context) -> [u64; 6] {
    [
        count::<plot::Entity>(ctx).await,
        count::<consumer::Entity>(ctx).await,
        count::<contract::Entity>(ctx).await,
        count::<meter::Entity>(ctx).await,
        count::<holding::Entity>(ctx).await,
        count::<charge::Entity>(ctx).await,
    ]
}

async fn contract_by_number(ctx: &Context, number: &str) -> contract::Model {
    service::ledger::payments::contract_by_number(ctx.db.conn(), number).await.unwrap().expect("the contract")
}

async fn meter_of(ctx: &Context, contract_id: i64) -> meter::Model {
    meter::Entity::find().filter(meter::Column::ContractId.eq(contract_id)).one(ctx.db.conn()).await.unwrap().unwrap()
}

/// The sheet `name` of an xlsx file, as a spreadsheet program reads it.
fn sheet(bytes: &[u8], name: &str) -> Range<Data> {
    let mut workbook: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes.to_vec())).unwrap();
    workbook.worksheet_range(name).unwrap()
}

/// The cell under `column` in the row whose «Договор» is `contract`, on a sheet with a header row
/// (under the report's title and totals).
fn cell_of(range: &Range<Data>, contract: &str, column: &str) -> Data {
    let mut rows = range.rows();
    let header = rows.find(|r| r.iter().any(|c| c == "Договор")).expect("a header row");
    let header: Vec<String> = header.iter().map(ToString::to_string).collect();
    let at = |name: &str| header.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column «{name}»"));
    let row = rows.find(|r| r[at("Договор")] == contract).unwrap_or_else(|| panic!("no {contract}"));
    row[at(column)].clone()
}

#[tokio::test]
async fn the_template_imports_as_it_is() {
    let t = TestContext::new().await;
    let template = reports::template::register_template().unwrap();

    let help = sheet(&template, reports::template::HELP_SHEET);
    let explained: Vec<String> = help.rows().skip(1).map(|r| r[0].to_string()).collect();
    for column in SCHEMA.columns {
        assert!(explained.contains(&column.name.to_owned()), "«{}» is not explained", column.name);
    }

    let preview = import::preview(&t.ctx, "template.xlsx", template.clone()).await.unwrap();
    assert_eq!(preview.bad, vec![]);
    let statuses: Vec<Status> = preview.rows.iter().map(|c| c.status).collect();
    assert_eq!(statuses, [Status::Create { new_plot: true, consumer_on_file: None }; 2]);
    let plans: Vec<TariffPlan> = preview.rows.iter().map(|c| c.row.plan).collect();
    assert_eq!(plans, [TariffPlan::Single, TariffPlan::DayNight]);
    assert_eq!(
        preview.counts(),
        Counts {
            plots: 1,
            consumers: 1,
            contracts: 2,
            on_file: 0,
            opening_debt: kopecks!(1_500_00),
            opening_credit: kopecks!(200_50)
        }
    );
    assert!(preview.can_commit());

    // The panel hands out the same workbook.
    let client = PanelClient::staff(&t, "admin", Role::Admin).await;
    let download = client.get("/register/template").await;
    download.assert_ok();
    assert_eq!(
        download.headers.get("content-type").unwrap(),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert_eq!(sheet(&download.bytes, reports::template::REGISTER_SHEET).height(), 3);
}

#[tokio::test]
async fn a_hostile_file_is_refused_row_by_row_and_stores_nothing() {
    let t = TestContext::new().await;
    t.sign("12", new_consumer("Иванова А. П.", None), "W-1", Service::Water, TariffPlan::Single, &[0]).await;
    let before = register_size(&t.ctx).await;
    let client = PanelClient::staff(&t, "admin", Role::Admin).await;

    let hostile = xlsx(&[
        header(),
        row(&[("ФИО", Text("<script>alert(1)</script>")), ("Телефон", Empty)]),
        row(&[("Договор", Text("В-3")), ("Услуга", Text("Газ"))]),
        row(&[("Договор", Text("В-4")), ("Тариф", Text("День/ночь")), ("Показание ночь", Number(5.0))]),
        row(&[("Договор", Text("В-5")), ("Телефон", Text("звоните после обеда"))]),
        row(&[]),
        row(&[("Участок", Text("12")), ("ФИО", Text("Иванова А. П.")), ("Телефон", Empty), ("Договор", Text("W-1"))]),
        row(&[("Договор", Text("В-8")), ("Показание", Text("много"))]),
        row(&[("Договор", Text("В-9")), ("Показание", Number(-5.0))]),
        row(&[("Договор", Text("В-10")), ("Дата показания", Text("32.13.2026"))]),
        row(&[("Договор", Text("В-11")), ("Сальдо", Text("сто рублей"))]),
        row(&[("Договор", Text("В-12")), ("Дата показания", Date(day(2026, 4, 1)))]),
        row(&[("Договор", Text("В-13")), ("ФИО", Text("Петров Пётр"))]),
    ]);
    let page = client.upload_file(IMPORT, "reestr.xlsx", hostile).await;
    page.assert_ok();
    assert_eq!(page.number_after("Строки с ошибками"), 11);
    assert_eq!(page.number_after("Будут созданы договоры со счётчиками"), 1);
    for reason in [
        "Услуга: «Газ» — нет такого значения. Возможные: Вода, Электроэнергия.",
        "Тариф: «День/ночь» бывает только для электроэнергии.",
        "Телефон: «звоните после обеда» — не номер телефона.",
        "Договор: № В-1 уже есть в строке 2.",
        "Договор: № W-1 уже в учёте, но отличается — Дата договора: в учёте «01.01.2026», в файле «01.03.2026»",
        "Счётчик: в учёте «SN-W-1», в файле «ВК-1»",
        "Показание: в учёте «0», в файле «100»",
        "Сальдо: в учёте «0,00», в файле «1\u{202f}500,00»",
        "Показание: «много» — не число.",
        "Показание: Показание не может быть отрицательным.",
        "Дата показания: «32.13.2026» — не дата.",
        "Сальдо: «сто рублей» — не сумма.",
        "Дата показания: 01.04.2026 ещё не наступило.",
        "Телефон: +79781234567 в строке 6 у потребителя «Иванова Анна Петровна»; у одного телефона одно ФИО.",
        "Файл не будет загружен",
    ] {
        page.assert_contains(reason);
    }
    // Row numbers are Excel's: the header is row 1.
    page.assert_contains("<td class=\"num\">13</td>");
    page.assert_contains("&lt;script&gt;alert(1)&lt;/script&gt;").assert_lacks("<script>alert(1)");
    assert!(page.input_value("import_id").is_none(), "a file with errors is not offered for import");
    // A forged confirmation stores nothing either.
    let forged = client.post_form("/register/import/confirm", &[("import_id", "forged")]).await;
    assert_eq!(forged.location(), Some("/register/import"));
    assert_eq!(register_size(&t.ctx).await, before);

    let no_serial =
        xlsx(&[vec![Text("Участок"), Text("ФИО"), Text("Договор")], vec![Text("1"), Text("А"), Text("В-1")]]);
    let page = client.upload_file(IMPORT, "columns.xlsx", no_serial).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    page.assert_contains("В первой строке нет столбцов «Услуга», «Тариф», «Счётчик», «Показание», «Дата показания».");
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01".to_vec();
    client.upload_file(IMPORT, "reestr.xlsx", png).await.assert_contains("Файл «reestr.xlsx» не читается как таблица.");
    client.upload_file(IMPORT, "empty.xlsx", Vec::new()).await.assert_contains("Выберите файл реестра.");
    client
        .upload_file(IMPORT, "header.xlsx", xlsx(&[header()]))
        .await
        .assert_contains("В файле нет ни одной строки с договором: под заголовками пусто.");
    let empty = import::preview(&t.ctx, "empty.csv", Vec::new()).await.unwrap_err();
    assert!(matches!(empty, import::RegisterImportError::File(FileError::Empty)), "{empty}");
    // A register is at most 5 000 contracts: a longer file is refused before any row is checked.
    let long: Vec<Vec<Cell>> = std::iter::once(header()).chain((0..20_000).map(|_| row(&[]))).collect();
    let page = client.upload_file(IMPORT, "long.xlsx", xlsx(&long)).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    page.assert_contains("В файле больше 5\u{202f}000 строк (ячейка A5101 уже за пределами)");
    assert_eq!(register_size(&t.ctx).await, before);

    // Only admins load the register.
    let accountant = PanelClient::staff(&t, "buh", Role::Accountant).await;
    assert_eq!(accountant.get("/register/import").await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_committed_register_is_complete_and_a_second_import_changes_nothing() {
    let t = TestContext::new().await;
    let client = PanelClient::staff(&t, "admin", Role::Admin).await;
    client.get("/contracts").await.assert_contains("href=\"/register/import\"");
    client.get("/register/import").await.assert_ok().assert_contains("href=\"/register/template\"");

    let preview = client.upload_file(IMPORT, "reestr.xlsx", register_file()).await;
    preview.assert_ok();
    assert_eq!(preview.number_after("Будут созданы договоры со счётчиками"), 3);
    assert_eq!(preview.number_after("Новые участки"), 2);
    assert_eq!(preview.number_after("Новые потребители"), 2);
    assert_eq!(preview.number_after("Строки с ошибками"), 0);
    preview.assert_contains("10234,5 / 4567,25").assert_contains("будет создан (участок — новый, потребитель — новый)");
    assert_eq!(register_size(&t.ctx).await, [0, 0, 0, 0, 0, 0], "a preview stores nothing");

    let done = client.confirm_import(IMPORT, &preview).await;
    assert_eq!(done.location(), Some("/contracts"));
    client.get("/contracts").await.assert_contains("договоров со счётчиками 3, участков 2, потребителей 2");
    // A second click on the same preview has nothing left to store.
    assert_eq!(client.confirm_import(IMPORT, &preview).await.location(), Some("/register/import"));
    assert_eq!(register_size(&t.ctx).await, [2, 2, 3, 3, 2, 2]);

    let conn = t.ctx.db.conn();
    let water = contract_by_number(&t.ctx, "В-1").await;
    let power = contract_by_number(&t.ctx, "Э-1").await;
    let bender = contract_by_number(&t.ctx, "В-2").await;
    assert_eq!(water.consumer_id, power.consumer_id, "one phone, one consumer");
    assert_eq!(water.plot_id, power.plot_id);
    assert_ne!(water.plot_id, bender.plot_id);
    assert_eq!((water.signed_on, bender.signed_on), (opening_day(), day(2019, 5, 15)));
    assert_eq!(power.tariff_plan, TariffPlan::DayNight);
    let plot_1 = plot::Entity::find_by_id(water.plot_id).one(conn).await.unwrap().unwrap();
    assert_eq!(plot_1.address.as_deref(), Some("ул. Морская, 1"));
    let holder = consumer::Entity::find_by_id(water.consumer_id).one(conn).await.unwrap().unwrap();
    assert_eq!((holder.full_name.as_str(), holder.phone.unwrap().as_str()), ("Иванова Анна Петровна", "+79781234567"));

    let power_meter = meter_of(&t.ctx, power.id).await;
    assert_eq!(power_meter.initial_values(), [meter_value!(10_234_500), meter_value!(4_567_250)]);
    assert_eq!((power_meter.installed_on, power_meter.serial.as_str()), (opening_day(), "ЭН-1"));
    let bender_meter = meter_of(&t.ctx, bender.id).await;
    assert_eq!(bender_meter.verification_due, Some(day(2030, 6, 1)));

    let balances: Vec<(i64, Period, ChargeKind, Option<i64>, Kopecks)> = charge::Entity::find()
        .order_by_asc(charge::Column::Id)
        .all(conn)
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.contract_id, c.period, c.kind, c.meter_id, c.amount_kopecks))
        .collect();
    // Booked in the go-live month (the opening reading's), never in the month before.
    let march = Period::new(2026, 3).unwrap();
    assert_eq!(
        balances,
        [
            (water.id, march, ChargeKind::OpeningBalance, None, kopecks!(1_500_00)),
            (power.id, march, ChargeKind::OpeningBalance, None, kopecks!(-200_50)),
        ]
    );
    let audit: Vec<String> = audit_log::Entity::find()
        .order_by_asc(audit_log::Column::Id)
        .all(conn)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(audit.iter().filter(|a| *a == "contract.sign").count(), 3);
    assert_eq!(audit.iter().filter(|a| *a == "charge.opening_balance").count(), 2);
    assert_eq!(audit.last().map(String::as_str), Some("register.import"));

    // The same file again: everything matches, nothing to confirm, nothing stored.
    let again = client.upload_file(IMPORT, "reestr.xlsx", register_file()).await;
    assert_eq!(again.number_after("Уже в учёте и совпадают"), 3);
    assert_eq!(again.number_after("Будут созданы договоры со счётчиками"), 0);
    again.assert_contains("Новых договоров в файле нет: всё уже в учёте.");
    assert!(again.input_value("import_id").is_none());
    // Committing the same rows anyway (a stale confirmation) creates nothing and books no
    // second opening balance.
    let rows = import::preview(&t.ctx, "reestr.xlsx", register_file()).await.unwrap().into_rows();
    let counts = import::commit(&t.ctx, "reestr.xlsx", rows, Actor::System).await.unwrap();
    assert_eq!(counts, Counts { on_file: 3, ..Counts::default() });
    assert_eq!(register_size(&t.ctx).await, [2, 2, 3, 3, 2, 2]);

    // A contract that changed since is a difference to resolve, not something to overwrite.
    let details = MeterDetails {
        serial: "ВК-1".into(),
        seal_number: Some("П-99".into()),
        seal_checked_on: Some(day(2026, 3, 10)),
        verification_due: None,
    };
    changes::update_meter(&t.ctx, meter_of(&t.ctx, water.id).await.id, details, Actor::System).await.unwrap();
    let changed = client.upload_file(IMPORT, "reestr.xlsx", register_file()).await;
    changed.assert_contains("Договор: № В-1 уже в учёте, но отличается — Пломба: в учёте «П-99», в файле «П-1».");
    assert!(changed.input_value("import_id").is_none());
}

#[tokio::test]
async fn a_consumer_on_file_gets_the_new_contract_and_the_commit_created_counts_add_up() {
    let t = TestContext::new().await;
    let on_file = t
        .sign(
            "1",
            new_consumer("Иванова Анна Петровна", Some("8 978 123-45-67")),
            "W-0",
            Service::Water,
            TariffPlan::Single,
            &[0],
        )
        .await;
    let file =
        xlsx(&[header(), row(&[("Договор", Text("Э-9")), ("Услуга", Text("Электроэнергия")), ("Сальдо", Empty)])]);
    let preview = import::preview(&t.ctx, "one.xlsx", file).await.unwrap();
    assert_eq!(preview.rows[0].status, Status::Create { new_plot: false, consumer_on_file: Some(on_file.consumer_id) });
    let counts = import::commit(&t.ctx, "one.xlsx", preview.into_rows(), Actor::System).await.unwrap();
    assert_eq!(counts, Counts { contracts: 1, ..Counts::default() });
    let signed = contract_by_number(&t.ctx, "Э-9").await;
    assert_eq!((signed.consumer_id, signed.plot_id), (on_file.consumer_id, on_file.plot_id));
    assert_eq!(register_size(&t.ctx).await, [1, 1, 2, 2, 1, 0], "no saldo, no opening balance");

    // The whole register in one go: the counts reported are what was stored.
    let t = TestContext::new().await;
    let rows = import::preview(&t.ctx, "reestr.xlsx", register_file()).await.unwrap().into_rows();
    assert_eq!(import::commit(&t.ctx, "reestr.xlsx", rows, Actor::System).await.unwrap(), CREATED);
}

/// Imports the register file as the office would, on `ctx`.
async fn go_live(ctx: &Context) {
    let preview = import::preview(ctx, "reestr.xlsx", register_file()).await.unwrap();
    assert!(preview.can_commit(), "{:?}", preview.bad);
    import::commit(ctx, "reestr.xlsx", preview.into_rows(), Actor::System).await.unwrap();
}

/// The contracts sheet of the monthly report: the cells of `contract` under `columns`, in rubles.
async fn report_rubles<const N: usize>(ctx: &Context, month: Period, contract: &str, columns: [&str; N]) -> [f64; N] {
    let bytes = reports::monthly_report(ctx, month, "http://127.0.0.1").await.unwrap();
    let accounts = sheet(&bytes, "Начисления и оплаты");
    columns.map(|column| match cell_of(&accounts, contract, column) {
        Data::Float(rubles) => rubles,
        other => panic!("{contract} «{column}»: {other:?}"),
    })
}

#[tokio::test]
async fn the_opening_debt_is_the_same_in_the_bot_the_debt_and_the_report_and_billing_starts_from_it() {
    let app = TestApp::spawn_at(default_now()).await;
    let ctx = app.ctx();
    standard_tariffs(ctx).await;
    go_live(ctx).await;
    let water = contract_by_number(ctx, "В-1").await;
    let march = Period::new(2026, 3).unwrap();
    const OPENING: &str = "Долг на начало месяца, ₽ (минус — переплата)";
    const CHARGED: &str = "Начислено за месяц, ₽";
    const CLOSING: &str = "Долг на конец месяца, ₽ (минус — переплата)";

    let balance = debt::total(ctx.db.conn(), Scope::Contract(water.id)).await.unwrap();
    assert_eq!(balance.debt(), kopecks!(1_500_00));
    let consumer_debt = debt::total(ctx.db.conn(), Scope::Consumer(water.consumer_id)).await.unwrap();
    assert_eq!(consumer_debt.debt(), kopecks!(1_500_00 - 200_50), "the credit on electricity counts too");
    // The opening balance is a line of the go-live month: March opens at zero and books it.
    assert_eq!(report_rubles(ctx, march, "В-1", [OPENING, CHARGED, CLOSING]).await, [0.0, 1500.0, 1500.0]);
    assert_eq!(report_rubles(ctx, march, "Э-1", [OPENING, CHARGED]).await, [0.0, -200.5]);

    let ivanova = BotChat::new(&app.telegram, 7001);
    ivanova.link(ctx, LinkTarget::Consumer(water.consumer_id)).await.expect("Здравствуйте, Иванова Анна Петровна!");
    let reply = ivanova.send("Задолженность").await;
    reply
        .expect("Вода — договор № В-1, участок 1")
        .expect("Входящее сальдо на 01.03.2026: задолженность 1\u{202f}500,00 ₽")
        .expect("Входящее сальдо на 01.03.2026: переплата (аванс) 200,50 ₽")
        .expect("Задолженность 1\u{202f}500,00 ₽")
        .expect("Итого: задолженность 1\u{202f}299,50 ₽");
    assert!(!reply.text().contains("Начислено за"), "an opening balance is not a month's charge:\n{}", reply.text());

    // The first reading after go-live is charged from the opening reading: 10 m³ at 40 ₽.
    let submission = Submission {
        seal_intact: Some(true),
        ..office_reading(meter_of(ctx, water.id).await.id, vec![meter_value!(110_000)])
    };
    readings::submit(ctx, submission).await.unwrap();
    let cause = domain::ledger::Cause {
        kind: domain::CauseKind::Tariff,
        id: 0,
        on: chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap(),
    };
    charges::recompute_service(ctx.db.conn(), ctx, Service::Water, cause).await.unwrap();
    let water_charges = charge::Entity::find()
        .filter(charge::Column::ContractId.eq(water.id))
        .order_by_asc(charge::Column::Id)
        .all(ctx.db.conn())
        .await
        .unwrap();
    let kinds: Vec<(ChargeKind, Kopecks)> = water_charges.iter().map(|c| (c.kind, c.amount_kopecks)).collect();
    assert_eq!(kinds, [(ChargeKind::OpeningBalance, kopecks!(1_500_00)), (ChargeKind::Consumption, kopecks!(400_00))]);
    assert_eq!(water_charges[1].previous_value, Some(meter_value!(100_000)));

    assert_eq!(debt::total(ctx.db.conn(), Scope::Contract(water.id)).await.unwrap().debt(), kopecks!(1_900_00));
    // March books the opening balance and the first consumption: 1 500 + 400.
    assert_eq!(report_rubles(ctx, march, "В-1", [OPENING, CHARGED, CLOSING]).await, [0.0, 1900.0, 1900.0]);
    let reply = ivanova.send("Задолженность").await;
    reply.expect("Начислено за март 2026: 400,00 ₽").expect("Задолженность 1\u{202f}900,00 ₽");
}

/// Runs `chernomorsk <args>` on the test's database, as the binary would.
async fn chernomorsk(t: &TestContext, args: &[&str]) -> anyhow::Result<()> {
    let url = t.database_url();
    let photos = t.dir.path().join("photos");
    let config = ["chernomorsk", "--database-url", &url, "--photo-dir", photos.to_str().unwrap()];
    bot::cli::Cli::try_parse_from(config.iter().chain(args))?.run().await
}

#[tokio::test]
async fn the_command_line_writes_the_template_and_imports_only_with_commit() {
    let t = TestContext::new().await;
    let template = t.dir.path().join("template.xlsx");
    chernomorsk(&t, &["template", "-o", template.to_str().unwrap()]).await.unwrap();
    let template = template.to_str().unwrap();

    chernomorsk(&t, &["import-register", template]).await.unwrap();
    assert_eq!(count::<contract::Entity>(&t.ctx).await, 0, "without --commit it is a dry run");
    chernomorsk(&t, &["import-register", template, "--commit"]).await.unwrap();
    assert_eq!(register_size(&t.ctx).await, [1, 1, 2, 2, 1, 2]);
    chernomorsk(&t, &["import-register", template, "--commit"]).await.unwrap();
    assert_eq!(register_size(&t.ctx).await, [1, 1, 2, 2, 1, 2], "importing again changes nothing");

    let bad = t.dir.path().join("bad.csv");
    std::fs::write(&bad, "Участок;ФИО;Договор;Услуга;Тариф;Счётчик;Показание;Дата показания\n5;Козлевич;В-5;Газ;Однотарифный;1;0;01.03.2026\n")
        .unwrap();
    let refused = chernomorsk(&t, &["import-register", bad.to_str().unwrap(), "--commit"]).await.unwrap_err();
    assert!(refused.to_string().contains("реестр не загружен"), "{refused}");
    assert_eq!(count::<contract::Entity>(&t.ctx).await, 2);
}
