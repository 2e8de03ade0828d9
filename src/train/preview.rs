//! The real data as the sample views show it, for the window before any training: each
//! kind of data draws its own (`Modality::preview`).

use super::events::Samples;
use crate::config::DataConfig;
use crate::data::Dataset;

/// Loads the data `config` names (checked against memory like a run's) and draws it.
pub fn real_samples(config: &DataConfig, seed: u64) -> Result<Samples, String> {
    let data = Dataset::load(config, seed).map_err(|e| e.to_string())?;
    crate::modality::of_dataset(&data).preview(&data)
}
