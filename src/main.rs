use ecs_deploy::env::Env;

#[tokio::main]
async fn main() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let code = ecs_deploy::pipeline::run(&Env::from_process(), &args).await;
    std::process::exit(code);
}
