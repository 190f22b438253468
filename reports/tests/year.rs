//! A year of a small cooperative, each month's report sent when the month ends, as the scheduler
//! sends it (issue 12's identity test; on PostgreSQL too when `TEST_DATABASE_URL` names one).
//! Readings every month, one skipped; a payment ahead for December in January; a February reading
//! corrected in May; a day tariff raised in August back to June; a payment reversed and another
//! moved to the right contract in October. The accountant's checks, read from the sent files:
//! every report opens each contract where the report before it closed, each row adds up, the
//! last closing is the debt the system shows, and a month's report written again at the year's
//! end is the very file that was sent.

mod common;

use std::collections::HashMap;

use common::{CHARGED, CLOSING, OPENING, PAID, PUBLIC_URL, Table, kopecks, open, utc};
use domain::{Kopecks, MeterValue, PaymentSource, Period, Role, Service, TariffPlan, Zone, kopecks};
use reports::monthly_report;
use service::audit::Actor;
use service::ledger::debt::{self, Scope};
use service::ledger::payments::{self, NewPayment, reversal};
use service::ledger::{months, tariffs};
use service::readings::review;
use service::testing::{TestContext, new_consumer, read_accepted};

fn values(whole: &[i64]) -> Vec<MeterValue> {
    whole.iter().map(|v| MeterValue::from_whole(*v).unwrap()).collect()
}

fn paid(contract: &str, amount: Kopecks, (y, m, d): (i32, u32, u32), for_period: Option<Period>) -> NewPayment {
    NewPayment {
        contract_number: contract.into(),
        amount,
        paid_on: chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap(),
        for_period,
        reference: None,
        confirm_duplicate: false,
    }
}

/// Each contract's (opening, charged, paid, closing) on a report's «Начисления и оплаты».
fn accounts(report: Vec<u8>) -> HashMap<String, [Kopecks; 4]> {
    let sheet = Table::read(&mut open(report), "Начисления и оплаты");
    let row = |row: &Vec<_>| [OPENING, CHARGED, PAID, CLOSING].map(|header| kopecks(sheet.cell(row, header)));
    sheet.rows.iter().map(|r| (sheet.text(r, "Договор"), row(r))).collect()
}

