//! Variational autoencoder with a Gaussian latent: the encoder outputs mean and
//! log-variance, the decoder outputs logits (BCE) or values (MSE) for each feature.

use super::gan::input_dims;
use super::layers::{ConvDown, ConvUp, Mlp, ResizeUp, UpStack};
use super::RECURRENT_NEEDS_TEXT;
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
    Resize(ResizeUp),
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
        // The encoder's head emits [mean | log-variance].
        let encoder = match encoder {
            NetConfig::Gru { .. } => return Err(ModelError(RECURRENT_NEEDS_TEXT.into())),
            NetConfig::Mlp {
                hidden,
                activation,
                batch_norm,
            } => EncoderNet::Mlp(Mlp::new(
                n,
                hidden,
                2 * latent,
                *activation,
                *batch_norm,
                false,
                device,
            )),
            NetConfig::Conv {
                channels,
                activation,
                batch_norm,
            } => EncoderNet::Conv(ConvDown::new(
                &shape.conv_plan(channels.len())?,
                channels,
                2 * latent,
                *activation,
                *batch_norm,
                false,
                device,
            )),
        };
        let decoder = match decoder {
            NetConfig::Gru { .. } => return Err(ModelError(RECURRENT_NEEDS_TEXT.into())),
            NetConfig::Mlp {
                hidden,
                activation,
                batch_norm,
            } => DecoderNet::Mlp(Mlp::new(
                latent,
                hidden,
                n,
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
                    UpStack::Transposed(stack) => DecoderNet::Conv(stack),
                    UpStack::Resize(stack) => DecoderNet::Resize(stack),
                }
            }
        };
        let dims = input_dims(shape);
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
            DecoderNet::Resize(c) => c.forward(z).flatten(1, 3),
        }
    }
}
