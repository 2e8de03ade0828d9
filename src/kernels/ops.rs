//! Tensor-level entry points: GenLab's CPU convolution kernels as burn operations with
//! their own backward pass, on burn-flex tensors (with or without autodiff).
//!
//! Anything else (the GPU, grouped convolutions, other float types) goes to burn's own
//! operation, so callers can use these everywhere.

use super::conv::{self, ConvGrads, Geometry, Wanted};
use super::elementwise;
use super::gemm::{matmul, product, MatMut, MatRef};
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, NodeGuard, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::TensorMetadata;
use burn::backend::{Autodiff, Flex};
use burn::prelude::*;
use burn::tensor::ops::{ConvOptions, ConvTransposeOptions};
use burn::tensor::{DType, TensorData};
use rayon::prelude::*;
use std::borrow::Cow;

/// Below this many elements an element-wise pass runs on one thread.
const PARALLEL_MIN: usize = 1 << 15;

type Ad = Autodiff<Flex>;

/// `burn::tensor::module::conv2d`, on GenLab's kernels where they apply.
pub fn conv2d(
    x: Tensor<4>,
    weight: Tensor<4>,
    bias: Option<Tensor<1>>,
    options: ConvOptions<2>,
) -> Tensor<4> {
    let geometry = conv_geometry(&x.dims(), &weight.dims(), &options);
    match geometry.filter(|_| options.groups == 1 && all_f32(&x, &weight, &bias)) {
        Some(g) => run(Op::Conv, g, x, weight, bias),
        None => burn::tensor::module::conv2d(x, weight, bias, options),
    }
}

/// `burn::tensor::module::conv_transpose2d`, on GenLab's kernels where they apply.
pub fn conv_transpose2d(
    x: Tensor<4>,
    weight: Tensor<4>,
    bias: Option<Tensor<1>>,
    options: ConvTransposeOptions<2>,
) -> Tensor<4> {
    let geometry = conv_transpose_geometry(&x.dims(), &weight.dims(), &options);
    match geometry.filter(|_| options.groups == 1 && all_f32(&x, &weight, &bias)) {
        Some(g) => run(Op::Transpose, g, x, weight, bias),
        None => burn::tensor::module::conv_transpose2d(x, weight, bias, options),
    }
}

fn all_f32(x: &Tensor<4>, w: &Tensor<4>, b: &Option<Tensor<1>>) -> bool {
    x.dtype() == DType::F32
        && w.dtype() == DType::F32
        && b.as_ref().is_none_or(|b| b.dtype() == DType::F32)
}

pub fn conv_geometry(x: &[usize; 4], w: &[usize; 4], o: &ConvOptions<2>) -> Option<Geometry> {
    let [batch, c_img, img_h, img_w] = *x;
    let [c_out, c_in, kh, kw] = *w;
    if c_in != c_img || kh == 0 || kw == 0 || o.stride.contains(&0) || o.dilation.contains(&0) {
        return None;
    }
    // Symmetric padding only (burn takes the asymmetric case).
    if o.is_asymmetric() {
        return None;
    }
    let pad = o.padding_begin();
    let g = Geometry {
        batch,
        c_img,
        img_h,
        img_w,
        c_out,
        out_h: Geometry::conv_out(img_h, kh, o.stride[0], pad[0], o.dilation[0])?,
        out_w: Geometry::conv_out(img_w, kw, o.stride[1], pad[1], o.dilation[1])?,
        kh,
        kw,
        stride: o.stride,
        pad,
        dilation: o.dilation,
    };
    (!g.is_empty()).then_some(g)
}

pub fn conv_transpose_geometry(
    x: &[usize; 4],
    w: &[usize; 4],
    o: &ConvTransposeOptions<2>,
) -> Option<Geometry> {
    let [batch, c_small, h, wd] = *x;
    let [c_in, c_big, kh, kw] = *w;
    if c_in != c_small
        || kh == 0
        || kw == 0
        || h == 0
        || wd == 0
        || o.stride.contains(&0)
        || o.dilation.contains(&0)
    {
        return None;
    }
    let (s, p, d, op) = (o.stride, o.padding, o.dilation, o.padding_out);
    let g = Geometry {
        batch,
        c_img: c_big,
        img_h: Geometry::conv_transpose_out(h, kh, s[0], p[0], d[0], op[0])?,
        img_w: Geometry::conv_transpose_out(wd, kw, s[1], p[1], d[1], op[1])?,
        c_out: c_small,
        out_h: h,
        out_w: wd,
        kh,
        kw,
        stride: s,
        pad: p,
        dilation: d,
    };
    // The small side must be exactly what a convolution of the large one gives back
    // (an output padding of at least the stride breaks that; burn handles such cases).
    let back_h = Geometry::conv_out(g.img_h, kh, s[0], p[0], d[0])?;
    let back_w = Geometry::conv_out(g.img_w, kw, s[1], p[1], d[1])?;
    (back_h == h && back_w == wd && !g.is_empty()).then_some(g)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Conv,
    Transpose,
}

