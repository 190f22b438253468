//! The bank statement every Russian bank's client exports for 1C: «1CClientBankExchange».
//!
//! A text file of `Key=Value` lines: a header, `СекцияРасчСчет`…`КонецРасчСчет` with the
//! account's balances, one `СекцияДокумент=<type>`…`КонецДокумента` per payment, `КонецФайла`.
//! Banks write it in Windows-1251 or DOS (CP866) as its `Кодировка` line says, some in UTF-8
//! (with or without a BOM) whatever that line says; lines end in CRLF or LF.
//!
//! [`parse`] refuses a file that is not a whole statement (with the line where it goes wrong) and
//! otherwise returns every document: incoming payments to the statement's account, the
//! documents skipped (outgoing ones, repeats) and the ones that could not be read, each with its
//! line, so that a preview can show all of them before anything is stored.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use chrono::NaiveDate;
use domain::Kopecks;
use domain::money::MoneyError;

use crate::kopecks_value;

/// A statement of a cooperative's busiest year is well under a megabyte (about 500 bytes a
/// document); 16 MB leaves room for a bank's whole archive and bounds the work on anything else.
pub const MAX_FILE_BYTES: usize = 16 * 1024 * 1024;
/// The longest field the format has is a 210-character purpose: 4 KB is a broken or foreign file.
pub const MAX_LINE_BYTES: usize = 4096;
/// Twenty times the payments of a 420-plot cooperative's busiest month.
pub const MAX_DOCUMENTS: usize = 20_000;
/// The format has about 70 keys a document; more lines is a damaged or crafted file, each line a
/// few bytes of the file and 40 of memory.
pub const MAX_DOCUMENT_LINES: usize = 100;
/// Accounts named in the header, and account sections (some banks write one a day).
pub const MAX_ACCOUNTS: usize = 100;
pub const MAX_ACCOUNT_SECTIONS: usize = 5_000;
/// A purpose is at most 210 characters by the payment order's rules; joined parts may add a
/// little. Longer is refused for the document rather than stored.
pub const MAX_PURPOSE_CHARS: usize = 1000;

const FIRST_LINE: &str = "1CClientBankExchange";

/// The whole file refused, with the line where reading stopped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatementError {
    #[error("Файл больше {} МБ — это не выписка за разумный срок. Выгрузите выписку за месяц или квартал.", MAX_FILE_BYTES / 1024 / 1024)]
    TooLarge,
    #[error(
        "Строка 1: это не выписка в формате 1С — первая строка должна быть «1CClientBankExchange», а в файле «{0}». \
         Выгрузите выписку из банк-клиента в формате обмена с 1С."
    )]
    NotAStatement(String),
    #[error("Строка {line}: файл помечен как UTF-8, но не читается в этой кодировке.")]
    NotUtf8 { line: usize },
    #[error("Строка {line}: кодировка «{value}» не поддерживается (бывает Windows или DOS).")]
    UnknownEncoding { line: usize, value: String },
    #[error("Строка {line}: строка длиннее {MAX_LINE_BYTES} байт — файл повреждён или это не выписка.")]
    LineTooLong { line: usize },
    #[error("Строка {line}: непонятная строка «{text}» — ожидается Ключ=Значение.")]
    NotKeyValue { line: usize, text: String },
    #[error("Строка {line}: «{found}» внутри {inside} — файл повреждён.")]
    Misplaced { line: usize, found: String, inside: &'static str },
    #[error("Строка {line}: {field}: {reason}")]
    BadField { line: usize, field: String, reason: String },
    #[error("Строка {line}: в выписке больше {MAX_DOCUMENTS} документов. Выгрузите выписку за более короткий срок.")]
    TooManyDocuments { line: usize },
    #[error("Строка {line}: {what} — файл повреждён или это не выписка.")]
    Overgrown { line: usize, what: String },
    #[error("Строка {line}: файл обрезан — нет строки «КонецФайла». Выгрузите выписку заново.")]
    Truncated { line: usize },
    #[error(
        "Строки 1–{line}: в файле не нашлось ни одного раздела выписки — похоже, он сохранён не в той кодировке, \
         что указана в нём ({0}). Выгрузите выписку заново, кодировка Windows или DOS.", .encoding.label()
    )]
    WrongEncoding { line: usize, encoding: Encoding },
    #[error("Строки 1–{line}: в выписке не указан расчётный счёт (РасчСчет).")]
    NoAccount { line: usize },
}

