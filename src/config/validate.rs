//! `Experiment::validate`: every problem at once, each naming its field and value.

use super::{DataConfig, Experiment, ModelConfig, NetConfig, OptimizerConfig, Reconstruction};
use std::fmt;

/// One thing wrong with an experiment, tied to the field that holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigProblem {
    /// Dotted path of the field, e.g. `model.generator.hidden[1]`.
    pub field: String,
    pub message: String,
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

#[derive(Default)]
struct Problems(Vec<ConfigProblem>);

impl Problems {
    fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(ConfigProblem {
            field: field.into(),
            message: message.into(),
        });
    }
}

/// Widths above this are almost surely typos and would exhaust memory.
const MAX_WIDTH: usize = 16_384;
const MAX_LATENT: usize = 4_096;
const MAX_BATCH: usize = 65_536;

impl Experiment {
    /// Returns every problem in the experiment; empty means it can run.
    /// `validate` as one error: "invalid experiment: field: problem; ...".
    pub fn check(&self) -> Result<(), String> {
        let problems = self.validate();
        if problems.is_empty() {
            return Ok(());
        }
        let list: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        Err(format!("invalid experiment: {}", list.join("; ")))
    }

    pub fn validate(&self) -> Vec<ConfigProblem> {
        let mut p = Problems::default();
        validate_data(&self.data, &mut p);
        let shape = DataShape {
            points: self.data.is_points(),
            image_size: known_image_size(&self.data),
            clip_length: clip_length(&self.data),
            text: self.data.is_text(),
        };
        let points = shape.points;
        let text_nets = match &self.model {
            ModelConfig::Gan {
                generator,
                discriminator,
                ..
            } => vec![
                ("model.generator", generator),
                ("model.discriminator", discriminator),
            ],
            ModelConfig::Vae {
                encoder, decoder, ..
            } => vec![("model.encoder", encoder), ("model.decoder", decoder)],
            ModelConfig::LanguageModel { .. } => Vec::new(),
        };
        match (&self.model, self.data.is_text()) {
            (ModelConfig::LanguageModel { .. }, false) => p.push(
                "model.family",
                "the language model reads text: choose the names or a text file as data",
            ),
            (_, true) => {
                for (field, net) in text_nets {
                    if !net.is_recurrent() {
                        p.push(format!("{field}.kind"), crate::model::TEXT_NEEDS_GRU);
                    }
                }
            }
            _ => {}
        }
        if let (
            ModelConfig::Gan {
                loss,
                spectral_norm,
                instance_noise,
                phase_shuffle,
                ..
            },
            true,
        ) = (&self.model, self.data.is_text())
        {
            let unsupported = [
                ("model.loss", *loss == crate::config::GanLoss::Wasserstein),
                ("model.spectral_norm", *spectral_norm),
                ("model.instance_noise", *instance_noise != 0.0),
                ("model.phase_shuffle", *phase_shuffle != 0),
            ];
            for (field, set) in unsupported {
                if set {
                    p.push(
                        field,
                        "not built for text GANs (bce, least squares or hinge loss; no spectral norm, instance noise or phase shuffle)",
                    );
                }
            }
        }
        match &self.model {
            ModelConfig::Gan {
                latent_dim,
                generator,
                discriminator,
                clip,
                minibatch_std,
                instance_noise,
                spectrogram_discriminator,
                pack,
                conditional,
                ..
            } => {
                if *conditional && !self.data.may_have_labels() {
                    p.push(
                        "model.conditional",
                        "needs labelled data: the tones, the shapes, IDX images with a labels file, or a folder of images or WAV files with one subfolder per class",
                    );
                }
                if *conditional && *pack > 1 {
                    p.push(
                        "model.conditional",
                        "does not go with packing: the discriminator names the class of one sample at a time",
                    );
                }
                if *pack > 1 {
                    let batch = self.training.batch_size;
                    if *pack > 16 || !batch.is_multiple_of(*pack) {
                        p.push(
                            "model.pack",
                            format!(
                                "{pack}: at most 16, and a divisor of the batch size ({batch})"
                            ),
                        );
                    }
                    if self.data.is_points() || self.data.is_text() {
                        p.push(
                            "model.pack",
                            "needs image or audio data (the 2-D views score single points)",
                        );
                    }
                }
                if !(instance_noise.is_finite() && (0.0..=10.0).contains(instance_noise)) {
                    p.push(
                        "model.instance_noise",
                        format!("{instance_noise}, must be between 0 and 10"),
                    );
                }
                check_latent(*latent_dim, &mut p);
                if *minibatch_std && !(discriminator.is_conv() || discriminator.is_recurrent()) {
                    p.push(
                        "model.minibatch_std",
                        "needs a conv or gru discriminator (kind = \"conv\" or \"gru\")",
                    );
                }
                if *spectrogram_discriminator && !(self.data.is_audio() && discriminator.is_conv())
                {
                    p.push(
                        "model.spectrogram_discriminator",
                        "needs audio data and a conv discriminator",
                    );
                }
                check_net("model.generator", generator, &shape, &mut p);
                check_net("model.discriminator", discriminator, &shape, &mut p);
                if !(clip.is_finite() && *clip > 0.0) {
                    p.push("model.clip", format!("{clip}, must be a positive number"));
                }
            }
            ModelConfig::Vae {
                latent_dim,
                encoder,
                decoder,
                beta,
                reconstruction,
                word_dropout,
                ..
            } => {
                if !(word_dropout.is_finite() && (0.0..1.0).contains(word_dropout)) {
                    p.push(
                        "model.word_dropout",
                        format!("{word_dropout}, must be at least 0 and below 1"),
                    );
                } else if *word_dropout > 0.0 && !decoder.is_recurrent() {
                    p.push(
                        "model.word_dropout",
                        "blanks characters a recurrent decoder reads: needs a gru decoder (text)",
                    );
                }
                check_latent(*latent_dim, &mut p);
                check_net("model.encoder", encoder, &shape, &mut p);
                check_net("model.decoder", decoder, &shape, &mut p);
                if !(beta.is_finite() && *beta >= 0.0) {
                    p.push("model.beta", format!("{beta}, must be a number >= 0"));
                }
                if points && *reconstruction == Reconstruction::Bce {
                    p.push(
                        "model.reconstruction",
                        "bce needs data in [0, 1] (images); use \"mse\" for 2-D points",
                    );
                }
                if shape.clip_length.is_some() && *reconstruction == Reconstruction::Bce {
                    p.push(
                        "model.reconstruction",
                        "bce needs data in [0, 1] (images); audio samples are in [-1, 1], use \"mse\"",
                    );
                }
            }
            ModelConfig::LanguageModel {
                hidden,
                layers,
                dropout,
            } => {
                if !(dropout.is_finite() && (0.0..1.0).contains(dropout)) {
                    p.push(
                        "model.dropout",
                        format!("{dropout}, must be at least 0 and below 1"),
                    );
                }
                if *hidden == 0 || *hidden > MAX_RECURRENT_UNITS {
                    p.push(
                        "model.hidden",
                        format!("{hidden}, must be between 1 and {MAX_RECURRENT_UNITS}"),
                    );
                }
                if *layers == 0 || *layers > 8 {
                    p.push("model.layers", format!("{layers}, must be between 1 and 8"));
                }
            }
        }
        let t = &self.training;
        if t.batch_size == 0 || t.batch_size > MAX_BATCH {
            p.push(
                "training.batch_size",
                format!("{}, must be between 1 and {MAX_BATCH}", t.batch_size),
            );
        }
        if t.d_steps == 0 || t.d_steps > 100 {
            p.push(
                "training.d_steps",
                format!("{}, must be between 1 and 100", t.d_steps),
            );
        }
        if t.metrics_every == 0 {
            p.push("training.metrics_every", "0, must be >= 1");
        }
        if t.samples_every == 0 {
            p.push("training.samples_every", "0, must be >= 1");
        }
        if t.threads > 1024 {
            p.push(
                "training.threads",
                format!("{}, must be between 0 (automatic) and 1024", t.threads),
            );
        }
        if t.keep_checkpoints == 0 || t.keep_checkpoints > 1000 {
            p.push(
                "training.keep_checkpoints",
                format!("{}, must be between 1 and 1000", t.keep_checkpoints),
            );
        }
        check_optimizer(
            "training.generator_optimizer",
            &t.generator_optimizer,
            &mut p,
        );
        if let Some(d) = &t.discriminator_optimizer {
            check_optimizer("training.discriminator_optimizer", d, &mut p);
        }
        p.0
    }
}

