//! Human evaluation: the fool rate's interval, the blind test's items and the file the
//! answers go to.

use genlab::config::DataConfig;
use genlab::data::Dataset;
use genlab::eval::human::{self, exhibits, image_cells, Answer, BlindTest, Exhibit, Rate, Tally};
use genlab::train::tensors::image_grid;
use genlab::train::{PointsView, RgbaImage, Samples};

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 5e-4
}

#[test]
fn the_fool_rate_interval_is_wilsons() {
    // Published 95% Wilson intervals.
    for (k, n, low, high) in [
        (0, 10, 0.0, 0.2775),
        (5, 10, 0.2366, 0.7634),
        (10, 10, 0.7225, 1.0),
        (1, 20, 0.0089, 0.2361),
        (50, 100, 0.4038, 0.5962),
    ] {
        let r = Rate::of(k, n).unwrap();
        assert!(
            close(r.low, low) && close(r.high, high),
            "{k} of {n}: [{:.4}, {:.4}], want [{low}, {high}]",
            r.low,
            r.high
        );
        assert!(r.low <= r.value && r.value <= r.high);
    }
    assert!(Rate::of(0, 0).is_none() && Rate::of(3, 2).is_none());
    // More answers, a narrower interval around the same rate.
    let (few, many) = (Rate::of(3, 10).unwrap(), Rate::of(30, 100).unwrap());
    assert!(many.high - many.low < 0.5 * (few.high - few.low));
    assert_eq!(format!("{few}"), "30% [11%, 60%] of 10");
}

fn plain(rgb: [u8; 3]) -> Exhibit {
    Exhibit {
        picture: RgbaImage {
            width: 2,
            height: 1,
            pixels: [rgb[0], rgb[1], rgb[2], 255, 0, 0, 0, 255].to_vec(),
        },
        clip: None,
        text: None,
    }
}

#[test]
fn a_sitting_mixes_real_and_generated_without_repeats_and_counts_the_answers() {
    // Real items are red with distinct green levels, generated ones blue.
    let real: Vec<Exhibit> = (0..30).map(|i| plain([255, i, 0])).collect();
    let generated: Vec<Exhibit> = (0..30).map(|i| plain([0, i, 255])).collect();
    let mut test = BlindTest::new(real, generated, 700, 20, 1).unwrap();
    assert_eq!(test.len(), 20);
    let mut seen = Vec::new();
    let mut reals = 0;
    // This person always says "real": generated items all fool them.
    while let Some(item) = test.current() {
        let px = item.picture.pixels[..3].to_vec();
        assert!(!seen.contains(&px), "item shown twice");
        seen.push(px.clone());
        let is_real = px[0] == 255;
        reals += is_real as usize;
        let a = test.answer(true).unwrap();
        assert_eq!(a.real, is_real);
        assert_eq!(a.step, 700);
    }
    assert!(
        (4..=16).contains(&reals),
        "{reals} of 20 real: not a coin flip"
    );
    let t = test.tally();
    assert_eq!(t.real, reals);
    assert_eq!(t.generated, 20 - reals);
    assert_eq!(t.fooled, 20 - reals);
    assert_eq!(t.fool_rate().unwrap().value, 1.0);
    assert!(test.answer(false).is_none(), "answered past the end");
    // Two sittings with different seeds show different orders.
    let order = |seed| {
        let t = BlindTest::new(
            (0..30).map(|i| plain([255, i, 0])).collect(),
            (0..30).map(|i| plain([0, i, 255])).collect(),
            0,
            20,
            seed,
        )
        .unwrap();
        t.current().unwrap().picture.pixels.clone()
    };
    assert!((2..8).any(|s| order(s) != order(1)));
    // A small pool runs out and the other fills the sitting.
    let t = BlindTest::new(
        vec![plain([255, 0, 0])],
        (0..30).map(|i| plain([0, i, 255])).collect(),
        0,
        10,
        3,
    )
    .unwrap();
    assert_eq!(t.len(), 10);
    assert!(BlindTest::new(Vec::new(), vec![plain([0, 0, 255])], 0, 10, 3).is_err());
}

#[test]
fn answers_are_appended_to_the_run_folder_and_read_back_per_step() {
    let dir = tempfile::tempdir().unwrap();
    assert!(human::read(dir.path()).unwrap().is_empty());
    let a = |step, real, said_real| Answer {
        step,
        item: 0,
        real,
        said_real,
        seconds: 1.5,
    };
    human::append(dir.path(), "1", &[a(100, false, true), a(100, true, true)]).unwrap();
    human::append(
        dir.path(),
        "2",
        &[a(100, false, false), a(500, false, true)],
    )
    .unwrap();
    // A line cut short by a crash is skipped, not fatal.
    let path = dir.path().join(human::FILE);
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("3,500,1,gene");
    std::fs::write(&path, text).unwrap();
    let per_step = human::read(dir.path()).unwrap();
    assert_eq!(
        per_step[&100],
        Tally {
            generated: 2,
            fooled: 1,
            real: 1,
            real_called_real: 1
        }
    );
    assert_eq!(per_step[&500].fooled, 1);
    assert_eq!(per_step.len(), 2);
    // The runs list carries them.
    std::fs::write(dir.path().join("metrics.csv"), "step,elapsed_s\n").unwrap();
    let info = genlab::run::folder::read_run(dir.path());
    assert_eq!(info.human_eval, per_step);
    // A file that is not ours is named, not misread.
    std::fs::write(&path, "a,b\n1,2\n").unwrap();
    let e = human::read(dir.path()).unwrap_err();
    assert!(e.contains("not a human evaluation file"), "{e}");
}

