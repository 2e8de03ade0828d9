//! A 2-D run's snapshots: the generated points over the data's, with what a GAN's networks
//! show about them (D's heatmap, G's push, the warped latent grid), and the exact metrics
//! against the data (MMD, grid divergences, spread, mode coverage).

use super::quality;
use super::views::{bounds_of, PointsView, VIEW_POINTS};
use crate::data::Dataset;
use crate::modality::snapshot::{GanProbe, GanShot, Snapshots, VaeShot};
use crate::train::trainer::Values;
use crate::train::Samples;

/// Points drawn from fixed noise at each snapshot.
const SAMPLES: usize = 2000;
/// Cells per side of D's heatmap.
const HEATMAP: usize = 48;
/// Cells per side of the grid the KL and JS divergences are measured on.
pub const GRID_CELLS: usize = 20;
/// Generated points drawn with the direction the generator's loss pushes them.
const PUSHED: usize = 150;
/// Lines each way of the warped latent grid.
const MANIFOLD_LINES: usize = 15;

pub struct PointSnapshots;

impl Snapshots for PointSnapshots {
    fn count(&self) -> usize {
        SAMPLES
    }

    fn gan(&self, data: &Dataset, shot: GanShot) -> (Samples, Values) {
        let Dataset::Points(set) = data else {
            return (Samples::Points(empty_view()), Vec::new());
        };
        let generated: Vec<[f32; 2]> = shot
            .generated
            .chunks_exact(2)
            .map(|p| [p[0], p[1]])
            .collect();
        let real = set.thinned(VIEW_POINTS);
        let bounds = bounds_of(&real);
        // 500 of each keeps the O(n^2) kernel sums under a millisecond or so.
        let mut metrics = vec![(
            "mmd",
            quality::mmd(
                &generated[..generated.len().min(500)],
                &real[..real.len().min(500)],
            ),
        )];
        let (kl, js) = quality::grid_divergences(&real, &generated, bounds, GRID_CELLS);
        metrics.push(("kl_grid", kl));
        metrics.push(("js_grid", js));
        metrics.push(("diversity", quality::diversity(&real, &generated)));
        if !set.modes.is_empty() {
            let cov = quality::mode_coverage(&generated, &set.modes, set.mode_std);
            metrics.push(("modes_covered", cov.modes_covered as f64));
            metrics.push(("high_quality", cov.high_quality));
        }
        let pushed = &shot.generated[..shot.generated.len().min(2 * PUSHED)];
        let push = shot
            .probe
            .push(pushed, 2)
            .chunks_exact(2)
            .map(|c| [c[0], c[1]])
            .collect();
        let view = PointsView {
            real,
            heatmap: shot.probe.discriminate(&heatmap_grid(bounds), 2),
            generated,
            heatmap_size: HEATMAP,
            bounds,
            push,
            manifold: manifold(shot.probe),
        };
        (Samples::Points(view), metrics)
    }

    fn vae(&self, data: &Dataset, shot: VaeShot) -> (Samples, Values) {
        let Dataset::Points(set) = data else {
            return (Samples::Points(empty_view()), Vec::new());
        };
        let real = set.thinned(VIEW_POINTS);
        let generated: Vec<[f32; 2]> = shot
            .generated
            .chunks_exact(2)
            .map(|p| [p[0], p[1]])
            .collect();
        let bounds = bounds_of(&real);
        let view = PointsView {
            real,
            generated,
            bounds,
            ..Default::default()
        };
        (Samples::Points(view), Vec::new())
    }
}

fn empty_view() -> PointsView {
    PointsView {
        bounds: [-1.0, 1.0, -1.0, 1.0],
        ..Default::default()
    }
}

/// The centres of the heatmap's cells over the plot, row-major from the bottom.
fn heatmap_grid([x0, x1, y0, y1]: [f32; 4]) -> Vec<f32> {
    let mut grid = Vec::with_capacity(HEATMAP * HEATMAP * 2);
    for j in 0..HEATMAP {
        for i in 0..HEATMAP {
            let fx = (i as f32 + 0.5) / HEATMAP as f32;
            let fy = (j as f32 + 0.5) / HEATMAP as f32;
            grid.push(x0 + fx * (x1 - x0));
            grid.push(y0 + fy * (y1 - y0));
        }
    }
    grid
}

/// The generator's image of a grid on the first two latent axes (the others at 0):
/// `MANIFOLD_LINES` lines each way over -2.5..2.5.
fn manifold(probe: &dyn GanProbe) -> Vec<Vec<[f32; 2]>> {
    let n = MANIFOLD_LINES;
    let latent = probe.latent();
    let at = |i: usize| -2.5 + 5.0 * i as f32 / (n - 1) as f32;
    let mut z = Vec::with_capacity(2 * n * n * latent);
    for vertical in [false, true] {
        for line in 0..n {
            for k in 0..n {
                let (a, b) = if vertical {
                    (at(line), at(k))
                } else {
                    (at(k), at(line))
                };
                let mut code = vec![0.0f32; latent];
                code[0] = a;
                if latent > 1 {
                    code[1] = b;
                }
                z.extend(code);
            }
        }
    }
    probe
        .generate(&z)
        .chunks_exact(2)
        .map(|p| [p[0], p[1]])
        .collect::<Vec<_>>()
        .chunks(n)
        .map(<[[f32; 2]]>::to_vec)
        .collect()
}
