//! Building the actix application: shared state, extractor configuration, middleware, every
//! domain's routes, and the OpenAPI document they describe.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use actix_web::body::BoxBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpResponse};
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;

use crate::auth::token::JwtKeys;
use crate::config::Settings;
use crate::db::{self, DatabaseUrl, DbPool};
use crate::error::{AppError, AppResult};
use crate::market::index::MatchIndex;
use crate::openapi::ApiDoc;
use crate::state::AppState;
use crate::telemetry::{observe_requests, Metrics};
use crate::timesheets::ingest::ClockWriter;
use crate::{
    absence, accounts, audit, budgets, health, http, market, openapi, payroll, pricing, rostering,
    timesheets,
};

/// Everything the running application shares across requests: the plumbing every handler may
/// use (`AppState`), the signing keys, and the domain services that live for the process. Each
/// is registered as its own `web::Data`, so extractors and handlers ask for exactly what they use.
#[derive(Clone)]
pub struct Services {
    pub state: web::Data<AppState>,
    pub keys: web::Data<JwtKeys>,
    /// This instance's in-memory read model of PAs for matching.
    pub match_index: web::Data<MatchIndex>,
    /// This instance's clock-event writer (batches the app's clock events).
    pub clock: web::Data<ClockWriter>,
}

impl Services {
    /// Connects, migrates and loads the signing key: everything `serve` needs before it listens.
    pub fn prepare(settings: Settings) -> AppResult<Self> {
        let url = settings
            .database()
            .map_err(|e| AppError::internal(e.to_string()))?;
        let pool = db::build_pool(&url, settings.pool_size)?;
        {
            let mut conn = pool.get()?;
            db::run_migrations(&mut conn)?;
        }
        let secret = signing_secret(&settings, &url)?;
        let keys = JwtKeys::new(&secret, settings.access_token_ttl_secs);
        Ok(Self::new(pool, settings, keys, url.backend_name()))
    }

    /// The services over a pool that is ready (migrated) or, for the OpenAPI document, unused.
    pub fn new(pool: DbPool, settings: Settings, keys: JwtKeys, backend: &'static str) -> Self {
        Self {
            clock: web::Data::new(ClockWriter::new(pool.clone())),
            match_index: web::Data::new(MatchIndex::default()),
            keys: web::Data::new(keys),
            state: web::Data::new(AppState {
                pool,
                settings: Arc::new(settings),
                backend,
            }),
        }
    }
}

/// The configured secret; in development, one generated on first start and kept beside the
/// database so tokens survive a restart.
fn signing_secret(settings: &Settings, url: &DatabaseUrl) -> AppResult<Vec<u8>> {
    if let Some(secret) = &settings.jwt_secret {
        return Ok(secret.as_bytes().to_vec());
    }
    if settings.production {
        return Err(AppError::internal("production mode needs jwt_secret"));
    }
    let path = dev_secret_path(url);
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim();
        if existing.len() >= 32 {
            return Ok(existing.as_bytes().to_vec());
        }
    }
    let secret = crate::auth::password::random_token(48);
    write_private_file(&path, &secret).map_err(|e| {
        AppError::internal(format!(
            "cannot keep the development secret at {}: {e}",
            path.display()
        ))
    })?;
    tracing::info!(path = %path.display(), "generated a development signing secret");
    Ok(secret.into_bytes())
}

fn dev_secret_path(url: &DatabaseUrl) -> PathBuf {
    let directory = match url {
        DatabaseUrl::Sqlite(path) => path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf),
        DatabaseUrl::Postgres(_) => PathBuf::from("."),
    };
    directory.join(".parota-jwt-secret")
}

fn write_private_file(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}

/// The whole application and its OpenAPI document.
pub fn application(
    services: &Services,
    metrics: web::Data<Metrics>,
) -> (
    App<
        impl ServiceFactory<
            ServiceRequest,
            Config = (),
            Response = ServiceResponse<BoxBody>,
            Error = actix_web::Error,
            InitError = (),
        >,
    >,
    utoipa::openapi::OpenApi,
) {
    let (app, document) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .app_data(services.state.clone())
        .app_data(services.keys.clone())
        .app_data(services.match_index.clone())
        .app_data(services.clock.clone())
        .app_data(metrics)
        .app_data(http::query_config())
        .app_data(http::path_config())
        .configure(health::configure)
        .service(
            utoipa_actix_web::scope("/api/v1")
                .configure(absence::configure)
                .configure(accounts::configure)
                .configure(audit::configure)
                .configure(market::configure)
                .configure(pricing::configure)
                .configure(budgets::configure)
                .configure(rostering::configure)
                .configure(timesheets::configure)
                .configure(payroll::configure)
                // Served from app data filled in below, once the document is complete.
                .route("/openapi.json", web::get().to(serve_openapi)),
        )
        .default_service(web::to(http::route_not_found))
        .split_for_parts();
    let mut document = document;
    openapi::declare_shared_errors(&mut document);
    let rendered = web::Data::new(OpenApiJson(openapi::render(&document)));
    let routes = web::Data::new(http::Routes::new(document.paths.paths.iter().map(
        |(template, item)| {
            let methods = [
                ("GET", item.get.is_some()),
                ("PUT", item.put.is_some()),
                ("POST", item.post.is_some()),
                ("DELETE", item.delete.is_some()),
                ("PATCH", item.patch.is_some()),
            ]
            .into_iter()
            .filter_map(|(m, has)| has.then_some(m))
            .collect();
            (template.clone(), methods)
        },
    )));
    (
        app.app_data(rendered)
            .app_data(routes)
            .wrap(from_fn(observe_requests)),
        document,
    )
}

struct OpenApiJson(String);

async fn serve_openapi(document: web::Data<OpenApiJson>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(document.0.clone())
}

/// The OpenAPI document alone, without a database (for `parota openapi` and the drift test).
pub fn openapi_document() -> AppResult<utoipa::openapi::OpenApi> {
    let url = DatabaseUrl::Sqlite(PathBuf::from(":memory:"));
    let pool = DbPool::builder()
        .max_size(1)
        .build_unchecked(db::DbManager::new(url));
    let settings = Settings::default();
    let keys = JwtKeys::new(&[0u8; 32], settings.access_token_ttl_secs);
    let services = Services::new(pool, settings, keys, "sqlite");
    let metrics = web::Data::new(Metrics::new().map_err(|e| AppError::internal(e.to_string()))?);
    Ok(application(&services, metrics).1)
}
