//! Playing a clip on the machine's audio output through ALSA, opened at run time
//! (libasound.so.2): the build needs no audio library, and a machine without ALSA or
//! without an output device gets a sentence saying so.

use std::sync::mpsc;

/// Plays `clip` to the end on the default output; blocks, so call it off the UI thread.
pub fn play(clip: &[f32], sample_rate: u32) -> Result<(), String> {
    #[cfg(target_os = "linux")]
    {
        alsa::play(clip, sample_rate)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (clip, sample_rate);
        Err("playback is built for Linux (ALSA) only; export the clip as WAV instead".into())
    }
}

/// Plays on a thread of its own; the receiver gets how it went.
pub fn play_in_background(clip: Vec<f32>, sample_rate: u32) -> mpsc::Receiver<Result<(), String>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(play(&clip, sample_rate));
    });
    rx
}

#[cfg(target_os = "linux")]
mod alsa {
    use libloading::{Library, Symbol};
    use std::ffi::{c_char, c_int, c_long, c_uint, c_ulong, c_void, CStr};

    type Pcm = *mut c_void;
    const STREAM_PLAYBACK: c_int = 0;
    const FORMAT_S16_LE: c_int = 2;
    const ACCESS_RW_INTERLEAVED: c_int = 3;
    /// Output latency asked of ALSA, in microseconds.
    const LATENCY_US: c_uint = 100_000;

    pub fn play(clip: &[f32], sample_rate: u32) -> Result<(), String> {
        // SAFETY: libasound is a C library with a stable ABI; each symbol below is called
        // with the signature its header declares, and `pcm` is only used while open.
        unsafe {
            let lib = Library::new("libasound.so.2").map_err(|e| {
                format!("no audio output: ALSA (libasound.so.2) is not installed ({e})")
            })?;
            let open: Symbol<unsafe extern "C" fn(*mut Pcm, *const c_char, c_int, c_int) -> c_int> =
                symbol(&lib, b"snd_pcm_open\0")?;
            let set_params: Symbol<
                unsafe extern "C" fn(Pcm, c_int, c_int, c_uint, c_uint, c_int, c_uint) -> c_int,
            > = symbol(&lib, b"snd_pcm_set_params\0")?;
            let writei: Symbol<unsafe extern "C" fn(Pcm, *const c_void, c_ulong) -> c_long> =
                symbol(&lib, b"snd_pcm_writei\0")?;
            let recover: Symbol<unsafe extern "C" fn(Pcm, c_int, c_int) -> c_int> =
                symbol(&lib, b"snd_pcm_recover\0")?;
            let drain: Symbol<unsafe extern "C" fn(Pcm) -> c_int> =
                symbol(&lib, b"snd_pcm_drain\0")?;
            let close: Symbol<unsafe extern "C" fn(Pcm) -> c_int> =
                symbol(&lib, b"snd_pcm_close\0")?;
            let strerror: Symbol<unsafe extern "C" fn(c_int) -> *const c_char> =
                symbol(&lib, b"snd_strerror\0")?;
            let words = |code: c_int| {
                let s = strerror(code);
                if s.is_null() {
                    format!("error {code}")
                } else {
                    CStr::from_ptr(s).to_string_lossy().into_owned()
                }
            };
            let mut pcm: Pcm = std::ptr::null_mut();
            let rc = open(&mut pcm, c"default".as_ptr(), STREAM_PLAYBACK, 0);
            if rc < 0 || pcm.is_null() {
                return Err(format!("no audio output device ({})", words(rc)));
            }
            let result = (|| {
                let rc = set_params(
                    pcm,
                    FORMAT_S16_LE,
                    ACCESS_RW_INTERLEAVED,
                    1,
                    sample_rate,
                    1,
                    LATENCY_US,
                );
                if rc < 0 {
                    return Err(format!(
                        "the audio output refused {sample_rate} Hz mono: {}",
                        words(rc)
                    ));
                }
                let pcm16: Vec<i16> = clip
                    .iter()
                    .map(|v| (v.clamp(-1.0, 1.0) * 32767.0).round() as i16)
                    .collect();
                let mut done = 0usize;
                while done < pcm16.len() {
                    let rest = &pcm16[done..];
                    let n = writei(pcm, rest.as_ptr().cast(), rest.len() as c_ulong);
                    if n < 0 {
                        let rc = recover(pcm, n as c_int, 1);
                        if rc < 0 {
                            return Err(format!("audio output failed: {}", words(rc)));
                        }
                    } else {
                        done += n as usize;
                    }
                }
                drain(pcm);
                Ok(())
            })();
            close(pcm);
            result
        }
    }

    unsafe fn symbol<'a, T>(lib: &'a Library, name: &[u8]) -> Result<Symbol<'a, T>, String> {
        lib.get(name).map_err(|e| {
            format!(
                "ALSA library without {}: {e}",
                String::from_utf8_lossy(name)
            )
        })
    }
}
