//! Measuring a model on a labelled data set: intent accuracy and macro-F1,
//! out-of-scope figures, slot precision/recall/F1 (exact span and label),
//! training time and parse latency.

mod report;

pub use report::{confusion_svg, per_intent_markdown, worst_confusions_markdown};

use std::collections::BTreeMap;
use std::time::Instant;

use serde::Serialize;

use crate::dataset::{Example, OUT_OF_SCOPE_INTENT, field_name, to_training_data};
use crate::model::{Model, ModelError, ParseOptions, TrainOptions, TrainProgress};
use crate::text::Language;

/// The figures `otto nlu eval --json` prints (null where not applicable).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Summary {
    pub intent_accuracy: f64,
    pub intent_macro_f1: f64,
    pub in_scope_accuracy: Option<f64>,
    pub oos_recall: Option<f64>,
    pub slot_precision: Option<f64>,
    pub slot_recall: Option<f64>,
    pub slot_f1: Option<f64>,
    pub train_seconds: f64,
    pub parse_us_p50: f64,
    pub parse_us_p99: f64,
}

/// Everything measured, for the summary and the report.
#[derive(Debug, Clone)]
pub struct Evaluation {
    pub summary: Summary,
    pub per_intent: Vec<IntentRow>,
    /// Every intent label, gold or predicted, sorted; indexes `confusion`.
    pub labels: Vec<String>,
    /// `confusion[gold][predicted]` counts.
    pub confusion: Vec<Vec<usize>>,
    pub train_examples: usize,
    pub test_examples: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IntentRow {
    pub intent: String,
    pub support: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

/// What the evaluation is doing, for progress bars.
#[derive(Debug, Clone, Copy)]
pub enum EvalProgress {
    Training(TrainProgress),
    Parsing { done: usize, total: usize },
}

/// Trains on `train` as an Autopilot user would have (see
/// [`to_training_data`]) and measures on `test`. With `val`, the model is
/// measured on it too, and when `val` holds out-of-scope examples the
/// out-of-scope threshold is chosen on it (never on `test`).
pub fn evaluate(
    train: &[Example],
    test: &[Example],
    val: Option<&[Example]>,
    language: Language,
    options: &TrainOptions,
    progress: &mut dyn FnMut(EvalProgress),
) -> Result<Evaluations, ModelError> {
    let data = to_training_data(train, language);
    let started = Instant::now();
    let mut model = Model::train(&data, options, &mut |p| progress(EvalProgress::Training(p)))?;
    let train_seconds = started.elapsed().as_secs_f64();
    let has_slots = train.iter().any(|e| !e.entities.is_empty());
    let mut threshold_from_val = None;
    if let Some(val) = val
        && val.iter().any(|e| e.intent == OUT_OF_SCOPE_INTENT)
    {
        let threshold = tune_threshold(&mut model, val);
        model.set_threshold(threshold);
        threshold_from_val = Some(threshold);
    }
    let mut measure = |examples: &[Example]| {
        let mut evaluation = measure(&model, examples, has_slots, progress);
        evaluation.summary.train_seconds = train_seconds;
        evaluation.train_examples = train.len();
        evaluation
    };
    Ok(Evaluations {
        val: val.map(&mut measure),
        test: measure(test),
        threshold: model.threshold(),
        threshold_from_val: threshold_from_val.is_some(),
    })
}

/// The evaluations of one trained model.
#[derive(Debug, Clone)]
pub struct Evaluations {
    pub test: Evaluation,
    pub val: Option<Evaluation>,
    /// The out-of-scope threshold the model was measured with.
    pub threshold: f32,
    /// Whether it was chosen on the validation set.
    pub threshold_from_val: bool,
}

/// The threshold that classifies `val` best, counting every example alike
/// (ties go to the lower threshold: fewer in-scope utterances lost).
fn tune_threshold(model: &mut Model, val: &[Example]) -> f32 {
    model.set_threshold(f32::MIN);
    let options = evaluation_options();
    let parses: Vec<(Option<String>, f32)> = val
        .iter()
        .map(|e| {
            let parse = model.parse(&e.text, &options);
            (parse.task, parse.score)
        })
        .collect();
    let candidates = (0..=24).map(|i| -1.2 + 0.05 * i as f32);
    let accuracy = |threshold: f32| {
        val.iter()
            .zip(&parses)
            .filter(|(e, (task, score))| {
                let predicted = match task {
                    Some(task) if *score >= threshold => task.as_str(),
                    _ => OUT_OF_SCOPE_INTENT,
                };
                predicted == e.intent
            })
            .count()
    };
    candidates
        .map(|t| (accuracy(t), t))
        .fold((0, f32::MIN), |best, candidate| {
            if candidate.0 > best.0 {
                candidate
            } else {
                best
            }
        })
        .1
}

/// A fixed reference instant: relative dates parse the same on every run.
fn evaluation_options() -> ParseOptions<'static> {
    ParseOptions {
        tasks: None,
        reference: chrono::NaiveDate::from_ymd_opt(2026, 1, 15)
            .and_then(|d| d.and_hms_opt(12, 0, 0))
            .expect("a valid date"),
    }
}

/// Parses every example (timing each) and computes the figures.
fn measure(
    model: &Model,
    test: &[Example],
    has_slots: bool,
    progress: &mut dyn FnMut(EvalProgress),
) -> Evaluation {
    let parse_options = evaluation_options();
    for example in test.iter().take(50) {
        model.parse(&example.text, &parse_options);
    }
    let mut latencies = Vec::with_capacity(test.len());
    let mut predictions = Vec::with_capacity(test.len());
    for (done, example) in test.iter().enumerate() {
        let started = Instant::now();
        let parse = model.parse(&example.text, &parse_options);
        latencies.push(started.elapsed().as_secs_f64() * 1e6);
        predictions.push(parse);
        if done % 64 == 0 || done + 1 == test.len() {
            progress(EvalProgress::Parsing {
                done: done + 1,
                total: test.len(),
            });
        }
    }
    let predicted: Vec<&str> = predictions
        .iter()
        .map(|p| p.task.as_deref().unwrap_or(OUT_OF_SCOPE_INTENT))
        .collect();
    let gold: Vec<&str> = test.iter().map(|e| e.intent.as_str()).collect();
    let (labels, confusion) = confusion_matrix(&gold, &predicted);
    let per_intent = per_intent_rows(&labels, &confusion);
    let has_oos = gold.contains(&OUT_OF_SCOPE_INTENT);
    let has_slots = has_slots || test.iter().any(|e| !e.entities.is_empty());
    let slots = has_slots.then(|| slot_scores(test, &predictions));
    latencies.sort_by(f64::total_cmp);
    let summary = Summary {
        intent_accuracy: accuracy(&gold, &predicted, |_| true),
        intent_macro_f1: macro_f1(&per_intent),
        in_scope_accuracy: has_oos
            .then(|| accuracy(&gold, &predicted, |g| g != OUT_OF_SCOPE_INTENT)),
        oos_recall: has_oos.then(|| accuracy(&gold, &predicted, |g| g == OUT_OF_SCOPE_INTENT)),
        slot_precision: slots.map(|s| s.0),
        slot_recall: slots.map(|s| s.1),
        slot_f1: slots.map(|s| s.2),
        train_seconds: 0.0,
        parse_us_p50: percentile(&latencies, 0.50),
        parse_us_p99: percentile(&latencies, 0.99),
    };
    Evaluation {
        summary,
        per_intent,
        labels,
        confusion,
        train_examples: 0,
        test_examples: test.len(),
    }
}

/// Share of examples whose gold label passes `filter` that were predicted right.
fn accuracy(gold: &[&str], predicted: &[&str], filter: impl Fn(&str) -> bool) -> f64 {
    let (mut right, mut total) = (0usize, 0usize);
    for (g, p) in gold.iter().zip(predicted) {
        if filter(g) {
            total += 1;
            right += usize::from(g == p);
        }
    }
    ratio(right, total)
}

fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

fn f1(precision: f64, recall: f64) -> f64 {
    if precision + recall == 0.0 {
        0.0
    } else {
        2.0 * precision * recall / (precision + recall)
    }
}

fn confusion_matrix(gold: &[&str], predicted: &[&str]) -> (Vec<String>, Vec<Vec<usize>>) {
    let mut labels: Vec<String> = gold
        .iter()
        .chain(predicted)
        .map(|s| s.to_string())
        .collect();
    labels.sort();
    labels.dedup();
    let index: BTreeMap<&str, usize> = labels
        .iter()
        .enumerate()
        .map(|(i, l)| (l.as_str(), i))
        .collect();
    let mut matrix = vec![vec![0; labels.len()]; labels.len()];
    for (g, p) in gold.iter().zip(predicted) {
        matrix[index[g]][index[p]] += 1;
    }
    (labels, matrix)
}

/// Precision, recall and F1 of every intent that occurs in the gold labels.
fn per_intent_rows(labels: &[String], confusion: &[Vec<usize>]) -> Vec<IntentRow> {
    (0..labels.len())
        .filter_map(|i| {
            let support: usize = confusion[i].iter().sum();
            if support == 0 {
                return None;
            }
            let predicted: usize = confusion.iter().map(|row| row[i]).sum();
            let precision = ratio(confusion[i][i], predicted);
            let recall = ratio(confusion[i][i], support);
            Some(IntentRow {
                intent: labels[i].clone(),
                support,
                precision,
                recall,
                f1: f1(precision, recall),
            })
        })
        .collect()
}

fn macro_f1(rows: &[IntentRow]) -> f64 {
    rows.iter().map(|r| r.f1).sum::<f64>() / rows.len().max(1) as f64
}

/// Exact-match slot scores: a predicted field counts when its character span
/// and its name equal a gold entity's.
fn slot_scores(test: &[Example], predictions: &[crate::model::Parse]) -> (f64, f64, f64) {
    let (mut right, mut predicted, mut gold) = (0usize, 0usize, 0usize);
    for (example, parse) in test.iter().zip(predictions) {
        gold += example.entities.len();
        predicted += parse.fields.len();
        right += parse
            .fields
            .iter()
            .filter(|f| {
                example.entities.iter().any(|e| {
                    e.start == f.start && e.end == f.end && field_name(&e.entity) == f.name
                })
            })
            .count();
    }
    let precision = ratio(right, predicted);
    let recall = ratio(right, gold);
    (precision, recall, f1(precision, recall))
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[rank]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confusion_and_scores() {
        let gold = ["a", "a", "b", "oos"];
        let predicted = ["a", "b", "b", "a"];
        let (labels, matrix) = confusion_matrix(&gold, &predicted);
        assert_eq!(labels, ["a", "b", "oos"]);
        assert_eq!(matrix, vec![vec![1, 1, 0], vec![0, 1, 0], vec![1, 0, 0]]);
        let rows = per_intent_rows(&labels, &matrix);
        assert_eq!(rows[0].precision, 0.5);
        assert_eq!(rows[0].recall, 0.5);
        assert_eq!(rows[1].precision, 0.5);
        assert_eq!(rows[1].recall, 1.0);
        assert_eq!(accuracy(&gold, &predicted, |_| true), 0.5);
        assert_eq!(accuracy(&gold, &predicted, |g| g == "oos"), 0.0);
    }

    #[test]
    fn percentiles() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&values, 0.5), 51.0);
        assert_eq!(percentile(&values, 0.99), 99.0);
        assert_eq!(percentile(&[], 0.5), 0.0);
    }
}
