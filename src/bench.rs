//! `genlab bench`: training throughput of the four reference architectures, side by side
//! with the PyTorch reference scripts when they can run here.

use crate::config::Experiment;
use crate::train::session::{build_trainer, device_for};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// One benchmarked architecture: our experiment and the matching reference script.
pub struct Case {
    pub name: &'static str,
    pub script: &'static str,
    pub batch: usize,
    pub warmup: u64,
    pub steps: u64,
    pub toml: &'static str,
}

/// The four architectures of ../shared/bench/ref, layer for layer (see each docstring).
pub fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "mlp_gan_2d",
            script: "mlp_gan_2d.py",
            batch: 256,
            warmup: 200,
            steps: 2000,
            toml: MLP_GAN,
        },
        Case {
            name: "mlp_vae_28",
            script: "mlp_vae_28.py",
            batch: 128,
            warmup: 20,
            steps: 300,
            toml: MLP_VAE,
        },
        Case {
            name: "conv_vae_28",
            script: "conv_vae_28.py",
            batch: 128,
            warmup: 5,
            steps: 50,
            toml: CONV_VAE,
        },
        Case {
            name: "dcgan_28",
            script: "dcgan_28.py",
            batch: 64,
            warmup: 3,
            steps: 25,
            toml: DCGAN,
        },
    ]
}

/// Samples per second over timed windows.
#[derive(Debug, Clone)]
pub struct Throughput {
    pub windows: Vec<f64>,
}

impl Throughput {
    pub fn median(&self) -> f64 {
        let mut v = self.windows.clone();
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(0.0)
    }
    pub fn min(&self) -> f64 {
        self.windows.iter().copied().fold(f64::INFINITY, f64::min)
    }
    pub fn max(&self) -> f64 {
        self.windows.iter().copied().fold(0.0, f64::max)
    }
}

/// Trains `case` directly (no session thread, no snapshots) and times it.
pub fn measure(
    case: &Case,
    scale: f64,
    windows: usize,
    backend: crate::config::Backend,
    threads: usize,
) -> anyhow::Result<Throughput> {
    crate::alloc::tune();
    // The same pool a session trains in (see `Worker::run`).
    let pool = crate::kernels::training_pool(threads, "genlab-bench")?;
    pool.install(|| measure_here(case, scale, windows, backend))
}

fn measure_here(
    case: &Case,
    scale: f64,
    windows: usize,
    backend: crate::config::Backend,
) -> anyhow::Result<Throughput> {
    let mut exp = Experiment::from_toml(case.toml)?;
    exp.backend = backend;
    let (device, _) = device_for(exp.backend).map_err(anyhow::Error::msg)?;
    let mut trainer = crate::train::device::seeded(&device, 0, || build_trainer(&exp, &device))
        .map_err(anyhow::Error::msg)?;
    for _ in 0..((case.warmup as f64 * scale).ceil() as u64).max(1) {
        trainer.step();
    }
    let per_window = ((case.steps as f64 * scale / windows as f64).ceil() as u64).max(1);
    let mut rates = Vec::new();
    for _ in 0..windows {
        let t0 = Instant::now();
        for _ in 0..per_window {
            trainer.step();
        }
        rates.push((per_window as usize * case.batch) as f64 / t0.elapsed().as_secs_f64());
    }
    Ok(Throughput { windows: rates })
}

