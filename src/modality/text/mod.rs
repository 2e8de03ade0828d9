//! Text: short items of characters (names, lines of the user's file). The built-in
//! names, UTF-8 files, a vocabulary taken from the data, novelty/uniqueness/bigram
//! quality, and the sample list view.

pub mod corpus;
pub mod evaluator;
pub mod quality;
pub mod views;

pub use corpus::{TextSet, Vocabulary};
pub use views::TextView;

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

/// Everything a text trainer measures of generated items against the training items.
pub struct TextQuality {
    reference: quality::Reference,
    /// FD, KID, precision/recall on the evaluator's features, where the data has one.
    scores: Option<evaluator::TextScores>,
}

impl TextQuality {
    pub fn new(data: &DataConfig, training: &[String]) -> TextQuality {
        TextQuality {
            reference: quality::Reference::new(training),
            scores: evaluator::TextScores::new(data, training),
        }
    }

    /// Whether an item is in the training set.
    pub fn contains(&self, item: &str) -> bool {
        self.reference.contains(item)
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