/// The encoding the file was read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Windows1251,
    Dos866,
}

impl Encoding {
    /// As the statement's `Кодировка` line names it.
    pub fn label(self) -> &'static str {
        match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Windows1251 => "Windows",
            Encoding::Dos866 => "DOS",
        }
    }
}

/// A whole statement: incoming payments and everything else accounted for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub encoding: Encoding,
    /// `ВерсияФормата`, e.g. `1.03`.
    pub version: String,
    /// `Отправитель`: the bank's program.
    pub sender: String,
    pub created_on: Option<NaiveDate>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// `РасчСчет`: the accounts the statement is about (the cooperative's).
    pub accounts: Vec<String>,
    pub balances: Vec<Balance>,
    /// Payments to one of [`Statement::accounts`], in file order.
    pub incoming: Vec<Document>,
    pub skipped: Vec<Skipped>,
    pub invalid: Vec<Invalid>,
}

/// A `СекцияРасчСчет`: the bank's own totals for an account over the statement's period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Balance {
    pub line: usize,
    pub account: String,
    pub opening: Option<Kopecks>,
    pub received: Option<Kopecks>,
    pub spent: Option<Kopecks>,
    pub closing: Option<Kopecks>,
}

/// One payment document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// The line of its `СекцияДокумент`.
    pub line: usize,
    /// `Платежное поручение`, `Банковский ордер`…
    pub kind: String,
    pub number: String,
    pub date: NaiveDate,
    pub amount: Kopecks,
    pub payer: String,
    pub payer_inn: String,
    pub payer_account: String,
    pub payee_account: String,
    /// `ДатаПоступило`: when the money reached the account, where the bank fills it.
    pub received_on: Option<NaiveDate>,
    /// `НазначениеПлатежа`, or its parts joined.
    pub purpose: String,
}

impl Document {
    /// The day the money arrived, which is the day a payment counts on.
    pub fn arrived_on(&self) -> NaiveDate {
        self.received_on.unwrap_or(self.date)
    }

    /// What makes a bank document the same in overlapping statements.
    pub fn identity(&self) -> DocumentIdentity {
        DocumentIdentity {
            account: self.payee_account.clone(),
            date: self.date,
            number: self.number.clone(),
            amount: self.amount,
            payer_account: self.payer_account.clone(),
        }
    }
}

/// The identity of a bank document: account + date + number + amount + payer account.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DocumentIdentity {
    pub account: String,
    pub date: NaiveDate,
    pub number: String,
    pub amount: Kopecks,
    pub payer_account: String,
}

impl DocumentIdentity {
    /// One string for a unique column: `40703…|2026-10-05|123|345670|40817…`.
    pub fn key(&self) -> String {
        format!("{}|{}|{}|{}|{}", self.account, self.date, self.number, kopecks_value(self.amount), self.payer_account)
    }
}

/// A document read but not a payment to the cooperative.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub line: usize,
    pub number: String,
    pub reason: SkipReason,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// Money leaving the account, or paid to another account.
    Outgoing { payee_account: String },
    /// The same document (by identity) earlier in this file.
    Repeated { first_line: usize },
    /// More than one payment may be (a grant, a loan): not a member's payment for services.
    TooLarge { amount: Kopecks },
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::Outgoing { payee_account } => {
                write!(f, "не поступление: получатель — счёт {payee_account}, а не счёт выписки")
            }
            SkipReason::Repeated { first_line } => write!(f, "тот же документ уже есть в строке {first_line}"),
            SkipReason::TooLarge { amount } => write!(
                f,
                "сумма {amount} больше предела одного платежа ({}) — это не оплата участка; внесите её вне системы",
                Kopecks::PAYMENT_MAX
            ),
        }
    }
}

/// A document that could not be read, with why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub line: usize,
    pub reason: String,
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Строка {}: {}", self.line, self.reason)
    }
}