#[tokio::test]
async fn a_year_of_reports_each_opening_where_the_last_one_closed() {
    let t = TestContext::at(utc(2026, 1, 10, 9)).await;
    t.standard_tariffs().await;
    let admin = t.staff("admin", Role::Admin).await;
    let ctx = &t.ctx;
    let by_admin = Actor::Staff(admin.id);
    let w1 = t.sign("1", new_consumer("Бендер О. И.", None), "В-1", Service::Water, TariffPlan::Single, &[0]).await;
    let e2 = t
        .sign("2", new_consumer("Козлевич А. Л.", None), "Э-2", Service::Electricity, TariffPlan::DayNight, &[0, 0])
        .await;
    let w3 = t.sign("3", new_consumer("Балаганов Ш.", None), "В-3", Service::Water, TariffPlan::Single, &[0]).await;

    let mut sent: Vec<(Period, Vec<u8>)> = Vec::new();
    let mut february_reading = None;
    let mut september_payment = None;
    let mut august_payment = None;
    for month in 1..=12u32 {
        // Read on the 20th: В-1 5 m³ a month, Э-2 100 kWh by day and 50 by night, В-3 3 m³
        // (not read in April: May's reading covers two months).
        t.clock.set(utc(2026, month, 20, 9));
        let m = i64::from(month);
        let w1_reading = read_accepted(ctx, w1.meter_id, values(&[5 * m]), admin.id).await;
        if month == 2 {
            february_reading = Some(w1_reading);
        }
        read_accepted(ctx, e2.meter_id, values(&[100 * m, 50 * m]), admin.id).await;
        if month != 4 {
            read_accepted(ctx, w3.meter_id, values(&[3 * m]), admin.id).await;
        }
        // В-1 pays 200,00 ₽ on the 25th; Э-2 1 000,00 ₽ every other month; В-3 1 500,00 ₽ in
        // January "for December", ahead.
        t.clock.set(utc(2026, month, 25, 9));
        let w1_paid =
            payments::record(ctx, paid("В-1", kopecks!(200_00), (2026, month, 25), None), by_admin).await.unwrap();
        if month == 8 {
            august_payment = Some(w1_paid.id);
        }
        if month % 2 == 1 {
            let e2_paid = payments::record(ctx, paid("Э-2", kopecks!(1_000_00), (2026, month, 25), None), by_admin)
                .await
                .unwrap();
            if month == 9 {
                september_payment = Some(e2_paid.id);
            }
        }
        if month == 1 {
            let december = Period::new(2026, 12).unwrap();
            payments::record(ctx, paid("В-3", kopecks!(1_500_00), (2026, 1, 25), Some(december)), by_admin)
                .await
                .unwrap();
        }
        match month {
            // 10 m³ read on 20.02 was 9: −40,00 ₽ for February and +40,00 ₽ for March, in May.
            5 => {
                t.clock.set(utc(2026, 5, 27, 9));
                let reading = february_reading.unwrap();
                review::correct(ctx, reading, values(&[9]), "опечатка контролёра", admin.id).await.unwrap();
            }
            // The day rate goes to 7,00 ₽ from 01.06, decided late: June and July were sent.
            8 => {
                t.clock.set(utc(2026, 8, 27, 9));
                let june = chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
                tariffs::add(ctx, Service::Electricity, Zone::Day, kopecks!(7_00), june, by_admin).await.unwrap();
            }
            // September's 1 000,00 ₽ of Э-2 was a bank error; August's 200,00 ₽ was В-3's.
            10 => {
                t.clock.set(utc(2026, 10, 27, 9));
                let wrong = september_payment.unwrap();
                reversal::reverse(ctx, wrong, "возврат банком", PaymentSource::Panel, by_admin).await.unwrap();
                let moved = august_payment.unwrap();
                reversal::transfer(ctx, moved, "В-3", "перепутан договор", PaymentSource::Panel, by_admin)
                    .await
                    .unwrap();
            }
            _ => {}
        }
        // The 1st at 09:00 in Moscow: the month is over, its report goes out and closes it.
        let period = Period::new(2026, month).unwrap();
        let (next_year, next_month) = if month == 12 { (2027, 1) } else { (2026, month + 1) };
        t.clock.set(utc(next_year, next_month, 1, 6));
        months::close(ctx, period, Actor::System).await.unwrap();
        sent.push((period, monthly_report(ctx, period, PUBLIC_URL).await.unwrap()));
    }

    t.clock.set(utc(2027, 1, 20, 9));
    let mut before: Option<HashMap<String, [Kopecks; 4]>> = None;
    for (period, file) in &sent {
        let again = monthly_report(ctx, *period, PUBLIC_URL).await.unwrap();
        assert!(again == *file, "{period}: the report written again is not the one sent");
        let now = accounts(file.clone());
        assert_eq!(now.len(), 3, "{period}: {now:?}");
        for (number, [opening, charged, paid, closing]) in &now {
            let expected = opening.checked_add(*charged).and_then(|sum| sum.checked_sub(*paid)).unwrap();
            assert_eq!(*closing, expected, "{period}, {number}: closing = opening + charged − paid");
            let last_closing = before.as_ref().map_or(Kopecks::ZERO, |b| b[number][3]);
            assert_eq!(*opening, last_closing, "{period}, {number}: opens where the last report closed");
        }
        before = Some(now);
        // The late changes are lines in the month they were made, for the months they reach.
        let sheet = Table::read(&mut open(file.clone()), "Перерасчёты");
        let mut lines: Vec<(String, String)> =
            sheet.rows.iter().map(|r| (sheet.text(r, "Договор"), sheet.text(r, "За месяц"))).collect();
        lines.sort();
        let expected: &[(&str, &str)] = match period.month() {
            5 => &[("В-1", "март 2026"), ("В-1", "февраль 2026")],
            8 => &[("Э-2", "июль 2026"), ("Э-2", "июнь 2026")],
            _ => &[],
        };
        let expected: Vec<(String, String)> = expected.iter().map(|(c, m)| (c.to_string(), m.to_string())).collect();
        assert_eq!(lines, expected, "{period}: recalculations");
    }

    // By hand. В-1: 60 m³ × 40,00 ₽ = 2 400,00 ₽ (the correction moves 40,00 ₽ from February to
    // March), paid 12 × 200,00 less August's, moved: 2 200,00 ₽; 200,00 ₽ owed.
    // В-3: 36 m³ × 40,00 ₽ = 1 440,00 ₽, paid 1 500,00 + 200,00 ₽: 260,00 ₽ ahead.
    let december = before.unwrap();
    assert_eq!(december["В-1"][3], kopecks!(200_00));
    assert_eq!(december["В-3"][3], kopecks!(-260_00));
    // Э-2 pays 5 × 1 000,00 ₽ in the end (September's returned).
    let shown = debt::balances(ctx.db.conn(), Scope::All, None).await.unwrap();
    for (contract, number) in [(&w1, "В-1"), (&e2, "Э-2"), (&w3, "В-3")] {
        assert_eq!(shown[&contract.contract_id].debt(), december[number][3], "{number}: the debt shown now");
    }
    let e2_paid = Kopecks::try_sum(sent.iter().map(|(_, file)| accounts(file.clone())["Э-2"][2])).unwrap();
    assert_eq!(e2_paid, kopecks!(5_000_00));
}
