use sea_orm::DbErr;

/// A failure that is not the user's fault (database down, disk full). The user sees a polite
/// Russian message; the cause goes to the log.
#[derive(Debug, thiserror::Error)]
#[error("Внутренняя ошибка. Попробуйте ещё раз чуть позже.")]
pub struct Internal(#[source] pub anyhow::Error);

impl From<DbErr> for Internal {
    fn from(e: DbErr) -> Self {
        Internal(e.into())
    }
}

impl From<std::io::Error> for Internal {
    fn from(e: std::io::Error) -> Self {
        Internal(e.into())
    }
}

impl From<anyhow::Error> for Internal {
    fn from(e: anyhow::Error) -> Self {
        Internal(e)
    }
}

/// Stored amounts or values whose sum or difference is beyond the bound: the data is wrong, not
/// the request (what users type is refused with its own message before it gets here).
impl From<domain::AmountOutOfRange> for Internal {
    fn from(e: domain::AmountOutOfRange) -> Self {
        Internal(e.into())
    }
}

impl From<domain::ValueOutOfRange> for Internal {
    fn from(e: domain::ValueOutOfRange) -> Self {
        Internal(e.into())
    }
}

/// Lets `?` turn database and I/O errors, and sums of stored amounts beyond the bound, into an
/// operation error's `Internal` variant.
macro_rules! internal_errors {
    ($($error:ty),+ $(,)?) => {$(
        impl From<sea_orm::DbErr> for $error {
            fn from(e: sea_orm::DbErr) -> Self {
                Self::Internal(e.into())
            }
        }
        impl From<std::io::Error> for $error {
            fn from(e: std::io::Error) -> Self {
                Self::Internal(e.into())
            }
        }
        impl From<domain::AmountOutOfRange> for $error {
            fn from(e: domain::AmountOutOfRange) -> Self {
                Self::Internal(e.into())
            }
        }
        impl From<domain::ValueOutOfRange> for $error {
            fn from(e: domain::ValueOutOfRange) -> Self {
                Self::Internal(e.into())
            }
        }
    )+};
}
pub(crate) use internal_errors;
