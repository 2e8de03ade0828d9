//! What a run costs, worked out from the experiment alone, before anything is loaded:
//! parameters, compute per step, and the memory it will hold (data, parameters with their
//! gradients and optimizer state, one step's activations). The memory is checked against
//! what the machine has: a run that cannot fit is refused with the figures, instead of
//! being killed halfway. `probe_speed` measures the steps per second on the real backend.

use crate::config::{DataConfig, Experiment, ModelConfig, NetConfig};
use crate::data::DataError;
use crate::modality::images::idx;
use std::path::Path;

/// Held besides the run itself: burn's and the window's buffers, thread stacks, the
/// snapshot and quality-metric passes.
const RUNTIME_BYTES: u64 = 256 << 20;
/// Parameter bytes per parameter: the value, its gradient, Adam's two moments, and the
/// discriminator's frozen copy for the generator's step.
const BYTES_PER_PARAMETER: u64 = 5 * 4;
/// Saved activation bytes per element a layer outputs: the pre- and post-activation
/// values of the forward pass and their gradients, f32.
const BYTES_PER_ACTIVATION: u64 = 4 * 4;

/// What a run will hold in memory, in bytes (and what it was worked out from).
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    /// The training set as f32, with what loading it holds at its peak.
    pub data: u64,
    /// The samples and values per sample the data figure comes from.
    pub samples: u64,
    pub sample_len: u64,
    pub parameters: u64,
    /// Parameters with gradients and optimizer state.
    pub model: u64,
    /// One training step's activations and convolution columns at the batch size.
    pub activations: u64,
    pub batch: u64,
    /// Floating-point operations of one training step (forward and backward passes of
    /// every network at the batch size; a multiply-add counts two).
    pub flops_per_step: u64,
}

impl Estimate {
    pub fn total(&self) -> u64 {
        self.data + self.model + self.activations + RUNTIME_BYTES
    }

    /// The compute of one step in words: "0.37 GFLOP".
    pub fn flops(&self) -> String {
        let f = self.flops_per_step as f64;
        if f >= 1e9 {
            format!("{:.2} GFLOP", f / 1e9)
        } else {
            format!("{:.1} MFLOP", f / 1e6)
        }
    }

    /// Where the total goes, in words, e.g. for a refusal or the experiment panel.
    pub fn describe(&self) -> String {
        format!(
            "data {} ({} samples of {} values), model {} ({} parameters with gradients and Adam state), activations {} at batch {}",
            bytes(self.data),
            self.samples,
            self.sample_len,
            bytes(self.model),
            self.parameters,
            bytes(self.activations),
            self.batch
        )
    }
}

/// `n` with thousands separated: 135,427.
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `n` bytes for people: "812 MB", "94.4 GB".
pub fn bytes(n: u64) -> String {
    let n = n as f64;
    if n >= 1e9 {
        format!("{:.1} GB", n / 1e9)
    } else if n >= 1e6 {
        format!("{:.0} MB", n / 1e6)
    } else {
        format!("{:.0} kB", (n / 1e3).ceil())
    }
}

/// The memory this process may still take: the kernel's `MemAvailable`, lowered by a
/// cgroup limit (containers, CI) and by `$GENLAB_MEMORY_LIMIT` (bytes) when set. `None`
/// where neither can be read (then nothing is refused).
pub fn available_memory() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok().and_then(|t| {
        t.lines()
            .find_map(|l| l.strip_prefix("MemAvailable:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kb| kb * 1024)
    });
    let read = |p: &str| -> Option<u64> { std::fs::read_to_string(p).ok()?.trim().parse().ok() };
    let cgroup = read("/sys/fs/cgroup/memory.max")
        .map(|max| max.saturating_sub(read("/sys/fs/cgroup/memory.current").unwrap_or(0)));
    let told = std::env::var("GENLAB_MEMORY_LIMIT")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok());
    [meminfo, cgroup, told].into_iter().flatten().min()
}

/// An error naming `path` when holding `needed` more bytes would not fit in memory.
pub fn ensure_fits(needed: u64, path: &Path, what: &str) -> Result<(), DataError> {
    match available_memory() {
        Some(free) if needed > free => Err(DataError::malformed(
            path,
            format!(
                "{what} would take {} of memory and {} is available",
                bytes(needed),
                bytes(free)
            ),
        )),
        _ => Ok(()),
    }
}

