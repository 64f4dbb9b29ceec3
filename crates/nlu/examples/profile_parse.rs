use otto_nlu::{Language, Model, ParseOptions, TrainOptions, dataset};
fn main() {
    let train = std::env::args().nth(1).unwrap();
    let test = std::env::args().nth(2).unwrap();
    let ex = dataset::load(std::path::Path::new(&train)).unwrap();
    let te = dataset::load(std::path::Path::new(&test)).unwrap();
    let data = dataset::to_training_data(&ex, Language::English);
    let model = Model::train(&data, &TrainOptions::default(), &mut |_| {}).unwrap();
    let opts = ParseOptions::default();
    let t = std::time::Instant::now();
    let mut n = 0;
    let rounds: u32 = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(20);
    eprintln!("trained");
    for _ in 0..rounds {
        for e in &te {
            n += model.parse(&e.text, &opts).fields.len();
        }
    }
    println!("{n} {:?}/parse", t.elapsed() / (rounds * te.len() as u32));
}
