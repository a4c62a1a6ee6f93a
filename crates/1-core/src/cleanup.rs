//! What must not outlive an interrupted process: folders being written (a
//! build context before it is renamed into place, a build's temporary
//! context) and child processes (a `docker build` that would go on to tag or
//! push). Each is registered while in progress; a program's signal handler
//! calls [`remove_all`] before it exits: children are ended first (their
//! whole process group), then the folders removed.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

static IN_PROGRESS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
static CHILDREN: Mutex<Vec<u32>> = Mutex::new(Vec::new());
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// True once [`remove_all`] was called: writers stop adding files.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Registered until dropped.
#[derive(Debug)]
pub struct InProgress {
    path: PathBuf,
}

/// Registers a folder being written.
pub fn register(path: &Path) -> InProgress {
    if let Ok(mut list) = IN_PROGRESS.lock() {
        list.push(path.to_path_buf());
    }
    InProgress {
        path: path.to_path_buf(),
    }
}

impl Drop for InProgress {
    fn drop(&mut self) {
        if let Ok(mut list) = IN_PROGRESS.lock() {
            if let Some(i) = list.iter().position(|p| *p == self.path) {
                list.swap_remove(i);
            }
        }
    }
}

/// A child process, registered until dropped. Start it in a process group
/// of its own (`Command::process_group(0)`): a Ctrl-C then reaches only this
/// program, whose handler ends the child's whole group (so that the
/// interruption, not the child's own failure, is what is reported).
#[derive(Debug)]
pub struct ChildGuard {
    pid: u32,
}

/// Registers a running child process (the leader of its process group).
pub fn register_child(pid: u32) -> ChildGuard {
    if let Ok(mut list) = CHILDREN.lock() {
        list.push(pid);
    }
    ChildGuard { pid }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Ok(mut list) = CHILDREN.lock() {
            if let Some(i) = list.iter().position(|p| *p == self.pid) {
                list.swap_remove(i);
            }
        }
    }
}

/// How long children get to end after SIGTERM before SIGKILL.
const CHILD_GRACE: std::time::Duration = std::time::Duration::from_secs(3);

/// Ends every registered child's process group: SIGTERM, then SIGKILL for
/// those still there after [`CHILD_GRACE`].
fn end_children() {
    use rustix::process::{kill_process_group, test_kill_process, Pid, Signal};
    let pids: Vec<u32> = match CHILDREN.lock() {
        Ok(list) => list.clone(),
        Err(poisoned) => poisoned.into_inner().clone(),
    };
    let groups: Vec<Pid> = pids
        .iter()
        .filter_map(|p| Pid::from_raw(i32::try_from(*p).ok()?))
        .collect();
    for g in &groups {
        let _ = kill_process_group(*g, Signal::TERM);
    }
    let start = std::time::Instant::now();
    while start.elapsed() < CHILD_GRACE && groups.iter().any(|g| test_kill_process(*g).is_ok()) {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    for g in &groups {
        let _ = kill_process_group(*g, Signal::KILL);
    }
}

/// Ends every registered child and removes every registered folder (for a
/// signal handler, before exiting); writers that check [`interrupted`] stop,
/// and what they left is removed once more after a moment.
pub fn remove_all() {
    INTERRUPTED.store(true, Ordering::SeqCst);
    end_children();
    remove_registered();
    std::thread::sleep(std::time::Duration::from_millis(50));
    remove_registered();
}

fn remove_registered() {
    let paths = match IN_PROGRESS.lock() {
        Ok(list) => list.clone(),
        Err(poisoned) => poisoned.into_inner().clone(),
    };
    for p in paths {
        let _ = std::fs::remove_dir_all(&p);
    }
}
