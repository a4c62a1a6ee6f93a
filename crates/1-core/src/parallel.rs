//! Work over a slice split across a few threads.

/// Runs `f` over `items` in chunks of at least `min_chunk` items, one thread
/// a chunk (up to the cores, at most 8); a single chunk runs on the calling
/// thread. The results come in the chunks' order; `None` when a thread panicked.
pub fn chunks<T: Sync, R: Send>(
    items: &[T],
    min_chunk: usize,
    f: impl Fn(&[T]) -> R + Sync,
) -> Option<Vec<R>> {
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, 8);
    let per = items.len().div_ceil(threads).max(min_chunk).max(1);
    if items.len() <= per {
        return Some(vec![f(items)]);
    }
    let f = &f;
    std::thread::scope(|s| {
        let parts: Vec<_> = items
            .chunks(per)
            .map(|part| s.spawn(move || f(part)))
            .collect();
        parts.into_iter().map(|p| p.join().ok()).collect()
    })
}
