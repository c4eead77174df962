//! What every exported call returns: the `strata_status` codes, the calling
//! thread's last error message, and [`boundary`], which runs an exported
//! function's body so that no panic unwinds into C (see `DESIGN.md`, "C
//! ABI", "Errors").

use std::any::Any;
use std::cell::RefCell;
use std::ffi::{c_char, CString};
use std::panic::{self, AssertUnwindSafe};

/// `strata_status`: one meaning per code, whatever the function (the
/// header documents each).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok = 0,
    NullArgument = 1,
    InvalidHeap = 2,
    NotAttached = 3,
    WrongThread = 4,
    AlreadyAttached = 5,
    HeapBusy = 6,
    InvalidConfig = 7,
    AbiMismatch = 8,
    InvalidType = 9,
    Blocked = 10,
    NotBlocked = 11,
    TooManyThreads = 12,
    System = 13,
    Internal = 14,
    InTransaction = 15,
    NoTransaction = 16,
    Aborted = 17,
    UnknownType = 18,
    BadSize = 19,
    TooLarge = 20,
    OutOfMemory = 21,
    RootStack = 22,
    NotARefSlot = 23,
    OtherHeap = 24,
    InvalidGlobal = 25,
    InvalidStructure = 26,
}

/// A failed call: its status and the message the last error gets. Boxed,
/// so that a call's `Result<_, Failure>` is a word or two and the
/// successful path, the common one, returns in registers.
#[derive(Debug)]
pub struct Failure(Box<FailureDetail>);

#[derive(Debug)]
struct FailureDetail {
    status: Status,
    message: String,
}

impl Failure {
    #[cold]
    pub fn new(status: Status, message: impl Into<String>) -> Failure {
        Failure(Box::new(FailureDetail {
            status,
            message: message.into(),
        }))
    }

    /// The failure of a required pointer argument that is NULL.
    pub fn null(argument: &str) -> Failure {
        Failure::new(Status::NullArgument, format!("{argument} is NULL"))
    }
}

/// Refuses `ptr`, the required pointer argument named `argument`, when it
/// is NULL.
pub fn non_null<T>(ptr: *const T, argument: &str) -> Result<(), Failure> {
    match ptr.is_null() {
        true => Err(Failure::null(argument)),
        false => Ok(()),
    }
}

/// Writes `value` to `out`, an optional output argument, unless it is
/// NULL.
///
/// # Safety
/// `out` is NULL or writable.
pub unsafe fn write_optional<T>(out: *mut T, value: T) {
    if !out.is_null() {
        // SAFETY: the caller's promise.
        unsafe { out.write(value) };
    }
}

impl From<strata_rs::HeapError> for Failure {
    fn from(e: strata_rs::HeapError) -> Failure {
        use strata_rs::HeapError;
        let status = match e {
            HeapError::Config(_) => Status::InvalidConfig,
            HeapError::Io(_) => Status::System,
            HeapError::TooManyThreads => Status::TooManyThreads,
            HeapError::AlreadyAttached => Status::AlreadyAttached,
        };
        Failure::new(status, e.to_string())
    }
}

impl From<strata_rs::Error> for Failure {
    fn from(e: strata_rs::Error) -> Failure {
        match e {
            strata_rs::Error::Heap(e) => e.into(),
            // Heap creation and attachment allocate nothing the limit
            // governs: an allocation error there is a bug.
            strata_rs::Error::Alloc(e) => Failure::new(Status::Internal, e.to_string()),
        }
    }
}

impl From<strata_rs::ManualError> for Failure {
    fn from(e: strata_rs::ManualError) -> Failure {
        use strata_rs::{AllocError, ManualError};
        let status = match &e {
            ManualError::NoTransaction => Status::NoTransaction,
            ManualError::InTransaction => Status::InTransaction,
            ManualError::Doomed => Status::Aborted,
            ManualError::Alloc(AllocError::UnknownType(_)) => Status::UnknownType,
            ManualError::Alloc(AllocError::BadSize { .. }) => Status::BadSize,
            ManualError::Alloc(AllocError::TooLarge { .. }) => Status::TooLarge,
            ManualError::Alloc(AllocError::OutOfMemory { .. }) => Status::OutOfMemory,
            ManualError::RootStack => Status::RootStack,
            ManualError::NotARefSlot { .. } => Status::NotARefSlot,
            ManualError::OtherHeap => Status::OtherHeap,
            ManualError::WrongStructure { .. } => Status::InvalidStructure,
        };
        Failure::new(status, e.to_string())
    }
}

