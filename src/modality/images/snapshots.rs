//! An image run's snapshots: the grid of generated images, a VAE's views of its latent
//! space (reconstructions, latent map, encoded inputs, traversal, interpolation, KL per
//! dimension), and the metrics: pixel statistics, and FD, KID, precision/recall and
//! classes covered on the evaluator's features where the data has an evaluator.

use super::quality::pixel_stat_distance;
use crate::data::Dataset;
use crate::modality::snapshot::{GanShot, Snapshots, VaeProbe, VaeShot};
use crate::train::quality::ImageQuality;
use crate::train::tensors::image_grid;
use crate::train::trainer::Values;
use crate::train::{RgbaImage, Samples};

/// Images drawn from fixed noise at each snapshot (an 8 x 8 grid).
const GRID_IMAGES: usize = 64;
/// Held-out inputs shown beside their reconstructions.
const RECON_PAIRS: usize = 16;
/// Cells per side of the decoded latent map (2-D latents only).
const LATENT_MAP_SIDE: usize = 12;
/// Latent dimensions shown in the traversal, and decodings per dimension.
const TRAVERSAL_ROWS: usize = 8;
const TRAVERSAL_STEPS: usize = 9;
/// Decodings between the two inputs of the interpolation.
const INTERPOLATION_STEPS: usize = 8;

pub struct ImageSnapshots {
    /// The evaluator's metrics, where one exists for the data.
    pub quality: Option<ImageQuality>,
}

impl Snapshots for ImageSnapshots {
    fn count(&self) -> usize {
        GRID_IMAGES
    }

    fn centred_for_gan(&self) -> bool {
        true
    }

    fn gan(&self, data: &Dataset, shot: GanShot) -> (Samples, Values) {
        let Dataset::Images(set) = data else {
            return (Samples::grid(empty_grid()), Vec::new());
        };
        let n = shot.shown.len() / set.image_len();
        let columns = shot.probe.grid_columns();
        let grid = image_grid(
            shot.shown,
            n,
            set.channels,
            [set.height, set.width],
            columns,
        );
        let real_n = set.len().min(512);
        let dist = pixel_stat_distance(
            shot.generated,
            &set.pixels[..real_n * set.image_len()],
            set.image_len(),
        );
        let mut metrics = vec![("pixel_distance", dist)];
        if let Some(q) = &self.quality {
            metrics.extend(q.measure(&shot.probe.generate(q.latents())));
        }
        (Samples::grid(grid), metrics)
    }

    fn vae(&self, data: &Dataset, shot: VaeShot) -> (Samples, Values) {
        let Dataset::Images(set) = data else {
            return (Samples::grid(empty_grid()), Vec::new());
        };
        let shape = (set.channels, [set.height, set.width]);
        let grid_of = |pixels: &[f32], columns: usize| {
            let n = pixels.len() / set.image_len().max(1);
            image_grid(pixels, n, shape.0, shape.1, columns)
        };
        let probe = shot.probe;
        let latent = probe.latent();
        let grid = grid_of(shot.generated, 8);
        // Inputs beside their reconstructions, in pairs.
        let len = set.image_len();
        let pairs = RECON_PAIRS.min(shot.held_out.len() / len);
        let inputs = &shot.held_out[..pairs * len];
        let recon = probe.decode(&probe.encode(inputs).0);
        let mut interleaved = Vec::with_capacity(2 * pairs * len);
        for i in 0..pairs {
            interleaved.extend_from_slice(&inputs[i * len..(i + 1) * len]);
            interleaved.extend_from_slice(&recon[i * len..(i + 1) * len]);
        }
        let reconstructions = Some(grid_of(&interleaved, 8));
        let (codes, kl_dims) = probe.encode(shot.held_out);
        let traversal = traversal(probe, &codes, &kl_dims).map(|z| grid_of(&z, TRAVERSAL_STEPS));
        let interpolation =
            interpolation(probe, &codes, shot.held_out, len, shot.interpolation_pair)
                .map(|row| grid_of(&row, INTERPOLATION_STEPS + 2));
        let mut metrics = Vec::new();
        if let Some(q) = &self.quality {
            metrics.extend(q.measure(&probe.decode(q.latents())));
        }
        let latent_map = (latent == 2).then(|| {
            let decoded = probe.decode(&latent_grid(LATENT_MAP_SIDE, 2.5));
            grid_of(&decoded, LATENT_MAP_SIDE)
        });
        let encoded = (latent == 2).then(|| {
            let means: Vec<[f32; 2]> = codes.chunks_exact(2).map(|p| [p[0], p[1]]).collect();
            crate::run::render::class_scatter(&means, shot.held_out_labels, 3.0, 240)
        });
        (
            Samples::Images {
                grid,
                reconstructions,
                latent_map,
                encoded,
                traversal,
                interpolation,
                kl_per_dim: Some(kl_dims),
            },
            metrics,
        )
    }
}

fn empty_grid() -> RgbaImage {
    image_grid(&[], 0, 1, [1, 1], 1)
}

/// A `side` x `side` grid of 2-D latent points over [-r, r]^2, top row = largest y.
fn latent_grid(side: usize, r: f32) -> Vec<f32> {
    let at = |i: usize| -r + 2.0 * r * i as f32 / (side - 1).max(1) as f32;
    (0..side)
        .flat_map(|row| (0..side).flat_map(move |col| [at(col), at(side - 1 - row)]))
        .collect()
}

/// Rows: the most active latent dimensions (by held-out KL), each swept from -3 to 3
/// around the code of held-out input 0 while the others stay put; decoded.
fn traversal(probe: &dyn VaeProbe, codes: &[f32], kl_dims: &[f32]) -> Option<Vec<f32>> {
    let latent = probe.latent();
    let base = codes.get(..latent)?;
    let mut dims: Vec<usize> = (0..latent).collect();
    dims.sort_by(|a, b| kl_dims[*b].total_cmp(&kl_dims[*a]));
    dims.truncate(TRAVERSAL_ROWS);
    let mut z = Vec::with_capacity(dims.len() * TRAVERSAL_STEPS * latent);
    for &d in &dims {
        for k in 0..TRAVERSAL_STEPS {
            let mut code = base.to_vec();
            code[d] = -3.0 + 6.0 * k as f32 / (TRAVERSAL_STEPS - 1) as f32;
            z.extend(code);
        }
    }
    Some(probe.decode(&z))
}

/// Held-out inputs `a` and `b` at the ends of a row of decodings along the straight
/// line between their codes.
fn interpolation(
    probe: &dyn VaeProbe,
    codes: &[f32],
    held_out: &[f32],
    len: usize,
    (a, b): (usize, usize),
) -> Option<Vec<f32>> {
    let latent = probe.latent();
    let code = |i: usize| codes.get(i * latent..(i + 1) * latent);
    let (za, zb) = (code(a)?, code(b)?);
    let mut z = Vec::with_capacity(INTERPOLATION_STEPS * latent);
    for k in 0..INTERPOLATION_STEPS {
        let t = k as f32 / (INTERPOLATION_STEPS - 1) as f32;
        z.extend(za.iter().zip(zb).map(|(p, q)| p + t * (q - p)));
    }
    let decoded = probe.decode(&z);
    let mut row = held_out[a * len..(a + 1) * len].to_vec();
    row.extend(decoded);
    row.extend_from_slice(&held_out[b * len..(b + 1) * len]);
    Some(row)
}
