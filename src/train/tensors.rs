//! Moving plain f32 data in and out of tensors, and drawing image grids.

use super::events::RgbaImage;
use burn::prelude::*;
use burn::tensor::TensorData;

/// A `[rows, cols]` tensor from row-major values.
pub fn matrix(values: &[f32], rows: usize, cols: usize, device: &Device) -> Tensor<2> {
    Tensor::from_data(TensorData::new(values.to_vec(), [rows, cols]), device)
}

/// All values of a tensor, row-major; an empty vector if the backend returns another dtype.
pub fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .unwrap_or_default()
}

/// A scalar tensor's value.
pub fn scalar(t: Tensor<1>) -> f64 {
    values(t).first().copied().unwrap_or(f32::NAN) as f64
}

/// Lays `n` images (values in [0, 1], channel-major) out in a grid with 1-pixel gaps.
pub fn image_grid(
    pixels: &[f32],
    n: usize,
    channels: usize,
    [rows_px, cols_px]: [usize; 2],
    cols: usize,
) -> RgbaImage {
    let cols = cols.max(1).min(n.max(1));
    let rows = n.div_ceil(cols);
    let (cell_h, cell_w) = (rows_px + 1, cols_px + 1);
    let width = cols * cell_w + 1;
    let height = rows * cell_h + 1;
    let mut out = vec![0u8; width * height * 4];
    // A dark grey background separates the cells.
    for px in out.chunks_exact_mut(4) {
        px.copy_from_slice(&[40, 40, 48, 255]);
    }
    let plane = rows_px * cols_px;
    for i in 0..n {
        let img = &pixels[i * channels * plane..(i + 1) * channels * plane];
        let (ox, oy) = ((i % cols) * cell_w + 1, (i / cols) * cell_h + 1);
        for y in 0..rows_px {
            for x in 0..cols_px {
                let at = |c: usize| {
                    (img[c * plane + y * cols_px + x].clamp(0.0, 1.0) * 255.0).round() as u8
                };
                let rgb = if channels >= 3 {
                    [at(0), at(1), at(2)]
                } else {
                    [at(0); 3]
                };
                let o = ((oy + y) * width + ox + x) * 4;
                out[o..o + 3].copy_from_slice(&rgb);
                out[o + 3] = 255;
            }
        }
    }
    RgbaImage {
        width,
        height,
        pixels: out,
    }
}
