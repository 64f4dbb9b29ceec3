//! Human-readable evaluation reports: per-intent table, worst confusions and a
//! confusion-matrix picture (SVG, written by hand: it is a grid of squares).

use std::fmt::Write;

use super::Evaluation;

/// A Markdown table of precision, recall and F1 per intent, worst F1 first.
pub fn per_intent_markdown(evaluation: &Evaluation) -> String {
    let mut rows = evaluation.per_intent.clone();
    rows.sort_by(|a, b| a.f1.total_cmp(&b.f1).then(a.intent.cmp(&b.intent)));
    let mut out =
        String::from("| intent | support | precision | recall | F1 |\n|---|---:|---:|---:|---:|\n");
    for row in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {:.1}% | {:.1}% | {:.1}% |",
            row.intent,
            row.support,
            row.precision * 100.0,
            row.recall * 100.0,
            row.f1 * 100.0
        );
    }
    out
}

/// The `limit` most frequent (gold → predicted) mistakes as a Markdown table.
pub fn worst_confusions_markdown(evaluation: &Evaluation, limit: usize) -> String {
    let mut mistakes = Vec::new();
    for (g, row) in evaluation.confusion.iter().enumerate() {
        for (p, &count) in row.iter().enumerate() {
            if g != p && count > 0 {
                mistakes.push((count, &evaluation.labels[g], &evaluation.labels[p]));
            }
        }
    }
    mistakes.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)).then(a.2.cmp(b.2)));
    let mut out = String::from("| count | expected | predicted |\n|---:|---|---|\n");
    for (count, gold, predicted) in mistakes.into_iter().take(limit) {
        let _ = writeln!(out, "| {count} | {gold} | {predicted} |");
    }
    out
}

/// The confusion matrix as an SVG heat map: rows are expected intents,
/// columns predicted ones; each cell is shaded by the share of its row.
pub fn confusion_svg(evaluation: &Evaluation) -> String {
    let labels = &evaluation.labels;
    let n = labels.len();
    let cell = if n > 40 { 10.0 } else { 22.0 };
    let longest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0) as f64;
    let margin = 12.0 + longest * cell * 0.55;
    let size = margin + n as f64 * cell + 20.0;
    let font = (cell * 0.7).max(7.0);
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{size:.0}" height="{size:.0}" font-family="sans-serif" font-size="{font:.1}">"#
    );
    let _ = writeln!(
        svg,
        r#"<rect width="100%" height="100%" fill="white"/><title>Confusion matrix: rows expected, columns predicted</title>"#
    );
    for (i, label) in labels.iter().enumerate() {
        let offset = margin + (i as f64 + 0.75) * cell;
        let text = escape(label);
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{offset:.1}" text-anchor="end">{text}</text>"#,
            margin - 4.0
        );
        let _ = writeln!(
            svg,
            r#"<text transform="translate({offset:.1},{:.1}) rotate(-90)">{text}</text>"#,
            margin - 4.0
        );
    }
    for (g, row) in evaluation.confusion.iter().enumerate() {
        let total: usize = row.iter().sum();
        for (p, &count) in row.iter().enumerate() {
            if count == 0 {
                continue;
            }
            let share = count as f64 / total.max(1) as f64;
            // Diagonal in blue, mistakes in red, darker for a larger share.
            let (r, gr, b) = if g == p { (33, 102, 172) } else { (202, 0, 32) };
            let _ = writeln!(
                svg,
                r#"<rect x="{:.1}" y="{:.1}" width="{cell}" height="{cell}" fill="rgb({r},{gr},{b})" fill-opacity="{:.3}"><title>{} → {}: {count}</title></rect>"#,
                margin + p as f64 * cell,
                margin + g as f64 * cell,
                0.15 + 0.85 * share,
                escape(&labels[g]),
                escape(&labels[p])
            );
        }
    }
    let _ = writeln!(
        svg,
        r#"<rect x="{margin:.1}" y="{margin:.1}" width="{:.1}" height="{:.1}" fill="none" stroke="gray"/></svg>"#,
        n as f64 * cell,
        n as f64 * cell
    );
    svg
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::{IntentRow, Summary};

    fn evaluation() -> Evaluation {
        Evaluation {
            summary: Summary {
                intent_accuracy: 0.75,
                intent_macro_f1: 0.7,
                in_scope_accuracy: None,
                oos_recall: None,
                slot_precision: None,
                slot_recall: None,
                slot_f1: None,
                train_seconds: 0.1,
                parse_us_p50: 5.0,
                parse_us_p99: 9.0,
            },
            per_intent: vec![
                IntentRow {
                    intent: "a<b".into(),
                    support: 2,
                    precision: 1.0,
                    recall: 0.5,
                    f1: 2.0 / 3.0,
                },
                IntentRow {
                    intent: "c".into(),
                    support: 2,
                    precision: 2.0 / 3.0,
                    recall: 1.0,
                    f1: 0.8,
                },
            ],
            labels: vec!["a<b".into(), "c".into()],
            confusion: vec![vec![1, 1], vec![0, 2]],
            train_examples: 4,
            test_examples: 4,
        }
    }

    #[test]
    fn tables_list_worst_first() {
        let table = per_intent_markdown(&evaluation());
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines[2], "| a<b | 2 | 100.0% | 50.0% | 66.7% |");
        assert_eq!(
            worst_confusions_markdown(&evaluation(), 5).lines().nth(2),
            Some("| 1 | a<b | c |")
        );
    }

    #[test]
    fn svg_has_a_cell_per_non_zero_count_and_escapes_labels() {
        let svg = confusion_svg(&evaluation());
        assert_eq!(svg.matches("<rect x=").count(), 3 + 1);
        assert!(svg.contains("a&lt;b → c: 1"));
        assert!(!svg.contains("a<b"));
    }
}
