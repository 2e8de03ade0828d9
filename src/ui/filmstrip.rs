//! Earlier snapshots of a 2-D run as small pictures beside the main view, evenly spaced
//! from step 0 to the newest: how the generated points travelled, at a glance, in the
//! space a square plot leaves free in a wide window. A click shows that snapshot.

use super::samples::color_image;
use crate::run::render::PointLayers;
use crate::train::Snapshot;
use eframe::egui;

/// Side of one picture, in points.
pub const THUMB: f32 = 120.0;
/// Space between pictures.
const GAP: f32 = 6.0;

/// Pictures already uploaded, by snapshot step and layers.
#[derive(Default)]
pub struct Filmstrip {
    shown: Vec<((u64, PointLayers), egui::TextureHandle)>,
}

impl Filmstrip {
    pub fn clear(&mut self) {
        self.shown.clear();
    }

    fn texture(
        &mut self,
        ctx: &egui::Context,
        snap: &Snapshot,
        layers: PointLayers,
    ) -> Option<egui::TextureHandle> {
        let key = (snap.step, layers);
        if let Some((_, t)) = self.shown.iter().find(|(k, _)| *k == key) {
            return Some(t.clone());
        }
        let side = (THUMB * ctx.pixels_per_point()).round() as usize;
        let texture = ctx.load_texture(
            format!("filmstrip {}", snap.step),
            color_image(&snap.samples.still(side, layers)),
            egui::TextureOptions::LINEAR,
        );
        self.shown.push((key, texture.clone()));
        Some(texture)
    }
}

/// What the pictures are of: the kept snapshots, the one in the main view, the layers drawn.
pub struct Frames<'a> {
    pub frames: &'a [Snapshot],
    pub shown_step: Option<u64>,
    pub layers: PointLayers,
}

/// Draws as many pictures as fit in `space`; returns the frame index clicked.
pub fn filmstrip_ui(
    ui: &mut egui::Ui,
    strip: &mut Filmstrip,
    frames: Frames,
    space: egui::Vec2,
) -> Option<usize> {
    let columns = ((space.x + GAP) / (THUMB + GAP)).floor() as usize;
    let rows = ((space.y + GAP) / (THUMB + 20.0 + GAP)).floor() as usize;
    if columns == 0 || rows == 0 || frames.frames.len() < 2 {
        return None;
    }
    let wanted = evenly_spaced(frames.frames.len(), columns * rows);
    // Keep only what is still wanted: a long run would otherwise keep every picture.
    let keys: Vec<u64> = wanted.iter().map(|&i| frames.frames[i].step).collect();
    strip
        .shown
        .retain(|((step, layers), _)| keys.contains(step) && *layers == frames.layers);
    let ctx = ui.ctx().clone();
    let mut clicked = None;
    egui::Grid::new("filmstrip")
        .spacing(egui::vec2(GAP, GAP))
        .show(ui, |ui| {
            for (n, &i) in wanted.iter().enumerate() {
                let snap = &frames.frames[i];
                let Some(texture) = strip.texture(&ctx, snap, frames.layers) else {
                    continue;
                };
                ui.vertical(|ui| {
                    let shown = frames.shown_step == Some(snap.step);
                    let label = format!("step {}", snap.step);
                    ui.label(if shown {
                        egui::RichText::new(label).strong()
                    } else {
                        egui::RichText::new(label)
                    });
                    let picture = egui::Image::new((texture.id(), egui::vec2(THUMB, THUMB)))
                        .alt_text(format!("snapshot at step {}", snap.step))
                        .sense(egui::Sense::click());
                    if ui
                        .add(picture)
                        .on_hover_text("Show this snapshot in the main view")
                        .clicked()
                    {
                        clicked = Some(i);
                    }
                });
                if (n + 1) % columns == 0 {
                    ui.end_row();
                }
            }
        });
    clicked
}

/// Up to `n` indices of `0..len`, evenly spaced, always the first and the last. The
/// stride is a power of two, so as a run adds snapshots the earlier pictures stay the
/// same ones (only the newest changes, and all of them when the stride doubles): each
/// picture is drawn once, not at every snapshot.
pub fn evenly_spaced(len: usize, n: usize) -> Vec<usize> {
    if len == 0 || n == 0 {
        return Vec::new();
    }
    if n == 1 {
        return vec![len - 1];
    }
    let mut out: Vec<usize> = (0..len - 1).step_by(stride(len, n)).collect();
    out.push(len - 1);
    out
}

/// The smallest power of two that picks at most `n` of `len` (with the last one added).
fn stride(len: usize, n: usize) -> usize {
    let mut stride = 1;
    while (len - 1).div_ceil(stride) + 1 > n {
        stride *= 2;
    }
    stride
}

#[cfg(test)]
mod tests {
    use super::{evenly_spaced, stride};

    #[test]
    fn spacing_keeps_the_ends_and_never_repeats() {
        assert_eq!(evenly_spaced(10, 4), vec![0, 4, 8, 9]);
        assert_eq!(evenly_spaced(3, 8), vec![0, 1, 2]);
        assert_eq!(evenly_spaced(5, 1), vec![4]);
        assert!(evenly_spaced(0, 3).is_empty());
        for len in 1..300 {
            for n in 2..20 {
                let picked = evenly_spaced(len, n);
                assert!(picked.len() <= n, "{len} {n}: {picked:?}");
                assert_eq!((picked[0], *picked.last().unwrap()), (0, len - 1));
                assert!(picked.windows(2).all(|w| w[0] < w[1]), "{picked:?}");
                // One more snapshot keeps every earlier picture unless the stride doubled.
                let next = evenly_spaced(len + 1, n);
                let kept = picked[..picked.len() - 1].iter().all(|i| next.contains(i));
                let doubled = stride(len + 1, n) > stride(len, n);
                assert!(kept || doubled, "{len} {n}: {picked:?} -> {next:?}");
            }
        }
    }
}
