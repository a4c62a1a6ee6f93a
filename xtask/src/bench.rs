//! `cargo xtask bench`: imagespec against real flytekit 1.16.31, in one run.
//!
//! Both tools run alternately, several times, as separate processes; each
//! row gives their medians, their peak memory (max RSS, from GNU time) and
//! the ratio. flytekit is the venv `cargo xtask flytekit` makes (made here if
//! missing), driven by `tests/flytekit/bench.py`.
//!
//! - P1: spec to image name, one process per spec, over the recorded
//!   flytekit cases; and a batch of 100 specs (imagespec: 100 processes;
//!   flytekit: one process naming all 100, its best case).
//! - P2: a generated tree of 20,000 files (~500 MiB: nested folders, a
//!   `.dockerignore`, a dozen 30 MiB files), `tag` cold (no stat cache; the
//!   page cache is warm for both) and unchanged (stat cache primed), and
//!   `context` against `create_docker_context`; then `tag` at 2k, 20k and
//!   100k small files.
//! - P3: 200 existence checks against the local registry, half present:
//!   `imagespec exists` (all 200 in one process) against `ImageSpec.exist()`
//!   in a loop.
//! - P4: a cold build (build cache pruned), then a rebuild after a one-file
//!   source change: `imagespec build` against flytekit's context and
//!   Dockerfile (its `#syntax` line removed, so it builds offline) built
//!   with `docker build`, on the same engine; a 5k-file tree with two
//!   30 MiB files. Also the image sizes.
//! - P5: a one-file source change in a 5k-file tree of about 70 MiB (one
//!   30 MiB file), shipped to the
//!   local registry: imagespec's engine-free source push (the change as a
//!   layer, no engine) against flytekit's rebuild and push (its context,
//!   `docker build`, `docker push`), and against imagespec's own engine
//!   rebuild and push (`--engine`); with the bytes the push uploaded.
//!
//! - P6: past one engine. A source-only change built on a second engine
//!   (the e2e set-up's remote one, over TLS) that never built the spec, its
//!   build cache read from the registry (`--registry-cache`), against the
//!   spec's cold build on the first engine; the same change shipped by a
//!   fresh runner without an engine, on the registry's shared build; and
//!   the build context sent over
//!   the wire to the remote engine (bytes and seconds, from BuildKit's
//!   `transferring context` lines), first whole, then after a one-file
//!   change with the kept context.
//!
//! P3 to P6 need the e2e engines and registry (`cargo xtask e2e up`); they
//! are started here if they are not up, and stopped again after.
//! `IMAGESPEC_BENCH_RUNS` sets the runs per measurement (default 5; 3 for
//! the slow rows), `IMAGESPEC_BENCH_ONLY=P1,P2` picks parts.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// One timed process: wall time and peak memory.
#[derive(Debug, Clone, Copy)]
struct Sample {
    wall: Duration,
    max_rss_kib: u64,
}

/// Runs `cmd` under GNU time; fails when it fails (unless `allow_fail`).
fn measure(cmd: &mut Command, allow_fail: bool) -> Result<Sample> {
    measure_output(cmd, allow_fail).map(|(sample, _)| sample)
}

/// [`measure`], with what the command printed on stdout.
fn measure_output(cmd: &mut Command, allow_fail: bool) -> Result<(Sample, Vec<u8>)> {
    measure_streams(cmd, allow_fail).map(|(sample, stdout, _)| (sample, stdout))
}

