//! Which contract a bank payment is for, read from what people write in its purpose, who paid
//! and from which account — and why, so the accountant can check the reasoning.
//!
//! The signals, strongest first; the first that says anything decides:
//! 1. the purpose our own QR code printed ([`OurPurpose`]), to the letter;
//! 2. a contract number anywhere in the purpose («договор В-012», «Э-0123», «э0123»);
//! 3. a «л/с» followed by a contract (or plot) number;
//! 4. a plot number: after «уч», «уч.», «участок №», «уч-к»…, after a lone «№», or a number
//!    with a letter such as «12а» on its own; a bare number like «12» is not taken (it is as
//!    often a month, a sum or a reading);
//! 5. a payer account the accountant chose contracts for before;
//! 6. the consumer's surname (one typo allowed in surnames of five letters or more, ё = е),
//!    narrowed by initials or a first name when written, in the purpose and then the payer.
//!
//! A signal that points at two plots, or a name that fits several consumers, sends the payment
//! to «Разобрать» rather than to a lower signal: a guess is worse than a question. A service
//! word («свет», «э/э», «вода»…) picks the contract on a plot; with none named and several
//! contracts on the plot, the match lists them all and [`split`] divides the money.

use std::collections::HashMap;
use std::fmt;

use domain::{AmountOutOfRange, Kopecks, Period, PlotNumber, Service};

use crate::qr::OurPurpose;
use crate::statement::Document;

pub type ContractId = i64;
pub type ConsumerId = i64;

/// Longer text is cut before it is read: a purpose is at most 210 characters by the rules of
/// payment orders, a payer's name about 160.
const MAX_TEXT_CHARS: usize = 1000;
/// Surnames shorter than this must be written exactly: one letter off in «Ким» is another name.
const MIN_FUZZY_SURNAME: usize = 5;

/// A contract the payment may be for, as the matcher sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractCandidate {
    pub id: ContractId,
    pub number: String,
    pub service: Service,
    pub plot: PlotNumber,
    pub consumer_id: ConsumerId,
    /// «Иванова Анна Петровна» or «Иванова А. П.».
    pub consumer_name: String,
}

/// The payment as the matcher reads it.
#[derive(Debug, Clone, Copy)]
pub struct Payment<'a> {
    pub purpose: &'a str,
    pub payer: &'a str,
    pub payer_account: &'a str,
}

impl<'a> From<&'a Document> for Payment<'a> {
    fn from(document: &'a Document) -> Self {
        Payment { purpose: &document.purpose, payer: &document.payer, payer_account: &document.payer_account }
    }
}

/// Where a payment goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Matched(Match),
    /// «Разобрать»: the accountant decides.
    Review(Review),
}

/// The contracts a payment is for: one, or the contracts of one plot among which [`split`]
/// divides it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    pub contracts: Vec<ContractId>,
    pub why: Why,
}

impl Match {
    pub fn needs_split(&self) -> bool {
        self.contracts.len() > 1
    }
}

/// Why a payment was matched, in the words shown to the accountant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Why {
    OurQr,
    ContractNumber(String),
    PersonalAccount(String),
    Plot(PlotNumber),
    RememberedAccount,
    Name(String),
}

impl fmt::Display for Why {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Why::OurQr => f.write_str("по назначению из нашего QR"),
            Why::ContractNumber(number) => write!(f, "по номеру договора {number}"),
            Why::PersonalAccount(number) => write!(f, "по л/с {number}"),
            Why::Plot(plot) => write!(f, "по номеру участка {plot}"),
            Why::RememberedAccount => f.write_str("по счёту плательщика (запомнено)"),
            Why::Name(name) => write!(f, "по ФИО {name}"),
        }
    }
}

/// Why a payment waits for the accountant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Review {
    Nothing,
    SeveralPlots(Vec<String>),
    UnknownPlot(String),
    NoContractForService { plot: PlotNumber, service: Service },
    AmbiguousName(String),
}

