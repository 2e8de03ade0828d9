//! The GPU backend (burn-wgpu). These tests need a wgpu adapter; CI installs Mesa's
//! software Vulkan driver (lavapipe) and sets GENLAB_REQUIRE_GPU=1, so there a missing
//! adapter fails them. Elsewhere, without an adapter, each prints "SKIPPED <test>: <reason>"
//! and returns.

use crate::preset;
use genlab::config::Backend;
use genlab::train::session::{build_trainer, device_for};
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

#[test]
fn cpu_and_gpu_agree_on_the_first_steps_from_the_same_state() {
    if !gpu_or_skip("cpu_and_gpu_agree") {
        return;
    }
    let mut exp = preset("gan_ring.toml");
    exp.training.batch_size = 64;
    let cpu = device_for(Backend::Cpu).expect("cpu").0;
    let gpu = device_for(Backend::Gpu).expect("gpu").0;
    let mut on_cpu = build_trainer(&exp, &cpu).expect("cpu trainer");
    let mut on_gpu = build_trainer(&exp, &gpu).expect("gpu trainer");
    // Same parameters, optimizer state, noise and batches: the CPU trainer's state, moved.
    on_gpu
        .load_state(&on_cpu.save_state().expect("save"))
        .expect("load on the GPU");
    for step in 1..=5 {
        let a = on_cpu.step();
        let b = on_gpu.step();
        for ((name, x), (_, y)) in a.iter().zip(&b) {
            // Reductions run in another order on the GPU (parallel sums), so the values
            // differ in the last bits and the difference grows a little with each step.
            let tolerance = 1e-3 * x.abs().max(1.0);
            assert!(
                (x - y).abs() <= tolerance,
                "step {step}: {name} is {x} on the CPU, {y} on the GPU"
            );
        }
        println!("step {step}: {a:?} vs {b:?}");
    }
}

#[test]
fn the_ring_gan_learns_on_the_gpu() {
    if !gpu_or_skip("ring_gan_on_gpu") {
        return;
    }
    let mut exp = preset("gan_ring.toml");
    exp.backend = Backend::Gpu;
    let s = Session::start(exp).expect("start");
    let mut device = String::new();
    let mut last = None;
    loop {
        s.drain_snapshots();
        match s.next_event(Duration::from_secs(900)) {
            Some(Event::Started { device: d, .. }) => device = d,
            Some(Event::Metrics(m)) => {
                if let Some(c) = m.get("modes_covered") {
                    last = Some((m.step, c, m.get("high_quality").unwrap_or(0.0)));
                }
            }
            Some(Event::Finished { .. }) => break,
            Some(Event::Failed { reason, .. }) => panic!("failed: {reason}"),
            Some(_) => {}
            None => panic!("no event for 15 minutes"),
        }
    }
    assert!(device.starts_with("GPU: "), "trained on {device}");
    let (step, covered, hq) = last.expect("coverage measured");
    println!("ring GAN on {device}: {covered} of 8 modes, {:.1} % high quality at step {step}", hq * 100.0);
    assert!(covered >= 7.0, "only {covered} modes");
    assert!(hq >= 0.7, "{hq}");
}
