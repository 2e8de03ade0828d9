//! Reading run folders back: the list of runs, one run's curves, and what differs
//! between runs' configs. Works on any folder `genlab train` wrote, from any machine.

use crate::config::Experiment;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What the runs list shows about one run folder.
#[derive(Debug, Clone, PartialEq)]
pub struct RunInfo {
    pub dir: PathBuf,
    /// The folder's name, which is the run's name.
    pub name: String,
    pub experiment: Option<Experiment>,
    /// finished / stopped / failed, or "running" while no summary exists.
    pub status: String,
    pub steps: u64,
    pub duration_s: Option<f64>,
    /// The last values of the run's metrics.
    pub last: BTreeMap<String, f64>,
    /// The step of the newest checkpoint file, if the run has any (it can be resumed).
    pub latest_checkpoint: Option<u64>,
    /// Blind-test answers by step (`human_eval.csv`), empty without any.
    pub human_eval: BTreeMap<u64, crate::eval::human::Tally>,
}

impl RunInfo {
    pub fn title(&self) -> &str {
        self.experiment
            .as_ref()
            .map(|e| e.title.as_str())
            .unwrap_or("(config unreadable)")
    }
}

/// Whether `dir` looks like a run folder (listed in the runs panel).
pub fn is_run_dir(dir: &Path) -> bool {
    dir.join("config.toml").is_file() && dir.join("metrics.csv").is_file()
}

/// The file GenLab writes into every run folder it creates: only such folders are ever
/// deleted by it.
pub const MARKER: &str = ".genlab-run";
/// Present while a process writes the run; holds that process's id.
pub const LOCK: &str = ".genlab-lock";

/// Whether GenLab created `dir` as a run folder.
pub fn is_genlab_run(dir: &Path) -> bool {
    dir.join(MARKER).is_file()
}

/// Whether a run folder (or anything a run leaves: a config, metrics, checkpoints) is
/// already in `dir`, so a new run there would mix with it.
pub fn holds_a_run(dir: &Path) -> bool {
    is_genlab_run(dir)
        || ["config.toml", "metrics.csv", "summary.toml", "checkpoints"]
            .iter()
            .any(|f| dir.join(f).exists())
}

/// The id of the live process writing `dir`, if one is. A lock left by a process that
/// died (killed, power cut) does not count.
pub fn writer_pid(dir: &Path) -> Option<u32> {
    let pid: u32 = std::fs::read_to_string(dir.join(LOCK))
        .ok()?
        .trim()
        .parse()
        .ok()?;
    process_alive(pid).then_some(pid)
}

fn process_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    if cfg!(target_os = "linux") {
        Path::new("/proc").join(pid.to_string()).exists()
    } else {
        // Without a cheap portable check, a lock is believed.
        true
    }
}

/// An error if a process is writing `dir` now, for actions that would split the run.
fn refuse_if_in_progress(dir: &Path, action: &str) -> Result<(), String> {
    match writer_pid(dir) {
        Some(pid) => Err(format!(
            "{} is a run in progress (process {pid}); stop it before you {action} it",
            dir.display()
        )),
        None => Ok(()),
    }
}

/// Every run folder directly under `runs_dir`, newest first.
pub fn list_runs(runs_dir: &Path) -> Vec<RunInfo> {
    let Ok(entries) = std::fs::read_dir(runs_dir) else {
        return Vec::new();
    };
    let mut runs: Vec<(std::time::SystemTime, RunInfo)> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| is_run_dir(p))
        .filter_map(|p| {
            let modified = std::fs::metadata(p.join("metrics.csv"))
                .and_then(|m| m.modified())
                .ok()?;
            Some((modified, read_run(&p)))
        })
        .collect();
    runs.sort_by_key(|r| std::cmp::Reverse(r.0));
    runs.into_iter().map(|(_, r)| r).collect()
}

/// Reads a run folder's config, summary and last metrics; never fails, only notes gaps.
pub fn read_run(dir: &Path) -> RunInfo {
    let experiment = std::fs::read_to_string(dir.join("config.toml"))
        .ok()
        .and_then(|t| Experiment::from_toml(&t).ok());
    let summary: Option<toml::Table> = std::fs::read_to_string(dir.join("summary.toml"))
        .ok()
        .and_then(|t| t.parse().ok());
    let curves = read_curves(dir).unwrap_or_default();
    let last: BTreeMap<String, f64> = curves
        .iter()
        .filter(|(k, _)| k.as_str() != ELAPSED)
        .filter_map(|(k, v)| v.last().map(|p| (k.clone(), p[1])))
        .collect();
    let steps_seen = curves
        .values()
        .filter_map(|v| v.last())
        .map(|p| p[0] as u64)
        .max()
        .unwrap_or(0);
    let get = |k: &str| summary.as_ref().and_then(|s| s.get(k)).cloned();
    RunInfo {
        dir: dir.to_owned(),
        name: dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        experiment,
        status: get("status")
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_else(|| {
                // No summary: training now, or its process ended without writing one.
                if writer_pid(dir).is_some() {
                    "running".into()
                } else {
                    "interrupted".into()
                }
            }),
        steps: get("steps")
            .and_then(|v| v.as_integer())
            .map(|v| v as u64)
            .unwrap_or(steps_seen),
        duration_s: get("duration_s").and_then(|v| v.as_float()),
        last,
        latest_checkpoint: crate::checkpoint::store::list(&crate::checkpoint::store::dir_of(dir))
            .last()
            .map(|(s, _)| *s),
        // An unreadable file shows as no answers here; the window's test says why.
        human_eval: crate::eval::human::read(dir).unwrap_or_default(),
    }
}

