//! Refusals: what Hoist turns away to protect itself (slow or silent clients, a full budget,
//! rate limits, hostile forms). Each is counted on `/metrics` as
//! `hoist_refused_total{reason}` and logged once, here.

use prometheus::IntCounterVec;

/// Why a connection or request was refused. The reason is the metric label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// A request head took longer than `server.header_timeout` (the connection is closed).
    HeaderTimeout,
    /// A connection sat idle for `server.idle_timeout` (closed).
    IdleTimeout,
    /// A body stopped for `upload.read_timeout` (408).
    StalledBody,
    /// A body averaged less than `upload.min_rate` over `upload.min_rate_window` (408).
    SlowBody,
    /// No buffer memory within `upload.budget_wait` (503).
    BudgetWait,
    /// The spool files together would pass `upload.spool_max_bytes` (503).
    SpoolFull,
    /// A rate limit (429).
    RateLimited,
    /// A form's preamble or part headers passed their bound (400).
    FormHead,
    /// An upload route got a body with a `Content-Encoding` it does not store (415).
    ContentEncoding,
}

impl Refusal {
    /// The `reason` label.
    pub fn reason(self) -> &'static str {
        match self {
            Self::HeaderTimeout => "header-timeout",
            Self::IdleTimeout => "idle-timeout",
            Self::StalledBody => "stalled-body",
            Self::SlowBody => "slow-body",
            Self::BudgetWait => "budget-wait",
            Self::SpoolFull => "spool-full",
            Self::RateLimited => "rate-limited",
            Self::FormHead => "form-head",
            Self::ContentEncoding => "content-encoding",
        }
    }

    /// Idle connections are closed all day long by design: counted, but logged at debug.
    fn is_routine(self) -> bool {
        self == Self::IdleTimeout
    }
}

/// A refusal on its way from an error to the middleware, which records it once.
#[derive(Debug, Clone)]
pub struct RefusalNote {
    pub refusal: Refusal,
    pub message: String,
}

/// Counts and logs refusals.
#[derive(Debug, Clone)]
pub struct Refusals(IntCounterVec);

impl Refusals {
    pub fn new(counter: IntCounterVec) -> Self {
        Self(counter)
    }

    /// Counts `refusal` and logs it with `detail` (inside the request's span when there is
    /// one, so the line carries the correlation id).
    pub fn record(&self, refusal: Refusal, detail: &str) {
        let reason = refusal.reason();
        self.0.with_label_values(&[reason]).inc();
        if refusal.is_routine() {
            tracing::debug!(reason, detail, "refused");
        } else {
            tracing::warn!(reason, detail, "refused");
        }
    }
}
