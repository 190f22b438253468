//! Everything the bot says, in one place, with the formatting of readings and dates.
//! Messages about rules (a decreasing reading, a used code, a bad photo) come from the service
//! and domain errors as they are.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use domain::billing::Balance;
use domain::period::PeriodError;
use domain::{Kopecks, Period, ReadingStatus, RequestTopic, Zone, values_text};
use entities::{plot, reading};
use service::ledger::act::{Act, ActMonth};
use service::ledger::debt::Statement;
use service::payee::qr::Payment;
use service::readings::Recorded;
use service::register::cards::{MeterCard, PlotCard};
use teloxide::utils::command::BotCommands;

use crate::Command;
use crate::state::{Draft, Mode, State};
use crate::who::Who;

pub const STRANGER: &str = "Здравствуйте! Это бот садового товарищества «Черноморск»: он показывает задолженность \
    и принимает показания счётчиков. Сначала нужно подтвердить, что вы потребитель товарищества.\n\n\
    Есть два способа:\n\
    • нажмите «Поделиться номером» внизу — если этот номер указан в вашем договоре, доступ откроется сразу;\n\
    • или получите код привязки в правлении и отправьте его сюда так: /start КОД";
pub const PRIVATE_ONLY: &str = "Бот работает только в личных сообщениях. Напишите ему напрямую.";
pub const SOMETHING_WRONG: &str = "Что-то пошло не так, попробуйте ещё раз.";
pub const CANCELLED: &str = "Действие отменено.";
pub const UNKNOWN_COMMAND: &str = "Такой команды нет.";
pub const NOT_A_CONSUMER: &str = "Этот раздел — для потребителей, а ваш Telegram не привязан к договору. \
    Код привязки выдают в правлении.";
pub const CONTROLLER_ONLY: &str = "Режим контролёра доступен только контролёрам и администраторам.";
pub const ACCESS_LOST: &str = "Это действие вам больше недоступно. Если это ошибка, обратитесь в правление.";
pub const STALE_BUTTON: &str = "Эта кнопка уже неактуальна — продолжайте с последнего сообщения.";
pub const NO_METERS: &str = "За вами не числится счётчиков, по которым принимаются показания.";
pub const PICK_METER: &str = "Выберите счётчик:";
pub const METER_UNAVAILABLE: &str = "По этому счётчику показания больше не принимаются.";
pub const SEND_NUMBER: &str = "Пришлите показание числом, например 12345,6.";
pub const PHOTO_OPTIONAL: &str = "Пришлите фото счётчика, на котором видны цифры, — так показание проверят \
    быстрее. Или нажмите «Без фото».";
pub const PHOTO_REQUIRED: &str = "Пришлите фото счётчика, на котором видны цифры: без фото показание \
    контролёра не принимается.";
pub const SEAL_QUESTION: &str = "Пломба цела?";
pub const SEAL_COMMENT: &str = "Опишите одним сообщением, что с пломбой.";
pub const CONTROLLER_HOME: &str = "Режим контролёра. Пришлите номер участка или выберите из не снятых в этом \
    месяце. Выход — /cancel.";
pub const PLOT_GONE: &str = "Участок не найден.";
pub const REPORT_ONLY: &str = "Отчёт для бухгалтерии доступен только бухгалтерам и администраторам.";
pub const REPORT_USAGE: &str = "Отчёт за прошлый месяц — /report, за другой месяц — /report ГГГГ-ММ, \
    например /report 2026-02.";
pub const REMINDERS_OFF: &str = "Напоминания выключены. Включить их снова — /reminders.";
pub const REMINDERS_ON: &str = "Напоминания включены.";
pub const ANNOUNCEMENTS_OFF: &str = "Объявления правления больше не будут приходить, кроме срочных (отключение воды \
    или света, безопасность). Включить их снова — /announcements.";
pub const ANNOUNCEMENTS_ON: &str = "Объявления правления включены.";
pub const NO_CHART: &str = "Графика пока нет: за последние два года по вашим договорам ничего не начислено. \
    Он появится после первого начисления по показаниям.";

