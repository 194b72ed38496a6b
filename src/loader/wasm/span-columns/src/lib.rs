//! The spans of a ScopeSpans (protobuf, in an ExportTraceServiceRequest) into the otel_traces columns
//! the span encoder (src/loader/traces-rowbinary.ts, layout 'columns') writes for them, but the GenAI
//! ones: each column appended to a stream of its own in this module's memory. It takes the usual span:
//! the fields every exporter writes, in one-byte tags, no events or links, and attributes whose keys
//! are exactly the previous span's (the template), each a key then a string, int or bool. At any other
//! span it stops, having written nothing for it (STOP_DECLINED): the TypeScript encoder encodes that
//! span, with its checks and its errors. A span it takes passes the checks decoding makes (lengths,
//! varints, UTF-8), so it declines a malformed one too.
//! The caller (src/loader/wasm/span-columns.ts) owns the memory's layout and passes the regions in.
#![no_std]
// the exports are called by that one caller, with regions it laid out; the walk's state is explicit
#![allow(clippy::missing_safety_doc, clippy::too_many_arguments)]

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

/// a span's attribute count in spans()' records when it has none
const NO_ATTRIBUTES: i32 = -1;

// why spans() stopped (stop_reason()), at stop_at()
/// at the end of the ScopeSpans
const STOP_END: i32 = 0;
/// at a span it does not take (nothing written for it)
const STOP_DECLINED: i32 = 1;
/// at a span for which a stream, the bounds or the records have no room left (nothing written for it)
const STOP_FULL: i32 = 2;
/// at a field other than a span, the scope or the schema URL in one-byte tags
const STOP_FIELD: i32 = 3;

// the streams, in the order of S_*; each a region of this memory the caller gives (stream_init)
const STREAMS: usize = 20;
const S_TIMESTAMP: usize = 0;
const S_TRACE_ID: usize = 1;
const S_SPAN_ID: usize = 2;
const S_PARENT_ID: usize = 3;
const S_TRACE_STATE: usize = 4;
const S_NAME: usize = 5;
const S_KIND: usize = 6;
const S_ATTRIBUTE_VALUES: usize = 7;
const S_DURATION: usize = 8;
const S_STATUS_CODE: usize = 9;
const S_STATUS_MESSAGE: usize = 10;
/// the seven Events.* and Links.* columns (an empty array each)
const S_EVENTS_LINKS: usize = 11;
const S_ATTRIBUTE_KEYS: usize = 18;
const S_ATTRIBUTE_COUNTS: usize = 19;

static mut BASE: [usize; STREAMS] = [0; STREAMS];
static mut LEN: [usize; STREAMS] = [0; STREAMS];
static mut CAP: [usize; STREAMS] = [0; STREAMS];
/// SpanKind and StatusCode values (RowBinary Strings) by number: where their bytes are in this memory
static mut KINDS: [(usize, usize); 8] = [(0, 0); 8];
static mut KIND_COUNT: usize = 0;
static mut STATUSES: [(usize, usize); 8] = [(0, 0); 8];
static mut STATUS_COUNT: usize = 0;
static mut STOP_REASON: i32 = STOP_END;
static mut STOP_AT: usize = 0;
/// a stream or the bounds had no room for the span
static mut OUT_OF_ROOM: bool = false;

/// How many streams the module writes (the caller checks it knows each).
#[no_mangle]
pub extern "C" fn stream_count() -> usize {
    STREAMS
}

#[no_mangle]
pub unsafe extern "C" fn stream_init(i: usize, base: usize, cap: usize) {
    BASE[i] = base;
    CAP[i] = cap;
    LEN[i] = 0;
}

#[no_mangle]
pub unsafe extern "C" fn stream_len(i: usize) -> usize {
    LEN[i]
}

#[no_mangle]
pub unsafe extern "C" fn stream_clear(i: usize) {
    LEN[i] = 0;
}

