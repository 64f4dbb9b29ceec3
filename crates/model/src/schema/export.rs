//! Writing an [`Assistant`] as the Autopilot CLI's export did.

use serde_json::Value;

use crate::assistant::{Assistant, Field, FieldType, FieldValue, Sample, Task};
use crate::json::{ObjectBuilder, OrderedJson};

/// The schema file for `assistant`, in the modern form and the CLI's layout:
/// keys `friendlyName, logQueries, uniqueName, defaults, styleSheet,
/// fieldTypes, tasks, modelBuild`, four-space indent, `" : "`, short objects on
/// one line, no trailing newline.
///
/// What the CLI format has no key for is written only when set, so a file
/// exported from Autopilot comes back in its own shape: `friendlyName` and
/// `actionsUrl` of tasks, `friendlyName` of field types, `sourceChannel` of samples.
pub fn export_schema(assistant: &Assistant) -> String {
    schema_tree(assistant).to_cli_pretty_string()
}

fn schema_tree(assistant: &Assistant) -> OrderedJson {
    let model_build = ObjectBuilder::new()
        .optional("uniqueName", assistant.model_build_name.as_ref())
        .build();
    ObjectBuilder::new()
        .field("friendlyName", &assistant.friendly_name)
        .field("logQueries", assistant.log_queries)
        .field("uniqueName", &assistant.unique_name)
        .field("defaults", assistant.defaults.to_ordered())
        .field("styleSheet", assistant.style_sheet.to_ordered())
        .field(
            "fieldTypes",
            assistant
                .field_types
                .iter()
                .map(field_type_tree)
                .collect::<Vec<_>>(),
        )
        .field(
            "tasks",
            assistant.tasks.iter().map(task_tree).collect::<Vec<_>>(),
        )
        .field("modelBuild", model_build)
        .build()
}

fn task_tree(task: &Task) -> OrderedJson {
    let actions = match &task.actions {
        Some(document) => document.to_ordered(),
        None => ObjectBuilder::new().build(),
    };
    ObjectBuilder::new()
        .field("uniqueName", &task.unique_name)
        .optional("friendlyName", task.friendly_name.as_ref())
        .field("actions", actions)
        .optional("actionsUrl", task.actions_url.as_ref())
        .field(
            "fields",
            task.fields.iter().map(field_tree).collect::<Vec<_>>(),
        )
        .field(
            "samples",
            task.samples.iter().map(sample_tree).collect::<Vec<_>>(),
        )
        .build()
}

fn field_tree(field: &Field) -> OrderedJson {
    ObjectBuilder::new()
        .field("uniqueName", &field.unique_name)
        .field("fieldType", &field.field_type)
        .build()
}

fn sample_tree(sample: &Sample) -> OrderedJson {
    ObjectBuilder::new()
        .field("language", &sample.language)
        .field("taggedText", &sample.tagged_text)
        .optional("sourceChannel", sample.source_channel.as_ref())
        .build()
}

fn field_type_tree(field_type: &FieldType) -> OrderedJson {
    ObjectBuilder::new()
        .field("uniqueName", &field_type.unique_name)
        .optional("friendlyName", field_type.friendly_name.as_ref())
        .field(
            "values",
            field_type
                .values
                .iter()
                .map(field_value_tree)
                .collect::<Vec<_>>(),
        )
        .build()
}

/// Canonical values get `"synonymOf" : null`, as Autopilot returned them.
fn field_value_tree(value: &FieldValue) -> OrderedJson {
    let synonym_of = match &value.synonym_of {
        Some(canonical) => OrderedJson::from(canonical),
        None => OrderedJson::Scalar(Value::Null),
    };
    ObjectBuilder::new()
        .field("language", &value.language)
        .field("value", &value.value)
        .field("synonymOf", synonym_of)
        .build()
}
