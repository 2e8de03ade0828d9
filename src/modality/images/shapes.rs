//! The built-in image set: 28x28 grayscale shapes drawn from signed distance functions
//! with random position, size, rotation and stroke, so samples can be judged by eye
//! (a good generator draws clean discs, rings, squares, crosses...) and nothing is downloaded.

use super::ImageSet;
use crate::data::SeededRng;
use rand::{Rng, SeedableRng};

pub const SIZE: usize = 28;

/// The classes, in label order.
pub const CLASSES: [&str; 8] = [
    "disc", "ring", "square", "frame", "triangle", "plus", "cross", "bar",
];

/// Generates `count` labelled shapes, classes in rotation.
pub fn generate(count: usize, seed: u64) -> ImageSet {
    let mut rng = SeededRng::seed_from_u64(seed ^ 0x5a4e_5e75);
    let mut pixels = Vec::with_capacity(count * SIZE * SIZE);
    let mut labels = Vec::with_capacity(count);
    for i in 0..count {
        let class = i % CLASSES.len();
        render(class, &mut rng, &mut pixels);
        labels.push(class as u8);
    }
    ImageSet {
        channels: 1,
        height: SIZE,
        width: SIZE,
        pixels,
        labels: Some(labels),
        classes: CLASSES.iter().map(|c| c.to_string()).collect(),
    }
}

fn render(class: usize, rng: &mut SeededRng, out: &mut Vec<f32>) {
    let c = SIZE as f32 / 2.0;
    let cx = c + rng.random_range(-3.0..3.0);
    let cy = c + rng.random_range(-3.0..3.0);
    let r = rng.random_range(6.0..9.5);
    let angle: f32 = rng.random_range(0.0..std::f32::consts::PI);
    let stroke = rng.random_range(1.2..2.2);
    let (sin, cos) = angle.sin_cos();
    for y in 0..SIZE {
        for x in 0..SIZE {
            // Pixel centre in the shape's rotated frame.
            let dx = x as f32 + 0.5 - cx;
            let dy = y as f32 + 0.5 - cy;
            let px = cos * dx + sin * dy;
            let py = -sin * dx + cos * dy;
            let d = distance(class, px, py, r, stroke);
            // One-pixel antialiased edge.
            out.push((0.5 - d).clamp(0.0, 1.0));
        }
    }
}

/// Signed distance (pixels) from the shape's edge; negative inside.
fn distance(class: usize, x: f32, y: f32, r: f32, stroke: f32) -> f32 {
    let len = (x * x + y * y).sqrt();
    match class {
        0 => len - r,
        1 => (len - r).abs() - stroke,
        2 => square(x, y, r * 0.8),
        3 => square(x, y, r * 0.8).abs() - stroke,
        4 => triangle(x, y, r),
        5 => plus(x, y, r, stroke),
        6 => {
            let k = std::f32::consts::FRAC_1_SQRT_2;
            plus(k * (x - y), k * (x + y), r, stroke)
        }
        _ => rect(x, y, r, stroke * 1.3),
    }
}

fn rect(x: f32, y: f32, hx: f32, hy: f32) -> f32 {
    let qx = x.abs() - hx;
    let qy = y.abs() - hy;
    let outside = (qx.max(0.0).powi(2) + qy.max(0.0).powi(2)).sqrt();
    outside + qx.max(qy).min(0.0)
}

fn square(x: f32, y: f32, h: f32) -> f32 {
    rect(x, y, h, h)
}

fn plus(x: f32, y: f32, r: f32, stroke: f32) -> f32 {
    rect(x, y, r, stroke).min(rect(x, y, stroke, r))
}

fn triangle(x: f32, y: f32, r: f32) -> f32 {
    // Equilateral triangle of circumradius r (Inigo Quilez's exact SDF).
    let k = 3f32.sqrt();
    let side = r * k;
    let mut px = x.abs() - side / 2.0;
    let mut py = y + side / (2.0 * k);
    if px + k * py > 0.0 {
        let (nx, ny) = ((px - k * py) / 2.0, (-k * px - py) / 2.0);
        px = nx;
        py = ny;
    }
    px -= px.clamp(-side, 0.0);
    -(px * px + py * py).sqrt() * py.signum()
}
