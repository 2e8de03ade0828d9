//! Whole-behaviour tests, in one binary so the heavy dependency graph links once.

mod audio;
mod checkpoints;
mod cli_run;
mod config;
mod cost;
mod curves;
mod data;
mod evaluation;
mod exports;
mod fuzz;
mod gpu;
mod human_eval;
mod kernels;
mod learning;
mod likelihood;
mod real_data;
mod run_writer;
mod runs;
mod scoring;
mod session;
mod sweep;
mod text;
mod ui;

use genlab::config::Experiment;

/// A shipped preset by file name.
pub fn preset(name: &str) -> Experiment {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("presets")
        .join(name);
    Experiment::load(&path).unwrap_or_else(|e| panic!("{e}"))
}
