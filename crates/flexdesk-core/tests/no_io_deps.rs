//! The core stays sans-IO: its manifest may only name pure data crates. (A new dependency must be added here
//! deliberately, after checking it pulls in no runtime, network or wasm binding.)

#[test]
fn core_depends_on_no_io_runtime_or_wasm_crate() {
    let manifest = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")).unwrap();
    let deps: Vec<&str> = manifest
        .split("[dependencies]")
        .nth(1)
        .unwrap_or("")
        .lines()
        .take_while(|l| !l.starts_with('['))
        .filter_map(|l| l.split(['=', '.']).next().map(str::trim))
        .filter(|name| !name.is_empty() && !name.starts_with('#'))
        .collect();
    let allowed = ["serde", "serde_json"];
    for d in &deps {
        assert!(allowed.contains(d), "flexdesk-core must stay free of I/O crates, found dependency {d:?}");
    }
    assert!(!deps.is_empty());
}
