//! The text evaluator: a small character-level GRU language model trained on the data,
//! whose state at the end of an item (after reading all of it) gives the features that
//! the Frechet distance, KID and precision/recall of text are measured on. Text has no
//! labels to classify, so the network learns the data by predicting each next
//! character; what it must remember to do that is what the features hold. The project
//! ships the names' one; `genlab evaluator` trains one for a text file.
//!
//! Retrain the shipped one with
//!   cargo run --release -- evaluator presets/lm_names.toml --out assets/names_evaluator.bin

use super::corpus::Vocabulary;
use super::TextSet;
use crate::config::DataConfig;
use crate::data::{Batcher, Dataset};
use crate::eval::evaluator::FEATURES;
use crate::eval::features::FeatureReference;
use crate::model::recurrent::CharLm;
use crate::train::sequences::{encode, nats_per_item};
use crate::train::tensors::values;
use burn::module::Module;
use burn::optim::GradientsParams;
use burn::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The shipped evaluator of the built-in names.
const NAMES_EVALUATOR: &[u8] = include_bytes!("../../../assets/names_evaluator.bin");

/// Items held out of the evaluator's training, to report how well it predicts.
const HELD_OUT: usize = 512;
/// Real items the generated ones are compared with.
pub const REFERENCE_ITEMS: usize = 1024;

/// A text evaluator on disk: the characters it reads, the longest item, how well it
/// predicts held-out text, and its network.
#[derive(Serialize, Deserialize)]
pub struct SavedTextEvaluator {
    pub dataset: String,
    pub chars: Vec<char>,
    pub max_chars: usize,
    /// Share of held-out next characters it predicts best.
    pub held_out_accuracy: f64,
    /// burn module record (burnpack).
    pub record: Vec<u8>,
}