/// [`measure`], with what the command printed on stdout and stderr.
fn measure_streams(cmd: &mut Command, allow_fail: bool) -> Result<(Sample, Vec<u8>, Vec<u8>)> {
    let report = tempfile::NamedTempFile::new()?;
    let program = cmd.get_program().to_owned();
    let args: Vec<_> = cmd.get_args().map(|a| a.to_owned()).collect();
    let mut timed = Command::new("/usr/bin/time");
    timed
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(report.path())
        .arg(&program)
        .args(&args);
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => timed.env(k, v),
            None => timed.env_remove(k),
        };
    }
    if let Some(dir) = cmd.get_current_dir() {
        timed.current_dir(dir);
    }
    let start = Instant::now();
    let out = timed
        .output()
        .with_context(|| "cannot run /usr/bin/time (GNU time): install the `time` package")?;
    let wall = start.elapsed();
    if !out.status.success() && !allow_fail {
        bail!(
            "{program:?} {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let text = fs::read_to_string(report.path())?;
    let max_rss_kib = text
        .lines()
        .rev()
        .find_map(|l| l.trim().parse().ok())
        .unwrap_or(0);
    Ok((Sample { wall, max_rss_kib }, out.stdout, out.stderr))
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// A measured row: both tools' samples.
struct Row {
    name: String,
    ours: Vec<Sample>,
    theirs: Vec<Sample>,
    note: String,
}

impl Row {
    fn markdown(&self) -> String {
        let m = |s: &[Sample]| median(s.iter().map(|x| x.wall).collect());
        let mem = |s: &[Sample]| s.iter().map(|x| x.max_rss_kib).max().unwrap_or(0) as f64 / 1024.0;
        let (a, b) = (m(&self.ours), m(&self.theirs));
        format!(
            "| {} | {:.3} s | {:.0} MiB | {:.3} s | {:.0} MiB | {:.1}× | {} |",
            self.name,
            a.as_secs_f64(),
            mem(&self.ours),
            b.as_secs_f64(),
            mem(&self.theirs),
            b.as_secs_f64() / a.as_secs_f64().max(1e-9),
            self.note
        )
    }
}

/// Runs `ours` and `theirs` alternately `runs` times (after one warm-up each).
fn alternate(
    runs: usize,
    mut ours: impl FnMut() -> Result<Sample>,
    mut theirs: impl FnMut() -> Result<Sample>,
) -> Result<(Vec<Sample>, Vec<Sample>)> {
    ours()?;
    theirs()?;
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        a.push(ours()?);
        b.push(theirs()?);
    }
    Ok((a, b))
}

fn sum(samples: Vec<Sample>) -> Sample {
    Sample {
        wall: samples.iter().map(|s| s.wall).sum(),
        max_rss_kib: samples.iter().map(|s| s.max_rss_kib).max().unwrap_or(0),
    }
}

struct Bench {
    root: PathBuf,
    bin: PathBuf,
    python: PathBuf,
    script: PathBuf,
    work: PathBuf,
    runs: usize,
    env: Vec<(String, String)>,
}

impl Bench {
    fn ours(&self) -> Command {
        let mut c = Command::new(&self.bin);
        c.args(["-q"]).envs(self.env.iter().map(|(k, v)| (k, v)));
        c
    }

    /// A variable of the bench's environment (the e2e ones once it is up).
    fn var(&self, key: &str) -> Result<String> {
        self.env
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .with_context(|| format!("{key} is not set: is the e2e environment up?"))
    }

    fn theirs(&self, mode: &str) -> Command {
        let mut c = Command::new(&self.python);
        c.arg(&self.script).arg(mode);
        c.envs(self.env.iter().map(|(k, v)| (k, v)));
        c
    }
}

/// Writes a tree of `files` files under `dir/src` (once; `.complete` marks
/// it) and a spec naming it (absolute source_root, so that flytekit applies
/// the ignore file as intended). `large`: how many 30 MiB files.
fn make_tree(dir: &Path, files: usize, large: usize) -> Result<PathBuf> {
    let spec = dir.join("spec.yaml");
    let marker = dir.join(".complete");
    if !marker.exists() {
        if dir.exists() {
            fs::remove_dir_all(dir)?;
        }
        let src = dir.join("src");
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for i in 0..files.saturating_sub(large + 2) {
            let sub = src.join(format!(
                "pkg{:02}/sub{:02}/deep{}",
                i % 50,
                (i / 50) % 13,
                i % 7
            ));
            fs::create_dir_all(&sub)?;
            let len = 200 + (next() % 16_000) as usize;
            let body: Vec<u8> = (0..len).map(|_| (next() & 0x7f) as u8).collect();
            fs::write(sub.join(format!("m{i}.py")), body)?;
            if i % 997 == 0 {
                fs::write(sub.join(format!("scratch{i}.tmp")), "ignored\n")?;
            }
        }
        for i in 0..large {
            let body: Vec<u8> = (0..30 << 20).map(|_| (next() >> 24) as u8).collect();
            fs::write(src.join(format!("data{i}.bin")), body)?;
        }
        fs::create_dir_all(&src)?;
        fs::write(src.join(".dockerignore"), "**/*.tmp\n")?;
        fs::write(src.join("README.md"), "bench\n")?;
        fs::write(
            &spec,
            format!(
                "name: bench\npython_version: \"3.11\"\nsource_root: {}\nsource_copy_mode: all\n",
                src.display()
            ),
        )?;
        fs::write(&marker, "")?;
    }
    Ok(spec)
}

/// The files under `dir` and their bytes, for the row names (a label
/// states the tree measured, not the one intended).
fn tree_size(dir: &Path) -> Result<(usize, u64)> {
    let (mut files, mut bytes) = (0usize, 0u64);
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in fs::read_dir(&d)? {
            let entry = entry?;
            let meta = entry.metadata()?;
            if meta.is_dir() {
                todo.push(entry.path());
            } else {
                files += 1;
                bytes += meta.len();
            }
        }
    }
    Ok((files, bytes))
}

fn describe_tree(dir: &Path) -> Result<String> {
    let (files, bytes) = tree_size(dir)?;
    Ok(format!(
        "{:.1}k files / {:.0} MiB",
        files as f64 / 1000.0,
        bytes as f64 / (1u64 << 20) as f64
    ))
}

/// Builds the release binary, runs the parts, prints the Markdown report.
#[allow(clippy::print_stdout)] // the report is what was asked for; progress goes to stderr
pub fn run(root: &Path) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!("xtask bench: building the release binary");
    let status = Command::new(&cargo)
        .args(["build", "--release", "-p", "imagespec-cli"])
        .current_dir(root)
        .status()?;
    if !status.success() {
        bail!("the release build failed");
    }
    let python = crate::flytekit::ensure_venv(root)?;
    // Outside the repository (whose .gitignore ignores target/).
    let work = std::env::temp_dir().join("imagespec-bench");
    fs::create_dir_all(&work)?;
    let runs = std::env::var("IMAGESPEC_BENCH_RUNS")
        .ok()
        .map(|v| v.parse().context("IMAGESPEC_BENCH_RUNS must be a number"))
        .transpose()?
        .unwrap_or(5usize)
        .max(1);
    let only = std::env::var("IMAGESPEC_BENCH_ONLY").unwrap_or_default();
    let want = |p: &str| only.is_empty() || only.split(',').any(|o| o.trim() == p);
    let mut b = Bench {
        root: root.to_path_buf(),
        bin: root.join("target/release/imagespec"),
        python,
        script: root.join("tests/flytekit/bench.py"),
        runs,
        env: vec![
            ("IMAGESPEC_DEFAULT_PYTHON".into(), "3.11".into()),
            (
                "IMAGESPEC_FLYTEKIT_REQUIREMENT".into(),
                "flytekit==1.16.31".into(),
            ),
            (
                "IMAGESPEC_CACHE_DIR".into(),
                work.join("cache").display().to_string(),
            ),
        ],
        work,
    };
    let mut sections = Vec::new();
    let mut notes = Vec::new();
    if want("P1") {
        sections.push(("P1: spec to image name", p1(&b)?, Vec::new()));
    }
    if want("P2") {
        let rows = p2(&b, &mut notes)?;
        sections.push(("P2: source trees", rows, std::mem::take(&mut notes)));
    }
    let needs_engine = want("P3") || want("P4") || want("P5") || want("P6");
    let started = needs_engine && !crate::e2e::is_up(root);
    if needs_engine {
        crate::e2e::up(root)?;
        b.env.extend(crate::e2e::env_vars(root)?);
    }
    let engine = (|| -> Result<()> {
        if want("P3") {
            sections.push(("P3: existence checks", p3(&b)?, Vec::new()));
        }
        if want("P4") {
            sections.push(("P4: builds", p4(&b)?, Vec::new()));
        }
        if want("P5") {
            sections.push(("P5: a source change, shipped", p5(&b)?, Vec::new()));
        }
        if want("P6") {
            let mut notes = Vec::new();
            let rows = p6(&b, &mut notes)?;
            sections.push(("P6: past one engine", rows, notes));
        }
        Ok(())
    })();
    if started {
        crate::e2e::down(root)?;
    }
    engine?;

    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let date = Command::new("date")
        .arg("-u")
        .arg("+%Y-%m-%d")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    println!(
        "Measured {date} on {threads} CPU(s), {} of RAM; median of {runs} alternating runs after a warm-up of each (fewer where noted); peak memory is the largest max RSS of the runs.\n",
        mem_total()
    );
    for (title, rows, notes) in sections {
        println!("### {title}\n");
        println!("| what | imagespec | memory | flytekit 1.16.31 | memory | flytekit ÷ imagespec | note |");
        println!("|---|---|---|---|---|---|---|");
        for r in rows {
            println!("{}", r.markdown());
        }
        println!();
        for n in notes {
            println!("{n}\n");
        }
    }
    Ok(())
}

