//! WAV files: a folder of the user's clips read as a training set (mixed to mono,
//! resampled, trimmed to the clip length), and clips written out as 16-bit WAV.

use super::AudioSet;
use crate::data::folder::ClassFolders;
use crate::data::DataError;
use std::io::Read;
use std::path::Path;

/// More files than this is surely a mistake for an in-memory workbench set.
const MAX_FILES: usize = 100_000;
/// Only this much of a long recording is read (its onset and the clip after it).
const MAX_SECONDS: u64 = 10;
/// The clip starts where the sound first reaches this share of its peak.
const ONSET: f32 = 0.05;
/// Every clip is scaled to this peak, so quiet and loud recordings train alike.
pub const PEAK: f32 = 0.9;
/// Sample rates a clip may be resampled to.
pub const RATES: std::ops::RangeInclusive<u32> = 1000..=48_000;

/// Reads every `.wav` file in `dir` as one clip of `length` samples at `sample_rate`;
/// where `dir` has none of its own, those of its subfolders, one class per subfolder.
/// Refuses, before decoding any, a set that would not fit in memory. Files are read in
/// an order shuffled by `seed`, as image folders are, so a held-out tail mixes classes.
pub fn read_folder(
    dir: &Path,
    sample_rate: u32,
    length: usize,
    seed: u64,
) -> Result<AudioSet, DataError> {
    let ClassFolders {
        files,
        labels,
        classes,
    } = wav_files(dir)?.shuffled(seed);
    if files.len() > MAX_FILES {
        return Err(DataError::malformed(
            dir,
            format!("{} WAV files, at most {MAX_FILES}", files.len()),
        ));
    }
    let values = (files.len() as u64).saturating_mul(length as u64);
    crate::cost::ensure_fits(
        values.saturating_mul(4),
        dir,
        &format!("{} clips of {length} samples as 32-bit floats", files.len()),
    )?;
    let mut samples = Vec::with_capacity(values as usize);
    for file in &files {
        let f = std::fs::File::open(file).map_err(|e| DataError::io(file, e))?;
        samples.extend(decode(
            std::io::BufReader::new(f),
            file,
            sample_rate,
            length,
        )?);
    }
    Ok(AudioSet {
        sample_rate,
        length,
        samples,
        labels,
        classes,
    })
}

/// The `.wav` files in `dir`, sorted, or in its subfolders (one class each); an error
/// when there are none.
pub fn wav_files(dir: &Path) -> Result<ClassFolders, DataError> {
    crate::data::folder::class_folders(dir, &["wav"], "WAV files")
}

/// Decodes one WAV stream into a clip of `length` samples at `sample_rate`, starting at
/// the sound's onset, zero-padded when shorter; `file` is for messages.
pub fn decode<R: Read>(
    reader: R,
    file: &Path,
    sample_rate: u32,
    length: usize,
) -> Result<Vec<f32>, DataError> {
    let bad = |m: String| DataError::malformed(file, m);
    let wav =
        hound::WavReader::new(reader).map_err(|e| bad(format!("not a readable WAV file: {e}")))?;
    let spec = wav.spec();
    if spec.channels == 0 || spec.sample_rate == 0 {
        return Err(bad(format!(
            "WAV header says {} channels at {} Hz",
            spec.channels, spec.sample_rate
        )));
    }
    let channels = spec.channels as usize;
    let limit = (MAX_SECONDS * spec.sample_rate as u64 * channels as u64) as usize;
    let interleaved: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float if spec.bits_per_sample == 32 => {
            collect(wav.into_samples::<f32>().take(limit), |v| v)
        }
        hound::SampleFormat::Int if (8..=32).contains(&spec.bits_per_sample) => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample - 1)) as f32;
            collect(wav.into_samples::<i32>().take(limit), |v| v as f32 * scale)
        }
        _ => {
            return Err(bad(format!(
                "{}-bit {:?} samples are not supported (16, 24 or 32-bit integer, or 32-bit float)",
                spec.bits_per_sample, spec.sample_format
            )))
        }
    }
    .map_err(|e| bad(format!("cannot read its samples: {e}")))?;
    let mono: Vec<f32> = interleaved
        .chunks_exact(channels)
        .map(|frame| frame.iter().sum::<f32>() / channels as f32)
        .collect();
    if mono.is_empty() {
        return Err(bad("the file holds no samples".into()));
    }
    if mono.iter().any(|v| !v.is_finite()) {
        return Err(bad("the file holds NaN or infinite samples".into()));
    }
    let peak = mono.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    if peak == 0.0 {
        return Err(bad("the file is silent (every sample is 0)".into()));
    }
    let onset = mono
        .iter()
        .position(|v| v.abs() >= ONSET * peak)
        .unwrap_or(0);
    let mut clip = resample(&mono[onset..], spec.sample_rate, sample_rate, length);
    clip.resize(length, 0.0);
    let peak = clip.iter().fold(0.0f32, |m, v| m.max(v.abs())).max(1e-9);
    clip.iter_mut().for_each(|v| *v *= PEAK / peak);
    Ok(clip)
}

