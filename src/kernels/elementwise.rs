//! Vectorisable element-wise math: `exp`, `ln`, softplus and sigmoid as branch-free
//! polynomials (Cephes' single-precision coefficients), and the binary cross-entropy with
//! logits built on them.
//!
//! burn-flex computes `log_sigmoid` with libm's scalar `log1pf` and `expf`: in the MLP
//! VAE's profile those two calls were 19 % of a step. These loops compile to 8-wide AVX2
//! (chosen at run time; the default x86-64 target has only SSE2). They use no fused
//! multiply-add, so both paths give the same bits.

const LOG2E: f32 = std::f32::consts::LOG2_E;
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;

/// e^x, relative error about 2e-7, for x in [-87, 88] (clamped outside).
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    let x = x.clamp(-87.0, 88.0);
    let n = (x * LOG2E + 0.5).floor();
    let r = x - n * LN2_HI - n * LN2_LO;
    let z = r * r;
    let p = ((((1.987_569_2e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r
        + 1.666_666_5e-1)
        * r
        + 5e-1;
    let y = p * z + r + 1.0;
    // SAFETY: n is finite and within [-126, 128] after the clamp, so it fits an i32 (an
    // unchecked conversion, unlike `as`, vectorises).
    let n = unsafe { n.to_int_unchecked::<i32>() };
    y * f32::from_bits(((n + 127) as u32) << 23)
}

/// ln(u) for normal positive u, absolute error about 1e-7 near 1.
#[inline(always)]
pub fn ln(u: f32) -> f32 {
    let bits = u.to_bits();
    let mut e = ((bits >> 23) & 0xff) as i32 - 127;
    let mut m = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000); // [1, 2)
    let big = m > std::f32::consts::SQRT_2;
    m = if big { m * 0.5 } else { m };
    e += big as i32;
    let e = e as f32;
    let x = m - 1.0;
    let z = x * x;
    let p = (((((((7.037_683_6e-2 * x - 1.151_461e-1) * x + 1.167_699_9e-1) * x
        - 1.242_014_1e-1)
        * x
        + 1.424_932_3e-1)
        * x
        - 1.666_805_8e-1)
        * x
        + 2.000_071_4e-1)
        * x
        - 2.499_999_4e-1)
        * x
        + 3.333_333e-1;
    let y = p * x * z + LN2_LO * e - 0.5 * z;
    x + y + LN2_HI * e
}

/// softplus(l) = ln(1 + e^l), computed as max(l, 0) + ln(1 + e^-|l|).
#[inline(always)]
pub fn softplus(l: f32) -> f32 {
    let t = exp(-l.abs());
    // ln(1 + t) loses t below 2^-24 to rounding; there it is t to within t^2 / 2.
    let log1p = if t < 1e-4 {
        t - 0.5 * t * t
    } else {
        ln(1.0 + t)
    };
    l.max(0.0) + log1p
}

/// 1 / (1 + e^-l), exact to about 2e-7, without overflow for any l.
#[inline(always)]
pub fn sigmoid(l: f32) -> f32 {
    let t = exp(-l.abs());
    let s = 1.0 / (1.0 + t);
    if l >= 0.0 {
        s
    } else {
        t * s
    }
}

/// tanh(x), error about 1e-7: Cephes' odd polynomial below |x| = 0.625, above it
/// 1 - 2 / (e^2|x| + 1) with x's sign. Branch-free, so a loop of it vectorises; NaN stays
/// NaN (it takes the polynomial), and the exponent is capped before `exp`, which needs a
/// number.
#[inline(always)]
pub fn tanh(x: f32) -> f32 {
    let a = x.abs();
    let z = x * x;
    let small =
        ((((-5.704_988_7e-3 * z + 2.063_909e-2) * z - 5.373_971_6e-2) * z + 1.333_144_2e-1) * z
            - 3.333_328e-1)
            * z
            * x
            + x;
    let big = (1.0 - 2.0 / (exp(2.0 * a.min(44.0)) + 1.0)).copysign(x);
    if a >= 0.625 {
        big
    } else {
        small
    }
}

/// tanh of every element, over the pool in fixed chunks. burn-flex called libm's scalar
/// `tanhf` (and its `expm1f`) on one thread: 1.2 % of a DCGAN step on Zen 4.
pub fn tanh_all(x: &[f32]) -> Vec<f32> {
    use rayon::prelude::*;
    let mut out = vec![0.0; x.len()];
    out.par_chunks_mut(CHUNK)
        .zip(x.par_chunks(CHUNK))
        .for_each(|(out, x)| tanh_chunk(x, out));
    out
}

fn tanh_chunk(x: &[f32], out: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, checked just above.
        unsafe { tanh_avx2(x, out) };
        return;
    }
    tanh_loop(x, out);
}

/// The same loop compiled for AVX2 (no FMA, so the same bits as the plain one).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn tanh_avx2(x: &[f32], out: &mut [f32]) {
    tanh_loop(x, out);
}

