//! One-vs-rest linear support vector machines trained by dual coordinate
//! descent (Hsieh et al., 2008, the algorithm behind liblinear's default
//! solver).
//!
//! Why this solver: it needs no step size, converges in a handful of passes on
//! text and touches only the non-zero features of each example.
//!
//! All classes train together, one pass over the examples at a time: the
//! binary problems are independent, so visiting an example for several
//! classes at once gives each class exactly the updates it would get alone
//! (same visiting order), while the example's row is read once, and the
//! decision values of eight classes come from one vector product with the
//! feature-major weights (the weights of one feature for every class are
//! adjacent). Training one class at a time was bound by reading rows from
//! memory: a row is larger than the work done with it for one class.
//!
//! Blocks of eight classes are independent problems too: training spreads
//! them over two threads, each block with the same visiting order whatever
//! thread solves it, so the model is the same bit for bit on any number of
//! threads.
//!
//! Most (example, class) pairs are far outside the margin after the first
//! pass and never matter again; they are set aside from the second pass on
//! (shrinking with a margin of 0), so an example is then visited only for
//! the few classes it is close to. Validation folds of banking77 showed no
//! loss against liblinear's cautious shrinking with a final check of every
//! pair, at two thirds of the time (`bench/research/REPORT.md`, section 8).

use crate::features::SparseRow;
use crate::rng::{SplitMix, shuffle};

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct SvmConfig {
    /// Inverse regularisation strength.
    pub c: f32,
    /// Stop when the projected-gradient spread falls below this.
    pub tolerance: f32,
    pub max_passes: usize,
    /// Deterministic shuffling of the visiting order.
    pub seed: u64,
    /// An example a class leaves at alpha = 0 with a gradient above this
    /// (its margin exceeds 1 by this much) is set aside for that class
    /// (liblinear's own, more cautious threshold applies when lower).
    pub shrink_margin: f32,
    /// How many times classes that converged on the examples they kept look
    /// at every example again (each time costs a pass over all of them);
    /// with 0, the examples set aside stay aside.
    pub checks: usize,
    /// Passes before any example is set aside (the first decisions are
    /// made with weights that have seen few examples).
    pub shrink_after: usize,
}

impl Default for SvmConfig {
    fn default() -> Self {
        SvmConfig {
            c: 0.5,
            tolerance: 0.1,
            max_passes: 60,
            seed: 0x5eed,
            shrink_margin: 0.0,
            checks: 0,
            shrink_after: 1,
        }
    }
}

/// A trained one-vs-rest model, stored feature-major (`weights[feature * classes + class]`)
/// so scoring one sparse row reads contiguous memory.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct LinearModel {
    pub classes: usize,
    pub weights: Vec<f32>,
    pub bias: Vec<f32>,
}

impl LinearModel {
    /// The raw decision value of every class for one row.
    pub fn scores(&self, row: &SparseRow, out: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU supports AVX2 and FMA, checked just above.
            unsafe { self.scores_avx2(row, out) };
            return;
        }
        self.scores_portable(row, out);
    }

    /// The same loop compiled for AVX2: eight classes per instruction
    /// instead of four. Scoring is most of the time of a parse.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn scores_avx2(&self, row: &SparseRow, out: &mut [f32]) {
        self.scores_portable(row, out);
    }

    #[inline(always)]
    fn scores_portable(&self, row: &SparseRow, out: &mut [f32]) {
        out.copy_from_slice(&self.bias);
        for &(feature, value) in row {
            let start = feature as usize * self.classes;
            let weights = &self.weights[start..start + self.classes];
            for (score, w) in out.iter_mut().zip(weights) {
                *score += value * w;
            }
        }
    }
}

/// Trains one binary SVM per class; `labels[i]` is the class of row `i`.
///
/// Each class's problem is L2-regularised squared-hinge loss in the dual
/// (liblinear's default), solved by coordinate descent over every example
/// with shrinking: an example a class leaves at alpha = 0 with a gradient
/// that says it will stay there is set aside for that class. A class stops
/// when the spread of its projected gradients over a pass is within the
/// tolerance; if it had set examples aside, it may check them all once more
/// ([`SvmConfig::checks`]) when no class is running any more.
pub fn train(rows: &Rows, labels: &[usize], classes: usize, config: &SvmConfig) -> LinearModel {
    train_with_threads(rows, labels, classes, config, crate::parallel::threads())
}

