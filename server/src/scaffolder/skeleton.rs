//! `fetch:template` over in-memory files: every path rendered, contents rendered unless
//! excluded, binary files copied byte for byte, as Backstage's action writes them.
//!
//! Path rules (Backstage's): a rendered path that is empty, starts with `/` or contains `//`
//! is skipped silently (that is how `${{ values.x }}/file` is left out when `x` is undefined);
//! one that would leave the workspace (`..`) is refused. A file already in the workspace (or
//! written earlier by the same skeleton) is kept unless `replace` is set.

use std::collections::BTreeSet;

use super::render::{Renderer, Syntax};
use super::{js, RenderError};

/// One file of a skeleton (path relative to the skeleton's folder, `/`-separated) or of the
/// result (path relative to the workspace).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkeletonFile {
    pub path: String,
    pub contents: Vec<u8>,
    pub executable: bool,
}

/// `fetch:template`'s inputs that shape rendering (its `url` is the caller's business).
#[derive(Debug, Clone, Default)]
pub struct SkeletonOptions {
    /// The template's `values` (the context is `{values}`, or `{cookiecutter}`).
    pub values: serde_json::Value,
    /// Globs (relative to the skeleton) whose files are copied without rendering their
    /// contents; their paths are still rendered. A pattern naming a folder covers its files.
    pub copy_without_templating: Vec<String>,
    /// `{{ }}` delimiters and the `cookiecutter` context name.
    pub cookiecutter_compat: bool,
    /// Only files ending with this extension (with its dot, e.g. `.njk`) have their contents
    /// rendered, and lose the extension.
    pub template_file_extension: Option<String>,
    /// Where in the workspace the files go (default: its root).
    pub target_path: Option<String>,
    /// Overwrite files that exist already.
    pub replace: bool,
    pub trim_blocks: bool,
    pub lstrip_blocks: bool,
    /// Workspace paths that exist already (kept unless `replace`).
    pub existing: BTreeSet<String>,
}

impl SkeletonOptions {
    /// Reads the inputs of a `fetch:template` step (already rendered): `values`,
    /// `copyWithoutTemplating`, `copyWithoutRender` (accepted and ignored, as Backstage 4.x
    /// does), `cookiecutterCompat`, `templateFileExtension` (`true` is `.njk`), `targetPath`,
    /// `replace`, `trimBlocks`, `lstripBlocks`.
    pub fn from_input(input: &serde_json::Value) -> Result<Self, RenderError> {
        let flag = |k: &str| {
            input
                .get(k)
                .and_then(serde_json::Value::as_bool)
                .unwrap_or(false)
        };
        let copy_without_templating = match input.get("copyWithoutTemplating") {
            None | Some(serde_json::Value::Null) => Vec::new(),
            Some(serde_json::Value::Array(items)) => items
                .iter()
                .map(|i| i.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| {
                    RenderError::InvalidInput(
                        "copyWithoutTemplating must be an array of globs".into(),
                    )
                })?,
            Some(_) => {
                return Err(RenderError::InvalidInput(
                    "Fetch action input copyWithoutTemplating must be an Array".into(),
                ))
            }
        };
        let template_file_extension = match input.get("templateFileExtension") {
            Some(serde_json::Value::Bool(true)) => Some(".njk".to_string()),
            Some(serde_json::Value::String(s)) if !s.is_empty() => Some(if s.starts_with('.') {
                s.clone()
            } else {
                format!(".{s}")
            }),
            _ => None,
        };
        let cookiecutter_compat = flag("cookiecutterCompat");
        if template_file_extension.is_some()
            && (input
                .get("copyWithoutTemplating")
                .is_some_and(|v| !v.is_null())
                || cookiecutter_compat)
        {
            return Err(RenderError::InvalidInput(
                "Fetch action input extension incompatible with copyWithoutTemplating and cookiecutterCompat".into(),
            ));
        }
        Ok(Self {
            values: input
                .get("values")
                .cloned()
                .unwrap_or_else(|| serde_json::json!({})),
            copy_without_templating,
            cookiecutter_compat,
            template_file_extension,
            target_path: input
                .get("targetPath")
                .and_then(|v| v.as_str())
                .map(str::to_string),
            replace: flag("replace"),
            trim_blocks: flag("trimBlocks"),
            lstrip_blocks: flag("lstripBlocks"),
            existing: BTreeSet::new(),
        })
    }
}

