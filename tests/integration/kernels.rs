//! GenLab's CPU kernels against burn's reference operations: values and gradients of
//! convolutions and transposed convolutions on random shapes (stride, padding, dilation,
//! odd sizes, batch 1), and matrix products on every instruction set this CPU has.

use burn::prelude::*;
use burn::tensor::module;
use burn::tensor::ops::{ConvOptions, ConvTransposeOptions};
use burn::tensor::Distribution;
use genlab::kernels::gemm::{matmul_on, matmul_rows_on, Isa, MatMut, MatRef};
use genlab::kernels::ops;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn values(t: Tensor<4>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().unwrap()
}

fn values_any<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().unwrap()
}

/// Largest |a - b| relative to the largest |b| (gradients sum many terms, so a
/// per-element relative error is meaningless near zero).
fn assert_close(what: &str, ours: &[f32], reference: &[f32]) {
    assert_eq!(ours.len(), reference.len(), "{what}: lengths");
    let scale = reference.iter().fold(1e-6f32, |m, v| m.max(v.abs()));
    let worst = ours
        .iter()
        .zip(reference)
        .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
    assert!(
        worst / scale < 1e-4,
        "{what}: max difference {worst} against scale {scale}"
    );
    assert!(
        ours.iter().all(|v| v.is_finite()),
        "{what}: non-finite values"
    );
}

struct Case {
    batch: usize,
    c_in: usize,
    c_out: usize,
    h: usize,
    w: usize,
    k: [usize; 2],
    stride: [usize; 2],
    pad: [usize; 2],
    dilation: [usize; 2],
    bias: bool,
}

impl std::fmt::Debug for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "b{} {}->{} {}x{} k{:?} s{:?} p{:?} d{:?} bias {}",
            self.batch,
            self.c_in,
            self.c_out,
            self.h,
            self.w,
            self.k,
            self.stride,
            self.pad,
            self.dilation,
            self.bias
        )
    }
}

fn random_case(rng: &mut StdRng) -> Case {
    Case {
        batch: [1, 2, 3, 5][rng.random_range(0..4)],
        c_in: rng.random_range(1..6),
        c_out: rng.random_range(1..7),
        h: rng.random_range(3..12),
        w: rng.random_range(3..12),
        k: [rng.random_range(1..5), rng.random_range(1..5)],
        stride: [rng.random_range(1..4), rng.random_range(1..4)],
        pad: [rng.random_range(0..3), rng.random_range(0..3)],
        dilation: [rng.random_range(1..3), rng.random_range(1..3)],
        bias: rng.random_bool(0.5),
    }
}

/// The model's own shapes (4x4, stride 2, padding 1) first, then random ones.
fn cases() -> Vec<Case> {
    let dcgan = |batch, c_in, c_out, side, bias| Case {
        batch,
        c_in,
        c_out,
        h: side,
        w: side,
        k: [4, 4],
        stride: [2, 2],
        pad: [1, 1],
        dilation: [1, 1],
        bias,
    };
    let mut cases = vec![
        dcgan(4, 1, 8, 28, true),
        dcgan(1, 8, 16, 14, false),
        dcgan(3, 16, 4, 7, true),
        // batches split into chunks and lanes: 37 images in four lanes of one chunk; the
        // DCGAN's own layer at batch 64, in lanes of two chunks of five and a short last
        dcgan(37, 3, 8, 14, true),
        dcgan(64, 64, 128, 14, false),
    ];
    let mut rng = StdRng::seed_from_u64(7);
    cases.extend((0..40).map(|_| random_case(&mut rng)));
    cases
}

/// Input, weight and bias leaves on the autodiff CPU device, and a fixed random upstream
/// gradient (through a weighted sum, so every output element matters differently).
struct Leaves {
    x: Tensor<4>,
    w: Tensor<4>,
    b: Option<Tensor<1>>,
}

fn leaves(
    x_shape: [usize; 4],
    w_shape: [usize; 4],
    bias: Option<usize>,
    device: &Device,
) -> Leaves {
    let r = |shape: [usize; 4]| Tensor::<4>::random(shape, Distribution::Normal(0.0, 1.0), device);
    Leaves {
        x: r(x_shape).require_grad(),
        w: r(w_shape).require_grad(),
        b: bias.map(|n| {
            Tensor::<1>::random([n], Distribution::Normal(0.0, 1.0), device).require_grad()
        }),
    }
}

