//! 2-D convolution and transposed convolution on NCHW f32 buffers, forward and backward,
//! as column transforms around dense products.
//!
//! Both operations share one geometry: a large image side (`img`: the convolution's input,
//! the transposed convolution's output) and a small side (`out`: the convolution's output,
//! the transposed convolution's input), with the weight `[c_out, c_img, kh, kw]` in
//! burn's layout for both (a transposed convolution's weight `[in, out, kh, kw]` is the
//! same array).
//!
//! A pass walks the batch in chunks of a few images ([`Split`]): a chunk's columns
//! `[c_img * kh * kw, images * out_h * out_w]` are built, multiplied and dropped while they
//! sit in the core's cache, and chunks run in parallel lanes. The weight gradient sums one
//! dense product per chunk.
//!
//! | operation | product per chunk |
//! |---|---|
//! | conv forward | `W * im2col(x)` |
//! | conv input gradient, transposed-conv forward | `col2im(W^T * dy)` |
//! | conv weight gradient | `dy * im2col(x)^T` |
//! | transposed-conv input gradient | `W * im2col(dy)` |
//! | transposed-conv weight gradient | `x * im2col(dy)^T` |

use super::gemm::{matmul_on_this_thread, product_on_this_thread, MatMut, MatRef};
use super::lines;
use rayon::prelude::*;
use std::mem::MaybeUninit;
use std::ops::Range;

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

