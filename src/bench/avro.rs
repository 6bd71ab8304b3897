//! Avro binary encoding primitives (the "schemaless datum" form Kafka carries).
//!
//! The alert schema is fixed, so alerts are encoded and decoded by hand-written
//! code over these primitives instead of a generic `Value` tree: that is what
//! keeps encoding and decoding cheap next to the transport. Tests check the
//! bytes against the `apache-avro` implementation.

use super::BenchError;

/// Append-only Avro writer.
#[derive(Debug, Default)]
pub(crate) struct Writer {
    pub(crate) buf: Vec<u8>,
}

impl Writer {
    pub(crate) fn with_capacity(n: usize) -> Self {
        Self {
            buf: Vec::with_capacity(n),
        }
    }

    /// `long` and `int`: zig-zag, then base-128 varint.
    pub(crate) fn long(&mut self, v: i64) {
        let mut z = ((v << 1) ^ (v >> 63)) as u64;
        while z >= 0x80 {
            self.buf.push((z as u8) | 0x80);
            z >>= 7;
        }
        self.buf.push(z as u8);
    }

    pub(crate) fn float(&mut self, v: f32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    pub(crate) fn double(&mut self, v: f64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    pub(crate) fn bytes(&mut self, v: &[u8]) {
        self.long(v.len() as i64);
        self.buf.extend_from_slice(v);
    }

    pub(crate) fn string(&mut self, v: &str) {
        self.bytes(v.as_bytes());
    }

    /// A `["null", T]` union: branch 0 is null, branch 1 the value.
    pub(crate) fn optional<T>(&mut self, v: Option<T>, write: impl FnOnce(&mut Self, T)) {
        match v {
            None => self.long(0),
            Some(v) => {
                self.long(1);
                write(self, v);
            }
        }
    }
}

/// A cursor over one encoded datum; every read checks bounds.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Self { data, pos: 0 }
    }

    fn err(&self, what: &str) -> BenchError {
        BenchError::Decode(format!("{what} at byte {}", self.pos))
    }

    pub(crate) fn long(&mut self) -> Result<i64, BenchError> {
        let mut z: u64 = 0;
        let mut shift = 0;
        loop {
            let b = *self
                .data
                .get(self.pos)
                .ok_or_else(|| self.err("truncated varint"))?;
            self.pos += 1;
            z |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(((z >> 1) as i64) ^ -((z & 1) as i64));
            }
            shift += 7;
            if shift > 63 {
                return Err(self.err("varint longer than 10 bytes"));
            }
        }
    }

    pub(crate) fn int(&mut self) -> Result<i32, BenchError> {
        let v = self.long()?;
        i32::try_from(v).map_err(|_| self.err("int out of range"))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], BenchError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&end| end <= self.data.len())
            .ok_or_else(|| self.err("truncated datum"))?;
        let s = &self.data[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    pub(crate) fn float(&mut self) -> Result<f32, BenchError> {
        let b = self.take(4)?;
        Ok(f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub(crate) fn double(&mut self) -> Result<f64, BenchError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(f64::from_le_bytes(a))
    }

    /// Length-prefixed bytes, borrowed from the datum (no copy).
    pub(crate) fn bytes(&mut self) -> Result<&'a [u8], BenchError> {
        let n = self.long()?;
        let n = usize::try_from(n).map_err(|_| self.err("negative length"))?;
        self.take(n)
    }

    pub(crate) fn string(&mut self) -> Result<&'a str, BenchError> {
        let b = self.bytes()?;
        std::str::from_utf8(b).map_err(|_| self.err("string is not UTF-8"))
    }

    /// A `["null", T]` union.
    pub(crate) fn optional<T>(
        &mut self,
        read: impl FnOnce(&mut Self) -> Result<T, BenchError>,
    ) -> Result<Option<T>, BenchError> {
        match self.long()? {
            0 => Ok(None),
            1 => read(self).map(Some),
            _ => Err(self.err("bad union branch")),
        }
    }

    /// Array block counts: a negative count is followed by the block's byte size.
    pub(crate) fn block_len(&mut self) -> Result<usize, BenchError> {
        let n = self.long()?;
        if n < 0 {
            self.long()?;
        }
        Ok(n.unsigned_abs() as usize)
    }

    pub(crate) fn is_done(&self) -> bool {
        self.pos == self.data.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_round_trips_at_the_edges() {
        for v in [0, 1, -1, 63, -64, 64, i32::MAX as i64, i64::MIN, i64::MAX] {
            let mut w = Writer::default();
            w.long(v);
            assert_eq!(Reader::new(&w.buf).long().unwrap(), v);
        }
        let mut w = Writer::default();
        w.long(-3);
        assert_eq!(w.buf, [5], "zig-zag of -3 is 5");
    }

    #[test]
    fn truncated_input_is_an_error_not_a_panic() {
        assert!(Reader::new(&[0x80]).long().is_err());
        assert!(Reader::new(&[10, 1, 2]).bytes().is_err());
        assert!(Reader::new(&[1, 2]).float().is_err());
    }
}
