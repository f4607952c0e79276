//! The checks of the storage sections: the bucket aliases of `routes.toml` (alias syntax, S3
//! bucket names, role ARNs, per-alias region and endpoint), the default alias of `[files]`,
//! and the limits of `[list]` and `[delete]`.

use std::collections::BTreeMap;

use super::content::TypePattern;
use crate::aws::{self, Arn};
use crate::config::{
    BucketRoute, ConfigProblem, DeleteSettings, FilesRoute, ListSettings, StorageSettings,
    is_valid_alias,
};

/// Every problem of `[buckets.*]` and of `[files] default_bucket`, which must name one of them.
pub fn check_buckets(
    buckets: &BTreeMap<String, BucketRoute>,
    files: &FilesRoute,
) -> Vec<ConfigProblem> {
    let mut problems = Vec::new();
    for (alias, route) in buckets {
        let key = |field: &str| format!("buckets.{alias}.{field}");
        if !is_valid_alias(alias) {
            problems.push(ConfigProblem::new(
                format!("buckets.{alias}"),
                "an alias uses only letters, digits, `-` and `_`",
            ));
        }
        let name = route.name.as_deref().unwrap_or(alias);
        if !is_valid_bucket_name(name) {
            problems.push(ConfigProblem::new(
                key("name"),
                format!("`{name}` is not a valid S3 bucket name"),
            ));
        }
        if let Some(region) = &route.region
            && !aws::is_valid_region(region)
        {
            problems.push(ConfigProblem::new(
                key("region"),
                format!("`{region}` is not an AWS region"),
            ));
        }
        if let Some(endpoint) = &route.endpoint
            && let Err(message) = aws::check_endpoint(endpoint)
        {
            problems.push(ConfigProblem::new(key("endpoint"), message));
        }
        if let Some(arn) = &route.role_arn {
            if !is_valid_role_arn(arn) {
                problems.push(ConfigProblem::new(
                    key("role_arn"),
                    format!("`{arn}` is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)"),
                ));
            }
        } else if route.external_id.is_some() || route.session_name.is_some() {
            problems.push(ConfigProblem::new(
                key("role_arn"),
                "external_id and session_name need a role_arn",
            ));
        }
        if let Some(types) = &route.allowed_types {
            if types.is_empty() {
                problems.push(ConfigProblem::new(
                    key("allowed_types"),
                    "lists no type, so every upload would be refused; leave it out to accept \
                     every type",
                ));
            }
            for pattern in types {
                if let Err(message) = TypePattern::parse(pattern) {
                    problems.push(ConfigProblem::new(key("allowed_types"), message));
                }
            }
        }
    }
    if let Some(alias) = &files.default_bucket {
        problems.extend(alias_problem(buckets, "files.default_bucket", alias));
    }
    problems
}

/// `[storage.embedded]`: the embedded store keeps objects on the local disk of one process,
/// so it is for development and tests only.
pub fn check_embedded(storage: &StorageSettings, production: bool) -> Vec<ConfigProblem> {
    if production && storage.embedded.enabled {
        vec![ConfigProblem::new(
            "storage.embedded.enabled",
            "the embedded store keeps objects on this machine's disk; it is for \
             HOIST_ENV=development or test, and production uses S3 ([aws], routes.toml)",
        )]
    } else {
        Vec::new()
    }
}

/// The problem of a key naming `alias` when no such alias is configured.
pub fn alias_problem(
    buckets: &BTreeMap<String, BucketRoute>,
    key: &str,
    alias: &str,
) -> Option<ConfigProblem> {
    (!buckets.contains_key(alias)).then(|| {
        ConfigProblem::new(
            key,
            format!("names bucket alias `{alias}`, which is not configured"),
        )
    })
}

