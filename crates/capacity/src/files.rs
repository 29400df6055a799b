//! `capacity.json` and `capacity.html` in the search's folder, beside `steps/` (one results folder per
//! step, as any run writes).

use crate::error::CapacityError;
use crate::output::CapacityReport;
use std::path::{Path, PathBuf};

/// Name of the JSON result.
pub const JSON_FILE: &str = "capacity.json";
/// Name of the HTML report.
pub const HTML_FILE: &str = "capacity.html";

impl CapacityReport {
    /// Writes `capacity.json` and `capacity.html` into `dir` (each through a temporary file).
    pub fn write(&self, dir: &Path) -> Result<[PathBuf; 2], CapacityError> {
        std::fs::create_dir_all(dir).map_err(|source| CapacityError::Write {
            path: dir.to_owned(),
            source,
        })?;
        let json = serde_json::to_string_pretty(self).map_err(|e| CapacityError::Write {
            path: dir.join(JSON_FILE),
            source: e.into(),
        })?;
        let json_path = dir.join(JSON_FILE);
        write_atomically(&json_path, &json)?;
        let html_path = dir.join(HTML_FILE);
        write_atomically(&html_path, &crate::html::render(self))?;
        Ok([json_path, html_path])
    }
}

fn write_atomically(path: &Path, text: &str) -> Result<(), CapacityError> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, text).map_err(|source| CapacityError::Write {
        path: tmp.clone(),
        source,
    })?;
    std::fs::rename(&tmp, path).map_err(|source| CapacityError::Write {
        path: path.to_owned(),
        source,
    })
}
