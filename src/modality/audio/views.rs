//! How clips become pictures: waveforms and log-power spectrograms, laid out in grids
//! like the image samples (1-pixel gaps on a dark background).

use super::evaluator::{self, ClipQuality};
use super::quality::AudioReference;
use super::spectrum::spectrogram;
use super::AudioSet;
use crate::config::DataConfig;
use crate::data::Dataset;
use crate::modality::snapshot::{GanShot, Snapshots, VaeShot};
use crate::train::events::SampleFile;
use crate::train::trainer::Values;
use crate::train::{RgbaImage, Samples};
use burn::prelude::Device;
use std::borrow::Cow;

/// Clips shown (and kept as WAV in a run folder) per snapshot.
pub const SHOWN: usize = 16;
/// Columns of the waveform and spectrogram grids.
const COLUMNS: usize = 4;

/// Clips a model produced (and, for a VAE, held-out inputs beside their
/// reconstructions), with their pictures: what a snapshot of an audio model holds.
#[derive(Debug, Clone, PartialEq)]
pub struct AudioView {
    pub sample_rate: u32,
    pub generated: Vec<Vec<f32>>,
    /// VAE: held-out inputs; `reconstructed[i]` is the VAE's rendering of `inputs[i]`.
    pub inputs: Vec<Vec<f32>>,
    pub reconstructed: Vec<Vec<f32>>,
    pub waveforms: RgbaImage,
    pub spectrograms: RgbaImage,
    /// VAE: spectrograms of each input beside its reconstruction, two pairs a row.
    pub pairs: Option<RgbaImage>,
    /// A conditional GAN's class for each generated clip (empty otherwise).
    pub classes: Vec<String>,
}

impl AudioView {
    /// How a run folder keeps it: the spectrograms as the PNG and the clips as WAV
    /// beside it; for a VAE, the input/reconstruction pairs as `_recon`.
    pub fn files(&self) -> Vec<SampleFile<'_>> {
        let mut files = vec![
            SampleFile::Png {
                suffix: "",
                image: Cow::Borrowed(&self.spectrograms),
                scale: 2,
            },
            SampleFile::Wav {
                suffix: "",
                clips: Cow::Borrowed(&self.generated),
                sample_rate: self.sample_rate,
            },
        ];
        if let Some(image) = &self.pairs {
            let pairs: Vec<Vec<f32>> = self
                .inputs
                .iter()
                .zip(&self.reconstructed)
                .flat_map(|(a, b)| [a.clone(), b.clone()])
                .collect();
            files.push(SampleFile::Png {
                suffix: "_recon",
                image: Cow::Borrowed(image),
                scale: 2,
            });
            files.push(SampleFile::Wav {
                suffix: "_recon",
                clips: Cow::Owned(pairs),
                sample_rate: self.sample_rate,
            });
        }
        files
    }

    /// The pictures the window shows, captioned: spectrograms, a VAE's pairs, waveforms.
    pub fn pictures(&self) -> Vec<(&'static str, Cow<'_, RgbaImage>)> {
        let mut pictures = vec![(
            "spectrograms (time across, pitch up)",
            Cow::Borrowed(&self.spectrograms),
        )];
        if let Some(pairs) = &self.pairs {
            pictures.push(("held-out input | reconstruction", Cow::Borrowed(pairs)));
        }
        pictures.push(("waveforms", Cow::Borrowed(&self.waveforms)));
        pictures
    }

    /// The generated clips' view (inputs and reconstructions empty).
    pub fn of(sample_rate: u32, generated: Vec<Vec<f32>>) -> AudioView {
        AudioView {
            sample_rate,
            waveforms: waveforms(&generated, COLUMNS),
            spectrograms: spectrograms(&generated, COLUMNS),
            generated,
            inputs: Vec::new(),
            reconstructed: Vec::new(),
            pairs: None,
            classes: Vec::new(),
        }
    }

    /// Adds held-out inputs and their reconstructions, heard and drawn side by side.
    pub fn with_pairs(mut self, inputs: Vec<Vec<f32>>, reconstructed: Vec<Vec<f32>>) -> Self {
        let interleaved: Vec<Vec<f32>> = inputs
            .iter()
            .zip(&reconstructed)
            .flat_map(|(a, b)| [a.clone(), b.clone()])
            .collect();
        self.pairs = Some(spectrograms(&interleaved, COLUMNS));
        self.inputs = inputs;
        self.reconstructed = reconstructed;
        self
    }
}

