//! Variables in static actions (`{{memory.first_name}}`), which Autopilot could
//! not do: rendered with MiniJinja under a fuel limit, so one author's template
//! cannot run away with a turn.

use std::borrow::Cow;
use std::sync::RwLock;

use minijinja::value::Serde;
use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde_json::{Map, Value};

use crate::understanding::RecognizedField;

/// Longest rendered text kept; longer output is an error and the text is used as written.
pub const RENDERED_SIZE_LIMIT: usize = 64 * 1024;

/// What a template can see.
#[derive(Debug, Clone, Copy)]
pub struct TemplateContext<'a> {
    pub user_identifier: &'a str,
    pub memory: &'a Map<String, Value>,
    pub channel: &'a str,
    pub fields: &'a [RecognizedField],
    pub task: Option<&'a str>,
}

impl TemplateContext<'_> {
    /// `user.identifier`, `memory`, `channel`, `fields.<name>`, `task`; the
    /// memory is read in place, not copied first.
    fn to_value(self) -> minijinja::Value {
        let fields: Map<String, Value> = self
            .fields
            .iter()
            .map(|field| (field.name.clone(), Value::from(field.value.as_str())))
            .collect();
        minijinja::context! {
            user => minijinja::context! { identifier => self.user_identifier },
            memory => minijinja::Value::from(Serde(self.memory)),
            channel => self.channel,
            fields => minijinja::Value::from(Serde(fields)),
            task => self.task,
        }
    }
}

/// Why a template could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TemplateError(String);

/// Templates compiled and kept per engine; past this many, new ones are
/// compiled for each use (an assistant has a few dozen at most).
const KEPT_TEMPLATES: usize = 1_024;

/// The template renderer, built once per engine. A template is compiled the
/// first time it is used and kept (parsing it again at every turn was most of
/// the cost of rendering).
#[derive(Debug)]
pub struct Templates {
    kept: RwLock<Kept>,
}

/// The environment, whose templates are named by their own text.
#[derive(Debug)]
struct Kept {
    environment: Environment<'static>,
    count: usize,
}

impl Templates {
    /// `fuel`: the most work one template may do. MiniJinja 3 charges one fuel
    /// per instruction and per 64 bytes produced, so this bounds time and memory.
    pub fn new(fuel: u64) -> Templates {
        let mut environment = Environment::new();
        environment.set_fuel(Some(fuel));
        // Missing memory keys render as nothing, also when chained (`memory.a.b`).
        environment.set_undefined_behavior(UndefinedBehavior::Chainable);
        // Speech and messages are not HTML.
        environment.set_auto_escape_callback(|_| AutoEscape::None);
        Templates {
            kept: RwLock::new(Kept {
                environment,
                count: 0,
            }),
        }
    }

    /// Renders `text`; text without `{{` or `{%` is returned as it is, untouched.
    pub fn render<'t>(
        &self,
        text: &'t str,
        context: TemplateContext<'_>,
    ) -> Result<Cow<'t, str>, TemplateError> {
        if !has_template_syntax(text) {
            return Ok(Cow::Borrowed(text));
        }
        let context = context.to_value();
        let rendered = self
            .render_kept(text, &context)
            .unwrap_or_else(|| self.compile_and_render(text, &context))
            .map_err(|error| TemplateError(describe(&error)))?;
        if rendered.len() > RENDERED_SIZE_LIMIT {
            return Err(TemplateError(format!(
                "the rendered text is {} bytes; the limit is {RENDERED_SIZE_LIMIT} bytes",
                rendered.len()
            )));
        }
        Ok(Cow::Owned(rendered))
    }

    /// `None` when the template is not compiled yet.
    fn render_kept(
        &self,
        text: &str,
        context: &minijinja::Value,
    ) -> Option<Result<String, minijinja::Error>> {
        let kept = self
            .kept
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let template = kept.environment.get_template(text).ok()?;
        Some(template.render(context.clone()))
    }

    /// Compiles the template (kept while there is room; a syntax error is
    /// not kept and is reported at each use) and renders it.
    fn compile_and_render(
        &self,
        text: &str,
        context: &minijinja::Value,
    ) -> Result<String, minijinja::Error> {
        let mut kept = self
            .kept
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if kept.count >= KEPT_TEMPLATES {
            return kept.environment.render_str(text, context.clone());
        }
        if kept.environment.get_template(text).is_err() {
            kept.environment
                .add_template_owned(text.to_owned(), text.to_owned())?;
            kept.count += 1;
        }
        kept.environment.get_template(text)?.render(context.clone())
    }
}

