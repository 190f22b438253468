//! Buttons: the reply keyboard of the main menu and the inline buttons of each step, with the
//! callback data they carry.

use std::collections::HashSet;

use domain::RequestTopic;
use entities::plot;
use service::ledger::debt::Statement;
use service::payee::qr::Target;
use service::register::cards::{MeterCard, PlotCard};
use teloxide::types::{
    ButtonRequest, InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton, KeyboardMarkup, KeyboardRemove,
    ReplyMarkup,
};

use crate::who::Who;

/// What an inline button means.
///
/// Encoded as `<kind>[:<id>]`, short enough for Telegram's 64 bytes. A kind's format never
/// changes (a new format gets a new kind), so a button from a message sent by an older version
/// parses as what it meant or not at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Callback {
    Meter(i64),
    Plot(i64),
    /// The plots not read this month.
    Unread,
    Seal {
        intact: bool,
    },
    NoPhoto,
    Confirm,
    Fix,
    /// Reminders to send readings on or off; pressed from a reminder, so in any state.
    Reminders {
        on: bool,
    },
    /// The payment QR code for a contract or all of them; pressed from a debt answer, in any state.
    Pay(Target),
    /// Pay another amount than the debt: the consumer types it next.
    OtherAmount(Target),
    /// Announcements on or off; pressed from an announcement, so in any state.
    Announcements {
        on: bool,
    },
    /// The topic of a request to the board.
    Topic(RequestTopic),
    /// «Ответить» under the board's answer to a request; in any state.
    ReplyTo(i64),
}

impl Callback {
    pub fn data(self) -> String {
        match self {
            Callback::Meter(id) => format!("m:{id}"),
            Callback::Plot(id) => format!("p:{id}"),
            Callback::Unread => "u".into(),
            Callback::Seal { intact } => format!("s:{}", u8::from(intact)),
            Callback::NoPhoto => "np".into(),
            Callback::Confirm => "ok".into(),
            Callback::Fix => "fix".into(),
            Callback::Reminders { on } => format!("rem:{}", if on { "on" } else { "off" }),
            Callback::Pay(target) => format!("pay:{}", target_data(target)),
            Callback::OtherAmount(target) => format!("amt:{}", target_data(target)),
            Callback::Announcements { on } => format!("ann:{}", if on { "on" } else { "off" }),
            Callback::Topic(topic) => format!("rt:{}", topic.code()),
            Callback::ReplyTo(id) => format!("rq:{id}"),
        }
    }

    pub fn parse(data: &str) -> Option<Callback> {
        let (kind, arg) = data.split_once(':').unwrap_or((data, ""));
        let id = || arg.parse().ok();
        match (kind, arg) {
            ("m", _) => id().map(Callback::Meter),
            ("p", _) => id().map(Callback::Plot),
            ("u", "") => Some(Callback::Unread),
            ("s", "1") => Some(Callback::Seal { intact: true }),
            ("s", "0") => Some(Callback::Seal { intact: false }),
            ("np", "") => Some(Callback::NoPhoto),
            ("ok", "") => Some(Callback::Confirm),
            ("fix", "") => Some(Callback::Fix),
            ("rem", "on") => Some(Callback::Reminders { on: true }),
            ("rem", "off") => Some(Callback::Reminders { on: false }),
            ("pay", _) => parse_target(arg).map(Callback::Pay),
            ("amt", _) => parse_target(arg).map(Callback::OtherAmount),
            ("ann", "on") => Some(Callback::Announcements { on: true }),
            ("ann", "off") => Some(Callback::Announcements { on: false }),
            ("rt", _) => RequestTopic::ALL.iter().copied().find(|t| t.code() == arg).map(Callback::Topic),
            ("rq", _) => id().map(Callback::ReplyTo),
            _ => None,
        }
    }

    fn button(self, label: impl Into<String>) -> InlineKeyboardButton {
        InlineKeyboardButton::callback(label, self.data())
    }
}

/// A contract id.
fn target_data(target: Target) -> String {
    let Target::Contract(id) = target;
    id.to_string()
}

