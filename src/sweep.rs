//! `genlab sweep`: a grid of settings times seeds, trained one run after another (or N at
//! a time with the threads split between them) into one folder. The folder resumes where
//! it stopped, and its `jobs.txt` (one `genlab train` command per run) spreads the same
//! grid over other machines.
//!
//! ```text
//! SWEEP/
//!   jobs.txt          genlab train SWEEP/presets/NAME.toml --out SWEEP/runs/NAME
//!   presets/NAME.toml each run's whole experiment
//!   runs/NAME/        each run's folder (the window opens them)
//!   results.csv       one row per run: its settings, seed, status and final metrics
//!   settings.csv      one row per setting over its seeds: each final metric's mean, min
//!                     and max; steps and seconds to reach the preset's [outcome]; the
//!                     best setting marked
//! ```

use crate::cli::{self, Interrupts, TrainRequest};
use crate::config::Experiment;
use crate::run::folder;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// One swept setting: a dotted key of the preset and the values it takes.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    pub key: String,
    pub values: Vec<toml::Value>,
}

impl Axis {
    /// Parses `training.batch_size=64,128,256`: each value as TOML (numbers, booleans),
    /// else as a string.
    pub fn parse(arg: &str) -> Result<Axis, String> {
        let (key, values) = arg
            .split_once('=')
            .ok_or_else(|| format!("--set {arg}: expected KEY=V1,V2,..."))?;
        let key = key.trim();
        if key.is_empty() || key.split('.').any(str::is_empty) {
            return Err(format!(
                "--set {arg}: the key must be dotted names, e.g. training.batch_size"
            ));
        }
        let values: Vec<toml::Value> = values
            .split(',')
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(|v| {
                format!("v = {v}")
                    .parse::<toml::Table>()
                    .ok()
                    .and_then(|t| t.get("v").cloned())
                    .unwrap_or_else(|| toml::Value::String(v.to_string()))
            })
            .collect();
        if values.is_empty() {
            return Err(format!("--set {arg}: no values"));
        }
        Ok(Axis {
            key: key.to_string(),
            values,
        })
    }
}

/// One run of a sweep.
#[derive(Debug, Clone)]
pub struct Point {
    /// Folder and preset name, e.g. `003_lr=0.001_seed=1`.
    pub name: String,
    /// (key, value) for each axis, in axis order.
    pub settings: Vec<(String, String)>,
    pub seed: u64,
    pub experiment: Experiment,
}

/// The grid: every combination of the axes' values, each with `seeds` seeds (the preset's
/// seed, then the next ones). Every point's experiment is validated; a key the preset
/// does not have is refused (a typo would otherwise sweep nothing).
pub fn grid(base: &Experiment, axes: &[Axis], seeds: usize) -> Result<Vec<Point>, String> {
    let base_table: toml::Table = base
        .to_toml()
        .parse()
        .map_err(|e| format!("cannot re-read the preset: {e}"))?;
    for axis in axes {
        if lookup(&base_table, &axis.key).is_none() {
            return Err(format!(
                "--set {}: the preset has no such setting (keys are as in the preset file, e.g. training.batch_size)",
                axis.key
            ));
        }
    }
    let mut combos: Vec<Vec<usize>> = vec![Vec::new()];
    for axis in axes {
        combos = combos
            .into_iter()
            .flat_map(|c| {
                (0..axis.values.len()).map(move |i| {
                    let mut c = c.clone();
                    c.push(i);
                    c
                })
            })
            .collect();
    }
    let mut points = Vec::new();
    for combo in &combos {
        for s in 0..seeds.max(1) {
            let mut table = base_table.clone();
            let mut settings = Vec::new();
            for (axis, &i) in axes.iter().zip(combo) {
                let value = axis.values[i].clone();
                set(&mut table, &axis.key, value.clone());
                settings.push((axis.key.clone(), value_text(&value)));
            }
            let seed = base.training.seed + s as u64;
            set(
                &mut table,
                "training.seed",
                toml::Value::Integer(seed as i64),
            );
            let label: Vec<String> = settings
                .iter()
                .map(|(k, v)| format!("{}={v}", k.rsplit('.').next().unwrap_or(k)))
                .chain(std::iter::once(format!("seed={seed}")))
                .collect();
            let name = sanitise(&format!("{:03}_{}", points.len(), label.join("_")));
            let text = toml::to_string_pretty(&table).map_err(|e| e.to_string())?;
            let experiment = Experiment::parse(&text, Path::new(&name))
                .map_err(|e| format!("run {name}: {e}"))?;
            points.push(Point {
                name,
                settings,
                seed,
                experiment,
            });
        }
    }
    Ok(points)
}

