//! The runs panel: every run on disk, several overlaid in one plot, and a table of the
//! settings that differ between them. Folders are read on a loader thread, so a growing
//! metrics.csv (a run in progress, here or synced from another machine) never blocks a frame.

use super::commands::Command;
use crate::config::Experiment;
use crate::run::folder::{
    config_differences, delete_run, list_runs, read_curves, read_run, rename_run, RunInfo, ELAPSED,
};
use crossbeam_channel::{bounded, Receiver};
use eframe::egui;
use egui_plot::{FilledArea, Legend, Line, Plot, PlotPoints};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

type Curves = BTreeMap<String, Vec<[f64; 2]>>;
/// A run's saved sample images by step.
type SampleFiles = Vec<(u64, PathBuf)>;
/// What one background read of the runs brings back.
type Loaded = (
    Vec<RunInfo>,
    BTreeMap<PathBuf, Curves>,
    BTreeMap<PathBuf, SampleFiles>,
);
/// A decoded sample image, from its loader thread.
type Decoded = (PathBuf, Result<egui::ColorImage, String>);
/// Sample textures kept for the comparison before the cache starts over.
const KEEP_TEXTURES: usize = 64;

/// How often open folders are re-read.
const REFRESH: Duration = Duration::from_secs(2);

#[derive(Default)]
pub struct RunsView {
    pub open: bool,
    pub runs: Vec<RunInfo>,
    /// Run folders opened from elsewhere (e.g. copied from a GPU server).
    pub extra: Vec<PathBuf>,
    pub selected: BTreeSet<PathBuf>,
    pub curves: BTreeMap<PathBuf, Curves>,
    pub metric: String,
    pub confirm_delete: Option<PathBuf>,
    pub renaming: Option<(PathBuf, String)>,
    pub message: Option<String>,
    /// Sweep folders' `runs/`, listed beside the runs folder; runs that appear in them
    /// are ticked.
    pub sweeps: Vec<PathBuf>,
    /// The ticked runs' saved samples, by step.
    pub samples: BTreeMap<PathBuf, SampleFiles>,
    /// The step the sample comparison shows (each run at its latest sample up to it);
    /// `None` follows the newest samples, so the runs open on how they ended.
    pub compare_step: Option<u64>,
    /// Draw a sweep's runs of one setting as their mean and min-max band over seeds.
    pub group_seeds: bool,
    /// The settings table's target: the plotted metric at least (or at most) a value.
    pub target: Option<Target>,
    /// Sample images uploaded, by file.
    pub textures: BTreeMap<PathBuf, Result<egui::TextureHandle, String>>,
    /// Text runs' saved items, by file (read once: a few hundred bytes each).
    texts: BTreeMap<PathBuf, Result<String, String>>,
    decoding: BTreeSet<PathBuf>,
    decoded: Option<(crossbeam_channel::Sender<Decoded>, Receiver<Decoded>)>,
    loading: Option<Receiver<Loaded>>,
    last_load: Option<Instant>,
}

impl RunsView {
    /// Adds a run folder from anywhere to the list.
    pub fn add_folder(&mut self, dir: &Path) -> Result<(), String> {
        if dir.join("jobs.txt").is_file() && dir.join("runs").is_dir() {
            self.add_sweep(dir);
            return Ok(());
        }
        if !crate::run::folder::is_run_dir(dir) {
            return Err(format!(
                "{} has no config.toml and metrics.csv: not a GenLab run folder",
                dir.display()
            ));
        }
        if !self.extra.iter().any(|d| d == dir) {
            self.extra.push(dir.to_owned());
        }
        self.selected.insert(dir.to_owned());
        self.last_load = None;
        Ok(())
    }

    /// Lists a sweep folder's runs, ticked and grouped over seeds.
    pub fn add_sweep(&mut self, sweep: &Path) {
        let runs = sweep.join("runs");
        if !self.sweeps.contains(&runs) {
            self.sweeps.push(runs);
        }
        // Plot what the sweep is judged by: its preset's outcome metric.
        let outcome = std::fs::read_dir(sweep.join("presets"))
            .into_iter()
            .flatten()
            .flatten()
            .find_map(|e| Experiment::load(&e.path()).ok()?.outcome);
        if let Some(o) = outcome {
            self.metric = o.metric;
        }
        self.group_seeds = true;
        self.open = true;
        self.last_load = None;
    }

