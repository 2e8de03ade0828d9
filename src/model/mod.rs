//! Networks built from the experiment config. Models hold no backend type: burn 0.22
//! carries the backend in each tensor's `Device`, so the same code runs on every backend.

pub mod gan;
pub mod layers;
pub mod recurrent;
pub mod spectral;
pub mod vae;

pub use gan::{Discriminator, DiscriminatorOptions, Generator};
pub use vae::Vae;

/// The shape of one data sample, which fixes the networks' input and output sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleShape {
    Point2,
    Image {
        channels: usize,
        height: usize,
        width: usize,
    },
    /// A mono clip of `length` samples.
    Audio {
        length: usize,
    },
    /// Sequences of up to `length` tokens (characters and the end) from `vocabulary`.
    Text {
        length: usize,
        vocabulary: usize,
    },
}

impl SampleShape {
    pub fn flat_len(self) -> usize {
        match self {
            SampleShape::Point2 => 2,
            SampleShape::Image {
                channels,
                height,
                width,
            } => channels * height * width,
            SampleShape::Audio { length } | SampleShape::Text { length, .. } => length,
        }
    }

    /// Whether samples are bounded (images, clips), so generators end in tanh.
    pub fn is_bounded(self) -> bool {
        !matches!(self, SampleShape::Point2)
    }

    /// How a stack of `layers` convolutions meets this data: DCGAN's 4x4 stride-2
    /// kernels for images, 24-tap stride-4 kernels along time for audio (WaveGAN's).
    pub fn conv_plan(self, layers: usize) -> Result<ConvPlan, ModelError> {
        match self {
            SampleShape::Point2 => Err(ModelError(
                "conv nets need image or audio data; use an MLP for 2-D points".into(),
            )),
            SampleShape::Text { .. } => Err(ModelError(TEXT_NEEDS_GRU.into())),
            SampleShape::Image {
                channels,
                height,
                width,
            } => {
                gan::check_square(height, width, layers)?;
                Ok(ConvPlan {
                    channels,
                    sides: [height, width],
                    kernel: [4, 4],
                    stride: [2, 2],
                    padding: [1, 1],
                    out_padding: [0, 0],
                    resize_kernel: None,
                })
            }
            SampleShape::Audio { length } => {
                let factor = 4usize.pow(layers as u32);
                if !length.is_multiple_of(factor) || length / factor == 0 {
                    return Err(ModelError(format!(
                        "{layers} stride-4 conv layers need a clip length divisible by {factor}, the clips have {length} samples"
                    )));
                }
                Ok(ConvPlan {
                    channels: 1,
                    sides: [1, length],
                    // WaveGAN's 25 taps made 24 going down, so that the stride divides
                    // the length exactly; going up, repeat then 25 taps (Odena et al.,
                    // "Deconvolution and checkerboard artifacts").
                    kernel: [1, 24],
                    stride: [1, 4],
                    padding: [0, 10],
                    out_padding: [0, 0],
                    resize_kernel: Some([1, 9]),
                })
            }
        }
    }
}

/// The geometry of a conv stack: the data's channels and sides, and each layer's kernel,
/// stride and padding. Every layer divides (or, transposed, multiplies) the sides by the
/// stride exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvPlan {
    pub channels: usize,
    pub sides: [usize; 2],
    pub kernel: [usize; 2],
    pub stride: [usize; 2],
    pub padding: [usize; 2],
    /// Extra output of a transposed convolution, so that it gives exactly side * stride.
    pub out_padding: [usize; 2],
    /// How generators and decoders grow the sides: transposed convolutions, or (`Some`,
    /// with its odd kernel) repeating each sample `stride` times and then a stride-1
    /// convolution, which has no stride-periodic artefact (a pure hum at rate / stride
    /// that transposed convolutions start from and must unlearn).
    pub resize_kernel: Option<[usize; 2]>,
}

impl ConvPlan {
    /// The sides after `layers` strided layers.
    pub fn sides_after(&self, layers: usize) -> [usize; 2] {
        let f = |i: usize| self.sides[i] / self.stride[i].pow(layers as u32);
        [f(0), f(1)]
    }
}

/// What MLP and conv nets say of text data.
pub const TEXT_NEEDS_GRU: &str =
    "text is read and written one character a step: use kind = \"gru\" (or the language model, family = \"language_model\")";

/// What MLP and conv stacks say of a recurrent net outside text.
pub const RECURRENT_NEEDS_TEXT: &str =
    "recurrent (gru) nets read and write text: choose the names or a text file as data";

/// Why a model could not be built for this data.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ModelError(pub String);
