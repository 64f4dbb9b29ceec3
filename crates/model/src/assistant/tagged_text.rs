//! Sample text with field tags: `book a table for {party_size} on {date}`.

use std::fmt;

/// A sample split into literal text and field tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaggedText {
    pub segments: Vec<Segment>,
}

/// A piece of a tagged sample.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Text(String),
    /// `{name}`: the unique name of one of the task's fields.
    Field(String),
}

/// Why a sample's tags cannot be read. Positions count characters from 0.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TagError {
    #[error("the tag opened at character {position} is never closed with \"}}\"")]
    Unclosed { position: usize },
    #[error("the tag at character {position} is empty: write a field name between the braces")]
    Empty { position: usize },
    #[error("a tag opens at character {inner} inside the tag opened at character {outer}")]
    Nested { outer: usize, inner: usize },
}

/// A sample with every tag replaced by a value, and where each value sits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilledSample {
    pub text: String,
    pub spans: Vec<FieldSpan>,
}

/// Where a field's value sits in a [`FilledSample`]: character offsets, end
/// exclusive (the convention of otto's NLU data sets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSpan {
    pub field: String,
    pub start: usize,
    pub end: usize,
}

impl TaggedText {
    /// Splits `text` at `{name}` tags. Spaces inside the braces are ignored.
    /// A `}` outside a tag is ordinary text: nothing suggests Autopilot
    /// reserved it, while an unclosed `{` is almost certainly a typo.
    pub fn parse(text: &str) -> Result<TaggedText, TagError> {
        let mut segments = Vec::new();
        let mut literal = String::new();
        let mut chars = text.chars().enumerate();
        while let Some((position, c)) = chars.next() {
            if c != '{' {
                literal.push(c);
                continue;
            }
            let name = read_tag_name(&mut chars, position)?;
            if !literal.is_empty() {
                segments.push(Segment::Text(std::mem::take(&mut literal)));
            }
            segments.push(Segment::Field(name));
        }
        if !literal.is_empty() {
            segments.push(Segment::Text(literal));
        }
        Ok(TaggedText { segments })
    }

    /// The field names of the tags, in order, repeats included.
    pub fn field_names(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().filter_map(|segment| match segment {
            Segment::Field(name) => Some(name.as_str()),
            Segment::Text(_) => None,
        })
    }

    /// Replaces each tag with `value_of(field_name)` and records where it went.
    /// `fill(|name| name.to_owned())` gives the text with tag names as values.
    pub fn fill(&self, mut value_of: impl FnMut(&str) -> String) -> FilledSample {
        let mut text = String::new();
        let mut length = 0;
        let mut spans = Vec::new();
        for segment in &self.segments {
            match segment {
                Segment::Text(literal) => {
                    text.push_str(literal);
                    length += literal.chars().count();
                }
                Segment::Field(name) => {
                    let value = value_of(name);
                    let start = length;
                    length += value.chars().count();
                    text.push_str(&value);
                    spans.push(FieldSpan {
                        field: name.clone(),
                        start,
                        end: length,
                    });
                }
            }
        }
        FilledSample { text, spans }
    }
}

/// Reads up to the closing `}` of a tag opened at `opened`.
fn read_tag_name(
    chars: &mut impl Iterator<Item = (usize, char)>,
    opened: usize,
) -> Result<String, TagError> {
    let mut name = String::new();
    for (position, c) in chars {
        match c {
            '}' => {
                let name = name.trim();
                return match name.is_empty() {
                    true => Err(TagError::Empty { position: opened }),
                    false => Ok(name.to_owned()),
                };
            }
            '{' => {
                return Err(TagError::Nested {
                    outer: opened,
                    inner: position,
                });
            }
            other => name.push(other),
        }
    }
    Err(TagError::Unclosed { position: opened })
}

impl fmt::Display for TaggedText {
    /// The tagged form again, e.g. `book for {party_size}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for segment in &self.segments {
            match segment {
                Segment::Text(text) => f.write_str(text)?,
                Segment::Field(name) => write!(f, "{{{name}}}")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Segment {
        Segment::Text(s.to_owned())
    }

    fn field(s: &str) -> Segment {
        Segment::Field(s.to_owned())
    }

    #[test]
    fn splits_text_and_tags() {
        let tagged = TaggedText::parse("book for {party_size} on {date}").unwrap();
        assert_eq!(
            tagged.segments,
            vec![
                text("book for "),
                field("party_size"),
                text(" on "),
                field("date")
            ]
        );
        assert_eq!(
            tagged.field_names().collect::<Vec<_>>(),
            ["party_size", "date"]
        );
        assert_eq!(tagged.to_string(), "book for {party_size} on {date}");
    }

    #[test]
    fn a_sample_can_be_only_a_tag_or_have_none() {
        assert_eq!(
            TaggedText::parse("{No}").unwrap().segments,
            vec![field("No")]
        );
        assert_eq!(
            TaggedText::parse("hello").unwrap().segments,
            vec![text("hello")]
        );
        assert_eq!(TaggedText::parse("").unwrap().segments, vec![]);
        assert_eq!(
            TaggedText::parse("{date} at {time}").unwrap().segments,
            vec![field("date"), text(" at "), field("time")]
        );
    }

    #[test]
    fn spaces_inside_braces_are_ignored_and_stray_closing_braces_are_text() {
        assert_eq!(
            TaggedText::parse("at { time } :}").unwrap().segments,
            vec![text("at "), field("time"), text(" :}")]
        );
    }

    #[test]
    fn fill_reports_character_spans() {
        let tagged = TaggedText::parse("café for {party_size} on {date}").unwrap();
        let filled = tagged.fill(|name| match name {
            "party_size" => "4".to_owned(),
            _ => "Friday".to_owned(),
        });
        assert_eq!(filled.text, "café for 4 on Friday");
        assert_eq!(
            filled.spans,
            vec![
                FieldSpan {
                    field: "party_size".into(),
                    start: 9,
                    end: 10
                },
                FieldSpan {
                    field: "date".into(),
                    start: 14,
                    end: 20
                },
            ]
        );
    }

    #[test]
    fn tag_errors_give_character_positions() {
        assert_eq!(
            TaggedText::parse("é {date").unwrap_err().to_string(),
            "the tag opened at character 2 is never closed with \"}\""
        );
        assert_eq!(
            TaggedText::parse("on { }").unwrap_err().to_string(),
            "the tag at character 3 is empty: write a field name between the braces"
        );
        assert_eq!(
            TaggedText::parse("{a{b}}").unwrap_err(),
            TagError::Nested { outer: 0, inner: 2 }
        );
    }

    #[test]
    fn a_long_hostile_sample_does_not_blow_up() {
        let sample = "{".repeat(100_000);
        assert_eq!(
            TaggedText::parse(&sample).unwrap_err(),
            TagError::Nested { outer: 0, inner: 1 }
        );
        let many = "{x}".repeat(100_000);
        assert_eq!(TaggedText::parse(&many).unwrap().segments.len(), 100_000);
    }
}