/// What a trainer keeps to turn an audio model's output into a snapshot.
#[derive(Debug, Clone)]
pub struct AudioSnapshots {
    reference: AudioReference,
    /// FD, KID and precision/recall on the clip evaluator, where one exists for the data.
    quality: Option<ClipQuality>,
    sample_rate: u32,
    length: usize,
}

impl AudioSnapshots {
    pub fn new(set: &AudioSet, data: &DataConfig, device: &Device) -> AudioSnapshots {
        AudioSnapshots {
            reference: AudioReference::new(set),
            quality: ClipQuality::new(evaluator::for_data(data), set, device),
            sample_rate: set.sample_rate,
            length: set.length,
        }
    }

    /// The view of the first `SHOWN` of `generated` (flat clips), and the quality
    /// metrics of all of them.
    pub fn snapshot(&self, generated: &[f32]) -> (AudioView, Vec<(&'static str, f64)>) {
        (self.view(generated), self.metrics(generated))
    }

    /// The view of the first `SHOWN` of `generated` (flat clips).
    pub fn view(&self, generated: &[f32]) -> AudioView {
        AudioView::of(self.sample_rate, split(generated, self.length, SHOWN))
    }

    /// The quality metrics of `generated` (flat clips).
    pub fn metrics(&self, generated: &[f32]) -> Vec<(&'static str, f64)> {
        let mut metrics = self.reference.measure(generated);
        if let Some(quality) = &self.quality {
            metrics.extend(quality.measure(generated));
        }
        metrics
    }

    /// Flat clips as separate vectors, at most `n`.
    pub fn split(&self, flat: &[f32], n: usize) -> Vec<Vec<f32>> {
        split(flat, self.length, n)
    }
}

/// Clips drawn from fixed noise at each snapshot (the first `SHOWN` are shown).
const CLIPS: usize = 128;
/// Held-out clips played beside their reconstructions.
const PAIRS: usize = 8;

impl Snapshots for AudioSnapshots {
    fn count(&self) -> usize {
        CLIPS
    }

    fn gan(&self, _data: &Dataset, shot: GanShot) -> (Samples, Values) {
        let metrics = self.metrics(shot.generated);
        let mut view = self.view(shot.shown);
        view.classes = shot.probe.class_names(view.generated.len());
        (Samples::Audio(view), metrics)
    }

