//! Audio quality without a trained network: which of the data's pitches the generated
//! clips reach (the audio counterpart of the ring's modes), how many clips are tonal at
//! all, and how far the generated power spectrum lies from the real one.

use super::spectrum::{mean_band_power, midi_note, peak};
use super::AudioSet;
use crate::eval::metric::Metric;

/// A clip counts as pitched when this share of its energy sits at its spectral peak
/// (band-limited square and saw tones reach 0.6-0.8; sweeps and noise stay under 0.3).
pub const TONAL: f32 = 0.4;
/// Quieter clips are silence, not notes.
const MIN_RMS: f32 = 0.01;
/// A pitch needs this many periods within the clip: lower peaks (a drum's thump, an
/// offset) are too few cycles to name a note by.
const MIN_PERIODS: f32 = 16.0;
/// A pitch class counts among the data's when this share of its pitched clips has it.
const CLASS_SHARE: f64 = 0.02;
/// A pitch class counts as generated when this many generated clips have it.
const HITS: usize = 2;
/// Bands of the mean spectrum behind the spectral distance.
const BANDS: usize = 32;
/// Real clips the reference is computed from.
pub const REFERENCE_CLIPS: usize = 512;

/// The real data's pitch classes and spectrum, computed once per run.
#[derive(Debug, Clone)]
pub struct AudioReference {
    sample_rate: u32,
    length: usize,
    /// MIDI notes that the data's pitched clips peak on.
    pub notes: Vec<u8>,
    tonal_share: f64,
    spectrum: Vec<f64>,
}

/// The MIDI note of each pitched clip (None for unpitched or silent ones).
pub fn pitch_classes(clips: &[f32], length: usize, sample_rate: u32) -> Vec<Option<u8>> {
    let lowest = MIN_PERIODS * sample_rate as f32 / length.max(1) as f32;
    clips
        .chunks_exact(length)
        .map(|c| {
            let p = peak(c, sample_rate);
            (p.tonality >= TONAL && p.rms >= MIN_RMS && p.hz >= lowest)
                .then(|| midi_note(p.hz))
                .flatten()
        })
        .collect()
}

impl AudioReference {
    pub fn new(set: &AudioSet) -> AudioReference {
        let n = set.len().min(REFERENCE_CLIPS);
        let real = &set.samples[..n * set.length];
        let classes = pitch_classes(real, set.length, set.sample_rate);
        let pitched: Vec<u8> = classes.iter().flatten().copied().collect();
        let mut counts = [0usize; 128];
        pitched.iter().for_each(|&c| counts[c as usize] += 1);
        let notes = (0..128u8)
            .filter(|&c| counts[c as usize] as f64 >= CLASS_SHARE * pitched.len() as f64)
            .filter(|&c| counts[c as usize] > 0)
            .collect();
        AudioReference {
            sample_rate: set.sample_rate,
            length: set.length,
            notes,
            tonal_share: pitched.len() as f64 / n.max(1) as f64,
            spectrum: mean_band_power(real, set.length, BANDS),
        }
    }

    /// `pitch_coverage`: share of the data's pitch classes that at least `HITS` generated
    /// clips peak on; `tonal_share`: pitched generated clips over the data's share;
    /// `spectral_distance`: mean absolute difference of the band powers, in dB.
    pub fn measure(&self, generated: &[f32]) -> Vec<(&'static str, f64)> {
        let classes = pitch_classes(generated, self.length, self.sample_rate);
        let mut counts = [0usize; 128];
        classes
            .iter()
            .flatten()
            .for_each(|&c| counts[c as usize] += 1);
        let covered = self
            .notes
            .iter()
            .filter(|&&c| counts[c as usize] >= HITS)
            .count();
        let pitched = classes.iter().flatten().count() as f64 / classes.len().max(1) as f64;
        let spectrum = mean_band_power(generated, self.length, BANDS);
        let distance = spectrum
            .iter()
            .zip(&self.spectrum)
            .map(|(a, b)| (a - b).abs())
            .sum::<f64>()
            / BANDS as f64;
        let values = [
            covered as f64 / self.notes.len().max(1) as f64,
            pitched / self.tonal_share.max(1e-9),
            distance,
        ];
        METRICS.iter().map(|m| m.column).zip(values).collect()
    }
}

/// The metrics `measure` gives, in order.
pub const METRICS: [Metric; 3] = [
    Metric::new(
        "pitch_coverage",
        "pitches",
        "%",
        "Share of the data's pitches that at least 2 generated clips play as a clear note (40 % of their energy at the spectral peak): the audio counterpart of the ring's modes.",
    ),
    Metric::new(
        "tonal_share",
        "tonal",
        "",
        "Share of generated clips that are clear notes, over the data's share: 1 when the generator plays as many notes as the data holds, 0 for noise.",
    ),
    Metric::new(
        "spectral_distance",
        "spectral distance",
        "dB",
        "Mean difference between the real and generated clips' average power spectra, over 32 bands: lower is better.",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modality::audio::tones;

    #[test]
    fn real_clips_cover_every_pitch_and_collapsed_or_noisy_ones_do_not() {
        let set = tones::generate(600, 1);
        let reference = AudioReference::new(&set);
        assert_eq!(reference.notes, vec![57, 61, 65, 69, 73, 77, 81, 85]);
        let other = tones::generate(300, 2);
        let m = reference.measure(&other.samples);
        assert_eq!(m[0], ("pitch_coverage", 1.0));
        assert!((m[1].1 - 1.0).abs() < 0.15, "{m:?}");
        assert!(m[2].1 < 2.0, "{m:?}");
        // One clip repeated: one pitch of eight.
        let one: Vec<f32> = other.clip(3).repeat(300);
        let m = reference.measure(&one);
        assert_eq!(m[0].1, 1.0 / 8.0);
        // Silence and noise: no pitch at all, and a spectrum far from the data's.
        let silence = vec![0.0; 300 * set.length];
        assert_eq!(reference.measure(&silence)[0].1, 0.0);
        let noise: Vec<f32> = (0..300 * set.length)
            .map(|i| ((i * 7919 % 1000) as f32 / 500.0 - 1.0) * 0.5)
            .collect();
        let m = reference.measure(&noise);
        assert_eq!(m[0].1, 0.0);
        assert!(m[2].1 > 5.0, "{m:?}");
    }
}