impl Op {
    fn output_shape(self, g: &Geometry) -> [usize; 4] {
        match self {
            Op::Conv => [g.batch, g.c_out, g.out_h, g.out_w],
            Op::Transpose => [g.batch, g.c_img, g.img_h, g.img_w],
        }
    }

    fn forward(self, g: &Geometry, x: &[f32], w: &[f32], bias: Option<&[f32]>) -> Vec<f32> {
        match self {
            Op::Conv => conv::conv2d_forward(g, x, w, bias),
            Op::Transpose => conv::conv_transpose2d_forward(g, x, w, bias),
        }
    }

    fn backward(self, g: &Geometry, w: &[f32], x: &[f32], dy: &[f32], wanted: Wanted) -> ConvGrads {
        match self {
            Op::Conv => conv::conv2d_backward(g, w, x, dy, wanted),
            Op::Transpose => conv::conv_transpose2d_backward(g, w, x, dy, wanted),
        }
    }
}

/// Runs `op` on the flex backend, with autodiff when the tensors carry it; else burn's op.
fn run(op: Op, g: Geometry, x: Tensor<4>, w: Tensor<4>, b: Option<Tensor<1>>) -> Tensor<4> {
    if let Some(inputs) = LayerInputs::of(&x, &w, &b) {
        return inputs.run(ConvBackward, |x, w, b| {
            let bias = b.map(floats);
            let y = op.forward(&g, &floats(x), &floats(w), bias.as_deref());
            let state = SavedConv {
                op,
                g,
                input: x.clone(),
                weight: w.clone(),
            };
            (flex(y, op.output_shape(&g)), state)
        });
    }
    // Mixed or other backends (the GPU): burn's own operation.
    match op {
        Op::Conv => {
            burn::tensor::module::conv2d(x, w, b, ConvOptions::new(g.stride, g.pad, g.dilation, 1))
        }
        Op::Transpose => {
            let out_pad = [
                g.img_h
                    - Geometry::conv_transpose_out(
                        g.out_h,
                        g.kh,
                        g.stride[0],
                        g.pad[0],
                        g.dilation[0],
                        0,
                    )
                    .unwrap_or(g.img_h),
                g.img_w
                    - Geometry::conv_transpose_out(
                        g.out_w,
                        g.kw,
                        g.stride[1],
                        g.pad[1],
                        g.dilation[1],
                        0,
                    )
                    .unwrap_or(g.img_w),
            ];
            burn::tensor::module::conv_transpose2d(
                x,
                w,
                b,
                ConvTransposeOptions::new(g.stride, g.pad, out_pad, g.dilation, 1),
            )
        }
    }
}

/// The contiguous f32 contents of a flex tensor (borrowed when already laid out so).
fn floats(t: &FlexTensor) -> Cow<'_, [f32]> {
    match t.as_slice::<f32>() {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(
            t.to_contiguous()
                .as_slice::<f32>()
                .expect("contiguous")
                .to_vec(),
        ),
    }
}

fn flex(values: Vec<f32>, shape: impl Into<burn::tensor::Shape>) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape.into()))
}

/// What the backward pass keeps from the forward one.
#[derive(Debug, Clone)]
struct SavedConv {
    op: Op,
    g: Geometry,
    /// The layer's input: the weight gradient's other factor (its columns are rebuilt in
    /// cache chunk by chunk, cheaper than keeping the whole batch's).
    input: FlexTensor,
    weight: FlexTensor,
}

#[derive(Debug)]
struct ConvBackward;

impl<const N: usize> Backward<Flex, N> for ConvBackward {
    type State = SavedConv;

