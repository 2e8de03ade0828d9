//! One GAN training step and its snapshots.

use super::classes::Classes;
use super::events::{Part, Samples};
use super::losses::{discriminator_loss, generator_loss};
use super::state;
use super::tensors::{matrix, values};
use super::trainer::{Trainer, Values};
use crate::checkpoint::TrainerState;
use crate::config::{Experiment, GanLoss, ModelConfig, OptimizerConfig};
use crate::data::SeededRng;
use crate::data::{normal_latents, Batcher, Dataset};
use crate::eval;
use crate::modality::snapshot::{GanProbe, GanShot, Snapshots};
use crate::model::{Discriminator, DiscriminatorOptions, Generator, ModelError, SampleShape};
use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use burn::tensor::activation::sigmoid;
use rand::SeedableRng;

pub struct GanTrainer {
    g: Generator,
    d: Discriminator,
    opt_g: ModuleOptimizer,
    opt_d: ModuleOptimizer,
    /// The optimizer configs (generator, discriminator), to rebuild them on resume.
    optimizers: (OptimizerConfig, OptimizerConfig),
    lr_g: f64,
    lr_d: f64,
    loss: GanLoss,
    clip: Option<f32>,
    latent: usize,
    d_steps: usize,
    batch: usize,
    data: Dataset,
    batcher: Batcher,
    rng: SeededRng,
    /// The fixed noise batch every snapshot is drawn from, so snapshots are comparable.
    fixed_z: Vec<f32>,
    device: Device,
    /// What the data's kind makes of each snapshot: views and quality metrics.
    snapshots: Box<dyn Snapshots>,
    /// L2 norm of the generator's gradients at the last step (vanishing-gradient watch).
    g_grad_norm: f64,
    /// Standard deviation of the noise added to what the discriminator sees at step 0
    /// (0: none), the step budget it falls to 0 over, and its value at this step.
    instance_noise: f32,
    budget: u64,
    noise_now: f32,
    /// Largest phase-shuffle shift in samples (0: none).
    phase_shuffle: usize,
    /// A conditional GAN's classes (none: unconditional).
    classes: Classes,
    /// The class the snapshots show (`None`: every class in rotation).
    shown_class: Option<usize>,
}

impl GanTrainer {
    pub fn new(
        exp: &Experiment,
        data: Dataset,
        shape: SampleShape,
        device: &Device,
    ) -> Result<Self, ModelError> {
        let ModelConfig::Gan {
            latent_dim,
            generator,
            discriminator,
            loss,
            spectral_norm,
            clip,
            minibatch_std,
            instance_noise,
            phase_shuffle,
            spectrogram_discriminator,
            pack,
            conditional,
        } = &exp.model
        else {
            return Err(ModelError("not a GAN experiment".into()));
        };
        let snapshots = crate::modality::of_dataset(&data)
            .snapshots(&data, exp, device)
            .map_err(ModelError)?;
        let classes = match (*conditional, data.classes()) {
            (false, _) => 0,
            (true, 0) => {
                return Err(ModelError(
                    "a conditional GAN needs labelled data, and these samples have no labels (put a folder's images or WAV files in one subfolder per class)".into(),
                ))
            }
            (true, n) => n,
        };
        let t = &exp.training;
        let mut rng = SeededRng::seed_from_u64(t.seed);
        let fixed_z = normal_latents(&mut rng, snapshots.count(), *latent_dim);
        Ok(GanTrainer {
            snapshots,
            instance_noise: *instance_noise,
            budget: t.steps,
            noise_now: *instance_noise,
            phase_shuffle: *phase_shuffle,
            g_grad_norm: 0.0,
            g: Generator::new(generator, *latent_dim, classes, shape, device)?,
            d: Discriminator::new(
                discriminator,
                shape,
                DiscriminatorOptions {
                    spectral: *spectral_norm,
                    minibatch_std: *minibatch_std,
                    spectrogram: *spectrogram_discriminator,
                    pack: *pack,
                    classes,
                },
                device,
            )?,
            classes: Classes::new(classes, data.class_names()),
            shown_class: None,
            opt_g: super::optim::build(&t.generator_optimizer),
            opt_d: super::optim::build(exp.discriminator_optimizer()),
            optimizers: (
                t.generator_optimizer.clone(),
                exp.discriminator_optimizer().clone(),
            ),
            lr_g: t.generator_optimizer.lr,
            lr_d: exp.discriminator_optimizer().lr,
            loss: *loss,
            clip: (*loss == GanLoss::Wasserstein).then_some(*clip),
            latent: *latent_dim,
            d_steps: t.d_steps,
            batch: t.batch_size,
            batcher: Batcher::new(data.len(), t.seed),
            data,
            rng,
            fixed_z,
            device: device.clone(),
        })
    }

