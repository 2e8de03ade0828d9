//! The experiment: one plain serde type that describes a whole run.
//!
//! Everything the engine needs (data, model, training, backend) lives here, so a run
//! can be saved as a preset, diffed against another, and reproduced from its TOML.

pub mod presets;
mod validate;

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub use validate::{ConfigProblem, MAX_DRAWN, MIN_DRAWN};

/// A whole experiment, as stored in a preset file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Experiment {
    /// Short human title shown in the preset browser.
    #[serde(default)]
    pub title: String,
    /// One paragraph: what this experiment teaches.
    #[serde(default)]
    pub description: String,
    pub data: DataConfig,
    pub model: ModelConfig,
    pub training: TrainingConfig,
    #[serde(default)]
    pub backend: Backend,
    /// What this preset should reach within its step budget (checked by `genlab verify`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
}

fn read_preset(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
        path: path.to_owned(),
        source,
    })
}

/// A preset's stated result: a final metric bound at the end of its budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Outcome {
    /// A metrics.csv column, e.g. `modes_covered` or `held_out_reconstruction`.
    pub metric: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_least: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_most: Option<f64>,
}

impl Outcome {
    /// Whether `value` meets the bound, and the bound in words.
    pub fn check(&self, value: f64) -> (bool, String) {
        let mut ok = value.is_finite();
        let mut words = Vec::new();
        if let Some(lo) = self.at_least {
            ok &= value >= lo;
            words.push(format!(">= {lo}"));
        }
        if let Some(hi) = self.at_most {
            ok &= value <= hi;
            words.push(format!("<= {hi}"));
        }
        (ok, format!("{} {}", self.metric, words.join(" and ")))
    }
}

/// Where the training samples come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum DataConfig {
    /// A built-in 2-D toy distribution.
    Toy {
        shape: ToyShape,
        /// Standard deviation of the Gaussian noise added to each point.
        #[serde(default = "default_toy_noise")]
        noise: f32,
    },
    /// 2-D points from a CSV file with two numeric columns (an optional header row).
    CsvPoints { path: PathBuf },
    /// A 2-D distribution drawn with the mouse: training points are the drawn ones, each
    /// drawn at random and moved by Gaussian noise of standard deviation `spread`.
    Drawn {
        points: Vec<[f32; 2]>,
        #[serde(default = "default_drawn_spread")]
        spread: f32,
    },
    /// MNIST-format IDX files (plain or gzip).
    Idx {
        images: PathBuf,
        #[serde(default)]
        labels: Option<PathBuf>,
    },
    /// A folder of PNG/JPEG images, resized to `size` x `size`.
    ImageFolder {
        path: PathBuf,
        #[serde(default = "default_image_size")]
        size: usize,
        #[serde(default)]
        color: bool,
    },
    /// The built-in shapes set: 28x28 grayscale shapes rendered with random jitter.
    Shapes {
        #[serde(default = "default_shapes_count")]
        count: usize,
    },
    /// The built-in audio set: 8 kHz clips of tones at eight pitches, sweeps and drums.
    Tones {
        #[serde(default = "default_tones_count")]
        count: usize,
    },
    /// A folder of WAV files, each mixed to mono, resampled to `sample_rate` and cut to
    /// `length` samples from its onset; where the folder has none of its own, those of its
    /// subfolders, one class per subfolder (for a conditional GAN).
    WavFolder {
        path: PathBuf,
        #[serde(default = "default_sample_rate")]
        sample_rate: u32,
        #[serde(default = "default_clip_length")]
        length: usize,
    },
    /// The built-in text corpus: 5163 first names from the 1990 US Census lists.
    Names,
    /// A UTF-8 text file, one item (a name, a word, a short line) per line.
    TextFile { path: PathBuf },
}

fn default_toy_noise() -> f32 {
    0.02
}
fn default_drawn_spread() -> f32 {
    0.05
}
fn default_image_size() -> usize {
    28
}
fn default_shapes_count() -> usize {
    6000
}
fn default_tones_count() -> usize {
    4000
}
fn default_sample_rate() -> u32 {
    crate::modality::audio::tones::SAMPLE_RATE
}
fn default_clip_length() -> usize {
    crate::modality::audio::tones::LENGTH
}

