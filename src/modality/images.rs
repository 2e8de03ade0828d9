//! Images: IDX files, image folders and the built-in shapes (readers in `data/`, the
//! evaluator in `eval::evaluator`). What this modality declares: its quality metrics.

use super::{BlindTestItems, EvaluatorJob, Modality, TrainedEvaluator};
use crate::config::DataConfig;
use crate::data::{Dataset, SeededRng};
use crate::eval::features::SCORES;
use crate::eval::human::{image_cells, pick, still, POOL};
use crate::eval::metric::Metric;
use crate::train::tensors::image_grid;
use crate::train::Samples;
use std::path::Path;

pub struct Images;

const PIXEL_DISTANCE: Metric = Metric::new(
    "pixel_distance",
    "pixel distance",
    "",
    "Distance between the per-pixel mean and standard deviation of real and generated images.",
);

/// The image counterpart of modes covered, for labelled data with an evaluator.
pub const CLASSES_COVERED: Metric = Metric::new(
    "classes_covered",
    "classes",
    "",
    "Classes of the data that the generated images fall in, by the evaluator's prediction (each needs at least a quarter of its fair share): a collapsed generator covers one or two.",
);

const ALL: [Metric; 7] = [
    SCORES[0],
    SCORES[1],
    SCORES[2],
    SCORES[3],
    SCORES[4],
    CLASSES_COVERED,
    PIXEL_DISTANCE,
];

impl Modality for Images {
    fn name(&self) -> &'static str {
        "images"
    }

    /// Real images one by one; the snapshot's grid cut into its cells.
    fn blind_test_items(
        &self,
        data: &Dataset,
        generated: &Samples,
        rng: &mut SeededRng,
    ) -> Result<BlindTestItems, String> {
        let (Dataset::Images(set), Samples::Images { grid, .. }) = (data, generated) else {
            return Err(super::other_kind(self.name()));
        };
        let len = set.image_len();
        let cell = [set.width + 1, set.height + 1];
        let real = pick(rng, set.len(), POOL)
            .into_iter()
            .map(|i| {
                let one = image_grid(
                    &set.pixels[i * len..(i + 1) * len],
                    1,
                    set.channels,
                    [set.height, set.width],
                    1,
                );
                image_cells(&one, cell)
                    .pop()
                    .map_or_else(|| still(one), still)
            })
            .collect();
        Ok((
            real,
            image_cells(grid, cell).into_iter().map(still).collect(),
        ))
    }

    fn metrics(&self) -> &'static [Metric] {
        &ALL
    }

    /// The evaluator's scores (empty where no evaluator exists for the data); a GAN's
    /// pixel statistics first.
    fn quality(&self, _data: &DataConfig, gan: bool) -> Vec<Metric> {
        let pixel = gan.then_some(PIXEL_DISTANCE);
        pixel
            .into_iter()
            .chain(SCORES)
            .chain([CLASSES_COVERED])
            .collect()
    }

    fn train_evaluator(
        &self,
        data: &DataConfig,
        job: EvaluatorJob,
        out: &Path,
    ) -> Result<TrainedEvaluator, String> {
        let saved =
            crate::eval::evaluator::train(data, job.seed, job.steps, |s, _| (job.progress)(s))?;
        saved.save(out)?;
        Ok(TrainedEvaluator {
            classes: saved.classes,
            held_out_accuracy: saved.held_out_accuracy,
        })
    }
}