    /// A real batch as the discriminator sees it (images scaled to [-1, 1]), and its
    /// labels (empty unless the GAN is conditional).
    fn real_batch(&mut self) -> (Tensor<2>, Vec<u8>) {
        let n = self.data.sample_len();
        let x = matrix(
            self.batcher.next(&self.data, self.batch),
            self.batch,
            n,
            &self.device,
        );
        let labels = match self.classes.count() {
            0 => Vec::new(),
            _ => self.batcher.last_labels(&self.data),
        };
        let x = match self.snapshots.centred_for_gan() {
            false => x,
            true => x.mul_scalar(2.0).sub_scalar(1.0),
        };
        (x, labels)
    }

    /// Classes for a generated batch (empty when unconditional).
    fn fake_labels(&mut self) -> Vec<u8> {
        self.classes
            .draw(self.data.labels(), &mut self.rng, self.batch)
    }

    /// `x` as the discriminator sees it: with instance noise when the experiment asks for it.
    fn blurred(&mut self, x: Tensor<2>) -> Tensor<2> {
        if self.noise_now <= 0.0 {
            return x;
        }
        let [rows, cols] = x.dims();
        let mut noise = normal_latents(&mut self.rng, rows, cols);
        noise.iter_mut().for_each(|v| *v *= self.noise_now);
        x + matrix(&noise, rows, cols, &self.device)
    }

    /// Random shifts for one discriminator pass: one per conv layer but the last.
    fn shifts(&mut self) -> Vec<isize> {
        use rand::Rng;
        let n = self.phase_shuffle as i64;
        if n == 0 {
            return Vec::new();
        }
        (0..self.d.conv_layers().saturating_sub(1))
            .map(|_| self.rng.random_range(-n..=n) as isize)
            .collect()
    }

    fn noise(&mut self, n: usize) -> Tensor<2> {
        matrix(
            &normal_latents(&mut self.rng, n, self.latent),
            n,
            self.latent,
            &self.device,
        )
    }

    /// Generator output for the fixed noise, as plain values (images back in [0, 1]).
    fn fixed_samples(&self) -> Vec<f32> {
        self.generate_from(&self.fixed_z)
    }

    /// The generator's output for flat latents, images mapped from tanh's range to [0, 1]
    /// (a conditional generator's classes in rotation).
    fn generate_from(&self, z: &[f32]) -> Vec<f32> {
        self.generate_class(z, None)
    }

    /// As `generate_from`, a conditional generator asked for `class` in every row
    /// (`None`: the classes in rotation).
    fn generate_class(&self, z: &[f32], class: Option<usize>) -> Vec<f32> {
        let g = self.g.valid();
        let device = self.device.clone().inner();
        let input = self.classes.with_codes(z, self.latent, class);
        let width = self.latent + self.classes.count();
        let out = eval::evaluator::in_batches(&input, width, &device, |z| g.forward(z));
        match self.snapshots.centred_for_gan() {
            false => out,
            true => out.iter().map(|v| (v + 1.0) * 0.5).collect(),
        }
    }
}

/// The networks as the data's snapshots question them.
impl GanProbe for GanTrainer {
    fn latent(&self) -> usize {
        self.latent
    }

    fn generate(&self, z: &[f32]) -> Vec<f32> {
        self.generate_from(z)
    }

    fn discriminate(&self, x: &[f32], width: usize) -> Vec<f32> {
        let x = matrix(
            x,
            x.len() / width.max(1),
            width,
            &self.device.clone().inner(),
        );
        values(sigmoid(self.d.valid().forward(x)))
    }

