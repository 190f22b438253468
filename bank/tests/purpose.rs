//! Matching payments to contracts: a table of purposes as members write them, with the verdict
//! and the reason the accountant sees.

use bank::purpose::{Candidates, ContractCandidate, ContractDebt, Payment, Verdict, split};
use bank::statement;
use domain::{Kopecks, Period, PlotNumber, Service};

const ELECTRICITY: Service = Service::Electricity;
const WATER: Service = Service::Water;

/// A remembered payer account: the accountant once put its payment on Смирнов's water contract.
const REMEMBERED: &str = "40817810500000000999";
/// An account the accountant once split between plots 20 and 30.
const SPLIT: &str = "40817810500000000555";

/// The register the table is matched against:
///
/// | plot | consumer                    | contracts                 |
/// |------|-----------------------------|---------------------------|
/// | 12   | Петров Иван Сергеевич       | 1 Э-0012, 2 В-0012        |
/// | 12А  | Иванова Анна Петровна       | 3 Э-0120, 4 В-012         |
/// | 123  | Сидоров Пётр Павлович       | 5 Э-0123, 6 В-0123        |
/// | 7/2  | Кузнецова Мария Ивановна    | 7 Э-0072                  |
/// | 14   | Иванова Ольга Николаевна    | 8 Э-0014, 9 В-0014        |
/// | 15   | Смирнов Алексей Викторович  | 10 В-0015                 |
/// | 16   | Иванова Анна Петровна       | 11 Э-0016                 |
/// | 20   | Фёдоров Николай Ильич       | 12 Э-0020                 |
/// | 21   | Александрова Татьяна Серг.  | 13 Э-0021, 14 В-0021      |
/// | 30   | Ким Олег                    | 15 Э-0030                 |
fn register() -> Candidates {
    let rows: [(i64, &str, Service, &str, i64, &str); 15] = [
        (1, "Э-0012", ELECTRICITY, "12", 1, "Петров Иван Сергеевич"),
        (2, "В-0012", WATER, "12", 1, "Петров Иван Сергеевич"),
        (3, "Э-0120", ELECTRICITY, "12А", 2, "Иванова Анна Петровна"),
        (4, "В-012", WATER, "12А", 2, "Иванова Анна Петровна"),
        (5, "Э-0123", ELECTRICITY, "123", 3, "Сидоров Пётр Павлович"),
        (6, "В-0123", WATER, "123", 3, "Сидоров Пётр Павлович"),
        (7, "Э-0072", ELECTRICITY, "7/2", 4, "Кузнецова Мария Ивановна"),
        (8, "Э-0014", ELECTRICITY, "14", 5, "Иванова Ольга Николаевна"),
        (9, "В-0014", WATER, "14", 5, "Иванова Ольга Николаевна"),
        (10, "В-0015", WATER, "15", 6, "Смирнов Алексей Викторович"),
        (11, "Э-0016", ELECTRICITY, "16", 2, "Иванова Анна Петровна"),
        (12, "Э-0020", ELECTRICITY, "20", 7, "Фёдоров Николай Ильич"),
        (13, "Э-0021", ELECTRICITY, "21", 8, "Александрова Татьяна Сергеевна"),
        (14, "В-0021", WATER, "21", 8, "Александрова Татьяна Сергеевна"),
        (15, "Э-0030", ELECTRICITY, "30", 9, "Ким Олег"),
    ];
    let contracts = rows
        .iter()
        .map(|(id, number, service, plot, consumer_id, name)| ContractCandidate {
            id: *id,
            number: (*number).into(),
            service: *service,
            plot: PlotNumber::parse(plot).unwrap(),
            consumer_id: *consumer_id,
            consumer_name: (*name).into(),
        })
        .collect();
    // The same choice twice, and a contract since closed, change nothing.
    let remembered = [(REMEMBERED, 10), (REMEMBERED, 10), ("40817810500000000777", 99), (SPLIT, 12), (SPLIT, 15)];
    Candidates::new(contracts, remembered.map(|(account, id)| (account.to_owned(), id)))
}

/// What the accountant sees: the contract ids and the reason, or «Разобрать: …».
fn shown(verdict: &Verdict) -> String {
    match verdict {
        Verdict::Matched(m) => format!("{:?} {}", m.contracts, m.why),
        Verdict::Review(review) => review.to_string(),
    }
}

