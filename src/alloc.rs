//! The process allocator: mimalloc, tuned for training's allocation pattern.
//!
//! A training step frees and re-allocates the same large buffers (activations, im2col
//! tiles, gradients) every step. glibc's malloc gave them back to the kernel each time,
//! and the kernel zeroed fresh pages on every reuse (15 % of a matmul, see BENCHMARKS.md).

use std::sync::Once;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc.h (v3); libmimalloc-sys names no constant for it.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Keeps freed memory in the process (no purging back to the OS) and lets mimalloc use
/// 2 MiB pages. Measured on the DCGAN benchmark: kernel page clearing 8 % -> 1 % of the
/// time. Idempotent; called by the binaries and when a session or benchmark starts.
pub fn tune() {
    static TUNED: Once = Once::new();
    TUNED.call_once(|| {
        // SAFETY: option setters of the C allocator; they take plain integers.
        unsafe {
            libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1);
            libmimalloc_sys::mi_option_set(libmimalloc_sys::mi_option_large_os_pages, 1);
        }
    });
}