/// Reads a statement from the file's bytes.
pub fn parse(bytes: &[u8]) -> Result<Statement, StatementError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(StatementError::TooLarge);
    }
    let (text, encoding) = decode(bytes)?;
    let mut lines = text.split('\n').enumerate().map(|(i, line)| (i + 1, line.strip_suffix('\r').unwrap_or(line)));

    let first = lines.next().map(|(_, l)| l.trim()).unwrap_or_default();
    if first != FIRST_LINE {
        return Err(StatementError::NotAStatement(first.chars().take(40).collect()));
    }

    let mut reader = Reader::default();
    let mut last_line = 1;
    for (number, line) in lines {
        if line.len() > MAX_LINE_BYTES {
            return Err(StatementError::LineTooLong { line: number });
        }
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        last_line = number;
        match reader.line(number, line) {
            Ok(Flow::End) => return reader.finish(number, encoding),
            Ok(Flow::More) => {}
            // Read in the wrong single-byte encoding, no Cyrillic key is recognised: a section's
            // line reads as gibberish. That is the encoding, not a damaged file.
            Err(StatementError::NotKeyValue { .. }) if !reader.keys_recognised() => {
                return Err(StatementError::WrongEncoding { line: number, encoding });
            }
            Err(e) => return Err(e),
        }
    }
    if reader.keys_recognised() {
        Err(StatementError::Truncated { line: last_line })
    } else {
        Err(StatementError::WrongEncoding { line: last_line, encoding })
    }
}

/// UTF-8 first (with or without a BOM), then the encoding the header declares.
fn decode(bytes: &[u8]) -> Result<(Cow<'_, str>, Encoding), StatementError> {
    let line_at = |bytes: &[u8], offset: usize| bytes[..offset].iter().filter(|b| **b == b'\n').count() + 1;
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return match std::str::from_utf8(rest) {
            Ok(text) => Ok((Cow::Borrowed(text), Encoding::Utf8)),
            Err(e) => Err(StatementError::NotUtf8 { line: line_at(rest, e.valid_up_to()) }),
        };
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok((Cow::Borrowed(text), Encoding::Utf8));
    }
    let encoding = declared_encoding(bytes)?;
    let codec = match encoding {
        Encoding::Dos866 => encoding_rs::IBM866,
        _ => encoding_rs::WINDOWS_1251,
    };
    // Both are single-byte encodings with a character for (nearly) every byte: decoding cannot
    // fail, and the one unassigned byte of Windows-1251 becomes U+FFFD.
    Ok((codec.decode_without_bom_handling(bytes).0, encoding))
}

/// The `Кодировка=` line of the header, looked for as its bytes in both single-byte encodings
/// (the key is Cyrillic, the values `Windows` and `DOS` are ASCII). Without one: Windows-1251,
/// what nearly every bank writes.
fn declared_encoding(bytes: &[u8]) -> Result<Encoding, StatementError> {
    let keys = [encoding_rs::WINDOWS_1251, encoding_rs::IBM866].map(|codec| codec.encode("Кодировка=").0);
    for (index, line) in bytes.split(|b| *b == b'\n').enumerate().take(64) {
        let line = line.trim_ascii();
        let Some(value) = keys.iter().find_map(|key| line.strip_prefix(key.as_ref())) else { continue };
        let value = String::from_utf8_lossy(value).trim().to_owned();
        return match value.to_ascii_lowercase().as_str() {
            "windows" => Ok(Encoding::Windows1251),
            "dos" => Ok(Encoding::Dos866),
            _ => Err(StatementError::UnknownEncoding { line: index + 1, value: value.chars().take(20).collect() }),
        };
    }
    Ok(Encoding::Windows1251)
}

#[derive(Debug, PartialEq, Eq)]
enum Flow {
    More,
    End,
}

#[derive(Default)]
struct Reader<'a> {
    version: String,
    sender: String,
    created_on: Option<NaiveDate>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    accounts: Vec<String>,
    balances: Vec<Balance>,
    documents: Vec<Fields<'a>>,
    /// The open section, if any.
    section: Option<Section<'a>>,
    document_count: usize,
}

enum Section<'a> {
    Account(Balance),
    Document(Fields<'a>),
}