/// Refuses an experiment whose run would not fit in `available` bytes, with the figures.
pub fn check_memory(experiment: &Experiment, available: Option<u64>) -> Result<Estimate, String> {
    let estimate = estimate(experiment).map_err(|e| e.to_string())?;
    match available {
        Some(free) if estimate.total() > free => Err(format!(
            "this run needs about {} of memory and {} is available ({}); use less data, smaller images, a smaller model or a smaller batch",
            bytes(estimate.total()),
            bytes(free),
            estimate.describe(),
        )),
        _ => Ok(estimate),
    }
}

/// The data's shape as conv nets see it, or None for points.
type ImageShape = Option<Grid>;

/// Channels and sides of the data, and the taps and stride of each conv layer over it.
#[derive(Debug, Clone, Copy)]
struct Grid {
    channels: u64,
    sides: [u64; 2],
    taps: u64,
    stride: [u64; 2],
    /// Taps of the stride-1 convolutions that follow each repeat on the way up
    /// (resize-convolution); `None`: transposed convolutions with `taps`.
    resize_taps: Option<u64>,
}

impl Grid {
    fn image(c: u64, h: u64, w: u64) -> Grid {
        Grid {
            channels: c,
            sides: [h, w],
            taps: 16,
            stride: [2, 2],
            resize_taps: None,
        }
    }
    fn audio(length: u64) -> Grid {
        Grid {
            channels: 1,
            sides: [1, length],
            taps: 24,
            stride: [1, 4],
            resize_taps: Some(9),
        }
    }
    fn len(&self) -> u64 {
        self.channels * self.sides[0] * self.sides[1]
    }
    fn area(sides: [u64; 2]) -> u64 {
        sides[0] * sides[1]
    }
    fn shrink(&self, sides: [u64; 2]) -> [u64; 2] {
        [sides[0] / self.stride[0], sides[1] / self.stride[1]]
    }
    fn grow(&self, sides: [u64; 2]) -> [u64; 2] {
        [sides[0] * self.stride[0], sides[1] * self.stride[1]]
    }
}