    fn backward(self, ops: Ops<SavedConv, N>, grads: &mut Gradients, _: &mut Checkpointer) {
        let dy = grads.consume::<Flex>(&ops.node);
        let s = ops.state;
        let parent = |i: usize| ops.parents.get(i).and_then(|p| p.as_ref());
        let wanted = Wanted {
            x: parent(0).is_some(),
            weight: parent(1).is_some(),
            bias: parent(2).is_some(),
        };
        let d = s.op.backward(
            &s.g,
            &floats(&s.weight),
            &floats(&s.input),
            &floats(&dy),
            wanted,
        );
        let input_shape = match s.op {
            Op::Conv => [s.g.batch, s.g.c_img, s.g.img_h, s.g.img_w],
            Op::Transpose => [s.g.batch, s.g.c_out, s.g.out_h, s.g.out_w],
        };
        if let (Some(node), Some(dx)) = (parent(0), d.x) {
            grads.register::<Flex>(node.id, flex(dx, input_shape));
        }
        if let (Some(node), Some(dw)) = (parent(1), d.weight) {
            grads.register::<Flex>(node.id, flex(dw, s.weight.shape()));
        }
        if let (Some(node), Some(db)) = (parent(2), d.bias) {
            let len = db.len();
            grads.register::<Flex>(node.id, flex(db, [len]));
        }
    }
}

/// A layer's input, weight and optional bias as flex primitives: all plain, or all under
/// autodiff. Anything else (the GPU, a mix) is `None`, for burn's own op.
enum LayerInputs {
    Plain(FlexTensor, FlexTensor, Option<FlexTensor>),
    Tracked(FloatTensor<Ad>, FloatTensor<Ad>, Option<FloatTensor<Ad>>),
}

impl LayerInputs {
    fn of<const D: usize, const E: usize>(
        x: &Tensor<D>,
        w: &Tensor<E>,
        b: &Option<Tensor<1>>,
    ) -> Option<Self> {
        let plain = (
            x.clone().try_into_primitive::<Flex>(),
            w.clone().try_into_primitive::<Flex>(),
            b.clone()
                .map(|b| b.try_into_primitive::<Flex>())
                .transpose(),
        );
        if let (Ok(x), Ok(w), Ok(b)) = plain {
            return Some(LayerInputs::Plain(x, w, b));
        }
        let tracked = (
            x.clone().try_into_primitive::<Ad>(),
            w.clone().try_into_primitive::<Ad>(),
            b.clone().map(|b| b.try_into_primitive::<Ad>()).transpose(),
        );
        match tracked {
            (Ok(x), Ok(w), Ok(b)) => Some(LayerInputs::Tracked(x, w, b)),
            _ => None,
        }
    }

    /// `forward` gives the output and what `backward` needs; under autodiff `backward` is
    /// recorded over the input, the weight and the bias when there is one.
    fn run<const D: usize, BO, S>(
        self,
        backward: BO,
        forward: impl FnOnce(&FlexTensor, &FlexTensor, Option<&FlexTensor>) -> (FlexTensor, S),
    ) -> Tensor<D>
    where
        BO: Backward<Flex, 2, State = S> + Backward<Flex, 3, State = S>,
        S: Clone + Send + std::fmt::Debug + 'static,
    {
        match self {
            LayerInputs::Plain(x, w, b) => {
                Tensor::from_primitive::<Flex>(forward(&x, &w, b.as_ref()).0)
            }
            LayerInputs::Tracked(x, w, b) => {
                let (xp, xn) = x.into_parts();
                let (wp, wn) = w.into_parts();
                let out = match b {
                    Some(b) => {
                        let (bp, bn) = b.into_parts();
                        let (y, state) = forward(&xp, &wp, Some(&bp));
                        record(backward, [xn, wn, bn], y, || state)
                    }
                    None => {
                        let (y, state) = forward(&xp, &wp, None);
                        record(backward, [xn, wn], y, || state)
                    }
                };
                Tensor::from_primitive::<Ad>(out)
            }
        }
    }
}

/// Gives `output` its place in the autodiff graph: `backward` is recorded with the
/// state `state` builds when any input needs a gradient.
fn record<BO, S, const N: usize>(
    backward: BO,
    nodes: [NodeGuard; N],
    output: FlexTensor,
    state: impl FnOnce() -> S,
) -> FloatTensor<Ad>
where
    BO: Backward<Flex, N, State = S>,
    S: Clone + Send + std::fmt::Debug + 'static,
{
    match backward
        .prepare::<NoCheckpointing>(nodes)
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => prep.finish(state(), output),
        OpsKind::UnTracked(prep) => prep.finish(output),
    }
}

