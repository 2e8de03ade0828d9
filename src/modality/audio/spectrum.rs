//! Spectra of clips: a radix-2 FFT, windowed magnitude spectra, spectrograms and the
//! spectral peak that names a clip's pitch.

use std::f32::consts::PI;

/// In-place iterative radix-2 FFT; `re.len()` must be a power of two.
pub fn fft(re: &mut [f32], im: &mut [f32]) {
    let n = re.len();
    debug_assert!(n.is_power_of_two() && im.len() == n);
    let mut j = 0;
    for i in 1..n {
        let mut bit = n >> 1;
        while j & bit != 0 {
            j ^= bit;
            bit >>= 1;
        }
        j |= bit;
        if i < j {
            re.swap(i, j);
            im.swap(i, j);
        }
    }
    let mut len = 2;
    while len <= n {
        let angle = -2.0 * PI / len as f32;
        for start in (0..n).step_by(len) {
            for k in 0..len / 2 {
                // Twiddles computed directly (not by recurrence) keep f32 error flat.
                let (s, c) = (angle * k as f32).sin_cos();
                let (a, b) = (start + k, start + k + len / 2);
                let tr = re[b] * c - im[b] * s;
                let ti = re[b] * s + im[b] * c;
                re[b] = re[a] - tr;
                im[b] = im[a] - ti;
                re[a] += tr;
                im[a] += ti;
            }
        }
        len <<= 1;
    }
}

/// Hann window of `n` points.
fn hann(n: usize) -> impl Iterator<Item = f32> {
    (0..n).map(move |i| 0.5 - 0.5 * (2.0 * PI * i as f32 / n as f32).cos())
}

/// Power spectrum (`n_fft / 2 + 1` bins) of a Hann-windowed frame, zero-padded to `n_fft`.
pub fn power(frame: &[f32], n_fft: usize) -> Vec<f32> {
    let mut re = vec![0.0; n_fft];
    let mut im = vec![0.0; n_fft];
    let n = frame.len().min(n_fft);
    for ((r, x), w) in re.iter_mut().zip(frame).zip(hann(n)) {
        *r = x * w;
    }
    fft(&mut re, &mut im);
    (0..=n_fft / 2)
        .map(|k| re[k] * re[k] + im[k] * im[k])
        .collect()
}

/// The largest power of two not above `n` (at least 2).
pub fn fft_size(n: usize) -> usize {
    let n = n.max(2);
    1 << (usize::BITS - 1 - n.leading_zeros())
}

/// A clip's strongest frequency, and how tonal the clip is there.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Peak {
    pub hz: f32,
    /// Share of the clip's spectral energy within three bins of the peak: near 1 for a
    /// pure tone, near 0.6-0.8 for square and saw tones, low for noise and sweeps.
    pub tonality: f32,
    /// Root mean square amplitude of the clip.
    pub rms: f32,
}

/// The spectral peak of a whole clip (its first power-of-two samples).
pub fn peak(clip: &[f32], sample_rate: u32) -> Peak {
    let rms = (clip.iter().map(|v| v * v).sum::<f32>() / clip.len().max(1) as f32).sqrt();
    let n_fft = fft_size(clip.len());
    let p = power(&clip[..n_fft.min(clip.len())], n_fft);
    // Bin 0 and 1 hold the clip's offset, not a pitch.
    let (k, _) =
        p.iter().enumerate().skip(2).fold(
            (0, f32::MIN),
            |best, (k, &v)| if v > best.1 { (k, v) } else { best },
        );
    let total: f32 = p.iter().skip(2).sum();
    let near: f32 = p[k.saturating_sub(3).max(2)..(k + 4).min(p.len())]
        .iter()
        .sum();
    // Parabolic interpolation on log power places the peak between bins.
    let offset = if k > 2 && k + 1 < p.len() {
        let (a, b, c) = (
            p[k - 1].max(1e-20).ln(),
            p[k].max(1e-20).ln(),
            p[k + 1].max(1e-20).ln(),
        );
        let d = a - 2.0 * b + c;
        if d.abs() > 1e-12 {
            (0.5 * (a - c) / d).clamp(-0.5, 0.5)
        } else {
            0.0
        }
    } else {
        0.0
    };
    Peak {
        hz: (k as f32 + offset) * sample_rate as f32 / n_fft as f32,
        tonality: if total > 0.0 { near / total } else { 0.0 },
        rms,
    }
}

