//! Images: IDX files (`idx`), image folders (`folder`), the built-in shapes (`shapes`),
//! pixel statistics (`quality`), the image evaluator behind FD, KID and precision/recall
//! (`evaluator`), and what the modality declares: its metrics, the blind test's cells,
//! PNG sample files.

pub mod evaluator;
pub mod folder;
pub mod idx;
pub mod quality;
pub mod scoring;
pub mod shapes;
pub mod snapshots;

/// Images in the data preview's grid (8 a row).
const PREVIEW_IMAGES: usize = 64;

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

/// A sample grid as a run folder saved it (upscaled by a whole factor) back at one pixel
/// per pixel, for the images of `data`: the factor is the one that makes both sides a
/// whole number of cells with their 1-pixel gaps.
pub fn saved_grid(
    path: &std::path::Path,
    data: &Dataset,
) -> Result<crate::train::RgbaImage, String> {
    let Dataset::Images(set) = data else {
        return Err(
            "a blind test from a run folder needs image samples; for 2-D points and clips, \
             test the window's current run"
                .into(),
        );
    };
    let png = image::open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .to_rgba8();
    let (width, height) = (png.width() as usize, png.height() as usize);
    let fits = |scale: usize, side: usize, cell: usize| {
        side.is_multiple_of(scale) && (side / scale).saturating_sub(1).is_multiple_of(cell + 1)
    };
    let scale = (1..=16)
        .rev()
        .find(|&s| fits(s, width, set.width) && fits(s, height, set.height) && width / s > 1)
        .ok_or_else(|| {
            format!(
                "{}: {width}x{height} pixels is not a grid of {}x{} images",
                path.display(),
                set.width,
                set.height
            )
        })?;
    let (w, h) = (width / scale, height / scale);
    let mut pixels = Vec::with_capacity(w * h * 4);
    for y in 0..h {
        for x in 0..w {
            pixels.extend_from_slice(&png.get_pixel((x * scale) as u32, (y * scale) as u32).0);
        }
    }
    Ok(crate::train::RgbaImage {
        width: w,
        height: h,
        pixels,
    })
}

impl Modality for Images {
    fn name(&self) -> &'static str {
        "images"
    }

    fn ships_evaluator(&self, data: &DataConfig) -> bool {
        matches!(data, DataConfig::Shapes { .. })
    }

    fn snapshots(
        &self,
        data: &Dataset,
        experiment: &crate::config::Experiment,
        device: &burn::prelude::Device,
    ) -> Result<Box<dyn super::snapshot::Snapshots>, String> {
        let quality = match data {
            Dataset::Images(set) => crate::train::quality::ImageQuality::new(
                evaluator::for_data(&experiment.data),
                set,
                experiment.model.latent_dim(),
                experiment.training.seed,
                device,
            ),
            _ => None,
        };
        Ok(Box::new(snapshots::ImageSnapshots { quality }))
    }

    fn preview(&self, data: &Dataset) -> Result<Samples, String> {
        let Dataset::Images(set) = data else {
            return Err(super::not_data_of(self.name()));
        };
        let n = set.len().min(PREVIEW_IMAGES);
        Ok(Samples::grid(image_grid(
            &set.pixels[..n * set.image_len()],
            n,
            set.channels,
            [set.height, set.width],
            8,
        )))
    }

    fn modes(&self, data: &DataConfig) -> Option<usize> {
        matches!(data, DataConfig::Shapes { .. })
            .then_some(crate::modality::images::shapes::CLASSES.len())
    }

    fn classes(&self, data: &DataConfig) -> Option<usize> {
        self.modes(data)
            .or_else(|| crate::modality::images::evaluator::for_data(data).map(|e| e.classes))
    }

    fn reconstruction(&self) -> crate::config::Reconstruction {
        crate::config::Reconstruction::Bce
    }

    /// One PNG per image, `000000.png` on (square images only).
    fn write_samples(&self, data: &Dataset, generated: &[f32], out: &Path) -> Result<(), String> {
        let Dataset::Images(set) = data else {
            return Err(super::other_kind(self.name()));
        };
        if set.height != set.width {
            return Err(format!(
                "samples are written for square images, these are {}x{}",
                set.height, set.width
            ));
        }
        crate::modality::images::scoring::write_pngs(out, generated, set.channels, set.height)
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
            crate::modality::images::evaluator::train(data, job.seed, job.steps, |s, _| {
                (job.progress)(s)
            })?;
        saved.save(out)?;
        Ok(TrainedEvaluator {
            classes: saved.classes,
            held_out_accuracy: saved.held_out_accuracy,
        })
    }
}

/// Images stored as f32 in [0, 1], channel-major per image (C, H, W).
#[derive(Debug, Clone)]
pub struct ImageSet {
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub pixels: Vec<f32>,
    pub labels: Option<Vec<u8>>,
    /// Class names in label order (empty where the classes have only numbers).
    pub classes: Vec<String>,
}

impl ImageSet {
    pub fn image_len(&self) -> usize {
        self.channels * self.height * self.width
    }
    pub fn len(&self) -> usize {
        self.pixels.len() / self.image_len().max(1)
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn image(&self, i: usize) -> &[f32] {
        let n = self.image_len();
        &self.pixels[i * n..(i + 1) * n]
    }
    /// Splits off the last `n` images (a held-out set).
    pub fn split_off(&mut self, n: usize) -> ImageSet {
        let keep = self.len().saturating_sub(n);
        let tail = self.pixels.split_off(keep * self.image_len());
        let labels = self.labels.as_mut().map(|l| l.split_off(keep.min(l.len())));
        ImageSet {
            channels: self.channels,
            height: self.height,
            width: self.width,
            pixels: tail,
            labels,
            classes: self.classes.clone(),
        }
    }
}
