//! The layers point one way (README, "Architecture"). This test reads every
//! file under `src/` and fails when a module names a layer it must not
//! see: `crate::<module>` anywhere in the file, in a `use` or inline.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// What each layer must not see. `protocol` and `media` see nothing else;
/// `embedded`, `app`, `cli` and `main` are where things are wired.
const RULES: &[(&str, &[&str])] = &[
    (
        "protocol",
        &[
            "media", "engine", "server", "client", "capture", "link", "ui", "embedded", "app",
            "cli",
        ],
    ),
    (
        "media",
        &[
            "protocol", "engine", "server", "client", "capture", "link", "ui", "embedded", "app",
            "cli",
        ],
    ),
    (
        "engine",
        &[
            "server", "client", "capture", "link", "ui", "embedded", "app", "cli",
        ],
    ),
    (
        "server",
        &["client", "capture", "link", "ui", "embedded", "app", "cli"],
    ),
    (
        "client",
        &["server", "capture", "link", "ui", "embedded", "app", "cli"],
    ),
    (
        "capture",
        &["server", "client", "link", "ui", "embedded", "app", "cli"],
    ),
    (
        "link",
        &[
            "engine", "server", "capture", "ui", "embedded", "app", "cli",
        ],
    ),
    (
        "ui",
        &[
            "engine", "server", "client", "capture", "embedded", "app", "cli",
        ],
    ),
];

/// The top-level module a file under `src/` belongs to.
fn layer_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).expect("under src");
    let first = rel.components().next().expect("a component");
    first
        .as_os_str()
        .to_string_lossy()
        .trim_end_matches(".rs")
        .to_string()
}

/// The top-level modules a source text names as `crate::<module>`.
fn named_modules(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (at, _) in text.match_indices("crate::") {
        // `roomshare::crate::` cannot occur; skip `$crate::` in macros.
        if text[..at].ends_with('$') {
            continue;
        }
        let rest = &text[at + "crate::".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            found.insert(name);
        }
    }
    // `use crate::{a, b}` groups.
    for (at, _) in text.match_indices("crate::{") {
        let rest = &text[at + "crate::{".len()..];
        let group = rest.split('}').next().unwrap_or("");
        for item in group.split(',') {
            let name: String = item
                .trim()
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                found.insert(name);
            }
        }
    }
    found
}

/// Every `(file, forbidden module)` pair in `files`.
fn violations(files: &[(String, String)]) -> Vec<String> {
    let mut out = Vec::new();
    for (layer, text) in files {
        let Some((_, forbidden)) = RULES.iter().find(|(l, _)| l == layer) else {
            continue;
        };
        for name in named_modules(text) {
            if forbidden.contains(&name.as_str()) {
                out.push(format!("{layer} → {name}"));
            }
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable src") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn layers_point_one_way() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut paths = Vec::new();
    rust_files(&src, &mut paths);
    assert!(
        paths.len() > 40,
        "found only {} files under src/",
        paths.len()
    );
    let mut bad = Vec::new();
    for path in &paths {
        let text = std::fs::read_to_string(path).expect("readable file");
        let layer = layer_of(&src, path);
        for v in violations(&[(layer, text)]) {
            bad.push(format!("{}: {v}", path.display()));
        }
    }
    // Every layer with rules exists (a rename must update this test).
    for (layer, _) in RULES {
        assert!(
            paths.iter().any(|p| layer_of(&src, p) == *layer),
            "no module `{layer}` under src/"
        );
    }
    assert!(
        bad.is_empty(),
        "imports against the layering:\n{}",
        bad.join("\n")
    );
}

#[test]
fn the_checker_sees_every_form_of_import() {
    let file = |layer: &str, text: &str| vec![(layer.to_string(), text.to_string())];
    assert_eq!(
        violations(&file("ui", "use crate::capture::ThumbnailState;")),
        ["ui → capture"]
    );
    assert_eq!(
        violations(&file("ui", "let x = crate::client::ConnState::Connected;")),
        ["ui → client"]
    );
    assert_eq!(
        violations(&file("protocol", "use crate::{media, protocol::codes};")),
        ["protocol → media"]
    );
    assert_eq!(
        violations(&file("client", "use crate::server::Server;")),
        ["client → server"]
    );
    assert!(
        violations(&file(
            "ui",
            "use crate::link::RoomView; use crate::media::Frame;"
        ))
        .is_empty()
    );
    assert!(violations(&file("app", "use crate::engine::EngineHandle;")).is_empty());
}
