//! The CI server, the pipeline and the build report, through Octane's public REST API.
//!
//! Lookups come before creates, and a create that fails because a parallel job created the same
//! entity first is followed by a second lookup, so concurrent runs register one entity.

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use ureq::http::Method;

use super::query::{collection_url, literal};
use super::session::{Body, Session};
use crate::ci::BuildContext;
use crate::target::Target;

/// An entity id and whether this run created it.
#[derive(Debug)]
pub(crate) struct Ensured {
    pub(crate) id: String,
    pub(crate) created: bool,
}

/// The ids and display names that register the CI server and the pipeline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Registration {
    /// The CI server's `instance_id`.
    pub(crate) server_id: String,
    pub(crate) server_name: String,
    /// Octane's `server_type`, e.g. `github_actions`.
    pub(crate) server_type: String,
    pub(crate) server_url: Option<String>,
    /// The pipeline's root job ci id.
    pub(crate) job_id: String,
    pub(crate) pipeline_name: String,
}

impl Registration {
    pub(crate) fn from_context(context: &BuildContext) -> Registration {
        Registration {
            server_id: context.server_id.clone(),
            server_name: context.server_name.clone(),
            server_type: context.ci.server_type().to_string(),
            server_url: context.server_url.clone(),
            job_id: context.job_id.clone(),
            pipeline_name: context.pipeline_name.clone(),
        }
    }
}

/// Body of `PUT .../analytics/ci/builds`. Times are epoch milliseconds and durations
/// milliseconds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BuildReport {
    pub(crate) server_ci_id: String,
    pub(crate) job_ci_id: String,
    pub(crate) build_ci_id: String,
    pub(crate) build_name: String,
    pub(crate) start_time: i64,
    pub(crate) duration: u64,
    /// Always `finished`: the tool reports builds that have ended.
    pub(crate) status: String,
    pub(crate) result: String,
}

fn server_lookup_url(target: &Target, registration: &Registration) -> String {
    let query = format!("instance_id EQ {}", literal(&registration.server_id));
    collection_url(&target.api(), "ci_servers", "id,instance_id,name", &query)
}

fn server_create_body(registration: &Registration) -> Value {
    let mut server = json!({
        "name": registration.server_name,
        "instance_id": registration.server_id,
        "server_type": registration.server_type,
    });
    if let Some(url) = &registration.server_url {
        server["url"] = json!(url);
    }
    json!({ "data": [server] })
}

fn pipeline_lookup_url(
    target: &Target,
    registration: &Registration,
    server_entity_id: &str,
) -> String {
    let query = format!(
        "root_job EQ {{ci_id EQ {}}};ci_server EQ {{id EQ {}}}",
        literal(&registration.job_id),
        literal(server_entity_id)
    );
    collection_url(&target.api(), "pipelines", "id,name", &query)
}

fn pipeline_create_body(registration: &Registration) -> Value {
    json!({ "data": [{
        "name": registration.pipeline_name,
        "server_ci_id": registration.server_id,
        "root_job_ci_id": registration.job_id,
        "jobs": [{ "jobCiId": registration.job_id, "name": registration.pipeline_name }],
    }]})
}

/// Returns the id of the first entity in a collection response, if any.
fn first_id(body: &str, what: &str) -> anyhow::Result<Option<String>> {
    let value: Value = serde_json::from_str(body)
        .with_context(|| format!("invalid JSON in the {what} response"))?;
    let Some(data) = value.get("data").and_then(Value::as_array) else {
        bail!("the {what} response has no `data` list");
    };
    let Some(first) = data.first() else {
        return Ok(None);
    };
    let id = match first.get("id") {
        Some(Value::String(id)) => id.clone(),
        Some(Value::Number(id)) => id.to_string(),
        _ => bail!("the {what} response has an entity without an `id`"),
    };
    // Octane entity ids are numbers. Anything else is not echoed: it ends up in step outputs,
    // links and the summary.
    if id.is_empty() || id.len() > 20 || !id.bytes().all(|b| b.is_ascii_digit()) {
        bail!("the {what} response has an entity id that is not a number");
    }
    Ok(Some(id))
}

