//! Prints every parse of a test file as JSON lines (task, ranking with
//! probabilities, score, fields), to compare two builds' results byte for
//! byte. Usage: MODEL_IN=FILE dump_parses TEST.jsonl
use otto_nlu::{Model, ParseOptions, dataset};
fn main() {
    let test = std::env::args().nth(1).expect("TEST.jsonl");
    let examples = dataset::load(std::path::Path::new(&test)).expect("test file");
    let path = std::env::var("MODEL_IN").expect("MODEL_IN=model file");
    let model = Model::from_bytes(&std::fs::read(path).expect("model file")).expect("model");
    // A fixed "now", as `otto nlu eval` uses, so relative dates compare.
    let options = ParseOptions {
        tasks: None,
        reference: chrono::NaiveDate::from_ymd_opt(2026, 1, 15)
            .and_then(|d| d.and_hms_opt(12, 0, 0))
            .expect("a valid date"),
    };
    for example in &examples {
        let parse = model.parse(&example.text, &options);
        println!(
            "{}",
            serde_json::to_string(&parse).expect("a parse serialises")
        );
    }
}
