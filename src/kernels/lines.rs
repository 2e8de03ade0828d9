//! The convolution transforms' inner loops: blocks of short lines (7 or 14 floats in the
//! benchmark models) copied or summed, with AVX-512 masked loads and stores where the CPU
//! has them (Intel from Skylake-SP, AMD from Zen 4), plain loops elsewhere.
//!
//! A line of 7 is one masked load and one masked store instead of seven scalar moves, and
//! col2im's sums stay in a register per line instead of a read-modify-write of memory per
//! kernel tap (whose overlapping unaligned stores defeated store forwarding).

use std::mem::MaybeUninit;
use std::sync::OnceLock;

/// Whether the AVX-512 bodies run (checked once). `GENLAB_GEMM_ISA=avx2` (or `scalar`)
/// keeps them off as it keeps the products off AVX-512: the way to measure on an AVX-512
/// machine what a CPU without it runs.
fn avx512() -> bool {
    static HAVE: OnceLock<bool> = OnceLock::new();
    *HAVE.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        {
            let narrowed = std::env::var("GENLAB_GEMM_ISA")
                .is_ok_and(|isa| matches!(isa.trim(), "avx2" | "avx2+fma" | "scalar"));
            is_x86_feature_detected!("avx512f") && !narrowed
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            false
        }
    })
}

/// Applies `f` to each (destination, source) pair of a short line. Lines are as short as
/// an output row (7 or 14 floats in the benchmark models), where a `memcpy` call or a
/// loop per line cost more than the work: the common lengths get a fixed-size body the
/// compiler unrolls inline.
#[inline(always)]
pub(crate) fn short_line<T>(dst: &mut [T], src: &[f32], f: impl Fn(&mut T, f32)) {
    #[inline(always)]
    fn fixed<const N: usize, T>(dst: &mut [T], src: &[f32], f: impl Fn(&mut T, f32)) {
        let d: &mut [T; N] = (&mut dst[..N]).try_into().expect("line length");
        let s: &[f32; N] = src.try_into().expect("line length");
        for (d, &v) in d.iter_mut().zip(s) {
            f(d, v);
        }
    }
    match src.len() {
        4 => fixed::<4, T>(dst, src, f),
        7 => fixed::<7, T>(dst, src, f),
        8 => fixed::<8, T>(dst, src, f),
        14 => fixed::<14, T>(dst, src, f),
        16 => fixed::<16, T>(dst, src, f),
        n => {
            for (d, &v) in dst[..n].iter_mut().zip(src) {
                f(d, v);
            }
        }
    }
}

/// Copies `h` lines of `w` floats, `stride` apart in `src`, into `dst` back to back.
pub fn copy_block(dst: &mut [f32], src: &[f32], h: usize, w: usize, stride: usize) {
    if h == 0 || w == 0 {
        return;
    }
    assert!(dst.len() >= h * w && src.len() >= (h - 1) * stride + w);
    #[cfg(target_arch = "x86_64")]
    if avx512() {
        // SAFETY: AVX-512F is present; the bounds were checked above and the masked
        // accesses touch only the lines' own elements.
        unsafe { x86::copy_block(dst.as_mut_ptr(), src.as_ptr(), h, w, stride) };
        return;
    }
    copy_block_portable(dst, src, h, w, stride);
}

/// [`copy_block`] in plain loops (CPUs without AVX-512; tests compare the two).
pub fn copy_block_portable(dst: &mut [f32], src: &[f32], h: usize, w: usize, stride: usize) {
    for (d, s) in dst.chunks_exact_mut(w).zip(src.chunks(stride)).take(h) {
        short_line(d, &s[..w], |d, v| *d = v);
    }
}

/// One block of a sum: `h` lines of `w` floats back to back from `start` in the source,
/// added at line offset `dy` and column offset `dx` of the destination.
#[derive(Debug, Clone, Copy)]
pub struct Shifted {
    pub start: usize,
    pub dy: usize,
    pub dx: usize,
}

/// `dst[y][x] = sum of src_t[y - dy_t][x - dx_t]` over the blocks `t` that cover `(y, x)`,
/// 0 where none does, for a destination of `rows` lines of `width` floats. Blocks are
/// added in the order given, starting from 0, on every instruction set.
pub fn sum_shifted(
    dst: &mut [f32],
    rows: usize,
    width: usize,
    src: &[f32],
    blocks: &[Shifted],
    h: usize,
    w: usize,
) {
    assert!(dst.len() >= rows * width);
    for b in blocks {
        assert!(b.dy + h <= rows && b.dx + w <= width && b.start + h * w <= src.len());
    }
    #[cfg(target_arch = "x86_64")]
    if avx512() && width <= 16 {
        // SAFETY: AVX-512F is present, width fits one register, and the bounds were
        // checked above (masked lanes are not accessed).
        unsafe { x86::sum_shifted(dst.as_mut_ptr(), rows, width, src.as_ptr(), blocks, h, w) };
        return;
    }
    sum_shifted_portable(dst, rows, width, src, blocks, h, w);
}

