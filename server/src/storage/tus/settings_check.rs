//! The checks of `[tus]`: a lease that can keep two PATCHes apart.

use std::time::Duration;

use crate::config::{ConfigProblem, TusSettings};

/// The shortest lease. Its end is stored in whole seconds, so a lease of one second could be
/// over the moment it is taken, and a lease of none would let every PATCH take over from the
/// one before it.
const MIN_LEASE: Duration = Duration::from_secs(2);

/// Every problem of `[tus]`.
pub fn check(tus: &TusSettings) -> Vec<ConfigProblem> {
    let mut problems = Vec::new();
    if tus.lease < MIN_LEASE {
        problems.push(ConfigProblem::new(
            "tus.lease",
            format!("must be at least {}", humantime::format_duration(MIN_LEASE)),
        ));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(tus: &TusSettings) -> Vec<String> {
        check(tus).into_iter().map(|p| p.key).collect()
    }

    #[test]
    fn the_defaults_pass() {
        assert!(keys(&TusSettings::default()).is_empty());
    }

    #[test]
    fn a_lease_must_keep_patches_apart() {
        let none = TusSettings {
            lease: Duration::ZERO,
            ..TusSettings::default()
        };
        assert_eq!(keys(&none), ["tus.lease"]);
        let shortest = TusSettings {
            lease: MIN_LEASE,
            ..TusSettings::default()
        };
        assert!(keys(&shortest).is_empty());
    }
}