/// Works out the estimate; reads no more than a file listing or an IDX header.
pub fn estimate(experiment: &Experiment) -> Result<Estimate, DataError> {
    let lm = matches!(experiment.model, ModelConfig::LanguageModel { .. });
    if experiment.data.is_text() || lm {
        return Ok(text_model(text_shape(&experiment.data)?, experiment));
    }
    let (samples, shape, loading) = data_shape(&experiment.data)?;
    let sample_len = shape.map_or(2, |g| g.len());
    let data = samples
        .saturating_mul(sample_len)
        .saturating_mul(4)
        .saturating_add(samples.saturating_mul(loading))
        // The shuffled order of the batcher.
        .saturating_add(samples.saturating_mul(8));
    let flat = sample_len;
    // Samples a discriminator judgement takes (PacGAN), stacked as channels.
    let mut pack = 1;
    // Parameters outside the layer stacks: a conv discriminator's head reads the
    // minibatch standard deviation too, one more weight per output.
    let mut extra_parameters = 0;
    let (nets, latent): (Vec<(&NetConfig, Side, Side)>, u64) = match &experiment.model {
        ModelConfig::Gan {
            latent_dim,
            generator,
            discriminator,
            pack: samples,
            conditional,
            minibatch_std,
            ..
        } => {
            let z = *latent_dim as u64;
            pack = (*samples).max(1) as u64;
            let judged = Side::of(shape, flat).packed(pack);
            // A conditional generator also reads a one-hot class; its discriminator
            // also writes a logit per class.
            let classes = if *conditional {
                class_count(&experiment.data)?
            } else {
                0
            };
            if *minibatch_std && discriminator.is_conv() {
                extra_parameters = 1 + classes;
            }
            (
                vec![
                    (generator, Side::Flat(z + classes), Side::of(shape, flat)),
                    // The discriminator sees a real and a fake batch.
                    (discriminator, judged, Side::Flat(1 + classes)),
                    (discriminator, judged, Side::Flat(1 + classes)),
                ],
                z,
            )
        }
        ModelConfig::Vae {
            latent_dim,
            encoder,
            decoder,
            ..
        } => {
            let z = *latent_dim as u64;
            (
                vec![
                    (encoder, Side::of(shape, flat), Side::Flat(2 * z)),
                    (decoder, Side::Flat(z), Side::of(shape, flat)),
                ],
                z,
            )
        }
        ModelConfig::LanguageModel { .. } => unreachable!("estimated as a text model above"),
    };
    let mut parameters: u64 = extra_parameters;
    let mut per_sample = 0u64;
    let mut forward_macs = Vec::new();
    for (i, (net, input, output)) in nets.iter().enumerate() {
        let mut cost = net_cost(net, *input, *output);
        if experiment.is_gan() && i > 0 {
            // Per sample: one judgement covers `pack` of them.
            cost.macs /= pack;
            cost.outputs /= pack;
            cost.columns /= pack;
        }
        forward_macs.push(cost.macs);
        // The second discriminator pass shares the first one's parameters.
        let shared = experiment.is_gan() && i == 2;
        if !shared {
            parameters = parameters.saturating_add(cost.parameters);
        }
        per_sample = per_sample
            .saturating_add(cost.outputs.saturating_mul(BYTES_PER_ACTIVATION))
            // Columns of the convolutions, built forward and again backward.
            .saturating_add(cost.columns.saturating_mul(2 * 4));
    }
    per_sample = per_sample.saturating_add(latent.saturating_mul(BYTES_PER_ACTIVATION));
    let batch = experiment.training.batch_size as u64;
    // Multiply-adds per sample of one step; a backward pass costs about two forwards
    // (input and weight gradients).
    let step_macs = if experiment.is_gan() {
        let (g, d) = (forward_macs[0], forward_macs[1]);
        let d_steps = experiment.training.d_steps.max(1) as u64;
        // Each D update: G makes a fake batch, D sees it and a real one, then both
        // backward. The G update reuses the last fake: D forward, D's input gradients
        // only, and G's backward.
        d_steps.saturating_mul(g + 6 * d) + 2 * d + 2 * g
    } else {
        3 * forward_macs.iter().sum::<u64>()
    };
    Ok(Estimate {
        data,
        samples,
        sample_len,
        parameters,
        model: parameters.saturating_mul(BYTES_PER_PARAMETER),
        activations: per_sample.saturating_mul(batch),
        batch,
        flops_per_step: step_macs.saturating_mul(batch).saturating_mul(2),
    })
}

/// Items, token positions per item (characters and the end) and vocabulary (the
/// boundary included) of text data.
#[derive(Debug, Clone, Copy)]
struct TextShape {
    items: u64,
    positions: u64,
    vocabulary: u64,
}

/// The built-in names' shape as it is; a text file's bounded by its size and the
/// reader's limits (the file is not read).
fn text_shape(data: &DataConfig) -> Result<TextShape, DataError> {
    use crate::modality::text::corpus::{MAX_ITEM_CHARS, MAX_VOCABULARY};
    Ok(match data {
        DataConfig::TextFile { path } => {
            let len = std::fs::metadata(path)
                .map_err(|e| DataError::io(path, e))?
                .len();
            // An item takes at least 2 bytes ("a\n").
            TextShape {
                items: len / 2,
                positions: (len.max(1)).min(MAX_ITEM_CHARS as u64) + 1,
                vocabulary: (len.max(1)).min(MAX_VOCABULARY as u64) + 1,
            }
        }
        _ => {
            let names = crate::modality::text::corpus::names(0);
            TextShape {
                items: names.len() as u64,
                positions: names.sequence_len() as u64,
                vocabulary: names.vocabulary.size() as u64,
            }
        }
    })
}

/// A GRU stack's parameters, multiply-adds per position, and floats kept per position
/// for the backward pass (both gate projections, the gates and the new state).
fn gru_stack(d_in: u64, hidden: u64, layers: u64) -> (u64, u64, u64) {
    let gates = 3 * hidden;
    let layers = layers.max(1);
    let products = d_in * gates + hidden * gates + (layers - 1) * 2 * hidden * gates;
    (
        products + layers * 2 * gates,
        products,
        layers * (4 * gates + hidden),
    )
}

