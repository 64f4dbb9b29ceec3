//! Whole-assistant checks: references between parts, tags, and the limits of reference 15.

use std::collections::{HashMap, HashSet};
use std::fmt;

use super::field_types::{BUILTIN_FIELD_TYPES, builtin_field_type};
use super::{Assistant, FieldType, SOURCE_CHANNELS, Sample, Task};
use crate::actions::{
    Action, ActionsDocument, Collect, Listen, Question, Redirect, Validate, VoiceDigits,
};
use crate::json::{index_path, key_path};
use crate::target::Target;

/// Most characters in a `unique_name`.
pub const UNIQUE_NAME_LIMIT: usize = 64;
/// Most characters in a `friendly_name`.
pub const FRIENDLY_NAME_LIMIT: usize = 255;
pub const TASKS_LIMIT: usize = 600;
pub const FIELDS_PER_TASK_LIMIT: usize = 50;
pub const FIELD_TYPES_LIMIT: usize = 50;
pub const VALUES_PER_FIELD_TYPE_LIMIT: usize = 1000;
pub const SAMPLES_LIMIT: usize = 50_000;

/// How bad a [`Problem`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Severity {
    /// Autopilot would have refused the definition.
    Error,
    /// Autopilot stored it, but the conversation fails or guesses when it gets
    /// there (a `task://` naming a deleted task, an empty redirect placeholder,
    /// a built-in type written in another letter case).
    Warning,
}

/// One finding of [`Assistant::validate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub severity: Severity,
    /// Where, in the assistant's field names, e.g. `tasks[2].samples[0].tagged_text`.
    pub path: String,
    pub message: String,
}

impl Problem {
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{severity}: {}: {}", self.path, self.message)
    }
}

impl Assistant {
    /// Every problem found, in document order; empty when all is well.
    pub fn validate(&self) -> Vec<Problem> {
        let mut checker = Checker::new(self);
        checker.check_assistant();
        checker.problems
    }
}

struct Checker<'a> {
    assistant: &'a Assistant,
    task_names: HashSet<&'a str>,
    field_type_names: HashSet<&'a str>,
    problems: Vec<Problem>,
}

impl<'a> Checker<'a> {
    fn new(assistant: &'a Assistant) -> Checker<'a> {
        Checker {
            assistant,
            task_names: assistant
                .tasks
                .iter()
                .map(|t| t.unique_name.as_str())
                .collect(),
            field_type_names: assistant
                .field_types
                .iter()
                .map(|t| t.unique_name.as_str())
                .collect(),
            problems: Vec::new(),
        }
    }

    fn error(&mut self, path: String, message: String) {
        self.problems.push(Problem {
            severity: Severity::Error,
            path,
            message,
        });
    }

    fn warning(&mut self, path: String, message: String) {
        self.problems.push(Problem {
            severity: Severity::Warning,
            path,
            message,
        });
    }

    fn check_assistant(&mut self) {
        let assistant = self.assistant;
        self.check_unique_name("unique_name".into(), &assistant.unique_name);
        self.check_friendly_name("friendly_name".into(), &assistant.friendly_name);
        for (path, target) in assistant.defaults.targets() {
            if let Some(target) = target {
                self.check_target(path.into(), target);
            }
        }
        self.check_field_types();
        self.check_tasks();
    }

    // ---- names and counts ----

    fn check_unique_name(&mut self, path: String, name: &str) {
        let length = name.chars().count();
        if length == 0 {
            self.error(path, "must not be empty".into());
        } else if length > UNIQUE_NAME_LIMIT {
            self.error(
                path,
                format!("is {length} characters; the limit is {UNIQUE_NAME_LIMIT}"),
            );
        }
    }

    fn check_friendly_name(&mut self, path: String, name: &str) {
        let length = name.chars().count();
        if length > FRIENDLY_NAME_LIMIT {
            self.error(
                path,
                format!("is {length} characters; the limit is {FRIENDLY_NAME_LIMIT}"),
            );
        }
    }

    fn check_count(&mut self, path: &str, what: &str, count: usize, limit: usize) {
        if count > limit {
            self.error(path.into(), format!("{count} {what}; the limit is {limit}"));
        }
    }

    /// Reports every name that an earlier item of `list` already uses.
    fn check_duplicate_names<'n>(
        &mut self,
        list: &str,
        names: impl Iterator<Item = &'n str>,
        what: &str,
    ) {
        let mut first_seen: HashMap<&str, usize> = HashMap::new();
        for (index, name) in names.enumerate() {
            match first_seen.get(name) {
                Some(first) => self.error(
                    key_path(&index_path(list, index), "unique_name"),
                    format!("duplicate {what} {name:?} (also {list}[{first}])"),
                ),
                None => {
                    first_seen.insert(name, index);
                }
            }
        }
    }

