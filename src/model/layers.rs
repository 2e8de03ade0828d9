//! Building blocks: activations, dense layers with optional spectral norm, MLP and conv stacks.

use super::spectral::PowerIteration;
use super::ConvPlan;
use crate::config::Activation;
use crate::kernels::ops::{conv2d, conv_transpose2d, linear};
use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::activation;
use burn::tensor::ops::{ConvOptions, ConvTransposeOptions};

pub fn activate<const D: usize>(x: Tensor<D>, act: Activation) -> Tensor<D> {
    match act {
        Activation::Relu => activation::relu(x),
        // One pass each way on the CPU: burn's leaky_relu has no fused gradient, and its
        // fallback (compare, mask_where, and their backward) cost 8 % of a DCGAN step.
        Activation::LeakyRelu => crate::kernels::ops::leaky_relu(x, 0.2),
        Activation::Tanh => crate::kernels::ops::tanh(x),
        Activation::Elu => {
            // elu(x) = x for x > 0, exp(x) - 1 otherwise
            let neg = x.clone().clamp_max(0.0).exp().sub_scalar(1.0);
            activation::relu(x) + neg
        }
    }
}

/// A linear layer whose weight may be spectrally normalised.
#[derive(Module, Debug)]
pub struct Dense {
    pub linear: Linear,
    #[module(skip)]
    spectral: Option<PowerIteration>,
}

impl Dense {
    pub fn power_iteration(&self) -> Option<PowerIteration> {
        self.spectral.clone()
    }

    pub fn new(d_in: usize, d_out: usize, bias: bool, spectral: bool, device: &Device) -> Self {
        Dense {
            linear: LinearConfig::new(d_in, d_out).with_bias(bias).init(device),
            spectral: spectral.then(PowerIteration::default),
        }
    }

    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        match &self.spectral {
            None => linear(
                x,
                self.linear.weight.val(),
                self.linear.bias.as_ref().map(|b| b.val()),
            ),
            Some(pi) => {
                // burn stores the weight as [d_in, d_out]; sigma is the same for W and W^T.
                let w = pi.normalise(self.linear.weight.val());
                linear(x, w, self.linear.bias.as_ref().map(|b| b.val()))
            }
        }
    }
}

/// Fully connected stack: hidden layers with activation (and batch norm), then a linear output.
#[derive(Module, Debug)]
pub struct Mlp {
    hidden: Vec<Dense>,
    norms: Vec<BatchNorm>,
    output: Dense,
    #[module(skip)]
    act: Activation,
}

impl Mlp {
    /// Handles on the spectral-norm state of every layer, in order (empty without it).
    pub fn power_iterations(&self) -> Vec<PowerIteration> {
        self.hidden
            .iter()
            .chain(std::iter::once(&self.output))
            .filter_map(Dense::power_iteration)
            .collect()
    }

    pub fn new(
        d_in: usize,
        widths: &[usize],
        d_out: usize,
        act: Activation,
        batch_norm: bool,
        spectral: bool,
        device: &Device,
    ) -> Self {
        let mut hidden = Vec::new();
        let mut norms = Vec::new();
        let mut prev = d_in;
        for &w in widths {
            hidden.push(Dense::new(prev, w, !batch_norm, spectral, device));
            if batch_norm {
                norms.push(BatchNormConfig::new(w).init(device));
            }
            prev = w;
        }
        Mlp {
            hidden,
            norms,
            output: Dense::new(prev, d_out, true, spectral, device),
            act,
        }
    }

    pub fn forward(&self, mut x: Tensor<2>) -> Tensor<2> {
        for (i, layer) in self.hidden.iter().enumerate() {
            x = layer.forward(x);
            if let Some(norm) = self.norms.get(i) {
                x = crate::kernels::ops::batch_norm(norm, x);
            }
            x = activate(x, self.act);
        }
        self.output.forward(x)
    }
}

/// A strided convolution that divides the sides by its stride (4x4 stride 2 for images,
/// 25 taps stride 4 for audio), optionally spectrally normalised.
#[derive(Module, Debug)]
pub struct DownConv {
    conv: Conv2d,
    #[module(skip)]
    spectral: Option<PowerIteration>,
    #[module(skip)]
    stride: [usize; 2],
    #[module(skip)]
    padding: [usize; 2],
}

