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
use burn::tensor::activation::{sigmoid, softmax, tanh};

/// `x W + b` through GenLab's dense kernel (its own backward on the CPU).
fn dense(layer: &Linear, x: Tensor<2>) -> Tensor<2> {
    linear(x, layer.weight.val(), layer.bias.as_ref().map(|b| b.val()))
}

/// The first state of each of `layers` GRU layers of `hidden` units, from codes `z`
/// through `from_latent` (all layers' states side by side) and tanh.
fn first_states(
    from_latent: &Linear,
    z: Tensor<2>,
    layers: usize,
    hidden: usize,
) -> Vec<Tensor<2>> {
    let [batch, _] = z.dims();
    let start = tanh(dense(from_latent, z));
    (0..layers)
        .map(|i| {
            start
                .clone()
                .slice([0..batch, i * hidden..(i + 1) * hidden])
        })
        .collect()
}

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

    /// One step from the input's projection `xi` ([batch, 3 * hidden]) and state `h`.
    fn cell(&self, xi: Tensor<2>, h: Tensor<2>) -> Tensor<2> {
        let hidden = self.hidden();
        let gh = dense(&self.recurrent, h.clone());
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
        let xi = dense(&self.input, x.reshape([batch * steps, d_in])).reshape([
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
        self.cell(dense(&self.input, x), h)
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
        self.forward_dropped(x, &[])
    }

    /// `forward` with each layer's outputs multiplied by its mask ([batch, steps,
    /// hidden]: 0 for a dropped unit, 1 / (1 - p) for a kept one); no masks, no dropout.
    pub fn forward_dropped(&self, x: Tensor<3>, masks: &[Tensor<3>]) -> Tensor<2> {
        let [batch, steps, _] = x.dims();
        let mut h = x;
        for (i, layer) in self.layers.iter().enumerate() {
            h = layer.forward(h, None);
            if let Some(mask) = masks.get(i) {
                h = h * mask.clone();
            }
        }
        let h = h.reshape([batch * steps, self.hidden()]);
        dense(&self.head, h)
    }

    /// The last layer's state at each item's end (`last`: 1 there, 0 elsewhere, `[batch,
    /// steps]`) after reading `x` ([batch, steps, vocabulary]): `[batch, hidden]`, a
    /// summary of the whole item (the text evaluator's features).
    pub fn summary(&self, x: Tensor<3>, last: Tensor<2>) -> Tensor<2> {
        let [batch, steps, _] = x.dims();
        let states = run_stack(&self.layers, x, None);
        let hidden = self.hidden();
        (states * last.reshape([batch, steps, 1]))
            .sum_dim(1)
            .reshape([batch, hidden])
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
        dense(&self.head, h)
    }
}

/// The states of a GRU stack over `x`, each layer reading the one below.
fn run_stack(layers: &[GruLayer], x: Tensor<3>, h0: Option<&[Tensor<2>]>) -> Tensor<3> {
    let mut h = x;
    for (i, layer) in layers.iter().enumerate() {
        h = layer.forward(h, h0.map(|s| s[i].clone()));
    }
    h
}

fn stack(d_in: usize, hidden: usize, layers: usize, device: &Device) -> Vec<GruLayer> {
    (0..layers.max(1))
        .map(|i| GruLayer::new(if i == 0 { d_in } else { hidden }, hidden, device))
        .collect()
}

/// A character-level VAE (Bowman et al. 2016): a GRU encoder reads the item and its
/// last state gives the posterior's mean and log-variance; a GRU decoder starts from
/// a state made from the code and reads the code beside each character, predicting
/// the next one.
#[derive(Module, Debug)]
pub struct TextVae {
    encoder: Vec<GruLayer>,
    /// Last encoder state to [mean | log-variance].
    to_latent: Linear,
    /// Code to every decoder layer's first state, side by side.
    from_latent: Linear,
    decoder: Vec<GruLayer>,
    head: Linear,
}

impl TextVae {
    pub fn new(
        vocabulary: usize,
        latent: usize,
        encoder: (usize, usize),
        decoder: (usize, usize),
        device: &Device,
    ) -> TextVae {
        let (enc_hidden, enc_layers) = encoder;
        let (dec_hidden, dec_layers) = decoder;
        TextVae {
            encoder: stack(vocabulary, enc_hidden, enc_layers, device),
            to_latent: LinearConfig::new(enc_hidden, 2 * latent).init(device),
            from_latent: LinearConfig::new(latent, dec_hidden * dec_layers.max(1)).init(device),
            decoder: stack(vocabulary + latent, dec_hidden, dec_layers, device),
            head: LinearConfig::new(dec_hidden, vocabulary).init(device),
        }
    }

    pub fn latent_dim(&self) -> usize {
        self.from_latent.weight.dims()[0]
    }

    /// Posterior mean and log-variance of items `x` ([batch, steps, vocabulary]: each
    /// character, then the boundary), read at each item's boundary: `last` is 1 at that
    /// position and 0 elsewhere ([batch, steps]).
    pub fn encode(&self, x: Tensor<3>, last: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
        let [batch, steps, _] = x.dims();
        let states = run_stack(&self.encoder, x, None);
        let hidden = states.dims()[2];
        let final_state = (states * last.reshape([batch, steps, 1]))
            .sum_dim(1)
            .reshape([batch, hidden]);
        let out = dense(&self.to_latent, final_state);
        let latent = self.latent_dim();
        (
            out.clone().slice([0..batch, 0..latent]),
            out.slice([0..batch, latent..2 * latent]),
        )
    }

    /// Each decoder layer's first state for codes `z`.
    pub fn start(&self, z: Tensor<2>) -> Vec<Tensor<2>> {
        first_states(
            &self.from_latent,
            z,
            self.decoder.len(),
            self.decoder[0].hidden(),
        )
    }

    /// Logits of each next character ([batch * steps, vocabulary]) from codes `z` and the
    /// decoder's inputs `x` (boundary, then each character; blanked rows are dropped words).
    pub fn decode(&self, z: Tensor<2>, x: Tensor<3>) -> Tensor<2> {
        let [batch, steps, _] = x.dims();
        let latent = self.latent_dim();
        let codes = z.clone().reshape([batch, 1, latent]).repeat_dim(1, steps);
        let states = run_stack(
            &self.decoder,
            Tensor::cat(vec![x, codes], 2),
            Some(&self.start(z)),
        );
        let hidden = states.dims()[2];
        dense(&self.head, states.reshape([batch * steps, hidden]))
    }

    /// One decoding step: logits after character `x` ([batch, vocabulary]) under codes `z`.
    pub fn step(&self, z: Tensor<2>, x: Tensor<2>, states: &mut [Tensor<2>]) -> Tensor<2> {
        let mut h = Tensor::cat(vec![x, z], 1);
        for (layer, state) in self.decoder.iter().zip(states.iter_mut()) {
            *state = layer.step(h, state.clone());
            h = state.clone();
        }
        dense(&self.head, h)
    }
}

/// Gumbel-softmax temperature of the generator's soft path: the gradient flows through
/// `softmax((logits + g) / T)` while the discriminator sees the hard sample.
const GUMBEL_TEMPERATURE: f32 = 1.0;

/// A text GAN's generator: a GRU stack that starts from the code and writes one
/// character a step, reading the code and its previous character. Each character is a
/// straight-through Gumbel-softmax sample: an exact one-hot forward (what the data
/// looks like to the discriminator), the relaxed sample's gradient backward (Jang et
/// al. 2017), so first-order autodiff trains it. After the item's end the rows are 0,
/// as the data's are.
#[derive(Module, Debug)]
pub struct TextGenerator {
    from_latent: Linear,
    layers: Vec<GruLayer>,
    head: Linear,
}

impl TextGenerator {
    pub fn new(
        vocabulary: usize,
        latent: usize,
        hidden: usize,
        layers: usize,
        device: &Device,
    ) -> Self {
        TextGenerator {
            from_latent: LinearConfig::new(latent, hidden * layers.max(1)).init(device),
            layers: stack(vocabulary + latent, hidden, layers, device),
            head: LinearConfig::new(hidden, vocabulary).init(device),
        }
    }

    pub fn latent_dim(&self) -> usize {
        self.from_latent.weight.dims()[0]
    }

    /// Items from codes `z` ([batch, latent]) and Gumbel noise ([batch, steps,
    /// vocabulary]): `[batch, steps, vocabulary]`, one-hot rows up to and including each
    /// item's end, zeros after.
    pub fn forward(&self, z: Tensor<2>, gumbel: Tensor<3>) -> Tensor<3> {
        let [batch, steps, v] = gumbel.dims();
        let device = z.device();
        let mut states = first_states(
            &self.from_latent,
            z.clone(),
            self.layers.len(),
            self.layers[0].hidden(),
        );
        let boundary = crate::modality::text::corpus::BOUNDARY as usize;
        let mut previous: Tensor<2> = Tensor::zeros([batch, v], &device).slice_assign(
            [0..batch, boundary..boundary + 1],
            Tensor::ones([batch, 1], &device),
        );
        let mut alive: Tensor<2> = Tensor::ones([batch, 1], &device);
        let mut rows = Vec::with_capacity(steps);
        for t in 0..steps {
            let mut h = Tensor::cat(vec![previous, z.clone()], 1);
            for (layer, state) in self.layers.iter().zip(states.iter_mut()) {
                *state = layer.step(h, state.clone());
                h = state.clone();
            }
            let logits = dense(&self.head, h);
            let g = gumbel
                .clone()
                .slice([0..batch, t..t + 1, 0..v])
                .reshape([batch, v]);
            let soft = softmax(logits.add(g).div_scalar(GUMBEL_TEMPERATURE), 1);
            let max = soft.clone().detach().max_dim(1).repeat_dim(1, v);
            let hard = soft.clone().detach().greater_equal(max).float();
            let sample = soft.clone() + (hard - soft).detach();
            rows.push(sample.clone() * alive.clone());
            let ended = sample.clone().slice([0..batch, boundary..boundary + 1]);
            alive = alive * ended.neg().add_scalar(1.0);
            previous = sample;
        }
        Tensor::stack(rows, 1)
    }
}

/// A text GAN's discriminator: a GRU stack reads the whole sequence (the rows after an
/// item's end are zeros) and its last state gives the logit; with the minibatch standard
/// deviation beside it, a generator that repeats a few items is easy to spot.
#[derive(Module, Debug)]
pub struct TextDiscriminator {
    layers: Vec<GruLayer>,
    head: Linear,
    batch_std: bool,
}

impl TextDiscriminator {
    pub fn new(
        vocabulary: usize,
        hidden: usize,
        layers: usize,
        batch_std: bool,
        device: &Device,
    ) -> Self {
        TextDiscriminator {
            layers: stack(vocabulary, hidden, layers, device),
            head: LinearConfig::new(hidden + usize::from(batch_std), 1).init(device),
            batch_std,
        }
    }

    /// Logits `[batch, 1]` of items `x` ([batch, steps, vocabulary]).
    pub fn forward(&self, x: Tensor<3>) -> Tensor<2> {
        let [batch, steps, _] = x.dims();
        let states = run_stack(&self.layers, x, None);
        let hidden = states.dims()[2];
        let last = states
            .slice([0..batch, steps - 1..steps, 0..hidden])
            .reshape([batch, hidden]);
        let features = if self.batch_std {
            super::layers::with_batch_spread(last)
        } else {
            last
        };
        dense(&self.head, features)
    }
}
