//! The command line: `genlab` opens the window, `genlab train` runs headless.

use crate::checkpoint::store;
use crate::config::{DataConfig, Experiment};
use crate::run::RunWriter;
use crate::train::session::Resume;
use crate::train::{Control, Event, FailureKind, Session};
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
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
        /// Run folders (or sweep folders) to open in the runs panel, overlaid (e.g. copied from a GPU server).
        #[arg(long, num_args = 1..)]
        runs: Vec<PathBuf>,
    },
    /// Train a preset headless, with a progress bar, writing a run folder.
    /// Ctrl-C stops and saves a checkpoint; `kill -USR1 <pid>` saves one on demand.
    Train {
        /// The experiment (preset TOML file) to train.
        #[arg(required_unless_present = "resume")]
        preset: Option<PathBuf>,
        /// Override the step budget (with --resume: the total, counted from step 0).
        #[arg(long)]
        steps: Option<u64>,
        /// Run folder to write (config.toml, metrics.csv, samples/, checkpoints/,
        /// summary.toml). Default: <runs dir>/<preset-title>-<unix-time>, where the runs
        /// dir is $GENLAB_RUNS_DIR or ~/.local/share/genlab/runs.
        #[arg(long, conflicts_with = "resume")]
        out: Option<PathBuf>,
        /// With --out: replace the run already in that folder (deleted first). Without
        /// it, a folder that holds a run is refused, so two runs never mix.
        #[arg(long, requires = "out")]
        overwrite: bool,
        /// Continue the run in this folder from its newest readable checkpoint.
        #[arg(long, value_name = "RUN_DIR", conflicts_with = "preset")]
        resume: Option<PathBuf>,
        /// With --resume: multiply the saved learning rates (e.g. 0.1 after a divergence).
        #[arg(long, default_value_t = 1.0, requires = "resume")]
        lr_scale: f64,
        /// Save a checkpoint every this many steps (overrides training.checkpoint_every).
        #[arg(long)]
        checkpoint_every: Option<u64>,
        /// Train on the CPU (burn-flex) or the GPU (burn-wgpu), overriding the preset.
        #[arg(long, value_enum)]
        backend: Option<crate::config::Backend>,
        /// CPU threads (overrides training.threads; 0 = all cores but one).
        #[arg(long)]
        threads: Option<usize>,
    },
    /// Train a preset over a grid of settings and seeds into one sweep folder: presets/,
    /// runs/ (open them in the window with `genlab gui --runs`), jobs.txt (one `genlab
    /// train` command per run, for other machines) and results.csv. Run it again to
    /// resume: finished runs are kept, stopped ones continue from their checkpoints.
    Sweep {
        /// The experiment (preset TOML file) to sweep.
        preset: PathBuf,
        /// A setting and its values, e.g. `--set training.batch_size=64,128,256`;
        /// repeat for a grid.
        #[arg(long = "set", value_name = "KEY=V1,V2,...", required = true)]
        set: Vec<String>,
        /// Seeds per setting: the preset's seed and the next ones.
        #[arg(long, default_value_t = 1)]
        seeds: usize,
        /// The sweep folder.
        #[arg(long)]
        out: PathBuf,
        /// Runs at a time; the threads are split between them.
        #[arg(long, default_value_t = 1)]
        parallel: usize,
        /// CPU threads for the whole sweep (0 = all cores but one).
        #[arg(long, default_value_t = 0)]
        threads: usize,
        /// Override every run's step budget.
        #[arg(long)]
        steps: Option<u64>,
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
        /// Skip the GPU column (it is slow on a software adapter).
        #[arg(long)]
        no_gpu: bool,
        /// CPU threads for GenLab and for the PyTorch reference alike.
        #[arg(long, default_value_t = 1)]
        threads: usize,
    },
    /// Train each preset for its stated budget and check its stated outcome (a release check).
    Verify {
        /// Preset TOML files with an [outcome] section.
        presets: Vec<PathBuf>,
    },
    /// Train the evaluator (the feature network of the FD / KID / precision-recall metrics)
    /// on a preset's labelled images or clips, and print its held-out accuracy.
    Evaluator {
        /// A preset whose data has labels (the built-in shapes, or IDX with a labels file).
        preset: PathBuf,
        /// Where to write it. Default: the cache the window and `train` look in.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Optimisation steps (batches of 64).
        #[arg(long, default_value_t = crate::eval::evaluator::TRAINING_STEPS)]
        steps: usize,
    },
    /// Score a folder of PNG images (GenLab's samples or another tool's, one image per
    /// file) against a preset's image data with GenLab's evaluator: FD, KID, precision,
    /// recall and diversity, beside each metric's real-versus-real floor. `--export`
    /// writes the evaluator (safetensors) and the real images for
    /// scripts/score_images.py instead.
    Score {
        /// A preset, or a run folder (its config.toml).
        data_of: PathBuf,
        /// The folder of PNG images to score.
        #[arg(long, required_unless_present = "export")]
        samples: Option<PathBuf>,
        /// Write evaluator.safetensors and real/ (the reference and the floor's second
        /// half) into this folder.
        #[arg(long)]
        export: Option<PathBuf>,
    },
    /// Write a trained model's samples from a run folder's newest checkpoint, for
    /// `genlab score` and outside tools: images as PNG files and clips as WAV files, one
    /// per sample; text items in samples.txt and 2-D points in samples.csv, one per line.
    Sample {
        /// A run folder with checkpoints.
        run: PathBuf,
        /// Samples to write (images, clips, text items or points).
        #[arg(long, default_value_t = 512)]
        count: usize,
        /// Seed of the latents.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Where to write them.
        #[arg(long)]
        out: PathBuf,
    },
    /// Check preset files and print every problem found.
    Validate {
        /// Preset TOML files.
        presets: Vec<PathBuf>,
    },
}