impl fmt::Display for Review {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Разобрать: ")?;
        match self {
            Review::Nothing => f.write_str("в назначении нет ни договора, ни участка, ни знакомого плательщика"),
            Review::SeveralPlots(plots) => write!(f, "несколько участков ({})", plots.join(", ")),
            Review::UnknownPlot(plot) => write!(f, "участка {plot} нет в реестре"),
            Review::NoContractForService { plot, service } => {
                write!(f, "у участка {plot} нет договора на услугу «{}»", service.label())
            }
            Review::AmbiguousName(name) => write!(f, "под «{name}» подходят несколько потребителей"),
        }
    }
}

/// What the payments of one statement are matched against, indexed once.
pub struct Candidates {
    contracts: Vec<ContractCandidate>,
    /// Contract numbers as keys ([`number_key`]): exact, then with leading zeros dropped.
    by_number: HashMap<String, Vec<usize>>,
    by_loose_number: HashMap<String, Vec<usize>>,
    by_plot: HashMap<String, Vec<usize>>,
    remembered: HashMap<String, Vec<usize>>,
    consumers: Vec<Consumer>,
    by_surname: HashMap<String, Vec<usize>>,
    /// Each surname with one letter deleted: finds one-letter typos without comparing every pair.
    by_surname_deletion: HashMap<String, Vec<usize>>,
}

struct Consumer {
    surname: String,
    /// First and middle names (or their initials), lower case.
    given: Vec<String>,
    /// «Иванова А.П.».
    display: String,
    contracts: Vec<usize>,
}

impl Candidates {
    /// `remembered`: payer accounts and the contracts the accountant chose for them.
    pub fn new(contracts: Vec<ContractCandidate>, remembered: impl IntoIterator<Item = (String, ContractId)>) -> Self {
        let mut index = Candidates {
            by_number: HashMap::new(),
            by_loose_number: HashMap::new(),
            by_plot: HashMap::new(),
            remembered: HashMap::new(),
            consumers: Vec::new(),
            by_surname: HashMap::new(),
            by_surname_deletion: HashMap::new(),
            contracts: Vec::new(),
        };
        let mut consumer_index: HashMap<ConsumerId, usize> = HashMap::new();
        for (i, c) in contracts.iter().enumerate() {
            index.by_number.entry(number_key(&c.number, false)).or_default().push(i);
            index.by_loose_number.entry(number_key(&c.number, true)).or_default().push(i);
            index.by_plot.entry(c.plot.as_str().to_owned()).or_default().push(i);
            let consumer = *consumer_index.entry(c.consumer_id).or_insert_with(|| {
                index.consumers.push(Consumer::new(&c.consumer_name));
                index.consumers.len() - 1
            });
            index.consumers[consumer].contracts.push(i);
        }
        for (i, consumer) in index.consumers.iter().enumerate() {
            if consumer.surname.chars().count() < 2 {
                continue;
            }
            index.by_surname.entry(consumer.surname.clone()).or_default().push(i);
            if consumer.surname.chars().count() >= MIN_FUZZY_SURNAME {
                for deleted in deletions(&consumer.surname) {
                    index.by_surname_deletion.entry(deleted).or_default().push(i);
                }
            }
        }
        let by_id: HashMap<ContractId, usize> = contracts.iter().enumerate().map(|(i, c)| (c.id, i)).collect();
        for (account, id) in remembered {
            // A remembered contract that is no longer a candidate (closed since) is ignored.
            let Some(i) = by_id.get(&id) else { continue };
            let chosen = index.remembered.entry(account).or_default();
            if !chosen.contains(i) {
                chosen.push(*i);
            }
        }
        index.contracts = contracts;
        index
    }

