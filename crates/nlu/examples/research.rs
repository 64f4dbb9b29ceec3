//! Research on validation folds (never a test file): trains the model once
//! per fold and scores re-ranking variants of the classifier on the
//! held-out fold, from the rows and raw SVM scores of the research hooks
//! (`Model::research_probe`, before the model's own re-ranking).
//! `research TRAIN.jsonl [FOLDS] [OPTIONS_JSON]`, the first `VAL_RUNS`
//! folds (default 10), entities dropped. Prints the utterances right per
//! variant and per fold against the SVM's argmax (`base`); `SHOW=variant`
//! lists the utterances a variant changes. Used for `REPORT.md` section 12:
//! nearest-neighbour re-ranking on the static vectors and the word block.
mod common;

use otto_nlu::dataset::{self, Example};
use otto_nlu::{Language, Model};
use std::collections::BTreeMap;

struct Probe {
    exact: Option<usize>,
    row: Vec<(u32, f32)>,
    words: Vec<(u32, f32)>,
    scores: Vec<f32>,
    class: usize,
    text: String,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let common::FoldArgs {
        train,
        folds,
        runs,
        options,
    } = common::fold_args(&args, true, 10);
    let mut totals: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for k in 0..runs.min(folds) {
        let (fit, val) = dataset::fold_split(&train, folds, k);
        let data = dataset::to_training_data(&fit, Language::English);
        let started = std::time::Instant::now();
        let model = Model::train(&data, &options, &mut |_| {}).expect("trains");
        let train_s = started.elapsed().as_secs_f64();
        let class_of: BTreeMap<&str, usize> = model
            .tasks()
            .iter()
            .enumerate()
            .map(|(i, t)| (t.as_str(), i))
            .collect();
        let mut sd = 0;
        let mut probe = |e: &Example| {
            let p = model.research_probe(&e.text);
            sd = p.sparse_dimension;
            Probe {
                exact: p.exact,
                row: p.row,
                words: p.words,
                scores: p.scores,
                class: class_of[e.intent.as_str()],
                text: e.text.clone(),
            }
        };
        let tr: Vec<Probe> = fit.iter().map(&mut probe).collect();
        let va: Vec<Probe> = val.iter().map(&mut probe).collect();
        let classes = model.tasks().len();
        let mut fold: BTreeMap<String, usize> = BTreeMap::new();
        variants(&tr, &va, classes, sd as u32, &mut fold);
        let base = fold["base"];
        print!("fold {k} ({:.2}s, n {}):", train_s, va.len());
        for (name, correct) in &fold {
            let t = totals.entry(name.clone()).or_default();
            t.0 += correct;
            t.1 += va.len();
            if name != "base" {
                print!(" {}{:+}", name, *correct as i64 - base as i64);
            }
        }
        println!(" base {base}");
    }
    let base = totals["base"];
    for (name, (c, n)) in &totals {
        println!(
            "{name:40} {:.3} ({:+})",
            *c as f64 / *n as f64 * 100.0,
            *c as i64 - base.0 as i64
        );
    }
}

fn argmax(v: &[f32]) -> usize {
    let mut best = 0;
    for i in 1..v.len() {
        if v[i] > v[best] {
            best = i;
        }
    }
    best
}

fn top(v: &[f32], n: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..v.len()).collect();
    order.sort_by(|&a, &b| v[b].total_cmp(&v[a]));
    order.truncate(n);
    order
}

/// Sparse dot products of every val row with every train row, over the
/// entries `part` keeps.
fn similarities(
    tr: &[&[(u32, f32)]],
    va: &[&[(u32, f32)]],
    part: impl Fn(u32) -> bool,
) -> Vec<f32> {
    let dim = tr
        .iter()
        .chain(va)
        .flat_map(|r| r.iter().map(|&(c, _)| c as usize + 1))
        .max()
        .unwrap_or(0);
    let n = tr.len();
    let mut sims = vec![0f32; va.len() * n];
    let mut q = vec![0f32; dim];
    for (i, v) in va.iter().enumerate() {
        for &(c, x) in v.iter() {
            q[c as usize] = x;
        }
        for (j, t) in tr.iter().enumerate() {
            sims[i * n + j] = t
                .iter()
                .filter(|&&(c, _)| part(c))
                .map(|&(c, x)| q[c as usize] * x)
                .sum();
        }
        for &(c, _) in v.iter() {
            q[c as usize] = 0.0;
        }
    }
    sims
}

