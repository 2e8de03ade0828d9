//! The application: persisted experiment, the running session, and its history.

use super::commands::Command;
use super::run_state::RunState;
use crate::checkpoint::store;
use crate::config::Experiment;
use crate::train::session::Resume;
use crate::train::{Control, Session};
use eframe::egui;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const STORAGE_KEY: &str = "genlab.experiment";
const RUNS_DIR_KEY: &str = "genlab.runs_dir";

/// A view that can fill the central area on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enlarged {
    Curves,
    Samples,
}

/// The button that enlarges `view` to the whole central area, or brings the others back.
pub fn enlarge_button(enlarged: &mut Option<Enlarged>, view: Enlarged, ui: &mut egui::Ui) {
    let (text, hover) = if *enlarged == Some(view) {
        ("back", "Show every view again")
    } else {
        ("enlarge", "Show this view alone, in the whole area")
    };
    if ui.small_button(text).on_hover_text(hover).clicked() {
        *enlarged = if *enlarged == Some(view) {
            None
        } else {
            Some(view)
        };
    }
}

pub use super::run_state::RunStatus;

pub struct GenLabApp {
    /// The experiment being edited (persisted between launches).
    pub experiment: Experiment,
    /// The run shown: its session, curves, samples and warnings.
    pub run: RunState,
    pub step_n: u64,
    /// One-line message shown under the controls (errors, hints).
    pub notice: Option<String>,
    /// Sessions told to stop (by Reset, Train or a resume) that are still saving their
    /// final checkpoint and summary; waited for before their folder is reused or the
    /// window closes.
    pub closing: Vec<Session>,
    /// Where new runs are written.
    pub runs_dir: std::path::PathBuf,
    /// Upscale factor of exported sample grids.
    pub export_scale: usize,
    /// The last screenshot, waiting for a file name.
    pub screenshot: Option<crate::train::RgbaImage>,
    pub screenshot_rx: Option<crossbeam_channel::Receiver<std::sync::Arc<egui::ColorImage>>>,
    pub dialog: Option<super::files::PendingDialog>,
    /// A save that would overwrite a file, waiting for the user's yes.
    pub confirm_overwrite: Option<(super::files::FileAction, std::path::PathBuf)>,
    pub show_presets: bool,
    pub runs: super::runs_panel::RunsView,
    /// How the curves are drawn.
    pub curves: super::curves::CurvesView,
    /// VAE: the held-out inputs the interpolation runs between.
    pub interpolation_pair: (usize, usize),
    /// An evaluator being trained for the experiment's data.
    pub evaluator_job: Option<super::evaluator_job::EvaluatorJob>,
    /// The machine's wgpu adapters, filled in by a helper thread at start.
    pub adapters: std::sync::Arc<std::sync::OnceLock<Vec<crate::train::device::Adapter>>>,
    /// What the edited model costs.
    pub cost: super::cost_view::CostView,
    /// Clip playback and what the audio output last said.
    pub audio_out: super::audio::AudioOut,
    /// Whether the experiment panel is shown.
    pub show_editor: bool,
    /// A view enlarged to the whole central area, if any.
    pub enlarged: Option<Enlarged>,
    /// The edited experiment's real data, shown before training.
    pub preview: super::data_preview::DataPreview,
    /// A blind test of the shown samples against the data, while one is open.
    pub blind_test: Option<super::blind_test::Sitting>,
    pub sweep: super::sweep_dialog::SweepDialog,
    /// What the panels asked for this frame, carried out by `run_commands`.
    commands: Vec<Command>,
}

impl GenLabApp {
    pub fn new(experiment: Experiment) -> Self {
        GenLabApp {
            experiment,
            run: RunState::default(),
            step_n: 10,
            notice: None,
            closing: Vec::new(),
            runs_dir: crate::run::default_runs_dir(),
            export_scale: 4,
            screenshot: None,
            screenshot_rx: None,
            dialog: None,
            confirm_overwrite: None,
            show_presets: false,
            runs: Default::default(),
            curves: Default::default(),
            interpolation_pair: (0, 1),
            evaluator_job: None,
            adapters: list_adapters_in_background(),
            cost: Default::default(),
            audio_out: Default::default(),
            show_editor: true,
            enlarged: None,
            preview: Default::default(),
            blind_test: None,
            sweep: Default::default(),
            commands: Vec::new(),
        }
    }