/// Copies `src` into the first `src.len()` elements of `dst`.
#[inline(always)]
fn copy_line(dst: &mut [MaybeUninit<f32>], src: &[f32]) {
    lines::short_line(dst, src, |d, v| {
        d.write(v);
    });
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

/// Where the image pixels of one stride phase lie: `lines` of them from `image` in an
/// image plane, stored from `at` in the phase layout (phase plane included).
#[derive(Debug, Clone, Copy)]
struct PhaseBlock {
    image: usize,
    at: usize,
    lines: lines::Strided,
}

impl Phases {
    /// The blocks of every phase that holds image pixels (computed once per transform:
    /// the same for every plane).
    fn blocks(&self, g: &Geometry) -> Vec<PhaseBlock> {
        let rows = phase_runs(g.img_h, g.pad[0], self.s[0]);
        let cols = phase_runs(g.img_w, g.pad[1], self.s[1]);
        let mut blocks = Vec::new();
        for (ry, &(y0, qy0, ny)) in rows.iter().enumerate() {
            for (rx, &(x0, qx0, nx)) in cols.iter().enumerate() {
                if ny == 0 || nx == 0 {
                    continue;
                }
                let phase = (ry * self.s[1] + rx) * self.q[0] * self.q[1];
                blocks.push(PhaseBlock {
                    image: y0 * g.img_w + x0,
                    at: phase + qy0 * self.q[1] + qx0,
                    lines: lines::Strided {
                        rows: ny,
                        stride: self.s[0] * g.img_w,
                        n: nx,
                        step: self.s[1],
                    },
                });
            }
        }
        blocks
    }
}

/// Writes `img` into a phase buffer, plane by plane. The padding positions are never
/// written: `phased` must hold zeros there (it is zeroed once and reused, and every image
/// of a geometry fills the same positions).
fn to_phases(g: &Geometry, ph: &Phases, img: &[f32], phased: &mut [f32]) {
    let blocks = ph.blocks(g);
    for (src, dst) in img
        .chunks_exact(g.img_h * g.img_w)
        .zip(phased.chunks_exact_mut(ph.plane()))
    {
        for b in &blocks {
            lines::gather_every(&mut dst[b.at..], ph.q[1], &src[b.image..], b.lines);
        }
    }
}

/// The inverse of [`to_phases`] for one plane (`blocks` from [`Phases::blocks`]),
/// dropping the padding and adding `base`. Writes every pixel of `plane`.
fn from_phases(
    ph: &Phases,
    blocks: &[PhaseBlock],
    phased: &[f32],
    base: f32,
    plane: &mut [MaybeUninit<f32>],
) {
    for b in blocks {
        lines::scatter_every(
            &mut plane[b.image..],
            b.lines,
            &phased[b.at..],
            ph.q[1],
            base,
        );
    }
}

/// Scratch space for the chunks a thread transforms, kept per thread across passes: a
/// fresh buffer per pass cost page faults and zero fills (a tenth of a pass).
#[derive(Default)]
struct Scratch {
    phased: Vec<f32>,
    /// The phase layout `phased` was last filled for (image size, padding, stride): its
    /// padding positions hold zeros as long as the layout stays (see [`to_phases`]).
    phased_layout: Option<[usize; 6]>,
    /// One plane in phase layout, where col2im sums (its padding gets sums too, so it
    /// cannot share `phased`).
    sums: Vec<f32>,
    columns: Vec<f32>,
    channel_major: Vec<f32>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::default();
}

impl Scratch {
    /// Runs `f` with this thread's scratch, sized for chunks of up to `images` images of
    /// `g`. `f` must not reach rayon (a stolen job on this thread would find it borrowed).
    fn with<R>(g: &Geometry, images: usize, f: impl FnOnce(&mut Scratch) -> R) -> R {
        SCRATCH.with(|cell| {
            let mut s = cell.borrow_mut();
            s.fit(g, images);
            f(&mut s)
        })
    }

    fn fit(&mut self, g: &Geometry, images: usize) {
        let ph = Phases::of(g);
        let layout = [
            g.img_h,
            g.img_w,
            g.pad[0],
            g.pad[1],
            g.stride[0],
            g.stride[1],
        ];
        if self.phased_layout != Some(layout) {
            self.phased.clear();
            self.phased_layout = Some(layout);
        }
        let at_least = |v: &mut Vec<f32>, len: usize| {
            if v.len() < len {
                v.resize(len, 0.0);
            }
        };
        let small = images * g.out_h * g.out_w;
        at_least(&mut self.phased, images * g.c_img * ph.plane());
        at_least(&mut self.sums, ph.plane());
        at_least(&mut self.columns, g.col_rows() * small);
        at_least(&mut self.channel_major, g.c_out * small);
    }
}

/// Columns of `img` (`[batch, c_img, img_h, img_w]`) into `col` (`[c_img*kh*kw,
/// batch*out_h*out_w]`, fully written): row `(c, ki, kj)`, column `(b, oh, ow)` holds the
/// pixel the kernel tap `(ki, kj)` sees at output `(oh, ow)`, or 0 in the padding.
fn im2col_into(g: &Geometry, img: &[f32], phased: &mut [f32], col: &mut [f32]) {
    assert_eq!(img.len(), g.img_len());
    let ph = Phases::of(g);
    let phased = &mut phased[..g.batch * g.c_img * ph.plane()];
    to_phases(g, &ph, img, phased);
    let plane_out = g.out_h * g.out_w;
    for (row, dst) in col[..g.col_rows() * g.col_cols()]
        .chunks_exact_mut(g.col_cols())
        .enumerate()
    {
        let c = row / (g.kh * g.kw);
        let ki = (row / g.kw) % g.kh;
        let kj = row % g.kw;
        let tap = ph.tap(ki * g.dilation[0], kj * g.dilation[1]);
        for (b, dst) in dst.chunks_exact_mut(plane_out).enumerate() {
            let plane = &phased[(b * g.c_img + c) * ph.plane() + tap..];
            lines::copy_block(dst, plane, g.out_h, g.out_w, ph.q[1]);
        }
    }
}

/// The adjoint of [`im2col_into`]: sums every column entry back onto the pixel it came
/// from. `img` (fully written) ends as that sum plus `bias[c]` in every pixel of channel
/// `c`.
fn col2im_into(
    g: &Geometry,
    col: &[f32],
    bias: Option<&[f32]>,
    sums: &mut [f32],
    img: &mut [MaybeUninit<f32>],
) {
    assert_eq!(img.len(), g.img_len());
    let cols = g.col_cols();
    let ph = Phases::of(g);
    let phase_len = ph.q[0] * ph.q[1];
    let sums = &mut sums[..ph.plane()];
    let plane_out = g.out_h * g.out_w;
    let plane_len = g.img_h * g.img_w;
    // Each phase plane sums the taps that land in it, shifted by their offset there.
    let mut by_phase: Vec<Vec<(usize, usize, usize)>> = vec![Vec::new(); ph.s[0] * ph.s[1]];
    for ki in 0..g.kh {
        for kj in 0..g.kw {
            let (ty, tx) = (ki * g.dilation[0], kj * g.dilation[1]);
            by_phase[(ty % ph.s[0]) * ph.s[1] + tx % ph.s[1]].push((
                ki * g.kw + kj,
                ty / ph.s[0],
                tx / ph.s[1],
            ));
        }
    }
    let phase_blocks = ph.blocks(g);
    let mut blocks = Vec::with_capacity(g.kh * g.kw);
    for (b, image) in img.chunks_exact_mut(g.c_img * plane_len).enumerate() {
        for (c, plane) in image.chunks_exact_mut(plane_len).enumerate() {
            for (taps, phase) in by_phase.iter().zip(sums.chunks_exact_mut(phase_len)) {
                blocks.clear();
                blocks.extend(taps.iter().map(|&(tap, dy, dx)| lines::Shifted {
                    start: (c * g.kh * g.kw + tap) * cols + b * plane_out,
                    dy,
                    dx,
                }));
                lines::sum_shifted(phase, ph.q[0], ph.q[1], col, &blocks, g.out_h, g.out_w);
            }
            from_phases(
                &ph,
                &phase_blocks,
                sums,
                bias.map_or(0.0, |bias| bias[c]),
                plane,
            );
        }
    }
}

/// Columns of a whole batch (one thread; the column-transform timings of `matmul_probe`).
pub fn im2col(g: &Geometry, img: &[f32]) -> Vec<f32> {
    Scratch::with(g, g.batch, |s| {
        im2col_into(g, img, &mut s.phased, &mut s.columns);
        s.columns[..g.col_rows() * g.col_cols()].to_vec()
    })
}

/// [`im2col`]'s adjoint over a whole batch (one thread; `matmul_probe`).
pub fn col2im(g: &Geometry, col: &[f32], bias: Option<&[f32]>, img: &mut [f32]) {
    assert_eq!(col.len(), g.col_rows() * g.col_cols());
    let mut phased = vec![0.0; Phases::of(g).plane()];
    // SAFETY: `f32` and `MaybeUninit<f32>` share a layout, and `img` is initialised.
    let img = unsafe { &mut *(img as *mut [f32] as *mut [MaybeUninit<f32>]) };
    col2im_into(g, col, bias, &mut phased, img);
}

/// `[batch, c, s]` -> `[c, batch * s]`.
fn to_channel_major(x: &[f32], batch: usize, c: usize, s: usize, out: &mut [f32]) {
    assert_eq!(x.len(), batch * c * s);
    for b in 0..batch {
        for ch in 0..c {
            out[(ch * batch + b) * s..][..s].copy_from_slice(&x[(b * c + ch) * s..][..s]);
        }
    }
}

/// `[c, batch * s]` -> `[batch, c, s]` (fully written), adding `bias[c]` on the way.
fn to_batch_major(
    x: &[f32],
    batch: usize,
    c: usize,
    s: usize,
    bias: Option<&[f32]>,
    out: &mut [MaybeUninit<f32>],
) {
    assert_eq!(out.len(), batch * c * s);
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
}

/// Per-channel sums of a batch-major `[batch, c, s]` buffer (a bias gradient): each plane
/// in 16 f32 lanes, the planes added in f64, the channels over the pool when large. One
/// f32 chain ran at the adder's latency on one thread: 2 % of the conv VAE's two-thread
/// step, all of it on the first thread. The order of additions follows from the shape
/// alone, so the sums are the same on any number of threads.
fn channel_sums(x: &[f32], batch: usize, c: usize, s: usize) -> Vec<f32> {
    let channel = |ch: usize| {
        (0..batch)
            .map(|b| lane_sum(&x[(b * c + ch) * s..][..s]))
            .sum::<f64>() as f32
    };
    if x.len() >= PARALLEL_MIN {
        (0..c).into_par_iter().map(channel).collect()
    } else {
        (0..c).map(channel).collect()
    }
}

/// A plane's sum in 16 f32 lanes (the compiler vectorises them), then in f64.
fn lane_sum(v: &[f32]) -> f64 {
    const L: usize = 16;
    let mut lanes = [0.0f32; L];
    let chunks = v.chunks_exact(L);
    let rest: f64 = chunks.remainder().iter().map(|&x| x as f64).sum();
    for chunk in chunks {
        for i in 0..L {
            lanes[i] += chunk[i];
        }
    }
    rest + lanes.iter().map(|&x| x as f64).sum::<f64>()
}

/// Column elements a chunk of images aims at (256 KiB): its columns stay in the core's L2
/// cache (1 MiB on Zen 4, 2 MiB on recent Xeons) from the transform that writes them to
/// the product that reads them. Whole-batch columns (12.8 MB in the DCGAN) went out to
/// memory and back: the transforms were a fifth of its step.
const CHUNK_FLOATS: usize = 1 << 18;

/// Most lanes a pass is split into (see [`Split`]).
const LANES: usize = 8;

/// How a pass walks the batch: chunks of consecutive images whose columns fit in cache,
/// grouped into lanes that run in parallel, each taking its chunks in order. Both sizes
/// follow from the geometry alone, never from the thread count, so sums over chunks (the
/// weight gradient) come out the same on any number of threads.
#[derive(Debug, Clone, Copy)]
struct Split {
    /// Images per chunk.
    chunk: usize,
    /// Images per lane (a multiple of `chunk`).
    lane: usize,
}

impl Split {
    fn of(g: &Geometry) -> Self {
        let per_image = (g.col_rows() * g.out_h * g.out_w).max(1);
        // at least four chunks where the batch allows, so the threads share the work
        let chunk = (CHUNK_FLOATS / per_image).clamp(1, g.batch.div_ceil(4).max(1));
        let lane = g.batch.div_ceil(chunk).div_ceil(LANES) * chunk;
        Split { chunk, lane }
    }

    /// The chunks of a lane's images, as (first image, image count).
    fn chunks(self, lane: Range<usize>) -> impl Iterator<Item = (usize, usize)> {
        lane.clone()
            .step_by(self.chunk)
            .map(move |first| (first, self.chunk.min(lane.end - first)))
    }
}

/// Runs `pass(lane's images, their part of out)` for each lane of `g`'s batch, on the pool
/// when the pass is large, and returns the lanes' results in order. `out` is a batch-major
/// buffer with `per_image` floats per image, or None for a pass that writes none.
fn for_lanes<R: Send>(
    g: &Geometry,
    split: Split,
    out: Option<(&mut [MaybeUninit<f32>], usize)>,
    pass: impl Fn(Range<usize>, Option<&mut [MaybeUninit<f32>]>) -> R + Sync,
) -> Vec<R> {
    let lanes = g.batch.div_ceil(split.lane);
    let outs: Vec<Option<&mut [MaybeUninit<f32>]>> = match out {
        Some((buf, per_image)) => buf.chunks_mut(split.lane * per_image).map(Some).collect(),
        None => (0..lanes).map(|_| None).collect(),
    };
    let work = |(i, out): (usize, Option<&mut [MaybeUninit<f32>]>)| {
        pass(i * split.lane..((i + 1) * split.lane).min(g.batch), out)
    };
    if g.col_rows() * g.col_cols() >= PARALLEL_MIN {
        outs.into_par_iter().enumerate().map(work).collect()
    } else {
        outs.into_iter().enumerate().map(work).collect()
    }
}

/// `g` for `images` images.
fn with_batch(g: &Geometry, images: usize) -> Geometry {
    Geometry {
        batch: images,
        ..*g
    }
}

/// What a pass does with one chunk (see [`pass`]).
type ChunkFn<'a> = dyn Fn(
        &Geometry,
        Range<usize>,
        Option<&mut [MaybeUninit<f32>]>,
        &mut Scratch,
        &mut Option<Vec<f32>>,
    ) + Sync
    + 'a;

