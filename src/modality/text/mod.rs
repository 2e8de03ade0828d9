//! Text: short items of characters (names, lines of the user's file). The built-in
//! names, UTF-8 files, a vocabulary taken from the data, novelty/uniqueness/bigram
//! quality, and the sample list view.

pub mod corpus;
pub mod quality;
pub mod views;

pub use corpus::{TextSet, Vocabulary};
pub use views::TextView;

use super::{BlindTestItems, Modality};
use crate::config::DataConfig;
use crate::data::{Dataset, SeededRng};
use crate::eval::metric::Metric;
use crate::train::Samples;

/// Text as a modality.
pub struct Text;

impl Modality for Text {
    fn name(&self) -> &'static str {
        "text items"
    }

    fn metrics(&self) -> &'static [Metric] {
        &quality::METRICS
    }

    fn quality(&self, _data: &DataConfig, _gan: bool) -> Vec<Metric> {
        quality::METRICS.to_vec()
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
