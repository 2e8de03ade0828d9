//! Text: short items of characters (names, lines of the user's file). The built-in
//! names, UTF-8 files, a vocabulary taken from the data, novelty/uniqueness/bigram
//! quality, and the sample list view.

pub mod corpus;
pub mod evaluator;
pub mod quality;
pub mod views;

pub use corpus::{TextSet, Vocabulary};
pub use views::TextView;

/// Items in the data preview's list.
const PREVIEW_ITEMS: usize = 64;

use super::{BlindTestItems, EvaluatorJob, Modality, TrainedEvaluator};
use crate::config::DataConfig;
use crate::data::{Dataset, SeededRng};
use crate::eval::features::SCORES;
use crate::eval::metric::Metric;
use crate::train::Samples;
use std::path::Path;

/// Text as a modality.
pub struct Text;

/// The sample metrics, then the evaluator's scores.
const ALL: [Metric; 9] = [
    quality::METRICS[0],
    quality::METRICS[1],
    quality::METRICS[2],
    quality::METRICS[3],
    SCORES[0],
    SCORES[1],
    SCORES[2],
    SCORES[3],
    SCORES[4],
];

/// Items a text model draws at each snapshot (the metrics are measured on all of them).
pub const SNAPSHOT_ITEMS: usize = 512;
/// Seeds a snapshot's draws apart from the training stream (which they must not shift:
/// runs resume bit for bit); the same draws at every snapshot, like a GAN's fixed noise.
pub const SNAPSHOT_SEED: u64 = 0x7e47_5eed;
/// Generated items, and items of the data, a snapshot's view shows.
const VIEW_ITEMS: usize = 64;
const REAL_ITEMS: usize = 32;

/// Everything a text trainer measures of generated items against the training items.
pub struct TextQuality {
    reference: quality::Reference,
    /// FD, KID, precision/recall on the evaluator's features, where the data has one.
    scores: Option<evaluator::TextScores>,
    /// The items of the data a view shows.
    real: Vec<String>,
}

impl TextQuality {
    pub fn new(data: &DataConfig, training: &[String]) -> TextQuality {
        TextQuality {
            reference: quality::Reference::new(training),
            scores: evaluator::TextScores::new(data, training),
            real: training.iter().take(REAL_ITEMS).cloned().collect(),
        }
    }

    /// A snapshot of `items` (drawn for it): every metric on all of them, and the view
    /// of the first, each marked novel or memorised, beside items of the data. The
    /// model's own views (positions, reconstructions) are the trainer's to add.
    pub fn snapshot(&self, items: Vec<String>) -> (TextView, Vec<(&'static str, f64)>) {
        let metrics = self.measure(&items);
        let generated: Vec<String> = items.into_iter().take(VIEW_ITEMS).collect();
        let view = TextView {
            novel: generated
                .iter()
                .map(|s| !self.reference.contains(s))
                .collect(),
            generated,
            real: self.real.clone(),
            ..TextView::default()
        };
        (view, metrics)
    }

    /// Every metric of `ALL` that can be measured for this data.
    pub fn measure(&self, generated: &[String]) -> Vec<(&'static str, f64)> {
        let mut values = self.reference.measure(generated);
        if let Some(scores) = &self.scores {
            values.extend(scores.measure(generated));
        }
        values
    }
}

impl Modality for Text {
    fn name(&self) -> &'static str {
        "text items"
    }

    fn ships_evaluator(&self, data: &DataConfig) -> bool {
        matches!(data, DataConfig::Names)
    }

    fn snapshots(
        &self,
        _data: &Dataset,
        _experiment: &crate::config::Experiment,
        _device: &burn::prelude::Device,
    ) -> Result<Box<dyn super::snapshot::Snapshots>, String> {
        Err(crate::model::TEXT_NEEDS_GRU.into())
    }

    fn preview(&self, data: &Dataset) -> Result<Samples, String> {
        let Dataset::Text(set) = data else {
            return Err(super::not_data_of(self.name()));
        };
        Ok(Samples::Text(TextView::of_data(
            set.items.iter().take(PREVIEW_ITEMS).cloned().collect(),
        )))
    }

    fn preview_hint(&self) -> &'static str {
        "The data, before training: press Train to see generated items beside it."
    }

    fn recurrent_only(&self) -> bool {
        true
    }

    fn trainer(
        &self,
        experiment: &crate::config::Experiment,
        data: Dataset,
        device: &burn::prelude::Device,
    ) -> Result<Box<dyn crate::train::Trainer>, String> {
        crate::train::session::sequence_trainer(experiment, data, device)
    }

    /// `samples.txt`: the items, one per line.
    fn write_samples(&self, data: &Dataset, generated: &[f32], out: &Path) -> Result<(), String> {
        let Dataset::Text(set) = data else {
            return Err(super::other_kind(self.name()));
        };
        let mut text = String::new();
        for item in generated.chunks_exact(set.sequence_len().max(1)) {
            text.push_str(
                &set.vocabulary
                    .decode(item.iter().map(|&t| t.max(0.0) as u32)),
            );
            text.push('\n');
        }
        super::sample_folder(out)?;
        let path = out.join("samples.txt");
        crate::durable::write(&path, text.as_bytes())
            .map_err(|e| format!("{}: {e}", path.display()))
    }

    fn metrics(&self) -> &'static [Metric] {
        &ALL
    }

    fn quality(&self, _data: &DataConfig, _gan: bool) -> Vec<Metric> {
        ALL.to_vec()
    }

    /// A small character language model on the data (text has no labels): its classes
    /// are the next characters.
    fn train_evaluator(
        &self,
        data: &DataConfig,
        job: EvaluatorJob,
        out: &Path,
    ) -> Result<TrainedEvaluator, String> {
        let saved = evaluator::train(data, job.seed, job.steps, |s| (job.progress)(s))?;
        saved.save(out)?;
        Ok(TrainedEvaluator {
            classes: saved.chars.len() + 1,
            held_out_accuracy: saved.held_out_accuracy,
        })
    }

    /// Items written out as pictures of their text, real ones drawn from the data.
    fn blind_test_items(
        &self,
        data: &Dataset,
        generated: &Samples,
        rng: &mut SeededRng,
    ) -> Result<BlindTestItems, String> {
        use crate::eval::human::{pick, words, POOL};
        let (Dataset::Text(set), Samples::Text(view)) = (data, generated) else {
            return Err(super::other_kind(self.name()));
        };
        let real = pick(rng, set.len(), POOL)
            .into_iter()
            .map(|i| words(&set.items[i]))
            .collect();
        let generated = view.generated.iter().map(|s| words(s)).collect();
        Ok((real, generated))
    }
}
