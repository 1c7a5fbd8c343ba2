//! The middleware's response future.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http::Response;
use pin_project_lite::pin_project;

use crate::body::ResponseBody;

/// The future of a request that needed a key refresh before its token could
/// be judged (rare: an unknown `kid`), boxed because `async` blocks have no
/// nameable type.
pub(crate) type Refreshing<B, E> = Pin<Box<dyn Future<Output = Result<Response<ResponseBody<B>>, E>> + Send>>;

pin_project! {
    /// Response future of [`JwtAuth`](crate::JwtAuth) and
    /// [`RequireScopes`](crate::RequireScopes).
    pub struct ResponseFuture<F, B, E> {
        #[pin]
        state: State<F, B, E>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F, B, E> {
        Inner { #[pin] future: F },
        Rejected { response: Option<Response<Bytes>> },
        Refreshing { future: Refreshing<B, E> },
    }
}

impl<F, B, E> ResponseFuture<F, B, E> {
    pub(crate) const fn inner(future: F) -> Self {
        Self { state: State::Inner { future } }
    }

    pub(crate) const fn rejected(response: Response<Bytes>) -> Self {
        Self { state: State::Rejected { response: Some(response) } }
    }

    pub(crate) fn refreshing(future: Refreshing<B, E>) -> Self {
        Self { state: State::Refreshing { future } }
    }
}

impl<F, B, E> std::fmt::Debug for ResponseFuture<F, B, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ResponseFuture")
    }
}

/// A refusal as a response of the middleware's body type.
pub(crate) fn rejection_response<B>(response: Response<Bytes>) -> Response<ResponseBody<B>> {
    response.map(ResponseBody::rejection)
}

impl<F, B, E> Future for ResponseFuture<F, B, E>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<ResponseBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Inner { future } => Poll::Ready(ready!(future.poll(cx)).map(|r| r.map(ResponseBody::inner))),
            // Polled again after completion: an empty refusal rather than a panic.
            StateProj::Rejected { response } => {
                Poll::Ready(Ok(rejection_response(response.take().unwrap_or_default())))
            }
            StateProj::Refreshing { future } => future.as_mut().poll(cx),
        }
    }
}
