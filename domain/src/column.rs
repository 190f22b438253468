//! Database columns of the bounded number types. A value read back (a column, or an SQL sum)
//! goes through the type's constructor, so a row out of bounds is an error naming the value and
//! the column, never a wrapped or absurd amount. (sea-orm's `DeriveValueType` would build the
//! type directly from the integer, skipping the bound.)

use std::sync::Arc;

use sea_orm::sea_query::{ArrayType, ColumnType, Nullable, ValueType, ValueTypeErr};
use sea_orm::{ColIdx, DbErr, QueryResult, TryGetError, TryGetable, Value};

use crate::meter_value::ValueOutOfRange;
use crate::money::AmountOutOfRange;
use crate::{Kopecks, MeterValue};

/// A `BIGINT` column holding `$ty`, read through `$ty::new`.
macro_rules! bigint_column {
    ($ty:ident, $error:ty) => {
        impl From<$ty> for Value {
            fn from(value: $ty) -> Value {
                Value::BigInt(Some(value.into()))
            }
        }

        impl TryGetable for $ty {
            fn try_get_by<I: ColIdx>(res: &QueryResult, index: I) -> Result<Self, TryGetError> {
                let raw = i64::try_get_by(res, index)?;
                $ty::new(raw).map_err(|e| TryGetError::DbErr(e.into()))
            }
        }

        impl ValueType for $ty {
            fn try_from(value: Value) -> Result<Self, ValueTypeErr> {
                $ty::new(<i64 as ValueType>::try_from(value)?).map_err(|_| ValueTypeErr)
            }

            fn type_name() -> String {
                stringify!($ty).to_owned()
            }

            fn array_type() -> ArrayType {
                ArrayType::BigInt
            }

            fn column_type() -> ColumnType {
                ColumnType::BigInteger
            }
        }

        impl Nullable for $ty {
            fn null() -> Value {
                Value::BigInt(None)
            }
        }

        impl sea_orm::IntoActiveValue<$ty> for $ty {
            fn into_active_value(self) -> sea_orm::ActiveValue<$ty> {
                sea_orm::ActiveValue::Set(self)
            }
        }

        /// A value out of bounds in the database, or a sum of stored values beyond the bound: the
        /// data is wrong, not the request.
        impl From<$error> for DbErr {
            fn from(e: $error) -> DbErr {
                DbErr::TryIntoErr { from: "i64", into: stringify!($ty), source: Arc::new(e) }
            }
        }
    };
}

bigint_column!(Kopecks, AmountOutOfRange);
bigint_column!(MeterValue, ValueOutOfRange);
