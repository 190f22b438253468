//! Process configuration: command-line flags, each with an environment variable and a default.
//! `.env.example` lists the same variables; keep the two in step.

use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::path::PathBuf;

use chrono::NaiveTime;
use domain::Kopecks;
use poem::http::HeaderName;
use url::Url;

#[derive(clap::Args, Debug, Clone)]
pub struct Config {
    /// Database URL: an SQLite file (created and migrated on first run) or `postgres://…`.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://data/chernomorsk.db?mode=rwc", global = true)]
    pub database_url: String,

    /// Address the web panel listens on.
    #[arg(long, env = "PANEL_ADDR", default_value = "127.0.0.1:8080", global = true)]
    pub panel_addr: SocketAddr,

    /// The panel's address as users reach it (links in reports and Telegram; `https://` turns on
    /// secure cookies).
    #[arg(long, env = "PUBLIC_URL", default_value = "http://127.0.0.1:8080", global = true)]
    pub public_url: Url,

    /// Behind a reverse proxy: the header in which it passes the client's address
    /// (`X-Forwarded-For` or `X-Real-IP`); the last address in it counts against the limit on
    /// login attempts per address. Set it only when the panel is reachable through the proxy alone
    /// (`PANEL_ADDR` on 127.0.0.1), or anyone could write the header. Unset: the connection's peer.
    #[arg(long, env = "CLIENT_IP_HEADER", value_parser = parse_header_name, global = true)]
    pub client_ip_header: Option<HeaderName>,

    /// `/metrics` wants `Authorization: Bearer <token>`; unset: it answers only connections from
    /// loopback (this machine).
    #[arg(long, env = "METRICS_TOKEN", hide_env_values = true, global = true)]
    pub metrics_token: Option<String>,

    /// Telegram bot token from @BotFather. Without it the panel runs and the bot is off.
    #[arg(long, env = "TELOXIDE_TOKEN", hide_env_values = true, global = true)]
    pub telegram_token: Option<String>,

    /// Bot API server URL (a local Bot API server, or a fake one in tests).
    #[arg(long, env = "TELOXIDE_API_URL", global = true)]
    pub telegram_api_url: Option<Url>,

    /// Receive updates by webhook instead of long polling: the panel's address as Telegram
    /// reaches it (https); updates arrive at `<WEBHOOK_URL>/telegram/webhook`.
    #[arg(long, env = "WEBHOOK_URL", global = true)]
    pub webhook_url: Option<Url>,

    /// Telegram chat (group) of the accountants, where the monthly report is sent.
    #[arg(long, env = "ACCOUNTANTS_CHAT_ID", global = true)]
    pub accountants_chat_id: Option<i64>,

    /// Day of the month the previous month's report is sent.
    #[arg(long, env = "REPORT_DAY", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=28), global = true)]
    pub report_day: u32,

    /// Local time of day the report is sent.
    #[arg(long, env = "REPORT_TIME", default_value = "09:00", value_parser = parse_time, global = true)]
    pub report_time: NaiveTime,

    /// Days of the month (`first-last`) when consumers without this month's readings are
    /// reminded, once.
    #[arg(long, env = "REMINDER_DAYS", default_value = "20-25", value_parser = parse_days, global = true)]
    pub reminder_days: RangeInclusive<u32>,

    /// Local time of day from which reminders go out on those days.
    #[arg(long, env = "REMINDER_TIME", default_value = "10:00", value_parser = parse_time, global = true)]
    pub reminder_time: NaiveTime,

    /// A reminder names the debt when it is above this many rubles; 0: never.
    #[arg(long, env = "REMINDER_DEBT_THRESHOLD", default_value = "1000", value_parser = Kopecks::parse_rubles, global = true)]
    pub reminder_debt_threshold: Kopecks,

    /// The cooperative's time zone (IANA name).
    #[arg(long = "tz", env = "TZ", default_value = "Europe/Moscow", global = true)]
    pub time_zone: chrono_tz::Tz,

    /// Where meter photos are stored.
    #[arg(long, env = "PHOTO_DIR", default_value = "data/photos", global = true)]
    pub photo_dir: PathBuf,

    /// Where the nightly backups of the SQLite database go (7 daily, 4 weekly, 12 monthly kept).
    #[arg(long, env = "BACKUP_DIR", default_value = "data/backups", global = true)]
    pub backup_dir: PathBuf,

    /// Local time of the nightly backup; `off`: none (on PostgreSQL the job only says to run
    /// pg_dump).
    #[arg(long, env = "BACKUP_TIME", default_value = "03:00", value_parser = parse_backup_time, global = true)]
    pub backup_time: BackupTime,

