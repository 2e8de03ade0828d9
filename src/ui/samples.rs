//! The sample grid (images) or 2-D view, with a slider back through earlier snapshots.

use super::app::Enlarged;
use super::audio::AudioOut;
use super::commands::Command;
use super::data_preview::DataPreview;
use super::filmstrip::{filmstrip_ui, Filmstrip, Frames};
use super::run_state::RunState;
use crate::config::Experiment;
use crate::run::render::PointLayers;
use crate::train::{RgbaImage, Snapshot, View};
use eframe::egui;

/// Named textures of one snapshot.
type Textures = Vec<(&'static str, egui::TextureHandle)>;

/// Snapshots kept for scrubbing; when full, every other older one is dropped.
const KEEP: usize = 200;
/// Side of the rendered 2-D view, in pixels.
const POINTS_SIDE: usize = 480;

pub struct SampleView {
    /// Snapshots, oldest first.
    frames: Vec<Snapshot>,
    /// Which frame is shown; `None` follows the newest.
    pub selected: Option<usize>,
    /// The uploaded textures and what they show (frame step, layers), to upload only on change.
    texture: Option<((u64, PointLayers), Textures)>,
    pub zoom: f32,
    pub layers: PointLayers,
    /// Earlier 2-D snapshots as pictures beside the main view.
    filmstrip: Filmstrip,
}

impl Default for SampleView {
    fn default() -> Self {
        SampleView {
            frames: Vec::new(),
            selected: None,
            texture: None,
            zoom: 1.0,
            layers: PointLayers::default(),
            filmstrip: Filmstrip::default(),
        }
    }
}

impl SampleView {
    pub fn clear(&mut self) {
        self.frames.clear();
        self.selected = None;
        self.texture = None;
        self.filmstrip.clear();
    }

    pub fn len(&self) -> usize {
        self.frames.len()
    }

    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// The image on screen (the sample grid, or the 2-D view as drawn).
    pub fn shown_image(&self) -> Option<RgbaImage> {
        self.shown().map(|s| self.image_of(s))
    }

    /// Every kept snapshot as an image, oldest first (for the timelapse).
    pub fn frame_images(&self) -> Vec<RgbaImage> {
        self.frames.iter().map(|s| self.image_of(s)).collect()
    }

    /// Text has no picture (empty); its items are exported as text.
    fn image_of(&self, snap: &Snapshot) -> RgbaImage {
        snap.samples.still(POINTS_SIDE, self.layers)
    }

    /// The snapshot on screen.
    pub fn shown(&self) -> Option<&Snapshot> {
        self.shown_index().map(|i| &self.frames[i])
    }

    pub fn push(&mut self, snap: Snapshot) {
        if self.frames.len() >= KEEP {
            let mut i = 0;
            self.frames.retain(|_| {
                i += 1;
                i == 1 || i % 2 == 0
            });
        }
        self.frames.push(snap);
    }

    fn shown_index(&self) -> Option<usize> {
        let newest = self.frames.len().checked_sub(1)?;
        Some(self.selected.unwrap_or(newest).min(newest))
    }

    /// Uploads the shown frame's images only when the frame or the layers changed.
    fn textures(
        &mut self,
        ctx: &egui::Context,
    ) -> Option<(u64, Vec<(&'static str, egui::TextureHandle)>)> {
        let i = self.shown_index()?;
        let snap = &self.frames[i];
        let key = (snap.step, self.layers);
        if self.texture.as_ref().is_none_or(|(k, _)| *k != key) {
            let load = |name: &'static str, im: &RgbaImage| {
                let texture =
                    ctx.load_texture(name, color_image(im), egui::TextureOptions::NEAREST);
                (name, texture)
            };
            // Text is drawn by egui, and of points only D's small heatmap is a texture
            // (the points are plotted).
            let textures = snap
                .samples
                .pictures()
                .into_iter()
                .map(|(caption, picture)| load(caption, &picture))
                .collect();
            self.texture = Some((key, textures));
        }
        self.texture.as_ref().map(|(k, t)| (k.0, t.clone()))
    }
}

/// One of our images for egui. They are opaque, so premultiplied equals unmultiplied;
/// converting here (optimised) rather than in ecolor (an unoptimised dependency in dev)
/// keeps a new snapshot from costing the frame tens of milliseconds.
pub fn color_image(im: &RgbaImage) -> egui::ColorImage {
    let pixels = im
        .pixels
        .chunks_exact(4)
        .map(|p| egui::Color32::from_rgba_premultiplied(p[0], p[1], p[2], p[3]))
        .collect();
    egui::ColorImage::new([im.width, im.height], pixels)
}

/// What the samples view reads and changes: the run's snapshots (and their zoom and
/// layers), the edited experiment's data preview, the audio output, the VAE's
/// interpolation pair and the enlarged view.
pub struct SamplesPanel<'a> {
    pub run: &'a mut RunState,
    pub edited: &'a Experiment,
    pub preview: &'a mut DataPreview,
    pub audio_out: &'a mut AudioOut,
    pub interpolation_pair: &'a mut (usize, usize),
    pub enlarged: &'a mut Option<Enlarged>,
    pub blind_test_open: bool,
}