    /// Decides where a payment goes, by the signals in the order of the module's description.
    pub fn match_payment(&self, payment: &Payment<'_>) -> Verdict {
        if let Some(verdict) = self.our_qr(payment.purpose) {
            return verdict;
        }
        let mut text = Text::read(payment.purpose);
        let services = text.services();
        let contracts = self.contract_mentions(&mut text);
        if !contracts.is_empty() {
            let via_ls = contracts.iter().all(|(_, ls)| *ls);
            let found: Vec<usize> = dedup(contracts.iter().map(|(i, _)| *i));
            let numbers = found.iter().map(|i| self.contracts[*i].number.as_str()).collect::<Vec<_>>().join(", ");
            let why = if via_ls { Why::PersonalAccount(numbers) } else { Why::ContractNumber(numbers) };
            return self.on_one_plot(found, why);
        }
        let plots = self.plot_mentions(&mut text);
        let mut unknown_plot = None;
        match plots.as_slice() {
            [] => {}
            [(plot, via_ls)] => match self.by_plot.get(plot) {
                Some(on_plot) => {
                    let plot = self.contracts[on_plot[0]].plot.clone();
                    let why = if *via_ls { Why::PersonalAccount(plot.to_string()) } else { Why::Plot(plot.clone()) };
                    return match services.pick(&self.contracts, on_plot) {
                        Ok(chosen) => self.matched(chosen, why),
                        Err(service) => Verdict::Review(Review::NoContractForService { plot, service }),
                    };
                }
                None => unknown_plot = Some(plot.clone()),
            },
            several => return Verdict::Review(Review::SeveralPlots(several.iter().map(|(p, _)| p.clone()).collect())),
        }
        if let Some(remembered) = self.remembered.get(payment.payer_account.trim()) {
            let chosen = services.pick(&self.contracts, remembered).unwrap_or_else(|_| remembered.clone());
            // An account once split between two plots' contracts is no answer for the next
            // payment: which member's debt it pays is the accountant's to say again.
            return self.on_one_plot(chosen, Why::RememberedAccount);
        }
        match self.named_consumer(&text, payment.payer) {
            NameMatch::One(consumer) => {
                let consumer = &self.consumers[consumer];
                let why = Why::Name(consumer.display.clone());
                match services.pick(&self.contracts, &consumer.contracts) {
                    Ok(chosen) => self.on_one_plot(chosen, why),
                    Err(service) => match self.on_one_plot(consumer.contracts.clone(), why) {
                        Verdict::Matched(_) => {
                            let plot = self.contracts[consumer.contracts[0]].plot.clone();
                            Verdict::Review(Review::NoContractForService { plot, service })
                        }
                        several => several,
                    },
                }
            }
            NameMatch::Several(written) => Verdict::Review(Review::AmbiguousName(written)),
            NameMatch::None => Verdict::Review(unknown_plot.map_or(Review::Nothing, Review::UnknownPlot)),
        }
    }

    /// A purpose our code printed, whose contracts all exist (and, for one contract, whose plot
    /// and service are that contract's).
    fn our_qr(&self, purpose: &str) -> Option<Verdict> {
        let found = match OurPurpose::recognise(purpose)? {
            OurPurpose::Contract { plot, contract, service, .. } => {
                let i = self.exact_number(&contract)?;
                let c = &self.contracts[i];
                (c.plot == plot && c.service == service).then_some(vec![i])?
            }
            OurPurpose::Total { contracts, .. } => {
                contracts.iter().map(|number| self.exact_number(number)).collect::<Option<Vec<_>>>()?
            }
        };
        Some(self.matched(found, Why::OurQr))
    }

    fn exact_number(&self, number: &str) -> Option<usize> {
        match self.by_number.get(&number_key(number, false))?.as_slice() {
            [one] => Some(*one),
            _ => None,
        }
    }

