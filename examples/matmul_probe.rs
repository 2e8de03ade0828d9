//! Throughput of GenLab's matrix products on the shapes the benchmark architectures use
//! (dense layers, and the column products of the DCGAN's convolutions at batch 64), on
//! every instruction set this CPU has, on a pool of N threads (default 1), as a training
//! session runs it. The last column is burn-flex's own matmul for comparison.
//!
//!     cargo run --example matmul_probe [-- THREADS]

use burn::prelude::*;
use genlab::kernels::gemm::{matmul_rows_on, Isa};
use std::time::Instant;

fn main() {
    genlab::alloc::tune();
    let threads = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("thread pool");
    println!("{threads} thread(s); {}", genlab::kernels::describe());
    pool.install(probe);
    pool.install(transforms);
    pool.install(passes);
}

fn gflops(m: usize, k: usize, n: usize, mut f: impl FnMut()) -> f64 {
    let reps = (2_000_000_000 / (2 * m * n * k)).clamp(5, 2000);
    f();
    let t0 = Instant::now();
    for _ in 0..reps {
        f();
    }
    (2 * m * n * k * reps) as f64 / t0.elapsed().as_secs_f64() / 1e9
}

fn probe() {
    let sets: Vec<Isa> = [Isa::Avx2, Isa::Avx512]
        .into_iter()
        .filter(|i| i.available())
        .collect();
    let names: Vec<&str> = sets.iter().map(|i| i.name()).collect();
    println!(
        "| shape (m x k x n) | {} | burn-flex matmul |",
        names.join(" | ")
    );
    let shapes = [
        (256, 128, 128),
        (128, 784, 400),
        (128, 400, 784),
        (784, 128, 400),
        (512, 512, 512),
        // DCGAN convolutions at batch 64 as column products
        (128, 1024, 3136),
        (1024, 128, 3136),
        (64, 16, 12544),
        (16, 64, 12544),
    ];
    let device = Device::flex();
    for &(m, k, n) in &shapes {
        let a = vec![0.5f32; m * k];
        let b = vec![0.25f32; k * n];
        let mut c = vec![0.0f32; m * n];
        let mut row = format!("| {m} x {k} x {n} |");
        for &isa in &sets {
            let g = gflops(m, k, n, || {
                matmul_rows_on(isa, &mut c, &a, &b, m, k, n, false)
            });
            row.push_str(&format!(" {g:.1} |"));
        }
        let ta = Tensor::<2>::random([m, k], burn::tensor::Distribution::Default, &device);
        let tb = Tensor::<2>::random([k, n], burn::tensor::Distribution::Default, &device);
        let g = gflops(m, k, n, || {
            std::hint::black_box(ta.clone().matmul(tb.clone()));
        });
        row.push_str(&format!(" {g:.1} |"));
        println!("{row}");
    }
}

/// The column transforms around the products, on the DCGAN's shapes at batch 64.
pub fn transforms() {
    use genlab::kernels::conv::{col2im, im2col};
    println!("| transform | shape | ns per column element |");
    for (c_img, side, c_out) in [(64usize, 14usize, 128usize), (1, 28, 64)] {
        let g = dcgan_layer(c_img, side, c_out);
        let img = vec![1.0f32; g.img_len()];
        let mut col = Vec::new();
        let mut back = vec![0.0f32; g.img_len()];
        let reps = 20;
        let t0 = Instant::now();
        for _ in 0..reps {
            col = im2col(&g, &img);
        }
        let ns = t0.elapsed().as_secs_f64() * 1e9 / (reps * col.len()) as f64;
        println!("| im2col | {c_img}x{side}x{side} k4 s2 p1 | {ns:.2} |");
        let t0 = Instant::now();
        for _ in 0..reps {
            col2im(&g, &col, None, &mut back);
        }
        let ns = t0.elapsed().as_secs_f64() * 1e9 / (reps * col.len()) as f64;
        println!("| col2im | {c_img}x{side}x{side} k4 s2 p1 | {ns:.2} |");
    }
}

/// Whole convolution passes (column transform and product together), ms per call, on the
/// DCGAN's two layer shapes at batch 64.
pub fn passes() {
    use genlab::kernels::conv::{
        conv2d_backward, conv2d_forward, conv_transpose2d_backward, conv_transpose2d_forward,
        Wanted,
    };
    println!("| pass | shape | ms per call |");
    for (c_img, side, c_out) in [(64usize, 14usize, 128usize), (1, 28, 64)] {
        let g = dcgan_layer(c_img, side, c_out);
        let img: Vec<f32> = (0..g.img_len()).map(|i| (i % 7) as f32 * 0.1).collect();
        let small: Vec<f32> = (0..g.out_len()).map(|i| (i % 5) as f32 * 0.1).collect();
        let w: Vec<f32> = (0..g.weight_len()).map(|i| (i % 3) as f32 * 0.01).collect();
        let time = |name: &str, f: &mut dyn FnMut()| {
            f();
            let reps = 20;
            let t0 = Instant::now();
            for _ in 0..reps {
                f();
            }
            let ms = t0.elapsed().as_secs_f64() * 1e3 / reps as f64;
            println!(
                "| {name} | {c_img}x{side}x{side} <-> {c_out}x{}x{} | {ms:.2} |",
                side / 2,
                side / 2
            );
        };
        let all = Wanted {
            x: true,
            weight: true,
            bias: true,
        };
        time("conv forward", &mut || {
            std::hint::black_box(conv2d_forward(&g, &img, &w, None));
        });
        time("conv backward", &mut || {
            std::hint::black_box(conv2d_backward(&g, &w, &img, &small, all));
        });
        time("transposed forward", &mut || {
            std::hint::black_box(conv_transpose2d_forward(&g, &small, &w, None));
        });
        time("transposed backward", &mut || {
            std::hint::black_box(conv_transpose2d_backward(&g, &w, &small, &img, all));
        });
    }
}

/// One of the DCGAN's 4x4, stride-2 layers at batch 64: `c_img` channels of `side` pixels
/// on the large side, `c_out` on the small.
fn dcgan_layer(c_img: usize, side: usize, c_out: usize) -> genlab::kernels::conv::Geometry {
    genlab::kernels::conv::Geometry {
        batch: 64,
        c_img,
        img_h: side,
        img_w: side,
        c_out,
        out_h: side / 2,
        out_w: side / 2,
        kh: 4,
        kw: 4,
        stride: [2, 2],
        pad: [1, 1],
        dilation: [1, 1],
    }
}