/// Values and gradients (x, w, b) of `f` under a random weighting of its output.
fn run_with_grads(
    l: &Leaves,
    f: impl Fn(Tensor<4>, Tensor<4>, Option<Tensor<1>>) -> Tensor<4>,
    weights: &Tensor<4>,
) -> (Vec<f32>, Vec<f32>, Vec<f32>, Option<Vec<f32>>) {
    let y = f(l.x.clone(), l.w.clone(), l.b.clone());
    let grads = (y.clone() * weights.clone()).sum().backward();
    let gx = l.x.grad(&grads).expect("x gradient");
    let gw = l.w.grad(&grads).expect("w gradient");
    let gb =
        l.b.as_ref()
            .map(|b| values_any(b.grad(&grads).expect("bias gradient")));
    (values(y), values(gx), values(gw), gb)
}

fn compare(
    what: &str,
    ours: (Vec<f32>, Vec<f32>, Vec<f32>, Option<Vec<f32>>),
    reference: (Vec<f32>, Vec<f32>, Vec<f32>, Option<Vec<f32>>),
) {
    assert_close(&format!("{what} output"), &ours.0, &reference.0);
    assert_close(&format!("{what} input gradient"), &ours.1, &reference.1);
    assert_close(&format!("{what} weight gradient"), &ours.2, &reference.2);
    if let (Some(a), Some(b)) = (&ours.3, &reference.3) {
        assert_close(&format!("{what} bias gradient"), a, b);
    }
}

#[test]
fn convolution_matches_burn_in_values_and_gradients() {
    let device = Device::flex().autodiff();
    let mut checked = 0;
    for case in cases() {
        let options = ConvOptions::new(case.stride, case.pad, case.dilation, 1);
        let x_shape = [case.batch, case.c_in, case.h, case.w];
        let w_shape = [case.c_out, case.c_in, case.k[0], case.k[1]];
        let Some(g) = ops::conv_geometry(&x_shape, &w_shape, &options) else {
            continue; // the kernel does not fit this image: burn rejects it too
        };
        let l = leaves(x_shape, w_shape, case.bias.then_some(case.c_out), &device);
        let out = [g.batch, g.c_out, g.out_h, g.out_w];
        let weights = Tensor::<4>::random(out, Distribution::Normal(0.0, 1.0), &device);
        let o = options.clone();
        let ours = run_with_grads(&l, |x, w, b| ops::conv2d(x, w, b, o.clone()), &weights);
        let reference = run_with_grads(
            &l,
            |x, w, b| module::conv2d(x, w, b, options.clone()),
            &weights,
        );
        compare(&format!("conv2d {case:?}"), ours, reference);
        checked += 1;
    }
    assert!(checked >= 30, "only {checked} cases fit");
}

#[test]
fn transposed_convolution_matches_burn_in_values_and_gradients() {
    let device = Device::flex().autodiff();
    let mut rng = StdRng::seed_from_u64(11);
    let mut checked = 0;
    for case in cases() {
        // An output padding below the stride and the dilation (as burn requires).
        let out_pad = [
            rng.random_range(0..case.stride[0].max(case.dilation[0])),
            rng.random_range(0..case.stride[1].max(case.dilation[1])),
        ];
        let options = ConvTransposeOptions::new(case.stride, case.pad, out_pad, case.dilation, 1);
        let x_shape = [case.batch, case.c_in, case.h, case.w];
        let w_shape = [case.c_in, case.c_out, case.k[0], case.k[1]];
        let Some(g) = ops::conv_transpose_geometry(&x_shape, &w_shape, &options) else {
            continue;
        };
        let l = leaves(x_shape, w_shape, case.bias.then_some(case.c_out), &device);
        let out = [g.batch, g.c_img, g.img_h, g.img_w];
        let weights = Tensor::<4>::random(out, Distribution::Normal(0.0, 1.0), &device);
        let o = options.clone();
        let ours = run_with_grads(
            &l,
            |x, w, b| ops::conv_transpose2d(x, w, b, o.clone()),
            &weights,
        );
        let reference = run_with_grads(
            &l,
            |x, w, b| module::conv_transpose2d(x, w, b, options.clone()),
            &weights,
        );
        compare(
            &format!("conv_transpose2d {case:?} out_pad {out_pad:?}"),
            ours,
            reference,
        );
        checked += 1;
    }
    assert!(checked >= 30, "only {checked} cases fit");
}