    // ---- references ----

    fn check_target(&mut self, path: String, target: &Target) {
        if let Target::Task(name) = target
            && !self.task_names.contains(name.as_str())
        {
            self.warning(
                path,
                format!("task://{name} names no task of this assistant"),
            );
        }
    }

    fn check_redirect(&mut self, path: String, redirect: &Redirect) {
        match redirect.target() {
            Ok(target) => self.check_target(path, &target),
            Err(error) => self.warning(path, error.to_string()),
        }
    }

    fn check_field_type_reference(&mut self, path: String, name: &str) {
        if BUILTIN_FIELD_TYPES.contains(&name) || self.field_type_names.contains(name) {
            return;
        }
        match builtin_field_type(name) {
            Some(builtin) => self.warning(
                path,
                format!("{name:?} differs in letter case from the built-in type {builtin:?} and is treated as it"),
            ),
            None => self.error(
                path,
                format!("{name:?} is neither a built-in Twilio type nor a field type of this assistant"),
            ),
        }
    }

    // ---- field types ----

    fn check_field_types(&mut self) {
        let field_types = &self.assistant.field_types;
        self.check_count(
            "field_types",
            "field types",
            field_types.len(),
            FIELD_TYPES_LIMIT,
        );
        self.check_duplicate_names(
            "field_types",
            field_types.iter().map(|t| t.unique_name.as_str()),
            "field type",
        );
        for (index, field_type) in field_types.iter().enumerate() {
            self.check_field_type(&index_path("field_types", index), field_type);
        }
    }

    fn check_field_type(&mut self, path: &str, field_type: &FieldType) {
        self.check_unique_name(key_path(path, "unique_name"), &field_type.unique_name);
        if let Some(name) = &field_type.friendly_name {
            self.check_friendly_name(key_path(path, "friendly_name"), name);
        }
        let values_path = key_path(path, "values");
        let count = field_type.values.len();
        self.check_count(&values_path, "values", count, VALUES_PER_FIELD_TYPE_LIMIT);
        self.check_field_values(&values_path, field_type);
    }

    /// Values compare ignoring case, as Autopilot matched them.
    fn check_field_values(&mut self, values_path: &str, field_type: &FieldType) {
        let mut first_seen: HashMap<(&str, String), usize> = HashMap::new();
        let known: HashSet<String> = field_type
            .values
            .iter()
            .map(|v| v.value.to_lowercase())
            .collect();
        for (index, value) in field_type.values.iter().enumerate() {
            let path = index_path(values_path, index);
            if value.value.is_empty() {
                self.error(key_path(&path, "value"), "must not be empty".into());
            }
            let key = (value.language.as_str(), value.value.to_lowercase());
            if let Some(first) = first_seen.get(&key) {
                let message = format!(
                    "{:?} repeats values[{first}] (values are compared ignoring case)",
                    value.value
                );
                self.error(key_path(&path, "value"), message);
            } else {
                first_seen.insert(key, index);
            }
            if let Some(canonical) = &value.synonym_of
                && !known.contains(&canonical.to_lowercase())
            {
                let message = format!(
                    "{canonical:?} is not a value of field type {:?}",
                    field_type.unique_name
                );
                self.error(key_path(&path, "synonym_of"), message);
            }
        }
    }

    // ---- tasks ----

    fn check_tasks(&mut self) {
        let tasks = &self.assistant.tasks;
        self.check_count("tasks", "tasks", tasks.len(), TASKS_LIMIT);
        let samples = tasks.iter().map(|t| t.samples.len()).sum();
        self.check_count("tasks", "samples", samples, SAMPLES_LIMIT);
        self.check_duplicate_names(
            "tasks",
            tasks.iter().map(|t| t.unique_name.as_str()),
            "task",
        );
        for (index, task) in tasks.iter().enumerate() {
            self.check_task(&index_path("tasks", index), task);
        }
    }

    fn check_task(&mut self, path: &str, task: &Task) {
        self.check_unique_name(key_path(path, "unique_name"), &task.unique_name);
        if let Some(name) = &task.friendly_name {
            self.check_friendly_name(key_path(path, "friendly_name"), name);
        }
        if let Some(url) = &task.actions_url
            && !matches!(Target::parse(url), Ok(Target::Url(_)))
        {
            self.error(
                key_path(path, "actions_url"),
                format!("{url:?} is not an http(s) URL"),
            );
        }
        self.check_fields(&key_path(path, "fields"), task);
        let samples_path = key_path(path, "samples");
        for (index, sample) in task.samples.iter().enumerate() {
            self.check_sample(&index_path(&samples_path, index), task, sample);
        }
        if let Some(actions) = &task.actions {
            self.check_actions(&key_path(path, "actions"), actions);
        }
    }