/// A text model (the language model, or a VAE with GRU encoder and decoder): its GRU
/// stacks and dense layers per position of teacher-forced steps.
fn text_model(text: TextShape, experiment: &Experiment) -> Estimate {
    let TextShape {
        items,
        positions,
        vocabulary,
    } = text;
    let gru = |net: &NetConfig| match net {
        NetConfig::Gru { hidden, layers } => (*hidden as u64, *layers as u64),
        // Refused by validation; sized as the smallest GRU.
        _ => (1, 1),
    };
    // (parameters, multiply-adds per position, floats kept per position)
    let (parameters, macs, kept) = match &experiment.model {
        ModelConfig::LanguageModel { hidden, layers, .. } => {
            let h = *hidden as u64;
            let (p, m, k) = gru_stack(vocabulary, h, *layers as u64);
            (
                p + h * vocabulary + vocabulary,
                m + h * vocabulary,
                k + 3 * vocabulary,
            )
        }
        ModelConfig::Vae {
            latent_dim,
            encoder,
            decoder,
            ..
        } => {
            let z = *latent_dim as u64;
            let ((he, le), (hd, ld)) = (gru(encoder), gru(decoder));
            let (pe, me, ke) = gru_stack(vocabulary, he, le);
            let (pd, md, kd) = gru_stack(vocabulary + z, hd, ld);
            // Once per item: the code from the last state and the decoder's first states.
            let per_item = he * 2 * z + 2 * z + z * hd * ld.max(1) + hd * ld.max(1);
            (
                pe + pd + per_item + hd * vocabulary + vocabulary,
                me + md + hd * vocabulary + per_item / positions.max(1),
                ke + kd + 4 * vocabulary + z,
            )
        }
        // The generator writes every position; the discriminator reads a real and a
        // generated batch (counted as the per-position cost twice).
        ModelConfig::Gan {
            latent_dim,
            generator,
            discriminator,
            minibatch_std,
            ..
        } => {
            let z = *latent_dim as u64;
            let ((hg, lg), (hd, ld)) = (gru(generator), gru(discriminator));
            let (pg, mg, kg) = gru_stack(vocabulary + z, hg, lg);
            let (pd, md, kd) = gru_stack(vocabulary, hd, ld);
            let start = z * hg * lg.max(1) + hg * lg.max(1);
            (
                pg + start + hg * vocabulary + vocabulary + pd + hd + 1 + u64::from(*minibatch_std),
                mg + hg * vocabulary + 2 * md + start / positions.max(1),
                kg + 2 * kd + 4 * vocabulary,
            )
        }
    };
    let batch = experiment.training.batch_size as u64;
    Estimate {
        // Each item as text (about its length) and as token values.
        data: items.saturating_mul(positions.saturating_mul(5) + 24),
        samples: items,
        sample_len: positions,
        parameters,
        model: parameters.saturating_mul(BYTES_PER_PARAMETER),
        activations: positions
            .saturating_mul(kept)
            .saturating_mul(BYTES_PER_ACTIVATION)
            .saturating_mul(batch),
        batch,
        // Forward and backward (about two forwards).
        flops_per_step: (3 * macs)
            .saturating_mul(positions)
            .saturating_mul(batch)
            .saturating_mul(2),
    }
}

/// Classes in labelled data (one past the largest label), as a conditional model is
/// built for them; 0 for data without labels.
fn class_count(data: &DataConfig) -> Result<u64, DataError> {
    let past_largest = |labels: &[u8]| labels.iter().max().map_or(0, |&m| m as u64 + 1);
    Ok(match data {
        DataConfig::Tones { .. } => crate::modality::audio::tones::CLASSES.len() as u64,
        DataConfig::Shapes { .. } => crate::modality::images::shapes::CLASSES.len() as u64,
        DataConfig::Idx {
            labels: Some(path), ..
        } => past_largest(&idx::read_idx(path, idx::LABELS_MAGIC, 1)?.1),
        DataConfig::ImageFolder { path, .. } => crate::modality::images::folder::image_files(path)?
            .labels
            .as_deref()
            .map_or(0, past_largest),
        DataConfig::WavFolder { path, .. } => crate::modality::audio::wav::wav_files(path)?
            .labels
            .as_deref()
            .map_or(0, past_largest),
        _ => 0,
    })
}

