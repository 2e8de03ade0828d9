//! The eframe window: experiment panel, controls, loss curves, samples.

mod app;
mod controls;
mod curves;
pub mod evaluator_job;
mod experiment_panel;
mod file_menu;
pub mod files;
pub mod runs_panel;
mod samples;

pub use app::{GenLabApp, RunStatus};

use crate::config::Experiment;
use std::path::PathBuf;
use std::process::ExitCode;

/// Opens the window; `preset` replaces the remembered experiment.
pub fn run(preset: Option<PathBuf>, train_now: bool, runs: Vec<PathBuf>) -> ExitCode {
    let preset = match preset.map(|p| Experiment::load(&p)) {
        Some(Ok(e)) => Some(e),
        Some(Err(e)) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
        None => None,
    };
    let options = eframe::NativeOptions {
        viewport: eframe::egui::ViewportBuilder::default()
            .with_title("GenLab")
            .with_inner_size([1280.0, 800.0]),
        ..Default::default()
    };
    let result = eframe::run_native(
        "GenLab",
        options,
        Box::new(move |cc| {
            let mut app = GenLabApp::from_storage(cc.storage, preset);
            if train_now {
                app.train();
            }
            for dir in &runs {
                match app.runs.add_folder(dir) {
                    Ok(()) => app.runs.open = true,
                    Err(e) => app.notice = Some(e),
                }
            }
            Ok(Box::new(app))
        }),
    );
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: cannot open the window: {e}");
            ExitCode::FAILURE
        }
    }
}
