//! Configuration: defaults in code, then an optional `parota.toml`, then `PAROTA_*` environment
//! variables, then command-line flags. An unknown key in the file or the environment is an error,
//! so a typo never silently falls back to a default.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::db::DatabaseUrl;

/// How outgoing e-mail leaves the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailTransport {
    /// Log that an e-mail went (its id only: never the address or the text).
    Log,
    /// Write each e-mail as `<outbox id>.eml` into `mail_dir`.
    File,
    /// Send through `smtp_url`.
    Smtp,
}

/// Environment variables that share the prefix but are not settings.
const NON_SETTING_VARIABLES: &[&str] = &["PAROTA_CONFIG", "PAROTA_BOOTSTRAP_PASSWORD"];
const NON_SETTING_PREFIXES: &[&str] = &["PAROTA_TEST_"];

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// `sqlite://PATH` (the default, a file in the working directory) or `postgres://…`.
    pub database_url: String,
    /// Address `serve` listens on.
    pub bind: String,
    /// Production mode: refuses to start without a signing secret and refuses demo data.
    pub production: bool,
    /// HS256 signing secret for access tokens (at least 32 bytes). In development it is
    /// generated once and kept beside the database when not set.
    pub jwt_secret: Option<String>,
    /// `text` for people, `json` for log collectors.
    pub log_format: LogFormat,
    /// A tracing `EnvFilter` directive, e.g. `info` or `parota=debug,info`.
    pub log_level: String,
    pub pool_size: u32,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    pub access_token_ttl_secs: u64,
    pub refresh_token_ttl_days: u64,
    /// Take the client address from `X-Forwarded-For` (only behind a trusted load balancer).
    pub trust_forwarded_for: bool,
    /// Failed logins (per account or per address, within the window) before answers slow down.
    pub login_slow_after: u32,
    /// Failed logins within the window after which further attempts are refused with 429.
    pub login_refuse_after: u32,
    pub login_window_secs: u64,
    /// Added delay per failure beyond `login_slow_after`, in milliseconds (capped at 5 s).
    pub login_delay_ms: u64,
    /// Run background jobs (e-mail, long roster runs, reminders) in this instance.
    pub run_jobs: bool,
    /// How e-mail leaves: `file` (the default: `.eml` files in `mail_dir`), `log`, or `smtp`.
    pub mail_transport: MailTransport,
    /// Where the file transport writes.
    pub mail_dir: String,
    /// `smtp://host:25`, `smtps://user:password@host` or `smtp://…?tls=required` (secret).
    pub smtp_url: Option<String>,
    /// The From address of every e-mail.
    pub mail_from: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            database_url: "sqlite://parota.db".into(),
            bind: "127.0.0.1:8080".into(),
            production: false,
            jwt_secret: None,
            log_format: LogFormat::Text,
            log_level: "info".into(),
            pool_size: 10,
            max_body_bytes: 256 * 1024,
            access_token_ttl_secs: 15 * 60,
            refresh_token_ttl_days: 30,
            trust_forwarded_for: false,
            login_slow_after: 3,
            login_refuse_after: 10,
            login_window_secs: 15 * 60,
            login_delay_ms: 500,
            run_jobs: true,
            mail_transport: MailTransport::File,
            mail_dir: "parota-mail".into(),
            smtp_url: None,
            mail_from: "parota <no-reply@parota.invalid>".into(),
        }
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("database_url", &crate::db::redact_url(&self.database_url))
            .field("bind", &self.bind)
            .field("production", &self.production)
            .field(
                "jwt_secret",
                &self.jwt_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("log_format", &self.log_format)
            .field("log_level", &self.log_level)
            .field("pool_size", &self.pool_size)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("mail_transport", &self.mail_transport)
            .field("smtp_url", &self.smtp_url.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
    #[error("environment variable {name}: {message}")]
    Environment { name: String, message: String },
    #[error("{0}")]
    Invalid(String),
}

/// Values given on the command line; they win over everything else.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub database_url: Option<String>,
    pub bind: Option<String>,
    pub production: bool,
}

