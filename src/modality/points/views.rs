//! The 2-D view's data: real and generated points, and what a GAN's networks show about
//! them (D's heatmap, G's push, the warped latent grid).

/// Real and generated 2-D points, and the discriminator's output on a grid behind them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PointsView {
    pub real: Vec<[f32; 2]>,
    pub generated: Vec<[f32; 2]>,
    /// D(x) in [0, 1] on a `heatmap_size` square grid over `bounds`, row-major from the bottom.
    pub heatmap: Vec<f32>,
    pub heatmap_size: usize,
    /// [x_min, x_max, y_min, y_max]
    pub bounds: [f32; 4],
    /// GAN: where the generator's loss pushes each of the first generated points (its
    /// negative gradient with respect to the point), as GAN Lab draws it.
    pub push: Vec<[f32; 2]>,
    /// GAN: the latent grid as the generator warps it (lines of a 2-D slice of the latent
    /// space through 0, each a polyline in data space).
    pub manifold: Vec<Vec<[f32; 2]>>,
}

/// Square plot bounds around the points with a margin.
pub fn bounds_of(points: &[[f32; 2]]) -> [f32; 4] {
    let m = points
        .iter()
        .flat_map(|p| [p[0].abs(), p[1].abs()])
        .filter(|v| v.is_finite())
        .fold(0.5f32, f32::max);
    let r = m * 1.25;
    [-r, r, -r, r]
}

/// Real points a 2-D view draws (and its metrics compare against).
pub const VIEW_POINTS: usize = 1000;
