//! The GPU backend (burn-wgpu). These tests need a wgpu adapter; CI installs Mesa's
//! software Vulkan driver (lavapipe) and sets GENLAB_REQUIRE_GPU=1, so there a missing
//! adapter fails them. Elsewhere, without an adapter, each prints "SKIPPED <test>: <reason>"
//! and returns.

use crate::preset;
use genlab::config::Backend;
use genlab::train::{Event, Session};
use std::time::Duration;

fn gpu_or_skip(test: &str) -> bool {
    match genlab::train::device::gpu_adapter() {
        Ok(adapter) => {
            println!("{test}: on {adapter}");
            true
        }
        Err(e) => {
            if std::env::var_os("GENLAB_REQUIRE_GPU").is_some() {
                panic!("{test}: GENLAB_REQUIRE_GPU is set, but {e}");
            }
            eprintln!("SKIPPED {test}: {e}");
            false
        }
    }
}

/// (step, losses) of the first `steps` steps of `exp` on `backend`, through a session.
fn first_losses(
    mut exp: genlab::config::Experiment,
    backend: Backend,
    steps: u64,
) -> Vec<(u64, Vec<(&'static str, f64)>)> {
    exp.backend = backend;
    exp.training.steps = steps;
    exp.training.metrics_every = 1;
    let s = Session::start(exp).expect("start");
    let mut rows = Vec::new();
    loop {
        s.drain_snapshots();
        match s.next_event(Duration::from_secs(300)) {
            Some(Event::Metrics(m)) if m.step > 0 => {
                let keep: Vec<_> = m
                    .values
                    .iter()
                    .copied()
                    .filter(|(n, _)| {
                        [
                            "loss_d",
                            "loss_g",
                            "d_real",
                            "d_fake",
                            "loss",
                            "reconstruction",
                            "kl",
                        ]
                        .contains(n)
                    })
                    .collect();
                rows.push((m.step, keep));
            }
            Some(Event::Finished { .. }) => return rows,
            Some(Event::Failed { reason, .. }) => panic!("{backend:?} failed: {reason}"),
            Some(_) => {}
            None => panic!("no event for 5 minutes"),
        }
    }
}

#[test]
fn the_same_seed_gives_the_same_losses_on_cpu_and_gpu() {
    if !gpu_or_skip("same_seed_cpu_gpu") {
        return;
    }
    // The ring GAN and the MLP VAE, same preset and seed, through the same session code.
    for (name, steps) in [
        ("gan_ring.toml", 10),
        ("vae_mlp_shapes.toml", 5),
        // 1-D convolutions: burn's own kernels on the GPU, GenLab's on the CPU.
        ("vae_conv_tones.toml", 3),
        // GRUs over one-hot characters.
        ("lm_names.toml", 5),
        ("vae_names.toml", 3),
    ] {
        let cpu = first_losses(preset(name), Backend::Cpu, steps);
        let gpu = first_losses(preset(name), Backend::Gpu, steps);
        assert_eq!(cpu.len(), steps as usize);
        assert_eq!(gpu.len(), steps as usize);
        for ((step, a), (_, b)) in cpu.iter().zip(&gpu) {
            for ((loss, x), (_, y)) in a.iter().zip(b) {
                // Reductions run in another order on the GPU (parallel sums), so values
                // differ in the last bits and the gap grows a little with each step.
                let tolerance = 1e-3 * x.abs().max(1.0);
                assert!(
                    (x - y).abs() <= tolerance,
                    "{name} step {step}: {loss} is {x} on the CPU, {y} on the GPU"
                );
            }
        }
        let worst = cpu
            .iter()
            .zip(&gpu)
            .flat_map(|((_, a), (_, b))| {
                a.iter()
                    .zip(b)
                    .map(|((_, x), (_, y))| (x - y).abs() / x.abs().max(1.0))
            })
            .fold(0.0, f64::max);
        println!("{name}: {steps} steps, largest relative gap CPU vs GPU {worst:.2e}");
    }
}

#[test]
fn the_text_gan_trains_on_the_gpu() {
    if !gpu_or_skip("text_gan_gpu") {
        return;
    }
    // Its straight-through samples take an argmax, which a last-bit difference can flip,
    // so the CPU's losses are not the reference here: finite values are.
    let rows = first_losses(preset("gan_names.toml"), Backend::Gpu, 5);
    assert_eq!(rows.len(), 5);
    assert!(
        rows.iter()
            .all(|(_, v)| v.iter().all(|(_, x)| x.is_finite())),
        "{rows:?}"
    );
}

#[test]
fn the_wavegan_trains_on_the_gpu() {
    if !gpu_or_skip("wavegan_gpu") {
        return;
    }
    let mut exp = preset("wavegan_tones.toml");
    exp.training.batch_size = 16;
    let rows = first_losses(exp, Backend::Gpu, 5);
    assert_eq!(rows.len(), 5);
    assert!(
        rows.iter()
            .all(|(_, v)| v.iter().all(|(_, x)| x.is_finite())),
        "{rows:?}"
    );
}

#[test]
fn the_ring_gan_learns_on_the_gpu() {
    if !gpu_or_skip("ring_gan_on_gpu") {
        return;
    }
    // 3000 of the preset's 8000 steps: on lavapipe (software Vulkan, about 8 steps/s) the
    // full budget takes 17 minutes. On the CPU this recipe covers 7 modes by step 2400.
    let mut exp = preset("gan_ring.toml");
    exp.backend = Backend::Gpu;
    exp.training.steps = 3000;
    exp.training.samples_every = 100;
    let s = Session::start(exp).expect("start");
    let mut device = String::new();
    let mut coverage = Vec::new();
    let mut js = Vec::new();
    loop {
        s.drain_snapshots();
        match s.next_event(Duration::from_secs(900)) {
            Some(Event::Started { device: d, .. }) => device = d,
            Some(Event::Metrics(m)) => {
                if let Some(c) = m.get("modes_covered") {
                    coverage.push((m.step, c, m.get("high_quality").unwrap_or(0.0)));
                }
                if let Some(j) = m.get("js_grid") {
                    js.push(j);
                }
            }
            Some(Event::Finished { .. }) => break,
            Some(Event::Failed { reason, .. }) => panic!("failed: {reason}"),
            Some(_) => {}
            None => panic!("no event for 15 minutes"),
        }
    }
    assert!(device.starts_with("GPU: "), "trained on {device}");
    // Coverage flickers from one snapshot to the next while modes are being found: the best
    // of the last five snapshots (500 steps) is what the run has learned.
    let recent = &coverage[coverage.len().saturating_sub(5)..];
    let (step, covered, hq) = recent
        .iter()
        .copied()
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .expect("coverage measured");
    let (js0, js1) = (js[0], js[js.len() - 1]);
    println!(
        "ring GAN on {device}: {covered} of 8 modes ({:.1} % high quality) at step {step}; JS {js0:.3} -> {js1:.3}",
        hq * 100.0
    );
    assert!(covered >= 6.0, "only {covered} modes: {coverage:?}");
    assert!(js1 < 0.5 * js0, "JS {js0} -> {js1}");
}
