//! The character-level language model: one teacher-forced step, held-out bits per
//! character, and snapshots of items drawn character by character.

use super::sequences::{draw, encode, nats_per_item, token_values, Batch, Choice};
use super::state;
use super::tensors::values;
use super::trainer::{Trainer, Values};
use crate::checkpoint::TrainerState;
use crate::config::{Experiment, ModelConfig, OptimizerConfig};
use crate::data::{Batcher, Dataset, SeededRng};
use crate::modality::text::views::Position;
use crate::modality::text::{TextQuality, SNAPSHOT_ITEMS, SNAPSHOT_SEED};
use crate::modality::text::{TextSet, TextView, Vocabulary};
use crate::model::recurrent::CharLm;
use crate::model::ModelError;
use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use rand::{Rng, SeedableRng};

/// Held-out items: at most this many, and at most a tenth of the data.
const HELD_OUT: usize = 512;

pub struct LmTrainer {
    lm: CharLm,
    opt: ModuleOptimizer,
    optimizer: OptimizerConfig,
    lr: f64,
    /// Share of each layer's outputs dropped while training, and the layers' shape.
    dropout: f32,
    hidden: usize,
    layers: usize,
    batch: usize,
    data: Dataset,
    held_out: TextSet,
    quality: TextQuality,
    vocabulary: Vocabulary,
    /// Token positions of the longest item and its end.
    sequence_len: usize,
    batcher: Batcher,
    rng: SeededRng,
    seed: u64,
    device: Device,
}

/// Summed negative log-likelihood (nats) of a batch's targets under the model.
fn nats(lm: &CharLm, batch: &Batch) -> Tensor<1> {
    nats_per_item(lm.forward(batch.inputs.clone()), batch).sum()
}

impl LmTrainer {
    pub fn new(exp: &Experiment, data: Dataset, device: &Device) -> Result<Self, ModelError> {
        let ModelConfig::LanguageModel {
            hidden,
            layers,
            dropout,
        } = &exp.model
        else {
            return Err(ModelError("not a language-model experiment".into()));
        };
        let Dataset::Text(mut set) = data else {
            return Err(ModelError(
                "the language model reads text: choose the names or a text file as data".into(),
            ));
        };
        let held_out = set.split_off(HELD_OUT.min(set.len() / 10));
        let t = &exp.training;
        let vocabulary = set.vocabulary.clone();
        Ok(LmTrainer {
            lm: CharLm::new(vocabulary.size(), *hidden, *layers, device),
            opt: super::optim::build(&t.generator_optimizer),
            optimizer: t.generator_optimizer.clone(),
            lr: t.generator_optimizer.lr,
            dropout: *dropout,
            hidden: *hidden,
            layers: (*layers).max(1),
            batch: t.batch_size,
            quality: TextQuality::new(&exp.data, &set.items),
            sequence_len: set.sequence_len(),
            vocabulary,
            held_out,
            batcher: Batcher::new(set.len(), t.seed),
            data: Dataset::Text(set),
            rng: SeededRng::seed_from_u64(t.seed),
            seed: t.seed,
            device: device.clone(),
        })
    }

    /// Held-out bits per character (NaN without held-out items).
    fn held_out_bits(&self) -> f64 {
        if self.held_out.is_empty() {
            return f64::NAN;
        }
        let device = self.device.clone().inner();
        let lm = self.lm.valid();
        let batch = encode(
            &self.held_out.tokens(),
            self.held_out.len(),
            self.sequence_len,
            self.vocabulary.size(),
            &device,
            || false,
        );
        let total = values(nats(&lm, &batch))
            .first()
            .copied()
            .unwrap_or(f32::NAN) as f64;
        total / batch.count.max(1) as f64 / std::f64::consts::LN_2
    }

    /// One dropout mask per layer for a batch (none without dropout), drawn from the
    /// checkpointed generator so a resumed run repeats them.
    fn dropout_masks(&mut self, batch: usize, steps: usize) -> Vec<Tensor<3>> {
        let p = self.dropout;
        if p <= 0.0 {
            return Vec::new();
        }
        let hidden = self.hidden;
        (0..self.layers)
            .map(|_| {
                let mask: Vec<f32> = (0..batch * steps * hidden)
                    .map(|_| {
                        if self.rng.random::<f32>() < p {
                            0.0
                        } else {
                            1.0 / (1.0 - p)
                        }
                    })
                    .collect();
                Tensor::from_data(
                    burn::tensor::TensorData::new(mask, [batch, steps, hidden]),
                    &self.device,
                )
            })
            .collect()
    }

