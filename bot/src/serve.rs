//! Running the whole system in one process: migrations, the first admin, the panel, the bot and
//! the scheduled jobs (the monthly report, reminders, the nightly backup), stopped together on Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context as _;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::{EndpointExt, Route, post};
use service::{Clock, Context, Db};
use teloxide::types::ChatId;
use tokio::sync::watch;
use tokio::task::JoinSet;
use url::Url;

use crate::Config;
use crate::scheduler::{
    self, Announcements, Answers, Broadcaster, Looks, MonthlyReport, NightlyBackup, PaymentNotices, ReminderWindow,
    Reminders, ReportSchedule,
};
use crate::telegram::{self, RunningBot, TelegramConfig};
use crate::webhook;

/// What [`App::start`] needs besides the configuration (tests replace the clock and make the
/// scheduler look at it more often).
pub struct App {
    pub config: Config,
    pub clock: Clock,
    /// The longest the scheduler sleeps before looking at the clock again.
    pub scheduler_tick: Duration,
}

/// The running system.
pub struct RunningApp {
    pub ctx: Context,
    /// Where the panel actually listens (the port is chosen by the OS when configured as 0).
    pub panel_addr: SocketAddr,
    pub bot: Option<RunningBot>,
    stop: watch::Sender<bool>,
    tasks: JoinSet<()>,
    /// The scheduled jobs' looks, for tests to wait on ([`RunningApp::scheduler_looked`]).
    looks: Vec<Looks>,
    /// Held while the server runs on an SQLite file, so `restore` refuses to replace it.
    _lock: Option<service::backup::ServerLock>,
}

/// How long in-flight requests get to finish on shutdown.
const GRACE: Duration = Duration::from_secs(10);

/// Opens the database named by `config` and brings its schema up to date.
pub async fn open_database(config: &Config) -> anyhow::Result<Db> {
    Db::open(&config.database_url).await
}

impl App {
    pub fn new(config: Config) -> App {
        App { config, clock: Clock::system(), scheduler_tick: Duration::from_secs(60) }
    }

    pub async fn start(self) -> anyhow::Result<RunningApp> {
        let App { config, clock, scheduler_tick } = self;
        let lock = match service::backup::ServerLock::acquire(&config.database_url) {
            Err(service::backup::BackupError::ServerRunning(lock)) => {
                anyhow::bail!(
                    "another chernomorsk serves this SQLite database ({lock}): an SQLite file is for one process"
                )
            }
            lock => lock?,
        };
        let db = open_database(&config).await?;
        tracing::info!(database = %service::db::redact(&config.database_url), "database ready");
        let ctx = Context::new(db, config.settings(), clock);
        if let Some(password) =
            service::access::staff::ensure_bootstrap_admin(&ctx, config.bootstrap_admin_password.clone())
                .await
                .context("creating the first admin")?
        {
            tracing::warn!(
                "created the first admin account: login «admin», password «{password}». \
                 It is shown only once: log in and change it."
            );
        }

        // Listening before the bot starts: in webhook mode Telegram may post at once, and those
        // connections wait in the backlog until the server runs.
        let acceptor = TcpListener::bind(config.panel_addr.to_string())
            .into_acceptor()
            .await
            .with_context(|| format!("listening on {}", config.panel_addr))?;
        let panel_addr = *acceptor
            .local_addr()
            .first()
            .and_then(|a| a.as_socket_addr())
            .context("the panel listener has no address")?;

        let telegram = config.telegram_token.as_ref().map(|token| TelegramConfig {
            token: token.clone(),
            api_url: config.telegram_api_url.clone(),
            webhook_url: config.webhook_url.clone(),
            public_url: config.public_base_url(),
        });
        let bot = match &telegram {
            Some(telegram) => Some(telegram::start(ctx.clone(), telegram).await.context("starting the Telegram bot")?),
            None => {
                tracing::warn!("Telegram bot is OFF: TELOXIDE_TOKEN is not set. The panel runs without it.");
                None
            }
        };

        let (stop, stopped) = watch::channel(false);
        let mut tasks = JoinSet::new();
        let panel = panel::app(
            ctx.clone(),
            panel::PanelConfig {
                public_url: config.public_url.clone(),
                bot_username: bot.as_ref().map(|b| b.username.clone()).unwrap_or_default(),
                client_ip_header: config.client_ip_header.clone(),
                metrics_token: config.metrics_token.clone(),
            },
        );
        // The webhook sits beside the panel, outside its sessions and CSRF checks.
        let site = match bot.as_ref().and_then(|b| b.webhook.clone()) {
            Some(inbox) => Route::new().at(webhook::PATH, post(inbox)).nest("/", panel).boxed(),
            None => panel.map_to_response().boxed(),
        }
        .with(panel::metrics::Counted);
        let mut panel_stopped = stopped.clone();
        tasks.spawn(async move {
            let signal = async move {
                let _ = panel_stopped.wait_for(|stop| *stop).await;
            };
            if let Err(e) =
                poem::Server::new_with_acceptor(acceptor).run_with_graceful_shutdown(site, signal, Some(GRACE)).await
            {
                tracing::error!("panel server stopped: {e}");
            }
        });
        tracing::info!("panel: {} (listening on {panel_addr})", config.public_url);

        let broadcaster = telegram.as_ref().map(|telegram| scheduler::broadcaster(telegram::client(telegram)));
        let mut looks = match &broadcaster {
            Some(bot) => spawn_jobs(&mut tasks, &config, bot.clone(), &ctx, scheduler_tick, &stopped),
            None => {
                tracing::warn!("the monthly report and reminders are off: they are sent through the Telegram bot");
                Vec::new()
            }
        };
        match config.backup_time.0 {
            Some(time) => {
                tracing::info!("nightly backup at {time} ({}) into {}", config.time_zone, config.backup_dir.display());
                let job = NightlyBackup { bot: broadcaster, time, tz: config.time_zone };
                let (looked, backup_looks) = Looks::channel();
                tasks.spawn(scheduler::run(job, ctx.clone(), scheduler_tick, stopped.clone(), looked));
                looks.push(backup_looks);
            }
            None => tracing::warn!("the nightly backup is off: BACKUP_TIME=off"),
        }

        Ok(RunningApp { ctx, panel_addr, bot, stop, tasks, looks, _lock: lock })
    }
}