/// Fewest points a drawn distribution needs (a stroke of a few dots is not a shape yet).
pub const MIN_DRAWN: usize = 10;
/// Most points a drawn distribution keeps (each is a line in the preset file).
pub const MAX_DRAWN: usize = 20_000;

fn validate_data(data: &DataConfig, p: &mut Problems) {
    match data {
        DataConfig::Toy { noise, .. } => {
            if !(noise.is_finite() && *noise >= 0.0 && *noise <= 10.0) {
                p.push("data.noise", format!("{noise}, must be between 0 and 10"));
            }
        }
        DataConfig::CsvPoints { path } => {
            if path.as_os_str().is_empty() {
                p.push("data.path", "empty, choose a CSV file");
            }
        }
        DataConfig::Drawn { points, spread } => {
            if points.len() < MIN_DRAWN {
                p.push(
                    "data.points",
                    format!(
                        "{} drawn, draw at least {MIN_DRAWN} (drag on the canvas in the data panel)",
                        points.len()
                    ),
                );
            }
            if points.len() > MAX_DRAWN {
                p.push(
                    "data.points",
                    format!("{} drawn, at most {MAX_DRAWN}", points.len()),
                );
            }
            if let Some(bad) = points
                .iter()
                .find(|q| !(q[0].is_finite() && q[1].is_finite()))
            {
                p.push("data.points", format!("{bad:?} is not a finite point"));
            }
            if !(spread.is_finite() && (0.0..=10.0).contains(spread)) {
                p.push("data.spread", format!("{spread}, must be between 0 and 10"));
            }
        }
        DataConfig::Idx { images, .. } => {
            if images.as_os_str().is_empty() {
                p.push("data.images", "empty, choose an IDX images file");
            }
        }
        DataConfig::ImageFolder { path, size, .. } => {
            if path.as_os_str().is_empty() {
                p.push("data.path", "empty, choose a folder of images");
            }
            if *size < 4 || *size > 512 {
                p.push("data.size", format!("{size}, must be between 4 and 512"));
            }
        }
        DataConfig::Shapes { count } | DataConfig::Tones { count } => {
            if *count < 64 || *count > 200_000 {
                p.push(
                    "data.count",
                    format!("{count}, must be between 64 and 200000"),
                );
            }
        }
        DataConfig::WavFolder {
            path,
            sample_rate,
            length,
        } => {
            if path.as_os_str().is_empty() {
                p.push("data.path", "empty, choose a folder of WAV files");
            }
            let rates = crate::modality::audio::wav::RATES;
            if !rates.contains(sample_rate) {
                p.push(
                    "data.sample_rate",
                    format!(
                        "{sample_rate} Hz, must be between {} and {}",
                        rates.start(),
                        rates.end()
                    ),
                );
            }
            if *length < 64 || *length > MAX_CLIP {
                p.push(
                    "data.length",
                    format!("{length} samples, must be between 64 and {MAX_CLIP}"),
                );
            }
        }
        DataConfig::Names => {}
        DataConfig::TextFile { path } => {
            if path.as_os_str().is_empty() {
                p.push("data.path", "empty, choose a text file (one item per line)");
            }
        }
    }
}

