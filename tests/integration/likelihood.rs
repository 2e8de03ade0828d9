//! The held-out VAE estimators against closed forms on a linear-Gaussian model, where
//! `log p(x)`, the exact posterior and the ELBO of any Gaussian posterior are known:
//! `z ~ N(0, I)`, `x | z ~ N(W z + b, I/2)` (the MSE decoder's variance).

use burn::prelude::*;
use genlab::config::Reconstruction;
use genlab::data::SeededRng;
use genlab::eval::likelihood::{importance_weighted, log_likelihood, sampled_elbo, Posterior};
use nalgebra::{DMatrix, DVector};
use rand::SeedableRng;
use std::f64::consts::PI;

/// W's columns are orthogonal, so the exact posterior is diagonal (as the VAE's is).
const W: [[f64; 2]; 3] = [[1.0, 0.0], [0.0, 1.5], [1.0, 0.0]];
const B: [f64; 3] = [0.1, -0.2, 0.3];
const X: [f64; 3] = [0.7, 0.4, -0.5];
const VARIANCE: f64 = 0.5;

fn w() -> DMatrix<f64> {
    DMatrix::from_fn(3, 2, |i, j| W[i][j])
}

/// `log N(x; b, W W^T + I/2)`.
fn log_evidence() -> f64 {
    let c = w() * w().transpose() + DMatrix::identity(3, 3) * VARIANCE;
    let r = DVector::from_column_slice(&X) - DVector::from_column_slice(&B);
    let quad = (r.transpose() * c.clone().try_inverse().expect("invertible") * r)[0];
    -0.5 * (3.0 * (2.0 * PI).ln() + c.determinant().ln() + quad)
}

/// The exact posterior's means and variances (diagonal here).
fn exact_posterior() -> ([f64; 2], [f64; 2]) {
    let w = w();
    let precision = DMatrix::identity(2, 2) + w.transpose() * &w / VARIANCE;
    let cov = precision.try_inverse().expect("invertible");
    let r = DVector::from_column_slice(&X) - DVector::from_column_slice(&B);
    let m = &cov * w.transpose() * r / VARIANCE;
    ([m[0], m[1]], [cov[(0, 0)], cov[(1, 1)]])
}

/// The ELBO of `q = N(m, diag(v))` in closed form.
fn elbo(m: [f64; 2], v: [f64; 2]) -> f64 {
    let w = w();
    let mean = &w * DVector::from_column_slice(&m) + DVector::from_column_slice(&B);
    let r2 = (DVector::from_column_slice(&X) - mean).norm_squared();
    let spread: f64 = (0..2).map(|j| v[j] * w.column(j).norm_squared()).sum();
    let expected_log_px = -(r2 + spread) / (2.0 * VARIANCE) - 1.5 * (2.0 * PI * VARIANCE).ln();
    let kl: f64 = (0..2)
        .map(|j| 0.5 * (v[j] + m[j] * m[j] - 1.0 - v[j].ln()))
        .sum();
    expected_log_px - kl
}

fn rows(values: &[f64], n: usize, device: &Device) -> Tensor<2> {
    let cols = values.len();
    let data: Vec<f32> = (0..n)
        .flat_map(|_| values.iter().map(|&v| v as f32))
        .collect();
    Tensor::from_data(TensorData::new(data, [n, cols]), device)
}

fn noise(rng: &mut SeededRng, n: usize, device: &Device) -> Tensor<2> {
    Tensor::from_data(
        TensorData::new(genlab::data::normal_latents(rng, n, 2), [n, 2]),
        device,
    )
}

/// `z W^T + b`.
fn decoder(device: &Device) -> impl Fn(Tensor<2>) -> Tensor<2> + '_ {
    move |z: Tensor<2>| {
        let [n, _] = z.dims();
        let wt: Vec<f32> = (0..2)
            .flat_map(|j| (0..3).map(move |i| W[i][j] as f32))
            .collect();
        z.matmul(Tensor::from_data(TensorData::new(wt, [2, 3]), device)) + rows(&B, n, device)
    }
}

fn posterior(m: [f64; 2], v: [f64; 2], n: usize, device: &Device) -> Posterior {
    Posterior {
        mean: rows(&m, n, device),
        logvar: rows(&[v[0].ln(), v[1].ln()], n, device),
    }
}

