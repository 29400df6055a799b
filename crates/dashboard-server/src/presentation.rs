//! Presentation settings (`--presentation FILE`): company name and logo, reporting currency, which hero
//! numbers to show and in what order, the narrative's tone, and an optional file of reference figures
//! for the competitive comparison. One run can so be shown to different audiences.
//!
//! ```toml
//! company = "Acme Payments"
//! logo = "acme.png"             # relative to this file; embedded as a data URL
//! currency = "EUR"              # converted with the cost model's declared fx table
//! hero = ["transactions", "fraud_blocked", "money_saved", "tps", "uptime", "recall", "precision", "roi"]
//! tone = "business"             # or "technical"
//! references = "peers.toml"     # see [`Reference`]; none by default, never invented
//! ```

use crate::error::DashboardError;
use base64::Engine;
use models::Currency;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The hero numbers the investor page can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HeroKey {
    Transactions,
    FraudBlocked,
    MoneySaved,
    Uptime,
    Tps,
    /// Fraud caught over fraud answered, with the share of all fraud when some got no verdict.
    /// There is no accuracy hero: with few fraud among many legitimate payments accuracy flatters
    /// (a detector that flags nothing scores the legitimate share); the analytics page shows it.
    Recall,
    /// Fraud among the flagged payments.
    Precision,
    /// Net of the false-decline loss and the cost.
    Roi,
}

impl HeroKey {
    pub const ALL: [HeroKey; 8] = [
        HeroKey::Transactions,
        HeroKey::FraudBlocked,
        HeroKey::MoneySaved,
        HeroKey::Uptime,
        HeroKey::Tps,
        HeroKey::Recall,
        HeroKey::Precision,
        HeroKey::Roi,
    ];
}

/// Who the narrative line speaks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tone {
    /// TPS, percentiles, recovery times.
    #[default]
    Technical,
    /// Payments, money kept, cost per transaction.
    Business,
}

/// One published figure of another product, with where it comes from. Shown beside this run's own
/// figure when `figure` names one the dashboard measures (`tps`, `p99_ms`, `accuracy`, `recall`,
/// `recall_effective`, `precision`, `cost_per_txn`, `uptime_pct`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reference {
    pub name: String,
    pub figure: String,
    pub value: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Where the figure was published (a URL or a citation); required.
    pub source: String,
}

/// What the pages are told about how to present the run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Presentation {
    pub company: String,
    /// `data:image/...;base64,...`, never a URL the browser would fetch from elsewhere.
    pub logo_data_url: Option<String>,
    /// Reporting currency of the pages; `None` keeps the cost model's.
    pub currency: Option<Currency>,
    pub hero: Vec<HeroKey>,
    pub tone: Tone,
    pub references: Vec<Reference>,
}

