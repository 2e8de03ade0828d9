//! GAN generator and discriminator. Both speak flat `[batch, features]` tensors so the
//! training step is the same for points, images and clips; conv nets reshape inside.

use super::layers::{ConvDown, ConvUp, Mlp, ResizeUp, UpStack};
use super::RECURRENT_NEEDS_TEXT;
use super::{ModelError, SampleShape};
use crate::config::NetConfig;
use crate::modality::audio::spectrogram_head::SpectrogramHead;
use burn::prelude::*;

// Modules are built once and moved rarely; boxing would fight burn's Module derive.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum GeneratorNet {
    Mlp(Mlp),
    Conv(ConvUp),
    Resize(ResizeUp),
}

/// Latent `[batch, latent + classes]` -> sample `[batch, features]`; images and clips
/// come out in [-1, 1]. A conditional generator's input ends with the class's one-hot code.
#[derive(Module, Debug)]
pub struct Generator {
    net: GeneratorNet,
    #[module(skip)]
    bounded: bool,
}

impl Generator {
    /// `classes`: the length of the one-hot class code after the noise (0: unconditional).
    pub fn new(
        cfg: &NetConfig,
        latent: usize,
        classes: usize,
        shape: SampleShape,
        device: &Device,
    ) -> Result<Self, ModelError> {
        let latent = latent + classes;
        let net = match cfg {
            NetConfig::Gru { .. } => return Err(ModelError(RECURRENT_NEEDS_TEXT.into())),
            NetConfig::Mlp {
                hidden,
                activation,
                batch_norm,
            } => GeneratorNet::Mlp(Mlp::new(
                latent,
                hidden,
                shape.flat_len(),
                *activation,
                *batch_norm,
                false,
                device,
            )),
            NetConfig::Conv {
                channels,
                activation,
                batch_norm,
            } => {
                let plan = shape.conv_plan(channels.len())?;
                match UpStack::new(latent, channels, &plan, *activation, *batch_norm, device) {
                    UpStack::Transposed(stack) => GeneratorNet::Conv(stack),
                    UpStack::Resize(stack) => GeneratorNet::Resize(stack),
                }
            }
        };
        Ok(Generator {
            net,
            bounded: shape.is_bounded(),
        })
    }

    pub fn forward(&self, z: Tensor<2>) -> Tensor<2> {
        let out = match &self.net {
            GeneratorNet::Mlp(m) => m.forward(z),
            GeneratorNet::Conv(c) => c.forward(z).flatten(1, 3),
            GeneratorNet::Resize(c) => c.forward(z).flatten(1, 3),
        };
        if self.bounded {
            crate::kernels::ops::tanh(out)
        } else {
            out
        }
    }
}

#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum DiscriminatorNet {
    Mlp(Mlp),
    Conv(ConvDown),
    /// A conv stack over the waveform plus a head over its spectrogram (audio only).
    Spectrogram(WaveAndSpectrogram),
}

/// Two judges of one clip whose logits add: waveform convolutions and a spectrogram head.
#[derive(Module, Debug)]
pub struct WaveAndSpectrogram {
    wave: ConvDown,
    spectrogram: SpectrogramHead,
}

/// What a discriminator adds to its network (each as `ModelConfig::Gan` describes it).
#[derive(Debug, Clone, Copy, Default)]
pub struct DiscriminatorOptions {
    /// Spectral normalisation of every weight.
    pub spectral: bool,
    /// The head also sees the minibatch standard deviation (conv only).
    pub minibatch_std: bool,
    /// A second head over each clip's spectrogram (audio, conv only).
    pub spectrogram: bool,
    /// Samples judged at once (PacGAN); 0 or 1 alone.
    pub pack: usize,
    /// Class logits after the real-or-generated one (AC-GAN); 0 for none.
    pub classes: usize,
}

/// Sample `[batch, features]` -> `[batch, 1 + classes]`: the real-or-generated logit,
/// then (a conditional GAN's auxiliary classifier) one logit per class.
#[derive(Module, Debug)]
pub struct Discriminator {
    net: DiscriminatorNet,
    /// The input of one judgement: `pack` samples' channels stacked.
    #[module(skip)]
    shape: [usize; 3],
    /// Samples judged together (PacGAN); 1 alone.
    #[module(skip)]
    pack: usize,
}

