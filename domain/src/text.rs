//! Free text people type or import — names, addresses, notes, document numbers, comments — is
//! checked where it enters the service: trimmed, and refused above a length fit for its kind, so
//! that a two-million-character comment is answered with a message instead of being stored and
//! shown on every page after.

use std::fmt;

/// A kind of free text, with the most characters it may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextKind {
    /// A consumer's or a staff member's full name.
    FullName,
    Address,
    /// Notes on a plot or a consumer.
    Notes,
    ContractNumber,
    MeterSerial,
    SealNumber,
    /// A reading's comment (the seal's state, who was met).
    Comment,
    /// Why a reading was corrected or a meter replaced or rolled over; what was done about a seal.
    Reason,
    /// A bank or receipt reference of a payment.
    PaymentReference,
    /// What is typed in a search box.
    Search,
    /// An announcement from the board: one Telegram message (4 096 characters), with room for
    /// the heading.
    Announcement,
    /// A member's request to the board, an answer or a reply to it: one Telegram message.
    RequestMessage,
}

impl TextKind {
    /// Generous for any real value: the longest Russian full names are under 100 characters.
    pub const fn max_chars(self) -> usize {
        match self {
            TextKind::FullName => 200,
            TextKind::Address => 300,
            TextKind::Notes => 2000,
            TextKind::ContractNumber | TextKind::MeterSerial | TextKind::SealNumber => 50,
            TextKind::Comment | TextKind::Reason => 500,
            TextKind::PaymentReference | TextKind::Search => 100,
            TextKind::Announcement => 3500,
            TextKind::RequestMessage => 2000,
        }
    }

    /// The field's name in messages.
    pub const fn label(self) -> &'static str {
        match self {
            TextKind::FullName => "ФИО",
            TextKind::Address => "Адрес",
            TextKind::Notes => "Заметки",
            TextKind::ContractNumber => "Номер договора",
            TextKind::MeterSerial => "Заводской номер счётчика",
            TextKind::SealNumber => "Номер пломбы",
            TextKind::Comment => "Комментарий",
            TextKind::Reason => "Причина",
            TextKind::PaymentReference => "Номер платежа",
            TextKind::Search => "Поисковый запрос",
            TextKind::Announcement => "Текст объявления",
            TextKind::RequestMessage => "Текст обращения",
        }
    }

    /// The text trimmed; refused when longer than this kind allows.
    pub fn bounded(self, text: &str) -> Result<String, TooLong> {
        let text = text.trim();
        // Bytes bound characters from above: most text is decided without counting.
        if text.len() > self.max_chars() {
            let chars = text.chars().count();
            if chars > self.max_chars() {
                return Err(TooLong { kind: self, chars });
            }
        }
        Ok(text.to_owned())
    }

    /// The text trimmed, or none when blank; refused when longer than this kind allows.
    pub fn optional(self, text: Option<&str>) -> Result<Option<String>, TooLong> {
        Ok(text.map(|text| self.bounded(text)).transpose()?.filter(|text| !text.is_empty()))
    }
}

/// Text longer than its kind allows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct TooLong {
    pub kind: TextKind,
    /// How many characters it has.
    pub chars: usize,
}

impl fmt::Display for TooLong {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (label, max) = (self.kind.label(), self.kind.max_chars());
        write!(f, "{label}: не длиннее {max} символов, а здесь {}.", self.chars)
    }
}

/// The first `chars` characters of `text`, with «…» when there was more: a long text in a list.
pub fn excerpt(text: &str, chars: usize) -> String {
    match text.char_indices().nth(chars) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_and_kept_up_to_the_limit() {
        let longest = "ж".repeat(500);
        assert_eq!(TextKind::Comment.bounded(&format!("  {longest}\n")), Ok(longest));
        assert_eq!(TextKind::Notes.optional(Some("  ")), Ok(None));
        assert_eq!(TextKind::Notes.optional(None), Ok(None));
        assert_eq!(TextKind::Notes.optional(Some(" Собака ")), Ok(Some("Собака".to_owned())));
    }

    #[test]
    fn longer_text_is_refused_with_its_length() {
        let error = TextKind::Comment.bounded(&"ж".repeat(2_000_000)).unwrap_err();
        assert_eq!(error, TooLong { kind: TextKind::Comment, chars: 2_000_000 });
        assert_eq!(error.to_string(), "Комментарий: не длиннее 500 символов, а здесь 2000000.");
        assert_eq!(TextKind::SealNumber.optional(Some(&"7".repeat(51))).unwrap_err().chars, 51);
    }
}
