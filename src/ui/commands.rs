//! What the panels ask of the app. A panel draws from the app's state and pushes
//! commands; `GenLabApp::run_commands` carries them out in one place, once the frame's
//! panels are drawn, so no panel starts, stops or resumes a run halfway through another
//! panel's drawing (the pattern of rerun's `SystemCommand`).

use crate::train::{Control, Part};
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// A new run of the edited experiment.
    Train,
    /// The edited experiment again, on the CPU (after the GPU failed).
    TrainOnCpu,
    Pause,
    Resume,
    /// `n` steps, then pause.
    Step(u64),
    /// One network's update alone, then pause (GAN).
    StepPart(Part),
    /// Stop and save a checkpoint.
    Stop,
    Checkpoint,
    /// Stop and clear the curves and samples.
    Reset,
    /// Continue a run folder from its newest checkpoint, learning rates times `lr_scale`.
    ResumeRun {
        dir: PathBuf,
        lr_scale: f64,
    },
    /// A message to the running session that changes no run state (learning rates, the
    /// VAE's interpolation pair).
    Tell(Control),
    /// A blind test of the shown snapshot.
    StartBlindTest,
    /// A file dialog for this action (save clips, save text...).
    AskFile(super::files::FileAction),
    /// A blind test of a run folder's saved sample grid (`path`, of `step`).
    BlindTestOfFolder {
        dir: PathBuf,
        step: u64,
        path: PathBuf,
    },
    OpenSweepDialog,
}
