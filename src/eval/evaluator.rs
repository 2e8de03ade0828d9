//! The image evaluator: a small classifier trained by the project on labelled data (the
//! built-in shapes set ships with one in `assets/`), whose penultimate layer gives the
//! features that the Frechet distance, KID and precision/recall are measured on. It plays
//! the part Inception plays for FID, without a download.
//!
//! Retrain the shipped one with
//!   cargo run --release -- evaluator presets/dcgan_shapes.toml --out assets/shapes_evaluator.bin

use crate::config::DataConfig;
use crate::data::{Dataset, ImageSet, SeededRng};
use crate::train::tensors::{matrix, values};
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d};
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use burn::tensor::activation::{log_softmax, relu};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Width of the feature vector.
pub const FEATURES: usize = 64;
/// The shipped evaluator of the built-in shapes set.
const SHAPES_EVALUATOR: &[u8] = include_bytes!("../../assets/shapes_evaluator.bin");

#[derive(Module, Debug)]
pub struct Evaluator {
    conv1: Conv2d,
    conv2: Conv2d,
    features: Linear,
    classes: Linear,
    #[module(skip)]
    shape: [usize; 3],
}

impl Evaluator {
    pub fn new(
        channels: usize,
        side: usize,
        classes: usize,
        device: &Device,
    ) -> Result<Self, String> {
        if !side.is_multiple_of(4) || side == 0 {
            return Err(format!(
                "the evaluator needs an image side divisible by 4, not {side}"
            ));
        }
        let conv = |c_in, c_out| {
            Conv2dConfig::new([c_in, c_out], [3, 3])
                .with_stride([2, 2])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .init(device)
        };
        let flat = 32 * (side / 4) * (side / 4);
        Ok(Evaluator {
            conv1: conv(channels, 16),
            conv2: conv(16, 32),
            features: LinearConfig::new(flat, FEATURES).init(device),
            classes: LinearConfig::new(FEATURES, classes).init(device),
            shape: [channels, side, side],
        })
    }

    /// `[n, c*h*w]` images in [0, 1] -> `[n, FEATURES]` features.
    pub fn features(&self, x: Tensor<2>) -> Tensor<2> {
        let [n, _] = x.dims();
        let [c, h, w] = self.shape;
        let x = x.reshape([n, c, h, w]).sub_scalar(0.5).mul_scalar(2.0);
        let x = relu(self.conv1.forward(x));
        let x = relu(self.conv2.forward(x));
        relu(self.features.forward(x.flatten(1, 3)))
    }

    pub fn logits(&self, x: Tensor<2>) -> Tensor<2> {
        self.classes.forward(self.features(x))
    }

    /// The weights in PyTorch's layout and names (`conv1.weight` `[out, in, 3, 3]`,
    /// `features.weight` `[out, in]`, ...): what the outside scoring script loads.
    pub fn named_tensors(&self) -> Vec<(String, Vec<usize>, Vec<f32>)> {
        let mut out = Vec::new();
        for (name, conv) in [("conv1", &self.conv1), ("conv2", &self.conv2)] {
            let w = conv.weight.val();
            out.push((format!("{name}.weight"), w.dims().to_vec(), values(w)));
            if let Some(b) = &conv.bias {
                let b = b.val();
                out.push((format!("{name}.bias"), b.dims().to_vec(), values(b)));
            }
        }
        for (name, linear) in [("features", &self.features), ("classes", &self.classes)] {
            // burn keeps [in, out]; PyTorch's layout is [out, in].
            let w = linear.weight.val().transpose();
            out.push((format!("{name}.weight"), w.dims().to_vec(), values(w)));
            if let Some(b) = &linear.bias {
                let b = b.val();
                out.push((format!("{name}.bias"), b.dims().to_vec(), values(b)));
            }
        }
        out
    }

    pub fn image_len(&self) -> usize {
        self.shape.iter().product()
    }

    /// The class each image is predicted to be (the largest logit), from its features
    /// (`features_of`), so the images go through the network once.
    pub fn predicted_classes(&self, features: &[f32], device: &Device) -> Vec<usize> {
        let logits = in_batches(features, FEATURES, device, |f| self.classes.forward(f));
        let classes = logits.len() / (features.len() / FEATURES).max(1);
        logits
            .chunks_exact(classes.max(1))
            .map(|row| {
                row.iter()
                    .enumerate()
                    .max_by(|a, b| a.1.total_cmp(b.1))
                    .map_or(0, |(i, _)| i)
            })
            .collect()
    }

    /// Features of many images as plain values.
    pub fn features_of(&self, pixels: &[f32], device: &Device) -> Vec<f32> {
        in_batches(pixels, self.image_len(), device, |x| self.features(x))
    }
}

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