/// The samples view; returns what it asks of the window (blind test, file dialogs, the
/// VAE's interpolation pair). It draws the forms the shown snapshot takes (`View`), in
/// order, whatever kind of data made them.
pub fn samples_ui(mut app: SamplesPanel, ui: &mut egui::Ui) -> Vec<Command> {
    let mut commands = Vec::new();
    let modality = crate::modality::of(&app.edited.data);
    let scatter = app.run.samples.shown().is_some_and(|s| {
        s.samples
            .views()
            .iter()
            .any(|v| matches!(v, View::Scatter(_)))
    });
    ui.horizontal_wrapped(|ui| {
        ui.strong(modality.samples_title());
        super::app::enlarge_button(app.enlarged, Enlarged::Samples, ui);
        let view = &mut app.run.samples;
        if view.len() > 1 {
            let mut idx = view.shown_index().unwrap_or(0);
            let newest = view.len() - 1;
            if ui
                .add(egui::Slider::new(&mut idx, 0..=newest).text("snapshot"))
                .changed()
            {
                view.selected = if idx == newest { None } else { Some(idx) };
            }
        }
        ui.add(egui::Slider::new(&mut view.zoom, 0.5..=4.0).text("zoom"));
        let testable = !view.is_empty() && app.run.dir.is_some() && !app.blind_test_open;
        commands.extend(class_choice_ui(app.run, ui));
        if ui
            .add_enabled(testable, egui::Button::new("Blind test"))
            .on_hover_text(
                "Judge items one at a time, real or from the shown snapshot at random: \
                 the fool rate tells how often the model passes for the data",
            )
            .on_disabled_hover_text("Train first: the test needs the model's samples")
            .clicked()
        {
            commands.push(Command::StartBlindTest);
        }
        if scatter {
            layers_ui(ui, &mut app.run.samples.layers);
        }
    });
    let ctx = ui.ctx().clone();
    let zoom = app.run.samples.zoom;
    let Some((step, textures)) = app.run.samples.textures(&ctx) else {
        commands.extend(preview_ui(&mut app, ui, zoom));
        return commands;
    };
    ui.label(format!("step {step}"));
    app.audio_out.poll();
    let real = real_data_texture(&mut app, &ctx);
    let (Some(shown), newest) = (
        app.run.samples.shown_index(),
        app.run.samples.len().saturating_sub(1),
    ) else {
        return commands;
    };
    let SampleView {
        frames,
        filmstrip,
        layers,
        selected,
        ..
    } = &mut app.run.samples;
    for form in frames[shown].samples.views() {
        match form {
            View::Latent { kl_per_dim } => {
                commands.extend(vae_tools_ui(app.interpolation_pair, ui, kl_per_dim));
            }
            View::Items(items) => {
                use super::text_view::TextAction;
                match super::text_view::text_ui(ui, items, zoom, true) {
                    Some(TextAction::Save) => {
                        commands.push(Command::AskFile(super::files::FileAction::ExportText));
                    }
                    Some(TextAction::Interpolate(a, b)) => {
                        *app.interpolation_pair = (a, b);
                        commands.push(Command::Tell(crate::train::Control::InterpolateBetween(
                            a, b,
                        )));
                    }
                    None => {}
                }
            }
            View::Clips(clips) => {
                if let Some(action) = super::audio::clips_ui(ui, clips, app.audio_out, true) {
                    commands.extend(super::audio::apply(app.audio_out, action));
                }
            }
            View::Scatter(points) => {
                let heatmap = textures.first().map(|(_, t)| t.id());
                let space = ui.available_size();
                let mut clicked = None;
                ui.horizontal_top(|ui| {
                    let side = points_plot_ui(ui, points, heatmap, *layers, zoom);
                    let rest = egui::vec2(space.x - side - 24.0, space.y);
                    let strip = Frames {
                        frames,
                        shown_step: Some(step),
                        layers: *layers,
                    };
                    clicked = filmstrip_ui(ui, filmstrip, strip, rest);
                });
                if let Some(i) = clicked {
                    *selected = (i != newest).then_some(i);
                }
            }
            View::Pictures => {
                let mut textures = textures.clone();
                if let Some(real) = real.clone() {
                    // The data beside what the model makes of it, on the same scale.
                    textures.insert(1, real);
                }
                pictures_ui(ui, &textures, zoom);
            }
        }
    }
    commands
}