    /// Contract numbers in the text, each with whether an «л/с» introduced it. Windows of up to
    /// three adjacent words are tried («Э-0123» is read as «э» and «0123»); a number of digits
    /// only counts right after «договор» or «л/с», where it cannot be a plot, a sum or a month.
    fn contract_mentions(&self, text: &mut Text) -> Vec<(usize, bool)> {
        let mut found = Vec::new();
        let n = text.tokens.len();
        let mut i = 0;
        while i < n {
            let after = i.checked_sub(1).map(|p| text.tokens[p].role);
            let introduced = matches!(after, Some(Role::ContractMarker | Role::LsMarker));
            let mut hit = None;
            for len in (1..=3).rev() {
                if i + len > n {
                    continue;
                }
                let window = &text.tokens[i..i + len];
                let joinable = window.iter().all(|t| t.role == Role::Free)
                    && window[1..].iter().all(|t| t.sep.chars().all(|c| matches!(c, ' ' | '-' | '–' | '/')));
                if !joinable {
                    continue;
                }
                let joined: String = window.iter().map(|t| t.text.as_str()).collect();
                if !introduced && !joined.chars().any(char::is_alphabetic) {
                    continue;
                }
                let exact = self.by_number.get(&number_key(&joined, false));
                let loose = self.by_loose_number.get(&number_key(&joined, true));
                if let Some([one]) = exact.or(loose).map(Vec::as_slice) {
                    hit = Some((*one, len));
                    break;
                }
            }
            match hit {
                Some((contract, len)) => {
                    found.push((contract, after == Some(Role::LsMarker)));
                    for t in &mut text.tokens[i..i + len] {
                        t.role = Role::Used;
                    }
                    i += len;
                }
                None => i += 1,
            }
        }
        found
    }

    /// Plot numbers in the text (canonical, in order, each once), each with whether an «л/с»
    /// introduced it.
    fn plot_mentions(&self, text: &mut Text) -> Vec<(String, bool)> {
        let mut plots: Vec<(String, bool)> = Vec::new();
        let mut add = |plot: String, via_ls: bool| {
            if !plots.iter().any(|(p, _)| *p == plot) {
                plots.push((plot, via_ls));
            }
        };
        let n = text.tokens.len();
        let mut i = 0;
        while i < n {
            let role = text.tokens[i].role;
            let starts_with_digit = text.tokens[i].text.starts_with(|c: char| c.is_ascii_digit());
            let previous = i.checked_sub(1).map(|p| text.tokens[p].role);
            let marked = previous == Some(Role::PlotMarker)
                || previous == Some(Role::LsMarker)
                || (text.tokens[i].sep.contains('№') && previous != Some(Role::ContractMarker));
            if role != Role::Free || !starts_with_digit {
                i += 1;
                continue;
            }
            if marked {
                // «уч 12», «участок № 12А», «уч-к 12/1», and what follows a comma or «и»: «уч 12, 14».
                let mut j = i;
                while let Some((plot, next)) = text.plot_at(j) {
                    if j == i || self.by_plot.contains_key(&plot) {
                        add(plot, previous == Some(Role::LsMarker));
                    }
                    j = next;
                    let listed = text.tokens.get(j).is_some_and(|t| t.role == Role::Free && t.sep.contains(','))
                        || text.tokens.get(j).is_some_and(|t| t.text == "и" && t.role == Role::Free)
                            && text.tokens.get(j + 1).is_some_and(|t| t.text.starts_with(|c: char| c.is_ascii_digit()));
                    if !listed {
                        break;
                    }
                    if text.tokens[j].text == "и" {
                        j += 1;
                    }
                }
                i = j.max(i + 1);
            } else if let Some((plot, next)) = text.plot_at(i) {
                // A lone «12а»: a number with a letter is a plot when the cooperative has that plot.
                if plot.chars().any(char::is_alphabetic) && self.by_plot.contains_key(&plot) {
                    add(plot, false);
                }
                i = next;
            } else {
                i += 1;
            }
        }
        plots
    }

    fn named_consumer(&self, text: &Text, payer: &str) -> NameMatch {
        let in_purpose = self.name_mentions(text);
        let payer = Text::read(payer);
        let in_payer = self.name_mentions(&payer);
        let (found, written) = match (in_purpose, in_payer) {
            ((p, _), (q, _)) if p.len() > 1 && p.iter().filter(|c| q.contains(c)).count() == 1 => {
                return NameMatch::One(*p.iter().find(|c| q.contains(c)).expect("counted above"));
            }
            ((p, written), _) if !p.is_empty() => (p, written),
            (_, (q, written)) => (q, written),
        };
        match found.as_slice() {
            [] => NameMatch::None,
            [one] => NameMatch::One(*one),
            _ => NameMatch::Several(written),
        }
    }

