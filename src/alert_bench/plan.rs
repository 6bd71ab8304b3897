//! A decoder plan compiled once from an Avro writer schema.
//!
//! Alert schemas are large (ZTF's candidate has ~100 fields, LSST's diaObject
//! ~150) while classification reads a dozen values. A generic decoder builds a
//! `Value` tree of every field and copies every cutout; the plan instead walks
//! the binary datum in schema order, keeps only the fields a survey mapping
//! names (numbers into fixed slots, strings and cutouts borrowed from the
//! datum) and skips everything else at the cost of reading its length. The
//! same plan splits container blocks into datums ([`Plan::skip`]) and rewrites
//! candidate ids for cyclic replay ([`Plan::with_id`]). Measured in
//! docs/perf.md against the generic decoder it replaces.

use std::collections::HashMap;

use serde_json::Value as Json;

use super::BenchError;
use super::avro::{Reader, Writer};

/// Number of numeric slots a mapping may use.
pub(crate) const NUM_SLOTS: usize = 24;
/// Number of string slots a mapping may use.
pub(crate) const TEXT_SLOTS: usize = 4;
/// Cutouts kept per alert.
pub(crate) const CUTOUTS: usize = 3;

/// Where a field's value goes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Slot {
    /// A number (int, long, float, double, boolean) into slot `n`.
    Num(usize),
    /// The candidate id (a long, exact); every occurrence is rewritten by
    /// [`Plan::with_id`].
    Id,
    /// A string, borrowed, into slot `n`.
    Text(usize),
    /// 1.0 into numeric slot `n` when the field is present (a union's non-null branch).
    Present(usize),
    /// Bytes kept as a cutout (borrowed).
    Cutout,
    /// Per history row (an array item): its time.
    HistTime,
    /// Per history row: its value (magnitude or flux).
    HistValue,
    /// Per history row: its band, as a string hashed to a number.
    HistBand,
}

/// A field mapping: dotted paths (`candidate.rb`, `prv_candidates[].jd`) to
/// slots. Unions are transparent in paths; `[]` steps into array items.
pub(crate) type Mapping = &'static [(&'static str, Slot)];

#[derive(Debug, Clone)]
enum Node {
    Null,
    Bool,
    Int,
    Long,
    Float,
    Double,
    Bytes,
    Str,
    Fixed(usize),
    Enum,
    Array(Box<Node>),
    Map(Box<Node>),
    Union(Vec<Node>),
    Record(Vec<Field>),
}

#[derive(Debug, Clone)]
struct Field {
    node: Node,
    slot: Option<Slot>,
    /// The field (or something inside it) has a slot: otherwise it is skipped.
    wanted: bool,
}

/// What one datum yielded; strings and cutouts borrow from the datum.
#[derive(Debug, Clone)]
pub(crate) struct Extract<'a> {
    /// NaN: absent (null, or not in the schema).
    pub(crate) num: [f64; NUM_SLOTS],
    pub(crate) id: Option<i64>,
    pub(crate) text: [Option<&'a str>; TEXT_SLOTS],
    /// `[time, value, band]` per history row (NaN where absent).
    pub(crate) hist: Vec<[f64; 3]>,
    pub(crate) cutouts: [&'a [u8]; CUTOUTS],
    pub(crate) n_cutouts: usize,
    /// Byte ranges of every [`Slot::Id`] value in the datum.
    id_spans: [(usize, usize); 2],
    n_spans: usize,
}

impl Default for Extract<'_> {
    fn default() -> Self {
        Self {
            num: [f64::NAN; NUM_SLOTS],
            id: None,
            text: [None; TEXT_SLOTS],
            hist: Vec::new(),
            cutouts: [&[]; CUTOUTS],
            n_cutouts: 0,
            id_spans: [(0, 0); 2],
            n_spans: 0,
        }
    }
}

impl Extract<'_> {
    /// The value of numeric slot `n`, `None` when absent.
    pub(crate) fn get(&self, n: usize) -> Option<f64> {
        self.num.get(n).copied().filter(|v| !v.is_nan())
    }
}

/// A compiled decoder for one writer schema and one field mapping.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    root: Node,
    /// Full name of the top-level record (`ztf.alert`, `lsst.v11_0.alert`).
    pub(crate) name: String,
}

