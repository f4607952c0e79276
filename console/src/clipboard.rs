//! Copying text to the clipboard of the terminal the console runs in, with the OSC 52 escape
//! sequence: it works over SSH and needs no clipboard daemon or X display on the machine the
//! console runs on. Terminals that do not support it ignore it (tmux passes it on with
//! `set -g set-clipboard on`), so the text is always shown as well.

use std::io::{self, Write};

use base64::Engine;

/// Longest text sent: terminals cap OSC 52 payloads (hterm at 100 kB of base64, others
/// lower), and a presigned URL is a few hundred bytes.
pub const MAX_TEXT: usize = 64 * 1024;

/// Whether `text` is short enough to be sent (see [`MAX_TEXT`]).
pub fn fits(text: &str) -> bool {
    text.len() <= MAX_TEXT
}

/// The OSC 52 sequence that sets the clipboard (`c`) to `text`, or `None` when it does not
/// [`fits`].
pub fn osc52(text: &str) -> Option<String> {
    fits(text).then(|| {
        format!(
            "\x1b]52;c;{}\x07",
            base64::engine::general_purpose::STANDARD.encode(text)
        )
    })
}

/// Writes the sequence for `text` to the terminal `out`; `false` when `text` is too long.
pub fn copy(out: &mut impl Write, text: &str) -> io::Result<bool> {
    let Some(sequence) = osc52(text) else {
        return Ok(false);
    };
    out.write_all(sequence.as_bytes())?;
    out.flush()?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_travels_base64_in_one_osc_52_sequence() {
        let mut out = Vec::new();
        assert!(copy(&mut out, "http://127.0.0.1:9000/b/k?X-Amz-Signature=ab").unwrap());
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\x1b]52;c;aHR0cDovLzEyNy4wLjAuMTo5MDAwL2Ivaz9YLUFtei1TaWduYXR1cmU9YWI=\x07"
        );
    }

    #[test]
    fn text_over_the_cap_is_not_sent() {
        let mut out = Vec::new();
        assert!(!copy(&mut out, &"u".repeat(MAX_TEXT + 1)).unwrap());
        assert!(out.is_empty());
        assert!(osc52(&"u".repeat(MAX_TEXT)).is_some());
    }
}
