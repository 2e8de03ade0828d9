//! The image evaluator: a small classifier trained by the project on labelled data (the
//! built-in shapes set ships with one in `assets/`), whose penultimate layer gives the
//! features that the Frechet distance, KID and precision/recall are measured on. It plays
//! the part Inception plays for FID, without a download.
//!
//! Retrain the shipped one with
//!   cargo run --release -- evaluator presets/dcgan_shapes.toml --out assets/shapes_evaluator.bin

use super::ImageSet;
use crate::config::DataConfig;
use crate::data::Dataset;
use crate::eval::evaluator::{accuracy, cache_path, fit, in_batches, Classifier, Rows, FEATURES};
use crate::train::tensors::values;
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::activation::relu;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The shipped evaluator of the built-in shapes set.
const SHAPES_EVALUATOR: &[u8] = include_bytes!("../../../assets/shapes_evaluator.bin");

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

impl Classifier for Evaluator {
    fn logits(&self, x: Tensor<2>) -> Tensor<2> {
        Evaluator::logits(self, x)
    }
}
