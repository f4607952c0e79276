//! End-to-end tests of what browser and mobile clients use: CORS preflights and headers as a
//! browser sends and reads them, presigned URLs used straight against the store, and
//! resumable tus uploads with a real tus client, over real sockets, and taken over from a
//! process that died.

mod cors;
mod presign;
mod tus;
mod tus_takeover;
