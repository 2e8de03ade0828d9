//! Distances between two sets of feature vectors (rows of `dim` values): the Frechet
//! distance (FID's formula), the kernel inception distance (KID's unbiased estimator) and
//! k-NN precision and recall (Kynkaanniemi et al. 2019). Features come from the project's
//! own evaluator network, so nothing is downloaded.

use super::metric::Metric;
use nalgebra::{DMatrix, DVector, SymmetricEigen};

fn rows(x: &[f32], dim: usize) -> impl Iterator<Item = &[f32]> {
    x.chunks_exact(dim.max(1))
}

fn mean_cov(x: &[f32], dim: usize) -> (DVector<f64>, DMatrix<f64>) {
    let n = x.len() / dim.max(1);
    let mut mean = DVector::<f64>::zeros(dim);
    for r in rows(x, dim) {
        for (m, v) in mean.iter_mut().zip(r) {
            *m += *v as f64;
        }
    }
    mean /= n.max(1) as f64;
    let mut cov = DMatrix::<f64>::zeros(dim, dim);
    for r in rows(x, dim) {
        let d = DVector::from_iterator(dim, r.iter().map(|v| *v as f64)) - &mean;
        cov += &d * d.transpose();
    }
    cov /= (n.max(2) - 1) as f64;
    (mean, cov)
}

/// Square root of a symmetric positive semi-definite matrix (negative eigenvalues from
/// round-off are clamped to 0).
fn sqrt_psd(m: DMatrix<f64>) -> DMatrix<f64> {
    let eig = SymmetricEigen::new(m);
    let roots = eig.eigenvalues.map(|l| l.max(0.0).sqrt());
    &eig.eigenvectors * DMatrix::from_diagonal(&roots) * eig.eigenvectors.transpose()
}

/// |mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2)): 0 for sets with equal means and
/// covariances, growing as they part. The trace of the root is computed as that of the
/// symmetric `(S_a^(1/2) S_b S_a^(1/2))^(1/2)`, which has the same eigenvalues.
pub fn frechet_distance(a: &[f32], b: &[f32], dim: usize) -> f64 {
    if a.len() < 2 * dim || b.len() < 2 * dim {
        return f64::NAN;
    }
    let (ma, sa) = mean_cov(a, dim);
    let (mb, sb) = mean_cov(b, dim);
    let root_a = sqrt_psd(sa.clone());
    let inner = &root_a * &sb * &root_a;
    let inner = (&inner + inner.transpose()) * 0.5;
    let eig = SymmetricEigen::new(inner);
    let tr_root: f64 = eig.eigenvalues.iter().map(|l| l.max(0.0).sqrt()).sum();
    ((ma - mb).norm_squared() + sa.trace() + sb.trace() - 2.0 * tr_root).max(0.0)
}

/// Unbiased squared MMD with the cubic polynomial kernel (x.y / dim + 1)^3, as KID uses.
/// Its expectation is 0 for two samples of one distribution; single estimates scatter
/// around it (and may be slightly negative).
pub fn kernel_distance(a: &[f32], b: &[f32], dim: usize) -> f64 {
    let ra: Vec<&[f32]> = rows(a, dim).collect();
    let rb: Vec<&[f32]> = rows(b, dim).collect();
    let (m, n) = (ra.len(), rb.len());
    if m < 2 || n < 2 {
        return f64::NAN;
    }
    let k = |x: &[f32], y: &[f32]| {
        let dot: f64 = x.iter().zip(y).map(|(p, q)| *p as f64 * *q as f64).sum();
        (dot / dim as f64 + 1.0).powi(3)
    };
    let within = |s: &[&[f32]]| {
        let mut total = 0.0;
        for i in 0..s.len() {
            for j in 0..s.len() {
                if i != j {
                    total += k(s[i], s[j]);
                }
            }
        }
        total / (s.len() * (s.len() - 1)) as f64
    };
    let mut cross = 0.0;
    for x in &ra {
        for y in &rb {
            cross += k(x, y);
        }
    }
    within(&ra) + within(&rb) - 2.0 * cross / (m * n) as f64
}

