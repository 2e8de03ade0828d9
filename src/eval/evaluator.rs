//! What every kind's evaluator shares: a small classifier trained by the project on
//! labelled data (`Classifier`, `fit`, `accuracy`), applied in batches, and cached per
//! dataset where runs look for it. The evaluators themselves live with their kind of data
//! (`modality::images::evaluator`, `modality::audio::evaluator`,
//! `modality::text::evaluator`).

use crate::config::DataConfig;
use crate::data::SeededRng;
use crate::train::tensors::{matrix, values};
use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use burn::tensor::activation::log_softmax;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use std::path::PathBuf;

/// Width of every evaluator's feature vector.
pub const FEATURES: usize = 64;

/// `network` applied to rows of `len` values, 256 rows at a time, as plain values.
pub fn in_batches(
    rows: &[f32],
    len: usize,
    device: &Device,
    network: impl Fn(Tensor<2>) -> Tensor<2>,
) -> Vec<f32> {
    let mut out = Vec::new();
    for chunk in rows.chunks(256 * len.max(1)) {
        let n = chunk.len() / len.max(1);
        if n > 0 {
            out.extend(values(network(matrix(&chunk[..n * len], n, len, device))));
        }
    }
    out
}

/// Steps an evaluator is trained for, in the window and by default on the command line:
/// about 13 s on one core for 5000 MNIST digits, 95.6 % held-out accuracy.
pub const TRAINING_STEPS: usize = 1500;

/// Where an evaluator trained in the window for `data` is cached.
pub fn cache_path(data: &DataConfig) -> PathBuf {
    let key = toml::to_string(data).unwrap_or_default();
    let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    });
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("genlab")
        .join("evaluators")
        .join(format!("{hash:016x}.bin"))
}

/// Whether evaluator metrics can be computed for `data` (an evaluator is shipped or cached).
pub fn available(data: &DataConfig) -> bool {
    crate::modality::of(data).ships_evaluator(data) || cache_path(data).is_file()
}

/// A network that sorts flat samples into classes; an evaluator's features are the
/// layer before its class logits.
pub trait Classifier: Module {
    /// `[n, len]` samples -> `[n, classes]` logits.
    fn logits(&self, x: Tensor<2>) -> Tensor<2>;
}

/// Labelled samples, stored one row of `len` values after another.
pub struct Rows<'a> {
    pub values: &'a [f32],
    pub len: usize,
    pub labels: &'a [u8],
    pub classes: usize,
}

/// Trains a classifier with Adam (lr 1e-3) on batches of 64 drawn without replacement
/// in epochs; `progress(step, steps)` is called as it goes. `device` is an autodiff one.
pub fn fit<M: Classifier>(
    mut model: M,
    data: &Rows,
    steps: usize,
    seed: u64,
    device: &Device,
    mut progress: impl FnMut(usize, usize),
) -> M {
    let mut opt = AdamConfig::new().init();
    let mut rng = SeededRng::seed_from_u64(seed);
    let (len, n) = (data.len, data.labels.len());
    let batch = 64.min(n);
    let mut order: Vec<usize> = (0..n).collect();
    let mut cursor = n;
    let mut x = Vec::with_capacity(batch * len);
    let mut y = Vec::with_capacity(batch);
    for step in 0..steps {
        x.clear();
        y.clear();
        for _ in 0..batch {
            if cursor >= n {
                order.shuffle(&mut rng);
                cursor = 0;
            }
            let i = order[cursor];
            cursor += 1;
            x.extend_from_slice(&data.values[i * len..(i + 1) * len]);
            y.push(data.labels[i] as i64);
        }
        let logits = model.logits(matrix(&x, batch, len, device));
        let target = Tensor::<1, Int>::from_ints(y.as_slice(), device)
            .one_hot::<2>(data.classes)
            .float();
        let loss = (log_softmax(logits, 1) * target).sum_dim(1).mean().neg();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = opt.step(1e-3, model, grads);
        progress(step + 1, steps);
    }
    model
}

/// Share of `data` the classifier labels right.
pub fn accuracy<M: Classifier>(model: &M, data: &Rows, device: &Device) -> f64 {
    let len = data.len;
    let mut right = 0usize;
    for (chunk, labels) in data.values.chunks(256 * len).zip(data.labels.chunks(256)) {
        let n = chunk.len() / len;
        let logits = values(model.logits(matrix(chunk, n, len, device)));
        let k = logits.len() / n.max(1);
        for (row, &label) in logits.chunks_exact(k).zip(labels) {
            let best = row
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map(|(i, _)| i);
            right += usize::from(best == Some(label as usize));
        }
    }
    right as f64 / data.labels.len().max(1) as f64
}
