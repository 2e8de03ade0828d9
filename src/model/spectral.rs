//! Spectral normalisation (Miyato et al. 2018): divide a weight by its largest singular
//! value, estimated by one power iteration per forward pass from a persistent vector.
//! The iteration runs on detached values, so no double backward is needed.

use burn::prelude::*;
use std::sync::{Arc, Mutex};

/// The persistent right singular vector estimate `v` of one weight matrix.
#[derive(Clone, Debug, Default)]
pub struct PowerIteration(Arc<Mutex<Option<Tensor<2>>>>);

impl PowerIteration {
    /// `w` is `[rows, cols]`; returns `w / sigma(w)` with gradients flowing through both.
    pub fn normalise(&self, w: Tensor<2>) -> Tensor<2> {
        let [_, cols] = w.dims();
        let device = w.device().inner();
        // Plain (non-autodiff) copies: the estimate must not join any graph.
        let w_const = w.clone().inner();
        let mut guard = match self.0.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        // A vector of the wrong length (a checkpoint of another model) starts afresh.
        let v = guard
            .take()
            .filter(|v| v.dims() == [cols, 1])
            .unwrap_or_else(|| {
                Tensor::<2>::ones([cols, 1], &device).div_scalar((cols as f32).sqrt())
            });
        // u = W v / |W v|, v = W^T u / |W^T u|
        let u = unit(w_const.clone().matmul(v));
        let v = unit(w_const.transpose().matmul(u.clone()));
        *guard = Some(v.clone());
        let sigma = u.transpose().matmul(w.clone().matmul(v)); // [1, 1]
        w.div(sigma.clamp_min(1e-6))
    }
}

impl PowerIteration {
    /// The current estimate as plain values (empty before the first forward pass).
    pub fn vector(&self) -> Vec<f32> {
        let guard = match self.0.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        guard
            .as_ref()
            .map(|v| crate::train::tensors::values(v.clone()))
            .unwrap_or_default()
    }

    /// Restores an estimate saved by `vector` (empty: start afresh).
    pub fn set_vector(&self, values: &[f32], device: &Device) {
        let v = (!values.is_empty()).then(|| {
            crate::train::tensors::matrix(values, values.len(), 1, &device.clone().inner())
        });
        match self.0.lock() {
            Ok(mut g) => *g = v,
            Err(poisoned) => *poisoned.into_inner() = v,
        }
    }
}

fn unit(x: Tensor<2>) -> Tensor<2> {
    let norm = x.clone().powi_scalar(2).sum().sqrt().clamp_min(1e-12);
    x.div(norm.unsqueeze())
}