impl DownConv {
    fn new(
        plan: &ConvPlan,
        c_in: usize,
        c_out: usize,
        bias: bool,
        spectral: bool,
        device: &Device,
    ) -> Self {
        let [ph, pw] = plan.padding;
        DownConv {
            conv: Conv2dConfig::new([c_in, c_out], plan.kernel)
                .with_stride(plan.stride)
                .with_padding(PaddingConfig2d::Explicit(ph, pw, ph, pw))
                .with_bias(bias)
                .init(device),
            spectral: spectral.then(PowerIteration::default),
            stride: plan.stride,
            padding: plan.padding,
        }
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let w = self.conv.weight.val();
        let w = match &self.spectral {
            None => w,
            Some(pi) => {
                let dims = w.dims();
                pi.normalise(w.reshape([dims[0], dims[1] * dims[2] * dims[3]]))
                    .reshape(dims)
            }
        };
        let bias = self.conv.bias.as_ref().map(|b| b.val());
        conv2d(
            x,
            w,
            bias,
            ConvOptions::new(self.stride, self.padding, [1, 1], 1),
        )
    }
}

/// Sample -> features: strided convolutions, then a linear head (discriminator, encoder).
#[derive(Module, Debug)]
pub struct ConvDown {
    convs: Vec<DownConv>,
    norms: Vec<Option<BatchNorm>>,
    head: Dense,
    #[module(skip)]
    act: Activation,
    /// Whether the head also sees the minibatch standard deviation.
    #[module(skip)]
    batch_std: bool,
}

impl ConvDown {
    /// Handles on the spectral-norm state of every layer, in order (empty without it).
    pub fn power_iterations(&self) -> Vec<PowerIteration> {
        self.convs
            .iter()
            .filter_map(|c| c.spectral.clone())
            .chain(self.head.power_iteration())
            .collect()
    }

    #[allow(clippy::too_many_arguments)]
    pub fn new(
        plan: &ConvPlan,
        channels: &[usize],
        d_out: usize,
        act: Activation,
        batch_norm: bool,
        spectral: bool,
        device: &Device,
    ) -> Self {
        let mut convs = Vec::new();
        let mut norms = Vec::new();
        let mut prev = plan.channels;
        for (i, &c) in channels.iter().enumerate() {
            // As in DCGAN, the first layer sees raw pixels and gets no batch norm.
            let bn = batch_norm && i > 0;
            convs.push(DownConv::new(plan, prev, c, !bn, spectral, device));
            norms.push(bn.then(|| BatchNormConfig::new(c).init(device)));
            prev = c;
        }
        let [h, w] = plan.sides_after(channels.len());
        ConvDown {
            convs,
            norms,
            head: Dense::new(prev * h * w, d_out, true, spectral, device),
            act,
            batch_std: false,
        }
    }

    pub fn layers(&self) -> usize {
        self.convs.len()
    }

    /// The same stack whose head also sees the minibatch standard deviation (one more input).
    pub fn with_batch_std(mut self, spectral: bool, device: &Device) -> Self {
        let [d_in, d_out] = self.head.linear.weight.dims();
        self.head = Dense::new(d_in + 1, d_out, true, spectral, device);
        self.batch_std = true;
        self
    }

    /// `x`: `[batch, C, H, W]` -> `[batch, d_out]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        self.forward_shifted(x, &[])
    }

    /// As `forward`, with layer `i`'s output shifted along the width by `shifts[i]`
    /// (WaveGAN's phase shuffle; layers past the end of `shifts` are not shifted).
    pub fn forward_shifted(&self, mut x: Tensor<4>, shifts: &[isize]) -> Tensor<2> {
        for (i, (conv, norm)) in self.convs.iter().zip(&self.norms).enumerate() {
            x = conv.forward(x);
            if let Some(norm) = norm {
                x = crate::kernels::ops::batch_norm(norm, x);
            }
            x = activate(x, self.act);
            if let Some(&shift) = shifts.get(i) {
                x = shift_width(x, shift);
            }
        }
        let features: Tensor<2> = x.flatten(1, 3);
        if !self.batch_std {
            return self.head.forward(features);
        }
        self.head.forward(with_batch_spread(features))
    }
}

/// ProGAN's minibatch standard deviation: each feature's spread over the batch, averaged
/// to one number that every sample gets as an extra input column.
pub fn with_batch_spread(features: Tensor<2>) -> Tensor<2> {
    let [batch, _] = features.dims();
    let centred = features.clone() - features.clone().mean_dim(0);
    let spread = centred
        .powi_scalar(2)
        .mean_dim(0)
        .add_scalar(1e-8)
        .sqrt()
        .mean()
        .reshape([1, 1])
        .repeat_dim(0, batch);
    Tensor::cat(vec![features, spread], 1)
}

