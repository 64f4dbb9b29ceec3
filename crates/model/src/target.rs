//! Where control goes next: `task://<unique_name>` or a URL returning Actions JSON.

use std::fmt;

/// A redirect or defaults target.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    /// `task://<unique_name>`: run that task of the same assistant.
    Task(String),
    /// An `http://` or `https://` URL, kept exactly as written.
    Url(String),
}

/// Why a string is not a target.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("the target is empty: expected task://<unique_name> or an http(s) URL")]
    Empty,
    #[error("{0:?} names no task: expected task://<unique_name>")]
    EmptyTaskName(String),
    #[error("{0:?} is not a target: expected task://<unique_name> or an http(s) URL")]
    Unrecognised(String),
}

const TASK_SCHEME: &str = "task://";

impl Target {
    /// Parses `task://name` or an http(s) URL; schemes are matched case-insensitively
    /// as URL schemes are, the task name and URL are kept as written.
    pub fn parse(text: &str) -> Result<Target, TargetError> {
        if text.is_empty() {
            return Err(TargetError::Empty);
        }
        if let Some(name) = strip_prefix_ignore_case(text, TASK_SCHEME) {
            return match name.is_empty() {
                true => Err(TargetError::EmptyTaskName(text.to_owned())),
                false => Ok(Target::Task(name.to_owned())),
            };
        }
        let is_url = ["http://", "https://"].iter().any(|scheme| {
            strip_prefix_ignore_case(text, scheme).is_some_and(|rest| !rest.is_empty())
        });
        match is_url {
            true => Ok(Target::Url(text.to_owned())),
            false => Err(TargetError::Unrecognised(text.to_owned())),
        }
    }

    /// The task's unique name when this is a `task://` target.
    pub fn task_name(&self) -> Option<&str> {
        match self {
            Target::Task(name) => Some(name),
            Target::Url(_) => None,
        }
    }
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

impl fmt::Display for Target {
    /// The canonical text: `task://name` or the URL.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Task(name) => write!(f, "{TASK_SCHEME}{name}"),
            Target::Url(url) => f.write_str(url),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_task_targets() {
        assert_eq!(
            Target::parse("task://greeting"),
            Ok(Target::Task("greeting".into()))
        );
        assert_eq!(
            Target::parse("TASK://Greeting"),
            Ok(Target::Task("Greeting".into()))
        );
        assert_eq!(
            Target::parse("task://greeting").unwrap().task_name(),
            Some("greeting")
        );
    }

    #[test]
    fn parses_urls_as_written() {
        assert_eq!(
            Target::parse("https://example.com/actions?x=1"),
            Ok(Target::Url("https://example.com/actions?x=1".into()))
        );
        assert_eq!(
            Target::parse("HTTP://example.com"),
            Ok(Target::Url("HTTP://example.com".into()))
        );
        assert_eq!(
            Target::parse("https://example.com").unwrap().task_name(),
            None
        );
    }

    #[test]
    fn rejects_empty_and_unknown_targets() {
        assert_eq!(Target::parse(""), Err(TargetError::Empty));
        assert_eq!(
            Target::parse("task://").unwrap_err().to_string(),
            "\"task://\" names no task: expected task://<unique_name>"
        );
        assert_eq!(
            Target::parse("greeting").unwrap_err().to_string(),
            "\"greeting\" is not a target: expected task://<unique_name> or an http(s) URL"
        );
        assert_eq!(
            Target::parse("https://"),
            Err(TargetError::Unrecognised("https://".into()))
        );
        assert_eq!(
            Target::parse("ftp://example.com"),
            Err(TargetError::Unrecognised("ftp://example.com".into()))
        );
    }

    #[test]
    fn multibyte_text_near_the_scheme_does_not_panic() {
        assert_eq!(
            Target::parse("tâsk://x"),
            Err(TargetError::Unrecognised("tâsk://x".into()))
        );
    }

    #[test]
    fn display_gives_the_canonical_text() {
        assert_eq!(Target::Task("a".into()).to_string(), "task://a");
        assert_eq!(
            Target::Url("https://x.io".into()).to_string(),
            "https://x.io"
        );
    }
}
