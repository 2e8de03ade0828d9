//! Human evaluation: a blind test that shows a person one item at a time, real or
//! generated at random, and asks which it is. The fool rate (the share of generated items
//! judged real) is reported with a 95% Wilson interval, per run and per step, and every
//! answer is appended to the run folder's `human_eval.csv` as it is given, so a test left
//! halfway keeps what was answered.
//!
//! An item is an image of the data (an image, a patch of 2-D points drawn without
//! colour cues, a clip's spectrogram) and, for audio, the clip to listen to.

use crate::data::{Dataset, SeededRng};
use crate::modality::audio::views::spectrograms;
use crate::run::render::{points_image, PointLayers};
use crate::train::tensors::image_grid;
use crate::train::{PointsView, RgbaImage, Samples};
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

/// The file in a run folder.
pub const FILE: &str = "human_eval.csv";
const HEADER: &str = "sitting,step,item,truth,answer,seconds";
/// Points in one 2-D patch: enough to see a distribution's shape, few enough that a
/// patch of the real data does not look like the whole of it.
pub const PATCH_POINTS: usize = 100;
/// Side of a drawn 2-D patch, in pixels.
const PATCH_SIDE: usize = 240;

/// One item shown to the person.
#[derive(Debug, Clone, PartialEq)]
pub struct Exhibit {
    pub picture: RgbaImage,
    /// Audio: the clip and its sample rate.
    pub clip: Option<(Vec<f32>, u32)>,
}

/// Items each pool offers at most.
pub const POOL: usize = 64;

/// The items to judge: `POOL` of the data's, picked at random by `seed`, and the model's
/// from a snapshot of its samples (image cells, 2-D patches or clips), in that order.
pub fn exhibits(
    data: &Dataset,
    generated: &Samples,
    seed: u64,
) -> Result<(Vec<Exhibit>, Vec<Exhibit>), String> {
    let mut rng = SeededRng::seed_from_u64(seed);
    let mut pick = |n: usize, k: usize| -> Vec<usize> {
        (0..k.min(n)).map(|_| rng.random_range(0..n)).collect()
    };
    match (data, generated) {
        (Dataset::Images(set), Samples::Images { grid, .. }) => {
            let real = pick(set.len(), POOL)
                .into_iter()
                .map(|i| {
                    let pixels = &set.pixels[i * set.image_len()..(i + 1) * set.image_len()];
                    let one = image_grid(pixels, 1, set.channels, [set.height, set.width], 1);
                    still(crop_border(&one))
                })
                .collect();
            let cells = image_cells(grid, [set.width + 1, set.height + 1]);
            Ok((real, cells.into_iter().map(still).collect()))
        }
        (Dataset::Points(set), Samples::Points(view)) => {
            let real: Vec<[f32; 2]> = pick(set.points.len(), POOL * PATCH_POINTS)
                .into_iter()
                .map(|i| set.points[i])
                .collect();
            // One frame for both, so that neither is told apart by its scale.
            Ok((
                patches(&real, view.bounds),
                patches(&view.generated, view.bounds),
            ))
        }
        (Dataset::Audio(set), Samples::Audio(view)) => {
            let real: Vec<Vec<f32>> = pick(set.len(), POOL)
                .into_iter()
                .map(|i| set.samples[i * set.length..(i + 1) * set.length].to_vec())
                .collect();
            Ok((
                clips(&real, set.sample_rate),
                clips(&view.generated, view.sample_rate),
            ))
        }
        _ => Err("the data and the samples are of different kinds".into()),
    }
}

fn still(picture: RgbaImage) -> Exhibit {
    Exhibit {
        picture,
        clip: None,
    }
}

fn clips(clips: &[Vec<f32>], rate: u32) -> Vec<Exhibit> {
    clips
        .iter()
        .map(|c| Exhibit {
            picture: spectrograms(std::slice::from_ref(c), 1),
            clip: Some((c.clone(), rate)),
        })
        .collect()
}

/// A one-image grid without its 1-pixel frame.
fn crop_border(one: &RgbaImage) -> RgbaImage {
    image_cells(one, [one.width - 1, one.height - 1])
        .pop()
        .unwrap_or_else(|| one.clone())
}

