#[tokio::main]
async fn main() -> std::process::ExitCode {
    // A missing .env is normal; the defaults and the environment are enough.
    let _ = dotenvy::dotenv();
    let cli = bot::cli::Cli::parse_from_env();
    bot::cli::init_tracing();
    match cli.run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
