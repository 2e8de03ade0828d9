//! Kinds of data beyond the built-in points and images, one folder each: the data
//! sources, the sample shape, the quality metrics and the views of its samples.
//!
//! Audio is the first kind that lives here whole; points and images still live in
//! `data/` and the trainers (see README's Architecture section for what moving them takes).

pub mod audio;
