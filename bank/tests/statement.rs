//! 1CClientBankExchange statements written byte for byte as banks' clients write them: the text
//! below is encoded to Windows-1251, CP866 or UTF-8 with the line endings banks use.

use bank::statement::{self, Encoding, SkipReason, StatementError};
use chrono::NaiveDate;
use domain::Kopecks;

const ACCOUNT: &str = "40703810041500000123";

/// What Сбербанк Бизнес Онлайн exports: the header, the account section, an order from a member
/// with its purpose split over three lines, a cash order with the purpose repeated, a payment of
/// ours going out, and a document whose amount is written with a comma.
const SBER: &str = "1CClientBankExchange
ВерсияФормата=1.03
Кодировка=Windows
Отправитель=Сбербанк Бизнес Онлайн
Получатель=
ДатаСоздания=01.11.2026
ВремяСоздания=09:15:00
ДатаНачала=01.10.2026
ДатаКонца=31.10.2026
РасчСчет=40703810041500000123
Документ=Платежное поручение
Документ=Банковский ордер
СекцияРасчСчет
ДатаНачала=01.10.2026
ДатаКонца=31.10.2026
РасчСчет=40703810041500000123
НачальныйОстаток=125000.00
ВсегоПоступило=4956.70
ВсегоСписано=12000.00
КонечныйОстаток=117956.70
КонецРасчСчет
СекцияДокумент=Платежное поручение
Номер=418
Дата=04.10.2026
Сумма=3456.70
ПлательщикСчет=40817810538000123456
ДатаСписано=04.10.2026
Плательщик=ИНН 910201234567 ИВАНОВА АННА ПЕТРОВНА
ПлательщикИНН=910201234567
ПлательщикБИК=043510607
ПолучательСчет=40703810041500000123
ДатаПоступило=05.10.2026
Получатель1=СНТ «Черноморск»
ПолучательИНН=9108001239
НазначениеПлатежа1=Участок 123, договор Э-0123,
НазначениеПлатежа2=электроэнергия
НазначениеПлатежа3=за 10.2026
КонецДокумента
СекцияДокумент=Банковский ордер
Номер=77
Дата=06.10.2026
Сумма=1500
ПлательщикСчет=
Плательщик=Петров Иван Сергеевич
ПолучательСчет=40703810041500000123
НазначениеПлатежа=уч 12 свет
НазначениеПлатежа=   за сентябрь
КонецДокумента
СекцияДокумент=Платежное поручение
Номер=12
Дата=07.10.2026
Сумма=12000.00
ПлательщикСчет=40703810041500000123
Плательщик=СНТ «Черноморск»
ПолучательСчет=40702810900000012345
Получатель=ООО «Электросети»
НазначениеПлатежа=Оплата по счёту 55 за электроэнергию
КонецДокумента
СекцияДокумент=Платежное поручение
Номер=419
Дата=08.10.2026
Сумма=0,5
ПлательщикСчет=40817810538000654321
Плательщик1=Сидоров П. П.
Плательщик=ИНН 910209876543 Сидоров П. П.
ПолучательСчет=40703810041500000123
НазначениеПлатежа=л/с Э-0012
КонецДокумента
КонецФайла
";

fn crlf(text: &str) -> String {
    text.replace('\n', "\r\n")
}

fn cp1251(text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1251.encode(text);
    assert!(!unmappable);
    bytes.into_owned()
}

fn cp866(text: &str) -> Vec<u8> {
    // CP866 has no «»: DOS-era programs write plain quotes.
    let plain_quotes = text.replace(['«', '»'], "\"");
    let (bytes, _, unmappable) = encoding_rs::IBM866.encode(&plain_quotes);
    assert!(!unmappable);
    bytes.into_owned()
}

fn day(d: u32, m: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, d).unwrap()
}

fn rubles(s: &str) -> Kopecks {
    Kopecks::parse_rubles(s).unwrap()
}