fn parse_target(arg: &str) -> Option<Target> {
    arg.parse().ok().map(Target::Contract)
}

/// The consumer's main menu: reply-keyboard buttons that send their label as text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MenuButton {
    Debt,
    /// «История расчётов»: the last twelve months and the whole акт сверки as a file.
    Accounts,
    SendReading,
    History,
    Chart,
    /// A request to the board.
    Write,
    Help,
}

impl MenuButton {
    const ALL: [MenuButton; 7] = [
        MenuButton::Debt,
        MenuButton::Accounts,
        MenuButton::SendReading,
        MenuButton::History,
        MenuButton::Chart,
        MenuButton::Write,
        MenuButton::Help,
    ];

    pub fn label(self) -> &'static str {
        match self {
            MenuButton::Debt => "Задолженность",
            MenuButton::Accounts => "История расчётов",
            MenuButton::SendReading => "Передать показания",
            MenuButton::History => "История",
            MenuButton::Chart => "График",
            MenuButton::Write => "Написать в правление",
            MenuButton::Help => "Помощь",
        }
    }

    pub fn parse(text: &str) -> Option<MenuButton> {
        Self::ALL.into_iter().find(|b| b.label() == text.trim())
    }
}

pub fn main_menu() -> KeyboardMarkup {
    let row = |buttons: &[MenuButton]| buttons.iter().map(|b| KeyboardButton::new(b.label())).collect::<Vec<_>>();
    KeyboardMarkup::new([
        row(&[MenuButton::Debt, MenuButton::Accounts]),
        row(&[MenuButton::SendReading, MenuButton::History]),
        row(&[MenuButton::Chart, MenuButton::Write]),
        row(&[MenuButton::Help]),
    ])
    .resize_keyboard()
    .persistent()
}

/// The reply keyboard that fits the sender: the menu for consumers, the contact button for
/// strangers, none for staff.
pub fn for_who(who: &Who) -> ReplyMarkup {
    match (&who.consumer, who.is_known()) {
        (Some(_), _) => main_menu().into(),
        (None, false) => share_contact().into(),
        (None, true) => KeyboardRemove::new().into(),
    }
}

/// Telegram attaches the sender's own user id to a contact shared with this button.
pub fn share_contact() -> KeyboardMarkup {
    KeyboardMarkup::new([[KeyboardButton::new("Поделиться номером").request(ButtonRequest::Contact)]])
        .resize_keyboard()
        .one_time_keyboard()
}

/// One button per meter, labelled with what it measures and where.
pub fn meters(cards: &[MeterCard]) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new(cards.iter().map(|card| [Callback::Meter(card.meter.id).button(card.title())]))
}

pub fn no_photo() -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new([[Callback::NoPhoto.button("Без фото")]])
}

pub fn seal() -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new([[
        Callback::Seal { intact: true }.button("Цела"),
        Callback::Seal { intact: false }.button("Нарушена"),
    ]])
}

pub fn confirm() -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new([[Callback::Confirm.button("Подтвердить"), Callback::Fix.button("Исправить")]])
}

/// The one button that switches reminders to the other state than `on`.
pub fn reminders(on: bool) -> InlineKeyboardMarkup {
    let button = match on {
        true => Callback::Reminders { on: false }.button("Не напоминать"),
        false => Callback::Reminders { on: true }.button("Напоминать"),
    };
    InlineKeyboardMarkup::new([[button]])
}

/// The one button that switches announcements to the other state than `on`.
pub fn announcements(on: bool) -> InlineKeyboardMarkup {
    let button = match on {
        true => Callback::Announcements { on: false }.button("Не присылать объявления"),
        false => Callback::Announcements { on: true }.button("Присылать объявления"),
    };
    InlineKeyboardMarkup::new([[button]])
}

/// The topics of a request to the board, two to a row.
pub fn topics() -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new(
        RequestTopic::ALL
            .chunks(2)
            .map(|row| row.iter().map(|t| Callback::Topic(*t).button(t.label())).collect::<Vec<_>>()),
    )
}