/// [`train`] on `threads` threads. Without final checks
/// ([`SvmConfig::checks`] = 0), each block of [`LANES`] classes is a
/// problem of its own: it sees the examples in the same order (each block
/// draws the same shuffles from the same seed) and only its own weights, so
/// its result does not depend on which thread solves it, in what order, or
/// next to which other blocks; the model is the same on any number of
/// threads, bit for bit. With checks, every class waits for the others
/// before its check, so all blocks train together on one thread.
pub fn train_with_threads(
    rows: &Rows,
    labels: &[usize],
    classes: usize,
    config: &SvmConfig,
    threads: usize,
) -> LinearModel {
    assert!(labels.len() == rows.len() && labels.iter().all(|&y| y < classes));
    let slot_of = group_classes(rows, labels, classes);
    let blocks = slot_of.iter().max().map_or(0, |&s| s / LANES + 1);
    let mut class_at = vec![None; blocks * LANES];
    for (c, &slot) in slot_of.iter().enumerate() {
        class_at[slot] = Some(c);
    }
    let norms: Vec<f32> = (0..labels.len())
        .map(|i| {
            let sparse: f32 = rows.sparse(i).iter().map(|(_, v)| v * v).sum();
            let dense: f32 = rows.dense_of(i).iter().map(|v| v * v).sum();
            sparse + dense + BIAS * BIAS
        })
        .collect();
    let solve = |lanes: &[Option<usize>]| {
        let mut solver = Solver::new(rows, labels, &norms, lanes.to_vec(), config);
        let mut order: Vec<usize> = (0..labels.len()).collect();
        let mut rng = SplitMix(config.seed);
        for _ in 0..config.max_passes {
            shuffle(&mut order, &mut rng);
            solver.pass(&order);
            if solver.end_pass(config.tolerance) {
                break;
            }
        }
        solver.into_lanes()
    };
    let solved: Vec<Solved> = if threads <= 1 || config.checks > 0 || blocks <= 1 {
        vec![solve(&class_at)]
    } else {
        // Jobs of a few blocks (a row read once serves a job's blocks; one
        // block per job cost 15 % more work), two jobs per thread so that a
        // thread that finishes early (or was not held up by other programs)
        // takes more. Each result has its place, whoever computed it.
        let jobs: Vec<&[Option<usize>]> = job_blocks(blocks, 2 * threads)
            .into_iter()
            .map(|r| &class_at[r.start * LANES..r.end * LANES])
            .collect();
        let next = std::sync::atomic::AtomicUsize::new(0);
        let results: Vec<std::sync::Mutex<Option<Solved>>> =
            jobs.iter().map(|_| std::sync::Mutex::new(None)).collect();
        std::thread::scope(|scope| {
            for _ in 0..threads.min(jobs.len()) {
                scope.spawn(|| {
                    loop {
                        let job = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(lanes) = jobs.get(job) else { break };
                        let part = solve(lanes);
                        *results[job].lock().expect("no thread panicked") = Some(part);
                    }
                });
            }
        });
        results
            .into_iter()
            .map(|r| {
                r.into_inner()
                    .expect("no thread panicked")
                    .expect("every job was done")
            })
            .collect()
    };
    // The feature-major model parses read.
    let dimension = rows.dimension;
    let mut weights = vec![0.0f32; dimension * classes];
    let mut bias = vec![0.0f32; classes];
    for part in &solved {
        let placed: Vec<(usize, usize)> = (part.class_at.iter().enumerate())
            .filter_map(|(slot, class)| class.map(|c| (slot, c)))
            .collect();
        for &(slot, c) in &placed {
            bias[c] = part.bias[slot];
        }
        let parts = part.weights.chunks_exact(part.class_at.len());
        for (w, out) in parts.zip(weights.chunks_exact_mut(classes)) {
            for &(slot, c) in &placed {
                out[c] = w[slot];
            }
        }
    }
    LinearModel {
        classes,
        weights,
        bias,
    }
}

/// `blocks` cut into `jobs` consecutive ranges as even as can be, the
/// larger ones first (so that whichever thread is free last takes a
/// smaller one): 10 blocks in 4 jobs are 3, 3, 2 and 2 blocks, where
/// chunks of `ceil(10 / 4)` would be 3, 3, 3 and 1.
fn job_blocks(blocks: usize, jobs: usize) -> Vec<std::ops::Range<usize>> {
    let jobs = jobs.clamp(1, blocks.max(1));
    let (size, larger) = (blocks / jobs, blocks % jobs);
    let mut start = 0;
    (0..jobs)
        .map(|j| {
            let end = start + size + usize::from(j < larger);
            let range = start..end;
            start = end;
            range
        })
        .collect()
}

/// The weights a [`Solver`] learned for its lanes (feature-major).
struct Solved {
    class_at: Vec<Option<usize>>,
    weights: Vec<f32>,
    bias: Vec<f32>,
}

/// Places the classes in blocks of [`LANES`], alike classes together: the
/// examples a class must still look at late in training are mostly its own
/// and those of the classes it is confused with, so grouping those makes an
/// example need one or two blocks instead of one per class. Returns each
/// class's slot (`block * LANES + lane`). Likeness is the cosine of class
/// centroids, over the dense block and the sparse columns folded into a few
/// buckets (cheap, and enough to see which classes overlap).
fn group_classes(rows: &Rows, labels: &[usize], classes: usize) -> Vec<usize> {
    const BUCKETS: usize = 512;
    let width = BUCKETS + rows.dense_dims;
    let mut centroids = vec![0.0f32; classes * width];
    for (i, &label) in labels.iter().enumerate() {
        let centroid = &mut centroids[label * width..(label + 1) * width];
        for &(f, v) in rows.sparse(i) {
            centroid[f as usize % BUCKETS] += v;
        }
        for (c, &v) in centroid[BUCKETS..].iter_mut().zip(rows.dense_of(i)) {
            *c += v;
        }
    }
    for centroid in centroids.chunks_exact_mut(width) {
        crate::embeddings::normalize(centroid);
    }
    let centroid = |c: usize| &centroids[c * width..(c + 1) * width];
    let likeness: Vec<f32> = (0..classes * classes)
        .map(|at| crate::embeddings::dot(centroid(at / classes), centroid(at % classes)))
        .collect();
    let like = |a: usize, b: usize| likeness[a * classes + b];
    let mut slot_of = vec![usize::MAX; classes];
    // Each block starts with the first class left and takes, one at a
    // time, the class most like its members; among equally alike ones, the
    // one least like any other class left (so it does not take a class
    // from the partner it has elsewhere).
    let mut next_slot = 0;
    for seed in 0..classes {
        if slot_of[seed] != usize::MAX {
            continue;
        }
        let mut members = vec![seed];
        slot_of[seed] = next_slot;
        next_slot += 1;
        while members.len() < LANES {
            let left = |c: usize| slot_of[c] == usize::MAX;
            let best = (0..classes)
                .filter(|&c| left(c))
                .map(|c| {
                    let to_block: f32 = members.iter().map(|&m| like(c, m)).sum();
                    let pull = (0..classes)
                        .filter(|&o| o != c && left(o))
                        .map(|o| like(c, o))
                        .fold(f32::NEG_INFINITY, f32::max);
                    (c, to_block, pull)
                })
                .fold(
                    None,
                    |best: Option<(usize, f32, f32)>, (c, l, p)| match best {
                        Some((_, bl, bp)) if bl > l || (bl == l && bp <= p) => best,
                        _ => Some((c, l, p)),
                    },
                );
            let Some((c, _, _)) = best else { break };
            members.push(c);
            slot_of[c] = next_slot;
            next_slot += 1;
        }
        next_slot = next_slot.next_multiple_of(LANES);
    }
    slot_of
}

/// Where a class is in training.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Visited on the examples it has not set aside.
    Running,
    /// Converged on the examples it kept; waits for the others, then
    /// checks every example again.
    Frozen,
    /// Converged on every example.
    Done,
}

/// Classes handled together (one AVX register of `f32`): the weights are
/// stored in blocks of this many classes.
const LANES: usize = 8;

/// Most blocks visited together on one read of a row: their four running
/// sums each take 12 of the 16 AVX registers.
const GROUP: usize = 3;

