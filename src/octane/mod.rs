//! The Octane REST API: the signed-in session, the CI entities and test-result uploads.

mod entities;
mod error;
mod query;
mod session;
mod test_results;

pub(crate) use entities::{
    BuildReport, Ensured, ensure_pipeline, ensure_server, plan, report_build,
};
pub(crate) use session::{Session, USER_AGENT, http_agent};
pub(crate) use test_results::{TaskOutcome, upload_test_results};