fn mem_total() -> String {
    fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|k| k.parse::<u64>().ok())
        })
        .map_or("?".into(), |k| {
            format!("{:.0} GiB", k as f64 / (1 << 20) as f64)
        })
}

fn p1(b: &Bench) -> Result<Vec<Row>> {
    eprintln!("xtask bench: P1");
    let cases: Vec<PathBuf> = {
        let mut v: Vec<PathBuf> = fs::read_dir(b.root.join("tests/fixtures/oracle"))?
            .flatten()
            .map(|e| e.path().join("spec.yaml"))
            .filter(|p| p.is_file())
            .collect();
        v.sort();
        v
    };
    // Error cases exit 2 (imagespec) or print an error (flytekit): timed too.
    let (ours, theirs) = alternate(
        b.runs,
        || {
            Ok(sum(cases
                .iter()
                .map(|c| measure(b.ours().arg("tag").arg(c), true))
                .collect::<Result<_>>()?))
        },
        || {
            Ok(sum(cases
                .iter()
                .map(|c| measure(b.theirs("name").arg(c), true))
                .collect::<Result<_>>()?))
        },
    )?;
    let n = cases.len();
    let mut rows = vec![Row {
        name: format!("{n} recorded specs, one process each (total)"),
        ours,
        theirs,
        note: "pyflyte's own read: `ImageSpec(**yaml.safe_load(f)).image_name()`".into(),
    }];
    let batch = b.work.join("batch");
    fs::create_dir_all(&batch)?;
    let specs: Vec<PathBuf> = (0..100)
        .map(|i| {
            let p = batch.join(format!("s{i}.yaml"));
            fs::write(
                &p,
                format!(
                    "name: batch{i}\npython_version: \"3.11\"\npackages: [\"numpy=={}.0\", pandas]\napt_packages: [git]\nenv: {{N: \"{i}\"}}\nregistry: localhost:5765\n",
                    i % 7 + 1
                ),
            )?;
            Ok(p)
        })
        .collect::<Result<_>>()?;
    let (ours, theirs) = alternate(
        b.runs,
        || {
            Ok(sum(specs
                .iter()
                .map(|s| measure(b.ours().arg("tag").arg(s), false))
                .collect::<Result<_>>()?))
        },
        || measure(b.theirs("name").args(&specs), false),
    )?;
    rows.push(Row {
        name: "a batch of 100 specs".into(),
        ours,
        theirs,
        note: "imagespec: 100 processes; flytekit: one process for all 100".into(),
    });
    Ok(rows)
}