/// How many examples ahead of the one visited a pass asks for the next
/// example's state and row ([`Solver::prefetch`]).
const PREFETCH_AHEAD: usize = 2;

/// Bytes in a cache line.
const LINE: usize = 64;
type Lanes = [f32; LANES];

/// The bias is learned as the weight of a constant feature of this value, as liblinear does.
const BIAS: f32 = 1.0;

/// Training rows in flat arrays (a row is one contiguous run of memory,
/// and a data set a handful of allocations): the sparse columns, and the
/// dense block apart. Rows built apart (on threads) are joined by taking
/// their arrays over as further parts, not by copying them.
pub struct Rows {
    /// Per part, the sparse columns and the dense values of its rows.
    parts: Vec<RowsPart>,
    /// Where each row is.
    at: Vec<RowAt>,
    dense_from: usize,
    dense_dims: usize,
    dimension: usize,
}

/// The sparse columns and the dense values of some rows.
type RowsPart = (Vec<(u32, f32)>, Vec<f32>);

/// Row `i`'s sparse columns are `parts[part].0[start..end]`, its dense
/// values (`dense_dims` of them, when `dense` is not `NO_DENSE`)
/// `parts[part].1[dense..]`.
#[derive(Debug, Clone, Copy)]
struct RowAt {
    part: u32,
    start: usize,
    end: usize,
    dense: usize,
}

const NO_DENSE: usize = usize::MAX;

impl Rows {
    /// Rows of `dimension` columns, of which those from `dense_from` on are
    /// a dense block: a row has either none of them or all of them, in
    /// order, at its end.
    pub fn new(dimension: usize, dense_from: usize) -> Rows {
        Rows {
            parts: vec![(Vec::new(), Vec::new())],
            at: Vec::new(),
            dense_from,
            dense_dims: dimension.saturating_sub(dense_from),
            dimension,
        }
    }

    /// Copies of `rows`.
    pub fn from_rows(rows: &[SparseRow], dimension: usize, dense_from: usize) -> Rows {
        let mut all = Rows::new(dimension, dense_from);
        for row in rows {
            all.push(row);
        }
        all
    }

    pub fn len(&self) -> usize {
        self.at.len()
    }

    pub fn is_empty(&self) -> bool {
        self.at.is_empty()
    }

    /// Adds a row: sparse columns in any order (each once), then the whole
    /// dense block or none of it.
    pub fn push(&mut self, row: &[(u32, f32)]) {
        assert!(
            row.iter().all(|&(f, _)| (f as usize) < self.dimension),
            "a column is past the dimension"
        );
        let dims = self.dense_dims;
        let has_dense =
            dims > 0 && row.len() >= dims && row[row.len() - dims].0 as usize == self.dense_from;
        let cut = if has_dense {
            row.len() - dims
        } else {
            row.len()
        };
        let (sparse, tail) = row.split_at(cut);
        assert!(
            sparse.iter().all(|&(f, _)| (f as usize) < self.dense_from)
                && tail
                    .iter()
                    .enumerate()
                    .all(|(d, &(f, _))| f as usize == self.dense_from + d),
            "a row's dense block holds every dense column, in order, at its end"
        );
        let part = self.parts.len() - 1;
        let (entries, dense) = self.parts.last_mut().expect("a part to push to");
        let start = entries.len();
        entries.extend_from_slice(sparse);
        let at = if has_dense {
            dense.extend(tail.iter().map(|&(_, v)| v));
            dense.len() - dims
        } else {
            NO_DENSE
        };
        self.at.push(RowAt {
            part: part as u32,
            start,
            end: entries.len(),
            dense: at,
        });
    }

    /// Adds the rows of `other` (of the same shape) after these; its
    /// arrays become parts of these rows as they are (nothing is copied
    /// but where each row is). Rows pushed afterwards go to a new part.
    pub fn append(&mut self, other: Rows) {
        assert!(
            (other.dimension, other.dense_from) == (self.dimension, self.dense_from),
            "rows of another shape"
        );
        let first = self.parts.len() as u32;
        self.parts.extend(other.parts);
        self.at.extend(other.at.into_iter().map(|at| RowAt {
            part: at.part + first,
            ..at
        }));
        self.parts.push((Vec::new(), Vec::new()));
    }

    #[inline(always)]
    fn sparse(&self, i: usize) -> &[(u32, f32)] {
        let at = self.at[i];
        &self.parts[at.part as usize].0[at.start..at.end]
    }

    #[inline(always)]
    fn dense_of(&self, i: usize) -> &[f32] {
        let at = self.at[i];
        if at.dense == NO_DENSE {
            return &[];
        }
        &self.parts[at.part as usize].1[at.dense..at.dense + self.dense_dims]
    }
}

/// The dual problems of the classes in some blocks of [`LANES`], solved
/// together (a row is read once per visit for all of them). Everything is
/// per slot (`block * LANES + lane`); empty slots stay at zero.
struct Solver<'a> {
    rows: &'a Rows,
    labels: &'a [usize],
    /// Each slot's class.
    class_at: Vec<Option<usize>>,
    /// `class_at.len()`.
    slots: usize,
    blocks: usize,
    /// Feature-major weights: `weights[f * slots + slot]`.
    weights: Vec<f32>,
    bias: Vec<f32>,
    diag: f32,
    /// Each example's squared norm, with the bias feature.
    norms: &'a [f32],
    /// `alpha[i * slots + slot]`.
    alpha: Vec<f32>,
    /// Whether example `i` is visited for a slot's class (not set aside).
    active: Vec<bool>,
    /// Per example and block, how many of the block's classes are active.
    block_active: Vec<u16>,
    /// Per slot, how many examples are active.
    active_count: Vec<usize>,
    state: Vec<State>,
    pg_max: Vec<f32>,
    pg_min: Vec<f32>,
    /// An example at alpha = 0 whose gradient is above this is set aside.
    shrink_above: Vec<f32>,
    shrink_margin: f32,
    checks_left: usize,
    passes_done: usize,
    shrink_after: usize,
}