/// Which layers the 2-D view draws.
fn layers_ui(ui: &mut egui::Ui, layers: &mut PointLayers) {
    ui.checkbox(&mut layers.real, "real (blue)");
    ui.checkbox(&mut layers.generated, "generated (orange)");
    ui.checkbox(&mut layers.heatmap, "D(x) heatmap (green = real)");
    ui.checkbox(&mut layers.push, "G's push (arrows)")
        .on_hover_text("Where the generator's loss moves each of 150 generated points: its negative gradient through D as it is now");
    ui.checkbox(&mut layers.manifold, "manifold")
        .on_hover_text("The generator's image of a grid over the first two latent axes: how G warps its input space");
}

/// Captioned pictures side by side, in one row or two, as large as the space allows.
fn pictures_ui(ui: &mut egui::Ui, textures: &Textures, zoom: f32) {
    let sizes: Vec<egui::Vec2> = textures.iter().map(|(_, t)| t.size_vec2()).collect();
    let (side, split) = fit_rows(ui.available_size(), &sizes);
    let side = side * zoom;
    egui::ScrollArea::both().show(ui, |ui| {
        for row in [0..split, split..textures.len()]
            .into_iter()
            .filter(|r| !r.is_empty())
        {
            ui.horizontal_top(|ui| {
                for i in row {
                    let (name, tex) = &textures[i];
                    let size = shown_size(i, sizes[i], side);
                    ui.vertical(|ui| {
                        // The caption wraps to its image's width, never widens it.
                        ui.set_max_width(size.x.max(60.0));
                        ui.label(*name);
                        ui.image((tex.id(), size));
                    });
                }
            });
        }
    });
}

/// A conditional model's class for the snapshots to show: all in rotation, or one.
fn class_choice_ui(run: &mut RunState, ui: &mut egui::Ui) -> Option<Command> {
    if run.classes.is_empty() {
        return None;
    }
    let name = |c: Option<usize>| match c {
        None => "all classes".to_string(),
        Some(c) => run.classes.get(c).cloned().unwrap_or_default(),
    };
    let mut chosen = run.shown_class;
    egui::ComboBox::from_label("class")
        .selected_text(name(chosen))
        .show_ui(ui, |ui| {
            for c in std::iter::once(None).chain((0..run.classes.len()).map(Some)) {
                ui.selectable_value(&mut chosen, c, name(c));
            }
        })
        .response
        .on_hover_text("What the conditional generator is asked for in the next snapshots: every class in rotation, or one class in every sample. The metrics stay on every class.");
    if chosen == run.shown_class {
        return None;
    }
    run.shown_class = chosen;
    Some(Command::Tell(crate::train::Control::ShowClass(chosen)))
}

/// The data preview's grid beside a GAN's image grid, or the real clips' spectrograms
/// beside an audio run's, while the edited data is still the running experiment's. (A
/// VAE's view already holds its held-out inputs beside their reconstructions.)
fn real_data_texture(
    app: &mut SamplesPanel,
    ctx: &egui::Context,
) -> Option<(&'static str, egui::TextureHandle)> {
    let caption = app.run.samples.shown()?.samples.data_caption()?;
    let same_data = app
        .run
        .experiment
        .as_ref()
        .is_none_or(|run| run.data == app.edited.data);
    if !same_data {
        return None;
    }
    app.preview.poll(app.edited);
    app.preview.grid_texture(ctx).map(|t| (caption, t))
}