fn bad(msg: impl Into<String>) -> BenchError {
    BenchError::Decode(format!("Avro schema: {}", msg.into()))
}

/// Named types seen so far, by full name.
struct Compiler<'m> {
    named: HashMap<String, (Json, String)>,
    mapping: &'m [(&'static str, Slot)],
    /// Names being compiled (recursion guard).
    open: Vec<String>,
}

impl Plan {
    /// Compile `schema_json` (a writer schema) for `mapping`.
    pub(crate) fn compile(
        schema_json: &str,
        mapping: &[(&'static str, Slot)],
    ) -> Result<Self, BenchError> {
        let json: Json =
            serde_json::from_str(schema_json).map_err(|e| bad(format!("not JSON: {e}")))?;
        let mut c = Compiler {
            named: HashMap::new(),
            mapping,
            open: Vec::new(),
        };
        let name = match &json {
            Json::Object(o) => full_name(
                o.get("name").and_then(Json::as_str).unwrap_or(""),
                o.get("namespace").and_then(Json::as_str).unwrap_or(""),
            ),
            _ => String::new(),
        };
        let root = c.node(&json, "", "", 0)?;
        Ok(Self { root, name })
    }

    /// Decode one datum; `out` receives the mapped fields.
    pub(crate) fn decode<'a>(&self, data: &'a [u8]) -> Result<Extract<'a>, BenchError> {
        let mut out = Extract::default();
        let mut r = Reader::new(data);
        read(&self.root, None, &mut r, &mut out, None)?;
        if !r.is_done() {
            return Err(BenchError::Decode(format!(
                "{} trailing bytes after the datum",
                data.len() - r.pos()
            )));
        }
        Ok(out)
    }

    /// Length in bytes of the datum at the start of `data`.
    pub(crate) fn skip(&self, data: &[u8]) -> Result<usize, BenchError> {
        let mut r = Reader::new(data);
        skip(&self.root, &mut r)?;
        Ok(r.pos())
    }

    /// The datum with every candidate-id field set to `id`.
    #[cfg(test)]
    pub(crate) fn with_id(&self, data: &[u8], id: i64) -> Result<Vec<u8>, BenchError> {
        let (_, spans) = self.id_spans(data)?;
        Ok(splice_id(data, &spans, id))
    }

    /// The candidate id of a datum and the byte ranges of its id fields.
    pub(crate) fn id_spans(&self, data: &[u8]) -> Result<(Option<i64>, IdSpans), BenchError> {
        let e = self.decode(data)?;
        Ok((e.id, IdSpans(e.id_spans, e.n_spans)))
    }
}

/// Byte ranges of the candidate-id fields of one datum.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IdSpans([(usize, usize); 2], usize);

/// `data` with the id fields at `spans` replaced by `id`: a copy, no decoding.
pub(crate) fn splice_id(data: &[u8], spans: &IdSpans, id: i64) -> Vec<u8> {
    let mut w = Writer::with_capacity(data.len() + 16);
    let mut at = 0;
    for &(start, end) in &spans.0[..spans.1] {
        w.buf.extend_from_slice(&data[at..start]);
        w.long(id);
        at = end;
    }
    w.buf.extend_from_slice(&data[at..]);
    w.buf
}

