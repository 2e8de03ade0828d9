//! What the text models share: batches of character sequences as one-hot tensors, and
//! drawing items character by character.

use super::tensors::{matrix, values};
use crate::data::SeededRng;
use crate::modality::text::corpus::BOUNDARY;
use crate::modality::text::views::Position;
use crate::modality::text::Vocabulary;
use burn::prelude::*;
use burn::tensor::activation::log_softmax;
use rand::Rng;

/// Likeliest characters listed at each position of the first drawn item.
const TOP: usize = 5;

/// Sequences as the networks read them: one-hot inputs (boundary, then each character)
/// and one-hot targets (each character, then the boundary; zero rows past the end).
pub struct Batch {
    pub inputs: Tensor<3>,
    /// `[batch * steps, vocabulary]`, batch-major.
    pub targets: Tensor<2>,
    /// 1 at each item's closing boundary, 0 elsewhere: `[batch, steps]`.
    pub last: Tensor<2>,
    pub batch: usize,
    pub steps: usize,
    /// Characters predicted, ends included.
    pub count: usize,
}

impl Batch {
    /// The targets as a sequence ([batch, steps, vocabulary]): what an encoder reads.
    pub fn items(&self) -> Tensor<3> {
        let [_, v] = self.targets.dims();
        self.targets.clone().reshape([self.batch, self.steps, v])
    }
}

/// Encodes `n` sequences of `len` token values (-1 past the end) from `tokens`, cut to
/// the longest one in the batch. `dropped(i, t)` blanks input `t > 0` of item `i` (word
/// dropout: an all-zero row, a character the decoder is not told).
pub fn encode(
    tokens: &[f32],
    n: usize,
    len: usize,
    vocabulary: usize,
    device: &Device,
    mut dropped: impl FnMut() -> bool,
) -> Batch {
    let lengths: Vec<usize> = tokens
        .chunks_exact(len)
        .map(|s| s.iter().take_while(|&&t| t >= 0.0).count())
        .collect();
    let steps = lengths.iter().copied().max().unwrap_or(1).max(1);
    let mut inputs = vec![0.0f32; n * steps * vocabulary];
    let mut targets = vec![0.0f32; n * steps * vocabulary];
    let mut last = vec![0.0f32; n * steps];
    for (i, seq) in tokens.chunks_exact(len).enumerate() {
        for t in 0..steps {
            let row = (i * steps + t) * vocabulary;
            let previous = if t == 0 { BOUNDARY as f32 } else { seq[t - 1] };
            if previous >= 0.0 && (t == 0 || !dropped()) {
                inputs[row + previous as usize] = 1.0;
            }
            if t < lengths[i] {
                targets[row + seq[t] as usize] = 1.0;
            }
        }
        if lengths[i] > 0 {
            last[i * steps + lengths[i] - 1] = 1.0;
        }
    }
    Batch {
        inputs: Tensor::from_data(
            burn::tensor::TensorData::new(inputs, [n, steps, vocabulary]),
            device,
        ),
        targets: matrix(&targets, n * steps, vocabulary, device),
        last: matrix(&last, n, steps, device),
        batch: n,
        steps,
        count: lengths.iter().sum(),
    }
}

/// `n` sequences of `len` token values as one-hot rows over all `len` positions (each
/// character, the end, then zero rows): `[n, len, vocabulary]`, what a text GAN's
/// discriminator reads.
pub fn one_hot_items(
    tokens: &[f32],
    n: usize,
    len: usize,
    vocabulary: usize,
    device: &Device,
) -> Tensor<3> {
    let mut rows = vec![0.0f32; n * len * vocabulary];
    for (k, &t) in tokens.iter().take(n * len).enumerate() {
        if t >= 0.0 {
            rows[k * vocabulary + t as usize] = 1.0;
        }
    }
    Tensor::from_data(
        burn::tensor::TensorData::new(rows, [n, len, vocabulary]),
        device,
    )
}

/// The items of one-hot rows (`[n, len, vocabulary]`, flat): characters up to each end.
pub fn items_of(rows: &[f32], len: usize, vocabulary: &Vocabulary) -> Vec<String> {
    let v = vocabulary.size();
    rows.chunks_exact(len * v)
        .map(|item| {
            vocabulary.decode(item.chunks_exact(v).map(|row| {
                row.iter()
                    .position(|&x| x > 0.5)
                    .map_or(BOUNDARY, |t| t as u32)
            }))
        })
        .collect()
}

