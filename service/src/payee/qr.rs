//! The payment QR code (ГОСТ Р 56042-2014) for a consumer's debt, one per contract — a payment
//! books to one contract, and a total would net one contract's overpayment against another's
//! debt and have to be split by hand — for the debt as the ledger has it or an amount chosen.

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
}

#[derive(Debug, thiserror::Error)]
pub enum PayError {
    #[error("Реквизиты для оплаты ещё не заданы — обратитесь в правление.")]
    NoDetails,
    #[error(
        "QR-код недоступен: сохранённые реквизиты не проходят проверку — администратору нужно сохранить их \
         заново на странице «Реквизиты»."
    )]
    BrokenDetails,
    /// A plot number on file that the purpose cannot carry (edited by hand past the register's check).
    #[error("QR-код недоступен: номер участка «{0}» в базе не проходит проверку — исправьте его в реестре.")]
    BrokenPlot(String),
    #[error("Договор не найден.")]
    UnknownContract,
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

    /// The code as an inline SVG drawing: well under a millisecond, cheap enough for the async
    /// runtime even for a printout of every consumer's receipt.
    pub fn svg(&self) -> Result<String, Internal> {
        self.string.render_svg().map_err(|e| Internal(e.into()))
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
    let details = details::current(conn).await?;
    let statement = debt::statement(&ctx.db, consumer_id).await?;
    let Target::Contract(id) = target;
    let line = statement.lines.iter().find(|l| l.contract_id == id).ok_or(PayError::UnknownContract)?;
    build(details, line, ctx.current_period(), amount)
}

/// One payment per contract the consumer owes on, each for that contract's debt, to `details`
/// (read once by the caller, however many consumers it prints); a contract whose code cannot be
/// built carries its own error.
pub async fn owed(
    ctx: &Context,
    details: &BankDetails,
    consumer_id: i64,
) -> Result<Vec<(ContractLine, Result<Payment, PayError>)>, Internal> {
    let statement = debt::statement(&ctx.db, consumer_id).await?;
    let now = ctx.current_period();
    Ok(statement
        .lines
        .into_iter()
        .filter(|l| l.balance.debt().is_positive())
        .map(|line| {
            let payment = build(details.clone(), &line, now, None);
            (line, payment)
        })
        .collect())
}

fn build(details: BankDetails, line: &ContractLine, now: Period, amount: Option<Kopecks>) -> Result<Payment, PayError> {
    let plot = PlotNumber::parse(&line.plot_number).map_err(|e| {
        tracing::error!(plot = line.plot_number, "a plot number on file does not pass its check: {e}");
        PayError::BrokenPlot(line.plot_number.clone())
    })?;
    let contract = line.contract_number.clone();
    let purpose =
        OurPurpose::Contract { plot, contract: contract.clone(), service: line.service, period: month(line, now) };
    let owed = line.balance.debt();
    let amount = amount.or(owed.is_positive().then_some(owed));
    let purpose = purpose.text();
    let string = PaymentString::build(&PaymentOrder {
        details: &details,
        sum: amount,
        purpose: Some(&purpose),
        personal_account: Some(&contract),
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
        let chosen = pay(Target::Contract(ours.contract_id), Some(chosen)).await.unwrap();
        assert!(
            chosen
                .string
                .text()
                .contains("|Sum=150000|Purpose=Участок 12А, договор Э-0012, электроэнергия за 03.2026|"),
            "{}",
            chosen.string.text()
        );
        assert_eq!(chosen.lines().last().unwrap(), &("Сумма", "1\u{202f}500,00 ₽".to_owned()));
        // Nothing owed: no code among the ones owed.
        let details = details::current(t.ctx.db.conn()).await.unwrap();
        assert!(owed(&t.ctx, &details, ours.consumer_id).await.unwrap().is_empty());

        // Another consumer's contract is not theirs to pay; amounts are bounded as payments.
        assert!(matches!(pay(Target::Contract(theirs.contract_id), None).await, Err(PayError::UnknownContract)));
        let too_much = Kopecks::PAYMENT_MAX.checked_add(Kopecks::parse_rubles("0,01").unwrap()).unwrap();
        assert!(matches!(pay(Target::Contract(ours.contract_id), Some(too_much)).await, Err(PayError::Amount(_))));
    }
}
