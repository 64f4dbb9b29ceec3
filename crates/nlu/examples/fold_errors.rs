//! Lists the misclassified utterances of validation folds carved out of a
//! training file (never a test file): `fold_errors TRAIN.jsonl [FOLDS] [OPTIONS_JSON]`,
//! the first `VAL_RUNS` folds (default 10). `NO_SLOTS=1` drops the entities.
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
    let (mut right, mut total) = (0, 0);
    for k in 0..runs.min(folds) {
        let (fit, val) = dataset::fold_split(&train, folds, k);
        let data = dataset::to_training_data(&fit, Language::English);
        let model = Model::train(&data, &options, &mut |_| {}).expect("trains");
        for e in &val {
            let p = model.parse(&e.text, &ParseOptions::default());
            total += 1;
            if p.task.as_deref() == Some(e.intent.as_str()) {
                right += 1;
            } else {
                let r: Vec<String> = p
                    .ranking
                    .iter()
                    .take(2)
                    .map(|s| format!("{}:{:.2}", s.task, s.probability))
                    .collect();
                println!("{k}\t{}\t{}\t{}", e.intent, r.join(" "), e.text);
            }
        }
    }
    println!(
        "accuracy {:.3} ({right}/{total})",
        right as f64 / total as f64 * 100.0
    );
}