/// Negative log-likelihood (nats) of the targets under `logits`, summed per item: `[batch]`.
pub fn nats_per_item(logits: Tensor<2>, batch: &Batch) -> Tensor<1> {
    (log_softmax(logits, 1) * batch.targets.clone())
        .reshape([batch.batch, batch.steps * batch.targets.dims()[1]])
        .sum_dim(1)
        .reshape([batch.batch])
        .neg()
}

pub fn softmax(logits: &[f32]) -> Vec<f32> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let e: Vec<f32> = logits.iter().map(|l| (l - max).exp()).collect();
    let sum: f32 = e.iter().sum();
    e.into_iter().map(|x| x / sum).collect()
}

/// The token whose cumulative probability first passes `u` in [0, 1).
fn sample(p: &[f32], u: f32) -> usize {
    let mut acc = 0.0;
    for (i, &q) in p.iter().enumerate() {
        acc += q;
        if u < acc {
            return i;
        }
    }
    p.iter()
        .rposition(|&q| q > 0.0)
        .unwrap_or(BOUNDARY as usize)
}

fn argmax(p: &[f32]) -> usize {
    (0..p.len())
        .max_by(|a, b| p[*a].total_cmp(&p[*b]))
        .unwrap_or(0)
}

fn position(vocabulary: &Vocabulary, p: &[f32], token: usize) -> Position {
    let mut order: Vec<usize> = (0..p.len()).collect();
    order.sort_by(|a, b| p[*b].total_cmp(&p[*a]));
    Position {
        chosen: vocabulary.char(token as u32),
        probability: p[token],
        top: order
            .into_iter()
            .take(TOP)
            .map(|t| (vocabulary.char(t as u32), p[t]))
            .collect(),
    }
}

/// How each next character is chosen.
pub enum Choice<'a> {
    /// Drawn from the model's distribution (temperature 1) with this generator.
    Sampled(&'a mut SeededRng),
    /// The likeliest one (a VAE's decoding of a code).
    Likeliest,
}

/// `n` items drawn one character at a time for at most `max_steps` characters:
/// `step(one_hot)` gives the logits of the next character after each item's last one
/// (`[n, vocabulary]`, flat). Returns the items and the positions of the first.
pub fn draw(
    vocabulary: &Vocabulary,
    n: usize,
    max_steps: usize,
    mut choice: Choice,
    device: &Device,
    mut step: impl FnMut(Tensor<2>) -> Tensor<2>,
) -> (Vec<String>, Vec<Position>) {
    let v = vocabulary.size();
    let mut tokens = vec![BOUNDARY as usize; n];
    let mut items = vec![String::new(); n];
    let mut alive = vec![true; n];
    let mut positions = Vec::new();
    for _ in 0..max_steps {
        let mut one_hot = vec![0.0f32; n * v];
        for (i, &t) in tokens.iter().enumerate() {
            one_hot[i * v + t] = 1.0;
        }
        let logits = values(step(matrix(&one_hot, n, v, device)));
        for i in 0..n {
            if !alive[i] {
                continue;
            }
            let p = softmax(&logits[i * v..(i + 1) * v]);
            let token = match &mut choice {
                Choice::Sampled(rng) => sample(&p, rng.random::<f32>()),
                Choice::Likeliest => argmax(&p),
            };
            if i == 0 {
                positions.push(position(vocabulary, &p, token));
            }
            tokens[i] = token;
            match vocabulary.char(token as u32) {
                Some(c) => items[i].push(c),
                None => alive[i] = false,
            }
        }
        if !alive.contains(&true) {
            break;
        }
    }
    (items, positions)
}

/// Items as token values (-1 past each end), `len` per item: what `Trainer::generate`
/// gives for text.
pub fn token_values(items: Vec<String>, vocabulary: &Vocabulary, len: usize) -> Vec<f32> {
    crate::modality::text::TextSet {
        items,
        vocabulary: vocabulary.clone(),
        max_chars: len.saturating_sub(1),
    }
    .tokens()
}
