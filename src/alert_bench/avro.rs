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

    #[cold]
    fn err(&self, what: &str) -> BenchError {
        BenchError::Decode(format!("{what} at byte {}", self.pos))
    }

    /// Most longs of an alert (union branches, lengths, small counts) fit
    /// in one byte: that case is inlined, the loop stays out of line.
    #[inline]
    pub(crate) fn long(&mut self) -> Result<i64, BenchError> {
        if let Some(&b) = self.data.get(self.pos)
            && b < 0x80
        {
            self.pos += 1;
            return Ok(i64::from(b >> 1) ^ -i64::from(b & 1));
        }
        self.long_slow()
    }

    #[inline(never)]
    fn long_slow(&mut self) -> Result<i64, BenchError> {
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

    #[inline]
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], BenchError> {
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

    /// Array block counts: a negative count is followed by the block's byte size.
    pub(crate) fn block_len(&mut self) -> Result<usize, BenchError> {
        let n = self.long()?;
        if n < 0 {
            self.long()?;
        }
        Ok(n.unsigned_abs() as usize)
    }

    /// Bytes read so far.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn is_done(&self) -> bool {
        self.pos == self.data.len()
    }
}

/// Sync marker of the single-alert container files we write (any 16 bytes do).
pub(crate) const SYNC: [u8; 16] = *b"ciux-bench-sync!";

/// Header of an Avro object container file (null codec) for `schema_json`.
pub(crate) fn container_header(schema_json: &str) -> Vec<u8> {
    let mut w = Writer::default();
    w.buf.extend_from_slice(b"Obj\x01");
    w.long(2);
    w.string("avro.schema");
    w.bytes(schema_json.as_bytes());
    w.string("avro.codec");
    w.bytes(b"null");
    w.long(0);
    w.buf.extend_from_slice(&SYNC);
    w.buf
}

/// A container file holding one datum, as the reference alert simulator
/// sends each alert.
pub(crate) fn container(header: &[u8], datum: &[u8]) -> Vec<u8> {
    let mut w = Writer::with_capacity(header.len() + datum.len() + 32);
    w.buf.extend_from_slice(header);
    w.long(1);
    w.bytes(datum);
    w.buf.extend_from_slice(&SYNC);
    w.buf
}

/// The datum of a one-alert container file with the null codec (what
/// [`container`] and alert simulators write), borrowed from `file`.
pub(crate) fn single_datum(file: &[u8]) -> Result<&[u8], BenchError> {
    let bad = |m: &str| BenchError::Decode(format!("Avro container: {m}"));
    let body = file
        .strip_prefix(b"Obj\x01")
        .ok_or_else(|| bad("no magic"))?;
    let mut r = Reader::new(body);
    loop {
        let n = r.block_len()?;
        if n == 0 {
            break;
        }
        for _ in 0..n {
            let key = r.string()?;
            let value = r.bytes()?;
            if key == "avro.codec" && value != b"null" {
                return Err(bad("only the null codec is read from messages"));
            }
        }
    }
    r.take(16)?;
    if r.long()? != 1 {
        return Err(bad("expected one alert per message"));
    }
    r.bytes()
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
    fn single_alert_container_round_trips_and_reads_with_apache_avro() {
        let schema =
            r#"{"type": "record", "name": "r", "fields": [{"name": "x", "type": "long"}]}"#;
        let mut w = Writer::default();
        w.long(-42);
        let file = container(&container_header(schema), &w.buf);
        assert_eq!(single_datum(&file).unwrap(), &w.buf[..]);
        let values: Vec<_> = apache_avro::Reader::new(&file[..]).unwrap().collect();
        assert_eq!(values.len(), 1);
        let record = apache_avro::types::Value::Record(vec![(
            "x".into(),
            apache_avro::types::Value::Long(-42),
        )]);
        assert_eq!(values[0].as_ref().unwrap(), &record);
        assert!(single_datum(&w.buf).is_err());
    }

    #[test]
    fn truncated_input_is_an_error_not_a_panic() {
        assert!(Reader::new(&[0x80]).long().is_err());
        assert!(Reader::new(&[10, 1, 2]).bytes().is_err());
        assert!(Reader::new(&[1, 2]).float().is_err());
    }
}