#[test]
fn the_mse_decoders_likelihood_is_a_normalised_gaussian() {
    let device = Device::flex();
    let x = rows(&X, 1, &device);
    let at = rows(&B, 1, &device);
    let ours = log_likelihood(Reconstruction::Mse, at, x)[0];
    let r2: f64 = X.iter().zip(&B).map(|(x, b)| (x - b) * (x - b)).sum();
    let expected = -r2 / (2.0 * VARIANCE) - 1.5 * (2.0 * PI * VARIANCE).ln();
    assert!((ours - expected).abs() < 1e-5, "{ours} vs {expected}");
}

#[test]
fn with_the_exact_posterior_both_estimators_find_log_p_x() {
    let device = Device::flex();
    let truth = log_evidence();
    let (m, v) = exact_posterior();
    let mut rng = SeededRng::seed_from_u64(3);
    // every importance weight is p(x) itself: exact for any k
    let n = 16;
    let q = posterior(m, v, n, &device);
    let noises: Vec<Tensor<2>> = (0..8).map(|_| noise(&mut rng, n, &device)).collect();
    let iw = importance_weighted(
        decoder(&device),
        Reconstruction::Mse,
        rows(&X, n, &device),
        &q,
        &noises,
    );
    assert!((iw - truth).abs() < 1e-4, "IWAE {iw} vs log p(x) {truth}");
    // the sampled ELBO is unbiased for the ELBO, which the exact posterior makes tight
    let n = 4000;
    let q = posterior(m, v, n, &device);
    let sampled = sampled_elbo(
        decoder(&device),
        Reconstruction::Mse,
        rows(&X, n, &device),
        &q,
        noise(&mut rng, n, &device),
    );
    assert!((elbo(m, v) - truth).abs() < 1e-9, "closed forms disagree");
    assert!(
        (sampled - truth).abs() < 0.05,
        "sampled ELBO {sampled} vs {truth}"
    );
}

#[test]
fn with_a_poor_posterior_the_elbo_falls_short_and_importance_weighting_closes_the_gap() {
    let device = Device::flex();
    let truth = log_evidence();
    let (m, v) = exact_posterior();
    let (m, v) = ([m[0] + 0.6, m[1] - 0.4], [v[0] * 3.0, v[1] * 0.5]);
    let bound = elbo(m, v);
    assert!(truth - bound > 0.5, "a gap to close: {bound} vs {truth}");
    let mut rng = SeededRng::seed_from_u64(4);

    let n = 4000;
    let q = posterior(m, v, n, &device);
    let x = rows(&X, n, &device);
    let sampled = sampled_elbo(
        decoder(&device),
        Reconstruction::Mse,
        x,
        &q,
        noise(&mut rng, n, &device),
    );
    assert!(
        (sampled - bound).abs() < 0.05,
        "sampled ELBO {sampled} vs {bound}"
    );

    let n = 200;
    let q = posterior(m, v, n, &device);
    let noises: Vec<Tensor<2>> = (0..64).map(|_| noise(&mut rng, n, &device)).collect();
    let x = rows(&X, n, &device);
    let iw = importance_weighted(
        decoder(&device),
        Reconstruction::Mse,
        x.clone(),
        &q,
        &noises,
    );
    assert!(
        iw > bound + 0.8 * (truth - bound),
        "IWAE {iw}: ELBO {bound}, log p(x) {truth}"
    );
    assert!(iw < truth + 0.02, "IWAE {iw} above log p(x) {truth}");
    // one latent per example is the ELBO again (with the sampled, not analytic, KL)
    let one = importance_weighted(decoder(&device), Reconstruction::Mse, x, &q, &noises[..1]);
    assert!(
        (one - bound).abs() < 0.3,
        "k = 1: {one} vs the ELBO {bound}"
    );
}

#[test]
fn the_bce_decoders_likelihood_is_minus_its_training_loss() {
    let device = Device::flex();
    let logits = Tensor::<2>::from_data(
        TensorData::new(vec![-3.0f32, 0.0, 2.5, 9.0], [2, 2]),
        &device,
    );
    let x = Tensor::<2>::from_data(
        TensorData::new(vec![0.0f32, 1.0, 0.3, 1.0], [2, 2]),
        &device,
    );
    let ours = log_likelihood(Reconstruction::Bce, logits, x);
    let expected = |l: f64, x: f64| l * x - (1.0 + l.exp()).ln();
    let rows = [
        expected(-3.0, 0.0) + expected(0.0, 1.0),
        expected(2.5, 0.3) + expected(9.0, 1.0),
    ];
    for (o, e) in ours.iter().zip(rows) {
        assert!((o - e).abs() < 1e-5, "{o} vs {e}");
    }
}
