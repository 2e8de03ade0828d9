//! What the session needs from a model family: one step, a snapshot, learning rates.

use super::events::Samples;
use crate::checkpoint::TrainerState;

/// Scalar values of one step, in a fixed order per family.
pub type Values = Vec<(&'static str, f64)>;

pub trait Trainer {
    /// One optimisation step (for a GAN: `d_steps` discriminator updates and one
    /// generator update). Returns the step's losses.
    fn step(&mut self) -> Values;
    /// The step about to run (0 first): for schedules over the step budget. The session
    /// says it before every step, so a resumed run follows the same schedule.
    fn at_step(&mut self, _step: u64) {}
    /// GAN: one update of one network alone; `None` where the family has no such part.
    fn step_part(&mut self, _part: super::events::Part) -> Option<Values> {
        None
    }
    /// Samples from the fixed noise batch (or fixed inputs), and evaluation metrics.
    fn snapshot(&mut self) -> (Samples, Values);
    /// Metrics that are cheap enough to compute on every metrics row (held-out loss...).
    fn periodic_metrics(&mut self) -> Values {
        Vec::new()
    }
    fn set_learning_rates(&mut self, generator: Option<f64>, discriminator: Option<f64>);
    fn learning_rates(&self) -> (f64, Option<f64>);
    fn parameters(&self) -> usize;
    /// Draws every parameter's initial value now (burn draws them lazily, at first use).
    fn initialize_parameters(&self);
    /// Everything needed to continue exactly from here (models, optimizers, RNG, data order).
    fn save_state(&self) -> Result<TrainerState, String>;
    /// Restores a saved state; the models must have the shapes the state was saved with.
    fn load_state(&mut self, state: &TrainerState) -> Result<(), String>;
    /// Where the first NaN or infinite parameter is, if any ("generator.net.output...").
    fn non_finite_parameter(&self) -> Option<String>;
    /// `n` fresh samples from latents drawn with `seed`, flat, in the data's range
    /// (images in [0, 1]): what `genlab sample` writes out for outside scoring.
    fn generate(&self, n: usize, seed: u64) -> Vec<f32>;
    /// VAE: which two held-out inputs the interpolation runs between (others: ignored).
    fn set_interpolation_pair(&mut self, _a: usize, _b: usize) {}
    /// A conditional model's classes, by name in label order (empty otherwise).
    fn class_names(&self) -> Vec<String> {
        Vec::new()
    }
    /// Conditional model: the class the snapshots' samples show (`None`: all in rotation).
    fn show_class(&mut self, _class: Option<usize>) {}
}
