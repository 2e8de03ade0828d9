//! A run on disk: the config used, metrics.csv, sample PNGs and a summary.

pub mod folder;
pub mod history;
pub mod recorder;
pub mod render;

pub use recorder::RunRecorder;

use crate::checkpoint::{store, EncodedCheckpoint};
use crate::config::Experiment;
use crate::train::events::SampleFile;
use crate::train::{metric_columns, Metrics, Snapshot};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Where runs go unless the user says otherwise: `$GENLAB_RUNS_DIR`, else the platform's
/// data directory (`$XDG_DATA_HOME/genlab/runs` or `~/.local/share/genlab/runs`), else `runs`.
pub fn default_runs_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("GENLAB_RUNS_DIR") {
        return PathBuf::from(d);
    }
    let data = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")));
    match data {
        Some(d) => d.join("genlab").join("runs"),
        None => PathBuf::from("runs"),
    }
}

/// A new run folder name under `runs_dir`: `<experiment-slug>-<unix-seconds>[-n]`.
pub fn new_run_dir(runs_dir: &Path, experiment: &Experiment) -> PathBuf {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let base = format!("{}-{secs}", experiment.slug());
    let mut dir = runs_dir.join(&base);
    let mut n = 1;
    while dir.exists() {
        n += 1;
        dir = runs_dir.join(format!("{base}-{n}"));
    }
    dir
}

/// Writes one run folder as events arrive.
pub struct RunWriter {
    dir: PathBuf,
    metrics: csv::Writer<File>,
    columns: Vec<&'static str>,
    last: Option<Metrics>,
    /// Checkpoints kept in `checkpoints/`.
    keep_checkpoints: usize,
}

impl RunWriter {
    /// Creates `dir` (and parents) and writes the experiment into it.
    pub fn create(dir: &Path, experiment: &Experiment) -> std::io::Result<RunWriter> {
        std::fs::create_dir_all(dir.join("samples"))?;
        mark(dir)?;
        std::fs::write(dir.join("config.toml"), experiment.to_toml())?;
        let columns = metric_columns(experiment);
        let mut metrics = csv::Writer::from_path(dir.join("metrics.csv"))?;
        let header: Vec<&str> = ["step", "elapsed_s"]
            .into_iter()
            .chain(columns.iter().copied())
            .collect();
        metrics.write_record(&header)?;
        metrics.flush()?;
        Ok(RunWriter {
            dir: dir.to_owned(),
            metrics,
            columns,
            last: None,
            keep_checkpoints: experiment.training.keep_checkpoints,
        })
    }

    /// Opens an existing run folder to continue it from `from_step` (a resume). Rows of
    /// metrics.csv after that step are dropped, since the resumed run writes them again;
    /// when there were any, the whole file is first copied to
    /// `metrics-before-resume-at-<step>.csv`, so nothing a run wrote is ever lost.
    pub fn reopen(
        dir: &Path,
        experiment: &Experiment,
        from_step: u64,
    ) -> std::io::Result<RunWriter> {
        if let Some(pid) = folder::writer_pid(dir) {
            return Err(std::io::Error::other(format!(
                "process {pid} is still writing this run"
            )));
        }
        let path = dir.join("metrics.csv");
        let columns = metric_columns(experiment);
        let header: Vec<String> = ["step", "elapsed_s"]
            .into_iter()
            .chain(columns.iter().copied())
            .map(String::from)
            .collect();
        let mut kept: Vec<csv::StringRecord> = Vec::new();
        let mut dropped = false;
        if let Ok(mut rdr) = csv::Reader::from_path(&path) {
            let same_columns = rdr
                .headers()
                .map(|h| h.iter().eq(header.iter()))
                .unwrap_or(false);
            for rec in rdr.records() {
                let Ok(rec) = rec else {
                    dropped = true;
                    continue;
                };
                let step = rec.get(0).and_then(|s| s.parse::<u64>().ok());
                match step {
                    Some(s) if s <= from_step && same_columns => kept.push(rec),
                    _ => dropped = true,
                }
            }
        }
        if dropped {
            std::fs::copy(
                &path,
                dir.join(format!("metrics-before-resume-at-{from_step}.csv")),
            )?;
        }
        let tmp = dir.join("metrics.csv.tmp");
        {
            let mut w = csv::Writer::from_path(&tmp)?;
            w.write_record(&header)?;
            for rec in &kept {
                w.write_record(rec)?;
            }
            w.flush()?;
            w.get_ref().sync_all()?;
        }
        std::fs::rename(&tmp, &path)?;
        std::fs::create_dir_all(dir.join("samples"))?;
        mark(dir)?;
        std::fs::write(dir.join("config.toml"), experiment.to_toml())?;
        let file = std::fs::OpenOptions::new().append(true).open(&path)?;
        Ok(RunWriter {
            dir: dir.to_owned(),
            metrics: csv::WriterBuilder::new()
                .has_headers(false)
                .from_writer(file),
            columns,
            last: None,
            keep_checkpoints: experiment.training.keep_checkpoints,
        })
    }