/// Finds the CI server by `instance_id`, creating it when missing.
pub(crate) fn ensure_server(
    session: &mut Session,
    target: &Target,
    registration: &Registration,
) -> anyhow::Result<Ensured> {
    let lookup = server_lookup_url(target, registration);
    let reply = session.send_ok(Method::GET, &lookup, &Body::Empty)?;
    if let Some(id) = first_id(&reply.body, "CI server lookup")? {
        return Ok(Ensured { id, created: false });
    }

    let create = format!("{}/ci_servers", target.api());
    let reply = session.send(
        Method::POST,
        &create,
        &Body::Json(&server_create_body(registration)),
    )?;
    if (200..300).contains(&reply.status) {
        let id = first_id(&reply.body, "CI server create")?
            .context("the CI server create response lists no entity")?;
        return Ok(Ensured { id, created: true });
    }
    let error = session.error(&Method::POST, &create, &reply);
    if error.is_conflict() {
        // Another job created it between our lookup and our create.
        let reply = session.send_ok(Method::GET, &lookup, &Body::Empty)?;
        if let Some(id) = first_id(&reply.body, "CI server lookup")? {
            return Ok(Ensured { id, created: false });
        }
    }
    Err(error).context(format!(
        "cannot register the CI server `{}`",
        registration.server_id
    ))
}

/// Finds the pipeline by its root job on the server, creating it when missing.
pub(crate) fn ensure_pipeline(
    session: &mut Session,
    target: &Target,
    registration: &Registration,
    server_entity_id: &str,
) -> anyhow::Result<Ensured> {
    let lookup = pipeline_lookup_url(target, registration, server_entity_id);
    let reply = session.send_ok(Method::GET, &lookup, &Body::Empty)?;
    if let Some(id) = first_id(&reply.body, "pipeline lookup")? {
        return Ok(Ensured { id, created: false });
    }

    let create = format!("{}/pipelines", target.api());
    let reply = session.send(
        Method::POST,
        &create,
        &Body::Json(&pipeline_create_body(registration)),
    )?;
    if (200..300).contains(&reply.status) {
        let id = first_id(&reply.body, "pipeline create")?
            .context("the pipeline create response lists no entity")?;
        return Ok(Ensured { id, created: true });
    }
    let error = session.error(&Method::POST, &create, &reply);
    if !error.is_conflict() {
        return Err(error).context(format!(
            "cannot create the pipeline `{}`",
            registration.pipeline_name
        ));
    }
    // A parallel job may have created this pipeline; otherwise the name belongs to another one.
    let reply = session.send_ok(Method::GET, &lookup, &Body::Empty)?;
    if let Some(id) = first_id(&reply.body, "pipeline lookup")? {
        return Ok(Ensured { id, created: false });
    }
    Err(error).context(format!(
        "cannot create the pipeline: the name `{}` is already used by another pipeline in this \
         shared space; set `pipeline_name` to a unique name",
        registration.pipeline_name
    ))
}

/// Sends the build report.
pub(crate) fn report_build(
    session: &mut Session,
    target: &Target,
    report: &BuildReport,
) -> anyhow::Result<()> {
    let url = format!("{}/analytics/ci/builds", target.api());
    let body = serde_json::to_value(report).context("cannot encode the build report")?;
    session
        .send_ok(Method::PUT, &url, &Body::Json(&body))
        .context("cannot report the build")?;
    Ok(())
}

/// A request that a real run would send, for `dry_run`.
pub(crate) struct PlannedRequest {
    pub(crate) method: &'static str,
    pub(crate) url: String,
    pub(crate) body: Option<Value>,
    pub(crate) note: Option<&'static str>,
}

/// Lists the requests of a run, with the client secret redacted.
pub(crate) fn plan(
    target: &Target,
    registration: &Registration,
    client_id: &str,
    report: &BuildReport,
) -> Vec<PlannedRequest> {
    let server_placeholder = "SERVER_ID";
    vec![
        PlannedRequest {
            method: "POST",
            url: format!("{}/authentication/sign_in", target.base),
            body: Some(json!({"client_id": client_id, "client_secret": "(redacted)"})),
            note: None,
        },
        PlannedRequest {
            method: "GET",
            url: server_lookup_url(target, registration),
            body: None,
            note: None,
        },
        PlannedRequest {
            method: "POST",
            url: format!("{}/ci_servers", target.api()),
            body: Some(server_create_body(registration)),
            note: Some("only when the lookup finds no CI server"),
        },
        PlannedRequest {
            method: "GET",
            url: pipeline_lookup_url(target, registration, server_placeholder),
            body: None,
            note: Some("SERVER_ID is the id the CI server lookup returns"),
        },
        PlannedRequest {
            method: "POST",
            url: format!("{}/pipelines", target.api()),
            body: Some(pipeline_create_body(registration)),
            note: Some("only when the lookup finds no pipeline"),
        },
        PlannedRequest {
            method: "PUT",
            url: format!("{}/analytics/ci/builds", target.api()),
            body: serde_json::to_value(report).ok(),
            note: None,
        },
        PlannedRequest {
            method: "POST",
            url: format!("{}/authentication/sign_out", target.base),
            body: None,
            note: None,
        },
    ]
}