/// A document's lines as read, checked when the document ends.
/// The lines are borrowed from the decoded file: a document's two dozen lines cost no copies.
struct Fields<'a> {
    line: usize,
    kind: &'a str,
    values: Vec<(&'a str, usize, &'a str)>,
}

impl<'a> Reader<'a> {
    fn line(&mut self, number: usize, line: &'a str) -> Result<Flow, StatementError> {
        let (key, value) = match line.split_once('=') {
            Some((key, value)) => (key.trim(), value.trim()),
            None => (line, ""),
        };
        let misplaced = |inside| StatementError::Misplaced { line: number, found: key.to_owned(), inside };
        match (key, &mut self.section) {
            ("СекцияДокумент", None) => {
                self.document_count += 1;
                if self.document_count > MAX_DOCUMENTS {
                    return Err(StatementError::TooManyDocuments { line: number });
                }
                self.section = Some(Section::Document(Fields { line: number, kind: value, values: Vec::new() }));
            }
            ("СекцияРасчСчет", None) => {
                if self.balances.len() >= MAX_ACCOUNT_SECTIONS {
                    let what = format!("больше {MAX_ACCOUNT_SECTIONS} разделов счёта");
                    return Err(StatementError::Overgrown { line: number, what });
                }
                self.section = Some(Section::Account(Balance {
                    line: number,
                    account: String::new(),
                    opening: None,
                    received: None,
                    spent: None,
                    closing: None,
                }));
            }
            ("КонецДокумента", Some(Section::Document(_))) => {
                if let Some(Section::Document(fields)) = self.section.take() {
                    self.documents.push(fields);
                }
            }
            ("КонецРасчСчет", Some(Section::Account(_))) => {
                if let Some(Section::Account(balance)) = self.section.take() {
                    self.balances.push(balance);
                }
            }
            ("КонецФайла", None) => return Ok(Flow::End),
            ("СекцияДокумент" | "СекцияРасчСчет" | "КонецФайла" | "КонецРасчСчет", Some(Section::Document(_))) =>
            {
                return Err(misplaced("документа (нет «КонецДокумента»)"));
            }
            ("СекцияДокумент" | "СекцияРасчСчет" | "КонецФайла" | "КонецДокумента", Some(Section::Account(_))) =>
            {
                return Err(misplaced("раздела счёта (нет «КонецРасчСчет»)"));
            }
            ("КонецДокумента" | "КонецРасчСчет", None) => {
                return Err(misplaced("заголовка, без начала раздела"));
            }
            _ if !line.contains('=') => {
                return Err(StatementError::NotKeyValue { line: number, text: line.chars().take(40).collect() });
            }
            (_, Some(Section::Document(fields))) => {
                if fields.values.len() >= MAX_DOCUMENT_LINES {
                    let what = format!("в документе со строки {} больше {MAX_DOCUMENT_LINES} строк", fields.line);
                    return Err(StatementError::Overgrown { line: number, what });
                }
                fields.values.push((key, number, value));
            }
            (_, Some(Section::Account(balance))) => balance.set(number, key, value)?,
            (_, None) => self.header(number, key, value)?,
        }
        Ok(Flow::More)
    }

    /// Whether any of the format's (Cyrillic) keys has been read so far.
    fn keys_recognised(&self) -> bool {
        !self.version.is_empty()
            || !self.sender.is_empty()
            || self.created_on.is_some()
            || !self.accounts.is_empty()
            || self.section.is_some()
            || self.document_count > 0
            || !self.balances.is_empty()
    }

    fn header(&mut self, line: usize, key: &str, value: &str) -> Result<(), StatementError> {
        match key {
            "ВерсияФормата" => self.version = value.to_owned(),
            "Отправитель" => self.sender = value.to_owned(),
            "ДатаСоздания" => self.created_on = Some(date_field(line, key, value)?),
            "ДатаНачала" => self.from = Some(date_field(line, key, value)?),
            "ДатаКонца" => self.to = Some(date_field(line, key, value)?),
            "РасчСчет" if !value.is_empty() && !self.accounts.iter().any(|a| a == value) => {
                if self.accounts.len() >= MAX_ACCOUNTS {
                    let what = format!("в заголовке больше {MAX_ACCOUNTS} расчётных счетов");
                    return Err(StatementError::Overgrown { line, what });
                }
                self.accounts.push(value.to_owned());
            }
            // `Кодировка` was read before decoding; `Получатель`, `Документ` and the rest are not needed.
            _ => {}
        }
        Ok(())
    }

