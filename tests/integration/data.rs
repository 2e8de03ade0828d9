use genlab::config::ToyShape;
use genlab::data::DataError;
use genlab::modality::images::{idx, shapes};
use genlab::modality::points::{csv as csv_points, toy};
use std::path::Path;

fn write_mnist_like(dir: &Path, n: u32, gzip: bool) -> (std::path::PathBuf, std::path::PathBuf) {
    let ext = if gzip { ".gz" } else { "" };
    let images = dir.join(format!("imgs-idx3-ubyte{ext}"));
    let labels = dir.join(format!("labels-idx1-ubyte{ext}"));
    let pixels: Vec<u8> = (0..n * 28 * 28).map(|i| (i % 251) as u8).collect();
    idx::write(&images, true, &[n, 28, 28], &pixels, gzip).expect("write images");
    let lab: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
    idx::write(&labels, false, &[n], &lab, gzip).expect("write labels");
    (images, labels)
}

#[test]
fn idx_files_load_with_the_right_shapes_plain_and_gzip() {
    let dir = tempfile::tempdir().expect("tempdir");
    for gzip in [false, true] {
        let (images, labels) = write_mnist_like(dir.path(), 7, gzip);
        let set = idx::read_images(&images, Some(&labels)).expect("load");
        assert_eq!(
            (set.len(), set.channels, set.height, set.width),
            (7, 1, 28, 28)
        );
        assert_eq!(set.labels.as_ref().map(|l| l.len()), Some(7));
        assert_eq!(set.labels.as_ref().map(|l| l[3]), Some(3));
        assert!((set.pixels[1] - 1.0 / 255.0).abs() < 1e-6);
        assert!(set.pixels.iter().all(|p| (0.0..=1.0).contains(p)));
        let no_labels = idx::read_images(&images, None).expect("load without labels");
        assert!(no_labels.labels.is_none());
    }
}

fn expect_malformed(result: Result<genlab::data::ImageSet, DataError>, needle: &str) {
    match result {
        Err(e @ DataError::Malformed { .. }) => {
            assert!(e.to_string().contains(needle), "{e} lacks {needle}")
        }
        Err(e) => panic!("wrong error kind: {e}"),
        Ok(_) => panic!("malformed file accepted"),
    }
}

#[test]
fn idx_rejects_truncated_wrong_magic_and_mismatched_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (images, labels) = write_mnist_like(dir.path(), 5, false);
    let bytes = std::fs::read(&images).expect("read");
    // Truncated data, and a header cut in the middle.
    let cut = dir.path().join("cut");
    std::fs::write(&cut, &bytes[..bytes.len() - 100]).expect("write");
    expect_malformed(idx::read_images(&cut, None), "truncated");
    std::fs::write(&cut, &bytes[..10]).expect("write");
    expect_malformed(idx::read_images(&cut, None), "truncated header");
    // Wrong magic: a labels file given as images.
    expect_malformed(idx::read_images(&labels, None), "wrong magic");
    // Extra bytes after the declared data.
    let long = dir.path().join("long");
    let mut extra = bytes.clone();
    extra.extend_from_slice(&[0; 10]);
    std::fs::write(&long, &extra).expect("write");
    expect_malformed(idx::read_images(&long, None), "size mismatch");
    // Label count differs from image count.
    let (_, other_labels) = write_mnist_like(&dir.path().join(""), 5, true);
    let (img3, _) = {
        let d = dir.path().join("three");
        std::fs::create_dir_all(&d).expect("mkdir");
        write_mnist_like(&d, 3, false)
    };
    expect_malformed(
        idx::read_images(&img3, Some(&other_labels)),
        "5 labels for 3 images",
    );
    // A header that declares 4 billion images must fail without allocating them.
    let huge = dir.path().join("huge");
    let mut h = vec![0, 0, 8, 3];
    h.extend_from_slice(&u32::MAX.to_be_bytes());
    h.extend_from_slice(&28u32.to_be_bytes());
    h.extend_from_slice(&28u32.to_be_bytes());
    std::fs::write(&huge, &h).expect("write");
    expect_malformed(idx::read_images(&huge, None), "bytes");
    // Garbage that claims to be gzip.
    let gz = dir.path().join("bad.gz");
    std::fs::write(&gz, [0x1f, 0x8b, 1, 2, 3]).expect("write");
    assert!(idx::read_images(&gz, None).is_err());
    // A missing file is an I/O error naming the path.
    let err = idx::read_images(&dir.path().join("nope"), None).expect_err("missing file");
    assert!(err.to_string().contains("nope"));
}

#[test]
fn csv_points_parse_with_header_and_reject_bad_rows() {
    let p = Path::new("pts.csv");
    let set =
        csv_points::parse("x,y\n1,2\n3.5, -4\n\n# comment\n5,6\n".as_bytes(), p).expect("parse");
    assert_eq!(set.points, vec![[1.0, 2.0], [3.5, -4.0], [5.0, 6.0]]);
    let err = csv_points::parse("1,2\n3,abc\n".as_bytes(), p).expect_err("bad number");
    assert!(err.to_string().contains("line 2"), "{err}");
    let err = csv_points::parse("1\n2\n".as_bytes(), p).expect_err("one column");
    assert!(err.to_string().contains("column"), "{err}");
    assert!(csv_points::parse("1,NaN\n2,3\n".as_bytes(), p).is_err());
    assert!(csv_points::parse("".as_bytes(), p).is_err());
}

