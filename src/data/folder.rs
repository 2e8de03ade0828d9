//! A folder of PNG/JPEG images, resized to a square and kept grayscale or RGB. A folder
//! whose images sit in subfolders, one per class (torchvision's ImageFolder layout), is
//! labelled by subfolder, so an evaluator can be trained on it and classes counted.

use super::{DataError, ImageSet};
use image::imageops::FilterType;
use std::path::{Path, PathBuf};

/// More images than this is surely a mistake for an in-memory workbench set.
const MAX_IMAGES: usize = 200_000;
/// Refuse decoding a single image above this many pixels (decompression bombs).
const MAX_PIXELS: u64 = 64 * 1024 * 1024;

/// Reads every image in `dir`, resized to `size` x `size`. Refuses, before decoding any,
/// a set that would not fit in memory.
/// Files are read in an order shuffled by `seed`, so a held-out tail is a fair draw and
/// not the last class or the end of the alphabet.
pub fn read(dir: &Path, size: usize, color: bool, seed: u64) -> Result<ImageSet, DataError> {
    let FolderImages {
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
/// Labels are bytes, as in IDX files.
const MAX_CLASSES: usize = 256;

/// The files a folder holds, sorted, with their classes where it has them.
pub struct ClassFolders {
    pub files: Vec<PathBuf>,
    /// The class of each file, an index into `classes`; `None` for a flat folder.
    pub labels: Option<Vec<u8>>,
    /// Subfolder names in label order; empty for a flat folder.
    pub classes: Vec<String>,
}

/// The images a folder holds.
pub type FolderImages = ClassFolders;

impl ClassFolders {
    /// The files (and their labels) in an order shuffled by `seed`, so that a held-out
    /// tail is a fair draw and not the last class or the end of the alphabet.
    pub fn shuffled(self, seed: u64) -> ClassFolders {
        use rand::seq::SliceRandom;
        use rand::SeedableRng;
        let mut order: Vec<usize> = (0..self.files.len()).collect();
        order.shuffle(&mut super::SeededRng::seed_from_u64(seed ^ 0xf01d_e125));
        ClassFolders {
            files: order.iter().map(|&i| self.files[i].clone()).collect(),
            labels: self.labels.map(|l| order.iter().map(|&i| l[i]).collect()),
            classes: self.classes,
        }
    }
}

/// The PNG and JPEG files in `dir`; where it has none of its own, those of its subfolders,
/// one class per subfolder in name order (hidden ones and ones without images skipped).
/// An error when neither level has any.
pub fn image_files(dir: &Path) -> Result<FolderImages, DataError> {
    class_folders(dir, &EXTENSIONS, "images")
}

/// The files with one of `extensions` in `dir`; where it has none of its own, those of
/// its subfolders, one class per subfolder in name order (torchvision's ImageFolder
/// layout; hidden subfolders and ones without such files skipped). `what` names the
/// files in messages. An error when neither level has any.
pub fn class_folders(
    dir: &Path,
    extensions: &[&str],
    what: &str,
) -> Result<ClassFolders, DataError> {
    let own = super::files_with_extensions(dir, extensions);
    if let Ok(files) = own {
        return Ok(ClassFolders {
            files,
            labels: None,
            classes: Vec::new(),
        });
    }
    let entries = std::fs::read_dir(dir).map_err(|e| DataError::io(dir, e))?;
    let mut subfolders: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir() && !is_hidden(p))
        .collect();
    subfolders.sort();
    let (mut files, mut labels, mut classes) = (Vec::new(), Vec::new(), Vec::new());
    for sub in subfolders {
        let Ok(class_files) = super::files_with_extensions(&sub, extensions) else {
            continue;
        };
        if classes.len() == MAX_CLASSES {
            return Err(DataError::malformed(
                dir,
                format!("more than {MAX_CLASSES} subfolders of {what} (one per class)"),
            ));
        }
        labels.extend(class_files.iter().map(|_| classes.len() as u8));
        files.extend(class_files);
        classes.push(
            sub.file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned(),
        );
    }
    if files.is_empty() {
        let names: Vec<String> = extensions.iter().map(|e| format!(".{e}")).collect();
        return Err(DataError::malformed(
            dir,
            format!(
                "no {} files in this folder or in its subfolders",
                super::either_of(&names)
            ),
        ));
    }
    Ok(ClassFolders {
        files,
        labels: Some(labels),
        classes,
    })
}

fn is_hidden(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.'))
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
