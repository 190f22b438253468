//! The акт сверки as xlsx (issue 13.6), read back as a spreadsheet program reads it, and its
//! figures held against the monthly report's for the same contract and month.

mod common;

use std::io::Read;

use calamine::{Data, Reader};
use common::{Cooperative, MARCH, PUBLIC_URL, date, day, open, period, rubles};
use domain::Kopecks;
use reports::{ACT_HEADER_ROW, ACT_HEADERS, act_file_name, act_report, monthly_data};
use service::ledger::act::{ActRange, ActScope};
use service::ledger::debt::{self, Scope};

fn money(cell: &Data) -> f64 {
    match cell {
        Data::Float(f) => *f,
        other => panic!("expected money as a number, found {other:?}"),
    }
}

#[tokio::test]
async fn over_a_month_the_act_opens_and_closes_as_the_monthly_report() {
    let coop = Cooperative::build().await;
    let ctx = &coop.t.ctx;
    for month in ["2026-02", MARCH] {
        let month = period(month);
        let report = monthly_data(ctx, month, PUBLIC_URL).await.unwrap();
        assert!(!report.accounts.is_empty());
        for line in &report.accounts {
            let range = ActRange::new(month.first_day(), month.last_day().min(ctx.today())).unwrap();
            let (act, _) = act_report(ctx, ActScope::Contract(line.contract.id), range).await.unwrap();
            let c = &act.contracts[0];
            let m = &line.movement;
            assert_eq!(
                (c.opening, c.charged, c.paid, c.closing),
                (m.opening, m.charged, m.paid, m.closing),
                "{month} {}",
                line.contract.number
            );
        }
    }
}

/// Паниковский: В-3 (with a debt from before go-live) and Э-3 on plot 3.
#[tokio::test]
async fn the_xlsx_has_the_heading_real_dates_money_and_a_closing_that_adds_up() {
    let coop = Cooperative::build().await;
    let ctx = &coop.t.ctx;
    let conn = ctx.db.conn();
    let debts = debt::balances(conn, Scope::All, None).await.unwrap();
    let contract = service::ledger::payments::contract_by_number(conn, "В-3").await.unwrap().unwrap();
    let range = ActRange::new(day("2026-01-01"), ctx.today()).unwrap();
    let (act, bytes) = act_report(ctx, ActScope::Consumer(contract.consumer_id), range).await.unwrap();
    assert_eq!(act_file_name(&act), "akt-sverki-3-2026-01-01-2026-03-15.xlsx");
    let owed = Kopecks::try_sum(act.contracts.iter().map(|c| debts[&c.contract_id].debt())).unwrap();
    assert_eq!(act.closing, owed);

    let mut book = open(bytes.clone());
    let sheet = book.worksheet_range("Акт сверки").unwrap();
    let rows: Vec<Vec<Data>> = sheet.rows().map(<[Data]>::to_vec).collect();
    let text = |row: usize| rows[row][0].to_string();
    assert_eq!(text(0), "Акт сверки взаимных расчётов");
    assert_eq!(text(1), "СНТ «Черноморск» — Паниковский Михаил Самуэлевич");
    assert_eq!(text(2), "Участок: 3");
    assert_eq!(text(3), "Договор: № В-3 (вода), № Э-3 (электроэнергия)");
    assert_eq!(text(4), "Период: с 01.01.2026 по 15.03.2026");
    let header = ACT_HEADER_ROW as usize;
    assert_eq!(rows[header].iter().map(ToString::to_string).collect::<Vec<_>>(), ACT_HEADERS);

    // Every line of the table: a real date, and its balance = the one before + debit − credit.
    let col = |name: &str| ACT_HEADERS.iter().position(|h| *h == name).unwrap();
    let (debit, credit, balance) = (col("Дебет (начислено)"), col("Кредит (оплачено)"), col("Сальдо"));
    let lines: Vec<&Vec<Data>> = rows[header + 1..].iter().filter(|r| matches!(r[0], Data::DateTime(_))).collect();
    assert_eq!(lines.len(), act.contracts.iter().map(|c| c.lines.len()).sum::<usize>());
    assert_eq!(date(&lines[0][0]), act.contracts[0].lines[0].date);
    let opening =
        |number: &str| rows.iter().find(|r| r[1] == number && r[2] == "Сальдо на 01.01.2026").unwrap()[balance].clone();
    let mut carried = money(&opening("В-3"));
    for line in lines.iter().filter(|r| r[1] == "В-3") {
        let plus = if line[debit] == Data::Empty { 0.0 } else { money(&line[debit]) };
        let minus = if line[credit] == Data::Empty { 0.0 } else { money(&line[credit]) };
        carried += plus - minus;
        assert!((money(&line[balance]) - carried).abs() < 0.005, "{line:?}");
    }

    // The totals: closing = opening + charged − paid, as numbers the accountant can add up.
    let find = |label: &str| rows.iter().find(|r| r[2] == label).unwrap_or_else(|| panic!("{label}"));
    let opening = money(&find("Сальдо на 01.01.2026")[balance]);
    let turnover = find("Обороты за период");
    let closing = find("Сальдо на 15.03.2026");
    assert_eq!(closing[balance], rubles(act.closing));
    let (charged, paid) = (money(&turnover[debit]), money(&turnover[credit]));
    assert_eq!((turnover[debit].clone(), turnover[credit].clone()), (rubles(act.charged), rubles(act.paid)));
    assert!((opening + charged - paid - money(&closing[balance])).abs() < 0.005);
    let signatures: Vec<String> =
        rows.iter().flat_map(|r| r.iter().map(ToString::to_string)).filter(|t| t.contains("____")).collect();
    assert_eq!(signatures, ["От СНТ ____________ / ____________", "Член СНТ ____________ / ____________"]);

    // Money is formatted with two decimals, dates as dd.mm.yyyy, and the sheet prints on A4, one page wide.
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut xml = String::new();
    zip.by_name("xl/styles.xml").unwrap().read_to_string(&mut xml).unwrap();
    assert!(xml.contains("#,##0.00") && xml.contains("dd.mm.yyyy"), "{xml}");
    xml.clear();
    zip.by_name("xl/worksheets/sheet1.xml").unwrap().read_to_string(&mut xml).unwrap();
    assert!(xml.contains(r#"paperSize="9""#) && xml.contains(r#"fitToHeight="0""#), "{xml}");
}