/// One pass over the batch: `chunk(geometry of the chunk, its images, its part of the
/// output, scratch, weight-gradient partial)` for every chunk, the lanes in parallel when
/// the pass is large. The output is batch-major with `per_image` floats per image (0: the
/// pass writes none) and every chunk must write all of its part. Returns the output and
/// the lanes' weight-gradient partials summed in lane order.
fn pass(g: &Geometry, per_image: usize, chunk: &ChunkFn) -> (Option<Vec<f32>>, Option<Vec<f32>>) {
    let split = Split::of(g);
    let lane = |images: Range<usize>, mut out: Option<&mut [MaybeUninit<f32>]>| {
        let mut dw = None;
        Scratch::with(g, split.chunk, |s| {
            for (first, n) in split.chunks(images.clone()) {
                let at = (first - images.start) * per_image;
                let part = out.as_deref_mut().map(|o| &mut o[at..][..n * per_image]);
                chunk(&with_batch(g, n), first..first + n, part, s, &mut dw);
            }
        });
        dw
    };
    if per_image == 0 {
        return (None, sum_partials(for_lanes(g, split, None, lane)));
    }
    let mut dw = None;
    // SAFETY: the lanes tile the output, each lane's chunks tile the lane, and every chunk
    // writes all of its part (the contract above).
    let out = unsafe {
        written_by(g.batch * per_image, |o| {
            dw = sum_partials(for_lanes(g, split, Some((o, per_image)), lane));
        })
    };
    (Some(out), dw)
}

