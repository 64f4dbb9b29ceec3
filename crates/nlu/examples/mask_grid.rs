//! Research on validation folds carved out of a training file (never a test
//! file): `mask_grid TRAIN.jsonl [FOLDS] [OPTIONS_JSON]`, the first
//! `VAL_RUNS` folds (default 10). Trains once per fold and scores a grid of
//! close-call re-rankings by the masked scores (`Model::research_masked`:
//! each candidate task scored again without its open fields' values),
//! printing the intent accuracy of each variant over all folds. `SHOW=k,gap,w`
//! lists the utterances that variant changes. `GRID=crf`: §16's cell (k 2,
//! gap 1, w 1) plus the candidates' field taggers' log-probabilities of
//! their best taggings, weighted (`SHOW=f,1,v`; the model must weigh the
//! taggings, as the default does, for the hook to score them).
mod common;

use otto_nlu::dataset;
use otto_nlu::{Language, Model, ParseOptions};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let common::FoldArgs {
        train,
        folds,
        runs,
        options,
    } = common::fold_args(&args, false, 10);
    let show = std::env::var("SHOW").ok();
    // `GRID=2`: the second grid, around the first one's best cells.
    let second = std::env::var("GRID").is_ok_and(|g| g == "2");
    if std::env::var("GRID").is_ok_and(|g| g == "crf") {
        return crf_grid(args);
    }
    let (gaps, weights) = if second {
        (
            [0.5f32, 0.75, 1.0, 1.5, 2.0],
            [0.5f32, 0.75, 1.0, 1.25, 1.5],
        )
    } else {
        ([0.1f32, 0.25, 0.5, 1.0, 1e9], [0.25f32, 0.5, 1.0, 2.0, 1e3])
    };
    let ks = [2usize, 3];
    let mut variants: Vec<(usize, f32, f32)> = vec![(0, 0.0, 0.0)];
    for &k in &ks {
        for &g in &gaps {
            for &w in &weights {
                variants.push((k, g, w));
            }
        }
    }
    let mut right = vec![0usize; variants.len()];
    let mut per_fold = vec![vec![0usize; variants.len()]; runs.min(folds)];
    let mut total = 0;
    let mut close = vec![0usize; gaps.len()];
    for (k, fold) in per_fold.iter_mut().enumerate() {
        let (fit, val) = dataset::fold_split(&train, folds, k);
        let data = dataset::to_training_data(&fit, Language::English);
        let model = Model::train(&data, &options, &mut |_| {}).expect("trains");
        let tasks = model.tasks().to_vec();
        for e in &val {
            total += 1;
            let parse = model.parse(&e.text, &ParseOptions::default());
            if parse.task.is_none() {
                continue;
            }
            let Some(otto_nlu::model::ResearchMasked {
                probabilities: p,
                candidates: order,
                masked,
                temperature: t,
                ..
            }) = model.research_masked(&e.text, 3)
            else {
                let ok = parse.task.as_deref() == Some(e.intent.as_str());
                for (v, r) in right.iter_mut().enumerate() {
                    *r += ok as usize;
                    fold[v] += ok as usize;
                }
                continue;
            };
            for (i, &gap) in gaps.iter().enumerate() {
                if order.len() >= 2 && t * (p[order[0]] / p[order[1]]).ln() < gap {
                    close[i] += 1;
                }
            }
            for (v, &(kk, gap, w)) in variants.iter().enumerate() {
                let mut winner = order[0];
                if kk >= 2 && order.len() >= 2 && t * (p[order[0]] / p[order[1]]).ln() < gap {
                    let n = kk.min(order.len());
                    winner = (0..n)
                        .map(|i| (order[i], t * p[order[i]].max(1e-30).ln() + w * masked[i]))
                        .max_by(|a, b| a.1.total_cmp(&b.1))
                        .map(|(c, _)| c)
                        .unwrap_or(order[0]);
                }
                let ok = tasks[winner] == e.intent;
                right[v] += ok as usize;
                fold[v] += ok as usize;
                if let Some(s) = &show
                    && *s == format!("{kk},{gap},{w}")
                    && winner != order[0]
                {
                    println!(
                        "{k}\t{}\t{} -> {}\t{}",
                        e.intent, tasks[order[0]], tasks[winner], e.text
                    );
                }
            }
        }
        eprintln!("fold {k} done");
    }
    for (gap, n) in gaps.iter().zip(&close) {
        println!("close calls within {gap}: {n} of {total}");
    }
    for (v, &(k, gap, w)) in variants.iter().enumerate() {
        let folds: Vec<String> = per_fold
            .iter()
            .map(|f| (f[v] as i64 - f[0] as i64).to_string())
            .collect();
        println!(
            "k {k} gap {gap} w {w}: {:.3} ({}/{total}) per fold {}",
            right[v] as f64 / total as f64 * 100.0,
            right[v],
            folds.join(",")
        );
    }
}

