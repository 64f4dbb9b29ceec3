//! Dumps, per test utterance, what an out-of-scope rule could use (for
//! studying the rule on validation splits): gold intent, best task, its
//! probability, the runner-up's, and the evidence score.
//! Usage: oos_dump TRAIN.jsonl TEST.jsonl
use otto_nlu::{Language, Model, ParseOptions, TrainOptions, dataset};
fn main() {
    let mut args = std::env::args().skip(1);
    let train = dataset::load(std::path::Path::new(&args.next().expect("train"))).expect("train");
    let test = dataset::load(std::path::Path::new(&args.next().expect("test"))).expect("test");
    let data = dataset::to_training_data(&train, Language::English);
    let mut model = Model::train(&data, &TrainOptions::default(), &mut |_| {}).expect("trains");
    model.set_threshold(f32::MIN);
    for e in &test {
        let p = model.parse(&e.text, &ParseOptions::default());
        let p1 = p.ranking.first().map_or(0.0, |s| s.probability);
        let p2 = p.ranking.get(1).map_or(0.0, |s| s.probability);
        println!(
            "{}",
            serde_json::json!({"gold": e.intent, "task": p.task, "p1": p1, "p2": p2, "evidence": p.score, "tasks": model.tasks().len()})
        );
    }
}
