//! Slowing and then refusing repeated failed logins, per account and per client address.
//!
//! The rule is pure (`decide`); the counts live in the database so every instance behind a load
//! balancer sees the same ones. Keys are hashed: no e-mail or IP address is stored.

use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};

use crate::config::Settings;

#[derive(Debug, Clone, Copy)]
pub struct ThrottlePolicy {
    pub slow_after: u32,
    pub refuse_after: u32,
    pub window: Duration,
    pub delay_per_failure: std::time::Duration,
}

impl ThrottlePolicy {
    pub fn from_settings(settings: &Settings) -> Self {
        Self {
            slow_after: settings.login_slow_after,
            refuse_after: settings.login_refuse_after,
            window: Duration::seconds(i64::try_from(settings.login_window_secs).unwrap_or(900)),
            delay_per_failure: std::time::Duration::from_millis(settings.login_delay_ms),
        }
    }
}

/// Failures recorded against one key.
#[derive(Debug, Clone, Copy)]
pub struct FailureCount {
    pub failures: u32,
    pub window_started_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// Answer, but only after this long.
    Slow(std::time::Duration),
    /// Refuse outright with 429 until the window ends.
    Refuse {
        retry_after_secs: u64,
    },
}

const MAX_DELAY: std::time::Duration = std::time::Duration::from_secs(5);

pub fn decide(
    policy: &ThrottlePolicy,
    count: Option<FailureCount>,
    now: DateTime<Utc>,
) -> Decision {
    let Some(count) = count else {
        return Decision::Allow;
    };
    let window_ends = count.window_started_at + policy.window;
    if now >= window_ends {
        return Decision::Allow;
    }
    if count.failures >= policy.refuse_after {
        let seconds = (window_ends - now).num_seconds().max(1);
        return Decision::Refuse {
            retry_after_secs: u64::try_from(seconds).unwrap_or(1),
        };
    }
    if count.failures >= policy.slow_after {
        let extra = count.failures - policy.slow_after + 1;
        return Decision::Slow((policy.delay_per_failure * extra).min(MAX_DELAY));
    }
    Decision::Allow
}

/// The stricter of two decisions (account and address are checked together).
pub fn stricter(a: Decision, b: Decision) -> Decision {
    match (a, b) {
        (
            Decision::Refuse {
                retry_after_secs: x,
            },
            Decision::Refuse {
                retry_after_secs: y,
            },
        ) => Decision::Refuse {
            retry_after_secs: x.max(y),
        },
        (refuse @ Decision::Refuse { .. }, _) | (_, refuse @ Decision::Refuse { .. }) => refuse,
        (Decision::Slow(x), Decision::Slow(y)) => Decision::Slow(x.max(y)),
        (slow @ Decision::Slow(_), _) | (_, slow @ Decision::Slow(_)) => slow,
        _ => Decision::Allow,
    }
}

pub fn account_key(login: &str) -> String {
    key("account", &login.trim().to_lowercase())
}

pub fn address_key(address: &str) -> String {
    key("address", address)
}

fn key(kind: &str, value: &str) -> String {
    crate::auth::token::hex(&Sha256::digest(format!("{kind}:{value}").as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> ThrottlePolicy {
        ThrottlePolicy {
            slow_after: 3,
            refuse_after: 10,
            window: Duration::minutes(15),
            delay_per_failure: std::time::Duration::from_millis(500),
        }
    }

    fn count(failures: u32, minutes_ago: i64, now: DateTime<Utc>) -> Option<FailureCount> {
        Some(FailureCount {
            failures,
            window_started_at: now - Duration::minutes(minutes_ago),
        })
    }

    #[test]
    fn a_few_failures_are_answered_at_once() {
        let now = Utc::now();
        assert_eq!(decide(&policy(), None, now), Decision::Allow);
        assert_eq!(decide(&policy(), count(2, 1, now), now), Decision::Allow);
    }

    #[test]
    fn more_failures_slow_the_answer_then_refuse_it() {
        let now = Utc::now();
        assert_eq!(
            decide(&policy(), count(3, 1, now), now),
            Decision::Slow(std::time::Duration::from_millis(500))
        );
        assert_eq!(
            decide(&policy(), count(9, 1, now), now),
            Decision::Slow(std::time::Duration::from_millis(3500))
        );
        assert_eq!(
            decide(&policy(), count(10, 5, now), now),
            Decision::Refuse {
                retry_after_secs: 600
            }
        );
    }

    #[test]
    fn the_count_is_forgotten_when_the_window_ends() {
        let now = Utc::now();
        assert_eq!(decide(&policy(), count(50, 15, now), now), Decision::Allow);
    }

    #[test]
    fn keys_do_not_contain_the_login() {
        let key = account_key("Ann@Example.org");
        assert!(!key.contains("ann"));
        assert_eq!(key, account_key("ann@example.org "));
    }
}
