//! The command line. Without a subcommand the whole system starts.

use anyhow::{Context as _, bail};
use clap::{Parser, Subcommand};
use domain::Role;
use service::audit::Actor;
use service::{Clock, Context};

use crate::Config;
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
    pub async fn run(self) -> anyhow::Result<()> {
        let config = self.config;
        match self.command.unwrap_or(Command::Serve) {
            Command::Serve => App::new(config).start().await?.run_until_signal().await,
            Command::Migrate => {
                open_database(&config).await?;
                tracing::info!("database is up to date");
            }
            Command::Staff(StaffCommand::Add { login, role, name }) => {
                let ctx = context(&config).await?;
                let password = match std::env::var("STAFF_PASSWORD") {
                    Ok(password) => password,
                    Err(_) => rpassword::prompt_password(format!("Пароль для {login}: "))?,
                };
                let new = service::staff::NewStaff {
                    full_name: name.unwrap_or_else(|| login.clone()),
                    login,
                    role,
                    password,
                };
                let account = service::staff::create(&ctx, new, Actor::System).await?;
                println!("Создан сотрудник {} ({})", account.login, account.role);
            }
            Command::LinkCode { plot } => {
                let ctx = context(&config).await?;
                let number = domain::PlotNumber::parse(&plot)?;
                let card = match service::inventory::find_plot(ctx.db.conn(), &number).await? {
                    Some(plot) => service::inventory::plot_card(ctx.db.conn(), plot.id).await?,
                    None => None,
                }
                .with_context(|| format!("участок {number} не найден"))?;
                let mut consumers: Vec<_> = card.meters.iter().map(|m| m.contract.consumer_id).collect();
                consumers.dedup();
                let [consumer_id] = consumers[..] else {
                    bail!("на участке {number} {} потребителей с договорами; код выдаётся в панели", consumers.len());
                };
                let code =
                    service::links::issue_code(&ctx, service::links::LinkTarget::Consumer(consumer_id), None).await?;
                println!(
                    "Код: {}\nДействует до: {}",
                    code.code,
                    code.expires_at.with_timezone(&ctx.settings.tz).format("%d.%m.%Y %H:%M")
                );
                println!("Отправьте боту: /start {}", code.code);
            }
            Command::Demo { plots, months, seed } => {
                let ctx = context(&config).await?;
                let started = std::time::Instant::now();
                let summary = service::demo::generate(&ctx, service::demo::DemoSpec { plots, months, seed }).await?;
                println!(
                    "Демо-данные: {} участков, {} договоров, {} показаний, {} оплат; начислено {}, оплачено {} ({:.1} с)",
                    summary.plots,
                    summary.contracts,
                    summary.readings,
                    summary.payments,
                    summary.charged,
                    summary.paid,
                    started.elapsed().as_secs_f64()
                );
            }
        }
        Ok(())
    }
}

async fn context(config: &Config) -> anyhow::Result<Context> {
    Ok(Context::new(open_database(config).await?, config.settings(), Clock::system()))
}

/// Logs to stderr; `RUST_LOG` overrides the default level (info, quieter for dependencies).
pub fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn,teloxide=info,poem=warn"));
    tracing_subscriber::fmt().with_env_filter(filter).with_target(false).init();
}
