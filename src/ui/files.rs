//! Native file dialogs (rfd) on a helper thread, so the window keeps drawing while one
//! is open, and the actions their answers trigger. Tests call `GenLabApp::complete`
//! directly: the same code path the dialog calls.

use super::app::GenLabApp;
use crate::config::Experiment;
use crate::export;
use crossbeam_channel::{bounded, Receiver};
use std::path::{Path, PathBuf};

/// What a chosen path is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileAction {
    OpenPreset,
    /// A run folder written elsewhere (another machine's `genlab train`), added to the runs panel.
    OpenRunFolder,
    /// A run folder to continue from its newest checkpoint.
    ResumeRun,
    SavePreset,
    ExportGrid,
    ExportTimelapse,
    ExportCurvesCsv,
    ExportCurvesPng,
    ExportScreenshot,
    /// Every shown generated clip as one WAV file, silence between them.
    ExportClips,
    /// One shown generated clip as a WAV file.
    ExportClip(usize),
    /// The shown generated text items, one per line.
    ExportText,
}

impl FileAction {
    fn saves(self) -> bool {
        !matches!(
            self,
            FileAction::OpenPreset | FileAction::OpenRunFolder | FileAction::ResumeRun
        )
    }
    fn filter(self) -> (&'static str, &'static str) {
        match self {
            FileAction::OpenPreset | FileAction::SavePreset => ("GenLab preset", "toml"),
            FileAction::OpenRunFolder | FileAction::ResumeRun => ("Run folder", ""),
            FileAction::ExportGrid | FileAction::ExportCurvesPng | FileAction::ExportScreenshot => {
                ("PNG image", "png")
            }
            FileAction::ExportTimelapse => ("Animated GIF", "gif"),
            FileAction::ExportCurvesCsv => ("CSV", "csv"),
            FileAction::ExportClips | FileAction::ExportClip(_) => ("WAV audio", "wav"),
            FileAction::ExportText => ("Text", "txt"),
        }
    }
    fn what(self) -> &'static str {
        match self {
            FileAction::OpenPreset | FileAction::SavePreset => "preset",
            FileAction::OpenRunFolder | FileAction::ResumeRun => "run",
            FileAction::ExportGrid => "samples",
            FileAction::ExportTimelapse => "timelapse",
            FileAction::ExportCurvesCsv | FileAction::ExportCurvesPng => "curves",
            FileAction::ExportScreenshot => "screenshot",
            FileAction::ExportClips => "clips",
            FileAction::ExportClip(_) => "clip",
            FileAction::ExportText => "items",
        }
    }
}

/// A dialog open on its helper thread.
pub struct PendingDialog {
    pub action: FileAction,
    answer: Receiver<Option<PathBuf>>,
}

/// Opens the native dialog for `action` on a helper thread.
pub fn ask(app: &GenLabApp, action: FileAction) -> PendingDialog {
    let (tx, rx) = bounded(1);
    let (name, ext) = action.filter();
    let file_name = if action == FileAction::SavePreset {
        format!("{}.toml", app.experiment.slug())
    } else {
        export::default_name(&app.experiment, app.run.step, action.what(), ext)
    };
    let saves = action.saves();
    std::thread::spawn(move || {
        let dialog = rfd::FileDialog::new().add_filter(name, &[ext]);
        let path = if saves {
            dialog.set_file_name(&file_name).save_file()
        } else if matches!(action, FileAction::OpenRunFolder | FileAction::ResumeRun) {
            rfd::FileDialog::new().pick_folder()
        } else {
            dialog.pick_file()
        };
        let _ = tx.send(path);
    });
    PendingDialog { action, answer: rx }
}

impl PendingDialog {
    /// The user's answer once the dialog closed: `Some(None)` when cancelled.
    pub fn poll(&self) -> Option<Option<PathBuf>> {
        self.answer.try_recv().ok()
    }
}

