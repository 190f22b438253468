//! Reversals (сторно) and transfers of payments (issue 13.4) through the service on a real
//! database: the reversal is a negative line in the open month pointing at the original, a closed
//! month is untouched, an original is reversed once, a transfer moves the money in one step, and
//! each is audited. Amounts computed by hand.

use domain::{Kopecks, PaymentSource, Role, Service, TariffPlan, kopecks};
use entities::{audit_log, payment, period_balance};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use service::audit::Actor;
use service::ledger::debt::{self, Scope};
use service::ledger::months;
use service::ledger::payments::reversal::{self, ReversalError};
use service::ledger::payments::{self, PaymentError};
use service::testing::{TestContext, day, month as p, new_consumer, noon, paid};

/// Each month's payments (month, contract, sum) as the report adds them up.
async fn paid_by_month(t: &TestContext) -> Vec<(String, i64, Kopecks)> {
    let mut sums = std::collections::BTreeMap::new();
    for p in payment::Entity::find().all(t.ctx.db.conn()).await.unwrap() {
        let sum = sums.entry((p.period.to_string(), p.contract_id)).or_insert(Kopecks::ZERO);
        *sum = sum.checked_add(p.amount_kopecks).unwrap();
    }
    sums.into_iter().map(|((month, contract), sum)| (month, contract, sum)).collect()
}

async fn debt_of(t: &TestContext, contract_id: i64) -> Kopecks {
    debt::balances(t.ctx.db.conn(), Scope::Contract(contract_id), None).await.unwrap()[&contract_id].debt()
}

async fn closed_october(t: &TestContext) -> period_balance::Model {
    period_balance::Entity::find()
        .filter(period_balance::Column::Period.eq(p("2026-10")))
        .one(t.ctx.db.conn())
        .await
        .unwrap()
        .unwrap()
}

/// 1 500,00 ₽ paid on 20.10 to the wrong contract (W-7 instead of W-9); October closes on
/// 01.11; on 15.11 the accountant reverses it on W-7, and a second try is refused.
#[tokio::test]
async fn a_reversal_is_a_negative_line_today_and_leaves_the_closed_month_as_sent() {
    let t = TestContext::at(noon("2026-10-20")).await;
    let accountant = t.staff("buh", Role::Accountant).await;
    let actor = Actor::Staff(accountant.id);
    let w7 = t.sign("7", new_consumer("Бендер О. И.", None), "W-7", Service::Water, TariffPlan::Single, &[0]).await;
    let original = payments::record(&t.ctx, paid("W-7", kopecks!(1500_00), "2026-10-20"), actor).await.unwrap();
    assert_eq!(debt_of(&t, w7.contract_id).await, kopecks!(-1500_00));
    t.clock.set(noon("2026-11-01"));
    months::close(&t.ctx, p("2026-10"), actor).await.unwrap();
    let october = closed_october(&t).await;

    t.clock.set(noon("2026-11-15"));
    let refused = reversal::reverse(&t.ctx, original.id, "   ", PaymentSource::Panel, actor).await;
    assert!(matches!(refused, Err(ReversalError::NoReason)), "{refused:?}");
    let long = "я".repeat(501);
    let refused = reversal::reverse(&t.ctx, original.id, &long, PaymentSource::Panel, actor).await;
    assert_eq!(refused.unwrap_err().to_string(), "Причина: не длиннее 500 символов, а здесь 501.");

    let reversed =
        reversal::reverse(&t.ctx, original.id, "Ошибочно внесён на W-7", PaymentSource::Panel, actor).await.unwrap();
    assert_eq!(reversed.amount_kopecks, kopecks!(-1500_00));
    assert_eq!((reversed.paid_on, reversed.period), (day("2026-11-15"), p("2026-11")), "today, in the open month");
    assert_eq!((reversed.reverses_id, reversed.contract_id), (Some(original.id), w7.contract_id));
    assert_eq!(reversed.reason.as_deref(), Some("Ошибочно внесён на W-7"));
    assert_eq!(debt_of(&t, w7.contract_id).await, Kopecks::ZERO, "the debt follows");
    // The member's statement names no payment: the reversal is not one, nor is what it reversed.
    let statement = debt::statement(&t.ctx.db, w7.consumer_id).await.unwrap();
    assert_eq!(statement.lines[0].last_payment, None, "not «Последняя оплата: −1 500,00 ₽»");

    // October as closed, the original as it was.
    assert_eq!(closed_october(&t).await, october);
    let stored = payment::Entity::find_by_id(original.id).one(t.ctx.db.conn()).await.unwrap().unwrap();
    assert_eq!(stored, original);
    let figures = months::figures(t.ctx.db.conn(), p("2026-11")).await.unwrap();
    let (_, november) = figures.iter().find(|(id, _)| *id == w7.contract_id).unwrap();
    assert_eq!(
        (november.opening, november.paid, november.closing),
        (kopecks!(-1500_00), kopecks!(-1500_00), Kopecks::ZERO)
    );

    let twice = reversal::reverse(&t.ctx, original.id, "ещё раз", PaymentSource::Panel, actor).await;
    assert_eq!(twice.unwrap_err().to_string(), format!("Платёж № {} уже сторнирован.", original.id));
    let of_reversal = reversal::reverse(&t.ctx, reversed.id, "назад", PaymentSource::Panel, actor).await;
    assert!(matches!(of_reversal, Err(ReversalError::IsReversal)), "{of_reversal:?}");
    let missing = reversal::reverse(&t.ctx, 999_999, "нет такого", PaymentSource::Panel, actor).await;
    assert!(matches!(missing, Err(ReversalError::NotFound)), "{missing:?}");
    assert_eq!(payment::Entity::find().all(t.ctx.db.conn()).await.unwrap().len(), 2);

    let audit = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("payment.reverse"))
        .all(t.ctx.db.conn())
        .await
        .unwrap();
    let [entry] = &audit[..] else { panic!("one audit entry: {audit:?}") };
    assert_eq!((entry.staff_id, entry.entity_id), (Some(accountant.id), Some(original.id)));
    assert!(entry.details.contains("Ошибочно внесён на W-7"), "{}", entry.details);
}

