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
        high_quality: if samples.is_empty() { 0.0 } else { hq as f64 / samples.len() as f64 },
    }
}
