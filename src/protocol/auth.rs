//! Authentication in the handshake (protocol.md §1): the
//! `Sec-WebSocket-Protocol: auth-<cred>` value a client offers, and the
//! server's judgement of it. Pure: no I/O.

use super::codes::{PASSWORD_FAILED, REQUEST_HEADER_ERROR};
use base64::Engine as _;
use subtle::ConstantTimeEq;

/// The outcome of checking the `Sec-WebSocket-Protocol` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthOutcome {
    /// The credentials are right, or no password is set.
    Accepted,
    /// Error 4: no usable `auth-` value.
    HeaderError,
    /// Error 16: wrong password.
    WrongPassword,
}

impl AuthOutcome {
    /// The error code a refused connection is told (protocol.md §1), `None`
    /// when accepted.
    pub fn error_code(&self) -> Option<i64> {
        match self {
            AuthOutcome::Accepted => None,
            AuthOutcome::HeaderError => Some(REQUEST_HEADER_ERROR),
            AuthOutcome::WrongPassword => Some(PASSWORD_FAILED),
        }
    }
}

/// Pick the subprotocol to echo and judge the credentials. The first
/// `auth-…` value offered is used (and echoed alone); without one, the first
/// value offered is echoed so browsers complete the handshake and can read
/// the error frame.
pub fn check_auth(offered: Option<&str>, password: Option<&str>) -> (Option<String>, AuthOutcome) {
    let values: Vec<&str> = offered
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .collect();
    let auth = values.iter().find(|v| v.starts_with("auth-")).copied();
    let echo = auth.or(values.first().copied()).map(str::to_string);
    let Some(password) = password.filter(|p| !p.is_empty()) else {
        return (echo, AuthOutcome::Accepted);
    };
    let outcome = match auth.map(|a| &a["auth-".len()..]).filter(|c| !c.is_empty()) {
        None => AuthOutcome::HeaderError,
        Some(cred) => match decode_credential(cred) {
            None => AuthOutcome::HeaderError,
            Some(given) => {
                if bool::from(given.as_slice().ct_eq(password.as_bytes())) {
                    AuthOutcome::Accepted
                } else {
                    AuthOutcome::WrongPassword
                }
            }
        },
    };
    (echo, outcome)
}

/// Percent-decode, then Base64-decode: accepts the vendor's URL-encoded form
/// and the field driver's raw Base64 alike.
pub fn decode_credential(cred: &str) -> Option<Vec<u8>> {
    let decoded: Vec<u8> = percent_encoding::percent_decode_str(cred).collect();
    base64::engine::general_purpose::STANDARD
        .decode(decoded)
        .ok()
}

/// The header value a client offers: `auth-` + URL-encode(Base64(password)).
pub fn auth_protocol(password: &str) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(password.as_bytes());
    format!(
        "auth-{}",
        percent_encoding::utf8_percent_encode(&b64, percent_encoding::NON_ALPHANUMERIC)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_offered_value_is_judged_and_echoed() {
        // "pw?>" is "cHc/Pg==" in Base64: `/` and `=` are URL-encoded.
        let offered = auth_protocol("pw?>");
        assert_eq!(offered, "auth-cHc%2FPg%3D%3D");
        assert_eq!(
            check_auth(Some(&offered), Some("pw?>")),
            (Some(offered.clone()), AuthOutcome::Accepted)
        );
        // The field driver's raw Base64 works too.
        let raw = "auth-cHc/Pg==";
        assert_eq!(check_auth(Some(raw), Some("pw?>")).1, AuthOutcome::Accepted);
        assert_eq!(
            check_auth(Some(&offered), Some("other")).1,
            AuthOutcome::WrongPassword
        );
        // The first auth- value is used and echoed alone.
        assert_eq!(
            check_auth(Some(&format!("chat, {offered}, auth-eA==")), Some("pw?>")),
            (Some(offered.clone()), AuthOutcome::Accepted)
        );
    }

    #[test]
    fn missing_empty_or_garbled_values_are_header_errors() {
        for offered in [
            None,
            Some(""),
            Some("auth-"),
            Some("auth-@@@"),
            Some("chat"),
        ] {
            let (_, outcome) = check_auth(offered, Some("pw"));
            assert_eq!(outcome, AuthOutcome::HeaderError, "{offered:?}");
            assert_eq!(outcome.error_code(), Some(REQUEST_HEADER_ERROR));
        }
        // Without an auth- value the first one offered is echoed, so a
        // browser completes the handshake and reads the error.
        assert_eq!(
            check_auth(Some("chat, x"), Some("pw")).0.as_deref(),
            Some("chat")
        );
        assert_eq!(
            AuthOutcome::WrongPassword.error_code(),
            Some(PASSWORD_FAILED)
        );
        // No password: anything goes.
        assert_eq!(check_auth(None, None), (None, AuthOutcome::Accepted));
        assert_eq!(AuthOutcome::Accepted.error_code(), None);
    }
}