/// The six built-in 2-D distributions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToyShape {
    Ring,
    Grid,
    Moons,
    Spiral,
    SwissRoll,
    Circles,
}

impl ToyShape {
    pub const ALL: [ToyShape; 6] = [
        ToyShape::Ring,
        ToyShape::Grid,
        ToyShape::Moons,
        ToyShape::Spiral,
        ToyShape::SwissRoll,
        ToyShape::Circles,
    ];

    pub fn label(self) -> &'static str {
        match self {
            ToyShape::Ring => "8-Gaussian ring",
            ToyShape::Grid => "5x5 grid",
            ToyShape::Moons => "Two moons",
            ToyShape::Spiral => "Spiral",
            ToyShape::SwissRoll => "Swiss roll",
            ToyShape::Circles => "Concentric circles",
        }
    }
}

/// GAN or VAE, with its architecture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "family", rename_all = "snake_case", deny_unknown_fields)]
pub enum ModelConfig {
    Gan {
        latent_dim: usize,
        generator: NetConfig,
        discriminator: NetConfig,
        #[serde(default)]
        loss: GanLoss,
        /// Spectral normalisation of every discriminator weight.
        #[serde(default)]
        spectral_norm: bool,
        /// Weight clipping bound, used by the Wasserstein loss.
        #[serde(default = "default_clip")]
        clip: f32,
        /// Minibatch standard deviation (ProGAN): the discriminator's head also sees how
        /// much the batch varies, so a generator collapsed onto a few samples is easy to
        /// tell from the data. Conv discriminators only.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        minibatch_std: bool,
        /// Instance noise: Gaussian noise added to every sample the discriminator sees,
        /// real and generated, so it cannot win on detail finer than the noise and the
        /// generator learns the coarse structure first. Its standard deviation starts
        /// here and falls linearly to 0 at the end of the step budget (constant without one).
        #[serde(default, skip_serializing_if = "is_zero")]
        instance_noise: f32,
        /// Phase shuffle (WaveGAN): each conv discriminator layer's output is shifted
        /// along time by a random -n..=n samples (reflected at the ends) at every step,
        /// so the discriminator cannot judge a clip by the exact phase of its detail.
        #[serde(default, skip_serializing_if = "is_zero_usize")]
        phase_shuffle: usize,
        /// A second discriminator head for audio that scores each clip's log-power
        /// spectrogram (a fixed windowed DFT, then a trainable MLP); its logit is added to
        /// the waveform discriminator's, so a noisy clip at the right pitch is easy to reject.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        spectrogram_discriminator: bool,
        /// PacGAN packing: the discriminator judges `pack` samples at once, stacked as
        /// channels (real with real, generated with generated), so a generator that makes
        /// the same few samples is told by their likeness to one another. 0 or 1: alone.
        #[serde(default, skip_serializing_if = "is_zero_usize")]
        pack: usize,
        /// Class-conditional (AC-GAN, Odena et al. 2017): the generator is told a class
        /// (its one-hot code joins the noise) and the discriminator also names the class
        /// of what it sees, so each generated sample is pushed to look like its class.
        /// Needs labelled data: the tones, the shapes, IDX with labels, or class folders.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        conditional: bool,
    },
    Vae {
        latent_dim: usize,
        encoder: NetConfig,
        decoder: NetConfig,
        #[serde(default)]
        reconstruction: Reconstruction,
        /// Weight of the KL term (beta-VAE when > 1).
        #[serde(default = "default_beta")]
        beta: f32,
        /// KL annealing: the KL weight rises linearly from 0 to `beta` over this many
        /// first steps, so the decoder learns to use the code before the KL term can
        /// push the posterior onto the prior (Bowman et al. 2016). 0: `beta` from the start.
        #[serde(default, skip_serializing_if = "is_zero_u64")]
        kl_warmup: u64,
        /// Word dropout for recurrent decoders: this share of the characters the decoder
        /// reads (teacher forcing) is blanked, so it must lean on the code to spell the
        /// item rather than on the characters before (Bowman et al. 2016).
        #[serde(default, skip_serializing_if = "is_zero")]
        word_dropout: f32,
    },
    /// An autoregressive character-level language model (stacked GRUs): the likelihood
    /// baseline that text GANs and VAEs are compared against.
    LanguageModel {
        /// Units of each recurrent layer.
        hidden: usize,
        #[serde(default = "default_layers")]
        layers: usize,
        /// Dropout on each recurrent layer's output while training (Zaremba et al.
        /// 2014): this share of the units is zeroed at every position, the rest scaled
        /// up, so the model cannot lean on any one of them. Against overfitting a small
        /// corpus; 0: none.
        #[serde(default, skip_serializing_if = "is_zero")]
        dropout: f32,
    },
}

