//! Splitting training work over the machine's cores, deterministically:
//! each part is computed from its own range of items alone and the parts
//! come back in order, so the result never depends on thread scheduling.

use std::ops::Range;

/// Most threads training uses.
pub(crate) const MAX_THREADS: usize = 2;

/// How many threads to use.
pub(crate) fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(MAX_THREADS))
}

/// `work` over `0..items` cut into `parts` consecutive ranges (at least
/// `min_part` items each, so small jobs stay on one thread), each on a
/// thread of its own; the results in the order of their ranges.
pub(crate) fn split<T: Send>(
    items: usize,
    parts: usize,
    min_part: usize,
    work: impl Fn(Range<usize>) -> T + Sync,
) -> Vec<T> {
    let parts = parts.min(items / min_part.max(1)).max(1);
    if parts == 1 {
        return vec![work(0..items)];
    }
    let size = items.div_ceil(parts);
    let ranges: Vec<Range<usize>> = (0..parts)
        .map(|p| p * size..((p + 1) * size).min(items))
        .collect();
    std::thread::scope(|scope| {
        let work = &work;
        let handles: Vec<_> = ranges[1..]
            .iter()
            .map(|range| {
                let range = range.clone();
                scope.spawn(move || work(range))
            })
            .collect();
        let mut results = vec![work(ranges[0].clone())];
        results.extend(
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))),
        );
        results
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_cover_the_items_in_order() {
        for (items, parts, min_part) in [(10, 2, 1), (11, 3, 2), (3, 2, 5), (0, 2, 1), (7, 8, 1)] {
            let ranges = split(items, parts, min_part, |r| r);
            let flat: Vec<usize> = ranges.iter().flat_map(|r| r.clone()).collect();
            assert_eq!(flat, (0..items).collect::<Vec<_>>(), "{items} {parts}");
            assert!(ranges.len() <= parts.max(1));
        }
        assert_eq!(split(3, 2, 5, |r| r).len(), 1, "small jobs stay whole");
    }
}
