//! A folder of PNG/JPEG images, resized to a square and kept grayscale or RGB. A folder
//! whose images sit in subfolders, one per class (torchvision's ImageFolder layout), is
//! labelled by subfolder (`data::folder::class_folders`).

use super::ImageSet;
use crate::data::folder::{class_folders, ClassFolders};
use crate::data::DataError;
use image::imageops::FilterType;
use std::path::Path;

/// More images than this is surely a mistake for an in-memory workbench set.
const MAX_IMAGES: usize = 200_000;
/// Refuse decoding a single image above this many pixels (decompression bombs).
const MAX_PIXELS: u64 = 64 * 1024 * 1024;

/// Reads every image in `dir`, resized to `size` x `size`. Refuses, before decoding any,
/// a set that would not fit in memory.
/// Files are read in an order shuffled by `seed`, so a held-out tail is a fair draw and
/// not the last class or the end of the alphabet.
pub fn read(dir: &Path, size: usize, color: bool, seed: u64) -> Result<ImageSet, DataError> {
    let ClassFolders {
        files,
        labels,
        classes,
    } = image_files(dir)?.shuffled(seed);
    if files.len() > MAX_IMAGES {
        return Err(DataError::malformed(
            dir,
            format!("{} images, at most {MAX_IMAGES}", files.len()),
        ));
    }
    let channels = if color { 3 } else { 1 };
    let values = (files.len() as u64)
        .saturating_mul(channels as u64)
        .saturating_mul((size as u64).saturating_mul(size as u64));
    crate::cost::ensure_fits(
        values.saturating_mul(4),
        dir,
        &format!(
            "{} images of {channels}x{size}x{size} values as 32-bit floats",
            files.len()
        ),
    )?;
    let mut pixels = Vec::with_capacity(values as usize);
    for file in &files {
        load_one(file, size, color, &mut pixels)?;
    }
    Ok(ImageSet {
        channels,
        height: size,
        width: size,
        pixels,
        labels,
        classes,
    })
}

const EXTENSIONS: [&str; 3] = ["png", "jpg", "jpeg"];

/// The PNG and JPEG files in `dir`; where it has none of its own, those of its subfolders,
/// one class per subfolder in name order (hidden ones and ones without images skipped).
/// An error when neither level has any.
pub fn image_files(dir: &Path) -> Result<ClassFolders, DataError> {
    class_folders(dir, &EXTENSIONS, "images")
}

fn load_one(file: &Path, size: usize, color: bool, out: &mut Vec<f32>) -> Result<(), DataError> {
    let reader = std::fs::File::open(file).map_err(|e| DataError::io(file, e))?;
    decode(std::io::BufReader::new(reader), file, size, color, out)
}

/// Decodes one image (PNG, JPEG or GIF, told by its bytes), resizes it to `size` x `size`
/// and appends it channel-major to `out`; `file` is for messages.
pub fn decode<R: std::io::BufRead + std::io::Seek>(
    reader: R,
    file: &Path,
    size: usize,
    color: bool,
    out: &mut Vec<f32>,
) -> Result<(), DataError> {
    let mut reader = image::ImageReader::new(reader)
        .with_guessed_format()
        .map_err(|e| DataError::io(file, e))?;
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(MAX_PIXELS * 4);
    reader.limits(limits);
    let img = reader
        .decode()
        .map_err(|e| DataError::malformed(file, format!("cannot decode image: {e}")))?;
    let s = size as u32;
    if color {
        let rgb = image::imageops::resize(&img.to_rgb8(), s, s, FilterType::Triangle);
        // Channel-major (C, H, W).
        for c in 0..3 {
            out.extend(rgb.pixels().map(|p| p.0[c] as f32 / 255.0));
        }
    } else {
        let gray = image::imageops::resize(&img.to_luma8(), s, s, FilterType::Triangle);
        out.extend(gray.pixels().map(|p| p.0[0] as f32 / 255.0));
    }
    Ok(())
}
