//! Training an evaluator for the user's labelled data on a background thread, then
//! caching it where training looks for it (`eval::evaluator::cache_path`).

use crate::config::{DataConfig, Experiment};
use crossbeam_channel::{unbounded, Receiver};
use eframe::egui;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::eval::evaluator::TRAINING_STEPS as STEPS;

pub struct EvaluatorJob {
    pub data: DataConfig,
    done_steps: Arc<AtomicUsize>,
    result: Receiver<Result<String, String>>,
}

impl EvaluatorJob {
    /// Trains an evaluator for `data` and caches it where runs look for it.
    pub fn start(data: DataConfig, seed: u64) -> EvaluatorJob {
        let job_data = data.clone();
        Self::spawn(data, move |steps_done| {
            train_and_cache(&job_data, seed, steps_done)
        })
    }

    /// Runs `work` (which counts its steps in the counter it is given) on its own thread.
    pub fn spawn(
        data: DataConfig,
        work: impl FnOnce(&AtomicUsize) -> Result<String, String> + Send + 'static,
    ) -> EvaluatorJob {
        let done_steps = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = unbounded();
        let counter = done_steps.clone();
        let spawned = std::thread::Builder::new()
            .name("genlab-evaluator".into())
            .spawn(move || {
                // A panic (a bug, a driver) ends the job with a message, not a bar that
                // spins forever.
                let result =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(&counter)))
                        .unwrap_or_else(|panic| {
                            Err(format!(
                                "the evaluator thread crashed: {}",
                                crate::train::session::panic_message(&panic)
                            ))
                        });
                let _ = tx.send(result);
            });
        if let Err(e) = spawned {
            let (tx, rx2) = unbounded();
            let _ = tx.send(Err(format!("cannot start the evaluator thread: {e}")));
            return EvaluatorJob {
                data,
                done_steps,
                result: rx2,
            };
        }
        EvaluatorJob {
            data,
            done_steps,
            result: rx,
        }
    }
}

fn train_and_cache(
    data: &DataConfig,
    seed: u64,
    steps_done: &AtomicUsize,
) -> Result<String, String> {
    if std::env::var_os("GENLAB_FAULT_EVALUATOR_PANIC").is_some() {
        panic!("fault drill: a panic injected into the evaluator job");
    }
    let job = crate::modality::EvaluatorJob {
        seed,
        steps: STEPS,
        progress: &mut |s| steps_done.store(s, Ordering::Relaxed),
    };
    let trained = crate::modality::of(data).train_evaluator(
        data,
        job,
        &crate::eval::evaluator::cache_path(data),
    )?;
    Ok(format!(
        "Evaluator trained: {:.1} % held-out accuracy; new runs on this data report FD, KID, precision and recall.",
        trained.held_out_accuracy * 100.0
    ))
}

/// The offer to train an evaluator for labelled data that has none, and its progress;
/// returns a notice when the training ends.
pub fn evaluator_ui(
    job: &mut Option<EvaluatorJob>,
    exp: &Experiment,
    ui: &mut egui::Ui,
) -> Option<String> {
    if let Some(running) = job {
        let notice = match running.result.try_recv() {
            Ok(result) => result.unwrap_or_else(|e| format!("Evaluator training failed: {e}")),
            Err(crossbeam_channel::TryRecvError::Disconnected) => {
                "Evaluator training failed: its thread ended without a result".into()
            }
            Err(crossbeam_channel::TryRecvError::Empty) => {
                let done = running.done_steps.load(Ordering::Relaxed);
                ui.add(
                    egui::ProgressBar::new(done as f32 / STEPS as f32)
                        .text(format!("training the evaluator: step {done} of {STEPS}")),
                );
                ui.ctx()
                    .request_repaint_after(std::time::Duration::from_millis(200));
                return None;
            }
        };
        *job = None;
        return Some(notice);
    }
    // A folder is labelled when it has class subfolders; listing it every frame would
    // cost too much, so the offer stands and training says so when it has none.
    if exp.data.may_have_labels() && !crate::eval::evaluator::available(&exp.data) {
        ui.horizontal(|ui| {
            ui.label("No evaluator for this dataset yet, so no FD / KID / precision / recall.");
            if ui
                .button("Train evaluator")
                .on_hover_text("Trains a small classifier on this labelled data in the background and caches it")
                .clicked()
            {
                *job = Some(EvaluatorJob::start(
                    exp.data.clone(),
                    exp.training.seed,
                ));
            }
        });
    }
    None
}
