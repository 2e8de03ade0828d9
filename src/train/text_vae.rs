//! The character-level VAE: teacher-forced steps with KL annealing and word dropout,
//! a held-out bound in bits per character, samples from the prior, reconstructions and
//! an interpolation between two held-out items.

use super::events::Samples;
use super::losses::{kl_per_dim, kl_weight};
use super::sequences::{draw, encode, nats_per_item, token_values, Batch, Choice};
use super::state;
use super::tensors::{matrix, values};
use super::trainer::{Trainer, Values};
use crate::checkpoint::TrainerState;
use crate::config::{Experiment, ModelConfig, NetConfig, OptimizerConfig};
use crate::data::{normal_latents, Batcher, Dataset, SeededRng};
use crate::modality::text::{TextQuality, SNAPSHOT_ITEMS, SNAPSHOT_SEED};
use crate::modality::text::{TextSet, TextView, Vocabulary};
use crate::model::recurrent::TextVae;
use crate::model::ModelError;
use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use rand::{Rng, SeedableRng};

const HELD_OUT: usize = 512;
/// Held-out items shown beside their reconstructions.
const RECON_PAIRS: usize = 12;
/// Decodings between the two items of the interpolation, ends included.
const INTERPOLATION_STEPS: usize = 10;
/// Seeds the held-out bound's fixed noise apart from the training stream.
const ESTIMATOR_SEED: u64 = 0x5eed_e1b0;

pub struct TextVaeTrainer {
    vae: TextVae,
    opt: ModuleOptimizer,
    optimizer: OptimizerConfig,
    lr: f64,
    beta: f32,
    kl_warmup: u64,
    word_dropout: f32,
    /// The step about to run (for the KL weight).
    step: u64,
    batch: usize,
    data: Dataset,
    held_out: TextSet,
    quality: TextQuality,
    vocabulary: Vocabulary,
    sequence_len: usize,
    batcher: Batcher,
    rng: SeededRng,
    seed: u64,
    /// One latent per held-out item: the held-out bound's fixed noise.
    held_out_noise: Vec<f32>,
    interpolation_pair: (usize, usize),
    device: Device,
}

/// A recurrent net's (units, layers), or why it is not one.
fn recurrent(net: &NetConfig) -> Result<(usize, usize), ModelError> {
    match net {
        NetConfig::Gru { hidden, layers } => Ok((*hidden, *layers)),
        _ => Err(ModelError(
            "a VAE on text reads and writes characters: use kind = \"gru\" for its encoder and decoder"
                .into(),
        )),
    }
}

impl TextVaeTrainer {
    pub fn new(exp: &Experiment, data: Dataset, device: &Device) -> Result<Self, ModelError> {
        let ModelConfig::Vae {
            latent_dim,
            encoder,
            decoder,
            beta,
            kl_warmup,
            word_dropout,
            ..
        } = &exp.model
        else {
            return Err(ModelError("not a VAE experiment".into()));
        };
        let Dataset::Text(mut set) = data else {
            return Err(ModelError(crate::model::RECURRENT_NEEDS_TEXT.into()));
        };
        let held_out = set.split_off(HELD_OUT.min(set.len() / 10));
        let t = &exp.training;
        let vocabulary = set.vocabulary.clone();
        let mut estimator_rng = SeededRng::seed_from_u64(t.seed ^ ESTIMATOR_SEED);
        Ok(TextVaeTrainer {
            vae: TextVae::new(
                vocabulary.size(),
                *latent_dim,
                recurrent(encoder)?,
                recurrent(decoder)?,
                device,
            ),
            opt: super::optim::build(&t.generator_optimizer),
            optimizer: t.generator_optimizer.clone(),
            lr: t.generator_optimizer.lr,
            beta: *beta,
            kl_warmup: *kl_warmup,
            word_dropout: *word_dropout,
            step: 0,
            batch: t.batch_size,
            quality: TextQuality::new(&exp.data, &set.items),
            sequence_len: set.sequence_len(),
            held_out_noise: normal_latents(&mut estimator_rng, held_out.len(), *latent_dim),
            vocabulary,
            held_out,
            batcher: Batcher::new(set.len(), t.seed),
            data: Dataset::Text(set),
            rng: SeededRng::seed_from_u64(t.seed),
            seed: t.seed,
            interpolation_pair: (0, 1),
            device: device.clone(),
        })
    }