    /// Starts a background re-read when due; picks up a finished one. Never waits.
    pub fn poll(&mut self, runs_dir: &Path) {
        if let Some(rx) = &self.loading {
            if let Ok((runs, curves, samples)) = rx.try_recv() {
                // A sweep's runs are ticked as they appear (their curves come next read).
                for r in &runs {
                    let of_sweep = r
                        .dir
                        .parent()
                        .is_some_and(|p| self.sweeps.iter().any(|s| s == p));
                    if of_sweep && self.selected.insert(r.dir.clone()) {
                        self.last_load = None;
                    }
                }
                self.runs = runs;
                self.curves = curves;
                self.samples = samples;
                self.loading = None;
                let available: BTreeSet<&String> = self
                    .curves
                    .values()
                    .flat_map(|c| c.keys())
                    .filter(|k| k.as_str() != ELAPSED)
                    .collect();
                // Kept while no curves are read yet (a sweep just opened names its own).
                if !available.is_empty() && !available.contains(&self.metric) {
                    self.metric = ["loss_g", "loss", "loss_d"]
                        .into_iter()
                        .find(|m| available.contains(&m.to_string()))
                        .map(str::to_owned)
                        .or_else(|| available.first().map(|s| s.to_string()))
                        .unwrap_or_default();
                }
            }
            return;
        }
        if self.last_load.is_some_and(|t| t.elapsed() < REFRESH) {
            return;
        }
        self.last_load = Some(Instant::now());
        let (tx, rx) = bounded(1);
        let (dir, extra, selected, sweeps) = (
            runs_dir.to_owned(),
            self.extra.clone(),
            self.selected.clone(),
            self.sweeps.clone(),
        );
        std::thread::spawn(move || {
            let mut runs = list_runs(&dir);
            for sweep in &sweeps {
                let mut of_sweep = list_runs(sweep);
                of_sweep.sort_by(|a, b| a.name.cmp(&b.name));
                runs.extend(of_sweep);
            }
            // Folders opened by hand may also live in the runs directory: list each once.
            let same =
                |a: &Path, b: &Path| a == b || a.canonicalize().ok() == b.canonicalize().ok();
            for d in extra.iter().filter(|d| d.exists()) {
                if !runs.iter().any(|r| same(&r.dir, d)) {
                    runs.push(read_run(d));
                }
            }
            let curves = selected
                .iter()
                .filter_map(|d| read_curves(d).ok().map(|c| (d.clone(), c)))
                .collect();
            let samples = selected
                .iter()
                .map(|d| (d.clone(), crate::run::folder::sample_steps(d)))
                .collect();
            let _ = tx.send((runs, curves, samples));
        });
        self.loading = Some(rx);
    }

    /// The sample file of `dir` shown at `compare_step`: its latest at or before it.
    pub fn sample_at(&self, dir: &Path) -> Option<&(u64, PathBuf)> {
        let files = self.samples.get(dir)?;
        files
            .iter()
            .rev()
            .find(|(s, _)| *s <= self.compare_step.unwrap_or(u64::MAX))
            .or(files.first())
    }

    /// The uploaded image of `file`, decoding it on a helper thread the first time.
    fn texture(
        &mut self,
        ctx: &egui::Context,
        file: &Path,
    ) -> Option<Result<egui::TextureHandle, String>> {
        let (tx, rx) = self
            .decoded
            .get_or_insert_with(crossbeam_channel::unbounded);
        for (path, image) in rx.try_iter() {
            self.decoding.remove(&path);
            let texture = image.map(|img| {
                ctx.load_texture(
                    path.display().to_string(),
                    img,
                    egui::TextureOptions::NEAREST,
                )
            });
            self.textures.insert(path, texture);
        }
        if let Some(t) = self.textures.get(file) {
            return Some(t.clone());
        }
        if self.textures.len() >= KEEP_TEXTURES {
            self.textures.clear();
        }
        if self.decoding.insert(file.to_owned()) {
            let (tx, path) = (tx.clone(), file.to_owned());
            std::thread::spawn(move || {
                let image = image::open(&path)
                    .map(|i| {
                        let rgba = i.to_rgba8();
                        egui::ColorImage::from_rgba_unmultiplied(
                            [rgba.width() as usize, rgba.height() as usize],
                            rgba.as_raw(),
                        )
                    })
                    .map_err(|e| format!("{}: {e}", path.display()));
                let _ = tx.send((path, image));
            });
        }
        ctx.request_repaint_after(Duration::from_millis(50));
        None
    }

