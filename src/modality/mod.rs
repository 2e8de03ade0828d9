//! Kinds of data, one folder each (points, images, audio, text) holding its readers and
//! built-in sets, its metric maths and evaluator, and its views. What the rest of GenLab
//! asks of a kind of data goes through the `Modality` trait (its name, its quality
//! metrics, how its evaluator is trained, what the blind test shows, the files `genlab
//! sample` writes, which trainer it takes, what the window says of it), so the trainers'
//! metric schema, the run writer's columns, the window, the session and the CLI never
//! list a kind's metrics or match on the kind. The window draws the forms samples take
//! (`train::View`), not kinds. What is still one arm per kind outside these folders is
//! listed in README's Architecture section.

pub mod audio;
pub mod images;
pub mod points;
pub mod snapshot;
pub mod text;

use crate::config::{DataConfig, Experiment, Reconstruction};
use crate::data::{Dataset, SeededRng};
use crate::eval::human::Exhibit;
use crate::eval::metric::Metric;
use crate::train::Samples;
use crate::train::Trainer;
use burn::prelude::Device;
use std::path::Path;

/// What a kind of data provides.
pub trait Modality: Sync {
    /// What a person calls it.
    fn name(&self) -> &'static str;
    /// The title of the window's samples view.
    fn samples_title(&self) -> &'static str {
        "Samples"
    }
    /// What the samples view says over the data before training.
    fn preview_hint(&self) -> &'static str {
        "The data, before training: press Train to see samples beside it."
    }
    /// Whether only the recurrent models read it (token sequences), which read nothing
    /// else: the editor switches models with the data.
    fn recurrent_only(&self) -> bool {
        false
    }
    /// The reconstruction loss a VAE takes by default: binary cross-entropy for values
    /// in [0, 1], squared error for values outside it.
    fn reconstruction(&self) -> Reconstruction {
        Reconstruction::Mse
    }
    /// How many modes or classes `data` has where that is known without reading a file
    /// (the built-in sets), for readings such as "modes 6/8".
    fn modes(&self, _data: &DataConfig) -> Option<usize> {
        None
    }
    /// `modes`, or the classes of the user's labelled data as its cached evaluator counts
    /// them (reads a file: once a run, not once a frame).
    fn classes(&self, data: &DataConfig) -> Option<usize> {
        self.modes(data)
    }
    /// Every quality metric it can report, in readout order.
    fn metrics(&self) -> &'static [Metric];
    /// The quality metrics a model family (GAN or not) reports on `data`, in
    /// metrics.csv order.
    fn quality(&self, data: &DataConfig, gan: bool) -> Vec<Metric>;
    /// The data as the sample views will show it beside the samples, for the window
    /// before any training: the points, a grid of the first images, some clips or items.
    fn preview(&self, data: &Dataset) -> Result<Samples, String>;
    /// Items for the blind test (`eval::human`): the data's and the snapshot's.
    fn blind_test_items(
        &self,
        data: &Dataset,
        generated: &Samples,
        rng: &mut SeededRng,
    ) -> Result<BlindTestItems, String>;
    /// The trainer of `experiment` on this kind's loaded `data`. Points, images and
    /// clips share the GAN and VAE over flat samples; text brings its own recurrent models.
    fn trainer(
        &self,
        experiment: &Experiment,
        data: Dataset,
        device: &Device,
    ) -> Result<Box<dyn Trainer>, String> {
        crate::train::session::flat_trainer(experiment, data, device)
    }
    /// What this kind does at each snapshot of the flat GAN and VAE (views and metrics),
    /// for `data` (the training part) of `experiment`; an error for data that only its
    /// own trainers read.
    fn snapshots(
        &self,
        data: &Dataset,
        experiment: &Experiment,
        device: &Device,
    ) -> Result<Box<dyn snapshot::Snapshots>, String>;
    /// Writes samples as the trainer's `generate` returns them (one `data.sample_len()`
    /// row each) into the folder `out`, as this kind's files (`genlab sample`).
    fn write_samples(&self, data: &Dataset, generated: &[f32], out: &Path) -> Result<(), String>;
    /// Whether GenLab ships an evaluator for `data` (a built-in set's, in `assets/`).
    fn ships_evaluator(&self, _data: &DataConfig) -> bool {
        false
    }
    /// Trains the evaluator of labelled `data` (the feature network of FD, KID and
    /// precision/recall) as `job` says, and writes it to `out`.
    fn train_evaluator(
        &self,
        _data: &DataConfig,
        _job: EvaluatorJob,
        _out: &Path,
    ) -> Result<TrainedEvaluator, String> {
        Err(format!(
            "{} have no evaluator: their metrics compare the samples themselves",
            self.name()
        ))
    }
}

/// The blind test's items of one kind of data: real ones drawn from `data` with `rng`
/// (at most `eval::human::POOL`) and generated ones from a snapshot, as pictures (and
/// sounds) a person judges without cues to which is which.
pub type BlindTestItems = (Vec<Exhibit>, Vec<Exhibit>);

/// How an evaluator is trained: seed, steps, and a report of each step done.
pub struct EvaluatorJob<'a> {
    pub seed: u64,
    pub steps: usize,
    pub progress: &'a mut dyn FnMut(usize),
}

/// What training an evaluator gave.
#[derive(Debug, Clone, Copy)]
pub struct TrainedEvaluator {
    pub classes: usize,
    /// On a held-out tenth of the data.
    pub held_out_accuracy: f64,
}

/// Every modality, in the order the window reads their metrics.
pub const ALL: [&dyn Modality; 4] = [&audio::Audio, &points::Points, &images::Images, &text::Text];

/// The modality of a dataset.
pub fn of(data: &DataConfig) -> &'static dyn Modality {
    match data {
        DataConfig::Toy { .. } | DataConfig::CsvPoints { .. } | DataConfig::Drawn { .. } => {
            &points::Points
        }
        DataConfig::Idx { .. } | DataConfig::ImageFolder { .. } | DataConfig::Shapes { .. } => {
            &images::Images
        }
        DataConfig::Tones { .. } | DataConfig::WavFolder { .. } => &audio::Audio,
        DataConfig::Names | DataConfig::TextFile { .. } => &text::Text,
    }
}

/// The modality of loaded data.
pub fn of_dataset(data: &Dataset) -> &'static dyn Modality {
    match data {
        Dataset::Points(_) => &points::Points,
        Dataset::Images(_) => &images::Images,
        Dataset::Audio(_) => &audio::Audio,
        Dataset::Text(_) => &text::Text,
    }
}

/// `out` created, for a modality's sample files.
fn sample_folder(out: &Path) -> Result<(), String> {
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))
}

/// The error when loaded data is not of the modality's kind.
fn not_data_of(name: &str) -> String {
    format!("the data is not {name}")
}

/// The error when a snapshot is not of the data's kind.
fn other_kind(name: &str) -> String {
    format!("the samples are not {name} like the data")
}

/// The declaration of a quality metric by its column, from whichever modality has it.
pub fn metric(column: &str) -> Option<Metric> {
    ALL.iter()
        .flat_map(|m| m.metrics())
        .find(|m| m.column == column)
        .copied()
}
