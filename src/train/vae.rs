//! One VAE training step, held-out evaluation and snapshots.

use super::events::Samples;
use super::losses::{kl_per_dim, reconstruction_loss};
use super::state;
use super::tensors::{matrix, scalar, values};
use super::trainer::{Trainer, Values};
use crate::checkpoint::TrainerState;
use crate::config::{Experiment, ModelConfig, OptimizerConfig, Reconstruction};
use crate::data::SeededRng;
use crate::data::{normal_latents, Batcher, Dataset};
use crate::eval::likelihood::{importance_weighted, sampled_elbo, Posterior};
use crate::modality::snapshot::{Snapshots, VaeProbe, VaeShot};
use crate::model::{ModelError, SampleShape, Vae};
use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use burn::tensor::activation::sigmoid;
use rand::SeedableRng;

const HELD_OUT: usize = 256;
/// Held-out examples and latents per example of the importance-weighted log-likelihood,
/// estimated at every snapshot (2048 decodes: a few per cent of a snapshot interval).
const IW_EXAMPLES: usize = 32;
const IW_SAMPLES: usize = 64;
/// Seeds the held-out estimators' fixed noise apart from the training stream (which it
/// must not shift: runs resume bit for bit).
const ESTIMATOR_SEED: u64 = 0x5eed_e1b0;

pub struct VaeTrainer {
    vae: Vae,
    opt: ModuleOptimizer,
    optimizer: OptimizerConfig,
    lr: f64,
    beta: f32,
    /// Steps over which the KL weight rises from 0 to `beta` (0: none).
    kl_warmup: u64,
    /// The step about to run.
    step: u64,
    reconstruction: Reconstruction,
    batch: usize,
    data: Dataset,
    /// Samples never trained on, for held-out reconstruction and ELBO.
    held_out: Vec<f32>,
    held_out_labels: Option<Vec<u8>>,
    batcher: Batcher,
    rng: SeededRng,
    fixed_z: Vec<f32>,
    shape: SampleShape,
    device: Device,
    /// What the data's kind makes of each snapshot: views and quality metrics.
    snapshots: Box<dyn Snapshots>,
    /// Indices (into the held-out set) of the interpolation's two inputs.
    interpolation_pair: (usize, usize),
    /// Fixed noise of the held-out ELBO (one latent per held-out example) and of the
    /// importance-weighted estimate (`IW_SAMPLES` latents for each of the first
    /// `IW_EXAMPLES`), so both curves are deterministic.
    elbo_noise: Vec<f32>,
    iw_noise: Vec<Vec<f32>>,
}

impl VaeTrainer {
    pub fn new(
        exp: &Experiment,
        data: Dataset,
        shape: SampleShape,
        device: &Device,
    ) -> Result<Self, ModelError> {
        let ModelConfig::Vae {
            latent_dim,
            encoder,
            decoder,
            reconstruction,
            beta,
            kl_warmup,
            ..
        } = &exp.model
        else {
            return Err(ModelError("not a VAE experiment".into()));
        };
        let t = &exp.training;
        let (data, held_out, held_out_labels) = data.split_held_out(HELD_OUT);
        let snapshots = crate::modality::of_dataset(&data)
            .snapshots(&data, exp, device)
            .map_err(ModelError)?;
        let mut rng = SeededRng::seed_from_u64(t.seed);
        let mut estimator_rng = SeededRng::seed_from_u64(t.seed ^ ESTIMATOR_SEED);
        let n_held = held_out.len() / shape.flat_len().max(1);
        let elbo_noise = normal_latents(&mut estimator_rng, n_held, *latent_dim);
        let iw_noise = (0..IW_SAMPLES)
            .map(|_| normal_latents(&mut estimator_rng, n_held.min(IW_EXAMPLES), *latent_dim))
            .collect();
        let n_fixed = snapshots.count();
        Ok(VaeTrainer {
            vae: Vae::new(encoder, decoder, *latent_dim, shape, device)?,
            opt: super::optim::build(&t.generator_optimizer),
            optimizer: t.generator_optimizer.clone(),
            lr: t.generator_optimizer.lr,
            beta: *beta,
            kl_warmup: *kl_warmup,
            step: 0,
            reconstruction: *reconstruction,
            batch: t.batch_size,
            batcher: Batcher::new(data.len(), t.seed),
            data,
            held_out,
            held_out_labels,
            fixed_z: normal_latents(&mut rng, n_fixed, *latent_dim),
            rng,
            shape,
            device: device.clone(),
            snapshots,
            interpolation_pair: (0, 1),
            elbo_noise,
            iw_noise,
        })
    }

