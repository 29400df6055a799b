//! The built-in scenarios ship as TOML files in `examples/scenarios/`; each must read back to exactly
//! the built-in spec. Regenerate them with
//! `UPDATE_EXAMPLES=1 cargo test -p orchestrator --test example_files`.

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
    if std::env::var_os("UPDATE_EXAMPLES").is_some() {
        return; // the files are being rewritten by the other test
    }
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

/// The files are exactly what the built-ins render to, comments included. With `UPDATE_EXAMPLES=1`
/// it writes them instead (the convention of expect-test's `UPDATE_EXPECT`).
#[test]
fn example_files_are_the_rendered_builtins() {
    let update = std::env::var_os("UPDATE_EXAMPLES").is_some();
    for spec in builtin::all_builtins() {
        let path = dir().join(format!("{}.toml", spec.name));
        let want = render(&spec);
        if update {
            std::fs::create_dir_all(dir()).unwrap();
            std::fs::write(&path, want).unwrap();
            continue;
        }
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            have == want,
            "{} is not the rendered built-in; regenerate the example files with \
             UPDATE_EXAMPLES=1 cargo test -p orchestrator --test example_files",
            path.display()
        );
    }
}
