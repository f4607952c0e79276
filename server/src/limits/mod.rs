//! Request rate limits (governor's GCRA): per client address for public triggers and
//! `GET /dev/token` (`[limits] per_ip`), per token subject on every authenticated route
//! (`[limits] per_principal`, off by default), and per trigger (`rate_limit` in its
//! declaration). Health, readiness, metrics, the spec and the docs never pass through here.
//!
//! Limits are per replica: each process counts only the requests it serves. Keyed limiters
//! forget keys whose allowance is whole again (a sweep every minute, or sooner when they hold
//! more than [`MAX_KEYS`]), so memory follows the clients of the last minute.

mod client_ip;
pub mod rate;

pub use client_ip::{ClientIp, client_ip};
pub use rate::Rate;

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, RateLimiter};

use crate::config::{ConfigProblem, Settings};

/// Keys a keyed limiter holds before it sweeps at once instead of at the next minute.
pub const MAX_KEYS: usize = 100_000;

/// A request over a limit, and when it may be retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited {
    /// Which limit: `per-ip`, `per-principal` or `trigger`.
    pub limit: &'static str,
    pub rate: Rate,
    pub retry_after: Duration,
}

/// Every limiter of the gateway.
#[derive(Debug)]
pub struct RateLimits {
    per_ip: Option<Keyed<ClientIp>>,
    per_principal: Option<Keyed<String>>,
    triggers: HashMap<String, (Rate, DefaultDirectRateLimiter)>,
}

#[derive(Debug)]
struct Keyed<K: Hash + Eq + Clone> {
    rate: Rate,
    limiter: DefaultKeyedRateLimiter<K>,
}

impl<K: Hash + Eq + Clone> Keyed<K> {
    fn new(rate: Rate) -> Self {
        Self {
            rate,
            limiter: RateLimiter::keyed(rate.quota()),
        }
    }

    fn check(&self, key: &K, limit: &'static str) -> Result<(), Limited> {
        if self.limiter.len() > MAX_KEYS {
            self.sweep();
        }
        self.limiter.check_key(key).map_err(|not_until| Limited {
            limit,
            rate: self.rate,
            retry_after: not_until.wait_time_from(DefaultClock::default().now()),
        })
    }

    fn sweep(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

/// Every problem of `[limits]`, of the triggers' `rate_limit` and of
/// `[server] client_ip_header`.
pub fn check(settings: &Settings) -> Vec<ConfigProblem> {
    let mut problems = Vec::new();
    let mut rate = |key: String, text: &str| {
        if let Err(message) = rate::parse(text) {
            problems.push(ConfigProblem::new(key, message));
        }
    };
    rate("limits.per_ip".into(), &settings.limits.per_ip);
    if let Some(text) = &settings.limits.per_principal {
        rate("limits.per_principal".into(), text);
    }
    for (name, route) in &settings.triggers {
        if let Some(text) = &route.rate_limit {
            rate(format!("triggers.{name}.rate_limit"), text);
        }
    }
    if let Some(header) = &settings.server.client_ip_header
        && poem::http::HeaderName::from_bytes(header.as_bytes()).is_err()
    {
        problems.push(ConfigProblem::new(
            "server.client_ip_header",
            format!("`{header}` is not a header name"),
        ));
    }
    problems
}

impl RateLimits {
    /// The limiters the settings declare (checked by [`check`]: a rate that does not parse is
    /// taken as off).
    pub fn from_settings(settings: &Settings) -> Self {
        let rate = |text: &str| rate::parse(text).ok().flatten();
        Self::new(
            rate(&settings.limits.per_ip),
            settings.limits.per_principal.as_deref().and_then(rate),
            settings.triggers.iter().filter_map(|(name, route)| {
                Some((name.clone(), route.rate_limit.as_deref().and_then(rate)?))
            }),
        )
    }

    /// Limiters for the given rates; `None` turns a limit off.
    pub fn new(
        per_ip: Option<Rate>,
        per_principal: Option<Rate>,
        triggers: impl IntoIterator<Item = (String, Rate)>,
    ) -> Self {
        Self {
            per_ip: per_ip.map(Keyed::new),
            per_principal: per_principal.map(Keyed::new),
            triggers: triggers
                .into_iter()
                .map(|(name, rate)| (name, (rate, RateLimiter::direct(rate.quota()))))
                .collect(),
        }
    }

    /// One more request from `ip` (a public trigger or a dev token).
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), Limited> {
        match &self.per_ip {
            Some(keyed) => keyed.check(&ClientIp::from(ip), "per-ip"),
            None => Ok(()),
        }
    }

    /// Whether `[limits] per_principal` is on (the token is only verified for it then).
    pub fn per_principal_on(&self) -> bool {
        self.per_principal.is_some()
    }

    /// One more request from the token subject `subject`.
    pub fn check_principal(&self, subject: &str) -> Result<(), Limited> {
        match &self.per_principal {
            // The key is only allocated when the limit is on.
            Some(keyed) => keyed.check(&subject.to_owned(), "per-principal"),
            None => Ok(()),
        }
    }

    /// One more call of the trigger `name`, across all its callers.
    pub fn check_trigger(&self, name: &str) -> Result<(), Limited> {
        match self.triggers.get(name) {
            Some((rate, limiter)) => limiter.check().map_err(|not_until| Limited {
                limit: "trigger",
                rate: *rate,
                retry_after: not_until.wait_time_from(DefaultClock::default().now()),
            }),
            None => Ok(()),
        }
    }

    /// Forgets keys whose allowance is whole again; run every minute.
    pub fn sweep(&self) {
        if let Some(keyed) = &self.per_ip {
            keyed.sweep();
        }
        if let Some(keyed) = &self.per_principal {
            keyed.sweep();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(text: &str) -> Option<Rate> {
        rate::parse(text).unwrap()
    }

    #[test]
    fn each_limit_counts_its_own_key() {
        let limits = RateLimits::new(
            rate("2/min"),
            rate("3/min"),
            [("t".into(), rate("1/h").unwrap())],
        );
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        assert!(limits.check_ip(a).is_ok());
        assert!(limits.check_ip(a).is_ok());
        let limited = limits.check_ip(a).unwrap_err();
        assert_eq!(limited.limit, "per-ip");
        assert!(
            limited.retry_after > Duration::from_secs(20)
                && limited.retry_after <= Duration::from_secs(30)
        );
        assert!(limits.check_ip(b).is_ok());
        for _ in 0..3 {
            assert!(limits.check_principal("alice").is_ok());
        }
        assert!(limits.check_principal("alice").is_err());
        assert!(limits.check_principal("bob").is_ok());
        assert!(limits.check_trigger("t").is_ok());
        assert_eq!(limits.check_trigger("t").unwrap_err().limit, "trigger");
        assert!(limits.check_trigger("other").is_ok());
    }

    #[test]
    fn limits_that_are_off_never_refuse() {
        let limits = RateLimits::new(None, None, []);
        for _ in 0..1000 {
            assert!(limits.check_ip("::1".parse().unwrap()).is_ok());
            assert!(limits.check_principal("alice").is_ok());
        }
    }

    #[test]
    fn addresses_of_one_ipv6_network_share_a_key() {
        let limits = RateLimits::new(rate("1/min"), None, []);
        assert!(limits.check_ip("2001:db8:1:2::1".parse().unwrap()).is_ok());
        assert!(
            limits
                .check_ip("2001:db8:1:2:ffff::9".parse().unwrap())
                .is_err()
        );
        assert!(limits.check_ip("2001:db8:1:3::1".parse().unwrap()).is_ok());
    }
}