impl GenLabApp {
    /// Carries out `action` on `path`. Refuses to overwrite an existing file unless
    /// `overwrite` is set; the window asks first. Returns the message shown to the user.
    pub fn complete(
        &mut self,
        action: FileAction,
        path: &Path,
        overwrite: bool,
    ) -> Result<String, String> {
        if action.saves() && path.exists() && !overwrite {
            return Err(format!("{} exists", path.display()));
        }
        let done = |what: &str| format!("Saved {what} to {}", path.display());
        match action {
            FileAction::OpenPreset => {
                // A file that does not parse leaves the current experiment untouched; one
                // with problems (a data path to choose) loads, marked in the editor.
                let (exp, problems) =
                    Experiment::load_for_editing(path).map_err(|e| e.to_string())?;
                self.experiment = exp;
                Ok(match problems.first() {
                    None => format!("Loaded {}", path.display()),
                    Some(p) => format!("Loaded {}; to fix before Train: {p}", path.display()),
                })
            }
            FileAction::OpenRunFolder => {
                self.runs.add_folder(path)?;
                self.runs.open = true;
                Ok(format!("Opened run {}", path.display()))
            }
            FileAction::ResumeRun => self.resume_run(path, 1.0),
            FileAction::SavePreset => export::preset_toml(&self.experiment, path)
                .map(|_| done("the experiment"))
                .map_err(|e| e.to_string()),
            FileAction::ExportGrid => {
                let img = self
                    .run
                    .samples
                    .shown_image()
                    .ok_or("no samples yet: press Train first")?;
                export::grid_png(&img, path, self.export_scale)
                    .map(|_| done("the sample grid"))
                    .map_err(|e| e.to_string())
            }
            FileAction::ExportTimelapse => {
                let frames = self.run.samples.frame_images();
                let refs: Vec<_> = frames.iter().collect();
                export::timelapse_gif(&refs, path, self.export_scale.min(4), 200)
                    .map(|_| done("the timelapse"))
                    .map_err(|e| e.to_string())
            }
            FileAction::ExportCurvesCsv => export::curves_csv(&self.run.history, path)
                .map(|_| done("the curves"))
                .map_err(|e| e.to_string()),
            FileAction::ExportCurvesPng => {
                let names: Vec<&str> = self
                    .run
                    .history
                    .series
                    .keys()
                    .copied()
                    .filter(|n| super::curves::is_loss(n))
                    .collect();
                let title = format!("{} - step {}", self.experiment.title, self.run.step);
                export::curves_png(&self.run.history, &names, &title, path, (1200, 700))
                    .map(|_| done("the curves plot"))
                    .map_err(|e| e.to_string())
            }
            FileAction::ExportClips | FileAction::ExportClip(_) => {
                let Some(view) = self.run.samples.shown().and_then(|s| s.samples.clips()) else {
                    return Err("no clips yet: press Train first".into());
                };
                let clips = match action {
                    FileAction::ExportClip(i) => vec![view
                        .generated
                        .get(i)
                        .cloned()
                        .ok_or(format!("there is no clip {}", i + 1))?],
                    _ => view.generated.clone(),
                };
                crate::modality::audio::wav::write(path, &clips, view.sample_rate)
                    .map(|_| {
                        done(if clips.len() == 1 {
                            "the clip"
                        } else {
                            "the clips"
                        })
                    })
                    .map_err(|e| e.to_string())
            }
            FileAction::ExportText => {
                let Some(view) = self.run.samples.shown().and_then(|s| s.samples.items()) else {
                    return Err("no generated items yet: press Train first".into());
                };
                crate::durable::write(path, view.text().as_bytes())
                    .map(|_| done("the generated items"))
                    .map_err(|e| e.to_string())
            }
            FileAction::ExportScreenshot => {
                let img = self.screenshot.take().ok_or("no screenshot taken")?;
                crate::run::render::save_png(&img, path, 1)
                    .map(|_| done("the screenshot"))
                    .map_err(|e| e.to_string())
            }
        }
    }
}
