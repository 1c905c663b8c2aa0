//! A dry-run as the pages show it ([`app::templates::PreviewView`]): each step and what
//! happened to it (run, skipped because its `if` was false or because its action reaches
//! outside, failed, not reached), the files as a tree and their contents (text up to
//! [`MAX_TEXT`] bytes, binary files by name and size), the log and the output, and a failure
//! in words naming its step. The wizard's review ("Preview the files") and `/create/edit` use
//! it; nothing of it is stored.

use super::dry_run::DryRunError;
use super::run::RunOutcome;
use app::templates::{PreviewFile, PreviewStep, PreviewView, TreeEntry};
use serde_json::Value;

/// The most of one file's text a preview shows.
pub const MAX_TEXT: usize = 64 * 1024;
/// The most files a preview shows the contents of (the tree lists them all).
pub const MAX_FILES: usize = 200;

/// The preview of a dry-run's result.
pub fn preview(result: Result<RunOutcome, DryRunError>) -> PreviewView {
    match result {
        Ok(outcome) => of_outcome(outcome),
        Err(DryRunError::Invalid(problems)) => PreviewView {
            error: Some("The values do not satisfy the template's parameters.".into()),
            invalid: problems
                .iter()
                .map(|p| format!("{}: {}", p.field, p.message))
                .collect(),
            ..Default::default()
        },
        Err(DryRunError::StepFailed(step, error)) => PreviewView {
            error: Some(format!("Step {step} failed: {error}")),
            ..Default::default()
        },
        Err(e) => PreviewView {
            error: Some(format!("The template cannot run: {e}")),
            ..Default::default()
        },
    }
}

fn of_outcome(outcome: RunOutcome) -> PreviewView {
    let mut steps: Vec<PreviewStep> = outcome
        .steps
        .iter()
        .map(|s| {
            let text = |k: &str| s[k].as_str().unwrap_or_default().to_string();
            PreviewStep {
                id: text("id"),
                name: text("name"),
                action: text("action"),
                status: "open".into(),
                note: None,
            }
        })
        .collect();
    let mut stand_ins = false;
    for line in &outcome.log {
        let (Some(id), Some(status)) = (&line.step_id, &line.status) else {
            continue;
        };
        let Some(step) = steps.iter_mut().find(|s| &s.id == id) else {
            continue;
        };
        step.status = match status.as_str() {
            "processing" => "open".into(),
            other => other.to_string(),
        };
        if status == "skipped" {
            let outside = line.message.contains("does not support dry-run");
            stand_ins |= outside;
            step.note = Some(if outside {
                format!(
                    "{} reaches outside Backlot's preview (it publishes or registers): it runs when you create",
                    step.action
                )
            } else {
                "its if condition was false: it will not run".into()
            });
        }
    }
    let error = outcome.failed.as_ref().map(|(id, message)| {
        let name = steps
            .iter()
            .find(|s| &s.id == id)
            .map(|s| s.name.clone())
            .filter(|n| !n.is_empty() && n != id);
        if let Some(step) = steps.iter_mut().find(|s| &s.id == id) {
            step.status = "failed".into();
            step.note = Some(message.clone());
        }
        match name {
            Some(name) => format!("Step \u{201c}{name}\u{201d} ({id}) failed: {message}"),
            None => format!("Step {id} failed: {message}"),
        }
    });
    let paths: Vec<&String> = outcome.workspace.files().keys().collect();
    let tree = tree(&paths);
    let files = outcome
        .workspace
        .files()
        .iter()
        .enumerate()
        .map(|(i, (path, f))| {
            let size = f.contents.len() as u64;
            let (text, truncated) = if i >= MAX_FILES {
                (None, true)
            } else {
                text_of(&f.contents)
            };
            PreviewFile {
                path: path.clone(),
                size,
                executable: f.executable,
                text,
                truncated,
            }
        })
        .collect();
    let output = match &outcome.output {
        Value::Null => None,
        Value::Object(o) if o.is_empty() => None,
        v => serde_json::to_string_pretty(v).ok(),
    };
    PreviewView {
        steps,
        tree,
        files,
        log: outcome.log.into_iter().map(|l| l.message).collect(),
        output,
        error,
        invalid: Vec::new(),
        stand_ins,
    }
}

/// A file's text (the start of it when longer than [`MAX_TEXT`]), or `None` when it is binary
/// (not UTF-8, or with NUL bytes).
fn text_of(contents: &[u8]) -> (Option<String>, bool) {
    let head = &contents[..contents.len().min(MAX_TEXT)];
    if head.contains(&0) {
        return (None, false);
    }
    let truncated = contents.len() > MAX_TEXT;
    match std::str::from_utf8(head) {
        Ok(s) => (Some(s.to_string()), truncated),
        // Cut in the middle of a character: keep what is whole.
        Err(e) if truncated && e.error_len().is_none() => (
            Some(String::from_utf8_lossy(&head[..e.valid_up_to()]).into_owned()),
            true,
        ),
        Err(_) => (None, false),
    }
}

/// Sorted paths as a tree: each folder once, before what it holds.
fn tree(paths: &[&String]) -> Vec<TreeEntry> {
    let mut out = Vec::new();
    let mut open: Vec<&str> = Vec::new();
    for (i, path) in paths.iter().enumerate() {
        let parts: Vec<&str> = path.split('/').collect();
        let (dirs, name) = parts.split_at(parts.len() - 1);
        let same = open.iter().zip(dirs).take_while(|(a, b)| *a == *b).count();
        open.truncate(same);
        for dir in &dirs[same..] {
            out.push(TreeEntry {
                depth: open.len(),
                name: format!("{dir}/"),
                file: None,
            });
            open.push(dir);
        }
        out.push(TreeEntry {
            depth: open.len(),
            name: name[0].to_string(),
            file: Some(i),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_a_tree_with_each_folder_once() {
        let paths: Vec<String> = ["README.md", "k8s/a.yaml", "k8s/b/c.yaml", "k8s/d.yaml", "z"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let refs: Vec<&String> = paths.iter().collect();
        let lines: Vec<String> = tree(&refs)
            .iter()
            .map(|e| {
                format!(
                    "{}{}{}",
                    "  ".repeat(e.depth),
                    e.name,
                    e.file.map(|i| format!(" #{i}")).unwrap_or_default()
                )
            })
            .collect();
        assert_eq!(
            lines,
            [
                "README.md #0",
                "k8s/",
                "  a.yaml #1",
                "  b/",
                "    c.yaml #2",
                "  d.yaml #3",
                "z #4"
            ]
        );
    }

    #[test]
    fn text_binary_and_long_files() {
        assert_eq!(text_of(b"hello\n"), (Some("hello\n".into()), false));
        assert_eq!(text_of(&[0x89, b'P', b'N', b'G', 0, 1]), (None, false));
        assert_eq!(text_of(&[0xff, 0xfe, b'a']), (None, false));
        let long = "é".repeat(MAX_TEXT); // two bytes each: cut inside a character
        let (text, truncated) = text_of(long.as_bytes());
        assert!(truncated);
        let text = text.expect("text");
        assert!(text.len() <= MAX_TEXT && text.len() >= MAX_TEXT - 1);
        assert!(text.chars().all(|c| c == 'é'));
    }
}