/// Value `i` of SpanKind (`table` 0) or StatusCode (1): its bytes at [at, at + len) of this memory.
#[no_mangle]
pub unsafe extern "C" fn constant_init(table: u32, i: usize, at: usize, len: usize) {
    if i >= 8 {
        return;
    }
    if table == 0 {
        KINDS[i] = (at, len);
        KIND_COUNT = KIND_COUNT.max(i + 1);
    } else {
        STATUSES[i] = (at, len);
        STATUS_COUNT = STATUS_COUNT.max(i + 1);
    }
}

#[no_mangle]
pub unsafe extern "C" fn stop_reason() -> i32 {
    STOP_REASON
}

#[no_mangle]
pub unsafe extern "C" fn stop_at() -> usize {
    STOP_AT
}

/// The bytes of a message; reads out of bounds give None (the span is declined).
struct Reader<'a> {
    b: &'a [u8],
    p: usize,
}

impl<'a> Reader<'a> {
    #[inline(always)]
    fn byte(&mut self, end: usize) -> Option<u8> {
        if self.p >= end {
            return None;
        }
        let x = self.b[self.p];
        self.p += 1;
        Some(x)
    }

    /// A varint of at most 10 bytes ending by `end`: its low 64 bits.
    #[inline(always)]
    fn varint(&mut self, end: usize) -> Option<u64> {
        let mut v: u64 = 0;
        let mut shift = 0;
        for _ in 0..10 {
            let x = self.byte(end)?;
            if shift < 64 {
                v |= ((x & 0x7f) as u64) << shift;
            }
            if x < 0x80 {
                return Some(v);
            }
            shift += 7;
        }
        None
    }

    /// A length below 2^32 whose bytes end by `end` (as decoding requires).
    #[inline(always)]
    fn length(&mut self, end: usize) -> Option<usize> {
        if self.p < end {
            let x = self.b[self.p];
            if x < 0x80 && (x as usize) < end - self.p {
                self.p += 1;
                return Some(x as usize);
            }
        }
        let n = self.varint(end)?;
        if n >= 1 << 32 || n as usize > end - self.p {
            return None;
        }
        Some(n as usize)
    }

    #[inline(always)]
    fn fixed64(&mut self, end: usize) -> Option<u64> {
        if end < 8 || self.p > end - 8 {
            return None;
        }
        let v = u64::from_le_bytes(self.b[self.p..self.p + 8].try_into().ok()?);
        self.p += 8;
        Some(v)
    }
}

/// The tail of a stream, written tentatively: `commit` makes it part of the stream.
struct Out {
    stream: usize,
    base: *mut u8,
    len: usize,
    cap: usize,
}

impl Out {
    unsafe fn of(stream: usize) -> Out {
        Out { stream, base: BASE[stream] as *mut u8, len: LEN[stream], cap: CAP[stream] }
    }

    unsafe fn commit(&self) {
        LEN[self.stream] = self.len;
    }

    #[inline(always)]
    fn room(&self, n: usize) -> Option<()> {
        if n <= self.cap - self.len {
            Some(())
        } else {
            unsafe { OUT_OF_ROOM = true };
            None
        }
    }

    #[inline(always)]
    fn byte(&mut self, x: u8) -> Option<()> {
        self.room(1)?;
        unsafe { *self.base.add(self.len) = x };
        self.len += 1;
        Some(())
    }

    #[inline(always)]
    fn varint(&mut self, mut n: usize) -> Option<()> {
        while n >= 0x80 {
            self.byte((n as u8 & 0x7f) | 0x80)?;
            n >>= 7;
        }
        self.byte(n as u8)
    }

    #[inline(always)]
    fn u64(&mut self, v: u64) -> Option<()> {
        self.bytes(&v.to_le_bytes())
    }

    #[inline(always)]
    fn bytes(&mut self, src: &[u8]) -> Option<()> {
        self.room(src.len())?;
        unsafe { core::ptr::copy_nonoverlapping(src.as_ptr(), self.base.add(self.len), src.len()) };
        self.len += src.len();
        Some(())
    }

