//! The plain-data messages between a session and its observers. No burn type appears
//! here: the UI never touches a tensor.

pub use crate::checkpoint::EncodedCheckpoint;
pub use crate::modality::audio::views::AudioView;
pub use crate::modality::points::views::PointsView;
pub use crate::modality::text::TextView;
use std::borrow::Cow;

/// Control messages from an observer to the training thread.
#[derive(Debug, Clone, PartialEq)]
pub enum Control {
    Pause,
    Resume,
    /// Run exactly this many steps, then pause.
    Step(u64),
    /// GAN: one update of one network alone (as GAN Lab's Step D and Step G), then pause.
    StepPart(Part),
    Stop,
    /// New learning rates; `None` leaves one unchanged.
    SetLearningRates {
        generator: Option<f64>,
        discriminator: Option<f64>,
    },
    /// Save a checkpoint after the current step.
    Checkpoint,
    /// VAE: interpolate between these two held-out inputs in the next snapshots.
    InterpolateBetween(usize, usize),
    /// Conditional GAN: the next snapshots' samples all of this class (`None`: every class
    /// in rotation). Their metrics stay on every class.
    ShowClass(Option<usize>),
    /// Fault drill: panic inside the next step, as a bug in burn or in a model would.
    /// The session must report it and leave everything else usable.
    InjectPanic,
    /// Fault drill: set the learning rates to NaN, so the next update fills the
    /// parameters with NaN through the real optimizer, as a real divergence does.
    InjectNan,
}

/// One network of a GAN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Discriminator,
    Generator,
}