/// The curve of seconds since the run started, among a run's curves.
pub const ELAPSED: &str = "elapsed_s";

/// Every metric of a run, and its elapsed seconds (`ELAPSED`), as (step, value) points.
/// Reads what is on disk now: a run in progress may have a half-written last line, which
/// is skipped.
pub fn read_curves(dir: &Path) -> Result<BTreeMap<String, Vec<[f64; 2]>>, String> {
    let path = dir.join("metrics.csv");
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(&path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let header: Vec<String> = rdr
        .headers()
        .map_err(|e| format!("{}: {e}", path.display()))?
        .iter()
        .map(str::to_owned)
        .collect();
    let mut curves: BTreeMap<String, Vec<[f64; 2]>> = BTreeMap::new();
    for rec in rdr.records() {
        let Ok(rec) = rec else { continue };
        if rec.len() != header.len() {
            continue;
        }
        let Some(step) = rec.get(0).and_then(|s| s.parse::<f64>().ok()) else {
            continue;
        };
        for (name, field) in header.iter().zip(rec.iter()).skip(1) {
            if let Ok(v) = field.parse::<f64>() {
                curves.entry(name.clone()).or_default().push([step, v]);
            }
        }
    }
    Ok(curves)
}

/// The config fields whose values differ between `experiments`, as dotted paths, with
/// each experiment's value (empty where a field is absent).
pub fn config_differences(experiments: &[&Experiment]) -> Vec<(String, Vec<String>)> {
    let flat: Vec<BTreeMap<String, String>> = experiments
        .iter()
        .map(|e| {
            let mut out = BTreeMap::new();
            if let Ok(toml::Value::Table(t)) = toml::Value::try_from(e) {
                flatten("", &toml::Value::Table(t), &mut out);
            }
            out
        })
        .collect();
    let keys: std::collections::BTreeSet<&String> = flat.iter().flat_map(|m| m.keys()).collect();
    keys.into_iter()
        .filter(|k| k.as_str() != "title" && k.as_str() != "description")
        .filter_map(|k| {
            let values: Vec<String> = flat
                .iter()
                .map(|m| m.get(k).cloned().unwrap_or_default())
                .collect();
            values
                .iter()
                .any(|v| v != &values[0])
                .then(|| (k.clone(), values))
        })
        .collect()
}

fn flatten(prefix: &str, v: &toml::Value, out: &mut BTreeMap<String, String>) {
    match v {
        toml::Value::Table(t) => {
            for (k, v) in t {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        other => {
            out.insert(prefix.to_owned(), other.to_string());
        }
    }
}

/// Deletes a run folder; refuses any folder GenLab did not create as one, and a run in
/// progress.
pub fn delete_run(dir: &Path) -> Result<(), String> {
    if !is_genlab_run(dir) {
        return Err(format!(
            "{} was not created by GenLab as a run folder (it has no {MARKER} file); not deleting it",
            dir.display()
        ));
    }
    refuse_if_in_progress(dir, "delete")?;
    std::fs::remove_dir_all(dir).map_err(|e| format!("cannot delete {}: {e}", dir.display()))
}

/// Renames a run folder within its parent; returns the new path. Refuses a run in
/// progress, whose writer would go on in the old folder.
pub fn rename_run(dir: &Path, new_name: &str) -> Result<PathBuf, String> {
    refuse_if_in_progress(dir, "rename")?;
    let clean = new_name.trim();
    if clean.is_empty() || clean.contains(['/', '\\']) || clean == "." || clean == ".." {
        return Err(format!("{new_name:?} is not a valid folder name"));
    }
    let target = dir.with_file_name(clean);
    if target.exists() {
        return Err(format!("{} already exists", target.display()));
    }
    std::fs::rename(dir, &target).map_err(|e| format!("cannot rename {}: {e}", dir.display()))?;
    Ok(target)
}

/// The sample grids (or 2-D views) a run saved, `samples/step_NNNNNN.png`, by step; a
/// text run's items, `samples/step_NNNNNN.txt`.
pub fn sample_steps(dir: &Path) -> Vec<(u64, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(dir.join("samples")) else {
        return Vec::new();
    };
    let mut found: Vec<(u64, PathBuf)> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter_map(|p| {
            let name = p.file_name()?.to_str()?;
            let stem = name.strip_prefix("step_")?;
            let step = stem
                .strip_suffix(".png")
                .or_else(|| stem.strip_suffix(".txt"))?
                .parse()
                .ok()?;
            Some((step, p))
        })
        .collect();
    found.sort();
    found
}

/// The rows of a run's metrics.csv as metrics (a resumed run's curves so far). Only the
/// `columns` the experiment defines are read; unreadable rows are skipped.
pub fn read_metrics_rows(dir: &Path, columns: &[&'static str]) -> Vec<crate::train::Metrics> {
    let Ok(mut rdr) = csv::Reader::from_path(dir.join("metrics.csv")) else {
        return Vec::new();
    };
    let Ok(header) = rdr.headers().cloned() else {
        return Vec::new();
    };
    let index: Vec<(usize, &'static str)> = columns
        .iter()
        .filter_map(|c| header.iter().position(|h| h == *c).map(|i| (i, *c)))
        .collect();
    let num = |rec: &csv::StringRecord, i: usize| rec.get(i).and_then(|f| f.parse::<f64>().ok());
    rdr.records()
        .filter_map(Result::ok)
        .filter_map(|rec| {
            Some(crate::train::Metrics {
                step: num(&rec, 0)? as u64,
                elapsed: num(&rec, 1).unwrap_or(0.0),
                values: index
                    .iter()
                    .filter_map(|&(i, name)| num(&rec, i).map(|v| (name, v)))
                    .collect(),
            })
        })
        .collect()
}
