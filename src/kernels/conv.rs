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

use super::gemm::{matmul, MatMut, MatRef};
use rayon::prelude::*;

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
    /// Output size of a convolution over `img` (None when the kernel does not fit).
    pub fn conv_out(img: usize, k: usize, stride: usize, pad: usize, dilation: usize) -> Option<usize> {
        let span = dilation * (k - 1) + 1;
        (img + 2 * pad).checked_sub(span).map(|d| d / stride + 1)
    }

    /// Output size of a transposed convolution of `small`.
    pub fn conv_transpose_out(small: usize, k: usize, stride: usize, pad: usize, dilation: usize, out_pad: usize) -> Option<usize> {
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

    /// The output positions `o` along one axis whose input `o * stride + offset - pad`
    /// falls inside `0..len`: `start..end`.
    fn valid(&self, axis: usize, out_len: usize, in_len: usize, offset: usize) -> (usize, usize) {
        let (s, p) = (self.stride[axis], self.pad[axis]);
        // o * s + offset >= p  <=>  o >= ceil((p - offset) / s)
        let start = if offset >= p { 0 } else { (p - offset).div_ceil(s) };
        // o * s + offset - p < in_len  <=>  o < ceil((in_len + p - offset) / s)
        let end = if in_len + p > offset { (in_len + p - offset).div_ceil(s) } else { 0 };
        (start.min(out_len), end.min(out_len).max(start.min(out_len)))
    }
}

/// Below this many elements a transform runs on one thread.
const PARALLEL_MIN: usize = 1 << 15;

/// Columns of `img` (`[batch, c_img, img_h, img_w]`): row `(c, ki, kj)`, column
/// `(b, oh, ow)` holds the pixel the kernel tap `(ki, kj)` sees at output `(oh, ow)`, or 0
/// in the padding.
pub fn im2col(g: &Geometry, img: &[f32], col: &mut [f32]) {
    assert_eq!(img.len(), g.img_len());
    assert_eq!(col.len(), g.col_rows() * g.col_cols());
    let cols = g.col_cols();
    let fill = |(row, dst): (usize, &mut [f32])| {
        let c = row / (g.kh * g.kw);
        let ki = (row / g.kw) % g.kh;
        let kj = row % g.kw;
        let (oh0, oh1) = g.valid(0, g.out_h, g.img_h, ki * g.dilation[0]);
        let (ow0, ow1) = g.valid(1, g.out_w, g.img_w, kj * g.dilation[1]);
        let sw = g.stride[1];
        for b in 0..g.batch {
            let plane = &img[(b * g.c_img + c) * g.img_h * g.img_w..][..g.img_h * g.img_w];
            let dst = &mut dst[b * g.out_h * g.out_w..][..g.out_h * g.out_w];
            for oh in 0..g.out_h {
                let line = &mut dst[oh * g.out_w..][..g.out_w];
                if oh < oh0 || oh >= oh1 {
                    line.fill(0.0);
                    continue;
                }
                let ih = oh * g.stride[0] + ki * g.dilation[0] - g.pad[0];
                let src = &plane[ih * g.img_w..][..g.img_w];
                line[..ow0].fill(0.0);
                line[ow1..].fill(0.0);
                if ow1 > ow0 {
                    let iw0 = ow0 * sw + kj * g.dilation[1] - g.pad[1];
                    if sw == 1 {
                        line[ow0..ow1].copy_from_slice(&src[iw0..iw0 + (ow1 - ow0)]);
                    } else {
                        for (o, v) in line[ow0..ow1].iter_mut().enumerate() {
                            *v = src[iw0 + o * sw];
                        }
                    }
                }
            }
        }
    };
    if col.len() >= PARALLEL_MIN {
        col.par_chunks_mut(cols).enumerate().for_each(fill);
    } else {
        col.chunks_mut(cols).enumerate().for_each(fill);
    }
}

