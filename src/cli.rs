//! The command line: `genlab` opens the window, `genlab train` runs headless.

use crate::config::Experiment;
use crate::run::RunWriter;
use crate::train::{Event, Session};
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(name = "genlab", version, about = "A workbench for training GANs and VAEs and watching them learn.",
          long_about = "A workbench for training GANs and VAEs and watching them learn.\n\nWith no command, opens the window on the built-in default experiment (an MLP GAN on the 8-Gaussian ring).")]
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
    /// Check preset files and print every problem found.
    Validate {
        /// Preset TOML files.
        presets: Vec<PathBuf>,
    },
}

/// Runs `genlab train`; returns the run folder.
pub fn train(preset: &Path, steps: Option<u64>, out: Option<PathBuf>, progress: bool) -> anyhow::Result<PathBuf> {
    let mut exp = Experiment::load(preset)?;
    if let Some(s) = steps {
        exp.training.steps = s;
    }
    if exp.training.steps == 0 {
        anyhow::bail!("{}: training.steps is 0 (run until stopped); pass --steps N for a headless run", preset.display());
    }
    let dir = out.unwrap_or_else(|| crate::run::new_run_dir(&crate::run::default_runs_dir(), &exp));
    let mut writer = RunWriter::create(&dir, &exp)
        .map_err(|e| anyhow::anyhow!("cannot write run folder {}: {e}", dir.display()))?;
    let session = Session::start(exp.clone()).map_err(anyhow::Error::msg)?;
    let bar = if progress { ProgressBar::new(exp.training.steps) } else { ProgressBar::hidden() };
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
                bar.println(format!("training {} on {device} ({parameters} parameters) -> {}", preset.display(), dir.display()));
            }
            Event::Metrics(m) => {
                writer.write_metrics(&m)?;
                bar.set_position(m.step);
                let shown: Vec<String> = m.values.iter().take(3).map(|(k, v)| format!("{k} {v:.4}")).collect();
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
                anyhow::bail!("training failed at step {step}: {reason} (run folder kept: {})", dir.display());
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