/// `x * weight + bias` for `x [n, d_in]`, `weight [d_in, d_out]` (burn's `Linear` layout),
/// on GenLab's matrix products where they apply, else burn's `matmul`.
pub fn linear(x: Tensor<2>, weight: Tensor<2>, bias: Option<Tensor<1>>) -> Tensor<2> {
    let [n, d_in] = x.dims();
    let [w_in, d_out] = weight.dims();
    let f32s = x.dtype() == DType::F32
        && weight.dtype() == DType::F32
        && bias
            .as_ref()
            .is_none_or(|b| b.dtype() == DType::F32 && b.dims() == [d_out]);
    if f32s && d_in == w_in {
        if let Some(inputs) = LayerInputs::of(&x, &weight, &bias) {
            let dense = Dense { n, d_in, d_out };
            return inputs.run(DenseBackward, |x, w, b| {
                let bias = b.map(floats);
                let y = dense.forward(&floats(x), &floats(w), bias.as_deref());
                let state = SavedDense {
                    dense,
                    x: x.clone(),
                    weight: w.clone(),
                };
                (flex(y, [n, d_out]), state)
            });
        }
    }
    let y = x.matmul(weight);
    match bias {
        Some(b) => y + b.unsqueeze(),
        None => y,
    }
}

/// Sizes of one dense layer.
#[derive(Debug, Clone, Copy)]
struct Dense {
    n: usize,
    d_in: usize,
    d_out: usize,
}

impl Dense {
    fn forward(&self, x: &[f32], w: &[f32], bias: Option<&[f32]>) -> Vec<f32> {
        let mut y = vec![0.0; self.n * self.d_out];
        if let Some(bias) = bias {
            for row in y.chunks_mut(self.d_out) {
                row.copy_from_slice(bias);
            }
        }
        matmul(
            MatMut::rows(&mut y, self.n, self.d_out),
            MatRef::rows(x, self.n, self.d_in),
            MatRef::rows(w, self.d_in, self.d_out),
            bias.is_some(),
        );
        y
    }
}

#[derive(Debug, Clone)]
struct SavedDense {
    dense: Dense,
    x: FlexTensor,
    weight: FlexTensor,
}

#[derive(Debug)]
struct DenseBackward;

impl<const N: usize> Backward<Flex, N> for DenseBackward {
    type State = SavedDense;

    fn backward(self, ops: Ops<SavedDense, N>, grads: &mut Gradients, _: &mut Checkpointer) {
        let dy = grads.consume::<Flex>(&ops.node);
        let dy = floats(&dy);
        let SavedDense {
            dense: Dense { n, d_in, d_out },
            x,
            weight,
        } = ops.state;
        let parent = |i: usize| ops.parents.get(i).and_then(|p| p.as_ref());
        let dy_m = MatRef::rows(&dy, n, d_out);
        if let Some(node) = parent(0) {
            let w = floats(&weight);
            let dx = product(dy_m, MatRef::rows(&w, d_in, d_out).t());
            grads.register::<Flex>(node.id, flex(dx, [n, d_in]));
        }
        if let Some(node) = parent(1) {
            let x = floats(&x);
            let dw = product(MatRef::rows(&x, n, d_in).t(), dy_m);
            grads.register::<Flex>(node.id, flex(dw, [d_in, d_out]));
        }
        if let Some(node) = parent(2) {
            let mut db = vec![0.0f32; d_out];
            for row in dy.chunks(d_out) {
                for (s, v) in db.iter_mut().zip(row) {
                    *s += v;
                }
            }
            grads.register::<Flex>(node.id, flex(db, [d_out]));
        }
    }
}

