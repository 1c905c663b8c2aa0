//! Where a task's run got to, kept on disk (`<data_dir>/scaffolder/checkpoints/<task>.json`)
//! after each step, so that a retry, or the resumption after an approval, starts at the step
//! that did not finish instead of the first: the steps done, their outputs and the workspace's
//! files. Written whole to a temporary file and renamed, so a process killed mid-write leaves
//! the previous checkpoint. Removed when the task completes or is cancelled.
//!
//! Secrets never reach the disk: a checkpoint whose outputs or files hold the value of a secret
//! is not written (the earlier one is removed), and that task's next run starts from its first
//! step. A checkpoint is this process's: another replica that resumes the task finds none and
//! starts from the first step too.

use super::run::Checkpoint;
use super::workspace::Workspace;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

/// The checkpoints of this process's tasks.
#[derive(Debug, Clone)]
pub struct Checkpoints {
    dir: PathBuf,
}

#[derive(Serialize, Deserialize)]
struct Stored {
    done: Vec<String>,
    outputs: Map<String, Value>,
    files: Vec<StoredFile>,
}

#[derive(Serialize, Deserialize)]
struct StoredFile {
    path: String,
    executable: bool,
    base64: String,
}

/// Whether a task id can name a file (ours are UUIDs; anything else is never written).
fn file_name(task: &str) -> Option<String> {
    let ok = !task.is_empty()
        && task.len() <= 64
        && task
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    ok.then(|| format!("{task}.json"))
}

/// Whether any secret's value appears in `bytes`.
fn holds_secret(bytes: &[u8], secrets: &[Vec<u8>]) -> bool {
    secrets
        .iter()
        .any(|s| !s.is_empty() && bytes.windows(s.len()).any(|w| w == s.as_slice()))
}

impl Checkpoints {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    fn path(&self, task: &str) -> Option<PathBuf> {
        file_name(task).map(|f| self.dir.join(f))
    }

    /// Saves where task `task` got to; false (and nothing kept) when it holds a secret.
    pub fn save(
        &self,
        task: &str,
        checkpoint: &Checkpoint,
        secrets: &Map<String, Value>,
    ) -> std::io::Result<bool> {
        let Some(path) = self.path(task) else {
            return Ok(false);
        };
        let secrets: Vec<Vec<u8>> = secrets
            .values()
            .filter_map(|v| match v {
                Value::String(s) => Some(s.as_bytes().to_vec()),
                Value::Null => None,
                other => Some(other.to_string().into_bytes()),
            })
            .collect();
        let outputs = serde_json::to_vec(&checkpoint.outputs).unwrap_or_default();
        if holds_secret(&outputs, &secrets)
            || checkpoint
                .workspace
                .files()
                .values()
                .any(|f| holds_secret(&f.contents, &secrets))
        {
            self.remove(task);
            return Ok(false);
        }
        let stored = Stored {
            done: checkpoint.done.clone(),
            outputs: checkpoint.outputs.clone(),
            files: checkpoint
                .workspace
                .files()
                .iter()
                .map(|(path, f)| StoredFile {
                    path: path.clone(),
                    executable: f.executable,
                    base64: base64::engine::general_purpose::STANDARD.encode(&f.contents),
                })
                .collect(),
        };
        std::fs::create_dir_all(&self.dir)?;
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, serde_json::to_vec(&stored).unwrap_or_default())?;
        std::fs::rename(&tmp, &path)?;
        Ok(true)
    }

    /// Where task `task` got to, when this process saved it.
    pub fn load(&self, task: &str) -> Option<Checkpoint> {
        let text = std::fs::read(self.path(task)?).ok()?;
        let stored: Stored = serde_json::from_slice(&text).ok()?;
        let mut workspace = Workspace::new();
        for f in stored.files {
            let contents = base64::engine::general_purpose::STANDARD
                .decode(f.base64.as_bytes())
                .ok()?;
            workspace.write(&f.path, contents, f.executable).ok()?;
        }
        Some(Checkpoint {
            done: stored.done,
            outputs: stored.outputs,
            workspace,
        })
    }

    /// Forgets where task `task` got to.
    pub fn remove(&self, task: &str) {
        if let Some(path) = self.path(task) {
            let _ = std::fs::remove_file(path);
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn checkpoints_round_trip_and_never_keep_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let store = Checkpoints::new(dir.path().join("checkpoints"));
        let mut workspace = Workspace::new();
        workspace
            .write("src/main.rs", b"fn main() {}".to_vec(), false)
            .unwrap();
        workspace
            .write("run.sh", b"#!/bin/sh\n".to_vec(), true)
            .unwrap();
        let checkpoint = Checkpoint {
            done: vec!["fetch".into()],
            outputs: json!({"fetch": {"output": {"n": 1}}})
                .as_object()
                .cloned()
                .unwrap(),
            workspace,
        };
        let secrets = json!({"token": "hunter2"}).as_object().cloned().unwrap();
        assert!(store.save("t-1", &checkpoint, &secrets).unwrap());
        let back = store.load("t-1").expect("loaded");
        assert_eq!(back.done, ["fetch"]);
        assert_eq!(back.outputs, checkpoint.outputs);
        assert_eq!(back.workspace.files(), checkpoint.workspace.files());

        // A secret in a file: nothing kept, the earlier checkpoint gone too.
        let mut leaky = checkpoint.clone();
        leaky
            .workspace
            .write("config.env", b"TOKEN=hunter2\n".to_vec(), false)
            .unwrap();
        assert!(!store.save("t-1", &leaky, &secrets).unwrap());
        assert!(store.load("t-1").is_none());
        // In an output: the same.
        let mut leaky = checkpoint.clone();
        leaky.outputs = json!({"fetch": {"output": {"url": "https://x/hunter2"}}})
            .as_object()
            .cloned()
            .unwrap();
        assert!(!store.save("t-2", &leaky, &secrets).unwrap());
        assert!(store.load("t-2").is_none());
        // Ids that are not file names are never written.
        assert!(!store.save("../x", &checkpoint, &Map::new()).unwrap());
        store.remove("t-1");
        assert!(store.load("t-1").is_none());
    }
}