/// Sums over a batch's chunks are laid out by the geometry, not the thread count, so a
/// run resumed on another number of threads multiplies the same way: values and every
/// gradient of both operations agree bit for bit on one and on two threads.
#[test]
fn convolutions_agree_bit_for_bit_on_one_and_two_threads() {
    let device = Device::flex().autodiff();
    let x_shape = [64, 64, 14, 14];
    let options = ConvOptions::new([2, 2], [1, 1], [1, 1], 1);
    let t_options = ConvTransposeOptions::new([2, 2], [1, 1], [0, 0], [1, 1], 1);
    let conv = leaves(x_shape, [128, 64, 4, 4], Some(128), &device);
    let small = leaves([64, 128, 7, 7], [128, 64, 4, 4], Some(64), &device);
    let weights = Tensor::<4>::random([64, 128, 7, 7], Distribution::Normal(0.0, 1.0), &device);
    let t_weights = Tensor::<4>::random(x_shape, Distribution::Normal(0.0, 1.0), &device);
    let on = |threads: usize| {
        let pool = genlab::kernels::training_pool(threads, "kernels-test").expect("pool");
        pool.install(|| {
            let o = options.clone();
            let t = t_options.clone();
            (
                run_with_grads(&conv, |x, w, b| ops::conv2d(x, w, b, o.clone()), &weights),
                run_with_grads(
                    &small,
                    |x, w, b| ops::conv_transpose2d(x, w, b, t.clone()),
                    &t_weights,
                ),
            )
        })
    };
    assert!(on(1) == on(2), "results depend on the thread count");
}

/// The transforms' line kernels (AVX-512 masked loads and stores where the CPU has them)
/// give exactly what their plain loops give: every line width from 1 to 20, offsets up to
/// the width, lines shorter than their stride.
#[test]
fn line_kernels_match_their_plain_loops() {
    use genlab::kernels::lines::{self, Shifted};
    let mut rng = StdRng::seed_from_u64(5);
    for w in 1..=20 {
        let (h, stride) = (rng.random_range(1..6), w + rng.random_range(0..4));
        let src: Vec<f32> = (0..h * stride + 3)
            .map(|_| rng.random::<f32>() - 0.5)
            .collect();
        let (mut a, mut b) = (vec![0.0; h * w], vec![0.0; h * w]);
        lines::copy_block(&mut a, &src, h, w, stride);
        lines::copy_block_portable(&mut b, &src, h, w, stride);
        assert_eq!(a, b, "copy_block, width {w}");

        let (rows, width) = (h + rng.random_range(0..3), w + rng.random_range(0..4));
        let blocks: Vec<Shifted> = (0..4)
            .map(|_| Shifted {
                start: rng.random_range(0..=src.len() - h * w),
                dy: rng.random_range(0..=rows - h),
                dx: rng.random_range(0..=width - w),
            })
            .collect();
        let (mut a, mut b) = (vec![f32::NAN; rows * width], vec![f32::NAN; rows * width]);
        lines::sum_shifted(&mut a, rows, width, &src, &blocks, h, w);
        lines::sum_shifted_portable(&mut b, rows, width, &src, &blocks, h, w);
        assert_eq!(a, b, "sum_shifted, width {width}, blocks {blocks:?}");
        assert!(a.iter().all(|v| v.is_finite()), "every element written");

        for step in 1..=4 {
            // a block of `rows` lines of n elements `step` apart, `stride` apart
            let n = rng.random_range(1..=2 * w);
            let rows = rng.random_range(1..4);
            let stride = (n - 1) * step + 1 + rng.random_range(0..3);
            let spread = lines::Strided {
                rows,
                stride,
                n,
                step,
            };
            let wide: Vec<f32> = (0..rows * stride).map(|_| rng.random::<f32>()).collect();
            let dense = n + rng.random_range(0..3);
            let (mut a, mut b) = (vec![0.0; rows * dense], vec![0.0; rows * dense]);
            lines::gather_every(&mut a, dense, &wide, spread);
            lines::gather_every_portable(&mut b, dense, &wide, spread);
            assert_eq!(a, b, "gather_every {spread:?}");
            assert_eq!(
                a[dense * (rows - 1) + n - 1],
                wide[stride * (rows - 1) + (n - 1) * step]
            );

            let base = 0.25;
            let fresh = || vec![std::mem::MaybeUninit::new(f32::NAN); rows * stride];
            let (mut a, mut b) = (fresh(), fresh());
            let packed: Vec<f32> = (0..rows * dense).map(|_| rng.random::<f32>()).collect();
            lines::scatter_every(&mut a, spread, &packed, dense, base);
            lines::scatter_every_portable(&mut b, spread, &packed, dense, base);
            // SAFETY: both buffers were initialised (NaN) before the scatter.
            let bits = |v: &[std::mem::MaybeUninit<f32>]| -> Vec<u32> {
                v.iter()
                    .map(|v| unsafe { v.assume_init() }.to_bits())
                    .collect()
            };
            assert_eq!(
                bits(&a),
                bits(&b),
                "scatter_every {spread:?} (the elements between stay untouched)"
            );
        }
    }
}

