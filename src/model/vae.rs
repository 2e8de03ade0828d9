//! Variational autoencoder with a Gaussian latent: the encoder outputs mean and
//! log-variance, the decoder outputs logits (BCE) or values (MSE) for each feature.

use super::gan::check_square;
use super::layers::{ConvDown, ConvUp, Mlp};
use super::{ModelError, SampleShape};
use crate::config::NetConfig;
use burn::prelude::*;

// Built once and moved rarely; boxing would fight burn's Module derive.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum EncoderNet {
    Mlp(Mlp),
    Conv(ConvDown),
}

#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum DecoderNet {
    Mlp(Mlp),
    Conv(ConvUp),
}

#[derive(Module, Debug)]
pub struct Vae {
    encoder: EncoderNet,
    decoder: DecoderNet,
    #[module(skip)]
    latent: usize,
    #[module(skip)]
    shape: [usize; 3],
}

impl Vae {
    pub fn new(
        encoder: &NetConfig,
        decoder: &NetConfig,
        latent: usize,
        shape: SampleShape,
        device: &Device,
    ) -> Result<Self, ModelError> {
        let n = shape.flat_len();
        let (img, dims) = match shape {
            SampleShape::Image {
                channels,
                height,
                width,
            } => (Some((channels, height, width)), [channels, height, width]),
            SampleShape::Point2 => (None, [0, 0, 0]),
        };
        // The encoder's head emits [mean | log-variance].
        let encoder = match (encoder, img) {
            (
                NetConfig::Mlp {
                    hidden,
                    activation,
                    batch_norm,
                },
                _,
            ) => EncoderNet::Mlp(Mlp::new(
                n,
                hidden,
                2 * latent,
                *activation,
                *batch_norm,
                false,
                device,
            )),
            (
                NetConfig::Conv {
                    channels,
                    activation,
                    batch_norm,
                },
                Some((c, h, w)),
            ) => {
                check_square(h, w, channels.len())?;
                EncoderNet::Conv(ConvDown::new(
                    c,
                    h,
                    channels,
                    2 * latent,
                    *activation,
                    *batch_norm,
                    false,
                    device,
                ))
            }
            (NetConfig::Conv { .. }, None) => {
                return Err(ModelError("a conv encoder needs image data".into()))
            }
        };
        let decoder = match (decoder, img) {
            (
                NetConfig::Mlp {
                    hidden,
                    activation,
                    batch_norm,
                },
                _,
            ) => DecoderNet::Mlp(Mlp::new(
                latent,
                hidden,
                n,
                *activation,
                *batch_norm,
                false,
                device,
            )),
            (
                NetConfig::Conv {
                    channels,
                    activation,
                    batch_norm,
                },
                Some((c, h, w)),
            ) => {
                check_square(h, w, channels.len())?;
                DecoderNet::Conv(ConvUp::new(
                    latent,
                    channels,
                    c,
                    h,
                    *activation,
                    *batch_norm,
                    device,
                ))
            }
            (NetConfig::Conv { .. }, None) => {
                return Err(ModelError("a conv decoder needs image data".into()))
            }
        };
        Ok(Vae {
            encoder,
            decoder,
            latent,
            shape: dims,
        })
    }

    pub fn latent_dim(&self) -> usize {
        self.latent
    }

    /// `x`: `[batch, features]` -> (mean, log-variance), each `[batch, latent]`.
    pub fn encode(&self, x: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
        let h = match &self.encoder {
            EncoderNet::Mlp(m) => m.forward(x),
            EncoderNet::Conv(c) => {
                let [batch, _] = x.dims();
                let [ch, hh, ww] = self.shape;
                c.forward(x.reshape([batch, ch, hh, ww]))
            }
        };
        let mean = h.clone().narrow(1, 0, self.latent);
        let logvar = h.narrow(1, self.latent, self.latent);
        (mean, logvar)
    }

    /// `z`: `[batch, latent]` -> decoder output `[batch, features]` (logits for BCE).
    pub fn decode(&self, z: Tensor<2>) -> Tensor<2> {
        match &self.decoder {
            DecoderNet::Mlp(m) => m.forward(z),
            DecoderNet::Conv(c) => c.forward(z).flatten(1, 3),
        }
    }
}
