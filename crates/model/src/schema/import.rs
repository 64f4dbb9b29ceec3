//! Reading a schema file, modern or legacy ("Understand"), into an [`Assistant`].

use serde_json::Value;

use super::SchemaError;
use crate::actions::ActionsDocument;
use crate::assistant::{
    Assistant, Defaults, Field, FieldType, FieldValue, Sample, StyleSheet, Task,
};
use crate::json::{self, Fields, ShapeError};
use crate::target::Target;

/// The task a legacy file's `initiationActions` become (`-2`, `-3`… appended if taken).
pub const LEGACY_INITIATION_TASK: &str = "initiation";
/// The task a legacy file's `fallbackActions` become (`-2`, `-3`… appended if taken).
pub const LEGACY_FALLBACK_TASK: &str = "fallback";

/// The language of samples and values that do not say: the only one Autopilot supported.
const DEFAULT_LANGUAGE: &str = "en-US";

/// Reads a schema file as written by the Autopilot CLI export (or by hand).
///
/// Tolerant like the CLI: optional keys may be missing, `synonymOf` may be
/// null, `""` or the canonical value, `defaults`/`styleSheet` without their
/// wrapper key are ignored, unknown top-level keys (such as `assistantSid`) are
/// skipped. The legacy vocabulary is mapped: `intents` → tasks, `types` →
/// field types, `initiationActions`/`fallbackActions` → tasks that the defaults
/// point at, `fetch_actions` → redirect.
pub fn import_schema(json: &str) -> Result<Assistant, SchemaError> {
    let value: Value = serde_json::from_str(json).map_err(|error| SchemaError::syntax(&error))?;
    Ok(read_assistant(&value)?)
}

fn read_assistant(value: &Value) -> Result<Assistant, ShapeError> {
    let mut fields = Fields::of(value, "", "an object (an Autopilot schema)")?;
    let (unique_name, friendly_name) = read_assistant_names(&mut fields)?;
    let log_queries = fields.optional_bool("logQueries")?;
    let mut defaults = read_wrapped(&mut fields, "defaults", Defaults::from_value)?;
    let style_sheet = read_wrapped(&mut fields, "styleSheet", StyleSheet::from_value)?;
    let field_types = read_either_list(&mut fields, "fieldTypes", "types", read_field_type)?;
    let mut tasks = read_either_list(&mut fields, "tasks", "intents", read_task)?;
    let model_build_name = read_model_build_name(&mut fields)?;
    add_legacy_default_tasks(&mut fields, &mut tasks, &mut defaults)?;
    Ok(Assistant {
        unique_name,
        friendly_name,
        log_queries: log_queries.unwrap_or(true),
        defaults,
        style_sheet,
        field_types,
        tasks,
        model_build_name,
    })
}

/// Either name stands in for the other, as in the CLI (`friendlyName || uniqueName`).
fn read_assistant_names(fields: &mut Fields<'_>) -> Result<(String, String), ShapeError> {
    let mut read = |key| -> Result<Option<String>, ShapeError> {
        let name = fields.optional_string(key)?;
        Ok(name.filter(|name| !name.is_empty()))
    };
    match (read("uniqueName")?, read("friendlyName")?) {
        (Some(unique), Some(friendly)) => Ok((unique, friendly)),
        (Some(unique), None) => Ok((unique.clone(), unique)),
        (None, Some(friendly)) => Ok((friendly.clone(), friendly)),
        (None, None) => Err(ShapeError::new(
            "",
            "needs \"uniqueName\" or \"friendlyName\"",
        )),
    }
}

/// `defaults` / `styleSheet` hold the REST resource's `data`, wrapper key included.
fn read_wrapped<T: Default>(
    fields: &mut Fields<'_>,
    key: &'static str,
    read: fn(&Value) -> Result<T, ShapeError>,
) -> Result<T, ShapeError> {
    match fields.optional(key) {
        Some(field) => read(field.value).map_err(|error| error.within(&field.path)),
        None => Ok(T::default()),
    }
}

fn read_either_list<T>(
    fields: &mut Fields<'_>,
    modern: &'static str,
    legacy: &'static str,
    read: fn(&Value, &str) -> Result<T, ShapeError>,
) -> Result<Vec<T>, ShapeError> {
    match (fields.optional(modern), fields.optional(legacy)) {
        (Some(_), Some(_)) => Err(ShapeError::new(
            "",
            format!("both {modern:?} and {legacy:?} are present; a schema uses one or the other"),
        )),
        (Some(list), None) | (None, Some(list)) => list.each(read),
        (None, None) => Ok(Vec::new()),
    }
}

fn read_language(fields: &mut Fields<'_>) -> Result<String, ShapeError> {
    Ok(fields
        .optional_string("language")?
        .unwrap_or_else(|| DEFAULT_LANGUAGE.to_owned()))
}

