//! Loading the register the cooperative kept in spreadsheets at go-live: plots, consumers,
//! contracts, meters with their opening readings, and each contract's opening debt or credit.
//!
//! The file has one row per contract; [`read::SCHEMA`] lists the columns. Importing follows the
//! payment import ([`crate::ledger::payments::import`]) and reads the file the same way
//! ([`crate::spreadsheet`]): [`preview`] reads the rows ([`read`]) and sorts them into new
//! contracts, contracts already on file, and bad rows with every reason ([`plan`], [`problems`]),
//! writing nothing; [`commit`] signs the new contracts in one transaction after checking the rows
//! again inside it. A contract on file must agree with its row — a difference is a bad row, never
//! an overwrite — so importing the same file again creates nothing, and a file with any bad row is
//! not imported at all.
//!
//! Rows with the same plot number are one plot; rows with the same phone are one consumer (and
//! must give the same name), rows without a phone are one consumer when they give the same name.
//! The opening reading becomes the meter's initial values and its date the installation date, so
//! billing counts the next reading from there and nothing before go-live is charged again. The
//! saldo becomes an opening-balance line («Входящее сальдо») dated the opening reading's day and
//! booked in that day's month, never as consumption, in the debt, the report and the bot alike.

pub mod plan;
pub mod problems;
pub mod read;

use std::collections::HashMap;

use domain::{Kopecks, PlotNumber};
use entities::plot;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

use self::plan::{Checked, Counts, Preview, Status, check};
use self::read::{ConsumerKey, RegisterRow, SCHEMA, parse};
use super::RegisterError;
use super::sign_up::{ConsumerRef, sign_up_in};
use crate::audit::{self, Actor};
use crate::error::internal_errors;
use crate::ledger::charges;
use crate::spreadsheet::{self, FileError};
use crate::{Context, Internal, heavy};

#[derive(Debug, thiserror::Error)]
pub enum RegisterImportError {
    #[error(transparent)]
    File(#[from] FileError),
    #[error("Реестр не загружен: в нём строки с ошибками ({0}). Исправьте файл и загрузите его снова.")]
    NotClean(usize),
    #[error(transparent)]
    Internal(#[from] Internal),
}
internal_errors!(RegisterImportError);

impl From<RegisterError> for RegisterImportError {
    fn from(e: RegisterError) -> Self {
        match e {
            RegisterError::Internal(e) => RegisterImportError::Internal(e),
            // Rows are checked in the same transaction, so a refusal here is a bug, not the user's.
            other => {
                RegisterImportError::Internal(Internal(anyhow::anyhow!("register row refused after check: {other}")))
            }
        }
    }
}

/// Reads a file (off the async threads) and sorts its rows, writing nothing.
pub async fn preview(ctx: &Context, file_name: &str, bytes: Vec<u8>) -> Result<Preview, RegisterImportError> {
    let name = file_name.to_owned();
    let (rows, mut bad) =
        heavy::run(move || spreadsheet::read(&name, &bytes, &SCHEMA).map(|table| parse(&table))).await??;
    let mut preview = check(ctx.db.conn(), rows, ctx.today()).await?;
    preview.bad.append(&mut bad);
    preview.bad.sort_by_key(|b| b.line);
    Ok(preview)
}

/// Signs the new contracts of a previewed file in one transaction, with their opening balances.
/// The rows are checked again inside it; if any has gone bad meanwhile, nothing is stored.
pub async fn commit(
    ctx: &Context,
    file_name: &str,
    rows: Vec<RegisterRow>,
    actor: Actor,
) -> Result<Counts, RegisterImportError> {
    let txn = ctx.db.begin_write().await?;
    let checked = check(&txn, rows, ctx.today()).await?;
    if !checked.bad.is_empty() {
        return Err(RegisterImportError::NotClean(checked.bad.len()));
    }
    let addresses = plot_addresses(&checked.rows);
    let mut created: HashMap<ConsumerKey, i64> = HashMap::new();
    for Checked { row, status } in &checked.rows {
        let Status::Create { consumer_on_file, .. } = *status else { continue };
        let key = row.consumer_key();
        let consumer = match consumer_on_file.or_else(|| created.get(&key).copied()) {
            Some(id) => ConsumerRef::Existing(id),
            None => ConsumerRef::New { full_name: row.full_name.clone(), phone: row.phone.clone() },
        };
        let address = addresses.get(&row.plot).map(|a| (*a).to_owned());
        let signed = sign_up_in(&txn, ctx, row.sign_up(consumer, address), actor).await?;
        created.entry(key).or_insert(signed.consumer_id);
        if let Some(area) = row.area {
            // The first area a file gives a plot without one counts, as with addresses.
            plot::Entity::update_many()
                .col_expr(plot::Column::AreaM2, sea_orm::sea_query::Expr::value(area))
                .filter(plot::Column::Id.eq(signed.plot_id))
                .filter(plot::Column::AreaM2.is_null())
                .exec(&txn)
                .await?;
        }
        if row.saldo != Kopecks::ZERO {
            charges::book_opening_balance(&txn, ctx, signed.contract_id, row.saldo, row.read_on, actor)
                .await
                .map_err(Internal::from)?;
        }
    }
    let counts = checked.counts();
    let details = json!({"file": file_name, "contracts": counts.contracts, "plots": counts.plots,
                         "consumers": counts.consumers, "on_file": counts.on_file,
                         "opening_debt_kopecks": counts.opening_debt.get(),
                         "opening_credit_kopecks": counts.opening_credit.get()});
    audit::record(&txn, ctx, actor, "register.import", "contract", None, details).await?;
    txn.commit().await?;
    Ok(counts)
}

/// The address each plot is created with: the first one its rows give.
fn plot_addresses(rows: &[Checked]) -> HashMap<&PlotNumber, &str> {
    let mut addresses = HashMap::new();
    for Checked { row, .. } in rows {
        if let Some(address) = &row.address {
            addresses.entry(&row.plot).or_insert(address.as_str());
        }
    }
    addresses
}