/// [`sum_shifted`] in plain loops (CPUs without AVX-512, wide lines; tests compare them).
pub fn sum_shifted_portable(
    dst: &mut [f32],
    rows: usize,
    width: usize,
    src: &[f32],
    blocks: &[Shifted],
    h: usize,
    w: usize,
) {
    let mut heap = Vec::new();
    let mut stack = [0.0f32; 64];
    let line: &mut [f32] = if width <= stack.len() {
        &mut stack[..width]
    } else {
        heap.resize(width, 0.0);
        &mut heap
    };
    for y in 0..rows {
        line.fill(0.0);
        for b in blocks {
            if y >= b.dy && y - b.dy < h {
                let s = &src[b.start + (y - b.dy) * w..][..w];
                for (d, v) in line[b.dx..b.dx + w].iter_mut().zip(s) {
                    *d += v;
                }
            }
        }
        dst[y * width..][..width].copy_from_slice(line);
    }
}

/// Where a block of strided lines lies: `rows` lines, `stride` apart, of `n` elements
/// `step` apart.
#[derive(Debug, Clone, Copy)]
pub struct Strided {
    pub rows: usize,
    pub stride: usize,
    pub n: usize,
    pub step: usize,
}

impl Strided {
    /// Elements a buffer must hold from the block's start.
    fn extent(&self) -> usize {
        if self.rows == 0 || self.n == 0 {
            0
        } else {
            (self.rows - 1) * self.stride + (self.n - 1) * self.step + 1
        }
    }
}

/// `dst[r * dst_stride + i] = src[r * s.stride + i * s.step]`: an image's lines into a
/// stride phase (`s` describes the source; the destination lines are contiguous).
pub fn gather_every(dst: &mut [f32], dst_stride: usize, src: &[f32], s: Strided) {
    if s.rows == 0 || s.n == 0 {
        return;
    }
    assert!(s.step > 0 && src.len() >= s.extent());
    assert!(dst.len() >= (s.rows - 1) * dst_stride + s.n);
    #[cfg(target_arch = "x86_64")]
    if avx512() && 16 % s.step == 0 {
        // SAFETY: AVX-512F is present and the bounds were checked above.
        unsafe { x86::gather_every(dst.as_mut_ptr(), dst_stride, src.as_ptr(), s) };
        return;
    }
    gather_every_portable(dst, dst_stride, src, s);
}

/// [`gather_every`] in plain loops.
pub fn gather_every_portable(dst: &mut [f32], dst_stride: usize, src: &[f32], s: Strided) {
    for r in 0..s.rows {
        let d = &mut dst[r * dst_stride..][..s.n];
        for (d, v) in d.iter_mut().zip(src[r * s.stride..].iter().step_by(s.step)) {
            *d = *v;
        }
    }
}

/// `dst[r * d.stride + i * d.step] = src[r * src_stride + i] + base`, leaving the
/// elements between untouched: a stride phase back into an image's lines (`d` describes
/// the destination).
pub fn scatter_every(
    dst: &mut [MaybeUninit<f32>],
    d: Strided,
    src: &[f32],
    src_stride: usize,
    base: f32,
) {
    if d.rows == 0 || d.n == 0 {
        return;
    }
    assert!(d.step > 0 && dst.len() >= d.extent());
    assert!(src.len() >= (d.rows - 1) * src_stride + d.n);
    #[cfg(target_arch = "x86_64")]
    if avx512() && 16 % d.step == 0 {
        // SAFETY: AVX-512F is present and the bounds were checked above.
        unsafe { x86::scatter_every(dst.as_mut_ptr().cast(), d, src.as_ptr(), src_stride, base) };
        return;
    }
    scatter_every_portable(dst, d, src, src_stride, base);
}

