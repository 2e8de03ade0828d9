//! Single-precision matrix products on gemm's microkernels, with the instruction set
//! chosen at run time.
//!
//! gemm itself picks AVX-512 whenever the CPU has it. That is right on Intel server
//! parts and measured slower on some AMD Zen 4 shapes (double-pumped 512-bit units), so
//! GenLab's own kernels call gemm's AVX2+FMA or AVX-512 microkernels directly, whichever a
//! short probe on this CPU found faster. The choice is cached per CPU model (so a resumed
//! run in a new process multiplies the same way, bit for bit) and can be forced with
//! `GENLAB_GEMM_ISA=avx2|avx512|scalar`.

use gemm_common::gemm::gemm_basic_generic;
use gemm_common::Parallelism;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Instant;

/// The instruction set a kernel family runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isa {
    Scalar,
    Avx2,
    Avx512,
}

impl Isa {
    pub fn name(self) -> &'static str {
        match self {
            Isa::Scalar => "scalar",
            Isa::Avx2 => "avx2+fma",
            Isa::Avx512 => "avx512",
        }
    }

    fn parse(s: &str) -> Option<Isa> {
        match s.trim() {
            "scalar" => Some(Isa::Scalar),
            "avx2" | "avx2+fma" => Some(Isa::Avx2),
            "avx512" => Some(Isa::Avx512),
            _ => None,
        }
    }

    /// Whether this CPU can run it.
    pub fn available(self) -> bool {
        match self {
            Isa::Scalar => true,
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => is_x86_feature_detected!("avx512f"),
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }
}

/// A read-only matrix view: element (i, j) is `data[i * row_stride + j * col_stride]`.
#[derive(Clone, Copy)]
pub struct MatRef<'a> {
    pub data: &'a [f32],
    pub rows: usize,
    pub cols: usize,
    pub row_stride: usize,
    pub col_stride: usize,
}

impl<'a> MatRef<'a> {
    /// A row-major `rows x cols` matrix.
    pub fn rows(data: &'a [f32], rows: usize, cols: usize) -> Self {
        MatRef {
            data,
            rows,
            cols,
            row_stride: cols,
            col_stride: 1,
        }
    }

    /// The transpose, without copying.
    pub fn t(self) -> Self {
        MatRef {
            data: self.data,
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
        }
    }

    fn check(&self, what: &str) {
        if self.rows > 0 && self.cols > 0 {
            let last = (self.rows - 1) * self.row_stride + (self.cols - 1) * self.col_stride;
            assert!(
                last < self.data.len(),
                "gemm: {what} view runs past its buffer"
            );
        }
    }
}

/// A writable matrix view, laid out as [`MatRef`].
pub struct MatMut<'a> {
    pub data: &'a mut [f32],
    pub rows: usize,
    pub cols: usize,
    pub row_stride: usize,
    pub col_stride: usize,
}

impl<'a> MatMut<'a> {
    pub fn rows(data: &'a mut [f32], rows: usize, cols: usize) -> Self {
        MatMut {
            data,
            rows,
            cols,
            row_stride: cols,
            col_stride: 1,
        }
    }
}

/// `dst = lhs * rhs` (or `dst += lhs * rhs` with `accumulate`), on the chosen instruction
/// set, split over the current rayon pool when the product is large enough to pay.
pub fn matmul(dst: MatMut, lhs: MatRef, rhs: MatRef, accumulate: bool) {
    matmul_on(chosen_isa(), dst, lhs, rhs, accumulate)
}

/// `lhs * rhs` into a new row-major matrix. The buffer is not zeroed first: gemm writes
/// every element without reading it (a zero fill was 8 % of a DCGAN step).
pub fn product(lhs: MatRef, rhs: MatRef) -> Vec<f32> {
    product_with(lhs, rhs, true)
}

/// [`product`] on this thread only (see [`matmul_on_this_thread`]).
pub fn product_on_this_thread(lhs: MatRef, rhs: MatRef) -> Vec<f32> {
    product_with(lhs, rhs, false)
}

fn product_with(lhs: MatRef, rhs: MatRef, may_split: bool) -> Vec<f32> {
    let (m, n) = (lhs.rows, rhs.cols);
    if lhs.cols == 0 {
        return vec![0.0; m * n];
    }
    let mut out = Vec::with_capacity(m * n);
    let spare = &mut out.spare_capacity_mut()[..m * n];
    // SAFETY: `MaybeUninit<f32>` has f32's layout; gemm only writes the destination when
    // it is not asked to accumulate, so no uninitialised value is read.
    let dst = unsafe { std::slice::from_raw_parts_mut(spare.as_mut_ptr().cast::<f32>(), m * n) };
    matmul_with(
        chosen_isa(),
        MatMut::rows(dst, m, n),
        lhs,
        rhs,
        false,
        may_split,
    );
    // SAFETY: the product wrote all m * n elements (k > 0 was checked above).
    unsafe { out.set_len(m * n) };
    out
}