impl Discriminator {
    pub fn new(
        cfg: &NetConfig,
        shape: SampleShape,
        options: DiscriminatorOptions,
        device: &Device,
    ) -> Result<Self, ModelError> {
        let DiscriminatorOptions {
            spectral,
            minibatch_std,
            spectrogram,
            pack,
            classes,
        } = options;
        let pack = pack.max(1);
        if classes > 0 && pack > 1 {
            return Err(ModelError(
                "a conditional discriminator judges one sample at a time (no packing)".into(),
            ));
        }
        let outputs = 1 + classes;
        if pack > 1 && matches!(shape, SampleShape::Point2) {
            return Err(ModelError("packing needs image or audio data".into()));
        }
        let net = match cfg {
            NetConfig::Gru { .. } => return Err(ModelError(RECURRENT_NEEDS_TEXT.into())),
            NetConfig::Mlp {
                hidden,
                activation,
                batch_norm,
            } => DiscriminatorNet::Mlp(Mlp::new(
                shape.flat_len() * pack,
                hidden,
                outputs,
                *activation,
                *batch_norm,
                spectral,
                device,
            )),
            NetConfig::Conv {
                channels,
                activation,
                batch_norm,
            } => {
                let mut plan = shape.conv_plan(channels.len())?;
                plan.channels *= pack;
                let stack = ConvDown::new(
                    &plan,
                    channels,
                    outputs,
                    *activation,
                    *batch_norm,
                    spectral,
                    device,
                );
                let wave = if minibatch_std {
                    stack.with_batch_std(spectral, device)
                } else {
                    stack
                };
                match (spectrogram, shape) {
                    (true, SampleShape::Audio { length }) => {
                        DiscriminatorNet::Spectrogram(WaveAndSpectrogram {
                            wave,
                            spectrogram: SpectrogramHead::new(length, spectral, device),
                        })
                    }
                    (true, _) => {
                        return Err(ModelError(
                            "the spectrogram discriminator needs audio data".into(),
                        ))
                    }
                    (false, _) => DiscriminatorNet::Conv(wave),
                }
            }
        };
        if spectrogram && !cfg.is_conv() {
            return Err(ModelError(
                "the spectrogram discriminator needs a conv discriminator".into(),
            ));
        }
        if minibatch_std && !cfg.is_conv() {
            return Err(ModelError(
                "the minibatch standard deviation needs a conv discriminator".into(),
            ));
        }
        let [c, h, w] = input_dims(shape);
        Ok(Discriminator {
            net,
            shape: [c * pack, h, w],
            pack,
        })
    }

    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        self.forward_shifted(x, &[])
    }

    /// As `forward`, with a conv discriminator's layer outputs shifted in time (phase
    /// shuffle; an MLP ignores `shifts`).
    pub fn forward_shifted(&self, x: Tensor<2>, shifts: &[isize]) -> Tensor<2> {
        let [ch, h, w] = self.shape;
        // Consecutive rows become one judgement's stacked channels.
        let [rows, _] = x.dims();
        let judged = rows / self.pack;
        match &self.net {
            DiscriminatorNet::Mlp(m) => m.forward(x.reshape([judged, ch * h * w])),
            DiscriminatorNet::Conv(c) => c.forward_shifted(x.reshape([judged, ch, h, w]), shifts),
            DiscriminatorNet::Spectrogram(both) => {
                // The spectrogram head scores each clip alone; a pack's scores are averaged.
                let spectra = both.spectrogram.forward(x.clone());
                let spectra = match self.pack {
                    1 => spectra,
                    n => spectra.reshape([judged, n]).mean_dim(1),
                };
                let wave = both
                    .wave
                    .forward_shifted(x.reshape([judged, ch, h, w]), shifts);
                // The head's score joins the real-or-generated logit, not the class logits.
                let [_, outputs] = wave.dims();
                if outputs == 1 {
                    return wave + spectra;
                }
                let classes = wave.clone().narrow(1, 1, outputs - 1);
                Tensor::cat(vec![wave.narrow(1, 0, 1) + spectra, classes], 1)
            }
        }
    }

    /// Conv layers (phase shuffle shifts all but the last one's output).
    pub fn conv_layers(&self) -> usize {
        match &self.net {
            DiscriminatorNet::Mlp(_) => 0,
            DiscriminatorNet::Conv(c) => c.layers(),
            DiscriminatorNet::Spectrogram(both) => both.wave.layers(),
        }
    }

    /// Handles on the spectral-norm state (shared with every clone of this module).
    pub fn power_iterations(&self) -> Vec<super::spectral::PowerIteration> {
        match &self.net {
            DiscriminatorNet::Mlp(m) => m.power_iterations(),
            DiscriminatorNet::Conv(c) => c.power_iterations(),
            DiscriminatorNet::Spectrogram(both) => {
                let mut all = both.wave.power_iterations();
                all.extend(both.spectrogram.power_iterations());
                all
            }
        }
    }

    /// Clamps every parameter to [-clip, clip] (WGAN weight clipping).
    pub fn clip_weights(self, clip: f32) -> Self {
        struct Clipper(f32);
        impl burn::module::ModuleMapper for Clipper {
            fn map_float<const D: usize>(
                &mut self,
                param: burn::module::Param<Tensor<D>>,
            ) -> burn::module::Param<Tensor<D>> {
                let c = self.0;
                // A fresh leaf: the clamp must not stay on the autodiff tape of a spent graph.
                param.map(|t| t.clamp(-c, c).detach().require_grad())
            }
        }
        self.map(&mut Clipper(clip))
    }
}

/// `[channels, height, width]` a conv stack reshapes flat samples to (zeros for points).
pub(crate) fn input_dims(shape: SampleShape) -> [usize; 3] {
    match shape {
        SampleShape::Point2 | SampleShape::Text { .. } => [0, 0, 0],
        SampleShape::Image {
            channels,
            height,
            width,
        } => [channels, height, width],
        SampleShape::Audio { length } => [1, 1, length],
    }
}

/// Conv stacks halve (or double) the image once per layer, so the side must divide evenly.
pub(crate) fn check_square(height: usize, width: usize, layers: usize) -> Result<(), ModelError> {
    let factor = 1usize << layers;
    if height != width {
        return Err(ModelError(format!(
            "conv nets need square images, data is {height}x{width}"
        )));
    }
    if !height.is_multiple_of(factor) || height / factor == 0 {
        return Err(ModelError(format!(
            "{layers} stride-2 conv layers need an image side divisible by {factor}, data is {height}x{width}"
        )));
    }
    Ok(())
}