/// Adds the lanes' partial weight gradients, in lane order.
fn sum_partials(partials: Vec<Option<Vec<f32>>>) -> Option<Vec<f32>> {
    let mut partials = partials.into_iter().flatten();
    let mut sum = partials.next()?;
    for p in partials {
        for (s, v) in sum.iter_mut().zip(&p) {
            *s += v;
        }
    }
    Some(sum)
}

/// `dw += small_cm [c_out, n] * col^T` (`dw` starts as the first chunk's product): one
/// chunk's share of either operation's weight gradient.
fn add_weight_gradient(g: &Geometry, dw: &mut Option<Vec<f32>>, small_cm: &[f32], col: &[f32]) {
    let (rows, cols) = (g.col_rows(), g.col_cols());
    let lhs = MatRef::rows(&small_cm[..g.c_out * cols], g.c_out, cols);
    let rhs = MatRef::rows(&col[..rows * cols], rows, cols).t();
    match dw {
        Some(dw) => matmul_on_this_thread(MatMut::rows(dw, g.c_out, rows), lhs, rhs, true),
        None => *dw = Some(product_on_this_thread(lhs, rhs)),
    }
}

/// `out = W * im2col(img) + bias`, batch-major: the convolution of one chunk (the
/// transposed convolution's input gradient when `img` is its output gradient).
fn convolve_chunk(
    g: &Geometry,
    img: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    s: &mut Scratch,
    out: &mut [MaybeUninit<f32>],
) {
    let (rows, cols) = (g.col_rows(), g.col_cols());
    im2col_into(g, img, &mut s.phased, &mut s.columns);
    let y_cm = &mut s.channel_major[..g.c_out * cols];
    matmul_on_this_thread(
        MatMut::rows(y_cm, g.c_out, cols),
        MatRef::rows(w, g.c_out, rows),
        MatRef::rows(&s.columns[..rows * cols], rows, cols),
        false,
    );
    to_batch_major(y_cm, g.batch, g.c_out, g.out_h * g.out_w, bias, out);
}

