//! Training data: 2-D point sets, image sets, audio clips and text items, loaded from the experiment's `DataConfig`.

pub mod folder;

use crate::config::DataConfig;
use crate::modality::audio;
pub use crate::modality::audio::AudioSet;
use crate::modality::images;
pub use crate::modality::images::ImageSet;
use crate::modality::points;
pub use crate::modality::points::PointSet;
use crate::modality::text;
pub use crate::modality::text::TextSet;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use std::path::{Path, PathBuf};

/// Every random stream in training (data order, noise). ChaCha12 is what `rand`'s StdRng
/// uses, named here so a checkpoint can store its exact state (serde).
pub type SeededRng = rand_chacha::ChaCha12Rng;

/// Why a dataset could not be loaded; always names the file and the problem.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Malformed { path: PathBuf, message: String },
}

impl DataError {
    pub fn malformed(path: &std::path::Path, message: impl Into<String>) -> Self {
        DataError::Malformed {
            path: path.to_owned(),
            message: message.into(),
        }
    }
    pub fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        DataError::Io {
            path: path.to_owned(),
            source,
        }
    }
}

/// The files in `dir` whose extension is one of `extensions` (any case), sorted; an
/// error naming them when there are none.
pub fn files_with_extensions(dir: &Path, extensions: &[&str]) -> Result<Vec<PathBuf>, DataError> {
    let entries = std::fs::read_dir(dir).map_err(|e| DataError::io(dir, e))?;
    let mut files: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| extensions.iter().any(|x| e.eq_ignore_ascii_case(x)))
        })
        .collect();
    files.sort();
    if files.is_empty() {
        let names: Vec<String> = extensions.iter().map(|e| format!(".{e}")).collect();
        return Err(DataError::malformed(
            dir,
            format!("no {} files in this folder", either_of(&names)),
        ));
    }
    Ok(files)
}

/// "a, b or c" (one name alone as it is).
pub(crate) fn either_of(names: &[String]) -> String {
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => names.join(""),
    }
}

/// A loaded dataset.
#[derive(Debug, Clone)]
pub enum Dataset {
    Points(PointSet),
    Images(ImageSet),
    Audio(AudioSet),
    Text(TextSet),
}

impl Dataset {
    /// Loads or generates the dataset an experiment names.
    pub fn load(config: &DataConfig, seed: u64) -> Result<Dataset, DataError> {
        Ok(match config {
            DataConfig::Toy { shape, noise } => Dataset::Points(points::toy::sample(
                *shape,
                *noise,
                points::toy::SAMPLES,
                seed,
            )),
            DataConfig::CsvPoints { path } => Dataset::Points(points::csv::read(path)?),
            DataConfig::Drawn { points, spread } => Dataset::Points(points::toy::drawn(
                points,
                *spread,
                points::toy::SAMPLES,
                seed,
            )),
            DataConfig::Idx { images, labels } => {
                Dataset::Images(images::idx::read_images(images, labels.as_deref())?)
            }
            DataConfig::ImageFolder { path, size, color } => {
                Dataset::Images(images::folder::read(path, *size, *color, seed)?)
            }
            DataConfig::Shapes { count } => Dataset::Images(images::shapes::generate(*count, seed)),
            DataConfig::Tones { count } => Dataset::Audio(audio::tones::generate(*count, seed)),
            DataConfig::WavFolder {
                path,
                sample_rate,
                length,
            } => Dataset::Audio(audio::wav::read_folder(path, *sample_rate, *length, seed)?),
            DataConfig::Names => Dataset::Text(text::corpus::names(seed)),
            DataConfig::TextFile { path } => Dataset::Text(text::corpus::read_file(path, seed)?),
        })
    }

