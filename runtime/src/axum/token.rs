//! [`HmacTokens`]: bearer tokens signed with HMAC-SHA256 under a server secret.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ::axum::http::HeaderMap;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::auth::{Authenticate, Unauthenticated, bearer_token};
use crate::ids::UserId;

/// Longest token accepted, in bytes (a 256-byte user id encodes to 342).
const MAX_TOKEN_LEN: usize = 512;

const VERSION: &str = "v1";

/// Bearer tokens `v1.<user>.<expiry>.<signature>`: the user id in unpadded base64url, the
/// expiry in Unix seconds, and the HMAC-SHA256 of `v1.<user>.<expiry>` under the server's
/// secret, in unpadded base64url.
///
/// A token is accepted only if it has exactly that shape, its signature verifies (compared
/// in constant time), it has not expired, and its user id is valid and written the way
/// [`UserId`] writes it. Every refusal is a `401` with nothing else; the reason is only for
/// the server.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use isolate::axum::HmacTokens;
/// use isolate::UserId;
///
/// let tokens = HmacTokens::new(b"a server secret of at least 32 bytes!").unwrap();
/// let alice = UserId::new("alice").unwrap();
/// let now = SystemTime::now();
/// let token = tokens.issue(&alice, now + Duration::from_secs(3600));
/// assert_eq!(tokens.verify(&token, now), Ok(alice.clone()));
/// // Expired, tampered with, or signed with another secret: refused.
/// assert!(tokens.verify(&token, now + Duration::from_secs(7200)).is_err());
/// assert!(tokens.verify(&token.replace("v1.", "v2."), now).is_err());
/// let other = HmacTokens::new(b"another server secret, 32 bytes long").unwrap();
/// assert!(other.verify(&token, now).is_err());
/// ```
#[derive(Clone)]
pub struct HmacTokens {
    key: Hmac<Sha256>,
}

/// The secret given to [`HmacTokens::new`] is too short.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the token secret must be at least {min} bytes, got {len}")]
pub struct WeakSecret {
    /// Bytes given.
    pub len: usize,
    /// Bytes required.
    pub min: usize,
}

impl HmacTokens {
    /// Shortest secret accepted, in bytes.
    pub const MIN_SECRET_LEN: usize = 32;

    /// Tokens signed under `secret`.
    ///
    /// # Errors
    /// [`WeakSecret`] if `secret` is shorter than [`MIN_SECRET_LEN`](Self::MIN_SECRET_LEN).
    pub fn new(secret: &[u8]) -> Result<Self, WeakSecret> {
        if secret.len() < Self::MIN_SECRET_LEN {
            return Err(WeakSecret {
                len: secret.len(),
                min: Self::MIN_SECRET_LEN,
            });
        }
        let key = Hmac::<Sha256>::new_from_slice(secret).map_err(|_| WeakSecret {
            len: secret.len(),
            min: Self::MIN_SECRET_LEN,
        })?;
        Ok(Self { key })
    }

    /// A token proving `user` until `expires_at`.
    pub fn issue(&self, user: &UserId, expires_at: SystemTime) -> String {
        let expiry = unix_seconds(expires_at);
        let payload = format!(
            "{VERSION}.{}.{expiry}",
            URL_SAFE_NO_PAD.encode(user.as_str())
        );
        let signature = URL_SAFE_NO_PAD.encode(self.sign(&payload));
        format!("{payload}.{signature}")
    }