fn collect<T>(
    samples: impl Iterator<Item = hound::Result<T>>,
    f: impl Fn(T) -> f32,
) -> hound::Result<Vec<f32>> {
    samples.map(|s| s.map(&f)).collect()
}

/// Up to `length` samples of `x` at rate `to`: a box filter as wide as the rate ratio
/// against aliasing when going down, then linear interpolation.
pub fn resample(x: &[f32], from: u32, to: u32, length: usize) -> Vec<f32> {
    if from == to {
        return x[..x.len().min(length)].to_vec();
    }
    let ratio = from as f64 / to as f64;
    let width = ratio.round().max(1.0) as usize;
    let smoothed: Vec<f32> = if width > 1 {
        let mut acc = 0.0f32;
        let mut out = Vec::with_capacity(x.len());
        for (i, v) in x.iter().enumerate() {
            acc += v;
            if i >= width {
                acc -= x[i - width];
            }
            out.push(acc / width.min(i + 1) as f32);
        }
        out
    } else {
        x.to_vec()
    };
    let n = (((x.len() - 1) as f64 / ratio).floor() as usize + 1).min(length);
    (0..n)
        .map(|i| {
            let t = i as f64 * ratio;
            let (k, f) = (t as usize, (t - t.floor()) as f32);
            let a = smoothed[k.min(smoothed.len() - 1)];
            let b = smoothed[(k + 1).min(smoothed.len() - 1)];
            a + f * (b - a)
        })
        .collect()
}

/// 16-bit mono WAV bytes of the clips one after another, `gap` seconds of silence apart.
pub fn encode(clips: &[Vec<f32>], sample_rate: u32, gap: f32) -> Vec<u8> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut bytes = std::io::Cursor::new(Vec::new());
    // Writing to memory fails only on a size beyond WAV's 4 GiB, which no clip set reaches.
    if let Ok(mut w) = hound::WavWriter::new(&mut bytes, spec) {
        let silence = (gap * sample_rate as f32) as usize;
        for (i, clip) in clips.iter().enumerate() {
            if i > 0 {
                (0..silence).for_each(|_| {
                    let _ = w.write_sample(0i16);
                });
            }
            for v in clip {
                let _ = w.write_sample((v.clamp(-1.0, 1.0) * 32767.0).round() as i16);
            }
        }
        let _ = w.finalize();
    }
    bytes.into_inner()
}

/// Writes clips as one WAV file (atomically), silence between them.
pub fn write(path: &Path, clips: &[Vec<f32>], sample_rate: u32) -> std::io::Result<()> {
    crate::durable::write(path, &encode(clips, sample_rate, 0.15))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_clip_reads_back_resampled_and_trimmed() {
        let tone: Vec<f32> = (0..4000)
            .map(|i| 0.5 * (2.0 * std::f32::consts::PI * 440.0 * i as f32 / 16000.0).sin())
            .collect();
        let bytes = encode(&[tone], 16000, 0.0);
        let clip = decode(std::io::Cursor::new(&bytes), Path::new("t.wav"), 8000, 1024).unwrap();
        assert_eq!(clip.len(), 1024);
        let p = crate::modality::audio::spectrum::peak(&clip, 8000);
        assert!((p.hz - 440.0).abs() < 3.0, "{}", p.hz);
        let peak = clip.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        assert!((peak - PEAK).abs() < 1e-4);
        // 4000 samples at 16 kHz are 2000 at 8 kHz: the rest of 4096 is silence.
        let long = decode(std::io::Cursor::new(&bytes), Path::new("t.wav"), 8000, 4096).unwrap();
        assert!(long[2100..].iter().all(|v| *v == 0.0));
        assert!(long[..1900].iter().any(|v| v.abs() > 0.5));
    }
}