#[inline(always)]
fn tanh_loop(x: &[f32], out: &mut [f32]) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o = tanh(v);
    }
}

/// sum over elements of `softplus(l) - l * x`: binary cross-entropy with logits `l`
/// against targets `x` in [0, 1].
pub fn bce_logits_sum(logits: &[f32], targets: &[f32]) -> f32 {
    assert_eq!(logits.len(), targets.len());
    // Fixed chunks, summed in order: the same bits on any number of threads.
    use rayon::prelude::*;
    let partials: Vec<f32> = logits
        .par_chunks(CHUNK)
        .zip(targets.par_chunks(CHUNK))
        .map(|(l, x)| bce_chunk_sum(l, x))
        .collect();
    partials.iter().sum()
}

/// Elements per task when a pass is split over the training pool.
const CHUNK: usize = 1 << 15;

fn bce_chunk_sum(logits: &[f32], targets: &[f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, checked just above.
        return unsafe { bce_sum_avx2(logits, targets) };
    }
    bce_sum(logits, targets)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn bce_sum_avx2(logits: &[f32], targets: &[f32]) -> f32 {
    use std::arch::x86_64::*;
    let body = logits.len() / 8 * 8;
    let mut acc = _mm256_setzero_ps();
    for i in (0..body).step_by(8) {
        // SAFETY: i + 8 <= body <= both lengths (asserted equal by the caller).
        let l = unsafe { _mm256_loadu_ps(logits.as_ptr().add(i)) };
        let x = unsafe { _mm256_loadu_ps(targets.as_ptr().add(i)) };
        acc = _mm256_add_ps(acc, _mm256_sub_ps(avx2::softplus(l), _mm256_mul_ps(l, x)));
    }
    let mut lanes = [0.0f32; 8];
    // SAFETY: `lanes` holds 8 floats.
    unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), acc) };
    lanes.iter().sum::<f32>() + bce_sum(&logits[body..], &targets[body..])
}

/// The terms go through a small buffer in one vectorisable loop, then are summed.
#[inline(always)]
fn bce_sum(logits: &[f32], targets: &[f32]) -> f32 {
    let mut terms = [0.0f32; 512];
    let mut total = 0.0f32;
    for (l, x) in logits.chunks(512).zip(targets.chunks(512)) {
        let terms = &mut terms[..l.len()];
        for ((t, l), x) in terms.iter_mut().zip(l).zip(x) {
            *t = softplus(*l) - l * x;
        }
        total += terms.iter().sum::<f32>();
    }
    total
}

/// `scale * (sigmoid(l) - x)`: the gradient of [`bce_logits_sum`] with respect to the
/// logits, times the upstream gradient.
pub fn bce_logits_grad(logits: &[f32], targets: &[f32], scale: f32) -> Vec<f32> {
    assert_eq!(logits.len(), targets.len());
    use rayon::prelude::*;
    let mut out = vec![0.0; logits.len()];
    out.par_chunks_mut(CHUNK)
        .zip(logits.par_chunks(CHUNK).zip(targets.par_chunks(CHUNK)))
        .for_each(|(out, (l, x))| bce_chunk_grad(l, x, scale, out));
    out
}

fn bce_chunk_grad(logits: &[f32], targets: &[f32], scale: f32, out: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, checked just above.
        unsafe { bce_grad_avx2(logits, targets, scale, out) };
        return;
    }
    bce_grad(logits, targets, scale, out);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn bce_grad_avx2(logits: &[f32], targets: &[f32], scale: f32, out: &mut [f32]) {
    use std::arch::x86_64::*;
    let body = logits.len() / 8 * 8;
    let k = _mm256_set1_ps(scale);
    for i in (0..body).step_by(8) {
        // SAFETY: i + 8 <= body <= every length (asserted equal by the caller).
        unsafe {
            let l = _mm256_loadu_ps(logits.as_ptr().add(i));
            let x = _mm256_loadu_ps(targets.as_ptr().add(i));
            let g = _mm256_mul_ps(k, _mm256_sub_ps(avx2::sigmoid(l), x));
            _mm256_storeu_ps(out.as_mut_ptr().add(i), g);
        }
    }
    bce_grad(&logits[body..], &targets[body..], scale, &mut out[body..]);
}

