//! Reports of a run: the console text, JUnit XML (what every CI renders) and JSON.
//!
//! Each is a pure function of the results, so that tests can snapshot them.

pub mod console;
pub mod json;
pub mod junit;