/// Under the board's answer to request `id`.
pub fn reply_to(id: i64) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new([[Callback::ReplyTo(id).button("Ответить")]])
}

/// Under the debt answer: one «Оплатить» per contract — a payment books to one contract, so
/// there is no code for the total.
pub fn pay(statement: &Statement) -> InlineKeyboardMarkup {
    let rows: Vec<Vec<InlineKeyboardButton>> = match statement.lines.as_slice() {
        [] => Vec::new(),
        [line] => vec![vec![Callback::Pay(Target::Contract(line.contract_id)).button("Оплатить")]],
        lines => lines
            .iter()
            .map(|line| {
                let label = format!("Оплатить: {}, № {}", line.service, line.contract_number);
                vec![Callback::Pay(Target::Contract(line.contract_id)).button(label)]
            })
            .collect(),
    };
    InlineKeyboardMarkup::new(rows)
}

/// Under a payment QR code.
pub fn other_amount(target: Target) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new([[Callback::OtherAmount(target).button("Другая сумма")]])
}

const UNREAD: &str = "Не сняты в этом месяце";

pub fn unread() -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new([[Callback::Unread.button(UNREAD)]])
}

/// Plots to walk to, four to a row.
pub fn plots(plots: &[plot::Model]) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new(
        plots
            .chunks(4)
            .map(|row| row.iter().map(|p| Callback::Plot(p.id).button(p.number.as_str())).collect::<Vec<_>>()),
    )
}

/// A plot's meters (ticked when in `read`), then the way on.
pub fn plot_card(card: &PlotCard, read: &HashSet<i64>, next: Option<&plot::Model>) -> InlineKeyboardMarkup {
    let meters = card.meters.iter().map(|m| {
        let tick = if read.contains(&m.meter.id) { " ✓" } else { "" };
        vec![Callback::Meter(m.meter.id).button(format!("{} · {}{tick}", m.contract.service, m.meter.serial))]
    });
    let next = next.map(|p| vec![Callback::Plot(p.id).button(format!("Следующий: участок {}", p.number))]);
    InlineKeyboardMarkup::new(meters.chain(next).chain([vec![Callback::Unread.button(UNREAD)]]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_data_round_trips_and_fits_telegram() {
        for callback in [
            Callback::Meter(12),
            Callback::Plot(i64::MAX),
            Callback::Unread,
            Callback::Seal { intact: true },
            Callback::Seal { intact: false },
            Callback::NoPhoto,
            Callback::Confirm,
            Callback::Fix,
            Callback::Reminders { on: true },
            Callback::Reminders { on: false },
            Callback::Pay(Target::Contract(i64::MAX)),
            Callback::OtherAmount(Target::Contract(7)),
            Callback::Announcements { on: true },
            Callback::Announcements { on: false },
            Callback::Topic(RequestTopic::Meter),
            Callback::Topic(RequestTopic::Other),
            Callback::ReplyTo(i64::MAX),
        ] {
            let data = callback.data();
            assert!(data.len() <= 64, "{data}");
            assert_eq!(Callback::parse(&data), Some(callback), "{data}");
        }
    }

    #[test]
    fn unknown_or_malformed_data_parses_as_nothing() {
        for data in [
            "",
            "m",
            "m:",
            "m:x",
            "s:2",
            "ok:1",
            "u:3",
            "confirm:1",
            "x:1",
            "rem",
            "rem:1",
            "pay",
            "pay:",
            "pay:x",
            "amt:al",
            // The total's code is gone: a button left in an old chat answers nothing.
            "pay:all",
            "ann",
            "ann:1",
            "rt:water",
            "rq:x",
        ] {
            assert_eq!(Callback::parse(data), None, "{data}");
        }
    }

    #[test]
    fn menu_buttons_are_recognised_by_their_labels() {
        for button in MenuButton::ALL {
            assert_eq!(MenuButton::parse(button.label()), Some(button));
        }
        assert_eq!(MenuButton::parse(" История "), Some(MenuButton::History));
        assert_eq!(MenuButton::parse("история болезни"), None);
    }
}