fn lookup<'a>(table: &'a toml::Table, key: &str) -> Option<&'a toml::Value> {
    let mut parts = key.split('.');
    let mut value = table.get(parts.next()?)?;
    for p in parts {
        value = value.as_table()?.get(p)?;
    }
    Some(value)
}

fn set(table: &mut toml::Table, key: &str, value: toml::Value) {
    let parts: Vec<&str> = key.split('.').collect();
    let mut t = table;
    for p in &parts[..parts.len() - 1] {
        t = match t
            .entry(p.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()))
        {
            toml::Value::Table(inner) => inner,
            _ => return,
        };
    }
    t.insert(parts[parts.len() - 1].to_string(), value);
}

fn value_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A name that is a safe folder name everywhere.
fn sanitise(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._=-+".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// What `genlab sweep` was asked to do.
pub struct SweepRequest {
    pub preset: PathBuf,
    pub axes: Vec<Axis>,
    pub seeds: usize,
    pub out: PathBuf,
    /// Runs at a time.
    pub parallel: usize,
    /// CPU threads for the whole sweep, split between the runs at a time (0: all cores
    /// but one).
    pub threads: usize,
    pub steps: Option<u64>,
    pub interrupts: Interrupts,
}

/// How one run of a sweep ended up.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Finished earlier (found in the folder) or now.
    Finished,
    /// Stopped (Ctrl-C): the next `genlab sweep` resumes it.
    Stopped,
    Failed(String),
    /// Not started: the sweep was stopped first.
    Pending,
}

/// The folder's file layout.
pub fn preset_path(out: &Path, p: &Point) -> PathBuf {
    out.join("presets").join(format!("{}.toml", p.name))
}

pub fn run_path(out: &Path, p: &Point) -> PathBuf {
    out.join("runs").join(&p.name)
}

