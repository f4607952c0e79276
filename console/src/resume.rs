//! Unfinished tus uploads, remembered in a small JSON file under the user's state folder
//! (`$XDG_STATE_HOME/hoist/uploads.json`, else `~/.local/state/hoist/uploads.json`), so an
//! upload cut by a network failure, a closed laptop or a quit resumes where the server has it.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// One upload the server knows by `url`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resumable {
    pub server: String,
    pub alias: String,
    pub key: String,
    pub path: PathBuf,
    pub size: u64,
    /// The tus upload URL (absolute).
    pub url: String,
}

/// The file of unfinished uploads.
#[derive(Debug, Clone)]
pub struct ResumeStore {
    file: PathBuf,
}

impl ResumeStore {
    pub fn at(file: PathBuf) -> Self {
        Self { file }
    }

    /// The default place, when the environment names a home.
    pub fn default_file() -> Option<PathBuf> {
        let state = std::env::var_os("XDG_STATE_HOME")
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("HOME").map(|home| Path::new(&home).join(".local/state"))
            })?;
        Some(state.join("hoist").join("uploads.json"))
    }

    /// Every remembered upload (none when the file is missing or unreadable).
    pub fn all(&self) -> Vec<Resumable> {
        std::fs::read(&self.file)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    /// The upload of the same file to the same place on `server`, if one is remembered.
    pub fn find(
        &self,
        server: &str,
        alias: &str,
        key: &str,
        path: &Path,
        size: u64,
    ) -> Option<Resumable> {
        self.all().into_iter().find(|entry| {
            entry.server == server
                && entry.alias == alias
                && entry.key == key
                && entry.path == path
                && entry.size == size
        })
    }

    pub fn remember(&self, entry: Resumable) -> std::io::Result<()> {
        let mut all = self.all();
        all.retain(|other| other.url != entry.url);
        all.push(entry);
        self.write(&all)
    }

    pub fn forget(&self, url: &str) -> std::io::Result<()> {
        let mut all = self.all();
        all.retain(|entry| entry.url != url);
        self.write(&all)
    }

    fn write(&self, all: &[Resumable]) -> std::io::Result<()> {
        if let Some(dir) = self.file.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let text = serde_json::to_vec_pretty(all).map_err(std::io::Error::other)?;
        // Written beside and renamed, so a crash never leaves half a file.
        let temporary = self.file.with_extension("json.tmp");
        std::fs::write(&temporary, text)?;
        std::fs::rename(temporary, &self.file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploads_are_remembered_found_and_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let store = ResumeStore::at(dir.path().join("state/uploads.json"));
        assert!(store.all().is_empty());
        let entry = Resumable {
            server: "http://h".into(),
            alias: "uploads".into(),
            key: "a/b.bin".into(),
            path: "/tmp/b.bin".into(),
            size: 10,
            url: "http://h/tus/uploads~1".into(),
        };
        store.remember(entry.clone()).unwrap();
        assert_eq!(
            store.find(
                "http://h",
                "uploads",
                "a/b.bin",
                Path::new("/tmp/b.bin"),
                10
            ),
            Some(entry.clone())
        );
        assert_eq!(
            store.find(
                "http://h",
                "uploads",
                "a/b.bin",
                Path::new("/tmp/b.bin"),
                11
            ),
            None
        );
        store.forget(&entry.url).unwrap();
        assert!(store.all().is_empty());
    }
}