#[test]
fn toy_distributions_have_their_shape() {
    for shape in ToyShape::ALL {
        let set = toy::sample(shape, 0.02, 2000, 1);
        assert_eq!(set.points.len(), 2000);
        assert!(
            set.points
                .iter()
                .all(|p| p[0].is_finite() && p[0].abs() < 5.0 && p[1].abs() < 5.0),
            "{shape:?}"
        );
    }
    let ring = toy::sample(ToyShape::Ring, 0.02, 4000, 1);
    let cov = genlab::modality::points::quality::mode_coverage(&ring.points, &ring.modes, 0.02);
    assert_eq!(cov.modes_covered, 8);
    assert!(cov.high_quality > 0.98, "{cov:?}");
    let grid = toy::sample(ToyShape::Grid, 0.02, 5000, 1);
    assert_eq!(
        genlab::modality::points::quality::mode_coverage(&grid.points, &grid.modes, 0.02)
            .modes_covered,
        25
    );
    // More noise spreads the points.
    let wide = toy::sample(ToyShape::Ring, 0.3, 4000, 1);
    assert!(
        genlab::modality::points::quality::mode_coverage(&wide.points, &wide.modes, 0.02)
            .high_quality
            < 0.2
    );
}

#[test]
fn mode_coverage_counts_only_covered_modes() {
    let ring = toy::sample(ToyShape::Ring, 0.02, 8000, 3);
    // Keep the points of 5 modes only.
    let five: Vec<[f32; 2]> = ring
        .points
        .iter()
        .filter(|p| {
            let a = p[1].atan2(p[0]).rem_euclid(std::f32::consts::TAU);
            ((a / (std::f32::consts::PI / 4.0)).round() as usize % 8) < 5
        })
        .copied()
        .collect();
    let cov = genlab::modality::points::quality::mode_coverage(&five, &ring.modes, 0.02);
    assert_eq!(cov.modes_covered, 5);
    // A collapsed generator: every sample at one point.
    let collapsed = vec![[2.0f32, 0.0]; 1000];
    assert_eq!(
        genlab::modality::points::quality::mode_coverage(&collapsed, &ring.modes, 0.02)
            .modes_covered,
        1
    );
}

#[test]
fn shapes_are_labelled_distinct_images() {
    let set = shapes::generate(80, 0);
    assert_eq!((set.len(), set.height, set.width), (80, 28, 28));
    let labels = set.labels.as_ref().expect("labels");
    assert_eq!(labels[9], 1);
    for i in 0..8 {
        let img = set.image(i);
        let ink: f32 = img.iter().sum();
        assert!(ink > 15.0 && ink < 500.0, "class {i} has {ink} ink");
    }
    // Same seed, same images; another seed, other jitter.
    assert_eq!(shapes::generate(8, 0).pixels, shapes::generate(8, 0).pixels);
    assert_ne!(shapes::generate(8, 0).pixels, shapes::generate(8, 1).pixels);
}

#[test]
fn image_folders_load_resized_and_reject_broken_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    for i in 0..3u8 {
        let img = image::RgbImage::from_fn(40, 30, |x, _| image::Rgb([x as u8 * 6, i * 80, 0]));
        img.save(dir.path().join(format!("{i}.png"))).expect("save");
    }
    let gray = genlab::modality::images::folder::read(dir.path(), 16, false, 0).expect("gray");
    assert_eq!((gray.len(), gray.channels, gray.height), (3, 1, 16));
    let rgb = genlab::modality::images::folder::read(dir.path(), 8, true, 0).expect("rgb");
    assert_eq!((rgb.len(), rgb.channels, rgb.width), (3, 3, 8));
    std::fs::write(dir.path().join("broken.jpg"), b"not a jpeg").expect("write");
    let err = genlab::modality::images::folder::read(dir.path(), 8, true, 0)
        .expect_err("broken file accepted");
    assert!(err.to_string().contains("broken.jpg"), "{err}");
    let empty = tempfile::tempdir().expect("tempdir");
    assert!(genlab::modality::images::folder::read(empty.path(), 8, false, 0).is_err());
}