/// `sum(softplus(l) - l * x)` over every element: binary cross-entropy with logits `l`
/// against targets `x`, as a `[1]` tensor. On the CPU one vectorised pass forward and
/// one backward (`sigmoid(l) - x`); elsewhere burn's `log_sigmoid`.
pub fn bce_with_logits_sum(logits: Tensor<2>, targets: Tensor<2>) -> Tensor<1> {
    let fits = logits.dims() == targets.dims()
        && logits.dtype() == DType::F32
        && targets.dtype() == DType::F32;
    if fits {
        if let (Ok(l), Ok(x)) = (
            logits.clone().try_into_primitive::<Flex>(),
            targets.clone().try_into_primitive::<Flex>(),
        ) {
            let sum = elementwise::bce_logits_sum(&floats(&l), &floats(&x));
            return Tensor::from_primitive::<Flex>(flex(vec![sum], [1]));
        }
        if let (Ok(la), Ok(xa)) = (
            logits.clone().try_into_primitive::<Ad>(),
            targets.clone().try_into_primitive::<Ad>(),
        ) {
            let (lp, ln) = la.into_parts();
            let (xp, xn) = xa.into_parts();
            let sum = elementwise::bce_logits_sum(&floats(&lp), &floats(&xp));
            let state = || SavedBce {
                logits: lp,
                targets: xp,
            };
            let out = record(BceBackward, [ln, xn], flex(vec![sum], [1]), state);
            return Tensor::from_primitive::<Ad>(out);
        }
    }
    // softplus(l) = -log_sigmoid(-l)
    let softplus = burn::tensor::activation::log_sigmoid(logits.clone().neg())
        .sum()
        .neg();
    softplus - (logits * targets).sum()
}

#[derive(Debug, Clone)]
struct SavedBce {
    logits: FlexTensor,
    targets: FlexTensor,
}

#[derive(Debug)]
struct BceBackward;

impl Backward<Flex, 2> for BceBackward {
    type State = SavedBce;

    fn backward(self, ops: Ops<SavedBce, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let upstream = grads.consume::<Flex>(&ops.node);
        let scale = floats(&upstream)[0];
        let SavedBce { logits, targets } = ops.state;
        let shape = logits.shape();
        let (l, x) = (floats(&logits), floats(&targets));
        let [node_l, node_x] = ops.parents;
        if let Some(node) = node_l {
            grads.register::<Flex>(
                node.id,
                flex(elementwise::bce_logits_grad(&l, &x, scale), shape.clone()),
            );
        }
        if let Some(node) = node_x {
            // d/dx of -l * x
            let dx: Vec<f32> = l.iter().map(|v| -scale * v).collect();
            grads.register::<Flex>(node.id, flex(dx, shape));
        }
    }
}

/// Leaky ReLU, `x` where `x >= 0` and `slope * x` below, as one pass each way on the CPU
/// (burn's composite took four tensor passes forward and as many backward); elsewhere
/// `x + (1 - slope) relu(-x)`.
pub fn leaky_relu<const D: usize>(x: Tensor<D>, slope: f32) -> Tensor<D> {
    if x.dtype() == DType::F32 {
        if let Ok(xp) = x.clone().try_into_primitive::<Flex>() {
            let y = leaky_forward(&floats(&xp), slope);
            return Tensor::from_primitive::<Flex>(flex(y, xp.shape()));
        }
        if let Ok(xa) = x.clone().try_into_primitive::<Ad>() {
            let (xp, xn) = xa.into_parts();
            let y = flex(leaky_forward(&floats(&xp), slope), xp.shape());
            let out = record(LeakyBackward, [xn], y, || SavedLeaky { x: xp, slope });
            return Tensor::from_primitive::<Ad>(out);
        }
    }
    x.clone() + burn::tensor::activation::relu(x.neg()).mul_scalar(1.0 - slope)
}

fn leaky_forward(x: &[f32], slope: f32) -> Vec<f32> {
    elementwise_map(x, x, move |v, _| if v >= 0.0 { v } else { slope * v })
}

/// `f(a[i], b[i])` for every element, split over the pool in fixed blocks when large.
fn elementwise_map(a: &[f32], b: &[f32], f: impl Fn(f32, f32) -> f32 + Sync) -> Vec<f32> {
    assert_eq!(a.len(), b.len());
    let mut out = vec![0.0; a.len()];
    let block = |((o, a), b): ((&mut [f32], &[f32]), &[f32])| {
        for ((o, &a), &b) in o.iter_mut().zip(a).zip(b) {
            *o = f(a, b);
        }
    };
    if a.len() >= PARALLEL_MIN {
        out.par_chunks_mut(PARALLEL_MIN)
            .zip(a.par_chunks(PARALLEL_MIN))
            .zip(b.par_chunks(PARALLEL_MIN))
            .for_each(block);
    } else {
        block(((&mut out[..], a), b));
    }
    out
}

