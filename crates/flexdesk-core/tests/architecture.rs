//! ARCHITECTURE.md's invariants that are about the code's shape, checked against the files themselves (the others
//! have their own tests: `no_io_deps.rs` here, `crates/flexdesk-auth/tests/module_cycles.rs`):
//! - every core event ARCHITECTURE.md names is one the wasm shell dispatches (a rule table naming an event nothing
//!   sends describes a path that never runs);
//! - every tab call the core makes is carried out by a function of the npm wrapper, which holds none of the tab rules;
//! - the crates depend on each other exactly as its "Dependency direction" lists;
//! - no source file (Rust, JavaScript, TypeScript; tests, demo and scripts included) is over 600 lines without saying
//!   why at its top.

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
fn the_wrapper_carries_out_every_tab_call_and_holds_no_tab_rule() {
    let effect = fs::read_to_string(root().join("crates/flexdesk-core/src/session/effect.rs")).unwrap();
    let shell = fs::read_to_string(root().join("crates/flexdesk/src/shell.rs")).unwrap();
    let wrapper = fs::read_to_string(root().join("crates/flexdesk/js/index.js")).unwrap();
    let body = &effect[effect.find("pub enum TabCall {").expect("TabCall in effect.rs")..];
    let body = &body[..body.find("\n}").unwrap()];
    let variants: Vec<&str> = body.lines().filter_map(|l| l.strip_prefix("    ")).filter(|l| l.starts_with(|c: char| c.is_ascii_uppercase())).map(|l| l.split(|c: char| !c.is_ascii_alphanumeric()).next().unwrap()).collect();
    assert_eq!(variants.len(), 4, "{variants:?}");
    for v in variants {
        // The shell's arm for it names the wrapper's function, e.g. `TabCall::LetGo => self.ui("letGo", ...)`.
        let arm = shell.lines().find(|l| l.trim_start().starts_with(&format!("TabCall::{v}"))).unwrap_or_else(|| panic!("shell.rs carries out TabCall::{v}"));
        let name = arm.split('"').nth(1).unwrap_or_else(|| panic!("the function called for TabCall::{v}: {arm}"));
        assert!(wrapper.contains(&format!("{name}: {{")), "js/index.js defines {name} on the desk's callback");
    }
    // The one web-chat call the wrapper carries out itself (suspend, then `agentEndedChat`).
    let arm = shell.lines().find(|l| l.trim_start().starts_with("WebCall::ChatEndedQuietly")).expect("shell.rs carries out WebCall::ChatEndedQuietly");
    let name = arm.split('"').nth(1).expect("the function called for WebCall::ChatEndedQuietly");
    assert!(wrapper.contains(&format!("{name}: {{")), "js/index.js defines {name} on the desk's callback");
    // What the wrapper decided before the tab rules moved to the core (flexdesk-core `session/tab.rs`): which tab holds
    // the chat (an `owner` flag), whether a found chat is over (its own token request), which chat's `lastShown` counts.
    for (pattern, rule) in [("owner", "who holds the chat"), ("/token", "whether a found chat is over"), ("lastShown", "what this tab showed")] {
        assert!(!wrapper.contains(pattern), "js/index.js decides {rule} ({pattern:?}): that is the core's");
    }
}

#[test]
fn crate_dependencies_are_the_ones_architecture_md_lists() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline", "--manifest-path"])
        .arg(root().join("Cargo.toml"))
        .output()
        .expect("cargo metadata runs");
    assert!(out.status.success(), "cargo metadata: {}", String::from_utf8_lossy(&out.stderr));
    let metadata: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut edges: Vec<(String, String)> = Vec::new();
    for p in metadata["packages"].as_array().unwrap() {
        for d in p["dependencies"].as_array().unwrap() {
            let to = d["name"].as_str().unwrap();
            if d["kind"].is_null() && to.starts_with("flexdesk") {
                edges.push((p["name"].as_str().unwrap().into(), to.into()));
            }
        }
    }
    edges.sort();
    let doc = fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap();
    let section = &doc[doc.find("## Dependency direction").unwrap()..];
    let section = &section[..section[3..].find("\n## ").unwrap()];
    // Each edge as the section writes it: "`a` → `b`", in a chain or alone.
    let mut listed: Vec<(String, String)> = Vec::new();
    for line in section.lines().filter(|l| l.starts_with("- ")) {
        let names: Vec<&str> = line.split(':').next().unwrap().split('`').skip(1).step_by(2).collect();
        let arrows: Vec<&str> = line.split(':').next().unwrap().split('`').skip(2).step_by(2).collect();
        for (i, w) in names.windows(2).enumerate() {
            if arrows[i].trim() == "→" {
                listed.push((w[0].into(), w[1].into()));
            }
        }
    }
    listed.sort();
    listed.dedup();
    assert_eq!(edges, listed, "the crates' dependencies (left) against ARCHITECTURE.md's list (right)");
}

/// Source files (Rust, JavaScript, TypeScript) under `dir`, past the folders of built or installed code.
fn source_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy();
        if path.is_dir() {
            if !matches!(&*name, "node_modules" | "dist" | "target" | "pkg" | "corpus" | "artifacts") && !name.starts_with('.') {
                source_files(&path, out);
            }
        } else if ["rs", "js", "mjs", "cjs", "ts"].iter().any(|e| path.extension().is_some_and(|x| x == *e)) {
            out.push(path);
        }
    }
}

#[test]
fn long_source_files_say_why_at_their_top() {
    // Every source file of the project, tests, demo and scripts included (issue 26: "no source file over ~600 lines
    // without a reason written at its top").
    let mut files = Vec::new();
    for dir in ["crates", "tests", "www", "scripts", "bench", "fuzz", "examples"] {
        source_files(&root().join(dir), &mut files);
    }
    assert!(files.len() > 100, "the source tree was not found: {} files", files.len());
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
