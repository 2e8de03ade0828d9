//! Image quality on the evaluator's features: Frechet distance, KID, precision and recall
//! of generated images against real ones, and the feature spread (diversity).
//! Cost per evaluation (at each snapshot, on the training thread): generating
//! `QUALITY_SAMPLES` images and their features, plus O(n^2) sums over 64-d features;
//! about 0.2 s on one core for the DCGAN preset (see BENCHMARKS.md).

use super::tensors::matrix;
use super::trainer::Values;
use crate::data::{toy, ImageSet, SeededRng};
use crate::eval::evaluator::{Evaluator, SavedEvaluator, FEATURES};
use crate::eval::features;
use burn::prelude::*;
use rand::SeedableRng;

pub const QUALITY_SAMPLES: usize = 512;
/// Neighbours that set the radius of each sample's ball in precision / recall.
const PR_K: usize = 3;

pub struct ImageQuality {
    evaluator: Evaluator,
    real: Vec<f32>,
    /// Fixed latents the generated set is drawn from (own RNG: training's stays untouched,
    /// so evaluating never changes what a resumed run does).
    pub latents: Vec<f32>,
    /// Multiplies every feature (1 / the real features' mean spread).
    scale: f32,
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
        let mut real_features =
            evaluator.features_of(&real.pixels[..n * real.image_len()], &device);
        // Features are rescaled so the real ones spread about 1 per dimension: distances
        // then read the same whatever the network's activation scale (KID's cubic kernel
        // would otherwise run into the hundreds of thousands).
        let scale = 1.0 / feature_spread(&real_features).max(1e-12) as f32;
        real_features.iter_mut().for_each(|v| *v *= scale);
        let mut rng = SeededRng::seed_from_u64(seed ^ 0xe7a1_0a7e);
        Some(ImageQuality {
            evaluator,
            real: real_features,
            latents: toy::normal_latents(&mut rng, QUALITY_SAMPLES, latent_dim),
            scale,
            device,
        })
    }

    /// Latents as a `[QUALITY_SAMPLES, latent]` tensor on the inference device.
    pub fn latent_matrix(&self, latent_dim: usize) -> Tensor<2> {
        matrix(&self.latents, QUALITY_SAMPLES, latent_dim, &self.device)
    }

    /// The metrics of `generated` images (values in [0, 1]).
    pub fn measure(&self, generated: &[f32]) -> Values {
        let mut fake = self.evaluator.features_of(generated, &self.device);
        fake.iter_mut().for_each(|v| *v *= self.scale);
        let (precision, recall) = features::precision_recall(&self.real, &fake, FEATURES, PR_K);
        vec![
            (
                "fd",
                features::frechet_distance(&self.real, &fake, FEATURES),
            ),
            (
                "kid",
                features::kernel_distance(&self.real, &fake, FEATURES),
            ),
            ("precision", precision),
            ("recall", recall),
            (
                "diversity",
                feature_spread(&fake) / feature_spread(&self.real).max(1e-12),
            ),
        ]
    }
}

/// Mean per-feature standard deviation.
fn feature_spread(x: &[f32]) -> f64 {
    let n = (x.len() / FEATURES).max(1) as f64;
    (0..FEATURES)
        .map(|d| {
            let col = x.iter().skip(d).step_by(FEATURES).map(|v| *v as f64);
            let mean = col.clone().sum::<f64>() / n;
            (col.map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt()
        })
        .sum::<f64>()
        / FEATURES as f64
}
