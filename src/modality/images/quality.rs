//! Cheap image statistics: how far generated pixels are from the data's, per pixel.

/// Per-pixel mean and standard deviation over a set of flattened images.
pub fn pixel_moments(pixels: &[f32], image_len: usize) -> (Vec<f64>, Vec<f64>) {
    let n = pixels.len() / image_len.max(1);
    let mut mean = vec![0.0f64; image_len];
    let mut sq = vec![0.0f64; image_len];
    for img in pixels.chunks_exact(image_len) {
        for (i, &p) in img.iter().enumerate() {
            mean[i] += p as f64;
            sq[i] += (p as f64).powi(2);
        }
    }
    let n = n.max(1) as f64;
    let std = mean
        .iter()
        .zip(&sq)
        .map(|(m, s)| (s / n - (m / n).powi(2)).max(0.0).sqrt())
        .collect();
    (mean.iter().map(|m| m / n).collect(), std)
}

/// Root-mean-square difference of per-pixel means plus that of per-pixel standard
/// deviations: 0 when the two sets share first and second moments pixel by pixel.
pub fn pixel_stat_distance(a: &[f32], b: &[f32], image_len: usize) -> f64 {
    let (ma, sa) = pixel_moments(a, image_len);
    let (mb, sb) = pixel_moments(b, image_len);
    let rms = |x: &[f64], y: &[f64]| {
        (x.iter().zip(y).map(|(p, q)| (p - q).powi(2)).sum::<f64>() / x.len().max(1) as f64).sqrt()
    };
    rms(&ma, &mb) + rms(&sa, &sb)
}