    /// The consumers whose surname the text names (narrowed by the initials or first name
    /// written beside it), and the first surname as written.
    fn name_mentions(&self, text: &Text) -> (Vec<usize>, String) {
        let mut found = Vec::new();
        let mut written = String::new();
        for (i, token) in text.tokens.iter().enumerate() {
            if token.role != Role::Free
                || token.text.chars().count() < 2
                || !token.text.chars().all(char::is_alphabetic)
            {
                continue;
            }
            let mut same: Vec<usize> = self.surnames_like(&token.text);
            if same.is_empty() {
                continue;
            }
            let around = text.given_names_around(i);
            // A first name that fits one of them narrows to those; initials must fit.
            if let Some(word) = around.iter().find(|w| w.chars().count() > 1) {
                let named: Vec<usize> = same
                    .iter()
                    .copied()
                    .filter(|c| self.consumers[*c].given.first().is_some_and(|g| within_one(g, word)))
                    .collect();
                if !named.is_empty() {
                    same = named;
                }
            }
            let initials: Vec<char> =
                around.iter().take_while(|w| w.chars().count() == 1).filter_map(|w| w.chars().next()).collect();
            same.retain(|c| {
                initials.iter().zip(&self.consumers[*c].given).all(|(initial, given)| given.starts_with(*initial))
            });
            if written.is_empty() && !same.is_empty() {
                written = capitalised(&token.text);
            }
            for c in same {
                if !found.contains(&c) {
                    found.push(c);
                }
            }
        }
        (found, written)
    }

    /// Consumers whose surname is this word, or one letter away from it when long enough.
    fn surnames_like(&self, word: &str) -> Vec<usize> {
        let mut found: Vec<usize> = self.by_surname.get(word).cloned().unwrap_or_default();
        if word.chars().count() >= MIN_FUZZY_SURNAME && !STOP_WORDS.contains(&word) {
            let mut near: Vec<usize> = Vec::new();
            near.extend(self.by_surname_deletion.get(word).into_iter().flatten());
            for deleted in deletions(word) {
                near.extend(self.by_surname.get(&deleted).into_iter().flatten());
                near.extend(self.by_surname_deletion.get(&deleted).into_iter().flatten());
            }
            for c in near {
                if !found.contains(&c) && within_one(&self.consumers[c].surname, word) {
                    found.push(c);
                }
            }
        }
        found
    }

    fn matched(&self, contracts: Vec<usize>, why: Why) -> Verdict {
        Verdict::Matched(Match { contracts: contracts.iter().map(|i| self.contracts[*i].id).collect(), why })
    }

    /// A match when the contracts are on one plot; «Разобрать» when they spread over several.
    fn on_one_plot(&self, contracts: Vec<usize>, why: Why) -> Verdict {
        let plots: Vec<String> = dedup(contracts.iter().map(|i| self.contracts[*i].plot.to_string()));
        if plots.len() > 1 {
            return Verdict::Review(Review::SeveralPlots(plots));
        }
        self.matched(contracts, why)
    }
}

enum NameMatch {
    None,
    One(usize),
    Several(String),
}

impl Consumer {
    fn new(full_name: &str) -> Consumer {
        let words: Vec<String> = Text::read(full_name).tokens.into_iter().map(|t| t.text).collect();
        let surname = words.first().cloned().unwrap_or_default();
        let given: Vec<String> = words.iter().skip(1).take(2).cloned().collect();
        // Shown as the register writes it, ё included: «Фёдоров Н.И.».
        let mut written = full_name.split_whitespace();
        let initials: String = written
            .clone()
            .skip(1)
            .take(2)
            .filter_map(|w| w.chars().next())
            .flat_map(|c| [c, '.'])
            .collect::<String>()
            .to_uppercase();
        let display = format!("{} {initials}", written.next().unwrap_or_default()).trim_end().to_owned();
        Consumer { surname, given, display, contracts: Vec::new() }
    }
}

/// The services a purpose names.
#[derive(Debug, Default)]
struct Services {
    electricity: bool,
    water: bool,
}

