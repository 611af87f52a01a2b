//! The `gongzhi` binary: every command lives in [`gongzhi::cli`].
fn main() -> std::process::ExitCode {
    gongzhi::cli::main()
}
