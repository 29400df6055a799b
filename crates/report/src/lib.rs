//! HTML reports with plots, JUnit XML and run comparison from result files.
