//! The command line. Without a subcommand the whole system starts.

use std::ffi::OsStr;
use std::io::Read;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, bail, ensure};
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use domain::{Period, Role};
use service::audit::Actor;
use service::register::import;
use service::register::import::plan::Counts;
use service::spreadsheet::MAX_FILE_BYTES;
use service::{Clock, Context};

use crate::Config;
use crate::config::API_URL_ALIAS;
use crate::serve::{App, open_database};

#[derive(Parser, Debug)]
#[command(name = "chernomorsk", version, about = "Учёт воды и электроэнергии садового товарищества")]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the panel, the Telegram bot and the report scheduler (the default).
    Serve,
    /// Create or update the database schema and exit.
    Migrate,
    /// Manage staff accounts.
    #[command(subcommand)]
    Staff(StaffCommand),
    /// Print a one-time Telegram link code for the consumer on a plot.
    LinkCode {
        /// Plot number.
        #[arg(long)]
        plot: String,
    },
    /// Fill an empty database with deterministic demo data.
    Demo {
        #[arg(long, default_value_t = 420)]
        plots: u32,
        #[arg(long, default_value_t = 12)]
        months: u32,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Write the monthly report for accounting (xlsx).
    Report {
        /// The month, YYYY-MM; the previous month by default.
        #[arg(long)]
        month: Option<Period>,
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Export the whole database to one xlsx file (a sheet per table).
    Export {
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Ask the running server's /healthz (at PANEL_ADDR) and exit non-zero unless it answers:
    /// the container's health check, as the image has no curl.
    Healthcheck,
    /// Write a consistent copy of the SQLite database while the system runs.
    Backup {
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Put a backup back in place of the SQLite database, with the server stopped: the copy is
    /// checked (sound, this application's, not from a newer version), brought up to date by the
    /// migrations, and the replaced database is kept beside it as `<file>.replaced-<time>`.
    Restore { file: PathBuf },
    /// Write the template for loading the register (xlsx), with an example row of each kind.
    Template {
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Load the register kept in a spreadsheet (xlsx or CSV): plots, consumers, contracts,
    /// meters with opening readings, opening debts. Shows what would be created; stores it only
    /// with --commit, and only when no row has errors.
    ImportRegister {
        file: PathBuf,
        #[arg(long)]
        commit: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum StaffCommand {
    /// Add a staff member; the password is read from STAFF_PASSWORD or asked for.
    Add {
        #[arg(long)]
        login: String,
        /// admin, controller or accountant.
        #[arg(long)]
        role: Role,
        /// Full name, as shown in the panel.
        #[arg(long)]
        name: Option<String>,
    },
}

impl Cli {
    /// Parses the command line and the environment, where a variable set to nothing (`NAME=` in
    /// `.env`, as `.env.example` ships them) counts as not set instead of as an invalid value.
    pub fn parse_from_env() -> Cli {
        let blank = |name: &OsStr| std::env::var_os(name).is_some_and(|value| value.is_empty());
        let command = Cli::command().mut_args(|arg| match arg.get_env() {
            Some(name) if blank(name) => arg.env(None),
            _ => arg,
        });
        Cli::from_arg_matches(&command.get_matches()).unwrap_or_else(|e| e.exit())
    }

    pub async fn run(self) -> anyhow::Result<()> {
        let config = self.config.with_api_url_alias(std::env::var(API_URL_ALIAS).ok())?;
        match self.command.unwrap_or(Command::Serve) {
            Command::Serve => App::new(config).start().await?.run_until_signal().await,
            Command::Migrate => {
                open_database(&config).await?.close().await?;
                tracing::info!("database is up to date");
            }
            Command::Staff(StaffCommand::Add { login, role, name }) => once(&config, async |ctx| {
                // A blank variable (an `.env` line left empty) counts as unset, as every setting does.
                let password = match std::env::var("STAFF_PASSWORD") {
                    Ok(password) if !password.trim().is_empty() => password,
                    _ => rpassword::prompt_password(format!("Пароль для {login}: "))?,
                };
                let new = service::access::staff::NewStaff {
                    full_name: name.unwrap_or_else(|| login.clone()),
                    login,
                    role,
                    password,
                };
                let account = service::access::staff::create(ctx, new, Actor::System).await?;
                println!("Создан сотрудник {} ({})", account.login, account.role);
                Ok(())
            })
            .await?,
            Command::LinkCode { plot } => once(&config, async |ctx| {
                let number = domain::PlotNumber::parse(&plot)?;
                let card = match service::register::cards::find_plot(ctx.db.conn(), &number).await? {
                    Some(plot) => service::register::cards::plot_card(ctx.db.conn(), plot.id).await?,
                    None => None,
                }
                .with_context(|| format!("участок {number} не найден"))?;
                let mut consumers: Vec<_> = card.meters.iter().map(|m| m.contract.consumer_id).collect();
                consumers.dedup();
                let [consumer_id] = consumers[..] else {
                    bail!("на участке {number} {} потребителей с договорами; код выдаётся в панели", consumers.len());
                };
                let code = service::access::telegram::issue_code(
                    ctx,
                    service::access::telegram::LinkTarget::Consumer(consumer_id),
                    None,
                )
                .await?;
                println!(
                    "Код: {}\nДействует до: {}",
                    code.code,
                    code.expires_at.with_timezone(&ctx.settings.tz).format("%d.%m.%Y %H:%M")
                );
                println!("Отправьте боту: /start {}", code.code);
                Ok(())
            })
            .await?,
            Command::Demo { plots, months, seed } => once(&config, async |ctx| {
                let started = std::time::Instant::now();
                let summary = service::demo::generate(ctx, service::demo::DemoSpec { plots, months, seed }).await?;
                service::demo::network(ctx).await?;
                let closed = match service::demo::close_reported(ctx).await? {
                    Some(through) => format!("месяцы по {} закрыты, как после отправки их отчётов", through.russian()),
                    None => "закрытых месяцев нет".to_owned(),
                };
                println!(
                    "Демо-данные: {} участков, {} договоров, {} показаний, {} оплат; начислено {}, оплачено {}; {closed} \
                     ({:.1} с)",
                    summary.plots,
                    summary.contracts,
                    summary.readings,
                    summary.payments,
                    summary.charged,
                    summary.paid,
                    started.elapsed().as_secs_f64()
                );
                Ok(())
            })
            .await?,
            Command::Report { month, output } => once(&config, async |ctx| {
                let period = month.unwrap_or_else(|| ctx.current_period().prev());
                let public_url = config.public_url.as_str().trim_end_matches('/');
                let bytes = reports::monthly_report(ctx, period, public_url).await?;
                write_file(&output, &bytes)?;
                println!("Отчёт за {} записан в {}", period.russian(), output.display());
                Ok(())
            })
            .await?,
            Command::Export { output } => once(&config, async |ctx| {
                write_file(&output, &reports::full_export(ctx).await?)?;
                println!("База выгружена в {}", output.display());
                Ok(())
            })
            .await?,
            Command::Healthcheck => healthcheck(config.panel_addr).await?,
            Command::Backup { output } => once(&config, async |ctx| {
                service::backup::write(&ctx.db, &output).await?;
                println!("Резервная копия записана в {}", output.display());
                Ok(())
            })
            .await?,
            // Self-contained: it opens only the copy and its staged file, never the live database.
            Command::Restore { file } => {
                let restored = service::backup::restore(&config.database_url, &file, chrono::Utc::now()).await?;
                println!("База восстановлена из {} в {}", file.display(), restored.database.display());
                if restored.migrated > 0 {
                    println!("Применено миграций: {}", restored.migrated);
                }
                if let Some(aside) = restored.kept_aside {
                    println!("Прежняя база сохранена как {}", aside.display());
                }
            }
            Command::Template { output } => {
                write_file(&output, &reports::template::register_template()?)?;
                println!("Шаблон реестра записан в {}", output.display());
            }
            Command::ImportRegister { file, commit } => {
                once(&config, async |ctx| import_register(ctx, &file, commit).await).await?;
            }
        }
        Ok(())
    }
}

/// Prints what importing a register file would do; with `commit`, stores it when it is clean.
async fn import_register(ctx: &Context, path: &Path, commit: bool) -> anyhow::Result<()> {
    // One byte past the limit is enough for the reader to refuse the file as too large.
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|file| file.take(MAX_FILE_BYTES as u64 + 1).read_to_end(&mut bytes))
        .with_context(|| format!("reading {}", path.display()))?;
    let file_name = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into());
    let preview = import::preview(ctx, &file_name, bytes).await?;
    let counts = preview.counts();
    println!("Файл «{file_name}»");
    println!("{}", created(counts, "Будет создано"));
    println!("Уже в учёте и совпадают: {}", counts.on_file);
    println!("Строк с ошибками: {}", preview.bad.len());
    for bad in &preview.bad {
        println!("  строка {}: {}", bad.line, bad.reason());
    }
    if !preview.bad.is_empty() {
        bail!("реестр не загружен: исправьте строки с ошибками и запустите снова");
    }
    if !preview.can_commit() {
        println!("Загружать нечего: все договоры файла уже в учёте.");
    } else if commit {
        let counts = import::commit(ctx, &file_name, preview.into_rows(), Actor::System).await?;
        println!("{}", created(counts, "Загружено"));
    } else {
        println!("Это проверка, ничего не записано. Чтобы загрузить, добавьте --commit.");
    }
    Ok(())
}

/// «Будет создано: договоров со счётчиками 2, участков 1, потребителей 1; входящее сальдо: …».
fn created(counts: Counts, what: &str) -> String {
    format!(
        "{what}: договоров со счётчиками {}, участков {}, потребителей {}; входящее сальдо: долги {}, переплаты {}",
        counts.contracts, counts.plots, counts.consumers, counts.opening_debt, counts.opening_credit
    )
}

/// Asks the panel at `addr` for `/healthz`; an address on every interface is asked on loopback.
pub async fn healthcheck(mut addr: SocketAddr) -> anyhow::Result<()> {
    if addr.ip().is_unspecified() {
        addr.set_ip(if addr.is_ipv4() { Ipv4Addr::LOCALHOST.into() } else { Ipv6Addr::LOCALHOST.into() });
    }
    let url = format!("http://{addr}/healthz");
    // Shorter than the image's HEALTHCHECK timeout, so a hung server is reported, not killed.
    let client = reqwest::Client::builder().timeout(Duration::from_secs(5)).build()?;
    let response = client.get(&url).send().await.with_context(|| format!("GET {url}"))?;
    ensure!(response.status().is_success(), "GET {url}: {}", response.status());
    Ok(())
}

fn write_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}

/// Runs a command that reads or writes what it needs and exits, then closes the database whatever
/// came of the command: on SQLite the last connection to close folds the WAL back into the file,
/// so every command leaves one whole file behind it.
async fn once(config: &Config, command: impl AsyncFnOnce(&Context) -> anyhow::Result<()>) -> anyhow::Result<()> {
    let ctx = Context::new(open_database(config).await?, config.settings(), Clock::system());
    let done = command(&ctx).await;
    let closed = ctx.db.close().await;
    // The command's own error is the one to report; a failure to close beside it is logged.
    if let (Err(_), Err(e)) = (&done, &closed) {
        tracing::warn!("closing the database after a failed command: {e}");
    }
    done?;
    Ok(closed?)
}

/// Logs to stderr; `RUST_LOG` overrides the default level (info, quieter for dependencies).
pub fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn,teloxide=info,poem=warn"));
    tracing_subscriber::fmt().with_env_filter(filter).with_target(false).init();
}