/// Flags that ask a headless run to stop (and checkpoint) or to checkpoint now.
#[derive(Default, Clone)]
pub struct Interrupts {
    pub stop: Arc<AtomicBool>,
    pub checkpoint: Arc<AtomicBool>,
}

impl Interrupts {
    /// Ctrl-C / SIGTERM stop the run after saving a checkpoint (a second Ctrl-C exits at
    /// once); SIGUSR1 saves a checkpoint and goes on.
    pub fn from_signals() -> Interrupts {
        let i = Interrupts::default();
        #[cfg(unix)]
        {
            use signal_hook::consts::{SIGINT, SIGTERM, SIGUSR1};
            use signal_hook::flag;
            for sig in [SIGINT, SIGTERM] {
                // Order matters: the exit hook sees the flag only from the second signal on.
                let _ = flag::register_conditional_shutdown(sig, 130, i.stop.clone());
                let _ = flag::register(sig, i.stop.clone());
            }
            let _ = flag::register(SIGUSR1, i.checkpoint.clone());
        }
        i
    }
}

/// What `genlab train` was asked to do.
pub struct TrainRequest {
    pub steps: Option<u64>,
    pub backend: Option<crate::config::Backend>,
    pub out: Option<PathBuf>,
    /// Replace a run already in `out`.
    pub overwrite: bool,
    pub checkpoint_every: Option<u64>,
    pub threads: Option<usize>,
    pub progress: bool,
    pub interrupts: Interrupts,
}

impl TrainRequest {
    /// Defaults for a quiet run (tests, `verify`).
    pub fn quiet(out: Option<PathBuf>) -> Self {
        TrainRequest {
            steps: None,
            backend: None,
            out,
            overwrite: false,
            checkpoint_every: None,
            threads: None,
            progress: false,
            interrupts: Interrupts::default(),
        }
    }
}

/// Runs `genlab train`; returns the run folder.
pub fn train(
    preset: &Path,
    steps: Option<u64>,
    out: Option<PathBuf>,
    progress: bool,
) -> anyhow::Result<PathBuf> {
    let req = TrainRequest {
        steps,
        progress,
        ..TrainRequest::quiet(out)
    };
    train_with(preset, &req)
}

/// Trains a preset into a new run folder.
pub fn train_with(preset: &Path, req: &TrainRequest) -> anyhow::Result<PathBuf> {
    let mut exp = Experiment::load(preset)?;
    if let Some(s) = req.steps {
        exp.training.steps = s;
    }
    if let Some(every) = req.checkpoint_every {
        exp.training.checkpoint_every = every;
    }
    if let Some(b) = req.backend {
        exp.backend = b;
    }
    if let Some(n) = req.threads {
        exp.training.threads = n;
    }
    if exp.training.steps == 0 {
        anyhow::bail!(
            "{}: training.steps is 0 (run until stopped); pass --steps N for a headless run",
            preset.display()
        );
    }
    let dir = req
        .out
        .clone()
        .unwrap_or_else(|| crate::run::new_run_dir(&crate::run::default_runs_dir(), &exp));
    if req.out.is_some() {
        clear_out_dir(&dir, req.overwrite)?;
    }
    let writer = RunWriter::create(&dir, &exp)
        .map_err(|e| anyhow::anyhow!("cannot write run folder {}: {e}", dir.display()))?;
    let session = Session::launch(exp.clone(), None, Some(writer)).map_err(anyhow::Error::msg)?;
    follow(session, &dir, &exp, &preset.display().to_string(), req)
}