    /// The remembered experiment, unless a preset was given on the command line.
    pub fn from_storage(storage: Option<&dyn eframe::Storage>, preset: Option<Experiment>) -> Self {
        let remembered = storage
            .and_then(|s| s.get_string(STORAGE_KEY))
            .and_then(|t| Experiment::from_toml(&t).ok());
        let mut app = Self::new(
            preset
                .or(remembered)
                .unwrap_or_else(Experiment::default_ring_gan),
        );
        if let Some(view) = storage
            .and_then(|s| s.get_string(super::settings::KEY))
            .and_then(|t| super::settings::ViewSettings::from_text(&t))
        {
            view.apply(&mut app);
        }
        // An explicit $GENLAB_RUNS_DIR wins over the folder chosen last time.
        if std::env::var_os("GENLAB_RUNS_DIR").is_none() {
            if let Some(dir) = storage.and_then(|s| s.get_string(RUNS_DIR_KEY)) {
                app.runs_dir = dir.into();
            }
        }
        app
    }

    pub fn is_running(&self) -> bool {
        self.run.is_running()
    }

    /// Starts a new run of the edited experiment, clearing the previous one. The session
    /// writes its own run folder; if the folder cannot be made, it trains without one.
    pub fn train(&mut self) {
        self.reset();
        let dir = crate::run::new_run_dir(&self.runs_dir, &self.experiment);
        let folder = match crate::run::RunWriter::create(&dir, &self.experiment) {
            Ok(w) => Some(w),
            Err(e) => {
                self.notice = Some(format!(
                    "Not saving this run: cannot write {}: {e}",
                    dir.display()
                ));
                None
            }
        };
        match Session::launch(self.experiment.clone(), None, folder) {
            Ok(s) => self.run.started(s, self.experiment.clone(), 0),
            Err(e) => self.notice = Some(e),
        }
    }

    /// How long a stopping run may take to save its final checkpoint and summary before
    /// its folder is reused or the window closes without it.
    pub const CLOSING_WAIT: Duration = Duration::from_secs(30);

    /// Continues the run in `dir` from its newest readable checkpoint, in the same folder,
    /// with the saved learning rates times `lr_scale`. The curves so far are read back.
    pub fn resume_run(&mut self, dir: &Path, lr_scale: f64) -> Result<String, String> {
        if self.is_running() && self.run.dir.as_deref() == Some(dir) {
            return Err("this run is still training; stop it first".into());
        }
        // A session of this folder told to stop may still be writing its end: let it
        // finish first, or two writers would share one folder.
        if !self.wait_for_closing(Some(dir), Self::CLOSING_WAIT) {
            return Err(format!(
                "the previous run in {} is still saving; try again in a moment",
                dir.display()
            ));
        }
        let (checkpoint, path, skipped) =
            store::latest(&store::dir_of(dir)).map_err(|e| e.to_string())?;
        let mut exp = checkpoint
            .experiment()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let from = checkpoint.step;
        let mut words = format!("Resumed {} from step {from}", dir.display());
        if lr_scale != 1.0 {
            words.push_str(&format!(" with the learning rate x{lr_scale}"));
        }
        if exp.training.steps != 0 && exp.training.steps <= from {
            exp.training.steps = 0;
            words.push_str("; its step budget was spent, so it runs until you stop it");
        }
        if !skipped.is_empty() {
            words.push_str(&format!(" (skipped: {})", skipped.join("; ")));
        }
        self.reset();
        let folder = crate::run::RunWriter::reopen(dir, &exp, from)
            .map_err(|e| format!("cannot reopen {}: {e}", dir.display()))?;
        let session = Session::launch(
            exp.clone(),
            Some(Resume {
                checkpoint,
                lr_scale,
            }),
            Some(folder),
        )?;
        for m in crate::run::folder::read_metrics_rows(dir, &crate::train::metric_columns(&exp)) {
            self.run.history.push(&m);
        }
        self.run.started(session, exp.clone(), from);
        self.experiment = exp;
        Ok(words)
    }

