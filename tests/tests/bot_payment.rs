//! Paying the debt by QR code from the bot, end to end: the whole app on a temporary database, a
//! fake Bot API, and the picture the bot sends read back by a real QR decoder.

use bank::testing::decode_qr;
use domain::{Service, TariffPlan, meter_value};
use service::access::telegram::LinkTarget;
use service::register::sign_up::{ConsumerRef, SignedUp};
use service::testing::{bank_details, default_now, new_consumer, sign, standard_tariffs};
use tests::bot_chat::{BotChat, Reply};
use tests::fake_telegram::updates;
use tests::{TestApp, seed};

const NO_DETAILS: &str = "Реквизиты для оплаты ещё не заданы — обратитесь в правление.";
/// The required fields of every code, from `DETAILS`, and the payee's tax numbers.
const PAYEE: &str = "ST00012|Name=СНТ «Черноморск»|PersonalAcc=40703810041500000123|BankName=РНКБ БАНК (ПАО)|\
                     BIC=043510607|CorrespAcc=30101810335100000607";
const TAX: &str = "PayeeINN=9108001239|KPP=910801001";

/// The app with Bender on plot 7: water owing 500 ₽ for February (12,5 m³ at 40 ₽) and, if
/// asked, electricity owing 500 ₽ too (100 kWh at 5 ₽); his chat linked.
async fn bender(user_id: i64, with_power: bool) -> (TestApp, SignedUp, Option<SignedUp>) {
    let app = TestApp::spawn_at(default_now()).await;
    let ctx = app.ctx();
    standard_tariffs(ctx).await;
    let water =
        sign(ctx, "7", new_consumer("Бендер О. И.", None), "W-7", Service::Water, TariffPlan::Single, &[100]).await;
    seed::reading(ctx, water.meter_id, &[meter_value!(112_500)], "2026-02-20").await;
    let power = match with_power {
        true => {
            let existing = ConsumerRef::Existing(water.consumer_id);
            let power = sign(ctx, "7", existing, "E-7", Service::Electricity, TariffPlan::Single, &[1000]).await;
            seed::reading(ctx, power.meter_id, &[meter_value!(1_100_000)], "2026-02-20").await;
            Some(power)
        }
        false => None,
    };
    BotChat::new(&app.telegram, user_id).link(ctx, LinkTarget::Consumer(water.consumer_id)).await;
    (app, water, power)
}

/// The one photo of a reply: what its QR code says, and its caption.
fn qr(reply: &Reply) -> (String, String) {
    let photos = reply.photos();
    assert_eq!(photos.len(), 1, "one photo in {:#?}", reply.calls);
    let png = &photos[0].files.iter().find(|f| f.field == "photo").expect("an uploaded photo").bytes;
    (decode_qr(png), photos[0].text().expect("a caption").to_owned())
}

#[tokio::test]
async fn the_debt_is_paid_with_a_qr_code_sent_as_a_photo() {
    let (app, water, _) = bender(5001, false).await;
    let chat = BotChat::new(&app.telegram, 5001);

    // Until the cooperative's details are set the answer says so, with no button to a broken code.
    let reply = chat.send("Задолженность").await;
    reply.expect("Задолженность 500,00 ₽").expect(NO_DETAILS);
    assert!(reply.buttons().is_empty(), "{:?}", reply.buttons());

    bank_details(app.ctx()).await;
    let reply = chat.send("Задолженность").await;
    assert!(!reply.text().contains(NO_DETAILS), "{}", reply.text());
    let pay = format!("pay:{}", water.contract_id);
    assert_eq!(reply.buttons(), [pay.as_str()]);

    let reply = chat.press(&pay).await;
    let (decoded, caption) = qr(&reply);
    let purpose = "Участок 7, договор W-7, вода за 02.2026";
    assert_eq!(decoded, format!("{PAYEE}|Sum=50000|Purpose={purpose}|{TAX}|PersAcc=W-7"));
    for line in [
        "Получатель: СНТ «Черноморск»",
        "ИНН: 9108001239",
        "Расчётный счёт: 40703810041500000123",
        "БИК: 043510607",
        &format!("Назначение платежа: {purpose}"),
        "Сумма: 500,00 ₽",
    ] {
        assert!(caption.contains(line), "«{line}» in:\n{caption}");
    }
    let other = format!("amt:{}", water.contract_id);
    assert_eq!(reply.buttons(), [other.as_str()]);

    // Another amount, refused in Russian until it is a payment.
    chat.press(&other).await.expect("Пришлите сумму в рублях");
    chat.send("0").await.expect("Сумма должна быть больше нуля.").expect("Пришлите сумму в рублях");
    chat.send("много").await.expect("«много» — не сумма.");
    chat.send("20000000").await.expect("Платёж не может быть больше");
    let reply = chat.send("1 234,56").await;
    let (decoded, caption) = qr(&reply);
    assert_eq!(decoded, format!("{PAYEE}|Sum=123456|Purpose={purpose}|{TAX}|PersAcc=W-7"));
    assert!(caption.contains("Сумма: 1\u{202f}234,56 ₽"), "{caption}");
    // The amount was taken: a number now is not another one.
    assert!(chat.send("100").await.photos().is_empty());
}

#[tokio::test]
async fn several_contracts_are_paid_one_by_one_and_only_ones_own() {
    let (app, water, power) = bender(5002, true).await;
    let power = power.unwrap();
    bank_details(app.ctx()).await;
    let chat = BotChat::new(&app.telegram, 5002);

    let reply = chat.send("Задолженность").await;
    reply.expect("Итого: задолженность 1\u{202f}000,00 ₽");
    let (pay_water, pay_power) = (format!("pay:{}", water.contract_id), format!("pay:{}", power.contract_id));
    // A payment books to one contract: a code per contract, none for the total.
    assert_eq!(reply.buttons(), [pay_water.as_str(), pay_power.as_str()]);

    let (decoded, _) = qr(&chat.press(&pay_power).await);
    let purpose = "Участок 7, договор E-7, электроэнергия за 02.2026";
    assert_eq!(decoded, format!("{PAYEE}|Sum=50000|Purpose={purpose}|{TAX}|PersAcc=E-7"));

    // A button forged with someone else's contract gets no code.
    let kozlevich =
        sign(app.ctx(), "8", new_consumer("Козлевич А. И.", None), "W-8", Service::Water, TariffPlan::Single, &[5])
            .await;
    let forged = chat.push(updates::callback(5002, &format!("pay:{}", kozlevich.contract_id), 0)).await;
    forged.expect("Договор не найден.");
    assert!(forged.photos().is_empty());
}
