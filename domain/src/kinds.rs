//! The closed vocabularies of the domain. Each is stored as its `code` (a short ASCII word) and
//! shown to people as its `label` (Russian).

use serde::{Deserialize, Serialize};

/// Defines a string-coded enum with `code()`, `label()`, `ALL`, `FromStr` and the derives the
/// database layer needs, so every vocabulary is written down exactly once.
macro_rules! vocabulary {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $( $(#[$vmeta:meta])* $variant:ident = ($code:literal, $label:literal), )+ }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        #[cfg_attr(feature = "sea-orm", derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum))]
        #[cfg_attr(feature = "sea-orm", sea_orm(rs_type = "String", db_type = "Text"))]
        pub enum $name {
            $(
                $(#[$vmeta])*
                #[cfg_attr(feature = "sea-orm", sea_orm(string_value = $code))]
                $variant,
            )+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable code stored in the database and used in URLs and files.
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            /// The Russian name shown to people.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.label())
            }
        }

        impl std::str::FromStr for $name {
            type Err = UnknownCode;

            /// Accepts the code or the Russian label, ignoring case and surrounding spaces.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let s = s.trim();
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.code().eq_ignore_ascii_case(s) || v.label().to_lowercase() == s.to_lowercase())
                    .ok_or_else(|| UnknownCode { what: stringify!($name), value: s.to_owned() })
            }
        }
    };
}

/// A value that names none of a vocabulary's members.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("неизвестное значение «{value}»")]
pub struct UnknownCode {
    pub what: &'static str,
    pub value: String,
}

vocabulary! {
    /// What a contract sells.
    pub enum Service {
        Water = ("water", "Вода"),
        Electricity = ("electricity", "Электроэнергия"),
    }
}

vocabulary! {
    /// What a member's request to the board is about.
    pub enum RequestTopic {
        Meter = ("meter", "Счётчик"),
        Seal = ("seal", "Пломба"),
        Bill = ("bill", "Счёт"),
        Other = ("other", "Другое"),
    }
}

vocabulary! {
    /// Where a member's request is in the board's queue.
    pub enum RequestStatus {
        New = ("new", "Новое"),
        InWork = ("in_work", "В работе"),
        Answered = ("answered", "Отвечено"),
        Closed = ("closed", "Закрыто"),
    }
}

vocabulary! {
    /// How a contract is billed: one price, or day and night prices (electricity only).
    pub enum TariffPlan {
        Single = ("single", "Однотарифный"),
        DayNight = ("day_night", "День/ночь"),
    }
}

vocabulary! {
    /// A meter register. Single-zone meters have only `Single`; two-zone meters `Day` and `Night`.
    pub enum Zone {
        Single = ("single", "Общая"),
        Day = ("day", "День"),
        Night = ("night", "Ночь"),
    }
}

vocabulary! {
    /// Where a reading came from.
    pub enum ReadingSource {
        ConsumerBot = ("consumer_bot", "Потребитель (бот)"),
        ControllerBot = ("controller_bot", "Контролёр (бот)"),
        ControllerWeb = ("controller_web", "Контролёр (веб)"),
        Panel = ("panel", "Панель"),
        Import = ("import", "Импорт"),
    }
}

vocabulary! {
    /// A reading's place in review. Only `Accepted` readings are billed.
    pub enum ReadingStatus {
        Accepted = ("accepted", "Принято"),
        /// Suspicious (e.g. an unusual jump): waits for an admin, not billed until accepted.
        Flagged = ("flagged", "На проверке"),
        /// Replaced by a correction that points at it; kept for the audit trail.
        Superseded = ("superseded", "Исправлено"),
        Rejected = ("rejected", "Отклонено"),
    }
}

vocabulary! {
    /// What a staff member may do.
    pub enum Role {
        Admin = ("admin", "Администратор"),
        Controller = ("controller", "Контролёр"),
        Accountant = ("accountant", "Бухгалтер"),
    }
}

vocabulary! {
    /// How a payment entered the system.
    pub enum PaymentSource {
        Panel = ("panel", "Вручную"),
        Import = ("import", "Импорт"),
        /// Entered through the JSON API (`POST /api/payments`).
        Api = ("api", "API"),
        /// Posted from the bank's own statement (1CClientBankExchange).
        BankStatement = ("bank_statement", "Выписка банка"),
    }
}

vocabulary! {
    /// Why a ledger line was charged.
    pub enum ChargeKind {
        Consumption = ("consumption", "Потребление"),
        /// Debt (positive) or credit (negative) carried over when the cooperative went live.
        OpeningBalance = ("opening_balance", "Входящее сальдо"),
        /// A correction of a closed month's charges, booked in an open month (see [`crate::ledger`]).
        Recalculation = ("recalculation", "Перерасчёт"),
        /// A plot's share of the network's losses in a month (see [`crate::network`]).
        NetworkLosses = ("network_losses", "Потери в сетях"),
    }
}