/// [`matmul`] on this thread only: for work that is already split over the pool (the
/// convolutions' chunks).
pub fn matmul_on_this_thread(dst: MatMut, lhs: MatRef, rhs: MatRef, accumulate: bool) {
    matmul_with(chosen_isa(), dst, lhs, rhs, accumulate, false)
}

/// [`matmul`] on a given instruction set (tests and the probe).
pub fn matmul_on(isa: Isa, dst: MatMut, lhs: MatRef, rhs: MatRef, accumulate: bool) {
    matmul_with(isa, dst, lhs, rhs, accumulate, true)
}

fn matmul_with(isa: Isa, dst: MatMut, lhs: MatRef, rhs: MatRef, accumulate: bool, may_split: bool) {
    assert_eq!(lhs.cols, rhs.rows, "gemm: inner dimensions differ");
    assert_eq!(
        (dst.rows, dst.cols),
        (lhs.rows, rhs.cols),
        "gemm: output shape"
    );
    lhs.check("lhs");
    rhs.check("rhs");
    let out = MatRef {
        data: dst.data,
        rows: dst.rows,
        cols: dst.cols,
        row_stride: dst.row_stride,
        col_stride: dst.col_stride,
    };
    out.check("dst");
    let (m, n, k) = (dst.rows, dst.cols, lhs.cols);
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            for i in 0..m {
                for j in 0..n {
                    dst.data[i * dst.row_stride + j * dst.col_stride] = 0.0;
                }
            }
        }
        return;
    }
    let isa = if isa.available() { isa } else { Isa::Scalar };
    let parallelism = if may_split {
        parallelism_for(m, n, k)
    } else {
        Parallelism::None
    };
    // The microkernels write columns: a row-major product is run as its transpose,
    // dst^T = rhs^T * lhs^T (as gemm's own entry point does).
    let (m, n, dst_cs, dst_rs, lhs, rhs) = if dst.col_stride < dst.row_stride {
        (n, m, dst.row_stride, dst.col_stride, rhs.t(), lhs.t())
    } else {
        (m, n, dst.col_stride, dst.row_stride, lhs, rhs)
    };
    // SAFETY: every view was checked to lie inside its slice, the destination is borrowed
    // mutably (so it aliases neither input), and the instruction set is available.
    unsafe {
        run(
            isa,
            m,
            n,
            k,
            dst.data.as_mut_ptr(),
            dst_cs as isize,
            dst_rs as isize,
            accumulate,
            lhs.data.as_ptr(),
            lhs.col_stride as isize,
            lhs.row_stride as isize,
            rhs.data.as_ptr(),
            rhs.col_stride as isize,
            rhs.row_stride as isize,
            parallelism,
        )
    }
}

/// Threads pay above about 2^23 multiply-adds: at 2^21 the 2-D GAN's 256x128x128
/// products ran slower on two threads than on one (135k against 200k samples/s).
fn parallelism_for(m: usize, n: usize, k: usize) -> Parallelism {
    let threads = rayon::current_num_threads();
    if threads > 1 && m * n * k >= 1 << 23 {
        Parallelism::Rayon(threads)
    } else {
        Parallelism::None
    }
}

/// The microkernel modules with their vector width in f32 lanes.
mod ukr {
    pub mod avx2 {
        pub use gemm_f32::microkernel::fma::f32::*;
        pub const N: usize = 8;
    }
    pub mod avx512 {
        pub use gemm_f32::microkernel::avx512f::f32::*;
        pub const N: usize = 16;
    }
    pub mod scalar {
        pub use gemm_f32::microkernel::scalar::f32::*;
        pub const N: usize = 1;
    }
}

#[allow(clippy::too_many_arguments)]
unsafe fn run(
    isa: Isa,
    m: usize,
    n: usize,
    k: usize,
    dst: *mut f32,
    dst_cs: isize,
    dst_rs: isize,
    accumulate: bool,
    lhs: *const f32,
    lhs_cs: isize,
    lhs_rs: isize,
    rhs: *const f32,
    rhs_cs: isize,
    rhs_rs: isize,
    par: Parallelism,
) {
    // One call per microkernel table; gemm computes dst = alpha * dst + beta * lhs * rhs,
    // reading dst only when asked to accumulate.
    macro_rules! call {
        ($simd:expr, $ukr:path) => {{
            use $ukr as u;
            gemm_basic_generic::<
                _,
                f32,
                { u::N },
                { u::MR_DIV_N * u::N },
                { u::NR },
                { u::MR_DIV_N },
                { u::H_M },
                { u::H_N },
            >(
                $simd,
                m,
                n,
                k,
                dst,
                dst_cs,
                dst_rs,
                accumulate,
                lhs,
                lhs_cs,
                lhs_rs,
                rhs,
                rhs_cs,
                rhs_rs,
                1.0,
                1.0,
                false,
                false,
                false,
                |a, b, c| a * b + c,
                &u::UKR,
                &u::H_UKR,
                false,
                par,
            )
        }};
    }
    match isa {
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => call!(
            gemm_common::simd::V4::try_new().expect("avx512 checked above"),
            ukr::avx512
        ),
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => call!(
            gemm_common::simd::V3::try_new().expect("avx2 checked above"),
            ukr::avx2
        ),
        _ => call!(gemm_common::simd::Scalar, ukr::scalar),
    }
}