/// `--out` names a folder: one that already holds a run is refused (its checkpoints
/// would be pruned by step with the new run's, and `--resume` could continue either),
/// unless `overwrite` says to delete that run first.
fn clear_out_dir(dir: &Path, overwrite: bool) -> anyhow::Result<()> {
    if !crate::run::folder::holds_a_run(dir) {
        return Ok(());
    }
    if !overwrite {
        anyhow::bail!(
            "{} already holds a run; choose another --out, continue it with --resume {}, or pass --overwrite to replace it",
            dir.display(),
            dir.display()
        );
    }
    if let Some(pid) = crate::run::folder::writer_pid(dir) {
        anyhow::bail!(
            "{} is a run in progress (process {pid}); not replacing it",
            dir.display()
        );
    }
    std::fs::remove_dir_all(dir)
        .map_err(|e| anyhow::anyhow!("cannot replace {}: {e}", dir.display()))
}

/// Continues the run in `dir` from its newest readable checkpoint (`genlab train --resume`).
pub fn resume(dir: &Path, lr_scale: f64, req: &TrainRequest) -> anyhow::Result<PathBuf> {
    let (checkpoint, path, skipped) = store::latest(&store::dir_of(dir))?;
    for s in &skipped {
        eprintln!("warning: skipped {s}");
    }
    let mut exp = checkpoint
        .experiment()
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    if let Some(s) = req.steps {
        exp.training.steps = s;
    }
    if let Some(every) = req.checkpoint_every {
        exp.training.checkpoint_every = every;
    }
    if let Some(b) = req.backend {
        exp.backend = b;
    }
    if let Some(n) = req.threads {
        exp.training.threads = n;
    }
    if exp.training.steps != 0 && exp.training.steps <= checkpoint.step {
        anyhow::bail!(
            "{}: the run already reached its budget of {} steps (checkpoint at step {}); pass --steps N to train further",
            dir.display(),
            exp.training.steps,
            checkpoint.step
        );
    }
    if exp.training.steps == 0 {
        anyhow::bail!(
            "{}: no step budget; pass --steps N for a headless run",
            dir.display()
        );
    }
    let from = checkpoint.step;
    let writer = RunWriter::reopen(dir, &exp, from)
        .map_err(|e| anyhow::anyhow!("cannot reopen run folder {}: {e}", dir.display()))?;
    let resume = Resume {
        checkpoint,
        lr_scale,
    };
    let session =
        Session::launch(exp.clone(), Some(resume), Some(writer)).map_err(anyhow::Error::msg)?;
    follow(
        session,
        dir,
        &exp,
        &format!("{} from step {from}", dir.display()),
        req,
    )
}

