//! Image quality on the evaluator's features: Frechet distance, KID, precision and recall
//! of generated images against real ones, and the feature spread (diversity).
//! Cost per evaluation (at each snapshot, on the training thread): generating
//! `QUALITY_SAMPLES` images and their features, plus O(n^2) sums over 64-d features;
//! about 0.2 s on one core for the DCGAN preset (see BENCHMARKS.md).

use super::tensors::matrix;
use super::trainer::Values;
use crate::data::{toy, ImageSet, SeededRng};
use crate::eval::evaluator::{Evaluator, SavedEvaluator, FEATURES};
use crate::eval::features::FeatureReference;
use burn::prelude::*;
use rand::SeedableRng;

pub const QUALITY_SAMPLES: usize = 512;

pub struct ImageQuality {
    evaluator: Evaluator,
    real: FeatureReference,
    /// Fixed latents the generated set is drawn from (own RNG: training's stays untouched,
    /// so evaluating never changes what a resumed run does).
    pub latents: Vec<f32>,
    device: Device,
}

impl ImageQuality {
    /// `None` when no evaluator exists for this data or it was made for another shape.
    pub fn new(
        saved: Option<SavedEvaluator>,
        real: &ImageSet,
        latent_dim: usize,
        seed: u64,
        device: &Device,
    ) -> Option<ImageQuality> {
        let saved = saved?;
        if saved.channels != real.channels || saved.side != real.height || real.height != real.width
        {
            return None;
        }
        let device = device.clone().inner();
        let evaluator = saved.model(&device).ok()?;
        let n = real.len().min(QUALITY_SAMPLES);
        let real_features = evaluator.features_of(&real.pixels[..n * real.image_len()], &device);
        let mut rng = SeededRng::seed_from_u64(seed ^ 0xe7a1_0a7e);
        Some(ImageQuality {
            evaluator,
            real: FeatureReference::new(real_features, FEATURES),
            latents: toy::normal_latents(&mut rng, QUALITY_SAMPLES, latent_dim),
            device,
        })
    }

    /// Latents as a `[QUALITY_SAMPLES, latent]` tensor on the inference device.
    pub fn latent_matrix(&self, latent_dim: usize) -> Tensor<2> {
        matrix(&self.latents, QUALITY_SAMPLES, latent_dim, &self.device)
    }

    /// The metrics of `generated` images (values in [0, 1]).
    pub fn measure(&self, generated: &[f32]) -> Values {
        self.real
            .scores(self.evaluator.features_of(generated, &self.device))
    }
}
