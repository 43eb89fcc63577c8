//! What compute devices this build of dtac can use: CUDA only with the `cuda` feature
//! (through cudarc, loading the driver at run time, so building needs no CUDA toolkit).

/// Whether this binary was built with CUDA support.
pub const CUDA_BUILT: bool = cfg!(feature = "cuda");

/// The number of CUDA devices the driver reports, or `None` when this build has no CUDA
/// support or the machine has no usable driver.
#[cfg(feature = "cuda")]
pub fn cuda_device_count() -> Option<usize> {
    use std::sync::OnceLock;
    static COUNT: OnceLock<Option<usize>> = OnceLock::new();
    *COUNT.get_or_init(|| {
        // cudarc panics when the driver library cannot be loaded; on a machine without a
        // GPU that is an answer ("none"), not a crash. Silence the default hook meanwhile
        // so the user does not see a panic message for it.
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let count = std::panic::catch_unwind(cudarc::driver::CudaContext::device_count);
        std::panic::set_hook(hook);
        match count {
            Ok(Ok(n)) => usize::try_from(n).ok(),
            _ => None,
        }
    })
}

/// The number of CUDA devices the driver reports, or `None` when this build has no CUDA
/// support or the machine has no usable driver.
#[cfg(not(feature = "cuda"))]
pub fn cuda_device_count() -> Option<usize> {
    None
}