    fn selected_runs(&self) -> Vec<&RunInfo> {
        self.runs
            .iter()
            .filter(|r| self.selected.contains(&r.dir))
            .collect()
    }

    /// The differences table of the selected runs: (field, one value per run).
    pub fn differences(&self) -> Vec<(String, Vec<String>)> {
        let exps: Vec<&Experiment> = self
            .selected_runs()
            .iter()
            .filter_map(|r| r.experiment.as_ref())
            .collect();
        if exps.len() < 2 {
            return Vec::new();
        }
        config_differences(&exps)
    }

    /// Deletes a run folder (after the user confirmed).
    pub fn delete(&mut self, dir: &Path) {
        self.message = Some(match delete_run(dir) {
            Ok(()) => format!("Deleted {}", dir.display()),
            Err(e) => e,
        });
        self.selected.remove(dir);
        self.extra.retain(|d| d != dir);
        self.runs.retain(|r| r.dir != dir);
        self.last_load = None;
    }
}

const COLOURS: [egui::Color32; 6] = [
    egui::Color32::from_rgb(230, 120, 30),
    egui::Color32::from_rgb(60, 140, 230),
    egui::Color32::from_rgb(80, 190, 90),
    egui::Color32::from_rgb(220, 70, 90),
    egui::Color32::from_rgb(170, 110, 220),
    egui::Color32::from_rgb(200, 200, 70),
];

/// The panel; returns what the user asked of the app (resume a run, open the sweep
/// dialog).
pub fn runs_ui(view: &mut RunsView, runs_dir: &mut PathBuf, ui: &mut egui::Ui) -> Vec<Command> {
    let mut commands = Vec::new();
    view.poll(runs_dir);
    ui.horizontal(|ui| {
        ui.heading("Runs");
        if ui
            .button("Sweep...")
            .on_hover_text("Train the edited experiment over a grid of settings and seeds")
            .clicked()
        {
            commands.push(Command::OpenSweepDialog);
        }
    });
    ui.horizontal(|ui| {
        let label = ui.label("runs folder");
        let mut text = runs_dir.display().to_string();
        let edit = ui
            .add(egui::TextEdit::singleline(&mut text).desired_width(240.0))
            .labelled_by(label.id);
        if edit.changed() {
            *runs_dir = PathBuf::from(text);
        }
        if edit.lost_focus() {
            view.last_load = None;
        }
    })
    .response
    .on_hover_text("New runs are written here; the list shows the runs in it");
    if let Some(m) = &view.message {
        ui.label(m);
    }
    egui::ScrollArea::vertical()
        .id_salt("runs_list")
        .max_height(260.0)
        .show(ui, |ui| {
            let runs = view.runs.clone();
            for run in &runs {
                let mut on = view.selected.contains(&run.dir);
                ui.horizontal(|ui| {
                    if ui
                        .checkbox(&mut on, "")
                        .on_hover_text("overlay this run")
                        .changed()
                    {
                        if on {
                            view.selected.insert(run.dir.clone());
                        } else {
                            view.selected.remove(&run.dir);
                        }
                        view.last_load = None;
                    }
                    ui.vertical(|ui| {
                        ui.label(egui::RichText::new(&run.name).strong());
                        let key = [
                            "modes_covered",
                            "classes_covered",
                            "held_out_reconstruction",
                            "pixel_distance",
                            "mmd",
                            "loss_g",
                            "loss",
                        ]
                        .iter()
                        .find_map(|k| {
                            let modes = run
                                .experiment
                                .as_ref()
                                .and_then(|e| crate::modality::of(&e.data).modes(&e.data));
                            run.last
                                .get(*k)
                                .map(|v| super::words::reading(k, *v, modes))
                        })
                        .unwrap_or_default();
                        ui.label(
                            egui::RichText::new(format!(
                                "{} | {} | {} steps | {key}",
                                run.title(),
                                run.status,
                                run.steps
                            ))
                            .small(),
                        );
                        if let Some((step, tally)) = run.human_eval.last_key_value() {
                            human_eval_ui(ui, *step, tally, &run.human_eval);
                        }
                        ui.horizontal(|ui| {
                            // A run in progress keeps its folder until it ends (its
                            // writer would go on in the old place).
                            let idle = run.status != "running";
                            if ui
                                .add_enabled(idle, egui::Button::new("rename").small())
                                .on_disabled_hover_text("Training: stop the run first")
                                .clicked()
                            {
                                view.renaming = Some((run.dir.clone(), run.name.clone()));
                            }
                            if ui
                                .add_enabled(idle, egui::Button::new("delete").small())
                                .on_disabled_hover_text("Training: stop the run first")
                                .clicked()
                            {
                                view.confirm_delete = Some(run.dir.clone());
                            }
                            if let Some(step) = run.latest_checkpoint.filter(|_| idle) {
                                if ui
                                    .small_button("resume")
                                    .on_hover_text(format!(
                                        "Continue this run from its checkpoint at step {step}"
                                    ))
                                    .clicked()
                                {
                                    commands.push(Command::ResumeRun {
                                        dir: run.dir.clone(),
                                        lr_scale: 1.0,
                                    });
                                }
                            }
                            if ui.small_button("open folder").clicked() {
                                let _ =
                                    std::process::Command::new("xdg-open").arg(&run.dir).spawn();
                            }
                        });
                    });
                });
            }
            if runs.is_empty() {
                ui.label("No runs yet: press Train, or add a run folder.");
            }
        });
    dialogs_ui(view, ui);
    ui.separator();
    compare_ui(view, ui, &mut commands);
    commands
}

