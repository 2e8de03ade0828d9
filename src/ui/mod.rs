//! The eframe window.

use std::path::PathBuf;
use std::process::ExitCode;

pub fn run(_preset: Option<PathBuf>) -> ExitCode {
    ExitCode::SUCCESS
}
