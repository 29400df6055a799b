//! The vendored chart library, for other pages that want the same charts offline (the capacity
//! report): uPlot 1.6.32 (MIT), inlined into each page with its licence.

/// uPlot's IIFE build.
pub const UPLOT_JS: &str = include_str!("../assets/uPlot.iife.min.js");
/// uPlot's stylesheet.
pub const UPLOT_CSS: &str = include_str!("../assets/uPlot.min.css");
/// uPlot's licence, to be shipped beside it.
pub const UPLOT_LICENSE: &str = include_str!("../assets/uPlot.LICENSE");
