use std::error::Error;
use std::fmt;

use sea_orm::DbErr;

/// A failure that is not the user's fault (database down, disk full). Its `Display` is the polite
/// Russian message the user sees; its `Debug` is that message and the whole chain of causes,
/// which is what logs print (`{e:?}`, or [`Chain`] for any error).
#[derive(thiserror::Error)]
#[error("Внутренняя ошибка. Попробуйте ещё раз чуть позже.")]
pub struct Internal(#[source] pub anyhow::Error);

impl fmt::Debug for Internal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&Chain(self), f)
    }
}

/// An error and every cause under it, on one line — `outer: cause: its cause` — as zero2prod's
/// `error_chain_fmt` prints them, so that a log line holds the whole story: the `Display` of a
/// service error is what the user is told, and for [`Internal`] that says nothing of the cause.
pub struct Chain<'a>(pub &'a (dyn Error + 'static));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut cause = self.0.source();
        while let Some(error) = cause {
            write!(f, ": {error}")?;
            cause = error.source();
        }
        Ok(())
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_tells_the_user_nothing_and_the_log_everything() {
        let polite = "Внутренняя ошибка. Попробуйте ещё раз чуть позже.";
        let whole = format!("{polite}: Custom Error: no such table: readings");
        let failure = Internal::from(DbErr::Custom("no such table: readings".into()));
        assert_eq!(failure.to_string(), polite);
        assert_eq!(format!("{failure:?}"), whole);
        // Inside an operation's error, as the bot and the panel log them.
        let refused = crate::readings::SubmitError::Internal(failure);
        assert_eq!(refused.to_string(), polite);
        assert_eq!(format!("{refused:?}"), format!("Internal({whole})"));
        assert_eq!(Chain(&refused).to_string(), whole);
    }
}