/// The same functions eight lanes at a time, operation for operation as the scalar ones
/// (so both paths give the same bits).
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::{LN2_HI, LN2_LO, LOG2E};
    use std::arch::x86_64::*;

    #[inline(always)]
    unsafe fn c(v: f32) -> __m256 {
        _mm256_set1_ps(v)
    }

    #[inline(always)]
    unsafe fn mul_add(a: __m256, b: __m256, c: __m256) -> __m256 {
        _mm256_add_ps(_mm256_mul_ps(a, b), c)
    }

    #[target_feature(enable = "avx2")]
    pub unsafe fn exp(x: __m256) -> __m256 {
        let x = _mm256_min_ps(_mm256_max_ps(x, c(-87.0)), c(88.0));
        let n = _mm256_floor_ps(mul_add(x, c(LOG2E), c(0.5)));
        let r = _mm256_sub_ps(
            _mm256_sub_ps(x, _mm256_mul_ps(n, c(LN2_HI))),
            _mm256_mul_ps(n, c(LN2_LO)),
        );
        let z = _mm256_mul_ps(r, r);
        let mut p = mul_add(c(1.987_569_2e-4), r, c(1.398_199_9e-3));
        p = mul_add(p, r, c(8.333_452e-3));
        p = mul_add(p, r, c(4.166_579_6e-2));
        p = mul_add(p, r, c(1.666_666_5e-1));
        p = mul_add(p, r, c(5e-1));
        let y = _mm256_add_ps(_mm256_add_ps(_mm256_mul_ps(p, z), r), c(1.0));
        let n = _mm256_cvttps_epi32(n);
        let pow2 = _mm256_castsi256_ps(_mm256_slli_epi32(
            _mm256_add_epi32(n, _mm256_set1_epi32(127)),
            23,
        ));
        _mm256_mul_ps(y, pow2)
    }

    #[target_feature(enable = "avx2")]
    pub unsafe fn ln(u: __m256) -> __m256 {
        let bits = _mm256_castps_si256(u);
        let e = _mm256_sub_epi32(
            _mm256_and_si256(_mm256_srli_epi32(bits, 23), _mm256_set1_epi32(0xff)),
            _mm256_set1_epi32(127),
        );
        let m = _mm256_castsi256_ps(_mm256_or_si256(
            _mm256_and_si256(bits, _mm256_set1_epi32(0x007f_ffff)),
            _mm256_set1_epi32(0x3f80_0000),
        ));
        let big = _mm256_cmp_ps(m, c(std::f32::consts::SQRT_2), _CMP_GT_OQ);
        let m = _mm256_blendv_ps(m, _mm256_mul_ps(m, c(0.5)), big);
        // the mask is -1 where big: subtracting it adds one
        let e = _mm256_cvtepi32_ps(_mm256_sub_epi32(e, _mm256_castps_si256(big)));
        let x = _mm256_sub_ps(m, c(1.0));
        let z = _mm256_mul_ps(x, x);
        let mut p = _mm256_sub_ps(_mm256_mul_ps(c(7.037_683_6e-2), x), c(1.151_461e-1));
        p = mul_add(p, x, c(1.167_699_9e-1));
        p = _mm256_sub_ps(_mm256_mul_ps(p, x), c(1.242_014_1e-1));
        p = mul_add(p, x, c(1.424_932_3e-1));
        p = _mm256_sub_ps(_mm256_mul_ps(p, x), c(1.666_805_8e-1));
        p = mul_add(p, x, c(2.000_071_4e-1));
        p = _mm256_sub_ps(_mm256_mul_ps(p, x), c(2.499_999_4e-1));
        p = mul_add(p, x, c(3.333_333e-1));
        let y = _mm256_add_ps(
            _mm256_mul_ps(_mm256_mul_ps(p, x), z),
            _mm256_mul_ps(c(LN2_LO), e),
        );
        let y = _mm256_sub_ps(y, _mm256_mul_ps(c(0.5), z));
        _mm256_add_ps(_mm256_add_ps(x, y), _mm256_mul_ps(c(LN2_HI), e))
    }

    #[target_feature(enable = "avx2")]
    pub unsafe fn softplus(l: __m256) -> __m256 {
        let sign = c(-0.0);
        let t = exp(_mm256_or_ps(l, sign)); // -|l|
        let small = _mm256_cmp_ps(t, c(1e-4), _CMP_LT_OQ);
        let approx = _mm256_sub_ps(t, _mm256_mul_ps(_mm256_mul_ps(c(0.5), t), t));
        let log1p = _mm256_blendv_ps(ln(_mm256_add_ps(c(1.0), t)), approx, small);
        _mm256_add_ps(_mm256_max_ps(l, _mm256_setzero_ps()), log1p)
    }

    #[target_feature(enable = "avx2")]
    pub unsafe fn sigmoid(l: __m256) -> __m256 {
        let t = exp(_mm256_or_ps(l, c(-0.0)));
        let s = _mm256_div_ps(c(1.0), _mm256_add_ps(c(1.0), t));
        let non_negative = _mm256_cmp_ps(l, _mm256_setzero_ps(), _CMP_GE_OQ);
        _mm256_blendv_ps(_mm256_mul_ps(t, s), s, non_negative)
    }
}

#[inline(always)]
fn bce_grad(logits: &[f32], targets: &[f32], scale: f32, out: &mut [f32]) {
    for ((o, l), t) in out.iter_mut().zip(logits).zip(targets) {
        *o = scale * (sigmoid(*l) - t);
    }
}
