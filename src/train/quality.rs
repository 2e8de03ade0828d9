//! Image quality on the evaluator's features: Frechet distance, KID, precision and recall
//! of generated images against real ones, and the feature spread (diversity).
//! Cost per evaluation (at each snapshot, on the training thread): generating
//! `QUALITY_SAMPLES` images and their features, plus O(n^2) sums over 64-d features;
//! about 0.2 s on one core for the DCGAN preset (see BENCHMARKS.md).

use super::tensors::matrix;
use super::trainer::Values;
use crate::data::{normal_latents, ImageSet, SeededRng};
use crate::eval::evaluator::FEATURES;
use crate::eval::features::FeatureReference;
use crate::modality::images::evaluator::{Evaluator, SavedEvaluator};
use burn::prelude::*;
use rand::SeedableRng;

pub const QUALITY_SAMPLES: usize = 512;

pub struct ImageQuality {
    evaluator: Evaluator,
    /// Classes the evaluator tells apart.
    classes: usize,
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
            classes: saved.classes,
            real: FeatureReference::new(real_features, FEATURES),
            latents: normal_latents(&mut rng, QUALITY_SAMPLES, latent_dim),
            device,
        })
    }

    /// The fixed latents the quality metrics are measured on, flat.
    pub fn latents(&self) -> &[f32] {
        &self.latents
    }

    /// Latents as a `[QUALITY_SAMPLES, latent]` tensor on the inference device.
    pub fn latent_matrix(&self, latent_dim: usize) -> Tensor<2> {
        matrix(&self.latents, QUALITY_SAMPLES, latent_dim, &self.device)
    }

    /// The metrics of `generated` images (values in [0, 1]).
    pub fn measure(&self, generated: &[f32]) -> Values {
        let features = self.evaluator.features_of(generated, &self.device);
        let predicted = self.evaluator.predicted_classes(&features, &self.device);
        let mut values = self.real.scores(features);
        values.push((
            crate::modality::images::CLASSES_COVERED.column,
            classes_covered(&predicted, self.classes) as f64,
        ));
        values
    }
}

/// Classes that at least a quarter of their fair share (`n / classes`) of the predicted
/// samples fall in: stray misclassified samples do not count as covering a class.
pub fn classes_covered(predicted: &[usize], classes: usize) -> usize {
    let mut counts = vec![0usize; classes];
    for &c in predicted {
        if let Some(n) = counts.get_mut(c) {
            *n += 1;
        }
    }
    let floor = predicted.len() as f64 / classes.max(1) as f64 / 4.0;
    counts
        .iter()
        .filter(|&&n| n > 0 && n as f64 >= floor)
        .count()
}