    /// Decoder output as data values (sigmoid of logits for BCE).
    fn to_values(&self, out: Tensor<2>) -> Tensor<2> {
        match self.reconstruction {
            Reconstruction::Bce => sigmoid(out),
            Reconstruction::Mse => out,
        }
    }

    fn held_out_matrix(&self, device: &Device) -> (Tensor<2>, usize) {
        let n = self.held_out.len() / self.shape.flat_len();
        (matrix(&self.held_out, n, self.shape.flat_len(), device), n)
    }
}

/// The networks as the data's snapshots question them.
impl VaeProbe for VaeTrainer {
    fn latent(&self) -> usize {
        self.vae.latent_dim()
    }

    fn decode(&self, z: &[f32]) -> Vec<f32> {
        let latent = self.vae.latent_dim();
        let z = matrix(z, z.len() / latent, latent, &self.device.clone().inner());
        values(self.to_values(self.vae.valid().decode(z)))
    }

    fn encode(&self, x: &[f32]) -> (Vec<f32>, Vec<f32>) {
        let len = self.shape.flat_len();
        let x = matrix(x, x.len() / len, len, &self.device.clone().inner());
        let (mean, logvar) = self.vae.valid().encode(x);
        (values(mean.clone()), values(kl_per_dim(mean, logvar)))
    }
}

impl VaeTrainer {
    /// The snapshot's views, and the metrics that come with them.
    fn views(&self) -> (Samples, Values) {
        let generated = self.decode(&self.fixed_z);
        let shot = VaeShot {
            generated: &generated,
            held_out: &self.held_out,
            held_out_labels: self.held_out_labels.as_deref(),
            interpolation_pair: self.interpolation_pair,
            probe: self,
        };
        self.snapshots.vae(&self.data, shot)
    }

    /// The importance-weighted log-likelihood of the first held-out examples (None
    /// without held-out data).
    fn held_out_log_likelihood(&self) -> Option<f64> {
        let len = self.shape.flat_len();
        let n = (self.held_out.len() / len).min(IW_EXAMPLES);
        if n == 0 {
            return None;
        }
        let device = self.device.clone().inner();
        let vae = self.vae.valid();
        let x = matrix(&self.held_out[..n * len], n, len, &device);
        let (mean, logvar) = vae.encode(x.clone());
        let latent = vae.latent_dim();
        let noises: Vec<Tensor<2>> = self
            .iw_noise
            .iter()
            .map(|e| matrix(&e[..n * latent], n, latent, &device))
            .collect();
        let q = Posterior { mean, logvar };
        Some(importance_weighted(
            |z| vae.decode(z),
            self.reconstruction,
            x,
            &q,
            &noises,
        ))
    }
}

impl Trainer for VaeTrainer {
    fn at_step(&mut self, step: u64) {
        self.step = step;
    }

