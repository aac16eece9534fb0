//! Feeds arbitrary bytes as an `--env-file` to the environment reader, the settings loader and
//! the `url` parser.
//!
//! Every input must load or fail without a panic, and no error message may quote the client
//! secret, which the target sets before the fuzzed lines (they may replace it).

#![no_main]

#[allow(dead_code)]
#[path = "../../src/build_result.rs"]
mod build_result;
#[allow(dead_code)]
#[path = "../../src/env.rs"]
mod env;
#[allow(dead_code)]
#[path = "../../src/log.rs"]
mod log;
#[allow(dead_code)]
#[path = "../../src/settings.rs"]
mod settings;
#[allow(dead_code)]
#[path = "../../src/target.rs"]
mod target;
#[allow(dead_code)]
#[path = "../../src/time.rs"]
mod time;

use std::io::Write;
use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

const SECRET: &str = "Fz9-fuzz-client-secret-marker";

fn env_file_path() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        std::env::temp_dir().join(format!("octane-report-fuzz-{}.env", std::process::id()))
    })
}

fuzz_target!(|data: &[u8]| {
    let path = env_file_path();
    let mut file = std::fs::File::create(path).expect("create the env file");
    writeln!(file, "OCTANE_CLIENT_SECRET={SECRET}").expect("write the env file");
    file.write_all(data).expect("write the env file");
    drop(file);

    let mut env = env::Env::default();
    if let Err(error) = env.overlay_file(path) {
        let _ = format!("{error:#}");
        return;
    }
    let secret_in_input = data.windows(SECRET.len()).any(|w| w == SECRET.as_bytes());
    let loaded = settings::Settings::load(&env);
    let settings = match loaded {
        Ok(settings) => settings,
        Err(error) => {
            let message = format!("{error:#}");
            assert!(
                secret_in_input || !message.contains(SECRET),
                "secret in error: {message}"
            );
            return;
        }
    };
    assert!(!format!("{settings:?}").contains(SECRET), "secret in Debug");
    if let Some(url) = &settings.url {
        let result = target::parse_target(
            url,
            settings.shared_space.as_deref(),
            settings.workspace.as_deref(),
        );
        if let Err(error) = result {
            let message = format!("{error:#}");
            assert!(
                secret_in_input || !message.contains(SECRET),
                "secret in error: {message}"
            );
        }
    }
});