/// Height of the first image (the others get 3/4 of it) so that the images in a row
/// fill `space` without clipping: as tall as the space allows, or as the width does.
pub fn fit_side(space: egui::Vec2, sizes: &[egui::Vec2]) -> f32 {
    // Each image's width per unit of `side`, and the room its caption and gaps take.
    let width_per_side: f32 = (0..sizes.len())
        .map(|i| shown_size(i, sizes[i], 1.0).x)
        .sum();
    let gaps = 16.0 * sizes.len() as f32;
    // Captions may wrap to two or three lines above the images.
    let by_height = space.y - 48.0;
    let by_width = (space.x - gaps) / width_per_side.max(1e-3);
    // Below 120 pixels the views scroll rather than shrink further.
    by_height.min(by_width).max(120.0)
}

/// Views laid out in one row, or in two where that shows them larger (a tall area, as at
/// 1920x1080): `(side, n)` puts the first `n` views in the first row.
pub fn fit_rows(space: egui::Vec2, sizes: &[egui::Vec2]) -> (f32, usize) {
    let n = sizes.len();
    let mut best = (fit_side(space, sizes), n);
    let per_side = |i: usize| shown_size(i, sizes[i], 1.0);
    for split in 1..n {
        let rows = [0..split, split..n];
        let by_width = rows
            .iter()
            .map(|r| {
                let width: f32 = r.clone().map(|i| per_side(i).x).sum();
                (space.x - 16.0 * r.len() as f32) / width.max(1e-3)
            })
            .fold(f32::INFINITY, f32::min);
        let height: f32 = rows
            .iter()
            .map(|r| r.clone().map(|i| per_side(i).y).fold(0.0, f32::max))
            .sum();
        // Two captions and the gap between the rows.
        let by_height = (space.y - 2.0 * 48.0 - 8.0) / height.max(1e-3);
        let side = by_width.min(by_height);
        // A second row only for a clearly larger view: one row reads more easily.
        if side > 1.1 * best.0 {
            best = (side, split);
        }
    }
    best
}

/// The size image `i` (of pixel size `size`) is drawn at, for a first image `side` tall.
/// Wide strips (the interpolation) are held to 1.6 times the side.
pub fn shown_size(i: usize, size: egui::Vec2, side: f32) -> egui::Vec2 {
    let h = if i == 0 { side } else { side * 0.75 };
    let fit = (h / size.y.max(1.0)).min(side * 1.6 / size.x.max(1.0));
    size * fit
}

/// Before any run: the real data, as the views will show it beside the samples.
fn preview_ui(app: &mut SamplesPanel, ui: &mut egui::Ui, zoom: f32) -> Option<Command> {
    app.preview.poll(app.edited);
    let ctx = ui.ctx().clone();
    // Uploaded before the samples are borrowed: the first picture, if they have one.
    let picture = app.preview.grid_texture(&ctx);
    let data = match app.preview.samples() {
        None => {
            ui.label("Loading the data...");
            if app.preview.is_loading() {
                ctx.request_repaint_after(std::time::Duration::from_millis(100));
            }
            return None;
        }
        Some(Err(e)) => {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                format!("Cannot show the data: {e}"),
            );
            return None;
        }
        Some(Ok(samples)) => samples,
    };
    ui.label(crate::modality::of(&app.edited.data).preview_hint());
    app.audio_out.poll();
    let mut command = None;
    for form in data.views() {
        match form {
            View::Scatter(points) => {
                points_plot_ui(ui, points, None, app.run.samples.layers, zoom);
            }
            View::Clips(clips) => {
                let action = super::audio::clips_ui(ui, clips, app.audio_out, false);
                command = action.and_then(|a| super::audio::apply(app.audio_out, a));
            }
            View::Items(items) => {
                super::text_view::text_ui(ui, items, zoom, false);
            }
            View::Pictures => {
                if let Some(tex) = &picture {
                    let size = tex.size_vec2();
                    let side = fit_side(ui.available_size(), &[size]) * zoom;
                    ui.image((tex.id(), shown_size(0, size, side)));
                }
            }
            View::Latent { .. } => {}
        }
    }
    command
}