    fn finish(mut self, last_line: usize, encoding: Encoding) -> Result<Statement, StatementError> {
        // Some banks name the account only in its section.
        if self.accounts.is_empty() {
            self.accounts = self.balances.iter().map(|b| b.account.clone()).filter(|a| !a.is_empty()).collect();
        }
        if self.accounts.is_empty() {
            return Err(StatementError::NoAccount { line: last_line });
        }
        let mut incoming = Vec::new();
        let mut skipped = Vec::new();
        let mut invalid = Vec::new();
        let mut seen: HashMap<DocumentIdentity, usize> = HashMap::new();
        for fields in &self.documents {
            // Direction first: an outgoing document is skipped whatever else is wrong with it.
            if let Ok(Some(payee_account)) = fields.get("ПолучательСчет")
                && !self.accounts.iter().any(|a| a == payee_account)
            {
                let number = fields.get("Номер").ok().flatten().unwrap_or_default().to_owned();
                let reason = SkipReason::Outgoing { payee_account: payee_account.to_owned() };
                skipped.push(Skipped { line: fields.line, number, reason });
                continue;
            }
            let document = match fields.document() {
                Ok(document) => document,
                Err(reason) => {
                    invalid.push(reason);
                    continue;
                }
            };
            if document.amount > Kopecks::PAYMENT_MAX {
                let reason = SkipReason::TooLarge { amount: document.amount };
                skipped.push(Skipped { line: document.line, number: document.number, reason });
                continue;
            }
            if let Some(first_line) = seen.get(&document.identity()) {
                let reason = SkipReason::Repeated { first_line: *first_line };
                skipped.push(Skipped { line: document.line, number: document.number, reason });
                continue;
            }
            seen.insert(document.identity(), document.line);
            incoming.push(document);
        }
        Ok(Statement {
            encoding,
            version: self.version,
            sender: self.sender,
            created_on: self.created_on,
            from: self.from,
            to: self.to,
            accounts: self.accounts,
            balances: self.balances,
            incoming,
            skipped,
            invalid,
        })
    }
}

impl Balance {
    fn set(&mut self, line: usize, key: &str, value: &str) -> Result<(), StatementError> {
        let amount = || {
            Kopecks::parse_rubles(value).map(Some).map_err(|e| StatementError::BadField {
                line,
                field: key.to_owned(),
                reason: e.to_string(),
            })
        };
        match key {
            "РасчСчет" => self.account = value.to_owned(),
            "НачальныйОстаток" => self.opening = amount()?,
            "ВсегоПоступило" => self.received = amount()?,
            "ВсегоСписано" => self.spent = amount()?,
            "КонечныйОстаток" => self.closing = amount()?,
            _ => {}
        }
        Ok(())
    }
}

