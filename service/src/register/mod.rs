//! The register: plots, the consumers who hold them, their contracts for a service and the meter
//! installed under each — signed up ([`sign_up`]), edited ([`changes`]), shown as cards to whoever
//! reads a meter ([`cards`]), listed and searched for the office ([`lists`]), and loaded from the
//! spreadsheets kept before go-live ([`import`]).

pub mod cards;
pub mod changes;
pub mod import;
pub mod lists;
pub mod sign_up;

use chrono::NaiveDate;
use domain::{PlotNumber, TooLong};

use crate::Internal;
use crate::error::internal_errors;

/// Why a change to the register was refused.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error("Укажите ФИО потребителя.")]
    NoName,
    #[error("Укажите номер договора.")]
    NoContractNumber,
    #[error("Договор № {0} уже есть.")]
    ContractNumberTaken(String),
    #[error("Двухтарифный учёт (день/ночь) бывает только для электроэнергии.")]
    PlanNotForService,
    #[error("Укажите заводской номер счётчика.")]
    NoSerial,
    #[error("Нужно {expected} начальных показания, указано {got}.")]
    InitialValues { expected: usize, got: usize },
    #[error("Потребитель не найден.")]
    UnknownConsumer,
    #[error("Участок {0} уже есть.")]
    PlotTaken(PlotNumber),
    #[error("Участок не найден.")]
    UnknownPlot,
    #[error("Договор не найден.")]
    UnknownContract,
    #[error("Счётчик не найден.")]
    UnknownMeter,
    #[error("Фото не найдено.")]
    UnknownPhoto,
    #[error("Договор № {0} уже закрыт.")]
    AlreadyClosed(String),
    #[error("Договор не может быть закрыт раньше, чем подписан ({}).", .0.format("%d.%m.%Y"))]
    ClosedBeforeSigned(NaiveDate),
    #[error(transparent)]
    Text(#[from] TooLong),
    #[error(transparent)]
    Internal(#[from] Internal),
}
internal_errors!(RegisterError);