#[test]
fn items_are_the_datas_images_and_the_snapshots_cells() {
    let Dataset::Images(set) = Dataset::load(&DataConfig::Shapes { count: 200 }, 4).unwrap() else {
        panic!("shapes are images");
    };
    let n = 12;
    let grid = image_grid(
        &set.pixels[..n * set.image_len()],
        n,
        set.channels,
        [set.height, set.width],
        8,
    );
    // The grid's cells are the images, the empty ones of its short last row left out.
    let cells = image_cells(&grid, [set.width + 1, set.height + 1]);
    assert_eq!(cells.len(), n);
    for (i, cell) in cells.iter().enumerate() {
        let one = image_grid(
            &set.pixels[i * set.image_len()..(i + 1) * set.image_len()],
            1,
            set.channels,
            [set.height, set.width],
            1,
        );
        assert_eq!(image_cells(&one, [set.width + 1, set.height + 1])[0], *cell);
        assert_eq!((cell.width, cell.height), (set.width, set.height));
    }
    let snapshot = Samples::grid(grid);
    let (real, generated) = exhibits(&Dataset::Images(set.clone()), &snapshot, 9).unwrap();
    assert_eq!(real.len(), human::POOL);
    assert_eq!(generated.len(), n);
    assert_eq!(real[0].picture.width, set.width);
    // Another seed picks other real images.
    let (again, _) = exhibits(&Dataset::Images(set), &snapshot, 10).unwrap();
    assert_ne!(real, again);
}

#[test]
fn points_become_patches_in_one_frame_without_colour_cues() {
    let data = Dataset::load(&crate::preset("gan_ring.toml").data, 1).unwrap();
    let Dataset::Points(set) = &data else {
        panic!("the ring is points");
    };
    // "Generated" points that are the real ones: each patch must look alike, in the
    // same colours, whichever pool it came from.
    let view = PointsView {
        generated: set.points[..1000].to_vec(),
        bounds: genlab::train::bounds_of(&set.points),
        ..PointsView::default()
    };
    let (real, generated) = exhibits(&data, &Samples::Points(view), 2).unwrap();
    assert_eq!(
        generated.len(),
        1000 / genlab::modality::points::PATCH_POINTS
    );
    assert_eq!(real.len(), human::POOL);
    let colours = |e: &Exhibit| {
        let mut c: Vec<[u8; 3]> = e
            .picture
            .pixels
            .chunks_exact(4)
            .map(|p| [p[0], p[1], p[2]])
            .collect();
        c.sort();
        c.dedup();
        c
    };
    assert_eq!(colours(&real[0]), colours(&generated[0]));
    assert_eq!(colours(&real[0]).len(), 2, "a patch is dots on white");
    // Mismatched kinds are an error, not a panic.
    assert!(exhibits(
        &data,
        &Samples::grid(image_grid(&[0.5; 4], 1, 1, [2, 2], 1)),
        0
    )
    .is_err());
}

#[test]
fn clips_are_items_to_hear_and_to_see() {
    let data = Dataset::load(&DataConfig::Tones { count: 200 }, 1).unwrap();
    let Dataset::Audio(set) = &data else {
        panic!("tones are audio");
    };
    let generated: Vec<Vec<f32>> = (0..5).map(|i| set.clip(i).to_vec()).collect();
    let view = genlab::train::AudioView::of(set.sample_rate, generated.clone());
    let (real, made) = exhibits(&data, &Samples::Audio(view), 3).unwrap();
    assert_eq!((real.len(), made.len()), (human::POOL, 5));
    let (clip, rate) = made[2].clip.clone().expect("a sound");
    assert_eq!((clip, rate), (generated[2].clone(), set.sample_rate));
    assert!(real.iter().all(|e| e.clip.is_some() && e.picture.width > 0));
    // The picture is the clip's spectrogram, the same for the same clip.
    let (_, again) = exhibits(
        &data,
        &Samples::Audio(genlab::train::AudioView::of(set.sample_rate, generated)),
        4,
    )
    .unwrap();
    assert_eq!(made[2].picture, again[2].picture);
}

#[test]
fn a_saved_sample_grid_comes_back_at_one_pixel_per_pixel() {
    let data = Dataset::load(&DataConfig::Shapes { count: 200 }, 2).unwrap();
    let Dataset::Images(set) = &data else {
        panic!("shapes are images");
    };
    let grid = image_grid(&set.pixels[..20 * set.image_len()], 20, 1, [28, 28], 8);
    let dir = tempfile::tempdir().unwrap();
    for scale in [1, 3, 4] {
        let path = dir.path().join(format!("step_{scale}.png"));
        genlab::run::render::save_png(&grid, &path, scale).unwrap();
        let back = genlab::modality::images::saved_grid(&path, &data).unwrap();
        assert_eq!(back, grid, "scale {scale}");
    }
    // A picture that is no grid of the data's images is named.
    let odd = dir.path().join("odd.png");
    genlab::run::render::save_png(&image_grid(&[0.5; 30 * 30], 1, 1, [30, 30], 1), &odd, 1)
        .unwrap();
    let e = genlab::modality::images::saved_grid(&odd, &data).unwrap_err();
    assert!(e.contains("not a grid of 28x28"), "{e}");
}
