//! The payment QR code (ГОСТ Р 56042-2014) for a consumer's debt: per contract or for all their
//! contracts at once, for the debt as the ledger has it or for an amount the consumer chose.

use bank::details::BankDetails;
use bank::qr::{OurPurpose, PaymentOrder, PaymentString, QrError};
use domain::money::MoneyError;
use domain::{Kopecks, Period, PlotNumber};
use serde::{Deserialize, Serialize};

use super::details;
use crate::error::internal_errors;
use crate::ledger::debt::{self, ContractLine};
use crate::{Context, Internal, heavy};

/// What a payment is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Target {
    Contract(i64),
    /// Every contract of the consumer, in one payment.
    AllContracts,
}

#[derive(Debug, thiserror::Error)]
pub enum PayError {
    #[error("Реквизиты для оплаты ещё не заданы — обратитесь в правление.")]
    NoDetails,
    #[error("Договор не найден.")]
    UnknownContract,
    #[error("Договоров не найдено.")]
    NoContracts,
    #[error(transparent)]
    Amount(#[from] MoneyError),
    /// The saved details leave no room in the code (a payee name at its limit and a long bank name).
    #[error(transparent)]
    Qr(#[from] QrError),
    #[error(transparent)]
    Internal(#[from] Internal),
}
internal_errors!(PayError);

/// A payment ready to show: the code's string, and the same in words for paying by hand.
#[derive(Debug, Clone)]
pub struct Payment {
    pub details: BankDetails,
    pub string: PaymentString,
    /// `None` when nothing is owed and no amount was chosen: the bank app asks for one.
    pub amount: Option<Kopecks>,
}

impl Payment {
    /// What a payer types into a bank app by hand, label by label.
    pub fn lines(&self) -> Vec<(&'static str, String)> {
        let d = &self.details;
        let amount = match self.amount {
            Some(amount) => amount.to_string(),
            None => "задолженности нет — укажите сумму сами".to_owned(),
        };
        vec![
            ("Получатель", d.payee().to_owned()),
            ("ИНН", d.inn().as_str().to_owned()),
            ("КПП", d.kpp().as_str().to_owned()),
            ("Расчётный счёт", d.account().as_str().to_owned()),
            ("Банк", d.bank_name().to_owned()),
            ("БИК", d.bic().as_str().to_owned()),
            ("Корр. счёт", d.correspondent_account().as_str().to_owned()),
            ("Назначение платежа", self.string.purpose().unwrap_or_default().to_owned()),
            ("Сумма", amount),
        ]
    }

    /// The code as a PNG picture, drawn on a heavy-work thread.
    pub async fn png(&self) -> Result<Vec<u8>, Internal> {
        let string = self.string.clone();
        heavy::run(move || string.render_png()).await?.map_err(|e| Internal(e.into()))
    }
}

/// The payment for `target` among the consumer's contracts: the amount is the debt from the
/// ledger (none when nothing is owed), or `amount` when the consumer chose one.
pub async fn payment(
    ctx: &Context,
    consumer_id: i64,
    target: Target,
    amount: Option<Kopecks>,
) -> Result<Payment, PayError> {
    let amount = amount.map(Kopecks::payment).transpose()?;
    let conn = ctx.db.conn();
    let details = details::current(conn).await?.ok_or(PayError::NoDetails)?;
    let statement = debt::statement(conn, consumer_id).await?;
    let now = ctx.current_period();
    let (purpose, balance, personal_account) = match target {
        Target::Contract(id) => {
            let line = statement.lines.iter().find(|l| l.contract_id == id).ok_or(PayError::UnknownContract)?;
            let plot = PlotNumber::parse(&line.plot_number)
                .map_err(|e| Internal(anyhow::anyhow!("plot number {:?} on file: {e}", line.plot_number)))?;
            let contract = line.contract_number.clone();
            let purpose = OurPurpose::Contract {
                plot,
                contract: contract.clone(),
                service: line.service,
                period: month(line, now),
            };
            (purpose, line.balance, Some(contract))
        }
        Target::AllContracts => {
            let period = statement.lines.iter().map(|l| month(l, now)).max().ok_or(PayError::NoContracts)?;
            let contracts = statement.lines.iter().map(|l| l.contract_number.clone()).collect();
            (OurPurpose::Total { contracts, period }, statement.total, None)
        }
    };
    let owed = balance.debt();
    let amount = amount.or(owed.is_positive().then_some(owed));
    let purpose = purpose.text();
    let string = PaymentString::build(&PaymentOrder {
        details: &details,
        sum: amount,
        purpose: Some(&purpose),
        personal_account: personal_account.as_deref(),
        period: None,
        payer: None,
        tech_code: None,
    })?;
    Ok(Payment { details, string, amount })
}

/// The month a payment is for: the latest charged, or this one before any charge.
fn month(line: &ContractLine, now: Period) -> Period {
    line.last_charge.map_or(now, |(period, _)| period)
}

#[cfg(test)]
mod tests {
    use domain::{Service, TariffPlan};

    use super::*;
    use crate::testing::{TestContext, bank_details, new_consumer};

    #[tokio::test]
    async fn builds_the_code_for_a_contract_of_the_consumer_only_once_details_are_set() {
        let t = TestContext::new().await;
        let ours = t
            .sign("12А", new_consumer("Бендер О. И.", None), "Э-0012", Service::Electricity, TariffPlan::Single, &[10])
            .await;
        let theirs = t
            .sign("13", new_consumer("Корейко А. И.", None), "Э-0013", Service::Electricity, TariffPlan::Single, &[10])
            .await;
        let pay = |target, amount| payment(&t.ctx, ours.consumer_id, target, amount);

        let refused = pay(Target::Contract(ours.contract_id), None).await.unwrap_err();
        assert_eq!(refused.to_string(), "Реквизиты для оплаты ещё не заданы — обратитесь в правление.");

        bank_details(&t.ctx).await;
        // Nothing owed yet: no `Sum`, the bank app asks for one.
        let owed_nothing = pay(Target::Contract(ours.contract_id), None).await.unwrap();
        assert_eq!(owed_nothing.amount, None);
        assert_eq!(
            owed_nothing.string.text(),
            "ST00012|Name=СНТ «Черноморск»|PersonalAcc=40703810041500000123|BankName=РНКБ БАНК (ПАО)|\
             BIC=043510607|CorrespAcc=30101810335100000607|Purpose=Участок 12А, договор Э-0012, электроэнергия за \
             03.2026|PayeeINN=9108001239|KPP=910801001|PersAcc=Э-0012"
        );
        let chosen = Kopecks::parse_payment("1 500").unwrap();
        let total = pay(Target::AllContracts, Some(chosen)).await.unwrap();
        assert!(
            total.string.text().contains("|Sum=150000|Purpose=Договоры Э-0012 за 03.2026|"),
            "{}",
            total.string.text()
        );
        assert_eq!(total.lines().last().unwrap(), &("Сумма", "1\u{202f}500,00 ₽".to_owned()));

        // Another consumer's contract is not theirs to pay; amounts are bounded as payments.
        assert!(matches!(pay(Target::Contract(theirs.contract_id), None).await, Err(PayError::UnknownContract)));
        let too_much = Kopecks::PAYMENT_MAX.checked_add(Kopecks::parse_rubles("0,01").unwrap()).unwrap();
        assert!(matches!(pay(Target::AllContracts, Some(too_much)).await, Err(PayError::Amount(_))));
    }
}