    /// `n` items drawn character by character from `seed`, and the positions of the
    /// first one.
    fn draw(&self, n: usize, seed: u64) -> (Vec<String>, Vec<Position>) {
        let device = self.device.clone().inner();
        let lm = self.lm.valid();
        let mut rng = SeededRng::seed_from_u64(seed);
        let mut states = lm.start(n, &device);
        let choice = Choice::Sampled(&mut rng);
        draw(
            &self.vocabulary,
            n,
            self.sequence_len,
            choice,
            &device,
            |x| lm.step(x, &mut states),
        )
    }
}

impl Trainer for LmTrainer {
    fn step(&mut self) -> Values {
        let len = self.sequence_len;
        let tokens = self.batcher.next(&self.data, self.batch);
        let batch = encode(
            tokens,
            self.batch,
            len,
            self.vocabulary.size(),
            &self.device,
            || false,
        );
        let masks = self.dropout_masks(batch.batch, batch.steps);
        let logits = self.lm.forward_dropped(batch.inputs.clone(), &masks);
        let loss = nats_per_item(logits, &batch)
            .sum()
            .div_scalar(batch.count.max(1) as f32);
        let bits = values(loss.clone().detach())
            .first()
            .copied()
            .unwrap_or(f32::NAN) as f64
            / std::f64::consts::LN_2;
        let grads = GradientsParams::from_grads(loss.backward(), &self.lm);
        self.lm = self.opt.step(self.lr, self.lm.clone(), grads);
        vec![("loss", bits)]
    }

    fn periodic_metrics(&mut self) -> Values {
        vec![("held_out_bpc", self.held_out_bits())]
    }

    fn snapshot(&mut self) -> (Samples, Values) {
        let (items, positions) = self.draw(SNAPSHOT_ITEMS, self.seed ^ SNAPSHOT_SEED);
        let (view, metrics) = self.quality.snapshot(items);
        (Samples::Text(TextView { positions, ..view }), metrics)
    }

    fn set_learning_rates(&mut self, generator: Option<f64>, _discriminator: Option<f64>) {
        if let Some(lr) = generator {
            self.lr = lr;
        }
    }

    fn learning_rates(&self) -> (f64, Option<f64>) {
        (self.lr, None)
    }

    /// Token values of `n` items (-1 past each end), `sequence_len` per item.
    fn generate(&self, n: usize, seed: u64) -> Vec<f32> {
        let (items, _) = self.draw(n, seed);
        token_values(items, &self.vocabulary, self.sequence_len)
    }

    fn parameters(&self) -> usize {
        self.lm.num_params()
    }

    fn initialize_parameters(&self) {
        state::materialize(&self.lm);
    }

    fn save_state(&self) -> Result<TrainerState, String> {
        let (lm, opt) = state::save_part(&self.lm, &self.opt, "lm", "language model")?;
        Ok(TrainerState {
            family: "lm".into(),
            modules: vec![lm],
            optimizers: vec![opt],
            power_vectors: Vec::new(),
            rng: self.rng.clone(),
            batcher: self.batcher.clone(),
            learning_rates: (self.lr, None),
        })
    }

    fn load_state(&mut self, saved: &TrainerState) -> Result<(), String> {
        saved.check_family("lm", "a language model")?;
        saved.batcher.check(self.data.len())?;
        let (lm, opt) = state::load_part(
            saved,
            "lm",
            "language model",
            self.lm.clone(),
            &self.optimizer,
        )?;
        self.lr = state::saved_learning_rate(saved.learning_rates.0)?;
        (self.lm, self.opt) = (lm, opt);
        self.rng = saved.rng.clone();
        self.batcher = saved.batcher.clone();
        Ok(())
    }

    fn non_finite_parameter(&self) -> Option<String> {
        state::first_non_finite(&self.lm).map(|p| format!("lm.{p}"))
    }
}

use super::events::Samples;