fn variants(
    tr: &[Probe],
    va: &[Probe],
    classes: usize,
    sd: u32,
    out: &mut BTreeMap<String, usize>,
) {
    let show = std::env::var("SHOW").unwrap_or_default();
    let mut record = |name: String, va_pred: &dyn Fn(usize) -> usize| {
        let correct = (0..va.len())
            .filter(|&i| va[i].exact.unwrap_or_else(|| va_pred(i)) == va[i].class)
            .count();
        if show == name {
            for (i, v) in va.iter().enumerate() {
                let (b, p) = (argmax(&v.scores), va_pred(i));
                if v.exact.is_none() && b != p {
                    let verdict = if p == v.class {
                        "fixed"
                    } else if b == v.class {
                        "BROKE"
                    } else {
                        "wrong"
                    };
                    println!(
                        "changed gold {} svm {b} -> {p} ({verdict}) {:?}",
                        v.class, v.text
                    );
                }
            }
        }
        *out.entry(name).or_default() += correct;
    };
    record("base".into(), &|i| argmax(&va[i].scores));
    let n = tr.len();
    fn rows(p: &[Probe]) -> Vec<&[(u32, f32)]> {
        p.iter().map(|p| p.row.as_slice()).collect()
    }
    fn words(p: &[Probe]) -> Vec<&[(u32, f32)]> {
        p.iter().map(|p| p.words.as_slice()).collect()
    }
    // Static blocks are unit vectors (times the block weight, 1).
    let sims_static = similarities(&rows(tr), &rows(va), |c| c >= sd);
    let sims_word = similarities(&words(tr), &words(va), |_| true);
    // Per class, the mean of the m best similarities.
    let class_knn = |sims: &[f32], i: usize, m: usize| -> Vec<f32> {
        let mut per: Vec<Vec<f32>> = vec![Vec::new(); classes];
        for j in 0..n {
            per[tr[j].class].push(sims[i * n + j]);
        }
        per.into_iter()
            .map(|mut s| {
                s.sort_by(|a, b| b.total_cmp(a));
                let m = m.min(s.len()).max(1);
                s.iter().take(m).sum::<f32>() / m as f32
            })
            .collect()
    };
    let word1: Vec<Vec<f32>> = (0..va.len()).map(|i| class_knn(&sims_word, i, 1)).collect();
    for sm in [1usize, 2] {
        let st: Vec<Vec<f32>> = (0..va.len())
            .map(|i| class_knn(&sims_static, i, sm))
            .collect();
        for ws in [0.0f32, 1.0, 2.0, 3.0] {
            for ww in [0.0f32, 0.5, 1.0, 1.5, 2.0] {
                if ws == 0.0 && (ww == 0.0 || sm == 2) {
                    continue;
                }
                for (candidates, gate) in [(3usize, 0.25f32), (3, 0.5), (2, 0.25)] {
                    let name = format!("s-m{sm}-w{ws}+word-w{ww}-top{candidates}-gate{gate}");
                    record(name, &|i| {
                        let s = &va[i].scores;
                        let cand = top(s, candidates);
                        if s[cand[0]] - s[cand[1]] >= gate {
                            return cand[0];
                        }
                        let adj = |c: usize| s[c] + ws * st[i][c] + ww * word1[i][c];
                        *cand
                            .iter()
                            .rev()
                            .max_by(|&&a, &&b| adj(a).total_cmp(&adj(b)))
                            .unwrap()
                    });
                }
            }
        }
    }
}