/// Starts the monthly report (when it has a chat to go to), the reminders and the payment
/// notices; returns their looks.
fn spawn_jobs(
    tasks: &mut JoinSet<()>,
    config: &Config,
    bot: Broadcaster,
    ctx: &Context,
    tick: Duration,
    stopped: &watch::Receiver<bool>,
) -> Vec<Looks> {
    let mut looks = Vec::new();
    match config.accountants_chat_id {
        Some(chat) => {
            let schedule = ReportSchedule {
                chat: ChatId(chat),
                day: config.report_day,
                time: config.report_time,
                tz: config.time_zone,
                public_url: config.public_base_url(),
            };
            tracing::info!(
                "monthly report: day {} at {} ({}), to chat {chat}",
                schedule.day,
                schedule.time,
                schedule.tz
            );
            let job = MonthlyReport { bot: bot.clone(), schedule };
            let (looked, report_looks) = Looks::channel();
            tasks.spawn(scheduler::run(job, ctx.clone(), tick, stopped.clone(), looked));
            looks.push(report_looks);
        }
        None => tracing::warn!("the monthly report is not sent: ACCOUNTANTS_CHAT_ID is not set"),
    }
    let window =
        ReminderWindow { days: config.reminder_days.clone(), time: config.reminder_time, tz: config.time_zone };
    tracing::info!("reminders: days {:?} of the month from {} ({})", window.days, window.time, window.tz);
    let debt_threshold = Some(config.reminder_debt_threshold).filter(|threshold| threshold.is_positive());
    let job = Reminders { bot: bot.clone(), window, debt_threshold };
    let (looked, reminder_looks) = Looks::channel();
    tasks.spawn(scheduler::run(job, ctx.clone(), tick, stopped.clone(), looked));
    looks.push(reminder_looks);
    let job = Announcements { bot: bot.clone(), batch: scheduler::announcements::BATCH };
    let (looked, announcement_looks) = Looks::channel();
    tasks.spawn(scheduler::run(job, ctx.clone(), tick, stopped.clone(), looked));
    looks.push(announcement_looks);
    let (looked, answer_looks) = Looks::channel();
    tasks.spawn(scheduler::run(Answers { bot: bot.clone() }, ctx.clone(), tick, stopped.clone(), looked));
    looks.push(answer_looks);
    let (looked, notice_looks) = Looks::channel();
    tasks.spawn(scheduler::run(PaymentNotices { bot }, ctx.clone(), tick, stopped.clone(), looked));
    looks.push(notice_looks);
    looks
}

impl RunningApp {
    /// Returns once every scheduled job has looked at the clock and the database since this call
    /// (see [`Looks::next`]).
    pub async fn scheduler_looked(&self) {
        for looks in &self.looks {
            looks.next().await;
        }
    }

    /// The panel's base URL as reachable from this machine.
    pub fn panel_url(&self) -> Url {
        Url::parse(&format!("http://{}/", self.panel_addr)).expect("a socket address makes a URL")
    }

    /// Stops everything and waits for in-flight work to finish.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        if let Some(bot) = self.bot.take() {
            bot.stop().await;
        }
        while self.tasks.join_next().await.is_some() {}
        tracing::info!("stopped");
    }

    /// Runs until Ctrl-C or SIGTERM, then stops gracefully.
    pub async fn run_until_signal(self) {
        shutdown_signal().await;
        tracing::info!("shutting down");
        self.stop().await;
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