impl Settings {
    /// Loads settings from `config_path` (if given and present, or `parota.toml` if present),
    /// the given environment and the command-line overrides.
    pub fn load(
        config_path: Option<&Path>,
        environment: impl IntoIterator<Item = (String, String)>,
        overrides: &Overrides,
    ) -> Result<Self, ConfigError> {
        let defaults = toml::Table::try_from(Settings::default())
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        let mut merged = defaults.clone();

        let default_path = Path::new("parota.toml");
        let file = match config_path {
            Some(path) => Some(path),
            None if default_path.exists() => Some(default_path),
            None => None,
        };
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.to_owned(),
                source,
            })?;
            let table: toml::Table =
                text.parse()
                    .map_err(|e: toml::de::Error| ConfigError::File {
                        path: path.to_owned(),
                        message: e.message().to_owned(),
                    })?;
            for (key, value) in table {
                if !is_setting(&key) {
                    return Err(ConfigError::File {
                        path: path.to_owned(),
                        message: format!("unknown key `{key}`"),
                    });
                }
                merged.insert(key, value);
            }
        }

        for (name, raw) in environment {
            let Some(suffix) = name.strip_prefix("PAROTA_") else {
                continue;
            };
            if NON_SETTING_VARIABLES.contains(&name.as_str())
                || NON_SETTING_PREFIXES.iter().any(|p| name.starts_with(p))
            {
                continue;
            }
            let key = suffix.to_ascii_lowercase();
            if !is_setting(&key) {
                return Err(ConfigError::Environment {
                    name,
                    message: "not a parota setting".into(),
                });
            }
            let value = typed_like(defaults.get(&key), &raw).map_err(|message| {
                ConfigError::Environment {
                    name: name.clone(),
                    message,
                }
            })?;
            merged.insert(key, value);
        }

        if let Some(url) = &overrides.database_url {
            merged.insert("database_url".into(), toml::Value::String(url.clone()));
        }
        if let Some(bind) = &overrides.bind {
            merged.insert("bind".into(), toml::Value::String(bind.clone()));
        }
        if overrides.production {
            merged.insert("production".into(), toml::Value::Boolean(true));
        }

        let settings: Settings = merged
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Invalid(e.message().to_owned()))?;
        settings.check()?;
        Ok(settings)
    }

    fn check(&self) -> Result<(), ConfigError> {
        DatabaseUrl::parse(&self.database_url).map_err(ConfigError::Invalid)?;
        if let Some(secret) = &self.jwt_secret {
            if secret.len() < 32 {
                return Err(ConfigError::Invalid(
                    "jwt_secret must be at least 32 characters".into(),
                ));
            }
        }
        if self.production && self.jwt_secret.is_none() {
            return Err(ConfigError::Invalid(
                "production mode needs jwt_secret (set PAROTA_JWT_SECRET)".into(),
            ));
        }
        if self.mail_transport == MailTransport::Smtp && self.smtp_url.is_none() {
            return Err(ConfigError::Invalid(
                "mail_transport = \"smtp\" needs smtp_url".into(),
            ));
        }
        if self.mail_from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(ConfigError::Invalid(
                "mail_from must be an address, e.g. parota <no-reply@example.org>".into(),
            ));
        }
        if self.pool_size == 0 {
            return Err(ConfigError::Invalid("pool_size must be at least 1".into()));
        }
        if self.login_refuse_after <= self.login_slow_after {
            return Err(ConfigError::Invalid(
                "login_refuse_after must be greater than login_slow_after".into(),
            ));
        }
        Ok(())
    }

    pub fn database(&self) -> Result<DatabaseUrl, ConfigError> {
        DatabaseUrl::parse(&self.database_url).map_err(ConfigError::Invalid)
    }
}

fn is_setting(key: &str) -> bool {
    // Every field, including optional ones absent from the serialised defaults.
    const KEYS: &[&str] = &[
        "database_url",
        "bind",
        "production",
        "jwt_secret",
        "log_format",
        "log_level",
        "pool_size",
        "max_body_bytes",
        "access_token_ttl_secs",
        "refresh_token_ttl_days",
        "trust_forwarded_for",
        "login_slow_after",
        "login_refuse_after",
        "login_window_secs",
        "login_delay_ms",
        "run_jobs",
        "mail_transport",
        "mail_dir",
        "smtp_url",
        "mail_from",
    ];
    KEYS.contains(&key)
}

