//! The Octane REST API: the signed-in session, the CI entities and test-result uploads.

mod entities;
mod error;
mod query;
mod retry;
mod session;
mod test_results;

pub(crate) use entities::{
    BuildReport, Ensured, Registration, ensure_pipeline, ensure_server, plan, report_build,
};
pub(crate) use error::OctaneError;
pub(crate) use retry::RetryPolicy;
pub(crate) use session::{Session, USER_AGENT};
pub(crate) use test_results::{TaskOutcome, upload_test_results};
