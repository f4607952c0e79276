//! Cross-origin access for browser apps (`[cors]`): poem's `Cors` answers the preflights of
//! the allowed origins and adds the allow/expose headers to their responses. Around it, what
//! poem does not do the way a gateway must: a preflight from any other origin is refused in
//! the envelope (403 `origin-not-allowed`); a simple request from another origin (Swagger UI
//! posting to its own origin, a server-side client copying a header) is served without CORS
//! headers instead of refused, since only the browser enforces CORS; every response says
//! `Vary: Origin` so a shared cache never hands one origin's answer to another; and errors keep
//! their JSON envelope under the CORS headers.

use std::collections::HashSet;
use std::sync::Arc;

use poem::http::{HeaderName, HeaderValue, Method, header};
use poem::middleware::{Cors, CorsEndpoint};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response};

use super::middleware::render_error;
use super::{ApiError, ErrorCode};
use crate::config::{ConfigProblem, CorsSettings};

/// The methods a page may use: every one a Hoist route (tus included) takes.
const METHODS: [Method; 7] = [
    Method::GET,
    Method::HEAD,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
    Method::OPTIONS,
];

/// The problems of `[cors]`: origins that are not exact `scheme://host[:port]` origins,
/// header names that are not header names, a `max_age` no header can carry.
pub fn check(settings: &CorsSettings) -> Vec<ConfigProblem> {
    let mut problems = Vec::new();
    for origin in &settings.allowed_origins {
        if let Err(why) = exact_origin(origin) {
            problems.push(ConfigProblem::new(
                "cors.allowed_origins",
                format!("{origin:?} {why}"),
            ));
        }
    }
    for (key, names) in [
        ("cors.allowed_headers", &settings.allowed_headers),
        ("cors.expose_headers", &settings.expose_headers),
    ] {
        for name in names {
            if HeaderName::from_bytes(name.as_bytes()).is_err() {
                problems.push(ConfigProblem::new(
                    key,
                    format!("{name:?} is not a header name"),
                ));
            }
        }
    }
    if i32::try_from(settings.max_age.as_secs()).is_err() {
        problems.push(ConfigProblem::new(
            "cors.max_age",
            "must be under 68 years (browsers cap it at hours anyway)",
        ));
    }
    problems
}

/// Whether `origin` is written exactly as browsers send it in `Origin`.
fn exact_origin(origin: &str) -> Result<(), &'static str> {
    if origin == "*" || origin.contains('*') {
        return Err("is a wildcard: list the exact origins (CORS with a token is per origin)");
    }
    let url = url::Url::parse(origin).map_err(|_| "is not a URL")?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("is not an http or https origin");
    }
    let serialized = url.origin().ascii_serialization();
    if serialized != origin {
        return Err("is not an exact origin: scheme://host[:port], lowercase, no path or slash");
    }
    Ok(())
}

/// The `[cors]` middleware; it passes every request through unchanged when no origin is
/// allowed.
pub struct BrowserAccess {
    /// `None` when CORS is off.
    cors: Option<(Cors, HashSet<HeaderValue>)>,
}

impl BrowserAccess {
    /// The middleware for checked settings (see [`check`]; an unusable entry is skipped).
    pub fn new(settings: &CorsSettings) -> Self {
        if settings.allowed_origins.is_empty() {
            return Self { cors: None };
        }
        let origins: HashSet<HeaderValue> = settings
            .allowed_origins
            .iter()
            .filter_map(|o| HeaderValue::from_str(o).ok())
            .collect();
        let headers = |names: &[String]| -> Vec<HeaderName> {
            names
                .iter()
                .filter_map(|n| HeaderName::from_bytes(n.as_bytes()).ok())
                .collect()
        };
        let max_age = i32::try_from(settings.max_age.as_secs()).unwrap_or(i32::MAX);
        let cors = Cors::new()
            .allow_origins(origins.iter().cloned())
            .allow_methods(METHODS)
            .allow_headers(headers(&settings.allowed_headers))
            .expose_headers(headers(&settings.expose_headers))
            .allow_credentials(false)
            .max_age(max_age);
        Self {
            cors: Some((cors, origins)),
        }
    }
}