impl Renderer {
    /// Renders a skeleton: the files to write, with workspace-relative paths, in the
    /// skeleton's path order. Errors name the file (and line) that failed.
    pub fn render_skeleton(
        &self,
        files: &[SkeletonFile],
        options: &SkeletonOptions,
    ) -> Result<Vec<SkeletonFile>, RenderError> {
        let engine = self.engine(Syntax {
            cookiecutter_compat: options.cookiecutter_compat,
            trim_blocks: options.trim_blocks,
            lstrip_blocks: options.lstrip_blocks,
        });
        let context_name = if options.cookiecutter_compat {
            "cookiecutter"
        } else {
            "values"
        };
        let ctx = js::object(vec![(context_name, Some(js::from_json(&options.values)))]);
        let target = resolve_child(&[], options.target_path.as_deref().unwrap_or("./"))?;
        let patterns = options
            .copy_without_templating
            .iter()
            .map(|p| {
                glob::Pattern::new(p.trim_start_matches("./")).map_err(|e| {
                    RenderError::InvalidInput(format!("copyWithoutTemplating pattern {p:?}: {e}"))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;

        let mut sorted: Vec<&SkeletonFile> = files.iter().collect();
        sorted.sort_by(|a, b| a.path.cmp(&b.path));
        let mut written: Vec<SkeletonFile> = Vec::new();
        for file in sorted {
            let (render_contents, path) = match &options.template_file_extension {
                Some(ext) => match file.path.strip_suffix(ext.as_str()) {
                    Some(stem) if extension_of(&file.path) == Some(ext.as_str()) => (true, stem),
                    _ => (false, file.path.as_str()),
                },
                None => (
                    !is_copied_verbatim(&file.path, &patterns),
                    file.path.as_str(),
                ),
            };
            let rendered_path = engine.render(path, &ctx, Some(&file.path))?;
            if rendered_path.is_empty()
                || rendered_path.starts_with('/')
                || rendered_path.contains("//")
            {
                tracing::debug!(path = %file.path, rendered = %rendered_path, "skeleton file skipped");
                continue;
            }
            let out_path = resolve_child(&target, &rendered_path)?.join("/");
            let seen = written.iter().position(|w| w.path == out_path);
            if (seen.is_some() || options.existing.contains(&out_path)) && !options.replace {
                continue;
            }
            let contents = if !render_contents || is_binary(&file.contents) {
                file.contents.clone()
            } else {
                let text = String::from_utf8_lossy(&file.contents);
                engine.render(&text, &ctx, Some(&file.path))?.into_bytes()
            };
            let out = SkeletonFile {
                path: out_path,
                contents,
                executable: file.executable,
            };
            match seen {
                Some(i) => written[i] = out,
                None => written.push(out),
            }
        }
        Ok(written)
    }
}

/// `path.extname`: the last `.suffix` of the file name, not counting a leading dot.
fn extension_of(path: &str) -> Option<&str> {
    let name = path.rsplit('/').next().unwrap_or(path);
    let dot = name.rfind('.')?;
    (dot > 0).then(|| &name[dot..])
}

/// Whether a skeleton path matches one of the `copyWithoutTemplating` globs, itself or
/// through a folder it is in.
fn is_copied_verbatim(path: &str, patterns: &[glob::Pattern]) -> bool {
    let options = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: false,
    };
    let mut candidates = vec![path];
    let mut rest = path;
    while let Some((parent, _)) = rest.rsplit_once('/') {
        candidates.push(parent);
        rest = parent;
    }
    patterns
        .iter()
        .any(|p| candidates.iter().any(|c| p.matches_with(c, options)))
}

/// `base` (already safe components) joined with a relative path, normalised; refused when it
/// is absolute or climbs out of the workspace.
fn resolve_child(base: &[String], path: &str) -> Result<Vec<String>, RenderError> {
    let outside = || RenderError::OutsideWorkspace {
        path: path.to_string(),
    };
    if path.starts_with('/') {
        return Err(outside());
    }
    let mut parts = base.to_vec();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop().ok_or_else(outside)?;
            }
            other => parts.push(other.to_string()),
        }
    }
    Ok(parts)
}

