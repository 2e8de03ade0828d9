//! Checkpoints: everything a run needs to continue exactly (model and optimizer records,
//! random streams, step, learning rates and the experiment), in one file.
//!
//! File layout: `GENLABCK`, format version (u32 LE), payload length (u64 LE), CRC-32 of
//! the payload (u32 LE), then the payload (postcard). The header is checked before the
//! payload is decoded, so a truncated or damaged file is named as such, never half-loaded.

pub mod store;

use crate::data::{Batcher, SeededRng};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;

const MAGIC: &[u8; 8] = b"GENLABCK";
const VERSION: u32 = 1;
const HEADER_LEN: usize = 8 + 4 + 8 + 4;
/// Refuse to read checkpoint files larger than this (no GenLab model comes near it).
pub const MAX_FILE_BYTES: u64 = 4 << 30;

/// A run's state at one step.
#[derive(Clone, Serialize, Deserialize)]
pub struct Checkpoint {
    pub step: u64,
    /// Seconds of training before this step (the x axis of "elapsed" curves).
    pub elapsed: f64,
    /// The experiment as TOML, so a checkpoint can be resumed on its own.
    pub experiment: String,
    pub trainer: TrainerState,
}

/// What a trainer saves; the same shape for every model family.
#[derive(Clone, Serialize, Deserialize)]
pub struct TrainerState {
    /// "gan" or "vae": a checkpoint of one family never loads into the other.
    pub family: String,
    /// burn module records (burnpack bytes), by role: "generator", "discriminator", "vae".
    pub modules: Vec<Blob>,
    /// burn optimizer records (burnpack bytes), by the role of the module they update.
    pub optimizers: Vec<Blob>,
    /// Spectral-norm power-iteration vectors (not burn parameters), in layer order.
    pub power_vectors: Vec<Vec<f32>>,
    pub rng: SeededRng,
    pub batcher: Batcher,
    pub learning_rates: (f64, Option<f64>),
}

#[derive(Clone, Serialize, Deserialize)]
pub struct Blob {
    pub name: String,
    pub bytes: Vec<u8>,
}

impl TrainerState {
    /// An error unless this state is of `family` ("gan", "lm"...), naming what it
    /// cannot resume ("a GAN").
    pub fn check_family(&self, family: &str, what: &str) -> Result<(), String> {
        if self.family == family {
            Ok(())
        } else {
            Err(format!("a {} checkpoint cannot resume {what}", self.family))
        }
    }

    pub fn module(&self, name: &str) -> Result<&[u8], String> {
        find(&self.modules, name).ok_or_else(|| format!("the checkpoint has no {name} model"))
    }
    pub fn optimizer(&self, name: &str) -> Result<&[u8], String> {
        find(&self.optimizers, name)
            .ok_or_else(|| format!("the checkpoint has no {name} optimizer state"))
    }
}

fn find<'a>(blobs: &'a [Blob], name: &str) -> Option<&'a [u8]> {
    blobs
        .iter()
        .find(|b| b.name == name)
        .map(|b| b.bytes.as_slice())
}

/// Why a checkpoint could not be read; always names the file.
#[derive(Debug, thiserror::Error)]
#[error("checkpoint {path}: {problem}")]
pub struct CheckpointError {
    pub path: PathBuf,
    pub problem: String,
}

impl CheckpointError {
    pub fn new(path: &Path, problem: impl Into<String>) -> Self {
        CheckpointError {
            path: path.to_owned(),
            problem: problem.into(),
        }
    }
}

/// An encoded checkpoint on its way from the training thread to a writer.
#[derive(Clone, PartialEq)]
pub struct EncodedCheckpoint {
    pub step: u64,
    pub bytes: Arc<Vec<u8>>,
}

impl std::fmt::Debug for EncodedCheckpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "EncodedCheckpoint(step {}, {} bytes)",
            self.step,
            self.bytes.len()
        )
    }
}

impl Checkpoint {
    /// The file's bytes: header, then the postcard payload.
    pub fn encode(&self) -> Result<EncodedCheckpoint, String> {
        let payload =
            postcard::to_stdvec(self).map_err(|e| format!("cannot encode checkpoint: {e}"))?;
        let mut bytes = Vec::with_capacity(HEADER_LEN + payload.len());
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&VERSION.to_le_bytes());
        bytes.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        bytes.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
        bytes.extend_from_slice(&payload);
        Ok(EncodedCheckpoint {
            step: self.step,
            bytes: Arc::new(bytes),
        })
    }

    /// Reads a checkpoint file's bytes; `path` names the file in errors.
    pub fn decode(bytes: &[u8], path: &Path) -> Result<Checkpoint, CheckpointError> {
        let err = |p: String| CheckpointError::new(path, p);
        if bytes.len() < HEADER_LEN {
            if !bytes.is_empty() && !MAGIC.starts_with(&bytes[..bytes.len().min(8)]) {
                return Err(err("not a GenLab checkpoint".into()));
            }
            return Err(err(format!(
                "truncated: {} bytes, the header alone is {HEADER_LEN}",
                bytes.len()
            )));
        }
        if &bytes[..8] != MAGIC {
            return Err(err("not a GenLab checkpoint".into()));
        }
        let word =
            |at: usize| -> [u8; 4] { [bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]] };
        let version = u32::from_le_bytes(word(8));
        if version != VERSION {
            return Err(err(format!(
                "format version {version}; this GenLab reads version {VERSION}"
            )));
        }
        let mut len = [0u8; 8];
        len.copy_from_slice(&bytes[12..20]);
        let declared = u64::from_le_bytes(len);
        let payload = &bytes[HEADER_LEN..];
        if declared != payload.len() as u64 {
            return Err(err(format!(
                "truncated or padded: the header declares {declared} bytes of data, the file has {}",
                payload.len()
            )));
        }
        if crc32fast::hash(payload) != u32::from_le_bytes(word(20)) {
            return Err(err("corrupt: the data does not match its checksum".into()));
        }
        let checkpoint: Checkpoint =
            postcard::from_bytes(payload).map_err(|e| err(format!("corrupt data: {e}")))?;
        if !checkpoint.elapsed.is_finite() || checkpoint.elapsed < 0.0 {
            return Err(err("corrupt data: elapsed time is not a duration".into()));
        }
        Ok(checkpoint)
    }

    /// Reads and decodes a checkpoint file, refusing oversized files before reading them.
    pub fn load(path: &Path) -> Result<Checkpoint, CheckpointError> {
        let size = std::fs::metadata(path)
            .map_err(|e| CheckpointError::new(path, e.to_string()))?
            .len();
        if size > MAX_FILE_BYTES {
            return Err(CheckpointError::new(
                path,
                format!("{size} bytes, more than the {MAX_FILE_BYTES}-byte limit"),
            ));
        }
        let bytes = std::fs::read(path).map_err(|e| CheckpointError::new(path, e.to_string()))?;
        Checkpoint::decode(&bytes, path)
    }

    /// The experiment this checkpoint was taken from.
    pub fn experiment(&self) -> Result<crate::config::Experiment, String> {
        let exp = crate::config::Experiment::from_toml(&self.experiment)
            .map_err(|e| format!("the checkpoint's experiment: {e}"))?;
        let problems = exp.validate();
        if let Some(p) = problems.first() {
            return Err(format!("the checkpoint's experiment is invalid: {p}"));
        }
        Ok(exp)
    }
}
