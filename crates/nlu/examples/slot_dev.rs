//! Development harness for the field tagger: trains one tagger per intent on
//! a JSONL benchmark (see /work/shared/data/nlu/README.md) and reports exact
//! span+label F1, training time and tagging time.
//!
//! ```text
//! cargo run --release -p otto-nlu --example slot_dev -- \
//!     --train /work/shared/data/nlu/snips/train.jsonl [--test FILE | --holdout 0.1] \
//!     [--gaz all|cv|none] [--dropout 0.5] [--c2 1] [--epochs 12] [--eta 0.1] \
//!     [--all-pairs] [--window 2] [--affixes 4] [--no-stems] [--no-shapes] \
//!     [--no-bigrams] [--ann-window 2] [--seed 1] [--errors N] [--folds K] \
//!     [--reps N] [--gaz-from FILE]
//! ```
//!
//! `--folds K` cross-validates on train; `--reps N` tags each utterance N
//! times and keeps the fastest (warm caches); `--gaz-from FILE` adds the
//! entity values of FILE to the gazetteers (as if the field types listed
//! more values than the samples use).
//!
//! ```text
//! ```
//!
//! Gold intents pick the tagger (the tagger alone is measured). Gazetteer
//! annotations are built the way otto builds them: every training value of
//! an entity is a value of that entity's custom field type, matched
//! case-insensitively on folded tokens (longest match). With `--gaz cv` the
//! training utterances are annotated with gazetteers built on the other 5
//! folds instead.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::time::Instant;

use otto_nlu::fields::crf::SplitMix;
use otto_nlu::fields::tagger::{
    Annotations, FieldSpan, Tagger, TaggerConfig, TrainingSequence, Utterance,
};
use otto_nlu::text::{Language, Token, tokenize};

struct Example {
    text: String,
    intent: String,
    /// (byte start, byte end, entity)
    entities: Vec<(usize, usize, String)>,
    tokens: Vec<Token>,
    stems: Vec<String>,
}

fn load(path: &str) -> Vec<Example> {
    let stemmer = Language::English.stemmer();
    let data = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    data.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).expect("json");
            let text = v["text"].as_str().expect("text").to_string();
            let byte_of: Vec<usize> = text
                .char_indices()
                .map(|(i, _)| i)
                .chain(std::iter::once(text.len()))
                .collect();
            let entities = v["entities"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|e| {
                            let s = e["start"].as_u64().expect("start") as usize;
                            let en = e["end"].as_u64().expect("end") as usize;
                            (
                                byte_of[s],
                                byte_of[en],
                                e["entity"].as_str().expect("entity").to_string(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            let tokens = tokenize(&text, Language::English);
            let stems = tokens
                .iter()
                .map(|t| stemmer.stem(&t.norm).into_owned())
                .collect();
            Example {
                intent: v["intent"].as_str().expect("intent").to_string(),
                text,
                entities,
                tokens,
                stems,
            }
        })
        .collect()
}

/// Token span covering bytes `start..end` (tokens overlapping it).
fn token_span(tokens: &[Token], start: usize, end: usize) -> Option<(usize, usize)> {
    let first = tokens.iter().position(|t| t.end > start && t.start < end)?;
    let last = tokens
        .iter()
        .rposition(|t| t.end > start && t.start < end)?;
    Some((first, last))
}

/// Values of each entity as folded token sequences.
#[derive(Default)]
struct Gazetteers {
    by_entity: HashMap<String, (HashSet<String>, usize)>,
}

impl Gazetteers {
    fn build<'a>(examples: impl Iterator<Item = &'a Example>) -> Gazetteers {
        let mut g = Gazetteers::default();
        for ex in examples {
            for (s, e, entity) in &ex.entities {
                if let Some((a, b)) = token_span(&ex.tokens, *s, *e) {
                    let key = join(&ex.tokens[a..=b]);
                    let entry = g.by_entity.entry(entity.clone()).or_default();
                    entry.0.insert(key);
                    entry.1 = entry.1.max(b - a + 1);
                }
            }
        }
        g
    }

    fn annotate(&self, tokens: &[Token], entities: &[String], out: &mut Annotations) {
        for entity in entities {
            let Some((values, max_len)) = self.by_entity.get(entity) else {
                continue;
            };
            let name = format!("gaz:{entity}");
            let mut i = 0;
            while i < tokens.len() {
                let mut matched = 0;
                for k in (1..=(*max_len).min(tokens.len() - i)).rev() {
                    if values.contains(&join(&tokens[i..i + k])) {
                        matched = k;
                        break;
                    }
                }
                if matched > 0 {
                    out.add_lexical(&name, i, i + matched - 1);
                    i += matched;
                } else {
                    i += 1;
                }
            }
        }
    }
}

fn join(tokens: &[Token]) -> String {
    let mut s = String::new();
    for (i, t) in tokens.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(&t.norm);
    }
    s
}

struct Args {
    train: String,
    test: Option<String>,
    holdout: f64,
    gaz: String,
    config: TaggerConfig,
    seed: u64,
    errors: usize,
    folds: usize,
    reps: usize,
    gaz_from: Option<String>,
}