#[test]
fn kernels_without_autodiff_match_burn() {
    let device = Device::flex();
    for case in cases().into_iter().take(12) {
        let x = Tensor::<4>::random(
            [case.batch, case.c_in, case.h, case.w],
            Distribution::Normal(0.0, 1.0),
            &device,
        );
        let w = Tensor::<4>::random(
            [case.c_out, case.c_in, case.k[0], case.k[1]],
            Distribution::Normal(0.0, 1.0),
            &device,
        );
        let options = ConvOptions::new(case.stride, case.pad, case.dilation, 1);
        if ops::conv_geometry(&x.dims(), &w.dims(), &options).is_none() {
            continue;
        }
        let ours = ops::conv2d(x.clone(), w.clone(), None, options.clone());
        let reference = module::conv2d(x.clone(), w.clone(), None, options);
        assert_close(
            &format!("plain conv2d {case:?}"),
            &values(ours),
            &values(reference),
        );

        let wt = Tensor::<4>::random(
            [case.c_in, case.c_out, case.k[0], case.k[1]],
            Distribution::Normal(0.0, 1.0),
            &device,
        );
        let options = ConvTransposeOptions::new(case.stride, case.pad, [0, 0], case.dilation, 1);
        if ops::conv_transpose_geometry(&x.dims(), &wt.dims(), &options).is_none() {
            continue;
        }
        let ours = ops::conv_transpose2d(x.clone(), wt.clone(), None, options.clone());
        let reference = module::conv_transpose2d(x, wt, None, options);
        assert_close(
            &format!("plain conv_transpose2d {case:?}"),
            &values(ours),
            &values(reference),
        );
    }
}

#[test]
fn a_gradient_that_only_reaches_the_weight_is_still_right() {
    // The first layer's input is data: no input gradient is asked for, only the weight's.
    let device = Device::flex().autodiff();
    let x = Tensor::<4>::random([2, 3, 9, 9], Distribution::Normal(0.0, 1.0), &device);
    let w =
        Tensor::<4>::random([4, 3, 3, 3], Distribution::Normal(0.0, 1.0), &device).require_grad();
    let options = ConvOptions::new([2, 2], [1, 1], [1, 1], 1);
    let grad_of = |y: Tensor<4>| {
        let grads = y.powi_scalar(2).sum().backward();
        values(w.grad(&grads).unwrap())
    };
    let ours = grad_of(ops::conv2d(x.clone(), w.clone(), None, options.clone()));
    let reference = grad_of(module::conv2d(x, w.clone(), None, options));
    assert_close("weight-only gradient", &ours, &reference);
}