impl Default for Presentation {
    fn default() -> Self {
        Self {
            company: "fraudstress".into(),
            logo_data_url: None,
            currency: None,
            hero: HeroKey::ALL.to_vec(),
            tone: Tone::Technical,
            references: Vec::new(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PresentationFile {
    company: Option<String>,
    logo: Option<PathBuf>,
    currency: Option<Currency>,
    hero: Option<Vec<HeroKey>>,
    #[serde(default)]
    tone: Tone,
    references: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReferenceFile {
    #[serde(default)]
    reference: Vec<Reference>,
}

/// Logos above this size are refused: they travel inside every page load.
const MAX_LOGO_BYTES: u64 = 2 * 1024 * 1024;

fn read(path: &Path) -> Result<String, DashboardError> {
    std::fs::read_to_string(path).map_err(|source| DashboardError::Read {
        path: path.to_owned(),
        source,
    })
}

fn invalid(path: &Path, field: &str, message: impl Into<String>) -> DashboardError {
    DashboardError::Invalid {
        path: path.to_owned(),
        field: field.into(),
        message: message.into(),
    }
}

/// Reads a presentation file; relative `logo` and `references` paths are taken from its folder.
pub fn load(path: &Path) -> Result<Presentation, DashboardError> {
    let text = read(path)?;
    let file: PresentationFile =
        toml::from_str(&text).map_err(|e| DashboardError::toml(path, &text, &e))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut p = Presentation::default();
    if let Some(c) = file.company {
        p.company = c;
    }
    p.currency = file.currency;
    p.tone = file.tone;
    if let Some(hero) = file.hero {
        if hero.is_empty() {
            return Err(invalid(
                path,
                "hero",
                "list at least one hero number, or leave `hero` out to show them all",
            ));
        }
        p.hero = hero;
    }
    if let Some(logo) = file.logo {
        p.logo_data_url = Some(logo_data_url(&dir.join(logo), path)?);
    }
    if let Some(refs) = file.references {
        // Named from the settings file too: a missing references file is this file's mistake.
        p.references = load_references(&dir.join(refs))
            .map_err(|e| invalid(path, "references", e.to_string()))?;
    }
    Ok(p)
}

/// Reads a file of reference figures: `[[reference]]` tables with `name`, `figure`, `value`, `source`
/// and an optional `unit`.
pub fn load_references(path: &Path) -> Result<Vec<Reference>, DashboardError> {
    let text = read(path)?;
    let file: ReferenceFile =
        toml::from_str(&text).map_err(|e| DashboardError::toml(path, &text, &e))?;
    for (i, r) in file.reference.iter().enumerate() {
        if r.source.trim().is_empty() {
            return Err(invalid(
                path,
                &format!("reference[{i}].source"),
                "every reference figure needs its source",
            ));
        }
        if !r.value.is_finite() {
            return Err(invalid(
                path,
                &format!("reference[{i}].value"),
                "must be a finite number",
            ));
        }
    }
    Ok(file.reference)
}

fn logo_data_url(logo: &Path, settings: &Path) -> Result<String, DashboardError> {
    let ext = logo
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let mime = match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "svg" => "image/svg+xml",
        _ => {
            return Err(invalid(
                settings,
                "logo",
                format!(
                    "{}: use a .png, .jpg, .gif, .webp or .svg image",
                    logo.display()
                ),
            ));
        }
    };
    let meta = std::fs::metadata(logo).map_err(|e| {
        invalid(
            settings,
            "logo",
            format!("could not read {}: {e}; check the path", logo.display()),
        )
    })?;
    if meta.len() > MAX_LOGO_BYTES {
        return Err(invalid(
            settings,
            "logo",
            format!(
                "{} is {} bytes; keep it under 2 MiB",
                logo.display(),
                meta.len()
            ),
        ));
    }
    let bytes = std::fs::read(logo).map_err(|source| DashboardError::Read {
        path: logo.to_owned(),
        source,
    })?;
    Ok(format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "dashboard-presentation-{name}-{}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn reads_settings_logo_and_references() {
        let dir = temp_dir("ok");
        std::fs::write(dir.join("logo.png"), [0x89, b'P', b'N', b'G']).unwrap();
        std::fs::write(
            dir.join("peers.toml"),
            "[[reference]]\nname = \"Vendor A\"\nfigure = \"tps\"\nvalue = 2000\nsource = \"Vendor A datasheet, 2025\"\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("p.toml"),
            "company = \"Acme\"\nlogo = \"logo.png\"\ncurrency = \"EUR\"\nhero = [\"tps\", \"roi\"]\ntone = \"business\"\nreferences = \"peers.toml\"\n",
        )
        .unwrap();
        let p = load(&dir.join("p.toml")).unwrap();
        assert_eq!(p.company, "Acme");
        assert_eq!(p.currency, Some(Currency::EUR));
        assert_eq!(p.hero, vec![HeroKey::Tps, HeroKey::Roi]);
        assert_eq!(p.tone, Tone::Business);
        assert_eq!(
            p.logo_data_url.as_deref(),
            Some("data:image/png;base64,iVBORw==")
        );
        assert_eq!(p.references.len(), 1);
        assert_eq!(p.references[0].source, "Vendor A datasheet, 2025");
    }

    #[test]
    fn bad_files_say_where_and_what() {
        let dir = temp_dir("bad");
        std::fs::write(dir.join("p.toml"), "company = \"Acme\"\ntone = \"loud\"\n").unwrap();
        let err = load(&dir.join("p.toml")).unwrap_err().to_string();
        assert!(err.contains("p.toml:2:"), "{err}");
        std::fs::write(
            dir.join("r.toml"),
            "[[reference]]\nname = \"X\"\nfigure = \"tps\"\nvalue = 1\nsource = \" \"\n",
        )
        .unwrap();
        let err = load_references(&dir.join("r.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("reference[0].source"), "{err}");
        assert!(
            Presentation::default().references.is_empty(),
            "no comparison unless the user supplies one"
        );
    }

    mod never_panics {
        use super::*;
        use proptest::prelude::*;

        /// Lines near the format: its keys with values of every type, broken quotes, tables and
        /// multi-byte characters (a TOML error's span must not split one).
        fn near_presentation() -> impl Strategy<Value = String> {
            let line = prop::sample::select(vec![
                "company = \"Acme\"",
                "company = 7",
                "currency = \"EUR\"",
                "currency = \"€\"",
                "hero = []",
                "hero = [\"tps\", \"roi\"]",
                "hero = [1]",
                "tone = \"business\"",
                "tone = \"loud\"",
                "logo = \"missing.png\"",
                "logo = \"x.bmp\"",
                "references = \"nowhere.toml\"",
                "[hero]",
                "company = \"é",
                "= 1",
                "\u{1F600} = 1",
                "company = 1e400",
                "unknown = true",
                "",
            ]);
            prop::collection::vec(line, 0..6).prop_map(|v| v.join("\n"))
        }

        proptest! {
            #[test]
            fn any_file_is_read_or_refused_naming_the_file(
                text in prop_oneof![".{0,60}", near_presentation()]
            ) {
                let dir = temp_dir("prop");
                let path = dir.join("p.toml");
                std::fs::write(&path, &text).unwrap();
                if let Err(e) = load(&path) {
                    let shown = e.to_string();
                    prop_assert!(shown.contains("p.toml"), "{shown}");
                }
            }
        }
    }
}
