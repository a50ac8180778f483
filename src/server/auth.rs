//! The admin token of write endpoints: `Authorization: Bearer <[serve] admin_token>`,
//! compared in constant time. With no token configured, writes are disabled.

use axum::http::{HeaderMap, StatusCode, header};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::ApiError;

/// Checks a request's bearer token against the configured one: 403 when writes
/// are disabled (no token configured), 401 when the request brings no bearer
/// token, 403 when it brings the wrong one.
pub fn authorize(configured: &str, headers: &HeaderMap) -> Result<(), ApiError> {
    if configured.is_empty() {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "write endpoints are disabled: set [serve] admin_token to enable them",
        ));
    }
    let Some(given) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer)
    else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "this endpoint needs `Authorization: Bearer <admin token>`",
        ));
    };
    if tokens_match(configured, given) {
        Ok(())
    } else {
        Err(ApiError::new(StatusCode::FORBIDDEN, "wrong admin token"))
    }
}

/// The token of an `Authorization: Bearer …` value (scheme case-insensitive).
fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// Constant-time equality that leaks neither content nor length: both sides are
/// hashed first, then the digests compared with `subtle`.
pub fn tokens_match(expected: &str, given: &str) -> bool {
    let a = Sha256::digest(expected.as_bytes());
    let b = Sha256::digest(given.as_bytes());
    a.as_slice().ct_eq(b.as_slice()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, value.parse().unwrap());
        h
    }

    #[test]
    fn no_token_401_wrong_token_403_right_token_passes() {
        let none = HeaderMap::new();
        assert_eq!(
            authorize("s3cret", &none).unwrap_err().status,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            authorize("s3cret", &with("Basic czNjcmV0"))
                .unwrap_err()
                .status,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            authorize("s3cret", &with("Bearer ")).unwrap_err().status,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            authorize("s3cret", &with("Bearer s3cre"))
                .unwrap_err()
                .status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            authorize("s3cret", &with("Bearer s3cret!"))
                .unwrap_err()
                .status,
            StatusCode::FORBIDDEN
        );
        assert!(authorize("s3cret", &with("Bearer s3cret")).is_ok());
        assert!(authorize("s3cret", &with("bearer  s3cret ")).is_ok());
    }

    #[test]
    fn without_a_configured_token_writes_are_disabled_whatever_is_sent() {
        let e = authorize("", &with("Bearer ")).unwrap_err();
        assert_eq!(e.status, StatusCode::FORBIDDEN);
        assert!(e.message.contains("admin_token"));
        assert_eq!(
            authorize("", &HeaderMap::new()).unwrap_err().status,
            StatusCode::FORBIDDEN
        );
    }
}