pub fn more_charts(more: usize) -> String {
    format!("Ещё договоров: {more}. Их графики — в правлении товарищества.")
}
pub const PAY_AMOUNT: &str = "Пришлите сумму в рублях, например 1500 или 1 234,56. Отменить — /cancel.";

/// The answer to `/start` once the sender is known (or not).
pub fn greeting(who: &Who) -> String {
    let controller = who.controller().is_some();
    match (&who.consumer, &who.staff) {
        (Some(consumer), _) => {
            let mut text = format!("Здравствуйте, {}! Выберите действие в меню внизу.", consumer.full_name);
            if controller {
                text.push_str("\nРежим контролёра — /controller.");
            }
            text
        }
        (None, Some(staff)) => {
            let mode = if controller { " Режим контролёра — /controller." } else { "" };
            format!(
                "Здравствуйте, {}! Ваш Telegram привязан к учётной записи сотрудника ({}).{mode}",
                staff.full_name,
                staff.role.label().to_lowercase()
            )
        }
        (None, None) => STRANGER.to_owned(),
    }
}

pub fn help(who: &Who) -> String {
    if !who.is_known() {
        return STRANGER.to_owned();
    }
    let menu = if who.consumer.is_some() {
        "«Задолженность» — долг или переплата по каждому договору.\n\
         «История расчётов» — начислено, оплачено и сальдо за последние 12 месяцев и акт сверки \
         файлом xlsx со всеми начислениями и оплатами.\n\
         «Передать показания» — показания счётчика, по желанию с фото.\n\
         «История» — последние показания по каждому счётчику.\n\
         «График» — потребление и начисления по месяцам, картинкой по каждому договору.\n\
         «Написать в правление» — вопрос о счётчике, пломбе или счёте; ответ придёт сюда.\n\n"
    } else {
        ""
    };
    format!("{menu}{}", Command::descriptions())
}

/// What to do next, for a message the current step did not expect.
pub fn hint(state: &State, who: &Who) -> String {
    match state {
        State::Idle if who.consumer.is_some() => "Выберите действие в меню внизу.".to_owned(),
        State::Idle => help(who),
        State::PickMeter => "Выберите счётчик кнопкой выше или отмените: /cancel.".to_owned(),
        State::Walk { .. } => "Пришлите номер участка.".to_owned(),
        State::Values(_) => SEND_NUMBER.to_owned(),
        State::Seal(_) => "Нажмите «Цела» или «Нарушена» выше.".to_owned(),
        State::SealComment(_) => SEAL_COMMENT.to_owned(),
        State::Photo(draft) => photo_request(draft.mode).to_owned(),
        State::Confirm(_) => "Нажмите «Подтвердить» или «Исправить» выше.".to_owned(),
        State::PayAmount { .. } => PAY_AMOUNT.to_owned(),
        State::RequestTopic => "Выберите тему кнопкой выше или отмените: /cancel.".to_owned(),
        State::RequestText { topic } => request_text(*topic),
        State::RequestPhoto { .. } => REQUEST_PHOTO.to_owned(),
        State::RequestReply { request_id } => reply_text(*request_id),
    }
}

pub fn photo_request(mode: Mode) -> &'static str {
    match mode {
        Mode::Consumer => PHOTO_OPTIONAL,
        Mode::Controller { .. } => PHOTO_REQUIRED,
    }
}

pub fn debt(statement: &Statement, today: NaiveDate) -> String {
    format!("Задолженность на {}\n\n{statement}", date(today))
}

/// Telegram's limit on a message's text, in characters.
const MESSAGE_LIMIT: usize = 4096;

/// The months «История расчётов» lists.
pub const ACCOUNT_MONTHS: usize = 12;

