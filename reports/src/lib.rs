//! Spreadsheets for accounting: the monthly report and the full database export, as xlsx bytes
//! ready to be sent by the bot, downloaded from the panel or saved by the CLI.
//!
//! Both read the database inside one transaction, so every sheet describes the same moment even
//! while readings and payments keep arriving, and both lay the workbook out on a blocking thread,
//! so a large report never stalls the bot.

mod act;
mod export;
mod monthly;
mod sheet;
pub mod template;

use chrono::NaiveDate;
use domain::Period;
use sea_orm::DbErr;
use service::Internal;

pub use act::{ACT_HEADER_ROW, ACT_HEADERS, ActReportError, act_file_name, act_report, history_report, write_act};
pub use export::full_export;
pub use monthly::{
    AccountLine, Billed, ContractLabel, Dated, LastReading, MeterLine, MonthlyData, Movement, Summary, UnreadLine,
    ZoneTotal, monthly_data, monthly_report, write_monthly,
};

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("Отчёт за {} ещё нельзя построить: этот месяц не начался.", .0.russian())]
    FuturePeriod(Period),
    #[error(transparent)]
    Internal(#[from] Internal),
}

impl From<DbErr> for ReportError {
    fn from(e: DbErr) -> Self {
        ReportError::Internal(e.into())
    }
}

impl From<rust_xlsxwriter::XlsxError> for ReportError {
    fn from(e: rust_xlsxwriter::XlsxError) -> Self {
        ReportError::Internal(Internal(e.into()))
    }
}

/// Sums of stored amounts or values beyond the bound: the data is wrong, not the request.
impl From<domain::AmountOutOfRange> for ReportError {
    fn from(e: domain::AmountOutOfRange) -> Self {
        ReportError::Internal(e.into())
    }
}

impl From<domain::ValueOutOfRange> for ReportError {
    fn from(e: domain::ValueOutOfRange) -> Self {
        ReportError::Internal(e.into())
    }
}

impl From<tokio::task::JoinError> for ReportError {
    fn from(e: tokio::task::JoinError) -> Self {
        ReportError::Internal(Internal(e.into()))
    }
}

/// `report-2026-03.xlsx`: ASCII, so no client mangles it.
pub fn monthly_report_file_name(period: Period) -> String {
    format!("report-{period}.xlsx")
}

/// `export-2026-03-15.xlsx`.
pub fn export_file_name(date: NaiveDate) -> String {
    format!("export-{}.xlsx", date.format("%Y-%m-%d"))
}
