//! 2-D points from a user CSV file: two numeric columns, optional header row.

use super::PointSet;
use crate::data::DataError;
use std::path::Path;

/// Refuse files that would take over the machine's memory.
const MAX_POINTS: usize = 5_000_000;

pub fn read(path: &Path) -> Result<PointSet, DataError> {
    let file = std::fs::File::open(path).map_err(|e| DataError::io(path, e))?;
    parse(file, path)
}

/// Parses CSV text; `path` is only used in error messages.
pub fn parse<R: std::io::Read>(reader: R, path: &Path) -> Result<PointSet, DataError> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(reader);
    let mut points = Vec::new();
    for (row, record) in rdr.records().enumerate() {
        let line = row + 1;
        let record = record.map_err(|e| DataError::malformed(path, format!("line {line}: {e}")))?;
        if record.iter().all(|f| f.is_empty()) {
            continue;
        }
        if record.len() < 2 {
            return Err(DataError::malformed(
                path,
                format!(
                    "line {line}: {} column(s), need two numbers (x, y)",
                    record.len()
                ),
            ));
        }
        let parsed: Result<Vec<f32>, _> = record.iter().take(2).map(str::parse::<f32>).collect();
        match parsed {
            Ok(v) => {
                if !v.iter().all(|x| x.is_finite()) {
                    return Err(DataError::malformed(
                        path,
                        format!("line {line}: non-finite value"),
                    ));
                }
                if points.len() >= MAX_POINTS {
                    return Err(DataError::malformed(
                        path,
                        format!("more than {MAX_POINTS} points"),
                    ));
                }
                points.push([v[0], v[1]]);
            }
            // A first row that is not numeric is a header.
            Err(_) if line == 1 => continue,
            Err(e) => {
                return Err(DataError::malformed(
                    path,
                    format!("line {line}: {e}: {:?}", record.as_slice()),
                ))
            }
        }
    }
    if points.len() < 2 {
        return Err(DataError::malformed(path, "fewer than 2 points"));
    }
    Ok(PointSet {
        points,
        modes: Vec::new(),
        mode_std: 0.0,
    })
}