    /// Through the discriminator as it is now, whose weights stay as they are.
    fn push(&self, x: &[f32], width: usize) -> Vec<f32> {
        let x = matrix(x, x.len() / width.max(1), width, &self.device).require_grad();
        let loss = generator_loss(self.loss, self.d.clone().no_grad().forward(x.clone()));
        let grads = loss.backward();
        let Some(g) = x.grad(&grads) else {
            return Vec::new();
        };
        values(g).into_iter().map(|v| -v).collect()
    }

    fn grid_columns(&self) -> usize {
        let chosen = self.shown_class.filter(|&c| c < self.classes.count());
        match (self.classes.count(), chosen) {
            (c @ 2..=16, None) => c,
            _ => 8,
        }
    }

    fn class_names(&self, n: usize) -> Vec<String> {
        self.classes.shown_names(n, self.shown_class)
    }
}

impl GanTrainer {
    /// `d_updates` discriminator updates, then a generator update when `g_update`: one
    /// training step is `(d_steps, true)`; Step D and Step G are `(1, false)`, `(0, true)`.
    fn updates(&mut self, d_updates: usize, g_update: bool) -> Values {
        let mut last_fake = None;
        // [loss_d, D(x) logit, D(G(z)) logit] of the last D update and its class loss (a
        // conditional GAN's), read back with the G values in one transfer: on a GPU every
        // read is a wait for the queue.
        let mut d_report = None;
        for _ in 0..d_updates {
            let (real, real_labels) = self.real_batch();
            let fake_labels = self.fake_labels();
            let z = self.noise(self.batch);
            // [batch, features], tracked for the G update
            let fake = self
                .g
                .forward(self.classes.generator_input(z, &fake_labels));
            let (real, seen_fake) = (self.blurred(real), self.blurred(fake.clone().detach()));
            let (shift_real, shift_fake) = (self.shifts(), self.shifts());
            let (logits_real, classes_real) = self
                .classes
                .split(self.d.forward_shifted(real, &shift_real));
            let (logits_fake, _) = self
                .classes
                .split(self.d.forward_shifted(seen_fake, &shift_fake));
            let means = [
                logits_real.clone().detach().mean(),
                logits_fake.clone().detach().mean(),
            ];
            let mut loss_d = discriminator_loss(self.loss, logits_real, logits_fake);
            // AC-GAN's classifier learns the classes from real samples only, so that it
            // cannot be taught the generator's mistakes.
            let class_loss = classes_real.map(|logits| self.classes.loss(logits, &real_labels));
            if let Some(c) = &class_loss {
                loss_d = loss_d + c.clone();
            }
            d_report = Some((
                Tensor::cat(
                    vec![loss_d.clone().detach(), means[0].clone(), means[1].clone()],
                    0,
                ),
                class_loss.map(|c| c.detach()),
            ));
            let grads = GradientsParams::from_grads(loss_d.backward(), &self.d);
            self.d = self.opt_d.step(self.lr_d, self.d.clone(), grads);
            if let Some(c) = self.clip {
                self.d = self.d.clone().clip_weights(c);
            }
            last_fake = Some((fake, fake_labels));
        }
        if !g_update {
            let v = d_report
                .map(|(main, class)| {
                    values(Tensor::cat([main].into_iter().chain(class).collect(), 0))
                })
                .unwrap_or_default();
            let at = |i: usize| v.get(i).map(|x| *x as f64).unwrap_or(f64::NAN);
            let mut report = vec![("loss_d", at(0)), ("d_real", at(1)), ("d_fake", at(2))];
            if self.classes.count() > 0 {
                report.push(("class_loss", at(3)));
            }
            return report;
        }
        // The generator update reuses the last fake batch, as the PyTorch DCGAN example does.
        let (fake, fake_labels) = last_fake.unwrap_or_else(|| {
            let labels = self.fake_labels();
            let z = self.noise(self.batch);
            (
                self.g.forward(self.classes.generator_input(z, &labels)),
                labels,
            )
        });
        // D's parameters are constants here: its weight gradients would be thrown away
        // (8 % of a DCGAN step's products), so they are not computed.
        let fake = self.blurred(fake);
        let shifts = self.shifts();
        let (logits, classes) = self
            .classes
            .split(self.d.clone().no_grad().forward_shifted(fake, &shifts));
        let mut loss_g = generator_loss(self.loss, logits);
        // The share of the batch the classifier puts in the class asked for.
        let mut class_match = None;
        if let Some(logits) = classes {
            class_match = Some(self.classes.matched(logits.clone(), &fake_labels));
            loss_g = loss_g + self.classes.loss(logits, &fake_labels);
        }
        let loss_g_report = loss_g.clone().detach();
        let grads = GradientsParams::from_grads(loss_g.backward(), &self.g);
        let g_norm_sq = state::gradient_square_sum(&self.g, &grads);
        self.g = self.opt_g.step(self.lr_g, self.g.clone(), grads);
        let device = loss_g_report.device();
        let zero = || Tensor::zeros([1], &device);
        let (d_main, d_class) = d_report.unwrap_or_else(|| (Tensor::zeros([3], &device), None));
        // [loss_d, D(x), D(G(z)), loss_g, |grad G|^2], then a conditional GAN's class loss
        // and class match: an unconditional step reads back no more than it needs.
        let mut parts = vec![d_main, loss_g_report, g_norm_sq.unwrap_or_else(zero)];
        let conditional = self.classes.count() > 0;
        if conditional {
            parts.push(d_class.unwrap_or_else(zero));
            parts.push(class_match.unwrap_or_else(zero));
        }
        let v = values(Tensor::cat(parts, 0));
        let at = |i: usize| v.get(i).map(|x| *x as f64).unwrap_or(f64::NAN);
        self.g_grad_norm = at(4).sqrt();
        let mut report = vec![
            ("loss_d", at(0)),
            ("loss_g", at(3)),
            ("d_real", at(1)),
            ("d_fake", at(2)),
            ("g_grad_norm", self.g_grad_norm),
        ];
        if conditional {
            report.extend([("class_loss", at(5)), ("class_match", at(6))]);
        }
        report
    }
}