/// Two tries at once: exactly one reversal is stored, the other gets the refusal.
#[tokio::test]
async fn concurrent_reversals_of_one_payment_store_one() {
    let t = TestContext::at(noon("2026-11-20")).await;
    let admin = t.staff("admin", Role::Admin).await;
    t.sign("7", new_consumer("Бендер О. И.", None), "W-7", Service::Water, TariffPlan::Single, &[0]).await;
    let original =
        payments::record(&t.ctx, paid("W-7", kopecks!(100_00), "2026-11-20"), Actor::Staff(admin.id)).await.unwrap();
    let tries = (0..4).map(|n| {
        let ctx = t.ctx.clone();
        tokio::spawn(async move {
            reversal::reverse(&ctx, original.id, &format!("попытка {n}"), PaymentSource::Api, Actor::Staff(admin.id))
                .await
        })
    });
    let mut results = Vec::new();
    for task in tries.collect::<Vec<_>>() {
        results.push(task.await.unwrap());
    }
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "{results:?}");
    for result in results.into_iter().filter(Result::is_err) {
        assert!(matches!(result, Err(ReversalError::AlreadyReversed(id)) if id == original.id), "{result:?}");
    }
    let reversals =
        payment::Entity::find().filter(payment::Column::ReversesId.eq(original.id)).all(t.ctx.db.conn()).await.unwrap();
    assert_eq!(reversals.len(), 1);
}

