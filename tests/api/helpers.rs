//! `TestApp`: the whole application in-process on a fresh database per test (a temporary SQLite
//! file, or a fresh PostgreSQL database when `PAROTA_TEST_BACKEND=postgres`), with typed helpers.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use actix_http::Request;
use actix_service::boxed::{rc_service, RcService};
use actix_web::body::BoxBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::header::HeaderMap;
use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use actix_web::web;
use chrono::Utc;
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use serde_json::Value;

use parota::accounts::model::{Organisation, User};
use parota::accounts::repo;
use parota::app::{application, Services};
use parota::auth::token::Subject;
use parota::auth::{password, Role};
use parota::config::Settings;
use parota::db::{self, DatabaseUrl, DbPool};
use parota::state::AppState;
use parota::telemetry::Metrics;

pub const PASSWORD: &str = "correct horse battery staple";

/// One argon2 hash of `PASSWORD` per test process: hashing is slow on purpose.
fn password_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| password::hash(PASSWORD).expect("hash"))
}

pub fn backend_is_postgres() -> bool {
    std::env::var("PAROTA_TEST_BACKEND").is_ok_and(|b| b == "postgres")
}

pub fn postgres_admin_url() -> String {
    std::env::var("PAROTA_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A database that exists for one test and is removed after it.
pub struct TestDatabase {
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    SqliteDir(PathBuf),
    PostgresDatabase { admin_url: String, name: String },
}

impl TestDatabase {
    pub fn create() -> Self {
        let unique = uuid::Uuid::now_v7().simple().to_string();
        if backend_is_postgres() {
            let admin_url = postgres_admin_url();
            let name = format!("parota_test_{unique}");
            let mut admin =
                PgConnection::establish(&admin_url).expect("connect to test PostgreSQL");
            admin
                .batch_execute(&format!("CREATE DATABASE {name}"))
                .expect("create test database");
            let base = admin_url
                .rsplit_once('/')
                .map_or(admin_url.as_str(), |(b, _)| b);
            Self {
                url: format!("{base}/{name}"),
                cleanup: Cleanup::PostgresDatabase { admin_url, name },
            }
        } else {
            let dir = std::env::temp_dir().join(format!("parota-test-{unique}"));
            std::fs::create_dir_all(&dir).expect("temp dir");
            Self {
                url: format!("sqlite://{}", dir.join("parota.db").display()),
                cleanup: Cleanup::SqliteDir(dir),
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::SqliteDir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::PostgresDatabase { admin_url, name } => {
                if let Ok(mut admin) = PgConnection::establish(admin_url) {
                    let _ = admin
                        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
                }
            }
        }
    }
}

/// The settings every test starts from: a small pool and near-instant login slow-downs.
pub fn test_settings(url: &str) -> Settings {
    Settings {
        database_url: url.to_owned(),
        jwt_secret: Some("test-signing-secret-that-is-long-enough".into()),
        pool_size: 4,
        login_delay_ms: 1,
        ..Settings::default()
    }
}

pub struct TestApp {
    service: RcService<Request, ServiceResponse<BoxBody>, actix_web::Error>,
    pub state: web::Data<AppState>,
    pub services: Services,
    /// Kept so the database outlives the app; removed when the test ends.
    _database: Arc<TestDatabase>,
}

pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl TestResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn content_type(&self) -> &str {
        self.header("content-type").unwrap_or("")
    }

    /// Asserts a problem document's status and code; returns it for further checks.
    #[track_caller]
    pub fn assert_problem(&self, status: u16, code: &str) -> &Value {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text);
        assert_eq!(
            self.content_type(),
            "application/problem+json",
            "body: {}",
            self.text
        );
        assert_eq!(self.body["code"], code, "body: {}", self.text);
        assert_eq!(self.body["status"], status);
        &self.body
    }
}

/// Someone who can act in a test: their account and a ready access token.
#[derive(Clone)]
pub struct TestUser {
    pub id: String,
    pub login: String,
    pub role: Role,
    pub token: String,
}

#[derive(Clone)]
pub struct TestOrganisation {
    pub id: String,
    pub area_code: String,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(configure: impl FnOnce(&mut Settings)) -> Self {
        if std::env::var_os("TEST_LOG").is_some() {
            parota::telemetry::init_tracing(parota::config::LogFormat::Text, "debug");
        }
        let database = Arc::new(TestDatabase::create());
        let mut settings = test_settings(&database.url);
        configure(&mut settings);
        Self::start(
            Services::prepare(settings).expect("prepare app state"),
            database,
        )
        .await
    }

    pub async fn start(services: Services, database: Arc<TestDatabase>) -> Self {
        let metrics = web::Data::new(Metrics::new().expect("metrics"));
        let service = actix_web::test::init_service(application(&services, metrics).0).await;
        Self {
            service: rc_service(service),
            state: services.state.clone(),
            services,
            _database: database,
        }
    }

    /// Another instance of the service on the same database (as behind a load balancer).
    pub async fn second_instance(&self) -> TestApp {
        let services = Services::prepare((*self.state.settings).clone()).expect("second instance");
        TestApp::start(services, self._database.clone()).await
    }

    pub fn pool(&self) -> &DbPool {
        &self.state.pool
    }

    pub fn conn(&self) -> db::PooledDb {
        self.state.pool.get().expect("connection")
    }

    /// The organisation of a user.
    pub fn organisation_of(&self, user_id: &str) -> String {
        repo::find_user(&mut self.conn(), user_id)
            .expect("query")
            .expect("user")
            .organisation_id
    }

    pub async fn send(&self, request: TestRequest) -> TestResponse {
        let response = actix_web::test::call_service(&self.service, request.to_request()).await;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = actix_web::test::read_body(response).await;
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        TestResponse {
            status,
            headers,
            body,
            text,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> TestResponse {
        self.send(with_token(TestRequest::get().uri(path), token))
            .await
    }

    pub async fn post_json(&self, path: &str, token: Option<&str>, body: &Value) -> TestResponse {
        self.send(with_token(
            TestRequest::post().uri(path).set_json(body),
            token,
        ))
        .await
    }

    pub async fn patch_json(&self, path: &str, token: Option<&str>, body: &Value) -> TestResponse {
        self.send(with_token(
            TestRequest::patch().uri(path).set_json(body),
            token,
        ))
        .await
    }

    /// A password login through the API.
    pub async fn login(&self, login: &str, password: &str) -> TestResponse {
        self.post_json(
            "/api/v1/auth/token",
            None,
            &serde_json::json!({"grant_type": "password", "username": login, "password": password}),
        )
        .await
    }

    pub fn organisation(&self, name: &str, area_code: &str, kind: &str) -> TestOrganisation {
        let organisation = Organisation {
            id: parota::ids::new_id(),
            name: name.into(),
            kind: kind.into(),
            area_code: area_code.into(),
            created_at: Utc::now().naive_utc(),
            deactivated_at: None,
        };
        parota::provision::create_organisation(&mut self.conn(), &organisation)
            .expect("insert organisation");
        TestOrganisation {
            id: organisation.id,
            area_code: area_code.into(),
        }
    }

    pub fn provider(&self) -> TestOrganisation {
        self.organisation("East Lancashire Personal Support", "QE1", "provider")
    }

    /// Creates an account directly (password `PASSWORD`) with a token issued for it.
    pub fn user(&self, organisation: &TestOrganisation, role: Role) -> TestUser {
        let id = parota::ids::new_id();
        let login = if role.is_machine() {
            format!("pc_{}", &id[24..])
        } else {
            format!("{}-{}@example.test", role.as_str(), &id[24..])
        };
        let now = Utc::now().naive_utc();
        repo::insert_user(
            &mut self.conn(),
            &User {
                id: id.clone(),
                organisation_id: organisation.id.clone(),
                role: role.as_str().into(),
                email: (!role.is_machine()).then(|| login.clone()),
                client_id: role.is_machine().then(|| login.clone()),
                display_name: format!("Test {}", role.as_str()),
                secret_hash: password_hash().to_owned(),
                active: true,
                created_at: now,
                updated_at: now,
            },
        )
        .expect("insert user");
        let token = self
            .services
            .keys
            .issue(
                &Subject {
                    user_id: id.clone(),
                    organisation_id: organisation.id.clone(),
                    role,
                    area_code: organisation.area_code.clone(),
                    session_id: None,
                },
                Utc::now(),
            )
            .expect("token");
        TestUser {
            id,
            login,
            role,
            token,
        }
    }

    /// One user of every role in an organisation (a commissioner in a commissioner body of the same area).
    pub fn one_of_each_role(&self, organisation: &TestOrganisation) -> Vec<TestUser> {
        let commissioning = self.organisation("Area ICB", &organisation.area_code, "commissioner");
        Role::ALL
            .into_iter()
            .map(|role| {
                if role == Role::Commissioner {
                    self.user(&commissioning, role)
                } else {
                    self.user(organisation, role)
                }
            })
            .collect()
    }
}

fn with_token(request: TestRequest, token: Option<&str>) -> TestRequest {
    match token {
        Some(token) => request.insert_header(("authorization", format!("Bearer {token}"))),
        None => request,
    }
}

/// A one-connection pool on the test's database, outside any app (for the migration tests).
pub fn raw_pool(database: &TestDatabase) -> DbPool {
    let url = DatabaseUrl::parse(&database.url).expect("url");
    db::build_pool(&url, 1).expect("pool")
}

/// Replaces ids and instants so a JSON shape can be pinned exactly.
pub fn redact(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let redacted = match k.as_str() {
                        "id" | "organisation_id" | "created_at" | "updated_at" => {
                            Value::String(format!("[{k}]"))
                        }
                        _ => redact(v),
                    };
                    (k.clone(), redacted)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redact).collect()),
        other => other.clone(),
    }
}