/// A VAE's held-out KL per latent dimension as bars, and the inputs to interpolate between.
fn vae_tools_ui(pair: &mut (usize, usize), ui: &mut egui::Ui, kl: &[f32]) -> Option<Command> {
    let mut command = None;
    ui.horizontal(|ui| {
        let (mut a, mut b) = *pair;
        ui.label("interpolate between held-out inputs");
        let changed = ui
            .add(egui::DragValue::new(&mut a).range(0..=255))
            .changed()
            | ui.add(egui::DragValue::new(&mut b).range(0..=255))
                .changed();
        if changed {
            *pair = (a, b);
            command = Some(Command::Tell(crate::train::Control::InterpolateBetween(
                a, b,
            )));
        }
        ui.label("(shown from the next snapshot)");
    });
    let active = kl.iter().filter(|k| **k > 0.01).count();
    ui.label(format!(
        "KL per latent dimension (held-out, nats): {active} of {} active",
        kl.len()
    ));
    let bars: Vec<egui_plot::Bar> = kl
        .iter()
        .enumerate()
        .map(|(i, k)| egui_plot::Bar::new(i as f64, *k as f64).width(0.8))
        .collect();
    egui_plot::Plot::new("kl_per_dim")
        .height(80.0)
        .show_axes([true, true])
        .allow_scroll(false)
        .show(ui, |p| p.bar_chart(egui_plot::BarChart::new("KL", bars)));
    command
}

/// The 2-D view as an interactive plot: heatmap behind, generated and real points on top;
/// returns its side.
fn points_plot_ui(
    ui: &mut egui::Ui,
    view: &crate::train::PointsView,
    heatmap: Option<egui::TextureId>,
    layers: PointLayers,
    zoom: f32,
) -> f32 {
    use egui_plot::{Legend, Plot, PlotImage, PlotPoint, Points};
    let [x0, x1, y0, y1] = view.bounds;
    let space = ui.available_size();
    let side = (space.x.min(space.y) - 8.0).max(200.0) * zoom;
    let to_f64 = |p: &Vec<[f32; 2]>| {
        p.iter()
            .map(|q| [q[0] as f64, q[1] as f64])
            .collect::<Vec<_>>()
    };
    let [rr, rg, rb] = crate::run::render::REAL_RGB;
    let [gr, gg, gb] = crate::run::render::GENERATED_RGB;
    Plot::new("points_view")
        .data_aspect(1.0)
        .width(side)
        .height(side)
        .include_x(x0 as f64)
        .include_x(x1 as f64)
        .include_y(y0 as f64)
        .include_y(y1 as f64)
        .legend(Legend::default())
        .show(ui, |plot_ui| {
            if let (true, Some(tex)) = (layers.heatmap && view.heatmap_size > 0, heatmap) {
                let centre = PlotPoint::new((x0 + x1) as f64 / 2.0, (y0 + y1) as f64 / 2.0);
                plot_ui.image(PlotImage::new(
                    "D(x)",
                    tex,
                    centre,
                    egui::vec2(x1 - x0, y1 - y0),
                ));
            }
            if layers.manifold {
                for line in &view.manifold {
                    // One legend entry for the whole grid: the lines share its name.
                    plot_ui.line(
                        egui_plot::Line::new("manifold", to_f64(line))
                            .color(egui::Color32::from_rgba_unmultiplied(120, 120, 120, 160))
                            .width(1.0),
                    );
                }
            }
            if layers.generated {
                plot_ui.points(
                    Points::new("generated", to_f64(&view.generated))
                        .color(egui::Color32::from_rgb(gr, gg, gb))
                        .radius(1.5),
                );
            }
            if layers.push && !view.push.is_empty() {
                // The longest arrow spans 8 % of the view; the others in proportion.
                let longest = view
                    .push
                    .iter()
                    .map(|d| d[0].hypot(d[1]))
                    .fold(0.0f32, f32::max);
                let scale = if longest > 0.0 {
                    0.08 * (x1 - x0) / longest
                } else {
                    0.0
                };
                let origins: Vec<[f64; 2]> = to_f64(&view.generated[..view.push.len()].to_vec());
                let tips: Vec<[f64; 2]> = view
                    .generated
                    .iter()
                    .zip(&view.push)
                    .map(|(p, d)| [(p[0] + d[0] * scale) as f64, (p[1] + d[1] * scale) as f64])
                    .collect();
                plot_ui.arrows(
                    egui_plot::Arrows::new("G's push", origins, tips)
                        .color(egui::Color32::from_rgb(90, 60, 30))
                        .tip_length(5.0),
                );
            }
            if layers.real {
                plot_ui.points(
                    Points::new("real", to_f64(&view.real))
                        .color(egui::Color32::from_rgb(rr, rg, rb))
                        .radius(1.5),
                );
            }
        });
    side
}
