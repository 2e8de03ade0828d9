//! 2-D convolution and transposed convolution on NCHW f32 buffers, forward and backward,
//! as column transforms around one dense product each.
//!
//! Both operations share one geometry: a large image side (`img`: the convolution's input,
//! the transposed convolution's output) and a small side (`out`: the convolution's output,
//! the transposed convolution's input), with the weight `[c_out, c_img, kh, kw]` in
//! burn's layout for both (a transposed convolution's weight `[in, out, kh, kw]` is the
//! same array). Columns run over the whole batch, `[c_img * kh * kw, batch * out_h *
//! out_w]`, so every product is one large GEMM instead of one small one per image, and
//! the weight gradient is a single dense product over the batch.
//!
//! | operation | product |
//! |---|---|
//! | conv forward | `W * im2col(x)` |
//! | conv input gradient, transposed-conv forward | `col2im(W^T * dy)` |
//! | conv weight gradient | `dy * im2col(x)^T` |
//! | transposed-conv input gradient | `W * im2col(dy)` |
//! | transposed-conv weight gradient | `x * im2col(dy)^T` |

use super::gemm::{product, MatRef};
use rayon::prelude::*;
use std::mem::MaybeUninit;

/// Sizes of one convolution (groups = 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    pub batch: usize,
    /// Channels and size of the large side.
    pub c_img: usize,
    pub img_h: usize,
    pub img_w: usize,
    /// Channels and size of the small side.
    pub c_out: usize,
    pub out_h: usize,
    pub out_w: usize,
    pub kh: usize,
    pub kw: usize,
    pub stride: [usize; 2],
    pub pad: [usize; 2],
    pub dilation: [usize; 2],
}

impl Geometry {
    /// Whether either side holds no element (a batch of 0, a 0-pixel image): such
    /// shapes go to burn's op, which returns the empty or zero result.
    pub fn is_empty(&self) -> bool {
        [
            self.batch, self.c_img, self.img_h, self.img_w, self.c_out, self.out_h, self.out_w,
        ]
        .contains(&0)
    }

    /// Output size of a convolution over `img` (None when the kernel does not fit).
    pub fn conv_out(
        img: usize,
        k: usize,
        stride: usize,
        pad: usize,
        dilation: usize,
    ) -> Option<usize> {
        let span = dilation * (k - 1) + 1;
        (img + 2 * pad).checked_sub(span).map(|d| d / stride + 1)
    }

    /// Output size of a transposed convolution of `small`.
    pub fn conv_transpose_out(
        small: usize,
        k: usize,
        stride: usize,
        pad: usize,
        dilation: usize,
        out_pad: usize,
    ) -> Option<usize> {
        ((small - 1) * stride + dilation * (k - 1) + out_pad + 1).checked_sub(2 * pad)
    }

    pub fn col_rows(&self) -> usize {
        self.c_img * self.kh * self.kw
    }

    pub fn col_cols(&self) -> usize {
        self.batch * self.out_h * self.out_w
    }

    pub fn img_len(&self) -> usize {
        self.batch * self.c_img * self.img_h * self.img_w
    }

    pub fn out_len(&self) -> usize {
        self.batch * self.c_out * self.out_h * self.out_w
    }

    pub fn weight_len(&self) -> usize {
        self.c_out * self.col_rows()
    }
}

/// A new buffer of `len` floats that `fill` writes completely.
///
/// # Safety
/// `fill` must write every element: the buffer is not zeroed (the fills were 8 % of a
/// DCGAN step).
unsafe fn written_by(len: usize, fill: impl FnOnce(&mut [MaybeUninit<f32>])) -> Vec<f32> {
    let mut out = Vec::with_capacity(len);
    fill(&mut out.spare_capacity_mut()[..len]);
    // SAFETY: the caller guarantees `fill` initialised all `len` elements.
    unsafe { out.set_len(len) };
    out
}