#[test]
fn reads_a_windows_1251_crlf_statement() {
    let bytes = cp1251(&crlf(SBER));
    assert!(std::str::from_utf8(&bytes).is_err(), "the fixture really is CP1251");
    let s = statement::parse(&bytes).unwrap();
    assert_eq!(s.encoding, Encoding::Windows1251);
    assert_eq!(s.version, "1.03");
    assert_eq!(s.sender, "Сбербанк Бизнес Онлайн");
    assert_eq!((s.created_on, s.from, s.to), (Some(day(1, 11)), Some(day(1, 10)), Some(day(31, 10))));
    assert_eq!(s.accounts, [ACCOUNT]);
    assert_eq!(s.balances.len(), 1);
    let balance = &s.balances[0];
    assert_eq!(balance.line, 13);
    assert_eq!(balance.account, ACCOUNT);
    assert_eq!(balance.opening, Some(rubles("125000")));
    assert_eq!(balance.received, Some(rubles("4956,70")));
    assert_eq!(balance.spent, Some(rubles("12000")));
    assert_eq!(balance.closing, Some(rubles("117956,70")));

    assert_eq!(s.incoming.len(), 3);
    let order = &s.incoming[0];
    assert_eq!(order.line, 22);
    assert_eq!(order.kind, "Платежное поручение");
    assert_eq!(order.number, "418");
    assert_eq!(order.date, day(4, 10));
    assert_eq!(order.amount, rubles("3456,70"));
    assert_eq!(order.payer, "ИВАНОВА АННА ПЕТРОВНА");
    assert_eq!(order.payer_inn, "910201234567");
    assert_eq!(order.payer_account, "40817810538000123456");
    assert_eq!(order.payee_account, ACCOUNT);
    assert_eq!(order.purpose, "Участок 123, договор Э-0123, электроэнергия за 10.2026");
    // Payments count on the day the money arrived.
    assert_eq!(order.arrived_on(), day(5, 10));
    assert_eq!(order.identity().key(), "40703810041500000123|2026-10-04|418|345670|40817810538000123456");

    let cash = &s.incoming[1];
    assert_eq!((cash.kind.as_str(), cash.number.as_str()), ("Банковский ордер", "77"));
    assert_eq!(cash.purpose, "уч 12 свет за сентябрь");
    assert_eq!(cash.payer_account, "");
    assert_eq!(cash.arrived_on(), day(6, 10));
    assert_eq!(cash.amount, rubles("1500"));

    let comma = &s.incoming[2];
    assert_eq!(comma.amount, rubles("0,50"));
    assert_eq!(comma.payer, "Сидоров П. П.");

    assert_eq!(s.skipped.len(), 1);
    assert_eq!(s.skipped[0].line, 49);
    assert_eq!(s.skipped[0].number, "12");
    assert_eq!(
        s.skipped[0].reason.to_string(),
        "не поступление: получатель — счёт 40702810900000012345, а не счёт выписки"
    );
    assert!(s.invalid.is_empty());
}

#[test]
fn reads_lf_and_crlf_alike() {
    let crlf = statement::parse(&cp1251(&crlf(SBER))).unwrap();
    let lf = statement::parse(&cp1251(SBER)).unwrap();
    assert_eq!(crlf, lf);
}

#[test]
fn reads_a_dos_statement() {
    let dos = SBER.replace("Кодировка=Windows", "Кодировка=DOS");
    let s = statement::parse(&cp866(&crlf(&dos))).unwrap();
    assert_eq!(s.encoding, Encoding::Dos866);
    assert_eq!(s.incoming.len(), 3);
    assert_eq!(s.incoming[0].purpose, "Участок 123, договор Э-0123, электроэнергия за 10.2026");
    assert_eq!(s.incoming[1].payer, "Петров Иван Сергеевич");
    assert_eq!(s.skipped[0].number, "12");
}

#[test]
fn reads_utf8_whatever_the_header_declares() {
    // Banks that moved to UTF-8 often still write «Кодировка=Windows».
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(crlf(SBER).as_bytes());
    let with_bom = statement::parse(&bom).unwrap();
    assert_eq!(with_bom.encoding, Encoding::Utf8);
    let without = statement::parse(SBER.as_bytes()).unwrap();
    assert_eq!(without.encoding, Encoding::Utf8);
    let windows = statement::parse(&cp1251(&crlf(SBER))).unwrap();
    assert_eq!(with_bom.incoming, windows.incoming);
    assert_eq!(without.incoming, windows.incoming);

    // A BOM promises UTF-8: CP1251 bytes after it are refused, with the line.
    let mut lying = b"\xEF\xBB\xBF".to_vec();
    lying.extend_from_slice(&cp1251(&crlf(SBER)));
    assert_eq!(statement::parse(&lying), Err(StatementError::NotUtf8 { line: 2 }));
}

#[test]
fn a_file_without_an_encoding_line_is_read_as_windows_1251() {
    let undeclared = SBER.replace("Кодировка=Windows\n", "");
    let s = statement::parse(&cp1251(&crlf(&undeclared))).unwrap();
    assert_eq!(s.encoding, Encoding::Windows1251);
    assert_eq!(s.incoming[1].purpose, "уч 12 свет за сентябрь");
    let koi = SBER.replace("Кодировка=Windows", "Кодировка=KOI8-R");
    assert_eq!(
        statement::parse(&cp1251(&crlf(&koi))).unwrap_err().to_string(),
        "Строка 3: кодировка «KOI8-R» не поддерживается (бывает Windows или DOS)."
    );
}

