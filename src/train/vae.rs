//! One VAE training step, held-out evaluation and snapshots.

use super::events::{PointsView, RgbaImage, Samples};
use super::losses::{kl_per_dim, reconstruction_loss};
use super::quality::ImageQuality;
use super::state;
use super::tensors::{image_grid, matrix, scalar, values};
use super::trainer::{Trainer, Values};
use crate::checkpoint::TrainerState;
use crate::config::{Experiment, ModelConfig, OptimizerConfig, Reconstruction};
use crate::data::SeededRng;
use crate::data::{normal_latents, Batcher, Dataset, ImageSet, PointSet};
use crate::eval::likelihood::{importance_weighted, sampled_elbo, Posterior};
use crate::modality::audio::views::AudioSnapshots;
use crate::modality::points::views::{bounds_of, VIEW_POINTS};
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
const GRID_IMAGES: usize = 64;
const RECON_PAIRS: usize = 16;
/// Held-out clips played beside their reconstructions.
const AUDIO_PAIRS: usize = 8;
const POINT_SAMPLES: usize = 2000;
/// Cells per side of the decoded latent map (2-D latents only).
const LATENT_MAP_SIDE: usize = 12;
/// Latent dimensions shown in the traversal, and decodings per dimension.
const TRAVERSAL_ROWS: usize = 8;
const TRAVERSAL_STEPS: usize = 9;
/// Decodings between the two inputs of the interpolation.
const INTERPOLATION_STEPS: usize = 8;

/// A `side` x `side` grid of 2-D latent points over [-r, r]^2, top row = largest y.
fn latent_grid(side: usize, r: f32) -> Vec<f32> {
    let at = |i: usize| -r + 2.0 * r * i as f32 / (side - 1).max(1) as f32;
    (0..side)
        .flat_map(|row| (0..side).flat_map(move |col| [at(col), at(side - 1 - row)]))
        .collect()
}

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
    quality: Option<ImageQuality>,
    /// Pitch coverage and spectra, for audio data.
    audio: Option<AudioSnapshots>,
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
        if let SampleShape::Text { .. } = shape {
            return Err(ModelError(crate::model::TEXT_NEEDS_GRU.into()));
        }
        let t = &exp.training;
        let (data, held_out, held_out_labels) = split_held_out(data);
        let quality = match &data {
            Dataset::Images(set) => ImageQuality::new(
                crate::modality::images::evaluator::for_data(&exp.data),
                set,
                *latent_dim,
                t.seed,
                device,
            ),
            Dataset::Points(_) | Dataset::Audio(_) | Dataset::Text(_) => None,
        };
        let audio = match &data {
            Dataset::Audio(set) => Some(AudioSnapshots::new(set, &exp.data, device)),
            _ => None,
        };
        let mut rng = SeededRng::seed_from_u64(t.seed);
        let mut estimator_rng = SeededRng::seed_from_u64(t.seed ^ ESTIMATOR_SEED);
        let n_held = held_out.len() / shape.flat_len().max(1);
        let elbo_noise = normal_latents(&mut estimator_rng, n_held, *latent_dim);
        let iw_noise = (0..IW_SAMPLES)
            .map(|_| normal_latents(&mut estimator_rng, n_held.min(IW_EXAMPLES), *latent_dim))
            .collect();
        let n_fixed = match shape {
            SampleShape::Point2 | SampleShape::Text { .. } => POINT_SAMPLES,
            SampleShape::Image { .. } => GRID_IMAGES,
            SampleShape::Audio { .. } => super::gan::AUDIO_CLIPS,
        };
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
            quality,
            audio,
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

    /// Rows: the most active latent dimensions (by held-out KL), each swept from -3 to 3
    /// around the code of held-out input 0 while the others stay put.
    fn traversal(
        &self,
        vae: &Vae,
        codes: &[f32],
        kl_dims: &[f32],
        device: &Device,
    ) -> Option<RgbaImage> {
        let SampleShape::Image {
            channels,
            height,
            width,
        } = self.shape
        else {
            return None;
        };
        let latent = vae.latent_dim();
        let base = codes.get(..latent)?;
        let mut dims: Vec<usize> = (0..latent).collect();
        dims.sort_by(|a, b| kl_dims[*b].total_cmp(&kl_dims[*a]));
        dims.truncate(TRAVERSAL_ROWS);
        let mut z = Vec::with_capacity(dims.len() * TRAVERSAL_STEPS * latent);
        for &d in &dims {
            for k in 0..TRAVERSAL_STEPS {
                let mut code = base.to_vec();
                code[d] = -3.0 + 6.0 * k as f32 / (TRAVERSAL_STEPS - 1) as f32;
                z.extend(code);
            }
        }
        let n = dims.len() * TRAVERSAL_STEPS;
        let decoded = values(self.to_values(vae.decode(matrix(&z, n, latent, device))));
        Some(image_grid(
            &decoded,
            n,
            channels,
            [height, width],
            TRAVERSAL_STEPS,
        ))
    }

    /// Held-out inputs `a` and `b` at the ends of a row of decodings along the straight
    /// line between their codes.
    fn interpolation(&self, vae: &Vae, codes: &[f32], device: &Device) -> Option<RgbaImage> {
        let SampleShape::Image {
            channels,
            height,
            width,
        } = self.shape
        else {
            return None;
        };
        let latent = vae.latent_dim();
        let len = self.shape.flat_len();
        let (a, b) = self.interpolation_pair;
        let code = |i: usize| codes.get(i * latent..(i + 1) * latent);
        let (za, zb) = (code(a)?, code(b)?);
        let mut z = Vec::with_capacity(INTERPOLATION_STEPS * latent);
        for k in 0..INTERPOLATION_STEPS {
            let t = k as f32 / (INTERPOLATION_STEPS - 1) as f32;
            z.extend(za.iter().zip(zb).map(|(p, q)| p + t * (q - p)));
        }
        let decoded =
            values(self.to_values(vae.decode(matrix(&z, INTERPOLATION_STEPS, latent, device))));
        let mut row = self.held_out[a * len..(a + 1) * len].to_vec();
        row.extend(decoded);
        row.extend_from_slice(&self.held_out[b * len..(b + 1) * len]);
        let n = INTERPOLATION_STEPS + 2;
        Some(image_grid(&row, n, channels, [height, width], n))
    }

    fn held_out_matrix(&self, device: &Device) -> (Tensor<2>, usize) {
        let n = self.held_out.len() / self.shape.flat_len();
        (matrix(&self.held_out, n, self.shape.flat_len(), device), n)
    }
}

