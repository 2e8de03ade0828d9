//! Audio: short mono clips. The built-in tones (generated in code), folders of the
//! user's WAV files, pitch and spectral quality, waveform and spectrogram views, WAV
//! output and playback.
//!
//! Clips are stored as samples in [-1, 1], the range the networks emit (tanh), so the
//! GAN trains on them as they are and a VAE reconstructs them with a squared error.

pub mod evaluator;
pub mod playback;
pub mod quality;
pub mod spectrogram_head;
pub mod spectrum;
pub mod tones;
pub mod views;
pub mod wav;

use super::{EvaluatorJob, Modality, TrainedEvaluator};
use crate::config::DataConfig;
use crate::data::Dataset;
use crate::eval::features::SCORES;
use crate::eval::metric::Metric;
use std::path::Path;

/// Audio as a modality: its quality metrics (the clip evaluator's scores where one exists
/// for the data, which the built-in tones have).
pub struct Audio;

/// Pitch, tonality and spectrum first, then the evaluator's scores.
const ALL: [Metric; 8] = [
    quality::METRICS[0],
    quality::METRICS[1],
    quality::METRICS[2],
    SCORES[0],
    SCORES[1],
    SCORES[2],
    SCORES[3],
    SCORES[4],
];

impl Modality for Audio {
    fn name(&self) -> &'static str {
        "audio clips"
    }

    fn ships_evaluator(&self, data: &DataConfig) -> bool {
        matches!(data, DataConfig::Tones { .. })
    }

    fn snapshots(
        &self,
        data: &Dataset,
        experiment: &crate::config::Experiment,
        device: &burn::prelude::Device,
    ) -> Result<Box<dyn super::snapshot::Snapshots>, String> {
        let Dataset::Audio(set) = data else {
            return Err(super::not_data_of(self.name()));
        };
        Ok(Box::new(views::AudioSnapshots::new(
            set,
            &experiment.data,
            device,
        )))
    }

    fn preview(&self, data: &Dataset) -> Result<crate::train::Samples, String> {
        let Dataset::Audio(set) = data else {
            return Err(super::not_data_of(self.name()));
        };
        Ok(crate::train::Samples::Audio(views::AudioView::of(
            set.sample_rate,
            set.some_clips(views::SHOWN),
        )))
    }

    fn modes(&self, data: &DataConfig) -> Option<usize> {
        matches!(data, DataConfig::Tones { .. }).then_some(tones::PITCHES.len())
    }

    fn preview_hint(&self) -> &'static str {
        "The data, before training: press Train to hear and see generated clips."
    }

    /// One WAV file per clip, `000000.wav` on, at the data's sample rate.
    fn write_samples(&self, data: &Dataset, generated: &[f32], out: &Path) -> Result<(), String> {
        let Dataset::Audio(set) = data else {
            return Err(super::other_kind(self.name()));
        };
        super::sample_folder(out)?;
        for (i, clip) in generated.chunks_exact(set.length.max(1)).enumerate() {
            let path = out.join(format!("{i:06}.wav"));
            wav::write(&path, &[clip.to_vec()], set.sample_rate)
                .map_err(|e| format!("{}: {e}", path.display()))?;
        }
        Ok(())
    }

    /// Clips to listen to, each with its spectrogram to look at.
    fn blind_test_items(
        &self,
        data: &crate::data::Dataset,
        generated: &crate::train::Samples,
        rng: &mut crate::data::SeededRng,
    ) -> Result<super::BlindTestItems, String> {
        use crate::eval::human::{pick, Exhibit, POOL};
        let (crate::data::Dataset::Audio(set), crate::train::Samples::Audio(view)) =
            (data, generated)
        else {
            return Err(super::other_kind(self.name()));
        };
        let exhibit = |clip: &[f32], rate: u32| Exhibit {
            picture: views::spectrograms(&[clip.to_vec()], 1),
            clip: Some((clip.to_vec(), rate)),
            text: None,
        };
        let real = pick(rng, set.len(), POOL)
            .into_iter()
            .map(|i| exhibit(set.clip(i), set.sample_rate))
            .collect();
        let generated = view
            .generated
            .iter()
            .map(|c| exhibit(c, view.sample_rate))
            .collect();
        Ok((real, generated))
    }

    fn metrics(&self) -> &'static [Metric] {
        &ALL
    }

    fn quality(&self, _data: &DataConfig, _gan: bool) -> Vec<Metric> {
        ALL.to_vec()
    }

    fn train_evaluator(
        &self,
        data: &DataConfig,
        job: EvaluatorJob,
        out: &Path,
    ) -> Result<TrainedEvaluator, String> {
        let saved = evaluator::train(data, job.seed, job.steps, |s, _| (job.progress)(s))?;
        saved.save(out)?;
        Ok(TrainedEvaluator {
            classes: saved.classes,
            held_out_accuracy: saved.held_out_accuracy,
        })
    }
}

/// Clips of one length at one sample rate, stored one after another.
#[derive(Debug, Clone, PartialEq)]
pub struct AudioSet {
    pub sample_rate: u32,
    /// Samples per clip.
    pub length: usize,
    pub samples: Vec<f32>,
    /// Class of each clip (the built-in set's `tones::CLASSES`, a folder's subfolders),
    /// when known.
    pub labels: Option<Vec<u8>>,
    /// Class names in label order (empty where unnamed).
    pub classes: Vec<String>,
}

impl AudioSet {
    pub fn len(&self) -> usize {
        self.samples.len() / self.length.max(1)
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn clip(&self, i: usize) -> &[f32] {
        &self.samples[i * self.length..(i + 1) * self.length]
    }
    /// Seconds per clip.
    pub fn duration(&self) -> f32 {
        self.length as f32 / self.sample_rate.max(1) as f32
    }
    /// Splits off the last `n` clips (a held-out set).
    pub fn split_off(&mut self, n: usize) -> AudioSet {
        let keep = self.len().saturating_sub(n);
        let tail = self.samples.split_off(keep * self.length);
        let labels = self.labels.as_mut().map(|l| l.split_off(keep.min(l.len())));
        AudioSet {
            sample_rate: self.sample_rate,
            length: self.length,
            samples: tail,
            labels,
            classes: self.classes.clone(),
        }
    }
    /// Every k-th clip, about `n` of them, as separate vectors (for views and playback).
    pub fn some_clips(&self, n: usize) -> Vec<Vec<f32>> {
        (0..self.len())
            .step_by((self.len() / n.max(1)).max(1))
            .take(n)
            .map(|i| self.clip(i).to_vec())
            .collect()
    }
}