impl Services {
    /// The contracts among `among` for the named service; all of them when none or both are
    /// named; the missing service when the plot has no contract for it.
    fn pick(&self, contracts: &[ContractCandidate], among: &[usize]) -> Result<Vec<usize>, Service> {
        let wanted = match (self.electricity, self.water) {
            (true, false) => Service::Electricity,
            (false, true) => Service::Water,
            _ => return Ok(among.to_vec()),
        };
        let chosen: Vec<usize> = among.iter().copied().filter(|i| contracts[*i].service == wanted).collect();
        if chosen.is_empty() { Err(wanted) } else { Ok(chosen) }
    }
}

/// Words that are one letter from a surname more often than they are a typo of one.
const STOP_WORDS: &[&str] = &[
    "оплата",
    "оплаты",
    "оплату",
    "участок",
    "участка",
    "договор",
    "договору",
    "услуги",
    "взнос",
    "взносы",
    "членские",
    "целевой",
    "январь",
    "февраль",
    "апрель",
    "август",
    "сентябрь",
    "октябрь",
    "ноябрь",
    "декабрь",
    "января",
    "февраля",
    "марта",
    "апреля",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
    "показания",
    "счетчик",
    "счетчика",
    "период",
    "сумма",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Free,
    Service,
    PlotMarker,
    ContractMarker,
    LsMarker,
    Used,
}

/// A run of letters or digits, lower case with ё as е, and the characters before it.
#[derive(Debug)]
struct Token {
    text: String,
    sep: String,
    role: Role,
}

struct Text {
    tokens: Vec<Token>,
}

impl Text {
    /// Splits text into words and numbers; a word running into a number is split («уч12»), a
    /// number running into a letter is not («12а»).
    fn read(text: &str) -> Text {
        let mut tokens = Vec::new();
        let mut word = String::new();
        let mut sep = String::new();
        let mut flush = |word: &mut String, sep: &mut String| {
            if !word.is_empty() {
                tokens.push(Token { text: std::mem::take(word), sep: std::mem::take(sep), role: Role::Free });
            }
        };
        for c in text.chars().take(MAX_TEXT_CHARS).flat_map(char::to_lowercase) {
            let c = if c == 'ё' { 'е' } else { c };
            if c.is_alphanumeric() {
                if c.is_ascii_digit() && word.chars().last().is_some_and(char::is_alphabetic) {
                    flush(&mut word, &mut sep);
                }
                word.push(c);
            } else {
                flush(&mut word, &mut sep);
                sep.push(c);
            }
        }
        flush(&mut word, &mut sep);
        let mut text = Text { tokens };
        text.mark_markers();
        text
    }

    /// Marks the words that introduce something: «уч», «договор», «л/с».
    fn mark_markers(&mut self) {
        let mut i = 0;
        while i < self.tokens.len() {
            let t = self.tokens[i].text.as_str();
            let next = self.tokens.get(i + 1).map(|t| t.text.as_str());
            let (role, tail) = if t == "уч" || t.starts_with("участ") {
                // «уч-к», «уч-ка», «уч-ок», «участок номер»: the tail belongs to the marker.
                match next {
                    Some("к" | "ка" | "ок" | "номер" | "n" | "no") => (Role::Used, Some(Role::PlotMarker)),
                    _ => (Role::PlotMarker, None),
                }
            } else if t.starts_with("дог") {
                (Role::ContractMarker, None)
            } else if (t == "л" && next == Some("с"))
                || (t.starts_with("лиц") && next.is_some_and(|n| n.starts_with("сч")))
            {
                (Role::Used, Some(Role::LsMarker))
            } else if t == "лс" {
                (Role::LsMarker, None)
            } else {
                (Role::Free, None)
            };
            self.tokens[i].role = role;
            if let Some(tail) = tail {
                self.tokens[i + 1].role = tail;
                i += 1;
            }
            i += 1;
        }
    }

