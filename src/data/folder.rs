//! The files of a data folder: its own, or those of its subfolders, one class each
//! (torchvision's ImageFolder layout), so that images and clips alike are labelled by
//! subfolder, an evaluator can be trained on them and classes counted.

use super::DataError;
use std::path::{Path, PathBuf};

/// Labels are bytes, as in IDX files.
const MAX_CLASSES: usize = 256;

/// The files a folder holds, sorted, with their classes where it has them.
pub struct ClassFolders {
    pub files: Vec<PathBuf>,
    /// The class of each file, an index into `classes`; `None` for a flat folder.
    pub labels: Option<Vec<u8>>,
    /// Subfolder names in label order; empty for a flat folder.
    pub classes: Vec<String>,
}

impl ClassFolders {
    /// The files (and their labels) in an order shuffled by `seed`, so that a held-out
    /// tail is a fair draw and not the last class or the end of the alphabet.
    pub fn shuffled(self, seed: u64) -> ClassFolders {
        use rand::seq::SliceRandom;
        use rand::SeedableRng;
        let mut order: Vec<usize> = (0..self.files.len()).collect();
        order.shuffle(&mut super::SeededRng::seed_from_u64(seed ^ 0xf01d_e125));
        ClassFolders {
            files: order.iter().map(|&i| self.files[i].clone()).collect(),
            labels: self.labels.map(|l| order.iter().map(|&i| l[i]).collect()),
            classes: self.classes,
        }
    }
}

/// The files with one of `extensions` in `dir`; where it has none of its own, those of
/// its subfolders, one class per subfolder in name order (torchvision's ImageFolder
/// layout; hidden subfolders and ones without such files skipped). `what` names the
/// files in messages. An error when neither level has any.
pub fn class_folders(
    dir: &Path,
    extensions: &[&str],
    what: &str,
) -> Result<ClassFolders, DataError> {
    let own = super::files_with_extensions(dir, extensions);
    if let Ok(files) = own {
        return Ok(ClassFolders {
            files,
            labels: None,
            classes: Vec::new(),
        });
    }
    let entries = std::fs::read_dir(dir).map_err(|e| DataError::io(dir, e))?;
    let mut subfolders: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir() && !is_hidden(p))
        .collect();
    subfolders.sort();
    let (mut files, mut labels, mut classes) = (Vec::new(), Vec::new(), Vec::new());
    for sub in subfolders {
        let Ok(class_files) = super::files_with_extensions(&sub, extensions) else {
            continue;
        };
        if classes.len() == MAX_CLASSES {
            return Err(DataError::malformed(
                dir,
                format!("more than {MAX_CLASSES} subfolders of {what} (one per class)"),
            ));
        }
        labels.extend(class_files.iter().map(|_| classes.len() as u8));
        files.extend(class_files);
        classes.push(
            sub.file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned(),
        );
    }
    if files.is_empty() {
        let names: Vec<String> = extensions.iter().map(|e| format!(".{e}")).collect();
        return Err(DataError::malformed(
            dir,
            format!(
                "no {} files in this folder or in its subfolders",
                super::either_of(&names)
            ),
        ));
    }
    Ok(ClassFolders {
        files,
        labels: Some(labels),
        classes,
    })
}

fn is_hidden(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.'))
}
