//! The presets shipped in presets/, embedded so the app works from any folder.

use super::Experiment;

/// (file name, TOML text) of every shipped preset.
pub const BUILTIN: &[(&str, &str)] = &[
    ("gan_ring.toml", include_str!("../../presets/gan_ring.toml")),
    ("gan_grid.toml", include_str!("../../presets/gan_grid.toml")),
    (
        "gan_moons_lsgan.toml",
        include_str!("../../presets/gan_moons_lsgan.toml"),
    ),
    (
        "gan_spiral_hinge.toml",
        include_str!("../../presets/gan_spiral_hinge.toml"),
    ),
    (
        "wgan_ring.toml",
        include_str!("../../presets/wgan_ring.toml"),
    ),
    (
        "gan_ring_spectral.toml",
        include_str!("../../presets/gan_ring_spectral.toml"),
    ),
    (
        "gan_drawn_heart.toml",
        include_str!("../../presets/gan_drawn_heart.toml"),
    ),
    (
        "dcgan_shapes.toml",
        include_str!("../../presets/dcgan_shapes.toml"),
    ),
    (
        "vae_mlp_shapes.toml",
        include_str!("../../presets/vae_mlp_shapes.toml"),
    ),
    (
        "vae_latent2_shapes.toml",
        include_str!("../../presets/vae_latent2_shapes.toml"),
    ),
    (
        "vae_conv_shapes.toml",
        include_str!("../../presets/vae_conv_shapes.toml"),
    ),
    (
        "beta_vae_shapes.toml",
        include_str!("../../presets/beta_vae_shapes.toml"),
    ),
    (
        "wavegan_tones.toml",
        include_str!("../../presets/wavegan_tones.toml"),
    ),
    (
        "vae_conv_tones.toml",
        include_str!("../../presets/vae_conv_tones.toml"),
    ),
    (
        "gan_mnist_idx.toml",
        include_str!("../../presets/gan_mnist_idx.toml"),
    ),
    (
        "dcgan_mnist_idx.toml",
        include_str!("../../presets/dcgan_mnist_idx.toml"),
    ),
    (
        "gan_mnist_folder.toml",
        include_str!("../../presets/gan_mnist_folder.toml"),
    ),
    (
        "wavegan_wav_folder.toml",
        include_str!("../../presets/wavegan_wav_folder.toml"),
    ),
    ("lm_names.toml", include_str!("../../presets/lm_names.toml")),
    (
        "vae_names.toml",
        include_str!("../../presets/vae_names.toml"),
    ),
    (
        "gan_names.toml",
        include_str!("../../presets/gan_names.toml"),
    ),
    (
        "lm_text_file.toml",
        include_str!("../../presets/lm_text_file.toml"),
    ),
];

/// The shipped presets that parse (all of them, as a test checks).
pub fn builtin() -> Vec<(&'static str, Experiment)> {
    BUILTIN
        .iter()
        .filter_map(|(name, text)| Experiment::from_toml(text).ok().map(|e| (*name, e)))
        .collect()
}
