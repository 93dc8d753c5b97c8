//! Work that must finish once started: a mint that is tracked but whose evictions are never
//! deleted, or a revoke that forgot a token it never deleted, would leave tokens valid and
//! untracked.
//!
//! [`to_completion`] runs the work in the task of the request that awaits it, so the common
//! case costs no task of its own (no spawn, no cross-thread wakeup). If that request goes away
//! first (its client disconnects, a timeout layer drops it), the rest of the work moves to a
//! task of its own, in the state it was left in, and runs to its end there.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures_util::future::BoxFuture;

use crate::vend::provision::{Trace, VendError};

/// See [`to_completion`].
pub(crate) struct ToCompletion<T: Send + 'static> {
    /// `None` once finished.
    work: Option<BoxFuture<'static, Result<T, VendError>>>,
}

/// `work`, driven by whoever awaits it and, if dropped unfinished, by a task of its own on
/// the current Tokio runtime (outside a runtime it is dropped: nothing could drive it).
///
/// A panic in `work` ends it with [`VendError::Aborted`] instead of tearing down the caller's
/// task (and, through single-flight, every caller's).
pub(crate) fn to_completion<T: Send + 'static>(
    work: impl Future<Output = Result<T, VendError>> + Send + 'static,
) -> ToCompletion<T> {
    ToCompletion {
        work: Some(Box::pin(work)),
    }
}

impl<T: Send + 'static> Future for ToCompletion<T> {
    type Output = Result<T, VendError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Some(work) = self.work.as_mut() else {
            // Polled again after it finished: there is nothing left to run.
            return Poll::Ready(Err(aborted()));
        };
        let polled = std::panic::catch_unwind(AssertUnwindSafe(|| work.as_mut().poll(cx)));
        let out = ready!(polled.unwrap_or_else(|_| Poll::Ready(Err(aborted()))));
        self.work = None;
        Poll::Ready(out)
    }
}

impl<T: Send + 'static> Drop for ToCompletion<T> {
    fn drop(&mut self) {
        let Some(work) = self.work.take() else {
            return;
        };
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            drop(runtime.spawn(work));
        }
    }
}

fn aborted() -> VendError {
    VendError::Aborted {
        trace: Trace::default(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn runs_in_the_callers_task() {
        let caller = tokio::task::try_id();
        let ran_in = to_completion(async { Ok(tokio::task::try_id()) }).await;
        assert!(matches!(ran_in, Ok(id) if id == caller));
    }

    #[tokio::test]
    async fn dropped_midway_it_still_finishes() {
        let done = Arc::new(AtomicBool::new(false));
        let (started_tx, started) = tokio::sync::oneshot::channel();
        let work = {
            let done = done.clone();
            to_completion(async move {
                let _ = started_tx.send(());
                tokio::time::sleep(Duration::from_millis(50)).await;
                done.store(true, Ordering::SeqCst);
                Ok(())
            })
        };
        let caller = tokio::spawn(work);
        started.await.unwrap();
        caller.abort();
        assert!(caller.await.is_err_and(|e| e.is_cancelled()));
        assert!(!done.load(Ordering::SeqCst), "the work was not done yet");
        tokio::time::timeout(Duration::from_secs(5), async {
            while !done.load(Ordering::SeqCst) {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await
        .expect("the rest of the work ran as a task of its own");
    }

    #[tokio::test]
    async fn dropped_before_its_first_poll_it_still_runs() {
        let (done_tx, done) = tokio::sync::oneshot::channel();
        drop(to_completion(async move {
            let _ = done_tx.send(());
            Ok(())
        }));
        tokio::time::timeout(Duration::from_secs(5), done)
            .await
            .expect("it ran")
            .unwrap();
    }

    #[tokio::test]
    async fn a_panic_is_an_aborted_error() {
        let out: Result<(), VendError> = to_completion(async { panic!("a bug") }).await;
        assert!(matches!(out, Err(VendError::Aborted { .. })));
    }
}