fn parse_args() -> Args {
    let mut args = Args {
        train: "/work/shared/data/nlu/snips/train.jsonl".into(),
        test: None,
        holdout: 0.1,
        gaz: "all".into(),
        config: TaggerConfig::default(),
        seed: 1,
        errors: 0,
        folds: 1,
        reps: 1,
        gaz_from: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut val = || it.next().unwrap_or_else(|| panic!("{a} needs a value"));
        match a.as_str() {
            "--train" => args.train = val(),
            "--test" => args.test = Some(val()),
            "--holdout" => args.holdout = val().parse().expect("holdout"),
            "--gaz" => args.gaz = val(),
            "--dropout" => args.config.lexical_dropout = val().parse().expect("dropout"),
            "--word-dropout" => args.config.word_dropout = val().parse().expect("wd"),
            "--c2" => args.config.crf.c2 = val().parse().expect("c2"),
            "--epochs" => args.config.crf.epochs = val().parse().expect("epochs"),
            "--eta" => args.config.crf.learning_rate = Some(val().parse().expect("eta")),
            "--prune" => args.config.crf.prune_below = val().parse().expect("prune"),
            "--all-pairs" => args.config.crf.all_label_pairs = true,
            "--window" => args.config.window = val().parse().expect("window"),
            "--affixes" => args.config.affixes = val().parse().expect("affixes"),
            "--ann-window" => args.config.annotation_window = val().parse().expect("ann"),
            "--no-stems" => args.config.stems = false,
            "--no-shapes" => args.config.shapes = false,
            "--no-bigrams" => args.config.bigrams = false,
            "--seed" => args.seed = val().parse().expect("seed"),
            "--reps" => args.reps = val().parse().expect("reps"),
            "--gaz-from" => args.gaz_from = Some(val()),
            "--no-average" => args.config.crf.average = false,
            "--folds" => args.folds = val().parse().expect("folds"),
            "--errors" => args.errors = val().parse().expect("errors"),
            other => panic!("unknown argument {other}"),
        }
    }
    args
}

#[derive(Default)]
struct Counts {
    tp: usize,
    n_pred: usize,
    n_gold: usize,
    n_test: usize,
    train_secs: f64,
    tag_secs: f64,
    weights: usize,
    per_entity: BTreeMap<String, (usize, usize, usize)>,
}

fn main() {
    let args = parse_args();
    let all = load(&args.train);
    let mut counts = Counts::default();
    match &args.test {
        Some(path) => evaluate(
            &args,
            &all.iter().collect::<Vec<_>>(),
            &load(path).iter().collect::<Vec<_>>(),
            &mut counts,
        ),
        None if args.folds > 1 => {
            let mut order: Vec<usize> = (0..all.len()).collect();
            SplitMix::new(args.seed ^ 0x4E1D).shuffle(&mut order);
            for k in 0..args.folds {
                let train: Vec<&Example> = order
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| j % args.folds != k)
                    .map(|(_, &i)| &all[i])
                    .collect();
                let test: Vec<&Example> = order
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| j % args.folds == k)
                    .map(|(_, &i)| &all[i])
                    .collect();
                evaluate(&args, &train, &test, &mut counts);
            }
        }
        None => {
            // Held-out part of train.
            let mut rng = SplitMix::new(args.seed ^ 0x4E1D);
            let mut train = Vec::new();
            let mut test = Vec::new();
            for ex in &all {
                if rng.next_f64() < args.holdout {
                    test.push(ex);
                } else {
                    train.push(ex);
                }
            }
            evaluate(&args, &train, &test, &mut counts);
        }
    }
    let Counts {
        tp,
        n_pred,
        n_gold,
        n_test,
        train_secs,
        tag_secs,
        weights,
        per_entity,
    } = counts;
    let p = tp as f64 / n_pred.max(1) as f64;
    let r = tp as f64 / n_gold.max(1) as f64;
    let f1 = 2.0 * p * r / (p + r).max(1e-12);
    if args.errors > 0 {
        for (name, (tp, gold, pred)) in &per_entity {
            let f = 2.0 * *tp as f64 / (*gold + *pred).max(1) as f64;
            println!(
                "  {name:28} gold {gold:5} pred {pred:5} f1 {:.1}",
                100.0 * f
            );
        }
    }
    println!(
        "F1 {:.2}  P {:.2}  R {:.2}  (gold {n_gold}, pred {n_pred}, test {n_test})  train {train_secs:.2}s  tag {:.1}us/utt  weights {weights}",
        100.0 * f1,
        100.0 * p,
        100.0 * r,
        1e6 * tag_secs / n_test.max(1) as f64
    );
}

