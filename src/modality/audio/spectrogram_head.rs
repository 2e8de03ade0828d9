//! A discriminator head that judges a clip by its log-power spectrogram.
//!
//! A waveform discriminator has to learn a Fourier transform before it can tell a clean
//! note from noise at the same pitch; this head starts from one. A fixed Hann-windowed DFT
//! (a matrix product over half-overlapping frames, so it runs on every backend and its
//! gradient is exact) turns each clip into log power per frame and bin, and a small
//! trainable MLP scores that. Its logit is added to the waveform discriminator's.

use crate::config::Activation;
use crate::model::layers::{activate, with_batch_spread, Dense};
use crate::model::spectral::PowerIteration;
use burn::prelude::*;

/// Samples per frame: 31 Hz bins at 8 kHz, finer than the built-in pitches' spacing.
pub const FRAME: usize = 256;
/// Power floor before the log: about 55 dB below a full-scale sine's peak bin.
const FLOOR: f32 = 1e-2;
/// Log powers span about -5 to 8; this brings them near unit scale.
const LOG_SCALE: f32 = 0.25;
/// Hidden width of the MLP over the spectrogram.
const HIDDEN: usize = 256;

/// The fixed front: clips -> log power per frame and bin, flattened.
#[derive(Module, Debug)]
pub struct LogSpectrogram {
    /// Window times cosine and sine, `[frame, 2 * bins]`, row-major (fixed, not trained).
    #[module(skip)]
    basis: Vec<f32>,
    #[module(skip)]
    frame: usize,
    #[module(skip)]
    frames: usize,
}

impl LogSpectrogram {
    /// Frames of `FRAME` samples (fewer for clips shorter than two frames), hop half a frame.
    pub fn new(length: usize) -> Self {
        let frame = FRAME.min(length.next_power_of_two() / 2).max(2);
        LogSpectrogram {
            basis: dft_basis(frame),
            frame,
            frames: (length - frame) / (frame / 2) + 1,
        }
    }

    /// Values per clip that `forward` gives: frames times bins.
    pub fn values_per_clip(&self) -> usize {
        self.frames * (self.frame / 2 + 1)
    }

    /// Clips `[batch, length]` -> scaled log power `[batch, frames * bins]`.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let [batch, _] = x.dims();
        let (frame, frames) = (self.frame, self.frames);
        let hop = frame / 2;
        let bins = frame / 2 + 1;
        // Half-overlapping frames from two views of the same hop-sized blocks.
        let blocks = x
            .narrow(1, 0, hop * (frames + 1))
            .reshape([batch, frames + 1, hop]);
        let framed = Tensor::cat(
            vec![
                blocks.clone().narrow(1, 0, frames),
                blocks.narrow(1, 1, frames),
            ],
            2,
        )
        .reshape([batch * frames, frame]);
        let basis = Tensor::<2>::from_data(
            TensorData::new(self.basis.clone(), [frame, 2 * bins]),
            &framed.device(),
        );
        let spectrum = framed.matmul(basis);
        let re = spectrum.clone().narrow(1, 0, bins);
        let im = spectrum.narrow(1, bins, bins);
        let power = re.clone() * re + im.clone() * im;
        let log_power = power.add_scalar(FLOOR).log().mul_scalar(LOG_SCALE);
        log_power.reshape([batch, frames * bins])
    }
}

/// A discriminator head: the log spectrogram, one hidden layer, and the minibatch
/// standard deviation of that layer (ProGAN) beside it, so a batch that plays one note
/// over and over is as easy to reject as a noisy one.
#[derive(Module, Debug)]
pub struct SpectrogramHead {
    front: LogSpectrogram,
    hidden: Dense,
    output: Dense,
}

impl SpectrogramHead {
    pub fn new(length: usize, spectral: bool, device: &Device) -> Self {
        let front = LogSpectrogram::new(length);
        SpectrogramHead {
            hidden: Dense::new(front.values_per_clip(), HIDDEN, true, spectral, device),
            output: Dense::new(HIDDEN + 1, 1, true, spectral, device),
            front,
        }
    }

    pub fn power_iterations(&self) -> Vec<PowerIteration> {
        [&self.hidden, &self.output]
            .into_iter()
            .filter_map(Dense::power_iteration)
            .collect()
    }

    /// Clips `[batch, length]` -> logit `[batch, 1]`.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let h = activate(
            self.hidden.forward(self.front.forward(x)),
            Activation::LeakyRelu,
        );
        self.output.forward(with_batch_spread(h))
    }
}

/// Hann window times cos and sin of every bin, `[frame, 2 * bins]`: cosines first.
fn dft_basis(frame: usize) -> Vec<f32> {
    let bins = frame / 2 + 1;
    let mut basis = vec![0.0f32; frame * 2 * bins];
    for n in 0..frame {
        let window = 0.5 - 0.5 * (std::f64::consts::TAU * n as f64 / frame as f64).cos();
        for k in 0..bins {
            let angle = std::f64::consts::TAU * (k * n) as f64 / frame as f64;
            basis[n * 2 * bins + k] = (window * angle.cos()) as f32;
            basis[n * 2 * bins + bins + k] = (window * angle.sin()) as f32;
        }
    }
    basis
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fixed transform is a windowed DFT: a sine at bin 8 puts its power there.
    #[test]
    fn the_basis_finds_a_sines_bin() {
        let frame = 64;
        let bins = frame / 2 + 1;
        let basis = dft_basis(frame);
        let x: Vec<f64> = (0..frame)
            .map(|n| (std::f64::consts::TAU * 8.0 * n as f64 / frame as f64).sin())
            .collect();
        let power: Vec<f64> = (0..bins)
            .map(|k| {
                let re: f64 = (0..frame)
                    .map(|n| x[n] * basis[n * 2 * bins + k] as f64)
                    .sum();
                let im: f64 = (0..frame)
                    .map(|n| x[n] * basis[n * 2 * bins + bins + k] as f64)
                    .sum();
                re * re + im * im
            })
            .collect();
        let peak = (0..bins)
            .max_by(|&a, &b| power[a].total_cmp(&power[b]))
            .unwrap();
        assert_eq!(peak, 8);
        assert!(power[12] < power[8] * 1e-6);
    }
}
