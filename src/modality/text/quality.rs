//! How generated text compares with the data: novelty, uniqueness, and the
//! Jensen-Shannon divergence of character bigrams and of lengths.

use crate::eval::metric::Metric;
use std::collections::{HashMap, HashSet};

pub const NOVELTY: Metric = Metric::new(
    "novelty",
    "novel",
    "%",
    "Share of generated items that are not in the training set: a model that memorised its data scores 0.",
);
pub const UNIQUENESS: Metric = Metric::new(
    "uniqueness",
    "unique",
    "%",
    "Share of distinct items among the generated ones: a collapsed model repeats a few.",
);
pub const BIGRAM_JS: Metric = Metric::new(
    "bigram_js",
    "bigram JS",
    "bits",
    "Jensen-Shannon divergence between the character-pair frequencies of real and generated items (ends included): 0 when they match, at most 1.",
);
pub const LENGTH_JS: Metric = Metric::new(
    "length_js",
    "length JS",
    "bits",
    "Jensen-Shannon divergence between the length distributions of real and generated items: 0 when they match, at most 1.",
);
/// The generated-sample metrics, in readout order.
pub const METRICS: [Metric; 4] = [NOVELTY, UNIQUENESS, BIGRAM_JS, LENGTH_JS];

/// The training items, indexed for comparisons with generated ones.
pub struct Reference {
    training: HashSet<String>,
    bigrams: HashMap<(char, char), f64>,
    lengths: HashMap<usize, f64>,
}

/// The boundary as a character in bigrams (never in the data: control characters are
/// refused by the reader).
const EDGE: char = '\u{0}';

fn bigrams(items: &[String]) -> HashMap<(char, char), f64> {
    let mut counts = HashMap::new();
    for item in items {
        let chars: Vec<char> = std::iter::once(EDGE)
            .chain(item.chars())
            .chain(std::iter::once(EDGE))
            .collect();
        for pair in chars.windows(2) {
            *counts.entry((pair[0], pair[1])).or_insert(0.0) += 1.0;
        }
    }
    counts
}

fn lengths(items: &[String]) -> HashMap<usize, f64> {
    let mut counts = HashMap::new();
    for item in items {
        *counts.entry(item.chars().count()).or_insert(0.0) += 1.0;
    }
    counts
}

/// Jensen-Shannon divergence (bits) of two count tables, each normalised.
pub fn js_divergence<K: std::hash::Hash + Eq>(p: &HashMap<K, f64>, q: &HashMap<K, f64>) -> f64 {
    let (sp, sq): (f64, f64) = (p.values().sum(), q.values().sum());
    if sp <= 0.0 || sq <= 0.0 {
        return 1.0;
    }
    let term = |a: f64, m: f64| if a > 0.0 { a * (a / m).log2() } else { 0.0 };
    let mut js = 0.0;
    for (k, &a) in p {
        let a = a / sp;
        let b = q.get(k).copied().unwrap_or(0.0) / sq;
        js += 0.5 * term(a, 0.5 * (a + b)) + 0.5 * term(b, 0.5 * (a + b));
    }
    // Keys only q has: p is 0 there, m = b / 2.
    for (k, &b) in q {
        if !p.contains_key(k) {
            js += 0.5 * term(b / sq, 0.5 * b / sq);
        }
    }
    js.clamp(0.0, 1.0)
}

impl Reference {
    pub fn new(training: &[String]) -> Reference {
        Reference {
            training: training.iter().cloned().collect(),
            bigrams: bigrams(training),
            lengths: lengths(training),
        }
    }

    /// Whether an item is one of the training items (memorised).
    pub fn contains(&self, item: &str) -> bool {
        self.training.contains(item)
    }

    /// The four metrics of `generated`, in `METRICS` order (NaN for an empty set).
    pub fn measure(&self, generated: &[String]) -> Vec<(&'static str, f64)> {
        if generated.is_empty() {
            return METRICS.iter().map(|m| (m.column, f64::NAN)).collect();
        }
        let n = generated.len() as f64;
        let novel = generated.iter().filter(|g| !self.contains(g)).count() as f64;
        let unique = generated.iter().collect::<HashSet<_>>().len() as f64;
        vec![
            (NOVELTY.column, novel / n),
            (UNIQUENESS.column, unique / n),
            (
                BIGRAM_JS.column,
                js_divergence(&self.bigrams, &bigrams(generated)),
            ),
            (
                LENGTH_JS.column,
                js_divergence(&self.lengths, &lengths(generated)),
            ),
        ]
    }
}

/// Entropy (bits per character, the end of each item counted as one) of the items'
/// character frequencies: what a model that knows only which letters are common needs.
pub fn unigram_entropy(items: &[String]) -> f64 {
    let mut counts: HashMap<char, f64> = HashMap::new();
    for item in items {
        for c in item.chars().chain(std::iter::once(EDGE)) {
            *counts.entry(c).or_insert(0.0) += 1.0;
        }
    }
    let total: f64 = counts.values().sum();
    counts
        .values()
        .map(|&c| {
            let p = c / total;
            -p * p.log2()
        })
        .sum()
}
