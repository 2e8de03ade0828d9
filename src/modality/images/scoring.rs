//! Scores that compare across tools: a folder of PNG images (GenLab's samples, or a
//! PyTorch model's) scored against the data with GenLab's evaluator, beside each
//! metric's real-versus-real floor (the value two disjoint halves of the real data get),
//! and the classes the images fall in by the evaluator's prediction.
//! The same evaluator goes out as `evaluator.safetensors` with the real images as PNGs,
//! so `scripts/score_images.py` gives the same numbers without GenLab.
//!
//! The reference is the first `REFERENCE` real images (the same set training's live
//! metrics use); the floor compares it with the next `REFERENCE`.

use crate::data::{Dataset, ImageSet};
use crate::eval::evaluator::FEATURES;
use crate::eval::features::FeatureReference;
use crate::modality::images::evaluator::{Evaluator, SavedEvaluator};
use crate::train::quality::classes_covered;
use crate::train::tensors::image_grid;
use std::path::{Path, PathBuf};

/// Real images in the reference set (training's live metrics use as many).
pub const REFERENCE: usize = crate::train::quality::QUALITY_SAMPLES;

/// The data's images and its evaluator, ready to score folders.
pub struct Scorer {
    evaluator: Evaluator,
    saved: SavedEvaluator,
    real: ImageSet,
    reference: FeatureReference,
}

/// Each metric of a folder against the reference, and the real-versus-real floor.
#[derive(Debug, Clone)]
pub struct Scores {
    pub images: usize,
    pub samples: Vec<(&'static str, f64)>,
    pub floor: Vec<(&'static str, f64)>,
}

impl Scorer {
    /// For the images of `data` (a preset's or a run's), with the evaluator GenLab has
    /// for them (shipped, or trained by `genlab evaluator`).
    pub fn new(data: &crate::config::DataConfig, seed: u64) -> Result<Scorer, String> {
        let saved = crate::modality::images::evaluator::for_data(data).ok_or_else(|| {
            "no evaluator for this data: train one first with `genlab evaluator PRESET`".to_string()
        })?;
        let Dataset::Images(real) = Dataset::load(data, seed).map_err(|e| e.to_string())? else {
            return Err("scoring PNG folders needs image data".into());
        };
        if real.len() < 2 * REFERENCE {
            return Err(format!(
                "the data has {} images; the reference and the real-versus-real floor need {}",
                real.len(),
                2 * REFERENCE
            ));
        }
        let device = burn::prelude::Device::flex();
        let evaluator = saved.model(&device)?;
        let reference = FeatureReference::new(
            evaluator.features_of(&real.pixels[..REFERENCE * real.image_len()], &device),
            FEATURES,
        );
        Ok(Scorer {
            evaluator,
            saved,
            real,
            reference,
        })
    }

    /// The metrics of the images in `dir` (each `side` x `side`), and the floor.
    pub fn score(&self, dir: &Path) -> Result<Scores, String> {
        let pixels = read_pngs(dir, self.real.channels, self.real.height)?;
        let device = burn::prelude::Device::flex();
        let len = self.real.image_len();
        let second = &self.real.pixels[REFERENCE * len..2 * REFERENCE * len];
        let scores = |images: &[f32]| {
            let features = self.evaluator.features_of(images, &device);
            let predicted = self.evaluator.predicted_classes(&features, &device);
            let mut values = self.reference.scores(features);
            values.push((
                crate::modality::images::CLASSES_COVERED.column,
                classes_covered(&predicted, self.saved.classes) as f64,
            ));
            values
        };
        Ok(Scores {
            images: pixels.len() / len,
            samples: scores(&pixels),
            floor: scores(second),
        })
    }

    /// Writes `evaluator.safetensors` and the two real halves as `real/NNNNNN.png`
    /// (the first `REFERENCE` are the reference) into `dir`.
    pub fn export(&self, dir: &Path) -> Result<(), String> {
        let tensors = self.evaluator.named_tensors();
        let metadata = [
            ("dataset", self.saved.dataset.clone()),
            ("channels", self.saved.channels.to_string()),
            ("side", self.saved.side.to_string()),
            (
                "held_out_accuracy",
                self.saved.held_out_accuracy.to_string(),
            ),
            ("reference_images", REFERENCE.to_string()),
        ];
        let path = dir.join("evaluator.safetensors");
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        crate::durable::write(&path, &safetensors(&tensors, &metadata))
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let len = self.real.image_len();
        write_pngs(
            &dir.join("real"),
            &self.real.pixels[..2 * REFERENCE * len],
            self.real.channels,
            self.real.height,
        )
    }
}

/// The `.png` files of `dir`, sorted by name, as images in [0, 1] with `channels`
/// channels (grey: the mean of red, green and blue), each `side` x `side`.
pub fn read_pngs(dir: &Path, channels: usize, side: usize) -> Result<Vec<f32>, String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("png")))
        .collect();
    files.sort();
    if files.len() < 2 {
        return Err(format!(
            "{}: {} PNG files; scoring needs at least 2 (a few hundred for stable numbers)",
            dir.display(),
            files.len()
        ));
    }
    let mut pixels = Vec::with_capacity(files.len() * channels * side * side);
    for f in &files {
        let img = image::open(f)
            .map_err(|e| format!("{}: {e}", f.display()))?
            .to_rgb8();
        if (img.width() as usize, img.height() as usize) != (side, side) {
            return Err(format!(
                "{}: {}x{} pixels, but the data's images are {side}x{side} (save one image per file, \
                 not a grid)",
                f.display(),
                img.width(),
                img.height()
            ));
        }
        let rgb: Vec<[f32; 3]> = img
            .pixels()
            .map(|p| p.0.map(|v| v as f32 / 255.0))
            .collect();
        if channels == 1 {
            pixels.extend(rgb.iter().map(|p| (p[0] + p[1] + p[2]) / 3.0));
        } else {
            for c in 0..channels.min(3) {
                pixels.extend(rgb.iter().map(|p| p[c]));
            }
        }
    }
    Ok(pixels)
}