/// Whether the text asks for rendering at all.
pub fn has_template_syntax(text: &str) -> bool {
    text.contains("{{") || text.contains("{%")
}

fn describe(error: &minijinja::Error) -> String {
    let detail = error.detail().map(|d| format!(": {d}")).unwrap_or_default();
    match error.line() {
        Some(line) => format!("{}{detail} (line {line})", error.kind()),
        None => format!("{}{detail}", error.kind()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn render(text: &str) -> Result<String, TemplateError> {
        render_with_fuel(text, 2_000)
    }

    fn render_with_fuel(text: &str, fuel: u64) -> Result<String, TemplateError> {
        let memory = json!({"first_name": "Val", "cart": {"items": 2}})
            .as_object()
            .cloned()
            .unwrap();
        let fields = [RecognizedField::new("city", "Twilio.CITY", "Paris")];
        let context = TemplateContext {
            user_identifier: "+15550100",
            memory: &memory,
            channel: "sms",
            fields: &fields,
            task: Some("greet"),
        };
        Templates::new(fuel)
            .render(text, context)
            .map(Cow::into_owned)
    }

    #[test]
    fn renders_every_variable() {
        assert_eq!(
            render("{{user.identifier}} {{memory.first_name}} {{memory.cart.items}} {{channel}} {{fields.city}} {{task}}").unwrap(),
            "+15550100 Val 2 sms Paris greet"
        );
        assert_eq!(
            render("Hi {{ memory.missing }}{{ memory.a.b }}!").unwrap(),
            "Hi !"
        );
        assert_eq!(
            render("{% if memory.first_name %}yes{% endif %}").unwrap(),
            "yes"
        );
        assert_eq!(render("<b>{{ '<tag>' }}</b>").unwrap(), "<b><tag></b>");
    }

    #[test]
    fn kept_templates_render_each_context_and_errors_each_time() {
        /// Renders `text` with only `memory` set.
        fn render_with(
            templates: &Templates,
            text: &str,
            memory: Value,
        ) -> Result<String, TemplateError> {
            let memory = memory.as_object().cloned().unwrap();
            let context = TemplateContext {
                user_identifier: "u",
                memory: &memory,
                channel: "sms",
                fields: &[],
                task: None,
            };
            templates.render(text, context).map(Cow::into_owned)
        }
        let templates = Templates::new(2_000);
        let hi = |name: &str| render_with(&templates, "Hi {{memory.name}}", json!({"name": name}));
        assert_eq!(hi("Ann").unwrap(), "Hi Ann");
        assert_eq!(hi("Bo").unwrap(), "Hi Bo", "the kept template, new memory");
        let broken = || render_with(&templates, "{{ oops", json!({})).unwrap_err();
        let first = broken();
        assert_eq!(broken(), first, "a syntax error is not kept");
        // Past the kept number, templates still render (compiled each time).
        let full = Templates::new(2_000);
        for i in 0..KEPT_TEMPLATES + 5 {
            let text = format!("{i}:{{{{memory.n}}}}");
            let rendered = render_with(&full, &text, json!({"n": 7})).unwrap();
            assert_eq!(rendered, format!("{i}:7"));
        }
        assert_eq!(full.kept.read().unwrap().count, KEPT_TEMPLATES);
    }

    #[test]
    fn plain_text_is_borrowed_unchanged() {
        let text = "Price: {100} <say-as interpret-as='digits'>12</say-as> { { }";
        let memory = Map::new();
        let context = TemplateContext {
            user_identifier: "",
            memory: &memory,
            channel: "",
            fields: &[],
            task: None,
        };
        let rendered = Templates::new(10).render(text, context).unwrap();
        assert!(matches!(rendered, Cow::Borrowed(t) if std::ptr::eq(t, text)));
    }

    #[test]
    fn errors_and_runaway_templates_are_reported() {
        let error = render("{{ memory.first_name ").unwrap_err();
        assert!(error.to_string().starts_with("syntax error"), "{error}");
        let error = render("{% for i in range(100000) %}{{ i }}{% endfor %}").unwrap_err();
        assert!(
            error.to_string().starts_with("engine ran out of fuel"),
            "{error}"
        );
        let error = render_with_fuel("{{ 'x' * 70000 }}", 1_000_000).unwrap_err();
        assert_eq!(
            error.to_string(),
            "the rendered text is 70000 bytes; the limit is 65536 bytes"
        );
    }
}