/// Share of generated samples inside the real data's k-NN manifold (precision) and of
/// real samples inside the generated one (recall). Each set's manifold is the union of
/// balls around its samples reaching their k-th nearest neighbour in the same set.
pub fn precision_recall(real: &[f32], generated: &[f32], dim: usize, k: usize) -> (f64, f64) {
    let r: Vec<&[f32]> = rows(real, dim).collect();
    let g: Vec<&[f32]> = rows(generated, dim).collect();
    (coverage(&r, &g, k), coverage(&g, &r, k))
}

fn dist2(x: &[f32], y: &[f32]) -> f64 {
    x.iter()
        .zip(y)
        .map(|(p, q)| (*p as f64 - *q as f64).powi(2))
        .sum()
}

/// Share of `queries` within the k-NN balls of `manifold`.
fn coverage(manifold: &[&[f32]], queries: &[&[f32]], k: usize) -> f64 {
    if manifold.len() <= k || queries.is_empty() {
        return f64::NAN;
    }
    let radii: Vec<f64> = manifold
        .iter()
        .enumerate()
        .map(|(i, x)| {
            let mut d: Vec<f64> = manifold
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, y)| dist2(x, y))
                .collect();
            let kth = k.max(1) - 1;
            d.select_nth_unstable_by(kth, f64::total_cmp);
            d[kth]
        })
        .collect();
    let inside = queries
        .iter()
        .filter(|q| manifold.iter().zip(&radii).any(|(m, r)| dist2(q, m) <= *r))
        .count();
    inside as f64 / queries.len() as f64
}

/// Neighbours that set the radius of each sample's ball in precision / recall.
const PR_K: usize = 3;

/// An evaluator's features of real samples, scaled so they spread about 1 per dimension:
/// distances then read the same whatever the network's activation scale (KID's cubic
/// kernel would otherwise run into the hundreds of thousands).
#[derive(Debug, Clone)]
pub struct FeatureReference {
    real: Vec<f32>,
    scale: f32,
    dim: usize,
}

impl FeatureReference {
    pub fn new(mut real: Vec<f32>, dim: usize) -> FeatureReference {
        let scale = 1.0 / spread(&real, dim).max(1e-12) as f32;
        real.iter_mut().for_each(|v| *v *= scale);
        FeatureReference { real, scale, dim }
    }

    /// `fd`, `kid`, `precision`, `recall` and `diversity` (the generated features' spread
    /// over the real ones') of generated samples' features.
    pub fn scores(&self, mut fake: Vec<f32>) -> Vec<(&'static str, f64)> {
        fake.iter_mut().for_each(|v| *v *= self.scale);
        let dim = self.dim;
        let (precision, recall) = precision_recall(&self.real, &fake, dim, PR_K);
        let values = [
            frechet_distance(&self.real, &fake, dim),
            kernel_distance(&self.real, &fake, dim),
            precision,
            recall,
            spread(&fake, dim) / spread(&self.real, dim).max(1e-12),
        ];
        SCORES.iter().map(|m| m.column).zip(values).collect()
    }
}

/// The metrics `FeatureReference::scores` gives, in order.
pub const SCORES: [Metric; 5] = [
    Metric::new(
        "fd",
        "FD",
        "",
        "Frechet distance between real and generated samples on the evaluator's features (FID's formula on a small network trained on the data's labels): lower is better.",
    ),
    Metric::new(
        "kid",
        "KID",
        "",
        "Kernel distance on the evaluator's features (unbiased, so usable on few samples): lower is better.",
    ),
    Metric::new(
        "precision",
        "precision",
        "",
        "Share of generated samples that fall on the real samples' manifold (in the evaluator's features): fidelity.",
    ),
    Metric::new(
        "recall",
        "recall",
        "",
        "Share of real samples that fall on the generated samples' manifold: coverage. A generator that makes one sample has recall 0.",
    ),
    DIVERSITY,
];

/// Spread of generated samples over that of real ones, for every kind of data.
pub const DIVERSITY: Metric = Metric::new(
    "diversity",
    "diversity",
    "",
    "Spread of the generated samples over the spread of the real ones: near 0 means collapse, near 1 the data's variety.",
);

/// Mean per-feature standard deviation.
fn spread(x: &[f32], dim: usize) -> f64 {
    let n = (x.len() / dim.max(1)).max(1) as f64;
    (0..dim)
        .map(|d| {
            let col = x.iter().skip(d).step_by(dim).map(|v| *v as f64);
            let mean = col.clone().sum::<f64>() / n;
            (col.map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt()
        })
        .sum::<f64>()
        / dim.max(1) as f64
}