    /// Waits up to `timeout` for stopping sessions (those writing `dir`, or all) to finish
    /// writing; returns whether none is left.
    pub fn wait_for_closing(&mut self, dir: Option<&Path>, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        self.closing.retain(|s| {
            if dir.is_none() || s.dir() == dir {
                s.wait(deadline.saturating_duration_since(Instant::now()));
            }
            !s.is_finished()
        });
        !self.closing.iter().any(|s| dir.is_none() || s.dir() == dir)
    }

    /// Whether a session of this process is writing `dir` (training, or saving its end).
    pub fn is_writing(&self, dir: &Path) -> bool {
        self.run
            .session
            .iter()
            .chain(&self.closing)
            .any(|s| s.dir() == Some(dir) && !s.is_finished())
    }

    /// The checkpoint a failed or finished run can be resumed from: (run folder, step).
    pub fn resumable(&self) -> Option<(PathBuf, u64)> {
        self.run.resumable()
    }

    pub fn control(&mut self, c: Control) {
        if let Some(s) = &self.run.session {
            s.send(c);
        }
    }

    pub fn pause(&mut self) {
        self.control(Control::Pause);
    }
    pub fn resume(&mut self) {
        self.control(Control::Resume);
        self.run.resumed_by_user();
    }
    pub fn step_by(&mut self, n: u64) {
        self.control(Control::Step(n));
    }
    pub fn stop(&mut self) {
        self.control(Control::Stop);
    }
    pub fn save_checkpoint(&mut self) {
        self.control(Control::Checkpoint);
    }

    /// Asks for `c`, carried out once the frame's panels are drawn.
    pub fn command(&mut self, c: Command) {
        self.commands.push(c);
    }

    /// Carries out what the panels asked for, in order: the one place a click starts,
    /// stops or resumes a run.
    pub fn run_commands(&mut self) {
        for c in std::mem::take(&mut self.commands) {
            match c {
                Command::Train => self.train(),
                Command::TrainOnCpu => {
                    self.experiment.backend = crate::config::Backend::Cpu;
                    self.train();
                }
                Command::Pause => self.pause(),
                Command::Resume => self.resume(),
                Command::Step(n) => self.step_by(n),
                Command::StepPart(part) => self.control(Control::StepPart(part)),
                Command::Stop => self.stop(),
                Command::Checkpoint => self.save_checkpoint(),
                Command::Reset => self.reset(),
                Command::ResumeRun { dir, lr_scale } => {
                    self.notice = Some(match self.resume_run(&dir, lr_scale) {
                        Ok(words) => words,
                        Err(e) => format!("Cannot resume: {e}"),
                    });
                }
                Command::Tell(message) => {
                    if let Control::SetLearningRates {
                        generator,
                        discriminator,
                    } = &message
                    {
                        self.run.learning_rates_set(*generator, *discriminator);
                    }
                    self.control(message);
                }
                Command::AskFile(action) => {
                    self.dialog = Some(super::files::ask(self, action));
                }
                Command::StartBlindTest => {
                    if let Err(e) = self.start_blind_test() {
                        self.notice = Some(e);
                        self.blind_test = None;
                    }
                }
                Command::BlindTestOfFolder { dir, step, path } => {
                    if let Err(e) = self.start_blind_test_of_folder(&dir, step, path) {
                        self.notice = Some(format!("Cannot start the blind test: {e}"));
                    }
                }
                Command::OpenSweepDialog => self.sweep.open = true,
            }
        }
    }