/// [`scatter_every`] in plain loops.
pub fn scatter_every_portable(
    dst: &mut [MaybeUninit<f32>],
    d: Strided,
    src: &[f32],
    src_stride: usize,
    base: f32,
) {
    for r in 0..d.rows {
        let line = dst[r * d.stride..].iter_mut().step_by(d.step);
        for (o, v) in line.zip(&src[r * src_stride..][..d.n]) {
            o.write(v + base);
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{Shifted, Strided};
    use std::arch::x86_64::*;

    /// Lanes `0..n` of a 16-lane mask (n <= 16).
    fn lanes(n: usize) -> __mmask16 {
        ((1u32 << n) - 1) as __mmask16
    }

    /// Lanes 0, step, 2 step, ... of 16 (step divides 16).
    fn every(step: usize) -> __mmask16 {
        (0..16).step_by(step).fold(0u16, |m, i| m | (1 << i))
    }

    #[target_feature(enable = "avx512f")]
    pub unsafe fn gather_every(dst: *mut f32, dst_stride: usize, src: *const f32, s: Strided) {
        let per = 16 / s.step;
        let pick = every(s.step);
        for r in 0..s.rows {
            let (src, dst) = (
                src.wrapping_add(r * s.stride),
                dst.wrapping_add(r * dst_stride),
            );
            let mut i = 0;
            while i < s.n {
                let take = (s.n - i).min(per);
                // the source lanes this piece needs: up to element (take - 1) * step
                let m = lanes((take - 1) * s.step + 1);
                // SAFETY: the unmasked lanes lie inside both buffers (checked by the
                // caller).
                unsafe {
                    let v = _mm512_maskz_loadu_ps(m, src.add(i * s.step));
                    let packed = _mm512_maskz_compress_ps(pick & m, v);
                    _mm512_mask_storeu_ps(dst.add(i), lanes(take), packed);
                }
                i += take;
            }
        }
    }

    #[target_feature(enable = "avx512f")]
    pub unsafe fn scatter_every(
        dst: *mut f32,
        d: Strided,
        src: *const f32,
        src_stride: usize,
        base: f32,
    ) {
        let per = 16 / d.step;
        let pick = every(d.step);
        let b = _mm512_set1_ps(base);
        for r in 0..d.rows {
            let (src, dst) = (
                src.wrapping_add(r * src_stride),
                dst.wrapping_add(r * d.stride),
            );
            let mut i = 0;
            while i < d.n {
                let take = (d.n - i).min(per);
                let m = pick & lanes((take - 1) * d.step + 1);
                // SAFETY: the picked lanes of `dst` and lanes 0..take of `src` lie inside
                // the buffers (checked by the caller); no other lane is read or written.
                unsafe {
                    let v = _mm512_add_ps(_mm512_maskz_loadu_ps(lanes(take), src.add(i)), b);
                    _mm512_mask_storeu_ps(dst.add(i * d.step), m, _mm512_maskz_expand_ps(m, v));
                }
                i += take;
            }
        }
    }

    #[target_feature(enable = "avx512f")]
    pub unsafe fn copy_block(dst: *mut f32, src: *const f32, h: usize, w: usize, stride: usize) {
        for i in 0..h {
            let mut x = 0;
            while x < w {
                let m = lanes((w - x).min(16));
                // SAFETY: lanes x..min(x + 16, w) of line i lie inside both buffers
                // (checked by the caller); the others are masked off.
                unsafe {
                    let v = _mm512_maskz_loadu_ps(m, src.add(i * stride + x));
                    _mm512_mask_storeu_ps(dst.add(i * w + x), m, v);
                }
                x += 16;
            }
        }
    }

    #[target_feature(enable = "avx512f")]
    pub unsafe fn sum_shifted(
        dst: *mut f32,
        rows: usize,
        width: usize,
        src: *const f32,
        blocks: &[Shifted],
        h: usize,
        w: usize,
    ) {
        let line = lanes(w);
        let out = lanes(width);
        for y in 0..rows {
            let mut acc = _mm512_setzero_ps();
            for b in blocks {
                if y >= b.dy && y - b.dy < h {
                    // Lanes dx..dx + w load the block's line; the pointer is moved back by
                    // dx so that lane dx reads its first element (lanes below dx are
                    // masked off, so nothing before the buffer is read).
                    let at = src
                        .wrapping_add(b.start + (y - b.dy) * w)
                        .wrapping_sub(b.dx);
                    // SAFETY: the unmasked lanes are the block's line, inside `src`.
                    acc = _mm512_add_ps(acc, unsafe { _mm512_maskz_loadu_ps(line << b.dx, at) });
                }
            }
            // SAFETY: lanes 0..width of line y lie inside `dst` (checked by the caller).
            unsafe { _mm512_mask_storeu_ps(dst.add(y * width), out, acc) };
        }
    }
}
