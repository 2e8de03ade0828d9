//! A training session on its own thread: control messages in, plain-data events out.

use super::events::{Control, Event, FailureKind, Metrics, Snapshot};
use super::gan::GanTrainer;
use super::trainer::{Trainer, Values};
use super::vae::VaeTrainer;
use crate::checkpoint::Checkpoint;
use crate::config::{Experiment, ModelConfig};
use crate::data::Dataset;
use crate::eval::diagnostics::Monitor;
use crate::run::{RunRecorder, RunWriter};
use burn::prelude::*;
use crossbeam_channel::{bounded, unbounded, Receiver, Sender, TryRecvError, TrySendError};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Snapshots waiting for the observer; older ones are dropped when it falls behind.
const SNAPSHOT_QUEUE: usize = 4;

/// Handle to a running session. Dropping it stops the training thread, which then saves
/// a final checkpoint and closes its run folder on its own.
pub struct Session {
    /// The run folder the session writes, if any.
    dir: Option<PathBuf>,
    control: Sender<Control>,
    events: Receiver<Event>,
    snapshots: Receiver<Snapshot>,
    dropped_snapshots: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
}

/// Where a resumed session starts from.
pub struct Resume {
    pub checkpoint: Checkpoint,
    /// Multiplies the saved learning rates (0.1 after a divergence, say); 1 keeps them.
    pub lr_scale: f64,
}

impl Session {
    /// Validates the experiment and starts training it on a new thread, with no run
    /// folder: checkpoints come to the observer as `Event::Checkpoint`.
    pub fn start(experiment: Experiment) -> Result<Session, String> {
        Self::launch(experiment, None, None)
    }

    /// Continues a run from a checkpoint. With the same experiment, the steps that follow
    /// are exactly those the unbroken run would have taken.
    pub fn resume(experiment: Experiment, resume: Resume) -> Result<Session, String> {
        Self::launch(experiment, Some(resume), None)
    }

    /// Starts (or, with `resume`, continues) training. With a run folder, the training
    /// thread itself feeds it: metrics, samples, diagnostics, checkpoints and, when the
    /// run ends however it ends, a final checkpoint and the summary. The thread ends only
    /// once all of that is on disk.
    pub fn launch(
        experiment: Experiment,
        resume: Option<Resume>,
        folder: Option<RunWriter>,
    ) -> Result<Session, String> {
        if let Some(r) = &resume {
            if !(r.lr_scale.is_finite() && r.lr_scale > 0.0) {
                return Err(format!(
                    "learning-rate factor {} must be a positive number",
                    r.lr_scale
                ));
            }
        }
        crate::alloc::tune();
        if let Err(reason) = experiment.check() {
            if let Some(mut f) = folder {
                // The folder says why it holds no training rather than look abandoned.
                let step = resume.as_ref().map_or(0, |r| r.checkpoint.step);
                let _ = f.finish("failed", step, Some(&reason));
            }
            return Err(reason);
        }
        let (control_tx, control_rx) = unbounded();
        // Metrics and status are small and never dropped; snapshots are bounded.
        let (event_tx, event_rx) = unbounded();
        let (snap_tx, snap_rx) = bounded(SNAPSHOT_QUEUE);
        let dropped = Arc::new(AtomicU64::new(0));
        let dir = folder.as_ref().map(|f| f.dir().to_owned());
        let recorder = folder
            .map(|f| RunRecorder::spawn(f, event_tx.clone()))
            .transpose()
            .map_err(|e| format!("cannot start the run writer: {e}"))?;
        let worker = Worker {
            control: control_rx,
            events: event_tx,
            snapshots: snap_tx,
            dropped: dropped.clone(),
            recorder,
        };
        let thread = std::thread::Builder::new()
            .name("genlab-training".into())
            .spawn(move || worker.run(experiment, resume))
            .map_err(|e| format!("cannot start the training thread: {e}"))?;
        Ok(Session {
            dir,
            control: control_tx,
            events: event_rx,
            snapshots: snap_rx,
            dropped_snapshots: dropped,
            thread: Some(thread),
        })
    }

