//! ARCHITECTURE.md's invariants that are about the code's shape, checked against the files themselves (the others
//! have their own tests: `no_io_deps.rs` here, `crates/flexdesk-auth/tests/module_cycles.rs`):
//! - every core event ARCHITECTURE.md names is one the wasm shell dispatches (a rule table naming an event nothing
//!   sends describes a path that never runs);
//! - no source file is over 600 lines without saying why at its top.

use std::fs;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The `Event::Name`s a text mentions.
fn events(text: &str) -> Vec<String> {
    let mut names: Vec<String> = text
        .match_indices("Event::")
        .map(|(i, _)| text[i + 7..].chars().take_while(|c| c.is_ascii_alphanumeric()).collect::<String>())
        .filter(|n| !n.is_empty())
        .collect();
    names.sort();
    names.dedup();
    names
}

#[test]
fn every_event_architecture_names_is_dispatched_by_the_shell() {
    let doc = fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap();
    let mut shell = String::new();
    let mut files = Vec::new();
    rust_files(&root().join("crates/flexdesk/src"), &mut files);
    for f in files {
        shell += &fs::read_to_string(f).unwrap();
    }
    let named = events(&doc);
    assert!(named.len() >= 10, "ARCHITECTURE.md names events: {named:?}");
    let missing: Vec<_> = named.iter().filter(|e| !events(&shell).contains(e)).collect();
    assert!(missing.is_empty(), "named in ARCHITECTURE.md but never dispatched by crates/flexdesk/src: {missing:?}");
}

#[test]
fn long_source_files_say_why_at_their_top() {
    let mut files = Vec::new();
    for krate in fs::read_dir(root().join("crates")).unwrap() {
        let src = krate.unwrap().path().join("src");
        if src.is_dir() {
            rust_files(&src, &mut files);
        }
    }
    let unexplained: Vec<_> = files
        .iter()
        .filter_map(|f| {
            let text = fs::read_to_string(f).unwrap();
            let head = text.lines().take(15).collect::<Vec<_>>().join("\n").to_lowercase();
            let long = text.lines().count() > 600;
            (long && !(head.contains("over 600 lines") || head.contains("long because") || head.contains("long ("))).then(|| f.display().to_string())
        })
        .collect();
    assert!(unexplained.is_empty(), "over 600 lines with no reason in their first lines: {unexplained:?}");
}