/// The cells of an image grid (1-pixel gaps, as `image_grid` draws it) of `[w, h]`
/// cells including one gap each; cells that hold only the background are left out.
pub fn image_cells(grid: &RgbaImage, [cell_w, cell_h]: [usize; 2]) -> Vec<RgbaImage> {
    if cell_w < 2 || cell_h < 2 {
        return Vec::new();
    }
    let (w, h) = (cell_w - 1, cell_h - 1);
    let cols = (grid.width.saturating_sub(1)) / cell_w;
    let rows = (grid.height.saturating_sub(1)) / cell_h;
    let mut cells = Vec::new();
    for r in 0..rows {
        for c in 0..cols {
            let (ox, oy) = (c * cell_w + 1, r * cell_h + 1);
            let mut pixels = Vec::with_capacity(w * h * 4);
            for y in 0..h {
                let o = ((oy + y) * grid.width + ox) * 4;
                pixels.extend_from_slice(&grid.pixels[o..o + w * 4]);
            }
            let background = pixels.chunks_exact(4).all(|p| p == [40, 40, 48, 255]);
            if !background {
                cells.push(RgbaImage {
                    width: w,
                    height: h,
                    pixels,
                });
            }
        }
    }
    cells
}

/// Consecutive patches of `PATCH_POINTS` points, each drawn alone in one colour.
fn patches(points: &[[f32; 2]], bounds: [f32; 4]) -> Vec<Exhibit> {
    let layers = PointLayers {
        real: true,
        generated: false,
        heatmap: false,
        ..PointLayers::default()
    };
    points
        .chunks_exact(PATCH_POINTS)
        .map(|patch| {
            let view = PointsView {
                real: patch.to_vec(),
                bounds,
                ..PointsView::default()
            };
            still(points_image(&view, PATCH_SIDE, layers))
        })
        .collect()
}

/// A sitting: a fixed sequence of items, each real or generated by a coin flip, and the
/// answers so far.
pub struct BlindTest {
    /// The training step the generated items come from.
    pub step: u64,
    trials: Vec<(bool, Exhibit)>,
    answers: Vec<Answer>,
    asked_at: std::time::Instant,
}

/// One answer: the item's place in the sitting, what it was and what the person said.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Answer {
    pub step: u64,
    pub item: usize,
    pub real: bool,
    pub said_real: bool,
    pub seconds: f64,
}

impl BlindTest {
    /// `len` items drawn from the two pools: each a coin flip between real and generated,
    /// without repeats (a pool that runs out leaves the flips to the other).
    pub fn new(
        real: Vec<Exhibit>,
        generated: Vec<Exhibit>,
        step: u64,
        len: usize,
        seed: u64,
    ) -> Result<BlindTest, String> {
        if real.is_empty() || generated.is_empty() {
            return Err("a blind test needs both real and generated items".into());
        }
        let mut rng = SeededRng::seed_from_u64(seed);
        let mut pools = [generated, real];
        for pool in &mut pools {
            // Shuffled, so each sitting shows different items first.
            for i in (1..pool.len()).rev() {
                pool.swap(i, rng.random_range(0..=i));
            }
        }
        let mut trials = Vec::with_capacity(len);
        while trials.len() < len && pools.iter().any(|p| !p.is_empty()) {
            let mut real = rng.random_bool(0.5);
            if pools[real as usize].is_empty() {
                real = !real;
            }
            if let Some(item) = pools[real as usize].pop() {
                trials.push((real, item));
            }
        }
        Ok(BlindTest {
            step,
            trials,
            answers: Vec::new(),
            asked_at: std::time::Instant::now(),
        })
    }

    pub fn len(&self) -> usize {
        self.trials.len()
    }

    pub fn is_empty(&self) -> bool {
        self.trials.is_empty()
    }

    /// The place of the item being asked about (equal to `len` when done).
    pub fn at(&self) -> usize {
        self.answers.len()
    }

    pub fn current(&self) -> Option<&Exhibit> {
        self.trials.get(self.at()).map(|(_, e)| e)
    }

    /// Records the answer to the current item and moves on.
    pub fn answer(&mut self, said_real: bool) -> Option<Answer> {
        let (real, _) = self.trials.get(self.at())?;
        let answer = Answer {
            step: self.step,
            item: self.at(),
            real: *real,
            said_real,
            seconds: self.asked_at.elapsed().as_secs_f64(),
        };
        self.answers.push(answer);
        self.asked_at = std::time::Instant::now();
        Some(answer)
    }

    pub fn tally(&self) -> Tally {
        let mut t = Tally::default();
        for a in &self.answers {
            t.add(a);
        }
        t
    }
}