/// Images in [0, 1] (channel-major) as `NNNNNN.png` files in `dir`.
pub fn write_pngs(dir: &Path, pixels: &[f32], channels: usize, side: usize) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let len = channels * side * side;
    for (i, img) in pixels.chunks_exact(len.max(1)).enumerate() {
        // A one-image grid, without its 1-pixel frame.
        let framed = image_grid(img, 1, channels, [side, side], 1);
        let path = dir.join(format!("{i:06}.png"));
        let mut rgb = image::RgbImage::new(side as u32, side as u32);
        for (x, y, p) in rgb.enumerate_pixels_mut() {
            let o = ((y as usize + 1) * framed.width + x as usize + 1) * 4;
            p.0.copy_from_slice(&framed.pixels[o..o + 3]);
        }
        let saved = if channels == 1 {
            image::DynamicImage::ImageRgb8(rgb).to_luma8().save(&path)
        } else {
            rgb.save(&path)
        };
        saved.map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

/// The safetensors format: an 8-byte little-endian header length, a JSON header naming
/// each tensor's dtype, shape and byte range, then the raw little-endian values.
fn safetensors(tensors: &[(String, Vec<usize>, Vec<f32>)], metadata: &[(&str, String)]) -> Vec<u8> {
    let mut header = String::from("{\"__metadata__\":{");
    let entries: Vec<String> = metadata
        .iter()
        .map(|(k, v)| format!("{}:{}", json_string(k), json_string(v)))
        .collect();
    header.push_str(&entries.join(","));
    header.push('}');
    let mut data = Vec::new();
    for (name, shape, values) in tensors {
        let start = data.len();
        for v in values {
            data.extend_from_slice(&v.to_le_bytes());
        }
        let shape: Vec<String> = shape.iter().map(usize::to_string).collect();
        header.push_str(&format!(
            ",\"{name}\":{{\"dtype\":\"F32\",\"shape\":[{}],\"data_offsets\":[{start},{}]}}",
            shape.join(","),
            data.len()
        ));
    }
    header.push('}');
    // The data starts 8-byte aligned.
    while header.len() % 8 != 0 {
        header.push(' ');
    }
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(header.as_bytes());
    out.extend(data);
    out
}

/// `text` as a JSON string literal.
fn json_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl Scores {
    /// The table `genlab score` prints.
    pub fn to_text(&self) -> String {
        let mut text = format!(
            "{:<16} {:>14} {:>16}\n",
            "metric",
            format!("{} samples", self.images),
            "real vs real"
        );
        for ((name, v), (_, floor)) in self.samples.iter().zip(&self.floor) {
            text.push_str(&format!("{name:<16} {v:>14.4} {floor:>16.4}\n"));
        }
        text
    }
}