    /// A reading whose consumption exceeds this multiple of the usual monthly consumption is held
    /// for review.
    #[arg(long, env = "JUMP_FACTOR", default_value_t = domain::JumpPolicy::DEFAULT_FACTOR, global = true)]
    pub jump_factor: u32,

    /// Password for the first admin account; when unset a random one is printed once to the log.
    #[arg(long, env = "BOOTSTRAP_ADMIN_PASSWORD", hide_env_values = true, global = true)]
    pub bootstrap_admin_password: Option<String>,
}

fn parse_header_name(s: &str) -> Result<HeaderName, String> {
    s.parse().map_err(|_| format!("«{s}» is not an HTTP header name like X-Forwarded-For"))
}

fn parse_time(s: &str) -> Result<NaiveTime, String> {
    NaiveTime::parse_from_str(s, "%H:%M").map_err(|_| format!("«{s}» is not a time like 09:00"))
}

/// The nightly backup's local time, or none (`off`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackupTime(pub Option<NaiveTime>);

fn parse_backup_time(s: &str) -> Result<BackupTime, String> {
    match s {
        "off" => Ok(BackupTime(None)),
        _ => parse_time(s).map(|t| BackupTime(Some(t))).map_err(|e| format!("{e}, or off")),
    }
}

/// `20-25`, or `20` for one day.
fn parse_days(s: &str) -> Result<RangeInclusive<u32>, String> {
    let (first, last) = s.split_once('-').unwrap_or((s, s));
    let day = |d: &str| d.trim().parse::<u32>().ok().filter(|d| (1..=31).contains(d));
    match (day(first), day(last)) {
        (Some(first), Some(last)) if first <= last => Ok(first..=last),
        _ => Err(format!("«{s}» is not a range of days of the month like 20-25")),
    }
}

/// Another name for `TELOXIDE_API_URL` (teloxide's own), accepted as well.
pub const API_URL_ALIAS: &str = "TELEGRAM_API_URL";

impl Config {
    /// Takes the Bot API URL from [`API_URL_ALIAS`]'s value when `TELOXIDE_API_URL` is not set.
    pub fn with_api_url_alias(mut self, alias: Option<String>) -> anyhow::Result<Config> {
        if let Some(url) = alias.filter(|url| !url.is_empty() && self.telegram_api_url.is_none()) {
            let parsed = url.parse().map_err(|e| anyhow::anyhow!("{API_URL_ALIAS}=«{url}»: {e}"))?;
            self.telegram_api_url = Some(parsed);
        }
        Ok(self)
    }

    /// [`Config::public_url`] without the trailing slash, to append paths to.
    pub fn public_base_url(&self) -> String {
        self.public_url.as_str().trim_end_matches('/').to_owned()
    }

    pub fn settings(&self) -> service::Settings {
        service::Settings {
            tz: self.time_zone,
            jump_factor: self.jump_factor,
            backup_dir: self.backup_dir.clone(),
            ..service::Settings::with_photo_dir(&self.photo_dir)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn telegram_api_url_is_another_name_for_teloxide_api_url() {
        #[derive(clap::Parser)]
        struct Args {
            #[command(flatten)]
            config: Config,
        }
        let config = |args: &[&str]| {
            let args = ["chernomorsk"].iter().chain(args);
            <Args as clap::Parser>::try_parse_from(args).expect("parses").config
        };
        let local = "http://127.0.0.1:8081/";
        let aliased = config(&[]).with_api_url_alias(Some(local.into())).unwrap();
        assert_eq!(aliased.telegram_api_url.map(String::from), Some(local.to_owned()));

        let own = config(&["--telegram-api-url", "http://10.0.0.1/"]).with_api_url_alias(Some(local.into())).unwrap();
        assert_eq!(own.telegram_api_url.map(String::from), Some("http://10.0.0.1/".to_owned()));

        assert!(config(&[]).with_api_url_alias(Some(String::new())).unwrap().telegram_api_url.is_none());
        let err = config(&[]).with_api_url_alias(Some("not a url".into())).unwrap_err();
        assert!(err.to_string().starts_with("TELEGRAM_API_URL=«not a url»"), "{err}");
    }

    #[test]
    fn reminder_days_are_a_range_within_a_month() {
        assert_eq!(parse_days("20-25"), Ok(20..=25));
        assert_eq!(parse_days(" 5 - 7 "), Ok(5..=7));
        assert_eq!(parse_days("28"), Ok(28..=28));
        for bad in ["25-20", "0-3", "20-32", "", "20-", "x"] {
            assert!(parse_days(bad).is_err(), "{bad}");
        }
    }
}