impl Fields<'_> {
    /// The one value of a key; a key given twice with different values makes the document unreadable.
    fn get(&self, key: &str) -> Result<Option<&str>, Invalid> {
        let mut found: Option<&str> = None;
        for &(k, line, value) in &self.values {
            if k == key {
                match found {
                    Some(first) if first != value => {
                        return Err(Invalid {
                            line, reason: format!("поле {key} указано дважды по-разному")
                        });
                    }
                    _ => found = Some(value),
                }
            }
        }
        Ok(found.filter(|v| !v.is_empty()))
    }

    fn required(&self, key: &str) -> Result<(usize, &str), Invalid> {
        let line = self.values.iter().find(|(k, ..)| *k == key).map_or(self.line, |(_, line, _)| *line);
        match self.get(key)? {
            Some(value) => Ok((line, value)),
            None => Err(Invalid { line: self.line, reason: format!("в документе нет поля {key}") }),
        }
    }

    fn document(&self) -> Result<Document, Invalid> {
        let (_, payee_account) = self.required("ПолучательСчет")?;
        let (_, number) = self.required("Номер")?;
        let (line, date) = self.required("Дата")?;
        let date = parse_date(date).ok_or_else(|| Invalid { line, reason: not_a_date("Дата", date) })?;
        let (line, amount) = self.required("Сумма")?;
        // Bounded as any sum, positive as money coming in; above one payment's limit it is read
        // and then skipped (`finish`), so a grant or a loan does not stop the statement.
        let amount = Kopecks::parse_rubles(amount)
            .and_then(|k| if k.is_positive() { Ok(k) } else { Err(MoneyError::NotPositive) })
            .map_err(|e| Invalid { line, reason: format!("Сумма «{amount}»: {e}") })?;
        let received_on = match self.get("ДатаПоступило")? {
            Some(value) => Some(parse_date(value).ok_or_else(|| Invalid {
                line: self.line_of("ДатаПоступило"),
                reason: not_a_date("ДатаПоступило", value),
            })?),
            None => None,
        };
        // The name for the printed form (`Плательщик1`) is the clean one; `Плательщик` often
        // starts with «ИНН 1234567890».
        let payer = match self.get("Плательщик1")? {
            Some(name) => name.to_owned(),
            None => strip_inn_prefix(self.get("Плательщик")?.unwrap_or_default()).to_owned(),
        };
        let purpose = self.purpose();
        if purpose.chars().count() > MAX_PURPOSE_CHARS {
            return Err(Invalid {
                line: self.line_of("НазначениеПлатежа"),
                reason: format!("назначение платежа длиннее {MAX_PURPOSE_CHARS} символов"),
            });
        }
        Ok(Document {
            line: self.line,
            kind: self.kind.to_owned(),
            number: number.to_owned(),
            date,
            amount,
            payer,
            payer_inn: self.get("ПлательщикИНН")?.unwrap_or_default().to_owned(),
            payer_account: self.get("ПлательщикСчет")?.unwrap_or_default().to_owned(),
            payee_account: payee_account.to_owned(),
            received_on,
            purpose,
        })
    }

    fn line_of(&self, key: &str) -> usize {
        self.values.iter().find(|(k, ..)| k.starts_with(key)).map_or(self.line, |(_, line, _)| *line)
    }

    /// `НазначениеПлатежа`, repeated or not; without it, `НазначениеПлатежа1`…`6` in order. The
    /// parts are joined with a space and runs of spaces made one.
    fn purpose(&self) -> String {
        let whole: Vec<&str> =
            self.values.iter().filter(|(k, ..)| *k == "НазначениеПлатежа").map(|(.., v)| *v).collect();
        let parts: Vec<&str> = if whole.is_empty() {
            (1..=6)
                .flat_map(|i| {
                    let key = format!("НазначениеПлатежа{i}");
                    self.values.iter().filter(move |(k, ..)| *k == key).map(|(.., v)| *v)
                })
                .collect()
        } else {
            whole
        };
        parts.iter().flat_map(|p| p.split_whitespace()).collect::<Vec<_>>().join(" ")
    }
}

fn strip_inn_prefix(payer: &str) -> &str {
    let Some(rest) = payer.strip_prefix("ИНН") else { return payer };
    let rest = rest.trim_start();
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 { payer } else { rest[digits..].trim_start() }
}

fn not_a_date(field: &str, value: &str) -> String {
    format!("{field} «{}» — не дата вида ДД.ММ.ГГГГ", value.chars().take(20).collect::<String>())
}

fn date_field(line: usize, key: &str, value: &str) -> Result<NaiveDate, StatementError> {
    parse_date(value).ok_or_else(|| StatementError::BadField {
        line,
        field: key.to_owned(),
        reason: format!("«{}» — не дата вида ДД.ММ.ГГГГ", value.chars().take(20).collect::<String>()),
    })
}

/// Exactly `ДД.ММ.ГГГГ`, as the format writes dates. Dates are bounded by the service when the
/// payments are posted, as every date that enters the books is.
fn parse_date(value: &str) -> Option<NaiveDate> {
    let b = value.as_bytes();
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |n, c| c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0')))
    };
    if b.len() != 10 || b[2] != b'.' || b[5] != b'.' {
        return None;
    }
    NaiveDate::from_ymd_opt(i32::try_from(digits(6..10)?).ok()?, digits(3..5)?, digits(0..2)?)
}