fn p2(b: &Bench, notes: &mut Vec<String>) -> Result<Vec<Row>> {
    eprintln!("xtask bench: P2 (generating the trees once)");
    let spec = make_tree(&b.work.join("tree-20k"), 20_000, 12)?;
    let mut rows = Vec::new();
    let (ours, theirs) = alternate(
        b.runs,
        || measure(b.ours().args(["tag", "--no-cache"]).arg(&spec), false),
        || measure(b.theirs("name").arg(&spec), false),
    )?;
    let (ours_cold, theirs_cold) = (ours.clone(), theirs.clone());
    rows.push(Row {
        name: format!(
            "`tag`, {}, cold",
            describe_tree(&spec.with_file_name("src"))?
        ),
        ours,
        theirs,
        note: "no stat cache (`--no-cache`); the page cache is warm for both".into(),
    });
    let (ours, theirs) = alternate(
        b.runs,
        || measure(b.ours().arg("tag").arg(&spec), false),
        || measure(b.theirs("name").arg(&spec), false),
    )?;
    let md5 = md5_alone(b, &b.work.join("tree-20k/src"))?;
    let cold = median(ours_cold.iter().map(|s| s.wall).collect());
    notes.push(format!(
        "md5 alone over the same bytes (read into memory first, then hashed by OpenSSL through Python's hashlib): {:.3} s. imagespec's cold `tag` (the whole process: start-up, walk, ignore files, reading, md5) takes {:.2}× that; flytekit's takes {:.2}×.",
        md5.wall.as_secs_f64(),
        cold.as_secs_f64() / md5.wall.as_secs_f64(),
        median(theirs_cold.iter().map(|s| s.wall).collect()).as_secs_f64() / md5.wall.as_secs_f64()
    ));
    rows.push(Row {
        name: "`tag`, the same tree, unchanged".into(),
        ours,
        theirs,
        note: "the stat cache reuses the digest; flytekit has none".into(),
    });
    let out = b.work.join("contexts");
    let _ = fs::remove_dir_all(&out);
    fs::create_dir_all(&out)?;
    let n = std::cell::Cell::new(0);
    let next = || {
        n.set(n.get() + 1);
        out.join(format!("c{}", n.get()))
    };
    let (ours, theirs) = alternate(
        b.runs,
        || {
            measure(
                b.ours().args(["context", "-o"]).arg(next()).arg(&spec),
                false,
            )
        },
        || measure(b.theirs("context").arg(&spec).arg(next()), false),
    )?;
    rows.push(Row {
        name: "`context -o`, the same tree".into(),
        ours,
        theirs,
        note: "imagespec hard-links (same file system); flytekit copies".into(),
    });
    let _ = fs::remove_dir_all(&out);
    for files in [2_000usize, 20_000, 100_000] {
        let spec = make_tree(&b.work.join(format!("small-{files}")), files, 0)?;
        let runs = if files >= 100_000 { 3 } else { b.runs };
        let (ours, theirs) = alternate(
            runs,
            || measure(b.ours().args(["tag", "--no-cache"]).arg(&spec), false),
            || measure(b.theirs("name").arg(&spec), false),
        )?;
        rows.push(Row {
            name: format!("`tag`, {files} small files, cold"),
            ours,
            theirs,
            note: format!("{runs} runs"),
        });
        let (ours, theirs) = alternate(
            runs,
            || measure(b.ours().arg("tag").arg(&spec), false),
            || measure(b.theirs("name").arg(&spec), false),
        )?;
        rows.push(Row {
            name: format!("`tag`, {files} small files, unchanged"),
            ours,
            theirs,
            note: format!("{runs} runs"),
        });
    }
    Ok(rows)
}

/// md5 over every file under `dir` in path order, timed alone: the files
/// are read into memory first (not timed), then hashed by OpenSSL through
/// Python's hashlib; the median of five.
fn md5_alone(b: &Bench, dir: &Path) -> Result<Sample> {
    const SCRIPT: &str = r#"
import hashlib, os, sys, time
files = sorted(os.path.join(r, f) for r, _, fs in os.walk(sys.argv[1]) for f in fs)
data = [open(p, "rb").read() for p in files]
times = []
for _ in range(5):
    t = time.perf_counter()
    h = hashlib.md5()
    for d in data:
        h.update(d)
    h.hexdigest()
    times.append(time.perf_counter() - t)
print(sorted(times)[2])
"#;
    let out = Command::new(&b.python)
        .args(["-c", SCRIPT])
        .arg(dir)
        .output()?;
    if !out.status.success() {
        bail!("md5 baseline: {}", String::from_utf8_lossy(&out.stderr));
    }
    let secs: f64 = String::from_utf8_lossy(&out.stdout).trim().parse()?;
    Ok(Sample {
        wall: Duration::from_secs_f64(secs),
        max_rss_kib: 0,
    })
}

/// Which engine a command talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Engine {
    /// The e2e set-up's engine, on its Unix socket.
    Local,
    /// The e2e set-up's second engine, over TLS.
    Remote,
}

/// Aims `cmd` (docker, or imagespec) at `engine`.
fn aim(b: &Bench, engine: Engine, cmd: &mut Command) -> Result<()> {
    if engine == Engine::Remote {
        cmd.env("DOCKER_HOST", b.var("IMAGESPEC_E2E_REMOTE_HOST")?)
            .env("DOCKER_TLS_VERIFY", "1")
            .env("DOCKER_CERT_PATH", b.var("IMAGESPEC_E2E_REMOTE_CERTS")?);
    }
    Ok(())
}

fn docker(b: &Bench, args: &[&str]) -> Result<String> {
    docker_on(b, Engine::Local, args)
}

/// The docker client, aimed at `engine`.
fn docker_cmd(b: &Bench, engine: Engine) -> Result<Command> {
    let mut cmd = Command::new(b.var("IMAGESPEC_DOCKER")?);
    aim(b, engine, &mut cmd)?;
    Ok(cmd)
}

