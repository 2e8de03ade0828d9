//! The text view: generated items (novel ones plain, memorised ones greyed and marked),
//! items of the data beside them, and how the model drew the first item, character by
//! character.

use crate::train::TextView;
use eframe::egui;

/// What the view asks the window to do.
pub enum TextAction {
    /// Save the generated items as a text file.
    Save,
    /// VAE: interpolate between these two held-out items.
    Interpolate(usize, usize),
}

/// Draws `view` scaled by `zoom`; `generated` is false for the data before training.
pub fn text_ui(
    ui: &mut egui::Ui,
    view: &TextView,
    zoom: f32,
    generated: bool,
) -> Option<TextAction> {
    let mut action = None;
    let size = 14.0 * zoom.clamp(0.5, 4.0);
    let mono = egui::FontId::monospace(size);
    let weak = ui.visuals().weak_text_color();
    let strong = ui.visuals().strong_text_color();
    if generated {
        ui.horizontal_wrapped(|ui| {
            ui.label(format!(
                "{} items drawn at temperature 1, {:.0} % of them novel (plain); memorised ones, in the training set, in grey italics",
                view.generated.len(),
                view.novel_share() * 100.0
            ));
            if ui.button("Save as text...").clicked() {
                action = Some(TextAction::Save);
            }
        });
    }
    egui::ScrollArea::both().show(ui, |ui| {
        ui.horizontal_top(|ui| {
            if generated {
                ui.vertical(|ui| {
                    ui.strong("generated");
                    item_columns(ui, "generated", &view.generated, |i| {
                        let novel = view.novel.get(i).copied().unwrap_or(false);
                        let text = egui::RichText::new(&view.generated[i]).font(mono.clone());
                        if novel {
                            (text.color(strong), "novel: not in the training set")
                        } else {
                            (
                                text.color(weak).italics(),
                                "memorised: this item is in the training set",
                            )
                        }
                    });
                });
                ui.separator();
            }
            ui.vertical(|ui| {
                ui.strong(if generated {
                    "from the data"
                } else {
                    "the data, before training"
                });
                item_columns(ui, "real", &view.real, |i| {
                    (
                        egui::RichText::new(&view.real[i]).font(mono.clone()),
                        "an item of the training set",
                    )
                });
            });
            if generated && !view.reconstructions.is_empty() {
                ui.separator();
                ui.vertical(|ui| {
                    if let Some(a) = vae_ui(ui, view, &mono) {
                        action = Some(a);
                    }
                });
            }
            if generated && !view.positions.is_empty() {
                ui.separator();
                ui.vertical(|ui| positions_ui(ui, view, &mono));
            }
        });
    });
    action
}

/// Items in columns of at most 16 rows.
fn item_columns(
    ui: &mut egui::Ui,
    id: &str,
    items: &[String],
    mut cell: impl FnMut(usize) -> (egui::RichText, &'static str),
) {
    const ROWS: usize = 16;
    ui.horizontal_top(|ui| {
        for start in (0..items.len()).step_by(ROWS) {
            ui.push_id((id, start), |ui| {
                ui.vertical(|ui| {
                    for i in start..(start + ROWS).min(items.len()) {
                        let (text, hover) = cell(i);
                        ui.label(text).on_hover_text(hover);
                    }
                });
            });
        }
    });
}

/// One row per position of the first generated item: the character drawn, its
/// probability, and the likeliest characters as bars.
fn positions_ui(ui: &mut egui::Ui, view: &TextView, mono: &egui::FontId) {
    ui.strong("how the first item was drawn")
        .on_hover_text("At each position, the model's probabilities for the next character (the likeliest five) and the one drawn; the end of the item is shown as \"end\"");
    let shown = |c: Option<char>| c.map_or("end".to_owned(), |c| c.to_string());
    egui::Grid::new("positions").striped(true).show(ui, |ui| {
        for (k, p) in view.positions.iter().enumerate() {
            ui.label(format!("{}", k + 1));
            ui.label(
                egui::RichText::new(shown(p.chosen))
                    .font(mono.clone())
                    .strong(),
            );
            ui.label(format!("{:.0} %", p.probability * 100.0));
            ui.horizontal(|ui| {
                for (c, q) in &p.top {
                    let width = 4.0 + 56.0 * q;
                    let (rect, _) =
                        ui.allocate_exact_size(egui::vec2(width, 12.0), egui::Sense::hover());
                    let colour = if *c == p.chosen {
                        egui::Color32::from_rgb(230, 140, 40)
                    } else {
                        egui::Color32::from_rgb(70, 120, 200)
                    };
                    ui.painter().rect_filled(rect, 2.0, colour);
                    ui.label(egui::RichText::new(shown(*c)).font(mono.clone()))
                        .on_hover_text(format!("{:.1} %", q * 100.0));
                }
            });
            ui.end_row();
        }
    });
}

/// VAE: held-out items beside their reconstructions, and the interpolation between two
/// of them (chosen by their numbers in the reconstruction list).
fn vae_ui(ui: &mut egui::Ui, view: &TextView, mono: &egui::FontId) -> Option<TextAction> {
    let mut action = None;
    ui.strong("held-out item -> reconstruction")
        .on_hover_text("Each held-out name encoded to its posterior mean and decoded with the likeliest letter at each step: the code carries what survives");
    egui::Grid::new("reconstructions").show(ui, |ui| {
        for (i, (input, output)) in view.reconstructions.iter().enumerate() {
            ui.label(format!("{}", i + 1));
            ui.label(egui::RichText::new(input).font(mono.clone()));
            let same = input == output;
            let text = egui::RichText::new(output).font(mono.clone());
            ui.label(if same { text.strong() } else { text })
                .on_hover_text(if same {
                    "reconstructed exactly"
                } else {
                    "reconstructed with changes"
                });
            ui.end_row();
        }
    });
    if let (Some(first), Some(last)) = (view.interpolation.first(), view.interpolation.last()) {
        ui.add_space(6.0);
        ui.strong("interpolation")
            .on_hover_text("Decodings of evenly spaced points on the straight line between two held-out names' codes");
        let ends = |s: &str| view.reconstructions.iter().position(|(i, _)| i == s);
        let (mut a, mut b) = (ends(first).unwrap_or(0) + 1, ends(last).unwrap_or(1) + 1);
        let n = view.reconstructions.len();
        ui.horizontal(|ui| {
            ui.label("between");
            let ca = ui.add(egui::DragValue::new(&mut a).range(1..=n)).changed();
            ui.label("and");
            let cb = ui.add(egui::DragValue::new(&mut b).range(1..=n)).changed();
            if ca || cb {
                action = Some(TextAction::Interpolate(a - 1, b - 1));
            }
        });
        for (k, item) in view.interpolation.iter().enumerate() {
            let end = k == 0 || k + 1 == view.interpolation.len();
            let text = egui::RichText::new(item).font(mono.clone());
            ui.label(if end { text.strong() } else { text });
        }
    }
    action
}
