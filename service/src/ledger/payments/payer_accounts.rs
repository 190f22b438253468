//! Payer accounts «Запомнить» tied to contracts in «Разобрать»: a statement's next payment from
//! such an account goes to those contracts without a question. The office sees them all and
//! forgets one remembered by mistake; the account's next payment then waits in «Разобрать»
//! unless its purpose names a contract or plot.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use entities::{contract, payer_account, plot};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};
use serde_json::json;

use crate::audit::{self, Actor};
use crate::db::{self, find_in};
use crate::error::internal_errors;
use crate::{Context, Internal};

/// A remembered account and where its payments go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remembered {
    pub account: String,
    /// The payer as the account's latest statement document names them.
    pub payer: String,
    /// Contract and plot numbers, in the order remembered.
    pub contracts: Vec<(String, String)>,
    /// When it was first remembered.
    pub since: DateTime<Utc>,
}

#[derive(Debug, thiserror::Error)]
pub enum ForgetError {
    #[error("Этот счёт плательщика не запомнен: забывать нечего.")]
    NotRemembered,
    #[error(transparent)]
    Internal(#[from] Internal),
}
internal_errors!(ForgetError);

/// Every remembered account, by payer.
pub async fn list(conn: &impl ConnectionTrait) -> Result<Vec<Remembered>, DbErr> {
    let rows = payer_account::Entity::find().order_by_asc(payer_account::Column::Id).all(conn).await?;
    let contracts: HashMap<i64, contract::Model> =
        find_in(conn, contract::Entity::find(), contract::Column::Id, rows.iter().map(|r| r.contract_id))
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
    let plots: HashMap<i64, String> =
        find_in(conn, plot::Entity::find(), plot::Column::Id, contracts.values().map(|c| c.plot_id))
            .await?
            .into_iter()
            .map(|p| (p.id, p.number.to_string()))
            .collect();
    let payers = latest_payers(conn).await?;
    let mut by_account: BTreeMap<String, Remembered> = BTreeMap::new();
    for row in rows {
        let Some(contract) = contracts.get(&row.contract_id) else { continue };
        let plot = plots.get(&contract.plot_id).cloned().unwrap_or_default();
        let remembered = by_account.entry(row.payer_account.clone()).or_insert_with(|| Remembered {
            payer: payers.get(&row.payer_account).cloned().unwrap_or_default(),
            account: row.payer_account,
            contracts: Vec::new(),
            since: row.created_at,
        });
        remembered.contracts.push((contract.number.clone(), plot));
    }
    let mut list: Vec<Remembered> = by_account.into_values().collect();
    list.sort_by(|a, b| (a.payer.to_lowercase(), &a.account).cmp(&(b.payer.to_lowercase(), &b.account)));
    Ok(list)
}

/// The payer named by each remembered account's latest statement document.
async fn latest_payers(conn: &impl ConnectionTrait) -> Result<HashMap<String, String>, DbErr> {
    let sql = "SELECT d.payer_account, d.payer FROM bank_documents d JOIN ( \
                 SELECT MAX(id) AS id FROM bank_documents \
                 WHERE payer_account IN (SELECT payer_account FROM payer_accounts) GROUP BY payer_account \
               ) latest ON latest.id = d.id";
    db::query(conn, sql, [])
        .await?
        .into_iter()
        .map(|row| Ok((row.try_get("", "payer_account")?, row.try_get("", "payer")?)))
        .collect()
}

/// Forgets `account` at the office's word: none of its contracts takes its payments unasked any
/// more. Returns the contracts it was remembered for.
pub async fn forget(ctx: &Context, account: &str, actor: Actor) -> Result<Vec<i64>, ForgetError> {
    // An account number is 20 digits here, 34 characters at most anywhere (IBAN): nothing longer
    // is looked for.
    if account.chars().count() > 34 {
        return Err(ForgetError::NotRemembered);
    }
    let txn = ctx.db.begin_write().await?;
    let contract_ids = forget_in(&txn, account).await?;
    if contract_ids.is_empty() {
        return Err(ForgetError::NotRemembered);
    }
    let details = json!({"account": account, "contract_ids": contract_ids});
    audit::record(&txn, ctx, actor, "payer_account.forgotten", "payer_account", None, details).await?;
    txn.commit().await?;
    Ok(contract_ids)
}

/// Deletes every contract `account` is remembered for, and says which they were.
pub(super) async fn forget_in(conn: &impl ConnectionTrait, account: &str) -> Result<Vec<i64>, DbErr> {
    let of_account = payer_account::Column::PayerAccount.eq(account);
    let remembered = payer_account::Entity::find().filter(of_account.clone()).all(conn).await?;
    if !remembered.is_empty() {
        payer_account::Entity::delete_many().filter(of_account).exec(conn).await?;
    }
    Ok(remembered.into_iter().map(|r| r.contract_id).collect())
}
