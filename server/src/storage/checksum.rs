//! CRC32C computed while bytes stream past, in the encoding S3 uses for
//! `x-amz-checksum-crc32c` (base64 of the big-endian value), so clients can compare it with
//! what S3 reports.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// A running CRC32C.
#[derive(Debug, Clone, Copy, Default)]
pub struct Crc32c(u32);

impl Crc32c {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn update(&mut self, bytes: &[u8]) {
        self.0 = crc32c::crc32c_append(self.0, bytes);
    }

    /// The CRC32C of this run followed by another of `next_len` bytes, without reading
    /// those bytes again: how per-part checksums add up to the whole object's.
    pub fn combine(self, next: Crc32c, next_len: usize) -> Self {
        Self(crc32c::crc32c_combine(self.0, next.0, next_len))
    }

    /// The CRC32C whose big-endian bytes are `bytes` (a part's, as recorded).
    pub fn from_bytes(bytes: [u8; 4]) -> Self {
        Self(u32::from_be_bytes(bytes))
    }

    /// The big-endian bytes S3's base64 form encodes.
    pub fn to_bytes(self) -> [u8; 4] {
        self.0.to_be_bytes()
    }

    /// The value as S3 spells it.
    pub fn to_base64(self) -> String {
        STANDARD.encode(self.to_bytes())
    }

    /// The checksum of `bytes`, as S3 spells it.
    pub fn of(bytes: &[u8]) -> String {
        let mut crc = Self::new();
        crc.update(bytes);
        crc.to_base64()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_known_crc32c_vector() {
        // CRC32C("123456789") = 0xE3069283 (RFC 3720 check value).
        assert_eq!(
            Crc32c::of(b"123456789"),
            STANDARD.encode(0xE306_9283u32.to_be_bytes())
        );
        let mut split = Crc32c::new();
        split.update(b"1234");
        split.update(b"56789");
        assert_eq!(split.to_base64(), Crc32c::of(b"123456789"));
        let mut head = Crc32c::new();
        head.update(b"1234");
        let mut tail = Crc32c::new();
        tail.update(b"56789");
        assert_eq!(head.combine(tail, 5).to_base64(), Crc32c::of(b"123456789"));
        // Combining onto the CRC of nothing gives the next run's own: how a whole object's
        // CRC32C starts.
        assert_eq!(
            Crc32c::new().combine(tail, 5).to_base64(),
            Crc32c::of(b"56789")
        );
        assert_eq!(Crc32c::of(b""), "AAAAAA==");
    }
}