/// 2 000,00 ₽ paid on 28.10 to E-7 was meant for W-7. October closed; moving it on 10.11 books the
/// reversal on E-7 and 2 000,00 ₽ on W-7, both dated 28.10 — in November, the first open month.
#[tokio::test]
async fn a_transfer_is_a_reversal_and_a_new_payment_in_one_step() {
    let t = TestContext::at(noon("2026-10-28")).await;
    let accountant = t.staff("buh", Role::Accountant).await;
    let actor = Actor::Staff(accountant.id);
    let w = t.sign("7", new_consumer("Бендер О. И.", None), "W-7", Service::Water, TariffPlan::Single, &[0]).await;
    let e = t.sign("8", new_consumer("Козлевич А.", None), "E-8", Service::Water, TariffPlan::Single, &[0]).await;
    let original = payments::record(&t.ctx, paid("E-8", kopecks!(2000_00), "2026-10-28"), actor).await.unwrap();
    t.clock.set(noon("2026-11-01"));
    months::close(&t.ctx, p("2026-10"), actor).await.unwrap();
    t.clock.set(noon("2026-11-10"));

    let same = reversal::transfer(&t.ctx, original.id, "E-8", "не тот", PaymentSource::Panel, actor).await;
    assert_eq!(same.unwrap_err().to_string(), "Платёж уже учтён на договоре № E-8.");
    let unknown = reversal::transfer(&t.ctx, original.id, "Х-1", "не тот", PaymentSource::Panel, actor).await;
    assert!(matches!(unknown, Err(ReversalError::Payment(PaymentError::UnknownContract(_)))), "{unknown:?}");
    assert_eq!(payment::Entity::find().all(t.ctx.db.conn()).await.unwrap().len(), 1, "nothing half-done");

    let reversal::Moved { reversal: reversed, moved, .. } =
        reversal::transfer(&t.ctx, original.id, " W-7 ", "Плательщик ошибся договором", PaymentSource::Panel, actor)
            .await
            .unwrap();
    assert_eq!((reversed.contract_id, reversed.amount_kopecks), (e.contract_id, kopecks!(-2000_00)));
    assert_eq!((reversed.paid_on, reversed.period), (day("2026-10-28"), p("2026-11")));
    assert_eq!((moved.contract_id, moved.amount_kopecks), (w.contract_id, kopecks!(2000_00)));
    assert_eq!((moved.paid_on, moved.period, moved.for_period), (day("2026-10-28"), p("2026-11"), p("2026-10")));
    assert_eq!(moved.reverses_id, None);
    assert!(moved.reason.as_deref().is_some_and(|r| r.contains("Плательщик ошибся договором")), "{moved:?}");
    assert_eq!(debt_of(&t, e.contract_id).await, Kopecks::ZERO);
    assert_eq!(debt_of(&t, w.contract_id).await, kopecks!(-2000_00));
    // The bank reference stays with the original: the same statement imported again adds nothing.
    let again = payments::record(&t.ctx, paid("E-8", kopecks!(2000_00), "2026-10-28"), actor).await;
    assert!(matches!(again, Err(PaymentError::DuplicateReference(_))), "{again:?}");

    let moved_twice = reversal::transfer(&t.ctx, original.id, "W-7", "ещё", PaymentSource::Panel, actor).await;
    assert!(matches!(moved_twice, Err(ReversalError::AlreadyReversed(_))), "{moved_twice:?}");
    let audit = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("payment.transfer"))
        .order_by_asc(audit_log::Column::Id)
        .all(t.ctx.db.conn())
        .await
        .unwrap();
    let [entry] = &audit[..] else { panic!("one audit entry: {audit:?}") };
    assert_eq!(entry.staff_id, Some(accountant.id));
    assert!(entry.details.contains("W-7"), "{}", entry.details);
}

/// 1 500,00 ₽ arrived on 28.03 on E-12, meant for E-21; moved on 02.04 while March is still open:
/// March counts it once, on E-21, as the bank's statement does, and April counts nothing.
#[tokio::test]
async fn a_payment_moved_while_its_month_is_open_counts_once_in_that_month() {
    let t = TestContext::at(noon("2026-03-28")).await;
    let actor = Actor::Staff(t.staff("buh", Role::Accountant).await.id);
    let e12 = t.sign("12", new_consumer("Бендер О. И.", None), "E-12", Service::Water, TariffPlan::Single, &[0]).await;
    let e21 = t.sign("21", new_consumer("Козлевич А.", None), "E-21", Service::Water, TariffPlan::Single, &[0]).await;
    let original = payments::record(&t.ctx, paid("E-12", kopecks!(1500_00), "2026-03-28"), actor).await.unwrap();
    t.clock.set(noon("2026-04-02"));

    let reversal::Moved { reversal: reversed, moved, .. } =
        reversal::transfer(&t.ctx, original.id, "E-21", "Не тот участок", PaymentSource::Panel, actor).await.unwrap();
    assert_eq!((reversed.paid_on, reversed.period), (day("2026-03-28"), p("2026-03")));
    assert_eq!((moved.paid_on, moved.period), (day("2026-03-28"), p("2026-03")));
    assert_eq!(
        paid_by_month(&t).await,
        [
            ("2026-03".to_owned(), e12.contract_id, Kopecks::ZERO),
            ("2026-03".to_owned(), e21.contract_id, kopecks!(1500_00))
        ]
    );
    // Closing March now gives E-12 no credit that is not his.
    months::close(&t.ctx, p("2026-03"), actor).await.unwrap();
    let march = months::figures(t.ctx.db.conn(), p("2026-03")).await.unwrap();
    let closing = |id: i64| march.iter().find(|(c, _)| *c == id).map(|(_, f)| f.closing);
    assert_eq!((closing(e12.contract_id), closing(e21.contract_id)), (Some(Kopecks::ZERO), Some(kopecks!(-1500_00))));
}
