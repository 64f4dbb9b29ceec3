//! Trains one model on a data set (for profiling training: run under
//! `valgrind --tool=callgrind` or `perf`), and prints how long each stage
//! took. Usage: train_cost TRAIN.jsonl [OPTIONS_JSON]
fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("a training file");
    let options: otto_nlu::TrainOptions =
        serde_json::from_str(&args.next().unwrap_or_else(|| "{}".into())).expect("options JSON");
    let examples = otto_nlu::dataset::load(std::path::Path::new(&path)).expect("a data set");
    let data = otto_nlu::dataset::to_training_data(&examples, otto_nlu::Language::English);
    let started = std::time::Instant::now();
    let mut last = started;
    let mut stage = String::from("start");
    let model = otto_nlu::Model::train(&data, &options, &mut |p| {
        let now = std::time::Instant::now();
        let name = match p {
            otto_nlu::TrainProgress::Fields { done, total } if done > 1 && done < total => return,
            p => format!("{p:?}"),
        };
        eprintln!("  {stage} -> {name}: {:?}", now - last);
        stage = name;
        last = now;
    })
    .expect("trains");
    eprintln!("{} tasks in {:?}", model.tasks().len(), started.elapsed());
    eprintln!("model file: {} bytes", model.to_bytes().len());
}
