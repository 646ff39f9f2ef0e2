//! [`Authenticate`]: the pluggable credential check, and where credentials may come from.

use std::future::Future;

use ::axum::http::HeaderMap;
use ::axum::http::header::{AUTHORIZATION, SEC_WEBSOCKET_PROTOCOL};

use crate::ids::UserId;

/// The `Sec-WebSocket-Protocol` entry prefix that carries a bearer token for browsers, whose
/// WebSocket API cannot set an `Authorization` header: `isolate.bearer.<token>`.
pub const BEARER_PROTOCOL_PREFIX: &str = "isolate.bearer.";

/// Checks a request's credentials and names the user they prove. It sees the request's
/// headers and nothing else: identity never comes from the URL or the body.
///
/// The [`IsolateLayer`](super::IsolateLayer) calls it for every request and turns the
/// [`UserId`] into an [`AuthenticatedUser`](crate::AuthenticatedUser) with its
/// [`Authority`](crate::Authority); a refusal is answered `401` and nothing else.
///
/// ```
/// use axum::http::HeaderMap;
/// use isolate::axum::{Authenticate, Unauthenticated};
/// use isolate::UserId;
///
/// /// Sessions looked up in a store (here: a fixed table).
/// struct Sessions(Vec<(String, UserId)>);
///
/// impl Authenticate for Sessions {
///     async fn authenticate(&self, headers: &HeaderMap) -> Result<UserId, Unauthenticated> {
///         let cookie = headers
///             .get("cookie")
///             .and_then(|v| v.to_str().ok())
///             .and_then(|v| v.strip_prefix("session="))
///             .ok_or(Unauthenticated::new("no session cookie"))?;
///         self.0
///             .iter()
///             .find(|(id, _)| id == cookie)
///             .map(|(_, user)| user.clone())
///             .ok_or(Unauthenticated::new("unknown session"))
///     }
/// }
/// ```
pub trait Authenticate: Send + Sync + 'static {
    /// The user `headers` prove, or why they do not.
    fn authenticate(
        &self,
        headers: &HeaderMap,
    ) -> impl Future<Output = Result<UserId, Unauthenticated>> + Send;
}

/// Why a request was not authenticated. For the server's logs only: the client gets `401`
/// and nothing else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not authenticated: {reason}")]
pub struct Unauthenticated {
    reason: &'static str,
}

impl Unauthenticated {
    /// A refusal for `reason`.
    pub const fn new(reason: &'static str) -> Self {
        Self { reason }
    }

    /// Why.
    pub fn reason(&self) -> &'static str {
        self.reason
    }
}

/// The request's bearer token: the `Authorization: Bearer <token>` header (the scheme in any
/// case), or else, for a browser WebSocket, the one `Sec-WebSocket-Protocol` entry
/// `isolate.bearer.<token>`. Never the URL.
///
/// # Errors
/// No credentials, more than one `Authorization` header or token protocol, another scheme, or
/// an empty token.
///
/// ```
/// use axum::http::HeaderMap;
/// use isolate::axum::bearer_token;
///
/// let mut headers = HeaderMap::new();
/// headers.insert("authorization", "Bearer abc.def".parse().unwrap());
/// assert_eq!(bearer_token(&headers), Ok("abc.def"));
///
/// let mut browser = HeaderMap::new();
/// browser.insert("sec-websocket-protocol", "isolate.v1, isolate.bearer.abc.def".parse().unwrap());
/// assert_eq!(bearer_token(&browser), Ok("abc.def"));
///
/// assert!(bearer_token(&HeaderMap::new()).is_err());
/// ```
pub fn bearer_token(headers: &HeaderMap) -> Result<&str, Unauthenticated> {
    let mut authorization = headers.get_all(AUTHORIZATION).iter();
    if let Some(value) = authorization.next() {
        if authorization.next().is_some() {
            return Err(Unauthenticated::new("more than one Authorization header"));
        }
        let value = value
            .to_str()
            .map_err(|_| Unauthenticated::new("Authorization is not visible ASCII"))?;
        let (scheme, token) = value
            .split_once(' ')
            .ok_or(Unauthenticated::new("Authorization without a scheme"))?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(Unauthenticated::new("not a bearer token"));
        }
        return non_empty(token.trim());
    }
    let mut tokens = headers
        .get_all(SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|protocol| protocol.trim().strip_prefix(BEARER_PROTOCOL_PREFIX));
    let token = tokens
        .next()
        .ok_or(Unauthenticated::new("no credentials"))?;
    if tokens.next().is_some() {
        return Err(Unauthenticated::new("more than one token protocol"));
    }
    non_empty(token)
}

fn non_empty(token: &str) -> Result<&str, Unauthenticated> {
    if token.is_empty() || token.contains(char::is_whitespace) {
        return Err(Unauthenticated::new("empty or malformed token"));
    }
    Ok(token)
}

/// Query parameter names refused by the layer (compared lowercased, without `-` and `_`):
/// credentials in a URL end up in logs, histories and `Referer` headers.
const CREDENTIAL_PARAMS: &[&str] = &[
    "token",
    "accesstoken",
    "idtoken",
    "auth",
    "authorization",
    "bearer",
    "jwt",
    "apikey",
    "session",
    "sessionid",
    "password",
];

/// Whether `query` carries a parameter named like a credential (after percent-decoding).
pub(crate) fn query_has_credentials(query: &str) -> bool {
    form_urlencoded::parse(query.as_bytes()).any(|(name, _)| {
        let name: String = name
            .chars()
            .filter(|c| !matches!(c, '-' | '_' | '.' | ' '))
            .flat_map(char::to_lowercase)
            .collect();
        CREDENTIAL_PARAMS.contains(&name.as_str())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                ::axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        map
    }

    #[test]
    fn bearer_tokens_come_from_one_header_or_one_protocol() {
        assert_eq!(
            bearer_token(&headers(&[("authorization", "bearer t")])),
            Ok("t")
        );
        assert_eq!(
            bearer_token(&headers(&[("authorization", "BEARER  t ")])),
            Ok("t")
        );
        for bad in [
            &[("authorization", "Basic dXNlcjpwdw==")][..],
            &[("authorization", "Bearer")],
            &[("authorization", "Bearer ")],
            &[("authorization", "Bearer a b")],
            &[("authorization", "Bearer a"), ("authorization", "Bearer b")],
            &[("sec-websocket-protocol", "isolate.v1")],
            &[("sec-websocket-protocol", "isolate.bearer.")],
            &[(
                "sec-websocket-protocol",
                "isolate.bearer.a, isolate.bearer.b",
            )],
            &[],
        ] {
            assert!(bearer_token(&headers(bad)).is_err(), "{bad:?}");
        }
        // A present but bad Authorization header is not rescued by a protocol entry.
        let both = headers(&[
            ("authorization", "Basic x"),
            ("sec-websocket-protocol", "isolate.bearer.t"),
        ]);
        assert!(bearer_token(&both).is_err());
    }

    #[test]
    fn credential_parameters_are_found_however_spelt() {
        for query in [
            "token=abc",
            "a=1&access_token=abc",
            "Access-Token=abc",
            "%74oken=abc",
            "api_key=k",
            "x=1&AUTHORIZATION=Bearer%20t",
        ] {
            assert!(query_has_credentials(query), "{query}");
        }
        for query in ["", "last_seq=run-1:3", "tokens_used=3&x=token"] {
            assert!(!query_has_credentials(query), "{query}");
        }
    }
}