impl ModelConfig {
    /// The width of the latent code (0 for the language model, which has none).
    pub fn latent_dim(&self) -> usize {
        match self {
            ModelConfig::Gan { latent_dim, .. } | ModelConfig::Vae { latent_dim, .. } => {
                *latent_dim
            }
            ModelConfig::LanguageModel { .. } => 0,
        }
    }
}

fn default_layers() -> usize {
    1
}

fn is_zero_u64(v: &u64) -> bool {
    *v == 0
}
fn is_zero_usize(v: &usize) -> bool {
    *v == 0
}
fn is_zero(v: &f32) -> bool {
    *v == 0.0
}
fn default_clip() -> f32 {
    0.01
}
fn default_beta() -> f32 {
    1.0
}

/// One network's architecture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum NetConfig {
    /// Fully connected layers with these widths.
    Mlp {
        hidden: Vec<usize>,
        #[serde(default)]
        activation: Activation,
        #[serde(default)]
        batch_norm: bool,
    },
    /// DCGAN-style stride-2 convolutions (4x4 kernels), one per entry, with these channels.
    Conv {
        channels: Vec<usize>,
        #[serde(default)]
        activation: Activation,
        #[serde(default)]
        batch_norm: bool,
    },
    /// Stacked GRU layers of `hidden` units reading or writing one character a step (text).
    Gru {
        hidden: usize,
        #[serde(default = "default_layers")]
        layers: usize,
    },
}

