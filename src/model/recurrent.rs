//! Recurrent networks over characters: a GRU layer (input projections of the whole
//! sequence in one product, one small product per step for the recurrence) and the
//! character-level language model built from it.
//!
//! Characters enter as one-hot rows, so the first layer's input weights are the
//! embedding: no separate lookup table, and a soft one-hot (a GAN generator's output)
//! goes through the same path.

use crate::kernels::ops::linear;
use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::{sigmoid, tanh};

/// One GRU layer (PyTorch's gate layout: reset gate applied after the hidden product).
#[derive(Module, Debug)]
pub struct GruLayer {
    /// Input to [reset | update | candidate], for every step at once.
    input: Linear,
    /// Hidden state to [reset | update | candidate], once per step.
    recurrent: Linear,
}

impl GruLayer {
    pub fn new(d_in: usize, hidden: usize, device: &Device) -> GruLayer {
        GruLayer {
            input: LinearConfig::new(d_in, 3 * hidden).init(device),
            recurrent: LinearConfig::new(hidden, 3 * hidden).init(device),
        }
    }

    pub fn hidden(&self) -> usize {
        self.recurrent.weight.dims()[0]
    }

    fn project(layer: &Linear, x: Tensor<2>) -> Tensor<2> {
        linear(x, layer.weight.val(), layer.bias.as_ref().map(|b| b.val()))
    }

    /// One step from the input's projection `xi` ([batch, 3 * hidden]) and state `h`.
    fn cell(&self, xi: Tensor<2>, h: Tensor<2>) -> Tensor<2> {
        let hidden = self.hidden();
        let gh = Self::project(&self.recurrent, h.clone());
        let [batch, _] = xi.dims();
        let part =
            |t: &Tensor<2>, k: usize| t.clone().slice([0..batch, k * hidden..(k + 1) * hidden]);
        let r = sigmoid(part(&xi, 0) + part(&gh, 0));
        let z = sigmoid(part(&xi, 1) + part(&gh, 1));
        let n = tanh(part(&xi, 2) + r * part(&gh, 2));
        // h' = (1 - z) * n + z * h = n + z * (h - n)
        n.clone() + z * (h - n)
    }

    /// The states after every step of `x` ([batch, steps, d_in]), from `h0` (zeros
    /// when `None`): [batch, steps, hidden].
    pub fn forward(&self, x: Tensor<3>, h0: Option<Tensor<2>>) -> Tensor<3> {
        let [batch, steps, d_in] = x.dims();
        let hidden = self.hidden();
        let device = x.device();
        let xi = Self::project(&self.input, x.reshape([batch * steps, d_in])).reshape([
            batch,
            steps,
            3 * hidden,
        ]);
        let mut h = h0.unwrap_or_else(|| Tensor::zeros([batch, hidden], &device));
        let mut states = Vec::with_capacity(steps);
        for t in 0..steps {
            let xt = xi
                .clone()
                .slice([0..batch, t..t + 1, 0..3 * hidden])
                .reshape([batch, 3 * hidden]);
            h = self.cell(xt, h);
            states.push(h.clone());
        }
        Tensor::stack(states, 1)
    }

    /// One step of `x` ([batch, d_in]) from state `h`.
    pub fn step(&self, x: Tensor<2>, h: Tensor<2>) -> Tensor<2> {
        self.cell(Self::project(&self.input, x), h)
    }
}

/// A character-level language model: stacked GRU layers reading one-hot characters and
/// a linear head giving the next character's logits.
#[derive(Module, Debug)]
pub struct CharLm {
    layers: Vec<GruLayer>,
    head: Linear,
}

impl CharLm {
    pub fn new(vocabulary: usize, hidden: usize, layers: usize, device: &Device) -> CharLm {
        let layers = (0..layers.max(1))
            .map(|i| GruLayer::new(if i == 0 { vocabulary } else { hidden }, hidden, device))
            .collect();
        CharLm {
            layers,
            head: LinearConfig::new(hidden, vocabulary).init(device),
        }
    }

    pub fn vocabulary(&self) -> usize {
        self.head.weight.dims()[1]
    }

    fn hidden(&self) -> usize {
        self.head.weight.dims()[0]
    }

    /// Logits of the next character after each position of `x` ([batch, steps,
    /// vocabulary], one-hot or soft): [batch * steps, vocabulary], batch-major.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<2> {
        let [batch, steps, _] = x.dims();
        let mut h = x;
        for layer in &self.layers {
            h = layer.forward(h, None);
        }
        let h = h.reshape([batch * steps, self.hidden()]);
        linear(
            h,
            self.head.weight.val(),
            self.head.bias.as_ref().map(|b| b.val()),
        )
    }

    /// Zero states for `batch` sequences, one per layer.
    pub fn start(&self, batch: usize, device: &Device) -> Vec<Tensor<2>> {
        self.layers
            .iter()
            .map(|l| Tensor::zeros([batch, l.hidden()], device))
            .collect()
    }

    /// One step: the next character's logits after `x` ([batch, vocabulary]), with the
    /// states moved on.
    pub fn step(&self, x: Tensor<2>, states: &mut [Tensor<2>]) -> Tensor<2> {
        let mut h = x;
        for (layer, state) in self.layers.iter().zip(states.iter_mut()) {
            *state = layer.step(h, state.clone());
            h = state.clone();
        }
        linear(
            h,
            self.head.weight.val(),
            self.head.bias.as_ref().map(|b| b.val()),
        )
    }
}