/// The `isbinaryfile` heuristic Backstage uses, on the first 512 bytes: a NUL byte, a PDF
/// header, or more than 10% bytes that are neither text controls, ASCII nor UTF-8 sequences;
/// byte-order marks mean text.
pub(crate) fn is_binary(bytes: &[u8]) -> bool {
    const MAX: usize = 512;
    if bytes.is_empty() {
        return false;
    }
    let boms: [&[u8]; 6] = [
        &[0xef, 0xbb, 0xbf],
        &[0x00, 0x00, 0xfe, 0xff],
        &[0xff, 0xfe, 0x00, 0x00],
        &[0x84, 0x31, 0x95, 0x33],
        &[0xfe, 0xff],
        &[0xff, 0xfe],
    ];
    if bytes.starts_with(b"%PDF-") {
        return true;
    }
    if boms.iter().any(|bom| bytes.starts_with(bom)) {
        return false;
    }
    let total = bytes.len().min(MAX + 3);
    let scan = bytes.len().min(MAX);
    let continuation = |i: usize| i < total && (0x80..=0xbf).contains(&bytes[i]);
    let mut suspicious = 0usize;
    let mut i = 0;
    while i < scan {
        let b = bytes[i];
        if b == 0 {
            return true;
        }
        let plain = (7..=14).contains(&b) || (32..=127).contains(&b);
        if !plain {
            let len = match b {
                0xc0..=0xdf => 2,
                0xe0..=0xef => 3,
                0xf0..=0xf7 => 4,
                _ => 0,
            };
            if len > 0 && i + len - 1 < total && (1..len).all(|k| continuation(i + k)) {
                i += len;
                continue;
            }
            suspicious += 1;
            if i >= 32 && suspicious * 100 / scan > 10 {
                return true;
            }
        }
        i += 1;
    }
    suspicious * 100 / scan > 10
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, text: &str) -> SkeletonFile {
        SkeletonFile {
            path: path.into(),
            contents: text.as_bytes().to_vec(),
            executable: false,
        }
    }

    #[test]
    fn a_path_climbing_out_of_the_workspace_is_refused_with_its_name() {
        let options = SkeletonOptions {
            values: serde_json::json!({"dir": "../.."}),
            ..Default::default()
        };
        let err = Renderer::new()
            .render_skeleton(&[file("${{ values.dir }}/x.txt", "x")], &options)
            .expect_err("refused");
        assert_eq!(
            err,
            RenderError::OutsideWorkspace {
                path: "../../x.txt".into()
            }
        );
        let options = SkeletonOptions {
            target_path: Some("../out".into()),
            ..Default::default()
        };
        let err = Renderer::new()
            .render_skeleton(&[file("x.txt", "x")], &options)
            .expect_err("refused");
        assert_eq!(
            err,
            RenderError::OutsideWorkspace {
                path: "../out".into()
            }
        );
    }

    #[test]
    fn existing_files_are_kept_unless_replace() {
        let mut options = SkeletonOptions {
            existing: ["a.txt".to_string()].into(),
            ..Default::default()
        };
        let files = [file("a.txt", "new"), file("b.txt", "b")];
        let out = Renderer::new()
            .render_skeleton(&files, &options)
            .expect("renders");
        assert_eq!(
            out.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(),
            ["b.txt"]
        );
        options.replace = true;
        let out = Renderer::new()
            .render_skeleton(&files, &options)
            .expect("renders");
        assert_eq!(out.len(), 2);
    }

    #[test]
    fn a_render_error_names_the_file_and_line() {
        let err = Renderer::new()
            .render_skeleton(
                &[file("dir/a.txt", "one\ntwo ${{ values.x | nope }}\n")],
                &SkeletonOptions::default(),
            )
            .expect_err("unknown filter");
        match err {
            RenderError::Template { file, line, .. } => {
                assert_eq!(file.as_deref(), Some("dir/a.txt"));
                assert_eq!(line, Some(2));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn binary_detection() {
        assert!(is_binary(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"));
        assert!(!is_binary("héllo ${{ values.x }}\n".as_bytes()));
        assert!(!is_binary(b""));
    }
}
