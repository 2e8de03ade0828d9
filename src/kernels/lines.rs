//! The convolution transforms' inner loops: blocks of short lines (7 or 14 floats in the
//! benchmark models) copied or summed, with AVX-512 masked loads and stores where the CPU
//! has them (Intel from Skylake-SP, AMD from Zen 4), plain loops elsewhere.
//!
//! A line of 7 is one masked load and one masked store instead of seven scalar moves, and
//! col2im's sums stay in a register per line instead of a read-modify-write of memory per
//! kernel tap (whose overlapping unaligned stores defeated store forwarding).

use std::sync::OnceLock;

/// Whether the AVX-512 bodies run (checked once).
fn avx512() -> bool {
    static HAVE: OnceLock<bool> = OnceLock::new();
    *HAVE.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        {
            is_x86_feature_detected!("avx512f")
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            false
        }
    })
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
        d.copy_from_slice(&s[..w]);
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

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::Shifted;
    use std::arch::x86_64::*;

    /// Lanes `0..n` of a 16-lane mask (n <= 16).
    fn lanes(n: usize) -> __mmask16 {
        ((1u32 << n) - 1) as __mmask16
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