/// «История расчётов»: the last [`ACCOUNT_MONTHS`] months of the акт, one line each, newest
/// last; within Telegram's limit (the oldest months give way first).
pub fn accounts(act: &Act, months: &[ActMonth]) -> String {
    if act.contracts.is_empty() {
        return "Договоров не найдено.".to_owned();
    }
    let head = "История расчётов: начислено / оплачено / сальдо на конец месяца\n".to_owned();
    let tail = format!(
        "\nИтого на {}: {}\nАкт сверки с {} по {} — в файле ниже.",
        date(act.range.to()),
        Balance::of_debt(act.closing).describe().to_lowercase(),
        date(act.range.from()),
        date(act.range.to())
    );
    let mut lines: Vec<String> = Vec::new();
    let mut used = head.chars().count() + tail.chars().count();
    for month in months.iter().rev().take(ACCOUNT_MONTHS) {
        let line = format!(
            "{}: {} / {} / {}\n",
            month.period.russian(),
            month.charged,
            month.paid,
            Balance::of_debt(month.closing).describe().to_lowercase()
        );
        used += line.chars().count();
        if used > MESSAGE_LIMIT {
            break;
        }
        lines.push(line);
    }
    lines.reverse();
    format!("{head}{}{tail}", lines.concat())
}

/// The caption of the акт's file.
pub fn act_caption(act: &Act) -> String {
    format!("Акт сверки с {} по {}", date(act.range.from()), date(act.range.to()))
}

/// The caption of a payment QR code: how to pay with it, and the details for paying by hand.
pub fn payment(payment: &Payment) -> String {
    let mut text = "Отсканируйте QR-код в приложении банка (оплата по QR или по квитанции) — реквизиты и сумма \
                    подставятся сами. Или введите их вручную:\n"
        .to_owned();
    for (label, value) in payment.lines() {
        text.push_str(&format!("\n{label}: {value}"));
    }
    text
}

/// A meter's latest readings, newest first.
pub fn history(meters: &[(MeterCard, Vec<reading::Model>)], tz: Tz) -> String {
    if meters.is_empty() {
        return NO_METERS.to_owned();
    }
    let blocks: Vec<String> = meters
        .iter()
        .map(|(card, readings)| {
            let lines: Vec<String> = if readings.is_empty() {
                vec!["Показаний пока нет".to_owned()]
            } else {
                readings.iter().map(|r| reading_line(card, r, tz)).collect()
            };
            format!("{}\n{}", card.title(), lines.join("\n"))
        })
        .collect();
    format!("Последние показания\n\n{}", blocks.join("\n\n"))
}

/// «• 15.03.2026 — день 1100, ночь 550 (Потребитель (бот), на проверке)».
fn reading_line(card: &MeterCard, r: &reading::Model, tz: Tz) -> String {
    let status = match r.status {
        ReadingStatus::Accepted => String::new(),
        other => format!(", {}", other.label().to_lowercase()),
    };
    let values = values_text(card.meter.zone_list(), &r.values());
    format!("• {} — {values} ({}{status})", local_date(r.taken_at, tz), r.source.label())
}

/// Asks for the value of the `register`-th register (0 for single or day, 1 for night).
pub fn ask_value(card: &MeterCard, register: usize) -> String {
    let zone = card.meter.zone_list().get(register).copied().unwrap_or(Zone::Single);
    let previous = card.last_values().get(register).copied().unwrap_or_default();
    let label = match zone {
        Zone::Single => String::new(),
        zone => format!("Шкала «{}». ", zone.label()),
    };
    let unit = card.contract.service.unit();
    format!("{}\n{label}Предыдущее показание: {previous} {unit}.\n{SEND_NUMBER}", card.title())
}

/// The summary shown before «Подтвердить», with the warning about an unusual jump if any.
pub fn summary(card: &MeterCard, draft: &Draft, warning: Option<&str>) -> String {
    let mut lines = vec!["Проверьте показание:".to_owned(), card.title()];
    for (zone, value) in card.meter.zone_list().iter().zip(&draft.values) {
        let label = if *zone == Zone::Single { "Показание" } else { zone.label() };
        lines.push(format!("{label}: {value} {}", card.contract.service.unit()));
    }
    if let Some(intact) = draft.seal_intact {
        let seal = if intact {
            "цела".to_owned()
        } else {
            format!("нарушена — {}", draft.comment.as_deref().unwrap_or(""))
        };
        lines.push(format!("Пломба: {seal}"));
    }
    lines.push(format!("Фото: {}", if draft.photo_id.is_some() { "приложено" } else { "нет" }));
    if let Some(warning) = warning {
        lines.push(format!("\n⚠️ {warning}"));
    }
    lines.join("\n")
}