    /// Appends a warning, or the note that it cleared, to diagnostics.csv (step, name, message).
    pub fn write_diagnostic(
        &self,
        d: &crate::eval::diagnostics::Diagnostic,
    ) -> std::io::Result<()> {
        let path = self.dir.join("diagnostics.csv");
        let new = !path.exists();
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)?;
        let mut w = csv::Writer::from_writer(file);
        if new {
            w.write_record(["step", "name", "message"])?;
        }
        w.write_record([d.step.to_string().as_str(), d.name, &d.message])?;
        w.flush()
    }

    /// Writes a checkpoint atomically into `checkpoints/` and prunes old ones.
    pub fn write_checkpoint(&self, c: &EncodedCheckpoint) -> std::io::Result<PathBuf> {
        store::write(
            &store::dir_of(&self.dir),
            c.step,
            &c.bytes,
            self.keep_checkpoints,
        )
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Appends one row; absent values are left empty.
    pub fn write_metrics(&mut self, m: &Metrics) -> std::io::Result<()> {
        let mut row = vec![m.step.to_string(), format!("{:.4}", m.elapsed)];
        for c in &self.columns {
            row.push(m.get(c).map(|v| format!("{v}")).unwrap_or_default());
        }
        self.metrics.write_record(&row)?;
        // Flushed per row so a window can follow a run in progress.
        self.metrics.flush()?;
        self.last = Some(m.clone());
        Ok(())
    }

    /// Saves the snapshot as the files its samples make (`Samples::files`):
    /// `samples/step_NNNNNN.png` and views beside it (`_recon` for a VAE, `.wav` for audio).
    pub fn write_snapshot(&self, s: &Snapshot) -> Result<PathBuf, image::ImageError> {
        let at = |suffix: &str, extension: &str| {
            self.dir
                .join("samples")
                .join(format!("step_{:06}{suffix}.{extension}", s.step))
        };
        let mut main = None;
        for file in s.samples.files() {
            let path = match file {
                SampleFile::Png {
                    suffix,
                    image,
                    scale,
                } => {
                    let path = at(suffix, "png");
                    render::save_png(&image, &path, scale)?;
                    path
                }
                SampleFile::Wav {
                    suffix,
                    clips,
                    sample_rate,
                } => {
                    let path = at(suffix, "wav");
                    crate::modality::audio::wav::write(&path, &clips, sample_rate)
                        .map_err(image::ImageError::IoError)?;
                    path
                }
                SampleFile::Text { suffix, text } => {
                    let path = at(suffix, "txt");
                    crate::durable::write(&path, text.as_bytes())
                        .map_err(image::ImageError::IoError)?;
                    path
                }
            };
            main.get_or_insert(path);
        }
        Ok(main.unwrap_or_else(|| at("", "png")))
    }

    /// Writes summary.toml: status, steps, duration and the last metrics.
    pub fn finish(&mut self, status: &str, step: u64, reason: Option<&str>) -> std::io::Result<()> {
        let mut text = format!("status = {status:?}\nsteps = {step}\n");
        if let Some(r) = reason {
            text.push_str(&format!("reason = {r:?}\n"));
        }
        if let Some(m) = &self.last {
            text.push_str(&format!("duration_s = {:.3}\n\n[final]\n", m.elapsed));
            for (k, v) in &m.values {
                if v.is_finite() {
                    text.push_str(&format!("{k} = {v}\n"));
                }
            }
        }
        // Written whole, then renamed: a reader never sees half a summary.
        let tmp = self.dir.join("summary.toml.tmp");
        let written = self.metrics.flush().and_then(|()| {
            let mut f = File::create(&tmp)?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
            std::fs::rename(&tmp, self.dir.join("summary.toml"))
        });
        // This process writes nothing more here, whatever happened: the run may be
        // renamed, deleted or resumed now.
        let unlocked = match std::fs::remove_file(self.dir.join(folder::LOCK)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        };
        written.and(unlocked)
    }
}

/// Marks `dir` as a GenLab run folder, and as written by this process until `finish`.
fn mark(dir: &Path) -> std::io::Result<()> {
    std::fs::write(
        dir.join(folder::MARKER),
        "A GenLab run folder: GenLab may delete it when asked to.\n",
    )?;
    std::fs::write(dir.join(folder::LOCK), std::process::id().to_string())
}