/// A run's blind-test fool rate at its latest tested step; every step on hover.
fn human_eval_ui(
    ui: &mut egui::Ui,
    step: u64,
    tally: &crate::eval::human::Tally,
    per_step: &BTreeMap<u64, crate::eval::human::Tally>,
) {
    let Some(rate) = tally.fool_rate() else {
        return;
    };
    let all: Vec<String> = per_step
        .iter()
        .filter_map(|(s, t)| {
            let fooled = t.fool_rate()?;
            let real = t
                .real_rate()
                .map(|r| format!("; real judged real {r}"))
                .unwrap_or_default();
            Some(format!("step {s}: fooled {fooled}{real}"))
        })
        .collect();
    ui.label(egui::RichText::new(format!("blind test: fooled {rate} at step {step}")).small())
        .on_hover_text(format!(
            "Generated items judged real by a person, with 95% intervals:\n{}",
            all.join("\n")
        ));
}

fn dialogs_ui(view: &mut RunsView, ui: &mut egui::Ui) {
    if let Some(dir) = view.confirm_delete.clone() {
        ui.group(|ui| {
            ui.label(format!("Delete {} and everything in it?", dir.display()));
            ui.horizontal(|ui| {
                if ui.button("Delete run").clicked() {
                    view.confirm_delete = None;
                    view.delete(&dir);
                }
                if ui.button("Keep it").clicked() {
                    view.confirm_delete = None;
                }
            });
        });
    }
    if let Some((dir, mut name)) = view.renaming.clone() {
        ui.group(|ui| {
            ui.horizontal(|ui| {
                ui.label("new name");
                ui.text_edit_singleline(&mut name);
            });
            ui.horizontal(|ui| {
                if ui.button("Rename").clicked() {
                    view.message = Some(match rename_run(&dir, &name) {
                        Ok(new) => {
                            if view.selected.remove(&dir) {
                                view.selected.insert(new.clone());
                            }
                            format!("Renamed to {}", new.display())
                        }
                        Err(e) => e,
                    });
                    view.renaming = None;
                    view.last_load = None;
                } else if ui.button("Cancel").clicked() {
                    view.renaming = None;
                } else {
                    view.renaming = Some((dir.clone(), name.clone()));
                }
            });
        });
    }
}