    /// Opens a blind test of the shown snapshot against the run's data; its answers go
    /// to the run's folder.
    pub fn start_blind_test(&mut self) -> Result<(), String> {
        let (Some(exp), Some(dir), Some(snapshot)) = (
            &self.run.experiment,
            &self.run.dir,
            self.run.samples.shown(),
        ) else {
            return Err("a blind test needs a run with samples and a run folder".into());
        };
        self.blind_test = Some(super::blind_test::Sitting::start(
            exp.data.clone(),
            exp.training.seed,
            super::blind_test::Source::Snapshot(Box::new(snapshot.clone())),
            dir.clone(),
        ));
        Ok(())
    }

    /// Opens a blind test of a run folder's saved sample grid at `step`; its answers go
    /// to that folder.
    pub fn start_blind_test_of_folder(
        &mut self,
        dir: &Path,
        step: u64,
        path: PathBuf,
    ) -> Result<(), String> {
        let exp = Experiment::load(&dir.join("config.toml")).map_err(|e| e.to_string())?;
        self.blind_test = Some(super::blind_test::Sitting::start(
            exp.data.clone(),
            exp.training.seed,
            super::blind_test::Source::SavedGrid { step, path },
            dir.to_owned(),
        ));
        Ok(())
    }

    fn blind_test_ui(&mut self, ctx: &egui::Context) {
        use super::blind_test::Request;
        let Some(sitting) = &mut self.blind_test else {
            return;
        };
        match sitting.window(ctx) {
            Some(Request::Play(clip, rate)) => {
                self.audio_out.play("blind test item".into(), clip, rate)
            }
            Some(Request::Close) => self.blind_test = None,
            Some(Request::Again) => self.blind_test = Some(sitting.again()),
            None => {}
        }
    }

    fn sweep_ui(&mut self, ctx: &egui::Context) {
        if !self.sweep.open && !self.sweep.is_running() {
            return;
        }
        let finished = self
            .sweep
            .running()
            .map(|(out, _)| {
                let runs = out.join("runs");
                self.runs
                    .runs
                    .iter()
                    .filter(|r| r.dir.parent() == Some(runs.as_path()) && r.status != "running")
                    .filter(|r| r.status != "interrupted")
                    .count()
            })
            .unwrap_or(0);
        let started = super::sweep_dialog::sweep_window(
            &mut self.sweep,
            &self.experiment,
            &self.runs_dir,
            finished,
            ctx,
        );
        if let Some(out) = started {
            self.runs.add_sweep(&out);
        }
    }

    /// Stops any run and clears curves and samples.
    pub fn reset(&mut self) {
        if let Some(s) = self.run.clear() {
            // It saves a final checkpoint and its summary on its own thread.
            s.send(Control::Stop);
            self.closing.push(s);
        }
        self.closing.retain(|s| !s.is_finished());
        self.notice = None;
    }

    /// Drains the run's events and snapshots; never waits. Returns whether anything arrived.
    pub fn poll(&mut self) -> bool {
        let (any, notices) = self.run.poll();
        if let Some(last) = notices.into_iter().last() {
            self.notice = Some(last);
        }
        any
    }

    /// The curves, under their title row and the offer to train an evaluator.
    fn curves_area(&mut self, ui: &mut egui::Ui) {
        super::curves::curves_header_ui(&mut self.curves, &mut self.enlarged, ui);
        if let Some(notice) =
            super::evaluator_job::evaluator_ui(&mut self.evaluator_job, &self.experiment, ui)
        {
            self.notice = Some(notice);
        }
        let data = &self
            .run
            .experiment
            .as_ref()
            .unwrap_or(&self.experiment)
            .data;
        super::curves::curves_ui(&mut self.curves, &self.run, data, ui);
    }

    /// The samples, with what they need of the window and the run.
    fn samples_area(&mut self, ui: &mut egui::Ui) {
        let panel = super::samples::SamplesPanel {
            run: &mut self.run,
            edited: &self.experiment,
            preview: &mut self.preview,
            audio_out: &mut self.audio_out,
            interpolation_pair: &mut self.interpolation_pair,
            enlarged: &mut self.enlarged,
            blind_test_open: self.blind_test.is_some(),
        };
        let commands = super::samples::samples_ui(panel, ui);
        self.commands.extend(commands);
    }