impl<E: Endpoint + 'static> Middleware<E> for BrowserAccess {
    type Output = BrowserAccessEndpoint<E>;

    fn transform(&self, ep: E) -> Self::Output {
        let inner = Arc::new(Enveloped(ep));
        BrowserAccessEndpoint {
            cors: self
                .cors
                .as_ref()
                .map(|(cors, origins)| (cors.transform(inner.clone()), origins.clone())),
            inner,
        }
    }
}

/// The routes behind poem's `Cors`, shared with the path that bypasses it.
type Shared<E> = Arc<Enveloped<E>>;

/// See [`BrowserAccess`].
pub struct BrowserAccessEndpoint<E> {
    inner: Shared<E>,
    /// poem's `Cors` and the allowed origins, when CORS is on.
    cors: Option<(CorsEndpoint<Shared<E>>, HashSet<HeaderValue>)>,
}

impl<E: Endpoint> Endpoint for BrowserAccessEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let Some((cors, origins)) = &self.cors else {
            return self.inner.call(req).await;
        };
        let mut response = match req.headers().get(header::ORIGIN) {
            Some(origin) if origins.contains(origin) => match cors.call(req).await {
                Ok(response) => response,
                // Poem's refusals: a preflight for a method or headers not allowed.
                Err(error) => refused(&error.to_string()),
            },
            Some(_) if req.method() == Method::OPTIONS => {
                refused("this origin is not in [cors] allowed_origins")
            }
            _ => self.inner.call(req).await?,
        };
        response
            .headers_mut()
            .append(header::VARY, HeaderValue::from_static("origin"));
        Ok(response)
    }
}

fn refused(message: &str) -> Response {
    ApiError::new(
        ErrorCode::OriginNotAllowed,
        format!("CORS preflight refused: {message}"),
    )
    .into_response()
}

/// The routes with every error already in its envelope: poem's `Cors` turns an inner error
/// into a response with poem's default body, which would lose the envelope and its cause.
pub struct Enveloped<E>(E);

impl<E: Endpoint> Endpoint for Enveloped<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        Ok(match self.0.call(req).await {
            Ok(output) => output.into_response(),
            Err(error) => render_error(error),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn with_origins(origins: &[&str]) -> CorsSettings {
        CorsSettings {
            allowed_origins: origins.iter().map(|o| (*o).to_owned()).collect(),
            ..CorsSettings::default()
        }
    }

    #[test]
    fn only_exact_origins_pass_the_check() {
        let good = with_origins(&["https://app.example.com", "http://127.0.0.1:5173"]);
        assert!(check(&good).is_empty(), "{:?}", check(&good));
        for bad in [
            "*",
            "https://*.example.com",
            "https://app.example.com/",
            "https://app.example.com/path",
            "https://App.Example.com",
            "https://app.example.com:443",
            "app.example.com",
            "ftp://files.example.com",
            "https://user@app.example.com",
        ] {
            let problems = check(&with_origins(&[bad]));
            assert_eq!(problems.len(), 1, "{bad}: {problems:?}");
            assert_eq!(problems[0].key, "cors.allowed_origins");
        }
    }

    #[test]
    fn header_names_and_max_age_are_checked() {
        let settings = CorsSettings {
            allowed_headers: vec!["content-type".into(), "bad header".into()],
            expose_headers: vec!["x(".into()],
            max_age: Duration::from_secs(u64::from(u32::MAX)),
            ..CorsSettings::default()
        };
        let keys: Vec<String> = check(&settings).into_iter().map(|p| p.key).collect();
        assert_eq!(
            keys,
            [
                "cors.allowed_headers",
                "cors.expose_headers",
                "cors.max_age"
            ]
        );
        assert!(check(&CorsSettings::default()).is_empty());
    }
}
