//! No import cycle between the auth server's modules (issue 26): the `crate::` paths of every source file make a
//! graph of modules, which must have no cycle, neither between the top-level layers (`http` → `chat` →
//! `twilio` → `infra`, `cli` above them all) nor between the files inside one. Comments are not read; test
//! modules are (a test that needs a higher layer is a cycle too).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module path (`http::routes::sessions`) → source text, for every file under `src/` but the binary.
fn modules() -> BTreeMap<String, String> {
    fn walk(dir: &Path, prefix: &[String], out: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_stem().unwrap().to_str().unwrap().to_string();
            if path.is_dir() {
                walk(&path, &[prefix, &[name]].concat(), out);
            } else if path.extension().is_some_and(|e| e == "rs") && !(prefix.is_empty() && name == "main") {
                let module = match name.as_str() {
                    "mod" | "lib" => prefix.to_vec(),
                    _ => [prefix, &[name]].concat(),
                };
                out.insert(module.join("::"), std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &[], &mut out);
    out
}

/// The code of a file without its comments (line comments, so doc comments too).
fn code(text: &str) -> String {
    text.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n")
}

/// Every module a file names: each `crate::a::b::c` path, and each `crate::{a, b::c}` group, resolved to the
/// longest prefix that is a module.
fn uses(text: &str, known: &BTreeSet<String>) -> BTreeSet<String> {
    let code = code(text);
    let mut paths = Vec::new();
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let inner = &group[..group.find('}').unwrap_or(group.len())];
            paths.extend(inner.split(',').map(|p| p.trim().to_string()));
        } else {
            let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')).unwrap_or(rest.len());
            paths.push(rest[..end].trim_end_matches(':').to_string());
        }
    }
    paths
        .iter()
        .filter_map(|p| {
            let parts: Vec<&str> = p.split("::").collect();
            (1..=parts.len()).rev().map(|n| parts[..n].join("::")).find(|m| known.contains(m))
        })
        .collect()
}

/// A cycle in `edges`, if there is one (depth-first search).
fn cycle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(n: &str, edges: &BTreeMap<String, BTreeSet<String>>, done: &mut BTreeSet<String>, path: &mut Vec<String>) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == n) {
            return Some([&path[at..], &[n.to_string()]].concat());
        }
        if done.contains(n) {
            return None;
        }
        path.push(n.to_string());
        for m in edges.get(n).into_iter().flatten() {
            if let Some(c) = visit(m, edges, done, path) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(n.to_string());
        None
    }
    let mut done = BTreeSet::new();
    edges.keys().find_map(|n| visit(n, edges, &mut done, &mut Vec::new()))
}

/// The module graph: file → the modules it names (not itself, not its ancestors' files through `mod` lines).
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let modules = modules();
    let known: BTreeSet<String> = modules.keys().filter(|m| !m.is_empty()).cloned().collect();
    modules
        .iter()
        .filter(|(m, _)| !m.is_empty())
        .map(|(m, text)| (m.clone(), uses(text, &known).into_iter().filter(|u| u != m).collect()))
        .collect()
}

#[test]
fn no_two_files_of_the_auth_server_import_each_other_even_through_others() {
    let g = graph();
    assert!(g.len() > 20, "the source tree was not found: {g:?}");
    assert_eq!(cycle(&g), None, "a module cycle");
}

#[test]
fn the_layers_point_one_way_http_chat_twilio_infra() {
    let top = |m: &str| m.split("::").next().unwrap().to_string();
    let mut layers: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (m, uses) in graph() {
        let entry = layers.entry(top(&m)).or_default();
        entry.extend(uses.iter().map(|u| top(u)).filter(|u| *u != top(&m)));
    }
    assert_eq!(
        layers.keys().map(String::as_str).collect::<Vec<_>>(),
        ["chat", "cli", "http", "infra", "twilio"],
        "the layout in lib.rs names these layers"
    );
    assert_eq!(cycle(&layers), None, "a cycle between layers: {layers:?}");
    // The order itself, so a new edge the wrong way fails even before it closes a cycle.
    let rank = |l: &str| ["infra", "twilio", "chat", "http", "cli"].iter().position(|x| *x == l).unwrap();
    for (from, to) in &layers {
        for t in to {
            assert!(rank(t) < rank(from), "{from} uses {t}: the layers point cli → http → chat → twilio → infra");
        }
    }
}

/// The checker itself finds a cycle, through a group import and past a comment.
#[test]
fn the_checker_sees_a_cycle_and_ignores_comments() {
    let known: BTreeSet<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
    assert_eq!(uses("use crate::{a::X, b};\n// crate::c::Y", &known), ["a", "b"].iter().map(|s| s.to_string()).collect());
    let edges = BTreeMap::from([("a".to_string(), BTreeSet::from(["b".to_string()])), ("b".to_string(), BTreeSet::from(["a".to_string()]))]);
    assert!(cycle(&edges).is_some());
}
