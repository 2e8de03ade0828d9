//! 2-D points: the toy sets and drawings (`toy`), CSV files (`csv`), the exact metrics
//! against known modes (`quality`), and what the modality declares: its metrics, the
//! samples view's words, the blind test's patches, CSV sample files.

pub mod csv;
pub mod quality;
pub mod snapshots;
pub mod toy;
pub mod views;

use super::{BlindTestItems, Modality};
use crate::config::{DataConfig, ToyShape};
use crate::data::{Dataset, SeededRng};
use crate::eval::features::DIVERSITY;
use crate::eval::human::{pick, still, Exhibit, POOL};
use crate::eval::metric::Metric;
use crate::run::render::{points_image, PointLayers};
use crate::train::{PointsView, Samples};
use std::path::Path;

pub struct Points;

const MMD: Metric = Metric::new(
    "mmd",
    "MMD",
    "",
    "Maximum mean discrepancy between real and generated points with Gaussian kernels: 0 when the two distributions match.",
);
const KL_GRID: Metric = Metric::new(
    "kl_grid",
    "KL (grid)",
    "nats",
    "KL divergence of the real from the generated points, on 20x20 histograms: 0 when they match.",
);
const JS_GRID: Metric = Metric::new(
    "js_grid",
    "JS (grid)",
    "nats",
    "Jensen-Shannon divergence of the real and generated points on 20x20 histograms: 0 when they match, at most 0.69.",
);
const MODES: Metric = Metric::new(
    "modes_covered",
    "modes",
    "",
    "Modes of the data with at least 1 % of the generated samples within 3 sigma: a collapsed generator covers one or two.",
);
const HIGH_QUALITY: Metric = Metric::new(
    "high_quality",
    "high quality",
    "%",
    "Share of generated samples within 3 sigma of a mode of the data.",
);

/// Every metric, in readout order.
const ALL: [Metric; 6] = [MODES, HIGH_QUALITY, KL_GRID, JS_GRID, MMD, DIVERSITY];

/// Points in one blind-test patch: enough to see a distribution's shape, few enough
/// that a patch of the real data does not look like the whole of it.
pub const PATCH_POINTS: usize = 100;
/// Side of a drawn patch, in pixels.
const PATCH_SIDE: usize = 240;

/// Consecutive patches of `PATCH_POINTS` points, each drawn alone in one colour and in
/// one frame (`bounds`), so that neither colour nor scale tells real from generated.
fn patches(points: &[[f32; 2]], bounds: [f32; 4]) -> Vec<Exhibit> {
    let layers = PointLayers {
        real: true,
        generated: false,
        heatmap: false,
        ..PointLayers::default()
    };
    points
        .chunks_exact(PATCH_POINTS)
        .map(|patch| {
            let view = PointsView {
                real: patch.to_vec(),
                bounds,
                ..PointsView::default()
            };
            still(points_image(&view, PATCH_SIDE, layers))
        })
        .collect()
}

impl Modality for Points {
    fn name(&self) -> &'static str {
        "2-D points"
    }

    fn snapshots(
        &self,
        _data: &Dataset,
        _experiment: &crate::config::Experiment,
        _device: &burn::prelude::Device,
    ) -> Result<Box<dyn super::snapshot::Snapshots>, String> {
        Ok(Box::new(snapshots::PointSnapshots))
    }

    fn preview(&self, data: &Dataset) -> Result<Samples, String> {
        let Dataset::Points(set) = data else {
            return Err(super::not_data_of(self.name()));
        };
        let real = set.thinned(views::VIEW_POINTS);
        Ok(Samples::Points(PointsView {
            bounds: views::bounds_of(&real),
            real,
            ..Default::default()
        }))
    }

    fn modes(&self, data: &DataConfig) -> Option<usize> {
        match data {
            DataConfig::Toy { shape, .. } => {
                Some(crate::modality::points::toy::modes(*shape).len()).filter(|&n| n > 0)
            }
            _ => None,
        }
    }

    fn samples_title(&self) -> &'static str {
        "Real and generated points"
    }

    fn preview_hint(&self) -> &'static str {
        "The data, before training: press Train to see generated points beside it."
    }

    /// `samples.csv`: one `x,y` line a point, as the CSV points reader takes them back.
    fn write_samples(&self, _data: &Dataset, generated: &[f32], out: &Path) -> Result<(), String> {
        super::sample_folder(out)?;
        let mut text = String::from("# x,y\n");
        for p in generated.chunks_exact(2) {
            text.push_str(&format!("{},{}\n", p[0], p[1]));
        }
        let path = out.join("samples.csv");
        crate::durable::write(&path, text.as_bytes())
            .map_err(|e| format!("{}: {e}", path.display()))
    }

    fn blind_test_items(
        &self,
        data: &Dataset,
        generated: &Samples,
        rng: &mut SeededRng,
    ) -> Result<BlindTestItems, String> {
        let (Dataset::Points(set), Samples::Points(view)) = (data, generated) else {
            return Err(super::other_kind(self.name()));
        };
        let real: Vec<[f32; 2]> = pick(rng, set.points.len(), POOL * PATCH_POINTS)
            .into_iter()
            .map(|i| set.points[i])
            .collect();
        Ok((
            patches(&real, view.bounds),
            patches(&view.generated, view.bounds),
        ))
    }

    fn metrics(&self) -> &'static [Metric] {
        &ALL
    }

    /// A GAN's samples are scored; a VAE on points reports its losses alone. Mode coverage
    /// needs data with known modes (the ring and the grid).
    fn quality(&self, data: &DataConfig, gan: bool) -> Vec<Metric> {
        if !gan {
            return Vec::new();
        }
        let mut m = vec![MMD, KL_GRID, JS_GRID, DIVERSITY];
        if let DataConfig::Toy {
            shape: ToyShape::Ring | ToyShape::Grid,
            ..
        } = data
        {
            m.extend([MODES, HIGH_QUALITY]);
        }
        m
    }
}

/// A set of 2-D points, with the true modes when the distribution has them.
#[derive(Debug, Clone)]
pub struct PointSet {
    pub points: Vec<[f32; 2]>,
    /// Centres of the mixture components (ring, grid) for mode-coverage metrics.
    pub modes: Vec<[f32; 2]>,
    /// Standard deviation of each mode.
    pub mode_std: f32,
}

impl PointSet {
    /// Every k-th point, about `n` of them: what the 2-D views and metrics draw.
    pub fn thinned(&self, n: usize) -> Vec<[f32; 2]> {
        self.points
            .iter()
            .step_by((self.points.len() / n.max(1)).max(1))
            .copied()
            .collect()
    }
}
