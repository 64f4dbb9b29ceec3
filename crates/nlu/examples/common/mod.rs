//! What the validation-fold examples share: `TRAIN.jsonl [FOLDS] [OPTIONS_JSON]`
//! and the `VAL_RUNS` / `NO_SLOTS` environment variables.
use otto_nlu::TrainOptions;
use otto_nlu::dataset::{self, Example};

/// The arguments of a fold run.
pub struct FoldArgs {
    pub train: Vec<Example>,
    pub folds: usize,
    /// How many of the folds are held out in turn (`VAL_RUNS`).
    pub runs: usize,
    pub options: TrainOptions,
}

/// Whether `NO_SLOTS=1` asks to drop the entities.
pub fn no_slots() -> bool {
    std::env::var("NO_SLOTS").is_ok_and(|v| v == "1")
}

/// Drops the entities of `examples` when `drop` says so.
pub fn without_entities(mut examples: Vec<Example>, drop: bool) -> Vec<Example> {
    if drop {
        examples.iter_mut().for_each(|e| e.entities.clear());
    }
    examples
}

/// Reads `TRAIN.jsonl [FOLDS] [OPTIONS_JSON]` (10 folds, default options);
/// `runs` when `VAL_RUNS` is not set. The entities are dropped with
/// `NO_SLOTS=1`, or always with `drop_entities`.
pub fn fold_args(positional: &[String], drop_entities: bool, runs: usize) -> FoldArgs {
    let train = dataset::load(std::path::Path::new(&positional[0])).expect("a data set");
    FoldArgs {
        train: without_entities(train, drop_entities || no_slots()),
        folds: positional.get(1).map_or(10, |f| f.parse().expect("folds")),
        runs: std::env::var("VAL_RUNS")
            .ok()
            .and_then(|r| r.parse().ok())
            .unwrap_or(runs),
        options: serde_json::from_str(positional.get(2).map_or("{}", |s| s)).expect("options JSON"),
    }
}