/// `x` moved `shift` samples along its last axis (right when positive), the gap filled by
/// reflecting the edge, as WaveGAN's phase shuffle does.
pub fn shift_width(x: Tensor<4>, shift: isize) -> Tensor<4> {
    let [b, c, h, w] = x.dims();
    let n = shift.unsigned_abs().min(w.saturating_sub(1));
    if n == 0 {
        return x;
    }
    let part = |from: usize, to: usize| x.clone().slice([0..b, 0..c, 0..h, from..to]);
    if shift > 0 {
        Tensor::cat(vec![part(1, n + 1).flip([3]), part(0, w - n)], 3)
    } else {
        Tensor::cat(vec![part(n, w), part(w - 1 - n, w - 1).flip([3])], 3)
    }
}

/// Vector -> sample: a linear projection to a small feature map, then strided transposed
/// convolutions that grow it by their stride (generator, decoder). Output has no activation.
#[derive(Module, Debug)]
pub struct ConvUp {
    project: Linear,
    project_norm: Option<BatchNorm>,
    deconvs: Vec<ConvTranspose2d>,
    norms: Vec<Option<BatchNorm>>,
    #[module(skip)]
    act: Activation,
    /// Channels and sides of the projected feature map.
    #[module(skip)]
    base: [usize; 3],
    #[module(skip)]
    options: [[usize; 2]; 3],
}

impl ConvUp {
    pub fn new(
        d_in: usize,
        channels: &[usize],
        plan: &ConvPlan,
        act: Activation,
        batch_norm: bool,
        device: &Device,
    ) -> Self {
        let [h, w] = plan.sides_after(channels.len());
        let (c0, outs) = up_channels(channels, plan.channels);
        let mut deconvs = Vec::new();
        let mut norms = Vec::new();
        let mut prev = c0;
        for (i, &c) in outs.iter().enumerate() {
            let last = i + 1 == outs.len();
            let bn = batch_norm && !last;
            deconvs.push(
                ConvTranspose2dConfig::new([prev, c], plan.kernel)
                    .with_stride(plan.stride)
                    .with_padding(plan.padding)
                    .with_padding_out(plan.out_padding)
                    .with_bias(!bn)
                    .init(device),
            );
            norms.push(bn.then(|| BatchNormConfig::new(c).init(device)));
            prev = c;
        }
        let (project, project_norm) = projection(d_in, [c0, h, w], batch_norm, device);
        ConvUp {
            project,
            project_norm,
            deconvs,
            norms,
            act,
            base: [c0, h, w],
            options: [plan.stride, plan.padding, plan.out_padding],
        }
    }

    /// `z`: `[batch, d_in]` -> `[batch, C, H, W]` (pre-activation output)
    pub fn forward(&self, z: Tensor<2>) -> Tensor<4> {
        let [stride, padding, out_padding] = self.options;
        let mut x = project(&self.project, &self.project_norm, self.base, self.act, z);
        let last = self.deconvs.len().saturating_sub(1);
        for (i, (deconv, norm)) in self.deconvs.iter().zip(&self.norms).enumerate() {
            x = conv_transpose2d(
                x,
                deconv.weight.val(),
                deconv.bias.as_ref().map(|b| b.val()),
                ConvTransposeOptions::new(stride, padding, out_padding, [1, 1], 1),
            );
            if let Some(norm) = norm {
                x = crate::kernels::ops::batch_norm(norm, x);
            }
            if i < last {
                x = activate(x, self.act);
            }
        }
        x
    }
}

/// The dense layer (and its batch norm) that starts an up stack: `d_in` values to a
/// `[c0, h, w]` feature map.
fn projection(
    d_in: usize,
    [c0, h, w]: [usize; 3],
    batch_norm: bool,
    device: &Device,
) -> (Linear, Option<BatchNorm>) {
    (
        LinearConfig::new(d_in, c0 * h * w)
            .with_bias(!batch_norm)
            .init(device),
        batch_norm.then(|| BatchNormConfig::new(c0).init(device)),
    )
}

/// An up stack's projected channels, and each layer's output channels (the data's last).
fn up_channels(channels: &[usize], out: usize) -> (usize, Vec<usize>) {
    let c0 = channels.first().copied().unwrap_or(out);
    let outs = channels.iter().skip(1).copied().chain([out]).collect();
    (c0, outs)
}

