//! Parses a test file many times (for profiling parsing: run under `perf` or
//! `valgrind --tool=callgrind`). Usage: profile_parse TRAIN.jsonl TEST.jsonl
//!
//! `ROUNDS` (default 20) sets how many times the test file is parsed;
//! `MODEL_OUT=FILE` saves the trained model, `MODEL_IN=FILE` parses with a
//! saved model instead of training (so a profile holds parsing alone);
//! `OPTIONS` (JSON) sets the training options.
use otto_nlu::{Language, Model, ParseOptions, TrainOptions, dataset};
fn main() {
    let train = std::env::args().nth(1).unwrap();
    let test = std::env::args().nth(2).unwrap();
    let te = dataset::load(std::path::Path::new(&test)).unwrap();
    let model = match std::env::var("MODEL_IN") {
        Ok(path) => Model::from_bytes(&std::fs::read(path).unwrap()).unwrap(),
        Err(_) => {
            let ex = dataset::load(std::path::Path::new(&train)).unwrap();
            let data = dataset::to_training_data(&ex, Language::English);
            let options: TrainOptions =
                serde_json::from_str(&std::env::var("OPTIONS").unwrap_or_else(|_| "{}".into()))
                    .expect("options JSON");
            Model::train(&data, &options, &mut |_| {}).unwrap()
        }
    };
    if let Ok(path) = std::env::var("MODEL_OUT") {
        std::fs::write(path, model.to_bytes()).unwrap();
    }
    let opts = ParseOptions::default();
    let rounds: u32 = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(20);
    eprintln!("trained");
    let t = std::time::Instant::now();
    let mut n = 0;
    // Each parse timed too: the median is what `otto nlu eval` reports, and
    // it shrugs off the parses other programs interrupted.
    let mut each = Vec::with_capacity(rounds as usize * te.len());
    for _ in 0..rounds {
        for e in &te {
            let started = std::time::Instant::now();
            n += model.parse(&e.text, &opts).fields.len();
            each.push(started.elapsed());
        }
    }
    let mean = t.elapsed() / (rounds * te.len() as u32);
    each.sort();
    println!("{n} {mean:?}/parse, median {:?}", each[each.len() / 2]);
}