/// Writes the presets and jobs.txt, trains every run not finished yet (resuming stopped
/// ones from their checkpoints), and writes results.csv. Returns each run's outcome.
pub fn run(req: &SweepRequest) -> anyhow::Result<Vec<(Point, Outcome)>> {
    let base = Experiment::load(&req.preset)?;
    let mut points = grid(&base, &req.axes, req.seeds).map_err(anyhow::Error::msg)?;
    if let Some(steps) = req.steps {
        for p in &mut points {
            p.experiment.training.steps = steps;
        }
    }
    std::fs::create_dir_all(req.out.join("presets"))?;
    std::fs::create_dir_all(req.out.join("runs"))?;
    let mut jobs = String::new();
    for p in &points {
        let path = preset_path(&req.out, p);
        crate::durable::write(&path, p.experiment.to_toml().as_bytes())
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
        jobs.push_str(&format!(
            "genlab train {} --out {}\n",
            shell_word(&path),
            shell_word(&run_path(&req.out, p))
        ));
    }
    crate::durable::write(&req.out.join("jobs.txt"), jobs.as_bytes())?;

    let parallel = req.parallel.clamp(1, points.len().max(1));
    let total = match req.threads {
        0 => std::thread::available_parallelism()
            .map(|n| n.get().saturating_sub(1))
            .unwrap_or(1)
            .max(1),
        n => n,
    };
    let per_run = (total / parallel).max(1);
    let next = AtomicUsize::new(0);
    let outcomes: Mutex<Vec<Outcome>> = Mutex::new(vec![Outcome::Pending; points.len()]);
    std::thread::scope(|scope| {
        for _ in 0..parallel {
            scope.spawn(|| loop {
                if req.interrupts.stop.load(Ordering::Relaxed) {
                    return;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(p) = points.get(i) else { return };
                let outcome = train_point(req, p, per_run, i, points.len());
                if let Ok(mut o) = outcomes.lock() {
                    o[i] = outcome;
                }
            });
        }
    });
    let outcomes = outcomes.into_inner().unwrap_or_default();
    let results: Vec<(Point, Outcome)> = points.into_iter().zip(outcomes).collect();
    write_results(&req.out, &req.axes, &results)?;
    let table = settings_table(&req.out, &results, base.outcome.as_ref());
    crate::durable::write(&req.out.join("settings.csv"), table.to_csv().as_bytes())?;
    println!("{}", table.to_text());
    Ok(results)
}

/// Trains (or resumes, or skips) one run.
fn train_point(req: &SweepRequest, p: &Point, threads: usize, i: usize, n: usize) -> Outcome {
    let dir = run_path(&req.out, p);
    let info = folder::holds_a_run(&dir).then(|| folder::read_run(&dir));
    let train = TrainRequest {
        steps: Some(p.experiment.training.steps),
        threads: Some(threads),
        interrupts: req.interrupts.clone(),
        ..TrainRequest::quiet(Some(dir.clone()))
    };
    let result = match info {
        Some(info) if info.status == "finished" => {
            eprintln!("[{}/{n}] {}: finished earlier", i + 1, p.name);
            return Outcome::Finished;
        }
        Some(info) if info.latest_checkpoint.is_some() => {
            eprintln!("[{}/{n}] {}: resuming", i + 1, p.name);
            cli::resume(&dir, 1.0, &train)
        }
        // Started but nothing to resume from: start again.
        Some(_) => {
            eprintln!("[{}/{n}] {}", i + 1, p.name);
            let again = TrainRequest {
                overwrite: true,
                ..train
            };
            cli::train_with(&preset_path(&req.out, p), &again)
        }
        None => {
            eprintln!("[{}/{n}] {}", i + 1, p.name);
            cli::train_with(&preset_path(&req.out, p), &train)
        }
    };
    match result {
        Err(e) => Outcome::Failed(format!("{e:#}")),
        Ok(_) => match folder::read_run(&dir).status.as_str() {
            "finished" => Outcome::Finished,
            "stopped" => Outcome::Stopped,
            other => Outcome::Failed(other.to_string()),
        },
    }
}

/// A path as one shell word.
fn shell_word(p: &Path) -> String {
    let s = p.display().to_string();
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._=-+".contains(c))
    {
        s
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// results.csv: one row per run with its settings, seed, outcome, steps, wall time and
/// the final value of every metric any run reported.
fn write_results(out: &Path, axes: &[Axis], results: &[(Point, Outcome)]) -> anyhow::Result<()> {
    let infos: Vec<folder::RunInfo> = results
        .iter()
        .map(|(p, _)| folder::read_run(&run_path(out, p)))
        .collect();
    let metrics: BTreeSet<&String> = infos.iter().flat_map(|i| i.last.keys()).collect();
    let mut text = String::from("run");
    for a in axes {
        text.push(',');
        text.push_str(&a.key);
    }
    text.push_str(",seed,outcome,steps,duration_s");
    for m in &metrics {
        text.push(',');
        text.push_str(m);
    }
    text.push('\n');
    for ((p, outcome), info) in results.iter().zip(&infos) {
        let outcome = match outcome {
            Outcome::Finished => "finished".to_string(),
            Outcome::Stopped => "stopped".to_string(),
            Outcome::Pending => "pending".to_string(),
            Outcome::Failed(why) => format!("failed: {}", why.replace([',', '\n'], " ")),
        };
        text.push_str(&p.name);
        for (_, v) in &p.settings {
            text.push(',');
            text.push_str(&v.replace(',', " "));
        }
        text.push_str(&format!(
            ",{},{outcome},{},{}",
            p.seed,
            info.steps,
            info.duration_s
                .map(|d| format!("{d:.1}"))
                .unwrap_or_default()
        ));
        for m in &metrics {
            text.push(',');
            if let Some(v) = info.last.get(*m) {
                text.push_str(&v.to_string());
            }
        }
        text.push('\n');
    }
    crate::durable::write(&out.join("results.csv"), text.as_bytes())?;
    Ok(())
}

/// A sweep's settings over their seeds (settings.csv and the table `genlab sweep` prints).
#[derive(Debug, Clone)]
pub struct SettingsTable {
    pub metrics: Vec<String>,
    pub rows: Vec<SettingRow>,
    /// The preset's outcome in words (`modes_covered >= 7`), when it has one.
    pub target: Option<String>,
}

#[derive(Debug, Clone)]
pub struct SettingRow {
    /// `lr=0.001 batch_size=64`.
    pub setting: String,
    pub seeds: usize,
    /// (mean, min, max) of each metric's final value, over the seeds that have one.
    pub finals: Vec<Option<(f64, f64, f64)>>,
    /// Seeds whose run met the target, and their mean steps and seconds to it.
    pub reached: usize,
    pub steps_to_target: Option<f64>,
    pub seconds_to_target: Option<f64>,
    pub best: bool,
}

/// A run's curves by metric, as `folder::read_curves` reads them (with `elapsed_s`).
pub type Curves = std::collections::BTreeMap<String, Vec<[f64; 2]>>;

/// Groups a sweep's runs by setting and tabulates them (see `table_of`).
pub fn settings_table(
    out: &Path,
    results: &[(Point, Outcome)],
    target: Option<&crate::config::Outcome>,
) -> SettingsTable {
    let mut groups: Vec<(String, Vec<Curves>)> = Vec::new();
    for (p, _) in results {
        let setting = p
            .settings
            .iter()
            .map(|(k, v)| format!("{}={v}", k.rsplit('.').next().unwrap_or(k)))
            .collect::<Vec<_>>()
            .join(" ");
        let curves = folder::read_curves(&run_path(out, p)).unwrap_or_default();
        match groups.iter_mut().find(|(s, _)| *s == setting) {
            Some((_, runs)) => runs.push(curves),
            None => groups.push((setting, vec![curves])),
        }
    }
    let groups: Vec<(String, Vec<&Curves>)> = groups
        .iter()
        .map(|(s, runs)| (s.clone(), runs.iter().collect()))
        .collect();
    table_of(&groups, target)
}

/// Settings, each with its runs' curves, as a table: each metric's final value over the
/// runs, and the steps and seconds to the first value that meets `target`. The best
/// setting has the best mean final value of the target's metric (highest for
/// `at_least`, lowest for `at_most`).
pub fn table_of(
    groups: &[(String, Vec<&Curves>)],
    target: Option<&crate::config::Outcome>,
) -> SettingsTable {
    let metrics: Vec<String> = groups
        .iter()
        .flat_map(|(_, runs)| runs.iter().flat_map(|c| c.keys()))
        .filter(|m| m.as_str() != folder::ELAPSED)
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut rows: Vec<SettingRow> = groups
        .iter()
        .map(|(setting, runs)| {
            let finals = metrics
                .iter()
                .map(|m| {
                    let v: Vec<f64> = runs
                        .iter()
                        .filter_map(|c| c.get(m).and_then(|c| c.last()).map(|p| p[1]))
                        .collect();
                    (!v.is_empty()).then(|| {
                        let mean = v.iter().sum::<f64>() / v.len() as f64;
                        let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
                        let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                        (mean, lo, hi)
                    })
                })
                .collect();
            let hits: Vec<(f64, f64)> = target
                .map(|t| runs.iter().filter_map(|c| first_reaching(c, t)).collect())
                .unwrap_or_default();
            let mean = |f: fn(&(f64, f64)) -> f64| {
                (!hits.is_empty()).then(|| hits.iter().map(f).sum::<f64>() / hits.len() as f64)
            };
            SettingRow {
                setting: setting.clone(),
                seeds: runs.len(),
                finals,
                reached: hits.len(),
                steps_to_target: mean(|h| h.0),
                seconds_to_target: mean(|h| h.1),
                best: false,
            }
        })
        .collect();
    if let Some(t) = target {
        let column = metrics.iter().position(|m| *m == t.metric);
        let higher = t.at_least.is_some();
        let score = |r: &SettingRow| {
            column
                .and_then(|c| r.finals[c])
                .map(|(mean, _, _)| if higher { mean } else { -mean })
        };
        let best = rows
            .iter()
            .enumerate()
            .filter_map(|(i, r)| score(r).map(|s| (i, s)))
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(i, _)| i);
        if let Some(i) = best {
            rows[i].best = true;
        }
    }
    SettingsTable {
        metrics,
        rows,
        target: target.map(|t| t.check(f64::NAN).1),
    }
}

/// The step and elapsed seconds of a run's first value that meets `target`.
fn first_reaching(curves: &Curves, target: &crate::config::Outcome) -> Option<(f64, f64)> {
    let [step, _] = *curves
        .get(&target.metric)?
        .iter()
        .find(|p| target.check(p[1]).0)?;
    let elapsed = curves.get(folder::ELAPSED)?;
    let at = elapsed
        .binary_search_by(|p| p[0].total_cmp(&step))
        .ok()
        .map(|i| elapsed[i][1])?;
    Some((step, at))
}

impl SettingsTable {
    pub fn to_csv(&self) -> String {
        let mut text = String::from("setting,seeds,best");
        for m in &self.metrics {
            text.push_str(&format!(",{m}_mean,{m}_min,{m}_max"));
        }
        text.push_str(",seeds_reaching_target,steps_to_target,seconds_to_target\n");
        for r in &self.rows {
            text.push_str(&format!(
                "{},{},{}",
                r.setting,
                r.seeds,
                if r.best { "*" } else { "" }
            ));
            for f in &r.finals {
                match f {
                    Some((mean, lo, hi)) => text.push_str(&format!(",{mean},{lo},{hi}")),
                    None => text.push_str(",,,"),
                }
            }
            let opt = |v: Option<f64>| v.map(|v| format!("{v:.1}")).unwrap_or_default();
            text.push_str(&format!(
                ",{},{},{}\n",
                r.reached,
                opt(r.steps_to_target),
                opt(r.seconds_to_target)
            ));
        }
        text
    }

    /// The table as `genlab sweep` prints it: the target's metric (or the first metric)
    /// as mean [min, max], and the time to the target.
    pub fn to_text(&self) -> String {
        let shown = self
            .target
            .as_ref()
            .and_then(|t| self.metrics.iter().position(|m| t.starts_with(m.as_str())))
            .or((!self.metrics.is_empty()).then_some(0));
        let name = shown.map(|i| self.metrics[i].as_str()).unwrap_or("");
        let mut text = format!(
            "{:<32} {:>5}  {:<28} {}\n",
            "setting",
            "seeds",
            format!("final {name} mean [min, max]"),
            self.target
                .as_ref()
                .map(|t| format!("steps / seconds to {t}"))
                .unwrap_or_default()
        );
        for r in &self.rows {
            let fin = shown
                .and_then(|i| r.finals[i])
                .map(|(mean, lo, hi)| format!("{mean:.3} [{lo:.3}, {hi:.3}]"))
                .unwrap_or_else(|| "-".into());
            let to = match (r.steps_to_target, r.seconds_to_target) {
                (Some(s), Some(t)) => format!("{s:.0} / {t:.1} s ({} of {})", r.reached, r.seeds),
                _ if self.target.is_some() => format!("not reached (0 of {})", r.seeds),
                _ => String::new(),
            };
            let mark = if r.best { " <- best" } else { "" };
            text.push_str(&format!(
                "{:<32} {:>5}  {:<28} {to}{mark}\n",
                r.setting, r.seeds, fin
            ));
        }
        text
    }
}

/// The setting a sweep's run folder stands for, without its index and seed:
/// `003_lr=0.0002_seed=1` -> `lr=0.0002`. None for a name that is not a sweep run's.
pub fn setting_of(run_name: &str) -> Option<&str> {
    let (rest, seed) = run_name.rsplit_once("_seed=")?;
    if seed.is_empty() || !seed.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let (index, setting) = rest.split_once('_').unwrap_or((rest, ""));
    (index.len() == 3 && index.chars().all(|c| c.is_ascii_digit())).then_some(setting)
}

/// Mean, minimum and maximum of several runs' curves at the steps all of them have:
/// `(steps, mean, min, max)`.
pub fn band(curves: &[&[[f64; 2]]]) -> (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) {
    let Some((first, rest)) = curves.split_first() else {
        return Default::default();
    };
    let mut out: (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) = Default::default();
    for &[step, v0] in first.iter() {
        let mut values = vec![v0];
        for c in rest {
            match c.binary_search_by(|p| p[0].total_cmp(&step)) {
                Ok(i) => values.push(c[i][1]),
                Err(_) => break,
            }
        }
        if values.len() < curves.len() {
            continue;
        }
        out.0.push(step);
        out.1.push(values.iter().sum::<f64>() / values.len() as f64);
        out.2
            .push(values.iter().copied().fold(f64::INFINITY, f64::min));
        out.3
            .push(values.iter().copied().fold(f64::NEG_INFINITY, f64::max));
    }
    out
}
