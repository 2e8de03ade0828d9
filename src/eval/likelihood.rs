//! Honest VAE numbers on held-out data, per example in nats: the ELBO with sampled latents
//! and an importance-weighted estimate of log p(x) (Burda, Grosse and Salakhutdinov,
//! 2016). Both take their noise from the caller, so a run that fixes it gets a
//! deterministic curve.
//!
//! The decoder's likelihood is normalised: BCE is the Bernoulli log-likelihood as it
//! stands; the MSE loss `sum (x - x')^2` is a Gaussian decoder of variance 1/2, whose
//! log-density adds the constant `D/2 ln(pi)` that training leaves out.

use crate::config::Reconstruction;
use crate::train::tensors::values;
use burn::prelude::*;
use std::f64::consts::PI;

/// `log p(x | decoded)` per example (`[n]`), with the decoder's output as the loss takes
/// it (logits for BCE, values for MSE).
pub fn log_likelihood(kind: Reconstruction, decoded: Tensor<2>, x: Tensor<2>) -> Vec<f64> {
    let [n, d] = x.dims();
    let per_row = match kind {
        // -(softplus(l) - l x), softplus(l) = max(l, 0) + ln(1 + e^-|l|)
        Reconstruction::Bce => {
            let softplus = decoded.clone().clamp_min(0.0)
                + decoded.clone().abs().neg().exp().add_scalar(1.0).log();
            (decoded * x - softplus).sum_dim(1)
        }
        Reconstruction::Mse => (decoded - x).powi_scalar(2).sum_dim(1).neg(),
    };
    let constant = match kind {
        Reconstruction::Bce => 0.0,
        Reconstruction::Mse => -(d as f64) / 2.0 * PI.ln(),
    };
    f64s(per_row.reshape([n]))
        .into_iter()
        .map(|v| v + constant)
        .collect()
}

/// `log N(z; mean, exp(logvar))` per row of `[n, latent]` tensors.
fn log_normal(z: &[f64], mean: &[f64], logvar: &[f64], latent: usize) -> Vec<f64> {
    z.chunks_exact(latent)
        .zip(mean.chunks_exact(latent))
        .zip(logvar.chunks_exact(latent))
        .map(|((z, m), lv)| {
            z.iter()
                .zip(m)
                .zip(lv)
                .map(|((z, m), lv)| -0.5 * ((2.0 * PI).ln() + lv + (z - m).powi(2) / lv.exp()))
                .sum()
        })
        .collect()
}

/// A tensor's values, flattened, in f64.
fn f64s<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    values(t).into_iter().map(f64::from).collect()
}

/// The encoder's posterior for a batch: means and log-variances, `[n, latent]` each.
pub struct Posterior {
    pub mean: Tensor<2>,
    pub logvar: Tensor<2>,
}

impl Posterior {
    /// `mean + exp(logvar / 2) * noise`.
    fn sample(&self, noise: Tensor<2>) -> Tensor<2> {
        self.mean.clone() + self.logvar.clone().mul_scalar(0.5).exp() * noise
    }
}

/// The ELBO with one latent drawn per example, `z = mean + sigma * noise`: the mean over
/// examples of `log p(x | z) - KL(q(z|x) || N(0, I))`. Unlike decoding at the posterior
/// mean, this is the bound the model is trained on, and it is below `log p(x)` on average.
pub fn sampled_elbo(
    decode: impl Fn(Tensor<2>) -> Tensor<2>,
    kind: Reconstruction,
    x: Tensor<2>,
    q: &Posterior,
    noise: Tensor<2>,
) -> f64 {
    let [n, _] = x.dims();
    let recon = log_likelihood(kind, decode(q.sample(noise)), x);
    let (mean, logvar) = (f64s(q.mean.clone()), f64s(q.logvar.clone()));
    let latent = mean.len() / n.max(1);
    let kl: Vec<f64> = mean
        .chunks_exact(latent)
        .zip(logvar.chunks_exact(latent))
        .map(|(m, lv)| {
            m.iter()
                .zip(lv)
                .map(|(m, lv)| 0.5 * (lv.exp() + m * m - 1.0 - lv))
                .sum()
        })
        .collect();
    recon.iter().zip(&kl).map(|(r, k)| r - k).sum::<f64>() / n.max(1) as f64
}

/// The importance-weighted estimate of `log p(x)` with `k = noises.len()` latents per
/// example from the posterior: the mean over examples of
/// `log (1/k) sum_i p(x|z_i) p(z_i) / q(z_i|x)`. It is a lower bound that rises to
/// `log p(x)` as k grows, and equals the ELBO at k = 1.
pub fn importance_weighted(
    decode: impl Fn(Tensor<2>) -> Tensor<2>,
    kind: Reconstruction,
    x: Tensor<2>,
    q: &Posterior,
    noises: &[Tensor<2>],
) -> f64 {
    let [n, _] = x.dims();
    if n == 0 || noises.is_empty() {
        return f64::NAN;
    }
    let (mean, logvar) = (f64s(q.mean.clone()), f64s(q.logvar.clone()));
    let latent = mean.len() / n;
    let zeros = vec![0.0; mean.len()];
    // log weights, [k][n]
    let weights: Vec<Vec<f64>> = noises
        .iter()
        .map(|noise| {
            let z = q.sample(noise.clone());
            let log_px = log_likelihood(kind, decode(z.clone()), x.clone());
            let z = f64s(z);
            let log_pz = log_normal(&z, &zeros, &zeros, latent);
            let log_qz = log_normal(&z, &mean, &logvar, latent);
            (0..n).map(|j| log_px[j] + log_pz[j] - log_qz[j]).collect()
        })
        .collect();
    let k = noises.len() as f64;
    (0..n)
        .map(|j| {
            let top = weights
                .iter()
                .map(|w| w[j])
                .fold(f64::NEG_INFINITY, f64::max);
            top + (weights.iter().map(|w| (w[j] - top).exp()).sum::<f64>() / k).ln()
        })
        .sum::<f64>()
        / n as f64
}
