//! An announcement to 1 000 members through the fake Bot API with Telegram's flood limit modelled
//! (30 sends in any second, beyond it 429 with `retry_after: 1`): how long the scheduler takes
//! to send it through the throttled bot, and how many 429s it met and waited out. Nothing here
//! asserts a time. Run with `cargo bench -p tests --bench announcements`.

use std::time::Instant;

use domain::Service;
use service::audit::Actor;
use service::members::announcements::{self, Audience, Draft};
use service::testing::{TestContext, link, member};
use tests::FakeTelegram;

const MEMBERS: usize = 1_000;
/// Telegram's documented global limit for a bot.
const TELEGRAM_PER_SECOND: usize = 30;

#[tokio::main]
async fn main() {
    let t = TestContext::new().await;
    t.standard_tariffs().await;
    let seeding = Instant::now();
    for n in 1..=MEMBERS {
        let plot = n.to_string();
        let signed = member(&t.ctx, &plot, &format!("W-{n}"), Service::Water, 0).await;
        link(&t.ctx, signed.consumer_id, 100_000 + n as i64).await;
    }
    println!("seeded {MEMBERS} linked members in {:.1} s", seeding.elapsed().as_secs_f64());

    let fake = FakeTelegram::start().await;
    fake.limit_sends(TELEGRAM_PER_SECOND);
    let job = bot::scheduler::Announcements {
        bot: bot::scheduler::broadcaster(fake.bot()),
        batch: bot::scheduler::announcements::BATCH,
    };
    let draft = Draft {
        body: "Плановое отключение воды в среду с 9 до 14.".into(),
        urgent: true,
        audience: Audience::default(),
    };
    let started = Instant::now();
    let sent = announcements::send(&t.ctx, &draft, Actor::System).await.unwrap();
    let stored = started.elapsed();
    while !announcements::pending(&t.ctx, 1).await.unwrap().is_empty() {
        bot::scheduler::step(&job, &t.ctx).await.unwrap();
    }
    let elapsed = started.elapsed();
    let (_, tally, _) = announcements::receipts(&t.ctx, sent.id).await.unwrap().unwrap();
    let calls = fake.calls_to("sendMessage");
    let mut chats: Vec<i64> = calls.iter().filter(|c| !c.result.is_null()).filter_map(|c| c.chat_id()).collect();
    chats.sort_unstable();
    chats.dedup();
    println!(
        "announcement to {MEMBERS} members (scheduler at {}/s, Telegram modelled at {TELEGRAM_PER_SECOND}/s): \
         {:.1} s in all ({:.0} ms to store it and its {MEMBERS} deliveries), {:.1} messages/s",
        bot::scheduler::MESSAGES_PER_SECOND,
        elapsed.as_secs_f64(),
        stored.as_secs_f64() * 1e3,
        MEMBERS as f64 / elapsed.as_secs_f64(),
    );
    println!(
        "  delivered {} (distinct chats {}, sendMessage accepted {}), failed {}, blocked {}; 429s met and retried: {}",
        tally.delivered,
        chats.len(),
        calls.len(),
        tally.failed,
        tally.blocked,
        fake.too_many_requests()
    );
    // A fact, not a time: every member got it exactly once.
    assert_eq!((tally.delivered, chats.len(), calls.len()), (MEMBERS, MEMBERS, MEMBERS));
}
