//! The run the window shows: its session, status, curves, samples and warnings. Changed in
//! one place, `RunState::apply`, from the session's events, and otherwise only by starting
//! a run (`RunState::started`) or clearing it (`RunState::clear`).

use super::samples::SampleView;
use crate::checkpoint::store;
use crate::config::{Backend, Experiment};
use crate::eval::diagnostics::Diagnostic;
use crate::run::history::History;
use crate::train::{Event, FailureKind, Session};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Where the run stands, as the status bar shows it.
#[derive(Debug, Clone, PartialEq)]
pub enum RunStatus {
    Idle,
    Starting,
    Training,
    Paused,
    Finished,
    Failed(String),
}

pub struct RunState {
    pub session: Option<Session>,
    pub status: RunStatus,
    /// The device the session trains on, in words.
    pub device: String,
    pub step: u64,
    pub history: History,
    pub samples: SampleView,
    /// Steps per second, measured between metrics rows.
    pub steps_per_sec: f64,
    rate_mark: Option<(u64, Instant)>,
    /// The experiment of the current (or last) run, as it was started: the edited one may
    /// differ from it.
    pub experiment: Option<Experiment>,
    /// The run's folder, kept after it ends so it can be resumed.
    pub dir: Option<PathBuf>,
    /// The step of the last checkpoint the run sent.
    pub last_checkpoint: Option<u64>,
    /// How the run failed, for the offer to resume it.
    pub failure: Option<FailureKind>,
    /// Warnings the run raised, newest last (one per name).
    pub diagnostics: Vec<Diagnostic>,
    /// The run's backend, for the offer to fall back to the CPU.
    pub backend: Backend,
    /// The data's modes or classes, for readings like "modes 6/8" and "classes 9/10".
    pub modes_total: Option<usize>,
    /// A conditional model's classes, by name (empty otherwise), and the one its
    /// snapshots show (`None`: all in rotation).
    pub classes: Vec<String>,
    pub shown_class: Option<usize>,
}

impl Default for RunState {
    fn default() -> Self {
        RunState {
            session: None,
            status: RunStatus::Idle,
            device: String::new(),
            step: 0,
            history: History::default(),
            samples: SampleView::default(),
            steps_per_sec: 0.0,
            rate_mark: None,
            experiment: None,
            dir: None,
            last_checkpoint: None,
            failure: None,
            diagnostics: Vec::new(),
            backend: Backend::default(),
            modes_total: None,
            classes: Vec::new(),
            shown_class: None,
        }
    }
}

impl RunState {
    pub fn is_running(&self) -> bool {
        matches!(
            self.status,
            RunStatus::Starting | RunStatus::Training | RunStatus::Paused
        )
    }

    /// A session launched on `exp`, from `step` (0, or a resumed checkpoint's).
    pub fn started(&mut self, session: Session, exp: Experiment, step: u64) {
        self.dir = session.dir().map(Path::to_owned);
        self.session = Some(session);
        self.status = RunStatus::Starting;
        self.backend = exp.backend;
        self.modes_total = crate::modality::of(&exp.data).classes(&exp.data);
        self.experiment = Some(exp);
        self.step = step;
        if step > 0 {
            self.last_checkpoint = Some(step);
        }
    }

    /// Forgets the run (curves, samples, warnings, folder) and hands back its session, if
    /// any, for the caller to stop. The last run's experiment and backend stay, and so do
    /// the sample view's zoom and the history's version (cached curves see the change).
    pub fn clear(&mut self) -> Option<Session> {
        self.status = RunStatus::Idle;
        self.step = 0;
        self.history.clear();
        self.samples.clear();
        self.steps_per_sec = 0.0;
        self.rate_mark = None;
        self.dir = None;
        self.last_checkpoint = None;
        self.failure = None;
        self.diagnostics.clear();
        self.session.take()
    }

    /// The checkpoint a failed or finished run can be resumed from: (run folder, step).
    pub fn resumable(&self) -> Option<(PathBuf, u64)> {
        if self.is_running() {
            return None;
        }
        let dir = self.dir.clone()?;
        let step = store::list(&store::dir_of(&dir)).last().map(|(s, _)| *s)?;
        Some((dir, step))
    }

    /// New learning rates told to the session: its experiment takes them at once.
    pub fn learning_rates_set(&mut self, generator: Option<f64>, discriminator: Option<f64>) {
        let Some(exp) = &mut self.experiment else {
            return;
        };
        if let Some(lr) = generator {
            exp.training.generator_optimizer.lr = lr;
        }
        if let (Some(lr), Some(d)) = (discriminator, &mut exp.training.discriminator_optimizer) {
            d.lr = lr;
        }
    }

    /// The rate is measured afresh after a pause.
    pub fn resumed_by_user(&mut self) {
        self.rate_mark = None;
    }

    /// Drains the session's events and snapshots; never waits. Returns whether anything
    /// arrived, and the notices the events call for.
    pub fn poll(&mut self) -> (bool, Vec<String>) {
        let Some(session) = &self.session else {
            return (false, Vec::new());
        };
        let events = session.drain_events();
        let snapshots = session.drain_snapshots();
        let any = !events.is_empty() || !snapshots.is_empty();
        for snap in snapshots {
            self.samples.push(snap);
        }
        let notices = events.into_iter().filter_map(|e| self.apply(e)).collect();
        (any, notices)
    }

    /// The one place an event changes the run; returns a notice for the user, if any.
    pub fn apply(&mut self, event: Event) -> Option<String> {
        match event {
            Event::Started {
                device,
                step,
                classes,
                ..
            } => {
                self.device = device;
                self.step = step;
                self.classes = classes;
                // A new session shows every class until asked otherwise.
                self.shown_class = None;
                self.status = RunStatus::Training;
            }
            Event::Diagnostic(d) => {
                self.diagnostics.retain(|old| old.name != d.name);
                self.diagnostics.push(d);
            }
            Event::CheckpointWritten { step, .. } => self.last_checkpoint = Some(step),
            // Only a session without a run folder sends the bytes: nowhere to keep them.
            Event::Checkpoint(_) => {}
            Event::WriteError(e) => return Some(format!("Cannot write the run folder: {e}")),
            Event::Metrics(m) => {
                self.measure_rate(m.step);
                self.step = m.step;
                self.history.push(&m);
            }
            Event::Paused { step } => {
                self.step = step;
                self.status = RunStatus::Paused;
                self.rate_mark = None;
            }
            Event::Resumed { step } => {
                self.step = step;
                self.status = RunStatus::Training;
            }
            // The session wrote the summary before saying so.
            Event::Finished { step, .. } => {
                self.step = step;
                self.status = RunStatus::Finished;
            }
            Event::Failed { step, reason, kind } => {
                self.step = step;
                self.failure = Some(kind);
                self.status = RunStatus::Failed(reason.clone());
                return Some(format!("Training failed at step {step}: {reason}"));
            }
        }
        None
    }

    /// Steps per second between metrics rows at least a quarter second apart, smoothed.
    fn measure_rate(&mut self, step: u64) {
        let now = Instant::now();
        let Some((s0, t0)) = self.rate_mark else {
            self.rate_mark = Some((step, now));
            return;
        };
        let dt = now.duration_since(t0).as_secs_f64();
        if dt > 0.25 && step > s0 {
            let rate = (step - s0) as f64 / dt;
            self.steps_per_sec = if self.steps_per_sec > 0.0 {
                0.7 * self.steps_per_sec + 0.3 * rate
            } else {
                rate
            };
            self.rate_mark = Some((step, now));
        }
    }
}