/// Reports a session's progress until it ends and its run folder is complete; returns
/// the folder. The session writes the folder itself.
fn follow(
    session: Session,
    dir: &Path,
    exp: &Experiment,
    what: &str,
    req: &TrainRequest,
) -> anyhow::Result<PathBuf> {
    let bar = if req.progress {
        ProgressBar::new(exp.training.steps)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} steps  {per_sec}  ETA {eta}  {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut stop_sent = false;
    loop {
        if !stop_sent && req.interrupts.stop.load(Ordering::Relaxed) {
            say(
                &bar,
                req.progress,
                "stopping: saving a checkpoint first (Ctrl-C again to quit at once)",
            );
            session.send(Control::Stop);
            stop_sent = true;
        }
        if req.interrupts.checkpoint.swap(false, Ordering::Relaxed) {
            session.send(Control::Checkpoint);
        }
        // The run folder gets every snapshot from the session; this copy is not needed.
        session.drain_snapshots();
        let Some(event) = session.next_event(Duration::from_millis(100)) else {
            if session.is_finished() {
                anyhow::bail!("the training thread ended without a final report");
            }
            continue;
        };
        match event {
            Event::Started {
                device,
                parameters,
                step,
                ..
            } => {
                bar.set_position(step);
                say(
                    &bar,
                    req.progress,
                    format!(
                        "training {what} on {device} ({parameters} parameters) -> {}",
                        dir.display()
                    ),
                );
            }
            Event::Metrics(m) => {
                bar.set_position(m.step);
                let shown: Vec<String> = m
                    .values
                    .iter()
                    .take(3)
                    .map(|(k, v)| format!("{k} {v:.4}"))
                    .collect();
                bar.set_message(shown.join("  "));
            }
            Event::WriteError(e) => say(
                &bar,
                true,
                format!("warning: cannot write to {}: {e}", dir.display()),
            ),
            Event::Checkpoint(_) | Event::CheckpointWritten { .. } => {}
            Event::Finished { step, stopped: _ } => {
                session.wait(Duration::MAX);
                bar.finish_with_message(format!("done at step {step}: {}", dir.display()));
                return Ok(dir.to_owned());
            }
            Event::Failed { step, reason, kind } => {
                session.wait(Duration::MAX);
                bar.abandon();
                let last = store::list(&store::dir_of(dir)).last().map(|(s, _)| *s);
                let hint = match (kind, last) {
                    (FailureKind::Error, _) if exp.backend == crate::config::Backend::Gpu => {
                        "\nto train on the CPU instead, add --backend cpu".to_string()
                    }
                    (FailureKind::Diverged, Some(s)) => format!(
                        "\nthe last good checkpoint is step {s}; to go on with a tenth of the learning rate:\n  genlab train --resume {} --lr-scale 0.1",
                        dir.display()
                    ),
                    (_, Some(s)) => format!(
                        "\nthe last checkpoint is step {s}; to go on from it:\n  genlab train --resume {}",
                        dir.display()
                    ),
                    (_, None) => String::new(),
                };
                anyhow::bail!(
                    "training failed at step {step}: {reason} (run folder kept: {}){hint}",
                    dir.display()
                );
            }
            Event::Diagnostic(d) if d.cleared => say(
                &bar,
                false,
                format!("cleared at step {} ({}): {}", d.step, d.name, d.message),
            ),
            Event::Diagnostic(d) => say(
                &bar,
                true,
                format!("warning at step {} ({}): {}", d.step, d.name, d.message),
            ),
            Event::Paused { .. } | Event::Resumed { .. } => {}
        }
    }
}

/// A line above the progress bar, or on stderr when the bar is hidden because stderr is
/// not a terminal. Quiet runs (`verify`, tests) say nothing.
fn say(bar: &ProgressBar, loud: bool, line: impl AsRef<str>) {
    if !bar.is_hidden() {
        bar.println(line);
    } else if loud {
        eprintln!("{}", line.as_ref());
    }
}

/// Trains and caches the evaluator that an image preset's outcome is measured with, where
/// the data (the user's labelled files) has none yet: otherwise `verify` could only say
/// "never measured".
pub fn ensure_evaluator(exp: &Experiment, metric: &str) -> anyhow::Result<()> {
    use crate::modality::images::CLASSES_COVERED;
    let measured_by_evaluator = crate::eval::features::SCORES
        .iter()
        .chain([&CLASSES_COVERED])
        .any(|m| m.column == metric);
    if !measured_by_evaluator
        || !matches!(
            exp.data,
            DataConfig::Idx { .. } | DataConfig::ImageFolder { .. }
        )
        || crate::eval::evaluator::available(&exp.data)
    {
        return Ok(());
    }
    let path = crate::eval::evaluator::cache_path(&exp.data);
    let steps = crate::eval::evaluator::TRAINING_STEPS;
    train_evaluator(exp, &path, steps, &mut |_| {})
        .map_err(|e| anyhow::anyhow!("training the evaluator {metric} needs: {e}"))?;
    Ok(())
}

/// Trains the evaluator for `exp`'s data and writes it to `path`.
fn train_evaluator(
    exp: &Experiment,
    path: &Path,
    steps: usize,
    progress: &mut dyn FnMut(usize),
) -> Result<crate::modality::TrainedEvaluator, String> {
    let job = crate::modality::EvaluatorJob {
        seed: exp.training.seed,
        steps,
        progress,
    };
    crate::modality::of(&exp.data).train_evaluator(&exp.data, job, path)
}

/// Runs `genlab evaluator`: trains and writes an evaluator; returns where it went.
pub fn evaluator(preset: &Path, out: Option<PathBuf>, steps: usize) -> anyhow::Result<PathBuf> {
    let exp = Experiment::load(preset)?;
    let bar = ProgressBar::new(steps as u64);
    let started = std::time::Instant::now();
    let path = out.unwrap_or_else(|| crate::eval::evaluator::cache_path(&exp.data));
    let trained = train_evaluator(&exp, &path, steps, &mut |s| bar.set_position(s as u64))
        .map_err(|e| anyhow::anyhow!("{}: {e}", preset.display()))?;
    bar.finish_and_clear();
    println!(
        "evaluator: {} classes, held-out accuracy {:.2} %, {steps} steps in {:.0} s -> {}",
        trained.classes,
        trained.held_out_accuracy * 100.0,
        started.elapsed().as_secs_f64(),
        path.display()
    );
    Ok(path)
}

/// The experiment of a preset file or of a run folder.
fn experiment_of(path: &Path) -> anyhow::Result<Experiment> {
    let file = if path.is_dir() {
        path.join("config.toml")
    } else {
        path.to_owned()
    };
    Ok(Experiment::load(&file)?)
}

/// Runs `genlab score`: prints the scores of `samples`, or writes the export.
pub fn score(data_of: &Path, samples: Option<&Path>, export: Option<&Path>) -> anyhow::Result<()> {
    let exp = experiment_of(data_of)?;
    let scorer = crate::modality::images::scoring::Scorer::new(&exp.data, exp.training.seed)
        .map_err(|e| anyhow::anyhow!("{}: {e}", data_of.display()))?;
    if let Some(dir) = export {
        scorer.export(dir).map_err(anyhow::Error::msg)?;
        println!(
            "wrote {} and {} real images in {}; score a folder with\n  python3 scripts/score_images.py --export {} --samples DIR",
            dir.join("evaluator.safetensors").display(),
            2 * crate::modality::images::scoring::REFERENCE,
            dir.join("real").display(),
            dir.display()
        );
    }
    if let Some(dir) = samples {
        print!(
            "{}",
            scorer.score(dir).map_err(anyhow::Error::msg)?.to_text()
        );
    }
    Ok(())
}

/// Runs `genlab sample`: the newest checkpoint's model writes `count` samples (images as
/// PNGs, clips as WAVs, text items and 2-D points each in one file).
pub fn sample(run: &Path, count: usize, seed: u64, out: &Path) -> anyhow::Result<usize> {
    let (checkpoint, path, _) = store::latest(&store::dir_of(run))?;
    let exp = checkpoint
        .experiment()
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let data = crate::data::Dataset::load(&exp.data, exp.training.seed)?;
    let (device, _) = crate::train::device::device_for(crate::config::Backend::Cpu)
        .map_err(anyhow::Error::msg)?;
    let mut trainer =
        crate::train::session::build_trainer(&exp, &device).map_err(|e| anyhow::anyhow!("{e}"))?;
    trainer
        .load_state(&checkpoint.trainer)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let generated = trainer.generate(count, seed);
    // Each kind of data writes its own files: PNGs, WAVs, text or CSV.
    crate::modality::of_dataset(&data)
        .write_samples(&data, &generated, out)
        .map_err(|e| anyhow::anyhow!("{}: {e}", run.display()))?;
    println!(
        "{count} samples of step {} written to {}",
        checkpoint.step,
        out.display()
    );
    Ok(count)
}

/// Runs `genlab validate`; true when every file is valid.
pub fn validate(presets: &[PathBuf]) -> bool {
    let mut ok = true;
    for p in presets {
        match Experiment::load(p) {
            // What it will cost, as the experiment panel shows it.
            Ok(exp) => match crate::cost::estimate(&exp) {
                Ok(e) => println!(
                    "ok: {}: {} parameters, {} per step, memory about {} ({})",
                    p.display(),
                    crate::cost::grouped(e.parameters),
                    e.flops(),
                    crate::cost::bytes(e.total()),
                    e.describe()
                ),
                Err(e) => println!("ok: {} (cost unknown: {e})", p.display()),
            },
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
        // A preset that cannot be checked fails the check: a release check that skips
        // is one that can pass without checking anything.
        let exp = match Experiment::load(p) {
            Ok(e) => e,
            Err(e) => {
                all_ok = false;
                println!(
                    "| {} | | | | FAIL: does not load: {} | |",
                    p.display(),
                    e.to_string().replace('\n', " ")
                );
                continue;
            }
        };
        let Some(outcome) = exp.outcome.clone() else {
            all_ok = false;
            println!(
                "| {} | {} | none stated | | FAIL: no [outcome] to check | |",
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
        let result = ensure_evaluator(&exp, &outcome.metric)
            .and_then(|()| train(p, None, Some(dir.clone()), false))
            .and_then(|d| last_metric(&d, &outcome.metric));
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