fn full_name(name: &str, namespace: &str) -> String {
    if name.contains('.') || namespace.is_empty() {
        name.to_string()
    } else {
        format!("{namespace}.{name}")
    }
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

impl Compiler<'_> {
    fn slot(&self, path: &str) -> Option<Slot> {
        self.mapping
            .iter()
            .find(|(p, _)| *p == path)
            .map(|(_, s)| *s)
    }

    /// Some mapping path lies at or under `path`.
    fn wanted(&self, path: &str) -> bool {
        self.mapping.iter().any(|(p, _)| {
            p.strip_prefix(path).is_some_and(|rest| {
                rest.is_empty() || rest.starts_with('.') || rest.starts_with('[')
            })
        })
    }

    fn node(&mut self, s: &Json, ns: &str, path: &str, depth: usize) -> Result<Node, BenchError> {
        if depth > 64 {
            return Err(bad("nested deeper than 64 levels"));
        }
        match s {
            Json::String(t) => self.named_or_primitive(t, ns, path, depth),
            Json::Array(branches) => Ok(Node::Union(
                branches
                    .iter()
                    .map(|b| self.node(b, ns, path, depth + 1))
                    .collect::<Result<_, _>>()?,
            )),
            Json::Object(o) => {
                let t = o
                    .get("type")
                    .ok_or_else(|| bad(format!("no type at {path:?}")))?;
                let t = match t {
                    Json::String(t) => t.as_str(),
                    // {"type": {...}} or {"type": [...]}: a wrapped schema.
                    other => return self.node(other, ns, path, depth + 1),
                };
                let name = o.get("name").and_then(Json::as_str);
                let own_ns = o.get("namespace").and_then(Json::as_str).unwrap_or(ns);
                match t {
                    "record" | "error" => {
                        let name = name.ok_or_else(|| bad("record without a name"))?;
                        let full = full_name(name, own_ns);
                        let ns = full.rsplit_once('.').map_or("", |(n, _)| n).to_string();
                        self.named.insert(full.clone(), (s.clone(), ns.clone()));
                        self.open.push(full);
                        let fields = o
                            .get("fields")
                            .and_then(Json::as_array)
                            .ok_or_else(|| bad(format!("record {name} has no fields")))?;
                        let mut out = Vec::with_capacity(fields.len());
                        for f in fields {
                            let fname = f
                                .get("name")
                                .and_then(Json::as_str)
                                .ok_or_else(|| bad(format!("a field of {name} has no name")))?;
                            let ftype = f
                                .get("type")
                                .ok_or_else(|| bad(format!("field {fname} has no type")))?;
                            let fpath = join(path, fname);
                            let node = self.node(ftype, &ns, &fpath, depth + 1)?;
                            out.push(Field {
                                node,
                                slot: self.slot(&fpath),
                                wanted: self.wanted(&fpath),
                            });
                        }
                        self.open.pop();
                        Ok(Node::Record(out))
                    }
                    "enum" | "fixed" => {
                        let name = name.ok_or_else(|| bad(format!("{t} without a name")))?;
                        self.named
                            .insert(full_name(name, own_ns), (s.clone(), own_ns.to_string()));
                        if t == "enum" {
                            Ok(Node::Enum)
                        } else {
                            let size = o
                                .get("size")
                                .and_then(Json::as_u64)
                                .ok_or_else(|| bad(format!("fixed {name} has no size")))?;
                            Ok(Node::Fixed(size as usize))
                        }
                    }
                    "array" => {
                        let items = o.get("items").ok_or_else(|| bad("array without items"))?;
                        let item_path = format!("{path}[]");
                        Ok(Node::Array(Box::new(self.node(
                            items,
                            ns,
                            &item_path,
                            depth + 1,
                        )?)))
                    }
                    "map" => {
                        let values = o.get("values").ok_or_else(|| bad("map without values"))?;
                        Ok(Node::Map(Box::new(self.node(
                            values,
                            ns,
                            path,
                            depth + 1,
                        )?)))
                    }
                    // A primitive with attributes (logical types included:
                    // they decode as their underlying type).
                    _ => self.named_or_primitive(t, ns, path, depth),
                }
            }
            _ => Err(bad(format!("unexpected schema {s} at {path:?}"))),
        }
    }

    fn named_or_primitive(
        &mut self,
        t: &str,
        ns: &str,
        path: &str,
        depth: usize,
    ) -> Result<Node, BenchError> {
        Ok(match t {
            "null" => Node::Null,
            "boolean" => Node::Bool,
            "int" => Node::Int,
            "long" => Node::Long,
            "float" => Node::Float,
            "double" => Node::Double,
            "bytes" => Node::Bytes,
            "string" => Node::Str,
            name => {
                let full = [full_name(name, ns), name.to_string()]
                    .into_iter()
                    .find(|n| self.named.contains_key(n))
                    .ok_or_else(|| bad(format!("unknown type {name:?} at {path:?}")))?;
                if self.open.contains(&full) {
                    return Err(bad(format!("recursive type {full} is not an alert schema")));
                }
                let (def, def_ns) = self.named[&full].clone();
                // Named types compile again at each use: their fields map by
                // the path of this use.
                let mut def = def;
                if let Json::Object(o) = &mut def {
                    o.insert("namespace".into(), Json::String(def_ns.clone()));
                    o.insert(
                        "name".into(),
                        Json::String(full.rsplit('.').next().unwrap_or(&full).to_string()),
                    );
                }
                self.node(&def, &def_ns, path, depth + 1)?
            }
        })
    }
}

