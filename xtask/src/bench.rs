//! `cargo xtask bench`: how fast the things users wait for are, measured with
//! the release binary on generated inputs (never asserted in tests).
//!
//! - `tag` of a spec whose source_root is a large generated tree (many small
//!   files and a few large ones): the source listing and digest;
//! - `context` of the same spec: listing, digest, copying, rendering;
//! - `tag` of every recorded flytekit case, one process each: start-up and
//!   hashing of ordinary specs.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

const SMALL_FILES: usize = 20_000;
const LARGE_FILES: usize = 4;
const LARGE_SIZE: usize = 32 * 1024 * 1024;
const RUNS: usize = 5;

fn make_tree(dir: &Path) -> Result<(usize, u64)> {
    let marker = dir.join(".complete");
    let src = dir.join("src");
    if !marker.exists() {
        if dir.exists() {
            fs::remove_dir_all(dir)?;
        }
        for i in 0..SMALL_FILES {
            let sub = src.join(format!("pkg{:03}/mod{:02}", i % 200, i % 17));
            fs::create_dir_all(&sub)?;
            let body = format!("# module {i}\n{}\n", "x = 1\n".repeat(i % 64 + 1));
            fs::write(sub.join(format!("f{i}.py")), body)?;
        }
        for i in 0..LARGE_FILES {
            let data: Vec<u8> = (0..LARGE_SIZE)
                .map(|b| (b.wrapping_mul(31).wrapping_add(i)) as u8)
                .collect();
            fs::write(src.join(format!("data{i}.bin")), data)?;
        }
        fs::write(src.join(".dockerignore"), "*.tmp\n")?;
        fs::write(
            dir.join("spec.yaml"),
            "name: bench\npython_version: \"3.12\"\nsource_root: src\nsource_copy_mode: all\n",
        )?;
        fs::write(&marker, "")?;
    }
    let mut files = 0usize;
    let mut bytes = 0u64;
    let mut stack = vec![src];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d)? {
            let e = e?;
            if e.file_type()?.is_dir() {
                stack.push(e.path());
            } else {
                files += 1;
                bytes += e.metadata()?.len();
            }
        }
    }
    Ok((files, bytes))
}

fn time_runs(mut run: impl FnMut() -> Result<()>) -> Result<Vec<Duration>> {
    run()?; // warm the page cache and the binary
    let mut times = Vec::new();
    for _ in 0..RUNS {
        let start = Instant::now();
        run()?;
        times.push(start.elapsed());
    }
    times.sort();
    Ok(times)
}

fn run_ok(cmd: &mut Command) -> Result<()> {
    let out = cmd
        .output()
        .with_context(|| format!("cannot run {cmd:?}"))?;
    if !out.status.success() {
        bail!("{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(())
}

fn report(name: &str, times: &[Duration], per: Option<(f64, &str)>) -> String {
    let median = times[times.len() / 2].as_secs_f64();
    let min = times[0].as_secs_f64();
    let rate = per
        .map(|(n, unit)| format!(", {:.0} {unit}/s", n / median))
        .unwrap_or_default();
    format!("| {name} | {median:.3} s | {min:.3} s{rate} |")
}

/// Builds the release binary and prints a Markdown table of timings.
#[allow(clippy::print_stdout)] // the table is what was asked for; progress goes to stderr
pub fn run(root: &Path) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!("xtask bench: building the release binary");
    run_ok(
        Command::new(&cargo)
            .args(["build", "--release", "-p", "imagespec-cli"])
            .current_dir(root),
    )?;
    let bin: PathBuf = root.join("target/release/imagespec");
    // Outside the repository: its .gitignore ignores target/, and ignored
    // files are not copied (so a tree there would measure nothing).
    let dir = std::env::temp_dir().join("imagespec-bench/tree");
    eprintln!("xtask bench: generating {SMALL_FILES} small and {LARGE_FILES} large files (once)");
    let (files, bytes) = make_tree(&dir)?;
    let spec = dir.join("spec.yaml");
    let env = [
        ("IMAGESPEC_DEFAULT_PYTHON", "3.11"),
        ("IMAGESPEC_FLYTEKIT_REQUIREMENT", "flytekit==1.16.31"),
    ];

    let mut rows = Vec::new();
    let tag = time_runs(|| run_ok(Command::new(&bin).args(["tag"]).arg(&spec).envs(env)))?;
    rows.push(report(
        &format!("`tag`, source_root of {files} files / {} MiB", bytes >> 20),
        &tag,
        Some(((bytes >> 20) as f64, "MiB")),
    ));

    let out_root = std::env::temp_dir().join("imagespec-bench/contexts");
    let mut n = 0;
    let ctx = time_runs(|| {
        n += 1;
        let out = out_root.join(format!("ctx{n}"));
        let r = run_ok(
            Command::new(&bin)
                .args(["context", "-o"])
                .arg(&out)
                .arg(&spec)
                .envs(env),
        );
        let _ = fs::remove_dir_all(&out);
        r
    })?;
    rows.push(report(
        &format!("`context`, the same spec ({files} files copied)"),
        &ctx,
        Some((files as f64, "files")),
    ));

    let cases: Vec<PathBuf> = fs::read_dir(root.join("tests/fixtures/oracle"))?
        .flatten()
        .map(|e| e.path().join("spec.yaml"))
        .filter(|p| p.is_file())
        .collect();
    let all = time_runs(|| {
        for c in &cases {
            let out = Command::new(&bin).args(["tag"]).arg(c).envs(env).output()?;
            // Error cases exit 2 on purpose; anything else must succeed.
            if !out.status.success() && out.status.code() != Some(2) {
                bail!("tag {} failed", c.display());
            }
        }
        Ok(())
    })?;
    rows.push(report(
        &format!(
            "`tag` of the {} oracle specs, one process each",
            cases.len()
        ),
        &all,
        Some((cases.len() as f64, "specs")),
    ));

    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("Measured on {threads} CPU(s); median and best of {RUNS} runs after one warm-up.\n");
    println!("| what | median | best |");
    println!("|---|---|---|");
    for r in rows {
        println!("{r}");
    }
    Ok(())
}