impl<'a> Solver<'a> {
    /// A solver for the classes of `class_at` (whole blocks of [`LANES`]).
    fn new(
        rows: &'a Rows,
        labels: &'a [usize],
        norms: &'a [f32],
        class_at: Vec<Option<usize>>,
        config: &SvmConfig,
    ) -> Solver<'a> {
        let n = labels.len();
        let slots = class_at.len();
        debug_assert!(slots.is_multiple_of(LANES));
        let blocks = slots / LANES;
        let per_block: Vec<u16> = class_at
            .chunks_exact(LANES)
            .map(|lanes| lanes.iter().flatten().count() as u16)
            .collect();
        let mut block_active = Vec::with_capacity(n * blocks);
        for _ in 0..n {
            block_active.extend_from_slice(&per_block);
        }
        let mut active = Vec::with_capacity(n * slots);
        for _ in 0..n {
            active.extend(class_at.iter().map(Option::is_some));
        }
        let (state, active_count) = class_at
            .iter()
            .map(|c| match c {
                Some(_) => (State::Running, n),
                None => (State::Done, 0),
            })
            .unzip();
        Solver {
            rows,
            labels,
            slots,
            blocks,
            weights: vec![0.0; rows.dimension * slots],
            bias: vec![0.0; slots],
            diag: 0.5 / config.c,
            norms,
            alpha: vec![0.0; n * slots],
            active,
            block_active,
            active_count,
            state,
            pg_max: vec![f32::NEG_INFINITY; slots],
            pg_min: vec![f32::INFINITY; slots],
            shrink_above: vec![
                if config.shrink_after == 0 {
                    config.shrink_margin
                } else {
                    f32::INFINITY
                };
                slots
            ],
            class_at,
            passes_done: 0,
            shrink_after: config.shrink_after,
            shrink_margin: config.shrink_margin,
            checks_left: config.checks,
        }
    }

    /// One coordinate-descent pass over the examples in `order`.
    fn pass(&mut self, order: &[usize]) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            unsafe { self.pass_avx2(order) };
            return;
        }
        self.pass_portable::<false>(order);
    }

    /// The same loop compiled for AVX2: a block of eight classes is one
    /// register. Multiplications and additions stay separate (no FMA), so
    /// both versions compute the same model.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn pass_avx2(&mut self, order: &[usize]) {
        self.pass_portable::<true>(order);
    }

    /// With `AVX`, the caller guarantees that the CPU has AVX.
    ///
    /// An example's active blocks are visited together, up to [`GROUP`] at
    /// a time: one read of its row gives the decision values of all of
    /// them, and one more read adds its steps to all of them. The blocks
    /// are independent problems (their own lanes of the weights, alphas and
    /// bias), so each gets exactly the operations, in the same order, that
    /// a visit of its own would give it.
    #[inline(always)]
    fn pass_portable<const AVX: bool>(&mut self, order: &[usize]) {
        let mut group = [0usize; GROUP];
        for (n, &i) in order.iter().enumerate() {
            if let Some(&ahead) = order.get(n + PREFETCH_AHEAD) {
                self.prefetch(ahead);
            }
            let mut size = 0;
            for b in 0..self.blocks {
                if self.block_active[i * self.blocks + b] > 0 {
                    group[size] = b;
                    size += 1;
                    if size == GROUP {
                        self.visit::<AVX, GROUP>(i, group);
                        size = 0;
                    }
                }
            }
            match size {
                0 => {}
                1 => self.visit::<AVX, 1>(i, [group[0]]),
                2 => self.visit::<AVX, 2>(i, [group[0], group[1]]),
                _ => unreachable!("a full group is visited at once"),
            }
        }
    }

    /// Asks the memory for what a visit of example `i` reads first: its
    /// alphas, flags and counts, label and norm, the start of its sparse
    /// row and its whole dense row. The examples come in shuffled order, so
    /// each of these is a cache miss otherwise, and the visit waits on them
    /// (a hint only: nothing is computed differently).
    #[inline(always)]
    fn prefetch(&self, i: usize) {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
            // SAFETY: a prefetch reads nothing and faults on no address;
            // the addresses are inside (or one line past) the arrays anyway.
            let fetch = |at: *const u8| unsafe { _mm_prefetch::<_MM_HINT_T0>(at.cast()) };
            fetch(
                self.block_active
                    .as_ptr()
                    .wrapping_add(i * self.blocks)
                    .cast(),
            );
            fetch(self.active.as_ptr().wrapping_add(i * self.slots).cast());
            let alpha = self.alpha.as_ptr().wrapping_add(i * self.slots);
            for line in (0..self.slots).step_by(LINE / 4) {
                fetch(alpha.wrapping_add(line).cast());
            }
            fetch(self.labels.as_ptr().wrapping_add(i).cast());
            fetch(self.norms.as_ptr().wrapping_add(i).cast());
            // The rest of the sparse row streams in behind its first lines.
            let sparse = self.rows.sparse(i);
            for line in (0..sparse.len().min(32)).step_by(LINE / 8) {
                fetch(sparse.as_ptr().wrapping_add(line).cast());
            }
            let dense = self.rows.dense_of(i);
            for line in (0..dense.len()).step_by(LINE / 4) {
                fetch(dense.as_ptr().wrapping_add(line).cast());
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = i;
    }

    /// Example `i` for the active classes of blocks `blocks`.
    #[inline(always)]
    fn visit<const AVX: bool, const K: usize>(&mut self, i: usize, blocks: [usize; K]) {
        let scores = self.block_scores::<AVX, K>(i, blocks);
        let mut steps = [[0.0; LANES]; K];
        let mut changed = [0usize; K];
        let mut moved = 0;
        for j in 0..K {
            if self.update(i, blocks[j], &scores[j], &mut steps[j]) {
                changed[moved] = j;
                moved += 1;
            }
        }
        let pick = |j: usize| (blocks[changed[j]], steps[changed[j]]);
        match moved {
            0 => {}
            1 => self.add::<1>(i, [pick(0)]),
            2 => self.add::<2>(i, [pick(0), pick(1)]),
            3 => self.add::<3>(i, [pick(0), pick(1), pick(2)]),
            _ => unreachable!("a group has at most three blocks"),
        }
    }

    /// The coordinate steps of block `b`'s active classes for example `i`,
    /// given their decision values: alphas, shrinking and the projected
    /// gradients' spread updated, `steps` set to what each class's weights
    /// move by (times the row). True when any step is not zero.
    #[inline(always)]
    fn update(&mut self, i: usize, b: usize, scores: &Lanes, steps: &mut Lanes) -> bool {
        let mut changed = false;
        let y_class = self.labels[i];
        for (k, &score) in scores.iter().enumerate() {
            let slot = b * LANES + k;
            let at = i * self.slots + slot;
            if !self.active[at] {
                continue;
            }
            let y = if self.class_at[slot] == Some(y_class) {
                1.0
            } else {
                -1.0
            };
            let a = self.alpha[at];
            let gradient = y * score - 1.0 + self.diag * a;
            let projected = if a == 0.0 {
                if gradient > self.shrink_above[slot] {
                    self.active[at] = false;
                    self.block_active[i * self.blocks + b] -= 1;
                    self.active_count[slot] -= 1;
                    continue;
                }
                gradient.min(0.0)
            } else {
                gradient
            };
            self.pg_max[slot] = self.pg_max[slot].max(projected);
            self.pg_min[slot] = self.pg_min[slot].min(projected);
            if projected.abs() > 1e-12 {
                let updated = (a - gradient / (self.norms[i] + self.diag)).max(0.0);
                self.alpha[at] = updated;
                steps[k] = (updated - a) * y;
                changed |= steps[k] != 0.0;
            }
        }
        changed
    }

    /// The decision values of the classes of `blocks` for example `i`.
    #[inline(always)]
    fn block_scores<const AVX: bool, const K: usize>(
        &self,
        i: usize,
        blocks: [usize; K],
    ) -> [Lanes; K] {
        let stride = self.slots;
        let dense_from = self.rows.dense_from * stride;
        debug_assert!(
            self.weights.len() == self.rows.dimension * stride
                && blocks.iter().all(|&b| (b + 1) * LANES <= stride)
        );
        let (sparse, dense) = (self.rows.sparse(i), self.rows.dense_of(i));
        let lanes0 = blocks.map(|b| b * LANES);
        // SAFETY: every column of a row is below the dimension (checked by
        // `Rows::push`), the weights hold `dimension * stride` values and
        // `lane0 + LANES <= stride` for every block, so every lane read is
        // inside them.
        let sums = unsafe {
            let base = self.weights.as_ptr();
            let portable = || {
                lanes0.map(|lane0| {
                    let sparse_base = base.add(lane0);
                    weighted_sum(
                        sparse_base,
                        sparse_base.add(dense_from),
                        stride,
                        sparse,
                        dense,
                    )
                })
            };
            #[cfg(target_arch = "x86_64")]
            if AVX {
                weighted_sums_avx(base, lanes0, dense_from, stride, sparse, dense)
            } else {
                portable()
            }
            #[cfg(not(target_arch = "x86_64"))]
            portable()
        };
        let mut out = [[0.0; LANES]; K];
        for j in 0..K {
            let bias = &self.bias[lanes0[j]..lanes0[j] + LANES];
            for k in 0..LANES {
                out[j][k] = bias[k] * BIAS + sums[j][k];
            }
        }
        out
    }

    /// `w_c += steps[k] * row i` for the classes in the lanes of each
    /// `(block, steps)` of `moves` (the row read once for all of them).
    #[inline(always)]
    fn add<const M: usize>(&mut self, i: usize, moves: [(usize, Lanes); M]) {
        let stride = self.slots;
        for (b, steps) in &moves {
            let lane0 = b * LANES;
            for (bias, &step) in self.bias[lane0..lane0 + LANES].iter_mut().zip(steps) {
                *bias += step * BIAS;
            }
        }
        let lanes0 = moves.map(|(b, _)| b * LANES);
        debug_assert!(lanes0.iter().all(|&lane0| lane0 + LANES <= stride));
        let weights = self.weights.as_mut_ptr();
        // SAFETY: as in `block_scores`.
        unsafe {
            for &(f, v) in self.rows.sparse(i) {
                let at = weights.add(f as usize * stride);
                for (&lane0, (_, steps)) in lanes0.iter().zip(&moves) {
                    let w = &mut *(at.add(lane0) as *mut Lanes);
                    for (w, &step) in w.iter_mut().zip(steps) {
                        *w += v * step;
                    }
                }
            }
            let dense = weights.add(self.rows.dense_from * stride);
            for (d, &v) in self.rows.dense_of(i).iter().enumerate() {
                let at = dense.add(d * stride);
                for (&lane0, (_, steps)) in lanes0.iter().zip(&moves) {
                    let w = &mut *(at.add(lane0) as *mut Lanes);
                    for (w, &step) in w.iter_mut().zip(steps) {
                        *w += v * step;
                    }
                }
            }
        }
    }

    /// Sets every example of a slot's class aside, or brings them all back.
    fn set_all_active(&mut self, slot: usize, active: bool) {
        let b = slot / LANES;
        for i in 0..self.labels.len() {
            let at = i * self.slots + slot;
            if self.active[at] != active {
                self.active[at] = active;
                let count = &mut self.block_active[i * self.blocks + b];
                if active {
                    *count += 1;
                } else {
                    *count -= 1;
                }
            }
        }
        self.active_count[slot] = if active { self.labels.len() } else { 0 };
    }

    /// After a pass: a class whose projected gradients spread within the
    /// tolerance is done if it looked at every example, and otherwise
    /// waits (frozen) until no class is running; then the frozen ones look
    /// at every example again, setting none aside during that pass. True
    /// when every class is done.
    fn end_pass(&mut self, tolerance: f32) -> bool {
        let n = self.labels.len();
        self.passes_done += 1;
        let margin = if self.passes_done < self.shrink_after {
            f32::INFINITY
        } else {
            self.shrink_margin
        };
        for slot in 0..self.slots {
            if self.state[slot] != State::Running {
                continue;
            }
            let (pg_max, pg_min) = (self.pg_max[slot], self.pg_min[slot]);
            self.pg_max[slot] = f32::NEG_INFINITY;
            self.pg_min[slot] = f32::INFINITY;
            if pg_max - pg_min <= tolerance {
                self.state[slot] = if self.active_count[slot] == n {
                    State::Done
                } else {
                    State::Frozen
                };
                self.set_all_active(slot, false);
                continue;
            }
            // liblinear's rule (the largest projected gradient of the last
            // pass), and never more than the margin.
            let liblinear = if pg_max <= 0.0 { f32::INFINITY } else { pg_max };
            self.shrink_above[slot] = liblinear.min(margin);
        }
        if self.state.contains(&State::Running) {
            return false;
        }
        if self.checks_left == 0 {
            return true;
        }
        self.checks_left -= 1;
        for slot in 0..self.slots {
            if self.state[slot] == State::Frozen {
                self.state[slot] = State::Running;
                self.set_all_active(slot, true);
                self.shrink_above[slot] = f32::INFINITY;
            }
        }
        !self.state.contains(&State::Running)
    }

    fn into_lanes(self) -> Solved {
        Solved {
            class_at: self.class_at,
            weights: self.weights,
            bias: self.bias,
        }
    }
}