/// Answers counted: what a fool rate is computed from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub generated: usize,
    /// Generated items judged real.
    pub fooled: usize,
    pub real: usize,
    /// Real items judged real.
    pub real_called_real: usize,
}

impl Tally {
    pub fn add(&mut self, a: &Answer) {
        if a.real {
            self.real += 1;
            self.real_called_real += a.said_real as usize;
        } else {
            self.generated += 1;
            self.fooled += a.said_real as usize;
        }
    }

    pub fn answers(&self) -> usize {
        self.generated + self.real
    }

    /// The share of generated items judged real, with its 95% interval.
    pub fn fool_rate(&self) -> Option<Rate> {
        Rate::of(self.fooled, self.generated)
    }

    /// The share of real items judged real: a person who cannot tell the two apart
    /// calls both real equally often, so the fool rate is read against this one.
    pub fn real_rate(&self) -> Option<Rate> {
        Rate::of(self.real_called_real, self.real)
    }

    pub fn merge(&mut self, other: &Tally) {
        self.generated += other.generated;
        self.fooled += other.fooled;
        self.real += other.real;
        self.real_called_real += other.real_called_real;
    }
}

/// A proportion `k / n` with its 95% Wilson score interval (which, unlike the normal
/// approximation, stays inside [0, 1] and is sound at 0 of n and at small n).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub k: usize,
    pub n: usize,
    pub value: f64,
    pub low: f64,
    pub high: f64,
}

impl Rate {
    pub fn of(k: usize, n: usize) -> Option<Rate> {
        if n == 0 || k > n {
            return None;
        }
        const Z: f64 = 1.959_963_984_540_054;
        let (kf, nf) = (k as f64, n as f64);
        let p = kf / nf;
        let z2 = Z * Z;
        let centre = (p + z2 / (2.0 * nf)) / (1.0 + z2 / nf);
        let half = Z * (p * (1.0 - p) / nf + z2 / (4.0 * nf * nf)).sqrt() / (1.0 + z2 / nf);
        Some(Rate {
            k,
            n,
            value: p,
            // Exact at the ends, where rounding would leave the rate just outside.
            low: if k == 0 {
                0.0
            } else {
                (centre - half).max(0.0)
            },
            high: if k == n {
                1.0
            } else {
                (centre + half).min(1.0)
            },
        })
    }
}

impl std::fmt::Display for Rate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:.0}% [{:.0}%, {:.0}%] of {}",
            100.0 * self.value,
            100.0 * self.low,
            100.0 * self.high,
            self.n
        )
    }
}

/// Appends answers to `dir/human_eval.csv` (writing the header to a new file).
/// `sitting` tells one sitting's answers from another's.
pub fn append(dir: &Path, sitting: &str, answers: &[Answer]) -> std::io::Result<()> {
    let path = dir.join(FILE);
    let new = !path.exists();
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)?;
    let mut text = String::new();
    if new {
        text.push_str(HEADER);
        text.push('\n');
    }
    let word = |real: bool| if real { "real" } else { "generated" };
    for a in answers {
        text.push_str(&format!(
            "{sitting},{},{},{},{},{:.2}\n",
            a.step,
            a.item,
            word(a.real),
            word(a.said_real),
            a.seconds
        ));
    }
    file.write_all(text.as_bytes())?;
    file.sync_data()
}

/// A run folder's answers counted per step; empty when it has none. Rows that do not
/// parse (a line cut short by a crash) are skipped.
pub fn read(dir: &Path) -> Result<BTreeMap<u64, Tally>, String> {
    let path = dir.join(FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    let mut lines = text.lines();
    if lines.next() != Some(HEADER) {
        return Err(format!(
            "{}: not a human evaluation file (its first line should be `{HEADER}`)",
            path.display()
        ));
    }
    let mut per_step = BTreeMap::new();
    for line in lines {
        let fields: Vec<&str> = line.split(',').collect();
        let [_, step, item, truth, answer, seconds] = fields[..] else {
            continue;
        };
        let word = |w: &str| match w {
            "real" => Some(true),
            "generated" => Some(false),
            _ => None,
        };
        let (Ok(step), Ok(item), Some(real), Some(said_real), Ok(seconds)) = (
            step.parse(),
            item.parse(),
            word(truth),
            word(answer),
            seconds.parse(),
        ) else {
            continue;
        };
        per_step
            .entry(step)
            .or_insert_with(Tally::default)
            .add(&Answer {
                step,
                item,
                real,
                said_real,
                seconds,
            });
    }
    Ok(per_step)
}