/// (samples, image shape, extra bytes per sample held while loading).
fn data_shape(data: &DataConfig) -> Result<(u64, ImageShape, u64), DataError> {
    Ok(match data {
        DataConfig::Toy { .. } | DataConfig::Drawn { .. } => {
            (crate::modality::points::toy::SAMPLES as u64, None, 0)
        }
        // A point takes at least 4 bytes of text ("0,0\n"); each becomes 8 bytes.
        DataConfig::CsvPoints { path } => {
            let len = std::fs::metadata(path)
                .map_err(|e| DataError::io(path, e))?
                .len();
            (len / 4, None, 0)
        }
        DataConfig::Idx { images, .. } => {
            let dims = idx::read_header(images, idx::IMAGES_MAGIC, 3)?;
            let (n, h, w) = (dims[0] as u64, dims[1] as u64, dims[2] as u64);
            // The file's bytes are held while they become f32.
            (n, Some(Grid::image(1, h, w)), h * w)
        }
        DataConfig::ImageFolder { path, size, color } => {
            let n = crate::modality::images::folder::image_files(path)?
                .files
                .len() as u64;
            let c = if *color { 3 } else { 1 };
            (n, Some(Grid::image(c, *size as u64, *size as u64)), 0)
        }
        DataConfig::Shapes { count } => {
            let side = crate::modality::images::shapes::SIZE as u64;
            (*count as u64, Some(Grid::image(1, side, side)), 0)
        }
        DataConfig::Tones { count } => (
            *count as u64,
            Some(Grid::audio(crate::modality::audio::tones::LENGTH as u64)),
            0,
        ),
        DataConfig::WavFolder { path, length, .. } => {
            let n = crate::modality::audio::wav::wav_files(path)?.files.len() as u64;
            (n, Some(Grid::audio(*length as u64)), 0)
        }
        // Only the language model reads text (validation says so); sized as one.
        DataConfig::Names | DataConfig::TextFile { .. } => {
            let text = text_shape(data)?;
            (text.items, None, 0)
        }
    })
}

/// A network's input or output: a flat vector, or an image (channels, side).
#[derive(Debug, Clone, Copy)]
enum Side {
    Flat(u64),
    Image(Grid),
}

impl Side {
    fn of(shape: ImageShape, flat: u64) -> Side {
        match shape {
            Some(g) => Side::Image(g),
            None => Side::Flat(flat),
        }
    }
    fn len(self) -> u64 {
        match self {
            Side::Flat(n) => n,
            Side::Image(g) => g.len(),
        }
    }
    /// `pack` samples stacked as channels (or features), as a packed discriminator reads them.
    fn packed(self, pack: u64) -> Side {
        match self {
            Side::Flat(n) => Side::Flat(n * pack),
            Side::Image(g) => Side::Image(Grid {
                channels: g.channels * pack,
                ..g
            }),
        }
    }
}

struct NetCost {
    parameters: u64,
    /// Multiply-adds of one forward pass, per sample.
    macs: u64,
    /// Elements the layers output, per sample.
    outputs: u64,
    /// Elements of convolution columns (im2col / col2im), per sample.
    columns: u64,
}