/// The widest recurrent layer: each step multiplies by a square of this side.
const MAX_RECURRENT_UNITS: usize = 4096;

/// The longest clip, in samples (about 8 s at 8 kHz).
const MAX_CLIP: usize = 65_536;

/// Clip length in samples, for audio data.
fn clip_length(data: &DataConfig) -> Option<usize> {
    match data {
        DataConfig::Tones { .. } => Some(crate::modality::audio::tones::LENGTH),
        DataConfig::WavFolder { length, .. } => Some(*length),
        _ => None,
    }
}

/// Image side length when the config alone tells it (IDX files say it in their header).
fn known_image_size(data: &DataConfig) -> Option<usize> {
    match data {
        DataConfig::Shapes { .. } => Some(crate::modality::images::shapes::SIZE),
        DataConfig::ImageFolder { size, .. } => Some(*size),
        _ => None,
    }
}

fn check_latent(latent_dim: usize, p: &mut Problems) {
    if latent_dim == 0 || latent_dim > MAX_LATENT {
        p.push(
            "model.latent_dim",
            format!("{latent_dim}, must be between 1 and {MAX_LATENT}"),
        );
    }
}

/// What the config alone tells of the data's shape.
struct DataShape {
    points: bool,
    image_size: Option<usize>,
    clip_length: Option<usize>,
    text: bool,
}