#[derive(Debug, Clone)]
struct SavedLeaky {
    x: FlexTensor,
    slope: f32,
}

#[derive(Debug)]
struct LeakyBackward;

impl Backward<Flex, 1> for LeakyBackward {
    type State = SavedLeaky;

    fn backward(self, ops: Ops<SavedLeaky, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let SavedLeaky { x, slope } = ops.state.clone();
        elementwise_backward(
            ops,
            grads,
            &x,
            move |x, g| {
                if x >= 0.0 {
                    g
                } else {
                    slope * g
                }
            },
        );
    }
}

/// The input gradient of a one-input element-wise op: `f(saved[i], dy[i])` for every
/// element, where `saved` is the input or output the op kept.
fn elementwise_backward<S>(
    ops: Ops<S, 1>,
    grads: &mut Gradients,
    saved: &FlexTensor,
    f: impl Fn(f32, f32) -> f32 + Sync,
) {
    let dy = grads.consume::<Flex>(&ops.node);
    let [node] = ops.parents;
    let Some(node) = node else { return };
    let dx = elementwise_map(&floats(saved), &floats(&dy), f);
    grads.register::<Flex>(node.id, flex(dx, saved.shape()));
}

/// tanh, as one pass each way on the CPU (burn-flex's forward is libm's scalar `tanhf`
/// on one thread, its backward three tensor passes); burn's own elsewhere.
pub fn tanh<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    if x.dtype() == DType::F32 {
        if let Ok(xp) = x.clone().try_into_primitive::<Flex>() {
            let y = elementwise::tanh_all(&floats(&xp));
            return Tensor::from_primitive::<Flex>(flex(y, xp.shape()));
        }
        if let Ok(xa) = x.clone().try_into_primitive::<Ad>() {
            let (xp, xn) = xa.into_parts();
            let y = flex(elementwise::tanh_all(&floats(&xp)), xp.shape());
            let out = record(TanhBackward, [xn], y.clone(), || SavedTanh { y });
            return Tensor::from_primitive::<Ad>(out);
        }
    }
    burn::tensor::activation::tanh(x)
}

#[derive(Debug, Clone)]
struct SavedTanh {
    y: FlexTensor,
}

#[derive(Debug)]
struct TanhBackward;

impl Backward<Flex, 1> for TanhBackward {
    type State = SavedTanh;

    fn backward(self, ops: Ops<SavedTanh, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let y = ops.state.y.clone();
        elementwise_backward(ops, grads, &y, |y, g| g * (1.0 - y * y));
    }
}

/// `norm.forward(x)`, with the training-mode normalisation as one GenLab op on the CPU:
/// statistics in two passes (mean, then centred variance, in f64), output in one, and
/// the gradients in two (burn's composite
/// `batch_norm_train` and its backward were 12 % of a DCGAN step, reshape copies
/// included). The running statistics are updated as burn's `BatchNorm` does.
pub fn batch_norm<const D: usize>(norm: &burn::nn::BatchNorm, x: Tensor<D>) -> Tensor<D> {
    let device = x.device();
    if !(device.is_autodiff() && norm.training.is_enabled()) || x.dtype() != DType::F32 {
        return norm.forward(x);
    }
    let dims = x.dims();
    let (gamma, beta) = (norm.gamma.val(), norm.beta.val());
    let parts = (
        x.clone().try_into_primitive::<Ad>(),
        gamma.clone().try_into_primitive::<Ad>(),
        beta.clone().try_into_primitive::<Ad>(),
    );
    let (Ok(xa), Ok(ga), Ok(ba)) = parts else {
        return norm.forward(x);
    };
    let channels = dims[1];
    if D < 2 || ga.shape().dims::<1>() != [channels] || ba.shape().dims::<1>() != [channels] {
        return norm.forward(x);
    }
    let shape = BnShape {
        batch: dims[0],
        channels,
        inner: dims[2..].iter().product(),
    };
    let (xp, xn) = xa.into_parts();
    let (gp, gn) = ga.into_parts();
    let (bp, bn) = ba.into_parts();
    let (xs, gs, bs) = (floats(&xp), floats(&gp), floats(&bp));
    let stats = shape.statistics(&xs, norm.epsilon);
    let y = flex(shape.normalise(&xs, &stats, &gs, &bs), xp.shape());
    let state = || SavedNorm {
        shape,
        x: xp.clone(),
        gamma: gp.clone(),
        stats: stats.clone(),
    };
    let out = record(NormBackward, [xn, gn, bn], y, state);
    // The running statistics, exactly as burn's BatchNorm::forward_train updates them.
    let column = |v: Vec<f32>| Tensor::<1>::from_data(TensorData::new(v, [channels]), &device);
    let momentum = norm.momentum;
    let running_mean = norm.running_mean.value_sync().to_device(&device);
    let running_var = norm.running_var.value_sync().to_device(&device);
    let running_mean = running_mean
        .mul_scalar(1.0 - momentum)
        .add(column(stats.mean.clone()).mul_scalar(momentum));
    let running_var = running_var
        .mul_scalar(1.0 - momentum)
        .add(column(stats.variance.clone()).mul_scalar(momentum));
    norm.running_mean.update(running_mean.detach());
    norm.running_var.update(running_var.detach());
    Tensor::from_primitive::<Ad>(out)
}