impl NetConfig {
    pub fn activation(&self) -> Activation {
        match self {
            NetConfig::Mlp { activation, .. } | NetConfig::Conv { activation, .. } => *activation,
            // The GRU's own gates: sigmoid and tanh.
            NetConfig::Gru { .. } => Activation::Tanh,
        }
    }
    pub fn batch_norm(&self) -> bool {
        match self {
            NetConfig::Mlp { batch_norm, .. } | NetConfig::Conv { batch_norm, .. } => *batch_norm,
            NetConfig::Gru { .. } => false,
        }
    }
    pub fn is_conv(&self) -> bool {
        matches!(self, NetConfig::Conv { .. })
    }
    pub fn is_recurrent(&self) -> bool {
        matches!(self, NetConfig::Gru { .. })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    #[default]
    Relu,
    LeakyRelu,
    Tanh,
    Elu,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GanLoss {
    /// Non-saturating binary cross-entropy (the original GAN).
    #[default]
    Bce,
    LeastSquares,
    Hinge,
    /// Wasserstein critic with weight clipping.
    Wasserstein,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reconstruction {
    #[default]
    Bce,
    Mse,
}

/// How to train.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingConfig {
    pub batch_size: usize,
    /// Step budget; 0 means run until stopped.
    pub steps: u64,
    #[serde(default)]
    pub seed: u64,
    /// Discriminator updates per generator update (GAN only).
    #[serde(default = "one")]
    pub d_steps: usize,
    /// Optimizer of the generator (GAN) or of the whole VAE.
    pub generator_optimizer: OptimizerConfig,
    /// Optimizer of the discriminator (GAN only; ignored for a VAE).
    #[serde(default)]
    pub discriminator_optimizer: Option<OptimizerConfig>,
    /// Emit metrics every this many steps.
    #[serde(default = "default_metrics_every")]
    pub metrics_every: u64,
    /// Emit a sample grid (or 2-D points) every this many steps.
    #[serde(default = "default_samples_every")]
    pub samples_every: u64,
    /// Save a checkpoint every this many steps (0: only on demand and at the end).
    #[serde(default = "default_checkpoint_every")]
    pub checkpoint_every: u64,
    /// Checkpoints kept in a run folder; older ones are deleted.
    #[serde(default = "default_keep_checkpoints")]
    pub keep_checkpoints: usize,
    /// CPU threads for training (0: all cores but one, which stays with the window).
    /// One thread gives bit-exact results for a seed; more may reorder float sums.
    #[serde(default)]
    pub threads: usize,
}

impl TrainingConfig {
    /// The thread count `threads` resolves to on this machine.
    pub fn resolved_threads(&self) -> usize {
        match self.threads {
            0 => std::thread::available_parallelism()
                .map(|n| n.get().saturating_sub(1))
                .unwrap_or(1)
                .max(1),
            n => n,
        }
    }
}

fn one() -> usize {
    1
}
fn default_metrics_every() -> u64 {
    10
}
fn default_samples_every() -> u64 {
    100
}
fn default_checkpoint_every() -> u64 {
    1000
}
fn default_keep_checkpoints() -> usize {
    3
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptimizerConfig {
    #[serde(default)]
    pub kind: OptimizerKind,
    pub lr: f64,
    #[serde(default = "default_beta1")]
    pub beta1: f32,
    #[serde(default = "default_beta2")]
    pub beta2: f32,
}

fn default_beta1() -> f32 {
    0.9
}
fn default_beta2() -> f32 {
    0.999
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OptimizerKind {
    #[default]
    Adam,
    Sgd,
    RmsProp,
}

/// Where the tensors live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    /// burn-flex on the CPU (pure Rust, SIMD, one training thread).
    #[default]
    Cpu,
    /// burn-wgpu on the machine's GPU (Vulkan, Metal or DX12; Mesa's lavapipe counts).
    Gpu,
}

impl Backend {
    pub fn label(self) -> &'static str {
        match self {
            Backend::Cpu => "CPU (burn-flex)",
            Backend::Gpu => "GPU (burn-wgpu)",
        }
    }
}

/// Why a preset could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{path}: invalid experiment:\n  {}", .problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n  "))]
    Invalid {
        path: PathBuf,
        problems: Vec<ConfigProblem>,
    },
}

impl Experiment {
    /// Parses TOML text (no validation).
    pub fn from_toml(text: &str) -> Result<Self, toml::de::Error> {
        toml::from_str(text)
    }

    pub fn to_toml(&self) -> String {
        // Serialising plain data with string keys cannot fail.
        toml::to_string_pretty(self).unwrap_or_default()
    }

    /// Reads and validates a preset file; errors name the file, line and field.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        Self::parse(&read_preset(path)?, path)
    }

    /// A preset file for the editor: one that does not parse is an error; one that parses
    /// comes with its problems (a data path still to choose, a value out of range), which
    /// the editor marks and which keep Train disabled until fixed.
    pub fn load_for_editing(path: &Path) -> Result<(Self, Vec<ConfigProblem>), ConfigError> {
        let exp = Self::parse_unchecked(&read_preset(path)?, path)?;
        let problems = exp.validate();
        Ok((exp, problems))
    }