thread_local! {
    /// The message of the calling thread's last failing call.
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

fn set_last_error(message: &str) {
    let message = CString::new(message.replace('\0', "\\0")).unwrap_or_default();
    // At thread exit the message may be gone already: nobody can read it.
    let _ = LAST_ERROR.try_with(|last| *last.borrow_mut() = message);
}

/// The calling thread's last error message.
pub fn last_error_message() -> String {
    LAST_ERROR
        .try_with(|last| last.borrow().to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Runs the body of the exported function `function`: its failure, or a
/// panic (reported as [`Status::Internal`]), becomes the returned status
/// and the last error; nothing unwinds past it.
#[inline]
pub fn boundary(function: &str, body: impl FnOnce() -> Result<(), Failure>) -> Status {
    match panic::catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => Status::Ok,
        outcome => failed(function, outcome),
    }
}

/// The status of a call that failed or panicked; sets the last error.
#[cold]
#[inline(never)]
fn failed(function: &str, outcome: std::thread::Result<Result<(), Failure>>) -> Status {
    let failure = match outcome {
        Ok(Ok(())) => return Status::Ok,
        Ok(Err(failure)) => failure,
        Err(payload) => Failure::new(
            Status::Internal,
            format!("internal error in {function}: {}", panic_message(&payload)),
        ),
    };
    set_last_error(&format!("{function}: {}", failure.0.message));
    failure.0.status
}

/// Runs `body`, a function that cannot fail, returning `fallback` if it
/// panics (and setting the last error).
pub fn boundary_value<T>(function: &str, fallback: T, body: impl FnOnce() -> T) -> T {
    let mut value = fallback;
    boundary(function, || {
        value = body();
        Ok(())
    });
    value
}

fn panic_message(payload: &Box<dyn Any + Send>) -> &str {
    if let Some(message) = payload.downcast_ref::<&str>() {
        message
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message
    } else {
        "a panic without a message"
    }
}

/// `strata_last_error`: see the header.
#[no_mangle]
pub extern "C" fn strata_last_error() -> *const c_char {
    let empty = c"".as_ptr();
    boundary_value("strata_last_error", empty, || {
        // The string lives in the thread-local until this thread's next
        // failing call replaces it, which is the lifetime the header states.
        LAST_ERROR
            .try_with(|last| last.borrow().as_ptr())
            .unwrap_or(empty)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    fn last_error() -> String {
        // SAFETY: `strata_last_error` returns a NUL-terminated string.
        unsafe { CStr::from_ptr(strata_last_error()) }
            .to_string_lossy()
            .into_owned()
    }

    #[test]
    fn a_panic_becomes_an_internal_error() {
        let status = boundary("strata_test", || panic!("on purpose"));
        assert_eq!(status, Status::Internal);
        assert_eq!(
            last_error(),
            "strata_test: internal error in strata_test: on purpose"
        );
        let formatted = boundary("strata_test", || panic!("number {}", 7));
        assert_eq!(formatted, Status::Internal);
        assert!(last_error().ends_with("number 7"), "{}", last_error());
    }

    #[test]
    fn a_failure_sets_the_message_and_success_keeps_it() {
        let status = boundary("strata_test", || Err(Failure::null("heap")));
        assert_eq!(status, Status::NullArgument);
        assert_eq!(boundary("strata_test", || Ok(())), Status::Ok);
        assert_eq!(last_error(), "strata_test: heap is NULL");
    }

    #[test]
    fn a_value_function_that_panics_returns_its_fallback() {
        assert_eq!(boundary_value("strata_test", 3, || panic!("no")), 3);
        assert_eq!(boundary_value("strata_test", 3, || 4), 4);
    }
}