fn compare_ui(view: &mut RunsView, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
    let selected: Vec<RunInfo> = view.selected_runs().into_iter().cloned().collect();
    if selected.is_empty() {
        ui.label("Tick runs to overlay their curves.");
        return;
    }
    let metrics: BTreeSet<String> = view
        .curves
        .values()
        .flat_map(|c| c.keys().cloned())
        .filter(|k| k != ELAPSED)
        .collect();
    egui::ComboBox::from_label("metric")
        .selected_text(super::words::metric_label(&view.metric))
        .show_ui(ui, |ui| {
            for m in metrics {
                let label = super::words::metric_label(&m).to_owned();
                ui.selectable_value(&mut view.metric, m, label);
            }
        });
    let groups = seed_groups(&selected);
    if groups.iter().any(|(_, members)| members.len() > 1) {
        ui.checkbox(&mut view.group_seeds, "mean and range over seeds")
            .on_hover_text(
                "Draws the runs of a sweep that differ only by seed as one line (their mean) and a band (their minimum to maximum)",
            );
    }
    let grouped = view.group_seeds;
    Plot::new("runs_overlay")
        .legend(Legend::default())
        .height(220.0)
        .x_axis_label("step")
        .show(ui, |plot_ui| {
            let curve = |run: &RunInfo| view.curves.get(&run.dir).and_then(|c| c.get(&view.metric));
            for (i, (name, members)) in groups.iter().enumerate() {
                let colour = COLOURS[i % COLOURS.len()];
                let curves: Vec<&[[f64; 2]]> = members
                    .iter()
                    .filter_map(|&m| curve(&selected[m]).map(|c| c.as_slice()))
                    .collect();
                if grouped && curves.len() > 1 {
                    let (steps, mean, lo, hi) = crate::sweep::band(&curves);
                    let label = format!("{name} ({} seeds)", curves.len());
                    // unnamed, so the legend shows the mean line's colour
                    plot_ui.add(
                        FilledArea::new("", &steps, &lo, &hi)
                            .fill_color(colour.gamma_multiply(0.25)),
                    );
                    let points: Vec<[f64; 2]> =
                        steps.iter().zip(&mean).map(|(s, m)| [*s, *m]).collect();
                    plot_ui.line(Line::new(label, PlotPoints::from(points)).color(colour));
                    continue;
                }
                for &m in members {
                    if let Some(points) = curve(&selected[m]) {
                        let colour = if grouped {
                            colour
                        } else {
                            COLOURS[m % COLOURS.len()]
                        };
                        plot_ui.line(
                            Line::new(selected[m].name.clone(), PlotPoints::from(points.clone()))
                                .color(colour),
                        );
                    }
                }
            }
        });
    let mut colours = vec![egui::Color32::GRAY; selected.len()];
    for (g, (_, members)) in groups.iter().enumerate() {
        for &m in members {
            colours[m] = COLOURS[if grouped { g } else { m } % COLOURS.len()];
        }
    }
    settings_table_ui(view, &selected, &groups, ui);
    samples_compare_ui(view, &selected, &colours, ui, commands);
    let diffs = view.differences();
    if selected.len() >= 2 {
        ui.strong(format!("Settings that differ ({})", diffs.len()));
        egui::ScrollArea::horizontal()
            .id_salt("runs_diff_scroll")
            .show(ui, |ui| {
                egui::Grid::new("runs_diff").striped(true).show(ui, |ui| {
                    ui.label("field");
                    for r in &selected {
                        ui.label(&r.name);
                    }
                    ui.end_row();
                    for (field, values) in &diffs {
                        ui.label(field);
                        for v in values {
                            ui.label(v);
                        }
                        ui.end_row();
                    }
                })
            });
    }
}

/// A value of a metric that the settings table times each setting to.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub metric: String,
    pub at_least: bool,
    pub value: f64,
    /// Set by the user: kept, not worked out again as the runs grow.
    pub edited: bool,
}

impl Target {
    /// For `metric`: the bound of a run's preset outcome on it, else the median of the
    /// runs' final values (so that some reach it and some do not), in the direction the
    /// metric improves.
    fn default_for(metric: &str, runs: &[RunInfo]) -> Target {
        let outcome = runs
            .iter()
            .filter_map(|r| r.experiment.as_ref()?.outcome.as_ref())
            .find(|o| o.metric == metric);
        if let Some(o) = outcome {
            return Target {
                metric: metric.into(),
                at_least: o.at_least.is_some(),
                value: o.at_least.or(o.at_most).unwrap_or(0.0),
                edited: false,
            };
        }
        let mut finals: Vec<f64> = runs
            .iter()
            .filter_map(|r| r.last.get(metric).copied())
            .filter(|v| v.is_finite())
            .collect();
        finals.sort_by(f64::total_cmp);
        Target {
            metric: metric.into(),
            at_least: super::words::higher_is_better(metric),
            value: finals.get(finals.len() / 2).copied().unwrap_or(0.0),
            edited: false,
        }
    }