impl Trainer for GanTrainer {
    fn at_step(&mut self, step: u64) {
        self.noise_now = match self.budget {
            0 => self.instance_noise,
            n => self.instance_noise * (1.0 - step as f32 / n as f32).max(0.0),
        };
    }

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
        // Metrics are measured on every class in rotation; the view shows the class chosen.
        let generated = self.fixed_samples();
        let chosen = self
            .shown_class
            .filter(|&c| c < self.classes.count())
            .map(|c| self.generate_class(&self.fixed_z, Some(c)));
        let shot = GanShot {
            generated: &generated,
            shown: chosen.as_deref().unwrap_or(&generated),
            probe: self,
        };
        self.snapshots.gan(&self.data, shot)
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

    fn class_names(&self) -> Vec<String> {
        self.classes.names()
    }

    fn show_class(&mut self, class: Option<usize>) {
        self.shown_class = class;
    }

    fn generate(&self, n: usize, seed: u64) -> Vec<f32> {
        let mut rng = SeededRng::seed_from_u64(seed);
        self.generate_from(&normal_latents(&mut rng, n, self.latent))
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
            family: "gan".into(),
            modules: vec![g, d],
            optimizers: vec![opt_g, opt_d],
            power_vectors: self
                .d
                .power_iterations()
                .iter()
                .map(|p| p.vector())
                .collect(),
            rng: self.rng.clone(),
            batcher: self.batcher.clone(),
            learning_rates: (self.lr_g, Some(self.lr_d)),
        })
    }

    fn load_state(&mut self, saved: &TrainerState) -> Result<(), String> {
        saved.check_family("gan", "a GAN")?;
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
        let lr_d = saved
            .learning_rates
            .1
            .map(state::saved_learning_rate)
            .transpose()?;
        let powers = d.power_iterations();
        if !saved.power_vectors.is_empty() && saved.power_vectors.len() != powers.len() {
            return Err(format!(
                "the checkpoint has {} spectral-norm vectors, this discriminator {}",
                saved.power_vectors.len(),
                powers.len()
            ));
        }
        for (p, v) in powers.iter().zip(&saved.power_vectors) {
            p.set_vector(v, &self.device);
        }
        // Only now, with every part read, does the trainer change.
        self.g = g;
        self.d = d;
        self.opt_g = opt_g;
        self.opt_d = opt_d;
        self.lr_g = lr_g;
        self.lr_d = lr_d.unwrap_or(self.lr_d);
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