/// Applies `f` to each (destination, source) pair of a short line. Lines are as short as
/// an output row (7 or 14 floats in the benchmark models), where a `memcpy` call or a
/// loop per line cost more than the work: the common lengths get a fixed-size body the
/// compiler unrolls inline.
#[inline(always)]
fn short_line<T>(dst: &mut [T], src: &[f32], f: impl Fn(&mut T, f32)) {
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

/// Copies `src` into the first `src.len()` elements of `dst`.
#[inline(always)]
fn copy_line(dst: &mut [MaybeUninit<f32>], src: &[f32]) {
    short_line(dst, src, |d, v| {
        d.write(v);
    });
}

/// `dst += src` over the first `src.len()` elements of `dst`.
#[inline(always)]
fn add_line(dst: &mut [f32], src: &[f32]) {
    short_line(dst, src, |d, v| *d += v);
}

/// Below this many elements a transform runs on one thread.
const PARALLEL_MIN: usize = 1 << 15;

/// The padded image split by stride phase: with stride `s`, padded pixel `s * q + r`
/// lives in phase `r` at position `q`. A kernel tap at offset `t` then reads phase `t % s`
/// from position `o + t / s` for output `o`, so every column line is a contiguous copy,
/// whatever the stride, and padding needs no bounds logic.
#[derive(Debug, Clone, Copy)]
struct Phases {
    /// Stride per axis (the number of phases).
    s: [usize; 2],
    /// Positions per phase per axis: ceil((img + 2 pad) / s).
    q: [usize; 2],
}

impl Phases {
    fn of(g: &Geometry) -> Self {
        let q = |axis: usize, img: usize| (img + 2 * g.pad[axis]).div_ceil(g.stride[axis]);
        Phases {
            s: g.stride,
            q: [q(0, g.img_h), q(1, g.img_w)],
        }
    }

    /// Length of one image plane in phase layout.
    fn plane(&self) -> usize {
        self.s[0] * self.s[1] * self.q[0] * self.q[1]
    }

    /// Where the tap at padded offsets `(ty, tx)` starts reading: the phase plane's first
    /// element for output (0, 0).
    fn tap(&self, ty: usize, tx: usize) -> usize {
        let phase = (ty % self.s[0]) * self.s[1] + tx % self.s[1];
        phase * self.q[0] * self.q[1] + (ty / self.s[0]) * self.q[1] + tx / self.s[1]
    }
}

/// For one axis: each phase `r` as (first image index, first phase position, count) of
/// the image pixels that fall in it, stepping by the stride. Division-free loops use it.
fn phase_runs(img: usize, pad: usize, s: usize) -> Vec<(usize, usize, usize)> {
    (0..s)
        .map(|r| {
            // the first padded index >= pad with index % s == r
            let first = pad + (r + s - pad % s) % s;
            let x0 = first - pad;
            let count = if x0 < img { (img - x0).div_ceil(s) } else { 0 };
            (x0, first / s, count)
        })
        .collect()
}

/// `img` padded with zeros and split by phase, plane by plane.
fn to_phases(g: &Geometry, ph: &Phases, img: &[f32]) -> Vec<f32> {
    let mut out = vec![0.0; g.batch * g.c_img * ph.plane()];
    let rows = phase_runs(g.img_h, g.pad[0], ph.s[0]);
    let cols = phase_runs(g.img_w, g.pad[1], ph.s[1]);
    for (src, dst) in img
        .chunks_exact(g.img_h * g.img_w)
        .zip(out.chunks_exact_mut(ph.plane()))
    {
        for (ry, &(y0, qy0, ny)) in rows.iter().enumerate() {
            for (rx, &(x0, qx0, nx)) in cols.iter().enumerate() {
                let phase =
                    &mut dst[(ry * ph.s[1] + rx) * ph.q[0] * ph.q[1]..][..ph.q[0] * ph.q[1]];
                for i in 0..ny {
                    let line = &src[(y0 + i * ph.s[0]) * g.img_w..][..g.img_w];
                    let d = &mut phase[(qy0 + i) * ph.q[1] + qx0..][..nx];
                    for (d, v) in d.iter_mut().zip(line[x0..].iter().step_by(ph.s[1])) {
                        *d = *v;
                    }
                }
            }
        }
    }
    out
}

/// The inverse of [`to_phases`] for one plane, dropping the padding and adding `base`.
fn from_phases(g: &Geometry, ph: &Phases, phased: &[f32], base: f32, plane: &mut [f32]) {
    let rows = phase_runs(g.img_h, g.pad[0], ph.s[0]);
    let cols = phase_runs(g.img_w, g.pad[1], ph.s[1]);
    for (ry, &(y0, qy0, ny)) in rows.iter().enumerate() {
        for (rx, &(x0, qx0, nx)) in cols.iter().enumerate() {
            let phase = &phased[(ry * ph.s[1] + rx) * ph.q[0] * ph.q[1]..][..ph.q[0] * ph.q[1]];
            for i in 0..ny {
                let line = &mut plane[(y0 + i * ph.s[0]) * g.img_w..][..g.img_w];
                let src = &phase[(qy0 + i) * ph.q[1] + qx0..][..nx];
                for (d, v) in line[x0..].iter_mut().step_by(ph.s[1]).zip(src) {
                    *d = v + base;
                }
            }
        }
    }
}

/// Columns of `img` (`[batch, c_img, img_h, img_w]`): row `(c, ki, kj)`, column
/// `(b, oh, ow)` holds the pixel the kernel tap `(ki, kj)` sees at output `(oh, ow)`, or 0
/// in the padding.
pub fn im2col(g: &Geometry, img: &[f32]) -> Vec<f32> {
    assert_eq!(img.len(), g.img_len());
    let len = g.col_rows() * g.col_cols();
    let ph = Phases::of(g);
    let phased = to_phases(g, &ph, img);
    let plane_out = g.out_h * g.out_w;
    let fill = |(row, dst): (usize, &mut [MaybeUninit<f32>])| {
        let c = row / (g.kh * g.kw);
        let ki = (row / g.kw) % g.kh;
        let kj = row % g.kw;
        let tap = ph.tap(ki * g.dilation[0], kj * g.dilation[1]);
        for (b, dst) in dst.chunks_exact_mut(plane_out).enumerate() {
            let plane = &phased[(b * g.c_img + c) * ph.plane() + tap..];
            for (line, src) in dst.chunks_exact_mut(g.out_w).zip(plane.chunks(ph.q[1])) {
                copy_line(line, &src[..g.out_w]);
            }
        }
    };
    let cols = g.col_cols();
    // SAFETY: the rows of `cols` columns tile the buffer, each row's batch planes tile
    // the row, and each plane's lines tile the plane: every element is written.
    unsafe {
        written_by(len, |col| {
            if len >= PARALLEL_MIN {
                col.par_chunks_mut(cols).enumerate().for_each(fill);
            } else {
                col.chunks_mut(cols).enumerate().for_each(fill);
            }
        })
    }
}

/// The adjoint of [`im2col`]: sums every column entry back onto the pixel it came from.
/// `img` ends as that sum plus `bias[c]` in every pixel of channel `c`.
pub fn col2im(g: &Geometry, col: &[f32], bias: Option<&[f32]>, img: &mut [f32]) {
    assert_eq!(img.len(), g.img_len());
    assert_eq!(col.len(), g.col_rows() * g.col_cols());
    let cols = g.col_cols();
    let ph = Phases::of(g);
    let plane_out = g.out_h * g.out_w;
    let plane_len = g.img_h * g.img_w;
    let scatter = |(b, image): (usize, &mut [f32])| {
        let mut phased = vec![0.0f32; ph.plane()];
        for (c, plane) in image.chunks_exact_mut(plane_len).enumerate() {
            phased.fill(0.0);
            for ki in 0..g.kh {
                for kj in 0..g.kw {
                    let row = (c * g.kh + ki) * g.kw + kj;
                    let src = &col[row * cols + b * plane_out..][..plane_out];
                    let tap = ph.tap(ki * g.dilation[0], kj * g.dilation[1]);
                    for (line, dst) in src
                        .chunks_exact(g.out_w)
                        .zip(phased[tap..].chunks_mut(ph.q[1]))
                    {
                        add_line(dst, line);
                    }
                }
            }
            from_phases(g, &ph, &phased, bias.map_or(0.0, |bias| bias[c]), plane);
        }
    };
    let image_len = g.c_img * plane_len;
    if img.len() >= PARALLEL_MIN {
        img.par_chunks_mut(image_len).enumerate().for_each(scatter);
    } else {
        img.chunks_mut(image_len).enumerate().for_each(scatter);
    }
}

/// `[batch, c, s]` -> `[c, batch * s]`.
pub fn to_channel_major(x: &[f32], batch: usize, c: usize, s: usize) -> Vec<f32> {
    assert_eq!(x.len(), batch * c * s);
    // SAFETY: the (ch, b) blocks of length s tile the output.
    unsafe {
        written_by(x.len(), |out| {
            for b in 0..batch {
                for ch in 0..c {
                    copy_line(
                        &mut out[(ch * batch + b) * s..][..s],
                        &x[(b * c + ch) * s..][..s],
                    );
                }
            }
        })
    }
}

/// `[c, batch * s]` -> `[batch, c, s]`, adding `bias[c]` on the way.
pub fn to_batch_major(
    x: &[f32],
    batch: usize,
    c: usize,
    s: usize,
    bias: Option<&[f32]>,
) -> Vec<f32> {
    assert_eq!(x.len(), batch * c * s);
    // SAFETY: the (b, ch) blocks of length s tile the output.
    unsafe {
        written_by(x.len(), |out| {
            for b in 0..batch {
                for ch in 0..c {
                    let dst = &mut out[(b * c + ch) * s..][..s];
                    let src = &x[(ch * batch + b) * s..][..s];
                    match bias {
                        Some(bias) => {
                            let v = bias[ch];
                            for (d, x) in dst.iter_mut().zip(src) {
                                d.write(x + v);
                            }
                        }
                        None => copy_line(dst, src),
                    }
                }
            }
        })
    }
}

/// Per-channel sums of a channel-major `[c, n]` buffer (the bias gradient).
pub fn row_sums(x: &[f32], c: usize) -> Vec<f32> {
    if c == 0 {
        return Vec::new();
    }
    x.chunks(x.len() / c).map(|row| row.iter().sum()).collect()
}

/// Per-channel sums of a batch-major `[batch, c, s]` buffer.
pub fn channel_sums(x: &[f32], batch: usize, c: usize, s: usize) -> Vec<f32> {
    let mut sums = vec![0.0; c];
    for b in 0..batch {
        for (ch, sum) in sums.iter_mut().enumerate() {
            *sum += x[(b * c + ch) * s..][..s].iter().sum::<f32>();
        }
    }
    sums
}

/// Convolution forward: `y[b, o] = sum W[o, c] * x[b, c] + bias[o]`. Returns `y` and the
/// columns of `x` (the weight gradient needs them).
pub fn conv2d_forward(
    g: &Geometry,
    x: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
) -> (Vec<f32>, Vec<f32>) {
    let col = im2col(g, x);
    let y = weight_times_columns(g, w, &col, bias);
    (y, col)
}

/// `W [c_out, c_img*k*k] * col` in batch-major layout: the convolution of the columns.
fn weight_times_columns(g: &Geometry, w: &[f32], col: &[f32], bias: Option<&[f32]>) -> Vec<f32> {
    let (rows, cols) = (g.col_rows(), g.col_cols());
    let ycm = product(
        MatRef::rows(w, g.c_out, rows),
        MatRef::rows(col, rows, cols),
    );
    to_batch_major(&ycm, g.batch, g.c_out, g.out_h * g.out_w, bias)
}

/// `col2im(W^T * dy_cm)`: the convolution's input gradient, and the transposed
/// convolution's forward pass. `small_cm` is channel-major `[c_out, batch*out_h*out_w]`.
fn columns_to_image(g: &Geometry, w: &[f32], small_cm: &[f32], bias: Option<&[f32]>) -> Vec<f32> {
    let (rows, cols) = (g.col_rows(), g.col_cols());
    let col = product(
        MatRef::rows(w, g.c_out, rows).t(),
        MatRef::rows(small_cm, g.c_out, cols),
    );
    let mut img = vec![0.0; g.img_len()];
    col2im(g, &col, bias, &mut img);
    img
}

/// `small_cm [c_out, n] * col^T`: the weight gradient of either operation.
fn weight_gradient(g: &Geometry, small_cm: &[f32], col: &[f32]) -> Vec<f32> {
    let (rows, cols) = (g.col_rows(), g.col_cols());
    product(
        MatRef::rows(small_cm, g.c_out, cols),
        MatRef::rows(col, rows, cols).t(),
    )
}

/// Gradients of a convolution. `dy` is batch-major; `col` the forward's columns.
pub struct ConvGrads {
    pub x: Option<Vec<f32>>,
    pub weight: Option<Vec<f32>>,
    pub bias: Option<Vec<f32>>,
}

/// Which gradients a backward pass is asked for.
#[derive(Debug, Clone, Copy)]
pub struct Wanted {
    pub x: bool,
    pub weight: bool,
    pub bias: bool,
}

pub fn conv2d_backward(
    g: &Geometry,
    w: &[f32],
    col: &[f32],
    dy: &[f32],
    wanted: Wanted,
) -> ConvGrads {
    let dy_cm = to_channel_major(dy, g.batch, g.c_out, g.out_h * g.out_w);
    ConvGrads {
        x: wanted.x.then(|| columns_to_image(g, w, &dy_cm, None)),
        weight: wanted.weight.then(|| weight_gradient(g, &dy_cm, col)),
        bias: wanted.bias.then(|| row_sums(&dy_cm, g.c_out)),
    }
}

/// Transposed convolution forward: `x` is the small side `[batch, c_out, out_h, out_w]`,
/// the result the large side. Returns it and `x` channel-major (the weight gradient's
/// left factor).
pub fn conv_transpose2d_forward(
    g: &Geometry,
    x: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
) -> (Vec<f32>, Vec<f32>) {
    let x_cm = to_channel_major(x, g.batch, g.c_out, g.out_h * g.out_w);
    let y = columns_to_image(g, w, &x_cm, bias);
    (y, x_cm)
}

pub fn conv_transpose2d_backward(
    g: &Geometry,
    w: &[f32],
    x_cm: &[f32],
    dy: &[f32],
    wanted: Wanted,
) -> ConvGrads {
    let dcol = if wanted.x || wanted.weight {
        im2col(g, dy)
    } else {
        Vec::new()
    };
    ConvGrads {
        x: wanted.x.then(|| weight_times_columns(g, w, &dcol, None)),
        weight: wanted.weight.then(|| weight_gradient(g, x_cm, &dcol)),
        bias: wanted
            .bias
            .then(|| channel_sums(dy, g.batch, g.c_img, g.img_h * g.img_w)),
    }
}
