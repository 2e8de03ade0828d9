//! Drawing snapshots to images: nearest-neighbour upscaling, and 2-D point plots.

use crate::train::{PointsView, RgbaImage};
use std::path::Path;

/// Saves an RGBA image as PNG, upscaled `scale` times with nearest-neighbour.
pub fn save_png(img: &RgbaImage, path: &Path, scale: usize) -> Result<(), image::ImageError> {
    let up = upscale(img, scale.max(1));
    image::save_buffer(
        path,
        &up.pixels,
        up.width as u32,
        up.height as u32,
        image::ExtendedColorType::Rgba8,
    )
}

pub fn upscale(img: &RgbaImage, scale: usize) -> RgbaImage {
    if scale == 1 {
        return img.clone();
    }
    let (w, h) = (img.width * scale, img.height * scale);
    let mut pixels = vec![0u8; w * h * 4];
    for y in 0..h {
        for x in 0..w {
            let s = ((y / scale) * img.width + x / scale) * 4;
            let d = (y * w + x) * 4;
            pixels[d..d + 4].copy_from_slice(&img.pixels[s..s + 4]);
        }
    }
    RgbaImage {
        width: w,
        height: h,
        pixels,
    }
}

/// Colours of the 2-D view, shared with the window.
pub const REAL_RGB: [u8; 3] = [40, 110, 200];
pub const GENERATED_RGB: [u8; 3] = [235, 120, 20];

/// Which layers of the 2-D view to draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PointLayers {
    pub real: bool,
    pub generated: bool,
    pub heatmap: bool,
    /// The generator's push on its points (arrows; the window only).
    pub push: bool,
    /// The warped latent grid (the window only).
    pub manifold: bool,
}

impl Default for PointLayers {
    fn default() -> Self {
        PointLayers {
            real: true,
            generated: true,
            heatmap: true,
            push: true,
            manifold: false,
        }
    }
}

/// A square plot of the heatmap (D's output, purple = fake, green = real) with real
/// points in blue and generated points in orange.
pub fn points_image(view: &PointsView, size: usize, layers: PointLayers) -> RgbaImage {
    let mut px = vec![255u8; size * size * 4];
    let [x0, x1, y0, y1] = view.bounds;
    let n = view.heatmap_size;
    if layers.heatmap && n > 0 && view.heatmap.len() == n * n {
        for y in 0..size {
            for x in 0..size {
                let i = x * n / size;
                let j = (size - 1 - y) * n / size;
                let v = view.heatmap[j * n + i].clamp(0.0, 1.0);
                let c = heat_colour(v);
                px[(y * size + x) * 4..(y * size + x) * 4 + 3].copy_from_slice(&c);
            }
        }
    }
    let mut dot = |p: &[f32; 2], rgb: [u8; 3]| {
        let fx = (p[0] - x0) / (x1 - x0);
        let fy = (p[1] - y0) / (y1 - y0);
        if !(0.0..1.0).contains(&fx) || !(0.0..1.0).contains(&fy) {
            return;
        }
        let cx = (fx * size as f32) as i64;
        let cy = ((1.0 - fy) * size as f32) as i64;
        for dy in -1..=1 {
            for dx in -1..=1 {
                let (x, y) = (cx + dx, cy + dy);
                if x >= 0 && y >= 0 && (x as usize) < size && (y as usize) < size {
                    let o = (y as usize * size + x as usize) * 4;
                    px[o..o + 3].copy_from_slice(&rgb);
                }
            }
        }
    };
    // Real points on top: they are few and tight, and must stay visible under a crowd.
    if layers.generated {
        for p in &view.generated {
            dot(p, GENERATED_RGB);
        }
    }
    if layers.real {
        for p in &view.real {
            dot(p, REAL_RGB);
        }
    }
    RgbaImage {
        width: size,
        height: size,
        pixels: px,
    }
}

/// D(x) as a colour: 0 (judged fake) purple, 1 (judged real) green, as in GAN Lab.
pub fn heat_colour(v: f32) -> [u8; 3] {
    let fake = [222.0, 200.0, 240.0];
    let real = [180.0, 232.0, 180.0];
    let mix = |a: f32, b: f32| (a + (b - a) * v) as u8;
    [
        mix(fake[0], real[0]),
        mix(fake[1], real[1]),
        mix(fake[2], real[2]),
    ]
}

/// Points on [-r, r]^2 as dots coloured by class (grey without labels), with axes.
pub fn class_scatter(points: &[[f32; 2]], labels: Option<&[u8]>, r: f32, size: usize) -> RgbaImage {
    const PALETTE: [[u8; 3]; 10] = [
        [31, 119, 180],
        [255, 127, 14],
        [44, 160, 44],
        [214, 39, 40],
        [148, 103, 189],
        [140, 86, 75],
        [227, 119, 194],
        [127, 127, 127],
        [188, 189, 34],
        [23, 190, 207],
    ];
    let mut px = vec![255u8; size * size * 4];
    let mid = size / 2;
    for i in 0..size {
        for o in [(mid * size + i) * 4, (i * size + mid) * 4] {
            px[o..o + 3].copy_from_slice(&[210, 210, 210]);
        }
    }
    for (i, p) in points.iter().enumerate() {
        let colour = labels
            .and_then(|l| l.get(i))
            .map(|&c| PALETTE[c as usize % PALETTE.len()])
            .unwrap_or([90, 90, 90]);
        let x = ((p[0] + r) / (2.0 * r) * size as f32) as i64;
        let y = ((r - p[1]) / (2.0 * r) * size as f32) as i64;
        for dy in -1..=1 {
            for dx in -1..=1 {
                let (cx, cy) = (x + dx, y + dy);
                if cx >= 0 && cy >= 0 && (cx as usize) < size && (cy as usize) < size {
                    let o = (cy as usize * size + cx as usize) * 4;
                    px[o..o + 3].copy_from_slice(&colour);
                }
            }
        }
    }
    RgbaImage {
        width: size,
        height: size,
        pixels: px,
    }
}

/// D(x) on its grid as a small image, top row = largest y (`None` without a heatmap).
pub fn heatmap_image(view: &PointsView) -> Option<RgbaImage> {
    let n = view.heatmap_size;
    if n == 0 || view.heatmap.len() != n * n {
        return None;
    }
    let mut pixels = Vec::with_capacity(n * n * 4);
    for row in (0..n).rev() {
        for col in 0..n {
            let [r, g, b] = heat_colour(view.heatmap[row * n + col].clamp(0.0, 1.0));
            pixels.extend_from_slice(&[r, g, b, 255]);
        }
    }
    Some(RgbaImage {
        width: n,
        height: n,
        pixels,
    })
}
