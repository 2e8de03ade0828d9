//! How a kind of data turns a model into a snapshot: the views a person sees of the
//! samples and the quality metrics measured on them. The GAN and VAE trainers know how
//! to step their family; they hand each snapshot to their data's `Snapshots` with a
//! probe that answers questions of the networks in plain values, and never ask which
//! kind of data it is.

use crate::data::Dataset;
use crate::train::trainer::Values;
use crate::train::Samples;

/// A GAN's networks as a snapshot may question them, in plain values.
pub trait GanProbe {
    /// The latent width (class codes not counted).
    fn latent(&self) -> usize;
    /// The generator's output for flat latents, in the data's range (a conditional
    /// generator's classes in rotation).
    fn generate(&self, z: &[f32]) -> Vec<f32>;
    /// The discriminator's output, as a probability of being real, for flat samples
    /// `width` values each.
    fn discriminate(&self, x: &[f32], width: usize) -> Vec<f32>;
    /// Where the generator's loss pushes each flat sample: minus its gradient with
    /// respect to the sample, through the discriminator as it is now.
    fn push(&self, x: &[f32], width: usize) -> Vec<f32>;
    /// Columns a grid of the shown samples takes: one per class of a conditional
    /// generator asked for its classes in rotation, else 8.
    fn grid_columns(&self) -> usize;
    /// The class of each of the first `n` shown samples, by name (empty when
    /// unconditional).
    fn class_names(&self, n: usize) -> Vec<String>;
}

/// A GAN snapshot: the generator's output for the fixed noise and what is shown of it.
pub struct GanShot<'a> {
    /// Every class in rotation: what the metrics measure.
    pub generated: &'a [f32],
    /// What the view shows: `generated`, or one chosen class in every sample.
    pub shown: &'a [f32],
    pub probe: &'a dyn GanProbe,
}

/// A VAE's networks as a snapshot may question them, in plain values.
pub trait VaeProbe {
    fn latent(&self) -> usize;
    /// Decoded latents, in the data's range.
    fn decode(&self, z: &[f32]) -> Vec<f32>;
    /// The posterior means of flat inputs, and their KL per latent dimension (nats,
    /// averaged over the inputs).
    fn encode(&self, x: &[f32]) -> (Vec<f32>, Vec<f32>);
}

/// A VAE snapshot: decoded fixed noise and the held-out inputs to show beside it.
pub struct VaeShot<'a> {
    pub generated: &'a [f32],
    /// Held-out inputs, flat, and their labels where the data has them.
    pub held_out: &'a [f32],
    pub held_out_labels: Option<&'a [u8]>,
    /// The two held-out inputs to interpolate between.
    pub interpolation_pair: (usize, usize),
    pub probe: &'a dyn VaeProbe,
}

/// What a kind of data does at each snapshot of a flat GAN or VAE, made once per run by
/// `Modality::snapshots` (holding what it measures against: real features, pitch
/// references).
pub trait Snapshots {
    /// Samples drawn from fixed noise at each snapshot.
    fn count(&self) -> usize;
    /// Whether a GAN sees the data in [-1, 1] (a tanh generator) while it is stored in
    /// [0, 1]: the trainer maps real batches in and generated samples back.
    fn centred_for_gan(&self) -> bool {
        false
    }
    /// A GAN snapshot's views and metrics.
    fn gan(&self, data: &Dataset, shot: GanShot) -> (Samples, Values);
    /// A VAE snapshot's views and metrics.
    fn vae(&self, data: &Dataset, shot: VaeShot) -> (Samples, Values);
}