pub fn saved(recorded: &Recorded) -> &'static str {
    match (recorded.duplicate, recorded.reading.status) {
        (true, _) => "Это показание уже сохранено.",
        (false, ReadingStatus::Flagged) => "Показание сохранено и отправлено на проверку администратору.",
        (false, _) => "Показание принято. Спасибо!",
    }
}

/// A plot as a controller sees it on site: who holds it, what it owes, each meter's last
/// reading, ticked when in `read` (read this month).
pub fn plot_card(card: &PlotCard, read: &HashSet<i64>, tz: Tz) -> String {
    let mut names: Vec<&str> = card.meters.iter().map(|m| m.consumer_name.as_str()).collect();
    names.dedup();
    let mut lines = vec![format!("Участок {}", card.plot.number)];
    if !names.is_empty() {
        lines.push(format!("Потребитель: {}", names.join(", ")));
    }
    lines.push(format!("Долг по участку: {}", card.balance.describe().to_lowercase()));
    lines.push(String::new());
    if card.meters.is_empty() {
        lines.push("Счётчиков в работе нет.".to_owned());
    }
    for meter in &card.meters {
        let last = match &meter.last_reading {
            Some(r) => {
                format!("{} от {}", values_text(meter.meter.zone_list(), &r.values()), local_date(r.taken_at, tz))
            }
            None => "показаний ещё не было".to_owned(),
        };
        let tick = if read.contains(&meter.meter.id) { " ✓" } else { "" };
        lines.push(format!("{} · {}: {last}{tick}", meter.contract.service, meter.meter.serial));
    }
    lines.push("\nВыберите счётчик.".to_owned());
    lines.join("\n")
}

/// The plots still to read this month; `shown` of them get buttons.
/// The members' requests a controller is asked to see to, before the unread plots; nothing when none.
pub fn tasks(tasks: &[service::readings::walk::Task]) -> String {
    if tasks.is_empty() {
        return String::new();
    }
    let mut lines = vec!["Поручения по обращениям:".to_owned()];
    for task in tasks {
        lines.push(format!("Участок {} — обращение № {}: «{}»", task.plot.number, task.request_id, task.text));
    }
    format!("{}\n\n", lines.join("\n"))
}

pub fn unread(plots: &[plot::Model], shown: usize, period: Period) -> String {
    match plots.len() {
        0 => format!("Все участки за {} сняты.", period.russian()),
        n if n > shown => format!("Не сняты за {}: {n}. Первые {shown} по маршруту:", period.russian()),
        n => format!("Не сняты за {}: {n}.", period.russian()),
    }
}

pub fn bad_period(error: &PeriodError) -> String {
    format!("{error}\n\n{REPORT_USAGE}")
}

/// The report's caption, with the network's headline figures when there are common meters.
pub fn report_caption(period: Period, network: Option<&str>) -> String {
    match network {
        Some(network) => format!("Отчёт за {}\n\n{network}", period.russian()),
        None => format!("Отчёт за {}", period.russian()),
    }
}

/// The losses chart's caption in the accountants' chat: the network's headline figures.
pub fn losses_caption(period: Period, network: &str) -> String {
    format!("Баланс сети за {}\n\n{network}", period.russian())
}

/// The monthly reminder; `debt` only when it is worth mentioning.
pub fn reminder(period: Period, debt: Option<Kopecks>) -> String {
    let mut text = format!(
        "Напоминаем: пришлите, пожалуйста, показания счётчиков за {} — кнопкой «Передать показания» \
         в меню внизу.",
        period.russian()
    );
    if let Some(debt) = debt {
        text.push_str(&format!("\n\nЗадолженность: {debt}. Подробности — кнопка «Задолженность»."));
    }
    text
}

pub fn reminders_status(on: bool) -> &'static str {
    match on {
        true => "Напоминания о показаниях включены: если за месяц показаний нет, бот напомнит о них.",
        false => "Напоминания о показаниях выключены.",
    }
}

