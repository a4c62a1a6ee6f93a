//! Folders that are being written and must not outlive an interrupted
//! process: a build context before it is renamed into place, a build's
//! temporary context. Each is registered while in progress; a program's
//! signal handler calls [`remove_all`] before it exits.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

static IN_PROGRESS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
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

/// Removes every registered folder (for a signal handler, before exiting);
/// writers that check [`interrupted`] stop, and what they left is removed
/// once more after a moment.
pub fn remove_all() {
    INTERRUPTED.store(true, Ordering::SeqCst);
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