    fn check_fields(&mut self, fields_path: &str, task: &Task) {
        self.check_count(
            fields_path,
            "fields",
            task.fields.len(),
            FIELDS_PER_TASK_LIMIT,
        );
        self.check_duplicate_names(
            fields_path,
            task.fields.iter().map(|f| f.unique_name.as_str()),
            "field",
        );
        for (index, field) in task.fields.iter().enumerate() {
            let path = index_path(fields_path, index);
            self.check_unique_name(key_path(&path, "unique_name"), &field.unique_name);
            self.check_field_type_reference(key_path(&path, "field_type"), &field.field_type);
        }
    }

    fn check_sample(&mut self, path: &str, task: &Task, sample: &Sample) {
        let text_path = key_path(path, "tagged_text");
        match sample.tags() {
            Err(error) => self.error(text_path, error.to_string()),
            Ok(tags) => {
                let mut reported = HashSet::new();
                for name in tags.field_names() {
                    if task.field(name).is_none() && reported.insert(name) {
                        let message = format!(
                            "the tag {{{name}}} names no field of task {:?}",
                            task.unique_name
                        );
                        self.error(text_path.clone(), message);
                    }
                }
            }
        }
        if let Some(channel) = &sample.source_channel
            && !SOURCE_CHANNELS.contains(&channel.as_str())
        {
            let message = format!(
                "{channel:?} is not a channel: expected one of {}",
                SOURCE_CHANNELS.join(", ")
            );
            self.error(key_path(path, "source_channel"), message);
        }
    }

    // ---- actions ----

    fn check_actions(&mut self, path: &str, document: &ActionsDocument) {
        let list_path = key_path(path, "actions");
        for (index, action) in document.actions.iter().enumerate() {
            let path = index_path(&list_path, index);
            match action {
                Action::Redirect(redirect) => {
                    self.check_redirect(key_path(&path, "redirect"), redirect)
                }
                Action::Listen(listen) => self.check_listen(&key_path(&path, "listen"), listen),
                Action::Collect(collect) => {
                    self.check_collect(&key_path(&path, "collect"), collect)
                }
                Action::Say(_)
                | Action::Play(_)
                | Action::Show(_)
                | Action::Remember(_)
                | Action::Handoff(_) => {}
            }
        }
    }

    fn check_listen(&mut self, path: &str, listen: &Listen) {
        let Listen::With(options) = listen else {
            return;
        };
        let tasks_path = key_path(path, "tasks");
        for (index, name) in options.tasks.iter().flatten().enumerate() {
            if !self.task_names.contains(name.as_str()) {
                self.warning(
                    index_path(&tasks_path, index),
                    format!("{name:?} names no task of this assistant"),
                );
            }
        }
        if let Some(digits) = &options.voice_digits {
            self.check_voice_digits(&key_path(path, "voice_digits"), digits);
        }
    }

    fn check_voice_digits(&mut self, path: &str, digits: &VoiceDigits) {
        let redirects_path = key_path(path, "redirects");
        for (keys, redirect) in &digits.redirects {
            self.check_redirect(key_path(&redirects_path, keys), redirect);
        }
    }

    fn check_collect(&mut self, path: &str, collect: &Collect) {
        let questions_path = key_path(path, "questions");
        for (index, question) in collect.questions.iter().enumerate() {
            self.check_question(&index_path(&questions_path, index), question);
        }
        let on_complete = key_path(&key_path(path, "on_complete"), "redirect");
        self.check_redirect(on_complete, &collect.on_complete.redirect);
    }

    fn check_question(&mut self, path: &str, question: &Question) {
        if let Some(field_type) = &question.field_type {
            self.check_field_type_reference(key_path(path, "type"), field_type);
        }
        if let Some(Validate::Rules(rules)) = &question.validate
            && let Some(redirect) = rules
                .max_attempts
                .as_ref()
                .and_then(|m| m.redirect.as_ref())
        {
            self.check_redirect(format!("{path}.validate.max_attempts.redirect"), redirect);
        }
        if let Some(digits) = &question.voice_digits {
            self.check_voice_digits(&key_path(path, "voice_digits"), digits);
        }
        let confirm_redirect = question
            .confirm
            .as_ref()
            .and_then(|c| c.max_attempts.as_ref())
            .and_then(|m| m.redirect.as_ref());
        if let Some(redirect) = confirm_redirect {
            self.check_redirect(format!("{path}.confirm.max_attempts.redirect"), redirect);
        }
    }
}
