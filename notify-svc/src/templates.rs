//! The template use cases: manage templates by code and culture, list the codes
//! with their macros, and render previews. Rules come from `domain`, rows from
//! `storage`.

use std::collections::HashMap;

use service_kit::clock::Clock;

use crate::{
    domain::{
        NotifyError,
        catalog::{self, CodeSpec},
        culture::{self, DEFAULT_CULTURE},
        links,
        template::{self, TemplateText},
    },
    storage::{NewTemplate, Store, TemplateFilter, TemplateRow},
};

/// What a caller asks to create.
#[derive(Debug, Clone)]
pub struct TemplateDraftInput {
    pub code: String,
    pub culture: String,
    pub base_code: String,
    pub text: TemplateText,
}

/// Which fields an update changes.
#[derive(Debug, Clone, Copy, Default)]
pub struct UpdateFields {
    pub subject: bool,
    pub body_text: bool,
    pub body_html: bool,
}

/// A template code with its macros and cultures.
#[derive(Debug, Clone)]
pub struct CodeInfo {
    pub code: String,
    pub built_in: bool,
    pub spec: &'static CodeSpec,
    pub cultures: Vec<String>,
}

/// What to preview.
#[derive(Debug, Clone)]
pub enum RenderSource {
    Saved(String),
    Selector { code: String, culture: String },
    Draft { code: String, text: TemplateText },
}

/// A preview.
#[derive(Debug, Clone)]
pub struct Preview {
    pub rendered: template::Rendered,
    pub template_id: String,
    pub culture: String,
    pub sample_macros: Vec<String>,
    pub missing_macros: Vec<String>,
    pub unknown_macros: Vec<String>,
}

/// Templates and their rules.
#[derive(Debug, Clone)]
pub struct Templates {
    store: Store,
    clock: Clock,
    /// The public base URL (no trailing `/`) that a template's links must lead to.
    public_base_url: String,
}