/// `[batch, channels, inner]` view of a batch-norm input.
/// Two sums over a run, `f(a[i], b[i])` summed as `(first, second)`: in 16 f32 lanes
/// (the compiler vectorises them; one f64 chain per element ran at the adder's latency,
/// about four cycles an element), then added up in f64. Runs are an image plane at most
/// (784 values in the models), where f32 partial sums lose nothing that matters.
#[inline]
fn lane_sums2(a: &[f32], b: &[f32], f: impl Fn(f32, f32) -> (f32, f32)) -> (f64, f64) {
    const L: usize = 16;
    let (mut s1, mut s2) = ([0.0f32; L], [0.0f32; L]);
    let (ac, bc) = (a.chunks_exact(L), b.chunks_exact(L));
    let (ar, br) = (ac.remainder(), bc.remainder());
    for (a, b) in ac.zip(bc) {
        for i in 0..L {
            let (u, v) = f(a[i], b[i]);
            s1[i] += u;
            s2[i] += v;
        }
    }
    let (mut t1, mut t2) = (0.0f64, 0.0f64);
    for (&a, &b) in ar.iter().zip(br) {
        let (u, v) = f(a, b);
        t1 += u as f64;
        t2 += v as f64;
    }
    (
        t1 + s1.iter().map(|&v| v as f64).sum::<f64>(),
        t2 + s2.iter().map(|&v| v as f64).sum::<f64>(),
    )
}

#[derive(Debug, Clone, Copy)]
struct BnShape {
    batch: usize,
    channels: usize,
    inner: usize,
}

/// Per-channel batch statistics (biased variance, as burn's).
#[derive(Debug, Clone)]
struct BnStats {
    mean: Vec<f32>,
    variance: Vec<f32>,
    inv_std: Vec<f32>,
}

impl BnShape {
    fn count(&self) -> f64 {
        (self.batch * self.inner) as f64
    }

    /// The elements of channel `c`, one run of `inner` per sample.
    fn runs<'a>(&self, x: &'a [f32], c: usize) -> impl Iterator<Item = &'a [f32]> + 'a {
        let (channels, inner) = (self.channels, self.inner);
        (0..self.batch).map(move |b| &x[(b * channels + c) * inner..][..inner])
    }

    fn statistics(&self, x: &[f32], epsilon: f64) -> BnStats {
        let channel = |c: usize| {
            let m = self
                .runs(x, c)
                .map(|r| lane_sums2(r, r, |v, _| (v, 0.0)).0)
                .sum::<f64>()
                / self.count();
            let mf = m as f32;
            // squares around the mean rounded to f32: off by (m - mf)^2, far below f32's
            // resolution of the variance
            let v = self
                .runs(x, c)
                .map(|r| lane_sums2(r, r, |v, _| (0.0, (v - mf) * (v - mf))).1)
                .sum::<f64>()
                / self.count();
            (m as f32, v as f32)
        };
        let (mean, variance): (Vec<f32>, Vec<f32>) = if x.len() >= PARALLEL_MIN {
            (0..self.channels).into_par_iter().map(channel).unzip()
        } else {
            (0..self.channels).map(channel).unzip()
        };
        let inv_std = variance
            .iter()
            .map(|&v| 1.0 / (v as f64 + epsilon).sqrt() as f32)
            .collect();
        BnStats {
            mean,
            variance,
            inv_std,
        }
    }

    fn normalise(&self, x: &[f32], s: &BnStats, gamma: &[f32], beta: &[f32]) -> Vec<f32> {
        let mut y = vec![0.0; x.len()];
        let sample = |(xb, yb): (&[f32], &mut [f32])| {
            for c in 0..self.channels {
                let scale = gamma[c] * s.inv_std[c];
                let shift = beta[c] - s.mean[c] * scale;
                let (xr, yr) = (
                    &xb[c * self.inner..][..self.inner],
                    &mut yb[c * self.inner..][..self.inner],
                );
                for (y, &x) in yr.iter_mut().zip(xr) {
                    *y = x * scale + shift;
                }
            }
        };
        let block = self.channels * self.inner;
        if x.len() >= PARALLEL_MIN {
            x.par_chunks(block)
                .zip(y.par_chunks_mut(block))
                .for_each(sample);
        } else {
            x.chunks(block).zip(y.chunks_mut(block)).for_each(sample);
        }
        y
    }
}

