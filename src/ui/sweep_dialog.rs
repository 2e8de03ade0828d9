//! The sweep dialog: what `genlab sweep` does, from the window. The edited experiment is
//! the base; each row of the dialog is one swept setting and its values. The sweep runs
//! on a helper thread, and its runs appear in the runs panel, ticked and grouped by
//! setting, as they start.

use crate::cli::Interrupts;
use crate::config::Experiment;
use crate::sweep::{self, Axis, SweepRequest};
use crossbeam_channel::{bounded, Receiver};
use eframe::egui;
use std::path::PathBuf;
use std::sync::atomic::Ordering;

/// Settings offered in the key menu (any dotted key of a preset can be typed).
const COMMON_KEYS: [&str; 5] = [
    "training.generator_optimizer.lr",
    "training.batch_size",
    "training.generator_optimizer.kind",
    "training.d_steps",
    "training.seed",
];

pub struct SweepDialog {
    pub open: bool,
    /// (dotted key, comma-separated values) per swept setting.
    pub axes: Vec<(String, String)>,
    pub seeds: usize,
    pub parallel: usize,
    /// Steps per run (0: the preset's).
    pub steps: u64,
    running: Option<Running>,
    /// What the last sweep did, or why it could not start.
    pub message: Option<String>,
}

struct Running {
    out: PathBuf,
    runs: usize,
    interrupts: Interrupts,
    done: Receiver<Result<String, String>>,
}

impl Default for SweepDialog {
    fn default() -> Self {
        SweepDialog {
            open: false,
            axes: vec![(COMMON_KEYS[0].into(), "1e-4, 2e-4, 1e-3".into())],
            seeds: 2,
            parallel: 1,
            steps: 0,
            running: None,
            message: None,
        }
    }
}

impl SweepDialog {
    pub fn is_running(&self) -> bool {
        self.running.is_some()
    }

    /// The swept settings as parsed axes, or what is wrong with a row.
    pub fn parsed_axes(&self) -> Result<Vec<Axis>, String> {
        self.axes
            .iter()
            .filter(|(k, v)| !k.trim().is_empty() || !v.trim().is_empty())
            .map(|(k, v)| Axis::parse(&format!("{}={v}", k.trim())))
            .collect()
    }

    /// The grid `experiment` would be swept over, checked: the number of runs.
    pub fn runs_for(&self, experiment: &Experiment) -> Result<usize, String> {
        let axes = self.parsed_axes()?;
        if axes.is_empty() {
            return Err("add a setting to sweep".into());
        }
        sweep::grid(experiment, &axes, self.seeds.max(1)).map(|g| g.len())
    }

    /// Writes the base preset into `out` and runs the sweep there on a helper thread.
    pub fn start(&mut self, experiment: &Experiment, out: PathBuf) -> Result<(), String> {
        let runs = self.runs_for(experiment)?;
        std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
        let preset = out.join("base.toml");
        crate::durable::write(&preset, experiment.to_toml().as_bytes())
            .map_err(|e| format!("{}: {e}", preset.display()))?;
        let interrupts = Interrupts::default();
        let req = SweepRequest {
            preset,
            axes: self.parsed_axes()?,
            seeds: self.seeds.max(1),
            out: out.clone(),
            parallel: self.parallel.max(1),
            threads: 0,
            steps: (self.steps > 0).then_some(self.steps),
            interrupts: interrupts.clone(),
        };
        let (tx, rx) = bounded(1);
        std::thread::Builder::new()
            .name("genlab-sweep".into())
            .spawn(move || {
                let result = std::panic::catch_unwind(|| sweep::run(&req))
                    .unwrap_or_else(|p| {
                        Err(anyhow::anyhow!(crate::train::session::panic_message(&p)))
                    })
                    .map(|results| summary(&results))
                    .map_err(|e| format!("{e:#}"));
                let _ = tx.send(result);
            })
            .map_err(|e| format!("cannot start the sweep: {e}"))?;
        self.running = Some(Running {
            out,
            runs,
            interrupts,
            done: rx,
        });
        self.message = None;
        Ok(())
    }

    /// Asks a running sweep to stop: the runs going now save a checkpoint, and starting
    /// the same sweep again resumes them.
    pub fn stop(&self) {
        if let Some(r) = &self.running {
            r.interrupts.stop.store(true, Ordering::Relaxed);
        }
    }

    /// The window is closing: stops a running sweep and waits up to `timeout` for its
    /// runs to save their checkpoints.
    pub fn stop_and_wait(&mut self, timeout: std::time::Duration) {
        self.stop();
        if let Some(r) = self.running.take() {
            let _ = r.done.recv_timeout(timeout);
        }
    }

    /// Collects a finished sweep; never waits.
    pub fn poll(&mut self) {
        let Some(r) = &self.running else { return };
        if let Ok(result) = r.done.try_recv() {
            self.message = Some(match result {
                Ok(words) => format!("{}: {words}", r.out.display()),
                Err(e) => format!("The sweep failed: {e}"),
            });
            self.running = None;
        }
    }

