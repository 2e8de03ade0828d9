//! The real data as the sample views show it, for the window before any training: the
//! points of a 2-D set, a grid of the first images, some clips or text items.

use super::events::{AudioView, PointsView, Samples};
use super::tensors::image_grid;
use crate::config::DataConfig;
use crate::data::Dataset;

/// Images in the preview grid (8 a row).
const GRID: usize = 64;
/// Items in the preview list.
const TEXT_ITEMS: usize = 64;

/// Loads the data `config` names (checked against memory like a run's) and draws it.
pub fn real_samples(config: &DataConfig, seed: u64) -> Result<Samples, String> {
    let data = Dataset::load(config, seed).map_err(|e| e.to_string())?;
    Ok(match &data {
        Dataset::Points(set) => {
            let real = set.thinned(super::gan::VIEW_POINTS);
            Samples::Points(PointsView {
                bounds: super::gan::bounds_of(&real),
                real,
                ..Default::default()
            })
        }
        Dataset::Images(set) => {
            let n = set.len().min(GRID);
            Samples::grid(image_grid(
                &set.pixels[..n * set.image_len()],
                n,
                set.channels,
                [set.height, set.width],
                8,
            ))
        }
        Dataset::Audio(set) => Samples::Audio(AudioView::of(
            set.sample_rate,
            set.some_clips(crate::modality::audio::views::SHOWN),
        )),
        Dataset::Text(set) => Samples::Text(super::TextView::of_data(
            set.items.iter().take(TEXT_ITEMS).cloned().collect(),
        )),
    })
}