#[test]
fn matches_purposes_as_people_write_them() {
    let register = register();
    // (purpose, payer, payer account) → what the accountant sees.
    let table: &[(&str, &str, &str, &str)] = &[
        // The examples of payments.md.
        ("уч 12 свет", "", "", "[1] по номеру участка 12"),
        ("Участок № 12А за электроэнергию октябрь", "", "", "[3] по номеру участка 12А"),
        ("л/с Э-0012", "", "", "[1] по л/с Э-0012"),
        ("Иванова А.П. вода", "", "", "[4] по ФИО Иванова А.П."),
        ("оплата по договору В-012", "", "", "[4] по номеру договора В-012"),
        ("Участок 123, договор Э-0123, электроэнергия за 10.2026", "", "", "[5] по назначению из нашего QR"),
        // Our code for a consumer's total: both contracts, to be split.
        ("Договоры Э-0123, В-0123 за 10.2026", "", "", "[5, 6] по назначению из нашего QR"),
        // Our text with another plot is not ours: the contract number still decides.
        ("Участок 14, договор В-012, вода за 10.2026", "", "", "[4] по номеру договора В-012"),
        // Plot variants.
        ("уч.12 вода", "", "", "[2] по номеру участка 12"),
        ("участок 12а э/э", "", "", "[3] по номеру участка 12А"),
        ("12а свет", "", "", "[3] по номеру участка 12А"),
        ("уч-к 7/2 эл/эн", "", "", "[7] по номеру участка 7/2"),
        ("уч12 за воду", "", "", "[2] по номеру участка 12"),
        ("УЧАСТОК №123 ВОДОСНАБЖЕНИЕ", "", "", "[6] по номеру участка 123"),
        ("№ 14 эл.энергия сентябрь", "", "", "[8] по номеру участка 14"),
        ("за свет участок 21, Александрова", "", "", "[13] по номеру участка 21"),
        ("уч 123 свет Иванова А.П.", "", "", "[5] по номеру участка 123"),
        // No service named, or both: every contract of the plot, for the split.
        ("уч 12", "", "", "[1, 2] по номеру участка 12"),
        ("уч 12 свет и вода", "", "", "[1, 2] по номеру участка 12"),
        // Two plots in one line.
        ("уч 12 и 14 свет", "", "", "Разобрать: несколько участков (12, 14)"),
        ("уч 12, уч 14", "", "", "Разобрать: несколько участков (12, 14)"),
        ("Петров уч 12 вода, Иванова уч 14 вода", "", "", "Разобрать: несколько участков (12, 14)"),
        ("уч. 999 свет", "", "", "Разобрать: участка 999 нет в реестре"),
        ("уч 15 свет", "", "", "Разобрать: у участка 15 нет договора на услугу «Электроэнергия»"),
        // Contract numbers written loosely.
        ("э0014", "", "", "[8] по номеру договора Э-0014"),
        ("Э-14 за свет", "", "", "[8] по номеру договора Э-0014"),
        ("B-0015", "", "", "[10] по номеру договора В-0015"),
        ("Договор №Э-0020 оплата", "", "", "[12] по номеру договора Э-0020"),
        ("оплата Э-0012 и Э-0014", "", "", "Разобрать: несколько участков (12, 14)"),
        // A payer account the accountant chose before, above a name.
        ("оплата", "", REMEMBERED, "[10] по счёту плательщика (запомнено)"),
        ("оплата свет", "", SPLIT, "Разобрать: несколько участков (20, 30)"),
        (
            "оплата",
            "",
            "40817810500000000777",
            "Разобрать: в назначении нет ни договора, ни участка, ни знакомого плательщика",
        ),
        ("Иванова О.Н. вода", "", REMEMBERED, "[10] по счёту плательщика (запомнено)"),
        // Names: initials, first names, the payer, typos, ё.
        ("Иванова О.Н. свет", "", "", "[8] по ФИО Иванова О.Н."),
        ("Иванова вода", "", "", "Разобрать: под «Иванова» подходят несколько потребителей"),
        ("Иванова вода", "ИВАНОВА ОЛЬГА НИКОЛАЕВНА", "40817810000000000001", "[9] по ФИО Иванова О.Н."),
        ("Иванова А.П.", "", "", "Разобрать: несколько участков (12А, 16)"),
        ("вода А.П. Иванова", "", "", "[4] по ФИО Иванова А.П."),
        ("Федоров Н.И. электроэнергия", "", "", "[12] по ФИО Фёдоров Н.И."),
        ("Александрва Т.С. свет", "", "", "[13] по ФИО Александрова Т.С."),
        ("Ким О. свет", "", "", "[15] по ФИО Ким О."),
        ("Кин О. свет", "", "", "Разобрать: в назначении нет ни договора, ни участка, ни знакомого плательщика"),
        ("коммунальные платежи", "СМИРНОВ АЛЕКСЕЙ ВИКТОРОВИЧ", "", "[10] по ФИО Смирнов А.В."),
        ("Смирнов свет", "", "", "Разобрать: у участка 15 нет договора на услугу «Электроэнергия»"),
        // Nothing to go on.
        ("12 свет", "", "", "Разобрать: в назначении нет ни договора, ни участка, ни знакомого плательщика"),
        (
            "за октябрь 2026",
            "ПАО СБЕРБАНК",
            "",
            "Разобрать: в назначении нет ни договора, ни участка, ни знакомого плательщика",
        ),
        ("", "", "", "Разобрать: в назначении нет ни договора, ни участка, ни знакомого плательщика"),
    ];
    assert!(table.len() >= 30);
    let mut wrong = Vec::new();
    for (purpose, payer, payer_account, expected) in table {
        let verdict = register.match_payment(&Payment { purpose, payer, payer_account });
        let got = shown(&verdict);
        if got != *expected {
            wrong.push(format!("«{purpose}» / «{payer}»: expected «{expected}», got «{got}»"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn reads_the_payments_of_a_statement() {
    // The generated statement carries the examples of payments.md; each document is matched.
    let s = statement::parse(&bank::testing::statement(14)).unwrap();
    let register = register();
    let got: Vec<String> = s.incoming.iter().map(|d| shown(&register.match_payment(&Payment::from(d)))).collect();
    assert_eq!(
        got[..7],
        [
            "[1] по номеру участка 12",
            "[3] по номеру участка 12А",
            "[1] по л/с Э-0012",
            "[4] по ФИО Иванова А.П.",
            "[4] по номеру договора В-012",
            "[5] по назначению из нашего QR",
            "[7] по номеру участка 7/2",
        ]
    );
}

#[test]
fn bounds_the_text_it_reads() {
    let register = register();
    // A megabyte of purpose is read up to its first thousand characters.
    let flood = "12а свет ".repeat(100_000);
    let verdict = register.match_payment(&Payment { purpose: &flood, payer: &flood, payer_account: &flood });
    assert_eq!(shown(&verdict), "[3] по номеру участка 12А");
    let cut = format!("{}уч 14", " ".repeat(1000));
    assert_eq!(
        shown(&register.match_payment(&Payment { purpose: &cut, payer: "", payer_account: "" })),
        "Разобрать: в назначении нет ни договора, ни участка, ни знакомого плательщика"
    );
}

fn rubles(s: &str) -> Kopecks {
    Kopecks::parse_rubles(s).unwrap()
}

fn month(m: u32) -> Period {
    Period::new(2026, m).unwrap()
}

#[test]
fn splits_oldest_debt_first_and_the_rest_to_electricity() {
    let power = ContractDebt {
        contract: 1,
        service: ELECTRICITY,
        debts: vec![(month(9), rubles("1000")), (month(10), rubles("1200"))],
    };
    let water = ContractDebt {
        contract: 2,
        service: WATER,
        debts: vec![(month(8), rubles("300")), (month(10), rubles("200"))],
    };
    let both = [water.clone(), power.clone()];

    // August water, then September electricity, then October electricity before October water.
    assert_eq!(split(rubles("300"), &both).unwrap(), [(2, rubles("300"))]);
    assert_eq!(split(rubles("1500"), &both).unwrap(), [(2, rubles("300")), (1, rubles("1200"))]);
    assert_eq!(split(rubles("2500"), &both).unwrap(), [(2, rubles("300")), (1, rubles("2200"))]);
    assert_eq!(split(rubles("2600"), &both).unwrap(), [(2, rubles("400")), (1, rubles("2200"))]);
    // Everything paid, the rest an advance on electricity.
    assert_eq!(split(rubles("3000"), &both).unwrap(), [(2, rubles("500")), (1, rubles("2500"))]);
    // Kopecks are never lost.
    for amount in ["0,01", "299,99", "1300,01", "2700", "99999,99"] {
        let total = Kopecks::try_sum(split(rubles(amount), &both).unwrap().iter().map(|(_, share)| *share)).unwrap();
        assert_eq!(total, rubles(amount), "{amount}");
    }
    // A credit is no debt. Without electricity the advance goes to the first contract given.
    let settled = ContractDebt { contract: 3, service: WATER, debts: vec![(month(10), rubles("-50"))] };
    assert_eq!(split(rubles("100"), &[settled.clone(), water.clone()]).unwrap(), [(2, rubles("100"))]);
    assert_eq!(split(rubles("600"), &[settled.clone(), water]).unwrap(), [(3, rubles("100")), (2, rubles("500"))]);
    assert_eq!(split(rubles("100"), &[settled, power]).unwrap(), [(1, rubles("100"))]);
    assert_eq!(split(rubles("100"), &[]).unwrap(), []);
}

#[test]
fn what_is_unpaid_is_the_newest_charges_after_payments_cover_the_oldest() {
    let charged = vec![(month(10), rubles("1200")), (month(8), rubles("300")), (month(9), rubles("1000"))];
    let debt = |paid: &str| ContractDebt::unpaid(1, ELECTRICITY, charged.clone(), rubles(paid)).unwrap().debts;
    assert_eq!(debt("0"), [(month(8), rubles("300")), (month(9), rubles("1000")), (month(10), rubles("1200"))]);
    assert_eq!(debt("500"), [(month(9), rubles("800")), (month(10), rubles("1200"))]);
    assert_eq!(debt("2500"), []);
    assert_eq!(debt("9000"), [], "an advance owes nothing");
    // A recalculation that gave money back pays like a payment.
    let with_refund = vec![(month(8), rubles("300")), (month(9), rubles("-100")), (month(10), rubles("200"))];
    let debts = ContractDebt::unpaid(2, WATER, with_refund, rubles("250")).unwrap();
    assert_eq!(debts, ContractDebt { contract: 2, service: WATER, debts: vec![(month(10), rubles("150"))] });
}