/// How the instruction set was chosen, for `genlab bench` and the closing of a run.
#[derive(Debug, Clone)]
pub struct Choice {
    pub isa: Isa,
    /// "forced by GENLAB_GEMM_ISA", "measured: ...", "cached ...", "only one available".
    pub how: String,
}

/// The instruction set GenLab's matrix products run on in this process.
pub fn chosen_isa() -> Isa {
    choice().isa
}

pub fn choice() -> &'static Choice {
    static CHOICE: OnceLock<Choice> = OnceLock::new();
    CHOICE.get_or_init(choose)
}

fn choose() -> Choice {
    if let Some(isa) = std::env::var("GENLAB_GEMM_ISA")
        .ok()
        .and_then(|s| Isa::parse(&s))
    {
        if isa.available() {
            return Choice {
                isa,
                how: "forced by GENLAB_GEMM_ISA".into(),
            };
        }
    }
    let candidates: Vec<Isa> = [Isa::Avx512, Isa::Avx2]
        .into_iter()
        .filter(|i| i.available())
        .collect();
    match candidates.as_slice() {
        [] => Choice {
            isa: Isa::Scalar,
            how: "no AVX2 on this CPU".into(),
        },
        [one] => Choice {
            isa: *one,
            how: "the only vector set this CPU has".into(),
        },
        _ => {
            let model = super::cpu_model();
            if let Some(isa) = read_cache(&model) {
                return Choice {
                    isa,
                    how: format!("measured earlier on this CPU ({})", cache_file().display()),
                };
            }
            let (isa, how) = probe();
            write_cache(&model, isa);
            Choice { isa, how }
        }
    }
}

/// Times both sets on the shapes GenLab's models multiply (dense layers and convolution
/// columns), best of several repetitions each. AVX-512 must win by 5 % to be taken: a tie
/// keeps the narrower, cooler set.
fn probe() -> (Isa, String) {
    let shapes = [
        (128, 400, 784),
        (256, 128, 128),
        (128, 1024, 3136),
        (1024, 128, 3136),
    ];
    let mut secs = [0.0f64; 2];
    for (slot, isa) in [Isa::Avx512, Isa::Avx2].into_iter().enumerate() {
        for &(m, k, n) in &shapes {
            let a = vec![0.5f32; m * k];
            let b = vec![0.25f32; k * n];
            let mut c = vec![0.0f32; m * n];
            let mut best = f64::INFINITY;
            for _ in 0..5 {
                let start = Instant::now();
                matmul_rows_on(isa, &mut c, &a, &b, m, k, n, false);
                best = best.min(start.elapsed().as_secs_f64());
            }
            secs[slot] += best;
        }
    }
    let isa = if secs[0] < secs[1] * 0.95 {
        Isa::Avx512
    } else {
        Isa::Avx2
    };
    (
        isa,
        format!(
            "measured: avx512 {:.2} ms, avx2 {:.2} ms",
            secs[0] * 1e3,
            secs[1] * 1e3
        ),
    )
}

/// `c = a * b` (or `c += a * b`) for row-major `a [m, k]`, `b [k, n]`, `c [m, n]`, on a
/// given instruction set (the probe, its example and the tests).
#[allow(clippy::too_many_arguments)]
pub fn matmul_rows_on(
    isa: Isa,
    c: &mut [f32],
    a: &[f32],
    b: &[f32],
    m: usize,
    k: usize,
    n: usize,
    accumulate: bool,
) {
    matmul_on(
        isa,
        MatMut::rows(c, m, n),
        MatRef::rows(a, m, k),
        MatRef::rows(b, k, n),
        accumulate,
    );
}

fn cache_file() -> PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir)
        .join("genlab")
        .join("kernels.txt")
}

/// Names the probe that wrote a cache line: a new probe measures afresh.
const CACHE_TAG: &str = "gemm-v2";

/// The cache holds one line per CPU model: `gemm-v2 <isa> <model>`.
fn read_cache(model: &str) -> Option<Isa> {
    let text = std::fs::read_to_string(cache_file()).ok()?;
    text.lines().find_map(|line| {
        let mut parts = line.splitn(3, ' ');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(CACHE_TAG), Some(isa), Some(m)) if m == model => {
                Isa::parse(isa).filter(|i| i.available())
            }
            _ => None,
        }
    })
}

fn write_cache(model: &str, isa: Isa) {
    let path = cache_file();
    let mut text = std::fs::read_to_string(&path).unwrap_or_default();
    text.push_str(&format!("{CACHE_TAG} {} {}\n", isa.name(), model));
    // Best effort: without a writable cache the probe simply runs again next time.
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let tmp = path.with_extension("tmp");
    if std::fs::write(&tmp, text).is_ok() {
        let _ = std::fs::rename(&tmp, &path);
    }
}