    /// `src` copied 8 bytes at a time (small strings: cheaper than a memory.copy); its bytes OR-ed.
    #[inline(always)]
    fn copy_or(&mut self, src: &[u8]) -> Option<u64> {
        let n = src.len();
        if n > 64 || self.room(n + 8).is_none() {
            let bits = or_bytes(src);
            self.bytes(src)?;
            return Some(bits);
        }
        let (s, d) = (src.as_ptr(), unsafe { self.base.add(self.len) });
        let mut bits = 0u64;
        let mut i = 0;
        while i + 8 <= n {
            let w = unsafe { (s.add(i) as *const u64).read_unaligned() };
            unsafe { (d.add(i) as *mut u64).write_unaligned(w) };
            bits |= w;
            i += 8;
        }
        while i < n {
            let c = unsafe { *s.add(i) };
            unsafe { *d.add(i) = c };
            bits |= c as u64;
            i += 1;
        }
        self.len += n;
        Some(bits)
    }

    /// A String: LEB128 length, then the bytes.
    #[inline(always)]
    fn string(&mut self, src: &[u8]) -> Option<()> {
        self.varint(src.len())?;
        self.bytes(src)
    }

    /// Lowercase hex of `src` as a String.
    #[inline(always)]
    fn hex(&mut self, src: &[u8]) -> Option<()> {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        self.varint(2 * src.len())?;
        self.room(2 * src.len())?;
        for (i, &c) in src.iter().enumerate() {
            unsafe {
                *self.base.add(self.len + 2 * i) = HEX[(c >> 4) as usize];
                *self.base.add(self.len + 2 * i + 1) = HEX[(c & 15) as usize];
            }
        }
        self.len += 2 * src.len();
        Some(())
    }

    /// Decimal text of a signed 64-bit integer as a String, as JavaScript's String() writes it.
    fn decimal(&mut self, v: i64) -> Option<()> {
        let mut digits = [0u8; 20];
        let mut n = 20;
        let mut u = v.unsigned_abs();
        loop {
            n -= 1;
            digits[n] = b'0' + (u % 10) as u8;
            u /= 10;
            if u == 0 {
                break;
            }
        }
        self.varint(20 - n + (v < 0) as usize)?;
        if v < 0 {
            self.byte(b'-')?;
        }
        self.bytes(&digits[n..])
    }
}

/// the bytes OR-ed together, 8 at a time (ASCII: no byte's top bit set)
#[inline(always)]
fn or_bytes(s: &[u8]) -> u64 {
    let mut bits = 0u64;
    let (n, p) = (s.len(), s.as_ptr());
    let mut i = 0;
    while i + 8 <= n {
        bits |= unsafe { (p.add(i) as *const u64).read_unaligned() };
        i += 8;
    }
    while i < n {
        bits |= unsafe { *p.add(i) } as u64;
        i += 1;
    }
    bits
}

const HIGH_BITS: u64 = 0x8080_8080_8080_8080;

#[inline(always)]
fn utf8(s: &[u8]) -> bool {
    or_bytes(s) & HIGH_BITS == 0 || core::str::from_utf8(s).is_ok()
}

/// a == b, 8 bytes at a time
#[inline(always)]
fn same(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    let mut i = 0;
    while i + 8 <= n {
        if unsafe { (pa.add(i) as *const u64).read_unaligned() != (pb.add(i) as *const u64).read_unaligned() } {
            return false;
        }
        i += 8;
    }
    while i < n {
        if unsafe { *pa.add(i) != *pb.add(i) } {
            return false;
        }
        i += 1;
    }
    true
}