impl SavedTextEvaluator {
    pub fn save(&self, path: &Path) -> Result<(), String> {
        let bytes = postcard::to_stdvec(self).map_err(|e| e.to_string())?;
        crate::durable::write(path, &bytes).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn from_bytes(bytes: &[u8], source: &Path) -> Result<Self, String> {
        postcard::from_bytes(bytes)
            .map_err(|e| format!("{}: not a text evaluator file: {e}", source.display()))
    }

    fn vocabulary(&self) -> Vocabulary {
        Vocabulary {
            chars: self.chars.clone(),
        }
    }

    /// The network, on an inference device.
    pub fn model(&self, device: &Device) -> Result<CharLm, String> {
        if self.chars.is_empty() || self.chars.len() > 4096 || self.max_chars > 4096 {
            return Err("the text evaluator file's shape is not plausible".into());
        }
        let fresh = CharLm::new(self.chars.len() + 1, FEATURES, 1, device);
        crate::train::state::load_module(fresh, &self.record, "text evaluator")
    }
}

/// The evaluator for text data: the shipped one for the built-in names, else one cached
/// for this file by `genlab evaluator`, else none (FD, KID and precision/recall stay
/// empty).
pub fn for_data(data: &DataConfig) -> Option<SavedTextEvaluator> {
    if matches!(data, DataConfig::Names) {
        return SavedTextEvaluator::from_bytes(
            NAMES_EVALUATOR,
            Path::new("assets/names_evaluator.bin"),
        )
        .ok();
    }
    let path = crate::eval::evaluator::cache_path(data);
    SavedTextEvaluator::from_bytes(&std::fs::read(&path).ok()?, &path).ok()
}

/// Token sequences of `items` under `vocabulary`, `len` positions each (characters the
/// vocabulary lacks are left out).
fn sequences(items: &[String], vocabulary: &Vocabulary, len: usize) -> Vec<f32> {
    let set = TextSet {
        items: items
            .iter()
            .map(|s| {
                s.chars()
                    .filter(|c| vocabulary.token(*c).is_some())
                    .take(len - 1)
                    .collect()
            })
            .collect(),
        vocabulary: vocabulary.clone(),
        max_chars: len - 1,
    };
    set.tokens()
}

/// Trains an evaluator on `data`'s items: `steps` batches of 64, Adam at 0.003.
pub fn train(
    data: &DataConfig,
    seed: u64,
    steps: usize,
    mut progress: impl FnMut(usize),
) -> Result<SavedTextEvaluator, String> {
    let Dataset::Text(mut set) = Dataset::load(data, seed).map_err(|e| e.to_string())? else {
        return Err("the text evaluator trains on text".into());
    };
    let held_out = set.split_off(HELD_OUT.min(set.len() / 10));
    let device = Device::flex().autodiff();
    let v = set.vocabulary.size();
    let len = set.sequence_len();
    let mut lm = crate::train::device::seeded(&device, seed, || {
        let lm = CharLm::new(v, FEATURES, 1, &device);
        crate::train::state::materialize(&lm);
        lm
    });
    let mut opt = crate::train::build_optimizer(&crate::config::OptimizerConfig {
        kind: Default::default(),
        lr: 0.003,
        beta1: 0.9,
        beta2: 0.999,
    });
    let data = Dataset::Text(set.clone());
    let mut batcher = Batcher::new(set.len(), seed);
    for step in 0..steps {
        let batch = encode(batcher.next(&data, 64), 64, len, v, &device, || false);
        let loss = nats_per_item(lm.forward(batch.inputs.clone()), &batch)
            .sum()
            .div_scalar(batch.count.max(1) as f32);
        let grads = GradientsParams::from_grads(loss.backward(), &lm);
        lm = opt.step(0.003, lm, grads);
        progress(step + 1);
    }
    let accuracy = next_character_accuracy(&lm.valid(), &held_out, &device.clone().inner());
    Ok(SavedTextEvaluator {
        dataset: set_name(&set),
        chars: set.vocabulary.chars.clone(),
        max_chars: set.max_chars,
        held_out_accuracy: accuracy,
        record: crate::train::state::module_bytes(&lm, "text evaluator")?,
    })
}

fn set_name(set: &TextSet) -> String {
    format!(
        "{} items, {} characters",
        set.len(),
        set.vocabulary.chars.len()
    )
}

/// Share of `held_out`'s next characters (ends included) that `lm` ranks first.
fn next_character_accuracy(lm: &CharLm, held_out: &TextSet, device: &Device) -> f64 {
    let v = held_out.vocabulary.size();
    let len = held_out.sequence_len();
    let batch = encode(&held_out.tokens(), held_out.len(), len, v, device, || false);
    let logits = values(lm.forward(batch.inputs.clone()));
    let targets = values(batch.targets.clone());
    let (mut right, mut total) = (0usize, 0usize);
    for (row, target) in logits.chunks_exact(v).zip(targets.chunks_exact(v)) {
        let Some(t) = target.iter().position(|&x| x > 0.5) else {
            continue;
        };
        let best = (0..v)
            .max_by(|a, b| row[*a].total_cmp(&row[*b]))
            .unwrap_or(0);
        right += usize::from(best == t);
        total += 1;
    }
    right as f64 / total.max(1) as f64
}

/// The evaluator's features of real items, ready to score generated ones.
pub struct TextScores {
    lm: CharLm,
    vocabulary: Vocabulary,
    len: usize,
    reference: FeatureReference,
    device: Device,
}

impl TextScores {
    /// `None` when the data has no evaluator.
    pub fn new(data: &DataConfig, real: &[String]) -> Option<TextScores> {
        let saved = for_data(data)?;
        let device = Device::flex();
        let lm = saved.model(&device).ok()?;
        let mut scores = TextScores {
            lm,
            vocabulary: saved.vocabulary(),
            len: saved.max_chars + 1,
            reference: FeatureReference::new(Vec::new(), FEATURES),
            device,
        };
        let real = &real[..real.len().min(REFERENCE_ITEMS)];
        scores.reference = FeatureReference::new(scores.features(real), FEATURES);
        Some(scores)
    }

    /// Each item's features: the evaluator's state after reading it.
    pub fn features(&self, items: &[String]) -> Vec<f32> {
        let v = self.vocabulary.size();
        let tokens = sequences(items, &self.vocabulary, self.len);
        let mut out = Vec::with_capacity(items.len() * FEATURES);
        for (chunk, n) in tokens
            .chunks(256 * self.len)
            .map(|c| (c, c.len() / self.len))
        {
            let batch = encode(chunk, n, self.len, v, &self.device, || false);
            out.extend(values(self.lm.summary(batch.inputs, batch.last)));
        }
        out
    }

    /// FD, KID, precision, recall and diversity of generated items.
    pub fn measure(&self, generated: &[String]) -> Vec<(&'static str, f64)> {
        self.reference.scores(self.features(generated))
    }
}
