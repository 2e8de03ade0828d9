//! Building blocks: activations, dense layers with optional spectral norm, MLP and conv stacks.

use super::spectral::PowerIteration;
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
        Activation::Tanh => activation::tanh(x),
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

/// A 4x4 stride-2 convolution that halves the image, optionally spectrally normalised.
#[derive(Module, Debug)]
pub struct DownConv {
    conv: Conv2d,
    #[module(skip)]
    spectral: Option<PowerIteration>,
}

impl DownConv {
    fn new(c_in: usize, c_out: usize, bias: bool, spectral: bool, device: &Device) -> Self {
        DownConv {
            conv: Conv2dConfig::new([c_in, c_out], [4, 4])
                .with_stride([2, 2])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .with_bias(bias)
                .init(device),
            spectral: spectral.then(PowerIteration::default),
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
        conv2d(x, w, bias, ConvOptions::new([2, 2], [1, 1], [1, 1], 1))
    }
}

/// Image -> features: stride-2 convolutions, then a linear head (discriminator, encoder).
#[derive(Module, Debug)]
pub struct ConvDown {
    convs: Vec<DownConv>,
    norms: Vec<Option<BatchNorm>>,
    head: Dense,
    #[module(skip)]
    act: Activation,
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
        in_channels: usize,
        image_size: usize,
        channels: &[usize],
        d_out: usize,
        act: Activation,
        batch_norm: bool,
        spectral: bool,
        device: &Device,
    ) -> Self {
        let mut convs = Vec::new();
        let mut norms = Vec::new();
        let mut prev = in_channels;
        for (i, &c) in channels.iter().enumerate() {
            // As in DCGAN, the first layer sees raw pixels and gets no batch norm.
            let bn = batch_norm && i > 0;
            convs.push(DownConv::new(prev, c, !bn, spectral, device));
            norms.push(bn.then(|| BatchNormConfig::new(c).init(device)));
            prev = c;
        }
        let side = image_size >> channels.len();
        ConvDown {
            convs,
            norms,
            head: Dense::new(prev * side * side, d_out, true, spectral, device),
            act,
        }
    }

    /// `x`: `[batch, C, H, W]` -> `[batch, d_out]`
    pub fn forward(&self, mut x: Tensor<4>) -> Tensor<2> {
        for (conv, norm) in self.convs.iter().zip(&self.norms) {
            x = conv.forward(x);
            if let Some(norm) = norm {
                x = crate::kernels::ops::batch_norm(norm, x);
            }
            x = activate(x, self.act);
        }
        self.head.forward(x.flatten(1, 3))
    }
}

/// Vector -> image: a linear projection to a small feature map, then 4x4 stride-2
/// transposed convolutions that double it (generator, decoder). Output has no activation.
#[derive(Module, Debug)]
pub struct ConvUp {
    project: Linear,
    project_norm: Option<BatchNorm>,
    deconvs: Vec<ConvTranspose2d>,
    norms: Vec<Option<BatchNorm>>,
    #[module(skip)]
    act: Activation,
    #[module(skip)]
    base: [usize; 2],
}

impl ConvUp {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        d_in: usize,
        channels: &[usize],
        out_channels: usize,
        image_size: usize,
        act: Activation,
        batch_norm: bool,
        device: &Device,
    ) -> Self {
        let side = image_size >> channels.len();
        let c0 = channels.first().copied().unwrap_or(out_channels);
        let mut deconvs = Vec::new();
        let mut norms = Vec::new();
        let outs: Vec<usize> = channels
            .iter()
            .skip(1)
            .copied()
            .chain([out_channels])
            .collect();
        let mut prev = c0;
        for (i, &c) in outs.iter().enumerate() {
            let last = i + 1 == outs.len();
            let bn = batch_norm && !last;
            deconvs.push(
                ConvTranspose2dConfig::new([prev, c], [4, 4])
                    .with_stride([2, 2])
                    .with_padding([1, 1])
                    .with_bias(!bn)
                    .init(device),
            );
            norms.push(bn.then(|| BatchNormConfig::new(c).init(device)));
            prev = c;
        }
        ConvUp {
            project: LinearConfig::new(d_in, c0 * side * side)
                .with_bias(!batch_norm)
                .init(device),
            project_norm: batch_norm.then(|| BatchNormConfig::new(c0).init(device)),
            deconvs,
            norms,
            act,
            base: [c0, side],
        }
    }

    /// `z`: `[batch, d_in]` -> `[batch, C, H, W]` (pre-activation output)
    pub fn forward(&self, z: Tensor<2>) -> Tensor<4> {
        let [batch, _] = z.dims();
        let [c0, side] = self.base;
        let projected = linear(
            z,
            self.project.weight.val(),
            self.project.bias.as_ref().map(|b| b.val()),
        );
        let mut x: Tensor<4> = projected.reshape([batch, c0, side, side]);
        if let Some(norm) = &self.project_norm {
            x = crate::kernels::ops::batch_norm(norm, x);
        }
        x = activate(x, self.act);
        let last = self.deconvs.len().saturating_sub(1);
        for (i, (deconv, norm)) in self.deconvs.iter().zip(&self.norms).enumerate() {
            x = conv_transpose2d(
                x,
                deconv.weight.val(),
                deconv.bias.as_ref().map(|b| b.val()),
                ConvTransposeOptions::new([2, 2], [1, 1], [0, 0], [1, 1], 1),
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