fn check_net(field: &str, net: &NetConfig, shape: &DataShape, p: &mut Problems) {
    match net {
        NetConfig::Gru { hidden, layers } => {
            if !shape.text {
                p.push(format!("{field}.kind"), crate::model::RECURRENT_NEEDS_TEXT);
            }
            if *hidden == 0 || *hidden > MAX_RECURRENT_UNITS {
                p.push(
                    format!("{field}.hidden"),
                    format!("{hidden}, must be between 1 and {MAX_RECURRENT_UNITS}"),
                );
            }
            if *layers == 0 || *layers > 8 {
                p.push(
                    format!("{field}.layers"),
                    format!("{layers}, must be between 1 and 8"),
                );
            }
        }
        NetConfig::Mlp { hidden, .. } => {
            if hidden.len() > 32 {
                p.push(
                    format!("{field}.hidden"),
                    format!("{} layers, at most 32", hidden.len()),
                );
            }
            check_widths(&format!("{field}.hidden"), hidden, "width", p);
        }
        NetConfig::Conv { channels, .. } => {
            let f = format!("{field}.channels");
            if shape.points {
                p.push(
                    f.clone(),
                    "conv layers need image or audio data; use kind = \"mlp\" for 2-D points",
                );
            }
            if channels.is_empty() {
                p.push(f.clone(), "empty, a conv net needs at least one layer");
            }
            if channels.len() > 6 {
                p.push(f.clone(), format!("{} layers, at most 6", channels.len()));
            }
            check_widths(&f, channels, "channels", p);
            if let Some(length) = shape.clip_length {
                let factor = 4usize.pow(channels.len().min(6) as u32);
                if length % factor != 0 {
                    p.push(
                        f.clone(),
                        format!(
                            "{} stride-4 layers need a clip length divisible by {factor}, clips have {length} samples",
                            channels.len()
                        ),
                    );
                }
            }
            if let Some(size) = shape.image_size {
                let factor = 1usize << channels.len().min(6);
                if size % factor != 0 {
                    p.push(
                        f,
                        format!(
                            "{} stride-2 layers need an image size divisible by {factor}, data is {size}x{size}",
                            channels.len()
                        ),
                    );
                }
            }
        }
    }
}

fn check_widths(field: &str, widths: &[usize], what: &str, p: &mut Problems) {
    for (i, w) in widths.iter().enumerate() {
        if *w == 0 || *w > MAX_WIDTH {
            p.push(
                format!("{field}[{i}]"),
                format!("{what} {w}, must be between 1 and {MAX_WIDTH}"),
            );
        }
    }
}

fn check_optimizer(field: &str, o: &OptimizerConfig, p: &mut Problems) {
    if !(o.lr.is_finite() && o.lr > 0.0 && o.lr <= 10.0) {
        p.push(
            format!("{field}.lr"),
            format!("{}, must be in (0, 10]", o.lr),
        );
    }
    for (name, b) in [("beta1", o.beta1), ("beta2", o.beta2)] {
        if !(b.is_finite() && (0.0..1.0).contains(&b)) {
            p.push(format!("{field}.{name}"), format!("{b}, must be in [0, 1)"));
        }
    }
}
