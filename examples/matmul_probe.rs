//! Throughput of burn-flex's matmul on the shapes the benchmark architectures use, on a
//! pool of N threads (default 1), as a training session runs it.
//!
//!     cargo run --example matmul_probe [-- THREADS]

use burn::prelude::*;
use std::time::Instant;

fn main() {
    genlab::alloc::tune();
    let threads = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("thread pool");
    println!("{threads} thread(s)");
    pool.install(probe);
}

fn probe() {
    let device = Device::flex();
    for &(m, k, n) in &[(256, 128, 128), (128, 784, 400), (128, 400, 784), (784, 128, 400), (512, 512, 512)] {
        let a = Tensor::<2>::random([m, k], burn::tensor::Distribution::Default, &device);
        let b = Tensor::<2>::random([k, n], burn::tensor::Distribution::Default, &device);
        let reps = (2_000_000_000 / (2 * m * n * k)).max(5);
        let _ = a.clone().matmul(b.clone()).into_data();
        let t0 = Instant::now();
        for _ in 0..reps {
            let c = a.clone().matmul(b.clone());
            std::hint::black_box(c);
        }
        let s = t0.elapsed().as_secs_f64();
        println!("{m}x{k}x{n}: {:.1} GFLOP/s", (2 * m * n * k * reps) as f64 / s / 1e9);
    }
}
