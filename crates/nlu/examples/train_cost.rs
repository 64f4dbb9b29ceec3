//! Trains one model on a data set (for profiling training: run under
//! `valgrind --tool=callgrind` or `perf`). Usage: train_cost TRAIN.jsonl [OPTIONS_JSON]
fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("a training file");
    let options: otto_nlu::TrainOptions =
        serde_json::from_str(&args.next().unwrap_or_else(|| "{}".into())).expect("options JSON");
    let examples = otto_nlu::dataset::load(std::path::Path::new(&path)).expect("a data set");
    let data = otto_nlu::dataset::to_training_data(&examples, otto_nlu::Language::English);
    let started = std::time::Instant::now();
    let model = otto_nlu::Model::train(&data, &options, &mut |_| {}).expect("trains");
    eprintln!("{} tasks in {:?}", model.tasks().len(), started.elapsed());
}