fn naive(m: usize, n: usize, k: usize, a: &[f32], b: &[f32]) -> Vec<f32> {
    let mut c = vec![0.0; m * n];
    for i in 0..m {
        for j in 0..n {
            c[i * n + j] = (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum();
        }
    }
    c
}

#[test]
fn matrix_products_agree_on_every_instruction_set_this_cpu_has() {
    let mut rng = StdRng::seed_from_u64(3);
    let sets: Vec<Isa> = [Isa::Scalar, Isa::Avx2, Isa::Avx512]
        .into_iter()
        .filter(|i| i.available())
        .collect();
    println!("instruction sets tested: {:?}", sets);
    for &(m, k, n) in &[
        (1, 1, 1),
        (7, 13, 5),
        (33, 64, 17),
        (128, 100, 257),
        (3, 500, 2),
    ] {
        let a: Vec<f32> = (0..m * k).map(|_| rng.random_range(-1.0..1.0)).collect();
        let b: Vec<f32> = (0..k * n).map(|_| rng.random_range(-1.0..1.0)).collect();
        let want = naive(m, n, k, &a, &b);
        for &isa in &sets {
            let mut c = vec![0.0; m * n];
            matmul_rows_on(isa, &mut c, &a, &b, m, k, n, false);
            assert_close(&format!("{isa:?} {m}x{k}x{n}"), &c, &want);

            // Through transposed views: (b^T a^T)^T = a b, written into a column-major dst.
            let at: Vec<f32> = (0..k * m).map(|i| a[(i % m) * k + i / m]).collect(); // [k, m]
            let bt: Vec<f32> = (0..n * k).map(|i| b[(i % k) * n + i / k]).collect(); // [n, k]
            let mut ct = vec![0.0; m * n];
            let dst = MatMut {
                data: &mut ct,
                rows: m,
                cols: n,
                row_stride: 1,
                col_stride: m,
            };
            matmul_on(
                isa,
                dst,
                MatRef::rows(&at, k, m).t(),
                MatRef::rows(&bt, n, k).t(),
                false,
            );
            let back: Vec<f32> = (0..m * n).map(|i| ct[(i % n) * m + i / n]).collect();
            assert_close(&format!("{isa:?} transposed {m}x{k}x{n}"), &back, &want);

            // Accumulating adds onto what is there.
            let mut acc = want.clone();
            matmul_rows_on(isa, &mut acc, &a, &b, m, k, n, true);
            let doubled: Vec<f32> = want.iter().map(|v| 2.0 * v).collect();
            assert_close(&format!("{isa:?} accumulate {m}x{k}x{n}"), &acc, &doubled);
        }
    }
}

#[test]
#[should_panic(expected = "runs past its buffer")]
fn a_view_past_its_buffer_is_refused() {
    let a = vec![0.0f32; 10];
    let b = vec![0.0f32; 12];
    let mut c = vec![0.0f32; 12];
    matmul_on(
        Isa::Scalar,
        MatMut::rows(&mut c, 4, 3),
        MatRef::rows(&a, 4, 3),
        MatRef::rows(&b, 3, 3),
        false,
    );
}

#[test]
fn dense_layer_matches_burn_in_values_and_gradients() {
    let device = Device::flex().autodiff();
    for &(n, d_in, d_out, bias) in &[
        (1, 1, 1, true),
        (7, 13, 5, false),
        (128, 784, 400, true),
        (3, 2, 9, true),
    ] {
        let r = |shape: [usize; 2]| {
            Tensor::<2>::random(shape, Distribution::Normal(0.0, 1.0), &device).require_grad()
        };
        let (x, w) = (r([n, d_in]), r([d_in, d_out]));
        let b = bias.then(|| {
            Tensor::<1>::random([d_out], Distribution::Normal(0.0, 1.0), &device).require_grad()
        });
        let weights = Tensor::<2>::random([n, d_out], Distribution::Normal(0.0, 1.0), &device);
        let run = |f: &dyn Fn() -> Tensor<2>| {
            let y = f();
            let grads = (y.clone() * weights.clone()).sum().backward();
            let gb = b.as_ref().map(|b| values_any(b.grad(&grads).unwrap()));
            (
                values_any(y),
                values_any(x.grad(&grads).unwrap()),
                values_any(w.grad(&grads).unwrap()),
                gb,
            )
        };
        let ours = run(&|| ops::linear(x.clone(), w.clone(), b.clone()));
        let reference = run(&|| {
            let y = x.clone().matmul(w.clone());
            match &b {
                Some(b) => y + b.clone().unsqueeze(),
                None => y,
            }
        });
        compare(&format!("dense {n}x{d_in}->{d_out}"), ours, reference);
    }
}

#[test]
fn vectorised_exp_ln_softplus_and_sigmoid_match_f64() {
    use genlab::kernels::elementwise::{exp, ln, sigmoid, softplus};
    let mut worst = [0.0f64; 4];
    let mut x = -100.0f64;
    while x <= 100.0 {
        let xf = x as f32;
        let xd = xf as f64;
        if xd > -87.0 && xd < 88.0 {
            let want = xd.exp();
            worst[0] = worst[0].max(((exp(xf) as f64) - want).abs() / want);
        }
        let sp = if xd > 0.0 {
            xd + (-xd).exp().ln_1p()
        } else {
            xd.exp().ln_1p()
        };
        worst[1] = worst[1].max(((softplus(xf) as f64) - sp).abs() / sp.max(1.0));
        let sg = 1.0 / (1.0 + (-xd).exp());
        worst[2] = worst[2].max(((sigmoid(xf) as f64) - sg).abs());
        x += 0.0137;
    }
    let mut u = 1e-30f64;
    while u < 1e30 {
        let uf = u as f32;
        let want = (uf as f64).ln();
        worst[3] = worst[3].max(((ln(uf) as f64) - want).abs() / want.abs().max(1.0));
        u *= 1.013;
    }
    println!(
        "worst errors: exp {:.1e} (relative), softplus {:.1e}, sigmoid {:.1e}, ln {:.1e}",
        worst[0], worst[1], worst[2], worst[3]
    );
    assert!(worst[0] < 1e-6, "exp {}", worst[0]);
    assert!(worst[1] < 1e-6, "softplus {}", worst[1]);
    assert!(worst[2] < 1e-6, "sigmoid {}", worst[2]);
    assert!(worst[3] < 1e-6, "ln {}", worst[3]);
}

#[test]
fn bce_with_logits_matches_burn_in_value_and_gradients() {
    let device = Device::flex().autodiff();
    // Logits from -60 to 60 (saturated both ways) and targets in [0, 1].
    let l = Tensor::<2>::random([37, 101], Distribution::Normal(0.0, 20.0), &device).require_grad();
    let x = Tensor::<2>::random([37, 101], Distribution::Uniform(0.0, 1.0), &device).require_grad();
    let run = |f: &dyn Fn() -> Tensor<1>| {
        let loss = f().mul_scalar(0.5);
        let grads = loss.clone().backward();
        (
            values_any(loss),
            values_any(l.grad(&grads).unwrap()),
            values_any(x.grad(&grads).unwrap()),
        )
    };
    let ours = run(&|| ops::bce_with_logits_sum(l.clone(), x.clone()));
    let reference = run(&|| {
        let softplus = burn::tensor::activation::log_sigmoid(l.clone().neg())
            .sum()
            .neg();
        softplus - (l.clone() * x.clone()).sum()
    });
    assert_close("bce value", &ours.0, &reference.0);
    assert_close("bce logit gradient", &ours.1, &reference.1);
    assert_close("bce target gradient", &ours.2, &reference.2);
}

#[test]
fn leaky_relu_matches_burn_in_values_and_gradient() {
    let device = Device::flex().autodiff();
    let x = Tensor::<2>::random([33, 65], Distribution::Normal(0.0, 1.0), &device).require_grad();
    let w = Tensor::<2>::random([33, 65], Distribution::Normal(0.0, 1.0), &device);
    let run = |f: &dyn Fn() -> Tensor<2>| {
        let y = f();
        let grads = (y.clone() * w.clone()).sum().backward();
        (values_any(y), values_any(x.grad(&grads).unwrap()))
    };
    let ours = run(&|| ops::leaky_relu(x.clone(), 0.2));
    let reference = run(&|| burn::tensor::activation::leaky_relu(x.clone(), 0.2));
    assert_close("leaky relu", &ours.0, &reference.0);
    assert_close("leaky relu gradient", &ours.1, &reference.1);
}

#[test]
fn tanh_matches_burn_in_values_and_gradient() {
    let device = Device::flex().autodiff();
    // More elements than one pool chunk, from saturated to tiny.
    let x = Tensor::<2>::random([131, 401], Distribution::Normal(0.0, 3.0), &device).require_grad();
    let w = Tensor::<2>::random([131, 401], Distribution::Normal(0.0, 1.0), &device);
    let run = |f: &dyn Fn() -> Tensor<2>| {
        let y = f();
        let grads = (y.clone() * w.clone()).sum().backward();
        (values_any(y), values_any(x.grad(&grads).unwrap()))
    };
    let ours = run(&|| ops::tanh(x.clone()));
    let reference = run(&|| burn::tensor::activation::tanh(x.clone()));
    assert_close("tanh", &ours.0, &reference.0);
    assert_close("tanh gradient", &ours.1, &reference.1);
}

#[test]
fn vectorised_tanh_matches_f64_and_keeps_nan() {
    use genlab::kernels::elementwise::{tanh, tanh_all};
    let xs: Vec<f32> = (-20_000..=20_000)
        .map(|i| i as f32 * 1e-3)
        .chain([
            1e-30,
            -1e-7,
            3e-5,
            100.0,
            -1e4,
            f32::INFINITY,
            f32::NEG_INFINITY,
        ])
        .collect();
    // The pooled, AVX2-compiled pass and the scalar function give the same bits.
    let all = tanh_all(&xs);
    let mut worst = 0.0f64;
    for (&x, &y) in xs.iter().zip(&all) {
        assert_eq!(y.to_bits(), tanh(x).to_bits(), "tanh({x})");
        let want = (x as f64).tanh();
        // relative near zero (the odd polynomial keeps tiny inputs exact), absolute elsewhere
        worst = worst.max((y as f64 - want).abs() / want.abs().clamp(1e-30, 1.0));
    }
    println!("tanh worst error {worst:.1e}");
    assert!(worst < 1e-6, "tanh error {worst}");
    assert!(tanh(f32::NAN).is_nan(), "a NaN must stay visible");
}

#[test]
fn batch_norm_matches_burn_in_values_gradients_and_running_statistics() {
    use burn::nn::BatchNormConfig;
    let device = Device::flex().autodiff();
    for dims in [[7usize, 5, 3, 4], [64, 3, 1, 1], [2, 8, 5, 5]] {
        let x = Tensor::<4>::random(dims, Distribution::Normal(1.5, 3.0), &device).require_grad();
        let w = Tensor::<4>::random(dims, Distribution::Normal(0.0, 1.0), &device);
        let ours_bn = BatchNormConfig::new(dims[1]).init(&device);
        let burn_bn = BatchNormConfig::new(dims[1]).init(&device);
        let run = |bn: &burn::nn::BatchNorm, f: &dyn Fn(Tensor<4>) -> Tensor<4>| {
            let y = f(x.clone());
            let grads = (y.clone() * w.clone()).sum().backward();
            let gx = values(x.grad(&grads).unwrap());
            let gg = values_any(bn.gamma.grad(&grads).unwrap());
            let gb = values_any(bn.beta.grad(&grads).unwrap());
            (values(y), gx, gg, Some(gb))
        };
        let ours = run(&ours_bn, &|x| ops::batch_norm(&ours_bn, x));
        let reference = run(&burn_bn, &|x| burn_bn.forward(x));
        compare(&format!("batch norm {dims:?}"), ours, reference);
        assert_close(
            "running mean",
            &values_any(ours_bn.running_mean.value()),
            &values_any(burn_bn.running_mean.value()),
        );
        assert_close(
            "running variance",
            &values_any(ours_bn.running_var.value()),
            &values_any(burn_bn.running_var.value()),
        );
    }
}

/// A convolution over an empty batch (the held-out split of a four-image folder) once
/// panicked in the column transform; both directions, forward and backward, give empty
/// results now.
#[test]
fn convolutions_of_an_empty_batch_are_empty() {
    let device = Device::flex().autodiff();
    let x = Tensor::<4>::zeros([0, 2, 4, 4], &device).require_grad();
    let w = Tensor::<4>::ones([3, 2, 4, 4], &device).require_grad();
    let y = ops::conv2d(
        x.clone(),
        w.clone(),
        None,
        ConvOptions::new([2, 2], [1, 1], [1, 1], 1),
    );
    assert_eq!(y.dims(), [0, 3, 2, 2]);
    let grads = y.sum().backward();
    assert_eq!(w.grad(&grads).map(|g| g.dims()), Some([3, 2, 4, 4]));
    let small = Tensor::<4>::zeros([0, 3, 2, 2], &device).require_grad();
    let wt = Tensor::<4>::ones([3, 2, 4, 4], &device).require_grad();
    let y = ops::conv_transpose2d(
        small,
        wt.clone(),
        None,
        ConvTransposeOptions::new([2, 2], [1, 1], [0, 0], [1, 1], 1),
    );
    assert_eq!(y.dims(), [0, 2, 4, 4]);
    let grads = y.sum().backward();
    assert_eq!(wt.grad(&grads).map(|g| g.dims()), Some([3, 2, 4, 4]));
}