    fn step(&mut self) -> Values {
        let n = self.data.sample_len();
        let x = matrix(
            self.batcher.next(&self.data, self.batch),
            self.batch,
            n,
            &self.device,
        );
        let (mean, logvar) = self.vae.encode(x.clone());
        let latent = self.vae.latent_dim();
        let eps = matrix(
            &normal_latents(&mut self.rng, self.batch, latent),
            self.batch,
            latent,
            &self.device,
        );
        let z = mean.clone() + logvar.clone().mul_scalar(0.5).exp() * eps;
        let recon = reconstruction_loss(self.reconstruction, self.vae.decode(z), x);
        let kl = kl_per_dim(mean, logvar).sum();
        let weight = super::losses::kl_weight(self.beta, self.kl_warmup, self.step);
        let loss = recon.clone() + kl.clone().mul_scalar(weight);
        // One transfer for the three values (on a GPU each read waits for the queue).
        let report = values(Tensor::cat(
            vec![loss.clone().detach(), recon.detach(), kl.clone().detach()],
            0,
        ));
        let at = |i: usize| report.get(i).map(|x| *x as f64).unwrap_or(f64::NAN);
        let values = vec![("loss", at(0)), ("reconstruction", at(1)), ("kl", at(2))];
        let grads = GradientsParams::from_grads(loss.backward(), &self.vae);
        self.vae = self.opt.step(self.lr, self.vae.clone(), grads);
        values
    }

    fn periodic_metrics(&mut self) -> Values {
        if self.held_out.is_empty() {
            return Vec::new();
        }
        let device = self.device.clone().inner();
        let vae = self.vae.valid();
        let (x, _) = self.held_out_matrix(&device);
        let (mean, logvar) = vae.encode(x.clone());
        // The reconstruction decoded at the posterior mean: deterministic and comparable
        // across runs, but not a likelihood (it flatters the model; see the ELBO).
        let recon = reconstruction_loss(self.reconstruction, vae.decode(mean.clone()), x.clone());
        let kl = kl_per_dim(mean.clone(), logvar.clone());
        let kl_dims = values(kl);
        let active = kl_dims.iter().filter(|&&k| k > 0.01).count();
        let [n, latent] = mean.dims();
        let noise = matrix(&self.elbo_noise[..n * latent], n, latent, &device);
        let q = Posterior { mean, logvar };
        let elbo = sampled_elbo(|z| vae.decode(z), self.reconstruction, x, &q, noise);
        vec![
            ("held_out_reconstruction", scalar(recon)),
            ("held_out_elbo", elbo),
            ("active_units", active as f64),
        ]
    }

    fn snapshot(&mut self) -> (Samples, Values) {
        let (samples, mut metrics) = self.views();
        if let Some(iw) = self.held_out_log_likelihood() {
            metrics.push(("held_out_log_likelihood", iw));
        }
        (samples, metrics)
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
        let vae = self.vae.valid();
        let latent = vae.latent_dim();
        let mut rng = SeededRng::seed_from_u64(seed);
        let z = normal_latents(&mut rng, n, latent);
        let device = self.device.clone().inner();
        crate::eval::evaluator::in_batches(&z, latent, &device, |z| self.to_values(vae.decode(z)))
    }

    fn parameters(&self) -> usize {
        self.vae.num_params()
    }

    fn initialize_parameters(&self) {
        state::materialize(&self.vae);
    }

    fn save_state(&self) -> Result<TrainerState, String> {
        let (vae, opt) = state::save_part(&self.vae, &self.opt, "vae", "VAE")?;
        Ok(TrainerState {
            family: "vae".into(),
            modules: vec![vae],
            optimizers: vec![opt],
            power_vectors: Vec::new(),
            rng: self.rng.clone(),
            batcher: self.batcher.clone(),
            learning_rates: (self.lr, None),
        })
    }

    fn load_state(&mut self, saved: &TrainerState) -> Result<(), String> {
        saved.check_family("vae", "a VAE")?;
        saved.batcher.check(self.data.len())?;
        let (vae, opt) = state::load_part(saved, "vae", "VAE", self.vae.clone(), &self.optimizer)?;
        let lr = state::saved_learning_rate(saved.learning_rates.0)?;
        self.vae = vae;
        self.opt = opt;
        self.lr = lr;
        self.rng = saved.rng.clone();
        self.batcher = saved.batcher.clone();
        Ok(())
    }

    fn non_finite_parameter(&self) -> Option<String> {
        state::first_non_finite(&self.vae).map(|p| format!("vae.{p}"))
    }

    fn set_interpolation_pair(&mut self, a: usize, b: usize) {
        let n = self.held_out.len() / self.shape.flat_len().max(1);
        if a < n && b < n {
            self.interpolation_pair = (a, b);
        }
    }
}