/// `out = col2im(W^T * small_cm) + bias`: the transposed convolution of one chunk (the
/// convolution's input gradient when `small_cm` is its output gradient).
fn deconvolve_chunk(
    g: &Geometry,
    small_cm: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    s: &mut Scratch,
    out: &mut [MaybeUninit<f32>],
) {
    let (rows, cols) = (g.col_rows(), g.col_cols());
    let col = &mut s.columns[..rows * cols];
    matmul_on_this_thread(
        MatMut::rows(col, rows, cols),
        MatRef::rows(w, g.c_out, rows).t(),
        MatRef::rows(&small_cm[..g.c_out * cols], g.c_out, cols),
        false,
    );
    col2im_into(g, col, bias, &mut s.sums, out);
}

/// Convolution forward: `y[b, o] = sum W[o, c] * x[b, c] + bias[o]`, chunk by chunk.
pub fn conv2d_forward(g: &Geometry, x: &[f32], w: &[f32], bias: Option<&[f32]>) -> Vec<f32> {
    assert_eq!(x.len(), g.img_len());
    let (img, small) = (g.img_len() / g.batch, g.out_len() / g.batch);
    let (y, _) = pass(g, small, &|gc, images, y, s, _| {
        let x = &x[images.start * img..][..images.len() * img];
        // writes its whole part (a batch-major copy)
        convolve_chunk(gc, x, w, bias, s, y.expect("an output"));
    });
    y.expect("an output")
}

/// Gradients of a convolution. `dy` is batch-major.
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

