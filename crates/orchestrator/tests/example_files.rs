//! The built-in scenarios ship as TOML files in `examples/scenarios/`; each must read back to exactly
//! the built-in spec. Regenerate them with
//! `cargo test -p orchestrator --test example_files -- --ignored write_example_files`.

use orchestrator::{builtin, scenario_file};
use std::path::PathBuf;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/scenarios")
}

fn render(spec: &models::ScenarioSpec) -> String {
    let body = toml::to_string(spec).expect("a built-in scenario serializes to TOML");
    format!(
        "# The built-in `{}` scenario, written from the built-in spec with toml::to_string.\n\
         # Copy it, change it, and run it with `stress-runner run --scenario path/to/file.toml`.\n\n{body}",
        spec.name
    )
}

#[test]
fn each_example_file_reads_back_to_its_builtin() {
    for spec in builtin::all_builtins() {
        let path = dir().join(format!("{}.toml", spec.name));
        let read = scenario_file::load_file(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            read,
            spec,
            "{} differs from the built-in; regenerate the example files",
            path.display()
        );
    }
}

#[test]
#[ignore = "writes examples/scenarios/*.toml; run it after changing a built-in"]
fn write_example_files() {
    std::fs::create_dir_all(dir()).unwrap();
    for spec in builtin::all_builtins() {
        std::fs::write(dir().join(format!("{}.toml", spec.name)), render(&spec)).unwrap();
    }
}