/// Every problem of `[list]`.
pub fn check_list(list: &ListSettings) -> Vec<ConfigProblem> {
    let mut problems = Vec::new();
    if list.max_limit == 0 || list.default_limit == 0 || list.default_limit > list.max_limit {
        problems.push(ConfigProblem::new(
            "list.default_limit",
            "limits must satisfy 0 < default_limit <= max_limit",
        ));
    }
    if list.max_keys == 0 {
        problems.push(ConfigProblem::new("list.max_keys", "must be at least 1"));
    }
    problems
}

/// Every problem of `[delete]`.
pub fn check_delete(delete: &DeleteSettings) -> Vec<ConfigProblem> {
    if delete.max_keys == 0 {
        vec![ConfigProblem::new("delete.max_keys", "must be at least 1")]
    } else {
        Vec::new()
    }
}

/// S3's rules: 3–63 characters of lowercase letters, digits, `.` and `-`, starting and
/// ending with a letter or digit.
fn is_valid_bucket_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    (3..=63).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'.' || *b == b'-')
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && !name.contains("..")
}

fn is_valid_role_arn(arn: &str) -> bool {
    Arn::parse(arn).is_some_and(|arn| {
        arn.service == "iam"
            && arn.region.is_empty()
            && !arn.account.is_empty()
            && arn
                .resource
                .strip_prefix("role/")
                .is_some_and(|name| !name.is_empty())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arns() {
        assert!(is_valid_role_arn(
            "arn:aws:iam::123456789012:role/tmol-upload"
        ));
        assert!(is_valid_role_arn(
            "arn:aws-us-gov:iam::123456789012:role/path/x"
        ));
        assert!(!is_valid_role_arn("arn:aws:iam::12345:role/x"));
        assert!(!is_valid_role_arn("arn:aws:s3:::bucket"));
        assert!(!is_valid_role_arn("arn:aws:iam::123456789012:user/x"));
    }

    #[test]
    fn bucket_names() {
        assert!(is_valid_bucket_name("acme-uploads-prod"));
        assert!(!is_valid_bucket_name("Acme"));
        assert!(!is_valid_bucket_name("ab"));
        assert!(!is_valid_bucket_name("a..b"));
        assert!(!is_valid_bucket_name("-abc"));
    }

    #[test]
    fn every_alias_problem_is_named_by_its_key() {
        let uploads = BucketRoute::default();
        let broken = BucketRoute {
            name: Some("Tmol_Shared".into()),
            region: Some("mars-1x".into()),
            endpoint: Some("ftp://x.example".into()),
            session_name: Some("hoist".into()),
            ..BucketRoute::default()
        };
        let buckets = BTreeMap::from([
            ("uploads".to_owned(), uploads),
            ("tmol".to_owned(), broken),
            ("bad alias".to_owned(), BucketRoute::default()),
        ]);
        let files = FilesRoute {
            default_bucket: Some("nowhere".into()),
        };
        let keys: Vec<String> = check_buckets(&buckets, &files)
            .into_iter()
            .map(|p| p.key)
            .collect();
        assert_eq!(
            keys,
            [
                "buckets.bad alias",
                "buckets.bad alias.name",
                "buckets.tmol.name",
                "buckets.tmol.region",
                "buckets.tmol.endpoint",
                "buckets.tmol.role_arn",
                "files.default_bucket",
            ]
        );
        // No alias at all is a gateway that refuses every upload, not a broken one: the
        // binary starts with no routes file.
        assert!(check_buckets(&BTreeMap::new(), &FilesRoute::default()).is_empty());
    }

    #[test]
    fn limits() {
        assert!(check_list(&ListSettings::default()).is_empty());
        assert!(check_delete(&DeleteSettings::default()).is_empty());
        let inverted = ListSettings {
            default_limit: 100,
            max_limit: 10,
            max_keys: 0,
        };
        let keys: Vec<String> = check_list(&inverted).into_iter().map(|p| p.key).collect();
        assert_eq!(keys, ["list.default_limit", "list.max_keys"]);
        assert_eq!(
            check_delete(&DeleteSettings { max_keys: 0 })[0].key,
            "delete.max_keys"
        );
    }
}