impl VaeTrainer {
    /// The snapshot's views, and the metrics that come with them.
    fn views(&mut self) -> (Samples, Values) {
        let device = self.device.clone().inner();
        let vae = self.vae.valid();
        let latent = vae.latent_dim();
        let n = self.fixed_z.len() / latent;
        let generated =
            values(self.to_values(vae.decode(matrix(&self.fixed_z, n, latent, &device))));
        match self.shape {
            SampleShape::Image {
                channels,
                height,
                width,
            } => {
                let grid = image_grid(&generated, n, channels, [height, width], 8);
                // Inputs beside their reconstructions, in pairs.
                let len = self.shape.flat_len();
                let pairs = RECON_PAIRS.min(self.held_out.len() / len);
                let inputs = &self.held_out[..pairs * len];
                let (mean, _) = vae.encode(matrix(inputs, pairs, len, &device));
                let recon = values(self.to_values(vae.decode(mean)));
                let mut interleaved = Vec::with_capacity(2 * pairs * len);
                for i in 0..pairs {
                    interleaved.extend_from_slice(&inputs[i * len..(i + 1) * len]);
                    interleaved.extend_from_slice(&recon[i * len..(i + 1) * len]);
                }
                let reconstructions = Some(image_grid(
                    &interleaved,
                    2 * pairs,
                    channels,
                    [height, width],
                    8,
                ));
                let n_held = self.held_out.len() / len;
                let (held_mean, held_logvar) =
                    vae.encode(matrix(&self.held_out, n_held, len, &device));
                let kl_dims = values(kl_per_dim(held_mean.clone(), held_logvar));
                let codes = values(held_mean);
                let traversal = self.traversal(&vae, &codes, &kl_dims, &device);
                let interpolation = self.interpolation(&vae, &codes, &device);
                let mut metrics = Vec::new();
                if let Some(q) = &self.quality {
                    let images = values(self.to_values(vae.decode(q.latent_matrix(latent))));
                    metrics.extend(q.measure(&images));
                }
                let latent_map = (latent == 2).then(|| {
                    let z = latent_grid(LATENT_MAP_SIDE, 2.5);
                    let n = LATENT_MAP_SIDE * LATENT_MAP_SIDE;
                    let decoded = values(self.to_values(vae.decode(matrix(&z, n, 2, &device))));
                    image_grid(&decoded, n, channels, [height, width], LATENT_MAP_SIDE)
                });
                let encoded = (latent == 2).then(|| {
                    let n = self.held_out.len() / len;
                    let (mean, _) = vae.encode(matrix(&self.held_out, n, len, &device));
                    let means: Vec<[f32; 2]> =
                        values(mean).chunks_exact(2).map(|p| [p[0], p[1]]).collect();
                    crate::run::render::class_scatter(
                        &means,
                        self.held_out_labels.as_deref(),
                        3.0,
                        240,
                    )
                });
                (
                    Samples::Images {
                        grid,
                        reconstructions,
                        latent_map,
                        encoded,
                        traversal,
                        interpolation,
                        kl_per_dim: Some(kl_dims),
                    },
                    metrics,
                )
            }
            SampleShape::Audio { length } => {
                let Some(audio) = &self.audio else {
                    return (Samples::Points(PointsView::default()), Vec::new());
                };
                let (view, metrics) = audio.snapshot(&generated);
                // Held-out inputs beside what the VAE makes of them.
                let pairs = RECON_PAIRS
                    .min(self.held_out.len() / length)
                    .min(AUDIO_PAIRS);
                let inputs = &self.held_out[..pairs * length];
                let (mean, _) = vae.encode(matrix(inputs, pairs, length, &device));
                let recon = values(self.to_values(vae.decode(mean)));
                let view = view.with_pairs(audio.split(inputs, pairs), audio.split(&recon, pairs));
                (Samples::Audio(view), metrics)
            }
            SampleShape::Point2 | SampleShape::Text { .. } => {
                let Dataset::Points(set) = &self.data else {
                    return (Samples::grid(image_grid(&[], 0, 1, [1, 1], 1)), vec![]);
                };
                let real = set.thinned(VIEW_POINTS);
                let generated: Vec<[f32; 2]> =
                    generated.chunks_exact(2).map(|p| [p[0], p[1]]).collect();
                let bounds = bounds_of(&real);
                let view = PointsView {
                    real,
                    generated,
                    bounds,
                    ..Default::default()
                };
                (Samples::Points(view), Vec::new())
            }
        }
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

/// Takes up to `HELD_OUT` samples (at most a tenth) away from training.
fn split_held_out(data: Dataset) -> (Dataset, Vec<f32>, Option<Vec<u8>>) {
    match data {
        Dataset::Images(mut set) => {
            let n = HELD_OUT.min(set.len() / 10);
            let held: ImageSet = set.split_off(n);
            (Dataset::Images(set), held.pixels, held.labels)
        }
        Dataset::Audio(mut set) => {
            let n = HELD_OUT.min(set.len() / 10);
            let held = set.split_off(n);
            (Dataset::Audio(set), held.samples, held.labels)
        }
        // Refused by `VaeTrainer::new` before it splits.
        Dataset::Text(set) => (Dataset::Text(set), Vec::new(), None),
        Dataset::Points(mut set) => {
            let n = HELD_OUT.min(set.points.len() / 10);
            let keep = set.points.len() - n;
            let held: Vec<f32> = set.points.split_off(keep).into_iter().flatten().collect();
            (Dataset::Points(PointSet { ..set }), held, None)
        }
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
