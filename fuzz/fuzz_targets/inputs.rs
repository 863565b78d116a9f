//! Input parsing: any INPUT_* values and flags give a configuration or an
//! error, never a panic.
#![no_main]

use ecs_deploy::config::Config;
use ecs_deploy::env::Env;
use ecs_deploy::inputs::{self, env_var_name, Invocation, INPUTS};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Each chunk between NUL bytes is the value of the next input in the
    // table; what is left over becomes command-line arguments.
    let mut chunks = text.split('\0');
    let env = Env::from_pairs(INPUTS.iter().zip(chunks.by_ref()).map(|(spec, value)| (env_var_name(spec.name), value.to_owned())));
    let args: Vec<String> = chunks.map(str::to_owned).collect();
    if let Ok(Invocation::Run(raw)) = inputs::read(&env, &args) {
        let _ = Config::from_inputs(&raw, &env);
    }
});