/// The request field of a template field, for violations.
fn template_field(field: &'static str) -> &'static str {
    match field {
        "subject" => "template.subject",
        "body_text" => "template.body_text",
        "body_html" => "template.body_html",
        "code" => "template.code",
        "culture" => "template.culture",
        _ => "template.base_code",
    }
}

fn check_shape(text: &TemplateText) -> Result<(), NotifyError> {
    let problems: Vec<_> =
        text.check_shape().into_iter().map(|(field, problem)| (template_field(field), problem)).collect();
    if problems.is_empty() { Ok(()) } else { Err(NotifyError::Invalid(problems)) }
}

/// Parses an etag; the empty one matches any version.
fn expected_version(etag: &str) -> Result<Option<i64>, NotifyError> {
    if etag.is_empty() {
        return Ok(None);
    }
    etag.parse().map(Some).map_err(|_| NotifyError::StaleEtag)
}

impl Templates {
    pub fn new(store: Store, clock: Clock, public_base_url: &str) -> Self {
        Self { store, clock, public_base_url: public_base_url.trim_end_matches('/').to_owned() }
    }

    /// The text as saved: its macros for `spec`, and its links (see `domain::links`).
    fn check_saved(&self, text: &TemplateText, spec: &CodeSpec) -> Result<(), NotifyError> {
        text.validate(spec)?;
        for (field, part, html) in [
            ("subject", &text.subject, false),
            ("body_text", &text.body_text, false),
            ("body_html", &text.body_html, true),
        ] {
            if let Some(link) = links::foreign_link(part, &self.public_base_url, html) {
                return Err(NotifyError::ForeignLink { link, field, base_url: self.public_base_url.clone() });
            }
        }
        Ok(())
    }

    /// The rules of a code: a built-in code's own, or those of a custom code's base code.
    /// `None` for a custom code without templates.
    pub async fn spec_for(&self, code: &str) -> Result<Option<&'static CodeSpec>, NotifyError> {
        if let Some(spec) = catalog::built_in(code) {
            return Ok(Some(spec));
        }
        Ok(self.store.base_code_of(code).await?.and_then(|base| catalog::built_in(&base)))
    }

    pub async fn get(&self, id: &str) -> Result<TemplateRow, NotifyError> {
        self.store.template(id).await?.ok_or_else(|| NotifyError::TemplateIdNotFound(id.to_owned()))
    }

    pub async fn list(&self, filter: &TemplateFilter) -> Result<Vec<TemplateRow>, NotifyError> {
        self.store.templates(filter).await
    }

    pub async fn create(
        &self,
        input: TemplateDraftInput,
        request_id: Option<&str>,
        actor: &str,
    ) -> Result<TemplateRow, NotifyError> {
        if let Some(request_id) = request_id
            && let Some(earlier) = self.store.template_by_request(request_id).await?
        {
            return Ok(earlier);
        }
        let mut problems = Vec::new();
        if let Err(problem) = template::check_code(&input.code) {
            problems.push(("template.code", problem));
        }
        let culture =
            culture::canonical(&input.culture).map_err(|problem| problems.push(("template.culture", problem))).ok();
        if let Err(NotifyError::Invalid(shape)) = check_shape(&input.text) {
            problems.extend(shape);
        }
        if !problems.is_empty() {
            return Err(NotifyError::Invalid(problems));
        }
        let culture = culture.unwrap_or_default();
        let base_code = input.base_code.trim();
        let spec = if let Some(spec) = catalog::built_in(&input.code) {
            if !base_code.is_empty() && base_code != spec.code {
                return Err(NotifyError::invalid(
                    "template.base_code",
                    format!("must be empty or '{}' for this built-in code", spec.code),
                ));
            }
            spec
        } else if let Some(existing) = self.store.base_code_of(&input.code).await? {
            if !base_code.is_empty() && base_code != existing {
                return Err(NotifyError::invalid(
                    "template.base_code",
                    format!("must be empty or '{existing}', as in the code's other templates"),
                ));
            }
            catalog::built_in(&existing)
                .ok_or_else(|| NotifyError::invalid("template.base_code", "names no built-in code"))?
        } else {
            if base_code.is_empty() {
                return Err(NotifyError::invalid(
                    "template.base_code",
                    "is required for a custom code's first template: name the built-in code whose macros it uses",
                ));
            }
            let spec = catalog::built_in(base_code).ok_or_else(|| {
                NotifyError::invalid(
                    "template.base_code",
                    format!("'{base_code}' is not a built-in code; ListTemplateCodes lists them"),
                )
            })?;
            if culture != DEFAULT_CULTURE {
                return Err(NotifyError::invalid(
                    "template.culture",
                    "a custom code's first template must be en-US, the culture every code keeps",
                ));
            }
            spec
        };
        self.check_saved(&input.text, spec)?;
        self.store
            .insert_template(
                NewTemplate { code: &input.code, culture: &culture, base_code: spec.code, text: &input.text },
                request_id,
                actor,
                self.clock.now(),
            )
            .await?
            .ok_or(NotifyError::TemplateExists { code: input.code, culture })
    }

    pub async fn update(
        &self,
        id: &str,
        etag: &str,
        fields: UpdateFields,
        values: TemplateText,
        actor: &str,
    ) -> Result<TemplateRow, NotifyError> {
        let before = self.get(id).await?;
        if let Some(version) = expected_version(etag)?
            && version != before.version
        {
            return Err(NotifyError::StaleEtag);
        }
        let mut text = before.text();
        if fields.subject {
            text.subject = values.subject;
        }
        if fields.body_text {
            text.body_text = values.body_text;
        }
        if fields.body_html {
            text.body_html = values.body_html;
        }
        check_shape(&text)?;
        let spec = catalog::built_in(&before.base_code)
            .ok_or_else(|| NotifyError::invalid("template.base_code", "names no built-in code"))?;
        self.check_saved(&text, spec)?;
        self.store.update_template(&before, &text, actor, self.clock.now()).await?.ok_or(NotifyError::StaleEtag)
    }

    pub async fn delete(&self, id: &str, etag: &str, actor: &str) -> Result<(), NotifyError> {
        let before = self.get(id).await?;
        if let Some(version) = expected_version(etag)?
            && version != before.version
        {
            return Err(NotifyError::StaleEtag);
        }
        if before.culture == DEFAULT_CULTURE {
            if catalog::built_in(&before.code).is_some() {
                return Err(NotifyError::DefaultCultureRequired(format!(
                    "'{}' is a built-in code and keeps its en-US template: update it instead of deleting it",
                    before.code
                )));
            }
            let others = self
                .store
                .templates(&TemplateFilter { code: Some(before.code.clone()), limit: 2, ..TemplateFilter::default() })
                .await?;
            if others.len() > 1 {
                return Err(NotifyError::DefaultCultureRequired(format!(
                    "'{}' still has templates in other cultures, which fall back to en-US: delete them first",
                    before.code
                )));
            }
        }
        if self.store.delete_template(&before, actor, self.clock.now()).await? {
            Ok(())
        } else {
            Err(NotifyError::StaleEtag)
        }
    }

    /// Every code: built-in ones first, then custom ones, each ordered by code.
    pub async fn codes(&self) -> Result<Vec<CodeInfo>, NotifyError> {
        let rows = self.store.template_cultures().await?;
        let cultures_of = |code: &str| -> Vec<String> {
            rows.iter().filter(|(c, _, _)| c == code).map(|(_, _, culture)| culture.clone()).collect()
        };
        let mut codes: Vec<CodeInfo> = catalog::BUILT_IN
            .iter()
            .map(|spec| CodeInfo { code: spec.code.to_owned(), built_in: true, spec, cultures: cultures_of(spec.code) })
            .collect();
        let mut custom: Vec<(&String, &String)> = rows
            .iter()
            .filter(|(code, _, _)| catalog::built_in(code).is_none())
            .map(|(code, base, _)| (code, base))
            .collect();
        custom.dedup();
        for (code, base) in custom {
            if let Some(spec) = catalog::built_in(base) {
                codes.push(CodeInfo { code: code.clone(), built_in: false, spec, cultures: cultures_of(code) });
            }
        }
        Ok(codes)
    }

    /// The code `code` if Enqueue can send it: it has a template in the default culture,
    /// the one every culture falls back to.
    pub async fn sendable_code(&self, code: &str) -> Result<CodeInfo, NotifyError> {
        self.codes()
            .await?
            .into_iter()
            .find(|info| info.code == code && info.cultures.iter().any(|c| c == DEFAULT_CULTURE))
            .ok_or_else(|| NotifyError::TemplateNotFound { code: code.to_owned(), culture: DEFAULT_CULTURE.to_owned() })
    }

    /// Renders a saved template or a draft for a preview; macros without a value get
    /// their sample value.
    pub async fn render(&self, source: RenderSource, values: &HashMap<String, String>) -> Result<Preview, NotifyError> {
        let values: HashMap<String, String> =
            values.iter().map(|(k, v)| (k.trim_matches('#').to_owned(), v.clone())).collect();
        let (text, spec, template_id, culture, draft) = match source {
            RenderSource::Saved(id) => {
                let row = self.get(&id).await?;
                let spec = catalog::built_in(&row.base_code)
                    .ok_or_else(|| NotifyError::invalid("template_id", "the template's base code is unknown"))?;
                (row.text(), spec, row.id, row.culture, false)
            }
            RenderSource::Selector { code, culture } => {
                let wanted = if culture.trim().is_empty() {
                    DEFAULT_CULTURE.to_owned()
                } else {
                    culture::canonical(&culture).map_err(|p| NotifyError::invalid("selector.culture", p))?
                };
                let not_found = || NotifyError::TemplateNotFound { code: code.clone(), culture: wanted.clone() };
                let spec = self.spec_for(&code).await?.ok_or_else(not_found)?;
                let row =
                    self.store.template_in(&code, &culture::fallback_chain(&wanted)).await?.ok_or_else(not_found)?;
                (row.text(), spec, row.id, row.culture, false)
            }
            RenderSource::Draft { code, text } => {
                let spec = self.spec_for(&code).await?.ok_or_else(|| {
                    NotifyError::invalid(
                        "draft.code",
                        format!("'{code}' is neither a built-in code nor a custom code with templates"),
                    )
                })?;
                let too_long: Vec<_> = text
                    .check_shape()
                    .into_iter()
                    .filter(|(_, problem)| problem.starts_with("must be at most"))
                    .map(|(field, problem)| {
                        let field = match field {
                            "subject" => "draft.subject",
                            "body_text" => "draft.body_text",
                            _ => "draft.body_html",
                        };
                        (field, problem)
                    })
                    .collect();
                if !too_long.is_empty() {
                    return Err(NotifyError::Invalid(too_long));
                }
                (text, spec, String::new(), String::new(), true)
            }
        };
        let mut filled = values.clone();
        let mut sample_macros = Vec::new();
        for name in template::unfilled(&text, spec, &values) {
            if let Some(spec_macro) = spec.macro_named(&name) {
                filled.insert(name.clone(), spec_macro.sample.to_owned());
                sample_macros.push(format!("#{name}#"));
            }
        }
        let (mut missing_macros, mut unknown_macros) = (Vec::new(), Vec::new());
        if draft {
            let report = text.check_macros(spec);
            for (name, _) in report.missing {
                if !missing_macros.contains(&name) {
                    missing_macros.push(name);
                }
            }
            for (name, _) in report.unknown {
                if !unknown_macros.contains(&name) {
                    unknown_macros.push(name);
                }
            }
        }
        Ok(Preview {
            rendered: text.render(spec, &filled),
            template_id,
            culture,
            sample_macros,
            missing_macros,
            unknown_macros,
        })
    }
}