fn evaluate(args: &Args, train: &[&Example], test: &[&Example], counts: &mut Counts) {
    let extra = args.gaz_from.as_deref().map(load).unwrap_or_default();
    let gazetteers = Gazetteers::build(train.iter().copied().chain(extra.iter()));
    let mut intents: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, ex) in train.iter().enumerate() {
        intents.entry(ex.intent.as_str()).or_default().push(i);
    }
    let folds = 5;
    let fold_gazetteers: Vec<Gazetteers> = if args.gaz == "cv" {
        (0..folds)
            .map(|k| {
                Gazetteers::build(
                    train
                        .iter()
                        .enumerate()
                        .filter_map(|(i, ex)| (i % folds != k).then_some(*ex)),
                )
            })
            .collect()
    } else {
        Vec::new()
    };
    let mut taggers: HashMap<&str, (Tagger, Vec<String>)> = HashMap::new();
    let mut train_secs = 0.0;
    let mut weights = 0;
    for (intent, members) in &intents {
        let fields: Vec<String> = members
            .iter()
            .flat_map(|&i| train[i].entities.iter().map(|e| e.2.clone()))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let annotations: Vec<Annotations> = members
            .iter()
            .map(|&i| {
                let mut a = Annotations::new();
                match args.gaz.as_str() {
                    "all" => gazetteers.annotate(&train[i].tokens, &fields, &mut a),
                    "cv" => fold_gazetteers[i % folds].annotate(&train[i].tokens, &fields, &mut a),
                    _ => {}
                }
                a
            })
            .collect();
        let spans: Vec<Vec<FieldSpan>> = members
            .iter()
            .map(|&i| {
                let ex = &train[i];
                ex.entities
                    .iter()
                    .filter_map(|(s, e, name)| {
                        let (first, last) = token_span(&ex.tokens, *s, *e)?;
                        Some(FieldSpan {
                            field: fields.iter().position(|f| f == name)?,
                            first,
                            last,
                        })
                    })
                    .collect()
            })
            .collect();
        let sequences: Vec<TrainingSequence> = members
            .iter()
            .enumerate()
            .map(|(k, &i)| TrainingSequence {
                utterance: Utterance {
                    text: &train[i].text,
                    tokens: &train[i].tokens,
                    stems: &train[i].stems,
                    annotations: &annotations[k],
                },
                spans: &spans[k],
            })
            .collect();
        let started = Instant::now();
        let tagger = Tagger::train(fields.clone(), &sequences, &args.config, args.seed);
        let secs = started.elapsed().as_secs_f64();
        train_secs += secs;
        weights += tagger.crf().num_weights();
        eprintln!(
            "{intent}: {} sequences, {} fields, {} features, {} weights, {secs:.2}s",
            members.len(),
            fields.len(),
            tagger.crf().num_features(),
            tagger.crf().num_weights()
        );
        taggers.insert(intent, (tagger, fields));
    }
    // Evaluate.
    let mut tp = 0usize;
    let mut n_pred = 0usize;
    let mut n_gold = 0usize;
    let mut per_entity: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
    let mut tag_secs = 0.0;
    let mut shown = 0;
    let _ = args.errors;
    for ex in test {
        let gold: HashSet<(usize, usize, &str)> = ex
            .entities
            .iter()
            .map(|(s, e, n)| (*s, *e, n.as_str()))
            .collect();
        n_gold += gold.len();
        for g in &gold {
            per_entity.entry(g.2.to_string()).or_default().1 += 1;
        }
        let Some((tagger, fields)) = taggers.get(ex.intent.as_str()) else {
            continue;
        };
        let mut annotations = Annotations::new();
        if args.gaz != "none" {
            gazetteers.annotate(&ex.tokens, fields, &mut annotations);
        }
        let utterance = Utterance {
            text: &ex.text,
            tokens: &ex.tokens,
            stems: &ex.stems,
            annotations: &annotations,
        };
        let mut found = Vec::new();
        let mut best = f64::INFINITY;
        for _ in 0..args.reps.max(1) {
            let started = Instant::now();
            found = tagger.tag(&utterance);
            best = best.min(started.elapsed().as_secs_f64());
        }
        tag_secs += best;
        let predicted: HashSet<(usize, usize, &str)> = found
            .iter()
            .map(|s| {
                (
                    ex.tokens[s.first].start,
                    ex.tokens[s.last].end,
                    fields[s.field].as_str(),
                )
            })
            .collect();
        n_pred += predicted.len();
        for p in &predicted {
            per_entity.entry(p.2.to_string()).or_default().2 += 1;
            if gold.contains(p) {
                tp += 1;
                per_entity.entry(p.2.to_string()).or_default().0 += 1;
            }
        }
        if shown < args.errors && predicted != gold {
            shown += 1;
            let show = |set: &HashSet<(usize, usize, &str)>| {
                let mut v: Vec<String> = set
                    .iter()
                    .map(|(s, e, n)| format!("{n}={:?}", &ex.text[*s..*e]))
                    .collect();
                v.sort();
                v.join(", ")
            };
            println!(
                "{}\n  gold: {}\n  pred: {}",
                ex.text,
                show(&gold),
                show(&predicted)
            );
        }
    }
    counts.tp += tp;
    counts.n_pred += n_pred;
    counts.n_gold += n_gold;
    counts.n_test += test.len();
    counts.train_secs += train_secs;
    counts.tag_secs += tag_secs;
    counts.weights = weights;
    for (k, v) in per_entity {
        let e = counts.per_entity.entry(k).or_default();
        e.0 += v.0;
        e.1 += v.1;
        e.2 += v.2;
    }
}
