//! The checks of `[upload]`: part sizes S3 accepts, a file size that fits in S3's part count,
//! a single PutObject S3 accepts, and a memory budget, parallelism and read timeout the
//! pipeline can work with. (The checksums a client sends are checked in `checks`.)

use crate::config::{ConfigProblem, UploadSettings};

/// S3 requires parts of at least 5 MiB (except the last).
const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;
const MAX_PART_SIZE: u64 = 5 * 1024 * 1024 * 1024;
const MAX_PARTS: u64 = 10_000;
const MAX_SINGLE_PUT: u64 = 5 * 1024 * 1024 * 1024;

/// Every problem of `[upload]`.
pub fn check(upload: &UploadSettings) -> Vec<ConfigProblem> {
    let mut problems = Vec::new();
    if !(MIN_PART_SIZE..=MAX_PART_SIZE).contains(&upload.part_size) {
        problems.push(ConfigProblem::new(
            "upload.part_size",
            format!("must be between {MIN_PART_SIZE} (5 MiB) and {MAX_PART_SIZE} (5 GiB) bytes"),
        ));
    } else if upload.max_file_size.div_ceil(upload.part_size) >= MAX_PARTS {
        problems.push(ConfigProblem::new(
            "upload.max_file_size",
            format!(
                "needs {} parts of part_size; S3 allows fewer than {MAX_PARTS}",
                upload.max_file_size.div_ceil(upload.part_size)
            ),
        ));
    }
    if upload.max_buffer_bytes < upload.part_size {
        problems.push(ConfigProblem::new(
            "upload.max_buffer_bytes",
            "must hold at least one part (part_size)",
        ));
    }
    if upload.parts_in_flight == 0 {
        problems.push(ConfigProblem::new(
            "upload.parts_in_flight",
            "must be at least 1",
        ));
    }
    if upload.read_timeout.is_zero() {
        problems.push(ConfigProblem::new(
            "upload.read_timeout",
            "must be longer than zero",
        ));
    }
    // The window is checked in ten slots; below a second they would be too fine to mean much.
    if upload.min_rate > 0 && upload.min_rate_window < std::time::Duration::from_secs(1) {
        problems.push(ConfigProblem::new(
            "upload.min_rate_window",
            "must be at least 1s",
        ));
    }
    if upload.single_put_max > MAX_SINGLE_PUT {
        problems.push(ConfigProblem::new(
            "upload.single_put_max",
            format!("must be at most {MAX_SINGLE_PUT} (5 GiB), S3's limit for one PutObject"),
        ));
    }
    if upload.budget_wait.is_zero() {
        problems.push(ConfigProblem::new(
            "upload.budget_wait",
            "must be longer than zero",
        ));
    }
    problems
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn keys(upload: &UploadSettings) -> Vec<String> {
        check(upload).into_iter().map(|p| p.key).collect()
    }

    #[test]
    fn the_defaults_pass() {
        assert!(keys(&UploadSettings::default()).is_empty());
    }

    #[test]
    fn parts_must_suit_s3() {
        let small = UploadSettings {
            part_size: MIN_PART_SIZE - 1,
            ..UploadSettings::default()
        };
        assert_eq!(keys(&small), ["upload.part_size"]);
        let too_many = UploadSettings {
            part_size: MIN_PART_SIZE,
            max_file_size: MIN_PART_SIZE * MAX_PARTS,
            ..UploadSettings::default()
        };
        assert_eq!(keys(&too_many), ["upload.max_file_size"]);
        let just_enough = UploadSettings {
            max_file_size: MIN_PART_SIZE * (MAX_PARTS - 1),
            ..too_many
        };
        assert!(keys(&just_enough).is_empty());
    }

    #[test]
    fn the_pipeline_needs_room_to_work() {
        let starved = UploadSettings {
            max_buffer_bytes: 1024,
            parts_in_flight: 0,
            read_timeout: Duration::ZERO,
            ..UploadSettings::default()
        };
        assert_eq!(
            keys(&starved),
            [
                "upload.max_buffer_bytes",
                "upload.parts_in_flight",
                "upload.read_timeout"
            ]
        );
    }

    #[test]
    fn one_put_object_holds_at_most_5_gib() {
        let over = UploadSettings {
            single_put_max: MAX_SINGLE_PUT + 1,
            ..UploadSettings::default()
        };
        assert_eq!(keys(&over), ["upload.single_put_max"]);
        let off = UploadSettings {
            single_put_max: 0,
            ..UploadSettings::default()
        };
        assert!(keys(&off).is_empty());
    }
}
