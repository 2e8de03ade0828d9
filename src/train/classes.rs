//! A class-conditional GAN's classes (AC-GAN): the one-hot codes the generator reads
//! after its noise, the class logits the discriminator writes after its real-or-generated
//! one, and the classes snapshots ask for. With no classes every method is the identity
//! of an unconditional GAN.

use super::losses::class_cross_entropy;
use super::tensors::matrix;
use crate::data::SeededRng;
use burn::prelude::*;
use burn::tensor::TensorData;
use rand::Rng;

#[derive(Debug, Clone, Default)]
pub struct Classes {
    /// How many (0: unconditional).
    count: usize,
    /// Their names, in label order.
    names: Vec<String>,
}

impl Classes {
    pub fn new(count: usize, names: Vec<String>) -> Self {
        Classes { count, names }
    }

    pub fn count(&self) -> usize {
        self.count
    }

    /// Classes for a generated batch, drawn as the data's labels fall (empty when
    /// unconditional).
    pub fn draw(&self, labels: Option<&[u8]>, rng: &mut SeededRng, n: usize) -> Vec<u8> {
        match labels {
            Some(labels) if self.count > 0 && !labels.is_empty() => (0..n)
                .map(|_| labels[rng.random_range(0..labels.len())])
                .collect(),
            _ => Vec::new(),
        }
    }

    /// `[labels, classes]` one-hot codes.
    fn one_hot(&self, labels: &[u8], device: &Device) -> Tensor<2> {
        let mut codes = vec![0.0f32; labels.len() * self.count];
        for (row, &l) in labels.iter().enumerate() {
            codes[row * self.count + l as usize] = 1.0;
        }
        matrix(&codes, labels.len(), self.count, device)
    }

    /// The generator's input: the noise, then the class's one-hot code when conditional.
    pub fn generator_input(&self, z: Tensor<2>, labels: &[u8]) -> Tensor<2> {
        if self.count == 0 {
            return z;
        }
        let device = z.device();
        Tensor::cat(vec![z, self.one_hot(labels, &device)], 1)
    }

    /// Flat latents of `latent` values a row with a one-hot code appended to each: of
    /// `class` in every row, or (`None`) of the classes in rotation, so that every class
    /// shows in a snapshot. Unchanged when unconditional.
    pub fn with_codes(&self, z: &[f32], latent: usize, class: Option<usize>) -> Vec<f32> {
        if self.count == 0 {
            return z.to_vec();
        }
        let class = class.filter(|&c| c < self.count);
        let rows = z.len() / latent.max(1);
        let mut input = Vec::with_capacity(rows * (latent + self.count));
        for (i, row) in z.chunks_exact(latent).enumerate() {
            let asked = class.unwrap_or(i % self.count);
            input.extend_from_slice(row);
            input.extend((0..self.count).map(|c| (c == asked) as u8 as f32));
        }
        input
    }

    /// Every class's name, in label order (empty when unconditional).
    pub fn names(&self) -> Vec<String> {
        (0..self.count).map(|c| self.name(c)).collect()
    }

    fn name(&self, class: usize) -> String {
        match self.names.get(class) {
            Some(name) => name.clone(),
            None => format!("class {class}"),
        }
    }

    /// The names of the classes `n` snapshot samples are asked for: `shown` for all, or
    /// the classes in rotation (none when unconditional).
    pub fn shown_names(&self, n: usize, shown: Option<usize>) -> Vec<String> {
        let n = if self.count > 0 { n } else { 0 };
        (0..n)
            .map(|i| self.name(shown.filter(|&c| c < self.count).unwrap_or(i % self.count)))
            .collect()
    }

    /// The discriminator's output split into the real-or-generated logit `[batch, 1]` and,
    /// when conditional, the class logits `[batch, classes]`.
    pub fn split(&self, out: Tensor<2>) -> (Tensor<2>, Option<Tensor<2>>) {
        match self.count {
            0 => (out, None),
            c => (out.clone().narrow(1, 0, 1), Some(out.narrow(1, 1, c))),
        }
    }

    /// The classifier's cross-entropy on samples of these labels.
    pub fn loss(&self, logits: Tensor<2>, labels: &[u8]) -> Tensor<1> {
        let device = logits.device();
        class_cross_entropy(logits, self.one_hot(labels, &device))
    }

    /// The share of samples the classifier puts in the class they were asked for: `[1]`.
    pub fn matched(&self, logits: Tensor<2>, labels: &[u8]) -> Tensor<1> {
        let device = logits.device();
        let asked: Vec<i64> = labels.iter().map(|&l| l as i64).collect();
        let asked = Tensor::<2, Int>::from_data(TensorData::new(asked, [labels.len(), 1]), &device);
        logits.detach().argmax(1).equal(asked).float().mean()
    }
}
