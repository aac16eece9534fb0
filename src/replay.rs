//! `octane-report replay DIR`: sends the reports that failed runs kept in the spool.
//!
//! Credentials and the Octane address always come from the current settings: an entry's saved
//! address is checked and compared, but never receives the credentials, because a spool that
//! travels as a build artifact may have been written or edited by a less trusted job. Each
//! delivered entry is removed; the others stay for a later replay. Sending an entry twice is
//! safe, because the same server, job and build ids update the same build in Octane.

use std::path::Path;
use std::time::Instant;

use anyhow::Context;

use crate::delivery::{self, Job};
use crate::env::Env;
use crate::log::Log;
use crate::net::Network;
use crate::octane::{OctaneError, RetryPolicy, Session};
use crate::report::{InvalidInput, Outcome};
use crate::settings::{Secret, Settings};
use crate::spool::{self, Entry};
use crate::target::{Target, check_id, parse_target};

/// Replays every entry of the spool directory `dir`.
pub(crate) fn run(env: &Env, dir: &Path, log: &mut Log) -> Result<Outcome, InvalidInput> {
    let settings = Settings::load(env).map_err(InvalidInput)?;
    if let Some(secret) = &settings.client_secret {
        log.add_secret(secret.expose());
    }
    let (client_id, client_secret) = match (&settings.client_id, &settings.client_secret) {
        (None, None) => {
            log.warn(&format!(
                "no credentials: `client_id` and `client_secret` are empty, so nothing was \
                 replayed and `{}` is kept",
                dir.display()
            ));
            return Ok(Outcome::Done);
        }
        (Some(_), None) => {
            return Err(InvalidInput(anyhow::anyhow!(
                "missing `client_secret`: `client_id` is set, set both"
            )));
        }
        (None, Some(_)) => {
            return Err(InvalidInput(anyhow::anyhow!(
                "missing `client_id`: `client_secret` is set, set both"
            )));
        }
        (Some(id), Some(secret)) => (id.clone(), secret.clone()),
    };
    let Some(url) = &settings.url else {
        return Err(InvalidInput(anyhow::anyhow!(
            "missing `url`: replay sends the saved reports only to the Octane server in `url`, \
             never to the address saved in an entry; set it as for the report, e.g. \
             OCTANE_URL=https://HOST/ui/?p=SHARED_SPACE/WORKSPACE"
        )));
    };
    let target = parse_target(
        url,
        settings.shared_space.as_deref(),
        settings.workspace.as_deref(),
    )
    .map_err(InvalidInput)?;
    if target.plain_http {
        log.warn(&format!(
            "`url` uses http://, so the session cookie crosses the network unencrypted to {}",
            target.host()
        ));
    }
    let network = Network::from_env(env, &settings, log).map_err(InvalidInput)?;
    let listing = spool::list(dir).map_err(InvalidInput)?;
    for partial in &listing.partial {
        log.warn(&format!(
            "`{}` is an incomplete spool entry (a run stopped or failed while writing it), so \
             it is not replayed; remove it once no run is writing to `{}`",
            partial.display(),
            dir.display()
        ));
    }
    let entries = &listing.entries;
    if entries.is_empty() {
        log.info(&format!(
            "nothing to replay: `{}` contains no spool entries",
            dir.display()
        ));
        return Ok(Outcome::Done);
    }

    log.info(&format!(
        "replaying {} entries to {} (from `url`)",
        entries.len(),
        target.api()
    ));
    let replay = Replay {
        target: &target,
        network: &network,
        client_id: &client_id,
        client_secret: &client_secret,
        settings: &settings,
        policy: RetryPolicy::from_env(env),
        deadline: Instant::now() + settings.timeout,
    };
    let mut failed = 0;
    for (index, entry_dir) in entries.iter().enumerate() {
        let remaining = entries.len() - index;
        if Instant::now() >= replay.deadline {
            log.error(&format!(
                "the `timeout` of {} s for the whole replay ran out, so the remaining {remaining} \
                 entries were not tried and are kept",
                settings.timeout.as_secs()
            ));
            failed += remaining;
            break;
        }
        match replay.entry(entry_dir, log) {
            Ok(entry) => remove_delivered(entry_dir, &entry, log),
            Err(e) => {
                failed += 1;
                log.error(&format!(
                    "replay of {} failed, so it is kept: {e:#}",
                    entry_dir.display()
                ));
                if sign_in_rejected(&e) && remaining > 1 {
                    log.error(&format!(
                        "stopping, because Octane rejected the sign-in: the remaining {} \
                         entries were not tried and are kept",
                        remaining - 1
                    ));
                    failed += remaining - 1;
                    break;
                }
            }
        }
    }
    log.info(&format!(
        "replay: {} of {} entries delivered",
        entries.len() - failed,
        entries.len()
    ));
    if failed == 0 {
        Ok(Outcome::Done)
    } else {
        Ok(Outcome::DeliveryFailed {
            fail_on_error: settings.fail_on_error,
        })
    }
}