/// The MIDI note nearest to `hz` (69 = A4 = 440 Hz), if within the audible piano range.
pub fn midi_note(hz: f32) -> Option<u8> {
    if !(hz.is_finite() && hz > 20.0) {
        return None;
    }
    let note = 69.0 + 12.0 * (hz / 440.0).log2();
    (0.0..=127.0)
        .contains(&note.round())
        .then_some(note.round() as u8)
}

/// A note's name: `A4`, `C#5`.
pub fn note_name(note: u8) -> String {
    const NAMES: [&str; 12] = [
        "C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B",
    ];
    format!("{}{}", NAMES[note as usize % 12], note as i32 / 12 - 1)
}

/// Log-power spectrogram in dB: `frames` columns of `bins` values, frame-major.
pub struct Spectrogram {
    pub frames: usize,
    pub bins: usize,
    pub db: Vec<f32>,
}

/// About 64 frames over the clip, with windows eight hops long: for a 1024-sample clip,
/// 128-sample windows (65 bins of 31 Hz at 8 kHz) every 16 samples.
pub fn spectrogram(clip: &[f32]) -> Spectrogram {
    let hop = (clip.len() / 64).max(1);
    let window = fft_size(8 * hop).clamp(16, 2048);
    let frames = if clip.len() >= window {
        (clip.len() - window) / hop + 1
    } else {
        1
    };
    let bins = window / 2 + 1;
    let mut db = Vec::with_capacity(frames * bins);
    for f in 0..frames {
        let start = (f * hop).min(clip.len());
        let end = (start + window).min(clip.len());
        db.extend(
            power(&clip[start..end], window)
                .iter()
                .map(|p| 10.0 * p.max(1e-12).log10()),
        );
    }
    Spectrogram { frames, bins, db }
}

/// Mean power per band over many clips, in dB: `bands` equal-width bands up to Nyquist.
pub fn mean_band_power(clips: &[f32], length: usize, bands: usize) -> Vec<f64> {
    let n_fft = fft_size(length.min(1024));
    let mut sums = vec![0.0f64; bands];
    let mut frames = 0usize;
    for clip in clips.chunks_exact(length) {
        // Frames of n_fft samples, half overlapping (Welch's method).
        let mut start = 0;
        while start + n_fft <= clip.len() {
            let p = power(&clip[start..start + n_fft], n_fft);
            for (k, v) in p.iter().enumerate() {
                sums[(k * bands / p.len()).min(bands - 1)] += *v as f64;
            }
            frames += 1;
            start += n_fft / 2;
        }
    }
    sums.iter()
        .map(|s| 10.0 * (s / frames.max(1) as f64).max(1e-12).log10())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(hz: f32, rate: u32, n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| (2.0 * PI * hz * i as f32 / rate as f32).sin())
            .collect()
    }

    #[test]
    fn fft_matches_the_direct_transform() {
        let x: Vec<f32> = (0..16).map(|i| ((i * 7 % 5) as f32 - 2.0) * 0.3).collect();
        let (mut re, mut im) = (x.clone(), vec![0.0; 16]);
        fft(&mut re, &mut im);
        for k in 0..16 {
            let (mut r, mut i) = (0.0f64, 0.0f64);
            for (n, v) in x.iter().enumerate() {
                let a = -2.0 * std::f64::consts::PI * (k * n) as f64 / 16.0;
                r += *v as f64 * a.cos();
                i += *v as f64 * a.sin();
            }
            assert!((re[k] as f64 - r).abs() < 1e-4 && (im[k] as f64 - i).abs() < 1e-4);
        }
    }

    #[test]
    fn the_peak_of_a_tone_is_its_pitch() {
        for hz in [220.0, 440.0, 1108.73] {
            let p = peak(&tone(hz, 8000, 1024), 8000);
            assert!((p.hz - hz).abs() < 2.0, "{hz} read as {}", p.hz);
            assert!(p.tonality > 0.9);
            assert_eq!(midi_note(p.hz), midi_note(hz));
        }
        assert_eq!(midi_note(440.0), Some(69));
        assert_eq!(note_name(69), "A4");
        assert_eq!(note_name(61), "C#4");
    }
}