#[derive(Debug, Clone)]
struct SavedNorm {
    shape: BnShape,
    x: FlexTensor,
    gamma: FlexTensor,
    stats: BnStats,
}

#[derive(Debug)]
struct NormBackward;

impl Backward<Flex, 3> for NormBackward {
    type State = SavedNorm;

    fn backward(self, ops: Ops<SavedNorm, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let dy = grads.consume::<Flex>(&ops.node);
        let SavedNorm {
            shape,
            x,
            gamma,
            stats,
        } = ops.state;
        let (dy, xs, gs) = (floats(&dy), floats(&x), floats(&gamma));
        let n = shape.count();
        // dbeta = sum dy, dgamma = sum dy * xhat, per channel
        let channel = |c: usize| {
            let (m, inv) = (stats.mean[c], stats.inv_std[c] as f64);
            let (mut sb, mut sg) = (0.0f64, 0.0f64);
            for (xr, gr) in shape.runs(&xs, c).zip(shape.runs(&dy, c)) {
                let (b, g) = lane_sums2(gr, xr, |g, x| (g, g * (x - m)));
                sb += b;
                sg += g * inv;
            }
            (sb as f32, sg as f32)
        };
        let large = xs.len() >= PARALLEL_MIN;
        let (dbeta, dgamma): (Vec<f32>, Vec<f32>) = if large {
            (0..shape.channels).into_par_iter().map(channel).unzip()
        } else {
            (0..shape.channels).map(channel).unzip()
        };
        let [node_x, node_gamma, node_beta] = ops.parents;
        if let Some(node) = node_x {
            // dx = gamma * inv_std / n * (n dy - dbeta - xhat dgamma)
            let mut dx = vec![0.0f32; xs.len()];
            let sample = |((xb, gb), db): ((&[f32], &[f32]), &mut [f32])| {
                for c in 0..shape.channels {
                    let inv = stats.inv_std[c];
                    let k = gs[c] * inv / n as f32;
                    let (m, sb, sg) = (stats.mean[c], dbeta[c], dgamma[c]);
                    let r = c * shape.inner..(c + 1) * shape.inner;
                    for ((d, &x), &g) in db[r.clone()].iter_mut().zip(&xb[r.clone()]).zip(&gb[r]) {
                        let xhat = (x - m) * inv;
                        *d = k * (n as f32 * g - sb - xhat * sg);
                    }
                }
            };
            let block = shape.channels * shape.inner;
            if large {
                xs.par_chunks(block)
                    .zip(dy.par_chunks(block))
                    .zip(dx.par_chunks_mut(block))
                    .for_each(sample);
            } else {
                xs.chunks(block)
                    .zip(dy.chunks(block))
                    .zip(dx.chunks_mut(block))
                    .for_each(sample);
            }
            grads.register::<Flex>(node.id, flex(dx, x.shape()));
        }
        if let Some(node) = node_gamma {
            grads.register::<Flex>(node.id, flex(dgamma, [shape.channels]));
        }
        if let Some(node) = node_beta {
            grads.register::<Flex>(node.id, flex(dbeta, [shape.channels]));
        }
    }
}