/// Environment values are strings; read them as the type the default has.
fn typed_like(default: Option<&toml::Value>, raw: &str) -> Result<toml::Value, String> {
    match default {
        Some(toml::Value::Integer(_)) => raw
            .trim()
            .parse::<i64>()
            .map(toml::Value::Integer)
            .map_err(|_| format!("expected a whole number, got {raw:?}")),
        Some(toml::Value::Boolean(_)) => match raw.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(toml::Value::Boolean(true)),
            "0" | "false" | "no" | "off" => Ok(toml::Value::Boolean(false)),
            _ => Err(format!("expected true or false, got {raw:?}")),
        },
        _ => Ok(toml::Value::String(raw.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn none() -> Option<&'static Path> {
        Some(Path::new("/nonexistent/parota.toml")).filter(|p| p.exists())
    }

    #[test]
    fn with_no_configuration_sqlite_in_the_working_directory_on_localhost_8080() {
        let settings = Settings::load(none(), env(&[]), &Overrides::default()).unwrap();
        assert_eq!(settings.database_url, "sqlite://parota.db");
        assert_eq!(settings.bind, "127.0.0.1:8080");
        assert!(!settings.production);
    }

    #[test]
    fn environment_overrides_defaults_and_flags_override_environment() {
        let settings = Settings::load(
            none(),
            env(&[("PAROTA_POOL_SIZE", "3"), ("PAROTA_BIND", "0.0.0.0:9000")]),
            &Overrides {
                bind: Some("127.0.0.1:7000".into()),
                ..Overrides::default()
            },
        )
        .unwrap();
        assert_eq!(settings.pool_size, 3);
        assert_eq!(settings.bind, "127.0.0.1:7000");
    }

    #[test]
    fn an_unknown_environment_key_is_an_error() {
        let error = Settings::load(
            none(),
            env(&[("PAROTA_POOLSIZE", "3")]),
            &Overrides::default(),
        )
        .unwrap_err();
        assert!(error.to_string().contains("PAROTA_POOLSIZE"), "{error}");
    }

    #[test]
    fn test_variables_are_not_settings() {
        Settings::load(
            none(),
            env(&[("PAROTA_TEST_POSTGRES_URL", "postgres://x")]),
            &Overrides::default(),
        )
        .unwrap();
    }

    #[test]
    fn an_unknown_file_key_is_an_error() {
        let dir = std::env::temp_dir().join(format!("parota-config-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("parota.toml");
        std::fs::write(&path, "pool_size = 4\nbindd = \"x\"\n").unwrap();
        let error = Settings::load(Some(&path), env(&[]), &Overrides::default()).unwrap_err();
        assert!(error.to_string().contains("unknown key `bindd`"), "{error}");
        std::fs::write(&path, "pool_size = 4\n").unwrap();
        let settings = Settings::load(Some(&path), env(&[]), &Overrides::default()).unwrap();
        assert_eq!(settings.pool_size, 4);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn production_refuses_to_start_without_a_secret() {
        let production = Overrides {
            production: true,
            ..Overrides::default()
        };
        let error = Settings::load(none(), env(&[]), &production).unwrap_err();
        assert!(error.to_string().contains("jwt_secret"), "{error}");
        let secret = "s".repeat(40);
        Settings::load(none(), env(&[("PAROTA_JWT_SECRET", &secret)]), &production).unwrap();
    }

    #[test]
    fn debug_output_never_shows_the_secret() {
        let settings = Settings {
            jwt_secret: Some("a-very-secret-signing-key-of-some-length".into()),
            database_url: "postgres://app:pw@db/parota".into(),
            ..Settings::default()
        };
        let printed = format!("{settings:?}");
        assert!(!printed.contains("a-very-secret"));
        assert!(!printed.contains(":pw@"));
    }
}