/// The attribute KeyValue in msg[s, e): when its key is the template's next (at `tp`), its value's
/// text to `values`, its bounds to entry `entry` of `bounds`; the template position after it.
#[inline(always)]
fn key_value(
    msg: &[u8],
    s: usize,
    e: usize,
    tpl: &[u8],
    tp: usize,
    values: &mut Out,
    bounds: &mut [i32],
    cap: usize,
    entry: usize,
) -> Option<usize> {
    let mut r = Reader { b: msg, p: s };
    if r.byte(e)? != 0x0a {
        return None;
    }
    let kl = r.length(e)?;
    let (ks, ke) = (r.p, r.p + kl);
    // the template's next key (keys equal to the template's are UTF-8: they were checked when it was made)
    if tp >= tpl.len() || tpl[tp] as usize != kl || kl > tpl.len() - tp - 1 || !same(&tpl[tp + 1..tp + 1 + kl], &msg[ks..ke]) {
        return None;
    }
    r.p = ke;
    if r.byte(e)? != 0x12 {
        return None;
    }
    let vl = r.length(e)?;
    let (vs, ve) = (r.p, r.p + vl);
    if ve != e || vl == 0 {
        return None;
    }
    let mut v = Reader { b: msg, p: vs + 1 };
    match msg[vs] {
        0x0a => {
            let sl = v.length(ve)?;
            if v.p + sl != ve {
                return None;
            }
            let text = &msg[v.p..ve];
            values.varint(sl)?;
            if values.copy_or(text)? & HIGH_BITS != 0 && !utf8(text) {
                return None;
            }
        }
        // int_value, bool_value: their text as anyValueToString writes it
        0x18 | 0x10 => {
            let last = v.p + 10;
            let x = v.varint(ve)?;
            // a tenth byte above 1 overflows 64 bits: decoding's call, not this module's
            if v.p != ve || (v.p == last && msg[ve - 1] > 1) {
                return None;
            }
            if msg[vs] == 0x18 {
                values.decimal(x as i64)?;
            } else if x != 0 {
                values.bytes(b"\x04true")?;
            } else {
                values.bytes(b"\x05false")?;
            }
        }
        _ => return None,
    }
    if entry >= cap {
        unsafe { OUT_OF_ROOM = true };
        return None;
    }
    bounds[entry] = ks as i32;
    bounds[cap + entry] = ke as i32;
    bounds[2 * cap + entry] = vs as i32;
    bounds[3 * cap + entry] = ve as i32;
    Some(tp + 1 + kl)
}

/// The constant String `i` of a table (entry 0 for a number past it, as the encoder does).
unsafe fn constant(table: &[(usize, usize); 8], count: usize, i: i64) -> &'static [u8] {
    let (at, len) = if i >= 0 && (i as usize) < count { table[i as usize] } else { table[0] };
    core::slice::from_raw_parts(at as *const u8, len)
}

/// Status in msg[s, e): its code (the last one) and message bounds, if it has only those fields.
fn status(msg: &[u8], s: usize, e: usize) -> Option<(i64, usize, usize)> {
    let mut r = Reader { b: msg, p: s };
    let (mut code, mut ms, mut me) = (0i64, 0, 0);
    let mut has_message = false;
    while r.p < e {
        match r.byte(e)? {
            0x18 => code = r.varint(e)? as i32 as i64,
            0x12 => {
                let n = r.length(e)?;
                if !utf8(&msg[r.p..r.p + n]) {
                    return None;
                }
                (ms, me, has_message) = (r.p, r.p + n, true);
                r.p += n;
            }
            _ => return None,
        }
    }
    if !has_message {
        (ms, me) = (0, 0);
    }
    Some((code, ms, me))
}

/// What spans() records of a span it took: its attribute count (or NO_ATTRIBUTES), its kind, where its
/// start time is (-1: none).
struct Taken {
    count: i32,
    kind: i32,
    start_at: i32,
}

