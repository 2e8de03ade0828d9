//! GenLab's own CPU kernels: convolutions and matrix products on gemm's microkernels, with
//! the instruction set chosen at run time from what the CPU has and what a probe measured
//! fastest on it.
//!
//! burn-flex runs a convolution as layout conversions, im2col per image and one GEMM per
//! image, and its backward passes as further (transposed) convolutions; half of a conv
//! step went to those copies. These kernels keep NCHW, build columns for the whole batch
//! and run each pass as one dense product (see `conv`).

pub mod conv;
pub mod elementwise;
pub mod gemm;
pub mod lines;
pub mod ops;

/// The CPU's model name (from /proc/cpuinfo on Linux, else the architecture).
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string())
}

/// The vector extensions that matter to the kernels, as `avx2 fma avx512f ...`.
pub fn cpu_features() -> String {
    let mut have = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        for (name, on) in [
            ("avx2", is_x86_feature_detected!("avx2")),
            ("fma", is_x86_feature_detected!("fma")),
            ("avx512f", is_x86_feature_detected!("avx512f")),
            ("avx512bw", is_x86_feature_detected!("avx512bw")),
            ("avx512vl", is_x86_feature_detected!("avx512vl")),
        ] {
            if on {
                have.push(name);
            }
        }
    }
    have.join(" ")
}

/// One line saying where kernels run: CPU model, its vector extensions, and the set each
/// kernel family chose (printed by `genlab bench`).
pub fn describe() -> String {
    let gemm = gemm::choice();
    format!(
        "CPU: {} [{}]; matrix products and convolutions: {} ({}); Adam and cross-entropy: {}; other element-wise: burn-flex's macerator (its own run-time dispatch)",
        cpu_model(),
        cpu_features(),
        gemm.isa.name(),
        gemm.how,
        crate::train::fused_adam_isa(),
    )
}

/// Treats subnormal floats as zero on this thread (x86-64: MXCSR's flush-to-zero and
/// denormals-are-zero bits; elsewhere nothing).
///
/// Training makes subnormals routinely: Adam's second moment of a gradient under 1e-19 is
/// one, and every operation on one takes a microcode assist of about 100 cycles. On the
/// 2-D GAN benchmark that made the fused Adam step a third of the step time (Intel Xeon,
/// AVX-512); flushing them doubled its samples/s. Values under 1.2e-38 become 0, which no
/// update, loss or metric can tell apart. Called on every thread of a training pool.
pub fn denormals_as_zero() {
    #[cfg(target_arch = "x86_64")]
    #[allow(deprecated)]
    // the intrinsics are deprecated in favour of inline asm; same instruction
    // SAFETY: sets two MXCSR mode bits (FTZ 0x8000, DAZ 0x40); SSE is baseline on x86-64.
    unsafe {
        use std::arch::x86_64::{_mm_getcsr, _mm_setcsr};
        _mm_setcsr(_mm_getcsr() | 0x8040);
    }
}

/// A rayon pool of `threads` training threads, each treating subnormals as zero.
pub fn training_pool(
    threads: usize,
    name: &'static str,
) -> Result<rayon::ThreadPool, rayon::ThreadPoolBuildError> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(move |i| format!("{name}-{i}"))
        .start_handler(|_| denormals_as_zero())
        .build()
}
