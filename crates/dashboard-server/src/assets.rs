//! The pages and their scripts, embedded in the binary. Charts use the uPlot library vendored by the
//! report crate (MIT, its licence is served at `/assets/uPlot.LICENSE`); nothing is loaded from
//! another origin, so the pages work offline.

const INDEX: &str = include_str!("../assets/index.html");
const INVESTOR: &str = include_str!("../assets/investor.html");
const ANALYTICS: &str = include_str!("../assets/analytics.html");
const AGENTS: &str = include_str!("../assets/agents.html");
const ADMIN: &str = include_str!("../assets/admin.html");

const JS: &str = "application/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// The page served at `path`, if any.
pub fn page(path: &str) -> Option<&'static str> {
    match path.trim_end_matches('/') {
        "" | "/index.html" => Some(INDEX),
        "/investor" => Some(INVESTOR),
        "/analytics" => Some(ANALYTICS),
        "/agents" => Some(AGENTS),
        "/admin" => Some(ADMIN),
        _ => None,
    }
}

/// A script, stylesheet or licence under `/assets/`, with its content type.
pub fn asset(name: &str) -> Option<(&'static str, &'static str)> {
    Some(match name {
        "dashboard.css" => (include_str!("../assets/dashboard.css"), CSS),
        "dashboard.js" => (include_str!("../assets/dashboard.js"), JS),
        "investor.js" => (include_str!("../assets/investor.js"), JS),
        "analytics.js" => (include_str!("../assets/analytics.js"), JS),
        "agents.js" => (include_str!("../assets/agents.js"), JS),
        "admin.js" => (include_str!("../assets/admin.js"), JS),
        "uPlot.iife.min.js" => (include_str!("../../report/assets/uPlot.iife.min.js"), JS),
        "uPlot.min.css" => (include_str!("../../report/assets/uPlot.min.css"), CSS),
        "uPlot.LICENSE" => (
            include_str!("../../report/assets/uPlot.LICENSE"),
            "text/plain; charset=utf-8",
        ),
        _ => return None,
    })
}

/// Every page, for checks that apply to all of them.
pub const PAGES: [(&str, &str); 5] = [
    ("/", INDEX),
    ("/investor", INVESTOR),
    ("/analytics", ANALYTICS),
    ("/agents", AGENTS),
    ("/admin", ADMIN),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_loaded_from_elsewhere() {
        let names = [
            "dashboard.css",
            "dashboard.js",
            "investor.js",
            "analytics.js",
            "agents.js",
            "admin.js",
        ];
        let texts = PAGES
            .iter()
            .map(|(_, t)| *t)
            .chain(names.iter().map(|n| asset(n).unwrap().0));
        for text in texts {
            for bad in ["http://", "https://", "//cdn", "@import"] {
                assert!(!text.contains(bad), "an embedded file refers to {bad}");
            }
        }
        assert!(asset("uPlot.LICENSE").unwrap().0.contains("MIT"));
        assert!(page("/investor/").is_some());
        assert!(page("/nope").is_none());
    }

    #[test]
    fn the_token_is_never_embedded() {
        for (_, text) in PAGES {
            assert!(
                !text.to_lowercase().contains("bearer "),
                "pages ask for the token; they never carry it"
            );
        }
    }
}