    fn held_out_batch(&self, device: &Device) -> Batch {
        encode(
            &self.held_out.tokens(),
            self.held_out.len(),
            self.sequence_len,
            self.vocabulary.size(),
            device,
            || false,
        )
    }

    /// Items decoded from codes `z` ([n, latent], flat): sampled with `rng`, or the
    /// likeliest characters without one.
    fn decode(
        &self,
        z: &[f32],
        rng: Option<&mut SeededRng>,
    ) -> (Vec<String>, Vec<crate::modality::text::views::Position>) {
        let device = self.device.clone().inner();
        let vae = self.vae.valid();
        let latent = vae.latent_dim();
        let n = z.len() / latent;
        let codes = matrix(z, n, latent, &device);
        let mut states = vae.start(codes.clone());
        let choice = match rng {
            Some(rng) => Choice::Sampled(rng),
            None => Choice::Likeliest,
        };
        draw(
            &self.vocabulary,
            n,
            self.sequence_len,
            choice,
            &device,
            |x| vae.step(codes.clone(), x, &mut states),
        )
    }

    /// Posterior means of held-out items `first..first + n`.
    fn held_out_codes(&self, items: &[usize]) -> Vec<f32> {
        let device = self.device.clone().inner();
        let vae = self.vae.valid();
        let mut tokens = Vec::new();
        for &i in items {
            self.held_out.write_sequence(i, &mut tokens);
        }
        let batch = encode(
            &tokens,
            items.len(),
            self.sequence_len,
            self.vocabulary.size(),
            &device,
            || false,
        );
        values(vae.encode(batch.items(), batch.last).0)
    }
}

impl Trainer for TextVaeTrainer {
    fn at_step(&mut self, step: u64) {
        self.step = step;
    }

    fn step(&mut self) -> Values {
        let (p, mut rng) = (self.word_dropout, self.rng.clone());
        let tokens = self.batcher.next(&self.data, self.batch);
        let batch = encode(
            tokens,
            self.batch,
            self.sequence_len,
            self.vocabulary.size(),
            &self.device,
            || p > 0.0 && rng.random::<f32>() < p,
        );
        let (mean, logvar) = self.vae.encode(batch.items(), batch.last.clone());
        let latent = self.vae.latent_dim();
        let eps = matrix(
            &normal_latents(&mut rng, self.batch, latent),
            self.batch,
            latent,
            &self.device,
        );
        self.rng = rng;
        let z = mean.clone() + logvar.clone().mul_scalar(0.5).exp() * eps;
        let recon = nats_per_item(self.vae.decode(z, batch.inputs.clone()), &batch).mean();
        let kl = kl_per_dim(mean, logvar).sum();
        let loss = recon.clone()
            + kl.clone()
                .mul_scalar(kl_weight(self.beta, self.kl_warmup, self.step));
        let report = values(Tensor::cat(
            vec![loss.clone().detach(), recon.detach(), kl.detach()],
            0,
        ));
        let at = |i: usize| report.get(i).map(|x| *x as f64).unwrap_or(f64::NAN);
        let values = vec![("loss", at(0)), ("reconstruction", at(1)), ("kl", at(2))];
        let grads = GradientsParams::from_grads(loss.backward(), &self.vae);
        self.vae = self.opt.step(self.lr, self.vae.clone(), grads);
        values
    }

    /// Held-out reconstruction (nats per item, decoded from the posterior mean), the
    /// ELBO with one fixed latent per item, the bound in bits per character, and the
    /// latent dimensions in use.
    fn periodic_metrics(&mut self) -> Values {
        if self.held_out.is_empty() {
            return Vec::new();
        }
        let device = self.device.clone().inner();
        let vae = self.vae.valid();
        let batch = self.held_out_batch(&device);
        let (mean, logvar) = vae.encode(batch.items(), batch.last.clone());
        let [n, latent] = mean.dims();
        let recon_at_mean =
            values(nats_per_item(vae.decode(mean.clone(), batch.inputs.clone()), &batch).mean())[0]
                as f64;
        let noise = matrix(&self.held_out_noise[..n * latent], n, latent, &device);
        let z = mean.clone() + logvar.clone().mul_scalar(0.5).exp() * noise;
        let recon =
            values(nats_per_item(vae.decode(z, batch.inputs.clone()), &batch).sum())[0] as f64;
        let kl_dims = values(kl_per_dim(mean, logvar));
        let kl: f64 = kl_dims.iter().map(|&k| k as f64).sum::<f64>() * n as f64;
        let active = kl_dims.iter().filter(|&&k| k > 0.01).count();
        vec![
            ("held_out_reconstruction", recon_at_mean),
            ("held_out_elbo", -(recon + kl) / n as f64),
            ("active_units", active as f64),
            (
                "held_out_bpc",
                (recon + kl) / batch.count.max(1) as f64 / std::f64::consts::LN_2,
            ),
        ]
    }

