//! MNIST-format IDX files, plain or gzip-compressed, read without trusting their headers.

use super::ImageSet;
use crate::data::DataError;
use flate2::read::GzDecoder;
use std::io::{BufReader, Read};
use std::path::Path;

pub const IMAGES_MAGIC: u32 = 0x0000_0803;
pub const LABELS_MAGIC: u32 = 0x0000_0801;
/// Refuse to read more than this many bytes of pixels (2 GiB).
const MAX_BYTES: u64 = 2 << 30;

/// Reads an images file and, when given, its labels file; checks they agree.
pub fn read_images(images: &Path, labels: Option<&Path>) -> Result<ImageSet, DataError> {
    let (dims, bytes) = read_idx(images, IMAGES_MAGIC, 3)?;
    let (n, h, w) = (dims[0], dims[1], dims[2]);
    if n == 0 || h == 0 || w == 0 {
        return Err(DataError::malformed(
            images,
            format!("empty dimensions {n}x{h}x{w}"),
        ));
    }
    let labels = match labels {
        Some(path) => {
            let (ldims, lbytes) = read_idx(path, LABELS_MAGIC, 1)?;
            if ldims[0] != n {
                return Err(DataError::malformed(
                    path,
                    format!("{} labels for {n} images in {}", ldims[0], images.display()),
                ));
            }
            Some(lbytes)
        }
        None => None,
    };
    Ok(ImageSet {
        channels: 1,
        height: h,
        width: w,
        pixels: bytes.iter().map(|&b| b as f32 / 255.0).collect(),
        labels,
        classes: Vec::new(),
    })
}

/// Reads only the header of an IDX file (plain or gzip): its dimensions.
pub fn read_header(path: &Path, magic: u32, rank: usize) -> Result<Vec<usize>, DataError> {
    let file = std::fs::File::open(path).map_err(|e| DataError::io(path, e))?;
    let mut reader = BufReader::new(file);
    let gzip = {
        use std::io::BufRead;
        let head = reader.fill_buf().map_err(|e| DataError::io(path, e))?;
        head.starts_with(&[0x1f, 0x8b])
    };
    let dims = if gzip {
        header(&mut GzDecoder::new(reader), path, magic, rank)?
    } else {
        header(&mut reader, path, magic, rank)?
    };
    Ok(dims.into_iter().map(|d| d as usize).collect())
}

/// Reads one IDX file of unsigned bytes with `rank` dimensions: (dims, data).
pub fn read_idx(path: &Path, magic: u32, rank: usize) -> Result<(Vec<usize>, Vec<u8>), DataError> {
    let file = std::fs::File::open(path).map_err(|e| DataError::io(path, e))?;
    parse_maybe_gzip(BufReader::new(file), path, magic, rank)
}

/// Parses plain or gzip-compressed IDX bytes from any reader; `path` is for messages.
pub fn parse_maybe_gzip<R: Read>(
    mut reader: R,
    path: &Path,
    magic: u32,
    rank: usize,
) -> Result<(Vec<usize>, Vec<u8>), DataError> {
    // The first two bytes tell gzip (1f 8b) from plain; they are put back in front.
    let mut head = Vec::with_capacity(2);
    reader
        .by_ref()
        .take(2)
        .read_to_end(&mut head)
        .map_err(|e| DataError::io(path, e))?;
    let gzip = head == [0x1f, 0x8b];
    let whole = std::io::Cursor::new(head).chain(reader);
    if gzip {
        parse(GzDecoder::new(whole), path, magic, rank)
    } else {
        parse(whole, path, magic, rank)
    }
}

/// Parses IDX bytes from any reader; `path` is for messages. Images are refused before
/// their data is read when they would not fit in memory as f32 (a small gzip can declare
/// gigabytes).
pub fn parse<R: Read>(
    mut r: R,
    path: &Path,
    magic: u32,
    rank: usize,
) -> Result<(Vec<usize>, Vec<u8>), DataError> {
    let dims = header(&mut r, path, magic, rank)?;
    let expected = dims.iter().try_fold(1u64, |acc, &d| acc.checked_mul(d));
    let expected = match expected {
        Some(e) if e <= MAX_BYTES => e,
        _ => {
            return Err(DataError::malformed(
                path,
                format!("header declares {dims:?} = more than {MAX_BYTES} bytes"),
            ))
        }
    };
    // Images: the bytes, and the 32-bit floats they become; labels: the bytes.
    let (needed, what) = if magic == IMAGES_MAGIC {
        (expected * 5, "images as 32-bit floats")
    } else {
        (expected, "labels")
    };
    crate::cost::ensure_fits(needed, path, &format!("{dims:?} {what}"))?;
    // Read at most one byte more than declared; the buffer grows with the real data,
    // so a lying header cannot make us allocate before the bytes exist.
    let mut data = Vec::new();
    r.take(expected + 1)
        .read_to_end(&mut data)
        .map_err(|e| DataError::malformed(path, format!("cannot read data: {e}")))?;
    if (data.len() as u64) < expected {
        return Err(DataError::malformed(
            path,
            format!(
                "truncated: header declares {dims:?} ({expected} bytes), file has {}",
                data.len()
            ),
        ));
    }
    if data.len() as u64 > expected {
        return Err(DataError::malformed(
            path,
            format!("size mismatch: more data than the header's {dims:?} ({expected} bytes)"),
        ));
    }
    Ok((dims.into_iter().map(|d| d as usize).collect(), data))
}

/// Reads the magic number and `rank` dimensions.
fn header<R: Read>(r: &mut R, path: &Path, magic: u32, rank: usize) -> Result<Vec<u64>, DataError> {
    let mut word = [0u8; 4];
    r.read_exact(&mut word)
        .map_err(|e| DataError::malformed(path, format!("truncated header: {e}")))?;
    let found = u32::from_be_bytes(word);
    if found != magic {
        let what = if magic == IMAGES_MAGIC {
            "images (0x00000803)"
        } else {
            "labels (0x00000801)"
        };
        return Err(DataError::malformed(
            path,
            format!("wrong magic number 0x{found:08x}, expected IDX {what}"),
        ));
    }
    let mut dims = Vec::with_capacity(rank);
    for i in 0..rank {
        r.read_exact(&mut word).map_err(|e| {
            DataError::malformed(path, format!("truncated header at dimension {i}: {e}"))
        })?;
        dims.push(u32::from_be_bytes(word) as u64);
    }
    Ok(dims)
}

/// Writes an IDX file (used by tests and by users converting data).
pub fn write(
    path: &Path,
    magic_images: bool,
    dims: &[u32],
    data: &[u8],
    gzip: bool,
) -> std::io::Result<()> {
    let mut bytes = Vec::with_capacity(4 + 4 * dims.len() + data.len());
    let magic = if magic_images {
        IMAGES_MAGIC
    } else {
        LABELS_MAGIC
    };
    bytes.extend_from_slice(&magic.to_be_bytes());
    for d in dims {
        bytes.extend_from_slice(&d.to_be_bytes());
    }
    bytes.extend_from_slice(data);
    if gzip {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&bytes)?;
        bytes = enc.finish()?;
    }
    std::fs::write(path, bytes)
}
