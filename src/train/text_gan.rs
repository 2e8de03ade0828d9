//! The character-level GAN: a GRU generator writing straight-through Gumbel-softmax
//! samples against a GRU discriminator, with the GAN losses and optimizers of the
//! image GANs.

use super::events::{Part, Samples};
use super::losses::{discriminator_loss, generator_loss};
use super::sequences::{items_of, one_hot_items, token_values};
use super::state;
use super::tensors::{matrix, values};
use super::trainer::{Trainer, Values};
use crate::checkpoint::TrainerState;
use crate::config::{Experiment, GanLoss, ModelConfig, NetConfig, OptimizerConfig};
use crate::data::{normal_latents, Batcher, Dataset, SeededRng};
use crate::modality::text::Vocabulary;
use crate::modality::text::{TextQuality, SNAPSHOT_ITEMS, SNAPSHOT_SEED};
use crate::model::recurrent::{TextDiscriminator, TextGenerator};
use crate::model::ModelError;
use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use rand::{Rng, SeedableRng};

pub struct TextGanTrainer {
    g: TextGenerator,
    d: TextDiscriminator,
    opt_g: ModuleOptimizer,
    opt_d: ModuleOptimizer,
    optimizers: (OptimizerConfig, OptimizerConfig),
    lr_g: f64,
    lr_d: f64,
    loss: GanLoss,
    d_steps: usize,
    batch: usize,
    data: Dataset,
    quality: TextQuality,
    vocabulary: Vocabulary,
    sequence_len: usize,
    batcher: Batcher,
    rng: SeededRng,
    seed: u64,
    device: Device,
}

fn gru(net: &NetConfig) -> Result<(usize, usize), ModelError> {
    match net {
        NetConfig::Gru { hidden, layers } => Ok((*hidden, *layers)),
        _ => Err(ModelError(crate::model::TEXT_NEEDS_GRU.into())),
    }
}

/// Gumbel(0, 1) noise: -ln(-ln u) for u uniform in (0, 1).
fn gumbel(rng: &mut SeededRng, n: usize) -> Vec<f32> {
    (0..n)
        .map(|_| {
            let u: f32 = rng.random_range(1e-6..1.0 - 1e-6);
            -(-u.ln()).ln()
        })
        .collect()
}

impl TextGanTrainer {
    pub fn new(exp: &Experiment, data: Dataset, device: &Device) -> Result<Self, ModelError> {
        let ModelConfig::Gan {
            latent_dim,
            generator,
            discriminator,
            loss,
            minibatch_std,
            ..
        } = &exp.model
        else {
            return Err(ModelError("not a GAN experiment".into()));
        };
        let Dataset::Text(set) = data else {
            return Err(ModelError(crate::model::RECURRENT_NEEDS_TEXT.into()));
        };
        let t = &exp.training;
        let vocabulary = set.vocabulary.clone();
        let v = vocabulary.size();
        let (gh, gl) = gru(generator)?;
        let (dh, dl) = gru(discriminator)?;
        let d_opt = exp.discriminator_optimizer().clone();
        Ok(TextGanTrainer {
            g: TextGenerator::new(v, *latent_dim, gh, gl, device),
            d: TextDiscriminator::new(v, dh, dl, *minibatch_std, device),
            opt_g: super::optim::build(&t.generator_optimizer),
            opt_d: super::optim::build(&d_opt),
            lr_g: t.generator_optimizer.lr,
            lr_d: d_opt.lr,
            optimizers: (t.generator_optimizer.clone(), d_opt),
            loss: *loss,
            d_steps: t.d_steps.max(1),
            batch: t.batch_size,
            quality: TextQuality::new(&exp.data, &set.items),
            sequence_len: set.sequence_len(),
            vocabulary,
            batcher: Batcher::new(set.len(), t.seed),
            data: Dataset::Text(set),
            rng: SeededRng::seed_from_u64(t.seed),
            seed: t.seed,
            device: device.clone(),
        })
    }

    /// Codes and Gumbel noise for `n` items from `rng`.
    fn noise(&self, rng: &mut SeededRng, n: usize, device: &Device) -> (Tensor<2>, Tensor<3>) {
        let latent = self.g.latent_dim();
        let v = self.vocabulary.size();
        let z = matrix(&normal_latents(rng, n, latent), n, latent, device);
        let g = gumbel(rng, n * self.sequence_len * v);
        let g = Tensor::from_data(
            burn::tensor::TensorData::new(g, [n, self.sequence_len, v]),
            device,
        );
        (z, g)
    }

    /// `n` items drawn from codes and noise of `seed`.
    fn draw(&self, n: usize, seed: u64) -> Vec<String> {
        let device = self.device.clone().inner();
        let g = self.g.valid();
        let mut rng = SeededRng::seed_from_u64(seed);
        let (z, noise) = self.noise(&mut rng, n, &device);
        items_of(
            &values(g.forward(z, noise)),
            self.sequence_len,
            &self.vocabulary,
        )
    }

