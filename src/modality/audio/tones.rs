//! The built-in audio set, generated in code: sine, square and saw tones at eight
//! pitches with attack-decay envelopes, frequency sweeps (chirps) and noise-burst drums,
//! each labelled. 8 kHz mono clips of 1024 samples (0.128 s).

use super::AudioSet;
use crate::data::SeededRng;
use rand::{Rng, SeedableRng};
use std::f32::consts::PI;

pub const SAMPLE_RATE: u32 = 8000;
pub const LENGTH: usize = 1024;

/// The pitches, four semitones apart (MIDI notes 57 to 85), so that each is many FFT
/// bins from the next and square and saw harmonics never land on another pitch.
pub const PITCHES: [f32; 8] = [220.0, 277.18, 349.23, 440.0, 554.37, 698.46, 880.0, 1108.73];

/// The classes, in label order: one per pitch, then the unpitched kinds.
pub const CLASSES: [&str; 10] = [
    "A3", "C#4", "F4", "A4", "C#5", "F5", "A5", "C#6", "chirp", "drum",
];

/// Generates `count` labelled clips, classes in rotation.
pub fn generate(count: usize, seed: u64) -> AudioSet {
    let mut rng = SeededRng::seed_from_u64(seed ^ 0xa0d1_0c11);
    let mut samples = Vec::with_capacity(count * LENGTH);
    let mut labels = Vec::with_capacity(count);
    for i in 0..count {
        let class = i % CLASSES.len();
        let start = samples.len();
        samples.resize(start + LENGTH, 0.0);
        let clip = &mut samples[start..];
        match class {
            c if c < PITCHES.len() => tone(PITCHES[c], &mut rng, clip),
            8 => chirp(&mut rng, clip),
            _ => drum(&mut rng, clip),
        }
        let peak = clip.iter().fold(0.0f32, |m, v| m.max(v.abs())).max(1e-6);
        let gain = rng.random_range(0.4..0.9) / peak;
        clip.iter_mut().for_each(|v| *v *= gain);
        labels.push(class as u8);
    }
    AudioSet {
        sample_rate: SAMPLE_RATE,
        length: LENGTH,
        samples,
        labels: Some(labels),
        classes: CLASSES.iter().map(|c| c.to_string()).collect(),
    }
}

/// Linear attack, then exponential decay.
fn envelope(t: f32, attack: f32, decay: f32) -> f32 {
    if t < attack {
        t / attack
    } else {
        (-(t - attack) / decay).exp()
    }
}

/// A band-limited sine, square or saw tone (harmonics up to Nyquist only, so nothing
/// aliases), slightly detuned, with an attack-decay envelope.
fn tone(hz: f32, rng: &mut SeededRng, out: &mut [f32]) {
    let hz = hz * rng.random_range(0.995..1.005);
    let wave = rng.random_range(0..3);
    let attack = rng.random_range(0.002..0.02);
    let decay = rng.random_range(0.04..0.2);
    let phase0 = rng.random_range(0.0..2.0 * PI);
    let harmonics = ((SAMPLE_RATE as f32 / 2.0) / hz) as usize;
    for (i, v) in out.iter_mut().enumerate() {
        let t = i as f32 / SAMPLE_RATE as f32;
        let theta = 2.0 * PI * hz * t + phase0;
        let (s1, c1) = theta.sin_cos();
        // sin(k theta) by the Chebyshev recurrence: two multiply-adds per harmonic.
        let (mut prev, mut cur, mut sum) = (0.0f32, s1, 0.0f32);
        for k in 1..=harmonics.max(1) {
            let amp = match wave {
                0 => (k == 1) as u8 as f32,
                1 => (k % 2 == 1) as u8 as f32 / k as f32,
                _ => 1.0 / k as f32,
            };
            sum += amp * cur;
            let next = 2.0 * c1 * cur - prev;
            prev = cur;
            cur = next;
            if wave == 0 {
                break;
            }
        }
        *v = sum * envelope(t, attack, decay);
    }
}

/// A sine sweeping exponentially between two random frequencies.
fn chirp(rng: &mut SeededRng, out: &mut [f32]) {
    let (f0, f1): (f32, f32) = (
        rng.random_range(150.0..2000.0),
        rng.random_range(150.0..2000.0),
    );
    let duration = out.len() as f32 / SAMPLE_RATE as f32;
    let k = (f1 / f0).ln() / duration;
    let mut phase = rng.random_range(0.0..2.0 * PI);
    for (i, v) in out.iter_mut().enumerate() {
        let t = i as f32 / SAMPLE_RATE as f32;
        phase += 2.0 * PI * f0 * (k * t).exp() / SAMPLE_RATE as f32;
        *v = phase.sin() * envelope(t, 0.005, 0.3);
    }
}

/// Low-passed noise with a fast decay, over a falling low thump.
fn drum(rng: &mut SeededRng, out: &mut [f32]) {
    let decay = rng.random_range(0.01..0.04);
    let smooth = rng.random_range(0.1..0.9);
    let thump = rng.random_range(0.0..0.8);
    let mut low = 0.0f32;
    let mut phase = 0.0f32;
    for (i, v) in out.iter_mut().enumerate() {
        let t = i as f32 / SAMPLE_RATE as f32;
        let noise: f32 = rng.random_range(-1.0..1.0);
        low += smooth * (noise - low);
        phase += 2.0 * PI * (50.0 + 100.0 * (-t / 0.03).exp()) / SAMPLE_RATE as f32;
        *v = low * (-t / decay).exp() + thump * phase.sin() * (-t / 0.08).exp();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modality::audio::spectrum::{midi_note, peak};

    #[test]
    fn tones_peak_at_their_pitch_and_the_rest_are_not_tonal() {
        let set = generate(200, 3);
        let labels = set.labels.clone().unwrap();
        for (i, &label) in labels.iter().enumerate() {
            let p = peak(set.clip(i), SAMPLE_RATE);
            let clip = set.clip(i);
            assert!(clip.iter().all(|v| v.abs() <= 0.9 + 1e-6));
            if (label as usize) < PITCHES.len() {
                assert_eq!(
                    midi_note(p.hz),
                    midi_note(PITCHES[label as usize]),
                    "clip {i} ({}) peaks at {} Hz",
                    CLASSES[label as usize],
                    p.hz
                );
                assert!(p.tonality > 0.4, "tone {i}: tonality {}", p.tonality);
            }
        }
    }
}