/// Parameters and per-sample activations of one network, as `model::layers` builds it.
fn net_cost(net: &NetConfig, input: Side, output: Side) -> NetCost {
    let mut cost = NetCost {
        parameters: 0,
        macs: 0,
        outputs: 0,
        columns: 0,
    };
    // A layer followed by batch norm has no bias; the norm holds a scale, a shift and
    // two running statistics per channel.
    let bias = |width: u64, normed: bool, per_channel: u64| {
        if normed {
            4 * per_channel
        } else {
            width
        }
    };
    let bn = net.batch_norm();
    // `positions`: where the weights are applied per sample (1 for a dense layer, the
    // small side's pixels for a convolution).
    let add = |cost: &mut NetCost,
               weights: u64,
               bias: u64,
               positions: u64,
               outputs: u64,
               columns: u64| {
        cost.parameters = cost.parameters.saturating_add(weights.saturating_add(bias));
        cost.macs = cost.macs.saturating_add(weights.saturating_mul(positions));
        cost.outputs = cost.outputs.saturating_add(outputs);
        cost.columns = cost.columns.saturating_add(columns);
    };
    match net {
        // Costed per position with the text models (`text_model`): GRUs read text only.
        NetConfig::Gru { .. } => {}
        NetConfig::Mlp { hidden, .. } => {
            let mut prev = input.len();
            for &h in hidden {
                let h = h as u64;
                add(&mut cost, prev.saturating_mul(h), bias(h, bn, h), 1, h, 0);
                prev = h;
            }
            let out = output.len();
            add(&mut cost, prev.saturating_mul(out), out, 1, out, 0);
        }
        // Sample -> vector: strided convolutions (the first without batch norm, as in
        // DCGAN), then a dense head.
        NetConfig::Conv { channels, .. } if matches!(input, Side::Image(..)) => {
            let Side::Image(grid) = input else {
                unreachable!()
            };
            let (mut prev, mut sides) = (grid.channels, grid.sides);
            for (i, &c) in channels.iter().enumerate() {
                let c = c as u64;
                sides = grid.shrink(sides);
                let normed = bn && i > 0;
                let at = Grid::area(sides);
                add(
                    &mut cost,
                    grid.taps * prev * c,
                    bias(c, normed, c),
                    at,
                    c * at,
                    grid.taps * prev * at,
                );
                prev = c;
            }
            let out = output.len();
            add(&mut cost, prev * Grid::area(sides) * out, out, 1, out, 0);
        }
        // Vector -> sample: a dense projection, then strided transposed convolutions
        // (the last one without batch norm).
        NetConfig::Conv { channels, .. } => {
            let grid = match output {
                Side::Image(g) => g,
                Side::Flat(n) => Grid::image(n, 1, 1),
            };
            let out_c = grid.channels;
            let mut sides = grid.sides;
            for _ in 0..channels.len().min(63) {
                sides = grid.shrink(sides);
            }
            let mut prev = channels.first().map_or(out_c, |&c| c as u64);
            let projected = prev * Grid::area(sides);
            add(
                &mut cost,
                input.len().saturating_mul(projected),
                bias(projected, bn, prev),
                1,
                projected,
                0,
            );
            let outs: Vec<u64> = channels
                .iter()
                .skip(1)
                .map(|&c| c as u64)
                .chain([out_c])
                .collect();
            for (i, &c) in outs.iter().enumerate() {
                let normed = bn && i + 1 < outs.len();
                let small = Grid::area(sides);
                sides = grid.grow(sides);
                let large = Grid::area(sides);
                // A transposed convolution applies its weights at the small side's
                // positions; a resize-convolution at the grown side's.
                let (taps, positions, columns) = match grid.resize_taps {
                    None => (grid.taps, small, grid.taps * c * small),
                    Some(t) => (t, large, t * prev * large),
                };
                add(
                    &mut cost,
                    taps * prev * c,
                    bias(c, normed, c),
                    positions,
                    c * large,
                    columns,
                );
                prev = c;
            }
        }
    }
    cost
}

/// Training steps per second of `experiment` on its backend and thread count, measured:
/// the model is built and trained for about `budget` after two warm-up steps (at least
/// three steps). Loads the data as a run would; for the cost readout before training.
pub fn probe_speed(experiment: &Experiment, budget: std::time::Duration) -> Result<f64, String> {
    use crate::train::{device, session};
    experiment.check()?;
    check_memory(experiment, available_memory())?;
    let threads = experiment.training.resolved_threads();
    let pool = crate::kernels::training_pool(threads, "genlab-probe")
        .map_err(|e| format!("cannot start {threads} CPU threads: {e}"))?;
    pool.install(|| {
        let (dev, _) = device::device_for(experiment.backend)?;
        let mut trainer = device::seeded(&dev, experiment.training.seed, || {
            session::build_trainer(experiment, &dev)
        })?;
        for _ in 0..2 {
            trainer.step();
        }
        let started = std::time::Instant::now();
        let mut steps = 0u32;
        while steps < 3 || started.elapsed() < budget {
            trainer.step();
            steps += 1;
        }
        Ok(steps as f64 / started.elapsed().as_secs_f64())
    })
}
