//! Networks built from the experiment config. Models hold no backend type: burn 0.22
//! carries the backend in each tensor's `Device`, so the same code runs on every backend.

pub mod gan;
pub mod layers;
pub mod spectral;
pub mod vae;

pub use gan::{Discriminator, Generator};
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
        }
    }
}

/// Why a model could not be built for this data.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ModelError(pub String);