/// The span in msg[start, end), its attributes' bounds from entry `base` on.
unsafe fn span(
    msg: &[u8],
    start: usize,
    end: usize,
    tpl: Option<&[u8]>,
    repeat: bool,
    bounds: &mut [i32],
    cap: usize,
    base: usize,
) -> Option<Taken> {
    let mut r = Reader { b: msg, p: start };
    let (mut trace, mut span_id, mut parent, mut state, mut name) = ((0, 0), (0, 0), (0, 0), (0, 0), (0, 0));
    let mut kind: i64 = 0;
    let (mut start_at, mut end_at): (i64, i64) = (-1, -1);
    let mut status_at: Option<(usize, usize)> = None;
    // the attributes' values are written as they come (tentatively: nothing is committed if the span is declined)
    let mut values = Out::of(S_ATTRIBUTE_VALUES);
    let mut count = 0;
    let mut tp = 0;
    while r.p < end {
        let t = r.byte(end)?;
        match t {
            0x39 | 0x41 => {
                let at = r.p as i64;
                r.fixed64(end)?;
                if t == 0x39 {
                    start_at = at;
                } else {
                    end_at = at;
                }
            }
            // kind: an enum's varint, its low 32 bits (as decoding reads an int32)
            0x30 => kind = r.varint(end)? as i32 as i64,
            // the dropped counts
            0x50 | 0x60 | 0x70 => {
                r.varint(end)?;
            }
            // flags (field 16, fixed32)
            0x85 => {
                if r.byte(end)? != 0x01 || end - r.p < 4 {
                    return None;
                }
                r.p += 4;
            }
            0x0a | 0x12 | 0x1a | 0x22 | 0x2a | 0x4a | 0x7a => {
                let n = r.length(end)?;
                let f = (r.p, r.p + n);
                r.p += n;
                match t {
                    0x0a => trace = f,
                    0x12 => span_id = f,
                    0x22 => parent = f,
                    0x1a | 0x2a => {
                        if !utf8(&msg[f.0..f.1]) {
                            return None;
                        }
                        if t == 0x1a {
                            state = f;
                        } else {
                            name = f;
                        }
                    }
                    0x4a => {
                        tp = key_value(msg, f.0, f.1, tpl?, tp, &mut values, bounds, cap, base + count)?;
                        count += 1;
                    }
                    _ => status_at = Some(f),
                }
            }
            // events, links, anything else
            _ => return None,
        }
    }
    let start_ns = if start_at < 0 { 0 } else { u64::from_le_bytes(msg[start_at as usize..start_at as usize + 8].try_into().ok()?) };
    let end_ns = if end_at < 0 { 0 } else { u64::from_le_bytes(msg[end_at as usize..end_at as usize + 8].try_into().ok()?) };
    // past 2262 a DateTime64(9) overflows: the encoder's error
    if start_ns > i64::MAX as u64 {
        return None;
    }
    let (code, ms, me) = match status_at {
        Some((s, e)) => status(msg, s, e)?,
        None => (0, 0, 0),
    };
    let mut keys = Out::of(S_ATTRIBUTE_KEYS);
    let mut counts = Out::of(S_ATTRIBUTE_COUNTS);
    if count > 0 {
        // all of the template's keys, and only them
        if tp != tpl?.len() {
            return None;
        }
        // the keys are the template's: written unless the previous row's are the same
        if !repeat {
            keys.bytes(tpl?)?;
        }
        counts.varint(count * 2 + repeat as usize)?;
    } else {
        counts.byte(0)?;
    }

    let mut outs = [
        Out::of(S_TIMESTAMP),
        Out::of(S_TRACE_ID),
        Out::of(S_SPAN_ID),
        Out::of(S_PARENT_ID),
        Out::of(S_TRACE_STATE),
        Out::of(S_NAME),
        Out::of(S_KIND),
        Out::of(S_DURATION),
        Out::of(S_STATUS_CODE),
        Out::of(S_STATUS_MESSAGE),
        Out::of(S_EVENTS_LINKS),
        Out::of(S_EVENTS_LINKS + 1),
        Out::of(S_EVENTS_LINKS + 2),
        Out::of(S_EVENTS_LINKS + 3),
        Out::of(S_EVENTS_LINKS + 4),
        Out::of(S_EVENTS_LINKS + 5),
        Out::of(S_EVENTS_LINKS + 6),
    ];
    let [timestamp, trace_id, span_out, parent_out, state_out, name_out, kind_out, duration, status_code, status_message, events_links @ ..] =
        &mut outs;
    timestamp.u64(start_ns)?;
    trace_id.hex(&msg[trace.0..trace.1])?;
    span_out.hex(&msg[span_id.0..span_id.1])?;
    parent_out.hex(&msg[parent.0..parent.1])?;
    state_out.string(&msg[state.0..state.1])?;
    name_out.string(&msg[name.0..name.1])?;
    kind_out.bytes(constant(&*core::ptr::addr_of!(KINDS), KIND_COUNT, kind))?;
    duration.u64(end_ns.saturating_sub(start_ns))?;
    status_code.bytes(constant(&*core::ptr::addr_of!(STATUSES), STATUS_COUNT, code))?;
    status_message.string(&msg[ms..me])?;
    // no events, no links: an empty array in each of their columns
    for o in events_links.iter_mut() {
        o.byte(0)?;
    }

    // every stream had room: the span is written
    for o in outs.iter() {
        o.commit();
    }
    values.commit();
    keys.commit();
    counts.commit();
    Some(Taken { count: if count > 0 { count as i32 } else { NO_ATTRIBUTES }, kind: kind as i32, start_at: start_at as i32 })
}