fn skip(node: &Node, r: &mut Reader<'_>) -> Result<(), BenchError> {
    match node {
        Node::Null => {}
        Node::Bool => {
            r.take(1)?;
        }
        Node::Int | Node::Long | Node::Enum => {
            r.long()?;
        }
        Node::Float => {
            r.take(4)?;
        }
        Node::Double => {
            r.take(8)?;
        }
        Node::Bytes | Node::Str => {
            r.bytes()?;
        }
        Node::Fixed(n) => {
            r.take(*n)?;
        }
        Node::Array(item) | Node::Map(item) => loop {
            let n = r.long()?;
            if n == 0 {
                break;
            }
            if n < 0 {
                // A block with its byte size: skipped without reading its items.
                let size = usize::try_from(r.long()?)
                    .map_err(|_| BenchError::Decode("negative block size".into()))?;
                r.take(size)?;
                continue;
            }
            for _ in 0..n {
                if matches!(node, Node::Map(_)) {
                    r.bytes()?;
                }
                skip(item, r)?;
            }
        },
        Node::Union(branches) => {
            let b = branch(branches, r)?;
            skip(b, r)?;
        }
        Node::Record(fields) => {
            for f in fields {
                skip(&f.node, r)?;
            }
        }
    }
    Ok(())
}

fn branch<'n>(branches: &'n [Node], r: &mut Reader<'_>) -> Result<&'n Node, BenchError> {
    let i = r.long()?;
    usize::try_from(i)
        .ok()
        .and_then(|i| branches.get(i))
        .ok_or_else(|| BenchError::Decode(format!("union branch {i} out of range")))
}

/// Hash of a band name into a number (history rows compare bands by equality).
pub(crate) fn band_code(s: &str) -> f64 {
    s.bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(b.into())) as f64
}