    /// The user `token` proves at `now`.
    ///
    /// # Errors
    /// [`Unauthenticated`] for a malformed, wrongly signed or expired token, or one naming an
    /// invalid user id.
    pub fn verify(&self, token: &str, now: SystemTime) -> Result<UserId, Unauthenticated> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(Unauthenticated::new("token too long"));
        }
        let mut parts = token.split('.');
        let (Some(version), Some(user), Some(expiry), Some(signature), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(Unauthenticated::new("malformed token"));
        };
        if version != VERSION {
            return Err(Unauthenticated::new("unknown token version"));
        }
        if expiry.is_empty() || expiry.len() > 20 || !expiry.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Unauthenticated::new("malformed expiry"));
        }
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| Unauthenticated::new("malformed signature"))?;
        // `version.user.expiry`: what the signature covers.
        let signed = &token[..version.len() + user.len() + expiry.len() + 2];
        let mut mac = self.key.clone();
        mac.update(signed.as_bytes());
        mac.verify_slice(&signature)
            .map_err(|_| Unauthenticated::new("bad signature"))?;
        // Signed by us from here on; still check what we signed.
        let expiry: u64 = expiry
            .parse()
            .map_err(|_| Unauthenticated::new("malformed expiry"))?;
        if expiry <= unix_seconds(now) {
            return Err(Unauthenticated::new("expired token"));
        }
        let user = URL_SAFE_NO_PAD
            .decode(user)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or(Unauthenticated::new("malformed user"))?;
        let id = UserId::new(user.as_str()).map_err(|_| Unauthenticated::new("invalid user id"))?;
        if id.as_str() != user {
            return Err(Unauthenticated::new("user id not in canonical form"));
        }
        Ok(id)
    }

    fn sign(&self, payload: &str) -> [u8; 32] {
        let mut mac = self.key.clone();
        mac.update(payload.as_bytes());
        mac.finalize().into_bytes().into()
    }
}

impl Authenticate for HmacTokens {
    async fn authenticate(&self, headers: &HeaderMap) -> Result<UserId, Unauthenticated> {
        self.verify(bearer_token(headers)?, SystemTime::now())
    }
}

impl fmt::Debug for HmacTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HmacTokens { key: <secret> }")
    }
}

fn unix_seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn tokens() -> HmacTokens {
        HmacTokens::new(SECRET).unwrap()
    }

    fn later() -> SystemTime {
        SystemTime::now() + Duration::from_secs(600)
    }

    #[test]
    fn short_secrets_are_refused() {
        assert_eq!(
            HmacTokens::new(b"short").unwrap_err(),
            WeakSecret { len: 5, min: 32 }
        );
    }

    #[test]
    fn malformed_tokens_are_refused_without_panicking() {
        let t = tokens();
        let good = t.issue(&UserId::new("alice").unwrap(), later());
        let now = SystemTime::now();
        let mut bad = vec![
            String::new(),
            ".".into(),
            "...".into(),
            "....".into(),
            "v1.YWxpY2U.1.".into(),
            format!("{good}."),
            format!(".{good}"),
            good.replace("v1.", "V1."),
            good.replace('.', ".."),
            "x".repeat(10_000),
            "v1.YWxpY2U.99999999999999999999999.AAAA".into(),
            "v1.YWxpY2U.-5.AAAA".into(),
            "v1.YWxpY2U.+5.AAAA".into(),
            "v1.%%%.5.AAAA".into(),
            "v1.YWxpY2U.5.%%%".into(),
            "v1.🦀.5.🦀".into(),
        ];
        // Every single-character change to a good token.
        for i in 0..good.len() {
            let mut bytes = good.clone().into_bytes();
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            bad.push(String::from_utf8(bytes).unwrap());
        }
        // Truncations.
        for n in 0..good.len() {
            bad.push(good[..n].to_owned());
        }
        for token in &bad {
            assert!(t.verify(token, now).is_err(), "{token:?}");
        }
        assert!(t.verify(&good, now).is_ok());
    }

    #[test]
    fn a_token_for_a_non_canonical_or_placeholder_user_is_refused() {
        let t = tokens();
        let expiry = unix_seconds(later());
        for raw in [" alice", "default", "", "a\u{0}b"] {
            let payload = format!("v1.{}.{expiry}", URL_SAFE_NO_PAD.encode(raw));
            let token = format!("{payload}.{}", URL_SAFE_NO_PAD.encode(t.sign(&payload)));
            assert!(t.verify(&token, SystemTime::now()).is_err(), "{raw:?}");
        }
    }

    #[test]
    fn expiry_is_checked_to_the_second() {
        let t = tokens();
        let now = SystemTime::now();
        let token = t.issue(
            &UserId::new("alice").unwrap(),
            now + Duration::from_secs(10),
        );
        assert!(t.verify(&token, now + Duration::from_secs(9)).is_ok());
        assert!(t.verify(&token, now + Duration::from_secs(11)).is_err());
        let past = t.issue(&UserId::new("alice").unwrap(), UNIX_EPOCH);
        assert!(t.verify(&past, now).is_err());
    }

    #[test]
    fn debug_does_not_show_the_secret() {
        assert_eq!(format!("{:?}", tokens()), "HmacTokens { key: <secret> }");
    }
}
