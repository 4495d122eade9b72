//! Reading settings, shared by every reader of the environment (`config/`, and `identity.rs` for the `IDENTITY_*`
//! keys), so a number is read and refused the same way everywhere.

use std::ffi::OsString;

use clap::{Args, Command, FromArgMatches};

/// Settings `T` (clap fields with `env`) from the process environment.
pub fn from_env<T: Args + FromArgMatches>() -> Result<T, clap::Error> {
    let command = T::augment_args(Command::new("flexdesk-auth"));
    T::from_arg_matches(&command.try_get_matches_from(["flexdesk-auth"])?)
}

/// Settings `T` from any name → value lookup instead of the process environment (the tests pass a map): each value
/// is handed to clap as its `--flag=value`, and the process environment is not read.
pub fn from_lookup<T: Args + FromArgMatches>(lookup: impl Fn(&str) -> Option<String>) -> Result<T, clap::Error> {
    let command = T::augment_args(Command::new("flexdesk-auth"));
    let mut argv = vec![OsString::from("flexdesk-auth")];
    for arg in command.get_arguments() {
        let (Some(name), Some(long)) = (arg.get_env().and_then(|n| n.to_str()), arg.get_long()) else { continue };
        if let Some(value) = lookup(name) {
            argv.push(format!("--{long}={value}").into());
        }
    }
    let command = command.mut_args(|arg| arg.env(None::<&str>));
    T::from_arg_matches(&command.try_get_matches_from(argv)?)
}

/// A whole number in `min..=max`, or why not (the operator's message, naming the value).
pub fn whole_number(value: &str, min: u64, max: u64) -> Result<u64, String> {
    match value.parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(format!("must be a whole number from {min} to {max}, got {value:?}")),
    }
}