/// An announcement from the board as it arrives.
pub fn announcement(body: &str, urgent: bool) -> String {
    match urgent {
        true => format!("❗ Срочное объявление правления\n\n{body}"),
        false => format!("Объявление правления\n\n{body}"),
    }
}

pub fn announcements_status(on: bool) -> &'static str {
    match on {
        true => "Объявления правления приходят сюда.",
        false => {
            "Объявления правления выключены; срочные (отключение воды или света, безопасность) приходят всё равно."
        }
    }
}

pub const REQUEST_TOPIC: &str = "О чём ваше обращение в правление?";
pub const REQUEST_PHOTO: &str = "Если нужно, пришлите фото (счётчика, пломбы, квитанции). Или нажмите «Без фото».";

pub fn request_text(topic: RequestTopic) -> String {
    format!(
        "Тема: {}. Опишите вопрос одним сообщением (до 2000 знаков). Отменить — /cancel.",
        topic.label().to_lowercase()
    )
}

pub fn request_opened(id: i64) -> String {
    format!("Обращение № {id} принято. Ответ правления придёт сюда.")
}

pub fn reply_text(id: i64) -> String {
    format!("Напишите ответ к обращению № {id} одним сообщением. Отменить — /cancel.")
}

pub fn reply_added(id: i64) -> String {
    format!("Ваш ответ добавлен к обращению № {id}. Правление ответит сюда.")
}

/// The board's answer as it arrives.
pub fn answer(id: i64, body: &str) -> String {
    format!("Ответ на обращение № {id}\n\n{body}")
}

pub fn plot_not_found(number: &domain::PlotNumber) -> String {
    format!("Участок {number} не найден.")
}

fn local_date(at: DateTime<Utc>, tz: Tz) -> String {
    date(at.with_timezone(&tz).date_naive())
}

fn date(day: NaiveDate) -> String {
    day.format("%d.%m.%Y").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_local() {
        let late_evening_utc: DateTime<Utc> = "2026-03-31T22:30:00Z".parse().unwrap();
        assert_eq!(local_date(late_evening_utc, chrono_tz::Europe::Moscow), "01.04.2026");
    }

    #[test]
    fn help_lists_every_command() {
        let who = Who { telegram_id: 1, consumer: None, staff: None };
        assert_eq!(help(&who), STRANGER);
        let text = Command::descriptions().to_string();
        for command in ["/start", "/help", "/cancel", "/controller", "/report", "/reminders", "/announcements"] {
            assert!(text.contains(command), "{text}");
        }
    }

    /// Ten years of history: the last twelve months, oldest first, within Telegram's limit.
    #[test]
    fn accounts_list_the_last_twelve_months_within_the_limit() {
        use service::ledger::act::{ActRange, ContractAct};
        let first = Period::parse("2017-01").unwrap();
        let months: Vec<ActMonth> = std::iter::successors(Some(first), |p| Some(p.next()))
            .take(120)
            .map(|period| ActMonth { period, charged: Kopecks::MAX, paid: -Kopecks::MAX, closing: Kopecks::MAX })
            .collect();
        let contract = ContractAct {
            contract_id: 1,
            number: "W-1".into(),
            service: domain::Service::Water,
            plot: "1".into(),
            opening: Kopecks::ZERO,
            lines: Vec::new(),
            charged: Kopecks::ZERO,
            paid: Kopecks::ZERO,
            closing: Kopecks::ZERO,
        };
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let act = Act {
            cooperative: "СНТ".into(),
            consumer: "Бендер".into(),
            range: ActRange::new(day("2017-01-01"), day("2026-12-01")).unwrap(),
            contracts: vec![contract],
            opening: Kopecks::ZERO,
            charged: Kopecks::ZERO,
            paid: Kopecks::ZERO,
            closing: Kopecks::MAX,
        };
        let text = accounts(&act, &months);
        assert!(text.chars().count() <= MESSAGE_LIMIT);
        let listed: Vec<&str> = text.lines().filter(|l| l.contains(" / ") && !l.starts_with("История")).collect();
        assert_eq!(listed.len(), ACCOUNT_MONTHS, "{text}");
        assert!(listed[0].starts_with("январь 2026: ") && listed[11].starts_with("декабрь 2026: "), "{text}");
    }
}