/// The `total` balance of a budget statement.
pub fn total_balance(statement: &Value) -> &Value {
    statement["balances"]
        .as_array()
        .expect("balances")
        .iter()
        .find(|b| b["stream"] == "total")
        .expect("a total balance")
}

/// The id of one of the organisation's competencies, by code, as a manager reads it.
pub async fn competency_id(app: &TestApp, token: &str, code: &str) -> String {
    let list = app.get("/api/v1/competencies?limit=100", Some(token)).await;
    list.body["items"]
        .as_array()
        .expect("competencies")
        .iter()
        .find(|c| c["code"] == code)
        .and_then(|c| c["id"].as_str())
        .unwrap_or_else(|| panic!("no competency {code}"))
        .to_owned()
}

/// An approved budget for the person, all health, covering `from` to `to`: what publishing a
/// roster needs.
pub async fn approved_budget(
    app: &TestApp,
    token: &str,
    holder: &str,
    (from, to): (chrono::NaiveDate, chrono::NaiveDate),
    amount_pence: i64,
) {
    let budget = app
        .post_json(
            &format!("/api/v1/budget-holders/{holder}/budgets"),
            Some(token),
            &serde_json::json!({"name": "Budget", "amount_pence": amount_pence, "period_start": from, "period_end": to, "health_share_bp": 10000}),
        )
        .await;
    assert_eq!(budget.status, 201, "{}", budget.text);
    let approved = app
        .post_json(
            &format!(
                "/api/v1/budgets/{}/approval",
                budget.body["id"].as_str().expect("budget id")
            ),
            Some(token),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(approved.status, 200, "{}", approved.text);
}