/// A generator's or decoder's conv stack, as the data's plan asks: transposed
/// convolutions (images) or resize-convolutions (audio).
pub enum UpStack {
    Transposed(ConvUp),
    Resize(ResizeUp),
}

impl UpStack {
    pub fn new(
        d_in: usize,
        channels: &[usize],
        plan: &ConvPlan,
        act: Activation,
        batch_norm: bool,
        device: &Device,
    ) -> UpStack {
        match plan.resize_kernel {
            None => UpStack::Transposed(ConvUp::new(d_in, channels, plan, act, batch_norm, device)),
            Some(kernel) => UpStack::Resize(ResizeUp::new(
                d_in, channels, plan, kernel, act, batch_norm, device,
            )),
        }
    }
}

/// The dense projection that starts a generator: `[batch, d_in]` -> the activated
/// `[batch, C, H, W]` feature map of side `base`.
fn project(
    layer: &Linear,
    norm: &Option<BatchNorm>,
    [c0, h, w]: [usize; 3],
    act: Activation,
    z: Tensor<2>,
) -> Tensor<4> {
    let [batch, _] = z.dims();
    let projected = linear(z, layer.weight.val(), layer.bias.as_ref().map(|b| b.val()));
    let mut x: Tensor<4> = projected.reshape([batch, c0, h, w]);
    if let Some(norm) = norm {
        x = crate::kernels::ops::batch_norm(norm, x);
    }
    activate(x, act)
}

/// Vector -> sample like `ConvUp`, but each layer repeats every sample `stride` times along
/// the width and then convolves with stride 1 ("resize-convolution"): 1-D audio
/// generators and decoders, where transposed convolutions start from a stride-periodic hum.
#[derive(Module, Debug)]
pub struct ResizeUp {
    project: Linear,
    project_norm: Option<BatchNorm>,
    convs: Vec<Conv2d>,
    norms: Vec<Option<BatchNorm>>,
    #[module(skip)]
    act: Activation,
    #[module(skip)]
    base: [usize; 3],
    /// Repeats along the width, and the convolutions' padding.
    #[module(skip)]
    options: [usize; 3],
}

impl ResizeUp {
    pub fn new(
        d_in: usize,
        channels: &[usize],
        plan: &ConvPlan,
        kernel: [usize; 2],
        act: Activation,
        batch_norm: bool,
        device: &Device,
    ) -> Self {
        let [h, w] = plan.sides_after(channels.len());
        let (c0, outs) = up_channels(channels, plan.channels);
        let (mut convs, mut norms, mut prev) = (Vec::new(), Vec::new(), c0);
        let padding = [kernel[0] / 2, kernel[1] / 2];
        for (i, &c) in outs.iter().enumerate() {
            let bn = batch_norm && i + 1 < outs.len();
            convs.push(
                Conv2dConfig::new([prev, c], kernel)
                    .with_padding(PaddingConfig2d::Explicit(
                        padding[0], padding[1], padding[0], padding[1],
                    ))
                    .with_bias(!bn)
                    .init(device),
            );
            norms.push(bn.then(|| BatchNormConfig::new(c).init(device)));
            prev = c;
        }
        let (project, project_norm) = projection(d_in, [c0, h, w], batch_norm, device);
        ResizeUp {
            project,
            project_norm,
            convs,
            norms,
            act,
            base: [c0, h, w],
            options: [plan.stride[1], padding[0], padding[1]],
        }
    }

    /// `z`: `[batch, d_in]` -> `[batch, C, H, W]` (pre-activation output)
    pub fn forward(&self, z: Tensor<2>) -> Tensor<4> {
        let [repeat, ph, pw] = self.options;
        let mut x = project(&self.project, &self.project_norm, self.base, self.act, z);
        let last = self.convs.len().saturating_sub(1);
        for (i, (conv, norm)) in self.convs.iter().zip(&self.norms).enumerate() {
            let [b, c, h, w] = x.dims();
            let repeated: Tensor<5> = x.reshape([b, c, h, w, 1]).repeat_dim(4, repeat);
            x = conv2d(
                repeated.reshape([b, c, h, w * repeat]),
                conv.weight.val(),
                conv.bias.as_ref().map(|b| b.val()),
                ConvOptions::new([1, 1], [ph, pw], [1, 1], 1),
            );
            if let Some(norm) = norm {
                x = crate::kernels::ops::batch_norm(norm, x);
            }
            if i < last {
                x = activate(x, self.act);
            }
        }
        x
    }
}
