//! Dashboard server (work in progress).