/// The adjoint of [`im2col`]: sums every column entry back onto the pixel it came from.
/// `img` starts as `bias[c]` in every pixel of channel `c` (zero without a bias).
pub fn col2im(g: &Geometry, col: &[f32], bias: Option<&[f32]>, img: &mut [f32]) {
    assert_eq!(img.len(), g.img_len());
    assert_eq!(col.len(), g.col_rows() * g.col_cols());
    let cols = g.col_cols();
    let plane_len = g.img_h * g.img_w;
    let sw = g.stride[1];
    let scatter = |(b, image): (usize, &mut [f32])| {
        for c in 0..g.c_img {
            let plane = &mut image[c * plane_len..][..plane_len];
            plane.fill(bias.map_or(0.0, |bias| bias[c]));
            for ki in 0..g.kh {
                let (oh0, oh1) = g.valid(0, g.out_h, g.img_h, ki * g.dilation[0]);
                for kj in 0..g.kw {
                    let row = (c * g.kh + ki) * g.kw + kj;
                    let src = &col[row * cols + b * g.out_h * g.out_w..][..g.out_h * g.out_w];
                    let (ow0, ow1) = g.valid(1, g.out_w, g.img_w, kj * g.dilation[1]);
                    if ow1 <= ow0 {
                        continue;
                    }
                    for oh in oh0..oh1 {
                        let ih = oh * g.stride[0] + ki * g.dilation[0] - g.pad[0];
                        let dst = &mut plane[ih * g.img_w..][..g.img_w];
                        let line = &src[oh * g.out_w + ow0..oh * g.out_w + ow1];
                        let iw0 = ow0 * sw + kj * g.dilation[1] - g.pad[1];
                        if sw == 1 {
                            for (d, v) in dst[iw0..iw0 + line.len()].iter_mut().zip(line) {
                                *d += v;
                            }
                        } else {
                            for (o, v) in line.iter().enumerate() {
                                dst[iw0 + o * sw] += v;
                            }
                        }
                    }
                }
            }
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
    let mut out = vec![0.0; x.len()];
    for b in 0..batch {
        for ch in 0..c {
            out[(ch * batch + b) * s..][..s].copy_from_slice(&x[(b * c + ch) * s..][..s]);
        }
    }
    out
}

/// `[c, batch * s]` -> `[batch, c, s]`, adding `bias[c]` on the way.
pub fn to_batch_major(x: &[f32], batch: usize, c: usize, s: usize, bias: Option<&[f32]>) -> Vec<f32> {
    let mut out = vec![0.0; x.len()];
    for b in 0..batch {
        for ch in 0..c {
            let dst = &mut out[(b * c + ch) * s..][..s];
            let src = &x[(ch * batch + b) * s..][..s];
            match bias {
                Some(bias) => {
                    let v = bias[ch];
                    for (d, x) in dst.iter_mut().zip(src) {
                        *d = x + v;
                    }
                }
                None => dst.copy_from_slice(src),
            }
        }
    }
    out
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
pub fn conv2d_forward(g: &Geometry, x: &[f32], w: &[f32], bias: Option<&[f32]>) -> (Vec<f32>, Vec<f32>) {
    let mut col = vec![0.0; g.col_rows() * g.col_cols()];
    im2col(g, x, &mut col);
    let y = weight_times_columns(g, w, &col, bias);
    (y, col)
}

/// `W [c_out, c_img*k*k] * col` in batch-major layout: the convolution of the columns.
fn weight_times_columns(g: &Geometry, w: &[f32], col: &[f32], bias: Option<&[f32]>) -> Vec<f32> {
    let (rows, cols) = (g.col_rows(), g.col_cols());
    let mut ycm = vec![0.0; g.c_out * cols];
    matmul(
        MatMut::rows(&mut ycm, g.c_out, cols),
        MatRef::rows(w, g.c_out, rows),
        MatRef::rows(col, rows, cols),
        false,
    );
    to_batch_major(&ycm, g.batch, g.c_out, g.out_h * g.out_w, bias)
}

/// `col2im(W^T * dy_cm)`: the convolution's input gradient, and the transposed
/// convolution's forward pass. `small_cm` is channel-major `[c_out, batch*out_h*out_w]`.
fn columns_to_image(g: &Geometry, w: &[f32], small_cm: &[f32], bias: Option<&[f32]>) -> Vec<f32> {
    let (rows, cols) = (g.col_rows(), g.col_cols());
    let mut col = vec![0.0; rows * cols];
    matmul(
        MatMut::rows(&mut col, rows, cols),
        MatRef::rows(w, g.c_out, rows).t(),
        MatRef::rows(small_cm, g.c_out, cols),
        false,
    );
    let mut img = vec![0.0; g.img_len()];
    col2im(g, &col, bias, &mut img);
    img
}

/// `small_cm [c_out, n] * col^T`: the weight gradient of either operation.
fn weight_gradient(g: &Geometry, small_cm: &[f32], col: &[f32]) -> Vec<f32> {
    let (rows, cols) = (g.col_rows(), g.col_cols());
    let mut dw = vec![0.0; g.weight_len()];
    matmul(
        MatMut::rows(&mut dw, g.c_out, rows),
        MatRef::rows(small_cm, g.c_out, cols),
        MatRef::rows(col, rows, cols).t(),
        false,
    );
    dw
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

pub fn conv2d_backward(g: &Geometry, w: &[f32], col: &[f32], dy: &[f32], wanted: Wanted) -> ConvGrads {
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
pub fn conv_transpose2d_forward(g: &Geometry, x: &[f32], w: &[f32], bias: Option<&[f32]>) -> (Vec<f32>, Vec<f32>) {
    let x_cm = to_channel_major(x, g.batch, g.c_out, g.out_h * g.out_w);
    let y = columns_to_image(g, w, &x_cm, bias);
    (y, x_cm)
}

pub fn conv_transpose2d_backward(g: &Geometry, w: &[f32], x_cm: &[f32], dy: &[f32], wanted: Wanted) -> ConvGrads {
    let mut dcol = Vec::new();
    if wanted.x || wanted.weight {
        dcol = vec![0.0; g.col_rows() * g.col_cols()];
        im2col(g, dy, &mut dcol);
    }
    ConvGrads {
        x: wanted.x.then(|| weight_times_columns(g, w, &dcol, None)),
        weight: wanted.weight.then(|| weight_gradient(g, x_cm, &dcol)),
        bias: wanted.bias.then(|| channel_sums(dy, g.batch, g.c_img, g.img_h * g.img_w)),
    }
}
