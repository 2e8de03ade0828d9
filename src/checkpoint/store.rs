//! Checkpoint files in a run folder: atomic writes, keep-last-N, newest readable first.

use super::{Checkpoint, CheckpointError};
use std::path::{Path, PathBuf};

/// The checkpoints folder of a run folder.
pub fn dir_of(run_dir: &Path) -> PathBuf {
    run_dir.join("checkpoints")
}

pub fn file_name(step: u64) -> String {
    format!("step_{step:09}.ckpt")
}

/// The step a checkpoint file name stands for (`step_000001000.ckpt` -> 1000).
fn step_of(path: &Path) -> Option<u64> {
    let name = path.file_name()?.to_str()?;
    name.strip_prefix("step_")?
        .strip_suffix(".ckpt")?
        .parse()
        .ok()
}

/// Writes `bytes` as the checkpoint of `step` in `dir`, then deletes all but the newest
/// `keep`. The file appears whole or not at all: it is written under a temporary name,
/// synced, and renamed; a crash at any point leaves the previous checkpoints readable.
pub fn write(dir: &Path, step: u64, bytes: &[u8], keep: usize) -> std::io::Result<PathBuf> {
    let path = dir.join(file_name(step));
    crate::durable::write(&path, bytes)?;
    prune(dir, keep.max(1))?;
    Ok(path)
}

/// Checkpoint files in `dir`, oldest first. Temporary files never appear here.
pub fn list(dir: &Path) -> Vec<(u64, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<(u64, PathBuf)> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter_map(|p| step_of(&p).map(|s| (s, p)))
        .collect();
    found.sort();
    found
}

fn prune(dir: &Path, keep: usize) -> std::io::Result<()> {
    let all = list(dir);
    let excess = all.len().saturating_sub(keep);
    for (_, path) in &all[..excess] {
        std::fs::remove_file(path)?;
    }
    Ok(())
}

/// The newest checkpoint in `dir` that reads back whole, with the problems of any newer
/// ones that did not (each names its file).
pub fn latest(dir: &Path) -> Result<(Checkpoint, PathBuf, Vec<String>), CheckpointError> {
    let mut skipped = Vec::new();
    for (_, path) in list(dir).into_iter().rev() {
        match Checkpoint::load(&path) {
            Ok(c) => return Ok((c, path, skipped)),
            Err(e) => skipped.push(e.to_string()),
        }
    }
    let mut problem = "no readable checkpoint in this folder".to_string();
    if !skipped.is_empty() {
        problem.push_str(&format!(" ({})", skipped.join("; ")));
    }
    Err(CheckpointError::new(dir, problem))
}
