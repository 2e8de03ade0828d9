//! The eframe window: experiment panel, controls, loss curves, samples.

mod app;
mod audio;
pub mod blind_test;
pub mod commands;
mod controls;
pub mod cost_view;
mod curves;
mod data_preview;
mod drawing;
pub mod evaluator_job;
mod experiment_panel;
mod file_menu;
pub mod files;
mod filmstrip;
pub mod run_state;
pub mod runs_panel;
pub mod samples;
pub mod settings;
pub mod sweep_dialog;
mod text_view;
pub mod words;

pub use app::{Enlarged, GenLabApp, RunStatus};

use crate::config::Experiment;
use std::path::PathBuf;
use std::process::ExitCode;

/// Opens the window; `preset` replaces the remembered experiment.
pub fn run(preset: Option<PathBuf>, train_now: bool, runs: Vec<PathBuf>) -> ExitCode {
    // A preset with problems opens in the editor, which marks them (Train waits).
    let preset = match preset.map(|p| Experiment::load_for_editing(&p)) {
        Some(Ok((e, _))) => Some(e),
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
            close_on_signals(cc.egui_ctx.clone());
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

/// Ctrl-C in the terminal (or SIGTERM) closes the window as its close button does: the
/// run saves a final checkpoint and its summary first. A second signal quits at once.
fn close_on_signals(ctx: eframe::egui::Context) {
    #[cfg(unix)]
    {
        use signal_hook::consts::{SIGINT, SIGTERM};
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::sync::Arc;
        let asked = Arc::new(AtomicBool::new(false));
        for sig in [SIGINT, SIGTERM] {
            // Order matters: the exit hook sees the flag only from the second signal on.
            let _ = signal_hook::flag::register_conditional_shutdown(sig, 130, asked.clone());
            let _ = signal_hook::flag::register(sig, asked.clone());
        }
        // The flag is watched off the UI thread: a minimised window draws no frames.
        let _ = std::thread::Builder::new()
            .name("genlab-signals".into())
            .spawn(move || loop {
                if asked.load(Ordering::Relaxed) {
                    ctx.send_viewport_cmd(eframe::egui::ViewportCommand::Close);
                    ctx.request_repaint();
                }
                std::thread::sleep(std::time::Duration::from_millis(100));
            });
    }
    #[cfg(not(unix))]
    let _ = ctx;
}
