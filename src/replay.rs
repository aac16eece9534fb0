//! `octane-report replay DIR`: sends the reports that failed runs kept in the spool.
//!
//! Credentials always come from the current settings. The Octane address comes from the `url`
//! setting when it is set, else from each entry. Each delivered entry is removed; the others
//! stay for a later replay. Sending an entry twice is safe, because the same server, job and
//! build ids update the same build in Octane.

use std::path::Path;

use crate::delivery::{self, Job};
use crate::env::Env;
use crate::log::Log;
use crate::net::Network;
use crate::octane::{RetryPolicy, Session};
use crate::report::{InvalidInput, Outcome};
use crate::settings::Settings;
use crate::spool;
use crate::target::{Target, parse_target};

/// Replays every entry of `dir`, or `dir` itself when it is one entry.
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
    let current_target = match &settings.url {
        Some(url) => Some(
            parse_target(
                url,
                settings.shared_space.as_deref(),
                settings.workspace.as_deref(),
            )
            .map_err(InvalidInput)?,
        ),
        None => None,
    };
    let network = Network::from_env(env, &settings, log).map_err(InvalidInput)?;
    let entries = spool::list(dir).map_err(InvalidInput)?;
    if entries.is_empty() {
        log.info(&format!(
            "nothing to replay: `{}` contains no spool entries",
            dir.display()
        ));
        return Ok(Outcome::Done);
    }

    let policy = RetryPolicy::from_env(env);
    let mut failed = 0;
    for entry_dir in &entries {
        let result = replay_entry(
            entry_dir,
            current_target.as_ref(),
            &network,
            (&client_id, &client_secret),
            &settings,
            &policy,
            log,
        );
        match result {
            Ok(()) => match std::fs::remove_dir_all(entry_dir) {
                Ok(()) => log.info(&format!("delivered and removed {}", entry_dir.display())),
                Err(e) => log.warn(&format!(
                    "delivered {}, but cannot remove it: {e}; remove it before the next replay",
                    entry_dir.display()
                )),
            },
            Err(e) => {
                failed += 1;
                log.error(&format!(
                    "replay of {} failed, so it is kept: {e:#}",
                    entry_dir.display()
                ));
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

/// Delivers one entry in its own session, within the `timeout` setting.
fn replay_entry(
    entry_dir: &Path,
    current_target: Option<&Target>,
    network: &Network,
    (client_id, client_secret): (&str, &crate::settings::Secret),
    settings: &Settings,
    policy: &RetryPolicy,
    log: &Log,
) -> anyhow::Result<()> {
    let entry = spool::read(entry_dir)?;
    let target = current_target.cloned().unwrap_or_else(|| entry.target());
    log.info(&format!(
        "replaying build {} of job {} (saved {}) to {}",
        entry.build.build_ci_id,
        entry.build.job_ci_id,
        entry.created_at,
        target.host()
    ));
    let payloads: Vec<_> = entry
        .test_results
        .iter()
        .map(|file| entry_dir.join(file))
        .collect();
    let agent = network.agent_for(&target.base, log)?;
    let mut session = Session::new(
        agent,
        &target,
        client_id,
        client_secret,
        settings.timeout,
        policy.clone(),
        log,
    );
    let job = Job {
        target: &target,
        registration: &entry.registration,
        report: &entry.build,
        test_payloads: &payloads,
        test_counts: &[],
    };
    delivery::deliver(&mut session, &job, log)?;
    Ok(())
}