    /// Finds and marks the service words.
    fn services(&mut self) -> Services {
        let mut found = Services::default();
        let n = self.tokens.len();
        for i in 0..n {
            if self.tokens[i].role != Role::Free {
                continue;
            }
            let t = self.tokens[i].text.as_str();
            let next = self.tokens.get(i + 1).map(|t| t.text.as_str());
            // «э/э», «эл/эн», «эл. энергия»: two words.
            let pair = (t == "э" && next == Some("э")) || (t == "эл" && next.is_some_and(|n| n.starts_with("эн")));
            let electricity = pair
                || t.starts_with("электр")
                || t.starts_with("энерг")
                || matches!(t, "свет" | "света" | "свету" | "ээ" | "квт");
            let water = t.starts_with("вод") || t == "хвс" || t.starts_with("полив");
            if electricity || water {
                found.electricity |= electricity;
                found.water |= water;
                self.tokens[i].role = Role::Service;
                if pair {
                    self.tokens[i + 1].role = Role::Service;
                }
            }
        }
        found
    }

    /// The plot number starting at token `i` («12», «12а», «12/1», «7-2») in canonical form, and
    /// the index after it.
    fn plot_at(&self, i: usize) -> Option<(String, usize)> {
        let first = self.tokens.get(i)?;
        if first.role != Role::Free || !first.text.starts_with(|c: char| c.is_ascii_digit()) {
            return None;
        }
        let digits = first.text.chars().take_while(char::is_ascii_digit).count();
        let suffix: String = first.text.chars().skip(digits).map(cyrillic_lookalike).collect();
        // One letter after the number at most: «12а», not «12мая».
        if suffix.chars().count() > 1 {
            return None;
        }
        let mut plot = format!("{}{suffix}", &first.text[..digits]);
        let mut next = i + 1;
        if let Some(t) = self.tokens.get(next)
            && (t.sep == "/" || t.sep == "-")
            && t.role == Role::Free
            && t.text.chars().all(|c| c.is_ascii_digit())
        {
            plot.push_str(&t.sep);
            plot.push_str(&t.text);
            next += 1;
        }
        let plot = PlotNumber::parse(&plot).ok()?;
        Some((plot.as_str().to_owned(), next))
    }

    /// The free words right after token `i` (or, when there are none, right before it) that may
    /// be a first name, middle name or initials.
    fn given_names_around(&self, i: usize) -> Vec<&str> {
        let usable = |t: &&Token| t.role == Role::Free && t.text.chars().all(char::is_alphabetic);
        let after: Vec<&str> =
            self.tokens[i + 1..].iter().take(2).take_while(usable).map(|t| t.text.as_str()).collect();
        if !after.is_empty() {
            return after;
        }
        // «А.П. Иванова».
        let mut before: Vec<&str> = self.tokens[..i]
            .iter()
            .rev()
            .take(2)
            .take_while(|t| usable(t) && t.text.chars().count() == 1)
            .map(|t| t.text.as_str())
            .collect();
        before.reverse();
        before
    }
}

/// A contract number as a lookup key: upper case, Latin look-alikes as Cyrillic (people type
/// «B-012» for «В-012»), no separators; `loose` also drops leading zeros («Э-12» for «Э-0012»).
fn number_key(number: &str, loose: bool) -> String {
    let mut key = String::with_capacity(number.len());
    let mut in_digits = false;
    for c in number.chars().flat_map(char::to_uppercase) {
        if !c.is_alphanumeric() {
            continue;
        }
        if loose && c == '0' && !in_digits {
            continue;
        }
        in_digits = c.is_ascii_digit();
        key.push(cyrillic_lookalike(c));
    }
    key
}

fn cyrillic_lookalike(c: char) -> char {
    match c {
        'A' | 'a' => 'А',
        'B' | 'b' => 'В',
        'E' | 'e' => 'Е',
        'K' | 'k' => 'К',
        'M' | 'm' => 'М',
        'H' | 'h' => 'Н',
        'O' | 'o' => 'О',
        'P' | 'p' => 'Р',
        'C' | 'c' => 'С',
        'T' | 't' => 'Т',
        'X' | 'x' => 'Х',
        'Y' | 'y' => 'У',
        c => c.to_uppercase().next().unwrap_or(c),
    }
}

/// The word with each one letter deleted.
fn deletions(word: &str) -> impl Iterator<Item = String> + '_ {
    word.char_indices().map(move |(i, c)| format!("{}{}", &word[..i], &word[i + c.len_utf8()..]))
}