fn read<'a>(
    node: &Node,
    slot: Option<Slot>,
    r: &mut Reader<'a>,
    out: &mut Extract<'a>,
    row: Option<usize>,
) -> Result<(), BenchError> {
    let Some(slot) = slot else {
        return match node {
            Node::Record(fields) => {
                for f in fields {
                    if f.wanted {
                        read(&f.node, f.slot, r, out, row)?;
                    } else {
                        skip(&f.node, r)?;
                    }
                }
                Ok(())
            }
            Node::Union(branches) => {
                let b = branch(branches, r)?;
                read(b, None, r, out, row)
            }
            Node::Array(item) => loop {
                let n = r.block_len()?;
                if n == 0 {
                    return Ok(());
                }
                out.hist.reserve(n.min(4096));
                for _ in 0..n {
                    out.hist.push([f64::NAN; 3]);
                    let at = out.hist.len() - 1;
                    read(item, None, r, out, Some(at))?;
                }
            },
            other => skip(other, r),
        };
    };
    let value = |node: &Node, r: &mut Reader<'a>| -> Result<Option<f64>, BenchError> {
        Ok(match node {
            Node::Int | Node::Long | Node::Enum => Some(r.long()? as f64),
            Node::Float => Some(f64::from(r.float()?)),
            Node::Double => Some(r.double()?),
            Node::Bool => Some(f64::from(r.take(1)?[0])),
            Node::Str => Some(band_code(r.string()?)),
            Node::Null => None,
            other => {
                skip(other, r)?;
                None
            }
        })
    };
    let mut node = node;
    if let Node::Union(branches) = node {
        node = branch(branches, r)?;
        if let Slot::Present(n) = slot {
            if !matches!(node, Node::Null) {
                out.num[n] = 1.0;
            }
            return skip(node, r);
        }
    }
    match slot {
        Slot::Num(n) => {
            if let Some(v) = value(node, r)? {
                out.num[n] = v;
            }
        }
        Slot::Present(n) => {
            out.num[n] = 1.0;
            skip(node, r)?;
        }
        Slot::Id => {
            let start = r.pos();
            match node {
                Node::Int | Node::Long => {
                    let v = r.long()?;
                    out.id.get_or_insert(v);
                    if out.n_spans < out.id_spans.len() {
                        out.id_spans[out.n_spans] = (start, r.pos());
                        out.n_spans += 1;
                    }
                }
                other => skip(other, r)?,
            }
        }
        Slot::Text(n) => match node {
            Node::Str => out.text[n] = Some(r.string()?),
            other => skip(other, r)?,
        },
        Slot::Cutout => match node {
            Node::Bytes => {
                let b = r.bytes()?;
                if out.n_cutouts < CUTOUTS {
                    out.cutouts[out.n_cutouts] = b;
                    out.n_cutouts += 1;
                }
            }
            other => skip(other, r)?,
        },
        Slot::HistTime | Slot::HistValue | Slot::HistBand => {
            let v = value(node, r)?;
            if let (Some(v), Some(row)) = (v, row) {
                let col = match slot {
                    Slot::HistTime => 0,
                    Slot::HistValue => 1,
                    _ => 2,
                };
                out.hist[row][col] = v;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEMA: &str = r#"{"type": "record", "name": "a", "namespace": "t", "fields": [
      {"name": "id", "type": "long"},
      {"name": "skipme", "type": {"type": "map", "values": ["null", "string"]}},
      {"name": "c", "type": {"type": "record", "name": "c", "fields": [
        {"name": "x", "type": ["null", "float"]},
        {"name": "id", "type": "long"},
        {"name": "s", "type": "string"}]}},
      {"name": "h", "type": ["null", {"type": "array", "items": "c"}]},
      {"name": "cut", "type": ["null", "bytes"]},
      {"name": "opt", "type": ["null", "c"]}]}"#;

    const MAP: Mapping = &[
        ("id", Slot::Id),
        ("c.id", Slot::Id),
        ("c.x", Slot::Num(0)),
        ("c.s", Slot::Text(0)),
        ("h[].x", Slot::HistValue),
        ("h[].id", Slot::HistTime),
        ("cut", Slot::Cutout),
        ("opt", Slot::Present(1)),
    ];

    fn datum(id: i64) -> Vec<u8> {
        let mut w = Writer::default();
        w.long(id);
        w.long(1);
        w.string("k");
        w.long(1);
        w.string("v");
        w.long(0);
        let c = |w: &mut Writer, x: Option<f32>, id: i64| {
            w.optional(x, Writer::float);
            w.long(id);
            w.string("band");
        };
        c(&mut w, Some(1.5), id);
        w.long(1);
        w.long(2);
        c(&mut w, None, 7);
        c(&mut w, Some(2.5), 8);
        w.long(0);
        w.long(1);
        w.bytes(b"stamp");
        w.long(0);
        w.buf
    }

    #[test]
    fn extracts_mapped_fields_and_skips_the_rest() {
        let plan = Plan::compile(SCHEMA, MAP).unwrap();
        assert_eq!(plan.name, "t.a");
        let d = datum(300);
        let e = plan.decode(&d).unwrap();
        assert_eq!(e.id, Some(300));
        assert_eq!(e.get(0), Some(1.5));
        assert_eq!(e.text[0], Some("band"));
        assert_eq!(e.hist.len(), 2);
        assert!(e.hist[0][1].is_nan());
        assert_eq!(e.hist[1][..2], [8.0, 2.5]);
        assert_eq!(&e.cutouts[..e.n_cutouts], &[&b"stamp"[..]]);
        assert_eq!(e.get(1), None, "opt is null");
        assert_eq!(plan.skip(&d).unwrap(), d.len());
        assert!(plan.decode(&d[..d.len() - 1]).is_err());
    }

    #[test]
    fn rewrites_every_id_field() {
        let plan = Plan::compile(SCHEMA, MAP).unwrap();
        let d = datum(300);
        let fresh = plan.with_id(&d, 3_000_000_000_000_000_123).unwrap();
        assert_eq!(fresh, datum(3_000_000_000_000_000_123));
    }

    #[test]
    fn recursive_and_unknown_types_are_errors() {
        let rec = r#"{"type": "record", "name": "n", "fields": [{"name": "next", "type": ["null", "n"]}]}"#;
        assert!(Plan::compile(rec, MAP).is_err());
        let unknown =
            r#"{"type": "record", "name": "n", "fields": [{"name": "x", "type": "nope"}]}"#;
        assert!(Plan::compile(unknown, MAP).is_err());
    }
}