fn read_task(value: &Value, path: &str) -> Result<Task, ShapeError> {
    let mut fields = Fields::of(value, path, "an object with \"uniqueName\"")?;
    Ok(Task {
        unique_name: fields.required("uniqueName")?.string()?,
        friendly_name: fields.optional_string("friendlyName")?,
        actions: read_actions(&mut fields, "actions")?,
        actions_url: fields.optional_string("actionsUrl")?,
        fields: fields.list("fields", read_field)?,
        samples: fields.list("samples", read_sample)?,
    })
}

/// A task's actions; `{}` is what the export wrote for a task without any.
fn read_actions(
    fields: &mut Fields<'_>,
    key: &'static str,
) -> Result<Option<ActionsDocument>, ShapeError> {
    let Some(field) = fields.optional(key) else {
        return Ok(None);
    };
    if field.value.as_object().is_some_and(|map| map.is_empty()) {
        return Ok(None);
    }
    ActionsDocument::from_value(field.value)
        .map(Some)
        .map_err(|error| error.into_shape_error().within(&field.path))
}

fn read_field(value: &Value, path: &str) -> Result<Field, ShapeError> {
    let mut fields = Fields::of(
        value,
        path,
        "an object with \"uniqueName\" and \"fieldType\"",
    )?;
    Ok(Field {
        unique_name: fields.required("uniqueName")?.string()?,
        field_type: fields.required("fieldType")?.string()?,
    })
}

fn read_sample(value: &Value, path: &str) -> Result<Sample, ShapeError> {
    let mut fields = Fields::of(value, path, "an object with \"taggedText\"")?;
    Ok(Sample {
        language: read_language(&mut fields)?,
        tagged_text: fields.required("taggedText")?.string()?,
        source_channel: fields.optional_string("sourceChannel")?,
    })
}

fn read_field_type(value: &Value, path: &str) -> Result<FieldType, ShapeError> {
    let mut fields = Fields::of(value, path, "an object with \"uniqueName\"")?;
    Ok(FieldType {
        unique_name: fields.required("uniqueName")?.string()?,
        friendly_name: fields.optional_string("friendlyName")?,
        values: fields.list("values", read_field_value)?,
    })
}

/// `synonymOf` null, missing or `""` all mean "a canonical value".
fn read_field_value(value: &Value, path: &str) -> Result<FieldValue, ShapeError> {
    let mut fields = Fields::of(value, path, "an object with \"value\"")?;
    let language = read_language(&mut fields)?;
    let value = fields.required("value")?.string()?;
    let synonym_of = fields
        .optional_string("synonymOf")?
        .filter(|canonical| !canonical.is_empty());
    Ok(FieldValue {
        language,
        value,
        synonym_of,
    })
}

/// `modelBuild` is `{uniqueName}` or `{}` (no build yet).
fn read_model_build_name(fields: &mut Fields<'_>) -> Result<Option<String>, ShapeError> {
    let Some(field) = fields.optional("modelBuild") else {
        return Ok(None);
    };
    let mut build = field.fields("an object")?;
    build.optional_string("uniqueName")
}

/// Legacy files kept the initiation and fallback programs outside any task;
/// Autopilot v1 runs tasks named by the defaults, so each becomes a task.
fn add_legacy_default_tasks(
    fields: &mut Fields<'_>,
    tasks: &mut Vec<Task>,
    defaults: &mut Defaults,
) -> Result<(), ShapeError> {
    if let Some(actions) = read_actions(fields, "initiationActions")? {
        let name = add_task(tasks, LEGACY_INITIATION_TASK, actions);
        set_default_once(
            &mut defaults.assistant_initiation,
            name,
            "initiationActions",
            "assistant_initiation",
        )?;
    }
    if let Some(actions) = read_actions(fields, "fallbackActions")? {
        let name = add_task(tasks, LEGACY_FALLBACK_TASK, actions);
        set_default_once(&mut defaults.fallback, name, "fallbackActions", "fallback")?;
    }
    Ok(())
}

/// Adds a task under the first free name among `base`, `base-2`, `base-3`…
fn add_task(tasks: &mut Vec<Task>, base: &str, actions: ActionsDocument) -> String {
    let taken = |name: &str| tasks.iter().any(|task| task.unique_name == name);
    let name = std::iter::once(base.to_owned())
        .chain((2..).map(|n| format!("{base}-{n}")))
        .find(|name| !taken(name))
        .expect("an unbounded sequence of names has a free one");
    tasks.push(Task {
        actions: Some(actions),
        ..Task::new(&name)
    });
    name
}

fn set_default_once(
    slot: &mut Option<Target>,
    task_name: String,
    legacy_key: &str,
    default_key: &str,
) -> Result<(), ShapeError> {
    if slot.is_some() {
        let problem =
            format!("sets the same default as defaults.defaults.{default_key}; keep one of them");
        return Err(ShapeError::new(json::key_path("", legacy_key), problem));
    }
    *slot = Some(Target::Task(task_name));
    Ok(())
}