#[test]
fn repeated_documents_are_listed_once() {
    // Two exports glued together repeat the same order; a second file adds the same again.
    let order = &SBER
        [SBER.find("СекцияДокумент=Платежное поручение").unwrap()..SBER.find("СекцияДокумент=Банковский").unwrap()];
    let doubled = SBER.replace("КонецФайла", &format!("{order}КонецФайла"));
    let s = statement::parse(&cp1251(&crlf(&doubled))).unwrap();
    assert_eq!(s.incoming.len(), 3);
    let repeat = s.skipped.iter().find(|k| k.number == "418").unwrap();
    assert_eq!(repeat.reason, SkipReason::Repeated { first_line: 22 });
    assert_eq!(repeat.reason.to_string(), "тот же документ уже есть в строке 22");
    // Another amount from the same payer with the same number is another document.
    let other = doubled.replacen("Сумма=3456.70", "Сумма=3456.71", 1);
    assert_eq!(statement::parse(&cp1251(&other)).unwrap().incoming.len(), 4);
}

#[test]
fn unreadable_documents_are_listed_with_their_line() {
    let broken = SBER
        .replace("Сумма=1500", "Сумма=полторы тысячи")
        .replace("Дата=08.10.2026", "Дата=32.10.2026")
        .replace("Номер=418\n", "");
    let s = statement::parse(&cp1251(&crlf(&broken))).unwrap();
    assert!(s.incoming.is_empty());
    let reasons: Vec<String> = s.invalid.iter().map(ToString::to_string).collect();
    assert_eq!(
        reasons,
        [
            "Строка 22: в документе нет поля Номер",
            "Строка 41: Сумма «полторы тысячи»: «полторы тысячи» — не сумма. Пример: 1 234,56",
            "Строка 60: Дата «32.10.2026» — не дата вида ДД.ММ.ГГГГ",
        ]
    );
    // The outgoing document is skipped, not refused.
    assert_eq!(s.skipped.len(), 1);

    let twice = SBER.replace("Сумма=1500\n", "Сумма=1500\nСумма=15000\n");
    let s = statement::parse(&cp1251(&twice)).unwrap();
    assert_eq!(s.invalid[0].to_string(), "Строка 43: поле Сумма указано дважды по-разному");
    let negative = SBER.replace("Сумма=1500\n", "Сумма=-1500\n");
    assert_eq!(
        statement::parse(&cp1251(&negative)).unwrap().invalid[0].to_string(),
        "Строка 42: Сумма «-1500»: Сумма должна быть больше нуля."
    );
    // A grant of 15 million is read, and left out as no member's payment: the rest still loads.
    let grant = SBER.replace("Сумма=1500\n", "Сумма=15000000.00\n");
    let s = statement::parse(&cp1251(&grant)).unwrap();
    assert!(s.invalid.is_empty(), "{:?}", s.invalid);
    let skipped = s.skipped.iter().find(|k| matches!(k.reason, SkipReason::TooLarge { .. })).expect("skipped");
    assert_eq!(
        skipped.reason.to_string(),
        "сумма 15\u{202f}000\u{202f}000,00 ₽ больше предела одного платежа (10\u{202f}000\u{202f}000,00 ₽) — это не \
         оплата участка; внесите её вне системы"
    );
    assert_eq!(s.incoming.len(), 2);
}

#[test]
fn refuses_broken_files_with_the_line() {
    let refuse = |text: &str| statement::parse(&cp1251(&crlf(text))).unwrap_err().to_string();

    assert_eq!(
        refuse("Дата;Сумма;Назначение\n01.10.2026;100;уч 12\n"),
        "Строка 1: это не выписка в формате 1С — первая строка должна быть «1CClientBankExchange», а в файле \
         «Дата;Сумма;Назначение». Выгрузите выписку из банк-клиента в формате обмена с 1С."
    );
    // A download cut short.
    let cut = &SBER[..SBER.find("СекцияДокумент=Банковский").unwrap()];
    assert_eq!(refuse(cut), "Строка 38: файл обрезан — нет строки «КонецФайла». Выгрузите выписку заново.");
    let unclosed = SBER.replacen("КонецДокумента\n", "", 1);
    assert_eq!(
        refuse(&unclosed),
        "Строка 38: «СекцияДокумент» внутри документа (нет «КонецДокумента») — файл повреждён."
    );
    let stray = SBER.replacen("КонецРасчСчет\n", "КонецРасчСчет\nКонецРасчСчет\n", 1);
    assert_eq!(refuse(&stray), "Строка 22: «КонецРасчСчет» внутри заголовка, без начала раздела — файл повреждён.");
    let garbage = SBER.replace("Номер=77\n", "Номер=77\nкакой-то мусор\n");
    assert_eq!(refuse(&garbage), "Строка 41: непонятная строка «какой-то мусор» — ожидается Ключ=Значение.");
    let bad_header_date = SBER.replace("ДатаНачала=01.10.2026\nДатаКонца", "ДатаНачала=2026-10-01\nДатаКонца");
    assert_eq!(refuse(&bad_header_date), "Строка 8: ДатаНачала: «2026-10-01» — не дата вида ДД.ММ.ГГГГ");
    let bad_balance = SBER.replace("ВсегоСписано=12000.00", "ВсегоСписано=12 000.00.00");
    assert!(refuse(&bad_balance).starts_with("Строка 19: ВсегоСписано: «12 000.00.00» — не сумма"));
    let no_account = SBER.replace("РасчСчет=40703810041500000123\n", "");
    assert_eq!(refuse(&no_account), "Строки 1–67: в выписке не указан расчётный счёт (РасчСчет).");
    let long_line = SBER.replace("уч 12 свет", &"уч 12 свет ".repeat(500));
    assert_eq!(refuse(&long_line), "Строка 46: строка длиннее 4096 байт — файл повреждён или это не выписка.");
    // DOS bytes under «Кодировка=Windows»: every Cyrillic key reads as another word.
    let misdeclared = statement::parse(&cp866(&crlf(SBER))).unwrap_err().to_string();
    assert_eq!(
        misdeclared,
        "Строки 1–13: в файле не нашлось ни одного раздела выписки — похоже, он сохранён не в той кодировке, что \
         указана в нём (Windows). Выгрузите выписку заново, кодировка Windows или DOS."
    );
    assert!(matches!(statement::parse(b""), Err(StatementError::NotAStatement(_))));
    assert!(matches!(statement::parse(&[0xFF; 64]), Err(StatementError::NotAStatement(_))));
}

