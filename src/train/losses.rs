//! GAN losses on discriminator logits, and the VAE's reconstruction and KL terms.
//! All are first-order: burn's autodiff has no double backward (so no gradient penalty).

use crate::config::{GanLoss, Reconstruction};
use burn::prelude::*;
use burn::tensor::activation::{log_sigmoid, log_softmax, relu};

/// Discriminator loss from logits on real and generated samples.
pub fn discriminator_loss(loss: GanLoss, real: Tensor<2>, fake: Tensor<2>) -> Tensor<1> {
    match loss {
        // -log D(x) - log(1 - D(G(z)))
        GanLoss::Bce => log_sigmoid(real).neg().mean() + log_sigmoid(fake.neg()).neg().mean(),
        GanLoss::LeastSquares => (real.sub_scalar(1.0).powi_scalar(2).mean()
            + fake.powi_scalar(2).mean())
        .mul_scalar(0.5),
        GanLoss::Hinge => {
            relu(real.neg().add_scalar(1.0)).mean() + relu(fake.add_scalar(1.0)).mean()
        }
        GanLoss::Wasserstein => fake.mean() - real.mean(),
    }
}

/// Generator loss from the discriminator's logits on generated samples.
pub fn generator_loss(loss: GanLoss, fake: Tensor<2>) -> Tensor<1> {
    match loss {
        // Non-saturating: -log D(G(z))
        GanLoss::Bce => log_sigmoid(fake).neg().mean(),
        GanLoss::LeastSquares => fake.sub_scalar(1.0).powi_scalar(2).mean().mul_scalar(0.5),
        GanLoss::Hinge | GanLoss::Wasserstein => fake.mean().neg(),
    }
}

/// Mean cross-entropy of class logits `[batch, classes]` against one-hot targets (the
/// auxiliary classifier's loss in a conditional GAN).
pub fn class_cross_entropy(logits: Tensor<2>, one_hot: Tensor<2>) -> Tensor<1> {
    let [batch, _] = logits.dims();
    (log_softmax(logits, 1) * one_hot)
        .sum()
        .neg()
        .div_scalar(batch as f32)
}

/// Reconstruction term per sample, summed over features and averaged over the batch.
pub fn reconstruction_loss(
    kind: Reconstruction,
    output: Tensor<2>,
    target: Tensor<2>,
) -> Tensor<1> {
    let [batch, _] = output.dims();
    let total = match kind {
        // BCE with logits: softplus(l) - l*x, one vectorised pass each way on the CPU.
        Reconstruction::Bce => crate::kernels::ops::bce_with_logits_sum(output, target),
        Reconstruction::Mse => (output - target).powi_scalar(2).sum(),
    };
    total.div_scalar(batch as f32)
}

/// The KL term's weight at `step`: `beta`, reached linearly from 0 over the first
/// `warmup` steps (KL annealing; none when 0).
pub fn kl_weight(beta: f32, warmup: u64, step: u64) -> f32 {
    match warmup {
        0 => beta,
        n => beta * (step as f32 / n as f32).min(1.0),
    }
}

/// KL(q(z|x) || N(0, I)) per latent dimension, averaged over the batch: `[latent]`.
pub fn kl_per_dim(mean: Tensor<2>, logvar: Tensor<2>) -> Tensor<1> {
    let [batch, latent] = mean.dims();
    let terms = logvar.clone().add_scalar(1.0) - mean.powi_scalar(2) - logvar.exp();
    terms
        .sum_dim(0)
        .reshape([latent])
        .mul_scalar(-0.5 / batch as f32)
}