    fn parse_unchecked(text: &str, path: &Path) -> Result<Self, ConfigError> {
        Self::from_toml(text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            message: locate_bad_value(text, &e),
        })
    }

    /// Parses and validates preset text; `path` names the file in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let exp = Self::parse_unchecked(text, path)?;
        let problems = exp.validate();
        if problems.is_empty() {
            Ok(exp)
        } else {
            Err(ConfigError::Invalid {
                path: path.to_owned(),
                problems,
            })
        }
    }

    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        std::fs::write(path, self.to_toml())
    }

    /// The built-in default: an MLP GAN on the 8-Gaussian ring.
    pub fn default_ring_gan() -> Self {
        Self::from_toml(include_str!("../../presets/gan_ring.toml"))
            .unwrap_or_else(|e| panic!("built-in preset gan_ring.toml is broken: {e}"))
    }

    /// Short name for files and run folders.
    pub fn slug(&self) -> String {
        let base = if self.title.is_empty() {
            "experiment"
        } else {
            &self.title
        };
        let s: String = base
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect();
        let s = s
            .split('-')
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join("-");
        if s.is_empty() {
            "experiment".into()
        } else {
            s
        }
    }

    pub fn is_gan(&self) -> bool {
        matches!(self.model, ModelConfig::Gan { .. })
    }

    /// Optimizer of the discriminator, defaulting to the generator's.
    pub fn discriminator_optimizer(&self) -> &OptimizerConfig {
        self.training
            .discriminator_optimizer
            .as_ref()
            .unwrap_or(&self.training.generator_optimizer)
    }
}

/// toml's message for a value of the wrong type (or an unknown name) inside a tagged table
/// ([data], [model], [model.generator]...) points at the table, not the key: serde buffers
/// such tables before it knows their variant. Find the key holding the bad value and say so.
fn locate_bad_value(text: &str, err: &toml::de::Error) -> String {
    let message = err.to_string();
    let Some(span) = err.span() else {
        return message;
    };
    let Some(value) = bad_value(&message) else {
        return message;
    };
    // The span comes from the parser; any slice of user text goes through `get`, so an
    // offset inside a multi-byte character gives the plain message, never a panic.
    let Some(table) = text.get(span.start..) else {
        return message;
    };
    let first = table.chars().next().map_or(0, char::len_utf8);
    let end = table[first..]
        .find("\n[")
        .map(|i| i + first)
        .unwrap_or(table.len());
    let table_name = table
        .lines()
        .next()
        .unwrap_or("")
        .trim()
        .trim_matches(['[', ']']);
    let mut line_start = span.start;
    for line in table[..end].split_inclusive('\n') {
        let here = line_start;
        line_start += line.len();
        if here == span.start {
            continue; // the table's header
        }
        let Some((key, v)) = line.split_once('=') else {
            continue;
        };
        let v = v.split(" #").next().unwrap_or(v).trim();
        if v == value || v.trim_matches('"') == value.trim_matches('"') && v.starts_with('"') {
            let line_no = text.get(..here).map_or(0, |t| t.lines().count()) + 1;
            return format!(
                "{message}field {table_name}.{} (line {line_no}) has a wrong value: {v}",
                key.trim(),
            );
        }
    }
    message
}

/// The offending value as written in the file, from toml's message: `"loud"` from
/// `invalid type: string "loud", expected f32`, `3` from ``invalid type: integer `3` ``,
/// `"hexagon"` from ``unknown variant `hexagon` ``.
fn bad_value(message: &str) -> Option<String> {
    if let Some(rest) = message.split("unknown variant `").nth(1) {
        return rest.split('`').next().map(|v| format!("\"{v}\""));
    }
    let rest = message.split("invalid type: ").nth(1)?;
    let (_, value) = rest.split(", expected").next()?.split_once(' ')?;
    Some(value.trim().trim_matches('`').to_string())
}

impl DataConfig {
    pub fn is_points(&self) -> bool {
        matches!(
            self,
            DataConfig::Toy { .. } | DataConfig::CsvPoints { .. } | DataConfig::Drawn { .. }
        )
    }
    pub fn is_audio(&self) -> bool {
        matches!(
            self,
            DataConfig::Tones { .. } | DataConfig::WavFolder { .. }
        )
    }
    pub fn is_text(&self) -> bool {
        matches!(self, DataConfig::Names | DataConfig::TextFile { .. })
    }
    /// Whether this kind of data can carry class labels (a folder of images or WAV files
    /// has them only when its files sit in one subfolder per class; loading says so).
    pub fn may_have_labels(&self) -> bool {
        match self {
            DataConfig::Tones { .. }
            | DataConfig::Shapes { .. }
            | DataConfig::ImageFolder { .. }
            | DataConfig::WavFolder { .. } => true,
            DataConfig::Idx { labels, .. } => labels.is_some(),
            _ => false,
        }
    }
}