    /// One frame: drain events, then draw. Used by eframe and by the UI tests.
    pub fn show(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        self.poll();
        super::file_menu::handle_screenshot(self);
        super::file_menu::poll_dialog(self);
        egui::Panel::top("controls").show(ui, |ui| super::controls::controls_ui(self, ui));
        super::file_menu::windows_ui(self, ui);
        if self.runs.open {
            // At most 60 % of the window: the curves and samples stay in view.
            let widest = ui.available_width() * 0.6;
            let commands = egui::Panel::right("runs")
                .default_size(380.0_f32.min(widest))
                .max_size(widest)
                .show(ui, |ui| {
                    egui::ScrollArea::vertical()
                        .id_salt("runs_panel")
                        .show(ui, |ui| {
                            super::runs_panel::runs_ui(&mut self.runs, &mut self.runs_dir, ui)
                        })
                        .inner
                })
                .inner;
            self.commands.extend(commands);
            ctx.request_repaint_after(std::time::Duration::from_millis(500));
        }
        if self.show_editor {
            let adapters = self.adapters.get().map(Vec::as_slice);
            let command = egui::Panel::left("experiment")
                .default_size(300.0)
                .show(ui, |ui| {
                    egui::ScrollArea::vertical()
                        .show(ui, |ui| {
                            super::experiment_panel::experiment_ui(
                                &mut self.experiment,
                                &self.run,
                                &mut self.cost,
                                adapters,
                                ui,
                            )
                        })
                        .inner
                })
                .inner;
            self.commands.extend(command);
        }
        egui::CentralPanel::default().show(ui, |ui| match self.enlarged {
            Some(Enlarged::Curves) => self.curves_area(ui),
            Some(Enlarged::Samples) => self.samples_area(ui),
            None => {
                let half = ui.available_height() * 0.45;
                ui.allocate_ui(egui::vec2(ui.available_width(), half), |ui| {
                    self.curves_area(ui)
                });
                ui.separator();
                self.samples_area(ui);
            }
        });
        self.run_commands();
        self.blind_test_ui(&ctx);
        self.sweep_ui(&ctx);
        // What the dialogs asked for, at once rather than a frame late.
        self.run_commands();
        if self.is_running() {
            // Training events arrive on their own; look again soon without spinning.
            ctx.request_repaint_after(std::time::Duration::from_millis(50));
        }
    }
}

/// Lists the wgpu adapters on a helper thread: a driver may take a moment to answer, and
/// the window must not wait for it.
fn list_adapters_in_background(
) -> std::sync::Arc<std::sync::OnceLock<Vec<crate::train::device::Adapter>>> {
    let cell = std::sync::Arc::new(std::sync::OnceLock::new());
    let filler = cell.clone();
    let _ = std::thread::Builder::new()
        .name("genlab-adapters".into())
        .spawn(move || {
            let list =
                std::panic::catch_unwind(crate::train::device::list_adapters).unwrap_or_default();
            let _ = filler.set(list);
        });
    cell
}

impl eframe::App for GenLabApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.show(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        storage.set_string(STORAGE_KEY, self.experiment.to_toml());
        storage.set_string(RUNS_DIR_KEY, self.runs_dir.display().to_string());
        storage.set_string(
            super::settings::KEY,
            super::settings::ViewSettings::of(self).to_text(),
        );
    }

    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        self.close();
    }
}

impl GenLabApp {
    /// The window is closing: stop any run and wait (bounded) for every session to save a
    /// final checkpoint and write its summary.
    pub fn close(&mut self) {
        if let Some(s) = self.run.session.take() {
            s.send(Control::Stop);
            self.closing.push(s);
        }
        self.sweep.stop_and_wait(Self::CLOSING_WAIT);
        if !self.wait_for_closing(None, Self::CLOSING_WAIT) {
            eprintln!(
                "genlab: a run was still saving after {} s; its newest checkpoint is kept",
                Self::CLOSING_WAIT.as_secs()
            );
        }
    }
}
