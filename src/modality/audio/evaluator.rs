//! The clip evaluator: a small classifier of the built-in tones' ten classes (eight
//! pitches, sweeps, drums) on their log spectrograms, whose hidden layer gives the
//! features that the Frechet distance, KID and precision/recall of audio are measured on.
//! It plays the part the shapes evaluator plays for images; the project trains it and
//! ships it, so nothing is downloaded.
//!
//! Retrain the shipped one with
//!   cargo run --release -- evaluator presets/wavegan_tones.toml --out assets/tones_evaluator.bin

use super::quality::REFERENCE_CLIPS;
use super::spectrogram_head::LogSpectrogram;
use super::AudioSet;
use crate::config::DataConfig;
use crate::data::Dataset;
use crate::eval::evaluator::{accuracy, fit, in_batches, Classifier, Rows, FEATURES};
use crate::eval::features::FeatureReference;
use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::relu;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The shipped evaluator of the built-in tones.
const TONES_EVALUATOR: &[u8] = include_bytes!("../../../assets/tones_evaluator.bin");

#[derive(Module, Debug)]
pub struct ClipEvaluator {
    front: LogSpectrogram,
    features: Linear,
    classes: Linear,
    #[module(skip)]
    length: usize,
}

impl ClipEvaluator {
    pub fn new(length: usize, classes: usize, device: &Device) -> Self {
        let front = LogSpectrogram::new(length);
        ClipEvaluator {
            features: LinearConfig::new(front.values_per_clip(), FEATURES).init(device),
            classes: LinearConfig::new(FEATURES, classes).init(device),
            front,
            length,
        }
    }

    /// `[n, length]` clips -> `[n, FEATURES]` features.
    pub fn features(&self, x: Tensor<2>) -> Tensor<2> {
        relu(self.features.forward(self.front.forward(x)))
    }

    /// Features of many clips as plain values.
    pub fn features_of(&self, clips: &[f32], device: &Device) -> Vec<f32> {
        in_batches(clips, self.length, device, |x| self.features(x))
    }
}

impl Classifier for ClipEvaluator {
    fn logits(&self, x: Tensor<2>) -> Tensor<2> {
        self.classes.forward(self.features(x))
    }
}

/// A clip evaluator on disk: the clips it takes, its classes and how well it does.
#[derive(Serialize, Deserialize)]
pub struct SavedClipEvaluator {
    pub dataset: String,
    pub sample_rate: u32,
    pub length: usize,
    pub classes: usize,
    /// Accuracy on held-out clips of the same dataset.
    pub held_out_accuracy: f64,
    /// burn module record (burnpack).
    pub record: Vec<u8>,
}

impl SavedClipEvaluator {
    pub fn save(&self, path: &Path) -> Result<(), String> {
        let bytes = postcard::to_stdvec(self).map_err(|e| e.to_string())?;
        crate::durable::write(path, &bytes).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn from_bytes(bytes: &[u8], source: &Path) -> Result<Self, String> {
        postcard::from_bytes(bytes)
            .map_err(|e| format!("{}: not a clip evaluator file: {e}", source.display()))
    }

    /// The network, on an inference device.
    pub fn model(&self, device: &Device) -> Result<ClipEvaluator, String> {
        if self.length < 2 || self.length > 1 << 20 || self.classes == 0 || self.classes > 256 {
            return Err("the clip evaluator file's shape is not plausible".into());
        }
        let fresh = ClipEvaluator::new(self.length, self.classes, device);
        crate::train::state::load_module(fresh, &self.record, "clip evaluator")
    }
}

/// The evaluator for an audio dataset: the shipped one for the built-in tones, else one
/// cached for this dataset, else none (a WAV folder has no labels to train one on, so its
/// FD, KID and precision/recall stay empty).
pub fn for_data(data: &DataConfig) -> Option<SavedClipEvaluator> {
    if matches!(data, DataConfig::Tones { .. }) {
        return SavedClipEvaluator::from_bytes(
            TONES_EVALUATOR,
            Path::new("assets/tones_evaluator.bin"),
        )
        .ok();
    }
    let path = crate::eval::evaluator::cache_path(data);
    SavedClipEvaluator::from_bytes(&std::fs::read(&path).ok()?, &path).ok()
}

/// Trains a clip evaluator on a labelled audio set: 90% to train, 10% held out for the
/// accuracy.
pub fn train(
    data: &DataConfig,
    seed: u64,
    steps: usize,
    progress: impl FnMut(usize, usize),
) -> Result<SavedClipEvaluator, String> {
    let Dataset::Audio(mut set) = Dataset::load(data, seed).map_err(|e| e.to_string())? else {
        return Err("a clip evaluator needs an audio dataset".into());
    };
    let labels = set
        .labels
        .clone()
        .ok_or("a clip evaluator needs labelled clips (the built-in tones)")?;
    let classes = labels.iter().max().map_or(0, |&m| m as usize + 1);
    if classes < 2 {
        return Err("a clip evaluator needs clips in at least 2 classes".into());
    }
    let held: AudioSet = set.split_off((set.len() / 10).max(1));
    let held_labels = held.labels.clone().unwrap_or_default();
    let train_labels = &labels[..set.len()];
    let device = Device::flex().autodiff();
    let model = crate::train::device::seeded(&device, seed, || {
        let model = ClipEvaluator::new(set.length, classes, &device);
        crate::train::state::materialize(&model);
        model
    });
    let training = Rows {
        values: &set.samples,
        len: set.length,
        labels: train_labels,
        classes,
    };
    let model = fit(model, &training, steps, seed, &device, progress).valid();
    let held_out = Rows {
        values: &held.samples,
        len: held.length,
        labels: &held_labels,
        classes,
    };
    let accuracy = accuracy(&model, &held_out, &device.clone().inner());
    Ok(SavedClipEvaluator {
        dataset: toml::to_string(data).unwrap_or_default(),
        sample_rate: set.sample_rate,
        length: set.length,
        classes,
        held_out_accuracy: accuracy,
        record: crate::train::state::module_bytes(&model, "clip evaluator")?,
    })
}

/// FD, KID, precision/recall and diversity of generated clips on the evaluator's features.
#[derive(Debug, Clone)]
pub struct ClipQuality {
    evaluator: ClipEvaluator,
    real: FeatureReference,
    device: Device,
}

impl ClipQuality {
    /// `None` without an evaluator, or when it was made for other clips.
    pub fn new(
        saved: Option<SavedClipEvaluator>,
        real: &AudioSet,
        device: &Device,
    ) -> Option<Self> {
        let saved = saved?;
        if saved.length != real.length || saved.sample_rate != real.sample_rate {
            return None;
        }
        let device = device.clone().inner();
        let evaluator = saved.model(&device).ok()?;
        let n = real.len().min(REFERENCE_CLIPS);
        let features = evaluator.features_of(&real.samples[..n * real.length], &device);
        Some(ClipQuality {
            evaluator,
            real: FeatureReference::new(features, FEATURES),
            device,
        })
    }

    pub fn measure(&self, generated: &[f32]) -> Vec<(&'static str, f64)> {
        self.real
            .scores(self.evaluator.features_of(generated, &self.device))
    }
}