    /// The folder of the running sweep and its number of runs.
    pub fn running(&self) -> Option<(&std::path::Path, usize)> {
        self.running.as_ref().map(|r| (r.out.as_path(), r.runs))
    }
}

/// How a sweep ended, counted.
fn summary(results: &[(sweep::Point, sweep::Outcome)]) -> String {
    let count = |o: fn(&sweep::Outcome) -> bool| results.iter().filter(|(_, x)| o(x)).count();
    let finished = count(|o| matches!(o, sweep::Outcome::Finished));
    let failed = count(|o| matches!(o, sweep::Outcome::Failed(_)));
    let mut words = format!("{finished} of {} runs finished", results.len());
    if failed > 0 {
        words.push_str(&format!(", {failed} failed (see results.csv)"));
    }
    if finished + failed < results.len() {
        words.push_str("; start it again to resume the rest");
    }
    words
}

/// The dialog's window. `finished` counts the sweep's runs that have ended.
pub fn sweep_window(
    dialog: &mut SweepDialog,
    experiment: &Experiment,
    runs_dir: &std::path::Path,
    finished: usize,
    ctx: &egui::Context,
) -> Option<PathBuf> {
    dialog.poll();
    let mut started = None;
    let mut open = dialog.open;
    egui::Window::new("Sweep")
        .open(&mut open)
        .default_width(460.0)
        .show(ctx, |ui| {
            ui.label(format!(
                "Trains \"{}\" (the edited experiment) once per combination of the values below \
                 and per seed, into one sweep folder.",
                experiment.title
            ));
            let running = dialog.running().map(|(out, n)| (out.to_owned(), n));
            ui.add_enabled_ui(running.is_none(), |ui| {
                axes_ui(dialog, experiment.training.steps, ui)
            });
            match running {
                Some((out, n)) => {
                    ui.horizontal(|ui| {
                        ui.spinner();
                        ui.label(format!("{finished} of {n} runs done in {}", out.display()));
                    });
                    if ui
                        .button("Stop sweep")
                        .on_hover_text("The runs going now save a checkpoint; start the same sweep again to resume")
                        .clicked()
                    {
                        dialog.stop();
                    }
                }
                None => {
                    let check = dialog.runs_for(experiment);
                    match &check {
                        Ok(n) => ui.label(format!("{n} runs")),
                        Err(e) => ui.colored_label(ui.visuals().error_fg_color, e.as_str()),
                    };
                    if ui
                        .add_enabled(check.is_ok(), egui::Button::new("Start sweep"))
                        .clicked()
                    {
                        let out = runs_dir.join(format!(
                            "sweep-{}",
                            crate::run::new_run_dir(runs_dir, experiment)
                                .file_name()
                                .map(|n| n.to_string_lossy().into_owned())
                                .unwrap_or_else(|| "runs".into())
                        ));
                        match dialog.start(experiment, out.clone()) {
                            Ok(()) => started = Some(out),
                            Err(e) => dialog.message = Some(format!("Cannot start: {e}")),
                        }
                    }
                }
            }
            if let Some(m) = &dialog.message {
                ui.label(m);
            }
        });
    dialog.open = open;
    if dialog.is_running() {
        ctx.request_repaint_after(std::time::Duration::from_millis(500));
    }
    started
}

fn axes_ui(dialog: &mut SweepDialog, budget: u64, ui: &mut egui::Ui) {
    let mut remove = None;
    for (i, (key, values)) in dialog.axes.iter_mut().enumerate() {
        ui.horizontal(|ui| {
            ui.add(
                egui::TextEdit::singleline(key)
                    .desired_width(220.0)
                    .hint_text("dotted key, e.g. training.batch_size"),
            );
            ui.menu_button("common", |ui| {
                for k in COMMON_KEYS {
                    if ui.button(k).clicked() {
                        *key = k.to_string();
                        ui.close();
                    }
                }
            })
            .response
            .on_hover_text("Settings often swept");
            ui.add(
                egui::TextEdit::singleline(values)
                    .desired_width(130.0)
                    .hint_text("values, comma-separated"),
            );
            if ui.small_button("remove").clicked() {
                remove = Some(i);
            }
        });
    }
    if let Some(i) = remove {
        dialog.axes.remove(i);
    }
    if dialog.axes.len() < 4 && ui.small_button("+ setting").clicked() {
        dialog.axes.push((COMMON_KEYS[1].into(), "64, 128".into()));
    }
    ui.horizontal(|ui| {
        ui.add(egui::DragValue::new(&mut dialog.seeds).range(1..=10))
            .on_hover_text("Runs of each setting, with seeds 0, 1, ...");
        ui.label("seeds");
        ui.add(egui::DragValue::new(&mut dialog.parallel).range(1..=16))
            .on_hover_text("Runs at a time; the CPU threads are split between them");
        ui.label("at a time");
        ui.add(egui::DragValue::new(&mut dialog.steps).range(0..=1_000_000))
            .on_hover_text("Steps per run; 0 keeps the experiment's budget");
        ui.label(if dialog.steps == 0 {
            format!("steps (the experiment's {budget})")
        } else {
            "steps".to_string()
        });
    });
}
