//! The `parota` binary as an operator meets it.

use std::process::Command;

use crate::helpers::TestDatabase;

fn parota(database: &TestDatabase) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_parota"));
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("PAROTA_DATABASE_URL", &database.url)
        .env("PAROTA_LOG_LEVEL", "warn")
        // Given, so no development secret file is written beside a PostgreSQL test run.
        .env(
            "PAROTA_JWT_SECRET",
            "a-test-signing-secret-of-enough-length",
        );
    command
}

#[test]
fn help_explains_the_commands() {
    let output = Command::new(env!("CARGO_BIN_EXE_parota"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    for command in ["serve", "migrate", "demo", "bootstrap"] {
        assert!(help.contains(command), "{help}");
    }
}

#[test]
fn demo_loads_once_reproducibly_and_never_in_production() {
    let database = TestDatabase::create();
    let first = parota(&database).arg("demo").output().unwrap();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let printed = String::from_utf8(first.stdout).unwrap();
    assert!(printed.contains("manager@demo.parota.test"));
    assert!(printed.contains("demo-payroll"));
    assert!(printed.contains("parota-demo"));

    let second = parota(&database).arg("demo").output().unwrap();
    assert!(String::from_utf8(second.stdout)
        .unwrap()
        .contains("already loaded"));

    let refused = parota(&database)
        .args(["--production", "demo"])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("refused in production"));
}

#[test]
fn production_mode_will_not_start_without_a_signing_secret() {
    let database = TestDatabase::create();
    let output = parota(&database)
        .args(["--production", "migrate"])
        .env_remove("PAROTA_JWT_SECRET")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("jwt_secret"));
}

#[test]
fn an_unknown_setting_in_the_environment_stops_the_command() {
    let database = TestDatabase::create();
    let output = parota(&database)
        .arg("migrate")
        .env("PAROTA_POOL_SIZ", "3")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("PAROTA_POOL_SIZ"));
}
