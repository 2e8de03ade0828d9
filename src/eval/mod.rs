//! Quality metrics that need no download.

pub mod images;
pub mod points;