/// `docker ARGS` against `engine`; its stdout.
fn docker_on(b: &Bench, engine: Engine, args: &[&str]) -> Result<String> {
    let out = docker_cmd(b, engine)?.args(args).output()?;
    if !out.status.success() {
        bail!(
            "docker {args:?} ({engine:?} engine): {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn forget_images(b: &Bench, repositories: &[&str]) -> Result<()> {
    forget_images_on(b, Engine::Local, repositories)
}

/// Removes `engine`'s images of these repositories (a bench run would
/// otherwise leave gigabytes of them behind).
fn forget_images_on(b: &Bench, engine: Engine, repositories: &[&str]) -> Result<()> {
    // Made once here, so that the variables it reads are known to be set.
    docker_cmd(b, engine)?;
    crate::daemon::remove_images(
        || docker_cmd(b, engine).expect("made above"),
        |name| {
            name.rsplit_once(':')
                .is_some_and(|(repo, _)| repositories.contains(&repo))
        },
    )
    .with_context(|| format!("removing the bench's images ({engine:?} engine)"))?;
    Ok(())
}

fn p3(b: &Bench) -> Result<Vec<Row>> {
    eprintln!("xtask bench: P3");
    let registry = b.var("IMAGESPEC_E2E_REGISTRY")?;
    let dir = b.work.join("exists");
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir)?;
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_nanos();
    let specs: Vec<PathBuf> = (0..200)
        .map(|i| {
            let p = dir.join(format!("e{i}.yaml"));
            fs::write(
                &p,
                format!("name: bench-exists\npython_version: \"3.11\"\nenv: {{N: \"{nonce}-{i}\"}}\nregistry: {registry}\n"),
            )?;
            Ok(p)
        })
        .collect::<Result<_>>()?;
    // Half of them present: one tiny image pushed under their names.
    let tiny = dir.join("tiny");
    fs::create_dir_all(&tiny)?;
    fs::write(tiny.join("a"), "a")?;
    let tar = dir.join("tiny.tar");
    let status = Command::new("tar")
        .arg("-C")
        .arg(&tiny)
        .arg("-cf")
        .arg(&tar)
        .arg("a")
        .status()?;
    if !status.success() {
        bail!("tar failed");
    }
    docker(
        b,
        &[
            "import",
            &tar.display().to_string(),
            "imagespec-bench/tiny:1",
        ],
    )?;
    for s in specs.iter().step_by(2) {
        let out = b.ours().arg("tag").arg(s).output()?;
        let name = String::from_utf8_lossy(&out.stdout).trim().to_string();
        docker(b, &["tag", "imagespec-bench/tiny:1", &name])?;
        docker(b, &["push", &name])?;
    }
    let runs = b.runs.min(3);
    // Every answer from the registry: nothing remembered.
    let (ours, theirs) = alternate(
        runs,
        || {
            measure(
                b.ours()
                    .env("IMAGESPEC_EXISTENCE_TTL", "0")
                    .arg("exists")
                    .args(&specs),
                true,
            )
        },
        || measure(b.theirs("exist").args(&specs), false),
    )?;
    let mut rows = vec![Row {
        name: "200 existence checks, half present".into(),
        ours,
        theirs,
        note: format!(
            "`imagespec exists` (concurrent, nothing remembered: `IMAGESPEC_EXISTENCE_TTL=0`) against `ImageSpec.exist()` in a loop; {runs} runs"
        ),
    }];

    // All present, and remembered: the other half pushed, one run to fill
    // a cache folder of the bench's own, then the remembered runs.
    for s in specs.iter().skip(1).step_by(2) {
        let out = b.ours().arg("tag").arg(s).output()?;
        let name = String::from_utf8_lossy(&out.stdout).trim().to_string();
        docker(b, &["tag", "imagespec-bench/tiny:1", &name])?;
        docker(b, &["push", &name])?;
    }
    let cache = dir.join("cache");
    let remembering = || {
        let mut c = b.ours();
        c.env("IMAGESPEC_CACHE_DIR", &cache)
            .env_remove("IMAGESPEC_EXISTENCE_TTL")
            .env_remove("IMAGESPEC_REFRESH")
            .arg("exists")
            .args(&specs);
        c
    };
    measure(&mut remembering(), false)?;
    let (ours, theirs) = alternate(
        runs,
        || measure(&mut remembering(), false),
        || measure(b.theirs("exist").args(&specs), false),
    )?;
    rows.push(Row {
        name: "200 existence checks, all present, remembered".into(),
        ours,
        theirs,
        note: format!(
            "`imagespec exists` with every answer remembered (asked once before, within the 10-minute time to live) against `ImageSpec.exist()` in a loop; {runs} runs"
        ),
    });
    Ok(rows)
}

/// flytekit's build of `spec` as tagged `tag`: its context in `ctx`, the
/// Dockerfile's `#syntax` line removed (it would pull a frontend), then
/// `docker build` on the same engine; `ctx` is removed after.
fn flytekit_build(
    b: &Bench,
    docker_bin: &str,
    spec: &Path,
    ctx: &Path,
    tag: &str,
) -> Result<Sample> {
    let start = Instant::now();
    let s1 = measure(b.theirs("context").arg(spec).arg(ctx), false)?;
    let text = fs::read_to_string(ctx.join("Dockerfile"))?;
    let text: String = text
        .lines()
        .filter(|l| !l.trim_start().to_lowercase().starts_with("#syntax"))
        .map(|l| format!("{l}\n"))
        .collect();
    fs::write(ctx.join("Dockerfile"), text)?;
    let mut cmd = Command::new(docker_bin);
    cmd.env("DOCKER_BUILDKIT", "1")
        .args(["build", "--progress", "plain", "-t", tag])
        .arg(ctx);
    let s2 = measure(&mut cmd, false);
    let _ = fs::remove_dir_all(ctx);
    let s2 = s2?;
    Ok(Sample {
        wall: start.elapsed(),
        max_rss_kib: s1.max_rss_kib.max(s2.max_rss_kib),
    })
}

fn p4(b: &Bench) -> Result<Vec<Row>> {
    eprintln!("xtask bench: P4");
    let docker_bin = b.var("IMAGESPEC_DOCKER")?;
    let (python_image, uv_image) = (
        b.var("IMAGESPEC_E2E_PYTHON_IMAGE")?,
        b.var("IMAGESPEC_E2E_UV_IMAGE")?,
    );
    let dir = b.work.join("build");
    let tree = b.work.join("build-tree");
    make_tree(&tree, 5_000, 2)?;
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir)?;
    // In the tree's project (a spec reads only its own project's files).
    let spec = tree.join("bench-build.yaml");
    let write_spec = |nonce: &str| {
        fs::write(
            &spec,
            format!(
                "name: bench-build\nbase_image: {}\npython_exec: /usr/bin/python3\npackages: [six]\n\
                 env: {{RUN: \"{nonce}\"}}\nsource_root: {}\nsource_copy_mode: all\n\
                 builder_config: {{uv_image: \"{}\", micromamba_image: \"{}\"}}\n",
                python_image,
                tree.join("src").display(),
                uv_image,
                python_image,
            ),
        )
    };
    let changed = tree.join("src/README.md");
    let mut counter = 0u64;
    let mut flytekit_build = |tag: &str| -> Result<Sample> {
        counter += 1;
        flytekit_build(
            b,
            &docker_bin,
            &spec,
            &dir.join(format!("fk-{counter}")),
            tag,
        )
    };
    let ours_build = || measure(b.ours().args(["build", "--no-push"]).arg(&spec), false);
    let prune = || docker(b, &["builder", "prune", "-af"]).map(|_| ());
    let runs = b.runs.min(3);
    let (mut cold_a, mut cold_b, mut re_a, mut re_b) = (vec![], vec![], vec![], vec![]);
    // Each tool on its own cache: pruned, a cold build, then the one-file
    // change and a rebuild on the warm cache.
    for run in 0..runs {
        let nonce = format!("{}-{run}", std::process::id());
        write_spec(&nonce)?;
        fs::write(&changed, format!("bench {nonce}\n"))?;
        prune()?;
        cold_a.push(ours_build()?);
        fs::write(&changed, format!("bench {nonce} changed\n"))?;
        re_a.push(ours_build()?);
        fs::write(&changed, format!("bench {nonce}\n"))?;
        prune()?;
        cold_b.push(flytekit_build(&format!("imagespec-bench/fk:{nonce}-cold"))?);
        fs::write(&changed, format!("bench {nonce} changed\n"))?;
        re_b.push(flytekit_build(&format!("imagespec-bench/fk:{nonce}-re"))?);
    }
    let size = |image: &str| -> Result<f64> {
        Ok(
            docker(b, &["image", "inspect", "--format", "{{.Size}}", image])?
                .trim()
                .parse::<f64>()
                .unwrap_or(0.0)
                / (1 << 20) as f64,
        )
    };
    let ours_name = String::from_utf8_lossy(&b.ours().arg("tag").arg(&spec).output()?.stdout)
        .trim()
        .to_string();
    let nonce = format!("{}-{}", std::process::id(), runs - 1);
    let sizes = format!(
        "image sizes: imagespec {:.0} MiB, flytekit {:.0} MiB",
        size(&ours_name)?,
        size(&format!("imagespec-bench/fk:{nonce}-re"))?
    );
    forget_images(b, &["bench-build", "imagespec-bench/fk"])?;
    Ok(vec![
        Row {
            name: format!(
                "cold build ({} source, `six` and flytekit from PyPI)",
                describe_tree(&tree.join("src"))?
            ),
            ours: cold_a,
            theirs: cold_b,
            note: format!("build cache pruned before each; {runs} runs"),
        },
        Row {
            name: "rebuild after a one-file source change".into(),
            ours: re_a,
            theirs: re_b,
            note: format!("flytekit: its context, then `docker build`; {sizes}"),
        },
    ])
}