/// Whether two words differ by at most one letter inserted, deleted or replaced.
fn within_one(a: &str, b: &str) -> bool {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let (short, long) = if a.len() <= b.len() { (&a, &b) } else { (&b, &a) };
    if long.len() - short.len() > 1 {
        return false;
    }
    let common = short.iter().zip(long.iter()).take_while(|(x, y)| x == y).count();
    if short.len() == long.len() {
        short[common..].iter().skip(1).eq(long[common..].iter().skip(1))
    } else {
        short[common..].iter().eq(long[common + 1..].iter())
    }
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

fn dedup<T: PartialEq>(items: impl Iterator<Item = T>) -> Vec<T> {
    let mut out = Vec::new();
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

/// A contract's unpaid charges, oldest month first, for [`split`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractDebt {
    pub contract: ContractId,
    pub service: Service,
    /// Unpaid amount per billing month; months with nothing owed may be left out.
    pub debts: Vec<(Period, Kopecks)>,
}

impl ContractDebt {
    /// What is still unpaid month by month, from a contract's charges per billing month (a
    /// month's lines summed, recalculations included) and everything paid on it: payments go to
    /// the oldest charges first, and a month whose lines sum to a credit counts as paid too.
    pub fn unpaid(
        contract: ContractId,
        service: Service,
        mut charged: Vec<(Period, Kopecks)>,
        paid: Kopecks,
    ) -> Result<ContractDebt, AmountOutOfRange> {
        charged.sort_by_key(|(period, _)| *period);
        let mut credit = paid;
        for (_, amount) in charged.iter().filter(|(_, amount)| amount.is_negative()) {
            credit = credit.checked_sub(*amount)?;
        }
        let mut debts = Vec::new();
        for (period, amount) in charged.into_iter().filter(|(_, amount)| amount.is_positive()) {
            let covered = amount.min(credit.max(Kopecks::ZERO));
            credit = credit.checked_sub(covered)?;
            let owed = amount.checked_sub(covered)?;
            if owed.is_positive() {
                debts.push((period, owed));
            }
        }
        Ok(ContractDebt { contract, service, debts })
    }
}

/// Divides a payment for a plot among its contracts when the purpose named no service.
///
/// The rule: the oldest debt is paid first, across all the contracts (in one month, electricity
/// before water, then in the order given); what is left after every debt is paid is an advance
/// on the electricity contract (the larger bill of a plot), or on the first contract when the
/// plot has no electricity. Returns each contract's share, in the order given, leaving out
/// contracts that get nothing; the shares add up to `amount`. Every share is part of `amount`,
/// so the checked sums cannot fail for a bounded amount; the error is there to say so in types.
pub fn split(amount: Kopecks, contracts: &[ContractDebt]) -> Result<Vec<(ContractId, Kopecks)>, AmountOutOfRange> {
    if contracts.is_empty() {
        return Ok(Vec::new());
    }
    let mut shares: Vec<(ContractId, Kopecks)> = contracts.iter().map(|c| (c.contract, Kopecks::ZERO)).collect();
    let mut owed: Vec<(Period, bool, usize, Kopecks)> = contracts
        .iter()
        .enumerate()
        .flat_map(|(i, c)| {
            c.debts
                .iter()
                .filter(|(_, debt)| debt.is_positive())
                .map(move |(period, debt)| (*period, c.service != Service::Electricity, i, *debt))
        })
        .collect();
    owed.sort_by_key(|(period, water_first, i, _)| (*period, *water_first, *i));
    let mut left = amount;
    for (_, _, i, debt) in owed {
        if !left.is_positive() {
            break;
        }
        let paid = left.min(debt);
        shares[i].1 = shares[i].1.checked_add(paid)?;
        left = left.checked_sub(paid)?;
    }
    if left.is_positive() {
        let advance = contracts.iter().position(|c| c.service == Service::Electricity).unwrap_or(0);
        shares[advance].1 = shares[advance].1.checked_add(left)?;
    }
    shares.retain(|(_, share)| *share != Kopecks::ZERO);
    Ok(shares)
}