#[test]
fn refuses_oversized_files_before_reading_them() {
    let huge = vec![b'x'; statement::MAX_FILE_BYTES + 1];
    assert_eq!(statement::parse(&huge), Err(StatementError::TooLarge));
    assert_eq!(
        StatementError::TooLarge.to_string(),
        "Файл больше 16 МБ — это не выписка за разумный срок. Выгрузите выписку за месяц или квартал."
    );
    // Documents are counted as they come: the one past the limit stops the reading.
    let mut many = format!("1CClientBankExchange\r\nРасчСчет={ACCOUNT}\r\n");
    many.push_str(
        &"СекцияДокумент=Платежное поручение\r\nНомер=1\r\nКонецДокумента\r\n".repeat(statement::MAX_DOCUMENTS + 1),
    );
    assert!(many.len() <= statement::MAX_FILE_BYTES);
    assert_eq!(
        statement::parse(&cp1251(&many)).unwrap_err().to_string(),
        format!(
            "Строка {}: в выписке больше 20000 документов. Выгрузите выписку за более короткий срок.",
            3 + 3 * statement::MAX_DOCUMENTS
        )
    );
    // Lines within a document, accounts and account sections are counted as they come too: a
    // crafted file of millions of «=» lines stops at the limit, not after filling memory.
    let header = format!("1CClientBankExchange\r\nРасчСчет={ACCOUNT}\r\n");
    let endless = format!("{header}СекцияДокумент=Платежное поручение\r\n{}", "=\r\n".repeat(1_000_000));
    assert_eq!(
        statement::parse(&cp1251(&endless)).unwrap_err().to_string(),
        format!(
            "Строка {}: в документе со строки 3 больше 100 строк — файл повреждён или это не выписка.",
            4 + statement::MAX_DOCUMENT_LINES
        )
    );
    let accounts: String = (0..=statement::MAX_ACCOUNTS).map(|i| format!("РасчСчет={i:020}\r\n")).collect();
    let refused = statement::parse(&cp1251(&format!("1CClientBankExchange\r\n{accounts}"))).unwrap_err();
    assert_eq!(
        refused.to_string(),
        "Строка 102: в заголовке больше 100 расчётных счетов — файл повреждён или это не выписка."
    );
    let sections = "СекцияРасчСчет\r\nКонецРасчСчет\r\n".repeat(statement::MAX_ACCOUNT_SECTIONS + 1);
    let refused = statement::parse(&cp1251(&format!("{header}{sections}"))).unwrap_err();
    assert!(
        matches!(refused, StatementError::Overgrown { line, .. } if line == 3 + 2 * statement::MAX_ACCOUNT_SECTIONS)
    );
}

#[test]
fn reads_a_generated_year_of_payments() {
    let s = statement::parse(&bank::testing::statement(2_000)).unwrap();
    assert_eq!(s.encoding, Encoding::Windows1251);
    assert_eq!(s.incoming.len(), 1_800);
    assert_eq!(s.skipped.len(), 200);
    assert!(s.invalid.is_empty());
    assert!(s.incoming.iter().all(|d| d.payee_account == bank::testing::ACCOUNT && d.amount.is_positive()));
    assert_eq!(s.incoming[1].purpose, "Участок № 12А за электроэнергию октябрь");
}