/// An evaluator on disk: its shape, what it was trained on and how well it does.
#[derive(Serialize, Deserialize)]
pub struct SavedEvaluator {
    pub dataset: String,
    pub channels: usize,
    pub side: usize,
    pub classes: usize,
    /// Accuracy on held-out images of the same dataset.
    pub held_out_accuracy: f64,
    /// burn module record (burnpack).
    pub record: Vec<u8>,
}

impl SavedEvaluator {
    pub fn to_bytes(&self) -> Result<Vec<u8>, String> {
        postcard::to_stdvec(self).map_err(|e| e.to_string())
    }

    /// Writes the evaluator to `path` atomically: a reader (a run starting meanwhile)
    /// sees the old file or the new one, never half of one.
    pub fn save(&self, path: &Path) -> Result<(), String> {
        crate::durable::write(path, &self.to_bytes()?)
            .map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn from_bytes(bytes: &[u8], source: &Path) -> Result<Self, String> {
        postcard::from_bytes(bytes)
            .map_err(|e| format!("{}: not an evaluator file: {e}", source.display()))
    }

    /// The network, on the plain (inference) device.
    pub fn model(&self, device: &Device) -> Result<Evaluator, String> {
        if self.channels == 0 || self.channels > 4 || self.classes == 0 || self.side > 1024 {
            return Err("the evaluator file's shape is not plausible".into());
        }
        let fresh = Evaluator::new(self.channels, self.side, self.classes, device)?;
        crate::train::state::load_module(fresh, &self.record, "evaluator")
    }
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
    matches!(data, DataConfig::Shapes { .. } | DataConfig::Tones { .. })
        || cache_path(data).is_file()
}

/// The evaluator for a dataset: the shipped one for the built-in shapes, else one cached
/// for this dataset, else none (image metrics then stay empty).
pub fn for_data(data: &DataConfig) -> Option<SavedEvaluator> {
    if matches!(data, DataConfig::Shapes { .. }) {
        return SavedEvaluator::from_bytes(
            SHAPES_EVALUATOR,
            Path::new("assets/shapes_evaluator.bin"),
        )
        .ok();
    }
    let path = cache_path(data);
    let bytes = std::fs::read(&path).ok()?;
    SavedEvaluator::from_bytes(&bytes, &path).ok()
}

/// Trains an evaluator on a labelled image set: 90% to train, 10% held out for the
/// accuracy. `progress(step, steps)` is called as it goes.
pub fn train(
    data: &DataConfig,
    seed: u64,
    steps: usize,
    progress: impl FnMut(usize, usize),
) -> Result<SavedEvaluator, String> {
    let Dataset::Images(set) = Dataset::load(data, seed).map_err(|e| e.to_string())? else {
        return Err("an evaluator needs an image dataset".into());
    };
    let labels = set
        .labels
        .clone()
        .ok_or("an evaluator needs labels: an IDX labels file, or an image folder with one subfolder of images per class")?;
    let classes = labels
        .iter()
        .copied()
        .max()
        .map(|m| m as usize + 1)
        .unwrap_or(0);
    if classes < 2 || set.height != set.width {
        return Err("an evaluator needs square images in at least 2 classes".into());
    }
    let (train_set, held) = split(set, &labels);
    let device = Device::flex().autodiff();
    let model = crate::train::device::seeded(&device, seed, || {
        let model = Evaluator::new(train_set.0.channels, train_set.0.height, classes, &device)?;
        crate::train::state::materialize(&model);
        Ok::<_, String>(model)
    })?;
    let len = train_set.0.image_len();
    let labelled = Rows {
        values: &train_set.0.pixels,
        len,
        labels: &train_set.1,
        classes,
    };
    let model = fit(model, &labelled, steps, seed, &device, progress).valid();
    let held_out = Rows {
        values: &held.0.pixels,
        len,
        labels: &held.1,
        classes,
    };
    let accuracy = accuracy(&model, &held_out, &device.clone().inner());
    Ok(SavedEvaluator {
        dataset: toml::to_string(data).unwrap_or_default(),
        channels: train_set.0.channels,
        side: train_set.0.height,
        classes,
        held_out_accuracy: accuracy,
        record: crate::train::state::module_bytes(&model, "evaluator")?,
    })
}

type Labelled = (ImageSet, Vec<u8>);

fn split(mut set: ImageSet, labels: &[u8]) -> (Labelled, Labelled) {
    let held_n = (set.len() / 10).max(1);
    let held = set.split_off(held_n);
    let keep = set.len();
    (
        (set, labels[..keep].to_vec()),
        (held, labels[keep..].to_vec()),
    )
}

/// A network that sorts flat samples into classes; an evaluator's features are the
/// layer before its class logits.
pub trait Classifier: Module {
    /// `[n, len]` samples -> `[n, classes]` logits.
    fn logits(&self, x: Tensor<2>) -> Tensor<2>;
}

impl Classifier for Evaluator {
    fn logits(&self, x: Tensor<2>) -> Tensor<2> {
        Evaluator::logits(self, x)
    }
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