/// The tagging score added to the combined score (`GRID=crf`): 0 none,
/// 1 the log-probability of the candidate tagger's best tagging in units of
/// `ln L` for its `L` labels (`ResearchMasked::tagging`), 2 the same per word
/// (the model's score).
const FEATURES: [&str; 3] = ["none", "tagging", "tagging_per_word"];

fn crf_grid(args: Vec<String>) {
    let common::FoldArgs {
        train,
        folds,
        runs,
        options,
    } = common::fold_args(&args, false, 10);
    let show = std::env::var("SHOW").ok();
    let mut variants: Vec<(usize, f32, f32)> = vec![(0, 0.0, 0.0), (0, 1.0, 0.0)];
    for v in [0.25f32, 0.5, 1.0] {
        variants.push((1, 1.0, v));
    }
    for v in [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0] {
        variants.push((2, 1.0, v));
    }
    let mut right = vec![0usize; variants.len()];
    let mut per_fold = vec![vec![0usize; variants.len()]; runs.min(folds)];
    let mut total = 0;
    for (k, fold) in per_fold.iter_mut().enumerate() {
        let (fit, val) = dataset::fold_split(&train, folds, k);
        let data = dataset::to_training_data(&fit, Language::English);
        let model = Model::train(&data, &options, &mut |_| {}).expect("trains");
        let tasks = model.tasks().to_vec();
        for e in &val {
            total += 1;
            let parse = model.parse(&e.text, &ParseOptions::default());
            let research = model.research_masked(&e.text, 2);
            let Some(r) = research.filter(|_| parse.task.is_some()) else {
                let ok = parse.task.as_deref() == Some(e.intent.as_str());
                for (v, r) in right.iter_mut().enumerate() {
                    *r += ok as usize;
                    fold[v] += ok as usize;
                }
                continue;
            };
            let (p, order, t) = (&r.probabilities, &r.candidates, r.temperature);
            for (v, &(f, gap, weight)) in variants.iter().enumerate() {
                let mut winner = order[0];
                if gap > 0.0 && order.len() >= 2 && t * (p[order[0]] / p[order[1]]).ln() < gap {
                    let feature = |i: usize| match f {
                        1 => r.tagging[i],
                        2 => r.tagging[i] / r.words.max(1) as f32,
                        _ => 0.0,
                    };
                    let combined = |i: usize| {
                        t * p[order[i]].max(1e-30).ln() + r.masked[i] + weight * feature(i)
                    };
                    // A tie keeps the order, as the model's stable sort does.
                    let mut best = 0;
                    for i in 1..order.len() {
                        if combined(i) > combined(best) {
                            best = i;
                        }
                    }
                    winner = order[best];
                }
                let ok = tasks[winner] == e.intent;
                right[v] += ok as usize;
                fold[v] += ok as usize;
                if let Some(s) = &show
                    && *s == format!("{f},{gap},{weight}")
                    && winner != order[0]
                {
                    println!(
                        "{k}\t{}\t{} -> {}\t{}\t{:?}\t{:?}",
                        e.intent, tasks[order[0]], tasks[winner], e.text, r.tagging, r.masked
                    );
                }
            }
        }
        eprintln!("fold {k} done");
    }
    for (v, &(f, gap, w)) in variants.iter().enumerate() {
        let folds: Vec<String> = per_fold
            .iter()
            .map(|fold| (fold[v] as i64 - fold[1] as i64).to_string())
            .collect();
        println!(
            "{} gap {gap} v {w}: {:.3} ({}/{total}) per fold vs k 2, gap 1, w 1 {}",
            FEATURES[f],
            right[v] as f64 / total as f64 * 100.0,
            right[v],
            folds.join(",")
        );
    }
}
