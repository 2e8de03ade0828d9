//! Exact metrics for 2-D samples against a mixture with known modes.

/// How well generated points cover the true modes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModeCoverage {
    /// Modes that received at least 1% of all samples as high-quality samples.
    pub modes_covered: usize,
    pub modes_total: usize,
    /// Share of samples within 3 standard deviations of their nearest mode.
    pub high_quality: f64,
}

/// Mode coverage as in the PyTorch reference and the GAN literature (VEEGAN, PacGAN).
pub fn mode_coverage(samples: &[[f32; 2]], modes: &[[f32; 2]], std: f32) -> ModeCoverage {
    let mut counts = vec![0usize; modes.len()];
    let mut hq = 0usize;
    let radius = 3.0 * std.max(1e-6);
    for s in samples {
        let nearest = modes
            .iter()
            .enumerate()
            .map(|(i, m)| (i, ((s[0] - m[0]).powi(2) + (s[1] - m[1]).powi(2)).sqrt()))
            .min_by(|a, b| a.1.total_cmp(&b.1));
        if let Some((i, d)) = nearest {
            if d <= radius {
                counts[i] += 1;
                hq += 1;
            }
        }
    }
    let threshold = (samples.len() as f64 * 0.01).max(1.0);
    ModeCoverage {
        modes_covered: counts.iter().filter(|&&c| c as f64 >= threshold).count(),
        modes_total: modes.len(),
        high_quality: if samples.is_empty() {
            0.0
        } else {
            hq as f64 / samples.len() as f64
        },
    }
}

/// Squared maximum mean discrepancy between two point sets (biased estimator) with a
/// sum of Gaussian kernels at bandwidths 0.1, 0.5 and 2: 0 for identical sets, larger
/// the more the distributions differ, at every scale from one mode to the whole layout.
pub fn mmd(a: &[[f32; 2]], b: &[[f32; 2]]) -> f64 {
    const BANDWIDTHS: [f64; 3] = [0.1, 0.5, 2.0];
    let k = |p: &[f32; 2], q: &[f32; 2]| {
        let d2 = ((p[0] - q[0]) as f64).powi(2) + ((p[1] - q[1]) as f64).powi(2);
        BANDWIDTHS
            .iter()
            .map(|s| (-d2 / (2.0 * s * s)).exp())
            .sum::<f64>()
    };
    let mean = |x: &[[f32; 2]], y: &[[f32; 2]]| {
        let mut total = 0.0;
        for p in x {
            for q in y {
                total += k(p, q);
            }
        }
        total / (x.len() * y.len()).max(1) as f64
    };
    if a.is_empty() || b.is_empty() {
        return f64::NAN;
    }
    (mean(a, a) + mean(b, b) - 2.0 * mean(a, b)).max(0.0)
}

/// KL(real || generated) and the Jensen-Shannon divergence between the two sets'
/// histograms on a `cells` x `cells` grid over `bounds` ([x0, x1, y0, y1]), as GAN Lab
/// reports them. Counts get half a sample of smoothing in every cell, so an empty cell in
/// the generated histogram costs a large but finite KL. In nats; JS is at most ln 2.
pub fn grid_divergences(
    real: &[[f32; 2]],
    generated: &[[f32; 2]],
    bounds: [f32; 4],
    cells: usize,
) -> (f64, f64) {
    let hist = |pts: &[[f32; 2]]| {
        let mut h = vec![0.5f64; cells * cells];
        let [x0, x1, y0, y1] = bounds;
        for p in pts {
            let fx = (p[0] - x0) / (x1 - x0);
            let fy = (p[1] - y0) / (y1 - y0);
            // Points off the grid land in the border cells, so no mass is lost.
            let i = ((fx * cells as f32).floor().max(0.0) as usize).min(cells - 1);
            let j = ((fy * cells as f32).floor().max(0.0) as usize).min(cells - 1);
            h[j * cells + i] += 1.0;
        }
        let total: f64 = h.iter().sum();
        h.iter().map(|c| c / total).collect::<Vec<f64>>()
    };
    if real.is_empty() || generated.is_empty() || cells == 0 {
        return (f64::NAN, f64::NAN);
    }
    let p = hist(real);
    let q = hist(generated);
    let kl = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * (x / y).ln()).sum::<f64>();
    let m: Vec<f64> = p.iter().zip(&q).map(|(x, y)| 0.5 * (x + y)).collect();
    (kl(&p, &q), 0.5 * kl(&p, &m) + 0.5 * kl(&q, &m))
}

/// Spread of the generated points relative to the real ones: the ratio of their mean
/// per-axis standard deviations. Near 1 when healthy, near 0 when the generator collapsed.
pub fn diversity(real: &[[f32; 2]], generated: &[[f32; 2]]) -> f64 {
    let spread = |pts: &[[f32; 2]]| {
        let n = pts.len().max(1) as f64;
        (0..2)
            .map(|a| {
                let mean = pts.iter().map(|p| p[a] as f64).sum::<f64>() / n;
                (pts.iter()
                    .map(|p| (p[a] as f64 - mean).powi(2))
                    .sum::<f64>()
                    / n)
                    .sqrt()
            })
            .sum::<f64>()
            / 2.0
    };
    spread(generated) / spread(real).max(1e-12)
}