/// `imagespec build --json` of `spec` (with `extra`): the time, and the
/// requested image's entry.
fn ours_build_json(b: &Bench, spec: &Path, extra: &[&str]) -> Result<(Sample, serde_json::Value)> {
    let mut cmd = b.ours();
    cmd.args(["build", "--json"]).args(extra).arg(spec);
    let (sample, stdout) = measure_output(&mut cmd, false)?;
    let report: serde_json::Value = serde_json::from_slice(&stdout)?;
    let entry = report["images"]
        .as_array()
        .and_then(|a| a.iter().find(|e| e["requested"] == true))
        .cloned()
        .context("no requested image in the report")?;
    Ok((sample, entry))
}

fn p5(b: &Bench) -> Result<Vec<Row>> {
    eprintln!("xtask bench: P5");
    let docker_bin = b.var("IMAGESPEC_DOCKER")?;
    let registry = b.var("IMAGESPEC_E2E_REGISTRY")?;
    let (python_image, uv_image) = (
        b.var("IMAGESPEC_E2E_PYTHON_IMAGE")?,
        b.var("IMAGESPEC_E2E_UV_IMAGE")?,
    );
    let dir = b.work.join("push");
    // The issue's workload: 5k files, about 70 MiB (one 30 MiB file).
    let tree = b.work.join("push-tree");
    make_tree(&tree, 5_000, 1)?;
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir)?;
    let spec = tree.join("bench-push.yaml");
    let nonce = std::process::id();
    fs::write(
        &spec,
        format!(
            "name: bench-push\nregistry: {registry}\nbase_image: {python_image}\npython_exec: /usr/bin/python3\npackages: [six]\n\
             env: {{RUN: \"{nonce}\"}}\nsource_root: {}\nsource_copy_mode: all\n\
             builder_config: {{uv_image: \"{uv_image}\", micromamba_image: \"{python_image}\"}}\n",
            tree.join("src").display(),
        ),
    )?;
    let changed = tree.join("src/README.md");
    let mut change = 0u64;
    let mut next_change = || -> Result<u64> {
        change += 1;
        let text = format!("bench push {nonce} {change}\n");
        fs::write(&changed, &text)?;
        Ok(text.len() as u64)
    };
    // The first build and push: the engine's (no earlier image).
    next_change()?;
    let (_, first) = ours_build_json(b, &spec, &[])?;
    if first["path"] != "engine" {
        bail!("the first build was not the engine's: {first}");
    }
    let runs = b.runs;
    let (mut pushed, mut engine, mut theirs) = (vec![], vec![], vec![]);
    let mut uploaded = Vec::new();
    let mut counter = 0u64;
    for _ in 0..runs {
        let size = next_change()?;
        let (sample, entry) = ours_build_json(b, &spec, &[])?;
        if entry["path"] != "source_push" {
            bail!("the rebuild was not pushed without an engine: {entry}");
        }
        uploaded.push((entry["uploaded"].as_u64().unwrap_or(0), size));
        pushed.push(sample);

        next_change()?;
        let (sample, entry) = ours_build_json(b, &spec, &["--engine"])?;
        if entry["path"] != "engine" {
            bail!("--engine did not build with the engine: {entry}");
        }
        engine.push(sample);

        // flytekit: its context, `docker build`, `docker push`.
        next_change()?;
        counter += 1;
        let tag = format!("{registry}/bench-push-fk:{nonce}-{counter}");
        let start = Instant::now();
        let built = flytekit_build(
            b,
            &docker_bin,
            &spec,
            &dir.join(format!("fk-{counter}")),
            &tag,
        )?;
        let pushed = measure(Command::new(&docker_bin).args(["push", &tag]), false)?;
        theirs.push(Sample {
            wall: start.elapsed(),
            max_rss_kib: built.max_rss_kib.max(pushed.max_rss_kib),
        });
    }
    forget_images(
        b,
        &[
            &format!("{registry}/bench-push"),
            &format!("{registry}/bench-push-fk"),
        ],
    )?;
    let bytes = uploaded
        .iter()
        .map(|(u, s)| format!("{u} B for a {s} B change"))
        .collect::<Vec<_>>();
    Ok(vec![
        Row {
            name: format!(
                "rebuild after a one-file source change ({} source), to the registry: imagespec's source push vs flytekit's rebuild and push",
                describe_tree(&tree.join("src"))?
            ),
            ours: pushed.clone(),
            theirs,
            note: format!("uploaded: {}; {runs} runs", bytes.join(", ")),
        },
        Row {
            name: "the same, imagespec's source push (imagespec column) vs imagespec's own engine rebuild and push (flytekit column)".into(),
            ours: pushed,
            theirs: engine,
            note: "the engine column is `imagespec build --engine`".into(),
        },
    ])
}