/// One row of scalar metrics at a step.
#[derive(Debug, Clone, PartialEq)]
pub struct Metrics {
    pub step: u64,
    /// Seconds since the session started training (excluding time paused).
    pub elapsed: f64,
    /// Named values in a fixed order per model family.
    pub values: Vec<(&'static str, f64)>,
}

impl Metrics {
    pub fn get(&self, name: &str) -> Option<f64> {
        self.values
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
    }
}

/// An RGBA image ready to upload as a texture or save as PNG.
#[derive(Debug, Clone, PartialEq)]
pub struct RgbaImage {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<u8>,
}

/// What the model produces at a step, from a fixed batch of noise (or fixed inputs).
#[derive(Debug, Clone, PartialEq)]
pub enum Samples {
    /// A grid of generated images; for a VAE also inputs beside their reconstructions,
    /// and with a 2-D latent the decoded latent map.
    Images {
        grid: RgbaImage,
        reconstructions: Option<RgbaImage>,
        latent_map: Option<RgbaImage>,
        /// With a 2-D latent: held-out inputs encoded (posterior means), one colour per class.
        encoded: Option<RgbaImage>,
        /// VAE: one row per most active latent dimension, decoded at -3..3 sigma around
        /// a held-out input's code.
        traversal: Option<RgbaImage>,
        /// VAE: two held-out inputs and the decoded straight line between their codes.
        interpolation: Option<RgbaImage>,
        /// VAE: held-out KL per latent dimension (nats), the basis of "active units".
        kl_per_dim: Option<Vec<f32>>,
    },
    Points(PointsView),
    Audio(AudioView),
    Text(TextView),
}

/// The forms a snapshot is drawn in: the window's whole vocabulary. It draws each form
/// and never asks which kind of data made it; a kind of data says which forms its
/// samples take (`Samples::views`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum View<'a> {
    /// An interactive 2-D plot of real and generated points, with its layers; D's
    /// heatmap behind them is the snapshot's first picture.
    Scatter(&'a PointsView),
    /// Real and generated clips to play and export.
    Clips(&'a AudioView),
    /// Generated items of text to read, pick and export.
    Items(&'a TextView),
    /// A VAE's latent code: held-out KL per dimension, and the pair to interpolate.
    Latent { kl_per_dim: &'a [f32] },
    /// The snapshot's pictures (`Samples::pictures`) side by side, with the data's
    /// beside them where it has a `data_caption`.
    Pictures,
}

/// One file a snapshot becomes in a run folder: `samples/step_NNNNNN{suffix}.png|wav|txt`.
pub enum SampleFile<'a> {
    /// An image, upscaled `scale` times.
    Png {
        suffix: &'static str,
        image: Cow<'a, RgbaImage>,
        scale: usize,
    },
    /// Clips one after another, with short silences between them.
    Wav {
        suffix: &'static str,
        clips: Cow<'a, [Vec<f32>]>,
        sample_rate: u32,
    },
    /// Items, one per line.
    Text {
        suffix: &'static str,
        text: Cow<'a, str>,
    },
}

/// One picture of an image run: what the window captions it, the suffix of its file in a
/// run folder, and how much that file scales it up.
pub struct ImageView<'a> {
    pub caption: &'static str,
    pub suffix: &'static str,
    pub image: &'a RgbaImage,
    pub file_scale: usize,
}

impl Samples {
    /// The files this snapshot is kept as: the main view under no suffix, extra views
    /// (a VAE's reconstructions, latent map, ...) under their names.
    pub fn files(&self) -> Vec<SampleFile<'_>> {
        match self {
            Samples::Images { .. } => self
                .image_views()
                .into_iter()
                .map(|v| SampleFile::Png {
                    suffix: v.suffix,
                    image: Cow::Borrowed(v.image),
                    scale: v.file_scale,
                })
                .collect(),
            Samples::Points(view) => vec![SampleFile::Png {
                suffix: "",
                image: Cow::Owned(crate::run::render::points_image(
                    view,
                    512,
                    Default::default(),
                )),
                scale: 1,
            }],
            Samples::Audio(view) => view.files(),
            Samples::Text(view) => view.files(),
        }
    }

    /// The image views of an image run in the order the window shows them: the grid,
    /// then a VAE's extra views where it has them (empty for points and audio).
    pub fn image_views(&self) -> Vec<ImageView<'_>> {
        let Samples::Images {
            grid,
            reconstructions,
            latent_map,
            encoded,
            traversal,
            interpolation,
            ..
        } = self
        else {
            return Vec::new();
        };
        fn view<'a>(
            caption: &'static str,
            suffix: &'static str,
            image: &'a Option<RgbaImage>,
            file_scale: usize,
        ) -> Option<ImageView<'a>> {
            image.as_ref().map(|image| ImageView {
                caption,
                suffix,
                image,
                file_scale,
            })
        }
        [
            Some(ImageView {
                caption: "samples from fixed noise",
                suffix: "",
                image: grid,
                file_scale: 4,
            }),
            view("inputs | reconstructions", "_recon", reconstructions, 4),
            view("latent map (decoded 2-D grid)", "_latent", latent_map, 4),
            view(
                "encoded held-out inputs (colour = class)",
                "_encoded",
                encoded,
                1,
            ),
            view(
                "latent traversal (rows: most active dims, -3..3)",
                "_traversal",
                traversal,
                4,
            ),
            view(
                "interpolation between two held-out inputs",
                "_interpolation",
                interpolation,
                4,
            ),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    /// The forms the window draws these samples in, top to bottom.
    pub fn views(&self) -> Vec<View<'_>> {
        match self {
            Samples::Images { kl_per_dim, .. } => kl_per_dim
                .as_deref()
                .map(|kl_per_dim| View::Latent { kl_per_dim })
                .into_iter()
                .chain([View::Pictures])
                .collect(),
            Samples::Points(view) => vec![View::Scatter(view)],
            Samples::Audio(view) => vec![View::Clips(view), View::Pictures],
            Samples::Text(view) => vec![View::Items(view)],
        }
    }

    /// The clips among the views, if these samples are sounds.
    pub fn clips(&self) -> Option<&AudioView> {
        self.views().into_iter().find_map(|v| match v {
            View::Clips(clips) => Some(clips),
            _ => None,
        })
    }

    /// The text items among the views, if these samples are text.
    pub fn items(&self) -> Option<&TextView> {
        self.views().into_iter().find_map(|v| match v {
            View::Items(items) => Some(items),
            _ => None,
        })
    }

    /// The pictures the window shows of these samples, captioned, in order: an image run's
    /// views, the clips' spectrograms (a VAE's pairs) and waveforms, the 2-D view's D(x)
    /// heatmap (the points themselves are plotted); none for text.
    pub fn pictures(&self) -> Vec<(&'static str, Cow<'_, RgbaImage>)> {
        match self {
            Samples::Images { .. } => self
                .image_views()
                .into_iter()
                .map(|v| (v.caption, Cow::Borrowed(v.image)))
                .collect(),
            Samples::Audio(view) => view.pictures(),
            Samples::Points(view) => crate::run::render::heatmap_image(view)
                .map(|h| ("heatmap", Cow::Owned(h)))
                .into_iter()
                .collect(),
            Samples::Text(_) => Vec::new(),
        }
    }

    /// These samples as one still picture `side` pixels across where they are drawn
    /// rather than pictured (points, with `layers`), for timelapses and exports; empty for
    /// text.
    pub fn still(&self, side: usize, layers: crate::run::render::PointLayers) -> RgbaImage {
        match self {
            Samples::Points(view) => crate::run::render::points_image(view, side, layers),
            _ => self
                .pictures()
                .into_iter()
                .next()
                .map(|(_, p)| p.into_owned())
                .unwrap_or(RgbaImage {
                    width: 0,
                    height: 0,
                    pixels: Vec::new(),
                }),
        }
    }

    /// The caption of the real data's picture shown beside these samples on the same
    /// scale (a GAN's grid, clips), where the window shows one.
    pub fn data_caption(&self) -> Option<&'static str> {
        match self {
            Samples::Audio(_) => Some("real clips"),
            // A VAE's views already hold its held-out inputs beside their reconstructions.
            Samples::Images {
                reconstructions: None,
                latent_map: None,
                ..
            } => Some("the data"),
            _ => None,
        }
    }

    /// A sample grid alone, with none of the VAE's extra views.
    pub fn grid(grid: RgbaImage) -> Samples {
        Samples::Images {
            grid,
            reconstructions: None,
            latent_map: None,
            encoded: None,
            traversal: None,
            interpolation: None,
            kl_per_dim: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub step: u64,
    pub samples: Samples,
}

/// Everything a session reports.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Training is about to begin on this device.
    Started {
        device: String,
        parameters: usize,
        /// A conditional model's classes, by name in label order (empty otherwise).
        classes: Vec<String>,
        /// 0 for a new run; the checkpoint's step for a resumed one.
        step: u64,
    },
    /// A checkpoint, encoded, for the observer to keep: sent only by a session without a
    /// run folder (a session with one writes it and says `CheckpointWritten`).
    Checkpoint(EncodedCheckpoint),
    /// The session's run folder holds this checkpoint now.
    CheckpointWritten {
        step: u64,
        path: std::path::PathBuf,
    },
    /// Something could not be written to the run folder; training goes on.
    WriteError(String),
    /// A named warning about how training is going (mode collapse, ...).
    Diagnostic(crate::eval::diagnostics::Diagnostic),
    Metrics(Metrics),
    Paused {
        step: u64,
    },
    Resumed {
        step: u64,
    },
    /// The step budget was reached or Stop was received.
    Finished {
        step: u64,
        stopped: bool,
    },
    /// Training cannot go on; the reason says why in plain words.
    Failed {
        step: u64,
        reason: String,
        kind: FailureKind,
    },
}

/// Why a run ended early, for what the observer offers next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// A loss or parameter became NaN or infinite: resume earlier with a lower learning rate.
    Diverged,
    /// The training thread panicked: a bug; the run's files are kept.
    Crashed,
    /// The run could not start or go on (bad data, a checkpoint that does not fit...).
    Error,
}
