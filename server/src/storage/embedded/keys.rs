//! The keys the embedded store (s3s-fs) can hold. It keeps each object as a file at
//! `<root>/<bucket>/<key>` and its metadata in `<root>/.bucket-<b64>.object-<b64>…` files, so
//! a key S3 takes can still be impossible there: a segment longer than a file name may be,
//! a metadata file name over that limit, or a key that is both a file and a folder
//! (`a.png` and `a.png/child`). s3s-fs answers those with a bare 500 after writing part of
//! the object, so Hoist checks first and refuses them as the client's problem, saying why.

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The longest file name on the filesystems s3s-fs runs on (ext4, xfs, apfs, ntfs).
const NAME_MAX: usize = 255;

/// `.upload-<uuid>`: what a multipart upload adds to the metadata file's name.
const UPLOAD_SUFFIX: usize = ".upload-".len() + 36;

/// Where the embedded store keeps one bucket.
#[derive(Debug, Clone)]
pub struct EmbeddedLayout {
    root: PathBuf,
    bucket: String,
}

impl EmbeddedLayout {
    pub fn new(root: &Path, bucket: &str) -> Self {
        Self {
            root: root.to_path_buf(),
            bucket: bucket.to_owned(),
        }
    }

    /// Why an object cannot be written under `key`, if it cannot.
    pub fn check_put(&self, key: &str) -> Result<(), String> {
        self.check_segments(key)?;
        // The metadata file of a multipart upload has the longest name s3s-fs makes for a key.
        let metadata_name = ".bucket-".len()
            + URL_SAFE_NO_PAD.encode(&self.bucket).len()
            + ".object-".len()
            + URL_SAFE_NO_PAD.encode(key).len()
            + UPLOAD_SUFFIX
            + ".metadata.json".len();
        if metadata_name > NAME_MAX {
            let longest = (NAME_MAX - (metadata_name - URL_SAFE_NO_PAD.encode(key).len())) * 3 / 4;
            return Err(not_storable(&format!(
                "it names each object's metadata file after the base64 of bucket and key, so \
                 keys in this bucket are at most {longest} bytes; this one is {}",
                key.len()
            )));
        }
        self.check_tree(key)
    }

    /// Why `key` cannot be deleted (it cannot exist there), if it cannot.
    pub fn check_delete(&self, key: &str) -> Result<(), String> {
        self.check_segments(key)?;
        self.check_tree(key)
    }

    fn check_segments(&self, key: &str) -> Result<(), String> {
        match key.split('/').find(|segment| segment.len() > NAME_MAX) {
            Some(segment) => Err(not_storable(&format!(
                "a key segment becomes a file name, at most {NAME_MAX} bytes; one here is {}",
                segment.len()
            ))),
            None => Ok(()),
        }
    }

    /// A key is a file; a key with `/` lives in folders. Refuses a key under an object, and a
    /// key that other keys already live under.
    fn check_tree(&self, key: &str) -> Result<(), String> {
        let bucket = self.root.join(&self.bucket);
        let mut prefix = String::new();
        let segments: Vec<&str> = key.split('/').collect();
        for segment in &segments[..segments.len() - 1] {
            prefix.push_str(segment);
            if bucket.join(&prefix).is_file() {
                return Err(not_storable(&format!(
                    "`{prefix}` is an object, so nothing can be stored under `{prefix}/`"
                )));
            }
            prefix.push('/');
        }
        if bucket.join(key).is_dir() {
            return Err(not_storable(&format!(
                "objects are stored under `{key}/`, so `{key}` itself cannot be"
            )));
        }
        Ok(())
    }
}

fn not_storable(why: &str) -> String {
    format!(
        "the embedded development store keeps objects as files and cannot hold this key: \
         {why} (S3 itself would take it)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_segments_and_long_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let layout = EmbeddedLayout::new(dir.path(), "hoist-uploads");
        assert!(layout.check_put("a/b/c.txt").is_ok());
        let long = format!("a/{}", "s".repeat(300));
        assert!(layout.check_put(&long).unwrap_err().contains("255"));
        assert!(layout.check_delete(&long).is_err());
        // 120 bytes fit beside a 13-byte bucket name; 130 do not.
        assert!(layout.check_put(&"k".repeat(120)).is_ok());
        let error = layout.check_put(&"k".repeat(130)).unwrap_err();
        assert!(error.contains("at most 12"), "{error}");
        assert!(layout.check_delete(&"k".repeat(130)).is_ok());
    }

    #[test]
    fn a_key_cannot_be_a_file_and_a_folder() {
        let dir = tempfile::tempdir().unwrap();
        let bucket = dir.path().join("b-bucket");
        std::fs::create_dir_all(bucket.join("dir")).unwrap();
        std::fs::write(bucket.join("a.png"), b"x").unwrap();
        std::fs::write(bucket.join("dir/x"), b"x").unwrap();
        let layout = EmbeddedLayout::new(dir.path(), "b-bucket");
        assert!(
            layout
                .check_put("a.png/child")
                .unwrap_err()
                .contains("`a.png` is an object")
        );
        assert!(layout.check_delete("a.png/child/deeper").is_err());
        assert!(
            layout
                .check_put("dir")
                .unwrap_err()
                .contains("under `dir/`")
        );
        assert!(layout.check_put("dir/y").is_ok());
        assert!(layout.check_put("a.png").is_ok());
    }
}
