//! Access tokens (HS256 JWTs, short-lived) and refresh tokens (random, stored only as a hash).

use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::auth::{password, Role};
use crate::error::{AppError, AppResult};

const ISSUER: &str = "parota";
const AUDIENCE: &str = "parota-api";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub org: String,
    pub role: String,
    pub area: String,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    /// The session (refresh-token family) the token was issued in; none for a machine client,
    /// which has no refresh token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
}

/// Who a token is for.
#[derive(Debug, Clone)]
pub struct Subject {
    pub user_id: String,
    pub organisation_id: String,
    pub role: Role,
    pub area_code: String,
    /// The session it belongs to (the refresh-token family), if any.
    pub session_id: Option<String>,
}

pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    pub access_ttl: Duration,
}

impl JwtKeys {
    pub fn new(secret: &[u8], access_ttl_secs: u64) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        // Expiry is exact: a 15-minute token does not live for 16.
        validation.leeway = 0;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            access_ttl: Duration::seconds(i64::try_from(access_ttl_secs).unwrap_or(900)),
        }
    }

    pub fn issue(&self, subject: &Subject, now: DateTime<Utc>) -> AppResult<String> {
        let claims = Claims {
            sub: subject.user_id.clone(),
            org: subject.organisation_id.clone(),
            role: subject.role.as_str().to_owned(),
            area: subject.area_code.clone(),
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            iat: now.timestamp(),
            exp: (now + self.access_ttl).timestamp(),
            sid: subject.session_id.clone(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| AppError::internal(format!("token signing: {e}")))
    }

    pub fn verify(&self, token: &str) -> Result<Claims, jsonwebtoken::errors::Error> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation).map(|d| d.claims)
    }
}

/// A fresh refresh token: 256 random bits.
pub fn new_refresh_token() -> String {
    password::random_token(32)
}

/// Refresh tokens carry 256 random bits, so a plain SHA-256 is a safe way to store them.
pub fn hash_refresh_token(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject() -> Subject {
        Subject {
            user_id: "u1".into(),
            organisation_id: "o1".into(),
            role: Role::Pa,
            area_code: "QE1".into(),
            session_id: None,
        }
    }

    #[test]
    fn a_token_verifies_until_it_expires() {
        let keys = JwtKeys::new(&[7u8; 32], 900);
        let fresh = keys.issue(&subject(), Utc::now()).unwrap();
        assert_eq!(keys.verify(&fresh).unwrap().sub, "u1");
        let stale = keys
            .issue(&subject(), Utc::now() - Duration::seconds(901))
            .unwrap();
        assert!(keys.verify(&stale).is_err());
    }

    #[test]
    fn a_token_signed_with_another_secret_is_refused() {
        let ours = JwtKeys::new(&[7u8; 32], 900);
        let theirs = JwtKeys::new(&[8u8; 32], 900);
        let forged = theirs.issue(&subject(), Utc::now()).unwrap();
        assert!(ours.verify(&forged).is_err());
    }
}