    fn outcome(&self) -> crate::config::Outcome {
        crate::config::Outcome {
            metric: self.metric.clone(),
            at_least: self.at_least.then_some(self.value),
            at_most: (!self.at_least).then_some(self.value),
        }
    }
}

/// The ticked runs by setting: the plotted metric's final value (mean and range over
/// seeds) and the steps and seconds each setting took to reach a target value of it;
/// the best setting marked.
fn settings_table_ui(
    view: &mut RunsView,
    selected: &[RunInfo],
    groups: &[(String, Vec<usize>)],
    ui: &mut egui::Ui,
) {
    if view.metric.is_empty() {
        return;
    }
    let target = match &mut view.target {
        Some(t) if t.metric == view.metric && t.edited => t,
        slot => slot.insert(Target::default_for(&view.metric, selected)),
    };
    ui.horizontal_wrapped(|ui| {
        ui.strong("Settings");
        ui.label(format!(
            "time to {}",
            super::words::metric_label(&target.metric)
        ));
        let before = (target.at_least, target.value);
        egui::ComboBox::new("target_direction", "target")
            .width(40.0)
            .selected_text(if target.at_least { ">=" } else { "<=" })
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut target.at_least, true, ">= (higher is better)");
                ui.selectable_value(&mut target.at_least, false, "<= (lower is better)");
            });
        ui.add(egui::DragValue::new(&mut target.value).speed(0.01))
            .on_hover_text("The value each run is timed to: its first metrics row that meets it");
        target.edited |= before != (target.at_least, target.value);
    });
    let outcome = target.outcome();
    let curves: Vec<(String, Vec<&crate::sweep::Curves>)> = groups
        .iter()
        .map(|(name, members)| {
            let runs = members
                .iter()
                .filter_map(|&m| view.curves.get(&selected[m].dir))
                .collect();
            (name.clone(), runs)
        })
        .collect();
    let table = crate::sweep::table_of(&curves, Some(&outcome));
    let Some(column) = table.metrics.iter().position(|m| *m == outcome.metric) else {
        return;
    };
    egui::ScrollArea::horizontal()
        .id_salt("settings_table_scroll")
        .show(ui, |ui| {
            egui::Grid::new("settings_table")
                .striped(true)
                .show(ui, |ui| {
                    for head in [
                        "setting",
                        "runs",
                        "final: mean [min, max]",
                        "to target: steps",
                        "seconds",
                        "",
                    ] {
                        ui.label(egui::RichText::new(head).small().strong());
                    }
                    ui.end_row();
                    for r in &table.rows {
                        ui.label(&r.setting);
                        ui.label(r.seeds.to_string());
                        ui.label(
                            r.finals[column]
                                .map(|(mean, lo, hi)| {
                                    let s = super::words::significant;
                                    format!("{} [{}, {}]", s(mean), s(lo), s(hi))
                                })
                                .unwrap_or_else(|| "-".into()),
                        );
                        match (r.steps_to_target, r.seconds_to_target) {
                            (Some(steps), Some(secs)) => {
                                ui.label(format!("{steps:.0} ({} of {})", r.reached, r.seeds));
                                ui.label(format!("{secs:.1}"));
                            }
                            _ => {
                                ui.label("not reached");
                                ui.label("");
                            }
                        }
                        ui.label(if r.best { "best" } else { "" });
                        ui.end_row();
                    }
                })
        });
}

/// Whether a run's samples are images (whose saved grids a blind test can cut up).
fn is_image_run(run: &RunInfo) -> bool {
    use crate::modality::Modality;
    run.experiment.as_ref().is_some_and(|e| {
        crate::modality::of(&e.data).name() == crate::modality::images::Images.name()
    })
}

