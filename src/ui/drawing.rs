//! The canvas a 2-D distribution is drawn on, as in GAN Lab: drag to paint points,
//! right-drag to erase them. The points live in the experiment (`DataConfig::Drawn`), so
//! a saved preset keeps the drawing.

use crate::config::MAX_DRAWN;
use eframe::egui::{self, Color32, Pos2, Sense, Stroke, Vec2};

/// The canvas spans -EXTENT..EXTENT on both axes (the built-in sets fit in -3..3).
const EXTENT: f32 = 3.0;
/// A drag adds a point each time the pointer has moved this far (data units).
const STEP: f32 = 0.04;
/// Right-drag erases points within this distance of the pointer (data units).
const ERASER: f32 = 0.2;

/// Draws the canvas and applies the user's strokes; true when the points changed.
pub fn canvas(ui: &mut egui::Ui, points: &mut Vec<[f32; 2]>) -> bool {
    let side = ui.available_width().clamp(160.0, 320.0);
    // A fixed id: the panel gains widgets when the drawing becomes valid (the cost
    // readout), and an automatic id would change under a stroke and end it.
    let (rect, _) = ui.allocate_exact_size(Vec2::splat(side), Sense::hover());
    let response = ui.interact(
        rect,
        egui::Id::unique("genlab-drawing-canvas"),
        Sense::click_and_drag(),
    );
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Canvas, true, "drawing canvas"));
    let to_screen = |p: [f32; 2]| {
        Pos2::new(
            rect.left() + (p[0] + EXTENT) / (2.0 * EXTENT) * rect.width(),
            rect.bottom() - (p[1] + EXTENT) / (2.0 * EXTENT) * rect.height(),
        )
    };
    let to_data = |p: Pos2| {
        [
            (p.x - rect.left()) / rect.width() * 2.0 * EXTENT - EXTENT,
            (rect.bottom() - p.y) / rect.height() * 2.0 * EXTENT - EXTENT,
        ]
    };
    let history = egui::Id::unique("genlab-drawing-history");
    let mut changed = false;
    // Each stroke or erase starts from a state that undo can return to.
    if response.hovered() && ui.input(|i| i.pointer.any_pressed()) {
        remember(ui, history, points);
    }
    if let Some(pos) = response
        .interact_pointer_pos()
        .filter(|p| rect.contains(*p))
    {
        let at = to_data(pos);
        let near = |q: &[f32; 2], r: f32| (q[0] - at[0]).hypot(q[1] - at[1]) < r;
        let (primary, secondary) =
            ui.input(|i| (i.pointer.primary_down(), i.pointer.secondary_down()));
        if secondary {
            let before = points.len();
            points.retain(|q| !near(q, ERASER));
            changed = points.len() != before;
        } else if (primary || response.clicked())
            && points.len() < MAX_DRAWN
            && (response.drag_started() || !points.last().is_some_and(|q| near(q, STEP)))
        {
            points.push([round(at[0]), round(at[1])]);
            changed = true;
        }
    }
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 2.0, Color32::from_gray(18));
    for k in -2..=2 {
        let colour = if k == 0 { 70 } else { 40 };
        let stroke = Stroke::new(1.0, Color32::from_gray(colour));
        let v = k as f32;
        painter.line_segment([to_screen([v, -EXTENT]), to_screen([v, EXTENT])], stroke);
        painter.line_segment([to_screen([-EXTENT, v]), to_screen([EXTENT, v])], stroke);
    }
    for p in points.iter() {
        painter.circle_filled(to_screen(*p), 2.0, Color32::from_rgb(80, 160, 255));
    }
    if points.is_empty() {
        painter.text(
            rect.center(),
            egui::Align2::CENTER_CENTER,
            "drag here to draw the data\nright-drag erases",
            egui::FontId::proportional(14.0),
            Color32::from_gray(150),
        );
    }
    ui.painter().rect_stroke(
        rect,
        2.0,
        Stroke::new(1.0, Color32::from_gray(90)),
        egui::StrokeKind::Inside,
    );
    ui.horizontal(|ui| {
        ui.label(format!("{} points", points.len()));
        let undoable = ui.data(|d| {
            d.get_temp::<Vec<Vec<[f32; 2]>>>(history)
                .is_some_and(|h| !h.is_empty())
        });
        if ui
            .add_enabled(undoable, egui::Button::new("undo"))
            .on_hover_text("Take back the last stroke, erase or clear")
            .clicked()
        {
            if let Some(before) = ui.data_mut(|d| {
                d.get_temp_mut_or_default::<Vec<Vec<[f32; 2]>>>(history)
                    .pop()
            }) {
                *points = before;
                changed = true;
            }
        }
        if ui.button("clear").clicked() && !points.is_empty() {
            remember(ui, history, points);
            points.clear();
            changed = true;
        }
    });
    changed
}

/// Strokes that undo can take back.
const UNDO_DEPTH: usize = 100;

/// Keeps `points` as they are, for undo.
fn remember(ui: &egui::Ui, history: egui::Id, points: &[[f32; 2]]) {
    ui.data_mut(|d| {
        let h = d.get_temp_mut_or_default::<Vec<Vec<[f32; 2]>>>(history);
        if h.len() >= UNDO_DEPTH {
            h.remove(0);
        }
        h.push(points.to_vec());
    });
}

/// Three decimals: a preset file stays readable and the drawing loses nothing visible.
fn round(v: f32) -> f32 {
    (v * 1000.0).round() / 1000.0
}