/// [`weighted_sum`] in AVX registers (the compiler's own vectorisation of
/// it shuffled lanes about) for `K` blocks at once, the lanes of block `j`
/// at `base + lanes0[j]` (sparse columns) and `base + dense_from +
/// lanes0[j]` (dense values): for each block the same operations in the
/// same order as [`weighted_sum`], so the same result, with each entry of
/// the row read once for all of them.
///
/// # Safety
/// As [`weighted_sum`] for every block, and the CPU has AVX.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx")]
unsafe fn weighted_sums_avx<const K: usize>(
    base: *const f32,
    lanes0: [usize; K],
    dense_from: usize,
    stride: usize,
    sparse: &[(u32, f32)],
    dense: &[f32],
) -> [Lanes; K] {
    use std::arch::x86_64::*;
    let mut s = [[_mm256_setzero_ps(); 4]; K];
    // Eight lanes, `offset` values into the weights.
    let at = |offset: usize| unsafe { _mm256_loadu_ps(base.add(offset)) };
    let chunks = sparse.chunks_exact(4);
    let rest = chunks.remainder();
    for chunk in chunks {
        for (i, &(f, v)) in chunk.iter().enumerate() {
            let (offset, v) = (f as usize * stride, _mm256_set1_ps(v));
            for (s, &lane0) in s.iter_mut().zip(&lanes0) {
                s[i] = _mm256_add_ps(s[i], _mm256_mul_ps(v, at(offset + lane0)));
            }
        }
    }
    for &(f, v) in rest {
        let (offset, v) = (f as usize * stride, _mm256_set1_ps(v));
        for (s, &lane0) in s.iter_mut().zip(&lanes0) {
            s[0] = _mm256_add_ps(s[0], _mm256_mul_ps(v, at(offset + lane0)));
        }
    }
    let chunks = dense.chunks_exact(4);
    let rest_from = dense.len() - chunks.remainder().len();
    for (c, chunk) in chunks.enumerate() {
        for (i, &v) in chunk.iter().enumerate() {
            let (offset, v) = (dense_from + (4 * c + i) * stride, _mm256_set1_ps(v));
            for (s, &lane0) in s.iter_mut().zip(&lanes0) {
                s[i] = _mm256_add_ps(s[i], _mm256_mul_ps(v, at(offset + lane0)));
            }
        }
    }
    for (d, &v) in dense.iter().enumerate().skip(rest_from) {
        let (offset, v) = (dense_from + d * stride, _mm256_set1_ps(v));
        for (s, &lane0) in s.iter_mut().zip(&lanes0) {
            s[0] = _mm256_add_ps(s[0], _mm256_mul_ps(v, at(offset + lane0)));
        }
    }
    let mut out = [[0.0; LANES]; K];
    for (out, s) in out.iter_mut().zip(&s) {
        let sum = _mm256_add_ps(_mm256_add_ps(s[0], s[1]), _mm256_add_ps(s[2], s[3]));
        unsafe { _mm256_storeu_ps(out.as_mut_ptr(), sum) };
    }
    out
}