/// The spans of the ScopeSpans in msg[start, end) of the message at `msg` (its offsets are the
/// message's), from the first on, while it takes them: their columns to the streams, and per span a
/// record of 4 i32 to `records` (see Taken; then the entry its attributes' bounds start at). The
/// bounds go to `bounds`: 4 arrays of `cap` i32 (key starts, key ends, value starts, value ends).
/// `tpl` is the template (the previous span's key set: 1-byte length + bytes per key; null: none),
/// `repeat` whether the previous row of the message has exactly those keys. Returns how many spans it
/// took; stop_reason() and stop_at() say where and why it stopped.
#[no_mangle]
pub unsafe extern "C" fn spans(
    msg: *const u8,
    msg_len: usize,
    start: usize,
    end: usize,
    tpl: *const u8,
    tpl_len: usize,
    repeat: u32,
    bounds: *mut i32,
    cap: usize,
    records: *mut i32,
    record_cap: usize,
) -> usize {
    STOP_REASON = STOP_FIELD;
    STOP_AT = start;
    if start > end || end > msg_len {
        return 0;
    }
    let msg = core::slice::from_raw_parts(msg, msg_len);
    let tpl = if tpl.is_null() { None } else { Some(core::slice::from_raw_parts(tpl, tpl_len)) };
    let bounds = core::slice::from_raw_parts_mut(bounds, 4 * cap);
    let records = core::slice::from_raw_parts_mut(records, 4 * record_cap);
    let mut repeat = repeat != 0;
    let mut r = Reader { b: msg, p: start };
    let (mut n, mut base) = (0, 0);
    while r.p < end {
        let at = r.p;
        STOP_AT = at;
        let t = msg[at];
        // scope, span, schema URL
        if t != 0x0a && t != 0x12 && t != 0x1a {
            STOP_REASON = STOP_FIELD;
            return n;
        }
        r.p += 1;
        let Some(len) = r.length(end) else {
            STOP_REASON = STOP_FIELD;
            return n;
        };
        let (s, e) = (r.p, r.p + len);
        r.p = e;
        if t != 0x12 {
            continue;
        }
        OUT_OF_ROOM = n == record_cap;
        let taken = if OUT_OF_ROOM { None } else { span(msg, s, e, tpl, repeat, bounds, cap, base) };
        let Some(taken) = taken else {
            STOP_REASON = if OUT_OF_ROOM { STOP_FULL } else { STOP_DECLINED };
            return n;
        };
        records[4 * n..4 * n + 4].copy_from_slice(&[taken.count, taken.kind, taken.start_at, base as i32]);
        n += 1;
        // the row's keys are the template's, or it has none
        repeat = taken.count != NO_ATTRIBUTES;
        if repeat {
            base += taken.count as usize;
        }
    }
    STOP_REASON = STOP_END;
    STOP_AT = end;
    n
}