    /// Sends a control message; ignored if the thread has already ended.
    pub fn send(&self, control: Control) {
        let _ = self.control.send(control);
    }

    /// All events that arrived since the last call, without waiting.
    pub fn drain_events(&self) -> Vec<Event> {
        self.events.try_iter().collect()
    }

    /// Waits up to `timeout` for the next event (for the CLI and tests).
    pub fn next_event(&self, timeout: std::time::Duration) -> Option<Event> {
        self.events.recv_timeout(timeout).ok()
    }

    /// All snapshots that arrived since the last call, oldest first.
    pub fn drain_snapshots(&self) -> Vec<Snapshot> {
        self.snapshots.try_iter().collect()
    }

    /// Snapshots dropped because the observer was not keeping up.
    pub fn dropped_snapshots(&self) -> u64 {
        self.dropped_snapshots.load(Ordering::Relaxed)
    }

    /// Whether the training thread has ended.
    pub fn is_finished(&self) -> bool {
        self.thread
            .as_ref()
            .map(|t| t.is_finished())
            .unwrap_or(true)
    }

    /// The run folder this session writes.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// Stops the thread and waits for it (and so for its run folder to be complete).
    pub fn stop_and_join(mut self) {
        self.send(Control::Stop);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    /// Waits up to `timeout` for the thread to end (after `Finished` or `Failed`, the run
    /// folder is complete once it has); returns whether it did.
    pub fn wait(&self, timeout: Duration) -> bool {
        let deadline = Instant::now().checked_add(timeout);
        while !self.is_finished() {
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        true
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // The thread ends at its next step; nobody needs to wait for it.
        let _ = self.control.send(Control::Stop);
    }
}

pub use super::device::device_for;

/// Builds the trainer the experiment describes, on `device`.
pub fn build_trainer(experiment: &Experiment, device: &Device) -> Result<Box<dyn Trainer>, String> {
    // Before anything is loaded or allocated: a run that cannot fit is refused whole.
    crate::cost::check_memory(experiment, crate::cost::available_memory())?;
    let data =
        Dataset::load(&experiment.data, experiment.training.seed).map_err(|e| e.to_string())?;
    if data.len() < 2 {
        return Err("the dataset has fewer than 2 samples".into());
    }
    let trainer = crate::modality::of_dataset(&data).trainer(experiment, data, device)?;
    // While the caller holds the seeded generator (`device::seeded`).
    trainer.initialize_parameters();
    Ok(trainer)
}

struct Worker {
    control: Receiver<Control>,
    events: Sender<Event>,
    snapshots: Sender<Snapshot>,
    dropped: Arc<AtomicU64>,
    /// The run folder's writer, fed from this thread.
    recorder: Option<RunRecorder>,
}

/// The GAN or VAE on flat samples (points, images, clips): every kind of data but text.
pub(crate) fn flat_trainer(
    experiment: &Experiment,
    data: Dataset,
    device: &Device,
) -> Result<Box<dyn Trainer>, String> {
    let shape = data.shape();
    Ok(match experiment.model {
        ModelConfig::Gan { .. } => {
            Box::new(GanTrainer::new(experiment, data, shape, device).map_err(|e| e.to_string())?)
        }
        ModelConfig::Vae { .. } => {
            Box::new(VaeTrainer::new(experiment, data, shape, device).map_err(|e| e.to_string())?)
        }
        ModelConfig::LanguageModel { .. } => {
            return Err("the language model reads text: choose the names or a text file".into())
        }
    })
}

/// The recurrent GAN, VAE or language model over token sequences (text).
pub(crate) fn sequence_trainer(
    experiment: &Experiment,
    data: Dataset,
    device: &Device,
) -> Result<Box<dyn Trainer>, String> {
    Ok(match experiment.model {
        ModelConfig::Gan { .. } => Box::new(
            super::text_gan::TextGanTrainer::new(experiment, data, device)
                .map_err(|e| e.to_string())?,
        ),
        ModelConfig::Vae { .. } => Box::new(
            super::text_vae::TextVaeTrainer::new(experiment, data, device)
                .map_err(|e| e.to_string())?,
        ),
        ModelConfig::LanguageModel { .. } => Box::new(
            super::lm::LmTrainer::new(experiment, data, device).map_err(|e| e.to_string())?,
        ),
    })
}

/// How `train` ended without a failure.
struct Ending {
    step: u64,
    stopped: bool,
}

/// Loop state that control messages change.
struct RunState {
    step: u64,
    paused: bool,
    /// Steps left from a `Step(n)` request while paused.
    pending: u64,
    /// One network's update asked for while paused (Step D / Step G).
    pending_part: Option<crate::train::Part>,
    stop: bool,
    checkpoint_requested: bool,
    panic_requested: bool,
    /// The step of the last checkpoint sent, so one step is never saved twice.
    last_checkpoint: Option<u64>,
}

/// Why `train` ended early.
struct Failure {
    reason: String,
    kind: FailureKind,
}

impl Failure {
    fn error(reason: impl Into<String>) -> Self {
        Failure {
            reason: reason.into(),
            kind: FailureKind::Error,
        }
    }
    fn diverged(reason: String) -> Self {
        Failure {
            reason,
            kind: FailureKind::Diverged,
        }
    }
}

impl Worker {
    fn run(mut self, experiment: Experiment, resume: Option<Resume>) {
        let step = Arc::new(AtomicU64::new(0));
        let threads = experiment.training.resolved_threads();
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            // burn-flex and gemm split large ops over the current rayon pool: this one.
            let pool = crate::kernels::training_pool(threads, "genlab-pool")
                .map_err(|e| Failure::error(format!("cannot start {threads} CPU threads: {e}")))?;
            pool.install(|| self.train(&experiment, resume, &step))
        }));
        let step = step.load(Ordering::Relaxed);
        let failure = match outcome {
            Ok(Ok(ending)) => {
                if let Some(r) = self.recorder.take() {
                    let status = if ending.stopped {
                        "stopped"
                    } else {
                        "finished"
                    };
                    r.finish(status, ending.step, None);
                }
                let _ = self.events.send(Event::Finished {
                    step: ending.step,
                    stopped: ending.stopped,
                });
                return;
            }
            Ok(Err(failure)) => failure,
            Err(panic) => Failure {
                reason: format!(
                    "the training thread crashed during step {}: {}",
                    step + 1,
                    panic_message(&panic)
                ),
                kind: FailureKind::Crashed,
            },
        };
        if let Some(r) = self.recorder.take() {
            r.finish("failed", step, Some(&failure.reason));
        }
        let _ = self.events.send(Event::Failed {
            step,
            reason: failure.reason,
            kind: failure.kind,
        });
    }

    fn train(
        &self,
        exp: &Experiment,
        resume: Option<Resume>,
        step_counter: &AtomicU64,
    ) -> Result<Ending, Failure> {
        let (device, device_name) = device_for(exp.backend).map_err(Failure::error)?;
        let seed = exp.training.seed;
        let mut trainer = super::device::seeded(&device, seed, || build_trainer(exp, &device))
            .map_err(Failure::error)?;
        if exp.backend != crate::config::Backend::Cpu && resume.is_none() {
            // The same seed starts from the same parameters on every backend: they are
            // initialised by the CPU backend and moved (through the checkpoint state).
            let (cpu, _) = device_for(crate::config::Backend::Cpu).map_err(Failure::error)?;
            let init = super::device::seeded(&cpu, seed, || build_trainer(exp, &cpu))
                .and_then(|t| t.save_state())
                .map_err(Failure::error)?;
            trainer.load_state(&init).map_err(Failure::error)?;
        }
        let t = &exp.training;
        let mut state = RunState {
            step: 0,
            paused: false,
            pending: 0,
            pending_part: None,
            stop: false,
            checkpoint_requested: false,
            panic_requested: false,
            last_checkpoint: None,
        };
        let mut elapsed = 0.0f64;
        let mut monitor = Monitor::for_experiment(exp);
        if let Some(r) = resume {
            let from = r.checkpoint.step;
            trainer
                .load_state(&r.checkpoint.trainer)
                .map_err(|e| Failure::error(format!("cannot resume from step {from}: {e}")))?;
            if r.lr_scale != 1.0 {
                let (g, d) = trainer.learning_rates();
                trainer.set_learning_rates(Some(g * r.lr_scale), d.map(|d| d * r.lr_scale));
            }
            state.step = from;
            state.last_checkpoint = Some(from);
            elapsed = r.checkpoint.elapsed;
            step_counter.store(from, Ordering::Relaxed);
        }
        let device_name = match exp.backend {
            crate::config::Backend::Cpu => {
                let n = rayon::current_num_threads();
                format!("{device_name}, {n} thread{}", if n == 1 { "" } else { "s" })
            }
            crate::config::Backend::Gpu => device_name,
        };
        self.emit(Event::Started {
            device: device_name,
            parameters: trainer.parameters(),
            classes: trainer.class_names(),
            step: state.step,
        });
        if state.step == 0 {
            // Step 0: the untrained model's samples and metrics, the baseline of every curve.
            let mut baseline = trainer.periodic_metrics();
            baseline.extend(self.snapshot(&mut *trainer, 0, 0.0));
            self.emit(Event::Metrics(Metrics {
                step: 0,
                elapsed: 0.0,
                values: baseline,
            }));
        }
        loop {
            self.handle_controls(&mut state, &mut *trainer);
            if state.checkpoint_requested && !state.stop {
                // On demand, at once, even while paused.
                self.checkpoint(exp, &mut state, &*trainer, elapsed)?;
                continue;
            }
            let budget_spent = t.steps > 0 && state.step >= t.steps;
            if state.stop || budget_spent {
                self.checkpoint(exp, &mut state, &*trainer, elapsed)?;
                return Ok(Ending {
                    step: state.step,
                    stopped: state.stop,
                });
            }
            if state.panic_requested {
                panic!("fault drill: a panic injected into step {}", state.step + 1);
            }
            let started = Instant::now();
            let part = state.pending_part.take();
            trainer.at_step(state.step);
            let values = match part.and_then(|p| trainer.step_part(p)) {
                Some(values) => values,
                None => trainer.step(),
            };
            state.step += 1;
            step_counter.store(state.step, Ordering::Relaxed);
            elapsed += started.elapsed().as_secs_f64();
            if let Some((name, v)) = values.iter().find(|(_, v)| !v.is_finite()) {
                let culprit = trainer
                    .non_finite_parameter()
                    .map(|p| format!(" (first non-finite parameter: {p})"))
                    .unwrap_or_default();
                return Err(Failure::diverged(format!(
                    "step {}: {name} became {v}{culprit}; resume from the last checkpoint with a lower learning rate",
                    state.step
                )));
            }
            let last = t.steps > 0 && state.step >= t.steps;
            // A single network's update is looked at at once (that is what it is for).
            let snapshot_due = state.step.is_multiple_of(t.samples_every) || last || part.is_some();
            if state.step.is_multiple_of(t.metrics_every) || state.step == 1 || snapshot_due {
                let mut row = values;
                row.extend(trainer.periodic_metrics());
                let (lr_g, lr_d) = trainer.learning_rates();
                row.push(("lr_g", lr_g));
                if let Some(lr_d) = lr_d {
                    row.push(("lr_d", lr_d));
                }
                if snapshot_due {
                    row.extend(self.snapshot(&mut *trainer, state.step, elapsed));
                }
                let metrics = Metrics {
                    step: state.step,
                    elapsed,
                    values: row,
                };
                let warnings = monitor.observe(&metrics);
                self.emit(Event::Metrics(metrics));
                for w in warnings {
                    self.emit(Event::Diagnostic(w));
                }
            }
            let scheduled = t.checkpoint_every > 0 && state.step.is_multiple_of(t.checkpoint_every);
            if scheduled && !last {
                self.checkpoint(exp, &mut state, &*trainer, elapsed)?;
            }
            if part.is_some() {
                if state.pending == 0 {
                    self.emit(Event::Paused { step: state.step });
                }
            } else if state.pending > 0 {
                state.pending -= 1;
                if state.pending == 0 {
                    self.emit(Event::Paused { step: state.step });
                }
            }
        }
    }

    /// Encodes a checkpoint of the current step and sends it to the observer, unless the
    /// model has diverged: a checkpoint with NaN in it would replace the last good one.
    fn checkpoint(
        &self,
        exp: &Experiment,
        state: &mut RunState,
        trainer: &dyn Trainer,
        elapsed: f64,
    ) -> Result<(), Failure> {
        state.checkpoint_requested = false;
        if state.last_checkpoint == Some(state.step) {
            return Ok(());
        }
        if let Some(p) = trainer.non_finite_parameter() {
            return Err(Failure::diverged(format!(
                "step {}: parameter {p} is not finite; resume from the last checkpoint with a lower learning rate",
                state.step
            )));
        }
        let checkpoint = Checkpoint {
            step: state.step,
            elapsed,
            experiment: exp.to_toml(),
            trainer: trainer.save_state().map_err(Failure::error)?,
        };
        let encoded = checkpoint.encode().map_err(Failure::error)?;
        state.last_checkpoint = Some(state.step);
        self.emit(Event::Checkpoint(encoded));
        Ok(())
    }

    /// Applies waiting control messages; blocks while paused with no steps requested.
    fn handle_controls(&self, state: &mut RunState, trainer: &mut dyn Trainer) {
        loop {
            let msg = if state.paused
                && state.pending == 0
                && state.pending_part.is_none()
                && !state.stop
            {
                match self.control.recv() {
                    Ok(m) => m,
                    // Every handle is gone: nobody can resume us.
                    Err(_) => Control::Stop,
                }
            } else {
                match self.control.try_recv() {
                    Ok(m) => m,
                    Err(TryRecvError::Empty) => return,
                    Err(TryRecvError::Disconnected) => Control::Stop,
                }
            };
            match msg {
                Control::Pause => {
                    if !state.paused {
                        state.paused = true;
                        state.pending = 0;
                        self.emit(Event::Paused { step: state.step });
                    }
                }
                Control::Resume => {
                    if state.paused {
                        state.paused = false;
                        state.pending = 0;
                        self.emit(Event::Resumed { step: state.step });
                    }
                }
                Control::Step(n) => {
                    state.paused = true;
                    state.pending += n;
                }
                Control::StepPart(part) => {
                    // Taken at the next step, in place of a whole one.
                    state.paused = true;
                    state.pending_part = Some(part);
                }
                Control::Stop => state.stop = true,
                Control::SetLearningRates {
                    generator,
                    discriminator,
                } => {
                    let valid = |lr: Option<f64>| lr.filter(|v| v.is_finite() && *v > 0.0);
                    trainer.set_learning_rates(valid(generator), valid(discriminator));
                }
                Control::Checkpoint => state.checkpoint_requested = true,
                Control::InterpolateBetween(a, b) => trainer.set_interpolation_pair(a, b),
                Control::ShowClass(class) => trainer.show_class(class),
                Control::InjectPanic => state.panic_requested = true,
                Control::InjectNan => trainer.set_learning_rates(Some(f64::NAN), Some(f64::NAN)),
            }
            if state.stop || state.checkpoint_requested {
                return;
            }
        }
    }

    /// Sends a snapshot (dropped if the observer is behind); returns its metrics.
    fn snapshot(&self, trainer: &mut dyn Trainer, step: u64, _elapsed: f64) -> Values {
        let (samples, metrics) = trainer.snapshot();
        let snapshot = Snapshot { step, samples };
        if let Some(r) = &self.recorder {
            r.snapshot(&snapshot);
        }
        match self.snapshots.try_send(snapshot) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
            Err(TrySendError::Disconnected(_)) => {}
        }
        metrics
    }

    /// Sends an event to the observer, and what belongs in the run folder to its writer.
    fn emit(&self, event: Event) {
        if let Some(r) = &self.recorder {
            match &event {
                Event::Metrics(m) => r.metrics(m),
                Event::Diagnostic(d) => r.diagnostic(d),
                Event::Checkpoint(c) => {
                    // The writer reports it once it is on disk; the observer needs no copy.
                    r.checkpoint(c.clone());
                    return;
                }
                _ => {}
            }
        }
        let _ = self.events.send(event);
    }
}

/// The text a panic carried, for a message.
pub fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}
