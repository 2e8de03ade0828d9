//! What a text snapshot shows: generated items marked novel or memorised beside items of
//! the data, and the model's choice at each position of one item.

use crate::train::events::SampleFile;
use std::borrow::Cow;

/// The model's distribution at one position of an item: the character drawn there
/// (`None`: the end) and the most likely ones with their probabilities.
#[derive(Debug, Clone, PartialEq)]
pub struct Position {
    pub chosen: Option<char>,
    pub probability: f32,
    pub top: Vec<(Option<char>, f32)>,
}

/// One text snapshot.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TextView {
    /// Items generated from a fixed seed.
    pub generated: Vec<String>,
    /// Whether each generated item is absent from the training set.
    pub novel: Vec<bool>,
    /// Items of the data, for comparison.
    pub real: Vec<String>,
    /// Position by position, how the first generated item was drawn.
    pub positions: Vec<Position>,
    /// VAE: held-out items and what the decoder makes of their codes (the likeliest
    /// characters).
    pub reconstructions: Vec<(String, String)>,
    /// VAE: two held-out items with the decodings of the straight line between their
    /// codes in between.
    pub interpolation: Vec<String>,
}

impl TextView {
    /// The data alone (before training): `real` items and nothing generated.
    pub fn of_data(real: Vec<String>) -> TextView {
        TextView {
            real,
            ..TextView::default()
        }
    }

    /// The generated items, one per line, as a run folder keeps them.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for item in &self.generated {
            out.push_str(item);
            out.push('\n');
        }
        out
    }

    pub fn files(&self) -> Vec<SampleFile<'_>> {
        vec![SampleFile::Text {
            suffix: "",
            text: Cow::Owned(self.text()),
        }]
    }

    /// Share of the generated items that are novel.
    pub fn novel_share(&self) -> f64 {
        if self.novel.is_empty() {
            return 0.0;
        }
        self.novel.iter().filter(|&&n| n).count() as f64 / self.novel.len() as f64
    }
}