    fn snapshot(&mut self) -> (Samples, Values) {
        let latent = self.vae.latent_dim();
        let mut rng = SeededRng::seed_from_u64(self.seed ^ SNAPSHOT_SEED);
        let z = normal_latents(&mut rng, SNAPSHOT_ITEMS, latent);
        let (items, positions) = self.decode(&z, Some(&mut rng));
        let (view, metrics) = self.quality.snapshot(items);
        let pairs: Vec<usize> = (0..RECON_PAIRS.min(self.held_out.len())).collect();
        let (decoded, _) = self.decode(&self.held_out_codes(&pairs), None);
        let reconstructions = pairs
            .iter()
            .map(|&i| self.held_out.items[i].clone())
            .zip(decoded)
            .collect();
        let (a, b) = self.interpolation_pair;
        let interpolation = if a.max(b) < self.held_out.len() {
            let codes = self.held_out_codes(&[a, b]);
            let (za, zb) = codes.split_at(latent);
            let mut z = Vec::with_capacity(INTERPOLATION_STEPS * latent);
            for k in 0..INTERPOLATION_STEPS {
                let t = k as f32 / (INTERPOLATION_STEPS - 1) as f32;
                z.extend(za.iter().zip(zb).map(|(p, q)| p + t * (q - p)));
            }
            let (line, _) = self.decode(&z, None);
            let mut row = vec![self.held_out.items[a].clone()];
            row.extend(line);
            row.push(self.held_out.items[b].clone());
            row
        } else {
            Vec::new()
        };
        let view = TextView {
            positions,
            reconstructions,
            interpolation,
            ..view
        };
        (Samples::Text(view), metrics)
    }

    fn set_learning_rates(&mut self, generator: Option<f64>, _discriminator: Option<f64>) {
        if let Some(lr) = generator {
            self.lr = lr;
        }
    }

    fn learning_rates(&self) -> (f64, Option<f64>) {
        (self.lr, None)
    }

    fn generate(&self, n: usize, seed: u64) -> Vec<f32> {
        let mut rng = SeededRng::seed_from_u64(seed);
        let z = normal_latents(&mut rng, n, self.vae.latent_dim());
        let (items, _) = self.decode(&z, Some(&mut rng));
        token_values(items, &self.vocabulary, self.sequence_len)
    }

    fn parameters(&self) -> usize {
        self.vae.num_params()
    }

    fn initialize_parameters(&self) {
        state::materialize(&self.vae);
    }

    fn save_state(&self) -> Result<TrainerState, String> {
        let (vae, opt) = state::save_part(&self.vae, &self.opt, "vae", "text VAE")?;
        Ok(TrainerState {
            family: "text_vae".into(),
            modules: vec![vae],
            optimizers: vec![opt],
            power_vectors: Vec::new(),
            rng: self.rng.clone(),
            batcher: self.batcher.clone(),
            learning_rates: (self.lr, None),
        })
    }

    fn load_state(&mut self, saved: &TrainerState) -> Result<(), String> {
        saved.check_family("text_vae", "a text VAE")?;
        saved.batcher.check(self.data.len())?;
        let (vae, opt) =
            state::load_part(saved, "vae", "text VAE", self.vae.clone(), &self.optimizer)?;
        self.lr = state::saved_learning_rate(saved.learning_rates.0)?;
        (self.vae, self.opt) = (vae, opt);
        self.rng = saved.rng.clone();
        self.batcher = saved.batcher.clone();
        Ok(())
    }

    fn non_finite_parameter(&self) -> Option<String> {
        state::first_non_finite(&self.vae).map(|p| format!("vae.{p}"))
    }

    fn set_interpolation_pair(&mut self, a: usize, b: usize) {
        if a < self.held_out.len() && b < self.held_out.len() {
            self.interpolation_pair = (a, b);
        }
    }
}
