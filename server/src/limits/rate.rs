//! Rates as configured: `"600/min"`, `"10/s"`, `"1000/h"`, or `"off"`.

use std::num::NonZeroU32;
use std::str::FromStr;
use std::time::Duration;

use governor::Quota;

/// A number of requests per period, allowed in a burst and replenished evenly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub count: NonZeroU32,
    pub per: Duration,
}

impl Rate {
    /// governor's quota: `count` at once, one more every `per / count`.
    pub fn quota(self) -> Quota {
        let quota = match self.per.as_secs() {
            1 => Quota::per_second(self.count),
            60 => Quota::per_minute(self.count),
            _ => Quota::per_hour(self.count),
        };
        quota.allow_burst(self.count)
    }
}

impl std::fmt::Display for Rate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let unit = match self.per.as_secs() {
            1 => "s",
            60 => "min",
            _ => "h",
        };
        write!(f, "{}/{unit}", self.count)
    }
}

/// Parses a configured rate; `Ok(None)` for `"off"`.
pub fn parse(text: &str) -> Result<Option<Rate>, String> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    let bad =
        || format!("`{text}` is not a rate such as \"600/min\", \"10/s\", \"1000/h\" or \"off\"");
    let (count, unit) = text.split_once('/').ok_or_else(bad)?;
    let count = NonZeroU32::from_str(count.trim()).map_err(|_| bad())?;
    let per = match unit.trim() {
        "s" | "sec" | "second" => Duration::from_secs(1),
        "min" | "minute" => Duration::from_secs(60),
        "h" | "hour" => Duration::from_secs(3600),
        _ => return Err(bad()),
    };
    Ok(Some(Rate { count, per }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_and_print() {
        let rate = parse("600/min").unwrap().unwrap();
        assert_eq!(rate.count.get(), 600);
        assert_eq!(rate.per, Duration::from_secs(60));
        assert_eq!(rate.to_string(), "600/min");
        assert_eq!(rate.quota().burst_size().get(), 600);
        assert_eq!(
            rate.quota().replenish_interval(),
            Duration::from_millis(100)
        );
        assert_eq!(parse(" 10 / s ").unwrap().unwrap().to_string(), "10/s");
        assert_eq!(parse("5/hour").unwrap().unwrap().to_string(), "5/h");
        assert_eq!(parse("OFF").unwrap(), None);
        for bad in ["", "600", "0/min", "-1/min", "10/day", "ten/min", "10/"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
