//! Property tests of what comes from elsewhere and is read before anything
//! is checked: ignore files (a downloaded tree's `.dockerignore`) and the
//! inputs label of an image (a registry's). No input panics, none takes long
//! or grows without bound; what is refused is refused with a message.
//! (The digest caches' entries have theirs in `imagespec-core`:
//! `inputs::cache_file`.)
//!
//! Bounded: `IMAGESPEC_PROPTEST_CASES` cases per property (default 256;
//! `cargo xtask ci` sets it).

use std::io::Write as _;
use std::time::{Duration, Instant};

use base64::Engine as _;
use imagespec_identity::record::TagRecord;
use imagespec_pycompat::path::DockerIgnorePatterns;
use proptest::prelude::*;

fn cases() -> u32 {
    std::env::var("IMAGESPEC_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

/// Pieces of ignore files: wildcards, classes (good and bad), negations,
/// comments, separators, line ends of every kind, non-ASCII.
const PIECES: &[&str] = &[
    "*", "**", "?", "[a-z]", "[!x]", "[z-a]", "[", "]", "!", "#", "/", "./", "../", "..", "\\",
    "\n", "\r\n", "\r", " ", "\t", "a", "src", "docs", ".log", "é", "日本", "\u{2028}", "{", "}",
];

fn text(max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::sample::select(PIECES), 0..max)
        .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    /// Any ignore file loads or is refused naming a pattern, and matching a
    /// path against it is quick; the pattern cap holds.
    #[test]
    fn ignore_files_load_or_refuse_and_match_quickly(
        body in text(400),
        path in text(40),
    ) {
        let start = Instant::now();
        if let Ok(matcher) = DockerIgnorePatterns::from_file_text(&body) {
            let _ = matcher.matches(&path);
            let _ = matcher.matches(&format!("src/{path}/x.py"));
        }
        prop_assert!(start.elapsed() < Duration::from_secs(2), "{:?}", start.elapsed());
    }

    /// Any label is read or refused with a message, never a panic, and what
    /// it inflates to is bounded.
    #[test]
    fn labels_are_read_or_refused(
        raw in proptest::collection::vec(any::<u8>(), 0..512),
        deflate in any::<bool>(),
        prefix in proptest::sample::select(&["v1.", "v2.", "", "v1"][..]),
    ) {
        let payload = match deflate {
            true => {
                let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
                enc.write_all(&raw).unwrap();
                enc.finish().unwrap()
            }
            false => raw,
        };
        let label = format!("{prefix}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(payload));
        if let Err(e) = TagRecord::from_label(&label) {
            prop_assert!(e.to_string().contains("dev.imagespec.inputs"), "{e}");
        }
    }
}

/// A label that inflates to gigabytes (a deflate bomb) is refused after the
/// bound, at once.
#[test]
fn a_deflate_bomb_is_refused_at_the_bound() {
    let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![b' '; 1 << 20];
    for _ in 0..256 {
        enc.write_all(&zeros).unwrap();
    }
    let bomb = enc.finish().unwrap();
    let label = format!(
        "v1.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bomb)
    );
    let start = Instant::now();
    let e = TagRecord::from_label(&label).unwrap_err();
    assert!(e.to_string().contains("inflates to more than"), "{e}");
    assert!(start.elapsed() < Duration::from_secs(5));
}
