//! The core stays sans-IO: its manifest may only name pure data crates. (A new dependency must be added here
//! deliberately, after checking it pulls in no runtime, network or wasm binding.) The dependencies are read the way
//! Cargo itself reads the manifest (`cargo metadata`), not by splitting the TOML by hand.

use std::process::Command;

use serde_json::Value;

/// The normal (not dev, not build) dependencies of flexdesk-core, as `cargo metadata` resolves the manifest.
fn normal_dependencies() -> Vec<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline", "--manifest-path"])
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
        .output()
        .expect("cargo metadata runs");
    assert!(out.status.success(), "cargo metadata: {}", String::from_utf8_lossy(&out.stderr));
    let metadata: Value = serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON");
    let core = metadata["packages"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["name"] == env!("CARGO_PKG_NAME")))
        .expect("flexdesk-core in the metadata");
    core["dependencies"]
        .as_array()
        .expect("a dependency list")
        .iter()
        .filter(|d| d["kind"].is_null())
        .map(|d| d["name"].as_str().expect("a name").to_string())
        .collect()
}

#[test]
fn core_depends_on_no_io_runtime_or_wasm_crate() {
    let deps = normal_dependencies();
    let allowed = ["serde", "serde_json"];
    for d in &deps {
        assert!(allowed.contains(&d.as_str()), "flexdesk-core must stay free of I/O crates, found dependency {d:?}");
    }
    assert!(!deps.is_empty());
}
