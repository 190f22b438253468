//! Rows read the same way from either driver: sqlx's (the pool, PostgreSQL) and rusqlite's (the
//! readers beside an SQLite file's pool). A rule that reads through a [`Source`](super::Source)
//! decodes its rows once, with [`FromRow`], and gets the same values, with the same bounds,
//! whichever connection answered.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use domain::{
    ChargeKind, Kopecks, LossMethod, MeterValue, PaymentSource, Period, PlotNumber, ReadingSource, ReadingStatus,
    Service, TariffPlan, Zone,
};
use rusqlite::types::{FromSql, Value as Sql, ValueRef};
use sea_orm::sea_query::ValueType;
use sea_orm::{DbErr, QueryResult, RuntimeErr, TryGetable, Value};

/// A row from either driver, read a column at a time by name.
pub trait Row {
    fn cell<T: Cell>(&self, column: &str) -> Result<T, DbErr>;
}

impl Row for QueryResult {
    fn cell<T: Cell>(&self, column: &str) -> Result<T, DbErr> {
        self.try_get("", column)
    }
}

/// A reader's row, with its statement's column names read once: a column is found by its exact
/// name, as sqlx finds it, without asking SQLite for every name of the row at every cell.
pub(crate) struct ReaderRow<'r, 's> {
    pub(super) row: &'r rusqlite::Row<'s>,
    pub(super) names: &'r [String],
}

impl Row for ReaderRow<'_, '_> {
    fn cell<T: Cell>(&self, column: &str) -> Result<T, DbErr> {
        match self.names.iter().position(|name| name == column) {
            Some(index) => T::from_reader(self.row, index),
            None => Err(DbErr::Query(RuntimeErr::Internal(format!("SQLite: no column named {column}")))),
        }
    }
}

/// A value a [`Row`] gives: read from the pool as sea-orm reads it, and from a reader so that it
/// comes out the same. Implemented here only: the readers, and rusqlite with them, stay inside
/// `service`.
pub trait Cell: TryGetable + sealed::FromReader {}

mod sealed {
    use sea_orm::DbErr;

