//! The command line: `serve`, `migrate`, `demo`, `bootstrap` and `openapi`.

use std::path::PathBuf;
use std::process::ExitCode;

use actix_web::{web, HttpServer};
use clap::{Args, Parser, Subcommand};

use crate::app::{application, Services};
use crate::config::{Overrides, Settings};
use crate::telemetry::{init_tracing, Metrics};

#[derive(Debug, Parser)]
#[command(
    name = "parota",
    version,
    about = "Rostering, timesheets and payroll for the personal assistants behind NHS personal health budgets",
    long_about = "parota runs the PA workforce behind NHS personal health budgets: it matches people \
to PAs by competency and location, generates rosters, collects timesheets, feeds payroll exports \
and keeps each budget's ledger.\n\nWith no configuration it keeps its data in ./parota.db (SQLite) \
and listens on http://127.0.0.1:8080. Try it:\n\n    parota demo --serve\n\nthen log in as \
manager@demo.parota.test with the password parota-demo.\n\nSettings come from defaults, then \
parota.toml, then PAROTA_* environment variables, then these flags.",
    after_help = "Run `parota <COMMAND> --help` for a command's options."
)]
pub struct Cli {
    #[command(flatten)]
    common: CommonOptions,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Args)]
struct CommonOptions {
    /// Database to use: sqlite://PATH or postgres://USER@HOST/DB
    #[arg(long, global = true, env = "PAROTA_DATABASE_URL")]
    database_url: Option<String>,
    /// Configuration file [default: ./parota.toml when present]
    #[arg(long, global = true, env = "PAROTA_CONFIG")]
    config: Option<PathBuf>,
    /// Production mode: require a signing secret, refuse demo data
    #[arg(long, global = true, env = "PAROTA_PRODUCTION")]
    production: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP API (migrating the database first)
    Serve(ServeOptions),
    /// Apply pending database migrations and exit
    Migrate,
    /// Load demo data an East Lancashire team can explore at once (not in production)
    Demo {
        /// Start serving once the data is loaded
        #[arg(long)]
        serve: bool,
        #[command(flatten)]
        options: ServeOptions,
    },
    /// Create an organisation and its first admin on an empty installation
    Bootstrap {
        /// Organisation name, e.g. "East Lancashire Personal Support"
        #[arg(long)]
        organisation: String,
        /// Commissioning area (ICB code), e.g. QE1
        #[arg(long)]
        area_code: String,
        /// The first admin's e-mail address; the password is read from PAROTA_BOOTSTRAP_PASSWORD
        #[arg(long)]
        admin_email: String,
    },
    /// Print the OpenAPI document
    Openapi,
}

#[derive(Debug, Args)]
struct ServeOptions {
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long, env = "PAROTA_BIND")]
    bind: Option<String>,
}

pub fn run() -> ExitCode {
    let cli = Cli::parse();
    match execute(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("parota: {message}");
            ExitCode::FAILURE
        }
    }
}

fn execute(cli: Cli) -> Result<(), String> {
    if matches!(cli.command, Command::Openapi) {
        let document = crate::app::openapi_document().map_err(|e| e.to_string())?;
        print!("{}", crate::openapi::render(&document));
        return Ok(());
    }
    let bind = match &cli.command {
        Command::Serve(options) | Command::Demo { options, .. } => options.bind.clone(),
        _ => None,
    };
    let overrides = Overrides {
        database_url: cli.common.database_url.clone(),
        bind,
        production: cli.common.production,
    };
    let settings = Settings::load(cli.common.config.as_deref(), std::env::vars(), &overrides)
        .map_err(|e| e.to_string())?;
    init_tracing(settings.log_format, &settings.log_level);

    match cli.command {
        Command::Serve(_) => serve(settings),
        Command::Migrate => {
            let url = settings.database().map_err(|e| e.to_string())?;
            let pool = crate::db::build_pool(&url, 1).map_err(|e| e.to_string())?;
            let mut conn = pool.get().map_err(|e| e.to_string())?;
            let applied = crate::db::run_migrations(&mut conn).map_err(|e| e.to_string())?;
            println!("{} migration(s) applied", applied.len());
            Ok(())
        }
        Command::Demo {
            serve: and_serve, ..
        } => {
            if settings.production {
                return Err("demo data is refused in production mode".into());
            }
            let services = Services::prepare(settings.clone()).map_err(|e| e.to_string())?;
            let mut conn = services.state.pool.get().map_err(|e| e.to_string())?;
            let summary = crate::demo::load(&mut conn).map_err(|e| e.to_string())?;
            drop(conn);
            println!("{summary}");
            if and_serve {
                serve(settings)
            } else {
                Ok(())
            }
        }
        Command::Bootstrap {
            organisation,
            area_code,
            admin_email,
        } => {
            let password = std::env::var("PAROTA_BOOTSTRAP_PASSWORD").map_err(|_| {
                "set PAROTA_BOOTSTRAP_PASSWORD to the first admin's password".to_owned()
            })?;
            let services = Services::prepare(settings).map_err(|e| e.to_string())?;
            let mut conn = services.state.pool.get().map_err(|e| e.to_string())?;
            let id = crate::demo::bootstrap(
                &mut conn,
                &organisation,
                &area_code,
                &admin_email,
                &password,
            )
            .map_err(|e| e.to_string())?;
            println!("organisation {id} created; log in as {admin_email}");
            Ok(())
        }
        Command::Openapi => Ok(()),
    }
}

fn serve(settings: Settings) -> Result<(), String> {
    let bind = settings.bind.clone();
    let services = Services::prepare(settings).map_err(|e| e.to_string())?;
    let metrics = web::Data::new(Metrics::new().map_err(|e| e.to_string())?);
    let state = services.state.clone();
    if state.settings.run_jobs {
        crate::worker::start_worker(
            state.pool.clone(),
            state.settings.clone(),
            services.match_index.clone().into_inner(),
        );
    }
    tracing::info!(%bind, database = state.backend, "parota listening");
    actix_web::rt::System::new()
        .block_on(async move {
            HttpServer::new(move || application(&services, metrics.clone()).0)
                .bind(&bind)?
                .run()
                .await
        })
        .map_err(|e| format!("server: {e}"))
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn help_names_every_command_and_how_to_start() {
        let help = Cli::command().render_long_help().to_string();
        for word in [
            "serve",
            "migrate",
            "demo",
            "bootstrap",
            "--database-url",
            "parota demo --serve",
        ] {
            assert!(help.contains(word), "help lacks {word}:\n{help}");
        }
    }

    #[test]
    fn serve_takes_a_bind_address_and_any_command_a_database_url() {
        let cli = Cli::try_parse_from([
            "parota",
            "serve",
            "--bind",
            "0.0.0.0:9000",
            "--database-url",
            "sqlite://x.db",
        ])
        .unwrap();
        assert_eq!(cli.common.database_url.as_deref(), Some("sqlite://x.db"));
        assert!(
            matches!(cli.command, Command::Serve(ServeOptions { bind: Some(ref b) }) if b == "0.0.0.0:9000")
        );
        assert!(
            Cli::try_parse_from(["parota", "migrate", "--database-url", "postgres://h/db"]).is_ok()
        );
    }
}