/// The convolution's backward pass, chunk by chunk: each chunk's output gradient is made
/// channel-major once, its input's columns are rebuilt in cache for the weight gradient
/// (cheaper than keeping the whole batch's from the forward pass), and its input gradient
/// is the transposed convolution of the output gradient.
pub fn conv2d_backward(
    g: &Geometry,
    w: &[f32],
    x: &[f32],
    dy: &[f32],
    wanted: Wanted,
) -> ConvGrads {
    assert_eq!((x.len(), dy.len()), (g.img_len(), g.out_len()));
    let (img, small) = (g.img_len() / g.batch, g.out_len() / g.batch);
    let per_image = if wanted.x { img } else { 0 };
    let (x_grad, weight) = pass(g, per_image, &|gc, images, dx, s, dw| {
        let n = images.len();
        let mut dy_cm = std::mem::take(&mut s.channel_major);
        let dys = &dy[images.start * small..][..n * small];
        to_channel_major(dys, n, g.c_out, g.out_h * g.out_w, &mut dy_cm);
        if wanted.weight {
            let xs = &x[images.start * img..][..n * img];
            im2col_into(gc, xs, &mut s.phased, &mut s.columns);
            add_weight_gradient(gc, dw, &dy_cm, &s.columns);
        }
        if let Some(dx) = dx {
            // writes its whole part (col2im sets every pixel)
            deconvolve_chunk(gc, &dy_cm, w, None, s, dx);
        }
        s.channel_major = dy_cm;
    });
    ConvGrads {
        x: x_grad,
        weight,
        bias: wanted
            .bias
            .then(|| channel_sums(dy, g.batch, g.c_out, g.out_h * g.out_w)),
    }
}

/// Transposed convolution forward: `x` is the small side `[batch, c_out, out_h, out_w]`,
/// the result the large side, chunk by chunk.
pub fn conv_transpose2d_forward(
    g: &Geometry,
    x: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
) -> Vec<f32> {
    assert_eq!(x.len(), g.out_len());
    let (img, small) = (g.img_len() / g.batch, g.out_len() / g.batch);
    let (y, _) = pass(g, img, &|gc, images, y, s, _| {
        let n = images.len();
        let mut x_cm = std::mem::take(&mut s.channel_major);
        let xs = &x[images.start * small..][..n * small];
        to_channel_major(xs, n, g.c_out, g.out_h * g.out_w, &mut x_cm);
        // writes its whole part (col2im sets every pixel)
        deconvolve_chunk(gc, &x_cm, w, bias, s, y.expect("an output"));
        s.channel_major = x_cm;
    });
    y.expect("an output")
}

/// The transposed convolution's backward pass, chunk by chunk: the columns of each
/// chunk's output gradient serve both its input gradient (a convolution) and its share of
/// the weight gradient.
pub fn conv_transpose2d_backward(
    g: &Geometry,
    w: &[f32],
    x: &[f32],
    dy: &[f32],
    wanted: Wanted,
) -> ConvGrads {
    assert_eq!((x.len(), dy.len()), (g.out_len(), g.img_len()));
    let (img, small) = (g.img_len() / g.batch, g.out_len() / g.batch);
    let per_image = if wanted.x { small } else { 0 };
    let (x_grad, weight) = pass(g, per_image, &|gc, images, dx, s, dw| {
        let n = images.len();
        let dys = &dy[images.start * img..][..n * img];
        match dx {
            // writes its whole part (a batch-major copy), and leaves the chunk's columns
            // in the scratch for the weight gradient
            Some(dx) => convolve_chunk(gc, dys, w, None, s, dx),
            None => im2col_into(gc, dys, &mut s.phased, &mut s.columns),
        }
        if wanted.weight {
            // the convolution is done with the channel-major buffer: it holds x's now
            let mut x_cm = std::mem::take(&mut s.channel_major);
            let xs = &x[images.start * small..][..n * small];
            to_channel_major(xs, n, g.c_out, g.out_h * g.out_w, &mut x_cm);
            add_weight_gradient(gc, dw, &x_cm, &s.columns);
            s.channel_major = x_cm;
        }
    });
    ConvGrads {
        x: x_grad,
        weight,
        bias: wanted
            .bias
            .then(|| channel_sums(dy, g.batch, g.c_img, g.img_h * g.img_w)),
    }
}
