//! The command line: `genlab` opens the window, `genlab train` runs headless.

use crate::config::Experiment;
use crate::run::RunWriter;
use crate::train::{Event, Session};
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(
    name = "genlab",
    version,
    about = "A workbench for training GANs and VAEs and watching them learn.",
    long_about = "A workbench for training GANs and VAEs and watching them learn.\n\nWith no command, opens the window on the built-in default experiment (an MLP GAN on the 8-Gaussian ring)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Open the window, optionally on a preset file.
    Gui {
        /// A preset TOML file to load at start.
        preset: Option<PathBuf>,
        /// Start training it at once.
        #[arg(long)]
        train: bool,
        /// Run folders to open in the runs panel, overlaid (e.g. copied from a GPU server).
        #[arg(long, num_args = 1..)]
        runs: Vec<PathBuf>,
    },
    /// Train a preset headless, with a progress bar, writing a run folder.
    Train {
        /// The experiment (preset TOML file) to train.
        preset: PathBuf,
        /// Override the preset's step budget.
        #[arg(long)]
        steps: Option<u64>,
        /// Run folder to write (config.toml, metrics.csv, samples/, summary.toml).
        /// Default: <runs dir>/<preset-title>-<unix-time>, where the runs dir is
        /// $GENLAB_RUNS_DIR or ~/.local/share/genlab/runs.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Measure training throughput of the four reference architectures (samples/s),
    /// next to the PyTorch reference scripts when `python` can import torch.
    Bench {
        /// Fraction of the default step counts to time (e.g. 0.2 for a quick look).
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
        /// Timed windows per architecture.
        #[arg(long, default_value_t = 5)]
        windows: usize,
        /// Folder of the PyTorch reference scripts.
        #[arg(long, default_value = "../shared/bench/ref")]
        reference: PathBuf,
        /// Python interpreter with torch installed.
        #[arg(long, default_value = "python3")]
        python: String,
        /// Only this architecture (mlp_gan_2d, mlp_vae_28, conv_vae_28, dcgan_28).
        #[arg(long)]
        only: Option<String>,
    },
    /// Train each preset for its stated budget and check its stated outcome (a release check).
    Verify {
        /// Preset TOML files with an [outcome] section.
        presets: Vec<PathBuf>,
    },
    /// Check preset files and print every problem found.
    Validate {
        /// Preset TOML files.
        presets: Vec<PathBuf>,
    },
}

/// Runs `genlab train`; returns the run folder.
pub fn train(
    preset: &Path,
    steps: Option<u64>,
    out: Option<PathBuf>,
    progress: bool,
) -> anyhow::Result<PathBuf> {
    let mut exp = Experiment::load(preset)?;
    if let Some(s) = steps {
        exp.training.steps = s;
    }
    if exp.training.steps == 0 {
        anyhow::bail!(
            "{}: training.steps is 0 (run until stopped); pass --steps N for a headless run",
            preset.display()
        );
    }
    let dir = out.unwrap_or_else(|| crate::run::new_run_dir(&crate::run::default_runs_dir(), &exp));
    let mut writer = RunWriter::create(&dir, &exp)
        .map_err(|e| anyhow::anyhow!("cannot write run folder {}: {e}", dir.display()))?;
    let session = Session::start(exp.clone()).map_err(anyhow::Error::msg)?;
    let bar = if progress {
        ProgressBar::new(exp.training.steps)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} steps  {per_sec}  ETA {eta}  {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    loop {
        for snap in session.drain_snapshots() {
            if let Err(e) = writer.write_snapshot(&snap) {
                bar.println(format!("warning: cannot save sample image: {e}"));
            }
        }
        let Some(event) = session.next_event(Duration::from_millis(100)) else {
            if session.is_finished() {
                anyhow::bail!("the training thread ended without a final report");
            }
            continue;
        };
        match event {
            Event::Started { device, parameters } => {
                bar.println(format!(
                    "training {} on {device} ({parameters} parameters) -> {}",
                    preset.display(),
                    dir.display()
                ));
            }
            Event::Metrics(m) => {
                writer.write_metrics(&m)?;
                bar.set_position(m.step);
                let shown: Vec<String> = m
                    .values
                    .iter()
                    .take(3)
                    .map(|(k, v)| format!("{k} {v:.4}"))
                    .collect();
                bar.set_message(shown.join("  "));
            }
            Event::Finished { step, stopped } => {
                for snap in session.drain_snapshots() {
                    let _ = writer.write_snapshot(&snap);
                }
                writer.finish(if stopped { "stopped" } else { "finished" }, step, None)?;
                bar.finish_with_message(format!("done at step {step}: {}", dir.display()));
                return Ok(dir);
            }
            Event::Failed { step, reason } => {
                writer.finish("failed", step, Some(&reason))?;
                bar.abandon();
                anyhow::bail!(
                    "training failed at step {step}: {reason} (run folder kept: {})",
                    dir.display()
                );
            }
            Event::Paused { .. } | Event::Resumed { .. } => {}
        }
    }
}

/// Runs `genlab validate`; true when every file is valid.
pub fn validate(presets: &[PathBuf]) -> bool {
    let mut ok = true;
    for p in presets {
        match Experiment::load(p) {
            Ok(_) => println!("ok: {}", p.display()),
            Err(e) => {
                ok = false;
                eprintln!("{e}");
            }
        }
    }
    ok
}

/// The last value of `column` in a run's metrics.csv.
pub fn last_metric(run_dir: &Path, column: &str) -> anyhow::Result<Option<f64>> {
    let mut rdr = csv::Reader::from_path(run_dir.join("metrics.csv"))?;
    let Some(idx) = rdr.headers()?.iter().position(|h| h == column) else {
        anyhow::bail!("metrics.csv has no column {column}");
    };
    let mut last = None;
    for rec in rdr.records() {
        if let Some(v) = rec?.get(idx).and_then(|f| f.parse::<f64>().ok()) {
            last = Some(v);
        }
    }
    Ok(last)
}

/// Runs `genlab verify`: trains each preset and checks its outcome; true when all pass.
pub fn verify(presets: &[PathBuf]) -> bool {
    let mut all_ok = true;
    println!(
        "| preset | steps | outcome | final value | result | seconds |\n|---|---|---|---|---|---|"
    );
    for p in presets {
        let exp = match Experiment::load(p) {
            Ok(e) => e,
            Err(e) => {
                println!(
                    "| {} | | | | skipped: {} | |",
                    p.display(),
                    e.to_string().replace('\n', " ")
                );
                continue;
            }
        };
        let Some(outcome) = exp.outcome.clone() else {
            println!(
                "| {} | {} | none stated | | skipped | |",
                p.display(),
                exp.training.steps
            );
            continue;
        };
        let dir = std::env::temp_dir().join(format!(
            "genlab-verify-{}-{}",
            exp.slug(),
            std::process::id()
        ));
        let started = std::time::Instant::now();
        let result =
            train(p, None, Some(dir.clone()), false).and_then(|d| last_metric(&d, &outcome.metric));
        let secs = started.elapsed().as_secs_f64();
        let (ok, value, words) = match result {
            Ok(Some(v)) => {
                let (ok, words) = outcome.check(v);
                (ok, format!("{v:.4}"), words)
            }
            Ok(None) => (false, "never measured".into(), outcome.metric.clone()),
            Err(e) => (false, format!("error: {e}"), outcome.metric.clone()),
        };
        all_ok &= ok;
        println!(
            "| {} | {} | {words} | {value} | {} | {secs:.0} |",
            p.file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default(),
            exp.training.steps,
            if ok { "pass" } else { "FAIL" }
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
    all_ok
}
