//! `actlog-cmk demo`: the sample estate in the built-in emulator, remediated
//! by the real commands (the work lives in `crate::demo`).

use crate::cli::DemoArgs;
use crate::demo::{self, DemoOptions};

pub async fn run(args: DemoArgs) -> anyhow::Result<u8> {
    demo::run(&DemoOptions {
        keep_running: args.keep_running,
        before_apply: args.before_apply,
        cloud: args.cloud,
    })
    .await
}
