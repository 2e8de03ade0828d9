//! 2-D points: the toy sets, CSV files and drawings (readers in `data/`, metric maths in
//! `eval::points`). What this modality declares: its quality metrics.

use super::Modality;
use crate::config::{DataConfig, ToyShape};
use crate::eval::features::DIVERSITY;
use crate::eval::metric::Metric;

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

impl Modality for Points {
    fn name(&self) -> &'static str {
        "2-D points"
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
