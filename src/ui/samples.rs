//! The sample grid (images) or 2-D view, with a slider back through earlier snapshots.

use super::app::GenLabApp;
use crate::run::render::{points_image, upscale};
use crate::train::{RgbaImage, Samples, Snapshot};
use eframe::egui;

/// Snapshots kept for scrubbing; older ones are thinned out.
const KEEP: usize = 200;

#[derive(Default)]
pub struct SampleView {
    /// (step, samples image, reconstructions image) per snapshot, oldest first.
    frames: Vec<(u64, RgbaImage, Option<RgbaImage>)>,
    /// Which frame is shown; `None` follows the newest.
    pub selected: Option<usize>,
    texture: Option<(usize, egui::TextureHandle, Option<egui::TextureHandle>)>,
    pub zoom: f32,
}

impl SampleView {
    pub fn clear(&mut self) {
        self.frames.clear();
        self.selected = None;
        self.texture = None;
    }

    pub fn len(&self) -> usize {
        self.frames.len()
    }

    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    pub fn push(&mut self, _ctx: &egui::Context, snap: Snapshot) {
        let (img, recon) = match snap.samples {
            Samples::Images { grid, reconstructions } => (grid, reconstructions),
            Samples::Points(view) => (points_image(&view, 420), None),
        };
        if self.frames.len() >= KEEP {
            // Keep the first snapshot and every other older one.
            let mut i = 0;
            self.frames.retain(|_| {
                i += 1;
                i == 1 || i % 2 == 0
            });
        }
        self.frames.push((snap.step, img, recon));
    }

    fn shown_index(&self) -> Option<usize> {
        if self.frames.is_empty() {
            None
        } else {
            Some(self.selected.unwrap_or(self.frames.len() - 1).min(self.frames.len() - 1))
        }
    }

    /// Uploads the shown frame as a texture only when it changed.
    fn textures(&mut self, ctx: &egui::Context) -> Option<(u64, egui::TextureHandle, Option<egui::TextureHandle>)> {
        let i = self.shown_index()?;
        let (step, img, recon) = &self.frames[i];
        let stale = self.texture.as_ref().is_none_or(|(ti, _, _)| *ti != i + (*step as usize) * KEEP);
        if stale {
            let load = |name: &str, im: &RgbaImage| {
                let color = egui::ColorImage::from_rgba_unmultiplied([im.width, im.height], &im.pixels);
                ctx.load_texture(name, color, egui::TextureOptions::NEAREST)
            };
            let main = load("samples", img);
            let rec = recon.as_ref().map(|r| load("reconstructions", r));
            self.texture = Some((i + (*step as usize) * KEEP, main, rec));
        }
        self.texture.as_ref().map(|(_, t, r)| (*step, t.clone(), r.clone()))
    }
}

pub fn samples_ui(app: &mut GenLabApp, ui: &mut egui::Ui) {
    let view = &mut app.samples;
    if view.zoom <= 0.0 {
        view.zoom = 1.0;
    }
    ui.horizontal(|ui| {
        ui.strong(if app.experiment.data.is_points() { "Real (blue) and generated (orange) points" } else { "Samples from fixed noise" });
        if view.len() > 1 {
            let mut idx = view.shown_index().unwrap_or(0);
            let newest = view.len() - 1;
            if ui.add(egui::Slider::new(&mut idx, 0..=newest).text("snapshot")).changed() {
                view.selected = if idx == newest { None } else { Some(idx) };
            }
        }
        ui.add(egui::Slider::new(&mut view.zoom, 0.5..=4.0).text("zoom"));
    });
    let ctx = ui.ctx().clone();
    match view.textures(&ctx) {
        None => {
            ui.label("Press Train to see samples here.");
        }
        Some((step, tex, recon)) => {
            ui.label(format!("step {step}"));
            egui::ScrollArea::both().show(ui, |ui| {
                ui.horizontal_top(|ui| {
                    let side = (ui.available_height().max(200.0)).min(420.0) * view.zoom;
                    let size = tex.size_vec2();
                    let scale = side / size.y.max(1.0);
                    ui.image((tex.id(), size * scale));
                    if let Some(r) = recon {
                        ui.vertical(|ui| {
                            ui.label("inputs | reconstructions");
                            let rs = r.size_vec2();
                            ui.image((r.id(), rs * (side / rs.y.max(1.0)) * 0.75));
                        });
                    }
                });
            });
        }
    }
    let _ = upscale;
}