/// The build context BuildKit received, from a `--progress plain` log:
/// the bytes of its last `transferring context: N` line and the seconds of
/// its `[internal] load build context` step.
fn context_sent(log: &str) -> Option<(f64, f64)> {
    let lines: Vec<&str> = log
        .lines()
        .map(|l| l.split_once("] #").map_or(l, |(_, rest)| rest))
        .map(|l| l.strip_prefix('#').unwrap_or(l))
        .collect();
    let id = lines.iter().find_map(|l| {
        let (id, title) = l.split_once(' ')?;
        (title == "[internal] load build context").then_some(id)
    })?;
    let bytes = lines.iter().rev().find_map(|l| {
        let rest = l
            .strip_prefix(id)?
            .strip_prefix(" transferring context: ")?;
        let size = rest.split_whitespace().next()?;
        let (number, unit) = size.split_at(size.find(|c: char| c.is_ascii_alphabetic())?);
        let factor = match unit {
            "B" => 1.0,
            "kB" => 1e3,
            "MB" => 1e6,
            "GB" => 1e9,
            _ => return None,
        };
        Some(number.parse::<f64>().ok()? * factor)
    })?;
    let seconds = lines.iter().find_map(|l| {
        let rest = l.strip_prefix(id)?.strip_prefix(" DONE ")?;
        rest.trim_end_matches('s').parse::<f64>().ok()
    })?;
    Some((bytes, seconds))
}

