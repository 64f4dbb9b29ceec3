//! Tuning on validation folds carved out of a training file (never a test
//! file): `val_folds TRAIN.jsonl [FOLDS] [OPTIONS_JSON] [--val FILE]`.
//!
//! Splits TRAIN into FOLDS stratified folds (deterministic: examples of each
//! intent dealt round-robin after a seeded shuffle), trains on all folds
//! but one and measures on the one held out, for the first `VAL_RUNS`
//! folds (default 3). With `--val FILE` it trains on all of TRAIN and
//! measures on FILE instead (snips_goo ships a validation file). Prints
//! per-fold and mean intent accuracy, slot F1, training seconds and parse
//! p50. With `NO_SLOTS=1` the entities are dropped from both sides (intent
//! accuracy is unchanged, as the classifier never sees them, and training
//! is much faster).
mod common;

use otto_nlu::Language;
use otto_nlu::dataset::{self, Example};
use otto_nlu::eval::evaluate;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut positional = Vec::new();
    let mut val_file = None;
    let mut i = 0;
    while i < args.len() {
        if args[i] == "--val" {
            val_file = Some(args[i + 1].clone());
            i += 2;
        } else {
            positional.push(args[i].clone());
            i += 1;
        }
    }
    let no_slots = common::no_slots();
    let common::FoldArgs {
        train,
        folds,
        runs,
        options,
    } = common::fold_args(&positional, false, 3);
    let splits: Vec<(Vec<Example>, Vec<Example>)> = match &val_file {
        Some(path) => vec![(
            train.clone(),
            common::without_entities(
                dataset::load(std::path::Path::new(path)).expect("a val set"),
                no_slots,
            ),
        )],
        None => (0..runs.min(folds))
            .map(|k| dataset::fold_split(&train, folds, k))
            .collect(),
    };
    let mut totals = (0.0, 0.0, 0.0, 0.0);
    for (k, (fit, val)) in splits.iter().enumerate() {
        let e = evaluate(fit, val, None, Language::English, &options, &mut |_| {})
            .expect("trains")
            .test
            .summary;
        let slot = e.slot_f1.unwrap_or(0.0);
        println!(
            "fold {k}: intent {:.2} slot {:.2} train {:.3}s p50 {:.1}us",
            e.intent_accuracy * 100.0,
            slot * 100.0,
            e.train_seconds,
            e.parse_us_p50
        );
        totals.0 += e.intent_accuracy;
        totals.1 += slot;
        totals.2 += e.train_seconds;
        totals.3 += e.parse_us_p50;
    }
    let n = splits.len() as f64;
    println!(
        "mean: intent {:.3} slot {:.3} train {:.3}s p50 {:.1}us",
        totals.0 / n * 100.0,
        totals.1 / n * 100.0,
        totals.2 / n,
        totals.3 / n
    );
}