    pub trait FromReader: Sized {
        fn from_reader(row: &rusqlite::Row<'_>, index: usize) -> Result<Self, DbErr>;
    }
}

use sealed::FromReader;

/// A record read from a row of either driver; [`from_row!`](crate::from_row) writes it for a
/// struct whose fields are named as the query's columns.
pub trait FromRow: Sized {
    fn from_row(row: &impl Row) -> Result<Self, DbErr>;
}

/// `FromRow` for a struct read field by field from the columns of the same names (an entity's
/// `Model` from `SELECT *`): a field added to the struct and missing here does not compile.
#[macro_export]
macro_rules! from_row {
    ($ty:path { $($field:ident),* $(,)? }) => {
        impl $crate::db::FromRow for $ty {
            fn from_row(row: &impl $crate::db::Row) -> Result<Self, ::sea_orm::DbErr> {
                Ok(Self { $($field: $crate::db::Row::cell(row, stringify!($field))?),* })
            }
        }
    };
}

pub(super) fn error(e: rusqlite::Error) -> DbErr {
    DbErr::Query(RuntimeErr::Internal(format!("SQLite: {e}")))
}

/// `Cell` for each type, read from a reader's row by the function beside it.
macro_rules! cell {
    ($($ty:ty => $read:expr),* $(,)?) => {$(
        impl Cell for $ty {}

        impl FromReader for $ty {
            fn from_reader(row: &rusqlite::Row<'_>, index: usize) -> Result<Self, DbErr> {
                $read(row, index)
            }
        }
    )*};
}

cell!(
    i64 => plain,
    i32 => plain,
    i16 => plain,
    bool => plain,
    String => plain,
    NaiveDate => |row, index| time(row, index, |text: &str| {
        let shaped = text.len() == 10 && text.as_bytes()[4] == b'-' && text.as_bytes()[7] == b'-';
        shaped.then(|| text.parse::<NaiveDate>().ok()).flatten()
    }),
    DateTime<Utc> => |row, index| time(row, index, |text: &str| {
        DateTime::parse_from_rfc3339(text).ok().map(|t| t.with_timezone(&Utc))
    }),
    ChargeKind => text,
    LossMethod => text,
    PaymentSource => text,
    Period => text,
    PlotNumber => text,
    ReadingSource => text,
    ReadingStatus => text,
    Service => text,
    TariffPlan => text,
    Zone => text,
    Kopecks => |row, index| Ok(Kopecks::new(plain(row, index)?)?),
    MeterValue => |row, index| Ok(MeterValue::new(plain(row, index)?)?),
);

/// A type SQLite gives both drivers as it is.
fn plain<T: FromSql>(row: &rusqlite::Row<'_>, index: usize) -> Result<T, DbErr> {
    row.get(index).map_err(error)
}

/// Dates and moments as sqlx writes them (`YYYY-MM-DD`, RFC 3339) parse through chrono's fixed
/// parsers, which accept exactly those: rusqlite's `chrono` feature compiles its format string
/// anew for every value, a few per cent of the monthly report's reading. Anything else (a moment
/// without an offset, or as a number) goes to rusqlite's parser.
fn time<T: FromSql>(row: &rusqlite::Row<'_>, index: usize, parse: impl Fn(&str) -> Option<T>) -> Result<T, DbErr> {
    if let ValueRef::Text(text) = row.get_ref(index).map_err(error)?
        && let Some(parsed) = std::str::from_utf8(text).ok().and_then(parse)
    {
        return Ok(parsed);
    }
    plain(row, index)
}

/// A text column sea-orm reads through the type's own `ValueType` (the vocabularies, months,
/// plot numbers): a reader hands it the same text. (Money and meter values, above, go through
/// their bounded constructors, as `domain`'s column types do.)
fn text<T: ValueType>(row: &rusqlite::Row<'_>, index: usize) -> Result<T, DbErr> {
    let text: String = plain(row, index)?;
    T::try_from(Value::String(Some(text))).map_err(|_| {
        let column = row.as_ref().column_name(index).unwrap_or("?");
        DbErr::Type(format!("{column}: not a {}", T::type_name()))
    })
}

impl<T: Cell> Cell for Option<T> {}

impl<T: Cell> FromReader for Option<T> {
    fn from_reader(row: &rusqlite::Row<'_>, index: usize) -> Result<Self, DbErr> {
        match row.get_ref(index).map_err(error)? {
            ValueRef::Null => Ok(None),
            _ => T::from_reader(row, index).map(Some),
        }
    }
}

/// A value bound to a reader's statement as sqlx binds it on SQLite (a date as `YYYY-MM-DD`, a
/// moment as RFC 3339), so a comparison in SQL means the same through either.
pub(super) fn bind(value: Value) -> Result<Sql, DbErr> {
    let integer = |n: Option<i64>| n.map_or(Sql::Null, Sql::Integer);
    Ok(match value {
        Value::Bool(b) => integer(b.map(i64::from)),
        Value::TinyInt(n) => integer(n.map(i64::from)),
        Value::SmallInt(n) => integer(n.map(i64::from)),
        Value::Int(n) => integer(n.map(i64::from)),
        Value::BigInt(n) => integer(n),
        Value::TinyUnsigned(n) => integer(n.map(i64::from)),
        Value::SmallUnsigned(n) => integer(n.map(i64::from)),
        Value::Unsigned(n) => integer(n.map(i64::from)),
        Value::String(s) => s.map_or(Sql::Null, Sql::Text),
        Value::ChronoDate(d) => d.map_or(Sql::Null, |d| Sql::Text(d.format("%F").to_string())),
        Value::ChronoDateTimeUtc(t) => {
            t.map_or(Sql::Null, |t| Sql::Text(t.to_rfc3339_opts(SecondsFormat::AutoSi, false)))
        }
        other => return Err(DbErr::Type(format!("a reader does not bind {other:?}"))),
    })
}

// The entities rules read through a `Source`, from `SELECT *`.
crate::from_row!(entities::contract::Model {
    id,
    number,
    consumer_id,
    plot_id,
    service,
    tariff_plan,
    signed_on,
    closed_on,
    created_at
});
crate::from_row!(entities::line_plot::Model { id, line_id, plot_id });
crate::from_row!(entities::loss_decision::Model {
    id,
    service,
    method,
    cap_percent,
    flag_percent,
    decided_on,
    staff_id,
    created_at
});
crate::from_row!(entities::meter::Model {
    id,
    contract_id,
    serial,
    zones,
    installed_on,
    initial_t1,
    initial_t2,
    seal_number,
    seal_checked_on,
    verification_due,
    removed_on,
    created_at
});
crate::from_row!(entities::network_line::Model { id, service, name, parent_id, contract_id, created_at });
crate::from_row!(entities::plot::Model { id, number, address, notes, area_m2, created_at });