/// P6: engine A (the local one) builds a spec cold (its build cache pruned)
/// with `--registry-cache`;
/// engine B (the e2e set-up's remote one, over TLS), which never built it,
/// builds the same spec (pip and apt packages) after a one-file source change, its steps before
/// the source read from the registry's cache. Then the context over the
/// wire: a 2,000-file tree (about 45 MiB) sent to the remote engine whole,
/// then after a one-file change.
fn p6(b: &Bench, notes: &mut Vec<String>) -> Result<Vec<Row>> {
    eprintln!("xtask bench: P6");
    let registry = b.var("IMAGESPEC_E2E_REGISTRY")?;
    let (python_image, uv_image) = (
        b.var("IMAGESPEC_E2E_PYTHON_IMAGE")?,
        b.var("IMAGESPEC_E2E_UV_IMAGE")?,
    );
    let dir = b.work.join("past-one-engine");
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(dir.join("src"))?;
    let spec = dir.join("spec.yaml");
    let changed = dir.join("src/main.py");
    let runs = b.runs.min(3);
    let nonce = |run: usize| -> Result<String> {
        Ok(format!(
            "{}-{run}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)?
                .as_nanos()
        ))
    };
    let builder_config = format!(
        "builder_config: {{uv_image: \"{uv_image}\", micromamba_image: \"{python_image}\"}}\n"
    );
    let (mut cold, mut second, mut shipped) = (vec![], vec![], vec![]);
    for run in 0..runs {
        let nonce = nonce(run)?;
        fs::write(
            &spec,
            format!(
                "name: bench-shared\nregistry: {registry}\nbase_image: {python_image}\npython_exec: /usr/bin/python3\n\
                 packages: [requests]\napt_packages: [jq]\nenv: {{RUN: \"{nonce}\"}}\nsource_root: src\nsource_copy_mode: all\n{builder_config}"
            ),
        )?;
        fs::write(&changed, format!("print('{nonce} a')\n"))?;
        // Both engines build with the host's network (the remote engine has
        // no bridge); a step's network is part of its cache key.
        let engine = |cmd: &mut Command| {
            cmd.env("IMAGESPEC_CACHE_DIR", dir.join(format!("cache-{nonce}")))
                .env("IMAGESPEC_EXISTENCE_TTL", "0")
                .env("IMAGESPEC_BUILD_NETWORK", "host")
                .args([
                    "build",
                    "--builder",
                    "default",
                    "--registry-cache",
                    "--engine",
                ])
                .arg(&spec);
        };
        // Cold, as in P4: the first engine's build cache (its pip and apt
        // download caches too) pruned; the second engine starts as empty as
        // a fresh runner's (its base images aside).
        docker(b, &["builder", "prune", "-af"])?;
        docker_on(b, Engine::Remote, &["builder", "prune", "-af"])?;
        let mut a = b.ours();
        engine(&mut a);
        cold.push(measure(&mut a, false)?);
        // A fresh runner (a cache folder that recorded nothing), no engine
        // needed: the source change shipped on the shared build.
        fs::write(&changed, format!("print('{nonce} c')\n"))?;
        let mut fresh = b.ours();
        fresh
            .env("IMAGESPEC_CACHE_DIR", dir.join(format!("fresh-{nonce}")))
            .env("IMAGESPEC_EXISTENCE_TTL", "0")
            .args([
                "build",
                "--json",
                "--builder",
                "default",
                "--registry-cache",
            ])
            .arg(&spec);
        let (sample, stdout) = measure_output(&mut fresh, false)?;
        let report: serde_json::Value = serde_json::from_slice(&stdout)?;
        if !report.to_string().contains("\"path\":\"source_push\"") {
            bail!("P6: the fresh runner did not push the source without an engine: {report}");
        }
        shipped.push(sample);
        fs::write(&changed, format!("print('{nonce} b')\n"))?;
        let mut remote = b.ours();
        aim(b, Engine::Remote, &mut remote)?;
        engine(&mut remote);
        second.push(measure(&mut remote, false)?);
    }

    // The context over the wire: a tree of its own, sent whole to the remote
    // engine (a cache folder it has not seen), then after a one-file change.
    let tree = make_tree(&b.work.join("tree-2k"), 2_000, 1)?;
    let tree_dir = tree.parent().context("the tree's folder")?;
    let tree_src = tree_dir.join("src");
    let wire_spec = tree_dir.join("wire.yaml");
    let (mut whole, mut delta) = (vec![], vec![]);
    let (mut whole_sent, mut delta_sent) = (vec![], vec![]);
    let edited = tree_src.join("pkg00/sub00/deep0/m0.py");
    let original = fs::read(&edited)?;
    for run in 0..runs {
        let nonce = nonce(run)?;
        fs::write(
            &wire_spec,
            format!(
                "name: bench-wire\nregistry: {registry}\nbase_image: {python_image}\npython_exec: /usr/bin/python3\n\
                 env: {{RUN: \"{nonce}\"}}\nsource_root: src\nsource_copy_mode: all\n{builder_config}"
            ),
        )?;
        let sent =
            |edit: &str, samples: &mut Vec<Sample>, sizes: &mut Vec<(f64, f64)>| -> Result<()> {
                let mut body = original.clone();
                body.extend_from_slice(edit.as_bytes());
                fs::write(&edited, body)?;
                // Not `b.ours()`: its `-q` would keep BuildKit's log to itself.
                let mut cmd = Command::new(&b.bin);
                cmd.envs(b.env.iter().map(|(k, v)| (k, v)));
                aim(b, Engine::Remote, &mut cmd)?;
                // A cache folder of its own per run: the kept context's path is
                // new to the engine, so the first send is whole.
                cmd.env(
                    "IMAGESPEC_CACHE_DIR",
                    dir.join(format!("wire-cache-{nonce}")),
                )
                .env("IMAGESPEC_EXISTENCE_TTL", "0")
                .env("IMAGESPEC_BUILD_NETWORK", "host")
                .args([
                    "-v",
                    "build",
                    "--builder",
                    "default",
                    "--engine",
                    "--no-push",
                ])
                .arg(&wire_spec);
                let (sample, _, stderr) = measure_streams(&mut cmd, false)?;
                let log = String::from_utf8_lossy(&stderr);
                sizes.push(
                    context_sent(&log)
                        .context("no `transferring context` line in the build's log")?,
                );
                samples.push(sample);
                Ok(())
            };
        sent(&format!("# {nonce} a\n"), &mut whole, &mut whole_sent)?;
        sent(&format!("# {nonce} b\n"), &mut delta, &mut delta_sent)?;
    }
    fs::write(&edited, &original)?;
    let median_of = |v: &[(f64, f64)], pick: fn(&(f64, f64)) -> f64| {
        let mut x: Vec<f64> = v.iter().map(pick).collect();
        x.sort_by(f64::total_cmp);
        x[x.len() / 2]
    };
    notes.push(format!(
        "Context over the wire (TLS, loopback) for the 2,000-file tree: {:.1} MB in {:.2} s sent whole; {:.1} kB in {:.2} s after a one-file change, the kept context resending only the change (medians of BuildKit's `transferring context` size and its context step's time).",
        median_of(&whole_sent, |x| x.0) / 1e6,
        median_of(&whole_sent, |x| x.1),
        median_of(&delta_sent, |x| x.0) / 1e3,
        median_of(&delta_sent, |x| x.1),
    ));
    let (shared, wire) = (
        format!("{registry}/bench-shared"),
        format!("{registry}/bench-wire"),
    );
    forget_images(b, &[&shared])?;
    forget_images_on(b, Engine::Remote, &[&shared, &wire])?;
    Ok(vec![
        Row {
            name: "a spec built elsewhere, changed only in its source, built on a second engine that never built it, its cache read from the registry (imagespec column), against the spec's cold build on the first engine (flytekit column)".into(),
            ours: second,
            theirs: cold.clone(),
            note: format!("both imagespec `build --registry-cache --engine`; the second engine is the e2e set-up's remote one, over TLS; target: the second ≤ 0.2× the cold build; {runs} runs"),
        },
        Row {
            name: "the same kind of change shipped by a fresh runner (no record of its own) without an engine, on the registry's shared build (imagespec column), against the spec's cold build (flytekit column)".into(),
            ours: shipped,
            theirs: cold,
            note: format!("`build --registry-cache`: the shared build's source layer replaced whole; {runs} runs"),
        },
        Row {
            name: "the 2,000-file tree built on the remote engine after a one-file change, the kept context resending only it (imagespec column), against its first build there, the context sent whole (flytekit column, which sends it whole every time)".into(),
            ours: delta,
            theirs: whole,
            note: format!("`build --engine --no-push` over TLS; {runs} runs; bytes in the notes below"),
        },
    ])
}