/// Peak resident memory of this process, MiB (Linux).
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Runs the PyTorch reference script; `None` with the reason when it cannot.
pub fn reference(
    case: &Case,
    dir: &Path,
    python: &str,
    threads: usize,
    scale: f64,
) -> Result<(f64, f64), String> {
    let script = dir.join(case.script);
    if !script.exists() {
        return Err(format!("{} not found", script.display()));
    }
    let json = std::env::temp_dir().join(format!(
        "genlab-ref-{}-{}.jsonl",
        case.name,
        std::process::id()
    ));
    let _ = std::fs::remove_file(&json);
    let steps = ((case.steps as f64 * scale).ceil() as u64).max(5);
    let warmup = ((case.warmup as f64 * scale).ceil() as u64).max(1);
    let out = Command::new(python)
        .arg(case.script)
        .args([
            "--steps",
            &steps.to_string(),
            "--warmup",
            &warmup.to_string(),
            "--mm-reps",
            "1",
            "--json",
        ])
        .arg(&json)
        .env("REF_THREADS", threads.to_string())
        .current_dir(dir)
        .output()
        .map_err(|e| format!("cannot run {python}: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err.lines().last().unwrap_or("").to_string();
        return Err(format!("reference failed: {last}"));
    }
    let text = std::fs::read_to_string(&json).map_err(|e| format!("no reference result: {e}"))?;
    let _ = std::fs::remove_file(&json);
    let field = |name: &str| -> Option<f64> {
        let at = text.find(&format!("\"{name}\": "))? + name.len() + 4;
        let rest = &text[at..];
        let end = rest.find([',', '}']).unwrap_or(rest.len());
        rest[..end].trim().parse().ok()
    };
    match (field("samples_per_sec_median"), field("peak_rss_mib")) {
        (Some(s), Some(r)) => Ok((s, r)),
        _ => Err("reference printed no samples_per_sec_median".into()),
    }
}

/// Options of `genlab bench`.
pub struct BenchOptions {
    pub scale: f64,
    pub windows: usize,
    pub reference_dir: PathBuf,
    pub python: String,
    pub only: Option<String>,
    /// Add a GPU column when wgpu finds an adapter.
    pub gpu: bool,
    /// CPU threads, for GenLab's pool and the reference's `torch.set_num_threads`.
    pub threads: usize,
}

/// Prints the table; returns it as Markdown rows too.
pub fn run(opts: &BenchOptions) -> anyhow::Result<String> {
    let threads = opts.threads.max(1);
    println!("CPU threads: {threads} for GenLab and for PyTorch");
    // Figures from different machines must never be mixed up: say where this ran.
    println!("{}", crate::kernels::describe());
    // The GPU column appears when wgpu finds an adapter; its name heads the table.
    let gpu = if opts.gpu {
        crate::train::device::gpu_adapter()
    } else {
        Err("--no-gpu".to_string())
    };
    match &gpu {
        Ok(a) => println!("GPU column: {a}"),
        Err(e) => println!("GPU column: n/a ({e})"),
    }
    let mut table = String::from(
        "| architecture | batch | GenLab samples/s (median, min-max) | PyTorch samples/s | ratio | peak RSS MiB, GenLab / PyTorch | GenLab GPU samples/s |\n|---|---|---|---|---|---|---|\n",
    );
    print!("{table}");
    for case in cases() {
        if opts.only.as_deref().is_some_and(|o| o != case.name) {
            continue;
        }
        let ours = measure(
            &case,
            opts.scale,
            opts.windows,
            crate::config::Backend::Cpu,
            threads,
        )?;
        let rss = peak_rss_mib().unwrap_or(0.0);
        let on_gpu = match &gpu {
            Ok(_) => match measure(
                &case,
                opts.scale,
                opts.windows,
                crate::config::Backend::Gpu,
                1,
            ) {
                Ok(t) => format!("{:.0}", t.median()),
                Err(e) => format!("n/a ({e})"),
            },
            Err(_) => "n/a".to_string(),
        };
        let (theirs, ratio, their_rss) = match reference(
            &case,
            &opts.reference_dir,
            &opts.python,
            threads,
            opts.scale,
        ) {
            Ok((s, rss)) => (
                format!("{s:.0}"),
                format!("{:.2}x", ours.median() / s),
                format!("{rss:.0}"),
            ),
            Err(why) => (format!("n/a ({why})"), "n/a".to_string(), "n/a".to_string()),
        };
        let row = format!(
            "| {} | {} | {:.0} ({:.0}-{:.0}) | {} | {} | {:.0} / {} | {} |\n",
            case.name,
            case.batch,
            ours.median(),
            ours.min(),
            ours.max(),
            theirs,
            ratio,
            rss,
            their_rss,
            on_gpu
        );
        print!("{row}");
        table.push_str(&row);
    }
    Ok(table)
}

const MLP_GAN: &str = r#"
title = "bench mlp_gan_2d"
[data]
kind = "toy"
shape = "ring"
[model]
family = "gan"
latent_dim = 2
[model.generator]
kind = "mlp"
hidden = [128, 128]
[model.discriminator]
kind = "mlp"
hidden = [128, 128]
[training]
batch_size = 256
steps = 0
[training.generator_optimizer]
lr = 0.001
"#;

const MLP_VAE: &str = r#"
title = "bench mlp_vae_28"
[data]
kind = "shapes"
count = 2000
[model]
family = "vae"
latent_dim = 20
[model.encoder]
kind = "mlp"
hidden = [400]
[model.decoder]
kind = "mlp"
hidden = [400]
[training]
batch_size = 128
steps = 0
[training.generator_optimizer]
lr = 0.001
"#;

const CONV_VAE: &str = r#"
title = "bench conv_vae_28"
[data]
kind = "shapes"
count = 2000
[model]
family = "vae"
latent_dim = 16
[model.encoder]
kind = "conv"
channels = [32, 64]
[model.decoder]
kind = "conv"
channels = [64, 32]
[training]
batch_size = 128
steps = 0
[training.generator_optimizer]
lr = 0.001
"#;

const DCGAN: &str = r#"
title = "bench dcgan_28"
[data]
kind = "shapes"
count = 2000
[model]
family = "gan"
latent_dim = 64
[model.generator]
kind = "conv"
channels = [128, 64]
batch_norm = true
[model.discriminator]
kind = "conv"
channels = [64, 128]
activation = "leaky_relu"
batch_norm = true
[training]
batch_size = 64
steps = 0
[training.generator_optimizer]
lr = 0.0002
beta1 = 0.5
"#;
