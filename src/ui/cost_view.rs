//! What the edited model costs, shown while the user edits: parameters, compute per step,
//! memory, and on request the measured steps per second and the time its budget takes.
//! Estimates (which may list a folder or read an IDX header) and the speed probe (which
//! trains a few steps) run on helper threads; the window only polls.

use crate::config::Experiment;
use crate::cost::{self, Estimate};
use crossbeam_channel::{bounded, Receiver};
use eframe::egui;
use std::time::Duration;

/// How long the speed probe trains.
const PROBE: Duration = Duration::from_millis(1500);

#[derive(Default)]
pub struct CostView {
    /// The experiment the figures below are for.
    shown_for: Option<Experiment>,
    estimate: Option<Result<Estimate, String>>,
    estimating: Option<Receiver<Result<Estimate, String>>>,
    /// Steps per second measured for `shown_for`.
    speed: Option<Result<f64, String>>,
    probing: Option<Receiver<Result<f64, String>>>,
}

impl CostView {
    /// Starts a new estimate when the experiment changed; collects finished work.
    pub fn poll(&mut self, experiment: &Experiment) {
        if let Some(rx) = &self.estimating {
            if let Ok(result) = rx.try_recv() {
                self.estimate = Some(result);
                self.estimating = None;
            }
        }
        if let Some(rx) = &self.probing {
            if let Ok(result) = rx.try_recv() {
                self.speed = Some(result);
                self.probing = None;
            }
        }
        if self.shown_for.as_ref() == Some(experiment) {
            return;
        }
        self.shown_for = Some(experiment.clone());
        self.speed = None;
        self.probing = None;
        if !experiment.validate().is_empty() {
            self.estimate = None;
            self.estimating = None;
            return;
        }
        self.estimating = Some(in_background(experiment.clone(), |e| {
            cost::estimate(&e).map_err(|e| e.to_string())
        }));
    }

    /// Measures the steps per second of the shown experiment.
    pub fn measure_speed(&mut self) {
        if let Some(exp) = self.shown_for.clone() {
            self.speed = None;
            self.probing = Some(in_background(exp, |e| cost::probe_speed(&e, PROBE)));
        }
    }

    pub fn speed(&self) -> Option<&Result<f64, String>> {
        self.speed.as_ref()
    }
}

fn in_background<T: Send + 'static>(
    experiment: Experiment,
    work: impl FnOnce(Experiment) -> Result<T, String> + Send + 'static,
) -> Receiver<Result<T, String>> {
    let (tx, rx) = bounded(1);
    let spawned = std::thread::Builder::new()
        .name("genlab-cost".into())
        .spawn(move || {
            let result =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(experiment)))
                    .unwrap_or_else(|p| Err(crate::train::session::panic_message(&p)));
            let _ = tx.send(result);
        });
    if let Err(e) = spawned {
        let (tx, rx) = bounded(1);
        let _ = tx.send(Err(format!("cannot start a thread: {e}")));
        return rx;
    }
    rx
}

/// A duration for people: "36 s", "4 min 10 s", "2 h 05 min".
pub fn duration_words(secs: f64) -> String {
    let s = secs.round() as u64;
    if s < 60 {
        format!("{s} s")
    } else if s < 3600 {
        format!("{} min {:02} s", s / 60, s % 60)
    } else {
        format!("{} h {:02} min", s / 3600, (s % 3600) / 60)
    }
}

/// The readout: drawn in the experiment panel.
pub fn cost_ui(view: &mut CostView, experiment: &Experiment, ui: &mut egui::Ui) {
    view.poll(experiment);
    ui.strong("Cost");
    // Two lines in every state, as the figures take: the data editor below must not
    // jump while the user draws or types.
    match &view.estimate {
        None if view.estimating.is_some() => {
            ui.label("estimating...");
            ui.label("");
        }
        None => {
            ui.label("fix the settings marked below");
            ui.label("to see what this model costs");
        }
        Some(Err(e)) => {
            ui.colored_label(ui.visuals().warn_fg_color, e);
        }
        Some(Ok(e)) => {
            ui.label(format!(
                "{} parameters · {} per step",
                cost::grouped(e.parameters),
                e.flops()
            ))
            .on_hover_text(
                "Trainable values of all networks, and the floating-point operations of one training step (forward and backward passes at the batch size).",
            );
            let memory = ui
                .label(format!("memory ≈ {}", cost::bytes(e.total())))
                .on_hover_text(format!(
                    "Estimated before loading anything: {}. A run that would not fit in the memory available is refused with these figures.",
                    e.describe()
                ));
            if let Some(free) = cost::available_memory() {
                if e.total() > free {
                    memory.highlight();
                    ui.colored_label(
                        ui.visuals().error_fg_color,
                        format!("more than the {} available", cost::bytes(free)),
                    );
                }
            }
        }
    }
    ui.horizontal(|ui| {
        let can_measure = matches!(view.estimate, Some(Ok(_))) && view.probing.is_none();
        if ui
            .add_enabled(can_measure, egui::Button::new("Measure speed"))
            .on_hover_text("Trains this model for about 1.5 s on the chosen backend (the data is loaded as a run would) and projects the time of its step budget")
            .clicked()
        {
            view.measure_speed();
        }
        match (&view.probing, &view.speed) {
            (Some(_), _) => {
                ui.spinner();
                ui.label("measuring...");
                ui.ctx().request_repaint_after(Duration::from_millis(100));
            }
            (None, Some(Ok(rate))) => {
                let steps = experiment.training.steps;
                let projected = if steps == 0 {
                    "runs until stopped".to_string()
                } else {
                    format!("{steps} steps ≈ {}", duration_words(steps as f64 / rate))
                };
                ui.label(format!("{rate:.0} steps/s · {projected}"));
            }
            (None, Some(Err(e))) => {
                ui.colored_label(ui.visuals().warn_fg_color, e);
            }
            (None, None) => {}
        }
    });
    if view.estimating.is_some() {
        ui.ctx().request_repaint_after(Duration::from_millis(100));
    }
}