/// The session, deadline and settings shared by every entry of one replay.
struct Replay<'a> {
    target: &'a Target,
    network: &'a Network,
    client_id: &'a str,
    client_secret: &'a Secret,
    settings: &'a Settings,
    policy: RetryPolicy,
    /// End of the `timeout` setting, counted once for the whole replay.
    deadline: Instant,
}

impl Replay<'_> {
    /// Delivers one entry in its own session and returns it.
    fn entry(&self, entry_dir: &Path, log: &Log) -> anyhow::Result<Entry> {
        let entry = spool::read(entry_dir)?;
        check_saved_address(entry_dir, &entry, self.target, log)?;
        log.info(&format!(
            "replaying build {} of job {} (saved {})",
            entry.build.build_ci_id, entry.build.job_ci_id, entry.created_at,
        ));
        let payloads: Vec<_> = entry
            .test_results
            .iter()
            .map(|file| entry_dir.join(file))
            .collect();
        let agent = self.network.agent_for(&self.target.base, log)?;
        let mut session = Session::new(
            agent,
            self.target,
            self.client_id,
            self.client_secret,
            self.settings.timeout,
            self.policy.clone(),
            log,
        );
        session.limit_deadline(self.deadline);
        let job = Job {
            target: self.target,
            registration: &entry.registration,
            report: &entry.build,
            test_payloads: &payloads,
            test_counts: &[],
        };
        delivery::deliver(&mut session, &job, &mut delivery::Found::default(), log)?;
        Ok(entry)
    }
}

/// Checks the address saved in an entry as the settings are checked, and warns when it is not
/// the `url` setting's address, which receives the entry.
fn check_saved_address(
    entry_dir: &Path,
    entry: &Entry,
    target: &Target,
    log: &Log,
) -> anyhow::Result<()> {
    let invalid = || format!("invalid spool entry `{}`", entry_dir.display());
    check_id("shared_space", &entry.shared_space).with_context(invalid)?;
    check_id("workspace", &entry.workspace).with_context(invalid)?;
    let saved = parse_target(
        &entry.url,
        Some(&entry.shared_space),
        Some(&entry.workspace),
    )
    .with_context(invalid)?;
    if saved.api() != target.api() {
        log.warn(&format!(
            "{} was saved for {}, and is sent to {} from `url`",
            entry_dir.display(),
            saved.api(),
            target.api()
        ));
    }
    Ok(())
}

/// Removes a delivered entry and logs the result.
fn remove_delivered(entry_dir: &Path, entry: &Entry, log: &Log) {
    match spool::remove(entry_dir, entry) {
        Ok(true) => log.info(&format!("delivered and removed {}", entry_dir.display())),
        Ok(false) => log.warn(&format!(
            "delivered {}, but its entry.json was already gone; another replay of the same \
             folder may have sent it too",
            entry_dir.display()
        )),
        Err(e) => log.warn(&format!(
            "delivered {}, but cannot remove it: {e:#}; remove it before the next replay",
            entry_dir.display()
        )),
    }
}

/// Tells whether an error is Octane's rejection of the credentials at sign-in, which every
/// later entry would meet too.
fn sign_in_rejected(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause.downcast_ref::<OctaneError>().is_some_and(|e| {
            matches!(e.status, 401 | 403) && e.request.contains("/authentication/sign_in")
        })
    })
}