    fn vae(&self, _data: &Dataset, shot: VaeShot) -> (Samples, Values) {
        let (view, metrics) = self.snapshot(shot.generated);
        // Held-out inputs beside what the VAE makes of them.
        let pairs = PAIRS.min(shot.held_out.len() / self.length);
        let inputs = &shot.held_out[..pairs * self.length];
        let probe = shot.probe;
        let recon = probe.decode(&probe.encode(inputs).0);
        let view = view.with_pairs(self.split(inputs, pairs), self.split(&recon, pairs));
        (Samples::Audio(view), metrics)
    }
}

fn split(flat: &[f32], length: usize, n: usize) -> Vec<Vec<f32>> {
    flat.chunks_exact(length.max(1))
        .take(n)
        .map(<[f32]>::to_vec)
        .collect()
}

/// One waveform cell, in pixels.
pub const WAVE_CELL: [usize; 2] = [48, 128];
/// One spectrogram cell, in pixels (time across, frequency up).
pub const SPECTRUM_CELL: [usize; 2] = [64, 64];
/// The spectrogram shows this many dB below each grid's loudest point.
const DYNAMIC_RANGE: f32 = 70.0;

const BACKGROUND: [u8; 4] = [40, 40, 48, 255];

fn blank_grid(n: usize, cols: usize, [h, w]: [usize; 2]) -> (RgbaImage, usize) {
    let cols = cols.max(1).min(n.max(1));
    let rows = n.div_ceil(cols);
    let width = cols * (w + 1) + 1;
    let height = rows * (h + 1) + 1;
    let pixels = BACKGROUND.repeat(width * height);
    (
        RgbaImage {
            width,
            height,
            pixels,
        },
        cols,
    )
}

fn put(img: &mut RgbaImage, x: usize, y: usize, rgb: [u8; 3]) {
    let o = (y * img.width + x) * 4;
    img.pixels[o..o + 3].copy_from_slice(&rgb);
}

/// Each clip's waveform: per pixel column, the span between its lowest and highest sample.
pub fn waveforms(clips: &[Vec<f32>], cols: usize) -> RgbaImage {
    let [h, w] = WAVE_CELL;
    let (mut img, cols) = blank_grid(clips.len(), cols, WAVE_CELL);
    let row_of = |v: f32| (((1.0 - v.clamp(-1.0, 1.0)) * 0.5) * (h - 1) as f32).round() as usize;
    for (i, clip) in clips.iter().enumerate() {
        let (ox, oy) = ((i % cols) * (w + 1) + 1, (i / cols) * (h + 1) + 1);
        for y in 0..h {
            for x in 0..w {
                put(&mut img, ox + x, oy + y, [18, 20, 26]);
            }
        }
        for x in 0..w {
            put(&mut img, ox + x, oy + row_of(0.0), [60, 64, 80]);
        }
        if clip.is_empty() {
            continue;
        }
        for x in 0..w {
            let a = x * clip.len() / w;
            let b = ((x + 1) * clip.len() / w).max(a + 1).min(clip.len());
            let (lo, hi) = clip[a..b]
                .iter()
                .fold((f32::MAX, f32::MIN), |(l, u), &v| (l.min(v), u.max(v)));
            for y in row_of(hi)..=row_of(lo) {
                put(&mut img, ox + x, oy + y, [120, 200, 255]);
            }
        }
    }
    img
}

/// Each clip's log-power spectrogram, low frequencies at the bottom, one colour scale
/// for the whole grid so loud and quiet clips compare.
pub fn spectrograms(clips: &[Vec<f32>], cols: usize) -> RgbaImage {
    let [h, w] = SPECTRUM_CELL;
    let (mut img, cols) = blank_grid(clips.len(), cols, SPECTRUM_CELL);
    let specs: Vec<_> = clips.iter().map(|c| spectrogram(c)).collect();
    let top = specs
        .iter()
        .flat_map(|s| s.db.iter().copied())
        .filter(|v| v.is_finite())
        .fold(-120.0f32, f32::max);
    for (i, s) in specs.iter().enumerate() {
        let (ox, oy) = ((i % cols) * (w + 1) + 1, (i / cols) * (h + 1) + 1);
        for y in 0..h {
            let bin = ((h - 1 - y) * s.bins / h).min(s.bins - 1);
            for x in 0..w {
                let frame = (x * s.frames / w).min(s.frames - 1);
                let db = s.db[frame * s.bins + bin];
                let level = ((db - top + DYNAMIC_RANGE) / DYNAMIC_RANGE).clamp(0.0, 1.0);
                put(&mut img, ox + x, oy + y, heat(level));
            }
        }
    }
    img
}

/// Black through purple and orange to pale yellow (close to matplotlib's "inferno").
pub fn heat(t: f32) -> [u8; 3] {
    const STOPS: [[f32; 3]; 5] = [
        [0.0, 0.0, 4.0],
        [87.0, 16.0, 110.0],
        [188.0, 55.0, 84.0],
        [249.0, 142.0, 9.0],
        [252.0, 255.0, 164.0],
    ];
    let x = t.clamp(0.0, 1.0) * (STOPS.len() - 1) as f32;
    let i = (x as usize).min(STOPS.len() - 2);
    let f = x - i as f32;
    let mix = |c: usize| (STOPS[i][c] + f * (STOPS[i + 1][c] - STOPS[i][c])).round() as u8;
    [mix(0), mix(1), mix(2)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tone_lights_one_spectrogram_row_and_fills_its_waveform() {
        let tone: Vec<f32> = (0..1024)
            .map(|i| 0.8 * (2.0 * std::f32::consts::PI * 1000.0 * i as f32 / 8000.0).sin())
            .collect();
        let img = spectrograms(std::slice::from_ref(&tone), 1);
        assert_eq!((img.width, img.height), (66, 66));
        // 1 kHz of 4 kHz: a quarter of the way up from the bottom row.
        let brightness = |y: usize| -> u32 {
            (1..65)
                .map(|x| img.pixels[(y * img.width + x) * 4] as u32)
                .sum()
        };
        let tone_row = 1 + 64 - 1 - 64 / 4;
        assert!(
            brightness(tone_row) > 4 * brightness(5),
            "{}",
            brightness(tone_row)
        );
        let waves = waveforms(&[tone, vec![0.0; 1024]], 2);
        let lit = |x0: usize| {
            (0..waves.height)
                .filter(|&y| waves.pixels[(y * waves.width + x0 + 10) * 4 + 2] == 255)
                .count()
        };
        assert!(lit(1) > 30, "a loud tone spans most of its cell");
        assert!(lit(WAVE_CELL[1] + 2) <= 1, "silence is a flat line");
    }
}
