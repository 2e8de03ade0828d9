//! The six built-in 2-D distributions.

use super::PointSet;
use crate::config::ToyShape;
use crate::data::SeededRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use std::f32::consts::PI;

/// Radius of the 8-Gaussian ring (as in GAN Lab and the PyTorch reference).
pub const RING_RADIUS: f32 = 2.0;
/// Points drawn for a toy training set.
pub const SAMPLES: usize = 20_000;

/// The true mode centres of a distribution, where it has discrete modes.
pub fn modes(shape: ToyShape) -> Vec<[f32; 2]> {
    match shape {
        ToyShape::Ring => (0..8)
            .map(|k| {
                let a = k as f32 * PI / 4.0;
                [RING_RADIUS * a.cos(), RING_RADIUS * a.sin()]
            })
            .collect(),
        ToyShape::Grid => (0..25)
            .map(|k| [(k % 5) as f32 - 2.0, (k / 5) as f32 - 2.0])
            .collect(),
        _ => Vec::new(),
    }
}

/// Draws `n` points of `shape` with Gaussian noise of standard deviation `noise`.
pub fn sample(shape: ToyShape, noise: f32, n: usize, seed: u64) -> PointSet {
    let mut rng = SeededRng::seed_from_u64(seed);
    let centres = modes(shape);
    let mut points = Vec::with_capacity(n);
    for _ in 0..n {
        let base = match shape {
            ToyShape::Ring | ToyShape::Grid => centres[rng.random_range(0..centres.len())],
            ToyShape::Moons => {
                let t = rng.random_range(0.0..PI);
                if rng.random_bool(0.5) {
                    [t.cos() - 0.5, t.sin() - 0.25]
                } else {
                    [0.5 - t.cos(), 0.25 - t.sin()]
                }
            }
            ToyShape::Spiral => {
                // Two interleaved arms.
                let t: f32 = rng.random_range(0.0f32..1.0).sqrt() * 3.0 * PI;
                let r = t / (1.5 * PI);
                let arm = if rng.random_bool(0.5) { 0.0 } else { PI };
                [r * (t + arm).cos(), r * (t + arm).sin()]
            }
            ToyShape::SwissRoll => {
                let t = 1.5 * PI * (1.0 + 2.0 * rng.random_range(0.0f32..1.0));
                [t * t.cos() / 6.0, t * t.sin() / 6.0]
            }
            ToyShape::Circles => {
                let a = rng.random_range(0.0..2.0 * PI);
                let r = if rng.random_bool(0.5) { 2.0 } else { 1.0 };
                [r * a.cos(), r * a.sin()]
            }
        };
        let nx: f32 = StandardNormal.sample(&mut rng);
        let ny: f32 = StandardNormal.sample(&mut rng);
        points.push([base[0] + noise * nx, base[1] + noise * ny]);
    }
    PointSet {
        points,
        modes: centres,
        mode_std: noise,
    }
}

/// Draws `n` points around points the user drew: each picks a drawn point at random and
/// adds Gaussian noise of standard deviation `spread` (no points drawn: none).
pub fn drawn(drawing: &[[f32; 2]], spread: f32, n: usize, seed: u64) -> PointSet {
    let mut rng = SeededRng::seed_from_u64(seed);
    let points = if drawing.is_empty() {
        Vec::new()
    } else {
        (0..n)
            .map(|_| {
                let [x, y] = drawing[rng.random_range(0..drawing.len())];
                let nx: f32 = StandardNormal.sample(&mut rng);
                let ny: f32 = StandardNormal.sample(&mut rng);
                [x + spread * nx, y + spread * ny]
            })
            .collect()
    };
    PointSet {
        points,
        modes: Vec::new(),
        mode_std: spread,
    }
}