vocabulary! {
    /// How the general meeting shares the network's losses among the plots.
    pub enum LossMethod {
        /// The cooperative carries them.
        None = ("none", "Не распределять"),
        /// In proportion to each plot's consumption over the same interval.
        Consumption = ("consumption", "Пропорционально потреблению"),
        /// Equally per plot (per contract on the service).
        PerPlot = ("per_plot", "Поровну на участок"),
        /// In proportion to each plot's area.
        Area = ("area", "Пропорционально площади участка"),
    }
}

vocabulary! {
    /// What changed a month's charges after it was closed: the cause a recalculation points at.
    pub enum CauseKind {
        /// A reading for the month entered after the month was closed.
        LateReading = ("late_reading", "Показание внесено позже"),
        /// A reading corrected by an admin (the correction supersedes it).
        Correction = ("correction", "Исправление показания"),
        /// A reading held for review and accepted after the month was closed.
        Review = ("review", "Показание принято после проверки"),
        /// A meter that passed its maximum, entered as such by an admin.
        Rollover = ("rollover", "Переход через ноль"),
        /// A meter replaced, with the old one's final reading.
        Replacement = ("replacement", "Замена счётчика"),
        /// A tariff added with a start date in the past.
        Tariff = ("tariff", "Тариф с прошедшей даты"),
        /// A tariff's price corrected (typed wrong), for its own start date.
        TariffCorrection = ("tariff_correction", "Исправление тарифа"),
    }
}

impl CauseKind {
    /// Whether the cause is a tariff (its id a tariff's), not a reading (its id a reading's).
    pub fn is_tariff(self) -> bool {
        matches!(self, CauseKind::Tariff | CauseKind::TariffCorrection)
    }
}

impl TariffPlan {
    /// The registers a meter on this plan has, in the order people read them.
    pub fn zones(self) -> &'static [Zone] {
        match self {
            TariffPlan::Single => &[Zone::Single],
            TariffPlan::DayNight => &[Zone::Day, Zone::Night],
        }
    }

    /// Whether a contract for `service` may be on this plan (see [`Service::plans`]).
    pub fn allowed_for(self, service: Service) -> bool {
        service.plans().contains(&self)
    }
}

impl Service {
    /// The tariff plans a contract for this service may have: day and night only for electricity.
    /// The one statement of that rule; contracts, imports and tariffs ask it.
    pub fn plans(self) -> &'static [TariffPlan] {
        match self {
            Service::Water => &[TariffPlan::Single],
            Service::Electricity => &[TariffPlan::Single, TariffPlan::DayNight],
        }
    }

    /// Whether this service is priced in `zone` (a register of one of its [`plans`](Self::plans)).
    pub fn has_zone(self, zone: Zone) -> bool {
        self.plans().iter().any(|plan| plan.zones().contains(&zone))
    }

    /// The unit consumption is measured in.
    pub fn unit(self) -> &'static str {
        match self {
            Service::Water => "м³",
            Service::Electricity => "кВт·ч",
        }
    }
}

impl Role {
    /// Admins do everything a controller does.
    pub fn can_read_meters(self) -> bool {
        matches!(self, Role::Admin | Role::Controller)
    }

    /// Admins and accountants see money.
    pub fn can_handle_money(self) -> bool {
        matches!(self, Role::Admin | Role::Accountant)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_labels_round_trip() {
        for s in Service::ALL {
            assert_eq!(s.code().parse::<Service>().unwrap(), *s);
            assert_eq!(s.label().parse::<Service>().unwrap(), *s);
        }
        assert_eq!(" ВОДА ".parse::<Service>().unwrap(), Service::Water);
        assert!("газ".parse::<Service>().is_err());
    }

    #[test]
    fn stored_codes_stay_as_they_were() {
        // Rows already in databases hold these codes: new members are added, none renamed.
        let charges: Vec<_> = ChargeKind::ALL.iter().map(|k| (k.code(), k.label())).collect();
        assert_eq!(
            charges,
            [
                ("consumption", "Потребление"),
                ("opening_balance", "Входящее сальдо"),
                ("recalculation", "Перерасчёт"),
                ("network_losses", "Потери в сетях")
            ]
        );
        let sources: Vec<_> = PaymentSource::ALL.iter().map(|s| (s.code(), s.label())).collect();
        assert_eq!(
            sources,
            [("panel", "Вручную"), ("import", "Импорт"), ("api", "API"), ("bank_statement", "Выписка банка")]
        );
        assert_eq!("API".parse::<PaymentSource>(), Ok(PaymentSource::Api));
    }

    #[test]
    fn day_night_is_for_electricity_only() {
        assert!(TariffPlan::DayNight.allowed_for(Service::Electricity));
        assert!(!TariffPlan::DayNight.allowed_for(Service::Water));
        assert!(TariffPlan::Single.allowed_for(Service::Water));
        assert_eq!(TariffPlan::DayNight.zones(), &[Zone::Day, Zone::Night]);
        assert!(Service::Electricity.has_zone(Zone::Night) && Service::Electricity.has_zone(Zone::Single));
        assert!(Service::Water.has_zone(Zone::Single) && !Service::Water.has_zone(Zone::Day));
    }
}