    fn updates(&mut self, d_updates: usize, g_update: bool) -> Values {
        let mut rng = self.rng.clone();
        let mut d_report = None;
        let mut last_fake = None;
        let v = self.vocabulary.size();
        for _ in 0..d_updates {
            let tokens = self.batcher.next(&self.data, self.batch);
            let real = one_hot_items(tokens, self.batch, self.sequence_len, v, &self.device);
            let (z, noise) = self.noise(&mut rng, self.batch, &self.device);
            let fake = self.g.forward(z, noise);
            let logits_real = self.d.forward(real);
            let logits_fake = self.d.forward(fake.clone().detach());
            let means = [
                logits_real.clone().detach().mean(),
                logits_fake.clone().detach().mean(),
            ];
            let loss_d = discriminator_loss(self.loss, logits_real, logits_fake);
            d_report = Some(Tensor::cat(
                vec![loss_d.clone().detach(), means[0].clone(), means[1].clone()],
                0,
            ));
            let grads = GradientsParams::from_grads(loss_d.backward(), &self.d);
            self.d = self.opt_d.step(self.lr_d, self.d.clone(), grads);
            last_fake = Some(fake);
        }
        let values_at = |v: &[f32], i: usize| v.get(i).map(|x| *x as f64).unwrap_or(f64::NAN);
        if !g_update {
            self.rng = rng;
            let v = d_report.map(values).unwrap_or_default();
            return vec![
                ("loss_d", values_at(&v, 0)),
                ("d_real", values_at(&v, 1)),
                ("d_fake", values_at(&v, 2)),
            ];
        }
        let fake = last_fake.unwrap_or_else(|| {
            let (z, noise) = self.noise(&mut rng, self.batch, &self.device);
            self.g.forward(z, noise)
        });
        self.rng = rng;
        let loss_g = generator_loss(self.loss, self.d.clone().no_grad().forward(fake));
        let loss_g_report = loss_g.clone().detach();
        let grads = GradientsParams::from_grads(loss_g.backward(), &self.g);
        let g_norm_sq = state::gradient_square_sum(&self.g, &grads);
        self.g = self.opt_g.step(self.lr_g, self.g.clone(), grads);
        let device = loss_g_report.device();
        let report = values(Tensor::cat(
            vec![
                d_report.unwrap_or_else(|| Tensor::zeros([3], &device)),
                loss_g_report,
                g_norm_sq.unwrap_or_else(|| Tensor::zeros([1], &device)),
            ],
            0,
        ));
        vec![
            ("loss_d", values_at(&report, 0)),
            ("loss_g", values_at(&report, 3)),
            ("d_real", values_at(&report, 1)),
            ("d_fake", values_at(&report, 2)),
            ("g_grad_norm", values_at(&report, 4).sqrt()),
        ]
    }
}

impl Trainer for TextGanTrainer {
    fn step(&mut self) -> Values {
        self.updates(self.d_steps, true)
    }

    fn step_part(&mut self, part: Part) -> Option<Values> {
        Some(match part {
            Part::Discriminator => self.updates(1, false),
            Part::Generator => self.updates(0, true),
        })
    }

    fn snapshot(&mut self) -> (Samples, Values) {
        let items = self.draw(SNAPSHOT_ITEMS, self.seed ^ SNAPSHOT_SEED);
        let (view, metrics) = self.quality.snapshot(items);
        (Samples::Text(view), metrics)
    }

    fn set_learning_rates(&mut self, generator: Option<f64>, discriminator: Option<f64>) {
        if let Some(lr) = generator {
            self.lr_g = lr;
        }
        if let Some(lr) = discriminator {
            self.lr_d = lr;
        }
    }

    fn learning_rates(&self) -> (f64, Option<f64>) {
        (self.lr_g, Some(self.lr_d))
    }

    fn generate(&self, n: usize, seed: u64) -> Vec<f32> {
        token_values(self.draw(n, seed), &self.vocabulary, self.sequence_len)
    }

    fn parameters(&self) -> usize {
        self.g.num_params() + self.d.num_params()
    }

    fn initialize_parameters(&self) {
        state::materialize(&self.g);
        state::materialize(&self.d);
    }

    fn save_state(&self) -> Result<TrainerState, String> {
        let (g, opt_g) = state::save_part(&self.g, &self.opt_g, "generator", "generator")?;
        let (d, opt_d) = state::save_part(&self.d, &self.opt_d, "discriminator", "discriminator")?;
        Ok(TrainerState {
            family: "text_gan".into(),
            modules: vec![g, d],
            optimizers: vec![opt_g, opt_d],
            power_vectors: Vec::new(),
            rng: self.rng.clone(),
            batcher: self.batcher.clone(),
            learning_rates: (self.lr_g, Some(self.lr_d)),
        })
    }

    fn load_state(&mut self, saved: &TrainerState) -> Result<(), String> {
        saved.check_family("text_gan", "a text GAN")?;
        saved.batcher.check(self.data.len())?;
        let (g, opt_g) = state::load_part(
            saved,
            "generator",
            "generator",
            self.g.clone(),
            &self.optimizers.0,
        )?;
        let (d, opt_d) = state::load_part(
            saved,
            "discriminator",
            "discriminator",
            self.d.clone(),
            &self.optimizers.1,
        )?;
        let lr_g = state::saved_learning_rate(saved.learning_rates.0)?;
        let lr_d = state::saved_learning_rate(
            saved
                .learning_rates
                .1
                .ok_or("the checkpoint has no discriminator learning rate")?,
        )?;
        (self.g, self.d, self.opt_g, self.opt_d) = (g, d, opt_g, opt_d);
        (self.lr_g, self.lr_d) = (lr_g, lr_d);
        self.rng = saved.rng.clone();
        self.batcher = saved.batcher.clone();
        Ok(())
    }

    fn non_finite_parameter(&self) -> Option<String> {
        state::first_non_finite(&self.g)
            .map(|p| format!("generator.{p}"))
            .or_else(|| state::first_non_finite(&self.d).map(|p| format!("discriminator.{p}")))
    }
}