/// `Σ v · w(f)` over a row, [`LANES`] classes at a time, where `w(f)` is
/// the lanes at `sparse_base + f * stride` for a sparse column and at
/// `dense_base + d * stride` for the `d`-th dense value. Four sums run side
/// by side (one would wait on each addition before the next).
///
/// # Safety
/// Every lane read must be inside one allocation.
#[inline(always)]
unsafe fn weighted_sum(
    sparse_base: *const f32,
    dense_base: *const f32,
    stride: usize,
    sparse: &[(u32, f32)],
    dense: &[f32],
) -> Lanes {
    let (mut s0, mut s1, mut s2, mut s3): (Lanes, Lanes, Lanes, Lanes) = Default::default();
    let lanes = |f: usize| unsafe { &*(sparse_base.add(f * stride) as *const Lanes) };
    let chunks = sparse.chunks_exact(4);
    let rest = chunks.remainder();
    for chunk in chunks {
        let (w0, w1, w2, w3) = (
            lanes(chunk[0].0 as usize),
            lanes(chunk[1].0 as usize),
            lanes(chunk[2].0 as usize),
            lanes(chunk[3].0 as usize),
        );
        let (v0, v1, v2, v3) = (chunk[0].1, chunk[1].1, chunk[2].1, chunk[3].1);
        for k in 0..LANES {
            s0[k] += v0 * w0[k];
            s1[k] += v1 * w1[k];
            s2[k] += v2 * w2[k];
            s3[k] += v3 * w3[k];
        }
    }
    for &(f, v) in rest {
        let w = lanes(f as usize);
        for k in 0..LANES {
            s0[k] += v * w[k];
        }
    }
    let dense_lanes = |d: usize| unsafe { &*(dense_base.add(d * stride) as *const Lanes) };
    let chunks = dense.chunks_exact(4);
    let rest_from = dense.len() - chunks.remainder().len();
    for (c, chunk) in chunks.enumerate() {
        let d = 4 * c;
        let (w0, w1, w2, w3) = (
            dense_lanes(d),
            dense_lanes(d + 1),
            dense_lanes(d + 2),
            dense_lanes(d + 3),
        );
        for k in 0..LANES {
            s0[k] += chunk[0] * w0[k];
            s1[k] += chunk[1] * w1[k];
            s2[k] += chunk[2] * w2[k];
            s3[k] += chunk[3] * w3[k];
        }
    }
    for (d, &v) in dense.iter().enumerate().skip(rest_from) {
        let w = dense_lanes(d);
        for k in 0..LANES {
            s0[k] += v * w[k];
        }
    }
    let mut out: Lanes = [0.0; LANES];
    for k in 0..LANES {
        out[k] = (s0[k] + s1[k]) + (s2[k] + s3[k]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separates_linearly_separable_classes() {
        // Three classes, each owning one feature, plus a shared noise feature.
        let rows: Vec<SparseRow> = (0..30)
            .map(|i| vec![((i % 3) as u32, 1.0), (3, 0.5)])
            .collect();
        let labels: Vec<usize> = (0..30).map(|i| i % 3).collect();
        let model = train(
            &Rows::from_rows(&rows, 4, 4),
            &labels,
            3,
            &SvmConfig::default(),
        );
        let mut scores = vec![0.0; 3];
        for (row, &label) in rows.iter().zip(&labels) {
            model.scores(row, &mut scores);
            let best = (0..3)
                .max_by(|&a, &b| scores[a].total_cmp(&scores[b]))
                .unwrap();
            assert_eq!(best, label);
        }
    }

    #[test]
    fn training_is_deterministic() {
        let rows: Vec<SparseRow> = (0..50)
            .map(|i| vec![((i % 5) as u32, 1.0), (5 + (i % 7) as u32, 0.3)])
            .collect();
        let labels: Vec<usize> = (0..50).map(|i| i % 5).collect();
        let rows = Rows::from_rows(&rows, 12, 12);
        let a = train(&rows, &labels, 5, &SvmConfig::default());
        let b = train(&rows, &labels, 5, &SvmConfig::default());
        assert_eq!(a.weights, b.weights);
        assert_eq!(a.bias, b.bias);
    }

    #[test]
    fn training_on_threads_gives_the_same_model() {
        let (rows, labels) = many_classes();
        let all = Rows::from_rows(&rows, 42, 40);
        let config = SvmConfig::default();
        let one = train_with_threads(&all, &labels, 20, &config, 1);
        for threads in [2, 3, 8] {
            let many = train_with_threads(&all, &labels, 20, &config, threads);
            assert_eq!(one.weights, many.weights, "{threads} threads");
            assert_eq!(one.bias, many.bias, "{threads} threads");
        }
        assert_eq!(accuracy(&one, &rows, &labels), rows.len());
    }

    /// Twenty classes (three blocks), each with its own feature and a
    /// dense block that hints at it, plus noise shared by neighbours.
    fn many_classes() -> (Vec<SparseRow>, Vec<usize>) {
        let mut rows = Vec::new();
        let mut labels = Vec::new();
        for i in 0..400 {
            let class = i % 20;
            let mut row = vec![
                (class as u32, 1.0),
                (20 + ((class + i / 20) % 20) as u32, 0.4),
            ];
            row.push((40, (class % 4) as f32 * 0.1));
            row.push((41, (class / 4) as f32 * 0.1));
            rows.push(row);
            labels.push(class);
        }
        (rows, labels)
    }

    #[test]
    fn blocks_visited_together_train_as_blocks_visited_alone() {
        // Sixty classes (eight blocks) that overlap across blocks: on one
        // thread an example's active blocks are visited in groups (three,
        // three and two, then whatever stays active); on sixty-four
        // threads every job is one block, visited alone.
        let (mut rows, mut labels) = (Vec::new(), Vec::new());
        for i in 0..1500usize {
            let class = i % 60;
            let mut row = vec![
                (class as u32, 0.8),
                (60 + ((class * 7 + i / 60) % 60) as u32, 0.5),
                (60 + ((class * 13 + 5) % 60) as u32, 0.3),
                (120 + (i % 17) as u32, 0.2),
            ];
            row.sort_by_key(|&(f, _)| f);
            row.dedup_by_key(|&mut (f, _)| f);
            for d in 0..6 {
                row.push((137 + d, ((class * (d as usize + 3) + i) % 11) as f32 * 0.05));
            }
            rows.push(row);
            labels.push(class);
        }
        let all = Rows::from_rows(&rows, 143, 137);
        let config = SvmConfig::default();
        let grouped = train_with_threads(&all, &labels, 60, &config, 1);
        let alone = train_with_threads(&all, &labels, 60, &config, 64);
        assert_eq!(grouped.weights, alone.weights);
        assert_eq!(grouped.bias, alone.bias);
        assert!(grouped.weights.iter().any(|&w| w != 0.0));
    }

    fn accuracy(model: &LinearModel, rows: &[SparseRow], labels: &[usize]) -> usize {
        let mut scores = vec![0.0; model.classes];
        rows.iter()
            .zip(labels)
            .filter(|(row, label)| {
                model.scores(row, &mut scores);
                (0..model.classes).max_by(|&a, &b| scores[a].total_cmp(&scores[b])) == Some(**label)
            })
            .count()
    }

    #[test]
    fn classes_in_several_blocks_train_like_one_block() {
        let (rows, labels) = many_classes();
        let all = Rows::from_rows(&rows, 42, 40);
        let model = train(&all, &labels, 20, &SvmConfig::default());
        assert_eq!((model.classes, model.weights.len()), (20, 42 * 20));
        assert_eq!(accuracy(&model, &rows, &labels), rows.len());
    }

    #[test]
    fn setting_examples_aside_gives_the_same_answers_as_checking_them_all() {
        let (rows, labels) = many_classes();
        let all = Rows::from_rows(&rows, 42, 40);
        let quick = train(&all, &labels, 20, &SvmConfig::default());
        let careful = SvmConfig {
            shrink_margin: f32::INFINITY,
            checks: usize::MAX,
            tolerance: 0.01,
            max_passes: 1000,
            ..SvmConfig::default()
        };
        let converged = train(&all, &labels, 20, &careful);
        assert_eq!(
            accuracy(&quick, &rows, &labels),
            accuracy(&converged, &rows, &labels)
        );
        let from_the_start = SvmConfig {
            shrink_after: 0,
            ..SvmConfig::default()
        };
        let earliest = train(&all, &labels, 20, &from_the_start);
        assert_eq!(
            accuracy(&earliest, &rows, &labels),
            accuracy(&converged, &rows, &labels)
        );
        for (q, c) in quick.bias.iter().zip(&converged.bias) {
            assert!((q - c).abs() < 0.2, "bias {q} against {c}");
        }
    }

    #[test]
    fn jobs_are_even_larger_first_and_cover_every_block() {
        assert_eq!(job_blocks(10, 4), vec![0..3, 3..6, 6..8, 8..10]);
        assert_eq!(job_blocks(3, 4), vec![0..1, 1..2, 2..3]);
        assert_eq!(job_blocks(8, 4), vec![0..2, 2..4, 4..6, 6..8]);
        for blocks in 1..30 {
            for jobs in 1..9 {
                let ranges = job_blocks(blocks, jobs);
                let flat: Vec<usize> = ranges.iter().flat_map(|r| r.clone()).collect();
                assert_eq!(flat, (0..blocks).collect::<Vec<_>>());
                let sizes: Vec<usize> = ranges.iter().map(|r| r.len()).collect();
                assert!(sizes.windows(2).all(|w| w[0] >= w[1] && w[0] - w[1] <= 1));
                assert!(sizes.iter().all(|&s| s > 0));
            }
        }
    }

    #[test]
    fn rows_keep_the_dense_block_apart() {
        let mut rows = Rows::new(6, 4);
        rows.push(&[(2, 0.5), (0, 1.0), (4, 0.1), (5, 0.2)]);
        rows.push(&[(1, 1.0)]);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows.sparse(0), &[(2, 0.5), (0, 1.0)]);
        assert_eq!(rows.dense_of(0), &[0.1, 0.2]);
        assert_eq!(rows.sparse(1), &[(1, 1.0)]);
        assert!(rows.dense_of(1).is_empty());
    }

    #[test]
    fn appended_rows_are_the_rows_pushed_one_by_one() {
        let rows: Vec<SparseRow> = vec![
            vec![(2, 0.5), (0, 1.0), (4, 0.1), (5, 0.2)],
            vec![(1, 1.0)],
            vec![(3, 0.3), (4, 0.4), (5, 0.5)],
        ];
        let whole = Rows::from_rows(&rows, 6, 4);
        let mut joined = Rows::from_rows(&rows[..1], 6, 4);
        joined.append(Rows::from_rows(&rows[1..], 6, 4));
        assert_eq!(joined.len(), 3);
        for i in 0..3 {
            assert_eq!(joined.sparse(i), whole.sparse(i));
            assert_eq!(joined.dense_of(i), whole.dense_of(i));
        }
        // Taken over, not copied: each appended part is a part of its own.
        assert_eq!(joined.parts.len(), 3);
        joined.push(&[(0, 0.5)]);
        joined.append(Rows::from_rows(&rows[..1], 6, 4));
        assert_eq!(joined.len(), 5);
        assert_eq!(joined.sparse(3), &[(0, 0.5)]);
        assert!(joined.dense_of(3).is_empty());
        assert_eq!(joined.sparse(4), whole.sparse(0));
        assert_eq!(joined.dense_of(4), whole.dense_of(0));
    }

    #[test]
    #[should_panic(expected = "dense block")]
    fn a_partial_dense_block_is_refused() {
        Rows::new(6, 4).push(&[(0, 1.0), (5, 0.2)]);
    }

    #[test]
    fn alike_classes_share_a_block() {
        // Classes 0 and 9 use the same features, as do 1 and 10; the rest
        // have features of their own.
        let mut rows = Vec::new();
        let mut labels = Vec::new();
        for class in 0..12usize {
            let feature = match class {
                9 => 0,
                10 => 37,
                c => c as u32 * 37,
            };
            rows.push(vec![(feature, 1.0)]);
            labels.push(class);
        }
        let all = Rows::from_rows(&rows, 500, 500);
        let slots = group_classes(&all, &labels, 12);
        let mut sorted = slots.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), 12, "one slot per class: {slots:?}");
        assert_eq!(slots[0] / LANES, slots[9] / LANES);
        assert_eq!(slots[1] / LANES, slots[10] / LANES);
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_avx_sums_are_the_portable_sum_of_each_block() {
        if !std::arch::is_x86_feature_detected!("avx") {
            return;
        }
        let stride = 24;
        let weights: Vec<f32> = (0..stride * 50)
            .map(|i| ((i * 7919) % 113) as f32 / 37.0 - 1.5)
            .collect();
        // Remainders of 0 to 3 entries past the chunks of four, both blocks.
        for (entries, dims) in [(23, 7), (24, 8), (21, 5), (22, 6), (0, 0)] {
            let sparse: Vec<(u32, f32)> = (0..entries)
                .map(|k| ((k * 13 % 40) as u32, k as f32 * 0.37 - 2.0))
                .collect();
            let dense: Vec<f32> = (0..dims).map(|d| d as f32 * 0.11 - 0.3).collect();
            let dense_from = 40 * stride;
            // SAFETY (all three): columns below 40 and at most 8 dense
            // values from column 40, in a 50-row table of `stride` lanes.
            let portable = |lane0: usize| unsafe {
                let base = weights.as_ptr().add(lane0);
                weighted_sum(base, base.add(dense_from), stride, &sparse, &dense)
            };
            // One, two and three blocks at once (`K` is generic: a function).
            fn avx<const K: usize>(
                weights: &[f32],
                lanes0: [usize; K],
                (dense_from, stride): (usize, usize),
                sparse: &[(u32, f32)],
                dense: &[f32],
            ) -> [Lanes; K] {
                // SAFETY: as above, for every block of `lanes0`.
                unsafe {
                    weighted_sums_avx(weights.as_ptr(), lanes0, dense_from, stride, sparse, dense)
                }
            }
            let table = (dense_from, stride);
            for lane0 in [0, LANES, 2 * LANES] {
                let one = avx(&weights, [lane0], table, &sparse, &dense);
                assert_eq!(one, [portable(lane0)]);
            }
            let two = avx(&weights, [0, 2 * LANES], table, &sparse, &dense);
            assert_eq!(two, [portable(0), portable(2 * LANES)]);
            let two = avx(&weights, [LANES, 2 * LANES], table, &sparse, &dense);
            assert_eq!(two, [portable(LANES), portable(2 * LANES)]);
            let three = avx(&weights, [0, LANES, 2 * LANES], table, &sparse, &dense);
            assert_eq!(three, [portable(0), portable(LANES), portable(2 * LANES)]);
            if entries > 0 {
                assert_ne!(portable(0), [0.0; LANES], "a sum worth comparing");
            }
        }
    }
}