/// A folder of class subfolders (torchvision's ImageFolder layout) is labelled by
/// subfolder in name order, read in a seeded shuffled order with each label kept beside its
/// image; hidden and image-less subfolders are skipped; a folder with images of its own
/// stays unlabelled.
#[test]
fn image_folders_with_class_subfolders_are_labelled() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Class k's images have brightness 40 * k, so each label can be checked on its pixels.
    for (class, count) in [("a_dark", 3u8), ("b_mid", 2), ("c_bright", 4)] {
        let sub = dir.path().join(class);
        std::fs::create_dir(&sub).expect("mkdir");
        let level = match class {
            "a_dark" => 0,
            "b_mid" => 80,
            _ => 160,
        };
        for i in 0..count {
            image::GrayImage::from_pixel(6, 6, image::Luma([level]))
                .save(sub.join(format!("{i}.png")))
                .expect("save");
        }
    }
    std::fs::create_dir(dir.path().join(".cache")).expect("mkdir");
    image::GrayImage::new(6, 6)
        .save(dir.path().join(".cache/x.png"))
        .expect("save");
    std::fs::create_dir(dir.path().join("notes")).expect("mkdir");
    std::fs::write(dir.path().join("notes/readme.txt"), "x").expect("write");

    let listing = genlab::modality::images::folder::image_files(dir.path()).expect("listing");
    assert_eq!(listing.classes, ["a_dark", "b_mid", "c_bright"]);
    assert_eq!(listing.files.len(), 9);
    let set = genlab::modality::images::folder::read(dir.path(), 6, false, 3).expect("read");
    let labels = set.labels.as_ref().expect("labels");
    assert_eq!(labels.len(), 9);
    for (i, &label) in labels.iter().enumerate() {
        let level = set.image(i)[0] * 255.0;
        assert!(
            (level - 80.0 * label as f32).abs() < 1.0,
            "image {i}: {level} vs class {label}"
        );
    }
    let mut counts = [0; 3];
    labels.iter().for_each(|&l| counts[l as usize] += 1);
    assert_eq!(counts, [3, 2, 4]);
    assert_ne!(labels, &[0, 0, 0, 1, 1, 2, 2, 2, 2], "not shuffled");
    let again = genlab::modality::images::folder::read(dir.path(), 6, false, 3).expect("read");
    assert_eq!(again.labels, set.labels, "the same seed, another order");

    // Images of its own: a flat, unlabelled folder, as before.
    image::GrayImage::new(6, 6)
        .save(dir.path().join("top.png"))
        .expect("save");
    let flat = genlab::modality::images::folder::read(dir.path(), 6, false, 3).expect("read");
    assert_eq!((flat.len(), flat.labels.is_none()), (1, true));

    let no_images = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(no_images.path().join("empty")).expect("mkdir");
    let err = genlab::modality::images::folder::read(no_images.path(), 6, false, 0)
        .expect_err("no images");
    assert!(err.to_string().contains("or in its subfolders"), "{err}");
}

/// IDX images that are not square (20 rows of 12 columns) train an MLP GAN and an MLP
/// VAE through their snapshots (sample grids, reconstructions, traversals) to the end;
/// they once crashed every run at the first snapshot. A conv model is refused with the
/// reason.
#[test]
fn non_square_idx_images_train_through_their_snapshots() {
    use genlab::config::{DataConfig, ModelConfig, NetConfig};
    use genlab::train::{Event, Samples, Session};
    let dir = tempfile::tempdir().expect("tempdir");
    let images = dir.path().join("wide-idx3-ubyte");
    let n = 64u32;
    let pixels: Vec<u8> = (0..n * 20 * 12).map(|i| (i * 7 % 256) as u8).collect();
    idx::write(&images, true, &[n, 20, 12], &pixels, false).expect("write");
    let data = DataConfig::Idx {
        images: images.clone(),
        labels: None,
    };
    for name in ["vae_mlp_shapes.toml", "gan_ring.toml", "dcgan_shapes.toml"] {
        let mut exp = crate::preset(name);
        exp.data = data.clone();
        if let ModelConfig::Gan { generator, .. } = &mut exp.model {
            if name == "gan_ring.toml" {
                *generator = NetConfig::Mlp {
                    hidden: vec![32],
                    activation: Default::default(),
                    batch_norm: false,
                };
            }
        }
        exp.training.steps = 4;
        exp.training.samples_every = 2;
        exp.training.batch_size = 16;
        let session = Session::start(exp).expect("start");
        let mut end = None;
        while let Some(e) = session.next_event(std::time::Duration::from_secs(60)) {
            match e {
                Event::Finished { step, .. } => {
                    end = Some(Ok(step));
                    break;
                }
                Event::Failed { reason, .. } => {
                    end = Some(Err(reason));
                    break;
                }
                _ => {}
            }
        }
        let end = end.expect("no end reported");
        if name == "dcgan_shapes.toml" {
            let reason = end.expect_err("a conv model on non-square images");
            assert!(reason.contains("square"), "{reason}");
            continue;
        }
        assert_eq!(end, Ok(4), "{name}");
        let snaps = session.drain_snapshots();
        let Some(Samples::Images { grid, .. }) = snaps.last().map(|s| &s.samples) else {
            panic!("{name}: no image snapshot");
        };
        // Cells of 12 columns by 20 rows, with a one-pixel border.
        assert_eq!((grid.width - 1) % 13, 0, "{name}: {}", grid.width);
        assert_eq!((grid.height - 1) % 21, 0, "{name}: {}", grid.height);
    }
}
