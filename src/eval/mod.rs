//! Quality metrics that need no download.

pub mod diagnostics;
pub mod evaluator;
pub mod features;
pub mod human;
pub mod likelihood;
pub mod metric;
