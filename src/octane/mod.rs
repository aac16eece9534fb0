//! The Octane REST API: the signed-in session and the CI entities.

mod entities;
mod error;
mod query;
mod session;

pub(crate) use entities::{
    BuildReport, Ensured, ensure_pipeline, ensure_server, plan, report_build,
};
pub(crate) use session::{Session, USER_AGENT, http_agent};