    /// The shape of one sample, which fixes the networks' input and output sizes.
    pub fn shape(&self) -> crate::model::SampleShape {
        use crate::model::SampleShape;
        match self {
            Dataset::Points(_) => SampleShape::Point2,
            Dataset::Images(s) => SampleShape::Image {
                channels: s.channels,
                height: s.height,
                width: s.width,
            },
            Dataset::Audio(a) => SampleShape::Audio { length: a.length },
            Dataset::Text(t) => SampleShape::Text {
                length: t.sequence_len(),
                vocabulary: t.vocabulary.size(),
            },
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Dataset::Points(p) => p.points.len(),
            Dataset::Images(i) => i.len(),
            Dataset::Audio(a) => a.len(),
            Dataset::Text(t) => t.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of f32 values in one sample.
    pub fn sample_len(&self) -> usize {
        match self {
            Dataset::Points(_) => 2,
            Dataset::Images(i) => i.image_len(),
            Dataset::Audio(a) => a.length,
            Dataset::Text(t) => t.sequence_len(),
        }
    }

    /// The class of each sample, where the data has them.
    pub fn labels(&self) -> Option<&[u8]> {
        match self {
            Dataset::Images(s) => s.labels.as_deref(),
            Dataset::Audio(a) => a.labels.as_deref(),
            Dataset::Points(_) | Dataset::Text(_) => None,
        }
    }

    /// Takes the last `most` samples (at most a tenth) away, as a held-out set: the rest,
    /// and the held-out samples flat, with their labels. Text keeps all its items (its
    /// trainers hold out their own).
    pub fn split_held_out(self, most: usize) -> (Dataset, Vec<f32>, Option<Vec<u8>>) {
        match self {
            Dataset::Images(mut set) => {
                let n = most.min(set.len() / 10);
                let held = set.split_off(n);
                (Dataset::Images(set), held.pixels, held.labels)
            }
            Dataset::Audio(mut set) => {
                let n = most.min(set.len() / 10);
                let held = set.split_off(n);
                (Dataset::Audio(set), held.samples, held.labels)
            }
            Dataset::Text(set) => (Dataset::Text(set), Vec::new(), None),
            Dataset::Points(mut set) => {
                let n = most.min(set.points.len() / 10);
                let keep = set.points.len() - n;
                let held = set.points.split_off(keep).into_iter().flatten().collect();
                (Dataset::Points(set), held, None)
            }
        }
    }

    /// The classes' names in label order: the data's own where it has them, else their
    /// numbers ("class 3"); as many as `classes()`.
    pub fn class_names(&self) -> Vec<String> {
        let named = match self {
            Dataset::Images(s) => &s.classes[..],
            Dataset::Audio(a) => &a.classes[..],
            Dataset::Points(_) | Dataset::Text(_) => &[],
        };
        (0..self.classes())
            .map(|c| {
                named
                    .get(c)
                    .cloned()
                    .unwrap_or_else(|| format!("class {c}"))
            })
            .collect()
    }

    /// Classes a conditional model is built for: one past the largest label (0 without labels).
    pub fn classes(&self) -> usize {
        self.labels()
            .and_then(|l| l.iter().max())
            .map_or(0, |&m| m as usize + 1)
    }

    /// Copies sample `i` into `out`.
    fn write_sample(&self, i: usize, out: &mut Vec<f32>) {
        match self {
            Dataset::Points(p) => out.extend_from_slice(&p.points[i]),
            Dataset::Images(s) => out.extend_from_slice(s.image(i)),
            Dataset::Audio(a) => out.extend_from_slice(a.clip(i)),
            Dataset::Text(t) => t.write_sequence(i, out),
        }
    }
}

/// Draws batches in shuffled epochs, reusing one buffer (no allocation per step).
/// Serializable so a checkpoint resumes the exact batch order.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct Batcher {
    order: Vec<usize>,
    cursor: usize,
    rng: SeededRng,
    #[serde(skip)]
    buffer: Vec<f32>,
    /// The indices of the last batch, for its labels.
    #[serde(skip)]
    last: Vec<usize>,
}

impl Batcher {
    pub fn new(len: usize, seed: u64) -> Self {
        let mut b = Batcher {
            order: (0..len).collect(),
            cursor: len,
            rng: SeededRng::seed_from_u64(seed ^ 0x5eed_ba7c),
            buffer: Vec::new(),
            last: Vec::new(),
        };
        b.reshuffle();
        b
    }

    fn reshuffle(&mut self) {
        self.order.shuffle(&mut self.rng);
        self.cursor = 0;
    }

    /// Checks a batcher read from a checkpoint against the dataset it will index.
    pub fn check(&self, len: usize) -> Result<(), String> {
        if self.order.len() != len {
            return Err(format!(
                "batch order covers {} samples, the dataset has {len}",
                self.order.len()
            ));
        }
        if self.cursor > len {
            return Err(format!(
                "batch cursor {} is past the end ({len})",
                self.cursor
            ));
        }
        let mut seen = vec![false; len];
        for &i in &self.order {
            if i >= len || std::mem::replace(&mut seen[i], true) {
                return Err("batch order is not a permutation of the dataset".into());
            }
        }
        Ok(())
    }

    /// The next `batch` samples, flattened.
    pub fn next(&mut self, data: &Dataset, batch: usize) -> &[f32] {
        self.buffer.clear();
        self.last.clear();
        for _ in 0..batch {
            if self.cursor >= self.order.len() {
                self.reshuffle();
            }
            let i = self.order[self.cursor];
            self.cursor += 1;
            data.write_sample(i, &mut self.buffer);
            self.last.push(i);
        }
        &self.buffer
    }

    /// The labels of the last batch `next` drew (empty when the data has none).
    pub fn last_labels(&self, data: &Dataset) -> Vec<u8> {
        data.labels()
            .map(|l| self.last.iter().map(|&i| l[i]).collect())
            .unwrap_or_default()
    }
}

/// Standard normal latent vectors, flattened `[n, dim]`.
pub fn normal_latents(rng: &mut SeededRng, n: usize, dim: usize) -> Vec<f32> {
    use rand_distr::{Distribution, StandardNormal};
    (0..n * dim).map(|_| StandardNormal.sample(rng)).collect()
}