/// The ticked runs grouped by sweep setting (runs that differ only by seed), in order of
/// first appearance; a run outside a sweep is a group of its own. Indices into `runs`.
fn seed_groups(runs: &[RunInfo]) -> Vec<(String, Vec<usize>)> {
    // (key, label, members): runs of different sweeps stay apart
    let mut groups: Vec<(String, String, Vec<usize>)> = Vec::new();
    for (i, run) in runs.iter().enumerate() {
        let (key, label) = match crate::sweep::setting_of(&run.name) {
            Some(setting) => {
                let sweep = run.dir.parent().map(Path::display).map(|d| d.to_string());
                (
                    format!("{}/{setting}", sweep.unwrap_or_default()),
                    setting.to_string(),
                )
            }
            None => (run.dir.display().to_string(), run.name.clone()),
        };
        match groups.iter_mut().find(|(k, _, _)| *k == key) {
            Some((_, _, members)) => members.push(i),
            None => groups.push((key, label, vec![i])),
        }
    }
    groups.into_iter().map(|(_, label, m)| (label, m)).collect()
}

/// The ticked runs' samples side by side at one step, moved together by one slider (each
/// run shows its latest sample at or before that step).
fn samples_compare_ui(
    view: &mut RunsView,
    selected: &[RunInfo],
    colours: &[egui::Color32],
    ui: &mut egui::Ui,
    commands: &mut Vec<Command>,
) {
    let steps: BTreeSet<u64> = selected
        .iter()
        .filter_map(|r| view.samples.get(&r.dir))
        .flatten()
        .map(|(s, _)| *s)
        .collect();
    let (Some(&first), Some(&last)) = (steps.first(), steps.last()) else {
        return;
    };
    ui.horizontal(|ui| {
        ui.strong("Samples at step");
        let mut step = view.compare_step.unwrap_or(last).clamp(first, last);
        if ui
            .add(egui::Slider::new(&mut step, first..=last).text("step"))
            .on_hover_text("Moves every ticked run's samples together")
            .changed()
        {
            view.compare_step = (step != last).then_some(step);
        }
    });
    let ctx = ui.ctx().clone();
    // Side by side, at most 240 px each, in a strip that scrolls: content wider than the
    // panel would widen the panel, and the images with it, frame after frame.
    let width = (ui.available_width() / selected.len().max(1) as f32 - 8.0).clamp(60.0, 240.0);
    egui::ScrollArea::horizontal()
        .id_salt("compare_samples")
        .show(ui, |ui| {
            ui.horizontal_top(|ui| {
                for (i, run) in selected.iter().enumerate() {
                    let shown = view.sample_at(&run.dir).cloned();
                    ui.vertical(|ui| {
                        ui.set_max_width(width);
                        ui.colored_label(colours[i], &run.name);
                        let Some((step, file)) = shown else {
                            ui.label("no samples saved");
                            return;
                        };
                        ui.small(format!("step {step}"));
                        if file.extension().is_some_and(|e| e == "txt") {
                            if view.texts.len() >= KEEP_TEXTURES {
                                view.texts.clear();
                            }
                            let text = view.texts.entry(file.clone()).or_insert_with(|| {
                                std::fs::read_to_string(&file)
                                    .map_err(|e| format!("{}: {e}", file.display()))
                            });
                            match text {
                                // The first 24 items, in the text view's typeface.
                                Ok(text) => {
                                    for item in text.lines().take(24) {
                                        ui.monospace(item);
                                    }
                                }
                                Err(e) => {
                                    ui.small(e.as_str());
                                }
                            }
                            return;
                        }
                        match view.texture(&ctx, &file) {
                            Some(Ok(tex)) => {
                                let size = tex.size_vec2();
                                ui.image((tex.id(), size * (width / size.x.max(1.0))));
                                if is_image_run(run)
                                    && ui
                                        .small_button("blind test")
                                        .on_hover_text(format!(
                                            "Judge these samples (step {step}) against the run's data, one at a time"
                                        ))
                                        .clicked()
                                {
                                    commands.push(Command::BlindTestOfFolder {
                                        dir: run.dir.clone(),
                                        step,
                                        path: file.clone(),
                                    });
                                }
                            }
                            Some(Err(e)) => {
                                ui.small(e);
                            }
                            None => {
                                ui.spinner();
                            }
                        }
                    });
                }
            })
        });
}
